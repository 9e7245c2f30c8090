/*!
Item-level outputs: one JSON Lines record per model × dataset × task × item (docs/items.md), so two
models can be compared item by item, as lm-evaluation-harness `--log_samples` allows, and a
reviewer can open the items where they disagree.

[`ItemWriter`] writes records (one JSON object per line, flushed on [`ItemWriter::finish`]);
[`read_items`] reads them back with errors naming the file and line; [`diff`] is the pure
comparison behind `eclip diff A.jsonl B.jsonl`, rendered by [`format_diff`].
*/
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cache::sha256;

/// Version of the record layout; a reader refuses other versions.
pub const ITEMS_VERSION: u32 = 1;

/// One model's output on one item of one task (docs/items.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRecord {
    /// [`ITEMS_VERSION`].
    pub v: u32,
    pub model: String,
    pub dataset: String,
    /// Task name as in the report rows (`zeroshot`, `retrieval_i2t`, `saliency`, ...).
    pub task: String,
    /// The item's id within the task: the manifest `image` path, plus `#finding` where one image
    /// has several items (e.g. one saliency map per finding).
    pub item: String,
    pub split: String,
    /// SHA-256 (hex) of the image file's bytes.
    pub image_sha256: String,
    /// SHA-256 (hex) of the UTF-8 text (the report, or the query text), if the item has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_sha256: Option<String>,
    /// The true label(s) or target, as the task names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truth: Vec<String>,
    /// The predicted class / retrieved item, if the task predicts one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<String>,
    /// Named scores (class probabilities, similarities), in a stable order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scores: BTreeMap<String, f64>,
    /// Rank of the correct answer (1 = first), for ranking tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct: Option<bool>,
    /// Saliency agreement scores (`nss`, `cc`, `kl`, `sim`, `auc_judd`, `pointing`) where computed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub saliency: BTreeMap<String, f64>,
}

