/*!
The embedding pipeline: every row of a dataset (image and report) and every zero-shot prompt through
one model, with the cache in front.

Flow for one model and one dataset ([`embed_dataset`]):

1. read the cached namespace;
2. a producer thread takes the next batch of image files and, in parallel (rayon), reads each file
   once, hashes its bytes (the content key of the cache; under `--no-cache` nothing is hashed and the
   path is the key) and, on a miss, decodes and preprocesses the same bytes straight into the batch
   buffer, while the calling thread runs ONNX Runtime on the previous batch; a bounded crossbeam
   channel (2 batches) keeps memory flat. Each finished batch is written to the cache at once, so a
   killed run resumes. With a [`Shard`], files whose content hash belongs to another shard are
   skipped (not decoded) and their rows left out of the result;
4. texts (reports and prompts) go the same way, tokenised in the producer;
5. the results are assembled into [`ModelEmbeddings`]: all manifest splits and the prompts.

An image that cannot be read or decoded skips its row (listed in [`EmbedStats::skipped`]); a model
that fails (bad output shape, NaN) stops this model with an [`EmbedError`]. Cancelling (the
[`AtomicBool`] in [`EmbedOptions`]) stops between batches; what was finished stays cached.
*/
pub mod export;
pub mod progress;
pub mod shard;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ndarray::Array2;
use rayon::prelude::*;

use crate::cache::{CacheError, CacheProblem, EmbeddingCache, Entries, Key, Namespace, sha256};
use crate::data::{Dataset, SkippedRow};
use crate::eval::{ClassPromptEmbeddings, ModelEmbeddings, SplitEmbeddings};
use crate::model::{ImageError, Model, ModelError};

pub use progress::{NoProgress, Progress, Stage};
pub use shard::Shard;

/// Batches in flight between the preprocessing producer and ONNX Runtime.
const QUEUE_DEPTH: usize = 2;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("model {model}, dataset {dataset}: tokenizer failed: {message}")]
    Tokenize {
        model: String,
        dataset: String,
        message: String,
    },
    #[error("cancelled; finished batches are cached and the next run resumes from them")]
    Cancelled,
}

/// How to run: batch size, cancellation, progress display, and an optional shard.
#[derive(Clone)]
pub struct EmbedOptions {
    pub batch_size: usize,
    pub cancel: Arc<AtomicBool>,
    pub progress: Arc<dyn Progress>,
    /// Embed only the images (and their reports) whose content hash falls in this shard.
    pub shard: Option<Shard>,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            batch_size: crate::config::DEFAULT_BATCH,
            cancel: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(NoProgress),
            shard: None,
        }
    }
}

/// What one run did, for the summary and the throughput figures.
#[derive(Debug, Clone, Default)]
pub struct EmbedStats {
    pub images_total: usize,
    pub images_computed: usize,
    pub texts_total: usize,
    pub texts_computed: usize,
    /// Time spent inside ONNX Runtime `run` calls.
    pub image_ort: Duration,
    pub text_ort: Duration,
    /// Wall time of the image / text phases (hashing, cache, decoding and inference together).
    pub image_wall: Duration,
    pub text_wall: Duration,
    /// Rows left out because their image could not be read or decoded.
    pub skipped: Vec<SkippedRow>,
    pub cache_problems: Vec<CacheProblem>,
}

