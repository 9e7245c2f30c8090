"""Fixations -> gaze heatmap, for simulated and real eye-tracking data alike.

A heatmap is the sum of isotropic Gaussians centred on the fixations, each weighted by its duration,
at the image's resolution, scaled so its maximum is 1 (all zeros if there are no fixations). Sigma is
given in image pixels, or in degrees of visual angle together with the screen geometry of the
eye-tracking session (`ScreenGeometry`). Written as 8- or 16-bit grayscale PNG or float32 `.npy`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from eclip_data.gaze import Fixations


@dataclass(frozen=True)
class ScreenGeometry:
    """How the image was shown: screen width in pixels and centimetres, viewing distance, and the
    width in screen pixels that the image occupied."""

    screen_width_px: float
    screen_width_cm: float
    distance_cm: float
    image_width_on_screen_px: float

    def sigma_px(self, sigma_deg: float, image_width_px: int) -> float:
        """Sigma in image pixels for `sigma_deg` degrees of visual angle."""
        if (
            min(self.screen_width_px, self.screen_width_cm, self.distance_cm, self.image_width_on_screen_px)
            <= 0
        ):
            raise ValueError("screen geometry values must be positive")
        cm = 2.0 * self.distance_cm * math.tan(math.radians(sigma_deg) / 2.0)
        screen_px = cm * self.screen_width_px / self.screen_width_cm
        return screen_px * image_width_px / self.image_width_on_screen_px


def fixation_heatmap(
    fix: Fixations,
    width: int,
    height: int,
    sigma_px: float | np.ndarray,
    sigma_y_px: float | np.ndarray | None = None,
    windows: np.ndarray | None = None,
) -> np.ndarray:
    """Duration-weighted sum of Gaussians in [0, 1] on a `width` x `height` grid. Sigma is in pixels
    of that grid: one value, or one per fixation (`sigma_px` along x, `sigma_y_px` along y, default
    the same), e.g. from an eye tracker's angular resolution. `windows` ([n, 4] x0, y0, x1, y1 in
    grid pixels) limits each fixation's Gaussian to the part of the image that was on screen
    (x0 <= x < x1, y0 <= y < y1), as REFLACX records it. Fixations given in another frame are
    rescaled to this one first (sigmas and windows are not: give them in this grid)."""
    if np.any(np.asarray(sigma_px) <= 0) or (sigma_y_px is not None and np.any(np.asarray(sigma_y_px) <= 0)):
        raise ValueError(f"sigma must be positive, got {sigma_px}, {sigma_y_px}")
    if (fix.width, fix.height) != (width, height):
        fix = fix.rescaled(width, height)
    sx = np.broadcast_to(np.asarray(sigma_px, dtype=np.float64), fix.x.shape)
    sy = sx if sigma_y_px is None else np.broadcast_to(np.asarray(sigma_y_px, dtype=np.float64), fix.x.shape)
    xs = np.arange(width, dtype=np.float64)
    ys = np.arange(height, dtype=np.float64)
    # Separable: sum_k w_k g(y - y_k) g(x - x_k) = Gy^T diag(w) Gx
    gx = np.exp(-((xs[None, :] - fix.x[:, None]) ** 2) / (2 * sx[:, None] ** 2))
    gy = np.exp(-((ys[None, :] - fix.y[:, None]) ** 2) / (2 * sy[:, None] ** 2))
    if windows is not None:
        w = np.asarray(windows, dtype=np.float64).reshape(-1, 4)
        gx = gx * ((xs[None, :] >= w[:, 0:1]) & (xs[None, :] < w[:, 2:3]))
        gy = gy * ((ys[None, :] >= w[:, 1:2]) & (ys[None, :] < w[:, 3:4]))
    h = (gy * fix.duration_s[:, None]).T @ gx
    m = h.max() if h.size else 0.0
    return (h / m).astype(np.float32) if m > 0 else np.zeros((height, width), dtype=np.float32)


def save_heatmap(h: np.ndarray, path: str | Path, bits: int = 8) -> None:
    """Write a [0, 1] heatmap as `.npy` (float32) or PNG (8- or 16-bit grayscale), by extension."""
    path = Path(path)
    h = np.clip(h, 0.0, 1.0)
    if path.suffix == ".npy":
        np.save(path, h.astype(np.float32))
    elif path.suffix == ".png":
        if bits == 8:
            Image.fromarray(np.round(h * 255).astype(np.uint8)).save(path, optimize=True)
        elif bits == 16:
            Image.fromarray(np.round(h * 65535).astype(np.uint16)).save(path)
        else:
            raise ValueError(f"bits must be 8 or 16, got {bits}")
    else:
        raise ValueError(f"{path}: heatmap extension must be .png or .npy")


def load_heatmap(path: str | Path) -> np.ndarray:
    """Read a heatmap written by `save_heatmap` back to float32 in [0, 1]."""
    path = Path(path)
    if path.suffix == ".npy":
        return np.load(path).astype(np.float32)
    with Image.open(path) as im:
        a = np.asarray(im)
        scale = 65535.0 if a.dtype == np.uint16 or im.mode.startswith("I") else 255.0
    return (a.astype(np.float64) / scale).astype(np.float32)
