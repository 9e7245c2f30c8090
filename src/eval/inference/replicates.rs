/*!
Training-seed replicates as an axis of the comparison (issue 12 §3).

A *group* is one model trained `R` times with different seeds and evaluated on the same `n` test
items; the statistic of replicate `r` on items `idx` is `stat(r, idx)`.

- Group estimate: `mean_r stat(r, 0..n)`; between-replicate SD: the sample SD (ddof 1) of the
  `stat(r, 0..n)` ([`crate::eval::stats::mean_sd`]), undefined (`None`) for one replicate.
- Two-level bootstrap (Davison & Hinkley 1997, ch. 3, hierarchical data: resample the first
  stage, then the second): round `b` draws `R` replicate indices with replacement and one item
  resample, and its value is the mean over the drawn replicates of `stat(r, items)`. The item
  resample is *shared* by the replicates of a round because every replicate was evaluated on the
  same test items (a crossed design): item sampling error is common to the replicates, and
  independent item draws per replicate would shrink it by `1/R`. The item indices are those of
  [`crate::eval::stats::resample_indices`] for `(seed, b)`, so with one replicate this is exactly the
  item bootstrap of [`crate::eval::stats`]. The interval is [`super::bca::bca_interval`] of the
  round values without jackknife (bias-corrected percentile, BC), widened to the estimate if need be.
  With `R = 3` the replicate stage can only mix three values: the interval is honest about seeds
  only as far as three seeds can be.
- Group deltas `B - A`: *paired* when the replicates pair (replicate `r` of A and of B share a seed
  and the training subset: one replicate draw serves both), *unpaired* otherwise (independent
  replicate draws for A and B, shared items). p-value: [`super::pvalue::BootstrapPValue`] of the
  round deltas.
- Sign check ([`SignCheck`]): the per-replicate deltas `stat_b(r) - stat_a(r)` (paired) or every
  cross difference `stat_b(j) - stat_a(i)` (unpaired) on all items; replicates disagree when some
  are > 0 and some < 0 (zeros are neither). A directional verdict ("better"/"worse") should not be
  drawn from one replicate when its siblings disagree.
*/
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::InferenceError;
use super::bca::{BootstrapInterval, bca_interval};
use super::pvalue::BootstrapPValue;
use crate::eval::stats::{BootstrapConfig, mean_sd, resample_indices};

/// Offsets of the replicate-draw streams from the item stream (arbitrary odd constants).
const REPLICATE_STREAM_A: u64 = 0xA076_1D64_78BD_642F;
const REPLICATE_STREAM_B: u64 = 0xE703_7ED1_A0B4_28DB;

/// The draws of one two-level bootstrap round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoLevelDraw {
    /// Replicate indices (group A, or both groups when paired), with replacement.
    pub replicates: Vec<usize>,
    /// Replicate indices of group B when unpaired; empty when paired.
    pub replicates_b: Vec<usize>,
    /// Item indices, shared by every replicate of the round (= `stats::resample_indices`).
    pub items: Vec<usize>,
}

/// Round `b` of a two-level bootstrap with `ra` replicates (and `rb` for an unpaired group B,
/// 0 when paired) over `n` items.
pub fn two_level_draw(ra: usize, rb: usize, n: usize, seed: u64, b: usize) -> TwoLevelDraw {
    TwoLevelDraw {
        replicates: resample_indices(ra, seed ^ REPLICATE_STREAM_A, b),
        replicates_b: resample_indices(rb, seed ^ REPLICATE_STREAM_B, b),
        items: resample_indices(n, seed, b),
    }
}

/// Mean of `stat(r, items)` over the drawn replicates `reps`.
fn round_mean<F: Fn(usize, &[usize]) -> f64>(stat: &F, reps: &[usize], items: &[usize]) -> f64 {
    reps.iter().map(|&r| stat(r, items)).sum::<f64>() / reps.len() as f64
}

/// A group's mean over replicates with its two-level bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupEstimate {
    pub mean: f64,
    /// `stat(r, 0..n)` per replicate, in replicate order.
    pub per_replicate: Vec<f64>,
    /// Sample SD (ddof 1) of `per_replicate`; `None` for a single replicate.
    pub between_sd: Option<f64>,
    pub interval: BootstrapInterval,
    pub replicates: usize,
    pub n: usize,
}

