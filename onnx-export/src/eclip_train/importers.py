"""Import existing CLIP checkpoints, open_clip models and Hugging Face `transformers` CLIPModel folders,
into the workbench's model folder format (docs/formats.md §2), through the same `export_model` and its
ONNX Runtime parity check as our own models.

Tokenizers become `tokenizer.json`:
- open_clip's `SimpleTokenizer` (OpenAI CLIP byte-level BPE) is rebuilt as a `tokenizers` BPE from the
  tokenizer's own `encoder` and `bpe_ranks` with the same normaliser, split pattern, `</w>` end-of-word
  suffix and `<start_of_text>` / `<end_of_text>` wrapping (the construction `transformers` uses for its
  fast CLIP tokenizer). open_clip also runs `ftfy.fix_text` and HTML unescaping, which a tokenizer.json
  cannot express; plain report text encodes identically (the tests compare ids). Padding is id 0, as in
  open_clip.
- open_clip models whose tokenizer is a Hugging Face tokenizer export that tokenizer's `tokenizer.json`.
- A Hugging Face CLIPModel folder's `tokenizer.json` is used as it is (or built with AutoTokenizer).

open_clip text towers ignore the attention mask (causal attention, pooling at the end-of-text token); the
exported graph multiplies the ids by the mask so that padding positions hold the pad id, which keeps the
`attention_mask` input in the graph. The resize rule recorded is the contract's bilinear one; open_clip
and HF preprocess with bicubic resizing, so images of other sizes than the model's are resized slightly
differently from the original pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from torch import nn

from .export import ExportSpec, export_model, git_commit

OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
CLIP_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


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
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
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


class _OpenClipImage(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_image(pixel_values), dim=-1)


class _OpenClipText(nn.Module):
    def __init__(self, model: nn.Module, pad_id: int) -> None:
        super().__init__()
        self.model, self.pad_id = model, pad_id

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        ids = input_ids * attention_mask + self.pad_id * (1 - attention_mask)
        return F.normalize(self.model.encode_text(ids), dim=-1)


def _size(value: Any) -> int:
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"only square image inputs are supported, got {value}")
        return int(value[0])
    return int(value)


def import_open_clip(
    arch: str,
    out_dir: str | Path,
    checkpoint: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Export an open_clip model by architecture name; `checkpoint` is a local weights file (or None for
    random initialisation, which is all that can be done without downloads)."""
    import open_clip

    model = open_clip.create_model(arch, pretrained=checkpoint).eval()
    tokenizer = open_clip.get_tokenizer(arch)
    context_length = int(getattr(tokenizer, "context_length", None) or model.context_length)
    if hasattr(tokenizer, "bpe_ranks"):
        tok, pad_id, tok_kind = (
            simple_tokenizer_to_json(tokenizer, context_length),
            0,
            "open_clip SimpleTokenizer",
        )
    elif hasattr(tokenizer, "tokenizer") and hasattr(tokenizer.tokenizer, "backend_tokenizer"):
        hf = tokenizer.tokenizer
        tok, pad_id, tok_kind = hf.backend_tokenizer, int(hf.pad_token_id or 0), "Hugging Face tokenizer"
    else:
        raise ValueError(f"open_clip model {arch}: tokenizer {type(tokenizer).__name__} cannot be converted")
    pp = getattr(model.visual, "preprocess_cfg", {}) or {}
    size = _size(pp.get("size", model.visual.image_size))
    mean, std = list(pp.get("mean", OPENAI_MEAN)), list(pp.get("std", OPENAI_STD))
    with torch.no_grad():
        embed_dim = int(model.encode_image(torch.zeros(1, 3, size, size)).shape[-1])
    spec = ExportSpec(
        name=name or arch,
        family=f"open_clip:{arch}",
        embed_dim=embed_dim,
        image_size=size,
        channels=3,
        mean=mean,
        std=std,
        context_length=context_length,
        pad_token_id=pad_id,
        logit_scale=float(model.logit_scale.exp().item()),
        provenance={
            "variant": "imported",
            "source": "open_clip",
            "arch": arch,
            "checkpoint": checkpoint or "none (random initialisation)",
            "tokenizer": tok_kind,
            "original_resize": str(pp.get("interpolation", "bicubic")),
            "commit": git_commit(),
        },
    )
    return export_model(_OpenClipImage(model), _OpenClipText(model, pad_id), tok, spec, out_dir)


class _HFImage(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pooled = self.model.vision_model(pixel_values=pixel_values).pooler_output
        return F.normalize(self.model.visual_projection(pooled), dim=-1)


class _HFText(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = self.model.text_model(input_ids=input_ids, attention_mask=attention_mask).pooler_output
        return F.normalize(self.model.text_projection(pooled), dim=-1)


def import_hf_clip(model_dir: str | Path, out_dir: str | Path, name: str | None = None) -> dict[str, Any]:
    """Export a Hugging Face `transformers` CLIPModel folder (config + weights + tokenizer)."""
    from transformers import CLIPModel

    model_dir = Path(model_dir)
    model = CLIPModel.from_pretrained(str(model_dir)).eval()
    tok_path = model_dir / "tokenizer.json"
    if tok_path.exists():
        tok = Tokenizer.from_file(str(tok_path))
        pad_token = _pad_token(model_dir)
        pad_id = tok.token_to_id(pad_token) if pad_token else None
    else:
        from transformers import AutoTokenizer

        hf_tok = AutoTokenizer.from_pretrained(str(model_dir))
        tok, pad_id = hf_tok.backend_tokenizer, hf_tok.pad_token_id
    if pad_id is None:
        pad_id = int(model.config.text_config.pad_token_id or 0)
    size = int(model.config.vision_config.image_size)
    mean, std = OPENAI_MEAN, OPENAI_STD
    pp_path = model_dir / "preprocessor_config.json"
    if pp_path.exists():
        pp = json.loads(pp_path.read_text(encoding="utf-8"))
        mean, std = list(pp.get("image_mean", mean)), list(pp.get("image_std", std))
    spec = ExportSpec(
        name=name or model_dir.name,
        family="hf-clip",
        embed_dim=int(model.config.projection_dim),
        image_size=size,
        channels=3,
        mean=mean,
        std=std,
        context_length=int(model.config.text_config.max_position_embeddings),
        pad_token_id=int(pad_id),
        logit_scale=float(model.logit_scale.exp().item()),
        provenance={
            "variant": "imported",
            "source": "transformers CLIPModel",
            "path": str(model_dir),
            "commit": git_commit(),
        },
    )
    return export_model(_HFImage(model), _HFText(model), tok, spec, out_dir)


def _pad_token(model_dir: Path) -> str | None:
    for fname in ("tokenizer_config.json", "special_tokens_map.json"):
        path = model_dir / fname
        if path.exists():
            pad = json.loads(path.read_text(encoding="utf-8")).get("pad_token")
            if isinstance(pad, dict):
                pad = pad.get("content")
            if isinstance(pad, str):
                return pad
    return None
