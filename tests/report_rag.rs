//! `eclip --report` end to end with the RAG task: the two fixture models (`fixtures/models/clip`,
//! `eclip`, as named in `tests/data/parity/refs.json`) on a small subset of `fixtures/data`, with
//! the built-in generators and an LLM generator behind the loopback test server of
//! `tests/rag_support`. Checks that the `rag` rows reach the CSV, the stdout table, the JSON, the
//! record (settings, never the API key) and the review (a RAG section with a verdict), and that the
//! `[rag]` paths (export folder, LLM cache, prompt template) resolve against the config file, not
//! the working directory. Kept small (≈300 images, 40 queries, 50 resamples) for CI's two cores.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;
mod rag_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use core_support::{fixture_models, repo, subset_dataset};
use rag_support::TestServer;

/// Rows kept per split of `fixtures/data` (the first ones in manifest order).
const KEEP: [(&str, usize); 4] = [
    ("train", 120),
    ("val", 40),
    ("test", 40),
    ("test_5x200", 50),
];
const QUERIES: usize = 40;
const SECRET: &str = "sk-integ-never-written-0451";

/// A workbench config over the two fixture models and `dataset`, with small `[eval]` settings and
/// `rag` (the `[rag]` section's body, tables included).
fn write_config(path: &Path, dataset: &Path, rag: &str) {
    let models = fixture_models();
    let text = format!(
        "[[models]]\nname = \"CLIP\"\npath = \"{}\"\n[[models]]\nname = \"eCLIP\"\npath = \"{}\"\n\
         [[datasets]]\npath = \"{}\"\n[eval]\nbootstrap = 50\nprobe_fractions = [1.0]\n\
         probe_seeds = [0]\ngap_shift = [0.0]\n[rag]\n{rag}",
        models[0].display(),
        models[1].display(),
        dataset.display()
    );
    std::fs::write(path, text).unwrap();
}

