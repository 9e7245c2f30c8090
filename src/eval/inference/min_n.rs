/*!
The minimum-n rule as data: below it a comparison gets a typed "too few items" outcome instead of a
verdict, whatever its p-value (issue 12: a 3-item dataset got verdicts with p = 0.002, because a
bootstrap over 3 items has only 10 distinct resamples and says nothing about a population).

Rule ([`MinimumN::DEFAULT`]): at least 30 evaluation items, and for a per-class metric (per-class
AUROC, per-class F1, ...) at least 10 positives of that class, as issue 12 asks. The thresholds are
conventions, not theorems: 30 is the common rule of thumb below which normal-approximation and
bootstrap intervals of a mean are unreliable, and with `m < 10` positives a per-class AUROC can
move by up to `1/m > 0.1` when a single positive is re-ranked (Hanley & McNeil, Radiology 143,
1982, show how its standard error grows as positives become few).
They are fields, so a caller can state other ones, and every outcome says which were used.
*/
use serde::{Deserialize, Serialize};

/// Minimum sample sizes below which no verdict is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinimumN {
    /// Minimum number of evaluation items.
    pub items: usize,
    /// Minimum number of positives of the class, for per-class metrics.
    pub positives: usize,
}

impl MinimumN {
    /// 30 items, 10 positives per class.
    pub const DEFAULT: MinimumN = MinimumN {
        items: 30,
        positives: 10,
    };

    /// Checks `items` and, for a per-class metric, `positives` (`None` for metrics over all
    /// classes). Items are checked first.
    pub fn check(&self, items: usize, positives: Option<usize>) -> SampleSize {
        if items < self.items {
            return SampleSize::TooFewItems {
                items,
                required: self.items,
            };
        }
        match positives {
            Some(positives) if positives < self.positives => SampleSize::TooFewPositives {
                positives,
                required: self.positives,
            },
            _ => SampleSize::Enough,
        }
    }

    /// `Gated::Verdict(verdict())` when the sample is large enough, otherwise the reason; the
    /// verdict is not even computed below the rule.
    pub fn gate<T>(
        &self,
        items: usize,
        positives: Option<usize>,
        verdict: impl FnOnce() -> T,
    ) -> Gated<T> {
        match self.check(items, positives) {
            SampleSize::Enough => Gated::Verdict(verdict()),
            too_few => Gated::TooFew(too_few),
        }
    }
}

impl Default for MinimumN {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whether a sample is large enough for a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SampleSize {
    Enough,
    /// Fewer evaluation items than the rule asks for.
    TooFewItems {
        items: usize,
        required: usize,
    },
    /// Fewer positives of the class than the rule asks for (per-class metrics).
    TooFewPositives {
        positives: usize,
        required: usize,
    },
}

impl SampleSize {
    /// True for [`SampleSize::Enough`].
    pub fn is_enough(&self) -> bool {
        matches!(self, SampleSize::Enough)
    }

    /// A short reason for a review or a table cell, `None` when enough.
    pub fn reason(&self) -> Option<String> {
        match *self {
            SampleSize::Enough => None,
            SampleSize::TooFewItems { items, required } => {
                Some(format!("too few items ({items} < {required})"))
            }
            SampleSize::TooFewPositives {
                positives,
                required,
            } => Some(format!("too few positives ({positives} < {required})")),
        }
    }
}

/// A verdict, or the reason there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Gated<T> {
    Verdict(T),
    /// Never [`SampleSize::Enough`].
    TooFew(SampleSize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_strict_lower_bounds() {
        let rule = MinimumN::DEFAULT;
        assert_eq!(
            rule.check(29, None),
            SampleSize::TooFewItems {
                items: 29,
                required: 30
            }
        );
        assert!(rule.check(30, None).is_enough());
        assert_eq!(
            rule.check(500, Some(9)),
            SampleSize::TooFewPositives {
                positives: 9,
                required: 10
            }
        );
        assert!(rule.check(500, Some(10)).is_enough());
        // Items first: a 3-item dataset is "too few items" even for a per-class metric.
        assert!(matches!(
            rule.check(3, Some(1)),
            SampleSize::TooFewItems { items: 3, .. }
        ));
        assert_eq!(
            rule.check(3, None).reason().unwrap(),
            "too few items (3 < 30)"
        );
    }

    #[test]
    fn gate_skips_the_verdict_below_the_rule() {
        let rule = MinimumN::DEFAULT;
        let gated: Gated<&str> = rule.gate(3, None, || unreachable!("not computed"));
        assert!(matches!(
            gated,
            Gated::TooFew(SampleSize::TooFewItems { .. })
        ));
        assert_eq!(
            rule.gate(100, Some(20), || "better"),
            Gated::Verdict("better")
        );
    }
}
