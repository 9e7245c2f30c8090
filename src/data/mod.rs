/*!
Datasets: the `dataset.toml` + manifest CSV + prompts JSON described in `docs/formats.md` §1.

This module owns reading them into plain structs. Rows that cannot be used (missing image, bad label
value) are not fatal: they are set aside in [`Dataset::skipped`] with the file and line that caused
them, so a run goes on with what it can do and says what it left out.
*/
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

mod load;

pub use load::DataError;

/// Which manifest split plays which role in the evaluations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRoles {
    pub train: String,
    pub val: String,
    pub test: String,
    /// The single-positive (CheXpert 5x200 style) split for argmax zero-shot, if the dataset has one.
    pub single_positive: Option<String>,
}

/// One image–report pair from the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line in the manifest CSV (the header is line 1), for error messages.
    pub line: usize,
    /// Absolute (resolved) image path.
    pub image: PathBuf,
    pub report: String,
    pub split: String,
    pub patient: Option<String>,
    /// One 0/1 value per entry of [`Dataset::labels`].
    pub labels: Vec<u8>,
    pub heatmap: Option<PathBuf>,
}

/// Zero-shot prompts of one class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPrompts {
    pub(crate) name: String,
    pub(crate) positive: Vec<String>,
    pub(crate) negative: Vec<String>,
}

/// A manifest row that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRow {
    pub line: usize,
    pub reason: String,
}

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    /// Folder of `dataset.toml`.
    pub root: PathBuf,
    pub manifest: PathBuf,
    pub labels: Vec<String>,
    /// Subset of `labels` used for zero-shot classification, in prompt-file order.
    pub zeroshot_classes: Vec<String>,
    pub splits: SplitRoles,
    pub rows: Vec<Row>,
    pub prompts: Vec<ClassPrompts>,
    pub skipped: Vec<SkippedRow>,
    /// Rows kept with something left out (a missing heatmap file: the row stays, without heatmap).
    pub warnings: Vec<SkippedRow>,
    /// The report labeler's rules (`[labeler]`; the built-in demo rules when the table is absent).
    pub labeler: LabelerSpec,
}

/// At most this many patients are named as examples of leakage.
pub(crate) const LEAKAGE_EXAMPLES: usize = 5;

/// Patients whose rows are in more than one manifest split (docs/formats.md §1.1 promises none):
/// what a model fitted on one split may have seen of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientLeakage {
    /// Patients in more than one split.
    pub(crate) patients: usize,
    /// Loaded rows of those patients.
    pub(crate) rows: usize,
    /// Up to [`LEAKAGE_EXAMPLES`] of them (in patient-id order) with their rows per split.
    pub(crate) examples: Vec<LeakedPatient>,
}

/// One patient found in several splits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LeakedPatient {
    pub(crate) patient: String,
    /// Split name → rows of this patient in it.
    pub(crate) splits: BTreeMap<String, usize>,
}

impl PatientLeakage {
    /// One line for warnings and errors: counts and the examples.
    pub fn describe(&self, dataset: &str) -> String {
        let examples: Vec<String> = self
            .examples
            .iter()
            .map(|e| {
                let splits: Vec<String> =
                    e.splits.iter().map(|(s, n)| format!("{s} {n}")).collect();
                format!("{} ({})", e.patient, splits.join(", "))
            })
            .collect();
        format!(
            "dataset {dataset}: {} patient(s) with {} rows appear in more than one split (patient leakage), e.g. {}{}",
            self.patients,
            self.rows,
            examples.join("; "),
            if self.patients > self.examples.len() {
                "; ..."
            } else {
                ""
            }
        )
    }
}

/// Which built-in labeler rules a dataset starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BuiltinRules {
    /// The demo's rules for the demo's labels (`cardiomegaly`, `pleural_effusion`, `pneumothorax`,
    /// `nodule`, `consolidation`, `edema`) where the dataset has them, and `no_finding` as the
    /// derived label.
    #[default]
    Demo,
    /// No built-in rules: only the labels under `[labeler.labels]` are scored.
    None,
}

/// The `[labeler]` table of `dataset.toml` (docs/formats.md §1.4): what the RAG report labeler looks
/// for, per label. Plain data; `rag::labeler::Labeler::from_spec` compiles it (the loader has already
/// checked that it compiles and names only dataset labels).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelerSpec {
    #[serde(default)]
    pub(crate) builtin: BuiltinRules,
    /// The label that is positive when no other label is (`""` for none). Default: `no_finding`
    /// with `builtin = "demo"`, none with `builtin = "none"`. It is scored only when every other
    /// dataset label has rules, since otherwise "nothing else is present" cannot be known.
    #[serde(default)]
    pub(crate) no_finding: Option<String>,
    /// Rules per label; a label here replaces its built-in rule.
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, LabelRuleSpec>,
}

impl LabelerSpec {
    /// The derived "no finding" label, if any (see [`LabelerSpec::no_finding`]).
    pub(crate) fn no_finding_label(&self) -> Option<&str> {
        match (&self.no_finding, self.builtin) {
            (Some(l), _) if l.is_empty() => None,
            (Some(l), _) => Some(l),
            (None, BuiltinRules::Demo) => Some("no_finding"),
            (None, BuiltinRules::None) => None,
        }
    }
}

/// One label's rules in `[labeler.labels.NAME]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelRuleSpec {
    /// Literal phrases (case-insensitive, whole words, any run of whitespace between words).
    #[serde(default)]
    pub(crate) phrases: Vec<String>,
    /// Regular expressions (Rust `regex` syntax, matched on the lower-cased report).
    #[serde(default)]
    pub(crate) patterns: Vec<String>,
    /// Extra negation cues before a mention (added to the built-in NegEx-style cues).
    #[serde(default)]
    pub(crate) negation_cues: Vec<String>,
    /// Extra negation cues after a mention in its clause (added to the built-in post-cues).
    #[serde(default)]
    pub(crate) post_negation_cues: Vec<String>,
    /// A mention directly preceded by one of these words is not a mention ("pericardial" before
    /// "effusion").
    #[serde(default)]
    pub(crate) not_after: Vec<String>,
}

/// A model, dataset or setting name as a file-name part: ASCII letters, digits, `-` and `_`, the rest `_`.
pub fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
