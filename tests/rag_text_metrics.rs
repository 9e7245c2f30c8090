//! BLEU-2/4 and ROUGE-L against the standard implementations. The reference values in
//! `tests/data/rag/text_metric_refs.json` were computed with sacrebleu 2.6 (`BLEU(max_ngram_order=n)
//! .corpus_score`, 13a, exp smoothing) and rouge-score 0.1.2 (`RougeScorer(["rougeL"])`, no stemming)
//! by `onnx-export/scripts/make_text_metric_refs.py`, on demo-style reports, 30 pairs of real IU X-ray
//! reports, and edge cases (no matches, brevity penalty, no bigrams, exp smoothing).
use eclip_workbench::rag::text_metrics::{corpus_bleu, rouge_l};
use serde_json::Value;

#[test]
fn bleu_and_rouge_match_sacrebleu_and_rouge_score() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rag/text_metric_refs.json"
    ))
    .expect("reference file is in the repo");
    let refs: Value = serde_json::from_str(&text).expect("valid JSON");
    let corpora = refs["corpora"].as_object().expect("corpora object");
    assert!(corpora.len() >= 6);
    for (name, c) in corpora {
        let strs = |k: &str| -> Vec<String> {
            c[k].as_array()
                .expect("array")
                .iter()
                .map(|v| v.as_str().expect("string").to_owned())
                .collect()
        };
        let hyps = strs("hypotheses");
        let refs_ = strs("references");
        let h: Vec<&str> = hyps.iter().map(String::as_str).collect();
        let r: Vec<&str> = refs_.iter().map(String::as_str).collect();
        for (order, key) in [(2, "bleu2"), (4, "bleu4")] {
            let want = c[key].as_f64().expect("number");
            let got = corpus_bleu(&h, &r, order);
            assert!(
                (got - want).abs() < 1e-9,
                "{name} {key}: got {got}, sacrebleu {want}"
            );
        }
        for (i, want) in c["rougeL"].as_array().expect("array").iter().enumerate() {
            let want = want.as_f64().expect("number");
            let got = rouge_l(&hyps[i], &refs_[i]);
            assert!(
                (got - want).abs() < 1e-9,
                "{name} pair {i} rougeL: got {got}, rouge-score {want}"
            );
        }
    }
}
