"""Write reference values for the saliency-agreement metrics (tests/saliency_refs.rs).

The metrics are transcribed here in numpy from the MIT/Tübingen saliency benchmark's maintained
implementation, pysaliency 0.2.22 (`pysaliency/metrics.py`: NSS, CC, MIT_KLDiv, SIM,
convert_saliency_map_to_density; `pysaliency/roc_cython.pyx`: general_roc with judd=1, as
`SaliencyMapModel.AUC_Judd` calls it with nonfixations="unfixated", without its random jitter).
Nothing here comes from the Rust code. With `--pysaliency-src DIR` (an unpacked pysaliency sdist,
`pip download pysaliency==0.2.22 --no-deps`), the script also loads pysaliency's own `metrics.py`
(pure numpy) and checks that NSS, CC, KL and SIM agree with the transcription to 1e-12.

Run from the repository root:

    PYTHONPATH=$PWD/onnx-export/src .venv/bin/python onnx-export/scripts/make_saliency_refs.py \
        [--pysaliency-src /tmp/pysaliency-0.2.22]

Output: tests/data/metric_refs/saliency.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy.ndimage import gaussian_filter, maximum_filter

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "metric_refs" / "saliency.json"
EPS = 2.2204e-16  # the value pysaliency.metrics.MIT_KLDiv passes (MATLAB eps, rounded)


def density(s: np.ndarray) -> np.ndarray:
    s = s.astype(np.float64)
    if s.min() < 0:
        s = s - s.min()
    total = s.sum()
    return s / total if total else np.full(s.shape, 1.0 / s.size)


def nss(s: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    # A constant map has std 0 exactly (numpy's rounding leaves ~1e-17, which pysaliency divides by).
    std = 0.0 if s.max() == s.min() else s.std()
    v = s[ys, xs] - s.mean()
    return float((v / std if std else v).mean())


def cc(a: np.ndarray, b: np.ndarray) -> float | None:
    if b.std() == 0:
        return None
    if a.std() == 0:
        return 0.0
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def kl(s: np.ndarray, ref: np.ndarray) -> float:
    p, q = density(s), density(ref)
    return float((q * np.log(EPS + q / (p + EPS))).sum())


def sim(s: np.ndarray, ref: np.ndarray) -> float:
    return float(np.minimum(density(s), density(ref)).sum())


def auc_judd(s: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    fixated = np.zeros(s.shape, dtype=bool)
    fixated[ys, xs] = True
    pos = np.sort(s[ys, xs])[::-1]
    neg = np.sort(s[~fixated])[::-1]
    thresholds = np.sort(np.hstack([[max(pos[0], neg[0]) + 1.0], pos, [min(pos[-1], neg[-1])]]))[::-1]
    tpr = np.concatenate([[0.0], [(pos >= t).sum() / pos.size for t in thresholds]])
    fpr = np.concatenate([[0.0], [(neg >= t).sum() / neg.size for t in thresholds]])
    return float(np.trapezoid(tpr, fpr))


def local_maxima(m: np.ndarray, rel: float = 0.1) -> list[list[int]]:
    """Pixels >= all 8 neighbours, > the neighbours before them in raster order, >= rel * max, > 0."""
    h, w = m.shape
    pad = np.pad(m, 1, constant_values=-np.inf)
    ok = (m >= rel * m.max()) & (m > 0)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            n = pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
            earlier = dy < 0 or (dy == 0 and dx < 0)
            ok &= (m > n) if earlier else (m >= n)
    # Independent check of the non-strict part: every point is a 3x3 maximum filter fixed point.
    assert np.all(maximum_filter(m, size=3, mode="constant", cval=-np.inf)[ok] == m[ok])
    ys, xs = np.nonzero(ok)
    return [[int(x), int(y)] for y, x in zip(ys, xs, strict=True)]


def load_pysaliency_metrics(src: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("pysaliency_metrics", src / "pysaliency" / "metrics.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def case(
    name: str, s: np.ndarray, ref: np.ndarray, xs: np.ndarray, ys: np.ndarray, ps: ModuleType | None
) -> dict:
    s, ref = np.round(s, 6), np.round(ref, 6)  # the inputs as written to JSON, exactly
    out = {
        "name": name,
        "saliency": s.tolist(),
        "reference": ref.tolist(),
        "fixations": [[int(x), int(y)] for x, y in zip(xs, ys, strict=True)],
        "nss": nss(s, xs, ys),
        "cc": cc(s, ref),
        "kl": kl(s, ref),
        "sim": sim(s, ref),
        "auc_judd": auc_judd(s, xs, ys),
        "local_maxima": local_maxima(ref),
    }
    if ps is not None:
        if s.max() > s.min():
            assert abs(float(np.mean(ps.NSS(s, xs, ys))) - out["nss"]) < 1e-12, name
        if out["cc"] is not None:
            assert abs(float(ps.CC(s, ref)) - out["cc"]) < 1e-12, name
        assert abs(float(ps.MIT_KLDiv(s, ref)) - out["kl"]) < 1e-12, name
        assert abs(float(ps.SIM(s, ref)) - out["sim"]) < 1e-12, name
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pysaliency-src", type=Path, default=None)
    args = ap.parse_args()
    ps = load_pysaliency_metrics(args.pysaliency_src) if args.pysaliency_src else None
    rng = np.random.default_rng(16)
    h, w = 24, 32
    cases = []
    # Smooth heatmap from a few Gaussian blobs; saliency = a noisy, shifted copy.
    ref = np.zeros((h, w))
    for x, y in [(5, 4), (20, 15), (27, 6)]:
        ref[y, x] = rng.uniform(0.5, 1.0)
    ref = gaussian_filter(ref, 2.0)
    ref /= ref.max()
    s = np.roll(ref, 2, axis=1) + 0.2 * rng.random((h, w))
    xs, ys = rng.integers(0, w, 12), rng.integers(0, h, 12)
    xs[:3], ys[:3] = [5, 20, 27], [4, 15, 6]
    cases.append(case("smooth", s, ref, xs, ys, ps))
    # Negative saliency values (cosine drops can be negative), repeated fixations.
    s2 = rng.normal(size=(h, w))
    xs2 = np.array([1, 1, 8, 30, 30, 30, 12])
    ys2 = np.array([2, 2, 9, 20, 20, 0, 23])
    cases.append(case("negative_repeats", s2, ref, xs2, ys2, ps))
    # Heavy ties: saliency quantised to 4 levels, reference quantised like an 8-bit PNG.
    s3 = np.round(3 * rng.random((h, w))) / 3
    ref3 = np.round(ref * 255) / 255
    xs3, ys3 = rng.integers(0, w, 20), rng.integers(0, h, 20)
    cases.append(case("ties", s3, ref3, xs3, ys3, ps))
    # Constant saliency: CC 0, SIM / KL against the uniform density, AUC 0.5 (all tied).
    s4 = np.full((h, w), 0.3)
    cases.append(case("constant_saliency", s4, ref, xs, ys, ps))
    how = (
        "numpy transcription of pysaliency 0.2.22 metrics.NSS (mean over fixations), CC, MIT_KLDiv "
        f"(eps {EPS}), SIM and roc_cython.general_roc(judd=1) with unfixated negatives, no jitter; "
        + ("NSS/CC/KL/SIM checked against pysaliency/metrics.py itself" if ps else "pysaliency not run")
        + "; local maxima rule of src/eval/saliency.rs checked with scipy.ndimage.maximum_filter"
    )
    OUT.write_text(json.dumps({"how": how, "cases": cases}) + "\n")
    print(f"wrote {OUT}: {how}")


if __name__ == "__main__":
    main()
