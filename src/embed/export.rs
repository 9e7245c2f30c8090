/*!
`eclip embed --out DIR`: embeddings as `.npz` files that numpy reads directly.

Layout: `DIR/<dataset>/<model>/<split>.npz` with arrays `image` and `text` (float32, `n × embed_dim`,
L2-normalised, row i of both is one image–report pair) and `row` (int64, the 0-based record index in
the manifest CSV, i.e. the pandas `read_csv` index) and `line` (int64, the CSV line). Prompt
embeddings go to `DIR/<dataset>/<model>/prompts.npz` as `<class>.positive` / `<class>.negative`.
Names are sanitised to `[A-Za-z0-9._-]`.
*/
use crate::output::AtomicFile;
use std::path::{Path, PathBuf};

use ndarray::Array1;
use ndarray_npy::NpzWriter;

use crate::data::Dataset;
use crate::eval::ModelEmbeddings;

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {message}")]
pub struct ExportError {
    pub path: PathBuf,
    pub message: String,
}

/// A file-name-safe version of a dataset/model/split name.
pub fn safe_name(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() || t.starts_with('.') {
        format!("_{t}")
    } else {
        t
    }
}

/// 0-based manifest record index of every row: its rank among all records (loaded and skipped).
pub fn record_indices(ds: &Dataset) -> Vec<usize> {
    let mut lines: Vec<usize> = ds
        .rows
        .iter()
        .map(|r| r.line)
        .chain(ds.skipped.iter().map(|s| s.line))
        .collect();
    lines.sort_unstable();
    lines.dedup();
    ds.rows
        .iter()
        .map(|r| {
            lines
                .binary_search(&r.line)
                .unwrap_or(r.line.saturating_sub(2))
        })
        .collect()
}

/// Writes one model's embeddings of one dataset; returns the files written.
pub fn write_npz(
    out: &Path,
    ds: &Dataset,
    emb: &ModelEmbeddings,
) -> Result<Vec<PathBuf>, ExportError> {
    let dir = out.join(safe_name(&ds.name)).join(safe_name(&emb.model));
    let fail = |path: &Path, e: &dyn std::fmt::Display| ExportError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(|e| fail(&dir, &e))?;
    let records = record_indices(ds);
    let mut written = Vec::new();
    for (split, s) in &emb.splits {
        let path = dir.join(format!("{}.npz", safe_name(split)));
        let file = AtomicFile::create(&path).map_err(|e| fail(&path, &e))?;
        let mut npz = NpzWriter::new(file);
        let row: Array1<i64> = s.rows.iter().map(|&i| records[i] as i64).collect();
        let line: Array1<i64> = s.rows.iter().map(|&i| ds.rows[i].line as i64).collect();
        npz.add_array("image", &s.image)
            .map_err(|e| fail(&path, &e))?;
        npz.add_array("text", &s.text)
            .map_err(|e| fail(&path, &e))?;
        npz.add_array("row", &row).map_err(|e| fail(&path, &e))?;
        npz.add_array("line", &line).map_err(|e| fail(&path, &e))?;
        let file = npz.finish().map_err(|e| fail(&path, &e))?;
        file.commit().map_err(|e| fail(&path, &e))?;
        written.push(path);
    }
    let path = dir.join("prompts.npz");
    let file = AtomicFile::create(&path).map_err(|e| fail(&path, &e))?;
    let mut npz = NpzWriter::new(file);
    for c in &emb.prompts {
        npz.add_array(format!("{}.positive", c.name), &c.positive)
            .map_err(|e| fail(&path, &e))?;
        npz.add_array(format!("{}.negative", c.name), &c.negative)
            .map_err(|e| fail(&path, &e))?;
    }
    let file = npz.finish().map_err(|e| fail(&path, &e))?;
    file.commit().map_err(|e| fail(&path, &e))?;
    written.push(path);
    Ok(written)
}