/// Whether the replicates of a comparison agree on the sign of Δ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignCheck {
    /// One replicate comparison only: nothing to compare.
    SingleReplicate,
    /// No two replicate comparisons have opposite signs.
    Agree,
    /// `positive` comparisons have Δ > 0 and `negative` have Δ < 0.
    Disagree { positive: usize, negative: usize },
}

impl SignCheck {
    /// From the replicate-level deltas (module docs).
    pub fn of(deltas: &[f64]) -> SignCheck {
        if deltas.len() < 2 {
            return SignCheck::SingleReplicate;
        }
        let positive = deltas.iter().filter(|&&d| d > 0.0).count();
        let negative = deltas.iter().filter(|&&d| d < 0.0).count();
        if positive > 0 && negative > 0 {
            SignCheck::Disagree { positive, negative }
        } else {
            SignCheck::Agree
        }
    }

    /// True when replicates disagree in sign (no directional verdict).
    pub fn disagrees(&self) -> bool {
        matches!(self, SignCheck::Disagree { .. })
    }
}

/// Whether the replicates of two groups pair up (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pairing {
    Paired,
    Unpaired,
}

/// A group delta `B - A` with its two-level bootstrap interval and p-value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDelta {
    /// `mean(B) - mean(A)`.
    pub delta: f64,
    pub interval: BootstrapInterval,
    pub p_value: BootstrapPValue,
    pub pairing: Pairing,
    /// Replicate-level deltas the sign check used (paired: per replicate; unpaired: every
    /// `(i, j)` cross difference, `i` of A outer).
    pub replicate_deltas: Vec<f64>,
    pub sign: SignCheck,
    pub replicates_a: usize,
    pub replicates_b: usize,
    pub n: usize,
}

pub(super) fn check_sizes(
    what: &'static str,
    replicates: usize,
    n: usize,
) -> Result<(), InferenceError> {
    for (got, unit) in [(replicates, "replicates"), (n, "items")] {
        if got == 0 {
            return Err(InferenceError::TooFew {
                what,
                unit,
                required: 1,
                got,
            });
        }
    }
    Ok(())
}

/// `stat(r, 0..n)` for every replicate; an error names the first that is not finite.
pub(super) fn full_sample<F: Fn(usize, &[usize]) -> f64>(
    what: &'static str,
    replicates: usize,
    n: usize,
    stat: &F,
) -> Result<Vec<f64>, InferenceError> {
    let all: Vec<usize> = (0..n).collect();
    let values: Vec<f64> = (0..replicates).map(|r| stat(r, &all)).collect();
    super::check_finite(what, &values)?;
    Ok(values)
}

/// The replicate-level deltas of the sign check: `b[r] - a[r]` per replicate (paired) or every
/// cross difference `b[j] - a[i]`, `i` outer (unpaired).
pub fn replicate_deltas(a: &[f64], b: &[f64], pairing: Pairing) -> Vec<f64> {
    match pairing {
        Pairing::Paired => a.iter().zip(b).map(|(a, b)| b - a).collect(),
        Pairing::Unpaired => a
            .iter()
            .flat_map(|a| b.iter().map(move |b| b - a))
            .collect(),
    }
}

/// Between-replicate sample SD (ddof 1); `None` for fewer than two replicates.
pub fn between_replicate_sd(values: &[f64]) -> Option<f64> {
    (values.len() >= 2).then(|| mean_sd(values).1)
}

/// Group mean of `stat(r, 0..n)` over `replicates` with the two-level bootstrap (module docs).
pub fn group_bootstrap<F: Fn(usize, &[usize]) -> f64 + Sync>(
    replicates: usize,
    n: usize,
    cfg: &BootstrapConfig,
    stat: F,
) -> Result<GroupEstimate, InferenceError> {
    check_sizes("replicate group", replicates, n)?;
    let per_replicate = full_sample("replicate statistic", replicates, n, &stat)?;
    let rounds: Vec<f64> = (0..cfg.resamples)
        .into_par_iter()
        .map(|b| {
            let draw = two_level_draw(replicates, 0, n, cfg.seed, b);
            round_mean(&stat, &draw.replicates, &draw.items)
        })
        .collect();
    GroupEstimate::from_rounds(per_replicate, &rounds, n, cfg.confidence)
}

