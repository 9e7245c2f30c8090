/*!
The metric registry: for every metric the workbench reports, its task family, which way is better,
whether it is the family's primary metric and how it is shown — and the one rule that turns a
comparison row into a verdict.

Everything that judges or formats a number reads this module: the CSV and JSON (task and setting
strings), the stdout and quit summary tables, the TUI's colours and the review's verdicts. Adding a
metric means adding one [`MetricInfo`] line to [`REGISTRY`]; a name the registry does not know is
"higher is better" only if it is a score of the generic kind (see [`info`]).

Settings are typed ([`Setting`]) while rows are built and formatted to their CSV string only at the
row edge ([`Setting::label`]), so `fraction=1` or `lambda=-0.5` are never parsed back by consumers.
*/
use std::fmt;

use serde::{Deserialize, Serialize};

use super::MetricRow;

/// The task families, in the order the suite runs them (RAG last, after the suite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Task {
    Zeroshot,
    Retrieval,
    Geometry,
    GapShift,
    LinearProbe,
    Rag,
}

impl Task {
    /// Every task, in report order.
    pub const ALL: [Task; 6] = [
        Task::Zeroshot,
        Task::Retrieval,
        Task::Geometry,
        Task::GapShift,
        Task::LinearProbe,
        Task::Rag,
    ];

    /// The `task` column of the CSV.
    pub const fn name(self) -> &'static str {
        match self {
            Task::Zeroshot => "zeroshot",
            Task::Retrieval => "retrieval",
            Task::Geometry => "geometry",
            Task::GapShift => "gap_shift",
            Task::LinearProbe => "linear_probe",
            Task::Rag => "rag",
        }
    }

    /// The task of a `task` column value.
    pub fn parse(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The progress stage that finishes the task's rows (`Progress::stage`).
    pub const fn stage(self) -> &'static str {
        match self {
            Task::Zeroshot => "zero-shot",
            Task::Retrieval => "retrieval",
            Task::Geometry => "geometry",
            Task::GapShift => "gap shift",
            Task::LinearProbe => "linear probe",
            Task::Rag => "rag",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The setting of a row: which variant of its task produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Setting {
    /// No variant (geometry).
    None,
    /// Zero-shot argmax over class embeddings, single-positive split.
    Argmax,
    /// Zero-shot CheXzero positive/negative softmax, test split.
    Posneg,
    I2t,
    T2i,
    I2tUnique,
    /// Gap-shift sweep point.
    Lambda(f64),
    /// Linear-probe label fraction.
    Fraction(f64),
    /// RAG generator (`top1`, `centroid`, `llm:<model>`).
    Generator(String),
}

impl Setting {
    /// The `setting` column of the CSV (f64s in Rust's shortest round-trip form).
    pub fn label(&self) -> String {
        match self {
            Setting::None => String::new(),
            Setting::Argmax => "argmax".into(),
            Setting::Posneg => "posneg".into(),
            Setting::I2t => "i2t".into(),
            Setting::T2i => "t2i".into(),
            Setting::I2tUnique => "i2t_unique".into(),
            Setting::Lambda(l) => format!("lambda={l}"),
            Setting::Fraction(f) => format!("fraction={f}"),
            Setting::Generator(g) => g.clone(),
        }
    }

    /// The typed setting of a row of `task` (the inverse of [`Setting::label`]).
    pub fn parse(task: Task, label: &str) -> Option<Setting> {
        let num = |prefix: &str| label.strip_prefix(prefix)?.parse::<f64>().ok();
        Some(match (task, label) {
            (Task::Geometry, "") => Setting::None,
            (Task::Zeroshot, "argmax") => Setting::Argmax,
            (Task::Zeroshot, "posneg") => Setting::Posneg,
            (Task::Retrieval, "i2t") => Setting::I2t,
            (Task::Retrieval, "t2i") => Setting::T2i,
            (Task::Retrieval, "i2t_unique") => Setting::I2tUnique,
            (Task::GapShift, _) => Setting::Lambda(num("lambda=")?),
            (Task::LinearProbe, _) => Setting::Fraction(num("fraction=")?),
            (Task::Rag, g) => Setting::Generator(g.to_owned()),
            _ => return None,
        })
    }
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    HigherBetter,
    LowerBetter,
    /// Shown, never judged (cone, unmatched cosine, gap-shift re-measurements).
    Descriptive,
}

/// The kind of a metric's values (tables format every kind by magnitude; figures use the kind for
/// their axes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// A score on a 0–1 scale, or a cosine / distance of L2-normalised vectors.
    Score,
    /// A 1-based rank.
    Rank,
}

/// What the registry knows about one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    pub task: Task,
    /// Metric name, or a prefix ending in `:` for per-label metrics (`f1:`, `auroc:`).
    pub name: &'static str,
    pub direction: Direction,
    /// The family's headline metric (one per task and setting kind).
    pub primary: bool,
    pub format: Format,
}

