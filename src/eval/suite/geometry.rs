/*! Embedding geometry on the test split: gap, alignment, uniformity (bootstrapped up to
[`UNIFORMITY_CI_MAX`] items), cone and matched/unmatched cosines. */
use ndarray::Array2;

use super::{Run, SplitViews};
use crate::eval::geometry::{self, UNIFORMITY_EXACT_MAX};
use crate::eval::metrics::{Setting, Task};
use crate::eval::rows::Spec;

/// Largest test split for which uniformity gets bootstrap intervals (each resample costs O(N²)).
pub const UNIFORMITY_CI_MAX: usize = 1000;

impl<'a> Run<'a, '_> {
    pub(super) fn geometry_data(&mut self, test: &SplitViews<'a>) -> GeometryData {
        let n = test.n();
        let seed = self.cfg.seed;
        let uniformity: Vec<[geometry::Uniformity; 2]> = (0..self.models.len())
            .map(|m| {
                [
                    geometry::uniformity(test.image(m), UNIFORMITY_EXACT_MAX, seed),
                    geometry::uniformity(test.text(m), UNIFORMITY_EXACT_MAX, seed),
                ]
            })
            .collect();
        if n > UNIFORMITY_EXACT_MAX {
            self.notes.push(format!(
                "uniformity on split {} ({n} items) uses a seeded subsample of {UNIFORMITY_EXACT_MAX} items (seed {seed})",
                test.name
            ));
        }
        let kernels = if n <= UNIFORMITY_CI_MAX {
            (0..self.models.len())
                .map(|m| {
                    [
                        geometry::uniformity_kernel(test.image(m)),
                        geometry::uniformity_kernel(test.text(m)),
                    ]
                })
                .collect()
        } else {
            self.notes.push(format!(
                "uniformity on split {} has no bootstrap interval above {UNIFORMITY_CI_MAX} items (each resample is O(N²))",
                test.name
            ));
            Vec::new()
        };
        GeometryData {
            uniformity,
            kernels,
        }
    }
}

pub(super) struct GeometryData {
    /// [image, text] per model, on all items (or the stated subsample).
    pub(super) uniformity: Vec<[geometry::Uniformity; 2]>,
    /// [image, text] kernels per model when small enough for bootstrap intervals.
    pub(super) kernels: Vec<[Array2<f32>; 2]>,
}

impl GeometryData {
    pub(super) fn specs<'s>(&'s self, test: &'s SplitViews<'s>) -> Vec<Spec<'s>> {
        let n = test.n();
        let p = test.paired;
        let mut out = vec![
            Spec::new(
                Task::Geometry,
                Setting::None,
                "modality_gap",
                n,
                p,
                move |m, i| geometry::modality_gap_of(test.image(m), test.text(m), Some(i)),
            ),
            Spec::new(
                Task::Geometry,
                Setting::None,
                "alignment",
                n,
                p,
                move |m, i| geometry::alignment(test.image(m), test.text(m), Some(i)),
            ),
        ];
        for (k, metric) in [(0usize, "uniformity_image"), (1, "uniformity_text")] {
            let mut s = Spec::new(Task::Geometry, Setting::None, metric, n, p, move |m, i| {
                self.kernels
                    .get(m)
                    .map_or(f64::NAN, |kern| geometry::uniformity_of(&kern[k], Some(i)))
            });
            s.full = Some(Box::new(move |m| self.uniformity[m][k].value));
            out.push(s);
        }
        out.push(Spec::new(
            Task::Geometry,
            Setting::None,
            "cone_image",
            n,
            p,
            move |m, i| geometry::cone_of(test.image(m), Some(i)),
        ));
        out.push(Spec::new(
            Task::Geometry,
            Setting::None,
            "cone_text",
            n,
            p,
            move |m, i| geometry::cone_of(test.text(m), Some(i)),
        ));
        out.push(Spec::new(
            Task::Geometry,
            Setting::None,
            "mean_cos_matched",
            n,
            p,
            move |m, i| geometry::mean_cos_matched(test.image(m), test.text(m), Some(i)),
        ));
        out.push(Spec::new(
            Task::Geometry,
            Setting::None,
            "mean_cos_unmatched",
            n,
            p,
            move |m, i| geometry::mean_cos_unmatched_of(test.image(m), test.text(m), Some(i)),
        ));
        out
    }
}
