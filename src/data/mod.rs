/*!
Datasets: the `dataset.toml` + manifest CSV + prompts JSON described in `docs/formats.md` §1.

This module owns reading them into plain structs. Rows that cannot be used (missing image, bad label
value) are not fatal: they are set aside in [`Dataset::skipped`] with the file and line that caused
them, so a run goes on with what it can do and says what it left out.
*/
use std::path::PathBuf;

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
    pub name: String,
    pub positive: Vec<String>,
    pub negative: Vec<String>,
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
