/*!
Tokenisation (docs/formats.md §2.2): a Hugging Face `tokenizer.json`, encoded with special tokens,
truncated to the context length and padded with `pad_token_id` to exactly the context length.

The contract's padding/truncation replace whatever the file itself configures, as the Python side
(`eclip_model.tokenizer.encode`) does, so both produce the same ids.
*/
use std::path::Path;

use tokenizers::{PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::ModelError;

/// Token ids and attention mask of `n` texts, row-major `n × context_length`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub(crate) n: usize,
    pub(crate) context_length: usize,
    pub ids: Vec<i64>,
    pub(crate) mask: Vec<i64>,
}

/// A tokenizer configured for one model.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    /// Rows are exactly this long ([`TextTokenizer::load`]), or at most this long, padded to the
    /// batch's longest text ([`TextTokenizer::load_longest`], for a text encoder).
    pub(crate) context_length: usize,
    pub(crate) pad_id: u32,
    pad_to_longest: bool,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("context_length", &self.context_length)
            .field("pad_id", &self.pad_id)
            .finish_non_exhaustive()
    }
}

impl TextTokenizer {
    pub(crate) fn load(
        path: &Path,
        context_length: usize,
        pad_id: u32,
    ) -> Result<TextTokenizer, ModelError> {
        Self::open(path, context_length, pad_id, false)
    }

    /// Like [`TextTokenizer::load`], but each batch is padded only to its longest text (truncated to
    /// `max_length` tokens, special tokens included), as `transformers` tokenizers do with
    /// `padding=True, truncation=True`: the text encoders of `[rag] text_encoder` take any length.
    pub(crate) fn load_longest(
        path: &Path,
        max_length: usize,
        pad_id: u32,
    ) -> Result<TextTokenizer, ModelError> {
        Self::open(path, max_length, pad_id, true)
    }

    fn open(
        path: &Path,
        context_length: usize,
        pad_id: u32,
        pad_to_longest: bool,
    ) -> Result<TextTokenizer, ModelError> {
        let err = |message: String| ModelError::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        let mut inner = Tokenizer::from_file(path).map_err(|e| err(e.to_string()))?;
        let pad_token = inner
            .id_to_token(pad_id)
            .unwrap_or_else(|| "[PAD]".to_string());
        inner
            .with_truncation(Some(TruncationParams {
                max_length: context_length,
                ..Default::default()
            }))
            .map_err(|e| err(e.to_string()))?;
        inner.with_padding(Some(PaddingParams {
            strategy: if pad_to_longest {
                PaddingStrategy::BatchLongest
            } else {
                PaddingStrategy::Fixed(context_length)
            },
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id,
            pad_type_id: 0,
            pad_token,
        }));
        Ok(TextTokenizer {
            inner,
            context_length,
            pad_id,
            pad_to_longest,
        })
    }

    /// Encodes a batch (rows of [`Tokens::context_length`] ids: the fixed length, or the batch's
    /// longest text with [`TextTokenizer::load_longest`]); the error string names the tokenizer failure (the caller adds the file).
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Tokens, String> {
        let inputs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let encodings = self
            .inner
            .encode_batch(inputs, true)
            .map_err(|e| e.to_string())?;
        let l = if self.pad_to_longest {
            let longest = encodings.iter().map(|e| e.get_ids().len()).max();
            longest.unwrap_or(0).min(self.context_length)
        } else {
            self.context_length
        };
        let mut ids = vec![i64::from(self.pad_id); texts.len() * l];
        let mut mask = vec![0i64; texts.len() * l];
        for (i, enc) in encodings.iter().enumerate() {
            // Fixed padding already gives length l; guard anyway so a tokenizer.json that pads
            // differently cannot write outside the row.
            for (j, (&id, &m)) in enc
                .get_ids()
                .iter()
                .zip(enc.get_attention_mask())
                .take(l)
                .enumerate()
            {
                if m == 1 {
                    ids[i * l + j] = i64::from(id);
                    mask[i * l + j] = 1;
                }
            }
        }
        Ok(Tokens {
            n: texts.len(),
            context_length: l,
            ids,
            mask,
        })
    }

    /// Settings that go into text cache keys.
    pub(crate) fn cache_tag(&self) -> String {
        format!("tok-v1;ctx={};pad={}", self.context_length, self.pad_id)
    }
}
