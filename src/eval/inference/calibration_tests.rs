//! Tests of `calibration.rs`. Reference values: `PYTHONPATH=$PWD/onnx-export/src .venv/bin/python
//! onnx-export/scripts/make_inference_refs.py`, function `calibration()` (scipy 1.17.1
//! `special.softmax`, sklearn 1.9.1 `brier_score_loss(..., scale_by_half=False)` and
//! `calibration_curve(..., n_bins=15, strategy="uniform")`).
use ndarray::array;

use super::*;

fn cos() -> Array2<f64> {
    array![
        [0.31, 0.22, 0.10],
        [0.05, 0.12, 0.30],
        [0.20, 0.21, 0.19],
        [0.40, 0.10, 0.05],
        [0.15, 0.35, 0.16],
        [0.22, 0.20, 0.24],
        [0.10, 0.11, 0.40],
        [0.33, 0.30, 0.02],
    ]
}
const Y: [usize; 8] = [0, 2, 1, 0, 0, 2, 2, 1];
const SCALE: f64 = 14.28;

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() < tol, "{a} vs {b}");
}

#[test]
fn softmax_brier_and_ece_match_sklearn() {
    let p = softmax_scaled(cos().view(), SCALE).unwrap();
    // softmax_row0
    close(p[[0, 0]], 0.7538964528875007, 1e-15);
    close(p[[0, 1]], 0.20852418468170353, 1e-15);
    close(p[[0, 2]], 0.03757936243079573, 1e-15);
    let items = CalibrationItems::new(p.view(), &Y).unwrap();
    let all = items.all();
    close(items.brier(&all), 0.45131710413373094, 1e-14);
    close(items.ece(&all, ECE_BINS), 0.3597098286165418, 1e-14);
    // f32 similarities work too (embeddings are f32).
    let p32 = softmax_scaled(cos().mapv(|v| v as f32).view(), SCALE).unwrap();
    close(p32[[0, 0]], p[[0, 0]], 1e-6);
}

#[test]
fn binary_reliability_matches_calibration_curve() {
    // binary_prob: values exactly on numpy's edges (linspace(0, 1, 16)[1], [3], [5], [9]).
    let prob = [
        0.0,
        0.06666666666666667,
        0.2,
        0.21,
        0.3333333333333333,
        0.5,
        0.55,
        0.6,
        0.7,
        0.93,
        1.0,
        0.99,
    ];
    let y = [0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0].map(|v| v == 1);
    let frac_pos = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.5];
    let mean_pred = [
        0.03333333333333333,
        0.2,
        0.21,
        0.3333333333333333,
        0.5,
        0.575,
        0.7,
        0.93,
        0.995,
    ];
    let counts = [2, 0, 1, 1, 1, 0, 0, 1, 2, 0, 1, 0, 0, 1, 2];
    let bins = reliability_bins(&prob, &y, 15).unwrap();
    assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), counts);
    let nonempty: Vec<&ReliabilityBin> = bins.iter().filter(|b| b.count > 0).collect();
    assert_eq!(nonempty.len(), frac_pos.len());
    for (b, (f, m)) in nonempty.iter().zip(frac_pos.iter().zip(mean_pred)) {
        close(b.accuracy.unwrap(), *f, 1e-15);
        close(b.mean_confidence.unwrap(), m, 1e-15);
    }
    assert!(bins[1].mean_confidence.is_none());
    assert_eq!((bins[0].lower, bins[14].upper), (0.0, 1.0));
}

#[test]
fn perfect_calibration_has_zero_ece() {
    // Confidence 0.75 on 4 items of which 3 are right: one bin, |0.75 - 0.75| = 0.
    let p = array![[0.75, 0.25], [0.75, 0.25], [0.75, 0.25], [0.75, 0.25]];
    let items = CalibrationItems::new(p.view(), &[0, 0, 0, 1]).unwrap();
    close(items.ece(&items.all(), ECE_BINS), 0.0, 1e-15);
    // Brier by hand: 3 × (0.0625 × 2) + (0.5625 × 2) = 1.5, / 4 = 0.375.
    close(items.brier(&items.all()), 0.375, 1e-15);
    // Bootstrappable: a resample with repeats.
    close(items.brier(&[3, 3]), 1.125, 1e-15);
}

#[test]
fn invalid_inputs_are_errors() {
    let p = array![[0.5, 0.5]];
    assert!(matches!(
        CalibrationItems::new(p.view(), &[2]),
        Err(InferenceError::LabelOutOfRange { label: 2, .. })
    ));
    assert!(matches!(
        CalibrationItems::new(array![[1.5, 0.5]].view(), &[0]),
        Err(InferenceError::InvalidParameter { .. })
    ));
    assert!(matches!(
        softmax_scaled(cos().view(), 0.0),
        Err(InferenceError::InvalidParameter { .. })
    ));
    assert!(matches!(
        softmax_scaled(array![[0.1, f64::NAN]].view(), 1.0),
        Err(InferenceError::NonFinite { index: 1, .. })
    ));
    assert!(reliability_bins(&[0.5], &[true], 0).is_err());
    assert!(reliability_bins(&[0.5], &[], 15).is_err());
}
