/*!
Classification metrics over predictions and scores: accuracy, balanced accuracy, per-class and macro
F1, and AUROC.

The definitions follow scikit-learn so that reference values can come from it:
- `balanced_accuracy`: mean recall over the classes that occur in `y_true`
  (`sklearn.metrics.balanced_accuracy_score`);
- per-class F1 = 2·TP / (2·TP + FP + FN); it is *undefined* (`None`) for a class that neither occurs
  in `y_true` nor is ever predicted; macro F1 averages the defined ones, which equals scikit-learn's
  `f1_score(average="macro")` with its default label set (the union of true and predicted labels);
- AUROC = the Mann–Whitney probability that a random positive outscores a random negative, ties
  counting one half (`sklearn.metrics.roc_auc_score`); undefined (`None`) when the items hold no
  positive or no negative; macro AUROC averages the defined per-label values.

Every function takes an optional subset of item indices (`idx`) so the bootstrap can evaluate a
resample without copying, and repeated indices count repeatedly.
*/

/// Item indices: `Some(idx)` for a bootstrap resample, `None` for all items.
fn items(idx: Option<&[usize]>, n: usize) -> Box<dyn Iterator<Item = usize> + '_> {
    match idx {
        Some(idx) => Box::new(idx.iter().copied()),
        None => Box::new(0..n),
    }
}

/// Fraction of items whose prediction equals the truth. NaN for no items.
pub fn accuracy(y_true: &[usize], y_pred: &[usize], idx: Option<&[usize]>) -> f64 {
    let (mut hit, mut total) = (0usize, 0usize);
    for i in items(idx, y_true.len()) {
        hit += usize::from(y_true[i] == y_pred[i]);
        total += 1;
    }
    if total == 0 {
        f64::NAN
    } else {
        hit as f64 / total as f64
    }
}

/// Per-class counts `(tp, fp, fn)` over `n_classes` classes.
fn confusion_counts(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    idx: Option<&[usize]>,
) -> Vec<(usize, usize, usize)> {
    let mut c = vec![(0, 0, 0); n_classes];
    for i in items(idx, y_true.len()) {
        let (t, p) = (y_true[i], y_pred[i]);
        if t == p {
            c[t].0 += 1;
        } else {
            c[p].1 += 1;
            c[t].2 += 1;
        }
    }
    c
}

/// Mean recall over the classes present in `y_true`. NaN for no items.
pub fn balanced_accuracy(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    idx: Option<&[usize]>,
) -> f64 {
    let recalls: Vec<f64> = confusion_counts(y_true, y_pred, n_classes, idx)
        .into_iter()
        .filter(|&(tp, _, fn_)| tp + fn_ > 0)
        .map(|(tp, _, fn_)| tp as f64 / (tp + fn_) as f64)
        .collect();
    mean_or_nan(&recalls)
}

/// F1 of every class; `None` for a class that is neither present nor predicted.
pub fn per_class_f1(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    idx: Option<&[usize]>,
) -> Vec<Option<f64>> {
    confusion_counts(y_true, y_pred, n_classes, idx)
        .into_iter()
        .map(|(tp, fp, fn_)| {
            let denom = 2 * tp + fp + fn_;
            (denom > 0).then(|| 2.0 * tp as f64 / denom as f64)
        })
        .collect()
}

/// Mean of the defined per-class F1 values. NaN when none is defined.
pub fn macro_f1(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    idx: Option<&[usize]>,
) -> f64 {
    let defined: Vec<f64> = per_class_f1(y_true, y_pred, n_classes, idx)
        .into_iter()
        .flatten()
        .collect();
    mean_or_nan(&defined)
}

/// AUROC of `scores` against binary `y_true` (ties count one half); `None` without both classes.
pub fn auroc(y_true: &[bool], scores: &[f64], idx: Option<&[usize]>) -> Option<f64> {
    let mut pairs: Vec<(f64, bool)> = items(idx, y_true.len())
        .map(|i| (scores[i], y_true[i]))
        .collect();
    let n_pos = pairs.iter().filter(|p| p.1).count();
    let n_neg = pairs.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the (average, 1-based) ranks of the positives, tied groups sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < pairs.len() {
        let mut end = start + 1;
        while end < pairs.len() && pairs[end].0 == pairs[start].0 {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let pos_in_group = pairs[start..end].iter().filter(|p| p.1).count();
        rank_sum += mean_rank * pos_in_group as f64;
        start = end;
    }
    let (p, q) = (n_pos as f64, n_neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * q))
}

/// Mean of the defined values; `None` when none is defined.
pub fn mean_defined(values: &[Option<f64>]) -> Option<f64> {
    let defined: Vec<f64> = values.iter().flatten().copied().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

fn mean_or_nan(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_is_undefined_only_for_absent_and_unpredicted_classes() {
        let t = [0, 0, 1, 1];
        let p = [0, 1, 1, 1];
        let f1 = per_class_f1(&t, &p, 3, None);
        assert_eq!(f1[2], None);
        assert!((f1[0].unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((f1[1].unwrap() - 0.8).abs() < 1e-12);
        assert!((macro_f1(&t, &p, 3, None) - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-12);
        // Predicted but absent: defined, and zero.
        let f1 = per_class_f1(&[0, 0], &[0, 2], 3, None);
        assert_eq!(f1[2], Some(0.0));
    }

    #[test]
    fn auroc_counts_ties_as_half_and_refuses_one_class() {
        assert_eq!(auroc(&[true, false], &[0.5, 0.5], None), Some(0.5));
        assert_eq!(auroc(&[true, true], &[0.1, 0.9], None), None);
        assert_eq!(
            auroc(&[false, true, false], &[0.1, 0.9, 0.3], None),
            Some(1.0)
        );
        // Resample with a repeated index.
        assert_eq!(
            auroc(&[false, true], &[0.9, 0.1], Some(&[0, 1, 1])),
            Some(0.0)
        );
    }

    #[test]
    fn balanced_accuracy_ignores_classes_absent_from_truth() {
        let b = balanced_accuracy(&[0, 0, 0, 1], &[0, 0, 2, 1], 3, None);
        assert!((b - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
    }
}
