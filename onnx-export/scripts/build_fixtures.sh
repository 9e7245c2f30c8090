#!/usr/bin/env bash
# Regenerate every fixture from scratch: the demo dataset (fixtures/data), the demo models
# (fixtures/models/<variant>[-s<seed>], two-stage recipe of scripts/build_demo_models.sh: CLIP
# pretraining on the regenerated 20k pretraining set, then clip / eclip with seeds 0, 1, 2 and the
# ablations with seed 0 fine-tuned from it), then evaluate the models with ONNX Runtime
# (fixtures/models/evaluation.json).
#
#   onnx-export/scripts/build_fixtures.sh                 # data + all models
#   SKIP_DATA=1 onnx-export/scripts/build_fixtures.sh     # keep fixtures/data, retrain the models
#   SEEDS=0 ABLATIONS="" onnx-export/scripts/build_fixtures.sh   # clip and eclip, seed 0 only
#   DATA=/elsewhere/data SKIP_DATA=1 onnx-export/scripts/build_fixtures.sh   # train on another copy
#   WORK=/keep/work ...                                   # keep the pretraining set and runs (reused)
#
# Training runs one at a time, single-threaded, under `nice`. PYTHON defaults to the repository's .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
export PYTHON
export DATA="${DATA:-$ROOT/fixtures/data}"
export MODELS="$ROOT/fixtures/models"
export WORK="${WORK:-$(mktemp -d)}"
export PYTHONPATH="$ROOT/onnx-export/src${PYTHONPATH:+:$PYTHONPATH}"

start=$(date +%s)
if [[ -z "${SKIP_DATA:-}" ]]; then
  echo "== data -> $DATA"
  if [[ -e "$DATA" && ! -f "$DATA/dataset.toml" ]]; then echo "$DATA is not a dataset folder; refusing to replace it" >&2; exit 1; fi
  rm -rf "$DATA"
  nice -n 10 "$PYTHON" -m eclip_data.cli build --out "$DATA" --seed 0 --workers 2
fi

echo "== models (two-stage recipe)"
"$ROOT/onnx-export/scripts/build_demo_models.sh"

echo "== evaluate"
cd "$ROOT"  # evaluation.json names the models relative to the repository root
dirs=()
for d in fixtures/models/*/; do [[ -f "$d/model.json" ]] && dirs+=("${d%/}"); done
nice -n 10 "$PYTHON" -m eclip_train.cli evaluate "${dirs[@]}" --data "$DATA" --threads 1 \
  --json "fixtures/models/evaluation.json"
echo "total $(( $(date +%s) - start )) s (runs, logs and per-stage times in $WORK/times.tsv)"
