/*!
`model.json` (docs/formats.md §2): the manifest written by `onnx-export/` that names a model's two
graphs, their tensor names, the preprocessing and the tokenizer.

Parsing is strict: unknown keys (top level, `image`, `text`) are errors naming the key, with a
"did you mean" from [`crate::strict::explain`], as are values that would silently change the numbers
(format version, resize rule, mean/std length, channels); only `provenance` is free-form JSON.
*/
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ModelError;

/// The default resize rule (absent `image.resize` means this one).
pub(crate) const RESIZE_RULE: &str = "shortest_edge_bilinear_center_crop";
/// PIL's antialiased BICUBIC on mode `F` (float samples), with the workbench's geometry.
pub(crate) const RESIZE_BICUBIC: &str = "shortest_edge_bicubic_center_crop";

/// open_clip's preprocessing (torchvision `Resize` + `CenterCrop` on the PIL image).
pub(crate) const RESIZE_OPEN_CLIP: &str = "open_clip_bicubic_center_crop";
/// transformers' `CLIPImageProcessor` with `resample = 3`.
pub(crate) const RESIZE_HF: &str = "hf_bicubic_center_crop";

/// The resize rules of the contract (docs/formats.md §2.1 step 3). The `_reduce` rules are the fast
/// mode: JPEG decoded at a reduced DCT scale, then an integer box reduction, then the filter. The
/// library rules (`open_clip_…`, `hf_…`) reproduce a CLIP library's own preprocessing: 8-bit images
/// are resized on Pillow's 8-bit path, and the resized shape and crop follow that library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resize {
    /// `shortest_edge_bilinear_center_crop`.
    Bilinear,
    /// `shortest_edge_bicubic_center_crop`.
    Bicubic,
    /// `shortest_edge_bilinear_center_crop_reduce`.
    BilinearReduce,
    /// `shortest_edge_bicubic_center_crop_reduce`.
    BicubicReduce,
    /// `open_clip_bicubic_center_crop`.
    OpenClipBicubic,
    /// `hf_bicubic_center_crop`.
    HfBicubic,
}

/// How a rule sizes the resized image and places the crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    /// The workbench's own: longer edge rounded half up, crop offset floor((edge − size) / 2).
    Workbench,
    /// torchvision (`Resize(size)`, `CenterCrop`): longer edge `int(size * long / short)`, crop
    /// offset `int(round((edge − size) / 2))` (Python's round: halves to even).
    Torchvision,
    /// transformers (`get_resize_output_image_size`, `center_crop`): longer edge
    /// `int(size * long / short)`, crop offset `int((edge − size) / 2)`.
    Transformers,
}

impl Resize {
    pub(crate) const ALL: [Resize; 6] = [
        Resize::Bilinear,
        Resize::Bicubic,
        Resize::BilinearReduce,
        Resize::BicubicReduce,
        Resize::OpenClipBicubic,
        Resize::HfBicubic,
    ];

