/*!
Linear-probe uncertainty at every label fraction (issue 12 §5).

At label fraction `f`, each model's probe is fitted `S` times (seed `s` picks the `f` subset of the
training labels and seeds the fit) and predicts the same `n` test items. The statistic of seed `s`
on test items `idx` is `stat(s, idx)` (e.g. macro-F1 of seed `s`'s predictions on `idx`).

Combination of item and seed uncertainty: the seeds are treated as replicates and the paired
two-level bootstrap of [`super::replicates`] is used: each round draws `S` seeds with replacement
(one draw for both models, because seed `s` of A and of B was fitted on the same label subset) and
one shared resample of test items, and its value is the mean over the drawn seeds of
`stat_b(s, items) - stat_a(s, items)`. The spread of the round values therefore contains the
test-item sampling error and the seed (label-subset and fit) variation together, without assuming
that they are independent or normal, as adding variances would. The between-seed SD is reported on
its own (`a.between_sd`, `b.between_sd`).

At fraction 1.0 there is a single fit (`S = 1`, every label used): the seed stage is trivial and
the interval and p-value are exactly the paired item bootstrap of [`crate::eval::stats`] (same
resamples), so the full-label probe gets an interval and a p-value like every other row, `n` being
the number of test items.

[`fraction_inversions`] finds the case issue 12 saw unflagged (CLIP's full-label probe 0.485 below
its 1%-label probe 0.493): a larger fraction whose whole interval lies below a smaller fraction's
estimate.
*/
use serde::{Deserialize, Serialize};

use super::InferenceError;
use super::replicates::{GroupDelta, GroupEstimate, Groups, group_bootstrap, group_delta};
use crate::eval::stats::BootstrapConfig;

/// Both models' probe estimates at one label fraction and their paired delta `B - A`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeFraction {
    pub fraction: f64,
    /// Number of fits (seeds) per model at this fraction.
    pub seeds: usize,
    pub a: GroupEstimate,
    pub b: GroupEstimate,
    pub delta: GroupDelta,
}

/// Probe estimates and delta at `fraction` from `seeds` fits per model on `n_test` items
/// (module docs). Errors: `fraction` outside (0, 1], no seed, no item, a non-finite full-sample
/// statistic.
pub fn probe_fraction<FA, FB>(
    fraction: f64,
    seeds: usize,
    n_test: usize,
    cfg: &BootstrapConfig,
    stat_a: FA,
    stat_b: FB,
) -> Result<ProbeFraction, InferenceError>
where
    FA: Fn(usize, &[usize]) -> f64 + Sync,
    FB: Fn(usize, &[usize]) -> f64 + Sync,
{
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(InferenceError::InvalidParameter {
            what: "probe label fraction",
            message: format!("{fraction} is not in (0, 1]"),
        });
    }
    Ok(ProbeFraction {
        fraction,
        seeds,
        a: group_bootstrap(seeds, n_test, cfg, &stat_a)?,
        b: group_bootstrap(seeds, n_test, cfg, &stat_b)?,
        delta: group_delta(
            Groups::Paired { replicates: seeds },
            n_test,
            cfg,
            &stat_a,
            &stat_b,
        )?,
    })
}

/// A larger label fraction scoring below a smaller one by more than its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FractionInversion {
    pub smaller: f64,
    pub larger: f64,
    pub smaller_value: f64,
    pub larger_value: f64,
    /// Upper bound of the larger fraction's interval, below `smaller_value`.
    pub larger_ci_high: f64,
}

