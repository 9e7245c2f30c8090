//! BLEU-2/4 and ROUGE-L against the standard implementations. The reference values in
//! `tests/data/rag/text_metric_refs.json` were computed with sacrebleu 2.6 (`BLEU(max_ngram_order=n)
//! .corpus_score`, 13a, exp smoothing) and rouge-score 0.1.2 (`RougeScorer(["rougeL"])`, no stemming)
//! by `onnx-export/scripts/make_text_metric_refs.py`, on demo-style reports, 30 pairs of real IU X-ray
//! reports, and edge cases (no matches, brevity penalty, no bigrams, exp smoothing). The same file
//! holds NLTK 3.10.4 values: per-pair `sentence_bleu` (BLEU-2 with weights (0.5, 0.5) and BLEU-4, no
//! smoothing), `single_meteor_score` with a WordNet stand-in without synonyms (both on
//! `wordpunct_tokenize` tokens), and `PorterStemmer().stem` of every word. Regenerate with
//! `PYTHONPATH=onnx-export/src .venv/bin/python onnx-export/scripts/make_text_metric_refs.py`.
use eclip_workbench::rag::porter;
use eclip_workbench::rag::text_metrics::{
    corpus_bleu, meteor_listwise, meteor_text, rouge_l, sentence_bleu_text, tokenize_wordpunct,
};
use serde_json::Value;

fn refs() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rag/text_metric_refs.json"
    ))
    .expect("reference file is in the repo");
    serde_json::from_str(&text).expect("valid JSON")
}

/// A JSON array of strings.
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

/// Relative-or-absolute closeness (sentence BLEU without bigram matches is ~1e-155).
fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(1e-300)
        || (got - want).abs() < 1e-12 && want.abs() > 1e-9
}

#[test]
fn sentence_bleu_and_meteor_match_nltk() {
    let refs = refs();
    let corpora = refs["corpora"].as_object().expect("corpora object");
    let mut tiny = 0;
    for (name, c) in corpora {
        let strs = |k: &str| strings(&c[k]);
        let (hyps, refs_) = (strs("hypotheses"), strs("references"));
        for (key, f) in [
            (
                "sentence_bleu2",
                (|h: &str, r: &str| sentence_bleu_text(h, r, 2)) as fn(&str, &str) -> f64,
            ),
            ("sentence_bleu4", |h, r| sentence_bleu_text(h, r, 4)),
            ("meteor", meteor_text),
        ] {
            for (i, want) in c[key].as_array().expect(key).iter().enumerate() {
                let want = want.as_f64().expect("number");
                let got = f(&hyps[i], &refs_[i]);
                assert!(
                    close(got, want),
                    "{name} pair {i} {key}: got {got:e}, NLTK {want:e}"
                );
                tiny += usize::from(want > 0.0 && want < 1e-100);
            }
        }
    }
    // The no-smoothing floor (an order without matches) is exercised.
    assert!(tiny > 0);
}

#[test]
fn porter_stems_match_nltk() {
    let refs = refs();
    let stems = refs["porter_stems"].as_object().expect("porter_stems");
    assert!(stems.len() > 800, "{} words", stems.len());
    for (word, want) in stems {
        assert_eq!(porter::stem(word), want.as_str().expect("string"), "{word}");
    }
}

#[test]
fn wordpunct_splits_like_nltk() {
    // nltk.tokenize.wordpunct_tokenize("A 1.5-cm nodule, (stable). Don't") (NLTK 3.10.4)
    assert_eq!(
        tokenize_wordpunct("A 1.5-cm nodule, (stable). Don't"),
        [
            "A", "1", ".", "5", "-", "cm", "nodule", ",", "(", "stable", ").", "Don", "'", "t"
        ]
    );
}

#[test]
fn bleu_and_rouge_match_sacrebleu_and_rouge_score() {
    let refs = refs();
    let corpora = refs["corpora"].as_object().expect("corpora object");
    assert!(corpora.len() >= 6);
    for (name, c) in corpora {
        let strs = |k: &str| strings(&c[k]);
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

/// The eCLIP authors' METEOR over lists of reports: NLTK 3.10.4 `meteor_score([references],
/// hypotheses)` with a WordNet stand-in without synonyms, values in
/// `tests/data/rag/meteor_listwise_refs.json` written by
/// `onnx-export/scripts/make_meteor_listwise_refs.py` (repeats, case and whole-string stem
/// differences, reordering, no match).
#[test]
fn listwise_meteor_matches_nltk_on_report_lists() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/rag/meteor_listwise_refs.json"
    ))
    .expect("reference file is in the repo");
    let refs: Value = serde_json::from_str(&text).expect("valid JSON");
    let corpora = refs["corpora"].as_object().expect("corpora object");
    assert!(corpora.len() >= 4);
    for (name, c) in corpora {
        let (hyps, refs_) = (strings(&c["hypotheses"]), strings(&c["references"]));
        let want = c["meteor_listwise"].as_f64().expect("number");
        let got = meteor_listwise(&hyps, &refs_);
        assert!(
            (got - want).abs() <= 1e-12,
            "{name}: got {got}, NLTK {want}"
        );
    }
}
