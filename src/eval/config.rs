/*!
The `[eval]` section of `workbench.toml` (`docs/formats.md` §3): seeds, bootstrap size, probe
fractions/seeds/grid and the gap-shift grid. Every field has a default, so an absent section or key
means "the documented default", and the record of a run lists the values actually used.
*/
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::groups::Compare;
use super::probe::default_alphas;
use super::protocol::{Protocol, ProtocolSettings};
use super::stats::BootstrapConfig;

/// Evaluation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalConfig {
    /// Seed of every random choice (bootstrap, subsamples, plotted points).
    pub seed: u64,
    /// Bootstrap resamples per interval (0 = no intervals).
    pub bootstrap: usize,
    /// Interval coverage.
    pub confidence: f64,
    /// Label fractions of the training split for linear probes.
    pub probe_fractions: Vec<f64>,
    /// One probe subset per seed and fraction.
    pub probe_seeds: Vec<u64>,
    /// L2 strengths α (= 1/C) tried on the validation split.
    pub probe_alphas: Vec<f64>,
    /// L-BFGS iteration cap per probe fit.
    pub probe_max_iterations: u64,
    /// z-score probe features with the training subset's mean/sd before the fit (same statistics
    /// for validation and test). Off by default; left out of the record while off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub probe_standardize: bool,
    /// λ values of the gap-shift sweep.
    pub gap_shift: Vec<f64>,
    /// Bins of the cosine histograms over [-1, 1].
    pub histogram_bins: usize,
    /// Image–text pairs drawn in the PCA plot (a seeded subsample beyond this).
    pub pca_points: usize,
    /// Retrieval query rows per block (0 = chosen from the gallery size).
    pub retrieval_chunk: usize,
    /// Evaluation protocol preset of every dataset (`docs/protocols.md`).
    pub protocol: Protocol,
    /// Per-dataset presets, dataset name (`dataset.toml` `name`) → preset; others use `protocol`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dataset_protocols: BTreeMap<String, Protocol>,
    /// The compared (baseline, candidate) pairs ([`Compare`]); left out of the record when it is
    /// the default `"first"`.
    #[serde(skip_serializing_if = "Compare::is_first")]
    pub compare: Compare,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            bootstrap: 1000,
            confidence: 0.95,
            probe_fractions: vec![0.01, 0.1, 1.0],
            probe_seeds: vec![0, 1, 2],
            probe_alphas: default_alphas(),
            probe_max_iterations: 100,
            probe_standardize: false,
            gap_shift: vec![-1.0, -0.5, 0.0, 0.5, 1.0],
            histogram_bins: 50,
            pca_points: 500,
            retrieval_chunk: 0,
            protocol: Protocol::default(),
            dataset_protocols: BTreeMap::new(),
            compare: Compare::default(),
        }
    }
}

impl EvalConfig {
    /// The bootstrap settings implied by this config.
    pub fn bootstrap_config(&self) -> BootstrapConfig {
        BootstrapConfig {
            resamples: self.bootstrap,
            seed: self.seed,
            confidence: self.confidence,
        }
    }

    /// The resolved protocol settings of the dataset named `dataset`.
    pub fn protocol_for(&self, dataset: &str) -> ProtocolSettings {
        self.dataset_protocols
            .get(dataset)
            .copied()
            .unwrap_or(self.protocol)
            .settings()
    }

    /// `[eval.dataset_protocols]` entries that name none of `datasets` (a typo would otherwise
    /// silently leave that dataset on the default protocol), in words.
    pub fn unmatched_protocols<'a>(
        &self,
        datasets: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let known: Vec<&str> = datasets.into_iter().collect();
        self.dataset_protocols
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| {
                format!(
                    "[eval.dataset_protocols] {k:?} names no loaded dataset (loaded: {known:?}); it has no effect: use the dataset's `name` from its dataset.toml"
                )
            })
            .collect()
    }

    /// Problems that make the config unusable, in words (empty when fine).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            out.push(format!(
                "[eval] confidence = {} must lie strictly between 0 and 1",
                self.confidence
            ));
        }
        if let Some(f) = self
            .probe_fractions
            .iter()
            .find(|f| !(**f > 0.0 && **f <= 1.0))
        {
            out.push(format!(
                "[eval] probe_fractions holds {f}: fractions must lie in (0, 1]"
            ));
        }
        if let Some(a) = self
            .probe_alphas
            .iter()
            .find(|a| a.is_nan() || **a <= 0.0 || a.is_infinite())
        {
            out.push(format!(
                "[eval] probe_alphas holds {a}: L2 strengths must be positive and finite"
            ));
        }
        if self.probe_alphas.is_empty() {
            out.push("[eval] probe_alphas is empty: give at least one L2 strength".into());
        }
        if let Some(l) = self.gap_shift.iter().find(|l| !l.is_finite()) {
            out.push(format!("[eval] gap_shift holds {l}: λ must be finite"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_sections_fill_in_defaults() {
        let c: EvalConfig = toml::from_str("seed = 3\nbootstrap = 200").unwrap();
        assert_eq!(c.seed, 3);
        assert_eq!(c.bootstrap, 200);
        assert_eq!(c.probe_fractions, vec![0.01, 0.1, 1.0]);
        assert!(c.problems().is_empty());
        let bad: EvalConfig = toml::from_str("probe_fractions = [0.0]").unwrap();
        assert_eq!(bad.problems().len(), 1);
        assert!(toml::from_str::<EvalConfig>("sed = 1").is_err());
    }

    #[test]
    fn dataset_protocols_naming_no_dataset_are_reported() {
        let c: EvalConfig =
            toml::from_str("[dataset_protocols]\nopeni = \"eclip-paper\"\n").unwrap();
        assert!(c.unmatched_protocols(["openi", "demo"]).is_empty());
        let w = c.unmatched_protocols(["open-i"]);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("\"openi\"") && w[0].contains("open-i"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn protocols_resolve_per_dataset() {
        use crate::eval::protocol::ClassEmbedding;
        let c: EvalConfig = toml::from_str(
            "protocol = \"clip-benchmark\"\n[dataset_protocols]\nopeni = \"eclip-paper\"\n",
        )
        .unwrap();
        assert_eq!(c.protocol_for("openi").protocol, Protocol::EclipPaper);
        assert_eq!(
            c.protocol_for("openi").class_embedding,
            ClassEmbedding::MeanOfNormalised
        );
        assert_eq!(c.protocol_for("demo").protocol, Protocol::ClipBenchmark);
        assert_eq!(
            EvalConfig::default().protocol_for("x").protocol,
            Protocol::Workbench
        );
        let e = toml::from_str::<EvalConfig>("protocol = \"eclip\"").unwrap_err();
        assert!(e.to_string().contains("eclip-paper"), "{e}");
    }
}
