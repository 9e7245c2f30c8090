"""Eye-gaze fixations: readers for real data, statistics fitted from real scanpaths, simulation.

Owns three things so that simulated gaze and real gaze go through the same code:
- readers for the GazeSearch JSON format (fixations on a 224x224 grid) and a plain fixation CSV
  (`image,x,y,duration_s`, pixel coordinates); malformed input raises `GazeFormatError` naming the
  file and the entry/row;
- `fit_gaze_stats`: per-finding statistics of real scanpaths (fixation count, log-durations,
  near-target vs search-pattern spatial model fitted by EM);
- `simulate_scanpath`: fixation sequences drawn from those statistics for a synthetic image.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GAZESEARCH_GRID = 224

# Which GazeSearch task provides the statistics for each of our findings.
FINDING_TO_TASK: dict[str, str] = {
    "cardiomegaly": "cardiomegaly",
    "pleural_effusion": "pleural effusion",
    "pneumothorax": "pneumothorax",
    "nodule": "lung lesion",
    "consolidation": "consolidation",
    "edema": "edema",
}
POOLED = "pooled"


class GazeFormatError(ValueError):
    """A fixation file could not be read; the message names the file and the entry or row."""


@dataclass
class Fixations:
    """One scanpath: fixation centres (pixels of a `width` x `height` frame) and durations (s)."""

    x: np.ndarray
    y: np.ndarray
    duration_s: np.ndarray
    width: int
    height: int
    name: str = ""
    task: str = ""

    def rescaled(self, width: int, height: int) -> Fixations:
        """The same fixations in a `width` x `height` frame (pixel centres map to pixel centres)."""
        sx, sy = width / self.width, height / self.height
        return Fixations(
            (self.x + 0.5) * sx - 0.5,
            (self.y + 0.5) * sy - 0.5,
            self.duration_s.copy(),
            width,
            height,
            self.name,
            self.task,
        )


def _number_list(entry: dict[str, Any], key: str, where: str) -> np.ndarray:
    value = entry.get(key)
    if not isinstance(value, list):
        raise GazeFormatError(f"{where}: field '{key}' must be a list of numbers, got {type(value).__name__}")
    out = np.empty(len(value), dtype=np.float64)
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise GazeFormatError(f"{where}: field '{key}'[{i}] is not a finite number: {v!r}")
        out[i] = float(v)
    return out


def read_gazesearch(path: str | Path) -> list[Fixations]:
    """Read a GazeSearch scanpath JSON (a list of {name, task, X, Y, T, ...}); coordinates on the
    224x224 grid. Raises `GazeFormatError` naming the file and entry index on malformed input."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise GazeFormatError(f"{path}: cannot read: {e}") from e
    except json.JSONDecodeError as e:
        raise GazeFormatError(f"{path}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
    if not isinstance(data, list):
        raise GazeFormatError(f"{path}: expected a JSON list of scanpaths, got {type(data).__name__}")
    out: list[Fixations] = []
    for i, entry in enumerate(data):
        where = f"{path}: entry {i}"
        if not isinstance(entry, dict):
            raise GazeFormatError(f"{where}: expected an object, got {type(entry).__name__}")
        x = _number_list(entry, "X", where)
        y = _number_list(entry, "Y", where)
        t = _number_list(entry, "T", where)
        if not (len(x) == len(y) == len(t)):
            raise GazeFormatError(f"{where}: X, Y, T have different lengths ({len(x)}, {len(y)}, {len(t)})")
        if len(x) == 0:
            raise GazeFormatError(f"{where}: scanpath has no fixations")
        if (t < 0).any():
            raise GazeFormatError(f"{where}: negative fixation duration in T")
        bad = (x < 0) | (x >= GAZESEARCH_GRID) | (y < 0) | (y >= GAZESEARCH_GRID)
        if bad.any():
            j = int(np.argmax(bad))
            raise GazeFormatError(
                f"{where}: fixation {j} at ({x[j]}, {y[j]}) is outside the "
                f"{GAZESEARCH_GRID}x{GAZESEARCH_GRID} grid"
            )
        out.append(
            Fixations(
                x,
                y,
                t,
                GAZESEARCH_GRID,
                GAZESEARCH_GRID,
                str(entry.get("name", "")),
                str(entry.get("task", "")),
            )
        )
    return out


CSV_COLUMNS = ("image", "x", "y", "duration_s")


def read_fixation_csv(path: str | Path) -> dict[str, list[tuple[float, float, float]]]:
    """Read a fixation CSV with header `image,x,y,duration_s` (pixel coordinates of that image,
    seconds). Returns image -> [(x, y, duration_s), ...] in file order. Raises `GazeFormatError`
    naming the file and line for a missing column, a non-numeric, non-finite or negative value."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise GazeFormatError(f"{path}: cannot read: {e}") from e
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise GazeFormatError(f"{path}: empty file; expected a header row {','.join(CSV_COLUMNS)}")
    header = [h.strip() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise GazeFormatError(
            f"{path}: line 1: missing column(s) {', '.join(missing)}; expected header {','.join(CSV_COLUMNS)}"
        )
    idx = {c: header.index(c) for c in CSV_COLUMNS}
    out: dict[str, list[tuple[float, float, float]]] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise GazeFormatError(f"{path}: line {line_no}: expected {len(header)} fields, got {len(row)}")
        image = row[idx["image"]].strip()
        if not image:
            raise GazeFormatError(f"{path}: line {line_no}: empty image name")
        values = []
        for c in ("x", "y", "duration_s"):
            raw = row[idx[c]].strip()
            try:
                v = float(raw)
            except ValueError:
                raise GazeFormatError(
                    f"{path}: line {line_no}: column '{c}' is not a number: {raw!r}"
                ) from None
            if not math.isfinite(v) or v < 0:
                raise GazeFormatError(
                    f"{path}: line {line_no}: column '{c}' must be finite and >= 0, got {raw!r}"
                )
            values.append(v)
        out.setdefault(image, []).append((values[0], values[1], values[2]))
    return out


# ----------------------------------------------------------------------------------------------
# Fitting


MIN_DURATION_S = 0.01  # GazeSearch has a few zero-length fixations; they are left out of the log fit


def _log_stats(t: np.ndarray) -> tuple[float, float]:
    lt = np.log(t[t >= MIN_DURATION_S])
    return float(lt.mean()), float(lt.std())


def fit_target_mixture(
    points: np.ndarray, targets: np.ndarray, iters: int = 200
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """EM fit of pre-target fixations `points` [n,2] given their scanpath's target `targets` [n,2]:
    p(point) = pi * N(target, 2 sigma^2 I) + (1 - pi) * N(mu, Sigma). The factor 2 is because the
    target proxy (the scanpath's final, on-target fixation) scatters around the target like the
    near-target fixations do. Returns pi, sigma, mu, Sigma."""
    d2 = ((points - targets) ** 2).sum(axis=1)
    pi, var = 0.3, 400.0
    mu = points.mean(axis=0)
    cov = np.cov(points.T) + 1e-3 * np.eye(2)
    for _ in range(iters):
        s2 = 2.0 * var
        log_a = np.log(pi) - np.log(2 * np.pi * s2) - d2 / (2 * s2)
        diff = points - mu
        inv = np.linalg.inv(cov)
        maha = np.einsum("ni,ij,nj->n", diff, inv, diff)
        log_b = np.log(1 - pi) - np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(cov)) - 0.5 * maha
        m = np.maximum(log_a, log_b)
        r = np.exp(log_a - m) / (np.exp(log_a - m) + np.exp(log_b - m))
        pi = float(np.clip(r.mean(), 1e-3, 1 - 1e-3))
        var = float(max((r * d2).sum() / (2.0 * 2.0 * r.sum()), 1.0))
        w = 1 - r
        mu = (w[:, None] * points).sum(axis=0) / w.sum()
        diff = points - mu
        cov = (w[:, None, None] * np.einsum("ni,nj->nij", diff, diff)).sum(axis=0) / w.sum()
        cov = cov + 1e-3 * np.eye(2)
    return pi, math.sqrt(var), mu, cov


def _stats_for(paths: list[Fixations]) -> dict[str, Any]:
    lengths = np.array([len(p.x) for p in paths])
    max_len = int(lengths.max())
    pmf = np.bincount(lengths, minlength=max_len + 1)[1:] / len(lengths)
    search_t = np.concatenate([p.duration_s[:-1] for p in paths])
    target_t = np.array([p.duration_s[-1] for p in paths])
    pts, tgts = [], []
    for p in paths:
        if len(p.x) >= 2:
            xy = np.stack([p.x, p.y], axis=1)
            pts.append(xy[:-1])
            tgts.append(np.repeat(xy[-1:], len(xy) - 1, axis=0))
    points, targets = np.concatenate(pts), np.concatenate(tgts)
    pi, sigma, mu, cov = fit_target_mixture(points, targets)
    all_xy = np.concatenate([np.stack([p.x, p.y], axis=1) for p in paths])
    amp = np.concatenate([np.hypot(np.diff(p.x), np.diff(p.y)) for p in paths if len(p.x) >= 2])
    ls_mu, ls_sd = _log_stats(search_t)
    lt_mu, lt_sd = _log_stats(target_t)
    return {
        "n_scanpaths": len(paths),
        "n_fixations": int(lengths.sum()),
        "count_pmf": [round(float(v), 5) for v in pmf],
        "count_mean": round(float(lengths.mean()), 4),
        "log_duration_search": {"mean": round(ls_mu, 4), "sd": round(ls_sd, 4)},
        "log_duration_target": {"mean": round(lt_mu, 4), "sd": round(lt_sd, 4)},
        "median_duration_s": round(float(np.median(np.concatenate([p.duration_s for p in paths]))), 4),
        "near_target_fraction": round(pi, 4),
        "near_target_sigma": round(sigma, 3),
        "search_mean": [round(float(v), 3) for v in mu],
        "search_cov": [[round(float(v), 3) for v in row] for row in cov],
        "spread_sd_xy": [round(float(v), 3) for v in all_xy.std(axis=0)],
        "saccade_amplitude_mean": round(float(amp.mean()), 3),
    }


def fit_gaze_stats(paths: list[Fixations], min_scanpaths: int = 40) -> dict[str, Any]:
    """Per-finding gaze statistics (coordinates in the 224 grid) for our findings, fitted from the
    GazeSearch tasks in `FINDING_TO_TASK`, plus `pooled` over every scanpath in the file (used for
    images without findings and for findings with fewer than `min_scanpaths` scanpaths)."""
    by_task: dict[str, list[Fixations]] = {}
    for p in paths:
        by_task.setdefault(p.task, []).append(p)
    findings: dict[str, Any] = {POOLED: {"task": "all tasks", **_stats_for(paths)}}
    for finding, task in FINDING_TO_TASK.items():
        group = by_task.get(task, [])
        if len(group) >= min_scanpaths:
            findings[finding] = {"task": task, **_stats_for(group)}
        else:
            findings[finding] = {"task": POOLED, **findings[POOLED]}
    return {
        "format_version": 1,
        "source": "gazesearch_scanpaths.json (GazeSearch, WACV 2025; REFLACX + EGD-CXR on MIMIC-CXR)",
        "grid": GAZESEARCH_GRID,
        "method": (
            "Per task: count_pmf = histogram of scanpath lengths; log-durations = mean/sd of log(T) for "
            f"T >= {MIN_DURATION_S}s, separately for search fixations (all but the last) and the final "
            "fixation (on target in GazeSearch); spatial model by EM over the non-final fixations x "
            "given the final fixation t of their scanpath: x ~ pi N(t, 2 sigma^2 I) + (1 - pi) "
            "N(search_mean, search_cov). Units: 224-grid pixels."
        ),
        "findings": findings,
    }


def load_default_stats() -> dict[str, Any]:
    """The statistics fitted from the real GazeSearch file, as shipped with the package."""
    return json.loads((Path(__file__).with_name("gaze_stats.json")).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------------------------
# Simulation


def simulate_scanpath(
    rng: np.random.Generator,
    stats: dict[str, Any],
    target: tuple[float, float] | None,
    size: int,
    grid: int = GAZESEARCH_GRID,
) -> Fixations:
    """One scanpath for an image of `size` x `size` pixels. With a `target` (pixel coordinates), the
    final fixation lands near it and earlier ones are near it with the fitted probability, else on the
    fitted search pattern; without a target (normal image) all fixations follow the search pattern."""
    scale = size / grid
    pmf = np.asarray(stats["count_pmf"], dtype=np.float64)
    n = int(rng.choice(len(pmf), p=pmf / pmf.sum())) + 1
    mu = np.asarray(stats["search_mean"], dtype=np.float64) * scale
    cov = np.asarray(stats["search_cov"], dtype=np.float64) * scale * scale
    sigma = float(stats["near_target_sigma"]) * scale
    pi = float(stats["near_target_fraction"])
    xy = rng.multivariate_normal(mu, cov, size=n)
    ls, lt = stats["log_duration_search"], stats["log_duration_target"]
    dur = np.exp(rng.normal(ls["mean"], ls["sd"], size=n))
    if target is not None:
        t = np.asarray(target, dtype=np.float64)
        near = rng.random(n) < pi
        near[-1] = True
        xy[near] = t + rng.normal(0.0, sigma, size=(int(near.sum()), 2))
        dur[-1] = math.exp(rng.normal(lt["mean"], lt["sd"]))
    xy = np.clip(xy, 0, size - 1)
    return Fixations(xy[:, 0], xy[:, 1], dur, size, size)
