/*!
The separate text encoder of `[rag] text_encoder`, as the RAG task sees it: a [`TextEncoding`]
(implemented in `run::rag` over `model::TextEncoder`, so this module needs no ONNX Runtime) that
turns texts into token states and pooled embeddings. Used for the eCLIP-style KMeans on the
candidates' pooled embeddings ([`pooled`]) and for the BERTScore / embedding-cosine rows
([`item_scores`]).
*/
use std::collections::HashMap;

use ndarray::{Array1, Array2};

use super::bertscore::{BertScore, bertscore, cosine};
use super::{ModelRag, RagError, RagProgress};

/// One text's states from a text encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenStates {
    /// Hidden states of its tokens (padding left out), `tokens × hidden`.
    pub(crate) tokens: Array2<f32>,
    /// Per token: a special token (`[CLS]`, `[SEP]`), weight 0 in BERTScore.
    pub(crate) special: Vec<bool>,
    /// The encoder's pooled sentence embedding (not normalised).
    pub(crate) pooled: Array1<f32>,
}

/// A text encoder: texts in, one [`TokenStates`] per text out (the error names the encoder).
pub trait TextEncoding: Sync {
    fn encode(&self, texts: &[&str]) -> Result<Vec<TokenStates>, String>;
}

/// Queries scored per encoder call batch in [`item_scores`] (bounds the token states held at once).
const CHUNK: usize = 32;

/// The encoder-based scores of one item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EncoderScores {
    pub(crate) bertscore: BertScore,
    /// Cosine of the pooled embeddings of generated and reference report.
    pub(crate) embedding_cosine: f64,
}

fn encoder_error(reason: String) -> RagError {
    RagError::TextEncoder { reason }
}

/// Pooled embeddings of `texts` (row `i` = `texts[i]`), encoding only the texts not yet in `memo`.
pub(crate) fn pooled(
    encoder: &dyn TextEncoding,
    texts: &[String],
    memo: &mut HashMap<String, Array1<f32>>,
) -> Result<Array2<f32>, RagError> {
    let todo: Vec<&str> = {
        let mut seen = std::collections::HashSet::new();
        texts
            .iter()
            .map(String::as_str)
            .filter(|t| !memo.contains_key(*t) && seen.insert(*t))
            .collect()
    };
    for (text, s) in todo
        .iter()
        .zip(encoder.encode(&todo).map_err(encoder_error)?)
    {
        memo.insert((*text).to_owned(), s.pooled);
    }
    let dim = memo.values().next().map_or(0, |v| v.len());
    let mut out = Array2::zeros((texts.len(), dim));
    for (i, t) in texts.iter().enumerate() {
        let v = memo
            .get(t)
            .ok_or_else(|| encoder_error(format!("no embedding for corpus text {i}")))?;
        if v.len() != dim {
            return Err(encoder_error(format!(
                "pooled embeddings of different sizes ({} and {dim})",
                v.len()
            )));
        }
        out.row_mut(i).assign(v);
    }
    Ok(out)
}

/// BERTScore and embedding cosine of every item of `per_model` without an error (`None` for failed
/// items), aligned with `per_model[m].items`. Queries are taken [`CHUNK`] at a time: each
/// distinct text among their references and generated reports is encoded once per chunk.
pub(crate) fn item_scores(
    encoder: &dyn TextEncoding,
    per_model: &[ModelRag],
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<Vec<Vec<Option<EncoderScores>>>, RagError> {
    let mut out: Vec<Vec<Option<EncoderScores>>> = per_model
        .iter()
        .map(|m| vec![None; m.items.len()])
        .collect();
    let n = per_model.iter().map(|m| m.items.len()).max().unwrap_or(0);
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut texts: Vec<&str> = Vec::new();
        for m in per_model {
            for it in m.items.get(start..end.min(m.items.len())).unwrap_or(&[]) {
                if it.error.is_some() {
                    continue;
                }
                for t in [it.generated.as_str(), it.reference.as_str()] {
                    index.entry(t).or_insert_with(|| {
                        texts.push(t);
                        texts.len() - 1
                    });
                }
            }
        }
        let states = encoder.encode(&texts).map_err(encoder_error)?;
        if states.len() != texts.len() {
            return Err(encoder_error(format!(
                "{} states for {} texts",
                states.len(),
                texts.len()
            )));
        }
        for (m, row) in per_model.iter().zip(out.iter_mut()) {
            for (q, it) in m.items.iter().enumerate().take(end).skip(start) {
                if it.error.is_some() {
                    continue;
                }
                let (g, r) = (
                    &states[index[it.generated.as_str()]],
                    &states[index[it.reference.as_str()]],
                );
                row[q] = Some(EncoderScores {
                    bertscore: bertscore(g.tokens.view(), &g.special, r.tokens.view(), &r.special),
                    embedding_cosine: cosine(g.pooled.view(), r.pooled.view()),
                });
            }
        }
        progress(&RagProgress {
            model: String::new(),
            stage: "text encoder".into(),
            done: end,
            total: n,
        });
        start = end;
    }
    Ok(out)
}
