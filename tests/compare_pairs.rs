//! `[eval] compare` end to end (issue 18 item 1): `eclip --report` with three plain fixture models
//! on a small subset of `fixtures/data`. `compare = "all"` gives comparison rows for every
//! unordered pair (bootstrap rows of every family, DeLong rows, probe deltas) with p-values and
//! adjusted p-values adjusted per (dataset, pair); a listed pair gives exactly that pair's rows,
//! with the same numbers as in the `"all"` run; an unknown name is refused at start-up.
//! Kept small (≈250 images, 50 resamples) for CI's two cores.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use core_support::{fixture_model, read_csv_rows, subset_dataset};

const KEEP: [(&str, usize); 4] = [
    ("train", 100),
    ("val", 30),
    ("test", 60),
    ("test_5x200", 60),
];

const MODELS: [(&str, &str); 3] = [("CLIP", "clip"), ("eCLIP", "eclip"), ("CLIP1", "clip-s1")];

fn write_config(path: &Path, dataset: &Path, compare: &str) {
    let mut text = String::new();
    for (name, dir) in MODELS {
        let p = fixture_model(dir);
        text += &format!(
            "[[models]]\nname = {name:?}\npath = {:?}\n",
            p.display().to_string()
        );
    }
    text += &format!(
        "[[datasets]]\npath = {:?}\n[eval]\nbootstrap = 50\nprobe_fractions = [1.0]\n\
         probe_seeds = [0]\ngap_shift = [0.0]\ncompare = {compare}\n[rag]\ngenerators = []\n",
        dataset.display().to_string()
    );
    std::fs::write(path, text).unwrap();
}

fn report(cfg: &Path, csv: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--threads",
            "1",
            "--quiet",
        ])
        .args(["--report", csv.to_str().unwrap()])
        .output()
        .expect("run eclip")
}

type Row = HashMap<String, String>;

fn comparisons(rows: &[Row]) -> Vec<&Row> {
    let names: Vec<&str> = MODELS.iter().map(|m| m.0).collect();
    rows.iter()
        .filter(|r| !names.contains(&r["model"].as_str()))
        .collect()
}

#[test]
fn compare_all_judges_every_pair_and_a_listed_pair_has_the_same_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = subset_dataset(&tmp.path().join("data"), &KEEP);
    let cfg = tmp.path().join("workbench.toml");
    write_config(&cfg, &dataset, "\"all\"");
    let all_csv = tmp.path().join("all.csv");
    let out = report(&cfg, &all_csv);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = read_csv_rows(&all_csv);
    let cmp = comparisons(&all);
    let pairs: BTreeSet<&str> = cmp.iter().map(|r| r["model"].as_str()).collect();
    let want: BTreeSet<&str> = ["eCLIP - CLIP", "CLIP1 - CLIP", "CLIP1 - eCLIP"].into();
    assert_eq!(pairs, want);
    let key = |r: &Row| (r["task"].clone(), r["setting"].clone(), r["metric"].clone());
    let of = |pair: &str| -> BTreeSet<(String, String, String)> {
        cmp.iter()
            .filter(|r| r["model"] == pair)
            .map(|r| key(r))
            .collect()
    };
    // Every pair has the same comparison rows as the first pair: every family, DeLong, probes.
    let first = of("eCLIP - CLIP");
    for task in [
        "zeroshot",
        "retrieval",
        "geometry",
        "gap_shift",
        "linear_probe",
    ] {
        assert!(first.iter().any(|k| k.0 == task), "no {task} comparison");
    }
    assert!(
        first.iter().any(|k| k.2.starts_with("auroc_delong:")),
        "no DeLong rows"
    );
    assert_eq!(of("CLIP1 - CLIP"), first);
    assert_eq!(of("CLIP1 - eCLIP"), first);
    // p-values and their adjustment on the non-first pair, in families of that pair only.
    let non_first: Vec<&&Row> = cmp
        .iter()
        .filter(|r| r["model"] == "CLIP1 - eCLIP")
        .collect();
    let with_p: Vec<&&Row> = non_first
        .iter()
        .copied()
        .filter(|r| !r["p_value"].is_empty())
        .collect();
    assert!(with_p.len() > 10, "{} rows with p", with_p.len());
    for r in &with_p {
        let (p, q): (f64, f64) = (
            r["p_value"].parse().unwrap(),
            r["p_adjusted"].parse().unwrap(),
        );
        assert!(q >= p && q <= 1.0, "{r:?}");
        assert!(["holm", "bh"].contains(&r["adjustment"].as_str()), "{r:?}");
    }
    let holm = with_p.iter().filter(|r| r["adjustment"] == "holm").count();
    let first_holm = cmp
        .iter()
        .filter(|r| r["model"] == "eCLIP - CLIP" && r["adjustment"] == "holm")
        .count();
    assert_eq!(
        holm, first_holm,
        "each pair is its own Holm family of the same size"
    );

    // The listed pair, baseline first: exactly that pair, the numbers of the "all" run.
    write_config(&cfg, &dataset, "[[\"eCLIP\", \"CLIP1\"]]");
    let one_csv = tmp.path().join("one.csv");
    let out = report(&cfg, &one_csv);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one = read_csv_rows(&one_csv);
    let listed = comparisons(&one);
    assert!(listed.iter().all(|r| r["model"] == "CLIP1 - eCLIP"));
    assert_eq!(listed.len(), non_first.len());
    for (a, b) in listed.iter().zip(&non_first) {
        assert_eq!(*a, **b, "same seed, same numbers");
    }
    // Per-model rows do not depend on the compared pairs.
    let models = |rows: &[Row]| -> Vec<Row> {
        rows.iter()
            .filter(|r| MODELS.iter().any(|m| m.0 == r["model"]))
            .cloned()
            .collect()
    };
    assert_eq!(models(&one), models(&all));

    // An unknown name is refused before any embedding, naming the key and the close name.
    write_config(&cfg, &dataset, "[[\"eCLIP\", \"CLIP2\"]]");
    let out = report(&cfg, &tmp.path().join("bad.csv"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[eval] compare") && err.contains("CLIP2"),
        "{err}"
    );
    assert!(err.contains("did you mean"), "{err}");
}
