"""scikit-learn reference for benchmarks/eval/probe.rs (not a test): the same deterministic features,
LogisticRegression(C, lbfgs, multinomial) fit time and test accuracy.

    python benchmarks/eval/probe_sklearn.py 5000 512 5 1.0 1000 [standardize]

`standardize`: `StandardScaler` fitted on the training features first (inside the timed part, as the
Rust side's `Standardizer`).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def data(start: int, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(start, start + n)
    y = (i * 7 + i // 3) % k
    fi = i.astype(np.float64)[:, None]
    j = np.arange(d, dtype=np.float64)[None, :]
    x = np.sin(y[:, None] * 2.1 + j * 0.7) * 0.03 + 1.5 * np.sin(
        fi * 0.61 + j * 0.29
    ) * np.cos(fi * 0.17 + j * 1.9)
    return x.astype(np.float32).astype(np.float64), y


def main() -> None:
    standardize = "standardize" in sys.argv[1:]
    a = [float(v) for v in sys.argv[1:] if v != "standardize"]
    n, d, k, c, iters = (
        (int(a[0]), int(a[1]), int(a[2]), a[3], int(a[4]))
        if len(a) == 5
        else (5000, 512, 5, 1.0, 1000)
    )
    xtr, ytr = data(0, n, d, k)
    xte, yte = data(n, n // 4, d, k)
    t0 = time.perf_counter()
    if standardize:
        scaler = StandardScaler().fit(xtr)
        xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    m = LogisticRegression(C=c, max_iter=iters, tol=1e-4).fit(xtr, ytr)
    secs = time.perf_counter() - t0
    print(
        f"sklearn lbfgs multinomial{' standardized' if standardize else ''} n={n} d={d} k={k} C={c} max_iter={iters}: fit {secs:.2f}s, "
        f"test accuracy {m.score(xte, yte):.4f}, iterations {int(m.n_iter_[0])}"
    )


if __name__ == "__main__":
    main()
