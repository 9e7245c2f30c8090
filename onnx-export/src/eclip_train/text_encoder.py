"""Export a local Hugging Face `transformers` encoder (BERT, RoBERTa, ... e.g. Bio_ClinicalBERT saved
with `save_pretrained`) as a workbench text encoder (docs/formats.md §2.3): `encoder.onnx`, whose
output is the token-level hidden states `[batch, tokens, hidden]` of one layer, `tokenizer.json`
and `text_encoder.json` (layer, pooling, max length, the special token ids BERTScore gives weight 0).

The workbench uses it for the RAG task's BERTScore and embedding-cosine rows and, with
`[rag] cluster_with = "text_encoder"`, for the KMeans on the candidates (docs/rag.md). Layer `L`
means `hidden_states[L]` of `transformers` (0 = the embeddings, `num_hidden_layers` = the last
layer), which is what `bert_score.score(..., num_layers=L)` takes: bert_score cuts the encoder to its
first `L` layers and reads the last hidden state. Where the model has `encoder.layer` (BERT-like
models) the exported graph is cut the same way, so it holds only the layers it needs. The export is
refused unless ONNX Runtime agrees with the full PyTorch model's `hidden_states[L]` to `PARITY_TOL`
on a batch of a size and padding the trace did not see.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .export import PARITY_TOL, ExportError, _check, _onnx_export, _session, git_commit, sha256_file

FORMAT_VERSION = 1
ENCODER_FILE, TOKENIZER_FILE, MANIFEST_FILE = "encoder.onnx", "tokenizer.json", "text_encoder.json"
POOLINGS = ("mean", "cls")
PARITY_TEXTS = [
    "No acute cardiopulmonary process.",
    "The heart is enlarged. Small bilateral pleural effusions with mild pulmonary edema.",
    "",
]


class HiddenStates(nn.Module):
    """(input_ids, attention_mask) -> hidden states `layer` of `model`, zero at padding positions (which
    also keeps `attention_mask` an input of the graph when the states do not depend on it, layer 0)."""

    def __init__(self, model: nn.Module, layer: int) -> None:
        super().__init__()
        self.model = model
        self.layer = layer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return out.hidden_states[self.layer] * attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)


def _cut(model: nn.Module, layer: int) -> tuple[nn.Module, int]:
    """A copy of `model` holding only its first `layer` layers (at least one: `transformers` records
    hidden states at the layers) where it has `encoder.layer` (BERT-like), and the index of the wanted
    hidden state in it; the model itself where it cannot be cut."""
    enc = getattr(model, "encoder", None)
    layers = getattr(enc, "layer", None)
    if not isinstance(layers, nn.ModuleList):
        return model, layer
    cut = copy.deepcopy(model)
    cut.encoder.layer = nn.ModuleList(list(cut.encoder.layer)[: max(layer, 1)])
    return cut, layer


def _tokenize(tokenizer: Any, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    enc = tokenizer(
        [t.strip() for t in texts], padding=True, truncation=True, max_length=max_length, return_tensors="np"
    )
    return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)


def export_text_encoder(
    hf_dir: str | Path,
    out_dir: str | Path,
    layer: int | None = None,
    pooling: str = "mean",
    max_length: int | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Write `encoder.onnx`, `tokenizer.json` and `text_encoder.json` for the encoder in `hf_dir` and
    return the manifest. `layer` defaults to the last layer; `max_length` to the smaller of the
    tokenizer's `model_max_length` and the model's position embeddings."""
    from transformers import AutoModel, AutoTokenizer

    hf_dir, out = Path(hf_dir), Path(out_dir)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling {pooling!r}: use one of {', '.join(POOLINGS)}")
    if not (hf_dir / "config.json").is_file():
        raise FileNotFoundError(f"{hf_dir}: no config.json (expected a transformers model folder)")
    # Eager attention: the SDPA path builds its mask with Python-level shortcuts that tracing would
    # freeze to the traced batch's padding.
    model = AutoModel.from_pretrained(hf_dir, attn_implementation="eager").eval().float().cpu()
    tokenizer = AutoTokenizer.from_pretrained(hf_dir, use_fast=True)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(
            f"{hf_dir}: the tokenizer has no fast (tokenizers) version to write as tokenizer.json"
        )
    n_layers = int(model.config.num_hidden_layers)
    layer = n_layers if layer is None else int(layer)
    if not 0 <= layer <= n_layers:
        raise ValueError(f"--layer {layer}: the model has layers 0..{n_layers}")
    positions = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    limit = int(min(tokenizer.model_max_length or positions, positions))
    max_length = limit if max_length is None else int(max_length)
    if not 2 <= max_length <= limit:
        raise ValueError(f"--max-length {max_length}: must be in 2..{limit}")
    special = [int(i) for i in (tokenizer.cls_token_id, tokenizer.sep_token_id) if i is not None]
    pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)

    out.mkdir(parents=True, exist_ok=True)
    cut, index = _cut(model, layer)
    module = HiddenStates(cut, index).eval()
    ids, mask = _tokenize(tokenizer, PARITY_TEXTS[:2], max_length)
    with torch.no_grad():
        _onnx_export(
            module,
            (torch.from_numpy(ids), torch.from_numpy(mask)),
            out / ENCODER_FILE,
            ["input_ids", "attention_mask"],
            "hidden_states",
            axes={0: "batch", 1: "tokens"},
        )
    if (hf_dir / TOKENIZER_FILE).is_file():
        shutil.copyfile(hf_dir / TOKENIZER_FILE, out / TOKENIZER_FILE)
    else:
        tokenizer.backend_tokenizer.save(str(out / TOKENIZER_FILE))

    # Parity against the full (uncut) model on a batch of another size, with padding.
    ids, mask = _tokenize(tokenizer, PARITY_TEXTS, max_length)
    with torch.no_grad():
        full = model(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), output_hidden_states=True
        )
        want = full.hidden_states[layer].numpy()
    got = _session(out / ENCODER_FILE).run(["hidden_states"], {"input_ids": ids, "attention_mask": mask})[0]
    keep = mask.astype(bool)
    diff = _check(str(out / ENCODER_FILE), want[keep], got[keep])

    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name or hf_dir.name,
        "file": ENCODER_FILE,
        "tokenizer": TOKENIZER_FILE,
        "input_ids": "input_ids",
        "attention_mask": "attention_mask",
        "output": "hidden_states",
        "hidden_size": int(model.config.hidden_size),
        "layer": layer,
        "num_layers": n_layers,
        "pooling": pooling,
        "max_length": max_length,
        "pad_token_id": pad_id,
        "special_token_ids": special,
        "provenance": {
            "source": str(hf_dir),
            "architecture": type(model).__name__,
            "commit": git_commit(),
            "files": {f: sha256_file(out / f) for f in (ENCODER_FILE, TOKENIZER_FILE)},
            "export_parity_max_abs_diff": diff,
            "parity_tol": PARITY_TOL,
        },
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def pooled(states: np.ndarray, mask: np.ndarray, pooling: str) -> np.ndarray:
    """Sentence embeddings from hidden states `[batch, tokens, hidden]`: attention-masked mean (the
    eCLIP authors' Bio_ClinicalBERT pooling) or the first token."""
    if pooling == "cls":
        return states[:, 0, :]
    m = mask[..., None].astype(states.dtype)
    return (states * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)


__all__ = ["ExportError", "export_text_encoder", "pooled"]
