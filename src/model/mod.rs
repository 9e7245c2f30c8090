/*!
Models: one folder with `model.json`, `image.onnx`, `text.onnx` and `tokenizer.json`
(docs/formats.md §2), opened as two ONNX Runtime sessions plus a tokenizer. [`text_encoder`] opens
the token-level text encoders of `[rag] text_encoder` (§2.3) with the same session, tokenizer and
graph-check code.

[`Model::load`] checks the graphs against the manifest before anything runs (input/output names,
ranks, element types, fixed dimensions), so a wrong export fails with a message naming the model and
the file instead of producing odd numbers later. [`Model`] is `Send + Sync` (sessions sit behind
mutexes): the embedding pipeline and the TUI's live prompt box share one `Arc<Model>`.

Every output goes through [`check_and_normalize`]: the row count and embedding dimension must match,
non-finite values are an error, and rows are L2-normalised whether or not the graph already did it.
*/
pub(crate) mod pillow;
pub mod preprocess;
pub mod spec;
pub(crate) mod text_encoder;
mod tokenize;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ndarray::Array2;
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef, ValueType};
use sha2::{Digest, Sha256};

pub use preprocess::{ImageError, Preprocessor};
pub(crate) use spec::ModelSpec;
pub use text_encoder::{EncodedText, Pooling, TextEncoder, TextEncoderSpec};
pub(crate) use tokenize::{TextTokenizer, Tokens};

use crate::runtime::{ProviderInfo, Runtime, RuntimeError};

/// Texts per ONNX Runtime call in [`Model::encode_texts`].
pub(crate) const TEXT_BATCH: usize = 64;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{path}: cannot load tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error(
        "model {model}: {file} does not match model.json: {message}. Re-export the model or fix model.json"
    )]
    Graph {
        model: String,
        file: String,
        message: String,
    },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("model {model}: running {file} failed: {message}")]
    Run {
        model: String,
        file: String,
        message: String,
    },
    #[error("model {model}: {file} produced {message}")]
    Output {
        model: String,
        file: String,
        message: String,
    },
}

/// SHA-256 of the three files that determine a model's numbers; part of every cache key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelHashes {
    pub image_onnx: String,
    pub text_onnx: String,
    pub tokenizer: String,
}

/// A loaded model.
pub struct Model {
    /// Name from the config (e.g. "CLIP"); `spec.name` is the exporter's name.
    pub name: String,
    pub(crate) dir: PathBuf,
    pub spec: ModelSpec,
    pub preprocessor: Preprocessor,
    pub tokenizer: TextTokenizer,
    pub hashes: ModelHashes,
    pub image_provider: ProviderInfo,
    pub text_provider: ProviderInfo,
    image: Mutex<Session>,
    text: Mutex<Session>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

pub(crate) fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

impl Model {
    /// Opens the model in `dir` under the config name `name`.
    pub fn load(runtime: &Runtime, name: &str, dir: &Path) -> Result<Model, ModelError> {
        let spec = ModelSpec::load(dir)?;
        let (image_path, text_path, tok_path) = (
            spec.image_path(dir),
            spec.text_path(dir),
            spec.tokenizer_path(dir),
        );
        for p in [&image_path, &text_path, &tok_path] {
            if !p.is_file() {
                return Err(ModelError::Io {
                    path: p.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "file named in model.json is missing",
                    ),
                });
            }
        }
        let hashes = ModelHashes {
            image_onnx: sha256_file(&image_path)?,
            text_onnx: sha256_file(&text_path)?,
            tokenizer: sha256_file(&tok_path)?,
        };
        let tokenizer =
            TextTokenizer::load(&tok_path, spec.text.context_length, spec.text.pad_token_id)?;
        let (image, image_provider) =
            runtime.session(&image_path, &format!("{name} {}", spec.image.file))?;
        let (text, text_provider) =
            runtime.session(&text_path, &format!("{name} {}", spec.text.file))?;
        let model = Model {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            preprocessor: Preprocessor::from_spec(&spec.image),
            tokenizer,
            hashes,
            image_provider,
            text_provider,
            spec,
            image: Mutex::new(image),
            text: Mutex::new(text),
        };
        model.validate_graphs()?;
        Ok(model)
    }

    fn graph_err(&self, file: &str, message: String) -> ModelError {
        ModelError::Graph {
            model: self.name.clone(),
            file: file.to_string(),
            message,
        }
    }

