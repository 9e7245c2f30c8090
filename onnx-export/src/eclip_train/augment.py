"""The authors' paired augmentation (`--augment`, part of `--code-defaults`).

Per sample: a RandomResizedCrop (area scale 0.5-1, aspect ratio 3/4-4/3, resized back to the model's
size with bilinear interpolation) applied with the same box to the image and its heatmap, then CLAHE
with probability 0.3 on the image. CLAHE is an intensity transform: the heatmap, a spatial weight map,
gets the geometric transform only (as in albumentations, where pixel-level transforms leave masks alone).
CLAHE runs on the image mapped back to [0, 1] (the inverse of the model's mean/std) with
`skimage.exposure.equalize_adapthist` (clip limit 0.01, 8x8 tiles) and is normalised again afterwards.

The draws come from one seeded numpy generator, drawn for the whole global batch in a fixed order, so a
run under DDP (each rank applies the draws of its shard) augments exactly as the single-process run.
Augmentation runs on the preprocessed `[N, C, S, S]` tensors, after the workbench's resize and crop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

CROP_SCALE = (0.5, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
CLAHE_P = 0.3


@dataclass
class AugmentDraws:
    """One batch's draws: crop boxes `[N, 4]` (top, left, height, width) and the CLAHE coin `[N]`."""

    boxes: np.ndarray
    clahe: np.ndarray

    def take(self, sel: np.ndarray | slice) -> AugmentDraws:
        return AugmentDraws(self.boxes[sel], self.clahe[sel])


def draw(rng: np.random.Generator, n: int, size: int) -> AugmentDraws:
    """torchvision's RandomResizedCrop box sampling (10 tries, then the centre crop), per sample."""
    boxes = np.zeros((n, 4), dtype=np.int64)
    area = size * size
    for i in range(n):
        box = None
        for _ in range(10):
            target = area * rng.uniform(*CROP_SCALE)
            ratio = math.exp(rng.uniform(math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1])))
            w = round(math.sqrt(target * ratio))
            h = round(math.sqrt(target / ratio))
            if 0 < w <= size and 0 < h <= size:
                top = int(rng.integers(0, size - h + 1))
                left = int(rng.integers(0, size - w + 1))
                box = (top, left, h, w)
                break
        boxes[i] = box if box is not None else (0, 0, size, size)
    return AugmentDraws(boxes, rng.random(n) < CLAHE_P)


def _crop(x: torch.Tensor, boxes: np.ndarray) -> torch.Tensor:
    size = x.shape[-1]
    out = []
    for img, (t, left, h, w) in zip(x, boxes, strict=True):
        patch = img[None, :, t : t + h, left : left + w]
        out.append(F.interpolate(patch, size=(size, size), mode="bilinear", align_corners=False))
    return torch.cat(out) if out else x


def _clahe(x: torch.Tensor, on: np.ndarray, mean: list[float], std: list[float]) -> torch.Tensor:
    if not on.any():
        return x
    from skimage.exposure import equalize_adapthist

    m = torch.tensor(mean, dtype=x.dtype, device=x.device)[:, None, None]
    s = torch.tensor(std, dtype=x.dtype, device=x.device)[:, None, None]
    out = x.clone()
    for i in np.flatnonzero(on):
        img = (x[i] * s + m).clamp(0, 1).detach().cpu().numpy()
        eq = np.stack([equalize_adapthist(c, clip_limit=0.01) for c in img]).astype(np.float32)
        out[i] = (torch.from_numpy(eq).to(x.device) - m) / s
    return out


def apply(
    d: AugmentDraws,
    images: torch.Tensor,
    heatmaps: torch.Tensor | None,
    mean: list[float],
    std: list[float],
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The same crop on images and heatmaps; CLAHE on the images."""
    images = _clahe(_crop(images, d.boxes), d.clahe, mean, std)
    return images, (_crop(heatmaps, d.boxes) if heatmaps is not None else None)
