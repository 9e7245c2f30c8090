//! Tests of `bca.rs`. Reference values: `PYTHONPATH=$PWD/onnx-export/src .venv/bin/python
//! onnx-export/scripts/make_inference_refs.py` (scipy 1.17.1), function `bca()`:
//! `scipy.stats.bootstrap(..., n_resamples=40, method="BCa", confidence_level=0.9,
//! rng=np.random.default_rng(0 | 1))`; its `bootstrap_distribution` is fed to `bca_interval`
//! together with the leave-one-out values, so both compute the interval from the same resamples.
use super::*;
use crate::eval::stats::{BootstrapConfig, paired_bootstrap};

const X: [f64; 12] = [0.1, 0.4, 0.2, 1.5, 0.3, 2.8, 0.05, 0.6, 0.9, 0.2, 4.1, 0.35];
const Y: [f64; 12] = [0.3, 0.5, 0.1, 2.0, 0.9, 2.5, 0.4, 0.7, 1.6, 0.2, 5.0, 0.3];

const ONE_SAMPLE_THETA_B: [f64; 40] = [
    1.095833333333333,
    0.4708333333333334,
    1.2166666666666666,
    0.8125,
    0.7041666666666667,
    1.4666666666666668,
    1.2791666666666668,
    0.9291666666666666,
    0.6416666666666666,
    1.1874999999999998,
    1.075,
    0.6208333333333332,
    1.1458333333333333,
    1.2083333333333333,
    0.6000000000000001,
    0.9708333333333331,
    0.8916666666666666,
    1.1583333333333332,
    0.4916666666666667,
    1.2249999999999999,
    1.0166666666666664,
    1.0125,
    0.9791666666666665,
    0.6708333333333333,
    0.8958333333333331,
    0.5499999999999999,
    1.2375,
    1.3458333333333332,
    0.7624999999999998,
    0.9791666666666666,
    0.6999999999999998,
    0.9833333333333333,
    0.4875,
    0.46666666666666673,
    0.8624999999999999,
    0.7375000000000002,
    1.5916666666666661,
    0.8874999999999998,
    0.8708333333333335,
    0.5916666666666666,
];
const ONE_SAMPLE_CI: [f64; 2] = [0.5198270713706545, 1.4893500253594532];

const PAIRED_THETA_B: [f64; 40] = [
    0.10416666666666652,
    0.375,
    0.15416666666666667,
    0.16666666666666674,
    0.33333333333333326,
    0.06666666666666665,
    0.2541666666666669,
    0.30833333333333346,
    0.22499999999999987,
    0.3999999999999999,
    0.40833333333333344,
    0.17500000000000004,
    0.2333333333333334,
    0.22916666666666674,
    0.21666666666666656,
    0.3041666666666668,
    0.22083333333333344,
    0.3916666666666666,
    0.22499999999999998,
    0.09583333333333333,
    0.34166666666666656,
    0.27500000000000013,
    0.2583333333333333,
    0.2333333333333334,
    0.37083333333333357,
    0.27500000000000013,
    0.216666666666667,
    0.3041666666666668,
    0.25,
    0.2333333333333334,
    0.3458333333333332,
    0.18749999999999967,
    0.06666666666666665,
    0.24166666666666675,
    0.35833333333333295,
    0.35416666666666674,
    0.17500000000000016,
    0.29999999999999993,
    0.09583333333333355,
    0.3583333333333334,
];
const PAIRED_CI: [f64; 2] = [0.09583333333333349, 0.39711426168690517];

fn mean_of(data: &[f64]) -> impl Fn(&[usize]) -> f64 + Sync + '_ {
    move |idx: &[usize]| idx.iter().map(|&i| data[i]).sum::<f64>() / idx.len() as f64
}

#[test]
fn one_sample_matches_scipy_bca() {
    let jack = jackknife(X.len(), mean_of(&X));
    // one_sample_jack[0] = 1.0363636363636364 (numpy mean of np.delete(X, 0)).
    assert!((jack[0] - 1.036_363_636_363_636_4).abs() < 1e-14);
    let est = mean_of(&X)(&(0..12).collect::<Vec<_>>());
    let ci = bca_interval(est, &ONE_SAMPLE_THETA_B, &jack, 0.9).unwrap();
    assert_eq!(ci.method, IntervalMethod::Bca);
    assert!(!ci.widened);
    assert!((ci.low - ONE_SAMPLE_CI[0]).abs() < 1e-10, "{}", ci.low);
    assert!((ci.high - ONE_SAMPLE_CI[1]).abs() < 1e-10, "{}", ci.high);
    assert!(
        ci.acceleration > 0.0,
        "right-skewed data accelerate upwards"
    );
}

