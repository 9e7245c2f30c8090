/*!
The one row builder: every [`MetricRow`] — bootstrapped per-model rows, paired `B - A` rows, the
probes' seed-interval rows and the RAG rows — is made here, so "undefined" (non-finite → empty
cell), interval and p-value gating and the comparison label are decided once.

[`Spec`] + [`bootstrap_rows`] is the suite's form: a statistic over resampled items, evaluated for
every model and, when the items pair up, as a paired delta of every later model against the first.

Intervals are BCa ([`crate::eval::inference::bca::bca_interval`], with its documented fallback, so
no interval excludes its estimate) from the resamples of [`crate::eval::stats`] and a jackknife of
the same statistic ([`jackknife`]: leave one item out up to [`JACKKNIFE_GROUPS`] items, leave one
of that many interleaved groups out above). Paired deltas carry their bootstrap p-value with its
Monte Carlo detail ([`BootstrapPValue`]: MC standard error, `B`, crossings) in
[`MetricRow::p_bootstrap`]; the multiplicity adjustment is [`crate::eval::metrics::adjust`].
*/
use serde::{Deserialize, Serialize};

use super::MetricRow;
use super::groups::{self, ModelGroups};
use super::inference::bca;
use super::inference::pvalue::BootstrapPValue;
use super::metrics::{Setting, Task};
use super::stats::{self, BootstrapConfig, Delta, Estimate};

/// A comparison of `candidate` against `baseline` (`B - A`, on the same items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline: String,
    pub candidate: String,
}

impl Comparison {
    pub fn new(baseline: &str, candidate: &str) -> Self {
        Self {
            baseline: baseline.to_owned(),
            candidate: candidate.to_owned(),
        }
    }

    /// The `model` column of a comparison row: `<B> - <A>`.
    pub fn label(&self) -> String {
        format!("{} - {}", self.candidate, self.baseline)
    }
}

/// What a row is about: one model, or a comparison of two.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Model(&'a str),
    Comparison(&'a Comparison),
}

/// Where a row belongs: (dataset, task, setting, metric).
#[derive(Debug, Clone, Copy)]
pub struct RowKey<'a> {
    pub dataset: &'a str,
    pub task: Task,
    pub setting: &'a Setting,
    pub metric: &'a str,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// A row from raw numbers: a non-finite value is undefined, and an undefined value has no interval
/// and no p-value; non-finite bounds or p are left out.
pub fn row(
    subject: Subject,
    key: RowKey,
    value: f64,
    (lo, hi): (f64, f64),
    n: usize,
    p: Option<f64>,
) -> MetricRow {
    let value = finite(value);
    let (model, comparison) = match subject {
        Subject::Model(m) => (m.to_owned(), None),
        Subject::Comparison(c) => (c.label(), Some(c.clone())),
    };
    MetricRow {
        model,
        dataset: key.dataset.to_owned(),
        task: key.task,
        setting: key.setting.clone(),
        metric: key.metric.to_owned(),
        value,
        ci_low: value.and(finite(lo)),
        ci_high: value.and(finite(hi)),
        n,
        p_value: value.and(p.and_then(finite)),
        p_adjusted: None,
        adjustment: None,
        p_bootstrap: None,
        positives: None,
        replicates: None,
        comparison,
    }
}

/// The row of a bootstrap estimate of one model.
pub fn estimate_row(model: &str, key: RowKey, e: &Estimate) -> MetricRow {
    row(
        Subject::Model(model),
        key,
        e.value,
        (e.ci_low, e.ci_high),
        e.n,
        None,
    )
}

/// A paired bootstrap delta with the Monte Carlo detail of its p-value (`None` when undefined).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDelta {
    pub delta: Delta,
    pub p: Option<BootstrapPValue>,
}

/// The row of a paired bootstrap delta.
pub fn delta_row(cmp: &Comparison, key: RowKey, d: &PairedDelta) -> MetricRow {
    let mut r = row(
        Subject::Comparison(cmp),
        key,
        d.delta.value,
        (d.delta.ci_low, d.delta.ci_high),
        d.delta.n,
        d.p.map(|p| p.p),
    );
    r.p_bootstrap = r.p_value.and(d.p);
    r
}

