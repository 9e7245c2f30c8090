/*!
DeLong's test for two correlated AUROCs, and ROC curve points.

AUROC and its variance follow DeLong, DeLong & Clarke-Pearson, "Comparing the areas under two or more
correlated receiver operating characteristic curves: a nonparametric approach", Biometrics 44 (1988),
computed with the midrank algorithm of Sun & Xu, "Fast implementation of DeLong's algorithm for
comparing the areas under correlated receiver operating characteristic curves", IEEE Signal
Processing Letters 21 (2014), which gives the same numbers in O((m + n) log(m + n)):

- with `m` positives `X` and `n` negatives `Y`, midranks (ties share the mean rank) `T_X` within the
  positives, `T_Y` within the negatives, `T_Z` within all `m + n` scores;
- `AUC = (Σ_i T_Z(X_i) - m (m + 1) / 2) / (m n)` (ties count one half, = sklearn's `roc_auc_score`);
- structural components `V10_i = (T_Z(X_i) - T_X(X_i)) / n`, `V01_j = 1 - (T_Z(Y_j) - T_Y(Y_j)) / m`;
- for models `a`, `b`: `S10`, `S01` the 2×2 sample covariances (ddof 1) of the components,
  `S = S10 / m + S01 / n`; `Var(AUC_b - AUC_a) = S_aa + S_bb - 2 S_ab`;
- `z = (AUC_b - AUC_a) / sqrt(Var)`, two-sided `p = 2 Φ(-|z|)`.

This is the convention of the medical zero-shot papers for AUROC deltas; it complements the paired
bootstrap (same items, same direction `b - a`).
*/
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::{InferenceError, check_finite, check_len};

/// AUROC of one model and its DeLong variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AucVariance {
    pub auc: f64,
    pub variance: f64,
    pub positives: usize,
    pub negatives: usize,
}

/// DeLong's paired comparison of model `b` against model `a` on the same items.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DelongPaired {
    pub auc_a: f64,
    pub auc_b: f64,
    pub var_a: f64,
    pub var_b: f64,
    pub covariance: f64,
    /// `auc_b - auc_a`.
    pub delta: f64,
    /// `Var(auc_b - auc_a)`.
    pub var_delta: f64,
    /// `None` when `var_delta` is 0 and `delta` is not (the test is undefined); 0 when both are 0.
    pub z: Option<f64>,
    /// Two-sided; 1 when both `delta` and `var_delta` are 0 (identical rankings).
    pub p_value: Option<f64>,
    pub positives: usize,
    pub negatives: usize,
}

/// 1-based midranks of `values` (ties get the mean of the ranks they span).
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &k in &order[start..end] {
            ranks[k] = rank;
        }
        start = end;
    }
    ranks
}

/// AUC and structural components `(auc, V10, V01)` of one score vector.
fn components(labels: &[bool], scores: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let pos: Vec<f64> = (0..scores.len())
        .filter(|&i| labels[i])
        .map(|i| scores[i])
        .collect();
    let neg: Vec<f64> = (0..scores.len())
        .filter(|&i| !labels[i])
        .map(|i| scores[i])
        .collect();
    let (m, n) = (pos.len() as f64, neg.len() as f64);
    let tx = midranks(&pos);
    let ty = midranks(&neg);
    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let tz = midranks(&all);
    let auc = (tz[..pos.len()].iter().sum::<f64>() - m * (m + 1.0) / 2.0) / (m * n);
    let v10 = (0..pos.len()).map(|i| (tz[i] - tx[i]) / n).collect();
    let v01 = (0..neg.len())
        .map(|j| 1.0 - (tz[pos.len() + j] - ty[j]) / m)
        .collect();
    (auc, v10, v01)
}

/// Sample covariance (ddof 1) of two equally long vectors (length >= 2, checked by the callers).
fn cov(a: &[f64], b: &[f64]) -> f64 {
    let k = a.len() as f64;
    let ma = a.iter().sum::<f64>() / k;
    let mb = b.iter().sum::<f64>() / k;
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (k - 1.0)
}

/// Validates labels/scores and returns `(positives, negatives)`; DeLong needs 2 of each.
fn check_inputs(labels: &[bool], scores: &[f64]) -> Result<(usize, usize), InferenceError> {
    check_len("DeLong labels vs scores", labels.len(), scores.len())?;
    check_finite("DeLong scores", scores)?;
    let m = labels.iter().filter(|&&l| l).count();
    let n = labels.len() - m;
    for (got, unit) in [(m, "positives"), (n, "negatives")] {
        if got < 2 {
            return Err(InferenceError::TooFew {
                what: "DeLong variance",
                unit,
                required: 2,
                got,
            });
        }
    }
    Ok((m, n))
}

