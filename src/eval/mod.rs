/*!
Evaluations: pure functions from embeddings to numbers, and the suite that runs them.

Nothing in here does I/O, touches ONNX Runtime, the terminal or CSV files: the inputs are arrays and
label vectors, the outputs are numbers and plain structs. That keeps every metric testable against
independent reference values (`tests/metric_refs.rs`) and lets the report and the TUI show the very
same numbers.

Layout: the metric functions (`classify`, `zeroshot`, `probe`, `retrieval`, `geometry`, `stats`);
the registry of metric names, directions and the verdict rule (`metrics`); the one row builder
(`rows`); the suite, one module per task family (`suite`); its result (`summary`); typed settings
(`config`). `eval` imports only `data` from the rest of the crate (checked by `tests/module_rules.rs`).
*/
pub mod classify;
pub mod config;
pub mod geometry;
mod group_rows;
pub mod groups;
pub mod inference;
pub mod metrics;
pub mod probe;
pub mod protocol;
pub mod retrieval;
pub mod rows;
pub mod saliency;
pub mod saliency_rows;
pub mod stats;
pub mod suite;
pub mod summary;
pub mod synthetic;
pub mod zeroshot;

use std::collections::BTreeMap;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// L2-normalised embeddings of one dataset split under one model; row `i` of `image` and `text` is
/// the pair of `rows[i]` (an index into `Dataset::rows`).
#[derive(Debug, Clone)]
pub struct SplitEmbeddings {
    pub rows: Vec<usize>,
    pub image: Array2<f32>,
    pub text: Array2<f32>,
}

/// L2-normalised prompt embeddings of one zero-shot class under one model.
#[derive(Debug, Clone)]
pub struct ClassPromptEmbeddings {
    pub name: String,
    pub positive: Array2<f32>,
    /// Empty (0 rows) when the class has no negative prompts.
    pub negative: Array2<f32>,
}

/// Everything one model contributes to the evaluation of one dataset.
#[derive(Debug, Clone)]
pub struct ModelEmbeddings {
    /// Model name from the config (e.g. "CLIP").
    pub model: String,
    /// Keyed by manifest split name.
    pub splits: BTreeMap<String, SplitEmbeddings>,
    /// In the order of `Dataset::zeroshot_classes`.
    pub prompts: Vec<ClassPromptEmbeddings>,
    /// The model's learned inverse temperature (`model.json` `logit_scale`, already exponentiated);
    /// zero-shot class probabilities are `softmax(logit_scale · cos)`. `None` when model.json has
    /// none: calibration rows are then left out with a note.
    pub logit_scale: Option<f64>,
}

/// One tidy result row: `model,dataset,task,setting,metric,value,ci_low,ci_high,n,p_value,
/// p_adjusted,adjustment` ([`rows::COLUMNS`]). `task` and `setting` are typed; they serialise to
/// their CSV strings ([`metrics::Task::name`], [`metrics::Setting::label`]) and are read back
/// through [`metrics::Setting::parse`] with the row's task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "wire::MetricRow")]
pub struct MetricRow {
    pub model: String,
    pub dataset: String,
    pub task: metrics::Task,
    pub setting: metrics::Setting,
    pub metric: String,
    /// `None` when the metric is undefined (e.g. AUROC of a class without positives).
    pub value: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: usize,
    /// Filled on comparison rows only.
    pub p_value: Option<f64>,
    /// The multiplicity-adjusted p-value (Holm over the primary metrics, BH over the other
    /// comparison rows of the same dataset and model pair; [`metrics::adjust`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_adjusted: Option<f64>,
    /// Which adjustment `p_adjusted` carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<inference::multiplicity::Adjustment>,
    /// The bootstrap p-value's Monte Carlo detail (MC standard error, resamples `B`, crossings);
    /// JSON only, shown as `< 1/B` when no resample crosses zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_bootstrap: Option<inference::pvalue::BootstrapPValue>,
    /// Positives of the class among the `n` items, on per-class rows (`f1:<class>`,
    /// `auroc:<class>`, `auroc_delong:<class>`); the minimum-n rule needs 10 of them for a verdict
    /// ([`metrics::sample_size`]). `None` on rows over all classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positives: Option<usize>,
    /// The (baseline, candidate) pair of a comparison row; `model` is then its label `<B> - <A>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<rows::Comparison>,
    /// Training replicates behind a group row or a group comparison row ([`groups`]); `None` for
    /// a plain model and a comparison of two plain models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates: Option<groups::ReplicateInfo>,
}

