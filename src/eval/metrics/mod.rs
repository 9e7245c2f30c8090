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
use serde::{Deserialize, Serialize};

use super::MetricRow;
use super::groups;
use super::inference::min_n::{MinimumN, SampleSize};
use super::inference::multiplicity::Adjustment;
use super::inference::pvalue::format_p;

mod key;
pub use key::{Setting, Task};

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
    /// The family's headline metric (one per task and setting kind): the one metric whose verdict
    /// is the family's verdict ([`family_verdicts`]), Holm-adjusted with the other primaries.
    pub primary: bool,
    /// The settings in which a primary metric is primary; empty: every setting.
    pub primary_in: &'static [Setting],
    pub format: Format,
}

const fn m(task: Task, name: &'static str, direction: Direction, primary: bool) -> MetricInfo {
    MetricInfo {
        task,
        name,
        direction,
        primary,
        primary_in: &[],
        format: Format::Score,
    }
}

/// A primary metric only in the settings `settings`.
const fn primary_in(
    task: Task,
    name: &'static str,
    direction: Direction,
    settings: &'static [Setting],
) -> MetricInfo {
    MetricInfo {
        primary_in: settings,
        ..m(task, name, direction, true)
    }
}

use Direction::{Descriptive, HigherBetter, LowerBetter};

/// Every metric the suite and the RAG task emit. Primary metrics (issue 12): zero-shot argmax
/// macro-F1, zero-shot pos/neg macro AUROC, retrieval R@10 per direction (`i2t`, `t2i`), probe
/// macro-F1 per label fraction, RAG micro label F1 per generator, geometry the modality gap (the
/// one geometry metric judged before); gap-shift rows are descriptive.
pub const REGISTRY: &[MetricInfo] = &[
    m(Task::Zeroshot, "accuracy", HigherBetter, false),
    m(Task::Zeroshot, "balanced_accuracy", HigherBetter, false),
    primary_in(Task::Zeroshot, "macro_f1", HigherBetter, &[Setting::Argmax]),
    m(Task::Zeroshot, "f1:", HigherBetter, false),
    primary_in(
        Task::Zeroshot,
        "macro_auroc",
        HigherBetter,
        &[Setting::Posneg],
    ),
    m(Task::Zeroshot, "auroc:", HigherBetter, false),
    // DeLong's paired test of a per-class posneg AUROC delta (comparison rows only).
    m(Task::Zeroshot, "auroc_delong:", HigherBetter, false),
    // Calibration of softmax(logit_scale · cos) on the argmax split (eval::inference::calibration).
    m(Task::Zeroshot, "ece", LowerBetter, false),
    m(Task::Zeroshot, "brier", LowerBetter, false),
    m(Task::Retrieval, "r@1", HigherBetter, false),
    m(Task::Retrieval, "r@5", HigherBetter, false),
    primary_in(
        Task::Retrieval,
        "r@10",
        HigherBetter,
        &[Setting::I2t, Setting::T2i],
    ),
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
    m(Task::LinearProbe, "accuracy", HigherBetter, false),
    m(Task::LinearProbe, "macro_f1", HigherBetter, true),
    m(Task::LinearProbe, "macro_auroc", HigherBetter, false),
    // The α chosen on validation (median over seeds; descriptive, never judged): `alpha` of the
    // single-label probe, `alpha_multilabel` of the per-label probes.
    m(Task::LinearProbe, "alpha", Descriptive, false),
    m(Task::LinearProbe, "alpha_multilabel", Descriptive, false),
    m(Task::Rag, "bleu2", HigherBetter, false),
    m(Task::Rag, "bleu4", HigherBetter, false),
    m(Task::Rag, "sentence_bleu2", HigherBetter, false),
    m(Task::Rag, "meteor", HigherBetter, false),
    // The eCLIP authors' METEOR: one NLTK METEOR over the list of reports (rag::text_metrics).
    m(Task::Rag, "meteor_listwise", HigherBetter, false),
    m(Task::Rag, "rougeL", HigherBetter, false),
    m(Task::Rag, "label_f1_micro", HigherBetter, true),
    m(Task::Rag, "label_f1_macro", HigherBetter, false),
    // Only with `[rag] text_encoder` (docs/rag.md): BERTScore without idf or baseline rescaling,
    // and the cosine of the encoder's pooled embeddings of generated vs reference report.
    m(Task::Rag, "bertscore_p", HigherBetter, false),
    m(Task::Rag, "bertscore_r", HigherBetter, false),
    m(Task::Rag, "bertscore_f1", HigherBetter, false),
    m(Task::Rag, "embedding_cosine", HigherBetter, false),
    // Saliency agreement (docs/saliency.md): NSS is the family's primary metric; `<m>:<finding>`
    // is the same metric over the items of one finding.
    m(Task::Saliency, "nss", HigherBetter, true),
    m(Task::Saliency, "cc", HigherBetter, false),
    m(Task::Saliency, "kl", LowerBetter, false),
    m(Task::Saliency, "sim", HigherBetter, false),
    m(Task::Saliency, "auc_judd", HigherBetter, false),
    m(Task::Saliency, "nss:", HigherBetter, false),
    m(Task::Saliency, "cc:", HigherBetter, false),
    m(Task::Saliency, "kl:", LowerBetter, false),
    m(Task::Saliency, "sim:", HigherBetter, false),
    m(Task::Saliency, "auc_judd:", HigherBetter, false),
];

