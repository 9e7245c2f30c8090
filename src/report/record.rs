/*!
The reproducibility record written beside the CSV as `<csv>.record.json`, and the `--json` output.

A record says exactly what produced the numbers: the tool and its version, ONNX Runtime's version
and execution provider, every model with its file hashes and provenance, every dataset with its hash
and the prompts used, the evaluation settings (seeds, resamples, grids) and the metric definitions.
The caller gathers the facts it owns (hashes, runtime) into [`RecordInputs`]; the evaluation
settings, definitions and notes come from the summaries.
*/
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ReportError;
use crate::eval::config::EvalConfig;
use crate::eval::summary::EvalSummary;

/// One model as it was evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub name: String,
    pub path: PathBuf,
    /// File name → SHA-256 (hex) of the files actually loaded.
    pub files: BTreeMap<String, String>,
    /// `model.json`'s `provenance` object, verbatim.
    pub provenance: serde_json::Value,
}

/// Zero-shot prompts of one class as used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptRecord {
    pub class: String,
    pub positive: Vec<String>,
    pub negative: Vec<String>,
}

/// One dataset as it was evaluated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetRecord {
    pub name: String,
    pub path: PathBuf,
    /// SHA-256 over the dataset's files (how it is computed is the caller's and is stated here).
    pub sha256: String,
    pub sha256_of: String,
    pub rows: usize,
    /// Manifest rows left out while loading (absent image, bad label, ...).
    pub skipped_rows: usize,
    pub prompts: Vec<PromptRecord>,
    /// Model → rows left out while embedding (image unreadable or undecodable), besides
    /// `skipped_rows`.
    #[serde(default)]
    pub skipped_while_embedding: BTreeMap<String, usize>,
    /// Every manifest row of `skipped_rows`: `manifest:line: reason`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// Model → every row of `skipped_while_embedding`: `manifest:line: reason`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_while_embedding_rows: BTreeMap<String, Vec<String>>,
    /// Model → damaged cache chunks found, deleted and recomputed.
    #[serde(default)]
    pub rebuilt_cache_chunks: BTreeMap<String, usize>,
    /// Patients in more than one split, when the manifest has a `patient` column and some are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_leakage: Option<crate::data::PatientLeakage>,
}

/// The runtime the embeddings were computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeRecord {
    pub onnx_runtime_version: String,
    pub execution_provider: String,
}

/// What the caller knows and the summaries do not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordInputs {
    pub tool: String,
    pub tool_version: String,
    /// The command line, for humans re-running it.
    pub command: Vec<String>,
    pub runtime: RuntimeRecord,
    pub models: Vec<ModelRecord>,
    pub datasets: Vec<DatasetRecord>,
    /// Set when a signal stopped the evaluation: the record holds the datasets evaluated before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<InterruptedRecord>,
}

/// A run stopped by a signal during the evaluation (docs/limits.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterruptedRecord {
    /// `SIGINT`, `SIGTERM` or `SIGHUP`.
    pub signal: String,
    /// The datasets that were not (fully) evaluated; rerunning the same command evaluates them.
    pub not_evaluated: Vec<String>,
}

/// The full record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub format_version: u32,
    #[serde(flatten)]
    pub inputs: RecordInputs,
    /// The CSV this record belongs to (file name) and its SHA-256, when there is one.
    pub csv: Option<String>,
    pub csv_sha256: Option<String>,
    pub eval: Option<EvalConfig>,
    pub definitions: Vec<(String, String)>,
    /// Dataset name → notes of its evaluation.
    pub notes: BTreeMap<String, Vec<String>>,
    /// Dataset name → settings of its RAG task (k, m, corpus, seed, generators, prompt hash; never
    /// an API key), for datasets whose report has `rag` rows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rag: BTreeMap<String, crate::eval::summary::RagRecord>,
    /// Dataset name → its protocol preset and the definitions it resolved to (`docs/protocols.md`).
    #[serde(default)]
    pub protocols: BTreeMap<String, crate::eval::protocol::ProtocolSettings>,
}

impl RunRecord {
    pub fn new(inputs: RecordInputs, summaries: &[EvalSummary]) -> Self {
        Self {
            format_version: 1,
            inputs,
            csv: None,
            csv_sha256: None,
            eval: summaries.first().map(|s| s.config.clone()),
            definitions: summaries
                .first()
                .map(|s| s.definitions.clone())
                .unwrap_or_else(crate::eval::summary::definitions),
            notes: summaries
                .iter()
                .map(|s| (s.dataset.clone(), s.notes.clone()))
                .collect(),
            rag: summaries
                .iter()
                .filter_map(|s| Some((s.dataset.clone(), s.rag.clone()?)))
                .collect(),
            protocols: summaries
                .iter()
                .map(|s| (s.dataset.clone(), s.protocol))
                .collect(),
        }
    }
}

/// `<csv>.record.json` for a CSV path.
pub fn record_path(csv: &Path) -> PathBuf {
    let mut name = csv.file_name().unwrap_or_default().to_os_string();
    name.push(".record.json");
    csv.with_file_name(name)
}

fn sha256_file(path: &Path) -> Result<String, ReportError> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| ReportError::io(path, e))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

fn write_json<T: Serialize>(path: &Path, what: &str, value: &T) -> Result<(), ReportError> {
    let text = serde_json::to_string_pretty(value).map_err(|source| ReportError::Json {
        what: what.into(),
        source,
    })?;
    crate::output::write_bytes(path, (text + "\n").as_bytes()).map_err(|e| ReportError::io(path, e))
}

/// Write the record beside an already written CSV; returns the record's path.
pub fn write_record(
    csv: &Path,
    inputs: &RecordInputs,
    summaries: &[EvalSummary],
) -> Result<PathBuf, ReportError> {
    let mut record = RunRecord::new(inputs.clone(), summaries);
    record.csv = csv.file_name().map(|n| n.to_string_lossy().into_owned());
    record.csv_sha256 = Some(sha256_file(csv)?);
    let path = record_path(csv);
    write_json(&path, "the reproducibility record", &record)?;
    Ok(path)
}

/// The `--json` document: the record plus every summary (rows and figure data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonReport {
    pub record: RunRecord,
    pub summaries: Vec<EvalSummary>,
}

/// Write the `--json` document.
pub fn write_json_report(
    path: &Path,
    inputs: &RecordInputs,
    summaries: &[EvalSummary],
) -> Result<(), ReportError> {
    let doc = JsonReport {
        record: RunRecord::new(inputs.clone(), summaries),
        summaries: summaries.to_vec(),
    };
    write_json(path, "the JSON report", &doc)
}