    fn validate_graphs(&self) -> Result<(), ModelError> {
        let (im, tx) = (&self.spec.image, &self.spec.text);
        let d = self.spec.embed_dim as i64;
        let size = i64::from(im.size);
        {
            let s = lock(&self.image);
            let check = |names: (&[ort::value::Outlet], &str),
                         want: (&str, TensorElementType, &[i64])| {
                check_outlet(names.0, want.0, want.1, want.2)
                    .map_err(|m| self.graph_err(&im.file, format!("{} {m}", names.1)))
            };
            check(
                (s.inputs(), "input"),
                (
                    &im.input,
                    TensorElementType::Float32,
                    &[-1, im.channels as i64, size, size],
                ),
            )?;
            check(
                (s.outputs(), "output"),
                (&im.output, TensorElementType::Float32, &[-1, d]),
            )?;
        }
        let s = lock(&self.text);
        let ctx = tx.context_length as i64;
        let check = |names: (&[ort::value::Outlet], &str),
                     want: (&str, TensorElementType, &[i64])| {
            check_outlet(names.0, want.0, want.1, want.2)
                .map_err(|m| self.graph_err(&tx.file, format!("{} {m}", names.1)))
        };
        check(
            (s.inputs(), "input"),
            (&tx.input_ids, TensorElementType::Int64, &[-1, ctx]),
        )?;
        check(
            (s.inputs(), "input"),
            (&tx.attention_mask, TensorElementType::Int64, &[-1, ctx]),
        )?;
        check(
            (s.outputs(), "output"),
            (&tx.output, TensorElementType::Float32, &[-1, d]),
        )?;
        Ok(())
    }

    /// Runs the image graph on `n` preprocessed images laid out back to back (`n × C × S × S`).
    pub fn run_image(&self, pixels: &[f32], n: usize) -> Result<Array2<f32>, ModelError> {
        let p = &self.preprocessor;
        let file = &self.spec.image.file;
        let run_err = |e: ort::Error| ModelError::Run {
            model: self.name.clone(),
            file: file.clone(),
            message: e.to_string(),
        };
        if pixels.len() != n * p.tensor_len() {
            return Err(ModelError::Run {
                model: self.name.clone(),
                file: file.clone(),
                message: format!(
                    "batch holds {} values, expected {n} images of {}",
                    pixels.len(),
                    p.tensor_len()
                ),
            });
        }
        let shape = [n, p.channels, p.size as usize, p.size as usize];
        let input = TensorRef::from_array_view((shape, pixels)).map_err(run_err)?;
        let mut session = lock(&self.image);
        let outputs = session
            .run(ort::inputs![self.spec.image.input.as_str() => input])
            .map_err(run_err)?;
        let value = &outputs[self.spec.image.output.as_str()];
        let (shape, data) = value.try_extract_tensor::<f32>().map_err(run_err)?;
        check_and_normalize(&self.name, file, shape, data, n, self.spec.embed_dim)
    }

