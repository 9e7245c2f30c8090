"""Losses: symmetric InfoNCE over image/text embeddings (CLIP and eCLIP share it)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(image_embeds: torch.Tensor, text_embeds: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE with positives on the diagonal; embeddings are L2-normalised, scale = 1 / tau."""
    logits = scale * image_embeds @ text_embeds.t()
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
