#!/usr/bin/env bash
# The CUDA run of issue 4, for a GPU machine (setup as in ../shared/docs/gpu.md): embeds the config's
# datasets with --device cuda, then with --device cpu, without the cache, and prints both summaries
# (provider actually used, images/s, texts/s, share of wall time in ONNX Runtime).
#
#   ./scripts/install-onnxruntime.sh --gpu      # once, where PyPI is reachable
#   ./scripts/gpu-check.sh [--config FILE]      # any further arguments go to eclip
#
# Needs CUDA 13 + cuDNN 9 libraries; if LD_LIBRARY_PATH does not already provide libcublas.so.13,
# the folders of pip-installed nvidia-* wheels (PyTorch's) are searched and added.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ldconfig -p 2>/dev/null | grep -q libcublas.so.13 && ! printf '%s' "${LD_LIBRARY_PATH:-}" | grep -q cu13; then
  extra=$(find / \( -name 'libcublas.so.13' -o -name 'libcudnn.so.9' \) -printf '%h\n' 2>/dev/null | sort -u | paste -sd: - || true)
  if [ -n "$extra" ]; then
    export LD_LIBRARY_PATH="$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "gpu-check: added CUDA libraries from $extra"
  fi
fi
bin=${ECLIP_BIN:-${CARGO_TARGET_DIR:-target}/release/eclip}
[ -x "$bin" ] || cargo build --release --quiet
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
for device in cuda cpu; do
  echo "== --device $device"
  time "$bin" --device "$device" --no-cache --quiet "$@" summary || echo "(--device $device failed: exit $?)"
done
