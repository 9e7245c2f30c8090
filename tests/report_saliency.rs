//! Issue 16's done-when, end to end on the bundled fixtures: `eclip --report out.csv --plots figs
//! --items items.jsonl` writes `saliency` rows (NSS, CC, KL, SIM, AUC-Judd for both models and the
//! paired `eCLIP - CLIP` deltas) computed on the test images that have heatmaps, the saliency
//! figure, and an items file whose content hashes match the files (recomputed here).
//!
//! To stay fast the run uses a slice of the demo data (`tests/subset`: 12 test images with a
//! heatmap, 8 without, a few rows of the other splits) and a small `[saliency]` budget (occlusion
//! with a 32-pixel patch and stride, 6 maps per model), written to a temp folder.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod subset;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use eclip_workbench::items::{read_items, sha256_hex};

const SALIENCY: &str = "\n[saliency]\nmethod = \"occlusion\"\ntarget = \"class\"\npatch = 32\nstride = 32\nitems = 6\n";
const METRICS: [&str; 5] = ["nss", "cc", "kl", "sim", "auc_judd"];

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scripted end-to-end scenario: its steps share the running app and the state they build up"
)]
fn report_writes_saliency_rows_the_figure_and_hash_checked_items() {
    let tmp = tempfile::tempdir().unwrap();
    let data = subset::write(
        &tmp.path().join("data"),
        subset::Counts {
            train: 40,
            val: 10,
            test_heatmap: 12,
            test_plain: 8,
            single_positive: 25,
        },
    );
    let cfg = subset::config(tmp.path(), &subset::fixture_models(), &[data], SALIENCY);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .current_dir(&out)
        .arg("--config")
        .arg(&cfg)
        .arg("--cache-dir")
        .arg(tmp.path().join("cache"))
        .args([
            "--report",
            "out.csv",
            "--plots",
            "figs",
            "--items",
            "items.jsonl",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "eclip --report failed:\n{stderr}");

    // Rows: every metric for both models and the paired delta, on the heatmap images only.
    let mut rdr = csv::Reader::from_path(out.join("out.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let saliency: Vec<&csv::StringRecord> = rows.iter().filter(|r| &r[2] == "saliency").collect();
    for model in ["CLIP", "eCLIP", "eCLIP - CLIP"] {
        for m in METRICS {
            let r = saliency
                .iter()
                .find(|r| &r[0] == model && &r[3] == "occlusion:class" && &r[4] == m)
                .unwrap_or_else(|| panic!("no saliency row {model} {m}"));
            let v: f64 = r[5].parse().unwrap();
            assert!(v.is_finite(), "{model} {m} = {v}");
            assert!(!r[6].is_empty() && !r[7].is_empty(), "CI for {model} {m}");
            let n: usize = r[8].parse().unwrap();
            assert_eq!(n, 6, "{model} {m}: the items budget, every item scored");
            if model.contains(" - ") {
                assert!(!r[9].is_empty(), "paired delta has a p-value: {model} {m}");
            }
        }
    }

    // The figure.
    let fig = std::fs::read_to_string(out.join("figs/cxr-demo_saliency.svg")).unwrap();
    assert!(fig.starts_with("<svg") || fig.contains("<svg"), "an SVG");
    assert!(
        fig.contains("CLIP") && fig.contains("eCLIP"),
        "both models in the figure"
    );

    // Items: hashes recomputed from the files, saliency scores that average to the rows.
    let items = read_items(&out.join("items.jsonl")).unwrap();
    let root = tmp.path().join("data");
    let manifest: BTreeMap<String, String> = {
        let mut r = csv::Reader::from_path(root.join("manifest.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let (i, t) = (
            h.iter().position(|c| c == "image").unwrap(),
            h.iter().position(|c| c == "report").unwrap(),
        );
        r.records()
            .map(|x| {
                let x = x.unwrap();
                (x[i].to_string(), x[t].to_string())
            })
            .collect()
    };
    // The first four items of every task.
    let mut checked = BTreeSet::new();
    for rec in &items {
        let image = rec.item.split('#').next().unwrap();
        let per_task = checked.iter().filter(|(t, _)| *t == rec.task).count();
        if per_task < 4 && checked.insert((rec.task.clone(), image.to_string())) {
            let bytes = std::fs::read(root.join(image)).unwrap();
            assert_eq!(rec.image_sha256, sha256_hex(&bytes), "{}", rec.item);
            if let Some(t) = &rec.text_sha256 {
                assert_eq!(*t, sha256_hex(manifest[image].as_bytes()), "{}", rec.item);
            }
        }
    }
    let tasks: BTreeSet<&str> = checked.iter().map(|(t, _)| t.as_str()).collect();
    assert!(
        ["zeroshot", "retrieval_i2t", "saliency"]
            .iter()
            .all(|t| tasks.contains(t)),
        "{tasks:?}"
    );
    let with_heatmap: BTreeSet<String> = {
        let mut r = csv::Reader::from_path(root.join("manifest.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let (i, hm) = (
            h.iter().position(|c| c == "image").unwrap(),
            h.iter().position(|c| c == "heatmap").unwrap(),
        );
        r.records()
            .map(Result::unwrap)
            .filter(|x| !x[hm].is_empty())
            .map(|x| x[i].to_string())
            .collect()
    };
    for model in ["CLIP", "eCLIP"] {
        let sal: Vec<_> = items
            .iter()
            .filter(|r| r.task == "saliency" && r.model == model)
            .collect();
        assert_eq!(sal.len(), 6, "{model}: one record per map");
        for r in &sal {
            let image = r.item.split('#').next().unwrap();
            assert!(with_heatmap.contains(image), "{image} has a heatmap");
            assert_eq!(r.split, "test");
            assert!(METRICS.iter().all(|m| r.saliency.contains_key(*m)), "{r:?}");
        }
        for m in METRICS {
            let mean = sal.iter().map(|r| r.saliency[m]).sum::<f64>() / sal.len() as f64;
            let row: f64 = saliency
                .iter()
                .find(|r| &r[0] == model && &r[4] == m)
                .unwrap()[5]
                .parse()
                .unwrap();
            assert!(
                (mean - row).abs() < 1e-9,
                "{model} {m}: items mean {mean} vs row {row}"
            );
        }
    }
}

/// A broken saliency map-cache chunk is deleted, its maps recomputed, and the run says so: a
/// `saliency: model …: saliency cache: cache file … deleted …` note in the record (before, the
/// map cache's problems were collected and never reported).
#[test]
fn a_broken_saliency_cache_chunk_is_reported_in_the_notes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = subset::write(
        &tmp.path().join("data"),
        subset::Counts {
            train: 20,
            val: 6,
            test_heatmap: 6,
            test_plain: 2,
            single_positive: 10,
        },
    );
    let cfg = subset::config(tmp.path(), &subset::fixture_models(), &[data], SALIENCY);
    let cache = tmp.path().join("cache");
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_eclip"))
            .current_dir(tmp.path())
            .arg("--config")
            .arg(&cfg)
            .arg("--cache-dir")
            .arg(&cache)
            .args(["--quiet", "--report", "out.csv"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "eclip --report failed:\n{stderr}");
    };
    run();
    // Truncate every chunk (embeddings and maps alike): each fails its trailing SHA-256.
    let mut chunks = Vec::new();
    let mut dirs = vec![cache.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "emb") {
                chunks.push(p);
            }
        }
    }
    assert!(
        !chunks.is_empty(),
        "no cache chunks under {}",
        cache.display()
    );
    for p in &chunks {
        let bytes = std::fs::read(p).unwrap();
        std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
    }
    run();
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out.csv.record.json")).unwrap(),
    )
    .unwrap();
    let notes = record["notes"].to_string();
    assert!(
        notes.contains("saliency cache: cache file") && notes.contains("deleted"),
        "the record's notes name the broken map chunk: {notes}"
    );
}
