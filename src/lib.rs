/*!
eclip-workbench: compare CLIP-style image–report embedding models on chest X-ray data.

The crate is layered the way data flows (see `docs/architecture.md`):
`runtime` (ONNX Runtime) → `model` (graphs + tokenizer + preprocessing) → `data` (datasets) →
`embed` (pipelined, cached embedding) → `eval` (pure metrics) → `report` / `tui` / `rag`.
`config` reads `workbench.toml`; `workbench` ties config, runtime, models and datasets together and
is the entry point the binary, the report and the TUI use.
*/
pub mod cache;
pub mod config;
pub mod data;
pub mod embed;
pub mod eval;
pub mod headless;
pub mod items;
pub mod model;
pub mod rag;
pub mod report;
pub mod runtime;
pub mod saliency;
pub mod tui;
pub mod workbench;
