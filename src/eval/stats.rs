/*!
Uncertainty: seeded percentile bootstrap over evaluation items, and the paired bootstrap that compares
two models on the very same resampled items.

Every scalar metric in a report comes with a 95% interval from [`bootstrap`]; every model pair gets a
[`Delta`] from [`paired_bootstrap`]. Both are deterministic for a given [`BootstrapConfig::seed`],
whatever the number of threads: resample `b` draws its indices from its own generator seeded with
`(seed, b)`, so rayon's scheduling cannot change a number.

Definitions (recorded in every report):
- a resample is `n` item indices drawn uniformly with replacement from `0..n`;
- the interval is the percentile interval: the `(1 - confidence) / 2` and `(1 + confidence) / 2`
  quantiles of the resampled statistic, with numpy's default linear interpolation;
- resamples where the statistic is not finite (e.g. an AUROC whose resample has no positives) are left
  out of the quantiles and the p-value; if none is finite the interval is NaN;
- paired delta = `stat_b - stat_a` on the same indices; two-sided p-value
  `min(1, 2 * min((#{d* <= 0} + 1) / (B + 1), (#{d* >= 0} + 1) / (B + 1)))` over the `B` finite
  resampled deltas `d*` (the "+1" keeps a p-value from being reported as exactly 0).
*/
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of resamples (default 1,000). 0 disables intervals (they are NaN).
    pub resamples: usize,
    /// Seed of the resampling (default 0).
    pub seed: u64,
    /// Coverage of the interval (default 0.95).
    pub confidence: f64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 1000,
            seed: 0,
            confidence: 0.95,
        }
    }
}

/// A metric value with its bootstrap interval over `n` items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
}

/// A paired difference `B - A` with its bootstrap interval and two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub n: usize,
}

/// Golden-ratio increment used to spread resample numbers over the seed space.
const SEED_STRIDE: u64 = 0x9E37_79B9_7F4A_7C15;

/// The item indices of resample `b`: `n` draws with replacement from `0..n`.
pub fn resample_indices(n: usize, seed: u64, b: usize) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ (b as u64 + 1).wrapping_mul(SEED_STRIDE));
    (0..n).map(|_| rng.gen_range(0..n)).collect()
}

/// Quantile `q` in [0, 1] of `sorted` (ascending, finite) with linear interpolation between order
/// statistics (numpy's default `method="linear"`). NaN for an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        len => {
            let pos = q.clamp(0.0, 1.0) * (len - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            let frac = pos - lo as f64;
            sorted[lo] + (sorted[hi] - sorted[lo]) * frac
        }
    }
}

/// Percentile interval of the finite values in `values` at coverage `confidence`.
fn percentile_interval(mut values: Vec<f64>, confidence: f64) -> (f64, f64) {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence).clamp(0.0, 1.0);
    (
        quantile_sorted(&values, alpha / 2.0),
        quantile_sorted(&values, 1.0 - alpha / 2.0),
    )
}

/// Resampled statistics, one per resample, computed in parallel but deterministic (also used by
/// `eval::inference` so that its intervals see the same resamples).
pub(crate) fn resampled<T: Send, F: Fn(&[usize]) -> T + Sync>(
    n: usize,
    cfg: &BootstrapConfig,
    f: F,
) -> Vec<T> {
    if n == 0 {
        return Vec::new();
    }
    (0..cfg.resamples)
        .into_par_iter()
        .map(|b| f(&resample_indices(n, cfg.seed, b)))
        .collect()
}

/// value = stat(0..n); CI = percentile bootstrap over resampled item indices.
pub fn bootstrap<F: Fn(&[usize]) -> f64 + Sync>(
    n: usize,
    cfg: &BootstrapConfig,
    stat: F,
) -> Estimate {
    let all: Vec<usize> = (0..n).collect();
    let value = stat(&all);
    let (ci_low, ci_high) = if value.is_finite() {
        percentile_interval(resampled(n, cfg, &stat), cfg.confidence)
    } else {
        (f64::NAN, f64::NAN)
    };
    Estimate {
        value,
        ci_low,
        ci_high,
        n,
    }
}

/// Paired: both stats see the same resampled indices each round; delta = b - a; two-sided p.
pub fn paired_bootstrap<FA: Fn(&[usize]) -> f64 + Sync, FB: Fn(&[usize]) -> f64 + Sync>(
    n: usize,
    cfg: &BootstrapConfig,
    stat_a: FA,
    stat_b: FB,
) -> Delta {
    let all: Vec<usize> = (0..n).collect();
    let value = stat_b(&all) - stat_a(&all);
    if !value.is_finite() {
        return Delta {
            value,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            p_value: f64::NAN,
            n,
        };
    }
    let mut deltas = resampled(n, cfg, |idx| stat_b(idx) - stat_a(idx));
    deltas.retain(|d| d.is_finite());
    let p_value = two_sided_p(&deltas);
    let (ci_low, ci_high) = percentile_interval(deltas, cfg.confidence);
    Delta {
        value,
        ci_low,
        ci_high,
        p_value,
        n,
    }
}

