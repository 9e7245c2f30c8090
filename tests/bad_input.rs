//! Bad input gets a clear error naming the file/row/model, and the run goes on where it can:
//! unreadable images skip their row, a broken model stops that model only.
//!
//! The broken graphs in `tests/data/bad_models/` are written by
//! `onnx-export/scripts/make_parity_refs.py` (`write_bad_models`): a rank-4 output, a fixed
//! 64-dimensional output, a symbolic output dimension that turns out to be 64, and NaN outputs.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::path::Path;

use core_support::{
    copy_model, repo, runtime, test_model_dir, write_config, write_dataset, write_images,
};
use eclip_workbench::cache::EmbeddingCache;
use eclip_workbench::config::Config;
use eclip_workbench::data::Dataset;
use eclip_workbench::embed::{EmbedOptions, embed_dataset};
use eclip_workbench::model::Model;
use eclip_workbench::workbench::{Workbench, WorkbenchOptions};

/// The test model with its image graph replaced by `tests/data/bad_models/<bad>`.
fn broken_model(tmp: &Path, bad: &str) -> std::path::PathBuf {
    let dir = tmp.join(bad.replace(".onnx", ""));
    copy_model(&test_model_dir(), &dir);
    std::fs::copy(
        repo().join("tests/data/bad_models").join(bad),
        dir.join("image.onnx"),
    )
    .unwrap();
    dir
}

fn load_err(dir: &Path) -> String {
    Model::load(runtime(), "Broken", dir)
        .expect_err("a broken model must not load")
        .to_string()
}

#[test]
fn unreadable_images_skip_their_rows_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_images(d, 2);
    let good = std::fs::read(d.join("img000.png")).unwrap();
    std::fs::write(d.join("truncated.png"), &good[..good.len() / 2]).unwrap();
    std::fs::write(
        d.join("corrupt.png"),
        b"\x89PNG\r\n\x1a\n this is not a png at all",
    )
    .unwrap();
    let ds_path = write_dataset(
        d,
        &[
            b"img000.png,clear lungs,test,0",
            b"truncated.png,edema,test,1",
            b"missing.png,edema,test,1",
            b"corrupt.png,clear,train,0",
            b"img001.png,mild edema,train,1",
        ],
    );
    let ds = Dataset::load(&ds_path).unwrap();
    assert_eq!(ds.rows.len(), 4);
    assert_eq!(ds.skipped.len(), 1);
    assert_eq!(ds.skipped[0].line, 4);
    assert!(
        ds.skipped[0].reason.contains("missing.png") && ds.skipped[0].reason.contains("not found")
    );

    let model = Model::load(runtime(), "M", &test_model_dir()).unwrap();
    let (emb, stats) = embed_dataset(
        &model,
        &ds,
        &EmbeddingCache::disabled(),
        &EmbedOptions::default(),
    )
    .unwrap();
    let mut skipped: Vec<(usize, &str)> = stats
        .skipped
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    skipped.sort();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, 3);
    assert!(skipped[0].1.contains("truncated.png"), "{}", skipped[0].1);
    assert_eq!(skipped[1].0, 5);
    assert!(
        skipped[1].1.contains("corrupt.png") && skipped[1].1.contains("manifest.csv:5"),
        "{}",
        skipped[1].1
    );
    assert_eq!(emb.splits["test"].rows.len(), 1);
    assert_eq!(emb.splits["train"].rows.len(), 1);
    assert_eq!(emb.splits["train"].image.nrows(), 1);
    let norm: f32 = emb.splits["train"]
        .image
        .row(0)
        .iter()
        .map(|v| v * v)
        .sum::<f32>()
        .sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
}

#[test]
fn manifest_naming_only_absent_files_gives_no_rows_and_every_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = Dataset::load(&write_dataset(
        tmp.path(),
        &[b"a.png,x,test,0", b"sub/b.dcm,y,train,1"],
    ))
    .unwrap();
    assert!(ds.rows.is_empty());
    let lines: Vec<usize> = ds.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![2, 3]);
    assert!(ds.skipped[1].reason.contains("sub/b.dcm"));
}

#[test]
fn non_utf8_report_text_skips_that_row() {
    let tmp = tempfile::tempdir().unwrap();
    write_images(tmp.path(), 1);
    let ds = Dataset::load(&write_dataset(
        tmp.path(),
        &[
            b"img000.png,caf\xe9 latin-1 text,test,0",
            b"img000.png,fine,test,1",
        ],
    ))
    .unwrap();
    assert_eq!(ds.rows.len(), 1);
    assert_eq!(ds.skipped[0].line, 2);
    assert!(
        ds.skipped[0].reason.contains("report") && ds.skipped[0].reason.contains("UTF-8"),
        "{}",
        ds.skipped[0].reason
    );
}

#[test]
fn wrong_rank_graph_is_refused_at_load_naming_model_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load_err(&broken_model(tmp.path(), "wrong_rank.onnx"));
    assert!(
        err.contains("model Broken") && err.contains("image.onnx") && err.contains("rank 4"),
        "{err}"
    );
}

#[test]
fn embedding_dimension_mismatch_is_refused_at_load() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load_err(&broken_model(tmp.path(), "dim64.onnx"));
    assert!(
        err.contains("dimension 1 is 64") && err.contains("expected 128"),
        "{err}"
    );
}

#[test]
fn dynamic_dimension_mismatch_is_caught_on_the_first_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = broken_model(tmp.path(), "dim64_dynamic.onnx");
    let model = Model::load(runtime(), "Broken", &dir).unwrap();
    let img = repo().join("tests/data/parity/gen_gray16.png");
    let err = model.encode_image_files(&[img]).unwrap_err().to_string();
    assert!(
        err.contains("[1, 64]") && err.contains("embed_dim") && err.contains("model Broken"),
        "{err}"
    );
}

#[test]
fn nan_outputs_stop_that_model_only() {
    let tmp = tempfile::tempdir().unwrap();
    let nan_dir = broken_model(tmp.path(), "nan.onnx");
    let data = tmp.path().join("data");
    write_images(&data, 3);
    let ds = write_dataset(
        &data,
        &[
            b"img000.png,a,test,0",
            b"img001.png,b,test,1",
            b"img002.png,c,train,0",
        ],
    );
    let cfg_path = tmp.path().join("wb.toml");
    write_config(
        &cfg_path,
        &[("Good", &test_model_dir()), ("NaN", &nan_dir)],
        &ds,
    );
    let wb = Workbench::open(
        Config::load(&cfg_path).unwrap(),
        &WorkbenchOptions {
            no_cache: true,
            ..Default::default()
        },
    )
    .unwrap();
    let results = wb.embed_all(&EmbedOptions::default());
    let runs = &results[0].runs;
    assert!(
        runs[0].result.is_ok(),
        "{:?}",
        runs[0].result.as_ref().err()
    );
    let err = runs[1].result.as_ref().unwrap_err();
    assert!(
        err.contains("model NaN") && err.contains("non-finite") && err.contains("image.onnx"),
        "{err}"
    );
    assert_eq!(results[0].successful().len(), 1);
}

#[test]
fn model_json_naming_a_missing_file_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    copy_model(&test_model_dir(), &dir);
    std::fs::remove_file(dir.join("text.onnx")).unwrap();
    let err = load_err(&dir);
    assert!(
        err.contains("text.onnx") && err.contains("missing"),
        "{err}"
    );
}