/// Embeds `dataset` with `model`; see the module docs.
pub fn embed_dataset(
    model: &Model,
    dataset: &Dataset,
    cache: &EmbeddingCache,
    opts: &EmbedOptions,
) -> Result<(ModelEmbeddings, EmbedStats), EmbedError> {
    let mut stats = EmbedStats::default();
    let batch = opts.batch_size.max(1);
    let dim = model.spec.embed_dim;

    // ---- images: each file is read once; its bytes are hashed (the cache key) and, on a miss,
    // decoded from the same buffer.
    let t0 = Instant::now();
    let image_ns = cache.namespace(&image_namespace(model), dim);
    let (mut image_entries, problems) = image_ns.load();
    stats.cache_problems.extend(problems);
    let mut seen = std::collections::HashSet::new();
    let paths: Vec<PathBuf> = dataset
        .rows
        .iter()
        .filter(|r| seen.insert(r.image.clone()))
        .map(|r| r.image.clone())
        .collect();
    stats.images_total = dataset.rows.len();
    let mut keys: HashMap<PathBuf, ImageKey> = HashMap::new();
    let mut failed: HashMap<PathBuf, String> = HashMap::new();
    opts.progress
        .start(Stage::Images, &model.name, &dataset.name, paths.len());
    let image_run = run_images(
        model,
        &image_ns,
        &paths,
        KeyRule {
            content: cache.root().is_some() || opts.shard.is_some(),
            shard: opts.shard,
        },
        batch,
        opts,
        &mut image_entries,
        &mut keys,
        &mut failed,
        &mut stats,
    );
    opts.progress.finish();
    image_run?;
    stats.image_wall = t0.elapsed();
    // Rows of this run: all, or those of this shard.
    let in_run =
        |row: &crate::data::Row| !matches!(keys.get(&row.image), Some(ImageKey::OtherShard));

    // ---- texts
    let t1 = Instant::now();
    let mut texts: Vec<&str> = dataset
        .rows
        .iter()
        .filter(|r| in_run(r))
        .map(|r| r.report.as_str())
        .collect();
    for c in &dataset.prompts {
        texts.extend(c.positive.iter().map(String::as_str));
        texts.extend(c.negative.iter().map(String::as_str));
    }
    let text_ns = cache.namespace(&text_namespace(model), dim);
    let (mut text_entries, problems) = text_ns.load();
    stats.cache_problems.extend(problems);
    let mut seen = std::collections::HashSet::new();
    let todo_texts: Vec<(Key, &str)> = texts
        .iter()
        .map(|t| (sha256(t.as_bytes()), *t))
        .filter(|(k, _)| !text_entries.contains_key(k) && seen.insert(*k))
        .collect();
    stats.texts_total = texts.len();
    opts.progress
        .start(Stage::Texts, &model.name, &dataset.name, todo_texts.len());
    let text_run = run_texts(
        model,
        &dataset.name,
        &text_ns,
        &todo_texts,
        batch,
        opts,
        &mut text_entries,
        &mut stats,
    );
    opts.progress.finish();
    text_run?;
    stats.text_wall = t1.elapsed();

    let embeddings = assemble(
        model,
        dataset,
        &Found {
            keys: &keys,
            images: &image_entries,
            failed: &failed,
            texts: &text_entries,
        },
        &mut stats.skipped,
    );
    Ok((embeddings, stats))
}

/// What the image and text stages produced, looked up by [`assemble`].
struct Found<'a> {
    keys: &'a HashMap<PathBuf, ImageKey>,
    images: &'a Entries,
    failed: &'a HashMap<PathBuf, String>,
    texts: &'a Entries,
}

/// The embeddings of every split (rows in manifest order, without the rows whose image failed or
/// belongs to another shard; those that failed are added to `skipped`) and of the prompts.
fn assemble(
    model: &Model,
    dataset: &Dataset,
    found: &Found,
    skipped: &mut Vec<SkippedRow>,
) -> ModelEmbeddings {
    let dim = model.spec.embed_dim;
    let (keys, image_entries, failed, text_entries) =
        (found.keys, found.images, found.failed, found.texts);
    let mut image_of_row: Vec<Option<&Vec<f32>>> = Vec::with_capacity(dataset.rows.len());
    for row in &dataset.rows {
        let reason = match keys.get(&row.image) {
            None => Some("image was not embedded".to_string()),
            Some(ImageKey::OtherShard) => {
                image_of_row.push(None);
                continue;
            }
            Some(ImageKey::Unreadable(e)) => Some(e.clone()),
            Some(ImageKey::Key(k)) => match image_entries.get(k) {
                Some(v) => {
                    image_of_row.push(Some(v));
                    continue;
                }
                None => Some(
                    failed
                        .get(&row.image)
                        .cloned()
                        .unwrap_or_else(|| "image was not embedded".into()),
                ),
            },
        };
        image_of_row.push(None);
        if let Some(reason) = reason {
            skipped.push(SkippedRow {
                line: row.line,
                reason: format!("{}:{}: {reason}", dataset.manifest.display(), row.line),
            });
        }
    }
    let text_vec = |t: &str| text_entries.get(&sha256(t.as_bytes()));
    let mut splits = BTreeMap::new();
    for split in dataset.split_names() {
        let rows: Vec<usize> = dataset
            .split_rows(&split)
            .into_iter()
            .filter(|&i| image_of_row[i].is_some())
            .collect();
        let mut image = Array2::zeros((rows.len(), dim));
        let mut text = Array2::zeros((rows.len(), dim));
        for (j, &i) in rows.iter().enumerate() {
            if let (Some(iv), Some(tv)) = (image_of_row[i], text_vec(&dataset.rows[i].report)) {
                image
                    .row_mut(j)
                    .assign(&ndarray::ArrayView1::from(iv.as_slice()));
                text.row_mut(j)
                    .assign(&ndarray::ArrayView1::from(tv.as_slice()));
            }
        }
        splits.insert(split, SplitEmbeddings { rows, image, text });
    }
    let stack = |prompts: &[String]| -> Array2<f32> {
        let mut a = Array2::zeros((prompts.len(), dim));
        for (j, p) in prompts.iter().enumerate() {
            if let Some(v) = text_vec(p) {
                a.row_mut(j)
                    .assign(&ndarray::ArrayView1::from(v.as_slice()));
            }
        }
        a
    };
    let prompts = dataset
        .prompts
        .iter()
        .map(|c| ClassPromptEmbeddings {
            name: c.name.clone(),
            positive: stack(&c.positive),
            negative: stack(&c.negative),
        })
        .collect();
    ModelEmbeddings {
        model: model.name.clone(),
        splits,
        prompts,
        logit_scale: model.spec.logit_scale,
    }
}

