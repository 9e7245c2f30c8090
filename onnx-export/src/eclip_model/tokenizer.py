"""The text side's vocabulary: build a WordPiece `tokenizers` vocabulary from reports and encode them.

This module owns `tokenizer.json` for our own models (docs/formats.md §2.2): the file is a Hugging Face
`tokenizers` file with lower-casing BERT normalisation, `[CLS] ... [SEP]` special tokens, truncation to
the context length and padding with `[PAD]` (id 0) to the context length. `encode` is what training,
export checks and evaluation use; the Rust workbench loads the same file and must produce the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

PAD, UNK, CLS, SEP = "[PAD]", "[UNK]", "[CLS]", "[SEP]"
SPECIAL_TOKENS = [PAD, UNK, CLS, SEP]  # ids 0..3 in this order


def _base_tokenizer(vocab: dict[str, int]) -> Tokenizer:
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token=UNK, max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, lowercase=True, strip_accents=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    return tok


def train_wordpiece(
    texts: Iterable[str], vocab_size: int = 4096, context_length: int = 48, min_frequency: int = 2
) -> Tokenizer:
    """Build a WordPiece vocabulary from `texts`; the result pads/truncates to `context_length`.

    The vocabulary is the special tokens, every character seen (as a word start and as a `##`
    continuation, so any word can be spelled), then whole words by descending frequency (ties
    alphabetical) with at least `min_frequency` occurrences, up to `vocab_size`. Unlike the `tokenizers`
    trainer, whose tie-breaking between equally frequent merges changes from run to run, this is
    deterministic: the same reports always give the same ids, so runs with the same seed are identical.
    """
    probe = _base_tokenizer({t: i for i, t in enumerate(SPECIAL_TOKENS)})
    assert probe.normalizer is not None and probe.pre_tokenizer is not None
    counts: Counter[str] = Counter()
    for text in texts:
        norm = probe.normalizer.normalize_str(text)
        counts.update(word for word, _ in probe.pre_tokenizer.pre_tokenize_str(norm))
    chars = sorted({c for word in counts for c in word})
    tokens = [*SPECIAL_TOKENS, *chars, *(f"##{c}" for c in chars)]
    seen = set(tokens)
    words = sorted(
        (w for w, n in counts.items() if n >= min_frequency and w not in seen), key=lambda w: (-counts[w], w)
    )
    tokens += words[: max(0, vocab_size - len(tokens))]
    tok = _base_tokenizer({t: i for i, t in enumerate(tokens)})
    cls_id, sep_id = tok.token_to_id(CLS), tok.token_to_id(SEP)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A {SEP}",
        pair=f"{CLS} $A {SEP} $B {SEP}",
        special_tokens=[(CLS, cls_id), (SEP, sep_id)],
    )
    configure(tok, context_length, pad_id=tok.token_to_id(PAD), pad_token=PAD)
    return tok


def configure(tok: Tokenizer, context_length: int, pad_id: int, pad_token: str) -> Tokenizer:
    """Set the truncation and padding the contract prescribes (in place; returned for chaining)."""
    tok.enable_truncation(max_length=context_length)
    tok.enable_padding(length=context_length, pad_id=pad_id, pad_token=pad_token)
    return tok


def load(path: str | Path, context_length: int, pad_id: int) -> Tokenizer:
    """Load a `tokenizer.json` and apply the contract's truncation and padding."""
    tok = Tokenizer.from_file(str(path))
    pad_token = tok.id_to_token(pad_id) or PAD
    return configure(tok, context_length, pad_id=pad_id, pad_token=pad_token)


def encode(
    tok: Tokenizer, texts: Sequence[str], context_length: int, pad_id: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and attention masks, int64 `[len(texts), context_length]` each.

    Encodes with special tokens, truncates to `context_length` and pads with `pad_id`: the contract's
    settings are applied to `tok` first (so truncation keeps the closing special token), as the
    workbench does whatever the file's own settings were.
    """
    configure(tok, context_length, pad_id=pad_id, pad_token=tok.id_to_token(pad_id) or PAD)
    ids = np.full((len(texts), context_length), pad_id, dtype=np.int64)
    mask = np.zeros((len(texts), context_length), dtype=np.int64)
    for i, enc in enumerate(tok.encode_batch(list(texts), add_special_tokens=True)):
        n = min(sum(enc.attention_mask), context_length)
        ids[i, :n] = enc.ids[:n]
        mask[i, :n] = 1
    return ids, mask