/// The registry entry of (`task`, `metric`), matching per-label prefixes; `None` when unknown.
pub fn lookup(task: Task, metric: &str) -> Option<&'static MetricInfo> {
    REGISTRY.iter().find(|i| {
        i.task == task
            && (i.name == metric || (i.name.ends_with(':') && metric.starts_with(i.name)))
    })
}

/// Whether (`task`, `setting`, `metric`) is its family's primary metric (see [`REGISTRY`]).
pub fn is_primary(task: Task, setting: &Setting, metric: &str) -> bool {
    lookup(task, metric)
        .is_some_and(|i| i.primary && (i.primary_in.is_empty() || i.primary_in.contains(setting)))
}

/// The direction of (`task`, `metric`); unknown metrics are descriptive (never judged).
pub fn direction(task: Task, metric: &str) -> Direction {
    lookup(task, metric).map_or(Descriptive, |i| i.direction)
}

/// The display format of (`task`, `metric`) (scores when unknown).
pub fn format(task: Task, metric: &str) -> Format {
    lookup(task, metric).map_or(Format::Score, |i| i.format)
}

/// The significance level of the verdict rule.
pub const ALPHA: f64 = 0.05;

/// The minimum-n rule of every verdict: fewer items than this on a comparison row, or fewer
/// positives on a per-class row, give [`Verdict::TooFewItems`] (issue 12; [`MinimumN::DEFAULT`],
/// 30 items, 10 positives).
pub const MINIMUM_N: MinimumN = MinimumN::DEFAULT;

