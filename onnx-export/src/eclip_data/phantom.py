"""Frontal chest radiograph phantoms: anatomy, findings, a support-device confounder, acquisition.

Everything is drawn analytically on the pixel grid mapped back into normalised anatomical
coordinates (a = left-to-right on the image, b = top-to-bottom, both in [0, 1]), so rotation, shift
and zoom move the whole chest and every finding region with it. Densities add up as in a projection
radiograph (bright = dense), then exposure (gain, offset, gamma) and noise are applied.
Image left is the patient's right (PA convention): `side = -1` is the right lung, `+1` the left.

`render` returns the image and, per finding, a boolean region mask in pixel space; the gaze
simulation aims at these regions and the tests measure heatmap mass inside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter


@dataclass
class Anatomy:
    """Per-patient anatomy (normalised units)."""

    half_width: float  # thorax half-width W
    lung_top: float
    base_right: float  # right hemidiaphragm level (image left)
    base_left: float
    dome: float
    mediastinum: float  # half-width of the upper mediastinum
    ctr: float  # cardiothoracic ratio
    heart_height: float
    rib_phase: float
    gastric_bubble: bool


@dataclass
class Acquisition:
    rotation_deg: float
    shift: tuple[float, float]
    zoom: float
    gain: float
    offset: float
    gamma: float
    noise: float
    mode: str = "L"  # "L" (8-bit gray), "I;16" (16-bit gray) or "RGB"


@dataclass
class Case:
    """Everything needed to draw one image. `findings` maps a finding name to its parameters."""

    anatomy: Anatomy
    acquisition: Acquisition
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)
    device: str | None = None  # support-device confounder: "cvc_right", "cvc_left", "ett", "ecg"


def _soft(x: np.ndarray, w: float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(x / w))


def _segment_dist(a: np.ndarray, b: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    d = p1 - p0
    t = np.clip(((a - p0[0]) * d[0] + (b - p0[1]) * d[1]) / float(d @ d), 0.0, 1.0)
    return np.hypot(a - (p0[0] + t * d[0]), b - (p0[1] + t * d[1]))


def _polyline_dist(a: np.ndarray, b: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return np.min([_segment_dist(a, b, pts[i], pts[i + 1]) for i in range(len(pts) - 1)], axis=0)


def _bezier(
    p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], n: int = 12
) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t**2 * np.array(p2)


class Geometry:
    """Lung and heart shapes of one anatomy, as implicit functions (> 0 inside)."""

    def __init__(self, an: Anatomy):
        self.an = an
        self.lung_width = an.half_width - an.mediastinum - 0.03

    def base(self, side: int) -> float:
        return self.an.base_right if side < 0 else self.an.base_left

    def medial(self, side: int) -> float:
        return 0.5 + side * self.an.mediastinum

    def lung_inside(self, a: np.ndarray, b: np.ndarray, side: int) -> np.ndarray:
        an, wl = self.an, self.lung_width
        base = self.base(side)
        t = np.clip((b - an.lung_top) / (base - an.lung_top), 0.0, 1.0)
        width = wl * (0.3 + 0.7 * np.sqrt(np.clip(t * 1.4, 0.0, 1.0)))
        u = side * (a - self.medial(side))
        dome = base - an.dome * np.clip(1.0 - ((u - 0.45 * wl) / (0.62 * wl)) ** 2, 0.0, 1.0)
        return np.minimum.reduce([u, width - u, b - an.lung_top, dome - b])

    def dome_level(self, a: np.ndarray, side: int) -> np.ndarray:
        wl = self.lung_width
        u = side * (a - self.medial(side))
        return self.base(side) - self.an.dome * np.clip(1.0 - ((u - 0.45 * wl) / (0.62 * wl)) ** 2, 0.0, 1.0)

    def heart(self) -> tuple[float, float, float, float]:
        """Centre (a, b) and half-axes of the cardiac silhouette."""
        an = self.an
        hw = an.ctr * an.half_width
        return 0.5 + 0.25 * hw, an.base_left - 0.7 * an.heart_height, hw, an.heart_height

    def zone_point(
        self, side: int, zone: str, rng: np.random.Generator, margin: float = 0.03
    ) -> tuple[float, float]:
        """A random point well inside the given lung zone (upper / middle / lower third)."""
        lo, hi = {"upper": (0.08, 0.33), "middle": (0.38, 0.6), "lower": (0.63, 0.82)}[zone]
        an = self.an
        hx, hy, hw, hh = self.heart()
        for _ in range(200):
            b = an.lung_top + rng.uniform(lo, hi) * (self.base(side) - an.lung_top)
            a = self.medial(side) + side * rng.uniform(0.15, 0.85) * self.lung_width
            in_heart = ((a - hx) / hw) ** 2 + ((b - hy) / hh) ** 2 < 1.1
            if self.lung_inside(np.array(a), np.array(b), side) > margin and not in_heart:
                return float(a), float(b)
        return float(self.medial(side) + side * 0.5 * self.lung_width), float(
            an.lung_top + 0.5 * (lo + hi) * (self.base(side) - an.lung_top)
        )


def render(case: Case, size: int, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draw the case. Returns the image (float in [0, 1], size x size) and finding region masks."""
    an, acq = case.anatomy, case.acquisition
    g = Geometry(an)
    # pixel grid -> anatomical coordinates (inverse of zoom, rotation, shift about the centre)
    py, px = np.mgrid[0:size, 0:size].astype(np.float64)
    x = (px + 0.5) / size - 0.5 - acq.shift[0]
    y = (py + 0.5) / size - 0.5 - acq.shift[1]
    th = math.radians(acq.rotation_deg)
    a = (math.cos(th) * x + math.sin(th) * y) / acq.zoom + 0.5
    b = (-math.sin(th) * x + math.cos(th) * y) / acq.zoom + 0.5
    pw = 1.0 / size  # one pixel in normalised units

    W = an.half_width
    body = _soft(1.0 - (np.abs(a - 0.5) / (W + 0.07)) ** 4 - (np.abs(b - 0.56) / 0.66) ** 4, 0.04)
    shoulders = _soft(b - (0.09 + 0.5 * np.maximum(np.abs(a - 0.5) - 0.12, 0.0) ** 2), 0.01)
    neck = _soft(0.075 - np.abs(a - 0.5), 0.01)
    body = body * np.maximum(shoulders, neck)
    d = 0.03 + 0.42 * body

    # lungs and markings
    lung = {s: _soft(g.lung_inside(a, b, s), 0.6 * pw) for s in (-1, 1)}
    texture = gaussian_filter(rng.standard_normal((size, size)), 2.0) * 0.08
    markings = {}
    for s in (-1, 1):
        hilum_a, hilum_b = g.medial(s) + s * 0.04, an.lung_top + 0.42 * (g.base(s) - an.lung_top)
        dist = np.hypot(a - hilum_a, b - hilum_b)
        markings[s] = 0.07 * np.exp(-dist / 0.10) + texture * np.exp(-dist / 0.25)

    # the cardiac silhouette replaces the medial lung
    hx, hy, hw, hh = g.heart()
    heart = _soft(1.0 - ((a - hx) / hw) ** 2 - ((b - hy) / hh) ** 2, 0.04)
    for s in (-1, 1):
        lung[s] = lung[s] * (1.0 - heart)

    findings = case.findings
    regions: dict[str, np.ndarray] = {}
    lung_density = {}
    for s in (-1, 1):
        ld = -0.30 * lung[s] + lung[s] * markings[s]
        lung_density[s] = ld

    # pneumothorax: the lung collapses towards its medial base; the rim between is air, no markings
    if "pneumothorax" in findings:
        f = findings["pneumothorax"]
        s, frac = f["side"], f["fraction"]
        ca, cb = g.medial(s), g.base(s)
        a2 = ca + (a - ca) / (1.0 - frac)
        b2 = cb + (b - cb) / (1.0 - frac * 0.8)
        inside2 = g.lung_inside(a2, b2, s)
        collapsed = _soft(inside2, 0.6 * pw)
        rim = lung[s] * (1.0 - collapsed)
        line = lung[s] * np.exp(-(inside2**2) / (2 * (0.6 * pw) ** 2)) * (1.0 - collapsed * 0.0)
        lung_density[s] = -0.30 * lung[s] + collapsed * markings[s] - 0.12 * rim + 0.04 * collapsed * lung[s]
        lung_density[s] += 0.14 * line
        regions["pneumothorax"] = rim > 0.5

    for s in (-1, 1):
        d = d + lung_density[s]

    # mediastinum, aortic knob, heart, abdomen
    upper_med = (
        _soft(an.mediastinum + 0.012 - np.abs(a - 0.5), 0.6 * pw)
        * _soft(hy - b, 0.02)
        * _soft(b - 0.05, 0.01)
    )
    knob = _soft(1.0 - np.hypot(a - (0.5 + an.mediastinum + 0.005), b - (an.lung_top + 0.12)) / 0.035, 0.1)
    d = d + 0.12 * heart + 0.16 * np.maximum(upper_med, knob)
    abdomen = body * np.minimum(
        _soft(b - g.dome_level(a, -1), 0.6 * pw) * (a < 0.5)
        + _soft(b - g.dome_level(a, 1), 0.6 * pw) * (a >= 0.5),
        1.0,
    )
    d = d + 0.12 * abdomen * (1.0 - heart)
    if an.gastric_bubble:
        bub = _soft(1.0 - np.hypot((a - (0.5 + 0.6 * W)) / 0.05, (b - (an.base_left + 0.04)) / 0.025), 0.2)
        d = d - 0.18 * bub * body
    if "cardiomegaly" in findings:
        regions["cardiomegaly"] = heart > 0.5

    # bones: spine, posterior ribs, clavicles
    spine = _soft(0.042 - np.abs(a - 0.5), 0.6 * pw) * body
    d = d + spine * (0.05 + 0.02 * np.cos(2 * np.pi * b / 0.055))
    for s in (-1, 1):
        u = s * (a - 0.5)
        for k in range(10):
            y0 = an.lung_top - 0.03 + k * 0.067 + an.rib_phase
            curve = y0 - 0.22 * u + 1.2 * u**2
            rib = np.exp(-((b - curve) ** 2) / (2 * 0.009**2)) * (u > 0.04) * (u < W + 0.03)
            d = d + 0.05 * rib * body
        p0 = np.array([0.5 + s * 0.045, an.lung_top + 0.045])
        p1 = np.array([0.5 + s * (W + 0.04), an.lung_top - 0.045])
        clav = np.exp(-(_segment_dist(a, b, p0, p1) ** 2) / (2 * 0.011**2))
        d = d + 0.14 * clav

    # findings inside the lungs
    if "pleural_effusion" in findings:
        f = findings["pleural_effusion"]
        masks = []
        for s in (-1, 1) if f["side"] == 0 else (f["side"],):
            u = s * (a - g.medial(s)) / g.lung_width
            level = g.dome_level(a, s) - f["height"] * (0.55 + 0.45 * np.clip(u, 0, 1))
            fluid = lung[s] * _soft(b - level, 0.012)
            d = d + 0.32 * fluid - fluid * markings[s]
            masks.append(fluid > 0.5)
        regions["pleural_effusion"] = np.logical_or.reduce(masks)
    if "consolidation" in findings:
        f = findings["consolidation"]
        s = f["side"]
        ca, cb = g.zone_point(s, f["zone"], rng)
        blob = np.zeros_like(a)
        for _ in range(6):
            oa, ob = rng.normal(0, 0.035, size=2)
            sg = rng.uniform(0.025, 0.045)
            blob += np.exp(-((a - ca - oa) ** 2 + (b - cb - ob) ** 2) / (2 * sg**2))
        blob = np.clip(blob / 2.0, 0, 1) * lung[s]
        d = d + f["density"] * blob
        regions["consolidation"] = blob > 0.25
    if "edema" in findings:
        f = findings["edema"]
        masks = []
        for s in (-1, 1):
            ha, hb = g.medial(s) + s * 0.05, an.lung_top + 0.45 * (g.base(s) - an.lung_top)
            haze = np.exp(-((a - ha) ** 2 + (b - hb) ** 2) / (2 * 0.11**2)) * lung[s]
            d = d + f["density"] * haze
            if f["kerley"]:
                for k in range(4):
                    yb = g.base(s) - 0.04 - 0.022 * k
                    xa = 0.5 + s * (W - 0.06)
                    line = np.exp(-((b - yb) ** 2) / (2 * (0.5 * pw) ** 2)) * (np.abs(a - xa) < 0.03)
                    d = d + 0.08 * line * lung[s]
            masks.append(haze > 0.35)
        regions["edema"] = np.logical_or.reduce(masks)
    if "nodule" in findings:
        f = findings["nodule"]
        s = f["side"]
        ca, cb = g.zone_point(s, f["zone"], rng, margin=f["radius"] + 0.01)
        r = np.hypot(a - ca, b - cb)
        nod = _soft(f["radius"] - r, 0.5 * pw)
        d = d + 0.30 * nod
        regions["nodule"] = r < f["radius"] + 2 * pw

    # support device (confounder): bright thin line or leads, not a finding
    if case.device is not None:
        if case.device == "ecg":
            dev = np.zeros_like(a)
            for _ in range(3):
                ca, cb = 0.5 + rng.uniform(-W, W), rng.uniform(0.15, 0.7)
                dev = np.maximum(
                    dev, np.exp(-((np.hypot(a - ca, b - cb) - 0.02) ** 2) / (2 * (0.6 * pw) ** 2))
                )
                pts = _bezier(
                    (ca, cb), (ca + rng.uniform(-0.2, 0.2), cb - 0.2), (0.5 + rng.uniform(-0.3, 0.3), 0.0)
                )
                dev = np.maximum(dev, 0.7 * np.exp(-(_polyline_dist(a, b, pts) ** 2) / (2 * (0.5 * pw) ** 2)))
        else:
            jit = rng.normal(0, 0.01, size=3)
            if case.device == "ett":
                pts = np.array([[0.5 + jit[0], 0.0], [0.5 + jit[1], an.lung_top + 0.10 + jit[2]]])
            elif case.device == "cvc_right":
                pts = _bezier(
                    (0.40 + jit[0], 0.0),
                    (0.43, an.lung_top + 0.02 + jit[1]),
                    (0.48, an.lung_top + 0.20 + jit[2]),
                )
            else:
                pts = _bezier(
                    (0.5 + W + jit[0], an.lung_top - 0.02),
                    (0.56, an.lung_top + 0.02 + jit[1]),
                    (0.485, an.lung_top + 0.20 + jit[2]),
                )
            dev = np.exp(-(_polyline_dist(a, b, pts) ** 2) / (2 * (0.7 * pw) ** 2))
        d = d + 0.35 * dev

    d = gaussian_filter(d, 0.6)
    img = np.clip(acq.gain * d + acq.offset, 0.0, 1.0) ** acq.gamma
    img = img + rng.normal(0.0, acq.noise, size=img.shape)
    return np.clip(img, 0.0, 1.0), regions
