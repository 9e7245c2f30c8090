/*! The RAG run: corpus and queries from the embeddings, snippets, generators, scoring, export. */
use std::collections::HashMap;
use std::path::PathBuf;

use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use super::config::ClusterWith;
use super::encoder::{self, TextEncoding};
use super::labeler::Labeler;
use super::llm::{LlmClient, Message};
use super::prompt::{FewShot, PromptTemplate};
use super::select::{nearest_to_centroid, rank, select_snippets_on};
use super::{
    ExternalCorpus, ModelRag, RagConfig, RagError, RagItem, RagProgress, RagSummary, export, score,
};
use crate::data::Dataset;
use crate::eval::{ModelEmbeddings, SplitEmbeddings};

/// A report generator.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Generator {
    Top1,
    Centroid,
    Llm { model: String },
}

impl Generator {
    fn parse(name: &str, cfg: &RagConfig) -> Result<Self, RagError> {
        match name.trim() {
            "top1" => Ok(Generator::Top1),
            "centroid" => Ok(Generator::Centroid),
            "llm" => Ok(Generator::Llm {
                model: cfg.llm.model.clone(),
            }),
            other => match other.strip_prefix("llm:") {
                Some(m) if !m.trim().is_empty() => Ok(Generator::Llm {
                    model: m.trim().to_owned(),
                }),
                _ => Err(RagError::UnknownGenerator(name.to_owned())),
            },
        }
    }

    fn setting(&self) -> String {
        match self {
            Generator::Top1 => "top1".into(),
            Generator::Centroid => "centroid".into(),
            Generator::Llm { model } => format!("llm:{model}"),
        }
    }
}

/// Problems of a `[rag]` section that would stop the run, in words (empty when fine): checked at
/// start-up, before any embedding.
pub fn problems(cfg: &RagConfig) -> Vec<String> {
    let mut out: Vec<String> = cfg
        .generators
        .iter()
        .filter_map(|g| Generator::parse(g, cfg).err())
        .map(|e| format!("[rag] generators: {e}"))
        .collect();
    if cfg.cluster_with == ClusterWith::TextEncoder && cfg.text_encoder.is_none() {
        out.push(
            "[rag] cluster_with = \"text_encoder\" needs [rag] text_encoder = \"<folder>\" (a text-encoder folder, docs/formats.md §2.3); or set cluster_with = \"model\"".into(),
        );
    }
    out
}

/// The unique reports of the corpus split with their text embeddings.
struct Corpus {
    texts: Vec<String>,
    emb: Array2<f32>,
    index: HashMap<String, usize>,
}

fn split_of<'a>(
    dataset: &Dataset,
    model: &'a ModelEmbeddings,
    split: &str,
) -> Result<&'a SplitEmbeddings, RagError> {
    let s = model
        .splits
        .get(split)
        .ok_or_else(|| RagError::MissingSplit {
            model: model.model.clone(),
            dataset: dataset.name.clone(),
            split: split.to_owned(),
        })?;
    let shape = |reason: String| RagError::Shape {
        model: model.model.clone(),
        split: split.to_owned(),
        reason,
    };
    if s.image.nrows() != s.rows.len() || s.text.nrows() != s.rows.len() {
        return Err(shape(format!(
            "{} rows, {} image and {} text embeddings",
            s.rows.len(),
            s.image.nrows(),
            s.text.nrows()
        )));
    }
    if let Some(&bad) = s.rows.iter().find(|&&r| r >= dataset.rows.len()) {
        return Err(shape(format!(
            "row index {bad} beyond the {} dataset rows",
            dataset.rows.len()
        )));
    }
    Ok(s)
}

/// Unique non-empty texts with the embedding row of each one's first occurrence.
fn unique_corpus<'a>(texts_in: impl IntoIterator<Item = &'a str>, emb: ArrayView2<f32>) -> Corpus {
    let mut texts = Vec::new();
    let mut keep = Vec::new();
    let mut index = HashMap::new();
    for (pos, text) in texts_in.into_iter().enumerate() {
        let text = text.trim();
        if text.is_empty() || index.contains_key(text) {
            continue;
        }
        index.insert(text.to_owned(), texts.len());
        texts.push(text.to_owned());
        keep.push(pos);
    }
    Corpus {
        texts,
        emb: emb.select(Axis(0), &keep),
        index,
    }
}

