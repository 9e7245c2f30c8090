"""numpy reference for benchmarks/eval/retrieval.rs (not a test).

Builds the same deterministic embeddings, computes the full N x N similarity matrix with one float32
matmul (BLAS) and the open_clip ranks in both directions, and reports the time. With --check it
compares its ranks with the Rust run's JSON.

    /usr/bin/time -v python benchmarks/eval/retrieval_numpy.py 20000 512 [--check rust.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def uniform(counter: np.ndarray) -> np.ndarray:
    """splitmix64 of a counter mapped to [-1, 1): the same numbers as retrieval.rs."""
    with np.errstate(over="ignore"):
        z = counter.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0


def embeddings(n: int, d: int, text: bool) -> np.ndarray:
    k = np.arange(n * d, dtype=np.uint64).reshape(n, d)
    a = uniform(k)
    if text:
        a = a + 12.0 * uniform(np.uint64(n * d) + k)
    a = a.astype(np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def ranks(sim: np.ndarray) -> np.ndarray:
    diag = np.diag(sim)[:, None]
    n = sim.shape[0]
    greater = (sim > diag).sum(1)
    equal_before = np.array([(sim[k, :k] == diag[k, 0]).sum() for k in range(n)])
    return greater + equal_before


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("n", type=int)
    p.add_argument("d", type=int)
    p.add_argument("--check")
    a = p.parse_args()
    x, y = embeddings(a.n, a.d, False), embeddings(a.n, a.d, True)
    t0 = time.perf_counter()
    s = x @ y.T
    i2t = ranks(s)
    t2i = ranks(s.T)
    secs = time.perf_counter() - t0
    print(
        f"numpy n={a.n} d={a.d}: {secs:.2f}s; i2t R@1 {np.mean(i2t < 1):.4f}, t2i R@1 {np.mean(t2i < 1):.4f}"
    )
    if a.check:
        with open(a.check) as f:
            r = json.load(f)
        di = int(np.sum(np.array(r["i2t"]) != i2t))
        dt = int(np.sum(np.array(r["t2i"]) != t2i))
        print(
            f"rank mismatches vs Rust: i2t {di}, t2i {dt} (float32 rounding of near-ties may differ)"
        )


if __name__ == "__main__":
    main()
