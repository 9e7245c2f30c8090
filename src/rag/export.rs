/*!
Export of generated and reference reports in CXR-Report-Metric's input format (`study_id,report`), so
RadGraph F1, CheXbert similarity and RadCliQ can be added with that tool. `study_id` is the query's
1-based manifest line. Each model × generator gets a generated file and a reference file holding the
same ids (items whose generation failed are left out of both).
*/
use std::path::{Path, PathBuf};

use super::{RagError, RagSummary};
use crate::data::Dataset;
use crate::data::safe_name;

/// Write `(study_id, report)` rows with a `study_id,report` header.
pub(crate) fn write_reports_csv<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = (usize, &'a str)>,
) -> Result<(), RagError> {
    let err = |e: std::io::Error| RagError::Export {
        path: path.display().to_string(),
        source: e,
    };
    let file = crate::output::AtomicFile::create(path).map_err(err)?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(["study_id", "report"])
        .map_err(|e| err(e.into()))?;
    for (id, report) in rows {
        // One line per report: the tool's readers do not expect embedded newlines.
        let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
        w.write_record([id.to_string(), flat])
            .map_err(|e| err(e.into()))?;
    }
    let file = w.into_inner().map_err(|e| err(e.into_error()))?;
    file.commit().map_err(err)
}

/// Write `<model>__<setting>.generated.csv` and `.reference.csv` for every entry of `summary`.
pub(crate) fn export_summary(
    dir: &Path,
    dataset: &Dataset,
    summary: &RagSummary,
) -> Result<Vec<PathBuf>, RagError> {
    std::fs::create_dir_all(dir).map_err(|source| RagError::Export {
        path: dir.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    for m in &summary.per_model {
        let stem = format!("{}__{}", safe_name(&m.model), safe_name(&m.generator));
        let ok: Vec<_> = m.items.iter().filter(|i| i.error.is_none()).collect();
        let id = |row: usize| dataset.rows.get(row).map_or(row, |r| r.line);
        let gen_path = dir.join(format!("{stem}.generated.csv"));
        write_reports_csv(
            &gen_path,
            ok.iter().map(|i| (id(i.row), i.generated.as_str())),
        )?;
        let ref_path = dir.join(format!("{stem}.reference.csv"));
        write_reports_csv(
            &ref_path,
            ok.iter().map(|i| (id(i.row), i.reference.as_str())),
        )?;
        written.push(gen_path);
        written.push(ref_path);
    }
    Ok(written)
}
