"""Reference values for the Rust tests of `src/eval/inference/` (issue 12).

Prints every value that the tests record, computed with statsmodels / scipy / scikit-learn and, for
DeLong's test, an independent O(m*n) numpy implementation of DeLong et al. (1988) (structural
components from the pairwise kernel, not the midrank shortcut of Sun & Xu 2014 that the Rust code
uses). Run from the repository root:

    PYTHONPATH=$PWD/onnx-export/src .venv/bin/python onnx-export/scripts/make_inference_refs.py

Nothing is written to disk; the numbers are copied into the tests by hand, with this command.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from statsmodels.stats.multitest import multipletests


def show(name: str, values: object) -> None:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    print(f"{name} = [{', '.join(repr(float(v)) for v in arr)}]")


def multiplicity() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9, 0.0001])
    show("holm", multipletests(p, method="holm")[1])
    show("fdr_bh", multipletests(p, method="fdr_bh")[1])
    big = np.array([0.5, 0.6, 0.7])
    show("holm_capped", multipletests(big, method="holm")[1])
    show("bh_capped", multipletests(big, method="fdr_bh")[1])


X = np.array([0.1, 0.4, 0.2, 1.5, 0.3, 2.8, 0.05, 0.6, 0.9, 0.2, 4.1, 0.35])
Y = np.array([0.3, 0.5, 0.1, 2.0, 0.9, 2.5, 0.4, 0.7, 1.6, 0.2, 5.0, 0.3])


def bca() -> None:
    res = stats.bootstrap(
        (X,), np.mean, n_resamples=40, method="BCa", confidence_level=0.9, rng=np.random.default_rng(0)
    )
    show("one_sample_theta_b", res.bootstrap_distribution)
    show("one_sample_jack", [np.mean(np.delete(X, i)) for i in range(len(X))])
    show("one_sample_estimate", np.mean(X))
    show("one_sample_ci", [res.confidence_interval.low, res.confidence_interval.high])

    def delta(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(y, axis=axis) - np.mean(x, axis=axis)

    res = stats.bootstrap(
        (X, Y),
        delta,
        paired=True,
        n_resamples=40,
        method="BCa",
        confidence_level=0.9,
        rng=np.random.default_rng(1),
    )
    show("paired_theta_b", res.bootstrap_distribution)
    show("paired_jack", [delta(np.delete(X, i), np.delete(Y, i)) for i in range(len(X))])
    show("paired_estimate", delta(X, Y))
    show("paired_ci", [res.confidence_interval.low, res.confidence_interval.high])


LABELS = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
SCORE_A = np.array([0.9, 0.3, 0.7, 0.5, 0.5, 0.2, 0.8, 0.6, 0.1, 0.5, 0.4, 0.3, 0.7, 0.2, 0.95, 0.05])
SCORE_B = np.array([0.8, 0.4, 0.9, 0.6, 0.3, 0.1, 0.6, 0.6, 0.2, 0.7, 0.5, 0.55, 0.3, 0.25, 0.9, 0.1])


def structural_components(scores: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong et al. 1988, eqs. (2)-(4): psi kernel over every (positive, negative) pair."""
    x = scores[LABELS][:, None]
    y = scores[~LABELS][None, :]
    psi = (x > y).astype(float) + 0.5 * (x == y)
    return float(psi.mean()), psi.mean(axis=1), psi.mean(axis=0)


def delong() -> None:
    auc_a, v10_a, v01_a = structural_components(SCORE_A)
    auc_b, v10_b, v01_b = structural_components(SCORE_B)
    m, n = len(v10_a), len(v01_a)
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    s = s10 / m + s01 / n
    var_delta = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    z = (auc_b - auc_a) / np.sqrt(var_delta)
    show("delong_auc", [auc_a, auc_b])
    show("sklearn_auc", [roc_auc_score(LABELS, SCORE_A), roc_auc_score(LABELS, SCORE_B)])
    show("delong_var_cov", [s[0, 0], s[1, 1], s[0, 1]])
    show("delong_z_p", [z, 2 * stats.norm.sf(abs(z))])
    fpr, tpr, thr = roc_curve(LABELS, SCORE_A, drop_intermediate=False)
    show("roc_fpr", fpr)
    show("roc_tpr", tpr)
    show("roc_thresholds", thr)


COS = np.array(
    [
        [0.31, 0.22, 0.10],
        [0.05, 0.12, 0.30],
        [0.20, 0.21, 0.19],
        [0.40, 0.10, 0.05],
        [0.15, 0.35, 0.16],
        [0.22, 0.20, 0.24],
        [0.10, 0.11, 0.40],
        [0.33, 0.30, 0.02],
    ]
)
Y_CLASS = np.array([0, 2, 1, 0, 0, 2, 2, 1])
SCALE = 14.28


def calibration() -> None:
    p = special.softmax(SCALE * COS, axis=1)
    show("softmax_row0", p[0])
    show("brier", brier_score_loss(Y_CLASS, p, labels=[0, 1, 2], scale_by_half=False))
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == Y_CLASS).astype(int)
    bins = np.linspace(0.0, 1.0, 16)
    ids = np.searchsorted(bins[1:-1], conf)
    counts = np.bincount(ids, minlength=15)
    acc, mean_conf = calibration_curve(correct, conf, n_bins=15, strategy="uniform")
    nonempty = counts[counts > 0]
    show("ece", np.sum(nonempty / len(conf) * np.abs(acc - mean_conf)))
    # Binary reliability diagram with values exactly on numpy's bin edges.
    edges = np.linspace(0.0, 1.0, 16)
    prob = np.array([0.0, edges[1], edges[3], 0.21, edges[5], 0.5, 0.55, edges[9], 0.7, 0.93, 1.0, 0.99])
    y = np.array([0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0])
    show("binary_prob", prob)
    frac_pos, mean_pred = calibration_curve(y, prob, n_bins=15, strategy="uniform")
    show("binary_frac_pos", frac_pos)
    show("binary_mean_pred", mean_pred)
    show("binary_counts", np.bincount(np.searchsorted(edges[1:-1], prob), minlength=15))


if __name__ == "__main__":
    multiplicity()
    bca()
    delong()
    calibration()
