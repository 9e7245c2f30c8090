/*!
The tidy CSV report: one row per (model, dataset, task, setting, metric), columns exactly
`model,dataset,task,setting,metric,value,ci_low,ci_high,n,p_value`. Undefined values and absent
intervals or p-values are empty cells; numbers are written with Rust's shortest round-trip
formatting, so reading them back gives the same f64.
*/
use std::io::Write;
use std::path::Path;

use super::ReportError;
use crate::eval::summary::EvalSummary;

pub use crate::eval::rows::{COLUMNS, cell, record};

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
    let mut file = crate::output::AtomicFile::create(path).map_err(|e| ReportError::io(path, e))?;
    write_csv(&mut file, summaries).map_err(|source| ReportError::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    file.commit().map_err(|e| ReportError::io(path, e))
}
