/*!
The RAG task as a step of a workbench run, shared by the headless report and the TUI: the `[rag]`
section read and made concrete (paths resolved against the config file, unset `seed`/`bootstrap`
taken from `[eval]`), an external corpus CSV embedded with each model's text encoder, the run
itself, and the [`RagRecord`] of the settings that the report's record and review state.

It owns only this wiring; retrieval, generation and scoring are [`crate::rag::run_with_corpus`]'s.
*/
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::data::Dataset;
use crate::eval::ModelEmbeddings;
use crate::eval::config::EvalConfig;
use crate::eval::summary::{EvalSummary, LlmRecord, RagRecord, TextEncoderRecord};
use crate::model::TextEncoder;
use crate::rag::{
    self, ExternalCorpus, RagConfig, RagError, RagProgress, RagSummary, TextEncoding, TokenStates,
    load_corpus_csv,
};
use crate::workbench::Workbench;

/// Definitions of the RAG rows, stated in every report that has them.
pub fn definitions() -> Vec<(String, String)> {
    [(
        "rag",
        "test-split images retrieve the top k*m unique train-split reports by cosine, KMeans (k clusters) on their text embeddings keeps the report nearest each centroid (k snippets); setting = generator: top1 = best-ranked report, centroid = snippet nearest the snippets' mean, llm:<model> = frozen LLM prompted with the snippets; bleu2/bleu4 = corpus BLEU as sacrebleu (13a, exp smoothing, 0-1 scale), sentence_bleu2 = mean over reports of NLTK sentence_bleu with weights (0.5, 0.5), no smoothing, on NLTK wordpunct_tokenize tokens (case kept; the eCLIP paper's BLEU-2 uses word_tokenize, which splits a few contractions and quotes differently), meteor = mean over reports of NLTK single_meteor_score (alpha 0.9, beta 3, gamma 0.5, lower-cased wordpunct tokens, exact + Porter-stem matches, no WordNet synonyms: no package here ships WordNet, so scores can be lower than NLTK's with WordNet), rougeL = mean ROUGE-L F (rouge-score, no stemming), label_f1_micro/macro = F1 of a negation-aware rule labeler's findings on generated vs reference report, over the dataset labels it has rules for (dataset.toml [labeler]; the others are not scored); 95% percentile bootstrap over queries, paired B - A deltas on the same resampled queries; n = scored queries (failed LLM items left out)",
    )]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The definition of the rows a `[rag] text_encoder` adds, stated when it is set.
const TEXT_ENCODER_DEFINITION: &str = "[rag] text_encoder (a local encoder, its hidden states of one layer): bertscore_p/r/f1 = mean over reports of BERTScore as bert_score computes it with idf=False, rescale_with_baseline=False (L2-normalised token states, each token's best cosine over all tokens of the other report, [CLS]/[SEP] included as match targets but given weight 0, padding excluded; F1 = 2PR/(P+R); an empty report scores 0), embedding_cosine = mean over reports of the cosine of the encoder's pooled (mean or cls, text_encoder.json) embeddings of generated and reference report; with cluster_with = \"text_encoder\" the KMeans runs on the pooled embeddings (not normalised) instead of the model's text embeddings";

/// The RAG task's view of a text encoder (`rag` takes token states, not ONNX sessions).
impl TextEncoding for TextEncoder {
    fn encode(&self, texts: &[&str]) -> Result<Vec<TokenStates>, String> {
        let encoded = TextEncoder::encode(self, texts).map_err(|e| super::error_chain(&e))?;
        Ok(encoded
            .into_iter()
            .map(|e| TokenStates {
                tokens: e.tokens,
                special: e.special,
                pooled: e.pooled,
            })
            .collect())
    }
}

/// The record of a loaded text encoder.
fn encoder_record(enc: &TextEncoder) -> TextEncoderRecord {
    TextEncoderRecord {
        path: enc.dir.clone(),
        name: enc.spec.name.clone(),
        layer: enc.spec.layer,
        num_layers: enc.spec.num_layers,
        pooling: enc.spec.pooling.name().to_owned(),
        max_length: enc.spec.max_length,
        graph_sha256: enc.sha256.0.clone(),
        tokenizer_sha256: enc.sha256.1.clone(),
    }
}

/// Start-up problems of `[rag] text_encoder` (its folder and `text_encoder.json`), in words.
pub fn text_encoder_problems(cfg: &RagConfig) -> Vec<String> {
    let Some(dir) = &cfg.text_encoder else {
        return Vec::new();
    };
    match crate::model::TextEncoderSpec::load(dir) {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!(
            "[rag] text_encoder = {:?}: {} (a folder written by eclip-export text-encoder, docs/formats.md §2.3)",
            dir.display().to_string(),
            super::error_chain(&e)
        )],
    }
}