const fn m(task: Task, name: &'static str, direction: Direction, primary: bool) -> MetricInfo {
    MetricInfo {
        task,
        name,
        direction,
        primary,
        format: Format::Score,
    }
}

use Direction::{Descriptive, HigherBetter, LowerBetter};

/// Every metric the suite and the RAG task emit.
pub const REGISTRY: &[MetricInfo] = &[
    m(Task::Zeroshot, "accuracy", HigherBetter, true),
    m(Task::Zeroshot, "balanced_accuracy", HigherBetter, false),
    m(Task::Zeroshot, "macro_f1", HigherBetter, false),
    m(Task::Zeroshot, "f1:", HigherBetter, false),
    m(Task::Zeroshot, "macro_auroc", HigherBetter, true),
    m(Task::Zeroshot, "auroc:", HigherBetter, false),
    // DeLong's paired test of a per-class posneg AUROC delta (comparison rows only).
    m(Task::Zeroshot, "auroc_delong:", HigherBetter, false),
    // Calibration of softmax(logit_scale · cos) on the argmax split (eval::inference::calibration).
    m(Task::Zeroshot, "ece", LowerBetter, false),
    m(Task::Zeroshot, "brier", LowerBetter, false),
    m(Task::Retrieval, "r@1", HigherBetter, true),
    m(Task::Retrieval, "r@5", HigherBetter, false),
    m(Task::Retrieval, "r@10", HigherBetter, false),
    MetricInfo {
        format: Format::Rank,
        ..m(Task::Retrieval, "median_rank", LowerBetter, false)
    },
    m(Task::Retrieval, "mrr", HigherBetter, false),
    m(Task::Geometry, "modality_gap", LowerBetter, true),
    m(Task::Geometry, "alignment", LowerBetter, false),
    m(Task::Geometry, "uniformity_image", LowerBetter, false),
    m(Task::Geometry, "uniformity_text", LowerBetter, false),
    m(Task::Geometry, "cone_image", Descriptive, false),
    m(Task::Geometry, "cone_text", Descriptive, false),
    m(Task::Geometry, "mean_cos_matched", HigherBetter, false),
    m(Task::Geometry, "mean_cos_unmatched", Descriptive, false),
    m(Task::GapShift, "modality_gap", Descriptive, false),
    m(Task::GapShift, "r@1", Descriptive, false),
    m(Task::GapShift, "zeroshot_accuracy", Descriptive, false),
    m(Task::LinearProbe, "accuracy", HigherBetter, true),
    m(Task::LinearProbe, "macro_f1", HigherBetter, false),
    m(Task::LinearProbe, "macro_auroc", HigherBetter, true),
    m(Task::Rag, "bleu2", HigherBetter, true),
    m(Task::Rag, "bleu4", HigherBetter, false),
    m(Task::Rag, "rougeL", HigherBetter, false),
    m(Task::Rag, "label_f1_micro", HigherBetter, false),
    m(Task::Rag, "label_f1_macro", HigherBetter, false),
];

/// The registry entry of (`task`, `metric`), matching per-label prefixes; `None` when unknown.
pub fn lookup(task: &str, metric: &str) -> Option<&'static MetricInfo> {
    let task = Task::parse(task)?;
    REGISTRY.iter().find(|i| {
        i.task == task
            && (i.name == metric || (i.name.ends_with(':') && metric.starts_with(i.name)))
    })
}

/// The direction of (`task`, `metric`); unknown metrics are descriptive (never judged).
pub fn direction(task: &str, metric: &str) -> Direction {
    lookup(task, metric).map_or(Descriptive, |i| i.direction)
}

/// The display format of (`task`, `metric`) (scores when unknown).
pub fn format(task: &str, metric: &str) -> Format {
    lookup(task, metric).map_or(Format::Score, |i| i.format)
}

/// The significance level of the verdict rule.
pub const ALPHA: f64 = 0.05;

/// The verdict of one comparison `B - A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Significant in the metric's good direction.
    Better,
    /// Significant in the bad direction.
    Worse,
    /// Judged, not significant.
    NoDifference,
    /// The metric has no good direction, or the delta is undefined or has neither an interval nor
    /// a p-value.
    NotJudged,
}

