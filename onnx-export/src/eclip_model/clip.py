"""CLIP: image and text towers, linear projections to a shared space, L2 norm, learnable temperature.

The temperature tau starts at `init_temperature` (0.07) and is kept in [0.01, 2]: it is stored as
`logit_scale = log(1 / tau)`, clamped in every forward pass and after every optimiser step
(`clamp_temperature`). `ImageEncoder` / `TextEncoder` are the two graphs that get exported.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .towers import TextTransformer, build_image_tower

TAU_MIN, TAU_MAX = 0.01, 2.0


class ClipBase(nn.Module):
    """What training and export need of any CLIP-like model: `encode_image`, `encode_text` (both
    L2-normalised) and a learnable `logit_scale = log(1 / tau)` clamped to tau in [TAU_MIN, TAU_MAX].
    Our own `CLIP` and the wrappers of open_clip / Hugging Face / timm models (`eclip_model.backbones`)
    derive from it."""

    logit_scale: nn.Parameter

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def scale(self) -> torch.Tensor:
        """1 / tau, with tau clamped to [TAU_MIN, TAU_MAX]."""
        return self.logit_scale.clamp(math.log(1.0 / TAU_MAX), math.log(1.0 / TAU_MIN)).exp()

    def temperature(self) -> float:
        return float(1.0 / self.scale().item())

    @torch.no_grad()
    def clamp_temperature(self) -> None:
        self.logit_scale.clamp_(math.log(1.0 / TAU_MAX), math.log(1.0 / TAU_MIN))


class CLIP(ClipBase):
    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.visual = build_image_tower(cfg.image)
        self.text = TextTransformer(cfg.text, vocab_size)
        self.image_proj = nn.Linear(self.visual.feature_dim, cfg.embed_dim, bias=False)
        self.text_proj = nn.Linear(self.text.feature_dim, cfg.embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg.init_temperature)))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj(self.visual(pixels)), dim=-1)

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_proj(self.text(input_ids, attention_mask)), dim=-1)


class ImageEncoder(nn.Module):
    """Exported image graph: pixel_values -> image_embeds (normalised)."""

    def __init__(self, model: ClipBase) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixel_values)


class TextEncoder(nn.Module):
    """Exported text graph: (input_ids, attention_mask) -> text_embeds (normalised)."""

    def __init__(self, model: ClipBase) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids, attention_mask)