/// Everything besides the image bytes that determines an image embedding.
pub fn image_namespace(model: &Model) -> String {
    format!(
        "image;{};{};dim={}",
        model.hashes.image_onnx,
        model.preprocessor.cache_tag(),
        model.spec.embed_dim
    )
}

/// Everything besides the text that determines a text embedding.
pub fn text_namespace(model: &Model) -> String {
    format!(
        "text;{};{};{};dim={}",
        model.hashes.text_onnx,
        model.hashes.tokenizer,
        model.tokenizer.cache_tag(),
        model.spec.embed_dim
    )
}

/// What the image stage learned about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ImageKey {
    /// Its cache key (content hash, or a path key under `--no-cache`).
    Key(Key),
    /// It could not be read (the message names the file).
    Unreadable(String),
    /// Its content hash assigns it to another shard.
    OtherShard,
}

/// How the image stage keys files.
#[derive(Debug, Clone, Copy)]
struct KeyRule {
    /// Hash the file content (cache on or sharding); otherwise key by path and never hash.
    content: bool,
    shard: Option<Shard>,
}

/// The key of a file when content is not hashed (`--no-cache`): its path, domain-separated from
/// content hashes. Two paths with the same bytes are then embedded twice.
fn path_key(path: &std::path::Path) -> Key {
    let mut b = b"eclip-path-key\0".to_vec();
    b.extend_from_slice(path.as_os_str().as_encoded_bytes());
    sha256(&b)
}

/// One file after the producer: its key, and whether its pixels are in the batch.
enum Outcome {
    Pixels(Key),
    Cached(Key),
    Failed(Key, ImageError),
    Unreadable(String),
    OtherShard,
}

/// One preprocessed image batch: the outcome of every file, in order, and the pixels of the
/// `Outcome::Pixels` ones, back to back.
struct ImageBatch {
    outcomes: Vec<(PathBuf, Outcome)>,
    pixels: Vec<f32>,
}

/// The producer/consumer skeleton shared by images and texts: `produce` runs on a scoped thread
/// over `chunk`-sized pieces of `todo` and feeds a bounded channel; `consume` runs here, on the
/// caller's thread. Stops early on a consumer error or on cancellation (checked between batches).
fn pipeline<T: Sync, B: Send>(
    todo: &[T],
    chunk: usize,
    cancel: &AtomicBool,
    produce: impl Fn(&[T]) -> B + Sync,
    mut consume: impl FnMut(B) -> Result<(), EmbedError>,
) -> Result<(), EmbedError> {
    let cancelled = || cancel.load(Ordering::Relaxed);
    std::thread::scope(|scope| {
        let (tx, rx) = crossbeam_channel::bounded::<B>(QUEUE_DEPTH);
        let produce = &produce;
        scope.spawn(move || {
            for piece in todo.chunks(chunk) {
                // A failed send means the consumer stopped (error): nothing more to do.
                if cancelled() || tx.send(produce(piece)).is_err() {
                    break;
                }
            }
        });
        for b in rx {
            consume(b)?;
            if cancelled() {
                break;
            }
        }
        if cancelled() {
            Err(EmbedError::Cancelled)
        } else {
            Ok(())
        }
    })
}