/// `eclip --config CFG --no-cache --threads 1 ARGS...` run in `cwd`.
fn eclip(cwd: &Path, cfg: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .current_dir(cwd)
        .envs(env.iter().copied())
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--threads",
            "1",
        ])
        .args(args)
        .output()
        .expect("run eclip")
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scripted end-to-end scenario: its steps share the running app and the state they build up"
)]
fn report_has_rag_rows_in_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dataset = subset_dataset(&root.join("data"), &KEEP);
    let server = TestServer::start();
    // A config-relative template, distinguishable from the built-in one.
    let template = std::fs::read_to_string(repo().join("templates/rag_prompt.txt")).unwrap();
    std::fs::write(root.join("prompt.txt"), format!("{template}\n")).unwrap();
    let cfg = root.join("workbench.toml");
    write_config(
        &cfg,
        &dataset,
        &format!(
            r#"k = 3
m = 5
limit = {QUERIES}
generators = ["top1", "centroid", "llm:tiny"]
export_dir = "rag-out"
[rag.llm]
url = "{}"
api_key_env = "ECLIP_INTEG_TEST_KEY"
retries = 0
timeout_s = 10.0
cache_dir = "llm-cache"
template = "prompt.txt"
"#,
            server.url()
        ),
    );
    // Run from another folder: the [rag] paths must follow the config file.
    let cwd = root.join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let out = eclip(
        &cwd,
        &cfg,
        &[
            "--report",
            "out.csv",
            "--json",
            "out.json",
            "--review",
            "review.md",
        ],
        &[("ECLIP_INTEG_TEST_KEY", SECRET)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "eclip failed:\n{stdout}\n{stderr}");
    assert!(stderr.contains("[rag "), "no RAG progress lines:\n{stderr}");

    // CSV: every model and the comparison, every generator and metric, n = the queries.
    let mut rdr = csv::Reader::from_path(cwd.join("out.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[2] == "rag")
        .collect();
    for model in ["CLIP", "eCLIP", "eCLIP - CLIP"] {
        for setting in ["top1", "centroid", "llm:tiny"] {
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
                let r = rows
                    .iter()
                    .find(|r| &r[0] == model && &r[3] == setting && &r[4] == metric)
                    .unwrap_or_else(|| panic!("no rag row {model} {setting} {metric}"));
                assert_eq!(&r[1], "cxr-demo");
                assert_eq!(r[8].parse::<usize>().unwrap(), QUERIES, "{r:?}");
                let v: f64 = r[5].parse().unwrap_or_else(|_| panic!("value of {r:?}"));
                let lo = if model.contains(" - ") { -1.0 } else { 0.0 };
                assert!((lo..=1.0).contains(&v), "{r:?}");
                assert_eq!(
                    r[9].is_empty(),
                    !model.contains(" - "),
                    "p only on deltas: {r:?}"
                );
            }
        }
    }
    // The retrieval-only baselines copy a corpus report, so they score above zero on this data.
    let bleu2 = |m: &str, s: &str| -> f64 {
        rows.iter()
            .find(|r| &r[0] == m && &r[3] == s && &r[4] == "bleu2")
            .unwrap()[5]
            .parse()
            .unwrap()
    };
    assert!(bleu2("CLIP", "top1") > 0.05 && bleu2("eCLIP", "centroid") > 0.05);
    // Without [rag] text_encoder there are no encoder rows.
    assert!(
        !rows
            .iter()
            .any(|r| r[4].starts_with("bertscore") || &r[4] == "embedding_cosine")
    );

    // stdout table.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("rag") && l.contains("centroid") && l.contains("bleu2")),
        "{stdout}"
    );

    // Record beside the CSV and the JSON: RAG settings with the template's hash, never the key.
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("out.csv.record.json")).unwrap())
            .unwrap();
    let rag = &record["rag"]["cxr-demo"];
    assert_eq!(rag["k"], 3);
    assert_eq!(rag["m"], 5);
    assert_eq!(rag["corpus"], "split:train");
    assert_eq!(rag["generators"][2], "llm:tiny");
    assert_eq!(rag["llm"]["api_key_env"], "ECLIP_INTEG_TEST_KEY");
    let sha = rag["prompt_template_sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(
        rag["prompt_template"]
            .as_str()
            .unwrap()
            .ends_with("prompt.txt")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("out.json")).unwrap()).unwrap();
    assert_eq!(json["record"]["rag"], record["rag"]);
    let json_rows = json["summaries"][0]["rows"].as_array().unwrap();
    assert_eq!(
        json_rows.iter().filter(|r| r["task"] == "rag").count(),
        rows.len()
    );

    // Review: a RAG section with a verdict.
    let review = std::fs::read_to_string(cwd.join("review.md")).unwrap();
    let section = review
        .split("#### RAG report generation")
        .nth(1)
        .unwrap_or_else(|| panic!("no RAG section:\n{review}"));
    assert!(section.contains("| llm:tiny | bleu2 |"), "{section}");
    assert!(
        review.contains("#### Verdicts (primary metrics)") && review.contains("label_f1_micro"),
        "{review}"
    );
    assert!(review.contains(sha));

    // The key went to the server and nowhere else.
    let auth = server.state.auth.lock().unwrap().clone();
    assert!(auth.iter().any(|a| a.contains(SECRET)), "{auth:?}");
    for f in walk(root) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "API key written to {}",
            f.display()
        );
    }
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));

    // Config-relative outputs: CXR-Report-Metric CSVs and the LLM cache.
    let gen_csv = root.join("rag-out/eCLIP__centroid.generated.csv");
    let text =
        std::fs::read_to_string(&gen_csv).unwrap_or_else(|e| panic!("{}: {e}", gen_csv.display()));
    assert!(text.starts_with("study_id,report\n"));
    assert_eq!(text.lines().count(), QUERIES + 1);
    assert!(root.join("rag-out/CLIP__llm_tiny.reference.csv").is_file());
    assert!(!cwd.join("rag-out").exists());
    assert!(walk(&root.join("llm-cache")).len() >= QUERIES);
}

