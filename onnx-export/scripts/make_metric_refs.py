"""Write independent reference values for the Rust metric tests (tests/metric_refs.rs).

Every expected value here comes from numpy / scikit-learn / scipy, never from the Rust code. Inputs
are seeded random arrays written into the same JSON files, so the Rust test recomputes each metric
from identical inputs. Run from the repository root:

    /work/main/.venv/bin/python onnx-export/scripts/make_metric_refs.py

    /work/main/.venv/bin/python onnx-export/scripts/make_metric_refs.py probe_standardized  # one file

Outputs: tests/data/metric_refs/{classification,zeroshot,retrieval,geometry,probe,stats,
probe_standardized}.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.spatial.distance import pdist
from scipy.special import softmax
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "metric_refs"


def normalize(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def f32(a: np.ndarray) -> list:
    """float32-exact values as Python floats (the Rust side reads them as f32)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def classification(rng: np.random.Generator) -> dict:
    k = 6
    y_true = rng.integers(0, 5, 200)  # class 5 never occurs in the truth...
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 5, 200))
    y_pred[:3] = 4  # ...nor in the predictions (undefined F1); class 4 gets extra false positives
    present = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    per = f1_score(y_true, y_pred, labels=present, average=None)
    f1 = [None] * k
    for c, v in zip(present, per, strict=True):
        f1[c] = float(v)
    auroc_cases = []
    for n, ties in [(150, False), (150, True), (40, True)]:
        y = rng.random(n) < 0.3
        s = rng.normal(size=n) + 0.8 * y
        if ties:
            s = np.round(s, 1)
        auroc_cases.append({"y": y.tolist(), "scores": s.tolist(), "auroc": float(roc_auc_score(y, s))})
    # No positives: roc_auc_score raises ValueError; the workbench reports "undefined".
    auroc_cases.append({"y": [False] * 5, "scores": [0.1, 0.2, 0.3, 0.4, 0.5], "auroc": None})
    return {
        "how": "sklearn.metrics accuracy_score, balanced_accuracy_score, f1_score (labels = classes in "
        "truth or predictions; null = class neither true nor predicted), roc_auc_score",
        "n_classes": k,
        "y_true": y_true.tolist(),
        "y_pred": y_pred.tolist(),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
        "per_class_f1": f1,
        "auroc_cases": auroc_cases,
    }


def zeroshot(rng: np.random.Generator) -> dict:
    d, classes = 8, 3
    prompts = [
        (rng.normal(size=(int(rng.integers(1, 4)), d)) * rng.uniform(0.5, 3.0))
        .astype(np.float32)
        .astype(np.float64)
        for _ in range(classes)
    ]
    negatives = [rng.normal(size=(2, d)).astype(np.float32).astype(np.float64) for _ in range(classes)]
    emb = normalize(np.stack([normalize(p).mean(0) for p in prompts]))
    neg = normalize(np.stack([normalize(p).mean(0) for p in negatives]))
    images = normalize(rng.normal(size=(40, d))).astype(np.float32)
    images64 = images.astype(np.float64)
    scores = images64 @ emb.T
    posneg = [
        softmax(np.stack([images64 @ emb[c], images64 @ neg[c]], axis=1), axis=1)[:, 0]
        for c in range(classes)
    ]
    return {
        "how": "numpy: class embedding = normalize(mean(normalize(prompts))); argmax of cosines; "
        "scipy.special.softmax over (cos_pos, cos_neg) for posneg",
        "prompts": [f32(p) for p in prompts],
        "negatives": [f32(p) for p in negatives],
        "images": f32(images),
        "class_embeddings": emb.tolist(),
        "argmax": scores.argmax(1).tolist(),
        "posneg": [p.tolist() for p in posneg],
    }


