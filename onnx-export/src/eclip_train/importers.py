"""Import existing CLIP checkpoints, open_clip models and Hugging Face `transformers` CLIPModel folders,
into the workbench's model folder format (docs/formats.md §2), through the same `export_model` and its
ONNX Runtime parity check as our own models.

Tokenizers become `tokenizer.json`:
- open_clip's `SimpleTokenizer` (OpenAI CLIP byte-level BPE) is rebuilt as a `tokenizers` BPE from the
  tokenizer's own `encoder` and `bpe_ranks` with the same normaliser, split pattern, `</w>` end-of-word
  suffix and `<start_of_text>` / `<end_of_text>` wrapping (the construction `transformers` uses for its
  fast CLIP tokenizer). open_clip also cleans text in Python before tokenising (`basic_clean`:
  `ftfy.fix_text`, `html.unescape` twice, strip; `whitespace_clean`: runs of whitespace to one space).
  The normaliser of the tokenizer.json written here does what a `tokenizers` normaliser can of that
  (`cleanup_normalizers`): the HTML entities `&amp;` (twice, for double escaping), `&lt;` `&gt;`
  `&quot;` `&#39;` `&apos;` `&nbsp;` and the decimal entities of printable ASCII; ftfy's quote
  uncurling (U+2018 / U+2019 to ', U+201C / U+201D to "); whitespace runs to one space; stripping.
  It cannot express ftfy's mojibake repair (UTF-8 decoded as cp1252, e.g. U+00E2 U+20AC U+2122 back
  to U+2019), other entity names, hexadecimal entities, or ftfy's width / ligature / control-character
  fixes: such text encodes differently from open_clip. Padding is id 0, as in open_clip.
- open_clip models whose tokenizer is a Hugging Face tokenizer export that tokenizer's `tokenizer.json`.
- A Hugging Face CLIPModel folder's `tokenizer.json` is copied byte for byte (`--rewrite-tokenizer`
  writes it through `tokenizers` instead; without a tokenizer.json one is built with AutoTokenizer).

open_clip text towers ignore the attention mask (causal attention, pooling at the end-of-text token); the
exported graph multiplies the ids by the mask so that padding positions hold the pad id, which keeps the
`attention_mask` input in the graph. Imported models whose own pipeline resizes bicubically get their
library's rule (formats.md §2.1): open_clip's default → `resize = "open_clip_bicubic_center_crop"`
(torchvision Resize + CenterCrop on the PIL image), HF `resample = 3` → `"hf_bicubic_center_crop"`
(CLIPImageProcessor); both resize 8-bit images with PIL's 8-bit BICUBIC like the libraries. Every
model records its library's interpolation as `provenance.original_resize`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from eclip_model.transform import RESIZE_HF, RESIZE_OPEN_CLIP

from .export import RESIZE_RULE, ExportSpec, export_model, git_commit

OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
CLIP_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


_ENTITIES = [("&amp;", "&"), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"')]
_ENTITIES += [("&#39;", "'"), ("&apos;", "'"), ("&nbsp;", " ")]
_ENTITIES += [(f"&#{c};", chr(c)) for c in range(32, 127) if c not in (38, 39)] + [("&#38;", "&")]
_QUOTES = [("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"')]


def cleanup_normalizers() -> list[normalizers.Normalizer]:
    """The part of open_clip's Python text clean-up a tokenizer.json can hold (module docstring)."""
    out: list[normalizers.Normalizer] = [normalizers.Replace(a, b) for a, b in _ENTITIES + _QUOTES]
    return [*out, normalizers.Replace(Regex(r"\s+"), " "), normalizers.Strip()]


def simple_tokenizer_to_json(simple: Any, context_length: int) -> Tokenizer:
    """Rebuild open_clip's SimpleTokenizer (OpenAI CLIP BPE) as a `tokenizers` Tokenizer."""
    vocab: dict[str, int] = dict(simple.encoder)
    merges = [pair for pair, _ in sorted(simple.bpe_ranks.items(), key=lambda kv: kv[1])]
    sot, eot = simple.decoder[simple.sot_token_id], simple.decoder[simple.eot_token_id]
    tok = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=merges,
            continuing_subword_prefix="",
            end_of_word_suffix="</w>",
            fuse_unk=False,
            unk_token=eot,
        )
    )
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), *cleanup_normalizers(), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([sot, eot])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{sot} $A {eot}", special_tokens=[(sot, simple.sot_token_id), (eot, simple.eot_token_id)]
    )
    tok.enable_truncation(max_length=context_length)
    tok.enable_padding(length=context_length, pad_id=0, pad_token=simple.decoder[0])
    return tok


def _size(value: Any) -> int:
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"only square image inputs are supported, got {value}")
        return int(value[0])
    return int(value)


def resize_rule(original: str, library: str) -> str:
    """The contract's rule for a library's interpolation: bicubic → that library's rule (`open_clip` or
    `hf`: PIL's 8-bit BICUBIC with the library's geometry); anything else → bilinear."""
    if "bicubic" not in original.lower():
        return RESIZE_RULE
    return {"open_clip": RESIZE_OPEN_CLIP, "hf": RESIZE_HF}[library]


