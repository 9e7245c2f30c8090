//! `rag::run` end to end on a synthetic dataset with synthetic embeddings: model "A" has image
//! embeddings unrelated to the reports, model "B" has image embeddings close to their own report's
//! text embedding, so B must retrieve reports with the right findings and win on label F1 and BLEU.
//! The LLM generator runs against the loopback test server of `tests/rag_support`.
use std::collections::BTreeMap;
use std::path::PathBuf;

use eclip_workbench::data::{Dataset, Row, SplitRoles};
use eclip_workbench::eval::metrics::{Setting, Task};
use eclip_workbench::eval::{MetricRow, ModelEmbeddings, SplitEmbeddings};
use eclip_workbench::rag::{self, RagConfig};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

mod rag_support;

const LABELS: [&str; 7] = [
    "cardiomegaly",
    "pleural_effusion",
    "pneumothorax",
    "nodule",
    "consolidation",
    "edema",
    "no_finding",
];
const PHRASES: [(&str, &str); 6] = [
    ("The heart is enlarged.", "Heart size is normal."),
    ("Small right pleural effusion.", "No pleural effusion."),
    ("Left apical pneumothorax.", "No pneumothorax."),
    ("A nodule in the right upper lobe.", "No pulmonary nodule."),
    (
        "Focal consolidation in the left lower lobe.",
        "No focal consolidation.",
    ),
    ("Mild pulmonary edema.", "No pulmonary edema."),
];
const DIM: usize = 16;

fn dataset(n_train: usize, n_test: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(7);
    let mut rows = Vec::new();
    for i in 0..n_train + n_test {
        let mut labels = vec![0u8; 7];
        for l in labels.iter_mut().take(6) {
            *l = u8::from(rng.gen_bool(0.25));
        }
        labels[6] = u8::from(labels[..6].iter().all(|&v| v == 0));
        let mut report: Vec<&str> = Vec::new();
        for (j, (pos, neg)) in PHRASES.iter().enumerate() {
            if labels[j] == 1 {
                report.push(pos);
            } else if rng.gen_bool(0.5) {
                report.push(neg);
            }
        }
        rows.push(Row {
            line: i + 2,
            image: PathBuf::from(format!("img{i}.png")),
            report: report.join(" "),
            split: if i < n_train { "train" } else { "test" }.into(),
            patient: None,
            labels,
            heatmap: None,
        });
    }
    Dataset {
        name: "synthetic".into(),
        root: PathBuf::from("."),
        manifest: PathBuf::from("manifest.csv"),
        labels: LABELS.iter().map(|s| (*s).to_owned()).collect(),
        zeroshot_classes: Vec::new(),
        splits: SplitRoles {
            train: "train".into(),
            val: "val".into(),
            test: "test".into(),
            single_positive: None,
        },
        rows,
        prompts: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
        labeler: Default::default(),
    }
}

fn normalize(mut a: Array2<f32>) -> Array2<f32> {
    for mut r in a.rows_mut() {
        let n = r.dot(&r).sqrt().max(1e-12);
        r /= n;
    }
    a
}

/// Text embedding: label pattern + report-specific noise; image: text + `image_noise` (or random).
fn model(ds: &Dataset, name: &str, informative: bool) -> ModelEmbeddings {
    let mut rng = StdRng::seed_from_u64(if informative { 1 } else { 2 });
    let mut splits = BTreeMap::new();
    for split in ["train", "test"] {
        let rows: Vec<usize> = (0..ds.rows.len())
            .filter(|&r| ds.rows[r].split == split)
            .collect();
        let mut text = Array2::<f32>::zeros((rows.len(), DIM));
        let mut image = Array2::<f32>::zeros((rows.len(), DIM));
        for (i, &r) in rows.iter().enumerate() {
            let report_seed = ds.rows[r]
                .report
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
            let mut trng = StdRng::seed_from_u64(report_seed);
            for d in 0..DIM {
                let signal = if d < 7 {
                    f32::from(ds.rows[r].labels[d])
                } else {
                    0.0
                };
                text[[i, d]] = signal + 0.1 * trng.gen_range(-1.0f32..1.0);
                image[[i, d]] = if informative {
                    text[[i, d]] + 0.05 * rng.gen_range(-1.0f32..1.0)
                } else {
                    rng.gen_range(-1.0f32..1.0)
                };
            }
        }
        splits.insert(
            split.to_owned(),
            SplitEmbeddings {
                rows,
                image: normalize(image),
                text: normalize(text),
            },
        );
    }
    ModelEmbeddings {
        model: name.into(),
        splits,
        prompts: Vec::new(),
        logit_scale: None,
    }
}

/// The row of `model` for RAG generator `generator` and `metric`.
fn find<'a>(rows: &'a [MetricRow], model: &str, generator: &str, metric: &str) -> &'a MetricRow {
    let setting = Setting::Generator(generator.into());
    rows.iter()
        .find(|r| r.model == model && r.setting == setting && r.metric == metric)
        .unwrap_or_else(|| panic!("no row {model} {generator} {metric}"))
}

