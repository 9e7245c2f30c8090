"""Our own training checkpoints: load them back into a model (any backbone) and export them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from eclip_model.clip import CLIP, ImageEncoder, TextEncoder

from .export import RESIZE_RULE, ExportSpec, export_model


class CheckpointError(ValueError):
    """The file is not an eclip-train checkpoint, or its weights do not fit its recorded model."""


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    for key in ("model", "tokenizer"):
        if not isinstance(ckpt, dict) or key not in ckpt:
            raise CheckpointError(f"{path}: not an eclip-train checkpoint (missing {key!r})")
    return ckpt


def load_checkpoint(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """The checkpoint's `Backbone` (model in eval mode, CPU) and the whole checkpoint dict."""
    from .backbones import from_checkpoint

    ckpt = read_checkpoint(path)
    try:
        return from_checkpoint(ckpt), ckpt
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc


def export_checkpoint(path: str | Path, out_dir: str | Path, name: str | None = None) -> dict[str, Any]:
    """Export a training checkpoint to a model folder (docs/formats.md §2); returns the manifest."""
    backbone, ckpt = load_checkpoint(path)
    prov = dict(ckpt.get("provenance", {}))
    name = name or str(prov.get("variant", Path(out_dir).name))
    return export_backbone(backbone, out_dir, name, prov, tokenizer_text=ckpt.get("tokenizer_file_text"))


def export_backbone(
    b: Any, out_dir: str | Path, name: str, provenance: dict[str, Any], tokenizer_text: str | None = None
) -> dict[str, Any]:
    """Export a trained backbone. Fine-tuned models were trained on the workbench's bilinear
    preprocessing, so that is the rule recorded (an imported model's own rule is in provenance).
    `tokenizer_text` (the user's tokenizer.json) is written unchanged."""
    model = b.model.eval()
    spec = ExportSpec(
        name=name,
        family=b.family,
        embed_dim=embed_dim(b),
        image_size=b.image_size,
        channels=b.channels,
        mean=list(b.mean),
        std=list(b.std),
        context_length=b.context_length,
        pad_token_id=b.pad_id,
        logit_scale=float(model.scale().detach()),
        resize=RESIZE_RULE,
        provenance=provenance,
    )
    tok_file = None
    if tokenizer_text is not None:
        tok_file = Path(out_dir) / ".tokenizer.source.json"
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        tok_file.write_text(tokenizer_text, encoding="utf-8")
    try:
        return export_model(
            ImageEncoder(model), TextEncoder(model), b.tokenizer, spec, out_dir, tokenizer_file=tok_file
        )
    finally:
        if tok_file is not None:
            tok_file.unlink(missing_ok=True)


def embed_dim(b: Any) -> int:
    with torch.no_grad():
        x = torch.zeros(1, b.channels, b.image_size, b.image_size)
        return int(b.model.eval().encode_image(x).shape[-1])


def export_clip(
    model: CLIP,
    tokenizer: Tokenizer,
    out_dir: str | Path,
    name: str,
    provenance: dict[str, Any],
    source: str = "model",
) -> dict[str, Any]:
    """Export one of our CLIP models: the manifest's preprocessing, context and scale come from its config."""
    from .backbones import _own

    if tokenizer.token_to_id("[PAD]") is None:
        raise ValueError(f"{source}: tokenizer has no [PAD] token")
    spec = {"kind": "own", "model_config": model.cfg.to_dict(), "vocab_size": tokenizer.get_vocab_size()}
    return export_backbone(_own(model, tokenizer, spec), out_dir, name, provenance)
