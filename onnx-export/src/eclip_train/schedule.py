"""Schedules of a training run: the eCLIP curriculum p(step), the mixup coefficient, the learning rate.

All are pure functions of the step (or of a seeded generator) so tests can pin their values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curriculum:
    """Probability of adding an expert batch, by fraction of total steps (method.md, Training 4).

    0 during the cold start; rises linearly `start -> peak` until `rise_end`; falls linearly back to
    `floor` by `fall_end`; stays at `floor` afterwards.
    """

    cold_start: float = 0.1
    rise_end: float = 0.4
    fall_end: float = 0.8
    start: float = 0.05
    peak: float = 0.5
    floor: float = 0.1

    def __call__(self, frac: float) -> float:
        if frac < self.cold_start:
            return 0.0
        if frac < self.rise_end:
            t = (frac - self.cold_start) / (self.rise_end - self.cold_start)
            return self.start + (self.peak - self.start) * t
        if frac < self.fall_end:
            t = (frac - self.rise_end) / (self.fall_end - self.rise_end)
            return self.peak + (self.floor - self.peak) * t
        return self.floor

    def mean(self) -> float:
        """Average of p over the whole run (the constant used by the no-curriculum ablation)."""
        rise = (self.rise_end - self.cold_start) * (self.start + self.peak) / 2
        fall = (self.fall_end - self.rise_end) * (self.peak + self.floor) / 2
        return rise + fall + (1.0 - self.fall_end) * self.floor


def sample_lambda(rng: np.random.Generator, alpha: float) -> float:
    """Mixup coefficient lambda ~ Beta(alpha, alpha), one per expert batch."""
    return float(rng.beta(alpha, alpha))


def lr_factor(step: int, total: int, warmup_frac: float) -> float:
    """Linear warm-up over `warmup_frac` of the steps, then cosine decay to 0."""
    warm = max(1, round(total * warmup_frac))
    if step < warm:
        return (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))