#[test]
fn builtin_generators_rows_items_and_export() {
    let ds = dataset(300, 60);
    let models = [model(&ds, "A", false), model(&ds, "B", true)];
    let out = tempfile::tempdir().expect("tempdir");
    let cfg = RagConfig {
        bootstrap: 200,
        export_dir: Some(out.path().to_path_buf()),
        ..RagConfig::default()
    };
    let s = rag::run(&ds, &models, &cfg, &|_| {}).expect("runs");
    // 2 models x 2 generators x 8 metrics, then B - A per generator x 8 metrics.
    assert_eq!(s.rows.len(), 48);
    assert!(
        s.rows
            .iter()
            .all(|r| r.task == Task::Rag && r.dataset == "synthetic")
    );
    for setting in ["top1", "centroid"] {
        for metric in [
            "bleu2",
            "bleu4",
            "sentence_bleu2",
            "meteor",
            "meteor_listwise",
            "rougeL",
            "label_f1_micro",
            "label_f1_macro",
        ] {
            let a = find(&s.rows, "A", setting, metric);
            let b = find(&s.rows, "B", setting, metric);
            for r in [a, b] {
                let v = r.value.expect("defined");
                assert!((0.0..=1.0).contains(&v), "{r:?}");
                assert!(
                    r.ci_low.expect("ci") <= v && v <= r.ci_high.expect("ci"),
                    "{r:?}"
                );
                assert_eq!(r.n, 60);
            }
            let d = find(&s.rows, "B - A", setting, metric);
            let dv = d.value.expect("delta");
            assert!((dv - (b.value.expect("b") - a.value.expect("a"))).abs() < 1e-12);
            if metric.starts_with("label_f1") || metric == "bleu4" {
                assert!(
                    dv > 0.0,
                    "informative embeddings must win on {setting} {metric}: {d:?}"
                );
                assert!(d.p_value.expect("p") < 0.05, "{d:?}");
            }
        }
    }
    assert_eq!(s.per_model.len(), 4);
    let b_top1 = &s.per_model[2];
    assert_eq!(
        (b_top1.model.as_str(), b_top1.generator.as_str()),
        ("B", "top1")
    );
    for item in &b_top1.items {
        assert_eq!(item.snippets.len(), 5);
        assert_eq!(item.reference, ds.rows[item.row].report);
        assert!(item.error.is_none());
        for f in item
            .reference_findings
            .iter()
            .chain(&item.generated_findings)
        {
            assert!(f.span.0 < f.span.1);
        }
    }
    // Exported CSVs: study_id,report, one file pair per model x generator.
    let gen_csv =
        std::fs::read_to_string(out.path().join("B__top1.generated.csv")).expect("export");
    let mut lines = gen_csv.lines();
    assert_eq!(lines.next(), Some("study_id,report"));
    assert_eq!(lines.count(), 60);
    assert_eq!(std::fs::read_dir(out.path()).expect("dir").count(), 8);
}

#[test]
fn llm_generator_through_loopback_server() {
    let server = rag_support::TestServer::start();
    let ds = dataset(80, 6);
    let models = [model(&ds, "A", false), model(&ds, "B", true)];
    let cache = tempfile::tempdir().expect("tempdir");
    let mut cfg = RagConfig {
        generators: vec!["llm:mistral-test".into()],
        bootstrap: 50,
        ..RagConfig::default()
    };
    cfg.llm.url = server.url();
    cfg.llm.timeout_s = 2.0;
    cfg.llm.cache_dir = Some(cache.path().to_path_buf());
    let s = rag::run(&ds, &models, &cfg, &|_| {}).expect("runs");
    assert_eq!(s.rows.len(), 24); // (A, B, B - A) x 8 metrics
    assert!(
        s.rows
            .iter()
            .all(|r| r.setting == Setting::Generator("llm:mistral-test".into()))
    );
    let item = &s.per_model[1].items[0];
    // The server echoes the last user message: the query's numbered snippets.
    assert!(
        item.generated
            .starts_with("report for: Retrieved reports:\n1. "),
        "{}",
        item.generated
    );
    assert!(item.generated.contains(&item.snippets[0]));
    assert_eq!(
        server
            .state
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        12
    );
    // Rerun: all from the cache.
    let s2 = rag::run(&ds, &models, &cfg, &|_| {}).expect("reruns");
    assert_eq!(
        server
            .state
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        12
    );
    assert_eq!(s2.rows, s.rows);
    assert!(
        s2.notes
            .iter()
            .any(|n| n.contains("6 answers from the cache")),
        "{:?}",
        s2.notes
    );

    // Endpoint down: every item fails with a clear error, rows are undefined, nothing panics.
    drop(server);
    let mut down = cfg.clone();
    down.llm.cache_dir = None;
    down.llm.retries = 0;
    down.llm.url = "http://127.0.0.1:9".into();
    let s3 = rag::run(&ds, &models, &down, &|_| {}).expect("runs with per-item errors");
    assert!(
        s3.per_model
            .iter()
            .all(|m| m.items.iter().all(|i| i.error.is_some()))
    );
    assert!(s3.rows.iter().all(|r| r.value.is_none() && r.n == 0));
    assert!(
        s3.notes.iter().any(|n| n.contains("6 failed")),
        "{:?}",
        s3.notes
    );
}