/// Above this many items the jackknife of [`jackknife`] leaves out one of this many interleaved
/// groups (item `i` in group `i % JACKKNIFE_GROUPS`) instead of one item, so the acceleration
/// costs at most this many evaluations of the statistic (the grouped jackknife, Efron &
/// Tibshirani 1993 §11.5).
pub const JACKKNIFE_GROUPS: usize = 200;

/// Jackknife values of `stat` over `0..n` for the BCa acceleration (see [`JACKKNIFE_GROUPS`]).
pub fn jackknife<F: Fn(&[usize]) -> f64 + Sync>(n: usize, stat: F) -> Vec<f64> {
    use rayon::prelude::*;
    if n <= JACKKNIFE_GROUPS {
        return bca::jackknife(n, stat);
    }
    (0..JACKKNIFE_GROUPS)
        .into_par_iter()
        .map(|g| {
            let idx: Vec<usize> = (0..n).filter(|i| i % JACKKNIFE_GROUPS != g).collect();
            stat(&idx)
        })
        .collect()
}

/// The BCa interval of `estimate` from `resamples` and the jackknife of `stat`; NaN bounds when
/// the estimate is undefined or no resample is finite.
fn bca_bounds<F: Fn(&[usize]) -> f64 + Sync>(
    n: usize,
    boot: &BootstrapConfig,
    estimate: f64,
    resamples: &[f64],
    stat: F,
) -> (f64, f64) {
    if !estimate.is_finite() || resamples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    match bca::bca_interval(estimate, resamples, &jackknife(n, stat), boot.confidence) {
        Ok(i) => (i.low, i.high),
        Err(_) => (f64::NAN, f64::NAN),
    }
}

/// `stat` over all `n` items (or `full` when the point value is computed differently) with its
/// BCa interval over resampled items.
pub fn estimate<F: Fn(&[usize]) -> f64 + Sync>(
    n: usize,
    boot: &BootstrapConfig,
    full: Option<f64>,
    stat: F,
) -> Estimate {
    let all: Vec<usize> = (0..n).collect();
    let value = full.unwrap_or_else(|| stat(&all));
    let resamples = if value.is_finite() {
        stats::resampled(n, boot, &stat)
    } else {
        Vec::new()
    };
    let (ci_low, ci_high) = bca_bounds(n, boot, value, &resamples, &stat);
    Estimate {
        value,
        ci_low,
        ci_high,
        n,
    }
}

/// The paired delta `stat_b - stat_a` on the same resampled items (or `full` as its point
/// value), its BCa interval and its bootstrap p-value.
pub fn paired<FA, FB>(
    n: usize,
    boot: &BootstrapConfig,
    full: Option<f64>,
    stat_a: FA,
    stat_b: FB,
) -> PairedDelta
where
    FA: Fn(&[usize]) -> f64 + Sync,
    FB: Fn(&[usize]) -> f64 + Sync,
{
    let delta = |idx: &[usize]| stat_b(idx) - stat_a(idx);
    let all: Vec<usize> = (0..n).collect();
    let value = full.unwrap_or_else(|| delta(&all));
    let deltas: Vec<f64> = if value.is_finite() {
        stats::resampled(n, boot, delta)
            .into_iter()
            .filter(|d| d.is_finite())
            .collect()
    } else {
        Vec::new()
    };
    let p = BootstrapPValue::from_deltas(&deltas);
    let (ci_low, ci_high) = bca_bounds(n, boot, value, &deltas, delta);
    PairedDelta {
        delta: Delta {
            value,
            ci_low,
            ci_high,
            p_value: p.map_or(f64::NAN, |p| p.p),
            n,
        },
        p,
    }
}

/// The header of the tidy CSV, in order (`report::csv` and the TUI's Overview export).
/// `p_adjusted` / `adjustment` (`holm`, `bh` or empty) come from [`crate::eval::metrics::adjust`];
/// `replicates` / `replicate_sd` from [`crate::eval::groups`] (1 and empty for a plain model).
pub const COLUMNS: [&str; 14] = [
    "model",
    "dataset",
    "task",
    "setting",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "p_value",
    "p_adjusted",
    "adjustment",
    "replicates",
    "replicate_sd",
];

