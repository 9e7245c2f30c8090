/*! The figures' data (not rows): cosine histograms, group-cosine matrices (image–image, text–text,
image–text), 2-D PCA and gap-shift curves, per model. */
use ndarray::Axis;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;

use super::gap_shift::ShiftData;
use super::zeroshot::ArgmaxData;
use super::{Run, SplitViews};
use crate::eval::summary::{GapShiftPoint, GroupCosine, ModelPlots};
use crate::eval::{classify, geometry, retrieval};

/// Unmatched pairs in the cosine histogram beyond which pairs are sampled.
const HISTOGRAM_MAX_PAIRS: usize = 200_000;

impl<'a> Run<'a, '_> {
    /// Histograms, group-cosine matrices, PCA and gap-shift curves.
    pub(super) fn figures(
        &mut self,
        test: &SplitViews<'a>,
        argmax: Option<&ArgmaxData>,
        shift: &ShiftData,
        plots: &mut [ModelPlots],
    ) {
        let cfg = self.cfg;
        let n = test.n();
        let pca_pick: Vec<usize> = if n > cfg.pca_points {
            let mut rng = StdRng::seed_from_u64(cfg.seed);
            let mut p = sample(&mut rng, n, cfg.pca_points).into_vec();
            p.sort_unstable();
            self.notes.push(format!(
                "the PCA figure of split {} shows a seeded sample of {} of {n} pairs (components fitted on them)",
                test.name, cfg.pca_points
            ));
            p
        } else {
            (0..n).collect()
        };
        let mut sampled_hist = false;
        for (m, plot) in plots.iter_mut().enumerate() {
            let hist = geometry::cosine_histograms(
                test.image(m),
                test.text(m),
                cfg.histogram_bins,
                HISTOGRAM_MAX_PAIRS,
                cfg.seed,
            );
            sampled_hist |= hist.unmatched_sampled;
            plot.cosine = Some(hist);
            plot.pca = geometry::pca2(
                test.image(m).select(Axis(0), &pca_pick).view(),
                test.text(m).select(Axis(0), &pca_pick).view(),
            );
            plot.group_cosine = Some(self.group_cosine(m, test, argmax));
            plot.gap_shift = shift.per_model[m]
                .lambdas
                .iter()
                .map(|s| GapShiftPoint {
                    lambda: s.lambda,
                    modality_gap: geometry::shifted_gap_of(
                        test.image(m),
                        test.text(m),
                        shift.per_model[m].dir.view(),
                        s.lambda,
                        None,
                    ),
                    zeroshot_accuracy: s
                        .preds
                        .as_ref()
                        .and_then(|p| argmax.map(|a| classify::accuracy(&a.y_true, p, None))),
                    r_at_1: Some(retrieval::recall_at(&s.i2t, 1, None)),
                })
                .collect();
        }
        if sampled_hist {
            self.notes.push(format!(
                "unmatched-cosine histograms on split {} use a seeded sample of {HISTOGRAM_MAX_PAIRS} pairs",
                test.name
            ));
        }
    }

    /// Group-cosine matrices (image–image, text–text, image–text): on the single-positive split when there is one (each item in one
    /// group), otherwise on the test split with every item in each class it is positive for.
    pub(super) fn group_cosine(
        &self,
        m: usize,
        test: &SplitViews<'a>,
        argmax: Option<&ArgmaxData>,
    ) -> GroupCosine {
        let classes = self.dataset.zeroshot_classes.clone();
        let (split, image, text, groups) = match argmax {
            Some(a) => {
                let groups: Vec<Vec<usize>> = (0..classes.len())
                    .map(|c| {
                        (0..a.keep.len())
                            .filter(|&k| a.y_true[k] == c)
                            .map(|k| a.keep[k])
                            .collect()
                    })
                    .collect();
                (
                    a.views.name.clone(),
                    a.views.image(m),
                    a.views.text(m),
                    groups,
                )
            }
            None => {
                let groups: Vec<Vec<usize>> = self
                    .class_labels
                    .iter()
                    .map(|l| {
                        (0..test.n())
                            .filter(|&k| {
                                l.is_some_and(|l| {
                                    self.dataset.rows[test.rows[k]].labels.get(l) == Some(&1)
                                })
                            })
                            .collect()
                    })
                    .collect();
                (test.name.clone(), test.image(m), test.text(m), groups)
            }
        };
        GroupCosine {
            split,
            counts: groups.iter().map(Vec::len).collect(),
            image: geometry::group_cosine_matrix(image, &groups),
            text: geometry::group_cosine_matrix(text, &groups),
            image_text: geometry::group_cross_cosine_matrix(image, text, &groups),
            classes,
        }
    }
}
