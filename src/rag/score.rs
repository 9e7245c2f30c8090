/*! Metric rows of the RAG task: per model and generator, and paired `B - A` deltas. */
use std::collections::HashMap;

use super::encoder::EncoderScores;
use super::labeler::{self, Confusion, LabelOutcome, Labeler};
use super::text_metrics::{BleuStats, meteor_listwise, meteor_text, rouge_l, sentence_bleu_text};
use super::{ModelRag, RagConfig, RagItem};
use crate::eval::MetricRow;
use crate::eval::groups::{Compare, ModelGroup, ModelGroups};
use crate::eval::metrics::{Setting, Task};
use crate::eval::rows::{self, Comparison, RowKey, Spec, delta_row, estimate_row};
use crate::eval::stats::BootstrapConfig;

/// Metric names, in row order. `sentence_bleu2` (NLTK `sentence_bleu`, weights (0.5, 0.5), no
/// smoothing, `wordpunct` tokens, averaged over reports: the eCLIP paper's BLEU-2) and `meteor`
/// (NLTK METEOR without WordNet synonyms, averaged) sit next to the corpus BLEU rows;
/// `meteor_listwise` is the eCLIP authors' METEOR (one NLTK METEOR over the list of reports,
/// [`meteor_listwise`]).
pub const METRICS: [&str; 8] = [
    "bleu2",
    "bleu4",
    "sentence_bleu2",
    "meteor",
    "meteor_listwise",
    "rougeL",
    "label_f1_micro",
    "label_f1_macro",
];

/// The rows of `[rag] text_encoder`, after [`METRICS`]: per-report BERTScore (greedy token
/// matching, no idf, no baseline rescaling: `rag::bertscore`) and the cosine of the pooled
/// embeddings of generated and reference report, each averaged over reports.
pub const ENCODER_METRICS: [&str; 4] = [
    "bertscore_p",
    "bertscore_r",
    "bertscore_f1",
    "embedding_cosine",
];

/// Per-item sufficient statistics of every metric.
pub(crate) struct ItemScores {
    bleu: BleuStats,
    sentence_bleu2: f64,
    meteor: f64,
    rouge: f64,
    /// The texts, for the list-level METEOR.
    generated: String,
    reference: String,
    confusion: Vec<Confusion>,
    encoder: Option<EncoderScores>,
}

/// 0/1 over the labels `labeler` scores among `labels` (not-scored labels are left out).
fn scored_vector(labeler: &Labeler, findings: &[super::Finding], labels: &[String]) -> Vec<u8> {
    labeler
        .outcomes(findings, labels)
        .into_iter()
        .filter_map(|o| match o {
            LabelOutcome::Positive => Some(1),
            LabelOutcome::Negative => Some(0),
            LabelOutcome::NotScored => None,
        })
        .collect()
}

pub(crate) fn item_scores(
    item: &RagItem,
    labels: &[String],
    labeler: &Labeler,
    encoder: Option<EncoderScores>,
) -> ItemScores {
    let pred = scored_vector(labeler, &item.generated_findings, labels);
    let refv = scored_vector(labeler, &item.reference_findings, labels);
    ItemScores {
        bleu: BleuStats::segment(&item.generated, &item.reference),
        sentence_bleu2: sentence_bleu_text(&item.generated, &item.reference, 2),
        meteor: meteor_text(&item.generated, &item.reference),
        rouge: rouge_l(&item.generated, &item.reference),
        generated: item.generated.clone(),
        reference: item.reference.clone(),
        confusion: labeler::confusion(&pred, &refv),
        encoder,
    }
}

/// The mean of `f` over the items `idx` (NaN when an item has no encoder scores).
fn encoder_mean(scores: &[&ItemScores], idx: &[usize], f: fn(&EncoderScores) -> f64) -> f64 {
    idx.iter()
        .map(|&i| scores[i].encoder.as_ref().map_or(f64::NAN, f))
        .sum::<f64>()
        / idx.len() as f64
}

