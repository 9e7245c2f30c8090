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
- [`text_metrics`]: corpus BLEU-2/4, ROUGE-L, NLTK-style sentence BLEU and METEOR (stems from
  [`porter`]); [`labeler`]: negation-aware findings and label F1 from the dataset's rules;
- [`encoder`]: the optional separate text encoder (`[rag] text_encoder`, behind the
  [`TextEncoding`] trait): KMeans on its pooled embeddings (`cluster_with = "text_encoder"`) and
  the [`bertscore`] / embedding-cosine rows;
- [`export`]: CXR-Report-Metric CSVs.

Confidence intervals and paired `B - A` deltas use `eval::stats` (resampling queries; corpus BLEU is
recomputed on each resample from summed statistics).
*/
pub mod bertscore;
pub(crate) mod config;
pub(crate) mod encoder;
pub(crate) mod export;
pub mod labeler;
pub mod llm;
#[allow(unreachable_pub)] // not yet narrowed
mod pipeline;
pub mod porter;
pub(crate) mod prompt;
#[allow(unreachable_pub)] // not yet narrowed
mod score;
pub mod select;
pub mod text_metrics;

pub use config::{ClusterWith, LlmConfig, RagConfig};
pub(crate) use encoder::{TextEncoding, TokenStates};
pub(crate) use labeler::Finding;
pub use pipeline::{problems, run, run_with, run_with_corpus};

use std::path::Path;

use ndarray::Array2;

use crate::eval::MetricRow;

/// A text-only retrieval corpus from outside the dataset, with each model's L2-normalised text
/// embeddings of `texts` (row `i` embeds `texts[i]`), e.g. from `Model::encode_texts`.
#[derive(Debug, Clone)]
pub struct ExternalCorpus {
    /// Shown in errors and notes (e.g. the CSV path).
    pub name: String,
    pub texts: Vec<String>,
    /// `(model name, embeddings)`.
    pub embeddings: Vec<(String, Array2<f32>)>,
}

/// The unique non-empty `report` column values of a corpus CSV (e.g. `eclip-iu-xray` output), in file
/// order.
pub fn load_corpus_csv(path: &Path) -> Result<Vec<String>, RagError> {
    let err = |reason: String| RagError::Corpus {
        path: path.display().to_string(),
        reason,
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
    let col = rdr
        .headers()
        .map_err(|e| err(e.to_string()))?
        .iter()
        .position(|h| h == "report")
        .ok_or_else(|| err("no `report` column (expected e.g. the eclip-iu-xray output)".into()))?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(format!("line {}: {e}", i + 2)))?;
        let text = rec.get(col).unwrap_or("").trim();
        if !text.is_empty() && seen.insert(text.to_owned()) {
            out.push(text.to_owned());
        }
    }
    if out.is_empty() {
        return Err(err("no non-empty reports".into()));
    }
    Ok(out)
}

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
    pub(crate) model: String,
    /// `retrieve`, `generate:<setting>`, `score`.
    pub(crate) stage: String,
    pub(crate) done: usize,
    pub(crate) total: usize,
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
    #[error("dataset {dataset}: {source} (fix [labeler] in its dataset.toml)")]
    Labeler {
        dataset: String,
        source: labeler::LabelerError,
    },
    #[error("[rag] text_encoder: {reason}")]
    TextEncoder { reason: String },
    #[error("corpus CSV {path}: {reason}")]
    Corpus { path: String, reason: String },
    #[error("cannot write {path}: {source}")]
    Export {
        path: String,
        source: std::io::Error,
    },
}