impl MetricRow {
    /// Whether this is a `B - A` comparison row.
    pub fn is_comparison(&self) -> bool {
        self.comparison.is_some()
    }
}

/// The serialised form of a [`MetricRow`]: the setting as its CSV label, typed once the task is
/// known.
mod wire {
    use serde::Deserialize;

    use super::{groups, inference, metrics, rows};

    #[derive(Deserialize)]
    pub(super) struct MetricRow {
        model: String,
        dataset: String,
        task: metrics::Task,
        setting: String,
        metric: String,
        value: Option<f64>,
        ci_low: Option<f64>,
        ci_high: Option<f64>,
        n: usize,
        p_value: Option<f64>,
        #[serde(default)]
        p_adjusted: Option<f64>,
        #[serde(default)]
        adjustment: Option<inference::multiplicity::Adjustment>,
        #[serde(default)]
        p_bootstrap: Option<inference::pvalue::BootstrapPValue>,
        #[serde(default)]
        positives: Option<usize>,
        #[serde(default)]
        comparison: Option<rows::Comparison>,
        #[serde(default)]
        replicates: Option<groups::ReplicateInfo>,
    }

    impl TryFrom<MetricRow> for super::MetricRow {
        type Error = String;

        fn try_from(w: MetricRow) -> Result<Self, String> {
            let setting = metrics::Setting::parse(w.task, &w.setting).ok_or_else(|| {
                format!(
                    "setting `{}` is not a setting of task `{}` (row {} / {} / {})",
                    w.setting, w.task, w.model, w.dataset, w.metric
                )
            })?;
            Ok(super::MetricRow {
                model: w.model,
                dataset: w.dataset,
                task: w.task,
                setting,
                metric: w.metric,
                value: w.value,
                ci_low: w.ci_low,
                ci_high: w.ci_high,
                n: w.n,
                p_value: w.p_value,
                p_adjusted: w.p_adjusted,
                adjustment: w.adjustment,
                p_bootstrap: w.p_bootstrap,
                positives: w.positives,
                comparison: w.comparison,
                replicates: w.replicates,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::metrics::{Setting, Task};
    use super::rows::{self, RowKey, Subject};
    use super::*;

    fn probe_row() -> MetricRow {
        let key = RowKey {
            dataset: "d",
            task: Task::LinearProbe,
            setting: &Setting::Fraction(1.0),
            metric: "macro_f1",
        };
        rows::row(Subject::Model("CLIP"), key, 0.5, (0.4, 0.6), 7, None)
    }

    #[test]
    fn rows_serialise_task_and_setting_as_their_csv_strings_and_read_back_typed() {
        let r = probe_row();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["task"], "linear_probe");
        assert_eq!(json["setting"], "fraction=1");
        let back: MetricRow = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.setting, Setting::Fraction(1.0));
        // The same label reads as a RAG generator under task `rag`.
        let mut json = serde_json::to_value(&r).unwrap();
        json["task"] = "rag".into();
        json["setting"] = "llm:m".into();
        let rag: MetricRow = serde_json::from_value(json).unwrap();
        assert_eq!(rag.setting, Setting::Generator("llm:m".into()));
    }

    #[test]
    fn a_setting_foreign_to_its_task_or_an_unknown_task_is_an_error_naming_it() {
        let mut json = serde_json::to_value(probe_row()).unwrap();
        json["setting"] = "argmax".into();
        let e = serde_json::from_value::<MetricRow>(json.clone())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`argmax`") && e.contains("`linear_probe`"),
            "{e}"
        );
        json["task"] = "probe".into();
        let e = serde_json::from_value::<MetricRow>(json)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown task `probe`"), "{e}");
    }
}
