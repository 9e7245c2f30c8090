#!/usr/bin/env bash
# Regenerate every fixture from scratch: the demo dataset (fixtures/data) and the trained models
# (fixtures/models/<variant>), then evaluate the models with ONNX Runtime (fixtures/models/evaluation.json).
#
#   onnx-export/scripts/build_fixtures.sh                 # data + all variants
#   SKIP_DATA=1 onnx-export/scripts/build_fixtures.sh     # keep fixtures/data, retrain the models
#   VARIANTS="clip eclip" onnx-export/scripts/build_fixtures.sh
#   DATA=/elsewhere/data SKIP_DATA=1 onnx-export/scripts/build_fixtures.sh   # train on another copy
#
# Every variant uses the same config (onnx-export/src/eclip_train/configs/fixture.json: same data,
# seed, steps, batch and learning rate). Training runs one at a time, single-threaded, under `nice`.
# PYTHON defaults to the repository's .venv if there is one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
VARIANTS="${VARIANTS:-clip eclip naive no-mixup no-curriculum random-heatmaps}"
DATA="${DATA:-$ROOT/fixtures/data}"
MODELS="$ROOT/fixtures/models"
WORK="${WORK:-$(mktemp -d)}"
CONFIG="$ROOT/onnx-export/src/eclip_train/configs/fixture.json"
export PYTHONPATH="$ROOT/onnx-export/src${PYTHONPATH:+:$PYTHONPATH}"

start=$(date +%s)
if [[ -z "${SKIP_DATA:-}" ]]; then
  echo "== data -> $DATA"
  if [[ -e "$DATA" && ! -f "$DATA/dataset.toml" ]]; then echo "$DATA is not a dataset folder; refusing to replace it" >&2; exit 1; fi
  rm -rf "$DATA"
  nice -n 10 "$PYTHON" -m eclip_data.cli build --out "$DATA" --seed 0 --workers 2
fi

mkdir -p "$MODELS"
for v in $VARIANTS; do
  echo "== $v"
  rm -rf "$MODELS/$v" "$WORK/runs/$v"
  nice -n 10 "$PYTHON" -m eclip_train.cli train --config "$CONFIG" --variant "$v" --data "$DATA" \
    --out "$WORK/runs/$v" --export "$MODELS/$v" --cache-dir "$WORK/cache" --no-progress
done

echo "== evaluate"
cd "$ROOT"  # evaluation.json names the models relative to the repository root
dirs=()
for v in $VARIANTS; do dirs+=("fixtures/models/$v"); done
nice -n 10 "$PYTHON" -m eclip_train.cli evaluate "${dirs[@]}" --data "$DATA" --threads 1 \
  --json "fixtures/models/evaluation.json"
echo "total $(( $(date +%s) - start )) s (runs and logs in $WORK)"
