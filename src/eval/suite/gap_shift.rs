/*! The gap-shift sweep: both modalities moved by λ along the gap direction, then the gap, i2t R@1
and argmax zero-shot accuracy re-measured. */
use ndarray::Array1;

use super::zeroshot::ArgmaxData;
use super::{Run, SplitViews};
use crate::eval::metrics::{Setting, Task};
use crate::eval::rows::Spec;
use crate::eval::{classify, geometry, retrieval};

impl<'a> Run<'a, '_> {
    pub(super) fn gap_shift_data(
        &mut self,
        test: &SplitViews<'a>,
        argmax: Option<&ArgmaxData>,
    ) -> ShiftData {
        let chunk = self.chunk(test.n());
        let mut per_model = Vec::new();
        for m in 0..self.models.len() {
            let dir = geometry::gap_direction(test.image(m), test.text(m));
            let mut lambdas = Vec::new();
            for &lambda in &self.cfg.gap_shift {
                let x = geometry::shift_along(test.image(m), dir.view(), lambda, -1.0);
                let y = geometry::shift_along(test.text(m), dir.view(), lambda, 1.0);
                let i2t = retrieval::paired_ranks(x.view(), y.view(), chunk).i2t;
                let preds = argmax.map(|a| a.shifted_predictions(m, dir.view(), lambda));
                lambdas.push(ShiftedLambda { lambda, i2t, preds });
            }
            per_model.push(ShiftedModel { dir, lambdas });
        }
        ShiftData { per_model }
    }
}

pub(super) struct ShiftedLambda {
    pub(super) lambda: f64,
    pub(super) i2t: Vec<usize>,
    pub(super) preds: Option<Vec<usize>>,
}

pub(super) struct ShiftedModel {
    pub(super) dir: Array1<f64>,
    pub(super) lambdas: Vec<ShiftedLambda>,
}

pub(super) struct ShiftData {
    pub(super) per_model: Vec<ShiftedModel>,
}

impl ShiftData {
    pub(super) fn specs<'s>(
        &'s self,
        test: &'s SplitViews<'s>,
        argmax: Option<&'s ArgmaxData>,
    ) -> Vec<Spec<'s>> {
        let mut out = Vec::new();
        let n = test.n();
        let lambdas = self.per_model.first().map_or(0, |s| s.lambdas.len());
        for l in 0..lambdas {
            let setting = Setting::Lambda(self.per_model[0].lambdas[l].lambda);
            out.push(Spec::new(
                Task::GapShift,
                setting.clone(),
                "modality_gap",
                n,
                test.paired,
                move |m, i| {
                    let s = &self.per_model[m];
                    geometry::shifted_gap_of(
                        test.image(m),
                        test.text(m),
                        s.dir.view(),
                        s.lambdas[l].lambda,
                        Some(i),
                    )
                },
            ));
            out.push(Spec::new(
                Task::GapShift,
                setting.clone(),
                "r@1",
                n,
                test.paired,
                move |m, i| retrieval::recall_at(&self.per_model[m].lambdas[l].i2t, 1, Some(i)),
            ));
            if let Some(a) = argmax {
                out.push(Spec::new(
                    Task::GapShift,
                    setting,
                    "zeroshot_accuracy",
                    a.y_true.len(),
                    a.views.paired,
                    move |m, i| {
                        self.per_model[m].lambdas[l]
                            .preds
                            .as_ref()
                            .map_or(f64::NAN, |p| classify::accuracy(&a.y_true, p, Some(i)))
                    },
                ));
            }
        }
        out
    }
}
