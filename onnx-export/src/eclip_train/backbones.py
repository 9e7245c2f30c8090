"""The models a training run can start from, each wrapped as an `eclip_model.clip.ClipBase`.

- `own`: our `CLIP` from a named / JSON `ModelConfig`, with a WordPiece tokenizer trained on the reports.
- `open-clip:ARCH [--init-checkpoint FILE]`: an open_clip model (random init or local weights).
- `hf:DIR`: a Hugging Face `transformers` CLIPModel folder.
- `timm:NAME` image tower + `hf:DIR` text encoder, composed as the authors do: timm with
  `pretrained=False` (weights only from a local state dict), the text encoder's CLS token or masked mean,
  bias-free linear projections to `embed_dim`, a learnable temperature.

A `Backbone` carries the model, its tokenizer and its preprocessing (size, channels, mean, std), the patch
size the heatmap processor uses, and a JSON-able `spec` from which `rebuild` makes the same architecture
again (so a checkpoint holds spec + state dict and exports without the original folders' weights).
Nothing here downloads: open_clip / timm are created with `pretrained` off or a local file.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from torch import nn

from eclip_model import tokenizer as tok_mod
from eclip_model.clip import CLIP, ClipBase
from eclip_model.config import ModelConfig, load_model_config


@dataclass
class Backbone:
    model: ClipBase
    tokenizer: Tokenizer
    pad_id: int
    context_length: int
    image_size: int
    channels: int
    mean: list[float]
    std: list[float]
    family: str
    patch: int  # patch of the heatmap processor (the model's own where it has one)
    spec: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    tokenizer_file: Path | None = None  # the user's tokenizer.json, copied byte for byte on export


# ---------------------------------------------------------------------------------------------- wrappers


class OpenClipWrapper(ClipBase):
    """An open_clip model; its causal text tower ignores the mask, so padding positions are set to the
    pad id (which keeps `attention_mask` an input of the exported graph)."""

    def __init__(self, model: nn.Module, pad_id: int) -> None:
        super().__init__()
        self.model, self.pad_id = model, pad_id

    @property
    def logit_scale(self) -> nn.Parameter:  # type: ignore[override]
        return self.model.logit_scale

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.encode_image(pixels), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        ids = input_ids * attention_mask + self.pad_id * (1 - attention_mask)
        return F.normalize(self.model.encode_text(ids), dim=-1)


class HFClipWrapper(ClipBase):
    """A `transformers` CLIPModel: pooled outputs through its projections."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    @property
    def logit_scale(self) -> nn.Parameter:  # type: ignore[override]
        return self.model.logit_scale

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        pooled = self.model.vision_model(pixel_values=pixels).pooler_output
        return F.normalize(self.model.visual_projection(pooled), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        pooled = self.model.text_model(input_ids=input_ids, attention_mask=attention_mask).pooler_output
        return F.normalize(self.model.text_projection(pooled), dim=-1)


class ComposedCLIP(ClipBase):
    """A timm image tower and a `transformers` text encoder with bias-free projections (the authors')."""

    def __init__(
        self, image: nn.Module, text: nn.Module, embed_dim: int, pooling: str, init_temperature: float = 0.07
    ) -> None:
        super().__init__()
        if pooling not in ("cls", "mean"):
            raise ValueError(f"text pooling must be 'cls' or 'mean', got {pooling!r}")
        self.visual, self.text, self.pooling = image, text, pooling
        self.image_proj = nn.Linear(int(image.num_features), embed_dim, bias=False)
        self.text_proj = nn.Linear(int(text.config.hidden_size), embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj(self.visual(pixels)), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.text(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            w = attention_mask.to(hidden.dtype)[:, :, None]
            pooled = (hidden * w).sum(dim=1) / w.sum(dim=1).clamp(min=1.0)
        return F.normalize(self.text_proj(pooled), dim=-1)


# ---------------------------------------------------------------------------------------------- helpers


def processor_patch(size: int, natural: int | None) -> int:
    """The model's own patch if it divides the image size, else the largest of 16, 8, 4, 2, 1 that does."""
    if natural and size % natural == 0:
        return int(natural)
    return next(p for p in (16, 8, 4, 2, 1) if size % p == 0)


def _first(value: Any) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


def _load_state(module: nn.Module, path: str, what: str) -> list[str]:
    """Load a local state dict (a bare dict or one under 'state_dict' / 'model'); returns ignored keys."""
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
    missing, unexpected = module.load_state_dict(obj, strict=False)
    if missing:
        raise ValueError(f"{path}: {what} weights lack {len(missing)} keys (first: {missing[:3]})")
    return list(unexpected)


def _hf_pad(model_dir: Path, tok: Tokenizer) -> int | None:
    for fname in ("tokenizer_config.json", "special_tokens_map.json"):
        path = model_dir / fname
        if path.exists():
            pad = json.loads(path.read_text(encoding="utf-8")).get("pad_token")
            if isinstance(pad, dict):
                pad = pad.get("content")
            if isinstance(pad, str) and tok.token_to_id(pad) is not None:
                return tok.token_to_id(pad)
    return None


def hf_tokenizer(model_dir: Path) -> tuple[Tokenizer, int | None, Path | None]:
    """A folder's tokenizer: its `tokenizer.json` as it is (path returned, for a byte-for-byte copy), or one
    built with AutoTokenizer; and its pad id where the folder names one."""
    tok_path = model_dir / "tokenizer.json"
    if tok_path.exists():
        tok = Tokenizer.from_file(str(tok_path))
        return tok, _hf_pad(model_dir, tok), tok_path
    from transformers import AutoTokenizer

    hf_tok = AutoTokenizer.from_pretrained(str(model_dir))
    return hf_tok.backend_tokenizer, hf_tok.pad_token_id, None


# ---------------------------------------------------------------------------------------------- builders


def own_backbone(model: str | ModelConfig, reports: list[str], min_frequency: int) -> Backbone:
    """Our CLIP (random init from the current torch seed) with a WordPiece vocabulary of `reports`."""
    mcfg = model if isinstance(model, ModelConfig) else load_model_config(model)
    tokenizer = tok_mod.train_wordpiece(
        reports,
        vocab_size=mcfg.text.vocab_size,
        context_length=mcfg.text.context_length,
        min_frequency=min_frequency,
    )
    spec = {"kind": "own", "model_config": mcfg.to_dict(), "vocab_size": tokenizer.get_vocab_size()}
    net = rebuild(spec)
    return _own(net, tokenizer, spec)


def _own(net: nn.Module, tokenizer: Tokenizer, spec: dict[str, Any]) -> Backbone:
    assert isinstance(net, CLIP)
    mcfg = net.cfg
    return Backbone(
        model=net,
        tokenizer=tokenizer,
        pad_id=int(tokenizer.token_to_id(tok_mod.PAD)),
        context_length=mcfg.text.context_length,
        image_size=mcfg.image.size,
        channels=mcfg.image.channels,
        mean=list(mcfg.image.mean),
        std=list(mcfg.image.std),
        family=mcfg.name,
        patch=mcfg.processor.patch,
        spec=spec,
    )


def open_clip_backbone(arch: str, checkpoint: str | None = None) -> Backbone:
    import open_clip

    from .importers import OPENAI_MEAN, OPENAI_STD, open_clip_tokenizer

    model_cfg = open_clip.get_model_config(arch)
    if model_cfg is None:
        raise ValueError(f"open_clip has no architecture {arch!r} (see open_clip.list_models())")
    model = open_clip.create_model(arch, pretrained=checkpoint).eval()
    tok, pad_id, tok_kind, context_length = open_clip_tokenizer(arch, model)
    pp = getattr(model.visual, "preprocess_cfg", {}) or {}
    size = _first(pp.get("size", model.visual.image_size))
    natural = getattr(model.visual, "patch_size", None)
    spec = {"kind": "open-clip", "arch": arch, "model_cfg": model_cfg, "pad_id": pad_id}
    return Backbone(
        model=OpenClipWrapper(model, pad_id),
        tokenizer=tok,
        pad_id=pad_id,
        context_length=context_length,
        image_size=size,
        channels=3,
        mean=list(pp.get("mean", OPENAI_MEAN)),
        std=list(pp.get("std", OPENAI_STD)),
        family=f"open_clip:{arch}",
        patch=processor_patch(size, _first(natural) if natural is not None else None),
        spec=spec,
        provenance={
            "init": f"open-clip:{arch}",
            "init_checkpoint": checkpoint or "none (random initialisation)",
            "tokenizer": tok_kind,
            "original_resize": str(pp.get("interpolation", "bicubic")),
        },
    )


def hf_clip_backbone(model_dir: str | Path) -> Backbone:
    from transformers import CLIPModel

    from .importers import hf_preprocessing

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise ValueError(f"{model_dir}: not a Hugging Face model folder (no config.json)")
    model = CLIPModel.from_pretrained(str(model_dir)).eval()
    tok, pad_id, tok_file = hf_tokenizer(model_dir)
    if pad_id is None:
        pad_id = int(model.config.text_config.pad_token_id or 0)
    pp = hf_preprocessing(model_dir)
    size = int(model.config.vision_config.image_size)
    return Backbone(
        model=HFClipWrapper(model),
        tokenizer=tok,
        pad_id=int(pad_id),
        context_length=int(model.config.text_config.max_position_embeddings),
        image_size=size,
        channels=3,
        mean=pp.mean,
        std=pp.std,
        family="hf-clip",
        patch=processor_patch(size, int(model.config.vision_config.patch_size)),
        spec={"kind": "hf-clip", "config": model.config.to_dict()},
        provenance={"init": f"hf:{model_dir}", "original_resize": pp.resize, "preprocessing": pp.source},
        tokenizer_file=tok_file,
    )


def composed_backbone(
    image_tower: str,
    text_tower: str,
    embed_dim: int,
    pooling: str = "cls",
    image_weights: str | None = None,
    image_kwargs: dict[str, Any] | None = None,
    channels: int = 3,
    mean: list[float] | None = None,
    std: list[float] | None = None,
    context_length: int = 0,
) -> Backbone:
    """`timm:NAME` + `hf:DIR`, bias-free projections to `embed_dim`."""
    if not image_tower.startswith("timm:"):
        raise ValueError(f"--image-tower must be timm:NAME, got {image_tower!r}")
    if not text_tower.startswith("hf:"):
        raise ValueError(f"--text-tower must be hf:DIR (a local transformers folder), got {text_tower!r}")
    from transformers import AutoModel

    text_dir = Path(text_tower[3:])
    if not (text_dir / "config.json").exists():
        raise ValueError(f"{text_dir}: not a Hugging Face model folder (no config.json)")
    text = AutoModel.from_pretrained(str(text_dir))
    tok, pad_id, tok_file = hf_tokenizer(text_dir)
    if pad_id is None:
        pad_id = int(getattr(text.config, "pad_token_id", None) or 0)
    ctx = context_length or int(getattr(text.config, "max_position_embeddings", 512))
    spec = {
        "kind": "composed",
        "timm": image_tower[5:],
        "timm_kwargs": dict(image_kwargs or {}),
        "channels": channels,
        "text_config": text.config.to_dict(),
        "embed_dim": embed_dim,
        "pooling": pooling,
    }
    image = _timm(spec)
    ignored = _load_state(image, image_weights, image_tower) if image_weights else []
    size = _first(image.pretrained_cfg.get("input_size", (channels, 224, 224))[1:])
    size = int(spec["timm_kwargs"].get("img_size", size))
    pe = getattr(image, "patch_embed", None)
    natural = _first(pe.patch_size) if pe is not None and hasattr(pe, "patch_size") else None
    net = ComposedCLIP(image, text, embed_dim, pooling)
    default_mean = list(image.pretrained_cfg.get("mean", [0.5] * channels))[:channels]
    default_std = list(image.pretrained_cfg.get("std", [0.5] * channels))[:channels]
    return Backbone(
        model=net,
        tokenizer=tok,
        pad_id=int(pad_id),
        context_length=ctx,
        image_size=size,
        channels=channels,
        mean=list(mean or default_mean),
        std=list(std or default_std),
        family=f"timm:{spec['timm']}+hf:{text_dir.name}",
        patch=processor_patch(size, natural),
        spec=spec,
        provenance={
            "image_tower": image_tower,
            "image_weights": image_weights or "none (random initialisation)",
            "image_weights_ignored_keys": ignored[:20],
            "text_tower": text_tower,
            "text_pooling": pooling,
        },
        tokenizer_file=tok_file,
    )


def _timm(spec: dict[str, Any]) -> nn.Module:
    import timm

    return timm.create_model(
        spec["timm"], pretrained=False, num_classes=0, in_chans=int(spec["channels"]), **spec["timm_kwargs"]
    )


def rebuild(spec: dict[str, Any]) -> ClipBase:
    """The architecture a `spec` describes, randomly initialised (load the state dict afterwards)."""
    kind = spec.get("kind")
    if kind == "own":
        return CLIP(ModelConfig.from_dict(spec["model_config"]), int(spec["vocab_size"]))
    if kind == "open-clip":
        import open_clip

        if open_clip.get_model_config(spec["arch"]) is None:  # a config registered at training time
            with tempfile.TemporaryDirectory() as tmp:
                (Path(tmp) / f"{spec['arch']}.json").write_text(json.dumps(spec["model_cfg"]))
                open_clip.add_model_config(tmp)
        return OpenClipWrapper(open_clip.create_model(spec["arch"], pretrained=None), int(spec["pad_id"]))
    if kind == "hf-clip":
        from transformers import CLIPConfig, CLIPModel

        return HFClipWrapper(CLIPModel(CLIPConfig.from_dict(spec["config"])))
    if kind == "composed":
        from transformers import AutoConfig, AutoModel

        text_cfg = dict(spec["text_config"])
        text = AutoModel.from_config(AutoConfig.for_model(text_cfg.pop("model_type"), **text_cfg))
        return ComposedCLIP(_timm(spec), text, int(spec["embed_dim"]), str(spec["pooling"]))
    raise ValueError(f"unknown backbone kind {kind!r} in checkpoint")


def from_checkpoint(ckpt: dict[str, Any]) -> Backbone:
    """The backbone of a training checkpoint (eval mode, CPU)."""
    from .checkpoint import CheckpointError

    meta = ckpt.get("backbone")
    tokenizer = Tokenizer.from_str(ckpt["tokenizer"])
    if meta is None:  # checkpoints written before backbones existed: our own CLIP
        meta = {
            "spec": {"kind": "own", "model_config": ckpt["model_config"], "vocab_size": ckpt["vocab_size"]}
        }
    try:
        net = rebuild(meta["spec"])
        net.load_state_dict(ckpt["model"])
    except (KeyError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint weights do not fit its recorded model ({exc})") from exc
    net.eval()
    if meta["spec"]["kind"] == "own":
        return _own(net, tokenizer, meta["spec"])
    return Backbone(
        model=net,
        tokenizer=tokenizer,
        pad_id=int(meta["pad_id"]),
        context_length=int(meta["context_length"]),
        image_size=int(meta["image_size"]),
        channels=int(meta["channels"]),
        mean=list(meta["mean"]),
        std=list(meta["std"]),
        family=str(meta["family"]),
        patch=int(meta["patch"]),
        spec=meta["spec"],
    )


def checkpoint_backbone(path: str | Path) -> Backbone:
    """`--init ckpt:FILE`: the model (and tokenizer) of an eclip-train checkpoint, to train further; the
    second stage of the demo recipe starts from the CLIP pretraining run this way."""
    from .checkpoint import load_checkpoint

    b, ckpt = load_checkpoint(path)
    b.model.train()
    prov = ckpt.get("provenance", {})
    b.provenance = {
        "init": f"ckpt:{path}",
        "init_provenance": {k: prov.get(k) for k in ("variant", "data", "data_sha256", "steps", "seed")},
    }
    if ckpt.get("tokenizer_file_text") is not None:
        tok = Path(tempfile.mkdtemp()) / "tokenizer.json"
        tok.write_text(ckpt["tokenizer_file_text"], encoding="utf-8")
        b.tokenizer_file = tok
    return b


def checkpoint_meta(b: Backbone) -> dict[str, Any]:
    """What `from_checkpoint` needs besides the state dict and the tokenizer."""
    return {
        "spec": b.spec,
        "pad_id": b.pad_id,
        "context_length": b.context_length,
        "image_size": b.image_size,
        "channels": b.channels,
        "mean": b.mean,
        "std": b.std,
        "family": b.family,
        "patch": b.patch,
    }