/// One optional number as a CSV cell: empty when undefined.
pub fn cell(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The cells of one row, in [`COLUMNS`] order (the report's CSV and the TUI's Overview export).
pub fn record(r: &MetricRow) -> [String; 14] {
    [
        r.model.clone(),
        r.dataset.clone(),
        r.task.name().to_owned(),
        r.setting.label(),
        r.metric.clone(),
        cell(r.value),
        cell(r.ci_low),
        cell(r.ci_high),
        r.n.to_string(),
        cell(r.p_value),
        cell(r.p_adjusted),
        r.adjustment
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        groups::replicates_cell(r).to_string(),
        cell(groups::replicate_sd(r)),
    ]
}

/// A metric over resampled items: `stat(model, idx)`.
pub type StatFn<'a> = Box<dyn Fn(usize, &[usize]) -> f64 + Sync + 'a>;
/// A point value that differs from `stat(model, all items)` (e.g. subsampled uniformity).
pub type FullFn<'a> = Box<dyn Fn(usize) -> f64 + Sync + 'a>;

/// One bootstrapped metric: rows for every model, comparison rows for every later model.
pub struct Spec<'a> {
    pub task: Task,
    pub setting: Setting,
    pub metric: String,
    pub n: usize,
    pub stat: StatFn<'a>,
    pub full: Option<FullFn<'a>>,
    /// Whether the items line up across models (same manifest rows), so deltas can be paired.
    pub paired: bool,
}

impl<'a> Spec<'a> {
    pub fn new(
        task: Task,
        setting: Setting,
        metric: impl Into<String>,
        n: usize,
        paired: bool,
        stat: impl Fn(usize, &[usize]) -> f64 + Sync + 'a,
    ) -> Self {
        Self {
            task,
            setting,
            metric: metric.into(),
            n,
            stat: Box::new(stat),
            full: None,
            paired,
        }
    }

    pub(crate) fn key<'k>(&'k self, dataset: &'k str) -> RowKey<'k> {
        RowKey {
            dataset,
            task: self.task,
            setting: &self.setting,
            metric: &self.metric,
        }
    }
}

/// Per-model rows (`[model][spec]`) and comparison rows of some specs.
pub type BootstrappedRows = (Vec<Vec<MetricRow>>, Vec<MetricRow>);

/// Bootstrap every spec for every model of `names`, and paired deltas of every later model against
/// the first (`[eval] compare = "first"`; [`bootstrap_group_rows`] for other pairs). Each spec is resampled from `boot`'s seed alone, so the result does not depend on
/// which other specs are bootstrapped in the same call.
pub fn bootstrap_rows(
    dataset: &str,
    names: &[String],
    boot: &BootstrapConfig,
    specs: &[Spec],
) -> BootstrappedRows {
    bootstrap_group_rows(dataset, names, &ModelGroups::singletons(names), boot, specs)
}

/// [`bootstrap_rows`] with replicate groups ([`crate::eval::groups`]): rows for every model
/// (replicate), then for every group of several replicates its mean row (appended to its last
/// replicate's rows) and comparison rows of the pairs `groups.pairs` ([`ModelGroups::with_compare`]). Two plain models
/// compare by the paired item bootstrap ([`paired`]); a comparison involving a replicate group by
/// the two-level bootstrap of [`crate::eval::inference::replicates`].
pub fn bootstrap_group_rows(
    dataset: &str,
    names: &[String],
    groups: &ModelGroups,
    boot: &BootstrapConfig,
    specs: &[Spec],
) -> BootstrappedRows {
    let never = std::sync::atomic::AtomicBool::new(false);
    bootstrap_group_rows_until(dataset, names, groups, boot, specs, &never)
}