/// Hex SHA-256 of bytes, the content hashes of [`ItemRecord`].
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha256(bytes))
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ItemsError {
    #[error("items file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("items file {path}, line {line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Writes [`ItemRecord`]s as JSON Lines to a file.
pub struct ItemWriter {
    path: PathBuf,
    out: crate::output::AtomicFile,
    pub(crate) written: usize,
}

impl ItemWriter {
    pub fn create(path: &Path) -> Result<ItemWriter, ItemsError> {
        let io = |source| ItemsError::Io {
            path: path.to_path_buf(),
            source,
        };
        // Written to a temporary file, renamed onto `path` by `finish`: an interrupted run leaves
        // no half-written file.
        let out = crate::output::AtomicFile::create(path).map_err(io)?;
        Ok(ItemWriter {
            path: path.to_path_buf(),
            out,
            written: 0,
        })
    }

    pub fn write(&mut self, record: &ItemRecord) -> Result<(), ItemsError> {
        let io = |source| ItemsError::Io {
            path: self.path.clone(),
            source,
        };
        serde_json::to_writer(&mut self.out, record).map_err(|e| io(e.into()))?;
        self.out.write_all(b"\n").map_err(io)?;
        self.written += 1;
        Ok(())
    }

    /// Flushes and renames the file into place; returns the number of records written.
    pub fn finish(self) -> Result<usize, ItemsError> {
        self.out.commit().map_err(|source| ItemsError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.written)
    }
}

/// Reads a JSON Lines items file (blank lines are skipped).
pub fn read_items(path: &Path) -> Result<Vec<ItemRecord>, ItemsError> {
    let file = std::fs::File::open(path).map_err(|source| ItemsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let parse = |message: String| ItemsError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let line = line.map_err(|e| parse(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: ItemRecord = serde_json::from_str(&line).map_err(|e| parse(e.to_string()))?;
        if r.v != ITEMS_VERSION {
            return Err(parse(format!(
                "record version {} (this eclip reads version {ITEMS_VERSION})",
                r.v
            )));
        }
        out.push(r);
    }
    Ok(out)
}

/// One item on which the two files differ.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemDiff {
    pub(crate) dataset: String,
    pub(crate) task: String,
    pub(crate) item: String,
    pub(crate) a: ItemRecord,
    pub(crate) b: ItemRecord,
    /// Predictions differ.
    pub(crate) class_changed: bool,
    /// `rank_b − rank_a` (positive: B ranks the answer lower), where both have a rank.
    pub(crate) rank_change: Option<i64>,
}

/// The comparison of two items files.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiffReport {
    pub(crate) model_a: Vec<String>,
    pub(crate) model_b: Vec<String>,
    /// Items present in both (joined on dataset, task, item).
    pub(crate) matched: usize,
    pub(crate) only_a: usize,
    pub(crate) only_b: usize,
    /// Joined items whose image or text hash differs between the files (not the same item).
    pub(crate) hash_mismatch: usize,
    /// Items where the predictions differ or the rank changed, most different first: prediction
    /// changes (with a correctness flip first), then by |rank change| descending, then by key.
    pub(crate) disagreements: Vec<ItemDiff>,
}

type JoinKey = (String, String, String);

fn key(r: &ItemRecord) -> JoinKey {
    (r.dataset.clone(), r.task.clone(), r.item.clone())
}

fn models(v: &[ItemRecord]) -> Vec<String> {
    let mut m: Vec<String> = v.iter().map(|r| r.model.clone()).collect();
    m.sort();
    m.dedup();
    m
}

/// Joins `a` and `b` on (dataset, task, item) and lists where they disagree (see [`DiffReport`]).
/// Each file is expected to hold one model; with several, later records of a key replace earlier.
pub fn diff(a: &[ItemRecord], b: &[ItemRecord]) -> DiffReport {
    let index: HashMap<JoinKey, &ItemRecord> = b.iter().map(|r| (key(r), r)).collect();
    let a_index: HashMap<JoinKey, &ItemRecord> = a.iter().map(|r| (key(r), r)).collect();
    let mut rep = DiffReport {
        model_a: models(a),
        model_b: models(b),
        only_b: index.keys().filter(|k| !a_index.contains_key(*k)).count(),
        ..DiffReport::default()
    };
    let mut keys: Vec<&JoinKey> = a_index.keys().collect();
    keys.sort();
    for k in keys {
        let ra = a_index[k];
        let Some(rb) = index.get(k) else {
            rep.only_a += 1;
            continue;
        };
        if ra.image_sha256 != rb.image_sha256 || ra.text_sha256 != rb.text_sha256 {
            rep.hash_mismatch += 1;
            continue;
        }
        rep.matched += 1;
        let class_changed = ra.prediction != rb.prediction;
        let rank_change = match (ra.rank, rb.rank) {
            (Some(x), Some(y)) => Some(y as i64 - x as i64),
            _ => None,
        };
        if class_changed || rank_change.is_some_and(|d| d != 0) {
            rep.disagreements.push(ItemDiff {
                dataset: k.0.clone(),
                task: k.1.clone(),
                item: k.2.clone(),
                a: ra.clone(),
                b: (*rb).clone(),
                class_changed,
                rank_change,
            });
        }
    }
    let flip = |d: &ItemDiff| d.a.correct.is_some() && d.a.correct != d.b.correct;
    rep.disagreements.sort_by(|x, y| {
        (y.class_changed, flip(y))
            .cmp(&(x.class_changed, flip(x)))
            .then_with(|| {
                let m = |d: &ItemDiff| d.rank_change.map_or(0, i64::abs);
                m(y).cmp(&m(x))
            })
            .then_with(|| (&x.dataset, &x.task, &x.item).cmp(&(&y.dataset, &y.task, &y.item)))
    });
    rep
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("-".into(), |x| x.to_string())
}

/// Plain-text rendering of a [`DiffReport`]: a summary line and the first `top` disagreements.
pub fn format_diff(rep: &DiffReport, top: usize) -> String {
    let mut s = format!(
        "A: {}  B: {}\nmatched {} items ({} only in A, {} only in B, {} with different content hashes); {} disagree\n",
        rep.model_a.join(","),
        rep.model_b.join(","),
        rep.matched,
        rep.only_a,
        rep.only_b,
        rep.hash_mismatch,
        rep.disagreements.len()
    );
    if rep.disagreements.is_empty() {
        return s;
    }
    s.push_str("dataset\ttask\titem\tpred A\tpred B\tcorrect A\tcorrect B\trank A\trank B\n");
    for d in rep.disagreements.iter().take(top) {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            d.dataset,
            d.task,
            d.item,
            opt(&d.a.prediction),
            opt(&d.b.prediction),
            opt(&d.a.correct),
            opt(&d.b.correct),
            opt(&d.a.rank),
            opt(&d.b.rank)
        ));
    }
    if rep.disagreements.len() > top {
        s.push_str(&format!(
            "... {} more (--top N shows more)\n",
            rep.disagreements.len() - top
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(model: &str, item: &str, pred: &str, rank: usize, correct: bool) -> ItemRecord {
        ItemRecord {
            v: ITEMS_VERSION,
            model: model.into(),
            dataset: "d".into(),
            task: "zeroshot".into(),
            item: item.into(),
            split: "test".into(),
            image_sha256: sha256_hex(item.as_bytes()),
            text_sha256: None,
            truth: vec!["edema".into()],
            prediction: Some(pred.into()),
            scores: BTreeMap::from([("edema".into(), 0.25)]),
            rank: Some(rank),
            correct: Some(correct),
            saliency: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trip_and_errors_name_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("sub/items.jsonl");
        let mut w = ItemWriter::create(&p).unwrap();
        let rs = [
            rec("A", "x.png", "edema", 1, true),
            rec("A", "y.png", "edema", 2, false),
        ];
        for r in &rs {
            w.write(r).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2);
        assert_eq!(read_items(&p).unwrap(), rs);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("saliency"),
            "empty maps are left out: {text}"
        );
        std::fs::write(
            &p,
            format!("{}\n{{\"v\": 1}}\n", text.lines().next().unwrap()),
        )
        .unwrap();
        let e = read_items(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("items.jsonl"), "{e}");
        let bumped = text.lines().next().unwrap().replace("\"v\":1", "\"v\":2");
        std::fs::write(&p, bumped).unwrap();
        let e = read_items(&p).unwrap_err().to_string();
        assert!(e.contains("version 2"), "{e}");
    }

    #[test]
    fn diff_orders_class_flips_before_rank_changes() {
        let a = vec![
            rec("A", "same.png", "edema", 1, true),
            rec("A", "rank.png", "edema", 2, true),
            rec("A", "bigrank.png", "edema", 1, true),
            rec("A", "flip.png", "edema", 1, true),
            rec("A", "onlya.png", "edema", 1, true),
        ];
        let mut b = vec![
            rec("B", "same.png", "edema", 1, true),
            rec("B", "rank.png", "edema", 3, true),
            rec("B", "bigrank.png", "edema", 9, true),
            rec("B", "flip.png", "cardiomegaly", 4, false),
            rec("B", "onlyb.png", "edema", 1, true),
        ];
        b[0].image_sha256 = b[0].image_sha256.clone(); // same content
        let rep = diff(&a, &b);
        assert_eq!(
            (rep.matched, rep.only_a, rep.only_b, rep.hash_mismatch),
            (4, 1, 1, 0)
        );
        let order: Vec<&str> = rep.disagreements.iter().map(|d| d.item.as_str()).collect();
        assert_eq!(order, ["flip.png", "bigrank.png", "rank.png"]);
        assert_eq!(rep.disagreements[1].rank_change, Some(8));
        let text = format_diff(&rep, 2);
        assert!(
            text.contains("flip.png\tedema\tcardiomegaly") && text.contains("1 more"),
            "{text}"
        );
        // Different bytes under the same name are not compared.
        b[1].image_sha256 = sha256_hex(b"other");
        assert_eq!(diff(&a, &b).hash_mismatch, 1);
    }
}