/// `metric` over the items `idx` of `scores` (NaN when undefined).
pub(crate) fn statistic(metric: &str, scores: &[&ItemScores], idx: &[usize]) -> f64 {
    if idx.is_empty() {
        return f64::NAN;
    }
    match metric {
        "bleu2" | "bleu4" => {
            let mut total = BleuStats::default();
            for &i in idx {
                total.add(&scores[i].bleu);
            }
            total.bleu(if metric == "bleu2" { 2 } else { 4 })
        }
        "rougeL" => idx.iter().map(|&i| scores[i].rouge).sum::<f64>() / idx.len() as f64,
        "sentence_bleu2" => {
            idx.iter().map(|&i| scores[i].sentence_bleu2).sum::<f64>() / idx.len() as f64
        }
        "meteor" => idx.iter().map(|&i| scores[i].meteor).sum::<f64>() / idx.len() as f64,
        "meteor_listwise" => {
            let hyps: Vec<&str> = idx.iter().map(|&i| scores[i].generated.as_str()).collect();
            let refs: Vec<&str> = idx.iter().map(|&i| scores[i].reference.as_str()).collect();
            meteor_listwise(&hyps, &refs)
        }
        "bertscore_p" => encoder_mean(scores, idx, |e| e.bertscore.precision),
        "bertscore_r" => encoder_mean(scores, idx, |e| e.bertscore.recall),
        "bertscore_f1" => encoder_mean(scores, idx, |e| e.bertscore.f1),
        "embedding_cosine" => encoder_mean(scores, idx, |e| e.embedding_cosine),
        _ => {
            let nl = scores.first().map_or(0, |s| s.confusion.len());
            let mut per_label = vec![Confusion::default(); nl];
            for &i in idx {
                for (acc, c) in per_label.iter_mut().zip(&scores[i].confusion) {
                    acc.add(c);
                }
            }
            let (micro, macro_f1) = labeler::f1_micro_macro(&per_label);
            let v = if metric == "label_f1_micro" {
                micro
            } else {
                macro_f1
            };
            v.unwrap_or(f64::NAN)
        }
    }
}

/// The key of a RAG row.
fn key<'k>(dataset: &'k str, setting: &'k Setting, metric: &'k str) -> RowKey<'k> {
    RowKey {
        dataset,
        task: Task::Rag,
        setting,
        metric,
    }
}

/// With replicate groups ([`crate::eval::groups`]): per generator, the group rows and the group
/// comparisons of [`rows::bootstrap_group_rows`] over the items every model of that generator
/// scored (the per-model rows are made by [`rows`]).
fn group_rows(
    dataset: &str,
    per_model: &[ModelRag],
    scored: &[Vec<(usize, ItemScores)>],
    groups: &[ModelGroup],
    boot: &BootstrapConfig,
    compare: &Compare,
) -> Vec<MetricRow> {
    let mut generators: Vec<&str> = Vec::new();
    for m in per_model {
        if !generators.contains(&m.generator.as_str()) {
            generators.push(&m.generator);
        }
    }
    let mut out = Vec::new();
    for generator in generators {
        let idx: Vec<usize> = (0..per_model.len())
            .filter(|&i| per_model[i].generator == generator)
            .collect();
        let names: Vec<String> = idx.iter().map(|&i| per_model[i].model.clone()).collect();
        let maps: Vec<HashMap<usize, &ItemScores>> = idx
            .iter()
            .map(|&i| scored[i].iter().map(|(r, s)| (*r, s)).collect())
            .collect();
        let common: Vec<usize> = scored[idx[0]]
            .iter()
            .map(|(r, _)| *r)
            .filter(|r| maps.iter().all(|m| m.contains_key(r)))
            .collect();
        let aligned: Vec<Vec<&ItemScores>> = maps
            .iter()
            .map(|m| common.iter().filter_map(|r| m.get(r).copied()).collect())
            .collect();
        let aligned = &aligned;
        let specs: Vec<Spec> = METRICS
            .iter()
            .map(|&metric| {
                Spec::new(
                    Task::Rag,
                    Setting::Generator(generator.to_owned()),
                    metric,
                    common.len(),
                    true,
                    move |m: usize, ix: &[usize]| statistic(metric, &aligned[m], ix),
                )
            })
            .collect();
        let resolved = ModelGroups::resolve(groups, &names).with_compare(compare);
        let (per, cmp) = rows::bootstrap_group_rows(dataset, &names, &resolved, boot, &specs);
        out.extend(
            per.into_iter()
                .flatten()
                .filter(|r| !names.contains(&r.model)),
        );
        out.extend(cmp);
    }
    out
}

