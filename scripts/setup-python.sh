#!/usr/bin/env bash
# Create the Python environment for onnx-export/ (training, export, demo data, parity references):
# .venv at the repository root with `pip install -e onnx-export[import,dev]`.
# Heavy (PyTorch and friends); idempotent: skipped when onnx-export/pyproject.toml has not changed
# since the last successful run. PYTHON=/path/to/python3.11 picks the interpreter (>= 3.10).
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-python3}
if ! command -v "$py" >/dev/null; then
  echo "error: $py not found; install Python >= 3.10 or set PYTHON" >&2
  exit 1
fi
stamp=.venv/.eclip-setup
want=$(cat onnx-export/pyproject.toml onnx-export/constraints.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "python: .venv is up to date"
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "python: creating .venv with $("$py" --version)"
  if ! "$py" -m venv .venv; then
    # Debian/Ubuntu ship venv separately.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && apt-get install -y -qq python3-venv
      rm -rf .venv && "$py" -m venv .venv
    else
      echo "error: '$py -m venv' failed; install the venv module (Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip
echo "python: installing onnx-export[import,dev] (PyTorch included: this takes a while the first time)"
# constraints.txt pins every package to the versions the fixtures and tests were made with.
.venv/bin/python -m pip install --quiet -c onnx-export/constraints.txt -e "onnx-export[import,dev]"
echo "$want" > "$stamp"
echo "python: ready (.venv/bin/python)"