fn build_corpus(
    dataset: &Dataset,
    model: &ModelEmbeddings,
    split: &SplitEmbeddings,
    external: Option<&ExternalCorpus>,
) -> Result<Corpus, RagError> {
    let Some(ext) = external else {
        let texts = split.rows.iter().map(|&r| dataset.rows[r].report.as_str());
        return Ok(unique_corpus(texts, split.text.view()));
    };
    let shape = |reason: String| RagError::Shape {
        model: model.model.clone(),
        split: format!("corpus {}", ext.name),
        reason,
    };
    let emb = ext
        .embeddings
        .iter()
        .find(|(m, _)| *m == model.model)
        .map(|(_, e)| e)
        .ok_or_else(|| shape("no text embeddings of the external corpus for this model".into()))?;
    if emb.nrows() != ext.texts.len() || emb.ncols() != split.text.ncols() {
        return Err(shape(format!(
            "{} texts but a {}x{} embedding matrix (model dimension {})",
            ext.texts.len(),
            emb.nrows(),
            emb.ncols(),
            split.text.ncols()
        )));
    }
    Ok(unique_corpus(
        ext.texts.iter().map(String::as_str),
        emb.view(),
    ))
}

/// Run the RAG task for every model on `dataset`, retrieving from the unique reports of the corpus
/// split. Comparison rows are `B - A` for every later model B against the first model A. `progress`
/// is called from worker threads.
pub fn run(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    cfg: &RagConfig,
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<RagSummary, RagError> {
    run_with_corpus(dataset, models, None, cfg, progress)
}

/// Like [`run`], but retrieving from `external` (e.g. the IU X-ray reports of `[rag] corpus_csv`,
/// embedded by each model's text encoder) when given. The few-shot examples still come from the
/// dataset's corpus split (their images are needed).
pub fn run_with_corpus(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    external: Option<&ExternalCorpus>,
    cfg: &RagConfig,
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<RagSummary, RagError> {
    run_with(dataset, models, &[], external, None, cfg, progress)
}

/// Like [`run_with_corpus`], with the separate text encoder of `[rag] text_encoder` when given: the
/// BERTScore and embedding-cosine rows, and the KMeans on its pooled embeddings when
/// `cfg.cluster_with` is `text_encoder` (an error without an encoder); with replicate `groups`
/// ([`crate::eval::groups`]) comparison rows are between groups, with group rows for the groups of
/// several replicates (`&[]`: plain models).
#[expect(
    clippy::too_many_lines,
    reason = "the RAG pipeline in the order a reader follows it (settings, corpus, per model x generator, scoring, export); its steps are already functions"
)]
pub fn run_with(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    groups: &[crate::eval::groups::ModelGroup],
    external: Option<&ExternalCorpus>,
    encoder: Option<&dyn TextEncoding>,
    cfg: &RagConfig,
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<RagSummary, RagError> {
    let cluster_encoder = match (cfg.cluster_with, encoder) {
        (ClusterWith::Model, _) => None,
        (ClusterWith::TextEncoder, Some(e)) => Some(e),
        (ClusterWith::TextEncoder, None) => {
            return Err(RagError::TextEncoder {
                reason: "cluster_with = \"text_encoder\" but no text encoder is set (add [rag] text_encoder = \"<folder>\")".into(),
            });
        }
    };
    let mut pooled_memo = HashMap::new();
    let corpus_split = cfg
        .corpus_split
        .clone()
        .unwrap_or_else(|| dataset.splits.train.clone());
    let query_split = cfg
        .query_split
        .clone()
        .unwrap_or_else(|| dataset.splits.test.clone());
    let generators: Vec<Generator> = cfg
        .generators
        .iter()
        .map(|g| Generator::parse(g, cfg))
        .collect::<Result<_, _>>()?;
    let template = if generators
        .iter()
        .any(|g| matches!(g, Generator::Llm { .. }))
    {
        Some(PromptTemplate::load(cfg.llm.template.as_deref())?)
    } else {
        None
    };
    let few_shot_rows = pick_few_shot_rows(dataset, &corpus_split, cfg.seed);
    let lab = Labeler::from_spec(&dataset.labeler, &dataset.labels).map_err(|source| {
        RagError::Labeler {
            dataset: dataset.name.clone(),
            source,
        }
    })?;
    let mut summary = RagSummary::default();
    let not_scored: Vec<&String> = dataset
        .labels
        .iter()
        .filter(|l| !lab.scores(l, &dataset.labels))
        .collect();
    if !not_scored.is_empty() {
        summary.notes.push(format!(
            "label_f1: not scored (the labeler has no rules for them; see [labeler] in docs/formats.md): {not_scored:?}"
        ));
    }
    for model in models {
        let corpus_emb = split_of(dataset, model, &corpus_split)?;
        let corpus = build_corpus(dataset, model, corpus_emb, external)?;
        if corpus.texts.is_empty() {
            return Err(RagError::Empty {
                dataset: dataset.name.clone(),
                split: external.map_or_else(|| corpus_split.clone(), |e| e.name.clone()),
                role: "retrieval corpus",
            });
        }
        let queries = split_of(dataset, model, &query_split)?;
        let nq = cfg.limit.unwrap_or(usize::MAX).min(queries.rows.len());
        if nq == 0 {
            return Err(RagError::Empty {
                dataset: dataset.name.clone(),
                split: query_split.clone(),
                role: "queries",
            });
        }
        if corpus.texts.len() < cfg.k {
            summary.notes.push(format!(
                "{}: corpus has {} unique reports, fewer than k = {}; using all of them",
                model.model,
                corpus.texts.len(),
                cfg.k
            ));
        }
        let cluster = match cluster_encoder {
            Some(e) => Some(encoder::pooled(e, &corpus.texts, &mut pooled_memo)?),
            None => None,
        };
        let cluster = cluster.as_ref().map_or(corpus.emb.view(), |c| c.view());
        let snippets =
            retrieve_snippets(&model.model, queries, &corpus, cluster, nq, cfg, progress)?;
        for gen_ in &generators {
            let setting = gen_.setting();
            let generated: Vec<Result<String, String>> = match gen_ {
                Generator::Top1 => (0..nq)
                    .map(|q| {
                        Ok(
                            corpus.texts[rank(queries.image.row(q), corpus.emb.view(), None)[0]]
                                .clone(),
                        )
                    })
                    .collect(),
                Generator::Centroid => snippets
                    .iter()
                    .map(|s| {
                        let sub = corpus.emb.select(Axis(0), s);
                        Ok(corpus.texts[s[nearest_to_centroid(sub.view()).unwrap_or(0)]].clone())
                    })
                    .collect(),
                Generator::Llm { model: llm_model } => {
                    let Some(template) = template.as_ref() else {
                        return Err(RagError::UnknownGenerator(setting));
                    };
                    let shots =
                        few_shots(dataset, corpus_emb, &corpus, cluster, &few_shot_rows, cfg)
                            .map_err(|source| RagError::Select {
                                model: model.model.clone(),
                                source,
                            })?;
                    let requests: Vec<Vec<Message>> = snippets
                        .iter()
                        .map(|s| template.messages(&shots, &texts_of(&corpus, s)))
                        .collect();
                    let (answers, note) =
                        llm_generate(&model.model, llm_model, &setting, &requests, cfg, progress);
                    summary.notes.push(note);
                    answers
                }
            };
            let items = rag_items(dataset, &queries.rows, &corpus, &snippets, generated, &lab);
            summary.per_model.push(ModelRag {
                model: model.model.clone(),
                generator: setting,
                items,
            });
        }
    }
    progress(&RagProgress {
        model: String::new(),
        stage: "score".into(),
        done: 0,
        total: 1,
    });
    let encoder_scores = match encoder {
        Some(e) => Some(encoder::item_scores(e, &summary.per_model, progress)?),
        None => None,
    };
    summary.rows = score::rows(
        &dataset.name,
        &dataset.labels,
        &lab,
        &summary.per_model,
        encoder_scores.as_deref(),
        cfg,
        groups,
    );
    if let Some(dir) = &cfg.export_dir {
        let written = export::export_summary(dir, dataset, &summary)?;
        summary.notes.push(format!(
            "wrote {} CXR-Report-Metric CSVs to {}",
            written.len(),
            dir.display()
        ));
    }
    Ok(summary)
}

/// The `k` snippets of each of the first `nq` queries (in parallel, with progress).
fn retrieve_snippets(
    model: &str,
    queries: &SplitEmbeddings,
    corpus: &Corpus,
    cluster: ArrayView2<f32>,
    nq: usize,
    cfg: &RagConfig,
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<Vec<Vec<usize>>, RagError> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    (0..nq)
        .into_par_iter()
        .map(|q| {
            let s = select_snippets_on(
                queries.image.row(q),
                corpus.emb.view(),
                cluster,
                cfg.k,
                cfg.m,
                cfg.seed,
                None,
            );
            let d = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            progress(&RagProgress {
                model: model.to_owned(),
                stage: "retrieve".into(),
                done: d,
                total: nq,
            });
            s
        })
        .collect::<Result<_, _>>()
        .map_err(|source| RagError::Select {
            model: model.to_owned(),
            source,
        })
}

/// One LLM answer (or error) per request through `llm_model`, and the note on cache hits and
/// failures.
fn llm_generate(
    model: &str,
    llm_model: &str,
    setting: &str,
    requests: &[Vec<Message>],
    cfg: &RagConfig,
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> (Vec<Result<String, String>>, String) {
    let mut llm_cfg = cfg.llm.clone();
    llm_cfg.model = llm_model.to_owned();
    let client = LlmClient::new(&llm_cfg, cache_dir(cfg));
    let count = std::sync::atomic::AtomicUsize::new(0);
    let (answers, stats) = client.complete_all(requests, &|_| {
        let d = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        progress(&RagProgress {
            model: model.to_owned(),
            stage: format!("generate:{setting}"),
            done: d,
            total: requests.len(),
        });
    });
    let note = format!(
        "{model} {setting}: {} answers from the cache, {} requests sent, {} failed{}",
        stats.cache_hits,
        stats.sent,
        stats.failed,
        answers
            .iter()
            .find_map(|a| a.as_ref().err())
            .map(|e| format!(" (first error: {e})"))
            .unwrap_or_default()
    );
    let answers = answers
        .into_iter()
        .map(|a| a.map_err(|e| e.to_string()))
        .collect();
    (answers, note)
}

/// The per-query items of one generator: generated report (or error), reference, findings,
/// snippets.
fn rag_items(
    dataset: &Dataset,
    query_rows: &[usize],
    corpus: &Corpus,
    snippets: &[Vec<usize>],
    generated: Vec<Result<String, String>>,
    lab: &Labeler,
) -> Vec<RagItem> {
    generated
        .into_iter()
        .enumerate()
        .map(|(q, g)| {
            let row = query_rows[q];
            let reference = dataset.rows[row].report.clone();
            let (generated, error) = match g {
                Ok(t) => (t, None),
                Err(e) => (String::new(), Some(e)),
            };
            RagItem {
                row,
                snippets: texts_of(corpus, &snippets[q]),
                generated_findings: lab.find(&generated),
                reference_findings: lab.find(&reference),
                generated,
                reference,
                error,
            }
        })
        .collect()
}

fn texts_of(corpus: &Corpus, idx: &[usize]) -> Vec<String> {
    idx.iter().map(|&i| corpus.texts[i].clone()).collect()
}

fn cache_dir(cfg: &RagConfig) -> Option<PathBuf> {
    cfg.llm.cache_dir.clone().or_else(|| {
        directories::ProjectDirs::from("", "", "eclip-workbench").map(|d| d.cache_dir().join("llm"))
    })
}

/// Two fixed corpus-split rows (seeded choice, distinct reports), the same for every model.
fn pick_few_shot_rows(dataset: &Dataset, split: &str, seed: u64) -> Vec<usize> {
    let mut candidates: Vec<usize> = (0..dataset.rows.len())
        .filter(|&r| dataset.rows[r].split == split && !dataset.rows[r].report.trim().is_empty())
        .collect();
    candidates.shuffle(&mut StdRng::seed_from_u64(seed));
    let mut out: Vec<usize> = Vec::new();
    for r in candidates {
        if out
            .iter()
            .all(|&o| dataset.rows[o].report.trim() != dataset.rows[r].report.trim())
        {
            out.push(r);
        }
        if out.len() == 2 {
            break;
        }
    }
    out
}

/// The few-shot examples: each example's snippets (its own report excluded) and its report.
fn few_shots(
    dataset: &Dataset,
    corpus_split: &SplitEmbeddings,
    corpus: &Corpus,
    cluster: ArrayView2<f32>,
    rows: &[usize],
    cfg: &RagConfig,
) -> Result<Vec<FewShot>, super::select::SelectError> {
    let mut out = Vec::new();
    for &r in rows {
        let Some(pos) = corpus_split.rows.iter().position(|&x| x == r) else {
            continue;
        };
        let report = dataset.rows[r].report.trim();
        let own = corpus.index.get(report).copied();
        let emb: ArrayView2<f32> = corpus.emb.view();
        let idx = select_snippets_on(
            corpus_split.image.row(pos),
            emb,
            cluster,
            cfg.k,
            cfg.m,
            cfg.seed,
            own,
        )?;
        out.push(FewShot {
            snippets: texts_of(corpus, &idx),
            report: report.to_owned(),
        });
    }
    Ok(out)
}
