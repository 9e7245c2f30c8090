//! The report writers on a synthetic two-model evaluation: the CSV header and rows, comparison rows,
//! the reproducibility record beside the CSV, `--json`, the SVG figures and the Markdown review.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod common;
use std::collections::BTreeMap;

use eclip_workbench::eval::config::EvalConfig;
use eclip_workbench::eval::summary::EvalSummary;
use eclip_workbench::eval::synthetic::{SyntheticModel, SyntheticSpec, synthetic};
use eclip_workbench::report::plots::{ModelProvenance, varying_provenance_key, write_plots};
use eclip_workbench::report::record::{JsonReport, record_path, write_json_report, write_record};
use eclip_workbench::report::{csv, review};
use eclip_workbench::run::evaluate;
use eclip_workbench::run::table;

fn summary(models: Vec<SyntheticModel>) -> EvalSummary {
    let spec = SyntheticSpec {
        models,
        ..SyntheticSpec::default()
    };
    let (ds, embeds) = synthetic(&spec);
    let cfg = EvalConfig {
        bootstrap: 50,
        probe_fractions: vec![0.1, 1.0],
        ..EvalConfig::default()
    };
    evaluate(&ds, &embeds, &cfg, &mut |_| {})
}

fn two_models() -> Vec<SyntheticModel> {
    SyntheticSpec::default().models
}

#[test]
fn csv_has_the_contract_columns_and_comparison_rows() {
    let s = summary(two_models());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    csv::write_csv_file(&path, std::slice::from_ref(&s)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "model,dataset,task,setting,metric,value,ci_low,ci_high,n,p_value,p_adjusted,adjustment,replicates,replicate_sd"
    );
    let mut rdr = ::csv::Reader::from_path(&path).unwrap();
    let rows: Vec<::csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), s.rows.len());
    let cmp: Vec<_> = rows.iter().filter(|r| &r[0] == "eCLIP - CLIP").collect();
    assert!(!cmp.is_empty());
    // Every defined comparison carries a p-value (probes at every fraction included).
    assert!(
        cmp.iter().all(|r| !r[9].is_empty() || r[5].is_empty()),
        "comparison rows carry p-values"
    );
    assert!(
        rows.iter()
            .filter(|r| !r[0].contains(" - "))
            .all(|r| r[9].is_empty()),
        "p only on comparisons"
    );
    for task in [
        "zeroshot",
        "linear_probe",
        "retrieval",
        "geometry",
        "gap_shift",
    ] {
        assert!(rows.iter().any(|r| &r[2] == task), "{task}");
    }
    // Values round-trip exactly.
    let first = s.rows.iter().find(|r| r.value.is_some()).unwrap();
    let back = rows
        .iter()
        .find(|r| {
            r[0] == first.model
                && r[4] == first.metric
                && r[3] == first.setting.label()
                && &r[2] == first.task.name()
        })
        .unwrap();
    assert_eq!(back[5].parse::<f64>().unwrap(), first.value.unwrap());

    let rec = write_record(&path, &common::inputs(&s), std::slice::from_ref(&s)).unwrap();
    assert_eq!(rec, record_path(&path));
    assert!(rec.to_string_lossy().ends_with("out.csv.record.json"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&rec).unwrap()).unwrap();
    assert_eq!(v["runtime"]["onnx_runtime_version"], "1.31.1");
    assert_eq!(v["eval"]["bootstrap"], 50);
    assert_eq!(v["csv_sha256"].as_str().unwrap().len(), 64);
    assert!(v["definitions"].as_array().unwrap().len() > 5);

    let json = dir.path().join("out.json");
    write_json_report(&json, &common::inputs(&s), std::slice::from_ref(&s)).unwrap();
    let back: JsonReport = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(back.summaries[0].rows.len(), s.rows.len());
}

