"""Our own training checkpoints: load them back into a CLIP model and export them to a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from eclip_model.clip import CLIP, ImageEncoder, TextEncoder
from eclip_model.config import ModelConfig
from eclip_model.tokenizer import PAD

from .export import ExportSpec, export_model


def load_checkpoint(path: str | Path) -> tuple[CLIP, Tokenizer, dict[str, Any]]:
    """The CLIP model (eval mode, CPU), its tokenizer and the whole checkpoint dict."""
    ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    for key in ("model", "model_config", "vocab_size", "tokenizer"):
        if key not in ckpt:
            raise ValueError(f"{path}: not an eclip-train checkpoint (missing {key!r})")
    cfg = ModelConfig.from_dict(ckpt["model_config"])
    model = CLIP(cfg, int(ckpt["vocab_size"]))
    model.load_state_dict(ckpt["model"])
    return model.eval(), Tokenizer.from_str(ckpt["tokenizer"]), ckpt


def export_checkpoint(path: str | Path, out_dir: str | Path, name: str | None = None) -> dict[str, Any]:
    """Export a training checkpoint to a model folder (docs/formats.md §2); returns the manifest."""
    model, tokenizer, ckpt = load_checkpoint(path)
    prov = dict(ckpt.get("provenance", {}))
    name = name or str(prov.get("variant", Path(out_dir).name))
    return export_clip(model, tokenizer, out_dir, name, prov, source=str(path))


def export_clip(
    model: CLIP,
    tokenizer: Tokenizer,
    out_dir: str | Path,
    name: str,
    provenance: dict[str, Any],
    source: str = "model",
) -> dict[str, Any]:
    """Export one of our CLIP models: the manifest's preprocessing, context and scale come from its config."""
    cfg = model.cfg
    pad_id = tokenizer.token_to_id(PAD)
    if pad_id is None:
        raise ValueError(f"{source}: tokenizer has no {PAD} token")
    spec = ExportSpec(
        name=name,
        family=cfg.name,
        embed_dim=cfg.embed_dim,
        image_size=cfg.image.size,
        channels=cfg.image.channels,
        mean=list(cfg.image.mean),
        std=list(cfg.image.std),
        context_length=cfg.text.context_length,
        pad_token_id=pad_id,
        logit_scale=float(model.scale().detach()),
        provenance=provenance,
    )
    return export_model(ImageEncoder(model), TextEncoder(model), tokenizer, spec, out_dir)
