/*!
Bootstrap p-values with their Monte Carlo error, and how they are shown.

The p-value is the one of [`crate::eval::stats::two_sided_p`] (one definition in the crate):
`p = min(1, 2 * min((#{d* <= 0} + 1) / (B + 1), (#{d* >= 0} + 1) / (B + 1)))` over the `B` finite
resampled deltas `d*` (the `(1 + #)/(B + 1)` Monte Carlo p-value of Davison & Hinkley 1997,
*Bootstrap Methods and their Application*, ch. 4; the factor 2 makes it two-sided).

Its Monte Carlo standard error is the binomial one, `sqrt(p (1 - p) / B)`: the p-value is a
proportion estimated from `B` resamples, so a second run with another seed moves it by about this
much. A verdict whose p is within a couple of MC SEs of the
threshold is decided by the Monte Carlo noise, not by the data: issue 12's R@10 p was 0.056 with
B = 1000 and 0.020 with B = 200 (MC SE 0.007 and 0.010); 0.05 lay within one MC SE of the first.

Display rule: when no resample falls on the other side of zero (`crossings == 0`), the estimate of
the tail proportion is 0/B and all that is known is that it is below the resolution 1/B; the value is
then shown as `< 1/B` (e.g. `< 0.001` for B = 1000, `< 0.0033` for B = 300) instead of a number
that looks exact. The numeric [`BootstrapPValue::p`] stays the conservative `2 / (B + 1)` so that
multiplicity adjustments ([`super::multiplicity`]) receive a number. Formatting happens at the
edge, through `Display`.
*/
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::eval::stats::two_sided_p;

/// A two-sided bootstrap p-value of "delta = 0" with what is needed to judge it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapPValue {
    /// The conservative two-sided p-value (see the module docs); in (0, 1].
    pub p: f64,
    /// Monte Carlo standard error `sqrt(p (1 - p) / B)`.
    pub mc_se: f64,
    /// `B`: the number of finite resampled deltas it was computed from.
    pub resamples: usize,
    /// `min(#{d* <= 0}, #{d* >= 0})`: resamples on the far side of zero (ties count on both).
    pub crossings: usize,
}

impl BootstrapPValue {
    /// From resampled deltas; non-finite ones are left out (as in [`crate::eval::stats`]).
    /// `None` when no finite delta remains.
    pub fn from_deltas(deltas: &[f64]) -> Option<Self> {
        let finite: Vec<f64> = deltas.iter().copied().filter(|d| d.is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        let b = finite.len();
        let p = two_sided_p(&finite);
        let le = finite.iter().filter(|&&d| d <= 0.0).count();
        let ge = finite.iter().filter(|&&d| d >= 0.0).count();
        Some(Self {
            p,
            mc_se: (p * (1.0 - p) / b as f64).sqrt(),
            resamples: b,
            crossings: le.min(ge),
        })
    }

    /// True when no resample crosses zero: the p-value is only known to be below `1 / B`.
    pub fn below_resolution(&self) -> bool {
        self.crossings == 0
    }

    /// `1 / B`, the resolution of the p-value.
    pub fn resolution(&self) -> f64 {
        1.0 / self.resamples as f64
    }
}

/// Two significant digits, without exponent for the magnitudes p-values have (>= 1e-6).
pub fn format_p(p: f64) -> String {
    if !p.is_finite() {
        return "NaN".to_string();
    }
    if p >= 0.1 || p == 0.0 {
        return format!("{p:.2}");
    }
    let decimals = (1 - p.log10().floor() as i32).clamp(2, 8) as usize;
    format!("{p:.decimals$}")
}

/// `< 1/B` (e.g. `< 0.001`) below resolution, otherwise the p-value with two significant digits.
impl fmt::Display for BootstrapPValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.below_resolution() {
            // 1/B exactly when it is short (0.001, 0.005), else two significant digits.
            let r = self.resolution();
            let exact = r.to_string();
            let shown = if exact.len() <= 8 { exact } else { format_p(r) };
            write!(f, "< {shown}")
        } else {
            f.write_str(&format_p(self.p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_and_mc_se_by_hand() {
        // 10 deltas, 3 at or below zero: p = 2 * (3 + 1) / 11 = 8/11.
        let d = [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
        let p = BootstrapPValue::from_deltas(&d).unwrap();
        assert!((p.p - 8.0 / 11.0).abs() < 1e-15);
        let se = (8.0 / 11.0 * (3.0 / 11.0) / 10.0_f64).sqrt();
        assert!((p.mc_se - se).abs() < 1e-15);
        assert_eq!((p.resamples, p.crossings), (10, 3));
        assert!(!p.below_resolution());
        assert_eq!(p.to_string(), "0.73");
    }

    #[test]
    fn no_crossing_displays_below_one_over_b() {
        let d: Vec<f64> = (1..=1000).map(|i| i as f64 * 1e-3).collect();
        let p = BootstrapPValue::from_deltas(&d).unwrap();
        assert!(p.below_resolution());
        assert!((p.p - 2.0 / 1001.0).abs() < 1e-15);
        assert_eq!(p.to_string(), "< 0.001");
        let d200: Vec<f64> = vec![-1.0; 200];
        assert_eq!(
            BootstrapPValue::from_deltas(&d200).unwrap().to_string(),
            "< 0.005"
        );
        let d300: Vec<f64> = vec![1.0; 300];
        assert_eq!(
            BootstrapPValue::from_deltas(&d300).unwrap().to_string(),
            "< 0.0033"
        );
    }

    #[test]
    fn all_zero_deltas_are_p_one_not_below_resolution() {
        let p = BootstrapPValue::from_deltas(&[0.0; 50]).unwrap();
        assert_eq!((p.p, p.mc_se, p.crossings), (1.0, 0.0, 50));
        assert_eq!(p.to_string(), "1.00");
    }

    #[test]
    fn non_finite_deltas_are_left_out() {
        assert!(BootstrapPValue::from_deltas(&[f64::NAN]).is_none());
        assert!(BootstrapPValue::from_deltas(&[]).is_none());
        let p = BootstrapPValue::from_deltas(&[f64::NAN, 1.0, -1.0]).unwrap();
        assert_eq!(p.resamples, 2);
    }

    #[test]
    fn formats_two_significant_digits() {
        assert_eq!(format_p(0.0561), "0.056");
        assert_eq!(format_p(0.0204), "0.020");
        assert_eq!(format_p(0.5), "0.50");
        assert_eq!(format_p(0.00123), "0.0012");
    }
}
