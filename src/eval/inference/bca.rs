/*!
Bootstrap intervals that never exclude their estimate: BCa, with a documented fallback.

Definitions (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, §14.3, the section
scipy cites; the same as `scipy.stats.bootstrap(method='BCa')`, scipy/stats/_resampling.py
`_bca_interval`):
- bias correction `z0 = Φ⁻¹((#{θ*_b < θ̂} + #{θ*_b <= θ̂}) / (2B))` over the `B` finite resamples
  (ties count one half, as scipy's `_percentile_of_score`);
- acceleration from the jackknife values `θ_(i)` (leave item `i` out), `θ_(·)` their mean:
  `a = Σ (θ_(·) - θ_(i))³ / (6 (Σ (θ_(·) - θ_(i))²)^{3/2})`;
- with `α = (1 - confidence) / 2`, `z_α = Φ⁻¹(α)`:
  `α₁ = Φ(z0 + (z0 + z_α) / (1 - a (z0 + z_α)))`, `α₂ = Φ(z0 + (z0 - z_α) / (1 - a (z0 - z_α)))`,
  and the interval is the `α₁` and `α₂` quantiles of the resamples (numpy's linear interpolation,
  [`crate::eval::stats::quantile_sorted`]).

Fallback, in this order (the method used is recorded in [`IntervalMethod`]):
1. acceleration undefined (no jackknife values, one that is not finite, or all equal so the
   denominator is 0): `a = 0`, i.e. the bias-corrected percentile interval (BC, Efron 1981);
2. BCa undefined (`z0` infinite because the estimate lies at or beyond every resample, or
   `1 - a (z0 ± z_α) <= 0`): the plain percentile interval `(α, 1 - α)` quantiles;
3. always, last: if the interval still does not contain the estimate (possible for BCa and BC when
   more than `1 - α` of the resamples lie on one side of θ̂, and for the percentile interval of a
   biased statistic: issue 12's gap-shift CI [0.1417, 0.1572] around +0.1576), the violated bound is
   moved to the estimate and [`BootstrapInterval::widened`] is set, so the report can say so.

All resamples equal to the estimate is not a special case: `z0 = 0` and the interval is `[θ̂, θ̂]`.
*/
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::pvalue::BootstrapPValue;
use super::{InferenceError, check_confidence};
use crate::eval::stats::{BootstrapConfig, quantile_sorted, resampled};

/// How a [`BootstrapInterval`] was obtained (see the module docs for the fallback order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntervalMethod {
    /// Bias-corrected and accelerated.
    Bca,
    /// Bias-corrected only (`a = 0`): the jackknife gave no acceleration.
    BiasCorrected,
    /// Plain percentile: BCa undefined for these resamples.
    Percentile,
}

/// A bootstrap interval around an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInterval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    pub method: IntervalMethod,
    /// Bias correction `z0` (may be infinite when the method fell back to percentile).
    pub z0: f64,
    /// Acceleration actually used (0 for BC and percentile).
    pub acceleration: f64,
    /// True when a bound was moved to the estimate (rule 3 of the module docs).
    pub widened: bool,
    /// Number of finite resamples used.
    pub resamples: usize,
}

fn std_normal() -> Normal {
    Normal::standard()
}

/// Jackknife acceleration `a` (module docs); `None` when undefined.
pub fn acceleration(jackknife: &[f64]) -> Option<f64> {
    if jackknife.len() < 2 || jackknife.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mean = jackknife.iter().sum::<f64>() / jackknife.len() as f64;
    let (num, sq) = jackknife.iter().fold((0.0, 0.0), |(num, sq), v| {
        let d = mean - v;
        (num + d * d * d, sq + d * d)
    });
    let den = 6.0 * sq.powf(1.5);
    let a = num / den;
    (den > 0.0 && a.is_finite()).then_some(a)
}

