//! Training-seed replicates end to end (issue 12 §3): `eclip --report` with `[[models]]
//! replicates` over the fixture models (two seeds of CLIP and of eCLIP) on a small subset of
//! `fixtures/data`. Checks the replicate rows, the group rows (mean, between-replicate SD, the
//! `replicates` column), the group comparison rows (difference of the group means with an
//! interval and an adjusted p), that replicates are never compared with each other, the review's
//! replicate counts, and that replicates with different embedding contracts are refused.
//! Kept small (≈250 images, 50 resamples) for CI's two cores.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use core_support::{fixture_model, read_csv_rows, subset_dataset};

const KEEP: [(&str, usize); 4] = [
    ("train", 100),
    ("val", 30),
    ("test", 60),
    ("test_5x200", 60),
];

fn write_config(path: &Path, dataset: &Path, clip: &[PathBuf], eclip: &[PathBuf]) {
    let list = |v: &[PathBuf]| {
        v.iter()
            .map(|p| format!("{:?}", p.display().to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "[[models]]\nname = \"CLIP\"\nreplicates = [{}]\n[[models]]\nname = \"eCLIP\"\nreplicates = [{}]\n\
         [[datasets]]\npath = {:?}\n[eval]\nbootstrap = 50\nprobe_fractions = [1.0]\n\
         probe_seeds = [0]\ngap_shift = [0.0]\n[rag]\ngenerators = []\n",
        list(clip),
        list(eclip),
        dataset.display().to_string()
    );
    std::fs::write(path, text).unwrap();
}

fn eclip(cfg: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--threads",
            "1",
            "--quiet",
        ])
        .args(args)
        .output()
        .expect("run eclip")
}

type Csv = Vec<HashMap<String, String>>;

fn read_csv(path: &Path) -> (Vec<String>, Csv) {
    let header = csv::Reader::from_path(path)
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    (header, read_csv_rows(path))
}

fn find<'a>(
    rows: &'a Csv,
    model: &str,
    task: &str,
    setting: &str,
    metric: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| {
            r["model"] == model
                && r["task"] == task
                && r["setting"] == setting
                && r["metric"] == metric
        })
        .unwrap_or_else(|| panic!("no row {model} {task} {setting} {metric}"))
}

fn num(r: &HashMap<String, String>, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} in {r:?}", r[col]))
}

