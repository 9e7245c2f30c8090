/*! Zero-shot classification: argmax over class embeddings on the single-positive split, and the
CheXzero positive/negative softmax (per-label AUROC) on the test split. */
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::{Run, SplitViews};
use crate::eval::inference::calibration::{self, CalibrationItems, ECE_BINS};
use crate::eval::inference::delong;
use crate::eval::metrics::{Setting, Task};
use crate::eval::rows::{self, Comparison, RowKey, Spec, Subject};
use crate::eval::summary::{ClassRoc, ModelPlots};
use crate::eval::{MetricRow, classify, geometry, zeroshot};

/// Figure data of the zero-shot family: each model's reliability bins (argmax split) and its
/// per-class posneg ROC curves (classes without positives or negatives have none).
pub(super) fn calibration_figures(
    argmax: Option<&ArgmaxData>,
    posneg: Option<&PosnegData>,
    plots: &mut [ModelPlots],
) {
    for (m, plot) in plots.iter_mut().enumerate() {
        if let Some(cal) = argmax.and_then(|a| a.calibration.as_ref()) {
            plot.reliability = cal[m].reliability(&cal[m].all(), ECE_BINS);
        }
        if let Some(p) = posneg {
            plot.roc = p
                .labels
                .iter()
                .enumerate()
                .filter_map(|(l, (name, truth))| {
                    let curve = delong::roc_curve(truth, &p.scores[m][l]).ok()?;
                    Some(ClassRoc {
                        class: name.clone(),
                        curve,
                    })
                })
                .collect();
        }
    }
}

impl<'a> Run<'a, '_> {
    /// Class embeddings (positive prompts) of every model; `None` if one cannot be formed.
    pub(super) fn class_matrix(&mut self, m: usize) -> Option<Array2<f32>> {
        let model = &self.models[m];
        let mut rows = Vec::new();
        for p in &model.prompts {
            match zeroshot::class_embedding_with(p.positive.view(), self.protocol.class_embedding) {
                Some(e) => rows.push(e),
                None => {
                    self.notes.push(format!(
                        "{}: class {} has no usable positive prompt: argmax zero-shot skipped",
                        model.model, p.name
                    ));
                    return None;
                }
            }
        }
        let dim = rows.first()?.len();
        Some(zeroshot::stack(&rows, dim))
    }

    pub(super) fn argmax_data(&mut self) -> Option<ArgmaxData<'a>> {
        let Some(split) = self.dataset.splits.single_positive.clone() else {
            self.notes.push(
                "the dataset names no single_positive split: argmax zero-shot skipped".into(),
            );
            return None;
        };
        let views = self.split_views(&split, "single_positive")?;
        let keep: Vec<usize> = (0..views.n())
            .filter(|&k| self.single_class(views.rows[k]).is_some())
            .collect();
        if keep.len() < views.n() {
            self.notes.push(format!(
                "split {split}: {} of {} items do not have exactly one positive zero-shot class and were left out of argmax zero-shot",
                views.n() - keep.len(),
                views.n()
            ));
        }
        if keep.is_empty() {
            return None;
        }
        let y_true: Vec<usize> = keep
            .iter()
            .filter_map(|&k| self.single_class(views.rows[k]))
            .collect();
        let mut classes = Vec::new();
        let mut preds = Vec::new();
        let mut calibration = Some(Vec::new());
        for m in 0..self.models.len() {
            let c = self.class_matrix(m)?;
            let img = views.image(m).select(Axis(0), &keep);
            let scores = zeroshot::class_scores(img.view(), c.view());
            preds.push(zeroshot::argmax_predictions(scores.view()));
            classes.push(c);
            if let Some(cal) = calibration.as_mut() {
                match self.calibration_items(m, scores.view(), &y_true) {
                    Some(items) => cal.push(items),
                    None => calibration = None,
                }
            }
        }
        Some(ArgmaxData {
            names: self.dataset.zeroshot_classes.clone(),
            views,
            keep,
            y_true,
            preds,
            classes,
            calibration,
        })
    }

    /// Calibration inputs of model `m` from its class similarities at its `logit_scale`; `None`
    /// (with a note) when model.json has no scale or the probabilities cannot be formed.
    fn calibration_items(
        &mut self,
        m: usize,
        scores: ArrayView2<f32>,
        y_true: &[usize],
    ) -> Option<CalibrationItems> {
        let model = &self.models[m].model;
        let Some(scale) = self.models[m].logit_scale else {
            self.notes.push(format!(
                "{model}: model.json has no logit_scale, so zero-shot probabilities are undefined: calibration (ECE, Brier) skipped for every model"
            ));
            return None;
        };
        let items = calibration::softmax_scaled(scores, scale)
            .and_then(|p| CalibrationItems::new(p.view(), y_true));
        match items {
            Ok(items) => Some(items),
            Err(e) => {
                self.notes.push(format!(
                    "{model}: zero-shot calibration skipped for every model: {e}"
                ));
                None
            }
        }
    }

    pub(super) fn posneg_data(&mut self, test: &SplitViews<'a>) -> Option<PosnegData> {
        let mut labels = Vec::new();
        let mut scores: Vec<Vec<Vec<f64>>> = vec![Vec::new(); self.models.len()];
        let rule = self.protocol.class_embedding;
        for (c, name) in self.dataset.zeroshot_classes.iter().enumerate() {
            let Some(l) = self.class_labels[c] else {
                continue;
            };
            let embeds: Option<Vec<(Array1<f32>, Array1<f32>)>> = self
                .models
                .iter()
                .map(|m| {
                    let p = m.prompts.get(c)?;
                    Some((
                        zeroshot::class_embedding_with(p.positive.view(), rule)?,
                        zeroshot::class_embedding_with(p.negative.view(), rule)?,
                    ))
                })
                .collect();
            let Some(embeds) = embeds else {
                self.notes.push(format!(
                    "class {name} has no negative prompts: no posneg AUROC for it"
                ));
                continue;
            };
            let truth: Vec<bool> = test
                .rows
                .iter()
                .map(|&r| self.dataset.rows[r].labels.get(l) == Some(&1))
                .collect();
            let n_pos = truth.iter().filter(|&&t| t).count();
            if n_pos == 0 || n_pos == truth.len() {
                self.notes.push(format!(
                    "auroc:{name} (posneg) is undefined on split {}: {} positives among {} items",
                    test.name,
                    n_pos,
                    truth.len()
                ));
            }
            for (m, (pos, neg)) in embeds.iter().enumerate() {
                scores[m].push(zeroshot::posneg_probabilities_scaled(
                    test.image(m),
                    pos,
                    neg,
                    self.protocol.logit_scale,
                ));
            }
            labels.push((name.clone(), truth));
        }
        (!labels.is_empty()).then_some(PosnegData {
            labels,
            scores,
            n: test.n(),
            paired: test.paired,
        })
    }
}

