#!/usr/bin/env bash
# Device-machine check (issue 14 item 8; see ../shared/docs/gpu.md): a few hundred steps of eCLIP
# fine-tuning of a ViT-B/16-size open_clip model (random init: nothing is downloaded) at batch 128 in
# bf16 on one CUDA device, on a synthetic 224 px dataset written on the spot; prints steps/s and peak
# GPU memory from the run's run.json. One run, about 2-4 minutes on an H100/H200 (untested: no device was
# lent when this was written).
#
#   run: onnx-export/scripts/gpu_finetune_bench.sh            (STEPS=300 BATCH=128 PRECISION=bf16)
#
# Needs, besides PyTorch with CUDA: numpy, scipy, pillow, tokenizers, tqdm, pypng, pydicom, onnx,
# onnxruntime and open_clip_torch (+ ftfy, regex) importable; the script checks first and names what is
# missing (install from a wheelhouse carried along: pip install --no-index --find-links WHEELS ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
STEPS="${STEPS:-300}"
BATCH="${BATCH:-128}"
PRECISION="${PRECISION:-bf16}"
ARCH="${ARCH:-ViT-B-16}"
DEVICE="${DEVICE:-cuda}"  # DEVICE=cpu PRECISION=fp32 STEPS=1 BATCH=4: a dry run of the script itself
OUT="${OUT:-${TMPDIR:-/tmp}/eclip-gpu-bench}"
export PYTHONPATH="$ROOT/onnx-export/src${PYTHONPATH:+:$PYTHONPATH}"

DEVICE="$DEVICE" "$PYTHON" - <<'PY'
import importlib.util, os, sys
need = ["torch", "numpy", "scipy", "PIL", "tokenizers", "tqdm", "png", "pydicom", "onnx", "onnxruntime",
        "open_clip", "ftfy", "regex"]
missing = [m for m in need if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing Python packages: {' '.join(missing)}")
import torch
if os.environ["DEVICE"].startswith("cuda"):
    if not torch.cuda.is_available():
        sys.exit("PyTorch sees no CUDA device")
    print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
PY

rm -rf "$OUT"
mkdir -p "$OUT"
"$PYTHON" -c "
from eclip_train.toydata import write_toy_dataset
write_toy_dataset('$OUT/data', per_split={'train': 1024, 'val': 8, 'test': 64, 'test_5x200': 64}, size=224)
"
"$PYTHON" -m eclip_train.cli train --variant eclip --init "open-clip:$ARCH" --data "$OUT/data" \
  --steps "$STEPS" --batch-size "$BATCH" --precision "$PRECISION" --device "$DEVICE" --lr 1e-5 \
  --log-every 25 --out "$OUT/run" --no-progress
"$PYTHON" - "$OUT/run/run.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["provenance"]
keys = ["init", "steps", "batch_size", "precision", "expert_batches", "train_seconds", "prep_seconds",
        "steps_per_second", "peak_gpu_memory_gib", "device", "torch"]
for k in keys:
    print(f"{k:>20}: {p.get(k)}")
PY
tail -n 3 "$OUT/run/log.jsonl"