def retrieval(rng: np.random.Generator) -> dict:
    # Small integer coordinates: every dot product is exact in float32, so ties are exact on both sides.
    n, d = 60, 6
    x = rng.integers(-2, 3, size=(n, d)).astype(np.float64)
    y = x + rng.integers(-1, 2, size=(n, d))
    y[10] = y[3]  # duplicate report embedding
    x[20] = x[21]  # duplicate image embedding
    reports = [f"report {i % 45}" for i in range(n)]  # exact duplicate strings
    s = x @ y.T

    def ranks(sim: np.ndarray) -> np.ndarray:
        diag = np.diag(sim)[:, None]
        idx = np.arange(sim.shape[0])
        earlier = idx[None, :] < idx[:, None]
        return (sim > diag).sum(1) + ((sim == diag) & earlier).sum(1)

    i2t, t2i = ranks(s), ranks(s.T)
    first = {}
    for i, r in enumerate(reports):
        first.setdefault(r, i)
    gallery = sorted(set(first.values()))
    target = [gallery.index(first[r]) for r in reports]
    g = x @ y[gallery].T
    gt = g[np.arange(n), target][:, None]
    earlier = np.arange(len(gallery))[None, :] < np.array(target)[:, None]
    uniq = (g > gt).sum(1) + ((g == gt) & earlier).sum(1)

    def summary(r: np.ndarray) -> dict:
        return {
            "r@1": float(np.mean(r < 1)),
            "r@5": float(np.mean(r < 5)),
            "r@10": float(np.mean(r < 10)),
            "median_rank": float(np.median(r + 1)),
            "mrr": float(np.mean(1.0 / (r + 1))),
        }

    return {
        "how": "numpy full similarity matrix; rank = #greater + #equal at a smaller index (open_clip); "
        "gallery = unique report strings (first occurrence), hit = own string",
        "image": x.tolist(),
        "text": y.tolist(),
        "reports": reports,
        "i2t": i2t.tolist(),
        "t2i": t2i.tolist(),
        "i2t_unique": uniq.tolist(),
        "summary_i2t": summary(i2t),
        "summary_t2i": summary(t2i),
        "summary_i2t_unique": summary(uniq),
    }


def geometry(rng: np.random.Generator) -> dict:
    n, d = 120, 8
    x = normalize(rng.normal(size=(n, d)) + 1.5 * np.eye(d)[0]).astype(np.float32).astype(np.float64)
    y = normalize(rng.normal(size=(n, d)) + 1.5 * np.eye(d)[1]).astype(np.float32).astype(np.float64)
    gap = x.mean(0) - y.mean(0)
    direction = gap / np.linalg.norm(gap)
    lam = 0.5
    xs = normalize(x - lam / 2 * direction)
    ys = normalize(y + lam / 2 * direction)
    sim = x @ y.T
    off = ~np.eye(n, dtype=bool)
    groups = [list(range(0, 30)), list(range(30, 70)), list(range(70, 120))]

    def group_matrix(u: np.ndarray) -> list:
        out = []
        for a in groups:
            row = []
            for b in groups:
                block = u[a] @ u[b].T
                if a == b:
                    block = block[~np.eye(len(a), dtype=bool)]
                row.append(float(block.mean()))
            out.append(row)
        return out

    def cone(u: np.ndarray) -> float:
        c = u @ u.T
        return float(c[np.triu_indices(n, 1)].mean())

    pca = PCA(n_components=2).fit(np.vstack([x, y]))
    proj = pca.transform(np.vstack([x, y]))
    counts_m, _ = np.histogram(np.diag(sim), bins=20, range=(-1, 1))
    counts_u, _ = np.histogram(sim[off], bins=20, range=(-1, 1))
    return {
        "how": "numpy means/norms; uniformity via scipy.spatial.distance.pdist(sqeuclidean); cone over i<j; "
        "np.histogram(bins=20, range=(-1, 1)); sklearn.decomposition.PCA(2) on stacked [x; y]",
        "image": x.tolist(),
        "text": y.tolist(),
        "modality_gap": float(np.linalg.norm(gap)),
        "alignment": float(np.mean(np.sum((x - y) ** 2, axis=1))),
        "uniformity_image": float(np.log(np.mean(np.exp(-2 * pdist(x, "sqeuclidean"))))),
        "uniformity_text": float(np.log(np.mean(np.exp(-2 * pdist(y, "sqeuclidean"))))),
        "cone_image": cone(x),
        "cone_text": cone(y),
        "mean_cos_matched": float(np.mean(np.diag(sim))),
        "mean_cos_unmatched": float(sim[off].mean()),
        "hist_matched": counts_m.tolist(),
        "hist_unmatched": counts_u.tolist(),
        "groups": groups,
        "group_cosine_image": group_matrix(x),
        "group_cosine_text": group_matrix(y),
        "pca_explained": pca.explained_variance_ratio_.tolist(),
        "pca_points": proj[[0, 1, n, n + 1]].tolist(),
        "shift_lambda": lam,
        "shifted_gap": float(np.linalg.norm(xs.mean(0) - ys.mean(0))),
    }


