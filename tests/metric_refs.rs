//! Every metric against independent reference values.
//!
//! The expected values in `tests/data/metric_refs/*.json` were computed by
//! `onnx-export/scripts/make_metric_refs.py` with numpy 2.4 / scikit-learn 1.9 / scipy 1.17 (each file's
//! `how` field names the exact functions) from seeded random inputs stored in the same file. Nothing
//! in those files comes from this crate. Regenerate with
//! `/work/main/.venv/bin/python onnx-export/scripts/make_metric_refs.py`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
use std::path::PathBuf;

use eclip_workbench::eval::probe::{self, FitSettings, MultinomialProbe};
use eclip_workbench::eval::{classify, geometry, retrieval, stats, zeroshot};
use ndarray::Array2;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/data/metric_refs/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect()
}

fn matrix(v: &Value) -> Array2<f32> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(floats).collect();
    let cols = rows.first().map_or(0, Vec::len);
    Array2::from_shape_fn((rows.len(), cols), |(i, j)| rows[i][j] as f32)
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

#[test]
fn classification_matches_sklearn() {
    let r = load("classification");
    let (t, p) = (usizes(&r["y_true"]), usizes(&r["y_pred"]));
    let k = r["n_classes"].as_u64().unwrap() as usize;
    close(
        classify::accuracy(&t, &p, None),
        f(&r["accuracy"]),
        1e-12,
        "accuracy",
    );
    close(
        classify::balanced_accuracy(&t, &p, k, None),
        f(&r["balanced_accuracy"]),
        1e-12,
        "balanced",
    );
    close(
        classify::macro_f1(&t, &p, k, None),
        f(&r["macro_f1"]),
        1e-12,
        "macro_f1",
    );
    let per = classify::per_class_f1(&t, &p, k, None);
    for (c, want) in r["per_class_f1"].as_array().unwrap().iter().enumerate() {
        match want.as_f64() {
            Some(w) => close(per[c].unwrap(), w, 1e-12, &format!("f1 class {c}")),
            None => assert_eq!(
                per[c], None,
                "class {c} is undefined (neither true nor predicted)"
            ),
        }
    }
    for (i, case) in r["auroc_cases"].as_array().unwrap().iter().enumerate() {
        let got = classify::auroc(&bools(&case["y"]), &floats(&case["scores"]), None);
        match case["auroc"].as_f64() {
            Some(w) => close(got.unwrap(), w, 1e-12, &format!("auroc case {i}")),
            None => assert_eq!(got, None, "no positives: undefined, not NaN"),
        }
    }
}

#[test]
fn zeroshot_matches_numpy() {
    let r = load("zeroshot");
    let images = matrix(&r["images"]);
    let want_emb = matrix(&r["class_embeddings"]);
    let mut classes = Vec::new();
    for (c, p) in r["prompts"].as_array().unwrap().iter().enumerate() {
        let e = zeroshot::class_embedding(matrix(p).view()).unwrap();
        for (a, b) in e.iter().zip(want_emb.row(c)) {
            close(f64::from(*a), f64::from(*b), 1e-6, "class embedding");
        }
        classes.push(e);
    }
    let stacked = zeroshot::stack(&classes, images.ncols());
    let pred =
        zeroshot::argmax_predictions(zeroshot::class_scores(images.view(), stacked.view()).view());
    assert_eq!(pred, usizes(&r["argmax"]));
    for (c, neg) in r["negatives"].as_array().unwrap().iter().enumerate() {
        let n = zeroshot::class_embedding(matrix(neg).view()).unwrap();
        let got = zeroshot::posneg_probabilities(images.view(), &classes[c], &n);
        for (g, w) in got.iter().zip(floats(&r["posneg"][c])) {
            close(*g, w, 1e-6, "posneg probability");
        }
    }
}

