"""The eCLIP heatmap processor HP(I, H) -> expert image of the same shape (method.md, Training 1).

One patch embedding (Conv2d, kernel = stride = patch) embeds both the image, P = patchify(I), and the
heatmap-weighted image, Q = patchify(H * I). Multi-head attention takes Q as queries and P as keys and
values, with no positional embedding; a linear output projection follows, and a transposed convolution
(kernel = stride = patch) turns the tokens back into an image. The processor works in pixel space so
the image encoder is used unchanged; it is trained with CLIP but never exported.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ProcessorConfig


def scale_heatmaps(heatmaps: torch.Tensor, per_image: bool = True) -> torch.Tensor:
    """Scale heatmaps `[B, 1, H, W]` to [0, 1] by their max (per image, or over the whole batch as the
    authors' code does). All-zero heatmaps stay zero."""
    h = heatmaps.clamp(min=0)
    peak = h.amax(dim=(1, 2, 3), keepdim=True) if per_image else h.amax().reshape(1, 1, 1, 1)
    return h / peak.clamp(min=1e-8)


class HeatmapProcessor(nn.Module):
    def __init__(self, channels: int, cfg: ProcessorConfig) -> None:
        super().__init__()
        self.patch = cfg.patch
        self.embed = nn.Conv2d(channels, cfg.dim, cfg.patch, cfg.patch)
        self.attn = nn.MultiheadAttention(cfg.dim, cfg.heads, batch_first=True)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.unpatchify = nn.ConvTranspose2d(cfg.dim, channels, cfg.patch, cfg.patch)

    def forward(self, images: torch.Tensor, heatmaps: torch.Tensor) -> torch.Tensor:
        """images `[B, C, H, W]`, heatmaps `[B, 1, H, W]` already in [0, 1] -> `[B, C, H, W]`."""
        b, _, h, w = images.shape
        if h % self.patch or w % self.patch:
            raise ValueError(f"image {h}x{w} is not a multiple of the processor patch {self.patch}")
        p = self.embed(images)  # [B, D, h', w']
        grid = p.shape[2:]
        p = p.flatten(2).transpose(1, 2)  # [B, N, D]
        q = self.embed(heatmaps * images).flatten(2).transpose(1, 2)
        out, _ = self.attn(q, p, p, need_weights=False)
        out = self.proj(out)
        out = out.transpose(1, 2).reshape(b, -1, *grid)
        return self.unpatchify(out)
