/*!
eclip-workbench: compare CLIP-style image–report embedding models on chest X-ray data.

The crate is layered the way data flows (see `docs/architecture.md`):
`runtime` (ONNX Runtime) → `model` (graphs + tokenizer + preprocessing) → `data` (datasets) →
`embed` (pipelined, cached embedding) → `eval` (pure metrics) → `report` / `tui` / `rag`.
*/
pub mod data;
pub mod eval;
pub mod tui;
