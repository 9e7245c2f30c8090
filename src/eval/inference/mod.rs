/*!
Inference for verdicts (issue 12): the pure statistical core that turns per-item evaluation results
into numbers a reviewer can trust. Nothing here does I/O or knows about reports: slices and arrays in,
numbers and plain typed structs out; invalid inputs give an [`InferenceError`], never a panic.

One file per concern:
- [`multiplicity`]: Holm step-down adjusted p-values and Benjamini–Hochberg q-values;
- [`bca`]: bias-corrected and accelerated bootstrap intervals (one-sample and paired) with a
  documented fallback, never excluding their estimate;
- [`pvalue`]: bootstrap p-values with their Monte Carlo standard error and the `< 1/B` display rule;
- [`min_n`]: the minimum-n rule as data (`TooFewItems` instead of a verdict);
- [`delong`]: DeLong's paired test of two correlated AUROCs (fast DeLong) and ROC curve points;
- [`calibration`]: softmax at a model's `logit_scale`, expected calibration error, Brier score and
  reliability-diagram bins;
- [`replicates`]: training-seed replicates: two-level bootstrap of a group mean, between-replicate
  SD, paired or unpaired group deltas and the sign-disagreement flag;
- [`probe`]: linear-probe uncertainty at every label fraction (item bootstrap combined with the
  seed spread).

Resampling is the one of [`super::stats`] (same index streams for the same `(seed, b)`), so an
interval here and a [`super::stats::Delta`] computed with the same [`super::stats::BootstrapConfig`]
see the very same resamples.
*/
pub mod bca;
pub mod calibration;
pub mod delong;
pub mod min_n;
pub mod multiplicity;
pub mod probe;
pub mod pvalue;
pub mod replicates;

/// Why an inference function could not compute its result from the inputs it was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// A p-value that is NaN or outside [0, 1]; undefined comparisons are passed as `None`.
    #[error(
        "p-value {value} at position {index} is not in [0, 1]; pass None for an undefined comparison"
    )]
    InvalidPValue { index: usize, value: f64 },
    /// Two inputs that must describe the same items have different lengths.
    #[error("{what}: lengths differ ({left} vs {right}); both must describe the same items")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// A value that must be finite is not (NaN or infinite).
    #[error("{what}: value {value} at position {index} is not finite")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// Too few inputs of some kind for the statistic to be defined.
    #[error("{what}: needs at least {required} {unit}, got {got}")]
    TooFew {
        what: &'static str,
        unit: &'static str,
        required: usize,
        got: usize,
    },
    /// A class label outside `0..classes`.
    #[error("label {label} of item {index} is out of range for {classes} classes")]
    LabelOutOfRange {
        index: usize,
        label: usize,
        classes: usize,
    },
    /// A parameter outside its domain (e.g. a confidence outside (0, 1), a non-positive scale).
    #[error("{what}: {message}")]
    InvalidParameter { what: &'static str, message: String },
}

/// `Err(NonFinite)` at the first value of `values` that is not finite.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), InferenceError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(InferenceError::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// `Err(LengthMismatch)` unless `left == right`.
pub(crate) fn check_len(
    what: &'static str,
    left: usize,
    right: usize,
) -> Result<(), InferenceError> {
    if left == right {
        Ok(())
    } else {
        Err(InferenceError::LengthMismatch { what, left, right })
    }
}

/// `Err(InvalidParameter)` unless `0 < confidence < 1`.
pub(crate) fn check_confidence(confidence: f64) -> Result<(), InferenceError> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(InferenceError::InvalidParameter {
            what: "confidence",
            message: format!("{confidence} is not strictly between 0 and 1 (e.g. 0.95)"),
        })
    }
}