/// The multiplicity adjustment, in place, over every comparison row of `rows`: per dataset and
/// model pair, Holm (family-wise error) over the primary metrics ([`is_primary`]) and
/// Benjamini–Hochberg (false discovery rate) over all other comparison rows with a p-value.
/// Idempotent: earlier adjustments are recomputed from `p_value`, so a caller may call it again
/// after adding rows (the RAG rows, the TUI's families as they finish).
pub fn adjust(rows: &mut [MetricRow]) {
    let mut groups: Vec<(String, String)> = Vec::new();
    for r in rows.iter_mut() {
        r.p_adjusted = None;
        r.adjustment = None;
        if r.is_comparison() && !groups.contains(&(r.dataset.clone(), r.model.clone())) {
            groups.push((r.dataset.clone(), r.model.clone()));
        }
    }
    for (dataset, model) in groups {
        for (method, primary) in [
            (Adjustment::Holm, true),
            (Adjustment::BenjaminiHochberg, false),
        ] {
            let members: Vec<usize> = (0..rows.len())
                .filter(|&i| {
                    let r = &rows[i];
                    r.is_comparison()
                        && r.dataset == dataset
                        && r.model == model
                        && r.p_value.is_some()
                        && is_primary(r.task, &r.setting, &r.metric) == primary
                })
                .collect();
            let p: Vec<Option<f64>> = members.iter().map(|&i| rows[i].p_value).collect();
            // p-values come from the row builder, finite and in (0, 1]; anything else stays
            // unadjusted (and therefore unjudged by the adjusted rule) rather than panicking.
            if let Ok(adjusted) = method.apply(&p) {
                for (&i, q) in members.iter().zip(adjusted) {
                    rows[i].p_adjusted = q;
                    rows[i].adjustment = q.map(|_| method);
                }
            }
        }
    }
}

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
    /// Fewer items (or, on a per-class row, fewer positives) than [`MINIMUM_N`] asks for: no
    /// verdict, whatever the p-value ([`sample_size`] says which).
    TooFewItems,
    /// Significant for the group means, but the replicates of the pair disagree in the sign of
    /// the delta (some replicate pairs have `B > A`, others `B < A`; [`groups::sign_check`]): no
    /// directional verdict from a mean the replicates themselves contradict.
    ReplicatesDisagree,
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

    /// The verdict of a comparison row, the one every output shows (review, stdout table, TUI
    /// colours, quit summary): its registry direction, its interval, its multiplicity-adjusted
    /// p-value ([`adjust`]; the raw one only on rows that were never adjusted), and the
    /// minimum-n rule on its items, then the replicates' sign check: a better/worse verdict of a
    /// group comparison whose replicates disagree in sign is [`Verdict::ReplicatesDisagree`].
    pub fn of_row(row: &MetricRow) -> Verdict {
        let verdict = Verdict::of(
            direction(row.task, &row.metric),
            row.value,
            row.ci_low.zip(row.ci_high),
            verdict_p(row),
        );
        match verdict {
            Verdict::NotJudged => Verdict::NotJudged,
            _ if !sample_size(row).is_enough() => Verdict::TooFewItems,
            Verdict::Better | Verdict::Worse
                if groups::sign_check(row).is_some_and(|s| s.disagrees()) =>
            {
                Verdict::ReplicatesDisagree
            }
            v => v,
        }
    }

    /// A short word for tables.
    pub const fn word(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoDifference => "no significant difference",
            Verdict::NotJudged => "not judged",
            Verdict::TooFewItems => "too few items",
            Verdict::ReplicatesDisagree => "replicates disagree",
        }
    }
}

/// The p-value the verdict uses: the adjusted one where [`adjust`] set it.
pub fn verdict_p(row: &MetricRow) -> Option<f64> {
    if row.adjustment.is_some() {
        row.p_adjusted
    } else {
        row.p_value
    }
}

/// The minimum-n check of a row: its `n` items and, on a per-class row, the class's positives
/// ([`MetricRow::positives`]) against [`MINIMUM_N`] (30 items, 10 positives).
pub fn sample_size(row: &MetricRow) -> SampleSize {
    MINIMUM_N.check(row.n, row.positives)
}

/// The raw p-value as shown: `< 1/B` when no resample crossed zero, else two significant digits;
/// empty when undefined.
pub fn p_text(row: &MetricRow) -> String {
    match (row.p_bootstrap, row.p_value) {
        (Some(b), _) => b.to_string(),
        (None, Some(p)) => format_p(p),
        (None, None) => String::new(),
    }
}

/// The adjusted p-value as shown, with its procedure (`0.036 holm`); empty when unadjusted.
pub fn p_adjusted_text(row: &MetricRow) -> String {
    match (row.p_adjusted, row.adjustment) {
        (Some(q), Some(a)) => format!("{} {}", format_p(q), a.as_str()),
        _ => String::new(),
    }
}

/// One family's verdict for one model pair: the verdict of its primary metric's comparison row.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyVerdict<'a> {
    pub dataset: &'a str,
    /// The comparison label, `<B> - <A>`.
    pub comparison: &'a str,
    pub task: Task,
    pub setting: &'a Setting,
    pub metric: &'a str,
    pub row: &'a MetricRow,
    pub verdict: Verdict,
    /// Training replicates per model behind the verdict: the fewer of the two groups' replicates
    /// (1: one trained model per name; [`groups::replicates_cell`]).
    pub replicates: usize,
}

/// Every family verdict of `rows`, in row order: one per primary-metric comparison row
/// (per dataset, model pair, task and setting). Both the review and the TUI read this.
pub fn family_verdicts(rows: &[MetricRow]) -> Vec<FamilyVerdict<'_>> {
    rows.iter()
        .filter(|r| r.is_comparison() && is_primary(r.task, &r.setting, &r.metric))
        .map(|r| FamilyVerdict {
            dataset: &r.dataset,
            comparison: &r.model,
            task: r.task,
            setting: &r.setting,
            metric: &r.metric,
            row: r,
            verdict: Verdict::of_row(r),
            replicates: groups::replicates_cell(r),
        })
        .collect()
}

#[cfg(test)]
mod tests;
