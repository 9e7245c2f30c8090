/*!
The tidy CSV report: one row per (model, dataset, task, setting, metric), columns exactly
`model,dataset,task,setting,metric,value,ci_low,ci_high,n,p_value`. Undefined values and absent
intervals or p-values are empty cells; numbers are written with Rust's shortest round-trip
formatting, so reading them back gives the same f64.
*/
use std::io::Write;
use std::path::Path;

use super::ReportError;
use crate::eval::MetricRow;
use crate::eval::summary::EvalSummary;

/// The header, in order.
pub const COLUMNS: [&str; 10] = [
    "model", "dataset", "task", "setting", "metric", "value", "ci_low", "ci_high", "n", "p_value",
];

/// One optional number as a CSV cell: empty when undefined.
pub fn cell(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The cells of one row, in [`COLUMNS`] order (the TUI's Overview export writes the same).
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

/// Write all rows of all summaries to `out`.
pub fn write_csv<W: Write>(out: W, summaries: &[EvalSummary]) -> Result<(), ::csv::Error> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for r in summaries.iter().flat_map(|s| &s.rows) {
        w.write_record(record(r))?;
    }
    w.flush()?;
    Ok(())
}

/// Write the CSV report to `path`.
pub fn write_csv_file(path: &Path, summaries: &[EvalSummary]) -> Result<(), ReportError> {
    let file = std::fs::File::create(path).map_err(|e| ReportError::io(path, e))?;
    write_csv(std::io::BufWriter::new(file), summaries).map_err(|source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    })
}
