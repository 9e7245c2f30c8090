#!/usr/bin/env bash
# The demo models the paper's way at our scale (issue 14 item 7), called by build_fixtures.sh:
#   stage 1  CLIP "pretraining" of our vit-tiny on the regenerated pretraining set (eclip-data pretrain,
#            20k pairs from seed 1; configs/pretrain.json), the stand-in for ImageNet / general pretraining;
#   stage 2  fine-tuning from that checkpoint (`--init ckpt:`) on the demo data's train split with its
#            heatmaps (configs/finetune.json): clip and eclip with seeds 0, 1, 2, and the ablations
#            (naive, no-mixup, no-curriculum, random-heatmaps) with seed 0.
# Output: $MODELS/<variant> for seed 0 and $MODELS/<variant>-s<seed> for the others (the fixture model
# format: model.json, image.onnx, text.onnx, tokenizer.json); runs, logs and the pretraining set in $WORK;
# the seconds per stage in $WORK/times.tsv, each stage's output in $WORK/logs/.
#
#   DATA=fixtures/data MODELS=/tmp/models WORK=/tmp/work onnx-export/scripts/build_demo_models.sh
# Reduced-size trial (the sizes only change the step counts and the pretraining set):
#   PRETRAIN_N=1000 PRETRAIN_STEPS=60 FINETUNE_STEPS=30 ... build_demo_models.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
DATA="${DATA:-$ROOT/fixtures/data}"
MODELS="${MODELS:-$ROOT/fixtures/models}"
WORK="${WORK:-$(mktemp -d)}"
PRETRAIN_N="${PRETRAIN_N:-20000}"
SEEDS="${SEEDS:-0 1 2}"
SEEDED="${SEEDED:-clip eclip}"
ABLATIONS="${ABLATIONS:-naive no-mixup no-curriculum random-heatmaps}"
CONFIGS="$ROOT/onnx-export/src/eclip_train/configs"
export PYTHONPATH="$ROOT/onnx-export/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$WORK" "$MODELS"
TIMES="$WORK/times.tsv"
: > "$TIMES"
mkdir -p "$WORK/logs"
stage() {  # stage NAME CMD...: run (output to $WORK/logs/NAME.log) and record the seconds
  local name="$1"; shift
  local t0=$SECONDS
  "$@" > "$WORK/logs/$name.log" 2>&1 || { echo "stage $name failed; see $WORK/logs/$name.log" >&2; exit 1; }
  printf '%s\t%d\n' "$name" "$((SECONDS - t0))" | tee -a "$TIMES"
}
pre_steps=(); [[ -n "${PRETRAIN_STEPS:-}" ]] && pre_steps=(--steps "$PRETRAIN_STEPS")
ft_steps=(); [[ -n "${FINETUNE_STEPS:-}" ]] && ft_steps=(--steps "$FINETUNE_STEPS")

PRE_DATA="$WORK/pretrain-data"
if [[ ! -f "$PRE_DATA/dataset.toml" ]]; then
  stage pretrain-data nice -n 10 "$PYTHON" -m eclip_data.cli pretrain --out "$PRE_DATA" --n "$PRETRAIN_N" \
    --workers 2
fi
stage pretrain nice -n 10 "$PYTHON" -m eclip_train.cli train --config "$CONFIGS/pretrain.json" \
  --data "$PRE_DATA" --out "$WORK/runs/pretrain" --cache-dir "$WORK/cache" --no-progress "${pre_steps[@]}"
INIT="ckpt:$WORK/runs/pretrain/checkpoint.pt"

finetune() {  # finetune VARIANT SEED NAME
  rm -rf "$MODELS/$3" "$WORK/runs/$3"
  stage "finetune-$3" nice -n 10 "$PYTHON" -m eclip_train.cli train --config "$CONFIGS/finetune.json" \
    --init "$INIT" --variant "$1" --seed "$2" --data "$DATA" --out "$WORK/runs/$3" --export "$MODELS/$3" \
    --name "$3" --cache-dir "$WORK/cache" --no-progress "${ft_steps[@]}"
}
for v in $SEEDED; do
  for s in $SEEDS; do
    if [[ "$s" == 0 ]]; then finetune "$v" "$s" "$v"; else finetune "$v" "$s" "$v-s$s"; fi
  done
done
for v in $ABLATIONS; do finetune "$v" 0 "$v"; done
echo "models in $MODELS; runs, logs and times in $WORK"
