//! Helpers shared by the integration tests that write reports from a synthetic evaluation.
#![allow(dead_code)] // each test binary uses its own subset
use std::collections::BTreeMap;
use std::path::PathBuf;

use eclip_workbench::eval::summary::EvalSummary;
use eclip_workbench::report::record::{
    DatasetRecord, ModelRecord, PromptRecord, RecordInputs, RuntimeRecord,
};

/// The record inputs of a `--report` run over `s`: two hashed model files, one dataset, one prompt.
pub fn inputs(s: &EvalSummary) -> RecordInputs {
    RecordInputs {
        tool: "eclip".into(),
        tool_version: "0.1.0".into(),
        command: vec!["eclip".into(), "--report".into(), "out.csv".into()],
        runtime: RuntimeRecord {
            onnx_runtime_version: "1.31.1".into(),
            execution_provider: "cpu".into(),
        },
        models: s
            .models
            .iter()
            .map(|m| ModelRecord {
                name: m.clone(),
                path: PathBuf::from(format!("models/{m}")),
                files: BTreeMap::from([("image.onnx".to_string(), "ab".repeat(32))]),
                provenance: serde_json::json!({"variant": m, "train_fraction": 1.0}),
            })
            .collect(),
        datasets: vec![DatasetRecord {
            name: s.dataset.clone(),
            path: PathBuf::from("data/dataset.toml"),
            sha256: "cd".repeat(32),
            sha256_of: "manifest.csv + prompts.json".into(),
            rows: 100,
            skipped_rows: 0,
            prompts: vec![PromptRecord {
                class: "finding_0".into(),
                positive: vec!["finding 0".into()],
                negative: vec![],
            }],
            ..DatasetRecord::default()
        }],
        interrupted: None,
    }
}