/// The BCa interval of `estimate` from its bootstrap `resamples` (non-finite ones are left out)
/// and its `jackknife` values (may be empty: then BC). See the module docs for the definition and
/// the fallback. Errors: `estimate` not finite, no finite resample, `confidence` not in (0, 1).
pub fn bca_interval(
    estimate: f64,
    resamples: &[f64],
    jackknife: &[f64],
    confidence: f64,
) -> Result<BootstrapInterval, InferenceError> {
    check_confidence(confidence)?;
    if !estimate.is_finite() {
        return Err(InferenceError::NonFinite {
            what: "bootstrap estimate",
            index: 0,
            value: estimate,
        });
    }
    let mut sorted: Vec<f64> = resamples
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if sorted.is_empty() {
        return Err(InferenceError::TooFew {
            what: "bootstrap interval",
            unit: "finite resamples",
            required: 1,
            got: 0,
        });
    }
    sorted.sort_by(f64::total_cmp);
    let b = sorted.len() as f64;
    let below = sorted.iter().filter(|&&v| v < estimate).count() as f64;
    let at_or_below = sorted.iter().filter(|&&v| v <= estimate).count() as f64;
    let normal = std_normal();
    let z0 = normal.inverse_cdf((below + at_or_below) / (2.0 * b));
    let alpha = (1.0 - confidence) / 2.0;
    let z_alpha = normal.inverse_cdf(alpha);
    let accel = acceleration(jackknife);
    let a = accel.unwrap_or(0.0);
    let corrected = |z: f64| {
        let num = z0 + z;
        let den = 1.0 - a * num;
        (den > 0.0).then(|| normal.cdf(z0 + num / den))
    };
    let bca = match (z0.is_finite(), corrected(z_alpha), corrected(-z_alpha)) {
        (true, Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && lo <= hi => {
            Some((lo, hi))
        }
        _ => None,
    };
    let (method, acceleration, (q_low, q_high)) = match (bca, accel) {
        (Some(q), Some(a)) => (IntervalMethod::Bca, a, q),
        (Some(q), None) => (IntervalMethod::BiasCorrected, 0.0, q),
        (None, _) => (IntervalMethod::Percentile, 0.0, (alpha, 1.0 - alpha)),
    };
    let mut low = quantile_sorted(&sorted, q_low);
    let mut high = quantile_sorted(&sorted, q_high);
    let widened = low > estimate || high < estimate;
    low = low.min(estimate);
    high = high.max(estimate);
    Ok(BootstrapInterval {
        estimate,
        low,
        high,
        confidence,
        method,
        z0,
        acceleration,
        widened,
        resamples: sorted.len(),
    })
}

/// Leave-one-out values `stat(0..n without i)` for `i` in `0..n` (Quenouille–Tukey jackknife).
/// Costs `n` evaluations of `stat` on `n - 1` items; computed in parallel, order preserved.
pub fn jackknife<F: Fn(&[usize]) -> f64 + Sync>(n: usize, stat: F) -> Vec<f64> {
    (0..n)
        .into_par_iter()
        .map(|i| {
            let idx: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            stat(&idx)
        })
        .collect()
}

/// value = `stat(0..n)`; BCa interval from the resamples of [`crate::eval::stats::bootstrap`]
/// (same index streams for the same config) and the jackknife of `stat`.
pub fn bca_bootstrap<F: Fn(&[usize]) -> f64 + Sync>(
    n: usize,
    cfg: &BootstrapConfig,
    stat: F,
) -> Result<BootstrapInterval, InferenceError> {
    let all: Vec<usize> = (0..n).collect();
    let estimate = stat(&all);
    let resamples = resampled(n, cfg, &stat);
    bca_interval(estimate, &resamples, &jackknife(n, &stat), cfg.confidence)
}

/// A paired delta `B - A` with its BCa interval and bootstrap p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedInterval {
    pub interval: BootstrapInterval,
    pub p_value: BootstrapPValue,
    pub n: usize,
}

/// Paired delta `stat_b - stat_a` on the same items: the resampled deltas are those of
/// [`crate::eval::stats::paired_bootstrap`] (same `p_value`), the jackknife leaves one item out of
/// both, and the interval is [`bca_interval`] of these.
pub fn bca_paired_bootstrap<FA, FB>(
    n: usize,
    cfg: &BootstrapConfig,
    stat_a: FA,
    stat_b: FB,
) -> Result<PairedInterval, InferenceError>
where
    FA: Fn(&[usize]) -> f64 + Sync,
    FB: Fn(&[usize]) -> f64 + Sync,
{
    let delta = |idx: &[usize]| stat_b(idx) - stat_a(idx);
    let all: Vec<usize> = (0..n).collect();
    let estimate = delta(&all);
    let deltas = resampled(n, cfg, delta);
    let interval = bca_interval(estimate, &deltas, &jackknife(n, delta), cfg.confidence)?;
    let p_value = BootstrapPValue::from_deltas(&deltas).ok_or(InferenceError::TooFew {
        what: "bootstrap p-value",
        unit: "finite resamples",
        required: 1,
        got: 0,
    })?;
    Ok(PairedInterval {
        interval,
        p_value,
        n,
    })
}

#[cfg(test)]
#[path = "bca_tests.rs"]
mod tests;
