/*!
Linear-probe uncertainty at every label fraction (issue 12 §5).

At label fraction `f`, each model's probe is fitted `S` times (seed `s` picks the `f` subset of the
training labels and seeds the fit) and predicts the same `n` test items. The statistic of model `m`
and seed `s` on test items `idx` is `stat(m, s, idx)` (e.g. macro-F1 of that fit's predictions on
`idx`).

Combination of item and seed uncertainty: the seeds are treated as replicates and the paired
two-level bootstrap of [`super::replicates`] is used: each round draws `S` seeds with replacement
(one draw for every model, because seed `s` of each model was fitted on the same label subset) and
one shared resample of test items, and a model's round value is the mean over the drawn seeds of
its statistic on those items; a delta's round value is the difference of two models' round values,
i.e. the mean over the drawn seeds of `stat(b, s, items) - stat(a, s, items)`. The spread of the
round values therefore contains the test-item sampling error and the seed (label-subset and fit)
variation together, without assuming that they are independent or normal, as adding variances
would. The between-seed SD is reported on its own ([`GroupEstimate::between_sd`]). Intervals are
[`super::bca::bca_interval`] of the round values without jackknife (bias-corrected percentile),
widened onto the estimate if need be, as for replicate groups; p-values are
[`super::pvalue::BootstrapPValue`] of the delta rounds, with their Monte Carlo SE.

At fraction 1.0 there is a single fit (`S = 1`, every label used): the seed stage is trivial and
the round values are exactly the item resamples of [`crate::eval::stats`] (same indices), so the
full-label probe gets an interval and a p-value like every other row, `n` being the number of test
items.

[`fraction_inversions`] finds the case issue 12 saw unflagged (CLIP's full-label probe 0.485 below
its 1%-label probe 0.493): a larger fraction whose whole interval lies below a smaller fraction's
estimate.
*/
use serde::{Deserialize, Serialize};

use super::InferenceError;
use rayon::prelude::*;

use super::replicates::{
    GroupDelta, GroupEstimate, Pairing, check_sizes, full_sample, two_level_draw,
};
#[cfg(doc)]
use super::replicates::{group_bootstrap, group_delta};
use crate::eval::stats::BootstrapConfig;

/// Every model's probe estimate at one label fraction and the paired deltas of every later model
/// against the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeFraction {
    pub fraction: f64,
    /// Number of fits (seeds) per model at this fraction.
    pub seeds: usize,
    /// Test items every fit predicted.
    pub n: usize,
    /// One estimate per model, in model order.
    pub models: Vec<GroupEstimate>,
    /// `deltas[k]`: the k-th compared pair's candidate minus its baseline, paired over seeds and
    /// items ([`probe_fraction`]: model `k + 1` minus model 0); empty for one model.
    pub deltas: Vec<GroupDelta>,
}

/// Probe estimates of `models` models at `fraction` from `seeds` fits each on the same `n_test`
/// items, and the paired deltas of models `1..` against model 0 (module docs). `stat(m, s, idx)`
/// is model `m`'s statistic of seed `s` on test items `idx`.
///
/// Every round draws once (the seeds and the items of [`super::replicates::two_level_draw`]) and
/// evaluates each drawn seed of every model once on it, so the per-model rounds are exactly those
/// of [`group_bootstrap`] and the delta rounds those of [`group_delta`] with paired groups (the
/// unit tests check both), at one evaluation per model and distinct seed instead of one per drawn
/// replicate and output. Errors: `fraction` outside (0, 1], no model, no seed, no item, a
/// non-finite full-sample statistic.
pub fn probe_fraction<F>(
    fraction: f64,
    models: usize,
    seeds: usize,
    n_test: usize,
    cfg: &BootstrapConfig,
    stat: F,
) -> Result<ProbeFraction, InferenceError>
where
    F: Fn(usize, usize, &[usize]) -> f64 + Sync,
{
    let first: Vec<(usize, usize)> = (1..models).map(|m| (0, m)).collect();
    probe_fraction_pairs(fraction, models, &first, seeds, n_test, cfg, stat)
}

