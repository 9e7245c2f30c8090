//! Retrieval benchmark (not a test): image→text and text→image ranks of N random L2-normalised
//! pairs (d = 512 by default) with the workbench's chunked implementation.
//!
//! Run (release, one process per size so `/usr/bin/time -v` reports its own peak memory):
//!   cargo build --release --example eval_retrieval_bench
//!   /usr/bin/time -v target/release/examples/eval_retrieval_bench 20000 512 > rust.json
//!   python benchmarks/eval/retrieval_numpy.py 20000 512 --check rust.json
//! The embeddings come from a seeded generator shared with the numpy script (see `embeddings`),
//! so both sides rank the very same vectors and the numpy script can compare the ranks.
use std::time::Instant;

use eclip_workbench::eval::retrieval;
use ndarray::Array2;

/// splitmix64 of a counter, mapped to [-1, 1): the same numbers in `retrieval_numpy.py`.
fn uniform(counter: u64) -> f64 {
    let mut z = counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// Deterministic embeddings both implementations can generate: image_ij = u(i·d + j), text =
/// image + 12·u(n·d + i·d + j) (cosine of a pair ≈ 0.08, so ranks are not trivial); rows L2-normalised (in f32).
fn embeddings(n: usize, d: usize, text: bool) -> Array2<f32> {
    let mut a = Array2::<f32>::from_shape_fn((n, d), |(i, j)| {
        let k = (i * d + j) as u64;
        let noise = if text {
            12.0 * uniform((n * d) as u64 + k)
        } else {
            0.0
        };
        (uniform(k) + noise) as f32
    });
    for mut r in a.rows_mut() {
        let norm = r.iter().map(|v| v * v).sum::<f32>().sqrt();
        r.mapv_inplace(|v| v / norm);
    }
    a
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let d: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(512);
    let image = embeddings(n, d, false);
    let text = embeddings(n, d, true);
    let chunk = retrieval::default_chunk(n);
    let t0 = Instant::now();
    let ranks = retrieval::paired_ranks(image.view(), text.view(), chunk);
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "n={n} d={d} chunk={chunk} threads={} ranks both directions: {secs:.2}s; i2t R@1 {:.4}, t2i R@1 {:.4}",
        rayon::current_num_threads(),
        retrieval::recall_at(&ranks.i2t, 1, None),
        retrieval::recall_at(&ranks.t2i, 1, None)
    );
    println!(
        "{}",
        serde_json::json!({"n": n, "d": d, "seconds": secs, "i2t": ranks.i2t, "t2i": ranks.t2i})
    );
}
