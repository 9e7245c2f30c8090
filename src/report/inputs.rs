/*!
Gathering the facts of a run for its reproducibility record: model file hashes and provenance, dataset
hashes and prompts, ONNX Runtime version and execution providers, tool version and command line.

Model hashes are SHA-256 of the files as loaded (`model.json` is hashed here; the ONNX graphs and
the tokenizer were hashed by the model loader). A dataset's hash is SHA-256 over, in order, the
SHA-256 of `dataset.toml`, of the manifest, of the prompts file and of every image file in manifest
order (so any change to labels, reports, prompts or pixels changes it).
*/
use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::ReportError;
use super::plots::ModelProvenance;
use super::record::{DatasetRecord, ModelRecord, PromptRecord, RecordInputs, RuntimeRecord};
use crate::data::Dataset;
use crate::workbench::Workbench;

fn sha256_of(path: &Path) -> Result<[u8; 32], ReportError> {
    let bytes = std::fs::read(path).map_err(|e| ReportError::io(path, e))?;
    Ok(Sha256::digest(&bytes).into())
}

/// The dataset hash described in the module docs.
pub fn dataset_sha256(toml_path: &Path, dataset: &Dataset) -> Result<String, ReportError> {
    let text = std::fs::read_to_string(toml_path).map_err(|e| ReportError::io(toml_path, e))?;
    let prompts = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("prompts").and_then(|p| p.as_str().map(String::from)))
        .map(|p| dataset.root.join(p));
    let mut files = vec![toml_path.to_path_buf(), dataset.manifest.clone()];
    files.extend(prompts);
    let mut parts: Vec<[u8; 32]> = files
        .iter()
        .map(|f| sha256_of(f))
        .collect::<Result<_, _>>()?;
    let images: Vec<[u8; 32]> = dataset
        .rows
        .par_iter()
        .map(|r| sha256_of(&r.image))
        .collect::<Result<_, _>>()?;
    parts.extend(images);
    let mut h = Sha256::new();
    parts.iter().for_each(|p| h.update(p));
    Ok(hex::encode(h.finalize()))
}

/// Everything the record needs from an opened workbench (models that failed to load are left
/// out: they produced no numbers).
pub fn gather(wb: &Workbench, command: Vec<String>) -> Result<RecordInputs, ReportError> {
    let mut models = Vec::new();
    let mut providers = Vec::new();
    for slot in &wb.models {
        let Ok(m) = &slot.model else { continue };
        let mut files = BTreeMap::new();
        files.insert(
            "model.json".to_string(),
            hex::encode(sha256_of(&m.dir.join("model.json"))?),
        );
        files.insert(m.spec.image.file.clone(), m.hashes.image_onnx.clone());
        files.insert(m.spec.text.file.clone(), m.hashes.text_onnx.clone());
        files.insert(m.spec.tokenizer.clone(), m.hashes.tokenizer.clone());
        for p in [&m.image_provider, &m.text_provider] {
            let s = p.to_string();
            if !providers.contains(&s) {
                providers.push(s);
            }
        }
        models.push(ModelRecord {
            name: slot.name.clone(),
            path: slot.path.clone(),
            files,
            provenance: m.spec.provenance.clone(),
        });
    }
    let mut datasets = Vec::new();
    for slot in &wb.datasets {
        let Ok(d) = &slot.dataset else { continue };
        datasets.push(DatasetRecord {
            name: d.name.clone(),
            path: slot.path.clone(),
            sha256: dataset_sha256(&slot.path, d)?,
            sha256_of: "sha256 over sha256(dataset.toml), sha256(manifest), sha256(prompts), sha256(each image in manifest order)".into(),
            rows: d.rows.len(),
            skipped_rows: d.skipped.len(),
            skipped: d.skipped.iter().map(|s| s.reason.clone()).collect(),
            prompts: d
                .prompts
                .iter()
                .map(|p| PromptRecord {
                    class: p.name.clone(),
                    positive: p.positive.clone(),
                    negative: p.negative.clone(),
                })
                .collect(),
            patient_leakage: d.patient_leakage(),
            ..DatasetRecord::default()
        });
    }
    Ok(RecordInputs {
        tool: env!("CARGO_PKG_NAME").into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        command,
        runtime: RuntimeRecord {
            onnx_runtime_version: wb.runtime.version.clone(),
            execution_provider: providers.join("; "),
        },
        models,
        datasets,
        interrupted: None,
    })
}

/// What the embedding run adds to the dataset records: rows each model left out while embedding and
/// the cache chunks it rebuilt.
pub fn add_run_facts(inputs: &mut RecordInputs, results: &[crate::workbench::DatasetEmbeddings]) {
    for ds in results {
        let Some(rec) = inputs.datasets.iter_mut().find(|d| d.name == ds.name) else {
            continue;
        };
        for run in &ds.runs {
            if let Ok(r) = &run.result {
                rec.skipped_while_embedding
                    .insert(run.model.clone(), r.stats.skipped.len());
                if !r.stats.skipped.is_empty() {
                    rec.skipped_while_embedding_rows.insert(
                        run.model.clone(),
                        r.stats.skipped.iter().map(|s| s.reason.clone()).collect(),
                    );
                }
                rec.rebuilt_cache_chunks
                    .insert(run.model.clone(), r.stats.cache_problems.len());
            }
        }
    }
}

/// Numeric provenance values per model (family = provenance `variant`, else `family`, else the
/// model name), for metric-vs-value figures.
pub fn provenance(wb: &Workbench) -> Vec<ModelProvenance> {
    wb.models
        .iter()
        .filter_map(|slot| {
            let m = slot.model.as_ref().ok()?;
            let prov = m.spec.provenance.as_object();
            let values = prov
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_f64().map(|x| (k.clone(), x)))
                        .collect()
                })
                .unwrap_or_default();
            let family = prov
                .and_then(|o| o.get("variant").and_then(|v| v.as_str()))
                .map(String::from)
                .unwrap_or_else(|| {
                    if m.spec.family.is_empty() {
                        slot.name.clone()
                    } else {
                        m.spec.family.clone()
                    }
                });
            Some(ModelProvenance {
                model: slot.name.clone(),
                family,
                values,
            })
        })
        .collect()
}
