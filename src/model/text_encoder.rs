/*!
Text encoders for report-level metrics and clustering (`[rag] text_encoder`, docs/formats.md §2.3):
a folder with `text_encoder.json`, an ONNX graph whose output is the token-level hidden states
`[batch, tokens, hidden]` of one layer of a `transformers` encoder (e.g. Bio_ClinicalBERT, exported
by `eclip-export text-encoder`), and its `tokenizer.json`.

[`TextEncoder::encode`] gives, per text, the hidden states of its non-padding tokens (for
BERTScore), which of them are special tokens (`special_token_ids`, weight 0 in BERTScore), and the
pooled sentence embedding named by `pooling` (attention-masked mean, or the first token's state).
Batches are padded to their longest text, truncated to `max_length` tokens. Nothing is normalised
here: the consumers decide (BERTScore and cosine normalise, the eCLIP-style KMeans does not).
*/
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};
use serde::{Deserialize, Serialize};

use super::{ModelError, TextTokenizer, check_outlet, lock, sha256_file};
use crate::runtime::Runtime;

/// The manifest's file name.
pub(crate) const MANIFEST: &str = "text_encoder.json";

/// How token states become one sentence embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Mean over the tokens whose attention mask is 1 (special tokens included), as the eCLIP
    /// authors pool Bio_ClinicalBERT (and sentence-transformers' mean pooling).
    Mean,
    /// The first token's state (`[CLS]`).
    Cls,
}

impl Pooling {
    /// The `text_encoder.json` spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
        }
    }

    /// The pooled embedding of one text's token states (rows = its non-padding tokens); `None`
    /// when there are no tokens.
    pub(crate) fn pool(self, tokens: ArrayView2<f32>) -> Option<Array1<f32>> {
        if tokens.nrows() == 0 {
            return None;
        }
        match self {
            Pooling::Mean => tokens.mean_axis(Axis(0)),
            Pooling::Cls => Some(tokens.row(0).to_owned()),
        }
    }
}

/// `text_encoder.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextEncoderSpec {
    pub(crate) format_version: u32,
    /// What the encoder is (e.g. `Bio_ClinicalBERT`), shown in records and reviews.
    pub(crate) name: String,
    /// The ONNX graph, relative to the folder.
    pub(crate) file: String,
    pub(crate) tokenizer: String,
    pub(crate) input_ids: String,
    pub(crate) attention_mask: String,
    /// Output `[batch, tokens, hidden_size]`: the hidden states of `layer`.
    pub(crate) output: String,
    pub(crate) hidden_size: usize,
    /// Which hidden state the graph outputs: 0 = the embeddings, `num_layers` = the last layer.
    pub layer: usize,
    pub(crate) num_layers: usize,
    pub pooling: Pooling,
    /// Tokens per text at most, special tokens included (longer texts are truncated).
    pub(crate) max_length: usize,
    pub(crate) pad_token_id: u32,
    /// Token ids that get weight 0 in BERTScore (bert_score: the tokenizer's CLS and SEP ids).
    pub(crate) special_token_ids: Vec<u32>,
    #[serde(default)]
    pub(crate) provenance: serde_json::Value,
}

impl TextEncoderSpec {
    /// Reads and checks `<dir>/text_encoder.json` (no ONNX Runtime needed: start-up checks use it).
    pub(crate) fn load(dir: &Path) -> Result<TextEncoderSpec, ModelError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest = |message: String| ModelError::Manifest {
            path: path.clone(),
            message,
        };
        let spec: TextEncoderSpec =
            serde_json::from_str(&text).map_err(|e| manifest(e.to_string()))?;
        if spec.format_version != 1 {
            return Err(manifest(format!(
                "format_version {} is not supported (this workbench reads version 1); re-export with eclip-export text-encoder",
                spec.format_version
            )));
        }
        if spec.hidden_size == 0 || spec.max_length < 2 {
            return Err(manifest(
                "hidden_size must be positive and max_length at least 2".into(),
            ));
        }
        if spec.layer > spec.num_layers {
            return Err(manifest(format!(
                "layer {} is beyond num_layers {}",
                spec.layer, spec.num_layers
            )));
        }
        for f in [&spec.file, &spec.tokenizer] {
            if !dir.join(f).is_file() {
                return Err(ModelError::Io {
                    path: dir.join(f),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("file named in {MANIFEST} is missing"),
                    ),
                });
            }
        }
        Ok(spec)
    }
}

/// One text as the encoder sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedText {
    /// Hidden states of the text's tokens (padding left out), `tokens × hidden_size`.
    pub tokens: Array2<f32>,
    /// Per token: whether its id is one of `special_token_ids`.
    pub special: Vec<bool>,
    /// The sentence embedding by the encoder's pooling (not normalised).
    pub pooled: Array1<f32>,
}

/// A loaded text encoder.
pub struct TextEncoder {
    pub(crate) dir: PathBuf,
    pub spec: TextEncoderSpec,
    pub(crate) tokenizer: TextTokenizer,
    /// SHA-256 of the graph and of the tokenizer file.
    pub sha256: (String, String),
    session: Mutex<Session>,
}

impl std::fmt::Debug for TextEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextEncoder")
            .field("dir", &self.dir)
            .field("name", &self.spec.name)
            .finish_non_exhaustive()
    }
}

