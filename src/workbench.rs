/*!
The workbench: a config turned into a loaded runtime, models, datasets and cache, and the one call
that embeds everything. The binary, the headless report and the TUI all start here.

Failures are kept per item: a model that does not load (bad export, wrong shapes) or a dataset that
does not parse is recorded in its slot with the message, and the rest goes on. Only a missing ONNX
Runtime, or `--device cuda` without a usable CUDA provider, stops everything.

```no_run
use eclip_workbench::{config::Config, embed::EmbedOptions, workbench::{Workbench, WorkbenchOptions}};
let cfg = Config::discover(None)?;
let wb = Workbench::open(cfg, &WorkbenchOptions::default())?;
for ds in wb.embed_all(&EmbedOptions::default()) {
    for run in &ds.runs {
        if let Ok(emb) = &run.result { println!("{} {}: {} splits", ds.name, emb.embeddings.model, emb.embeddings.splits.len()); }
    }
}
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cache::{CacheError, EmbeddingCache};
use crate::config::Config;
use crate::data::Dataset;
use crate::embed::{EmbedOptions, EmbedStats, embed_dataset};
use crate::eval::ModelEmbeddings;
use crate::model::{Model, ModelError};
use crate::runtime::{Device, Runtime, RuntimeError, RuntimeOptions};

/// Command-line overrides of the config.
#[derive(Debug, Clone, Default)]
pub struct WorkbenchOptions {
    pub device: Option<Device>,
    pub threads: Option<usize>,
    pub ort_dylib: Option<PathBuf>,
    pub batch_size: Option<usize>,
    pub cache_dir: Option<PathBuf>,
    pub no_cache: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkbenchError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The replicates of a `[[models]]` entry do not share one embedding contract.
    #[error("config {path}: {message}")]
    Replicates { path: PathBuf, message: String },
}

/// A configured model and whether it loaded.
#[derive(Debug)]
pub struct ModelSlot {
    pub name: String,
    pub path: PathBuf,
    pub model: Result<Arc<Model>, String>,
}

/// A configured dataset and whether it loaded.
#[derive(Debug)]
pub struct DatasetSlot {
    pub path: PathBuf,
    pub dataset: Result<Arc<Dataset>, String>,
}

/// The embeddings of one model on one dataset and what it took.
#[derive(Debug, Clone)]
pub struct ModelRun {
    pub embeddings: ModelEmbeddings,
    pub stats: EmbedStats,
}

/// Every model's result on one dataset (in config order; failures carry their message).
#[derive(Debug)]
pub struct DatasetEmbeddings {
    pub name: String,
    pub dataset: Arc<Dataset>,
    pub runs: Vec<ModelRunResult>,
}

#[derive(Debug)]
pub struct ModelRunResult {
    pub model: String,
    pub result: Result<ModelRun, String>,
}

impl DatasetEmbeddings {
    /// The embeddings of the models that succeeded, in config order (first = baseline "A").
    pub fn successful(&self) -> Vec<&ModelEmbeddings> {
        self.runs
            .iter()
            .filter_map(|r| r.result.as_ref().ok().map(|m| &m.embeddings))
            .collect()
    }
}

pub struct Workbench {
    pub(crate) config: Config,
    pub runtime: Arc<Runtime>,
    pub models: Vec<ModelSlot>,
    pub datasets: Vec<DatasetSlot>,
    pub cache: EmbeddingCache,
    pub(crate) batch_size: usize,
}

impl Workbench {
    /// Loads the runtime, every model and every dataset of `config`.
    pub fn open(config: Config, opts: &WorkbenchOptions) -> Result<Workbench, WorkbenchError> {
        let rt_opts = RuntimeOptions {
            device: opts.device.unwrap_or(config.runtime.device),
            threads: opts.threads.unwrap_or(config.runtime.threads),
            ort_dylib: opts
                .ort_dylib
                .clone()
                .or_else(|| config.runtime.ort_dylib.clone()),
        };
        crate::limits::set_max_image_pixels(config.runtime.max_image_pixels.map_or(
            crate::limits::DEFAULT_MAX_IMAGE_PIXELS,
            std::num::NonZeroU64::get,
        ));
        let runtime = Arc::new(Runtime::load(rt_opts)?);
        let cache = if opts.no_cache {
            EmbeddingCache::disabled()
        } else {
            // An unusable cache folder is one warning (`cache.warning()`), not the end of the run.
            EmbeddingCache::open_or_warn(opts.cache_dir.as_deref())
        };
        let mut models = Vec::new();
        for m in &config.models {
            let model = match Model::load(&runtime, &m.name, &m.path) {
                Ok(model) => Ok(Arc::new(model)),
                // --device cuda promises CUDA or a loud failure: stop everything.
                Err(ModelError::Runtime(e @ RuntimeError::Cuda { .. })) => return Err(e.into()),
                Err(e) => Err(format!("model {} ({}): {e}", m.name, m.path.display())),
            };
            models.push(ModelSlot {
                name: m.name.clone(),
                path: m.path.clone(),
                model,
            });
        }
        if let Some(message) = replicate_contract_problem(&config, &models) {
            return Err(WorkbenchError::Replicates {
                path: config.path.clone(),
                message,
            });
        }
        let datasets = config
            .datasets
            .iter()
            .map(|d| DatasetSlot {
                path: d.path.clone(),
                dataset: Dataset::load(&d.path)
                    .map(Arc::new)
                    .map_err(|e| e.to_string()),
            })
            .collect();
        let batch_size = opts
            .batch_size
            .unwrap_or_else(|| config.batch_size())
            .max(1);
        Ok(Workbench {
            config,
            runtime,
            models,
            datasets,
            cache,
            batch_size,
        })
    }

    /// Loaded models in config order.
    pub(crate) fn loaded_models(&self) -> Vec<Arc<Model>> {
        self.models
            .iter()
            .filter_map(|s| s.model.as_ref().ok().cloned())
            .collect()
    }

    /// Embeds every loaded dataset with every loaded model (cache first). `opts.batch_size` is
    /// replaced by the workbench's.
    pub fn embed_all(&self, opts: &EmbedOptions) -> Vec<DatasetEmbeddings> {
        let opts = EmbedOptions {
            batch_size: self.batch_size,
            ..opts.clone()
        };
        let mut out = Vec::new();
        for slot in &self.datasets {
            let Ok(ds) = &slot.dataset else { continue };
            let mut runs = Vec::new();
            for m in &self.models {
                let result = match &m.model {
                    Err(e) => Err(e.clone()),
                    Ok(model) => embed_dataset(model, ds, &self.cache, &opts)
                        .map(|(embeddings, stats)| ModelRun { embeddings, stats })
                        .map_err(|e| e.to_string()),
                };
                runs.push(ModelRunResult {
                    model: m.name.clone(),
                    result,
                });
                if opts.cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
            }
            out.push(DatasetEmbeddings {
                name: ds.name.clone(),
                dataset: ds.clone(),
                runs,
            });
        }
        out
    }

    /// The config file this workbench came from.
    pub fn config_path(&self) -> &Path {
        &self.config.path
    }
}

/// The embedding contract replicates of one recipe must share: what the workbench feeds the
/// graphs and gets back (embedding size and normalisation, image size, channels, mean, std,
/// resize rule, text context length and padding id).
fn contract(s: &crate::model::spec::ModelSpec) -> String {
    format!(
        "embed_dim {}, normalized {}, image size {} channels {} mean {:?} std {:?} resize {}, text context_length {} pad_token_id {}",
        s.embed_dim,
        s.normalized,
        s.image.size,
        s.image.channels,
        s.image.mean,
        s.image.std,
        s.image.resize,
        s.text.context_length,
        s.text.pad_token_id
    )
}

/// The first `[[models]]` entry whose loaded replicates differ in their embedding contract, as a
/// message naming the entry and both folders; `None` when every group is consistent (replicates
/// that failed to load are reported in their own slots).
fn replicate_contract_problem(config: &Config, models: &[ModelSlot]) -> Option<String> {
    for g in &config.groups {
        let loaded: Vec<(&ModelSlot, String)> = models
            .iter()
            .filter(|s| g.replicates.contains(&s.name))
            .filter_map(|s| s.model.as_ref().ok().map(|m| (s, contract(&m.spec))))
            .collect();
        let Some((first, want)) = loaded.first() else {
            continue;
        };
        if let Some((other, got)) = loaded.iter().find(|(_, c)| c != want) {
            return Some(format!(
                "[[models]] {:?}: replicates must share one embedding contract, but {} has {got} and {} has {want}; list only seeds of one recipe in `replicates`",
                g.name,
                other.path.display(),
                first.path.display()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    /// The TUI embeds on a background thread and shares models with its prompt box.
    #[test]
    fn workbench_and_models_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Workbench>();
        shareable::<crate::model::Model>();
        shareable::<super::DatasetEmbeddings>();
    }
}
