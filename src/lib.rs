/*!
eclip-workbench: compare CLIP-style image–report embedding models on chest X-ray data.

The crate is layered the way data flows (rules in `docs/architecture.md`, checked by
`tests/module_rules.rs`): `runtime` (ONNX Runtime) → `model` (graphs, tokenizer, image decoding and
preprocessing) → `data` (datasets) → `embed` (pipelined, cached embedding) → `workbench` (config +
runtime + models + datasets) → `eval` (pure metrics, the metric registry, the suite) and `rag` →
`run` (the application layer: validated settings, suite + RAG per dataset) → the two front ends,
`report` (headless) and `tui`.

The flat API below is what the binary, the examples and the integration tests start from.
*/
#![warn(unreachable_pub)]

pub mod cache;
pub mod config;
pub mod data;
#[allow(unreachable_pub)] // not yet narrowed
pub mod embed;
#[allow(unreachable_pub)] // not yet narrowed
pub mod eval;
pub mod interrupt;
pub mod items;
pub mod limits;
pub mod model;
pub mod output;
pub mod rag;
#[allow(unreachable_pub)] // not yet narrowed
pub mod report;
#[allow(unreachable_pub)] // not yet narrowed
pub mod run;
pub mod runtime;
pub mod saliency;
pub(crate) mod strict;
#[allow(unreachable_pub)] // not yet narrowed
pub mod tui;
pub mod workbench;

pub use cache::EmbeddingCache;
pub use config::{Config, ConfigError};
pub use data::Dataset;
pub use embed::EmbedOptions;
pub use eval::metrics::{Direction, Setting, Task, Verdict};
pub use eval::rows::Comparison;
pub use eval::summary::EvalSummary;
pub use eval::{MetricRow, ModelEmbeddings};
pub use interrupt::{Interrupted, Interrupts};
pub use model::Model;
pub use run::{Settings, SettingsError, evaluate};
pub use runtime::{Device, Runtime, RuntimeOptions};
pub use workbench::{DatasetEmbeddings, Workbench, WorkbenchOptions};
