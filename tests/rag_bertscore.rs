//! The RAG task's text encoder and BERTScore against the `bert_score` package: the tiny random BERT
//! of `tests/data/text_encoder/` (exported by `eclip-export text-encoder`, layer 2 of 3, mean
//! pooling), run through `model::TextEncoder` (tokenizer + ONNX Runtime), its token states fed to
//! `rag::bertscore::bertscore`, compared with `bert_score.score(..., num_layers=2, idf=False,
//! rescale_with_baseline=False)` and with the PyTorch model's mean-pooled states, both recorded in
//! `bertscore_refs.json` by `onnx-export/scripts/make_bertscore_refs.py`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use core_support::{repo, runtime};
use eclip_workbench::model::{Pooling, TextEncoder};
use eclip_workbench::rag::bertscore::{bertscore, cosine};

/// ONNX Runtime vs PyTorch hidden states differ by < 1e-6 here (export parity); the scores are
/// means of cosines of such states.
const TOL: f64 = 1e-5;

fn refs() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("tests/data/text_encoder/bertscore_refs.json"))
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn bertscore_and_pooling_match_bert_score_and_pytorch() {
    let refs = refs();
    let enc = TextEncoder::load(runtime(), &repo().join("tests/data/text_encoder")).unwrap();
    assert_eq!(enc.spec.layer, 2);
    assert_eq!(enc.spec.pooling, Pooling::Mean);
    assert_eq!(enc.sha256.0, refs["encoder_sha256"].as_str().unwrap());
    let pairs = refs["pairs"].as_array().unwrap();
    let cands: Vec<&str> = pairs
        .iter()
        .map(|p| p["candidate"].as_str().unwrap())
        .collect();
    let refs_text: Vec<&str> = pairs
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    // One batch holding every text: padding inside the batch must not change any text's states.
    let all: Vec<&str> = cands.iter().chain(&refs_text).copied().collect();
    let encoded = enc.encode(&all).unwrap();
    let (c, r) = encoded.split_at(cands.len());
    let bs = &refs["bertscore"];
    let (want_p, want_r, want_f) = (floats(&bs["p"]), floats(&bs["r"]), floats(&bs["f1"]));
    let want_cos = floats(&refs["embedding_cosine"]);
    let mut max_diff = 0.0f64;
    for i in 0..pairs.len() {
        let s = bertscore(
            c[i].tokens.view(),
            &c[i].special,
            r[i].tokens.view(),
            &r[i].special,
        );
        for (got, want) in [
            (s.precision, want_p[i]),
            (s.recall, want_r[i]),
            (s.f1, want_f[i]),
            (cosine(c[i].pooled.view(), r[i].pooled.view()), want_cos[i]),
        ] {
            max_diff = max_diff.max((got - want).abs());
            assert!(
                (got - want).abs() < TOL,
                "pair {i}: {got} vs bert_score/PyTorch {want} ({s:?})"
            );
        }
        // [CLS] first and [SEP] last are the special tokens, nothing else.
        let sp = &c[i].special;
        assert!(sp[0] && sp[sp.len() - 1] && sp[1..sp.len() - 1].iter().all(|x| !x));
    }
    // Truncation at max_length (64, special tokens included), as bert_score truncates.
    assert_eq!(c[pairs.len() - 1].tokens.nrows(), 64);
    for (which, got, key) in [
        ("candidate", c, "pooled_candidates"),
        ("reference", r, "pooled_references"),
    ] {
        for (i, row) in refs[key].as_array().unwrap().iter().enumerate() {
            let want = floats(row);
            let d = got[i]
                .pooled
                .iter()
                .zip(&want)
                .map(|(a, b)| (f64::from(*a) - b).abs())
                .fold(0.0, f64::max);
            assert!(d < TOL, "{which} {i}: pooled embedding differs by {d}");
        }
    }
    eprintln!("max |workbench - bert_score/PyTorch| = {max_diff:.2e}");
}