impl Verdict {
    /// The one rule: a delta is judged when its metric has a good direction and the delta has a
    /// value and an interval or a p-value; it is significant when the interval excludes 0 and
    /// p < [`ALPHA`] (each where present), then better or worse by `direction`.
    pub fn of(
        direction: Direction,
        value: Option<f64>,
        ci: Option<(f64, f64)>,
        p: Option<f64>,
    ) -> Verdict {
        let Some(v) = value else {
            return Verdict::NotJudged;
        };
        if direction == Descriptive || (ci.is_none() && p.is_none()) {
            return Verdict::NotJudged;
        }
        let ci_excludes = ci.is_none_or(|(lo, hi)| lo > 0.0 || hi < 0.0);
        let p_small = p.is_none_or(|p| p < ALPHA);
        if !(ci_excludes && p_small) || v == 0.0 {
            return Verdict::NoDifference;
        }
        match (direction, v > 0.0) {
            (HigherBetter, true) | (LowerBetter, false) => Verdict::Better,
            _ => Verdict::Worse,
        }
    }

    /// The verdict of a comparison row (by its registry direction).
    pub fn of_row(row: &MetricRow) -> Verdict {
        Verdict::of(
            direction(&row.task, &row.metric),
            row.value,
            row.ci_low.zip(row.ci_high),
            row.p_value,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_their_labels() {
        for (task, s) in [
            (Task::Geometry, Setting::None),
            (Task::Zeroshot, Setting::Argmax),
            (Task::Retrieval, Setting::I2tUnique),
            (Task::GapShift, Setting::Lambda(-0.5)),
            (Task::LinearProbe, Setting::Fraction(1.0)),
            (Task::Rag, Setting::Generator("llm:mistral".into())),
        ] {
            assert_eq!(Setting::parse(task, &s.label()), Some(s));
        }
        assert_eq!(Setting::Fraction(1.0).label(), "fraction=1");
        assert_eq!(Setting::Lambda(0.5).label(), "lambda=0.5");
        assert_eq!(Setting::parse(Task::Zeroshot, "nonsense"), None);
    }

    #[test]
    fn registry_covers_prefixes_and_each_family_has_a_primary() {
        assert_eq!(direction("zeroshot", "f1:edema"), HigherBetter);
        assert_eq!(direction("geometry", "modality_gap"), LowerBetter);
        assert_eq!(direction("gap_shift", "modality_gap"), Descriptive);
        assert_eq!(direction("geometry", "cone_text"), Descriptive);
        assert_eq!(direction("retrieval", "median_rank"), LowerBetter);
        assert_eq!(direction("nope", "accuracy"), Descriptive);
        for task in Task::ALL {
            if task != Task::GapShift {
                assert!(
                    REGISTRY.iter().any(|i| i.task == task && i.primary),
                    "{task}"
                );
            }
        }
        for (i, a) in REGISTRY.iter().enumerate() {
            assert!(
                !REGISTRY[..i]
                    .iter()
                    .any(|b| b.task == a.task && b.name == a.name),
                "{} {} twice",
                a.task,
                a.name
            );
        }
    }

    #[test]
    fn verdict_needs_interval_and_p_and_follows_the_direction() {
        let v = |d, value: f64, ci, p| Verdict::of(d, Some(value), ci, p);
        assert_eq!(
            v(HigherBetter, 0.1, Some((0.05, 0.2)), Some(0.01)),
            Verdict::Better
        );
        assert_eq!(
            v(LowerBetter, 0.1, Some((0.05, 0.2)), Some(0.01)),
            Verdict::Worse
        );
        assert_eq!(
            v(LowerBetter, -0.1, Some((-0.2, -0.05)), Some(0.01)),
            Verdict::Better
        );
        // Interval excludes 0 but p is not small: no difference.
        assert_eq!(
            v(HigherBetter, 0.1, Some((0.01, 0.2)), Some(0.06)),
            Verdict::NoDifference
        );
        // Interval covers 0: no difference.
        assert_eq!(
            v(HigherBetter, 0.1, Some((-0.01, 0.2)), Some(0.01)),
            Verdict::NoDifference
        );
        // Only a p-value (no interval): p decides.
        assert_eq!(v(HigherBetter, 0.1, None, Some(0.01)), Verdict::Better);
        assert_eq!(v(HigherBetter, 0.1, None, None), Verdict::NotJudged);
        assert_eq!(
            v(Descriptive, 0.1, Some((0.05, 0.2)), Some(0.01)),
            Verdict::NotJudged
        );
        assert_eq!(
            Verdict::of(HigherBetter, None, None, Some(0.01)),
            Verdict::NotJudged
        );
    }
}