/// Every pair of fractions `f1 < f2` of one model where the estimate at `f2` has its whole
/// interval below the estimate at `f1` (`ci_high(f2) < value(f1)`); pairs in ascending order.
pub fn fraction_inversions(points: &[(f64, &GroupEstimate)]) -> Vec<FractionInversion> {
    let mut sorted: Vec<(f64, &GroupEstimate)> = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    for (i, &(smaller, low)) in sorted.iter().enumerate() {
        for &(larger, high) in &sorted[i + 1..] {
            if larger > smaller && high.interval.high < low.mean {
                out.push(FractionInversion {
                    smaller,
                    larger,
                    smaller_value: low.mean,
                    larger_value: high.mean,
                    larger_ci_high: high.interval.high,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::inference::bca::bca_interval;
    use crate::eval::stats::{paired_bootstrap, resampled};

    fn data(k: usize) -> Vec<f64> {
        (0..50)
            .map(|i| (((i + k) * 31) % 7 == 0) as u8 as f64)
            .collect()
    }

    fn mean(d: &[f64], idx: &[usize]) -> f64 {
        idx.iter().map(|&i| d[i]).sum::<f64>() / idx.len() as f64
    }

    #[test]
    fn full_fraction_single_fit_is_the_paired_item_bootstrap() {
        let (a, b) = (data(0), data(3));
        let cfg = BootstrapConfig::default();
        let got = probe_fraction(1.0, 1, 50, &cfg, |_, i| mean(&a, i), |_, i| mean(&b, i)).unwrap();
        let old = paired_bootstrap(50, &cfg, |i| mean(&a, i), |i| mean(&b, i));
        assert_eq!(got.delta.delta, old.value);
        assert_eq!(got.delta.p_value.p, old.p_value);
        let deltas = resampled(50, &cfg, |i| mean(&b, i) - mean(&a, i));
        let want = bca_interval(old.value, &deltas, &[], 0.95).unwrap();
        assert_eq!(got.delta.interval, want);
        assert_eq!((got.a.n, got.seeds, got.a.between_sd), (50, 1, None));
    }

    #[test]
    fn seed_spread_widens_the_interval() {
        // Seeds shift B's score by -0.2, 0, +0.2 on top of the same items: the two-level interval
        // must be wider than the item-only one of a single seed.
        let (a, b) = (data(0), data(3));
        let shift = [-0.2, 0.0, 0.2];
        let cfg = BootstrapConfig::default();
        let one = probe_fraction(0.1, 1, 50, &cfg, |_, i| mean(&a, i), |_, i| mean(&b, i)).unwrap();
        let three = probe_fraction(
            0.1,
            3,
            50,
            &cfg,
            |_, i| mean(&a, i),
            |s, i| mean(&b, i) + shift[s],
        )
        .unwrap();
        let width = |d: &GroupDelta| d.interval.high - d.interval.low;
        assert!(width(&three.delta) > width(&one.delta) + 0.1);
        assert!((three.b.between_sd.unwrap() - 0.2).abs() < 1e-12);
        assert!((three.delta.delta - one.delta.delta).abs() < 1e-12);
        assert_eq!(
            three,
            probe_fraction(
                0.1,
                3,
                50,
                &cfg,
                |_, i| mean(&a, i),
                |s, i| mean(&b, i) + shift[s]
            )
            .unwrap()
        );
    }

    #[test]
    fn inversions_need_the_whole_interval_below() {
        let cfg = BootstrapConfig::default();
        let at = |v: f64, spread: f64| {
            group_bootstrap(2, 40, &cfg, |s, _| {
                v + if s == 0 { -spread } else { spread }
            })
            .unwrap()
        };
        let small = at(0.493, 0.001);
        let full_close = at(0.485, 0.01); // interval reaches above 0.493: no warning
        let full_far = at(0.40, 0.01);
        assert!(fraction_inversions(&[(0.01, &small), (1.0, &full_close)]).is_empty());
        let inv = fraction_inversions(&[(1.0, &full_far), (0.01, &small)]);
        assert_eq!(inv.len(), 1);
        assert_eq!((inv[0].smaller, inv[0].larger), (0.01, 1.0));
        assert!(inv[0].larger_ci_high < inv[0].smaller_value);
    }

    #[test]
    fn invalid_fraction_is_an_error() {
        let cfg = BootstrapConfig::default();
        for f in [0.0, 1.5, f64::NAN] {
            assert!(matches!(
                probe_fraction(f, 1, 10, &cfg, |_, _| 0.5, |_, _| 0.5),
                Err(InferenceError::InvalidParameter { .. })
            ));
        }
    }
}