impl TextEncoder {
    /// Opens the text encoder folder `dir` and checks its graph against `text_encoder.json`.
    pub fn load(runtime: &Runtime, dir: &Path) -> Result<TextEncoder, ModelError> {
        let spec = TextEncoderSpec::load(dir)?;
        let (graph, tok) = (dir.join(&spec.file), dir.join(&spec.tokenizer));
        let sha256 = (sha256_file(&graph)?, sha256_file(&tok)?);
        let tokenizer = TextTokenizer::load_longest(&tok, spec.max_length, spec.pad_token_id)?;
        let (session, _provider) =
            runtime.session(&graph, &format!("text encoder {}", spec.file))?;
        let graph_err = |m: String| ModelError::Manifest {
            path: graph.clone(),
            message: format!(
                "does not match {MANIFEST}: {m}; re-export the encoder with eclip-export text-encoder"
            ),
        };
        {
            let s = &session;
            let int = TensorElementType::Int64;
            check_outlet(s.inputs(), &spec.input_ids, int, &[-1, -1])
                .map_err(|m| graph_err(format!("input {m}")))?;
            check_outlet(s.inputs(), &spec.attention_mask, int, &[-1, -1])
                .map_err(|m| graph_err(format!("input {m}")))?;
            let hidden = spec.hidden_size as i64;
            check_outlet(
                s.outputs(),
                &spec.output,
                TensorElementType::Float32,
                &[-1, -1, hidden],
            )
            .map_err(|m| graph_err(format!("output {m}")))?;
        }
        Ok(TextEncoder {
            dir: dir.to_path_buf(),
            spec,
            tokenizer,
            sha256,
            session: Mutex::new(session),
        })
    }

    fn err(&self, message: String) -> ModelError {
        ModelError::Run {
            model: format!("text encoder {}", self.dir.display()),
            file: self.spec.file.clone(),
            message,
        }
    }

    /// Encodes `texts` in batches of [`super::TEXT_BATCH`]; one [`EncodedText`] per text, in order.
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<EncodedText>, ModelError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(super::TEXT_BATCH) {
            out.extend(self.encode_batch(chunk)?);
        }
        Ok(out)
    }

    fn encode_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<EncodedText>, ModelError> {
        // bert_score strips each sentence before encoding it.
        let trimmed: Vec<&str> = texts.iter().map(|t| t.as_ref().trim()).collect();
        let tokens = self
            .tokenizer
            .encode(&trimmed)
            .map_err(|message| ModelError::Tokenizer {
                path: self.dir.join(&self.spec.tokenizer),
                message,
            })?;
        let (n, l, h) = (tokens.n, tokens.context_length, self.spec.hidden_size);
        let run_err = |e: ort::Error| self.err(e.to_string());
        let shape = [n, l];
        let ids = TensorRef::from_array_view((shape, tokens.ids.as_slice())).map_err(run_err)?;
        let mask = TensorRef::from_array_view((shape, tokens.mask.as_slice())).map_err(run_err)?;
        let mut session = lock(&self.session);
        let outputs = session
            .run(ort::inputs![
                self.spec.input_ids.as_str() => ids,
                self.spec.attention_mask.as_str() => mask
            ])
            .map_err(run_err)?;
        let (got, data) = outputs[self.spec.output.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(run_err)?;
        if **got != [n as i64, l as i64, h as i64] {
            return Err(ModelError::Output {
                model: format!("text encoder {}", self.dir.display()),
                file: self.spec.file.clone(),
                message: format!(
                    "an output of shape {got:?}, expected [{n}, {l}, {h}] (hidden_size from {MANIFEST})"
                ),
            });
        }
        if data.iter().any(|v| !v.is_finite()) {
            return Err(
                self.err("non-finite hidden states (NaN/inf); re-export the encoder".into())
            );
        }
        let states = ndarray::ArrayView3::from_shape((n, l, h), data)
            .map_err(|e| self.err(e.to_string()))?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let row_mask = &tokens.mask[i * l..(i + 1) * l];
            let len = row_mask.iter().take_while(|&&m| m == 1).count();
            let tok = states.slice(s![i, ..len, ..]).to_owned();
            let special = tokens.ids[i * l..i * l + len]
                .iter()
                .map(|&id| {
                    u32::try_from(id).is_ok_and(|id| self.spec.special_token_ids.contains(&id))
                })
                .collect();
            let pooled = self
                .spec
                .pooling
                .pool(tok.view())
                .ok_or_else(|| self.err(format!("text {i} of the batch has no tokens")))?;
            out.push(EncodedText {
                tokens: tok,
                special,
                pooled,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_averages_every_token_and_cls_takes_the_first() {
        let t = ndarray::array![[1.0f32, 2.0], [3.0, 6.0], [5.0, 1.0]];
        assert_eq!(
            Pooling::Mean.pool(t.view()).unwrap(),
            ndarray::array![3.0, 3.0]
        );
        assert_eq!(
            Pooling::Cls.pool(t.view()).unwrap(),
            ndarray::array![1.0, 2.0]
        );
        assert!(Pooling::Mean.pool(t.slice(s![..0, ..])).is_none());
    }
}
