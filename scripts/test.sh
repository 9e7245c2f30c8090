#!/usr/bin/env bash
# README command 2 and CI (.ci/run): install what the tests need, then run every check.
#   ONNX Runtime library (pinned wheel), the Python venv (onnx-export[import,dev]), tmux (TUI tests);
#   cargo fmt --check, cargo clippy -D warnings, cargo test, ruff check + format --check, pytest.
# The Rust tests read real images from ../shared/data (beside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "ONNX Runtime"
./scripts/install-onnxruntime.sh

step "Python environment"
./scripts/setup-python.sh

if ! command -v tmux >/dev/null; then
  step "tmux (for the terminal UI tests)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq tmux; else sudo apt-get update -qq && sudo apt-get install -y -qq tmux; fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --quiet

step "ruff"
.venv/bin/ruff check onnx-export benchmarks
.venv/bin/ruff format --check onnx-export benchmarks

step "pytest"
.venv/bin/python -m pytest onnx-export/tests

step "all checks passed"