/// `[rag]` of `config` with paths made absolute against the config file's folder and
/// `seed` / `bootstrap` taken from `eval` where the section does not set them.
pub fn config(config: &Config, eval: &EvalConfig) -> Result<RagConfig, crate::config::ConfigError> {
    let raw = &config.rag;
    let mut cfg: RagConfig = config.section("rag", raw)?;
    let base = config.path.parent().unwrap_or(Path::new("."));
    resolve(&mut cfg, raw, base, eval);
    Ok(cfg)
}

/// Resolve `cfg`'s relative paths against `base` and inherit unset `seed` / `bootstrap` from
/// `eval` (`raw` is the section as written, to tell unset from default).
pub fn resolve(cfg: &mut RagConfig, raw: &toml::Table, base: &Path, eval: &EvalConfig) {
    let abs = |p: &mut Option<PathBuf>| {
        if let Some(x) = p.as_mut() {
            *x = base.join(&*x);
        }
    };
    abs(&mut cfg.export_dir);
    abs(&mut cfg.corpus_csv);
    abs(&mut cfg.text_encoder);
    abs(&mut cfg.llm.template);
    abs(&mut cfg.llm.cache_dir);
    if !raw.contains_key("seed") {
        cfg.seed = eval.seed;
    }
    if !raw.contains_key("bootstrap") {
        cfg.bootstrap = eval.bootstrap;
    }
    cfg.compare = eval.compare.clone();
}

/// The record of `cfg` as run on `dataset`.
pub fn record(cfg: &RagConfig, dataset: &Dataset) -> Result<RagRecord, RagError> {
    let uses_llm = cfg.generators.iter().any(|g| g.trim().starts_with("llm"));
    let (template, sha) = match &cfg.llm.template {
        None => (
            "built-in".to_owned(),
            Some(hex::encode(Sha256::digest(
                rag::prompt::DEFAULT_TEMPLATE.as_bytes(),
            ))),
        ),
        Some(p) => match std::fs::read(p) {
            Ok(bytes) => (
                p.display().to_string(),
                Some(hex::encode(Sha256::digest(&bytes))),
            ),
            // The template only matters to an LLM generator.
            Err(_) if !uses_llm => (p.display().to_string(), None),
            Err(source) => {
                return Err(rag::prompt::TemplateError::Read {
                    path: p.display().to_string(),
                    source,
                }
                .into());
            }
        },
    };
    Ok(RagRecord {
        k: cfg.k,
        m: cfg.m,
        corpus: match &cfg.corpus_csv {
            Some(p) => format!("csv:{}", p.display()),
            None => format!(
                "split:{}",
                cfg.corpus_split.as_deref().unwrap_or(&dataset.splits.train)
            ),
        },
        query_split: cfg
            .query_split
            .clone()
            .unwrap_or_else(|| dataset.splits.test.clone()),
        limit: cfg.limit,
        seed: cfg.seed,
        bootstrap: cfg.bootstrap,
        generators: cfg.generators.clone(),
        prompt_template: template,
        prompt_template_sha256: sha,
        llm: uses_llm.then(|| LlmRecord {
            url: cfg.llm.url.clone(),
            model: cfg.llm.model.clone(),
            temperature: cfg.llm.temperature,
            max_tokens: cfg.llm.max_tokens,
            api_key_env: cfg.llm.api_key_env.clone(),
        }),
        export_dir: cfg.export_dir.clone(),
        failed_llm_items: 0,
        cluster_with: cfg.cluster_with.name().to_owned(),
        text_encoder: None,
    })
}