/// AUROC of `scores` against `labels` with its DeLong variance `S10 / m + S01 / n`.
pub fn delong_auc(labels: &[bool], scores: &[f64]) -> Result<AucVariance, InferenceError> {
    let (m, n) = check_inputs(labels, scores)?;
    let (auc, v10, v01) = components(labels, scores);
    Ok(AucVariance {
        auc,
        variance: cov(&v10, &v10) / m as f64 + cov(&v01, &v01) / n as f64,
        positives: m,
        negatives: n,
    })
}

/// DeLong's paired test of `AUC_b - AUC_a` (module docs).
pub fn delong_paired(
    labels: &[bool],
    scores_a: &[f64],
    scores_b: &[f64],
) -> Result<DelongPaired, InferenceError> {
    let (m, n) = check_inputs(labels, scores_a)?;
    check_inputs(labels, scores_b)?;
    let (auc_a, v10_a, v01_a) = components(labels, scores_a);
    let (auc_b, v10_b, v01_b) = components(labels, scores_b);
    let s = |x10: &[f64], y10: &[f64], x01: &[f64], y01: &[f64]| {
        cov(x10, y10) / m as f64 + cov(x01, y01) / n as f64
    };
    let var_a = s(&v10_a, &v10_a, &v01_a, &v01_a);
    let var_b = s(&v10_b, &v10_b, &v01_b, &v01_b);
    let covariance = s(&v10_a, &v10_b, &v01_a, &v01_b);
    let delta = auc_b - auc_a;
    // Clamp rounding below zero (identical models give var_a + var_b - 2 cov ≈ -1e-18).
    let var_delta = (var_a + var_b - 2.0 * covariance).max(0.0);
    let (z, p_value) = if var_delta > 0.0 {
        let z = delta / var_delta.sqrt();
        (Some(z), Some(2.0 * Normal::standard().cdf(-z.abs())))
    } else if delta == 0.0 {
        (Some(0.0), Some(1.0))
    } else {
        (None, None)
    };
    Ok(DelongPaired {
        auc_a,
        auc_b,
        var_a,
        var_b,
        covariance,
        delta,
        var_delta,
        z,
        p_value,
        positives: m,
        negatives: n,
    })
}

/// ROC curve points, as `sklearn.metrics.roc_curve(y, s, drop_intermediate=False)`: one point per
/// distinct score (descending), preceded by `(0, 0)` at threshold `+inf`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    /// `thresholds[k]`: items with `score >= thresholds[k]` are called positive at point `k`.
    /// JSON has no infinity: the leading `+inf` is written as `null` and read back as `+inf`.
    #[serde(with = "infinite_as_null")]
    pub thresholds: Vec<f64>,
}

/// `Vec<f64>` with non-finite values as JSON `null` (read back as `+inf`, the only non-finite
/// threshold a ROC curve has).
mod infinite_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let o: Vec<Option<f64>> = v.iter().map(|x| x.is_finite().then_some(*x)).collect();
        o.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let o: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(o.into_iter().map(|x| x.unwrap_or(f64::INFINITY)).collect())
    }
}

/// ROC curve of `scores` against `labels` (sklearn/metrics/_ranking.py `_binary_clf_curve` with
/// every threshold kept). Errors: lengths differ, a score not finite, no positive or no negative.
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<RocCurve, InferenceError> {
    check_len("ROC labels vs scores", labels.len(), scores.len())?;
    check_finite("ROC scores", scores)?;
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    for (got, unit) in [(positives, "positives"), (negatives, "negatives")] {
        if got == 0 {
            return Err(InferenceError::TooFew {
                what: "ROC curve",
                unit,
                required: 1,
                got,
            });
        }
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            curve.fpr.push(fp as f64 / negatives as f64);
            curve.tpr.push(tp as f64 / positives as f64);
            curve.thresholds.push(scores[i]);
        }
    }
    Ok(curve)
}

