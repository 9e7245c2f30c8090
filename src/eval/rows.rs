/*!
The one row builder: every [`MetricRow`] — bootstrapped per-model rows, paired `B - A` rows, the
probes' seed-interval rows and the RAG rows — is made here, so "undefined" (non-finite → empty
cell), interval and p-value gating and the comparison label are decided once.

[`Spec`] + [`bootstrap_rows`] is the suite's form: a statistic over resampled items, evaluated for
every model and, when the items pair up, as a paired delta of every later model against the first.
*/
use serde::{Deserialize, Serialize};

use super::MetricRow;
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
        task: key.task.name().to_owned(),
        setting: key.setting.label(),
        metric: key.metric.to_owned(),
        value,
        ci_low: value.and(finite(lo)),
        ci_high: value.and(finite(hi)),
        n,
        p_value: value.and(p.and_then(finite)),
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

/// The row of a paired bootstrap delta.
pub fn delta_row(cmp: &Comparison, key: RowKey, d: &Delta) -> MetricRow {
    row(
        Subject::Comparison(cmp),
        key,
        d.value,
        (d.ci_low, d.ci_high),
        d.n,
        Some(d.p_value),
    )
}

/// The header of the tidy CSV, in order (`report::csv` and the TUI's Overview export).
pub const COLUMNS: [&str; 10] = [
    "model", "dataset", "task", "setting", "metric", "value", "ci_low", "ci_high", "n", "p_value",
];

/// One optional number as a CSV cell: empty when undefined.
pub fn cell(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The cells of one row, in [`COLUMNS`] order (the report's CSV and the TUI's Overview export).
pub fn record(r: &MetricRow) -> [String; 10] {
    [
        r.model.clone(),
        r.dataset.clone(),
        r.task.clone(),
        r.setting.clone(),
        r.metric.clone(),
        cell(r.value),
        cell(r.ci_low),
        cell(r.ci_high),
        r.n.to_string(),
        cell(r.p_value),
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

    fn key<'k>(&'k self, dataset: &'k str) -> RowKey<'k> {
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
/// the first. Each spec is resampled from `boot`'s seed alone, so the result does not depend on
/// which other specs are bootstrapped in the same call.
pub fn bootstrap_rows(
    dataset: &str,
    names: &[String],
    boot: &BootstrapConfig,
    specs: &[Spec],
) -> BootstrappedRows {
    let mut per_model: Vec<Vec<MetricRow>> = vec![Vec::new(); names.len()];
    let mut cmp = Vec::new();
    for spec in specs {
        let key = spec.key(dataset);
        let values: Vec<Estimate> = (0..names.len())
            .map(|m| {
                let mut e = stats::bootstrap(spec.n, boot, |idx| (spec.stat)(m, idx));
                if let Some(full) = &spec.full {
                    e.value = full(m);
                }
                e
            })
            .collect();
        for (m, e) in values.iter().enumerate() {
            per_model[m].push(estimate_row(&names[m], key, e));
        }
        if !spec.paired {
            continue;
        }
        for b in 1..names.len() {
            let mut d = stats::paired_bootstrap(
                spec.n,
                boot,
                |idx| (spec.stat)(0, idx),
                |idx| (spec.stat)(b, idx),
            );
            if spec.full.is_some() {
                d.value = values[b].value - values[0].value;
            }
            cmp.push(delta_row(&Comparison::new(&names[0], &names[b]), key, &d));
        }
    }
    (per_model, cmp)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.setting, "fraction=0.1");
        assert_eq!(r.comparison, Some(c));
        let r = row(Subject::Model("CLIP"), key, 0.5, (f64::NAN, 0.7), 3, None);
        assert_eq!((r.value, r.ci_low, r.ci_high), (Some(0.5), None, Some(0.7)));
        assert_eq!(r.comparison, None);
    }
}