    /// The name used in `model.json`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Resize::Bilinear => RESIZE_RULE,
            Resize::Bicubic => RESIZE_BICUBIC,
            Resize::BilinearReduce => "shortest_edge_bilinear_center_crop_reduce",
            Resize::BicubicReduce => "shortest_edge_bicubic_center_crop_reduce",
            Resize::OpenClipBicubic => RESIZE_OPEN_CLIP,
            Resize::HfBicubic => RESIZE_HF,
        }
    }

    /// Whether the filter is PIL's bicubic (else the antialiased bilinear).
    pub(crate) fn bicubic(self) -> bool {
        !matches!(self, Resize::Bilinear | Resize::BilinearReduce)
    }

    /// Whether this is a fast rule (DCT-scaled JPEG decode and box reduction first).
    pub(crate) fn reduces(self) -> bool {
        matches!(self, Resize::BilinearReduce | Resize::BicubicReduce)
    }

    /// Whether 8-bit images are resized on Pillow's 8-bit path (the library rules).
    pub(crate) fn eight_bit(self) -> bool {
        matches!(self, Resize::OpenClipBicubic | Resize::HfBicubic)
    }

    pub(crate) fn geometry(self) -> Geometry {
        match self {
            Resize::OpenClipBicubic => Geometry::Torchvision,
            Resize::HfBicubic => Geometry::Transformers,
            _ => Geometry::Workbench,
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Resize> {
        Resize::ALL.into_iter().find(|r| r.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub(crate) format_version: u32,
    pub name: String,
    #[serde(default)]
    pub family: String,
    pub embed_dim: usize,
    #[serde(default)]
    pub(crate) normalized: bool,
    #[serde(default)]
    pub(crate) logit_scale: Option<f64>,
    pub image: ImageSpec,
    pub text: TextSpec,
    pub tokenizer: String,
    #[serde(default)]
    pub(crate) provenance: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSpec {
    pub file: String,
    pub input: String,
    pub output: String,
    pub size: u32,
    pub channels: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    #[serde(default = "default_resize")]
    pub resize: String,
}

fn default_resize() -> String {
    RESIZE_RULE.to_string()
}

impl ImageSpec {
    /// The validated resize rule ([`ModelSpec::load`] refuses unknown names; bilinear otherwise).
    pub(crate) fn resize_rule(&self) -> Resize {
        Resize::parse(&self.resize).unwrap_or(Resize::Bilinear)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSpec {
    pub file: String,
    pub(crate) input_ids: String,
    pub(crate) attention_mask: String,
    pub(crate) output: String,
    pub context_length: usize,
    #[serde(default)]
    pub(crate) pad_token_id: u32,
}

impl ModelSpec {
    /// Reads and validates `<dir>/model.json`.
    pub fn load(dir: &Path) -> Result<ModelSpec, ModelError> {
        let path = dir.join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let spec: ModelSpec = serde_json::from_str(&text).map_err(|e| ModelError::Manifest {
            path: path.clone(),
            message: crate::strict::explain(&e.to_string()),
        })?;
        spec.validate()
            .map_err(|message| ModelError::Manifest { path, message })?;
        Ok(spec)
    }

    fn validate(&self) -> Result<(), String> {
        if self.format_version != 1 {
            return Err(format!(
                "format_version {} is not supported (this workbench reads version 1); re-export the model or update the workbench",
                self.format_version
            ));
        }
        let im = &self.image;
        if Resize::parse(&im.resize).is_none() {
            let known: Vec<&str> = Resize::ALL.iter().map(|r| r.name()).collect();
            return Err(format!(
                "image.resize {:?} is not supported; the contract defines {known:?}",
                im.resize
            ));
        }
        if im.channels != 1 && im.channels != 3 {
            return Err(format!(
                "image.channels must be 1 or 3, got {}",
                im.channels
            ));
        }
        if im.mean.len() != im.channels || im.std.len() != im.channels {
            return Err(format!(
                "image.mean/std need {} values each, got {} / {}",
                im.channels,
                im.mean.len(),
                im.std.len()
            ));
        }
        if im.std.iter().any(|s| !s.is_finite() || *s == 0.0)
            || im.mean.iter().any(|m| !m.is_finite())
        {
            return Err("image.mean/std must be finite and std non-zero".into());
        }
        if im.size == 0 || self.text.context_length == 0 || self.embed_dim == 0 {
            return Err("image.size, text.context_length and embed_dim must be positive".into());
        }
        Ok(())
    }

    pub(crate) fn image_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.image.file)
    }
    pub(crate) fn text_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.text.file)
    }
    pub(crate) fn tokenizer_path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.tokenizer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"format_version": 1, "name": "eclip", "embed_dim": 128,
      "image": {"file": "image.onnx", "input": "pixel_values", "output": "image_embeds", "size": 128,
                "channels": 1, "mean": [0.5], "std": [0.25], "resize": "shortest_edge_bilinear_center_crop"},
      "text": {"file": "text.onnx", "input_ids": "input_ids", "attention_mask": "attention_mask",
               "output": "text_embeds", "context_length": 48, "pad_token_id": 0},
      "tokenizer": "tokenizer.json", "provenance": {"train_fraction": 0.1}}"#;

    fn write(dir: &Path, text: &str) {
        std::fs::write(dir.join("model.json"), text).unwrap();
    }

    #[test]
    fn reads_the_contract_example() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), GOOD);
        let spec = ModelSpec::load(d.path()).unwrap();
        assert_eq!(spec.embed_dim, 128);
    }

    #[test]
    fn refuses_unknown_version_resize_and_bad_mean() {
        let d = tempfile::tempdir().unwrap();
        for (bad, needle) in [
            (
                GOOD.replace("\"format_version\": 1", "\"format_version\": 2"),
                "format_version 2",
            ),
            (
                GOOD.replace("shortest_edge_bilinear_center_crop", "squash"),
                "squash",
            ),
            (
                GOOD.replace("\"mean\": [0.5]", "\"mean\": [0.5, 0.5]"),
                "mean/std",
            ),
        ] {
            write(d.path(), &bad);
            let err = ModelSpec::load(d.path()).unwrap_err().to_string();
            assert!(err.contains(needle) && err.contains("model.json"), "{err}");
        }
    }
}