/// One ROC curve per column of `scores` (items × classes) against the same column of `labels`;
/// `None` for a class without positives or without negatives (its curve is undefined).
pub fn roc_curves_per_class(
    labels: ArrayView2<bool>,
    scores: ArrayView2<f64>,
) -> Result<Vec<Option<RocCurve>>, InferenceError> {
    check_len(
        "ROC label rows vs score rows",
        labels.nrows(),
        scores.nrows(),
    )?;
    check_len(
        "ROC label columns vs score columns",
        labels.ncols(),
        scores.ncols(),
    )?;
    (0..scores.ncols())
        .map(|c| {
            let l: Vec<bool> = labels.column(c).to_vec();
            let s: Vec<f64> = scores.column(c).to_vec();
            match roc_curve(&l, &s) {
                Ok(curve) => Ok(Some(curve)),
                Err(InferenceError::TooFew { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: PYTHONPATH=$PWD/onnx-export/src .venv/bin/python
    //   onnx-export/scripts/make_inference_refs.py, function `delong()`: an independent O(m n)
    // numpy implementation of DeLong 1988 (pairwise kernel, np.cov), AUC cross-checked with
    // sklearn 1.9.1 roc_auc_score, and sklearn roc_curve(drop_intermediate=False).
    const LABELS: [u8; 16] = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0];
    const A: [f64; 16] = [
        0.9, 0.3, 0.7, 0.5, 0.5, 0.2, 0.8, 0.6, 0.1, 0.5, 0.4, 0.3, 0.7, 0.2, 0.95, 0.05,
    ];
    const B: [f64; 16] = [
        0.8, 0.4, 0.9, 0.6, 0.3, 0.1, 0.6, 0.6, 0.2, 0.7, 0.5, 0.55, 0.3, 0.25, 0.9, 0.1,
    ];

    fn labels() -> Vec<bool> {
        LABELS.iter().map(|&l| l == 1).collect()
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() < tol, "{a} vs {b}");
    }

    #[test]
    fn matches_reference_delong() {
        let d = delong_paired(&labels(), &A, &B).unwrap();
        // delong_auc (numpy) = sklearn_auc to 1e-15.
        close(d.auc_a, 0.8412698412698413, 1e-14);
        close(d.auc_b, 0.9682539682539683, 1e-14);
        close(d.var_a, 0.009862895775594188, 1e-14);
        close(d.var_b, 0.0012807592172671542, 1e-14);
        close(d.covariance, 0.0019211388259007308, 1e-14);
        close(d.z.unwrap(), 1.486096600386182, 1e-10);
        close(d.p_value.unwrap(), 0.13725357139975386, 1e-10);
        assert_eq!((d.positives, d.negatives), (7, 9));
        let single = delong_auc(&labels(), &A).unwrap();
        assert_eq!((single.auc, single.variance), (d.auc_a, d.var_a));
    }

    #[test]
    fn identical_models_have_p_one() {
        let d = delong_paired(&labels(), &A, &A).unwrap();
        assert_eq!((d.delta, d.z, d.p_value), (0.0, Some(0.0), Some(1.0)));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let l = labels();
        assert!(matches!(
            delong_paired(&l, &A, &B[..15]),
            Err(InferenceError::LengthMismatch { .. })
        ));
        let mut nan = A;
        nan[3] = f64::NAN;
        assert!(matches!(
            delong_auc(&l, &nan),
            Err(InferenceError::NonFinite { index: 3, .. })
        ));
        let one_pos = [true, false, false];
        assert!(matches!(
            delong_auc(&one_pos, &[0.1, 0.2, 0.3]),
            Err(InferenceError::TooFew {
                unit: "positives",
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn roc_curve_matches_sklearn() {
        let c = roc_curve(&labels(), &A).unwrap();
        let fpr = [
            0.0,
            0.0,
            0.0,
            0.0,
            0.1111111111111111,
            0.2222222222222222,
            0.3333333333333333,
            0.4444444444444444,
            0.5555555555555556,
            0.7777777777777778,
            0.8888888888888888,
            1.0,
        ];
        let tpr = [
            0.0,
            0.14285714285714285,
            0.2857142857142857,
            0.42857142857142855,
            0.5714285714285714,
            0.5714285714285714,
            0.8571428571428571,
            0.8571428571428571,
            1.0,
            1.0,
            1.0,
            1.0,
        ];
        let thr = [
            f64::INFINITY,
            0.95,
            0.9,
            0.8,
            0.7,
            0.6,
            0.5,
            0.4,
            0.3,
            0.2,
            0.1,
            0.05,
        ];
        assert_eq!(c.thresholds, thr);
        for k in 0..fpr.len() {
            close(c.fpr[k], fpr[k], 1e-15);
            close(c.tpr[k], tpr[k], 1e-15);
        }
    }

    #[test]
    fn per_class_curves_skip_undefined_classes() {
        let labels = ndarray::array![[true, true], [false, true], [true, true]];
        let scores = ndarray::array![[0.9, 0.1], [0.2, 0.5], [0.4, 0.3]];
        let curves = roc_curves_per_class(labels.view(), scores.view()).unwrap();
        assert!(curves[1].is_none(), "class 1 has no negatives");
        let c0 = curves[0].as_ref().unwrap();
        assert_eq!(c0.tpr, vec![0.0, 0.5, 1.0, 1.0]);
        assert_eq!(c0.fpr, vec![0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn midranks_share_ties() {
        assert_eq!(midranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }
}