#[test]
fn config_errors_are_clear() {
    let ds = dataset(20, 4);
    let models = [model(&ds, "A", false)];
    let bad_gen = RagConfig {
        generators: vec!["gpt".into()],
        ..RagConfig::default()
    };
    let e = rag::run(&ds, &models, &bad_gen, &|_| {}).expect_err("unknown generator");
    assert!(e.to_string().contains("\"gpt\""), "{e}");
    let bad_split = RagConfig {
        corpus_split: Some("nope".into()),
        ..RagConfig::default()
    };
    let e = rag::run(&ds, &models, &bad_split, &|_| {}).expect_err("missing split");
    assert!(
        e.to_string().contains("\"nope\"") && e.to_string().contains("model A"),
        "{e}"
    );
}

#[test]
fn external_text_corpus_from_iu_xray_csv() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rag/iu_xray_sample.csv");
    let texts = rag::load_corpus_csv(&path).expect("sample CSV loads");
    // 189 reports, 184 distinct texts (identical "normal" reports are kept once).
    assert_eq!(texts.len(), 184);
    let ds = dataset(40, 5);
    let models = [model(&ds, "A", false), model(&ds, "B", true)];
    let mut rng = StdRng::seed_from_u64(3);
    let emb = |rng: &mut StdRng| {
        normalize(Array2::from_shape_fn((texts.len(), DIM), |_| {
            rng.gen_range(-1.0f32..1.0)
        }))
    };
    let corpus = rag::ExternalCorpus {
        name: path.display().to_string(),
        texts: texts.clone(),
        embeddings: vec![("A".into(), emb(&mut rng)), ("B".into(), emb(&mut rng))],
    };
    let cfg = RagConfig {
        bootstrap: 20,
        ..RagConfig::default()
    };
    let s = rag::run_with_corpus(&ds, &models, Some(&corpus), &cfg, &|_| {}).expect("runs");
    assert_eq!(s.rows.len(), 48);
    for m in &s.per_model {
        for item in &m.items {
            assert!(item.snippets.iter().all(|t| texts.contains(t)));
            assert!(texts.contains(&item.generated));
        }
    }
    // A model without corpus embeddings is a clear error naming the model.
    let partial = rag::ExternalCorpus {
        embeddings: corpus.embeddings[..1].to_vec(),
        ..corpus.clone()
    };
    let e =
        rag::run_with_corpus(&ds, &models, Some(&partial), &cfg, &|_| {}).expect_err("B has none");
    assert!(e.to_string().contains("model B"), "{e}");
    let missing = rag::load_corpus_csv(std::path::Path::new("/nonexistent/iu.csv"))
        .expect_err("missing file");
    assert!(missing.to_string().contains("/nonexistent/iu.csv"));
}

/// Issue 15: labels the labeler has no rules for are not scored, so the label F1 is undefined, never
/// 1.0 (it used to be 1.0 for every report because `no_finding` was always positive).
#[test]
fn labels_without_rules_leave_label_f1_undefined() {
    let mut ds = dataset(120, 30);
    let models = [model(&ds, "A", false)];
    ds.labels = ["covid19", "no_finding"].map(str::to_owned).to_vec();
    for r in &mut ds.rows {
        r.labels = vec![0, 1];
    }
    let cfg = RagConfig {
        bootstrap: 50,
        generators: vec!["top1".into()],
        ..RagConfig::default()
    };
    let s = rag::run(&ds, &models, &cfg, &|_| {}).expect("runs");
    for metric in ["label_f1_micro", "label_f1_macro"] {
        let r = find(&s.rows, "A", "top1", metric);
        assert_eq!(r.value, None, "{r:?}");
    }
    assert!(find(&s.rows, "A", "top1", "bleu2").value.is_some());
    assert!(
        s.notes
            .iter()
            .any(|n| n.contains("not scored") && n.contains("covid19") && n.contains("no_finding")),
        "{:?}",
        s.notes
    );
    // With rules for covid19 (from [labeler]), both labels are scored.
    ds.labeler = toml::from_str("[labels.covid19]\nphrases = [\"pneumothorax\"]").expect("spec");
    let s = rag::run(&ds, &models, &cfg, &|_| {}).expect("runs");
    assert!(find(&s.rows, "A", "top1", "label_f1_micro").value.is_some());
    assert!(!s.notes.iter().any(|n| n.contains("not scored")));
}