/// Two-sided bootstrap p-value of "delta = 0" from finite resampled deltas (see the module docs).
/// NaN when there are none.
pub fn two_sided_p(deltas: &[f64]) -> f64 {
    if deltas.is_empty() {
        return f64::NAN;
    }
    let b = deltas.len() as f64;
    let le = deltas.iter().filter(|&&d| d <= 0.0).count() as f64;
    let ge = deltas.iter().filter(|&&d| d >= 0.0).count() as f64;
    (2.0 * ((le + 1.0) / (b + 1.0)).min((ge + 1.0) / (b + 1.0))).min(1.0)
}

/// Mean of `f(i)` over the items of a resample (`idx`, repeats counted) or over `0..n` (`None`).
/// NaN for no items.
pub fn mean_over_items(n: usize, idx: Option<&[usize]>, f: impl Fn(usize) -> f64) -> f64 {
    let (sum, count) = match idx {
        Some(idx) => (idx.iter().map(|&i| f(i)).sum::<f64>(), idx.len()),
        None => ((0..n).map(&f).sum::<f64>(), n),
    };
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// Mean and sample standard deviation (ddof = 1; 0 for a single value). NaN mean for no values.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_of(data: &[f64]) -> impl Fn(&[usize]) -> f64 + Sync + '_ {
        move |idx: &[usize]| idx.iter().map(|&i| data[i]).sum::<f64>() / idx.len() as f64
    }

    #[test]
    fn point_value_is_the_full_sample_statistic() {
        let data: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let est = bootstrap(data.len(), &BootstrapConfig::default(), mean_of(&data));
        assert_eq!(est.value, 24.5);
        assert_eq!(est.n, 50);
        assert!(est.ci_low < 24.5 && est.ci_high > 24.5);
        // Standard error of the mean is ~2.06; a 95% interval is roughly ±4.
        assert!((est.ci_high - est.ci_low) > 5.0 && (est.ci_high - est.ci_low) < 11.0);
    }

    #[test]
    fn deterministic_for_a_seed_and_different_across_seeds() {
        let data: Vec<f64> = (0..40).map(|i| ((i * 7919) % 31) as f64).collect();
        let cfg = BootstrapConfig::default();
        let a = bootstrap(data.len(), &cfg, mean_of(&data));
        let b = bootstrap(data.len(), &cfg, mean_of(&data));
        assert_eq!(a, b);
        let c = bootstrap(
            data.len(),
            &BootstrapConfig { seed: 7, ..cfg },
            mean_of(&data),
        );
        assert_ne!(a.ci_low, c.ci_low);
    }

    #[test]
    fn paired_delta_sees_the_same_indices() {
        let a: Vec<f64> = (0..60).map(|i| (i % 13) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 1.0).collect();
        let d = paired_bootstrap(
            a.len(),
            &BootstrapConfig::default(),
            mean_of(&a),
            mean_of(&b),
        );
        // b - a is exactly 1 on every resample because the items are shared.
        assert!((d.value - 1.0).abs() < 1e-12);
        assert!((d.ci_low - 1.0).abs() < 1e-12 && (d.ci_high - 1.0).abs() < 1e-12);
        assert!((d.p_value - 2.0 / 1001.0).abs() < 1e-12);
        let same = paired_bootstrap(
            a.len(),
            &BootstrapConfig::default(),
            mean_of(&a),
            mean_of(&a),
        );
        assert_eq!(same.value, 0.0);
        assert_eq!(same.p_value, 1.0);
    }

    #[test]
    fn undefined_statistics_are_reported_not_hidden() {
        let est = bootstrap(10, &BootstrapConfig::default(), |_| f64::NAN);
        assert!(est.value.is_nan() && est.ci_low.is_nan());
        // Resamples where the statistic is undefined are dropped, not propagated.
        let flaky = |idx: &[usize]| if idx.contains(&0) { 1.0 } else { f64::NAN };
        let est = bootstrap(5, &BootstrapConfig::default(), flaky);
        assert_eq!((est.value, est.ci_low, est.ci_high), (1.0, 1.0, 1.0));
        let empty = bootstrap(0, &BootstrapConfig::default(), |idx| idx.len() as f64);
        assert_eq!(empty.value, 0.0);
        assert!(empty.ci_low.is_nan());
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.quantile([1, 2, 3, 4], [0.025, 0.5, 0.975]) == [1.075, 2.5, 3.925]
        let s = [1.0, 2.0, 3.0, 4.0];
        assert!((quantile_sorted(&s, 0.025) - 1.075).abs() < 1e-12);
        assert!((quantile_sorted(&s, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile_sorted(&s, 0.975) - 3.925).abs() < 1e-12);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }

    #[test]
    fn mean_sd_uses_ddof_one() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        // numpy.std([1, 2, 3, 4], ddof=1) == 1.2909944487358056
        assert!((s - 1.290_994_448_735_805_6).abs() < 1e-12);
    }
}