/// All rows: one per model × generator × metric, then `B - A` per compared pair (`cfg.compare`,
/// default every later model against the first), generator, metric
/// (per later replicate group when `groups` has any, [`group_rows`]).
/// The label F1 rows count only the labels `labeler` scores; with none they are undefined (empty),
/// never 1. `encoder` (aligned with `per_model[m].items`) adds the [`ENCODER_METRICS`] rows.
pub(crate) fn rows(
    dataset: &str,
    labels: &[String],
    labeler: &Labeler,
    per_model: &[ModelRag],
    encoder: Option<&[Vec<Option<EncoderScores>>]>,
    cfg: &RagConfig,
    groups: &[ModelGroup],
) -> Vec<MetricRow> {
    let metrics: Vec<&str> = match encoder {
        Some(_) => METRICS.iter().chain(&ENCODER_METRICS).copied().collect(),
        None => METRICS.to_vec(),
    };
    let boot = BootstrapConfig {
        resamples: cfg.bootstrap,
        seed: cfg.seed,
        ..BootstrapConfig::default()
    };
    let scored: Vec<Vec<(usize, ItemScores)>> = per_model
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            m.items
                .iter()
                .enumerate()
                .filter(|(_, it)| it.error.is_none())
                .map(|(q, it)| {
                    let e = encoder.and_then(|e| e.get(mi)?.get(q).copied().flatten());
                    (it.row, item_scores(it, labels, labeler, e))
                })
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for (m, s) in per_model.iter().zip(&scored) {
        let refs: Vec<&ItemScores> = s.iter().map(|(_, x)| x).collect();
        let setting = Setting::Generator(m.generator.clone());
        for &metric in &metrics {
            let e = rows::estimate(refs.len(), &boot, None, |idx| statistic(metric, &refs, idx));
            out.push(estimate_row(&m.model, key(dataset, &setting, metric), &e));
        }
    }
    if per_model.is_empty() {
        return out;
    }
    let mut names: Vec<String> = Vec::new();
    for m in per_model {
        if !names.contains(&m.model) {
            names.push(m.model.clone());
        }
    }
    if ModelGroups::resolve(groups, &names).has_replicates() {
        out.extend(group_rows(
            dataset,
            per_model,
            &scored,
            groups,
            &boot,
            &cfg.compare,
        ));
        return out;
    }
    // `[eval] compare`'s pairs by model name; per baseline (in pair order) and generator, the
    // candidates in model order ("first": every later model against the first).
    let pairs: Vec<(String, String)> = cfg
        .compare
        .pairs(&names)
        .into_iter()
        .map(|(a, b)| (names[a].clone(), names[b].clone()))
        .collect();
    let mut baselines: Vec<&str> = Vec::new();
    for (a, _) in &pairs {
        if !baselines.contains(&a.as_str()) {
            baselines.push(a);
        }
    }
    let paired = |a: &str, b: &str| pairs.iter().any(|(x, y)| x == a && y == b);
    for (a_i, a) in baselines.iter().flat_map(|&base| {
        per_model
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.model == base)
    }) {
        let a_map: HashMap<usize, &ItemScores> = scored[a_i].iter().map(|(r, s)| (*r, s)).collect();
        for (b_i, b) in per_model
            .iter()
            .enumerate()
            .filter(|(_, m)| paired(&a.model, &m.model) && m.generator == a.generator)
        {
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            for (r, s) in &scored[b_i] {
                if let Some(x) = a_map.get(r) {
                    sa.push(*x);
                    sb.push(s);
                }
            }
            let cmp = Comparison::new(&a.model, &b.model);
            let setting = Setting::Generator(a.generator.clone());
            for &metric in &metrics {
                let d = rows::paired(
                    sa.len(),
                    &boot,
                    None,
                    |idx| statistic(metric, &sa, idx),
                    |idx| statistic(metric, &sb, idx),
                );
                out.push(delta_row(&cmp, key(dataset, &setting, metric), &d));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(generated: &str, reference: &str) -> ItemScores {
        ItemScores {
            bleu: BleuStats::segment(generated, reference),
            sentence_bleu2: sentence_bleu_text(generated, reference, 2),
            meteor: meteor_text(generated, reference),
            rouge: rouge_l(generated, reference),
            generated: generated.to_string(),
            reference: reference.to_string(),
            confusion: Vec::new(),
            encoder: None,
        }
    }

    #[test]
    fn sentence_bleu2_and_meteor_rows_average_per_report() {
        let pairs = [
            ("the heart is normal in size .", "the heart is normal ."),
            ("no pleural effusion", "small left pleural effusion is seen"),
        ];
        let items: Vec<ItemScores> = pairs.iter().map(|(g, r)| scores(g, r)).collect();
        let refs: Vec<&ItemScores> = items.iter().collect();
        let idx = [0, 1];
        let mean = |f: fn(&str, &str) -> f64| {
            pairs.iter().map(|(g, r)| f(g, r)).sum::<f64>() / pairs.len() as f64
        };
        let s2 = statistic("sentence_bleu2", &refs, &idx);
        assert!((s2 - mean(|g, r| sentence_bleu_text(g, r, 2))).abs() < 1e-12);
        let m = statistic("meteor", &refs, &idx);
        assert!((m - mean(meteor_text)).abs() < 1e-12);
        assert!(m > 0.0 && s2 > 0.0);
        // The averaged sentence BLEU is not the pooled corpus BLEU of the bleu2 row.
        assert!((s2 - statistic("bleu2", &refs, &idx)).abs() > 1e-3);
        assert!(statistic("meteor", &refs, &[]).is_nan());
    }
}
