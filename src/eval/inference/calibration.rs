/*!
Calibration of zero-shot class probabilities.

- Probabilities: `softmax(logit_scale · s)` over the classes of each item, where `s` are the
  image–prompt cosine similarities and `logit_scale` is the model's learned inverse temperature as
  stored in `model.json` (`"logit_scale": 14.28`, already exponentiated: `1 / τ`; see
  `src/model/spec.rs` and `onnx-export/src/eclip_model/clip.py`). Using 100 instead of the model's
  ~14.3 saturates every probability to 0 or 1 (issue 12).
- Expected calibration error (top-label; Guo et al., "On calibration of modern neural networks",
  ICML 2017, §2): confidence `c_i = max_k p_ik`, prediction `argmax_k p_ik` (first maximum, as
  numpy), correct `o_i = [argmax = y_i]`; 15 equal-width bins with numpy's `linspace(0, 1, 16)` edges,
  item `i` in bin `b` when `e_b < c_i <= e_{b+1}` (bin 0 also holds `c = 0`), which is sklearn's
  `np.searchsorted(bins[1:-1], p)` in `sklearn/calibration.py::calibration_curve`;
  `ECE = Σ_b (n_b / N) |acc_b - conf_b|` over the non-empty bins.
- Brier score (Brier 1950, the original multiclass form): `(1/N) Σ_i Σ_k (p_ik - [y_i = k])²`, in
  [0, 2]; equal to `sklearn.metrics.brier_score_loss(y, P, labels, scale_by_half=False)`. (For two
  classes sklearn's default halves it to the binary `(p - y)²` convention; we do not.)
- Reliability diagram: per bin the mean confidence, the observed frequency and the count; with the
  positive-class probability and the binary label as inputs this is exactly
  `sklearn.calibration.calibration_curve(y, p, n_bins, strategy="uniform")` (which lists only the
  non-empty bins).
*/
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::{InferenceError, check_finite, check_len};

/// Number of bins of the expected calibration error.
pub const ECE_BINS: usize = 15;

/// `softmax(logit_scale · similarities)` per row (items × classes), computed stably (max
/// subtracted). Errors: `logit_scale` not finite and positive, a similarity not finite.
pub fn softmax_scaled<A: Copy + Into<f64>>(
    similarities: ArrayView2<A>,
    logit_scale: f64,
) -> Result<Array2<f64>, InferenceError> {
    if !(logit_scale.is_finite() && logit_scale > 0.0) {
        return Err(InferenceError::InvalidParameter {
            what: "logit_scale",
            message: format!(
                "{logit_scale} is not a positive number; use model.json's logit_scale (e.g. 14.28)"
            ),
        });
    }
    let mut out = similarities.mapv(|v| v.into() * logit_scale);
    for (i, mut row) in out.axis_iter_mut(Axis(0)).enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(InferenceError::NonFinite {
                what: "similarity",
                index: i * similarities.ncols() + j,
                value: similarities[[i, j]].into(),
            });
        }
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    Ok(out)
}

/// numpy's `linspace(0, 1, n_bins + 1)`: `k * (1 / n_bins)`, the last edge exactly 1.
pub fn uniform_bin_edges(n_bins: usize) -> Vec<f64> {
    let step = 1.0 / n_bins as f64;
    let mut edges: Vec<f64> = (0..=n_bins).map(|k| k as f64 * step).collect();
    if let Some(last) = edges.last_mut() {
        *last = 1.0;
    }
    edges
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Mean predicted probability (confidence) of the bin's items; `None` for an empty bin.
    pub mean_confidence: Option<f64>,
    /// Fraction of the bin's outcomes that are true: accuracy for top-label calibration, the
    /// fraction of positives for a binary diagram; `None` for an empty bin.
    pub accuracy: Option<f64>,
}

/// Reliability-diagram bins of probabilities `prob` (each in [0, 1]) against outcomes, with
/// `n_bins` equal-width bins (module docs). Errors: lengths differ, `n_bins == 0`, a probability
/// not finite or outside [0, 1].
pub fn reliability_bins(
    prob: &[f64],
    outcome: &[bool],
    n_bins: usize,
) -> Result<Vec<ReliabilityBin>, InferenceError> {
    check_len(
        "calibration probabilities vs outcomes",
        prob.len(),
        outcome.len(),
    )?;
    check_finite("calibration probability", prob)?;
    if n_bins == 0 {
        return Err(InferenceError::InvalidParameter {
            what: "calibration bins",
            message: "0 bins; use at least 1 (the ECE uses 15)".to_string(),
        });
    }
    if let Some(index) = prob.iter().position(|p| !(0.0..=1.0).contains(p)) {
        return Err(InferenceError::InvalidParameter {
            what: "calibration probability",
            message: format!("item {index} has {} outside [0, 1]", prob[index]),
        });
    }
    let edges = uniform_bin_edges(n_bins);
    let interior = &edges[1..n_bins];
    let mut sums = vec![(0usize, 0.0_f64, 0usize); n_bins];
    for (&p, &o) in prob.iter().zip(outcome) {
        let bin = interior.partition_point(|&e| e < p);
        let s = &mut sums[bin];
        s.0 += 1;
        s.1 += p;
        s.2 += usize::from(o);
    }
    Ok(sums
        .iter()
        .enumerate()
        .map(|(b, &(count, sum, hits))| ReliabilityBin {
            lower: edges[b],
            upper: edges[b + 1],
            count,
            mean_confidence: (count > 0).then(|| sum / count as f64),
            accuracy: (count > 0).then(|| hits as f64 / count as f64),
        })
        .collect())
}

