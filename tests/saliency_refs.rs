//! The saliency-agreement metrics (`eval::saliency`) against reference values.
//!
//! `tests/data/metric_refs/saliency.json` was written by
//! `PYTHONPATH=$PWD/onnx-export/src .venv/bin/python onnx-export/scripts/make_saliency_refs.py
//! --pysaliency-src /tmp/pysaliency-0.2.22` (numpy 2.4.6, scipy 1.17.1; the sdist from
//! `pip download pysaliency==0.2.22 --no-deps`): a numpy transcription of pysaliency's NSS, CC,
//! MIT_KLDiv, SIM and AUC-Judd (general_roc, judd = 1, no jitter), whose NSS/CC/KL/SIM values the
//! script asserts equal to pysaliency's own `metrics.py` to 1e-12. The file's `how` field says the
//! same. Nothing in it comes from this crate.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
use std::path::PathBuf;

use eclip_workbench::eval::saliency::{self, Pixel};
use ndarray::Array2;
use serde_json::Value;

fn map(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
}

fn pixels(v: &Value) -> Vec<Pixel> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| Pixel {
            x: p[0].as_u64().unwrap() as usize,
            y: p[1].as_u64().unwrap() as usize,
        })
        .collect()
}

fn close(got: Option<f64>, want: &Value, what: &str) {
    match want.as_f64() {
        Some(w) => {
            let g = got.unwrap_or_else(|| panic!("{what}: got None, want {w}"));
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{what}: got {g}, want {w}"
            );
        }
        None => assert_eq!(got, None, "{what}: want undefined"),
    }
}

#[test]
fn saliency_metrics_match_the_pysaliency_definitions() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/metric_refs/saliency.json");
    let refs: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = refs["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let (s, r) = (map(&c["saliency"]), map(&c["reference"]));
        let fix = pixels(&c["fixations"]);
        close(
            saliency::nss(s.view(), &fix),
            &c["nss"],
            &format!("{name} nss"),
        );
        close(
            saliency::cc(s.view(), r.view()),
            &c["cc"],
            &format!("{name} cc"),
        );
        close(
            saliency::kl_div(s.view(), r.view()),
            &c["kl"],
            &format!("{name} kl"),
        );
        close(
            saliency::sim(s.view(), r.view()),
            &c["sim"],
            &format!("{name} sim"),
        );
        close(
            saliency::auc_judd(s.view(), &fix),
            &c["auc_judd"],
            &format!("{name} auc_judd"),
        );
        assert_eq!(
            saliency::local_maxima(r.view()),
            pixels(&c["local_maxima"]),
            "{name} local maxima"
        );
        // `agreement` with recorded fixations is the five functions above.
        let a = saliency::agreement(s.view(), r.view(), &fix);
        close(a.nss, &c["nss"], name);
        close(a.auc_judd, &c["auc_judd"], name);
    }
}