/// The corpus CSV of `cfg`, embedded by every loaded model among `models`; `None` without one.
pub fn external_corpus(
    wb: &Workbench,
    cfg: &RagConfig,
    models: &[ModelEmbeddings],
) -> Result<Option<ExternalCorpus>, RagError> {
    let Some(path) = &cfg.corpus_csv else {
        return Ok(None);
    };
    let texts = load_corpus_csv(path)?;
    let mut embeddings = Vec::new();
    for m in models {
        let slot = wb.models.iter().find(|s| s.name == m.model);
        let model = slot
            .and_then(|s| s.model.as_ref().ok())
            .ok_or_else(|| RagError::Corpus {
                path: path.display().to_string(),
                reason: format!("model {} is not loaded, cannot embed the corpus", m.model),
            })?;
        let emb = model.encode_texts(&texts).map_err(|e| RagError::Corpus {
            path: path.display().to_string(),
            reason: format!("model {}: embedding the reports failed: {e}", m.model),
        })?;
        embeddings.push((m.model.clone(), emb));
    }
    Ok(Some(ExternalCorpus {
        name: path.display().to_string(),
        texts,
        embeddings,
    }))
}

/// Run the resolved `[rag]` settings `cfg` on `dataset` with `models`' embeddings. `Ok(None)` when
/// no generator is configured (`generators = []` turns the task off).
pub fn run_for(
    wb: &Workbench,
    cfg: &RagConfig,
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<Option<(RagSummary, RagRecord)>, RagError> {
    if cfg.generators.is_empty() {
        return Ok(None);
    }
    let mut record = record(cfg, dataset)?;
    let encoder = match &cfg.text_encoder {
        Some(dir) => {
            Some(
                TextEncoder::load(&wb.runtime, dir).map_err(|e| RagError::TextEncoder {
                    reason: format!("{}: {}", dir.display(), super::error_chain(&e)),
                })?,
            )
        }
        None => None,
    };
    record.text_encoder = encoder.as_ref().map(encoder_record);
    let external = external_corpus(wb, cfg, models)?;
    let groups = super::model_groups(&wb.config);
    let summary = rag::run_with(
        dataset,
        models,
        &groups,
        external.as_ref(),
        encoder.as_ref().map(|e| e as &dyn TextEncoding),
        cfg,
        progress,
    )?;
    Ok(Some((summary, record)))
}

/// Add a RAG run to an evaluation: each model's rows after its own, comparison rows after the
/// others, notes prefixed `rag:`, the RAG definition and the settings record.
pub fn merge(summary: &mut EvalSummary, rag: RagSummary, record: RagRecord) {
    super::merge_rows(summary, &rag.rows);
    summary
        .notes
        .extend(rag.notes.into_iter().map(|n| format!("rag: {n}")));
    summary.definitions.extend(definitions());
    if record.text_encoder.is_some() {
        summary
            .definitions
            .push(("rag_text_encoder".into(), TEXT_ENCODER_DEFINITION.into()));
    }
    summary.rag = Some(record);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_config_and_unset_seed_bootstrap_follow_eval() {
        let raw: toml::Table =
            toml::from_str("export_dir = \"out\"\nbootstrap = 7\n[llm]\ntemplate = \"t.txt\"\n")
                .expect("parses");
        let mut cfg: RagConfig = toml::Value::Table(raw.clone())
            .try_into()
            .expect("valid section");
        let eval = EvalConfig {
            seed: 42,
            bootstrap: 99,
            ..EvalConfig::default()
        };
        resolve(&mut cfg, &raw, Path::new("/cfg"), &eval);
        assert_eq!(cfg.export_dir, Some(PathBuf::from("/cfg/out")));
        assert_eq!(cfg.llm.template, Some(PathBuf::from("/cfg/t.txt")));
        assert_eq!(cfg.corpus_csv, None);
        assert_eq!(cfg.seed, 42, "unset seed follows [eval]");
        assert_eq!(cfg.bootstrap, 7, "a set bootstrap is kept");
    }
}