impl GroupEstimate {
    /// The estimate from the full-sample values `per_replicate` and the two-level round values
    /// `rounds` (of [`group_bootstrap`], or of another caller that draws the same rounds, e.g.
    /// [`super::probe`], which evaluates several models on each round's draw).
    pub fn from_rounds(
        per_replicate: Vec<f64>,
        rounds: &[f64],
        n: usize,
        confidence: f64,
    ) -> Result<GroupEstimate, InferenceError> {
        let mean = mean_sd(&per_replicate).0;
        Ok(GroupEstimate {
            mean,
            between_sd: between_replicate_sd(&per_replicate),
            replicates: per_replicate.len(),
            per_replicate,
            interval: bca_interval(mean, rounds, &[], confidence)?,
            n,
        })
    }
}

/// Which replicates of the two groups go together (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Groups {
    /// Replicate `r` of A pairs with replicate `r` of B (same seed): one replicate draw per round
    /// serves both groups.
    Paired { replicates: usize },
    /// Replicates of A and of B are drawn independently each round.
    Unpaired {
        replicates_a: usize,
        replicates_b: usize,
    },
}

/// Group delta `mean(B) - mean(A)` over `n` shared items with the two-level bootstrap: each round
/// draws replicates as `groups` says and one item resample shared by every replicate, and its
/// value is `mean_{drawn B} stat_b(r, items) - mean_{drawn A} stat_a(r, items)` (for paired groups
/// the same draw on both sides, i.e. `mean_r (stat_b - stat_a)`). See the module docs.
pub fn group_delta<FA, FB>(
    groups: Groups,
    n: usize,
    cfg: &BootstrapConfig,
    stat_a: FA,
    stat_b: FB,
) -> Result<GroupDelta, InferenceError>
where
    FA: Fn(usize, &[usize]) -> f64 + Sync,
    FB: Fn(usize, &[usize]) -> f64 + Sync,
{
    let (ra, rb, pairing) = match groups {
        Groups::Paired { replicates } => (replicates, replicates, Pairing::Paired),
        Groups::Unpaired {
            replicates_a,
            replicates_b,
        } => (replicates_a, replicates_b, Pairing::Unpaired),
    };
    check_sizes("replicate group A", ra, n)?;
    check_sizes("replicate group B", rb, n)?;
    let a = full_sample("replicate statistic of A", ra, n, &stat_a)?;
    let b = full_sample("replicate statistic of B", rb, n, &stat_b)?;
    let draw_b = if pairing == Pairing::Paired { 0 } else { rb };
    let rounds: Vec<f64> = (0..cfg.resamples)
        .into_par_iter()
        .map(|round| {
            let draw = two_level_draw(ra, draw_b, n, cfg.seed, round);
            let reps_b = match pairing {
                Pairing::Paired => &draw.replicates,
                Pairing::Unpaired => &draw.replicates_b,
            };
            round_mean(&stat_b, reps_b, &draw.items)
                - round_mean(&stat_a, &draw.replicates, &draw.items)
        })
        .collect();
    GroupDelta::from_rounds(&a, &b, pairing, &rounds, n, cfg.confidence)
}

impl GroupDelta {
    /// The delta from the full-sample values of both groups and the round deltas `rounds` (of
    /// [`group_delta`], or of another caller drawing the same rounds, e.g. [`super::probe`]).
    pub fn from_rounds(
        a: &[f64],
        b: &[f64],
        pairing: Pairing,
        rounds: &[f64],
        n: usize,
        confidence: f64,
    ) -> Result<GroupDelta, InferenceError> {
        let replicate_deltas = replicate_deltas(a, b, pairing);
        let delta = mean_sd(b).0 - mean_sd(a).0;
        let p_value = BootstrapPValue::from_deltas(rounds).ok_or(InferenceError::TooFew {
            what: "group delta p-value",
            unit: "finite resamples",
            required: 1,
            got: 0,
        })?;
        Ok(GroupDelta {
            delta,
            interval: bca_interval(delta, rounds, &[], confidence)?,
            p_value,
            pairing,
            sign: SignCheck::of(&replicate_deltas),
            replicate_deltas,
            replicates_a: a.len(),
            replicates_b: b.len(),
            n,
        })
    }
}

#[cfg(test)]
#[path = "replicates_tests.rs"]
mod tests;