def open_clip_tokenizer(arch: str, model: Any) -> tuple[Tokenizer, int, str, int]:
    """tokenizer.json form of an open_clip model's tokenizer: (tokenizer, pad id, kind, context length)."""
    import open_clip

    tokenizer = open_clip.get_tokenizer(arch)
    context_length = int(getattr(tokenizer, "context_length", None) or model.context_length)
    if hasattr(tokenizer, "bpe_ranks"):
        return (
            simple_tokenizer_to_json(tokenizer, context_length),
            0,
            "open_clip SimpleTokenizer",
            context_length,
        )
    if hasattr(tokenizer, "tokenizer") and hasattr(tokenizer.tokenizer, "backend_tokenizer"):
        hf = tokenizer.tokenizer
        return hf.backend_tokenizer, int(hf.pad_token_id or 0), "Hugging Face tokenizer", context_length
    raise ValueError(f"open_clip model {arch}: tokenizer {type(tokenizer).__name__} cannot be converted")


@dataclass
class HFPreprocessing:
    mean: list[float]
    std: list[float]
    resize: str  # the folder's own interpolation, e.g. "bicubic"
    source: str  # the file(s) read, or "OpenAI defaults"


_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def hf_preprocessing(model_dir: Path) -> HFPreprocessing:
    """Mean, std and interpolation of a HF folder from `preprocessor_config.json` (transformers < 5) and / or
    `processor_config.json` (transformers 5 nests it under `image_processor`). Both present with different
    values is an error naming both; neither present means OpenAI's CLIP defaults (said in `source`)."""
    found: dict[str, tuple[list[float], list[float], str]] = {}
    for fname in ("preprocessor_config.json", "processor_config.json"):
        path = model_dir / fname
        if not path.exists():
            continue
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: invalid JSON ({exc})") from exc
        pp = raw.get("image_processor", raw) if isinstance(raw, dict) else {}
        if not any(k in pp for k in ("image_mean", "image_std", "resample")):
            continue
        resample = pp.get("resample", 3)
        found[fname] = (
            [float(v) for v in pp.get("image_mean", OPENAI_MEAN)],
            [float(v) for v in pp.get("image_std", OPENAI_STD)],
            _RESAMPLE.get(int(resample), str(resample)) if isinstance(resample, int) else str(resample),
        )
    if not found:
        return HFPreprocessing(OPENAI_MEAN, OPENAI_STD, "bicubic", "OpenAI defaults (no processor config)")
    values = list(found.values())
    if len(values) == 2 and values[0] != values[1]:
        a, b = (model_dir / f for f in found)
        raise ValueError(
            f"{a} and {b} disagree (mean/std/resample {values[0]} vs {values[1]}); delete or fix one of them"
        )
    mean, std, resize = values[0]
    return HFPreprocessing(mean, std, resize, " + ".join(found))


def _export_imported(
    b: Any, out_dir: str | Path, name: str, prov: dict[str, Any], keep_tok: bool, library: str
) -> dict:
    """Imports keep the library's own resize where the contract has it (bicubic or bilinear)."""
    from eclip_model.clip import ImageEncoder, TextEncoder

    from .checkpoint import embed_dim

    original = str(b.provenance.get("original_resize", "bilinear"))
    spec = ExportSpec(
        name=name,
        family=b.family,
        embed_dim=embed_dim(b),
        image_size=b.image_size,
        channels=b.channels,
        mean=b.mean,
        std=b.std,
        context_length=b.context_length,
        pad_token_id=b.pad_id,
        logit_scale=float(b.model.logit_scale.exp().item()),
        resize=resize_rule(original, library),
        provenance={**prov, **b.provenance, "commit": git_commit()},
    )
    tok_file = b.tokenizer_file if keep_tok else None
    return export_model(
        ImageEncoder(b.model), TextEncoder(b.model), b.tokenizer, spec, out_dir, tokenizer_file=tok_file
    )


def import_open_clip(
    arch: str,
    out_dir: str | Path,
    checkpoint: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Export an open_clip model by architecture name; `checkpoint` is a local weights file (or None for
    random initialisation, which is all that can be done without downloads)."""
    from .backbones import open_clip_backbone

    b = open_clip_backbone(arch, checkpoint)
    b.model.eval()
    prov = {
        "variant": "imported",
        "source": "open_clip",
        "arch": arch,
        "checkpoint": b.provenance["init_checkpoint"],
    }
    return _export_imported(b, out_dir, name or arch, prov, keep_tok=False, library="open_clip")


def import_hf_clip(
    model_dir: str | Path, out_dir: str | Path, name: str | None = None, rewrite_tokenizer: bool = False
) -> dict[str, Any]:
    """Export a Hugging Face `transformers` CLIPModel folder (config + weights + tokenizer). Its
    tokenizer.json is copied byte for byte unless `rewrite_tokenizer`."""
    from .backbones import hf_clip_backbone

    model_dir = Path(model_dir)
    b = hf_clip_backbone(model_dir)
    prov = {"variant": "imported", "source": "transformers CLIPModel", "path": str(model_dir)}
    return _export_imported(
        b, out_dir, name or model_dir.name, prov, keep_tok=not rewrite_tokenizer, library="hf"
    )
