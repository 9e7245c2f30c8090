/*!
Item records (docs/items.md) of a workbench run, for `--items FILE`: per model and dataset, zero-shot
argmax on the single-positive split (class cosines, prediction, correctness), image-to-text
retrieval on the test split (rank of the image's own report among the split's reports) and, where
the saliency step ran, each saliency item's agreement scores. Content hashes are SHA-256 of the
image file's bytes and of the report's UTF-8 text.
*/
use std::collections::{BTreeMap, HashMap};

use super::saliency::SaliencyOutcome;
use crate::data::Dataset;
use crate::eval::saliency::Agreement;
use crate::eval::{ModelEmbeddings, retrieval, zeroshot};
use crate::items::{ITEMS_VERSION, ItemRecord, sha256_hex};

/// The manifest `image` path of `row` (relative to the dataset root, as the manifest writes it).
pub fn manifest_path(dataset: &Dataset, row: usize) -> String {
    let p = &dataset.rows[row].image;
    p.strip_prefix(&dataset.root)
        .unwrap_or(p)
        .display()
        .to_string()
}

/// Hashes of image files by manifest row, read once per row.
#[derive(Debug, Default)]
pub struct Hashes {
    images: HashMap<usize, Result<String, String>>,
}

impl Hashes {
    fn image(&mut self, dataset: &Dataset, row: usize) -> Result<String, String> {
        self.images
            .entry(row)
            .or_insert_with(|| {
                let p = dataset.root.join(&dataset.rows[row].image);
                std::fs::read(&p)
                    .map(|b| sha256_hex(&b))
                    .map_err(|e| format!("{}: cannot read ({e})", p.display()))
            })
            .clone()
    }
}

fn base(
    hashes: &mut Hashes,
    model: &str,
    dataset: &Dataset,
    task: &str,
    row: usize,
) -> Result<ItemRecord, String> {
    let r = &dataset.rows[row];
    Ok(ItemRecord {
        v: ITEMS_VERSION,
        model: model.to_owned(),
        dataset: dataset.name.clone(),
        task: task.to_owned(),
        item: manifest_path(dataset, row),
        split: r.split.clone(),
        image_sha256: hashes.image(dataset, row)?,
        text_sha256: Some(sha256_hex(r.report.as_bytes())),
        truth: Vec::new(),
        prediction: None,
        scores: BTreeMap::new(),
        rank: None,
        correct: None,
        saliency: BTreeMap::new(),
    })
}

/// The records of one dataset: every model's zero-shot and retrieval items, then the saliency
/// items. Items whose image cannot be read are left out and named in the returned notes.
pub fn records(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    saliency: Option<&SaliencyOutcome>,
    hashes: &mut Hashes,
) -> (Vec<ItemRecord>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut push = |r: Result<ItemRecord, String>, out: &mut Vec<ItemRecord>| match r {
        Ok(r) => out.push(r),
        Err(e) => notes.push(e),
    };
    let sp = dataset
        .splits
        .single_positive
        .clone()
        .unwrap_or_else(|| dataset.splits.test.clone());
    let class_labels: Vec<Option<usize>> = dataset
        .zeroshot_classes
        .iter()
        .map(|c| dataset.labels.iter().position(|l| l == c))
        .collect();
    for emb in models {
        // Zero-shot argmax: class cosines of every single-positive image.
        let classes: Option<Vec<_>> = dataset
            .zeroshot_classes
            .iter()
            .map(|c| {
                let p = emb.prompts.iter().find(|p| &p.name == c)?;
                zeroshot::class_embedding(p.positive.view())
            })
            .collect();
        if let (Some(classes), Some(split)) = (classes, emb.splits.get(&sp)) {
            let dim = split.image.ncols();
            let scores =
                zeroshot::class_scores(split.image.view(), zeroshot::stack(&classes, dim).view());
            let pred = zeroshot::argmax_predictions(scores.view());
            for (k, &row) in split.rows.iter().enumerate() {
                let truth: Vec<usize> = class_labels
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.is_some_and(|l| dataset.rows[row].labels.get(l) == Some(&1)))
                    .map(|(c, _)| c)
                    .collect();
                if truth.len() != 1 {
                    continue;
                }
                let rec = base(hashes, &emb.model, dataset, "zeroshot", row).map(|mut r| {
                    r.truth = vec![dataset.zeroshot_classes[truth[0]].clone()];
                    r.prediction = Some(dataset.zeroshot_classes[pred[k]].clone());
                    r.correct = Some(pred[k] == truth[0]);
                    r.scores = dataset
                        .zeroshot_classes
                        .iter()
                        .zip(scores.row(k))
                        .map(|(c, v)| (c.clone(), f64::from(*v)))
                        .collect();
                    r
                });
                push(rec, &mut out);
            }
        }
        // Image-to-text retrieval on the test split: rank of the image's own report (1 = first).
        if let Some(split) = emb.splits.get(&dataset.splits.test)
            && split.image.nrows() > 0
            && split.image.dim() == split.text.dim()
        {
            let ranks = retrieval::paired_ranks(
                split.image.view(),
                split.text.view(),
                retrieval::default_chunk(split.text.nrows()),
            );
            for (k, &row) in split.rows.iter().enumerate() {
                let rec = base(hashes, &emb.model, dataset, "retrieval_i2t", row).map(|mut r| {
                    r.rank = Some(ranks.i2t[k] + 1);
                    r.correct = Some(ranks.i2t[k] == 0);
                    r
                });
                push(rec, &mut out);
            }
        }
    }
    if let Some(s) = saliency {
        for (m, model) in s.models.iter().enumerate() {
            for (i, it) in s.items.iter().enumerate() {
                let Some(a) = s.scores[m][i] else { continue };
                let rec = base(hashes, model, dataset, "saliency", it.row).map(|mut r| {
                    r.item = it.id(dataset);
                    r.truth = it.findings.clone();
                    if it.finding.is_some() {
                        r.text_sha256 = None;
                    }
                    r.saliency = Agreement::NAMES
                        .iter()
                        .zip(a.values())
                        .filter_map(|(n, v)| Some(((*n).to_owned(), v?)))
                        .collect();
                    r
                });
                push(rec, &mut out);
            }
        }
    }
    (out, notes)
}