    /// Runs the text graph on tokenised texts.
    pub(crate) fn run_text(&self, tokens: &Tokens) -> Result<Array2<f32>, ModelError> {
        let tx = &self.spec.text;
        let run_err = |e: ort::Error| ModelError::Run {
            model: self.name.clone(),
            file: tx.file.clone(),
            message: e.to_string(),
        };
        let shape = [tokens.n, tokens.context_length];
        let ids = TensorRef::from_array_view((shape, tokens.ids.as_slice())).map_err(run_err)?;
        let mask = TensorRef::from_array_view((shape, tokens.mask.as_slice())).map_err(run_err)?;
        let mut session = lock(&self.text);
        let outputs = session
            .run(ort::inputs![tx.input_ids.as_str() => ids, tx.attention_mask.as_str() => mask])
            .map_err(run_err)?;
        let (shape, data) = outputs[tx.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(run_err)?;
        check_and_normalize(
            &self.name,
            &tx.file,
            shape,
            data,
            tokens.n,
            self.spec.embed_dim,
        )
    }

    /// Tokenises and embeds texts (batched); L2-normalised `texts.len() × embed_dim`. Thread-safe: the
    /// TUI calls this for live prompts while nothing else holds the text session.
    pub fn encode_texts<S: AsRef<str>>(&self, texts: &[S]) -> Result<Array2<f32>, ModelError> {
        let mut out = Array2::zeros((0, self.spec.embed_dim));
        for chunk in texts.chunks(TEXT_BATCH) {
            let tokens = self
                .tokenizer
                .encode(chunk)
                .map_err(|message| ModelError::Tokenizer {
                    path: self.spec.tokenizer_path(&self.dir),
                    message,
                })?;
            let emb = self.run_text(&tokens)?;
            out.append(ndarray::Axis(0), emb.view())
                .map_err(|e| ModelError::Output {
                    model: self.name.clone(),
                    file: self.spec.text.file.clone(),
                    message: e.to_string(),
                })?;
        }
        Ok(out)
    }

    /// Decodes, preprocesses and embeds image files (no pipelining; for a handful of images).
    pub fn encode_image_files(&self, paths: &[PathBuf]) -> Result<Array2<f32>, EncodeFileError> {
        let mut pixels = Vec::with_capacity(paths.len() * self.preprocessor.tensor_len());
        for p in paths {
            pixels.extend(self.preprocessor.load(p)?);
        }
        Ok(self.run_image(&pixels, paths.len())?)
    }
}

/// [`Model::encode_image_files`] fails on an image or on the model.
#[derive(Debug, thiserror::Error)]
pub enum EncodeFileError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A poisoned lock only means another thread panicked mid-run; the session itself is still usable.
fn lock(m: &Mutex<Session>) -> std::sync::MutexGuard<'_, Session> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Checks that `name` exists among `outlets` as a tensor of element type `ty` whose rank and fixed
/// dimensions agree with `dims` (-1 = dynamic on our side; a dynamic graph dimension matches anything).
fn check_outlet(
    outlets: &[ort::value::Outlet],
    name: &str,
    ty: TensorElementType,
    dims: &[i64],
) -> Result<(), String> {
    let Some(o) = outlets.iter().find(|o| o.name() == name) else {
        let have: Vec<&str> = outlets.iter().map(|o| o.name()).collect();
        return Err(format!("{name:?} not found (graph has {have:?})"));
    };
    let ValueType::Tensor { ty: got, shape, .. } = o.dtype() else {
        return Err(format!("{name:?} is not a tensor"));
    };
    if *got != ty {
        return Err(format!(
            "{name:?} has element type {got:?}, expected {ty:?}"
        ));
    }
    if shape.len() != dims.len() {
        return Err(format!(
            "{name:?} has rank {} ({shape}), expected rank {}",
            shape.len(),
            dims.len()
        ));
    }
    for (i, (g, w)) in shape.iter().zip(dims).enumerate() {
        if *g >= 0 && *w >= 0 && g != w {
            return Err(format!(
                "{name:?} dimension {i} is {g} ({shape}), expected {w}"
            ));
        }
    }
    Ok(())
}

/// Validates a raw `[n, d]` output and L2-normalises its rows.
pub(crate) fn check_and_normalize(
    model: &str,
    file: &str,
    shape: &[i64],
    data: &[f32],
    n: usize,
    embed_dim: usize,
) -> Result<Array2<f32>, ModelError> {
    let err = |message: String| ModelError::Output {
        model: model.to_string(),
        file: file.to_string(),
        message,
    };
    if shape != [n as i64, embed_dim as i64] {
        return Err(err(format!(
            "an output of shape {shape:?}, expected [{n}, {embed_dim}] (embed_dim from model.json); re-export the model so both encoders output embed_dim values"
        )));
    }
    let bad = data.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return Err(err(format!(
            "{bad} non-finite values (NaN/inf) for a batch of {n}; the model is broken, re-export or retrain it"
        )));
    }
    let mut arr =
        Array2::from_shape_vec((n, embed_dim), data.to_vec()).map_err(|e| err(e.to_string()))?;
    for (i, mut row) in arr.rows_mut().into_iter().enumerate() {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(err(format!(
                "a zero-length embedding (row {i} of the batch); cannot normalise it"
            )));
        }
        row.mapv_inplace(|v| v / norm);
    }
    Ok(arr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_rows_and_rejects_bad_outputs() {
        let a = check_and_normalize("m", "f", &[2, 2], &[3.0, 4.0, 0.0, 2.0], 2, 2).unwrap();
        assert!((a[[0, 0]] - 0.6).abs() < 1e-7 && (a[[1, 1]] - 1.0).abs() < 1e-7);
        let e = check_and_normalize("m", "image.onnx", &[1, 3], &[1.0, 2.0, 3.0], 1, 2)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[1, 3]") && e.contains("model m") && e.contains("image.onnx"),
            "{e}"
        );
        let e = check_and_normalize("m", "f", &[1, 2], &[f32::NAN, 1.0], 1, 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("non-finite"), "{e}");
        assert!(check_and_normalize("m", "f", &[1, 2], &[0.0, 0.0], 1, 2).is_err());
    }
}