/// `[rag] corpus_csv` (relative to the config): retrieval from an external report CSV embedded by
/// each model's text encoder; every top-1 report comes from that CSV.
#[test]
fn report_retrieves_from_an_external_corpus_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dataset = subset_dataset(&root.join("data"), &KEEP);
    // Reports of test rows the subset does not use, marked so their origin is unambiguous.
    let mut rdr = csv::Reader::from_path(repo().join("fixtures/data/manifest.csv")).unwrap();
    let corpus: Vec<String> = rdr
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[2] == "test")
        .skip(200)
        .take(30)
        .map(|r| format!("{} (external)", &r[1]))
        .collect();
    let mut w = csv::Writer::from_path(root.join("corpus.csv")).unwrap();
    w.write_record(["study_id", "report"]).unwrap();
    for (i, r) in corpus.iter().enumerate() {
        w.write_record([i.to_string(), r.clone()]).unwrap();
    }
    w.flush().unwrap();
    let cfg = root.join("workbench.toml");
    write_config(
        &cfg,
        &dataset,
        "k = 3\nm = 4\nlimit = 20\ngenerators = [\"top1\"]\ncorpus_csv = \"corpus.csv\"\n\
         export_dir = \"rag-out\"\n",
    );
    let out = eclip(root, &cfg, &["--quiet", "--report", "out.csv"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out.csv.record.json")).unwrap())
            .unwrap();
    let corpus_setting = record["rag"]["cxr-demo"]["corpus"].as_str().unwrap();
    assert!(
        corpus_setting.starts_with("csv:") && corpus_setting.ends_with("corpus.csv"),
        "{corpus_setting}"
    );
    for model in ["CLIP", "eCLIP"] {
        let mut rdr =
            csv::Reader::from_path(root.join(format!("rag-out/{model}__top1.generated.csv")))
                .unwrap();
        let generated: Vec<String> = rdr.records().map(|r| r.unwrap()[1].to_owned()).collect();
        assert_eq!(generated.len(), 20);
        for g in &generated {
            assert!(
                corpus.contains(g),
                "{model} top1 {g:?} is not from corpus.csv"
            );
        }
    }
    let csv_text = std::fs::read_to_string(root.join("out.csv")).unwrap();
    assert!(csv_text.contains("eCLIP - CLIP,cxr-demo,rag,top1,bleu2,"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `[rag] text_encoder` (the tiny BERT of `tests/data/text_encoder`) with `cluster_with =
/// "text_encoder"` under the eclip-paper protocol: BERTScore and embedding-cosine rows with deltas,
/// the encoder in the record, and no "clustering encoder not used" departure in the review.
#[test]
fn report_with_a_text_encoder_scores_bertscore_and_clusters_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dataset = subset_dataset(&root.join("data"), &KEEP);
    let cfg = root.join("workbench.toml");
    let encoder = repo().join("tests/data/text_encoder");
    write_config(
        &cfg,
        &dataset,
        &format!(
            "k = 3\nm = 5\nlimit = 30\ngenerators = [\"top1\", \"centroid\"]\n\
             text_encoder = \"{}\"\ncluster_with = \"text_encoder\"\n",
            encoder.display()
        ),
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen("[eval]\n", "[eval]\nprotocol = \"eclip-paper\"\n", 1),
    )
    .unwrap();
    let out = eclip(
        root,
        &cfg,
        &["--quiet", "--report", "out.csv", "--review", "review.md"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rdr = csv::Reader::from_path(root.join("out.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rdr
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[2] == "rag")
        .collect();
    for model in ["CLIP", "eCLIP", "eCLIP - CLIP"] {
        for setting in ["top1", "centroid"] {
            for metric in [
                "bertscore_p",
                "bertscore_r",
                "bertscore_f1",
                "embedding_cosine",
            ] {
                let r = rows
                    .iter()
                    .find(|r| &r[0] == model && &r[3] == setting && &r[4] == metric)
                    .unwrap_or_else(|| panic!("no rag row {model} {setting} {metric}"));
                assert_eq!(r[8].parse::<usize>().unwrap(), 30, "{r:?}");
                let v: f64 = r[5].parse().unwrap_or_else(|_| panic!("value of {r:?}"));
                if model.contains(" - ") {
                    assert!((-1.0..=1.0).contains(&v) && !r[9].is_empty(), "{r:?}");
                } else {
                    // Reports retrieved from a corpus of similar reports: well above chance.
                    assert!(v > 0.3 && v <= 1.0 + 1e-9, "{r:?}");
                    assert!(
                        r[6].parse::<f64>().unwrap() <= v,
                        "CI low above value: {r:?}"
                    );
                }
            }
        }
    }
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out.csv.record.json")).unwrap())
            .unwrap();
    let rag = &record["rag"]["cxr-demo"];
    assert_eq!(rag["cluster_with"], "text_encoder");
    assert_eq!(rag["text_encoder"]["name"], "tiny-random-bert");
    assert_eq!(rag["text_encoder"]["layer"], 2);
    assert_eq!(rag["text_encoder"]["pooling"], "mean");
    let review = std::fs::read_to_string(root.join("review.md")).unwrap();
    assert!(
        !review.contains("KMeans ran on the model's own text embeddings"),
        "{review}"
    );
    assert!(
        review.contains("KMeans on the pooled embeddings of the text encoder `tiny-random-bert`"),
        "{review}"
    );
    assert!(review.contains("bertscore_f1"), "{review}");
}