#[test]
fn replicate_groups_get_group_rows_and_group_comparisons() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = subset_dataset(&tmp.path().join("data"), &KEEP);
    let cfg = tmp.path().join("workbench.toml");
    write_config(
        &cfg,
        &dataset,
        &[fixture_model("clip"), fixture_model("clip-s1")],
        &[fixture_model("eclip"), fixture_model("eclip-s1")],
    );
    let csv_path = tmp.path().join("out.csv");
    let review = tmp.path().join("review.md");
    let out = eclip(
        &cfg,
        &[
            "--report",
            csv_path.to_str().unwrap(),
            "--review",
            review.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = read_csv(&csv_path);
    assert_eq!(
        &header[header.len() - 3..],
        ["adjustment", "replicates", "replicate_sd"]
    );
    // Every replicate has rows under its own name; the group row is their mean.
    for (task, setting, metric) in [
        ("zeroshot", "argmax", "macro_f1"),
        ("retrieval", "i2t", "r@10"),
        ("geometry", "", "modality_gap"),
    ] {
        for g in ["CLIP", "eCLIP"] {
            let r0 = num(
                find(&rows, &format!("{g}#0"), task, setting, metric),
                "value",
            );
            let r1 = num(
                find(&rows, &format!("{g}#1"), task, setting, metric),
                "value",
            );
            let grp = find(&rows, g, task, setting, metric);
            assert!(
                (num(grp, "value") - (r0 + r1) / 2.0).abs() < 1e-9,
                "{g} {metric}"
            );
            assert_eq!(grp["replicates"], "2");
            let sd = (r1 - r0).abs() / 2f64.sqrt();
            assert!((num(grp, "replicate_sd") - sd).abs() < 1e-9, "{g} {metric}");
            assert!(num(grp, "ci_low") <= num(grp, "value"));
            assert!(num(grp, "value") <= num(grp, "ci_high"));
            assert_eq!(
                find(&rows, &format!("{g}#0"), task, setting, metric)["replicates"],
                "1"
            );
        }
        let c = |g: &str| num(find(&rows, g, task, setting, metric), "value");
        let d = find(&rows, "eCLIP - CLIP", task, setting, metric);
        assert!((num(d, "value") - (c("eCLIP") - c("CLIP"))).abs() < 1e-9);
        assert_eq!(d["replicates"], "2");
        assert!(num(d, "p_adjusted") >= num(d, "p_value"));
        assert!(num(d, "ci_low") <= num(d, "value") && num(d, "value") <= num(d, "ci_high"));
    }
    // Comparisons are between groups only: no replicate is compared with another, and DeLong
    // (two single models) is left out.
    let cmp_models: Vec<&str> = rows
        .iter()
        .filter(|r| r["model"].contains(" - "))
        .map(|r| r["model"].as_str())
        .collect();
    assert!(!cmp_models.is_empty());
    assert!(
        cmp_models.iter().all(|m| *m == "eCLIP - CLIP"),
        "{cmp_models:?}"
    );
    assert!(
        !rows
            .iter()
            .any(|r| r["metric"].starts_with("auroc_delong:"))
    );
    // The probe rows: the group comparison resamples (replicate, probe seed) units, then test
    // items, so `n` is the test items (as on each replicate's own row) and the replicates are 2.
    let p = find(
        &rows,
        "eCLIP - CLIP",
        "linear_probe",
        "fraction=1",
        "macro_f1",
    );
    let own = find(&rows, "CLIP#0", "linear_probe", "fraction=1", "macro_f1");
    assert_eq!(
        (p["n"].as_str(), p["replicates"].as_str()),
        (own["n"].as_str(), "2")
    );
    assert!(num(p, "n") > 2.0, "n counts test items, not fits: {p:?}");
    assert!(!p["ci_low"].is_empty() && !p["p_value"].is_empty(), "{p:?}");
    // The review compares the groups and counts their replicates.
    let md = std::fs::read_to_string(&review).unwrap();
    assert!(
        md.starts_with("# Model comparison: CLIP vs eCLIP\n"),
        "{md}"
    );
    assert!(md.contains("### eCLIP vs CLIP"));
    assert!(md.contains("CLIP = `CLIP#0`, `CLIP#1`"));
    let verdict_lines: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("#### Verdicts"))
        .skip(4)
        .take_while(|l| l.starts_with("| "))
        .collect();
    assert!(verdict_lines.len() >= 5, "{md}");
    for l in &verdict_lines {
        let cells: Vec<&str> = l.split(" | ").collect();
        assert_eq!(cells[7], "2", "replicates column of {l}");
    }
    assert!(md.contains("Replicates: up to 2 training seeds per model"));
    assert!(!md.contains("Single replicate:"));
}

#[test]
fn replicates_with_different_embedding_contracts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join("eclip-odd");
    std::fs::create_dir_all(&odd).unwrap();
    for f in ["image.onnx", "text.onnx", "tokenizer.json", "model.json"] {
        std::fs::copy(fixture_model("eclip-s1").join(f), odd.join(f)).unwrap();
    }
    let spec = std::fs::read_to_string(odd.join("model.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&spec).unwrap();
    json["image"]["mean"] = serde_json::json!([0.4]);
    std::fs::write(odd.join("model.json"), json.to_string()).unwrap();
    let dataset = subset_dataset(&tmp.path().join("data"), &[("test", 5)]);
    let cfg = tmp.path().join("workbench.toml");
    write_config(
        &cfg,
        &dataset,
        &[fixture_model("clip")],
        &[fixture_model("eclip"), odd.clone()],
    );
    let out = eclip(
        &cfg,
        &["--report", tmp.path().join("o.csv").to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[[models]] \"eCLIP\"") && err.contains("embedding contract"),
        "{err}"
    );
    assert!(err.contains(&odd.display().to_string()), "{err}");
    assert!(err.contains("workbench.toml"), "names the config: {err}");
}
