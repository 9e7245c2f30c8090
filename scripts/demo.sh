#!/usr/bin/env bash
# README command 1: run the workbench on the bundled fixtures on a fresh machine.
# Installs the pinned ONNX Runtime library (hash-checked, from PyPI) if needed, builds the release
# binary, and starts `eclip` on fixtures/workbench.toml (the terminal UI on a terminal, the text
# summary otherwise). Extra arguments go to eclip, e.g. `./scripts/demo.sh --device cpu summary`.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "error: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }
./scripts/install-onnxruntime.sh
cargo build --release --quiet
exec "${CARGO_TARGET_DIR:-target}/release/eclip" --config fixtures/workbench.toml "$@"
