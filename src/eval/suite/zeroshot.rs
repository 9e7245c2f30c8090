/*! Zero-shot classification: argmax over class embeddings on the single-positive split, and the
CheXzero positive/negative softmax (per-label AUROC) on the test split. */
use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::{Run, SplitViews};
use crate::eval::metrics::{Setting, Task};
use crate::eval::rows::Spec;
use crate::eval::{classify, geometry, zeroshot};

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
        for m in 0..self.models.len() {
            let c = self.class_matrix(m)?;
            let img = views.image(m).select(Axis(0), &keep);
            preds.push(zeroshot::argmax_predictions(
                zeroshot::class_scores(img.view(), c.view()).view(),
            ));
            classes.push(c);
        }
        Some(ArgmaxData {
            names: self.dataset.zeroshot_classes.clone(),
            views,
            keep,
            y_true,
            preds,
            classes,
        })
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
}
