/*!
Standardised probe features (`[eval] probe_standardize`): every feature z-scored with the mean and
standard deviation of the training subset, the same statistics applied to the validation and test
features, as scikit-learn's `StandardScaler` fitted on the training rows (population sd, ddof 0;
a feature that is constant on the training rows keeps scale 1, so it becomes 0 there).
*/
use ndarray::{Array2, ArrayView2, Axis};

/// Per-feature mean and scale of a training subset.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Standardizer {
    /// Statistics of rows `idx` of `x`, accumulated in f64 (no rows: mean 0, scale 1).
    pub fn fit(x: ArrayView2<f32>, idx: &[usize]) -> Self {
        let d = x.ncols();
        let n = idx.len() as f64;
        let mut mean = vec![0.0f64; d];
        for &i in idx {
            for (m, &v) in mean.iter_mut().zip(x.row(i)) {
                *m += f64::from(v);
            }
        }
        if !idx.is_empty() {
            mean.iter_mut().for_each(|m| *m /= n);
        }
        let mut var = vec![0.0f64; d];
        for &i in idx {
            for ((s, &v), m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
                let c = f64::from(v) - m;
                *s += c * c;
            }
        }
        let scale = var
            .iter()
            .map(|&s| {
                let sd = if idx.is_empty() { 0.0 } else { (s / n).sqrt() };
                // scikit-learn's `_handle_zeros_in_scale`: (near-)constant features are not scaled.
                if sd < 10.0 * f64::EPSILON { 1.0 } else { sd }
            })
            .collect();
        Self { mean, scale }
    }

    /// The training subset's per-feature means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The training subset's per-feature scales (sd, or 1 for a constant feature).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// `(x − mean) / scale` of every row of `x` (computed in f64, stored as f32).
    pub fn apply(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let mut out = x.to_owned();
        for mut row in out.axis_iter_mut(Axis(0)) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = ((f64::from(*v) - m) / s) as f32;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn z_scores_with_the_subset_statistics() {
        let x = array![[1.0f32, 5.0], [3.0, 5.0], [100.0, 7.0]];
        let s = Standardizer::fit(x.view(), &[0, 1]);
        assert_eq!(s.mean(), &[2.0, 5.0]);
        // Column 0: population sd 1; column 1 is constant on the subset: scale 1.
        assert_eq!(s.scale(), &[1.0, 1.0]);
        let z = s.apply(x.view());
        assert_eq!(z, array![[-1.0f32, 0.0], [1.0, 0.0], [98.0, 2.0]]);
    }

    #[test]
    fn no_rows_leave_features_unchanged() {
        let x = array![[1.5f32, -2.0]];
        let s = Standardizer::fit(x.view(), &[]);
        assert_eq!(s.apply(x.view()), x);
    }
}