#[test]
fn paired_matches_scipy_bca() {
    let delta = |idx: &[usize]| mean_of(&Y)(idx) - mean_of(&X)(idx);
    let jack = jackknife(12, delta);
    // paired_jack[0] = 0.2545454545454544.
    assert!((jack[0] - 0.254_545_454_545_454_4).abs() < 1e-14);
    let est = delta(&(0..12).collect::<Vec<_>>());
    let ci = bca_interval(est, &PAIRED_THETA_B, &jack, 0.9).unwrap();
    assert_eq!(ci.method, IntervalMethod::Bca);
    assert!((ci.low - PAIRED_CI[0]).abs() < 1e-10, "{}", ci.low);
    assert!((ci.high - PAIRED_CI[1]).abs() < 1e-10, "{}", ci.high);
}

#[test]
fn paired_bootstrap_shares_resamples_with_stats() {
    let cfg = BootstrapConfig {
        resamples: 300,
        ..BootstrapConfig::default()
    };
    let got = bca_paired_bootstrap(12, &cfg, mean_of(&X), mean_of(&Y)).unwrap();
    let old = paired_bootstrap(12, &cfg, mean_of(&X), mean_of(&Y));
    assert_eq!(got.p_value.p, old.p_value);
    assert_eq!(got.interval.estimate, old.value);
    assert_eq!(got.interval.resamples, 300);
    assert!(
        got.interval.low <= got.interval.estimate && got.interval.estimate <= got.interval.high
    );
    // Deterministic for a seed.
    assert_eq!(
        got,
        bca_paired_bootstrap(12, &cfg, mean_of(&X), mean_of(&Y)).unwrap()
    );
}

#[test]
fn estimate_beyond_every_resample_falls_back_and_is_contained() {
    // A biased statistic: every resample is below the estimate (z0 = -inf). Percentile interval
    // [0.1417-ish, 0.1572-ish] would exclude 0.1576: the fallback widens it to the estimate.
    let resamples: Vec<f64> = (0..100)
        .map(|i| 0.1417 + 0.0155 * i as f64 / 99.0)
        .collect();
    let ci = bca_interval(0.1576, &resamples, &[], 0.95).unwrap();
    assert_eq!(ci.method, IntervalMethod::Percentile);
    assert!(ci.widened);
    assert_eq!(ci.high, 0.1576);
    assert!(ci.low < 0.1576);
    // z0 finite but > 1.96: more than 97.5% of resamples below the estimate; BC keeps a bound
    // beyond the estimate only after widening.
    let mut skew: Vec<f64> = (0..1000).map(|i| i as f64).collect();
    skew[999] = 2000.0;
    let ci = bca_interval(998.5, &skew, &[], 0.95).unwrap();
    assert_eq!(ci.method, IntervalMethod::BiasCorrected);
    assert!(ci.low <= 998.5 && 998.5 <= ci.high);
}

#[test]
fn degenerate_inputs() {
    // All resamples equal to the estimate, jackknife all equal: BC (a undefined), [c, c].
    let ci = bca_interval(0.5, &[0.5; 20], &[0.5; 10], 0.95).unwrap();
    assert_eq!(ci.method, IntervalMethod::BiasCorrected);
    assert_eq!((ci.low, ci.high, ci.z0), (0.5, 0.5, 0.0));
    assert!(!ci.widened);
    // Non-finite jackknife values (e.g. an AUROC without positives when one is left out): BC.
    assert_eq!(acceleration(&[0.1, f64::NAN, 0.3]), None);
    // Non-finite resamples are left out; none left is an error, as is a NaN estimate.
    let ci = bca_interval(1.0, &[f64::NAN, 0.5, 1.5], &[], 0.9).unwrap();
    assert_eq!(ci.resamples, 2);
    assert!(matches!(
        bca_interval(1.0, &[f64::NAN], &[], 0.9),
        Err(InferenceError::TooFew { .. })
    ));
    assert!(matches!(
        bca_interval(f64::NAN, &[1.0], &[], 0.9),
        Err(InferenceError::NonFinite { .. })
    ));
    assert!(matches!(
        bca_interval(1.0, &[1.0], &[], 1.0),
        Err(InferenceError::InvalidParameter { .. })
    ));
}

#[test]
fn one_sample_bootstrap_contains_estimate_and_is_seeded() {
    let cfg = BootstrapConfig::default();
    let a = bca_bootstrap(X.len(), &cfg, mean_of(&X)).unwrap();
    assert_eq!(a, bca_bootstrap(X.len(), &cfg, mean_of(&X)).unwrap());
    assert!(a.low < a.estimate && a.estimate < a.high);
    assert_eq!(a.method, IntervalMethod::Bca);
}
