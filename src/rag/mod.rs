/*!
Retrieval-augmented report generation (RAG) and report-quality metrics, as in the eCLIP paper: a test
image's embedding retrieves reports from the training split, a generator writes a report from them,
and the result is scored against the image's ground-truth report. Better embeddings should retrieve
better snippets and so give better reports.

This module owns the task end to end and is self-contained: [`run`] takes a loaded dataset and the
models' embeddings and returns tidy [`MetricRow`]s (task `rag`, setting = generator) plus per-item
results the TUI shows. Pieces, each pure where it can be:
- [`select`]: top `k·m` corpus reports by cosine → KMeans → `k` snippets;
- generators: `top1` (the best-ranked report), `centroid` (the snippet nearest the snippets'
  centroid), and `llm` / `llm:<model>` through [`llm`] with the [`prompt`] template;
- [`text_metrics`]: corpus BLEU-2/4 and ROUGE-L; [`labeler`]: negation-aware findings and label F1;
- [`export`]: CXR-Report-Metric CSVs.

Confidence intervals and paired `B - A` deltas use `eval::stats` (resampling queries; corpus BLEU is
recomputed on each resample from summed statistics).
*/
pub mod config;
pub mod export;
pub mod labeler;
pub mod llm;
mod pipeline;
pub mod prompt;
mod score;
pub mod select;
pub mod text_metrics;

pub use config::{LlmConfig, RagConfig};
pub use labeler::Finding;
pub use pipeline::run;

use crate::eval::MetricRow;

/// One query's result under one model and generator.
#[derive(Debug, Clone, PartialEq)]
pub struct RagItem {
    /// Index into `Dataset::rows` of the query.
    pub row: usize,
    /// The retrieved snippets, best-ranked first.
    pub snippets: Vec<String>,
    /// The generated report; empty when `error` is set.
    pub generated: String,
    /// The ground-truth report.
    pub reference: String,
    pub generated_findings: Vec<Finding>,
    pub reference_findings: Vec<Finding>,
    /// Why no report was generated (LLM failure); such items are left out of the metrics.
    pub error: Option<String>,
}

/// All items of one model under one generator.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRag {
    pub model: String,
    /// Generator setting (`top1`, `centroid`, `llm:<model>`).
    pub generator: String,
    pub items: Vec<RagItem>,
}

/// What [`run`] returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RagSummary {
    pub rows: Vec<MetricRow>,
    pub per_model: Vec<ModelRag>,
    /// Things a reader should know: failed items, shrunken k, cache use.
    pub notes: Vec<String>,
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RagProgress {
    pub model: String,
    /// `retrieve`, `generate:<setting>`, `score`.
    pub stage: String,
    pub done: usize,
    pub total: usize,
}

/// Why the RAG task could not run at all (per-item LLM failures are not errors: see [`RagItem::error`]).
#[derive(Debug, thiserror::Error)]
pub enum RagError {
    #[error(
        "model {model}: no embeddings for split {split:?} of dataset {dataset} (check [rag] corpus_split/query_split and the dataset's [splits])"
    )]
    MissingSplit {
        model: String,
        dataset: String,
        split: String,
    },
    #[error("dataset {dataset}: split {split:?} has no reports to use as the {role}")]
    Empty {
        dataset: String,
        split: String,
        role: &'static str,
    },
    #[error(
        "model {model}: embeddings of split {split:?} do not match the dataset rows ({reason})"
    )]
    Shape {
        model: String,
        split: String,
        reason: String,
    },
    #[error("model {model}: snippet selection failed: {source}")]
    Select {
        model: String,
        source: select::SelectError,
    },
    #[error("unknown RAG generator {0:?} (use top1, centroid, llm or llm:<model>)")]
    UnknownGenerator(String),
    #[error(transparent)]
    Template(#[from] prompt::TemplateError),
    #[error("cannot write {path}: {source}")]
    Export {
        path: String,
        source: std::io::Error,
    },
}
