//! The `[saliency]` section of `workbench.toml` as typed settings (docs/saliency.md).

use serde::Deserialize;

/// How a saliency map is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Sliding-patch occlusion: a pixel's value is the mean drop in cosine similarity over the
    /// patches that cover it.
    #[default]
    Occlusion,
    /// RISE (Petsiuk et al. 2018): similarity-weighted mean of random smooth masks.
    Rise,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Occlusion => "occlusion",
            Method::Rise => "rise",
        }
    }
}

/// What the image embedding is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The zero-shot class embedding of each positive finding (one map per finding).
    #[default]
    Class,
    /// The embedding of the image's own report.
    Report,
}

/// `[saliency]` settings with their defaults. Sizes are in pixels of the model's input grid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SaliencySettings {
    pub method: Method,
    pub target: Target,
    /// Occlusion: side of the square patch (pixels).
    pub patch: u32,
    /// Occlusion: step between patch positions (pixels).
    pub stride: u32,
    /// RISE: number of random masks.
    pub masks: usize,
    /// RISE: cells per side of the low-resolution mask grid.
    pub grid: u32,
    /// RISE: probability that a grid cell is kept.
    pub keep: f64,
    /// RISE: seed of the masks (the same masks for every image and every model).
    pub seed: u64,
    /// At most this many items per model and dataset get a map (0 = none).
    pub items: usize,
    /// Stop starting new items after this many seconds per model and dataset (None = no limit).
    pub time_budget_s: Option<f64>,
}

impl Default for SaliencySettings {
    fn default() -> Self {
        SaliencySettings {
            method: Method::Occlusion,
            target: Target::Class,
            patch: 16,
            stride: 8,
            masks: 1000,
            grid: 8,
            keep: 0.5,
            seed: 0,
            items: 200,
            time_budget_s: None,
        }
    }
}

/// A `[saliency]` value that is out of range; names the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("[saliency] {key}: {message}")]
pub struct SettingsError {
    pub(crate) key: &'static str,
    pub(crate) message: String,
}

fn bad(key: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError {
        key,
        message: message.into(),
    }
}

impl SaliencySettings {
    /// Parses and validates the raw section (an empty table gives the defaults).
    pub(crate) fn from_table(table: &toml::Table) -> Result<SaliencySettings, SettingsError> {
        let s = SaliencySettings::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
            let msg = crate::strict::explain(e.message());
            // serde names the key in its message; keep it whole.
            bad("section", msg)
        })?;
        s.validate()?;
        Ok(s)
    }

    /// Range checks that do not depend on a model.
    pub(crate) fn validate(&self) -> Result<(), SettingsError> {
        if self.patch == 0 {
            return Err(bad("patch", "must be at least 1 pixel"));
        }
        if self.stride == 0 {
            return Err(bad("stride", "must be at least 1 pixel"));
        }
        if self.masks == 0 {
            return Err(bad("masks", "must be at least 1"));
        }
        if self.grid < 2 {
            return Err(bad("grid", "must be at least 2 cells per side"));
        }
        if !(self.keep > 0.0 && self.keep < 1.0) {
            return Err(bad("keep", format!("must be in (0, 1), got {}", self.keep)));
        }
        if let Some(t) = self.time_budget_s
            && !(t > 0.0 && t.is_finite())
        {
            return Err(bad(
                "time_budget_s",
                format!("must be a positive number of seconds, got {t}"),
            ));
        }
        Ok(())
    }

    /// Checks against a model's input side `size`.
    pub(crate) fn validate_for(&self, size: u32, model: &str) -> Result<(), SettingsError> {
        if self.method == Method::Occlusion && self.patch > size {
            return Err(bad(
                "patch",
                format!(
                    "{} is larger than model {model}'s input ({size} pixels)",
                    self.patch
                ),
            ));
        }
        if self.method == Method::Rise && self.grid > size {
            return Err(bad(
                "grid",
                format!(
                    "{} cells exceed model {model}'s input ({size} pixels)",
                    self.grid
                ),
            ));
        }
        Ok(())
    }

    /// Everything that determines a map apart from the model, the image and the target; part of the
    /// cache namespace. Settings of the other method, the item limit and the budget are left out.
    pub(crate) fn cache_tag(&self) -> String {
        match self.method {
            Method::Occlusion => format!(
                "saliency-v1;occlusion;patch={};stride={};baseline=0",
                self.patch, self.stride
            ),
            Method::Rise => format!(
                "saliency-v1;rise;masks={};grid={};keep={};seed={};baseline=0",
                self.masks, self.grid, self.keep, self.seed
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SaliencySettings, SettingsError> {
        SaliencySettings::from_table(&toml::from_str(s).unwrap())
    }

    #[test]
    fn defaults_and_errors_name_the_key() {
        assert_eq!(parse("").unwrap(), SaliencySettings::default());
        let s = parse("method = \"rise\"\nmasks = 50\nseed = 3\ntarget = \"report\"").unwrap();
        assert_eq!(
            (s.method, s.masks, s.seed, s.target),
            (Method::Rise, 50, 3, Target::Report)
        );
        for (text, key) in [
            ("patch = 0", "patch"),
            ("stride = 0", "stride"),
            ("masks = 0", "masks"),
            ("keep = 1.0", "keep"),
            ("grid = 1", "grid"),
            ("time_budget_s = -1.0", "time_budget_s"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.key, key, "{text}");
            assert!(
                e.to_string().starts_with(&format!("[saliency] {key}:")),
                "{e}"
            );
        }
        let e = parse("pach = 3").unwrap_err().to_string();
        assert!(e.contains("pach"), "{e}");
        let e = parse("method = \"gradcam\"").unwrap_err().to_string();
        assert!(e.contains("gradcam"), "{e}");
        let e = SaliencySettings::default()
            .validate_for(8, "CLIP")
            .unwrap_err()
            .to_string();
        assert!(e.contains("patch") && e.contains("CLIP"), "{e}");
    }
}
