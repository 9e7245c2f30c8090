//! Linear-probe fit benchmark (not a test): multinomial logistic regression with linfa-logistic
//! (L-BFGS) on deterministic features, the same problem `probe_sklearn.py` gives scikit-learn.
//!
//!   cargo build --release --example eval_probe_bench
//!   target/release/examples/eval_probe_bench 5000 512 5 1.0 1000 [standardize] [iterations]
//!   python benchmarks/eval/probe_sklearn.py 5000 512 5 1.0 1000 [standardize]
//! Arguments: n_train d classes C max_iter, then `standardize` to z-score the features with the
//! training set's statistics first (`[eval] probe_standardize`). α = 1/C; test set = n_train/4
//! further items. With `iterations` it also reports the iterations L-BFGS needed: the smallest
//! iteration cap whose fit meets the stopping rule (found by bisection after the timed fit; the
//! solver is deterministic and stops at the first iterate that meets it).
use std::time::Instant;

use eclip_workbench::eval::classify;
use eclip_workbench::eval::probe::{FitSettings, MultinomialProbe, Standardizer};
use ndarray::Array2;

/// Class of item i and its features: centre_c,j = 0.03·sin(c·2.1 + j·0.7), noise_ij = 1.5·sin(i·0.61 + j·0.29)·cos(i·0.17 + j·1.9).
fn data(start: usize, n: usize, d: usize, k: usize) -> (Array2<f32>, Vec<usize>) {
    let y: Vec<usize> = (start..start + n).map(|i| (i * 7 + i / 3) % k).collect();
    let x = Array2::<f32>::from_shape_fn((n, d), |(r, j)| {
        let i = (start + r) as f64;
        let c = y[r] as f64;
        let jf = j as f64;
        ((c * 2.1 + jf * 0.7).sin() * 0.03
            + 1.5 * (i * 0.61 + jf * 0.29).sin() * (i * 0.17 + jf * 1.9).cos()) as f32
    });
    (x, y)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let standardize = args.iter().any(|s| s == "standardize");
    let count = args.iter().any(|s| s == "iterations");
    let a: Vec<f64> = args.iter().filter_map(|s| s.parse().ok()).collect();
    let get = |i: usize, d: f64| a.get(i).copied().unwrap_or(d);
    let (n, d, k, c, iters) = (
        get(0, 5000.0) as usize,
        get(1, 512.0) as usize,
        get(2, 5.0) as usize,
        get(3, 1.0),
        get(4, 1000.0) as u64,
    );
    let (mut xtr, ytr) = data(0, n, d, k);
    let (mut xte, yte) = data(n, n / 4, d, k);
    let all: Vec<usize> = (0..n).collect();
    let t0 = Instant::now();
    if standardize {
        let s = Standardizer::fit(xtr.view(), &all);
        (xtr, xte) = (s.apply(xtr.view()), s.apply(xte.view()));
    }
    let fit = |max_iterations: u64| {
        let s = FitSettings {
            max_iterations,
            gradient_tolerance: 1e-4,
        };
        MultinomialProbe::fit(xtr.view(), &ytr, &all, 1.0 / c, s)
    };
    let Some(probe) = fit(iters) else {
        eprintln!("fit failed");
        std::process::exit(1);
    };
    let secs = t0.elapsed().as_secs_f64();
    let acc = classify::accuracy(&yte, &probe.predict(xte.view()), None);
    let tolerance = 1e-4 * n as f64;
    let converged =
        |p: &MultinomialProbe| p.gradient_norm(xtr.view(), &ytr, &all, 1.0 / c) <= tolerance;
    let iterations = if !count {
        "not counted".to_string()
    } else if converged(&probe) {
        let (mut lo, mut hi) = (0u64, iters); // fit(lo) has not converged, fit(hi) has
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fit(mid).as_ref().is_some_and(converged) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi.to_string()
    } else {
        format!("{iters} (not converged)")
    };
    let scaled = if standardize { " standardized" } else { "" };
    println!(
        "linfa-logistic multinomial{scaled} n={n} d={d} k={k} C={c} max_iter={iters}: fit {secs:.2}s, test accuracy {acc:.4}, iterations {iterations}"
    );
}