/// [`bootstrap_group_rows`] that stops before the next spec once `cancel` is set (the rows so far
/// are returned; the caller discards them).
pub fn bootstrap_group_rows_until(
    dataset: &str,
    names: &[String],
    groups: &ModelGroups,
    boot: &BootstrapConfig,
    specs: &[Spec],
    cancel: &std::sync::atomic::AtomicBool,
) -> BootstrappedRows {
    let mut per_model: Vec<Vec<MetricRow>> = vec![Vec::new(); names.len()];
    let mut cmp = Vec::new();
    let gnames = groups.names();
    for spec in specs {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let key = spec.key(dataset);
        let values: Vec<Estimate> = (0..names.len())
            .map(|m| {
                let full = spec.full.as_ref().map(|f| f(m));
                estimate(spec.n, boot, full, |idx| (spec.stat)(m, idx))
            })
            .collect();
        for (m, e) in values.iter().enumerate() {
            per_model[m].push(estimate_row(&names[m], key, e));
        }
        for (g, members) in groups.members.iter().enumerate() {
            if !groups.is_single(g)
                && let Some(&last) = members.last()
            {
                per_model[last].push(super::group_rows::group_row(
                    &gnames[g], key, spec, members, &values, boot,
                ));
            }
        }
        if !spec.paired {
            continue;
        }
        for &(a, b) in &groups.pairs {
            let c = Comparison::new(&gnames[a], &gnames[b]);
            if groups.is_single(a) && groups.is_single(b) {
                let (ma, mb) = (groups.members[a][0], groups.members[b][0]);
                let full = spec
                    .full
                    .as_ref()
                    .map(|_| values[mb].value - values[ma].value);
                let d = paired(
                    spec.n,
                    boot,
                    full,
                    |idx| (spec.stat)(ma, idx),
                    |idx| (spec.stat)(mb, idx),
                );
                cmp.push(delta_row(&c, key, &d));
            } else {
                cmp.push(super::group_rows::group_delta_row(
                    &c,
                    key,
                    spec,
                    groups,
                    (a, b),
                    &values,
                    boot,
                ));
            }
        }
    }
    (per_model, cmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compared_pair_gets_the_rows_the_first_rule_gives_its_pair() {
        use crate::eval::groups::Compare;
        let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        // Per-item correctness: A 50 %, B 70 %, C 90 % of 60 items.
        let hits = |m: usize, i: usize| f64::from(u8::from(i % 10 < 5 + 2 * m));
        let spec = || {
            Spec::new(
                Task::Zeroshot,
                Setting::Argmax,
                "accuracy",
                60,
                true,
                move |m, idx: &[usize]| {
                    idx.iter().map(|&i| hits(m, i)).sum::<f64>() / idx.len() as f64
                },
            )
        };
        let boot = BootstrapConfig {
            resamples: 200,
            ..BootstrapConfig::default()
        };
        let first = ModelGroups::singletons(&names);
        let all = first.clone().with_compare(&Compare::Rule("all".into()));
        let (_, cmp_first) = bootstrap_group_rows("d", &names, &first, &boot, &[spec()]);
        let (_, cmp_all) = bootstrap_group_rows("d", &names, &all, &boot, &[spec()]);
        let labels: Vec<&str> = cmp_all.iter().map(|r| r.model.as_str()).collect();
        assert_eq!(labels, ["B - A", "C - A", "C - B"]);
        assert_eq!(cmp_all[..2], cmp_first[..], "the first pairs are unchanged");
        assert!(cmp_all.iter().all(|r| r.p_value.is_some()));
        let cb = &cmp_all[2];
        assert!((cb.value.unwrap() - 0.2).abs() < 1e-12, "{cb:?}");
        // Only the listed pair, baseline as written.
        let listed = first.with_compare(&Compare::Pairs(vec![["C".into(), "B".into()]]));
        let (_, cmp) = bootstrap_group_rows("d", &names, &listed, &boot, &[spec()]);
        assert_eq!(cmp.len(), 1);
        assert_eq!(cmp[0].model, "B - C");
        assert!((cmp[0].value.unwrap() + 0.2).abs() < 1e-12);
    }

    #[test]
    fn undefined_values_have_no_interval_or_p_and_comparisons_are_typed() {
        let s = Setting::Fraction(0.1);
        let key = RowKey {
            dataset: "d",
            task: Task::LinearProbe,
            setting: &s,
            metric: "accuracy",
        };
        let c = Comparison::new("CLIP", "eCLIP");
        let r = row(
            Subject::Comparison(&c),
            key,
            f64::NAN,
            (0.0, 1.0),
            3,
            Some(0.5),
        );
        assert_eq!((r.value, r.ci_low, r.p_value), (None, None, None));
        assert_eq!(r.model, "eCLIP - CLIP");
        assert_eq!(r.setting, Setting::Fraction(0.1));
        assert_eq!(record(&r)[3], "fraction=0.1");
        assert_eq!(r.comparison, Some(c));
        let r = row(Subject::Model("CLIP"), key, 0.5, (f64::NAN, 0.7), 3, None);
        assert_eq!((r.value, r.ci_low, r.ci_high), (Some(0.5), None, Some(0.7)));
        assert_eq!(r.comparison, None);
    }
}
