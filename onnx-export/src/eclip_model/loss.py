"""The training losses of CLIP and eCLIP in one place (method.md, Training 1-7).

- `info_nce`: symmetric InfoNCE over L2-normalised image / text embeddings, positives on the diagonal.
- `priming_loss`: MSE(I, HP(I, all-ones heatmap)), which teaches the heatmap processor to be the identity
  during the cold start.
- `expert_images`: the eCLIP expert images I^lambda = lambda * I + (1 - lambda) * HP(I, H).
- `weighted_loss`: the cold-start sum (1 - w) * InfoNCE + w * priming.
- `eclip_loss`: one step's loss from these: the expert batch appended to the main batch, one InfoNCE
  over all pairs (embeddings optionally gathered across ranks first), priming during the cold start.

`eclip_train.train` calls `eclip_loss` once per micro-batch; nothing else defines a loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .processor import HeatmapProcessor


def info_nce(image_embeds: torch.Tensor, text_embeds: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE with positives on the diagonal; embeddings are L2-normalised, scale = 1 / tau."""
    logits = scale * image_embeds.float() @ text_embeds.float().t()
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def priming_loss(processor: HeatmapProcessor, images: torch.Tensor) -> torch.Tensor:
    """MSE(I, HP(I, all-ones heatmap)): teaches the processor to be the identity during cold start."""
    ones = torch.ones_like(images[:, :1])
    return F.mse_loss(processor(images, ones).float(), images.float())


def expert_images(
    processor: HeatmapProcessor,
    images: torch.Tensor,
    heatmaps: torch.Tensor,
    lam: float,
) -> torch.Tensor:
    """I^lambda = lambda * I + (1 - lambda) * HP(I, H); heatmaps already scaled to [0, 1]
    (`eclip_model.processor.scale_heatmaps`: per image or over the global batch)."""
    return lam * images + (1.0 - lam) * processor(images, heatmaps)


def weighted_loss(clip_loss: torch.Tensor, prime: torch.Tensor | None, prime_weight: float) -> torch.Tensor:
    """(1 - w) * InfoNCE + w * priming during the cold start; the InfoNCE alone otherwise."""
    if prime is None:
        return clip_loss
    return (1.0 - prime_weight) * clip_loss + prime_weight * prime


@dataclass
class LossParts:
    """One step's loss and the parts it was summed from (for the log)."""

    total: torch.Tensor
    clip: torch.Tensor
    prime: torch.Tensor | None


@dataclass
class ExpertBatch:
    """The expert pairs of a step: images, heatmaps scaled to [0, 1], texts, and the batch's lambda."""

    images: torch.Tensor
    heatmaps: torch.Tensor
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    lam: float


def eclip_loss(
    model: nn.Module,
    processor: HeatmapProcessor | None,
    images: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    expert: ExpertBatch | None = None,
    prime: bool = False,
    prime_weight: float = 0.0,
    gather: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> LossParts:
    """One step's loss. `model` has `encode_image`, `encode_text` and `scale()` (a `ClipBase`); the
    expert images (if any) are appended to the main batch; `gather` joins the embeddings of all ranks
    (with gradients) before the InfoNCE; with `prime` the processor's priming loss on the main images
    is weighted in. CLIP is this with no expert batch and no priming."""
    main_images = images
    if expert is not None:
        if processor is None:
            raise ValueError("an expert batch needs a heatmap processor")
        mixed = expert_images(processor, expert.images, expert.heatmaps, expert.lam)
        images = torch.cat([images, mixed])
        input_ids = torch.cat([input_ids, expert.input_ids])
        attention_mask = torch.cat([attention_mask, expert.attention_mask])
    x, y = model.encode_image(images), model.encode_text(input_ids, attention_mask)
    if gather is not None:
        x, y = gather(x), gather(y)
    clip = info_nce(x, y, model.scale())
    p = priming_loss(processor, main_images) if prime and processor is not None else None
    return LossParts(weighted_loss(clip, p, prime_weight), clip, p)
