#!/usr/bin/env bash
# Build, on this machine, what run_gpu.sh needs from Rust: the release `eclip` and the `ort_throughput`
# example, copied (stripped) into benchmarks/gpu/bin (ignored by git) so they travel to the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release --bin eclip --example ort_throughput
mkdir -p benchmarks/gpu/bin
for f in "$TARGET/release/eclip" "$TARGET/release/examples/ort_throughput"; do
  cp "$f" benchmarks/gpu/bin/ && strip "benchmarks/gpu/bin/$(basename "$f")"
done
ls -la benchmarks/gpu/bin