#[test]
fn table_plots_and_review() {
    let s = summary(two_models());
    let t = table::render(&s);
    assert!(
        t.contains("eCLIP - CLIP (p)") && t.contains("modality_gap"),
        "{t}"
    );

    let dir = tempfile::tempdir().unwrap();
    let figs = write_plots(&dir.path().join("plots"), std::slice::from_ref(&s), &[]).unwrap();
    let names: Vec<String> = figs
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "synthetic_cosine.svg",
        "synthetic_group_cosine.svg",
        "synthetic_pca.svg",
        "synthetic_probe.svg",
        "synthetic_gap_shift.svg",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    for f in figs
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
    {
        let svg = std::fs::read_to_string(f).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.len() > 2000,
            "{}",
            f.display()
        );
    }

    let path = dir.path().join("review.md");
    review::write_review(&path, &common::inputs(&s), std::slice::from_ref(&s), &figs).unwrap();
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.contains("# Model comparison: CLIP vs eCLIP"));
    assert!(md.contains("##### Retrieval") && md.contains("#### Verdicts (primary metrics)"));
    assert!(md.contains("#### Limits of this comparison") && md.contains("Single replicate"));
    assert!(
        md.contains("![synthetic_pca](plots/synthetic_pca.png)")
            && md.contains("([SVG](plots/synthetic_pca.svg))"),
        "figures are shown relative to the review"
    );
    assert!(md.contains(&"ab".repeat(32)), "model hashes are stated");
}

#[test]
fn provenance_series_gets_metric_vs_value_curves() {
    let models: Vec<SyntheticModel> = [
        ("clip-25", 0.45),
        ("clip-100", 0.35),
        ("eclip-25", 0.35),
        ("eclip-100", 0.25),
    ]
    .into_iter()
    .map(|(n, noise)| SyntheticModel {
        name: n.into(),
        noise,
        gap: 0.5,
    })
    .collect();
    let s = summary(models);
    let prov: Vec<ModelProvenance> = s
        .models
        .iter()
        .map(|m| {
            let (fam, frac) = m.split_once('-').unwrap();
            ModelProvenance {
                model: m.clone(),
                family: fam.into(),
                values: BTreeMap::from([
                    (
                        "train_fraction".to_string(),
                        frac.parse::<f64>().unwrap() / 100.0,
                    ),
                    ("steps".to_string(), 600.0),
                    (
                        "train_seconds".to_string(),
                        frac.parse::<f64>().unwrap() * 3.7,
                    ),
                ]),
            }
        })
        .collect();
    assert_eq!(
        varying_provenance_key(&prov).as_deref(),
        Some("train_fraction")
    );
    let dir = tempfile::tempdir().unwrap();
    let figs = write_plots(dir.path(), std::slice::from_ref(&s), &prov).unwrap();
    assert!(
        figs.iter()
            .any(|f| f.ends_with("synthetic_provenance_train_fraction.svg"))
    );
    // `eclip-train efficiency` models also differ in what the fraction implies (issue 12): the
    // series key is named explicitly, whatever else varies.
    let mut efficiency = prov.clone();
    for (i, m) in efficiency.iter_mut().enumerate() {
        let f = m.values["train_fraction"];
        m.values.insert("pairs".into(), (f * 400.0).round());
        m.values.insert("prep_seconds".into(), 1.5 + i as f64);
        m.values
            .insert("final_temperature".into(), 0.07 + 0.01 * i as f64);
    }
    assert_eq!(
        varying_provenance_key(&efficiency).as_deref(),
        Some("train_fraction")
    );
    // Without a series key, two keys varying: no curve.
    let mut two = prov.clone();
    for m in &mut two {
        let f = m.values.remove("train_fraction").unwrap();
        m.values.insert("lr".into(), f);
    }
    two[0].values.insert("steps".into(), 300.0);
    assert_eq!(varying_provenance_key(&two), None);
    two[0].values.insert("steps".into(), 600.0);
    assert_eq!(varying_provenance_key(&two).as_deref(), Some("lr"));
}
