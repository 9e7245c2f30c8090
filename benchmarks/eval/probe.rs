//! Linear-probe fit benchmark (not a test): multinomial logistic regression with linfa-logistic
//! (L-BFGS) on deterministic features, the same problem `probe_sklearn.py` gives scikit-learn.
//!
//!   cargo build --release --example eval_probe_bench
//!   target/release/examples/eval_probe_bench 5000 512 5 1.0 100
//!   python benchmarks/eval/probe_sklearn.py 5000 512 5 1.0 100
//! Arguments: n_train d classes C max_iter. α = 1/C; test set = n_train/4 further items.
use std::time::Instant;

use eclip_workbench::eval::classify;
use eclip_workbench::eval::probe::{FitSettings, MultinomialProbe};
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
    let a: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let get = |i: usize, d: f64| a.get(i).copied().unwrap_or(d);
    let (n, d, k, c, iters) = (
        get(0, 5000.0) as usize,
        get(1, 512.0) as usize,
        get(2, 5.0) as usize,
        get(3, 1.0),
        get(4, 100.0) as u64,
    );
    let (xtr, ytr) = data(0, n, d, k);
    let (xte, yte) = data(n, n / 4, d, k);
    let all: Vec<usize> = (0..n).collect();
    let s = FitSettings {
        max_iterations: iters,
        gradient_tolerance: 1e-4,
    };
    let t0 = Instant::now();
    let Some(probe) = MultinomialProbe::fit(xtr.view(), &ytr, &all, 1.0 / c, s) else {
        eprintln!("fit failed");
        std::process::exit(1);
    };
    let secs = t0.elapsed().as_secs_f64();
    let acc = classify::accuracy(&yte, &probe.predict(xte.view()), None);
    println!(
        "linfa-logistic multinomial n={n} d={d} k={k} C={c} max_iter={iters}: fit {secs:.2}s, test accuracy {acc:.4}"
    );
}