/// [`probe_fraction`] with the deltas of the (baseline, candidate) model index pairs `pairs`
/// (`[eval] compare`), in that order; every pair's rounds are the same draws.
pub fn probe_fraction_pairs<F>(
    fraction: f64,
    models: usize,
    pairs: &[(usize, usize)],
    seeds: usize,
    n_test: usize,
    cfg: &BootstrapConfig,
    stat: F,
) -> Result<ProbeFraction, InferenceError>
where
    F: Fn(usize, usize, &[usize]) -> f64 + Sync,
{
    if let Some(&(a, b)) = pairs.iter().find(|(a, b)| *a >= models || *b >= models) {
        return Err(InferenceError::InvalidParameter {
            what: "probe comparison",
            message: format!("pair ({a}, {b}) outside {models} models"),
        });
    }
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(InferenceError::InvalidParameter {
            what: "probe label fraction",
            message: format!("{fraction} is not in (0, 1]"),
        });
    }
    check_sizes("probe models", models, n_test)?;
    check_sizes("probe seeds", seeds, n_test)?;
    let full: Vec<Vec<f64>> = (0..models)
        .map(|m| {
            full_sample("probe statistic", seeds, n_test, &|s, i: &[usize]| {
                stat(m, s, i)
            })
        })
        .collect::<Result<_, _>>()?;
    // rounds[b][m]: the mean over round b's drawn seeds of model m's statistic on its items.
    let rounds: Vec<Vec<f64>> = (0..cfg.resamples)
        .into_par_iter()
        .map(|b| {
            let draw = two_level_draw(seeds, 0, n_test, cfg.seed, b);
            let mut drawn = vec![false; seeds];
            for &s in &draw.replicates {
                drawn[s] = true;
            }
            (0..models)
                .map(|m| {
                    let values: Vec<f64> = (0..seeds)
                        .map(|s| {
                            if drawn[s] {
                                stat(m, s, &draw.items)
                            } else {
                                f64::NAN
                            }
                        })
                        .collect();
                    draw.replicates.iter().map(|&s| values[s]).sum::<f64>()
                        / draw.replicates.len() as f64
                })
                .collect()
        })
        .collect();
    let column = |m: usize| -> Vec<f64> { rounds.iter().map(|r| r[m]).collect() };
    let estimates = (0..models)
        .map(|m| GroupEstimate::from_rounds(full[m].clone(), &column(m), n_test, cfg.confidence))
        .collect::<Result<Vec<_>, _>>()?;
    let deltas = pairs
        .iter()
        .map(|&(a, m)| {
            let d: Vec<f64> = rounds.iter().map(|r| r[m] - r[a]).collect();
            GroupDelta::from_rounds(
                &full[a],
                &full[m],
                Pairing::Paired,
                &d,
                n_test,
                cfg.confidence,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProbeFraction {
        fraction,
        seeds,
        n: n_test,
        models: estimates,
        deltas,
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
    use crate::eval::inference::replicates::{Groups, group_bootstrap, group_delta};
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
        let both = [a.clone(), b.clone()];
        let got = probe_fraction(1.0, 2, 1, 50, &cfg, |m, _, i| mean(&both[m], i)).unwrap();
        let old = paired_bootstrap(50, &cfg, |i| mean(&a, i), |i| mean(&b, i));
        assert_eq!(got.deltas[0].delta, old.value);
        assert_eq!(got.deltas[0].p_value.p, old.p_value);
        let deltas = resampled(50, &cfg, |i| mean(&b, i) - mean(&a, i));
        let want = bca_interval(old.value, &deltas, &[], 0.95).unwrap();
        assert_eq!(got.deltas[0].interval, want);
        let own = resampled(50, &cfg, |i| mean(&a, i));
        let want_a = bca_interval(mean(&a, &(0..50).collect::<Vec<_>>()), &own, &[], 0.95).unwrap();
        assert_eq!(got.models[0].interval, want_a);
        assert_eq!((got.n, got.seeds, got.models[0].between_sd), (50, 1, None));
    }

    #[test]
    fn one_draw_per_round_matches_group_bootstrap_and_group_delta() {
        // Three seeds of two models: the shared-draw evaluation must give exactly the per-model
        // two-level bootstrap and the paired group delta of `replicates`.
        let tables: Vec<Vec<Vec<f64>>> = (0..2)
            .map(|m| (0..3).map(|s| data(m * 5 + s)).collect())
            .collect();
        let stat = |m: usize, s: usize, i: &[usize]| mean(&tables[m][s], i);
        let cfg = BootstrapConfig {
            resamples: 300,
            ..BootstrapConfig::default()
        };
        let got = probe_fraction(0.1, 2, 3, 50, &cfg, stat).unwrap();
        for m in 0..2 {
            let want = group_bootstrap(3, 50, &cfg, |s, i| stat(m, s, i)).unwrap();
            assert_eq!(got.models[m], want);
        }
        let want = group_delta(
            Groups::Paired { replicates: 3 },
            50,
            &cfg,
            |s, i| stat(0, s, i),
            |s, i| stat(1, s, i),
        )
        .unwrap();
        assert_eq!(got.deltas, vec![want]);
    }

    #[test]
    fn known_intervals_of_the_two_stages() {
        let cfg = BootstrapConfig::default();
        // Seed stage alone: two seeds scoring 0 and 1 whatever the items. A round is the mean of
        // two seed draws: 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4; the estimate 0.5 sits at the
        // median (z0 = 0), so the 95% interval is the 2.5% and 97.5% quantiles: [0, 1].
        let seeds = probe_fraction(0.5, 1, 2, 10, &cfg, |_, s, _| s as f64).unwrap();
        assert_eq!(seeds.models[0].mean, 0.5);
        assert_eq!(
            (seeds.models[0].interval.low, seeds.models[0].interval.high),
            (0.0, 1.0)
        );
        // Item stage alone: one fit, accuracy 0.3 on 400 items. The bootstrap distribution of a
        // proportion has SD sqrt(p(1-p)/n) = sqrt(0.21/400) = 0.022913; the 95% interval is
        // 0.3 -/+ 1.959964 * 0.022913 = [0.25509, 0.34491] up to Monte Carlo error (B = 1000).
        let correct: Vec<f64> = (0..400).map(|i| f64::from(u8::from(i % 10 < 3))).collect();
        let items = probe_fraction(1.0, 1, 1, 400, &cfg, |_, _, i| mean(&correct, i)).unwrap();
        let iv = items.models[0].interval;
        assert!((iv.low - 0.25509).abs() < 0.006, "{iv:?}");
        assert!((iv.high - 0.34491).abs() < 0.006, "{iv:?}");
    }

    #[test]
    fn seed_spread_widens_the_interval() {
        // Seeds shift B's score by -0.2, 0, +0.2 on top of the same items: the two-level interval
        // must be wider than the item-only one of a single seed.
        let (a, b) = (data(0), data(3));
        let both = [a.clone(), b.clone()];
        let shift = [-0.2, 0.0, 0.2];
        let cfg = BootstrapConfig::default();
        let one = probe_fraction(0.1, 2, 1, 50, &cfg, |m, _, i| mean(&both[m], i)).unwrap();
        let shifted = |m: usize, s: usize, i: &[usize]| {
            mean(&both[m], i) + if m == 1 { shift[s] } else { 0.0 }
        };
        let three = probe_fraction(0.1, 2, 3, 50, &cfg, shifted).unwrap();
        let width = |d: &GroupDelta| d.interval.high - d.interval.low;
        assert!(width(&three.deltas[0]) > width(&one.deltas[0]) + 0.1);
        assert!((three.models[1].between_sd.unwrap() - 0.2).abs() < 1e-12);
        assert!((three.deltas[0].delta - one.deltas[0].delta).abs() < 1e-12);
        assert_eq!(three, probe_fraction(0.1, 2, 3, 50, &cfg, shifted).unwrap());
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
                probe_fraction(f, 2, 1, 10, &cfg, |_, _, _| 0.5),
                Err(InferenceError::InvalidParameter { .. })
            ));
        }
    }
}