def probe(rng: np.random.Generator) -> dict:
    d, k = 6, 3
    centres = rng.normal(size=(k, d)) * 1.2
    y_tr = rng.integers(0, k, 150)
    y_te = rng.integers(0, k, 80)
    x_tr = (centres[y_tr] + rng.normal(size=(150, d))).astype(np.float32).astype(np.float64)
    x_te = (centres[y_te] + rng.normal(size=(80, d))).astype(np.float32).astype(np.float64)
    alpha = 0.5
    multi = LogisticRegression(C=1 / alpha, tol=1e-10, max_iter=10000).fit(x_tr, y_tr)
    yb = y_tr == 0
    binary = LogisticRegression(C=1 / alpha, tol=1e-10, max_iter=10000).fit(x_tr, yb)
    a = np.array([0.61, 0.64, 0.58, 0.66])
    b = np.array([0.65, 0.66, 0.63, 0.66])
    t = stats.ttest_rel(b, a)
    diff = b - a
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    return {
        "how": "sklearn LogisticRegression(C=1/alpha, lbfgs, tol=1e-10) multinomial and binary; "
        "scipy.stats.ttest_rel and t.ppf(0.975) interval",
        "alpha": alpha,
        "x_train": x_tr.tolist(),
        "y_train": y_tr.tolist(),
        "x_test": x_te.tolist(),
        "y_test": y_te.tolist(),
        "multinomial_pred": multi.predict(x_te).tolist(),
        "multinomial_accuracy": float(multi.score(x_te, y_te)),
        "binary_proba": binary.predict_proba(x_te)[:, 1].tolist(),
        "ttest_a": a.tolist(),
        "ttest_b": b.tolist(),
        "ttest_mean": float(diff.mean()),
        "ttest_p": float(t.pvalue),
        "ttest_ci": [float(diff.mean() - half), float(diff.mean() + half)],
    }


def probe_standardized(rng: np.random.Generator) -> dict:
    """`[eval] probe_standardize`: StandardScaler fitted on a training subset (rows `subset`), applied
    to the training and test features, then the multinomial lbfgs probe on the scaled subset. The
    features have very different scales and offsets per column, one column is constant."""
    d, k, n = 5, 3, 120
    centres = rng.normal(size=(k, d))
    y_tr = rng.integers(0, k, n)
    y_te = rng.integers(0, k, 60)
    scale = np.array([0.01, 1.0, 40.0, 3.0, 1.0])
    offset = np.array([5.0, -2.0, 100.0, 0.0, 0.0])

    def feats(y: np.ndarray) -> np.ndarray:
        x = (centres[y] + rng.normal(size=(len(y), d))) * scale + offset
        x[:, 4] = 0.25  # constant: StandardScaler keeps scale 1
        return x.astype(np.float32).astype(np.float64)

    x_tr, x_te = feats(y_tr), feats(y_te)
    subset = np.sort(rng.choice(n, 80, replace=False))
    scaler = StandardScaler().fit(x_tr[subset])
    alpha = 0.5
    model = LogisticRegression(C=1 / alpha, tol=1e-10, max_iter=10000).fit(
        scaler.transform(x_tr[subset]), y_tr[subset]
    )
    z_te = scaler.transform(x_te)
    return {
        "how": "sklearn StandardScaler().fit(x_train[subset]) (population sd, constant column scale 1), "
        "then LogisticRegression(C=1/alpha, lbfgs, tol=1e-10) multinomial on the scaled subset; "
        "predictions on scaler.transform(x_test)",
        "alpha": alpha,
        "x_train": x_tr.tolist(),
        "y_train": y_tr.tolist(),
        "subset": subset.tolist(),
        "x_test": x_te.tolist(),
        "y_test": y_te.tolist(),
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "z_test_first_rows": z_te[:3].tolist(),
        "pred": model.predict(z_te).tolist(),
        "accuracy": float(model.score(z_te, y_te)),
    }


def stats_refs(rng: np.random.Generator) -> dict:
    v = rng.normal(size=37)
    deltas = np.concatenate([rng.normal(0.02, 0.05, 200), [0.0, 0.0]])
    b = len(deltas)
    p = min(1.0, 2 * min((np.sum(deltas <= 0) + 1) / (b + 1), (np.sum(deltas >= 0) + 1) / (b + 1)))
    return {
        "how": "numpy.quantile(method='linear'); numpy.std(ddof=1); two-sided bootstrap p "
        "min(1, 2 min((#d<=0 + 1)/(B+1), (#d>=0 + 1)/(B+1)))",
        "values": v.tolist(),
        "quantiles": {str(q): float(np.quantile(v, q)) for q in (0.0, 0.025, 0.5, 0.975, 1.0)},
        "sd": float(np.std(v, ddof=1)),
        "deltas": deltas.tolist(),
        "p_value": float(p),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    builders = {
        "classification": classification,
        "zeroshot": zeroshot,
        "retrieval": retrieval,
        "geometry": geometry,
        "probe": probe,
        "stats": stats_refs,
        "probe_standardized": probe_standardized,
    }
    only = set(sys.argv[1:])
    for i, (name, build) in enumerate(builders.items()):
        if only and name not in only:
            continue
        data = build(np.random.default_rng(1000 + i))
        (OUT / f"{name}.json").write_text(json.dumps(data, separators=(",", ":")) + "\n")
        print(f"wrote {OUT / name}.json")


if __name__ == "__main__":
    main()