/// `Σ_b (n_b / N) |accuracy_b - mean_confidence_b|` over non-empty bins; NaN for no items.
pub fn ece_from_bins(bins: &[ReliabilityBin]) -> f64 {
    let total: usize = bins.iter().map(|b| b.count).sum();
    bins.iter()
        .filter_map(|b| Some(b.count as f64 * (b.accuracy? - b.mean_confidence?).abs()))
        .sum::<f64>()
        / total as f64
}

/// Per-item calibration inputs of one model on one dataset, computed once; the statistics take
/// item indices so that they can be bootstrapped (`|idx| items.ece(idx, ECE_BINS)`).
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationItems {
    /// Top-label confidence `max_k p_ik`.
    pub confidence: Vec<f64>,
    /// Whether the top label is the true one.
    pub correct: Vec<bool>,
    /// `Σ_k (p_ik - [y_i = k])²`, the item's Brier term.
    pub squared_error: Vec<f64>,
}

impl CalibrationItems {
    /// From probabilities (items × classes, each in [0, 1]) and true class indices.
    pub fn new(probs: ArrayView2<f64>, labels: &[usize]) -> Result<Self, InferenceError> {
        check_len(
            "calibration probability rows vs labels",
            probs.nrows(),
            labels.len(),
        )?;
        let classes = probs.ncols();
        let mut items = CalibrationItems {
            confidence: Vec::with_capacity(labels.len()),
            correct: Vec::with_capacity(labels.len()),
            squared_error: Vec::with_capacity(labels.len()),
        };
        for (index, (row, &label)) in probs.axis_iter(Axis(0)).zip(labels).enumerate() {
            if label >= classes {
                return Err(InferenceError::LabelOutOfRange {
                    index,
                    label,
                    classes,
                });
            }
            if let Some(j) = row
                .iter()
                .position(|p| !(p.is_finite() && (0.0..=1.0).contains(p)))
            {
                return Err(InferenceError::InvalidParameter {
                    what: "class probability",
                    message: format!("item {index}, class {j}: {} is not in [0, 1]", row[j]),
                });
            }
            let (argmax, conf) =
                row.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (k, &p)| {
                        if p > best.1 { (k, p) } else { best }
                    });
            items.confidence.push(conf);
            items.correct.push(argmax == label);
            items.squared_error.push(
                row.iter()
                    .enumerate()
                    .map(|(k, &p)| (p - f64::from(u8::from(k == label))).powi(2))
                    .sum(),
            );
        }
        Ok(items)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.confidence.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.confidence.is_empty()
    }

    /// Top-label reliability bins of the items `idx` (repeats counted).
    pub fn reliability(&self, idx: &[usize], n_bins: usize) -> Vec<ReliabilityBin> {
        let conf: Vec<f64> = idx.iter().map(|&i| self.confidence[i]).collect();
        let correct: Vec<bool> = idx.iter().map(|&i| self.correct[i]).collect();
        // Inputs were validated in `new`; only n_bins == 0 can fail, which gives no bins.
        reliability_bins(&conf, &correct, n_bins).unwrap_or_default()
    }

    /// Expected calibration error of the items `idx`; NaN for no items or no bins.
    pub fn ece(&self, idx: &[usize], n_bins: usize) -> f64 {
        ece_from_bins(&self.reliability(idx, n_bins))
    }

    /// Multiclass Brier score of the items `idx`; NaN for no items.
    pub fn brier(&self, idx: &[usize]) -> f64 {
        idx.iter().map(|&i| self.squared_error[i]).sum::<f64>() / idx.len() as f64
    }

    /// All item indices, `0..len`.
    pub fn all(&self) -> Vec<usize> {
        (0..self.len()).collect()
    }
}

#[cfg(test)]
#[path = "calibration_tests.rs"]
mod tests;
