/*! Metric rows of the RAG task: per model and generator, and paired `B - A` deltas. */
use std::collections::HashMap;

use super::labeler::{self, Confusion, LabelOutcome, Labeler};
use super::text_metrics::{BleuStats, rouge_l};
use super::{ModelRag, RagConfig, RagItem};
use crate::eval::MetricRow;
use crate::eval::stats::{BootstrapConfig, bootstrap, paired_bootstrap};

/// Metric names, in row order.
pub const METRICS: [&str; 5] = [
    "bleu2",
    "bleu4",
    "rougeL",
    "label_f1_micro",
    "label_f1_macro",
];

/// Per-item sufficient statistics of every metric.
pub(crate) struct ItemScores {
    bleu: BleuStats,
    rouge: f64,
    confusion: Vec<Confusion>,
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

pub(crate) fn item_scores(item: &RagItem, labels: &[String], labeler: &Labeler) -> ItemScores {
    let pred = scored_vector(labeler, &item.generated_findings, labels);
    let refv = scored_vector(labeler, &item.reference_findings, labels);
    ItemScores {
        bleu: BleuStats::segment(&item.generated, &item.reference),
        rouge: rouge_l(&item.generated, &item.reference),
        confusion: labeler::confusion(&pred, &refv),
    }
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

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// All rows: one per model × generator × metric, then `B - A` per later model, generator, metric.
/// The label F1 rows count only the labels `labeler` scores; with none they are undefined (empty),
/// never 1.
pub(crate) fn rows(
    dataset: &str,
    labels: &[String],
    labeler: &Labeler,
    per_model: &[ModelRag],
    cfg: &RagConfig,
) -> Vec<MetricRow> {
    let boot = BootstrapConfig {
        resamples: cfg.bootstrap,
        seed: cfg.seed,
        ..BootstrapConfig::default()
    };
    let scored: Vec<Vec<(usize, ItemScores)>> = per_model
        .iter()
        .map(|m| {
            m.items
                .iter()
                .filter(|it| it.error.is_none())
                .map(|it| (it.row, item_scores(it, labels, labeler)))
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    for (m, s) in per_model.iter().zip(&scored) {
        let refs: Vec<&ItemScores> = s.iter().map(|(_, x)| x).collect();
        for metric in METRICS {
            let e = bootstrap(refs.len(), &boot, |idx| statistic(metric, &refs, idx));
            out.push(row(
                &m.model,
                dataset,
                &m.generator,
                metric,
                e.value,
                e.ci_low,
                e.ci_high,
                e.n,
                None,
            ));
        }
    }
    let Some(first) = per_model.first().map(|m| m.model.clone()) else {
        return out;
    };
    for (a_i, a) in per_model
        .iter()
        .enumerate()
        .filter(|(_, m)| m.model == first)
    {
        let a_map: HashMap<usize, &ItemScores> = scored[a_i].iter().map(|(r, s)| (*r, s)).collect();
        for (b_i, b) in per_model
            .iter()
            .enumerate()
            .filter(|(_, m)| m.model != first && m.generator == a.generator)
        {
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            for (r, s) in &scored[b_i] {
                if let Some(x) = a_map.get(r) {
                    sa.push(*x);
                    sb.push(s);
                }
            }
            let name = format!("{} - {}", b.model, a.model);
            for metric in METRICS {
                let d = paired_bootstrap(
                    sa.len(),
                    &boot,
                    |idx| statistic(metric, &sa, idx),
                    |idx| statistic(metric, &sb, idx),
                );
                out.push(row(
                    &name,
                    dataset,
                    &a.generator,
                    metric,
                    d.value,
                    d.ci_low,
                    d.ci_high,
                    d.n,
                    finite(d.p_value),
                ));
            }
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn row(
    model: &str,
    dataset: &str,
    setting: &str,
    metric: &str,
    value: f64,
    lo: f64,
    hi: f64,
    n: usize,
    p_value: Option<f64>,
) -> MetricRow {
    let value = finite(value);
    MetricRow {
        model: model.to_owned(),
        dataset: dataset.to_owned(),
        task: "rag".into(),
        setting: setting.to_owned(),
        metric: metric.to_owned(),
        value,
        ci_low: value.and(finite(lo)),
        ci_high: value.and(finite(hi)),
        n,
        p_value,
    }
}