/// Argmax zero-shot on the single-positive split.
pub(super) struct ArgmaxData<'a> {
    pub(super) names: Vec<String>,
    pub(super) views: SplitViews<'a>,
    /// Positions (in the split) of the items with exactly one positive zero-shot class.
    pub(super) keep: Vec<usize>,
    pub(super) y_true: Vec<usize>,
    pub(super) preds: Vec<Vec<usize>>,
    pub(super) classes: Vec<Array2<f32>>,
    /// Per model: top-label calibration inputs of `softmax(logit_scale · cos)`; `None` when a
    /// model has no `logit_scale` (noted).
    pub(super) calibration: Option<Vec<CalibrationItems>>,
}

impl<'a> ArgmaxData<'a> {
    pub(super) fn push_specs<'s>(&'s self, specs: &mut Vec<Spec<'s>>) {
        let n = self.y_true.len();
        let k = self.names.len();
        let (t, p, paired) = (&self.y_true, &self.preds, self.views.paired);
        specs.push(Spec::new(
            Task::Zeroshot,
            Setting::Argmax,
            "accuracy",
            n,
            paired,
            move |m, i| classify::accuracy(t, &p[m], Some(i)),
        ));
        specs.push(Spec::new(
            Task::Zeroshot,
            Setting::Argmax,
            "balanced_accuracy",
            n,
            paired,
            move |m, i| classify::balanced_accuracy(t, &p[m], k, Some(i)),
        ));
        specs.push(Spec::new(
            Task::Zeroshot,
            Setting::Argmax,
            "macro_f1",
            n,
            paired,
            move |m, i| classify::macro_f1(t, &p[m], k, Some(i)),
        ));
        for (c, name) in self.names.iter().enumerate() {
            specs.push(Spec::new(
                Task::Zeroshot,
                Setting::Argmax,
                format!("f1:{name}"),
                n,
                paired,
                move |m, i| classify::per_class_f1(t, &p[m], k, Some(i))[c].unwrap_or(f64::NAN),
            ));
        }
        if let Some(cal) = &self.calibration {
            specs.push(Spec::new(
                Task::Zeroshot,
                Setting::Argmax,
                "ece",
                n,
                paired,
                move |m, i| cal[m].ece(i, ECE_BINS),
            ));
            specs.push(Spec::new(
                Task::Zeroshot,
                Setting::Argmax,
                "brier",
                n,
                paired,
                move |m, i| cal[m].brier(i),
            ));
        }
    }

    /// Predictions after shifting images (−λ/2) and class embeddings (+λ/2) along `dir`.
    pub(super) fn shifted_predictions(
        &self,
        m: usize,
        dir: ArrayView1<f64>,
        lambda: f64,
    ) -> Vec<usize> {
        let img = self.views.image(m).select(Axis(0), &self.keep);
        let x = geometry::shift_along(img.view(), dir, lambda, -1.0);
        let c = geometry::shift_along(self.classes[m].view(), dir, lambda, 1.0);
        zeroshot::argmax_predictions(zeroshot::class_scores(x.view(), c.view()).view())
    }
}

