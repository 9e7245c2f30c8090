/*!
Report writers: everything that turns [`EvalSummary`](crate::eval::summary::EvalSummary)s into files or text for people.

- [`csv`]: the tidy CSV (`model,dataset,task,setting,metric,value,ci_low,ci_high,n,p_value`);
- [`table`]: the stdout summary table (metrics × models, deltas with CIs and p-values);
- [`record`]: the reproducibility record written beside the CSV (`<csv>.record.json`) and `--json`;
- [`plots`] (+ `plots_geometry`, `plots_curves`, `plots_calibration`, [`plots_saliency`]): the figures (`--plots DIR`), each as SVG and
  PNG ([`figure`]) in the one style of [`theme`];
- [`review`]: the self-contained Markdown review (`--review FILE`);
- [`headless`]: the `--report` run that evaluates (through [`crate::run`]) and calls the writers.

The writers compute nothing new: every number comes from the summaries, so all outputs agree.
*/
use std::path::PathBuf;

pub mod csv;
pub mod figure;
pub mod headless;
pub mod inputs;
pub mod plots;
mod plots_calibration;
mod plots_curves;
mod plots_geometry;
pub mod plots_saliency;
pub mod record;
pub mod review;
pub mod theme;

pub use crate::data::safe_name;

/// Why a report file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source} (check that the folder exists and is writable)")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write CSV {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: ::csv::Error,
    },
    #[error("cannot serialise {what} to JSON: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot draw figure {path}: {message}")]
    Plot { path: PathBuf, message: String },
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub use crate::run::table::{fmt_ci, fmt_num, fmt_p};
