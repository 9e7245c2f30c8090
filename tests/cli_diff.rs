//! `eclip diff A.jsonl B.jsonl` on two small items files written with the library's writer.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
use std::collections::BTreeMap;
use std::process::Command;

use eclip_workbench::items::{ITEMS_VERSION, ItemRecord, ItemWriter, sha256_hex};

fn rec(model: &str, item: &str, pred: &str, rank: usize) -> ItemRecord {
    ItemRecord {
        v: ITEMS_VERSION,
        model: model.into(),
        dataset: "cxr-demo".into(),
        task: "zeroshot".into(),
        item: item.into(),
        split: "test_5x200".into(),
        image_sha256: sha256_hex(item.as_bytes()),
        text_sha256: None,
        truth: vec!["edema".into()],
        prediction: Some(pred.into()),
        scores: BTreeMap::new(),
        rank: Some(rank),
        correct: Some(pred == "edema"),
        saliency: BTreeMap::new(),
    }
}

#[test]
fn diff_lists_the_items_where_models_disagree() {
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    for (path, model, pred) in [(&pa, "CLIP", "cardiomegaly"), (&pb, "eCLIP", "edema")] {
        let mut w = ItemWriter::create(path).unwrap();
        w.write(&rec(model, "images/a.png", pred, 2)).unwrap();
        w.write(&rec(model, "images/b.png", "edema", 1)).unwrap();
        w.finish().unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(["diff".as_ref(), pa.as_os_str(), pb.as_os_str()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("A: CLIP  B: eCLIP"), "{stdout}");
    assert!(
        stdout.contains("matched 2 items") && stdout.contains("1 disagree"),
        "{stdout}"
    );
    assert!(
        stdout.contains("images/a.png\tcardiomegaly\tedema\tfalse\ttrue"),
        "{stdout}"
    );
    // A broken file: the error names it and the line.
    std::fs::write(&pb, "not json\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(["diff".as_ref(), pa.as_os_str(), pb.as_os_str()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("b.jsonl, line 1"),
        "{stderr}"
    );
}