/// Sets [`MetricRow::positives`] on the per-class zero-shot rows of `rows` (`f1:<class>` on the
/// argmax split, `auroc:<class>` and `auroc_delong:<class>` on the test split), so the
/// minimum-n rule ([`crate::eval::metrics::sample_size`]) can ask for 10 positives.
pub(super) fn mark_positives<'r>(
    rows: impl IntoIterator<Item = &'r mut MetricRow>,
    argmax: Option<&ArgmaxData>,
    posneg: Option<&PosnegData>,
) {
    for r in rows {
        let class = ["f1:", "auroc:", "auroc_delong:"]
            .iter()
            .find_map(|p| r.metric.strip_prefix(p));
        let Some(class) = class else {
            continue;
        };
        r.positives = match (&r.setting, argmax, posneg) {
            (Setting::Argmax, Some(a), _) => a
                .names
                .iter()
                .position(|n| n == class)
                .map(|c| a.y_true.iter().filter(|&&y| y == c).count()),
            (Setting::Posneg, _, Some(p)) => p
                .labels
                .iter()
                .find(|(n, _)| n == class)
                .map(|(_, truth)| truth.iter().filter(|&&t| t).count()),
            _ => None,
        };
    }
}

/// Posneg (CheXzero) zero-shot scores on the test split.
pub(super) struct PosnegData {
    /// (class name, truth per test item)
    pub(super) labels: Vec<(String, Vec<bool>)>,
    /// scores[model][label][item]
    pub(super) scores: Vec<Vec<Vec<f64>>>,
    pub(super) n: usize,
    pub(super) paired: bool,
}

impl PosnegData {
    pub(super) fn specs(&self) -> Vec<Spec<'_>> {
        let mut out = Vec::new();
        let macro_stat = move |m: usize, i: &[usize]| {
            let per: Vec<Option<f64>> = self
                .labels
                .iter()
                .enumerate()
                .map(|(l, (_, truth))| classify::auroc(truth, &self.scores[m][l], Some(i)))
                .collect();
            classify::mean_defined(&per).unwrap_or(f64::NAN)
        };
        out.push(Spec::new(
            Task::Zeroshot,
            Setting::Posneg,
            "macro_auroc",
            self.n,
            self.paired,
            macro_stat,
        ));
        for (l, (name, truth)) in self.labels.iter().enumerate() {
            out.push(Spec::new(
                Task::Zeroshot,
                Setting::Posneg,
                format!("auroc:{name}"),
                self.n,
                self.paired,
                move |m, i| classify::auroc(truth, &self.scores[m][l], Some(i)).unwrap_or(f64::NAN),
            ));
        }
        out
    }

    /// DeLong's paired test of the per-class AUROC of every compared pair (`pairs`: (baseline,
    /// candidate) model indices, `[eval] compare`)
    /// (`auroc_delong:<class>` comparison rows: value `ΔAUROC`, Wald interval
    /// `Δ ± z_(1+c)/2 · sqrt(Var)`, DeLong's two-sided p). No macro row: the macro AUROC's DeLong
    /// variance would need cross-class covariances that the per-class test does not give.
    /// Classes with fewer than 2 positives or negatives get a note instead of a row.
    pub(super) fn delong_rows(
        &self,
        dataset: &str,
        names: &[String],
        pairs: &[(usize, usize)],
        confidence: f64,
        notes: &mut Vec<String>,
    ) -> Vec<MetricRow> {
        let mut out = Vec::new();
        if !self.paired {
            return out;
        }
        let z = statrs::distribution::ContinuousCDF::inverse_cdf(
            &statrs::distribution::Normal::standard(),
            0.5 + confidence / 2.0,
        );
        for (l, (name, truth)) in self.labels.iter().enumerate() {
            let metric = format!("auroc_delong:{name}");
            let key = RowKey {
                dataset,
                task: Task::Zeroshot,
                setting: &Setting::Posneg,
                metric: &metric,
            };
            for (i, &(a, b)) in pairs.iter().enumerate() {
                match delong::delong_paired(truth, &self.scores[a][l], &self.scores[b][l]) {
                    Ok(d) => {
                        let half = z * d.var_delta.sqrt();
                        out.push(rows::row(
                            Subject::Comparison(&Comparison::new(&names[a], &names[b])),
                            key,
                            d.delta,
                            (d.delta - half, d.delta + half),
                            self.n,
                            d.p_value,
                        ));
                    }
                    Err(e) => {
                        if i == 0 {
                            notes.push(format!("{metric} on split test: no DeLong test: {e}"));
                        }
                    }
                }
            }
        }
        out
    }
}