#[test]
fn retrieval_matches_numpy_with_ties_and_duplicates() {
    let r = load("retrieval");
    let (x, y) = (matrix(&r["image"]), matrix(&r["text"]));
    for chunk in [1, 7, 64] {
        let ranks = retrieval::paired_ranks(x.view(), y.view(), chunk);
        assert_eq!(ranks.i2t, usizes(&r["i2t"]), "i2t chunk {chunk}");
        assert_eq!(ranks.t2i, usizes(&r["t2i"]), "t2i chunk {chunk}");
    }
    let reports: Vec<String> = r["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let g = retrieval::unique_gallery(&reports);
    let uniq = retrieval::gallery_ranks(x.view(), y.view(), &g, 16);
    assert_eq!(uniq, usizes(&r["i2t_unique"]));
    let ranks = retrieval::paired_ranks(x.view(), y.view(), 16);
    for (name, rk) in [
        ("summary_i2t", &ranks.i2t),
        ("summary_t2i", &ranks.t2i),
        ("summary_i2t_unique", &uniq),
    ] {
        let s = &r[name];
        close(retrieval::recall_at(rk, 1, None), f(&s["r@1"]), 1e-12, name);
        close(retrieval::recall_at(rk, 5, None), f(&s["r@5"]), 1e-12, name);
        close(
            retrieval::recall_at(rk, 10, None),
            f(&s["r@10"]),
            1e-12,
            name,
        );
        close(
            retrieval::median_rank(rk, None),
            f(&s["median_rank"]),
            1e-12,
            name,
        );
        close(retrieval::mrr(rk, None), f(&s["mrr"]), 1e-12, name);
    }
}

#[test]
fn geometry_matches_numpy_scipy_sklearn() {
    let r = load("geometry");
    let (x, y) = (matrix(&r["image"]), matrix(&r["text"]));
    let (xv, yv) = (x.view(), y.view());
    close(
        geometry::modality_gap(xv, yv),
        f(&r["modality_gap"]),
        1e-9,
        "gap",
    );
    close(
        geometry::alignment(xv, yv, None),
        f(&r["alignment"]),
        1e-9,
        "alignment",
    );
    for (u, key) in [(xv, "uniformity_image"), (yv, "uniformity_text")] {
        let exact = geometry::uniformity(u, 5000, 0);
        assert!(!exact.subsampled);
        close(exact.value, f(&r[key]), 1e-9, key);
        // The resample-aware kernel form agrees on the full sample.
        close(
            geometry::uniformity_of(&geometry::uniformity_kernel(u), None),
            f(&r[key]),
            1e-6,
            key,
        );
    }
    close(geometry::cone(xv), f(&r["cone_image"]), 1e-9, "cone image");
    close(geometry::cone(yv), f(&r["cone_text"]), 1e-9, "cone text");
    close(
        geometry::mean_cos_matched(xv, yv, None),
        f(&r["mean_cos_matched"]),
        1e-9,
        "matched",
    );
    close(
        geometry::mean_cos_unmatched(xv, yv),
        f(&r["mean_cos_unmatched"]),
        1e-9,
        "unmatched",
    );
    let h = geometry::cosine_histograms(xv, yv, 20, usize::MAX, 0);
    assert_eq!(
        h.matched.counts,
        usizes(&r["hist_matched"])
            .iter()
            .map(|&c| c as u64)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        h.unmatched.counts,
        usizes(&r["hist_unmatched"])
            .iter()
            .map(|&c| c as u64)
            .collect::<Vec<_>>()
    );
    let groups: Vec<Vec<usize>> = r["groups"].as_array().unwrap().iter().map(usizes).collect();
    for (u, key) in [(xv, "group_cosine_image"), (yv, "group_cosine_text")] {
        let got = geometry::group_cosine_matrix(u, &groups);
        for (a, row) in r[key].as_array().unwrap().iter().enumerate() {
            for (b, want) in floats(row).iter().enumerate() {
                close(got[a][b].unwrap(), *want, 1e-9, key);
            }
        }
    }
    let pca = geometry::pca2(xv, yv).unwrap();
    let ev = floats(&r["pca_explained"]);
    close(pca.explained[0], ev[0], 1e-9, "explained 0");
    close(pca.explained[1], ev[1], 1e-9, "explained 1");
    let n = x.nrows();
    let got = [pca.image[0], pca.image[1], pca.text[0], pca.text[1]];
    for (k, want) in r["pca_points"].as_array().unwrap().iter().enumerate() {
        let w = floats(want);
        close(got[k][0], w[0], 1e-6, &format!("pca point {k} (n = {n})"));
        close(got[k][1], w[1], 1e-6, &format!("pca point {k}"));
    }
    let dir = geometry::gap_direction(xv, yv);
    let lam = f(&r["shift_lambda"]);
    close(
        geometry::shifted_gap_of(xv, yv, dir.view(), lam, None),
        f(&r["shifted_gap"]),
        1e-7,
        "shifted gap",
    );
    let xs = geometry::shift_along(xv, dir.view(), lam, -1.0);
    let ys = geometry::shift_along(yv, dir.view(), lam, 1.0);
    close(
        geometry::modality_gap(xs.view(), ys.view()),
        f(&r["shifted_gap"]),
        1e-6,
        "shift_along gap",
    );
}

#[test]
fn probes_match_sklearn_lbfgs() {
    let r = load("probe");
    let (xtr, xte) = (matrix(&r["x_train"]), matrix(&r["x_test"]));
    let (ytr, yte) = (usizes(&r["y_train"]), usizes(&r["y_test"]));
    let alpha = f(&r["alpha"]);
    let tight = FitSettings {
        max_iterations: 2000,
        gradient_tolerance: 1e-9,
    };
    let all: Vec<usize> = (0..ytr.len()).collect();
    let m = MultinomialProbe::fit(xtr.view(), &ytr, &all, alpha, tight).unwrap();
    let pred = m.predict(xte.view());
    assert_eq!(pred, usizes(&r["multinomial_pred"]));
    // At the solution that reproduces scikit-learn's predictions the gradient that the
    // convergence check computes (eval::probe::FitCheck) is ~0: the stopping rule's 1e-9 · n.
    let g = m.gradient_norm(xtr.view(), &ytr, &all, alpha);
    assert!(g < 1e-5, "gradient norm {g} at the optimum");
    close(
        classify::accuracy(&yte, &pred, None),
        f(&r["multinomial_accuracy"]),
        1e-12,
        "probe accuracy",
    );
    let yb: Vec<bool> = ytr.iter().map(|&c| c == 0).collect();
    let p = probe::binary_scores(xtr.view(), &yb, &all, xte.view(), alpha, tight).unwrap();
    for (g, w) in p.iter().zip(floats(&r["binary_proba"])) {
        close(*g, w, 1e-4, "binary probability");
    }
    let (a, b) = (floats(&r["ttest_a"]), floats(&r["ttest_b"]));
    let (mean, lo, hi, pv) = probe::paired_t_test(&a, &b, 0.95).unwrap();
    close(mean, f(&r["ttest_mean"]), 1e-12, "t mean");
    close(pv, f(&r["ttest_p"]), 1e-9, "t p");
    let ci = floats(&r["ttest_ci"]);
    close(lo, ci[0], 1e-9, "t ci low");
    close(hi, ci[1], 1e-9, "t ci high");
}

/// `[eval] probe_standardize`: the training subset's statistics as scikit-learn's `StandardScaler`,
/// the scaled test features, and the probe fitted on the scaled subset predicting as scikit-learn's
/// lbfgs does (`probe_standardized.json`, written by `make_metric_refs.py probe_standardized`).
#[test]
fn standardised_probe_matches_sklearn_standard_scaler() {
    let r = load("probe_standardized");
    let (xtr, xte) = (matrix(&r["x_train"]), matrix(&r["x_test"]));
    let (ytr, yte) = (usizes(&r["y_train"]), usizes(&r["y_test"]));
    let subset = usizes(&r["subset"]);
    let s = probe::Standardizer::fit(xtr.view(), &subset);
    for (g, w) in s.mean().iter().zip(floats(&r["mean"])) {
        close(*g, w, 1e-9 * w.abs().max(1.0), "mean");
    }
    for (g, w) in s.scale().iter().zip(floats(&r["scale"])) {
        close(*g, w, 1e-9 * w.abs().max(1.0), "scale");
    }
    let (ztr, zte) = (s.apply(xtr.view()), s.apply(xte.view()));
    for (i, row) in r["z_test_first_rows"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (j, w) in floats(row).into_iter().enumerate() {
            close(f64::from(zte[[i, j]]), w, 1e-5, "standardised test feature");
        }
    }
    let tight = FitSettings {
        max_iterations: 2000,
        gradient_tolerance: 1e-9,
    };
    let alpha = f(&r["alpha"]);
    let m = MultinomialProbe::fit(ztr.view(), &ytr, &subset, alpha, tight).unwrap();
    let pred = m.predict(zte.view());
    assert_eq!(pred, usizes(&r["pred"]));
    close(
        classify::accuracy(&yte, &pred, None),
        f(&r["accuracy"]),
        1e-12,
        "accuracy",
    );
}

#[test]
fn bootstrap_pieces_match_numpy() {
    let r = load("stats");
    let mut v = floats(&r["values"]);
    v.sort_by(f64::total_cmp);
    for (q, want) in r["quantiles"].as_object().unwrap() {
        let q: f64 = q.parse().unwrap();
        close(
            stats::quantile_sorted(&v, q),
            f(want),
            1e-12,
            &format!("quantile {q}"),
        );
    }
    close(stats::mean_sd(&v).1, f(&r["sd"]), 1e-12, "sd");
    close(
        stats::two_sided_p(&floats(&r["deltas"])),
        f(&r["p_value"]),
        1e-12,
        "bootstrap p",
    );
}
