/*!
Multiple-comparison adjustment of p-values.

- [`holm`]: Holm (1979) step-down, controls the family-wise error rate; for the confirmatory
  (primary-metric) comparisons.
- [`benjamini_hochberg`]: Benjamini & Hochberg (1995) step-up q-values, control the false
  discovery rate; for the exploratory (secondary) comparisons.

Both follow `statsmodels.stats.multitest.multipletests` (methods `"holm"` and `"fdr_bh"`,
statsmodels/stats/multitest.py) operation for operation: sort ascending, scale, make monotone
(running maximum for Holm, running minimum from the largest for BH), cap at 1, unsort. Adjusted
values are therefore never below the raw p-value and keep its order.

Undefined comparisons are explicit: an entry `None` (e.g. the delta of an AUROC that is undefined)
is left out of the family (it does not count in `m`) and stays `None`; a `Some` that is NaN or outside
[0, 1] is an error, never silently dropped.
*/
use serde::{Deserialize, Serialize};

use super::InferenceError;

/// Which adjustment a row carries; `as_str` is the tidy-CSV `adjustment` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Adjustment {
    /// Holm step-down (family-wise error rate).
    Holm,
    /// Benjamini–Hochberg (false discovery rate).
    BenjaminiHochberg,
}

impl Adjustment {
    /// `"holm"` or `"bh"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Adjustment::Holm => "holm",
            Adjustment::BenjaminiHochberg => "bh",
        }
    }

    /// Adjusts `p` with this procedure (see [`holm`], [`benjamini_hochberg`]).
    pub fn apply(self, p: &[Option<f64>]) -> Result<Vec<Option<f64>>, InferenceError> {
        match self {
            Adjustment::Holm => holm(p),
            Adjustment::BenjaminiHochberg => benjamini_hochberg(p),
        }
    }
}

/// The defined p-values with their positions, validated and sorted ascending (ties by position).
fn sorted_defined(p: &[Option<f64>]) -> Result<Vec<(usize, f64)>, InferenceError> {
    let mut defined = Vec::with_capacity(p.len());
    for (index, value) in p.iter().enumerate() {
        if let Some(value) = *value {
            if !(0.0..=1.0).contains(&value) {
                return Err(InferenceError::InvalidPValue { index, value });
            }
            defined.push((index, value));
        }
    }
    defined.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    Ok(defined)
}

/// Holm step-down adjusted p-values: with the `m` defined p-values sorted ascending
/// `p_(1) <= ... <= p_(m)`, `p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))`.
/// Source: Holm, "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6
/// (1979); statsmodels `multipletests(method="holm")`.
pub fn holm(p: &[Option<f64>]) -> Result<Vec<Option<f64>>, InferenceError> {
    let sorted = sorted_defined(p)?;
    let m = sorted.len();
    let mut out = vec![None; p.len()];
    let mut running = 0.0_f64;
    for (k, &(index, value)) in sorted.iter().enumerate() {
        running = running.max(value * (m - k) as f64);
        out[index] = Some(running.min(1.0));
    }
    Ok(out)
}

/// Benjamini–Hochberg q-values: with the `m` defined p-values sorted ascending,
/// `q_(i) = min(1, min_{j >= i} p_(j) / (j / m))`.
/// Source: Benjamini & Hochberg, "Controlling the false discovery rate", JRSS B 57 (1995);
/// statsmodels `multipletests(method="fdr_bh")` (which divides by the ECDF factor `j / m`, as here).
pub fn benjamini_hochberg(p: &[Option<f64>]) -> Result<Vec<Option<f64>>, InferenceError> {
    let sorted = sorted_defined(p)?;
    let m = sorted.len();
    let mut out = vec![None; p.len()];
    let mut running = f64::INFINITY;
    for (k, &(index, value)) in sorted.iter().enumerate().rev() {
        running = running.min(value / ((k + 1) as f64 / m as f64));
        out[index] = Some(running.min(1.0));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: PYTHONPATH=$PWD/onnx-export/src .venv/bin/python
    //   onnx-export/scripts/make_inference_refs.py   (statsmodels 0.15.0), lines `holm`, `fdr_bh`:
    // multipletests([0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9, 0.0001], method=...)[1]
    const P: [f64; 8] = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9, 0.0001];
    const HOLM: [f64; 8] = [0.06, 0.16, 0.15, 0.035, 0.4, 0.16, 0.9, 0.0008];
    const BH: [f64; 8] = [
        0.02666666666666667,
        0.05333333333333334,
        0.05333333333333334,
        0.02,
        0.2285714285714286,
        0.05333333333333334,
        0.9,
        0.0008,
    ];

    fn some(p: &[f64]) -> Vec<Option<f64>> {
        p.iter().copied().map(Some).collect()
    }

    fn assert_close(got: &[Option<f64>], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            let g = g.expect("defined");
            assert!((g - w).abs() < 1e-15, "{g} vs {w}");
        }
    }

    #[test]
    fn match_statsmodels() {
        assert_close(&holm(&some(&P)).unwrap(), &HOLM);
        assert_close(&benjamini_hochberg(&some(&P)).unwrap(), &BH);
        // multipletests([0.5, 0.6, 0.7], ...): holm all 1.0 (capped), fdr_bh all 0.7.
        assert_close(&holm(&some(&[0.5, 0.6, 0.7])).unwrap(), &[1.0; 3]);
        assert_close(
            &benjamini_hochberg(&some(&[0.5, 0.6, 0.7])).unwrap(),
            &[0.7; 3],
        );
    }

    #[test]
    fn adjusted_never_below_raw_and_capped() {
        for method in [Adjustment::Holm, Adjustment::BenjaminiHochberg] {
            let adj = method.apply(&some(&P)).unwrap();
            for (a, p) in adj.iter().zip(P) {
                let a = a.unwrap();
                assert!(a >= p && a <= 1.0, "{} {a} < {p}", method.as_str());
            }
        }
    }

    #[test]
    fn undefined_comparisons_leave_the_family() {
        let mut with_none = some(&P);
        with_none.insert(2, None);
        with_none.push(None);
        let adj = holm(&with_none).unwrap();
        assert_eq!(adj[2], None);
        assert_eq!(adj[9], None);
        let defined: Vec<Option<f64>> = adj.into_iter().flatten().map(Some).collect();
        assert_close(&defined, &HOLM);
        assert_eq!(holm(&[None, None]).unwrap(), vec![None, None]);
        assert!(benjamini_hochberg(&[]).unwrap().is_empty());
    }

    #[test]
    fn invalid_p_values_are_errors() {
        assert!(matches!(
            holm(&[Some(0.1), Some(f64::NAN)]),
            Err(InferenceError::InvalidPValue { index: 1, value }) if value.is_nan()
        ));
        assert!(matches!(
            benjamini_hochberg(&[Some(1.5)]),
            Err(InferenceError::InvalidPValue { index: 0, .. })
        ));
        assert!(matches!(
            holm(&[Some(-0.1)]),
            Err(InferenceError::InvalidPValue { index: 0, .. })
        ));
    }
}