/// Reads, keys and (on a miss) preprocesses one file into `slot`, with this thread's scratch.
fn prepare_image(
    pre: &crate::model::Preprocessor,
    path: &std::path::Path,
    rule: KeyRule,
    cached: &std::collections::HashSet<Key>,
    slot: &mut [f32],
) -> Outcome {
    use crate::model::preprocess::{read_into, with_scratch};
    with_scratch(|s| {
        let mut bytes = std::mem::take(&mut s.bytes);
        let outcome = match read_into(path, &mut bytes) {
            Err(e) => Outcome::Unreadable(e.to_string()),
            Ok(()) => {
                let key = if rule.content {
                    sha256(&bytes)
                } else {
                    path_key(path)
                };
                if rule.shard.is_some_and(|sh| !sh.owns(&key)) {
                    Outcome::OtherShard
                } else if cached.contains(&key) {
                    Outcome::Cached(key)
                } else {
                    match pre.preprocess_into(path, &bytes, s, slot) {
                        Ok(()) => Outcome::Pixels(key),
                        Err(e) => Outcome::Failed(key, e),
                    }
                }
            }
        };
        s.bytes = bytes;
        outcome
    })
}

#[allow(clippy::too_many_arguments)]
fn run_images(
    model: &Model,
    ns: &Namespace,
    paths: &[PathBuf],
    rule: KeyRule,
    batch: usize,
    opts: &EmbedOptions,
    entries: &mut Entries,
    keys: &mut HashMap<PathBuf, ImageKey>,
    failed: &mut HashMap<PathBuf, String>,
    stats: &mut EmbedStats,
) -> Result<(), EmbedError> {
    let pre = &model.preprocessor;
    let len = pre.tensor_len();
    let cached: std::collections::HashSet<Key> = entries.keys().copied().collect();
    let produce = |chunk: &[PathBuf]| {
        let mut pixels = vec![0.0f32; chunk.len() * len];
        let outcomes: Vec<Outcome> = chunk
            .par_iter()
            .zip(pixels.par_chunks_mut(len))
            .map(|(p, slot)| prepare_image(pre, p, rule, &cached, slot))
            .collect();
        // Keep the pixels of computed images only, in order.
        let mut kept = 0;
        for (i, o) in outcomes.iter().enumerate() {
            if matches!(o, Outcome::Pixels(_)) {
                if i != kept {
                    pixels.copy_within(i * len..(i + 1) * len, kept * len);
                }
                kept += 1;
            }
        }
        pixels.truncate(kept * len);
        ImageBatch {
            outcomes: chunk.iter().cloned().zip(outcomes).collect(),
            pixels,
        }
    };
    pipeline(paths, batch, &opts.cancel, produce, |b: ImageBatch| {
        let mut computed = Vec::new();
        let n = b.outcomes.len();
        for (path, o) in b.outcomes {
            let key = match o {
                Outcome::Pixels(k) => {
                    computed.push(k);
                    ImageKey::Key(k)
                }
                Outcome::Cached(k) => ImageKey::Key(k),
                Outcome::Failed(k, e) => {
                    failed.insert(path.clone(), e.to_string());
                    ImageKey::Key(k)
                }
                Outcome::Unreadable(e) => ImageKey::Unreadable(e),
                Outcome::OtherShard => ImageKey::OtherShard,
            };
            keys.insert(path, key);
        }
        if !computed.is_empty() {
            let t = Instant::now();
            let emb = model.run_image(&b.pixels, computed.len())?;
            stats.image_ort += t.elapsed();
            store(ns, entries, &computed, &emb)?;
            stats.images_computed += computed.len();
        }
        opts.progress.advance(n);
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn run_texts(
    model: &Model,
    dataset: &str,
    ns: &Namespace,
    todo: &[(Key, &str)],
    batch: usize,
    opts: &EmbedOptions,
    entries: &mut Entries,
    stats: &mut EmbedStats,
) -> Result<(), EmbedError> {
    let produce = |chunk: &[(Key, &str)]| {
        let texts: Vec<&str> = chunk.iter().map(|(_, t)| *t).collect();
        let keys: Vec<Key> = chunk.iter().map(|(k, _)| *k).collect();
        (keys, model.tokenizer.encode(&texts))
    };
    pipeline(todo, batch, &opts.cancel, produce, |(keys, tokens)| {
        let tokens = tokens.map_err(|message| EmbedError::Tokenize {
            model: model.name.clone(),
            dataset: dataset.to_string(),
            message,
        })?;
        let t = Instant::now();
        let emb = model.run_text(&tokens)?;
        stats.text_ort += t.elapsed();
        store(ns, entries, &keys, &emb)?;
        stats.texts_computed += keys.len();
        opts.progress.advance(keys.len());
        Ok(())
    })
}

fn store(
    ns: &Namespace,
    entries: &mut Entries,
    keys: &[Key],
    emb: &Array2<f32>,
) -> Result<(), EmbedError> {
    let flat: Vec<f32> = emb.iter().copied().collect();
    ns.write_chunk(keys, &flat)?;
    for (k, row) in keys.iter().zip(emb.rows()) {
        entries.insert(*k, row.to_vec());
    }
    Ok(())
}
