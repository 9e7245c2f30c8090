#!/usr/bin/env bash
# One short, prepared run on an H100/H200 machine (set-up: ../shared/docs/gpu.md): the workbench's
# embedding with the CUDA execution provider, raw ONNX Runtime throughput (plain run and I/O binding,
# fp32 / TF32 / fp16 graphs) and PyTorch eager (fp32 / TF32 / fp16 / autocast) on the same card, same
# ViT-B/16-size random model, in one run; prints a table and writes it to $OUT/gpu-results.md.
#
#   benchmarks/gpu/prepare.sh                 # here: builds eclip + the ort_throughput example into benchmarks/gpu/bin
#   benchmarks/gpu/run_gpu.sh                 # on the GPU machine (carry benchmarks/gpu/bin)
#   benchmarks/gpu/run_gpu.sh --cpu-dry-run   # anywhere: the same steps on the CPU with tiny sizes
#
# Environment: PYTHON (default: python3 with torch), ECLIP_BIN / ORT_BENCH_BIN (default benchmarks/gpu/bin/*),
# OUT (results folder, default benchmarks/out/gpu), ORT_GPU_VERSION (default 1.31.1), N_IMAGES, BATCHES.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

DRY=0
if [ "${1:-}" = "--cpu-dry-run" ]; then DRY=1; elif [ -n "${1:-}" ]; then
  echo "usage: $0 [--cpu-dry-run]" >&2; exit 2
fi
RES=${OUT:-$ROOT/benchmarks/out/gpu}
mkdir -p "$RES"
LOG="$RES/gpu-run.jsonl"
: > "$LOG"
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in "$ROOT/.venv/bin/python" /work/main/.venv/bin/python python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import torch, onnx, tokenizers" 2>/dev/null; then PY=$cand; break; fi
  done
fi
[ -n "$PY" ] || { echo "error: no Python with torch, onnx and tokenizers; set PYTHON" >&2; exit 1; }
say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [ $DRY = 1 ]; then
  DEVICE=cpu; CONFIG=${CONFIG:-vit-tiny}; N_IMAGES=${N_IMAGES:-64}; BATCHES=${BATCHES:-8}; ITERS=2
  PRECISIONS=fp32; THREADS=2
  export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$("$PY" -c 'import onnxruntime,glob,os;print(sorted(glob.glob(os.path.join(os.path.dirname(onnxruntime.__file__),"capi","libonnxruntime.so.*")))[-1])')}
else
  DEVICE=cuda; CONFIG=${CONFIG:-vit-b-16}; N_IMAGES=${N_IMAGES:-4096}; BATCHES=${BATCHES:-64,128,256}; ITERS=20
  PRECISIONS=fp32,tf32,fp16,fp16-autocast,bf16-autocast; THREADS=0
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
  # 1. ONNX Runtime with the CUDA provider, beside (not over) any CPU onnxruntime.
  ORT_GPU_VERSION=${ORT_GPU_VERSION:-1.31.1}
  ORTDIR="$RES/ort-gpu"
  if ! ls "$ORTDIR"/onnxruntime/capi/libonnxruntime_providers_cuda.so >/dev/null 2>&1; then
    if "$PY" -c "import onnxruntime as o,sys; sys.exit('CUDAExecutionProvider' not in o.get_available_providers())" 2>/dev/null; then
      ORTDIR=$("$PY" -c 'import onnxruntime,os;print(os.path.dirname(os.path.dirname(onnxruntime.__file__)))')
      say "using the installed onnxruntime-gpu in $ORTDIR"
    else
      say "installing onnxruntime-gpu==$ORT_GPU_VERSION into $ORTDIR"
      "$PY" -m pip install -q --no-deps --target "$ORTDIR" "onnxruntime-gpu==$ORT_GPU_VERSION"
    fi
  fi
  export PYTHONPATH="$ORTDIR${PYTHONPATH:+:$PYTHONPATH}"
  ORT_DYLIB_PATH=$(ls "$ORTDIR"/onnxruntime/capi/libonnxruntime.so.* | sort | tail -1)
  export ORT_DYLIB_PATH
  # 2. CUDA 13 + cuDNN 9 libraries (PyTorch's wheels ship them under nvidia/*/lib).
  CUBLAS=$(find / -xdev -name 'libcublas.so.13*' -print -quit 2>/dev/null || true)
  CUDNN=$(find / -xdev -name 'libcudnn.so.9*' -print -quit 2>/dev/null || true)
  [ -n "$CUBLAS" ] || { echo "error: libcublas.so.13 not found (install CUDA 13 or PyTorch's nvidia wheels)" >&2; exit 1; }
  [ -n "$CUDNN" ] || { echo "error: libcudnn.so.9 not found (cuDNN 9)" >&2; exit 1; }
  export LD_LIBRARY_PATH="$(dirname "$CUBLAS"):$(dirname "$CUDNN")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "ORT_DYLIB_PATH=$ORT_DYLIB_PATH"
  say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
fi

find_bin() {  # name, explicit path
  local c
  for c in "$2" "$ROOT/benchmarks/gpu/bin/$1" "${CARGO_TARGET_DIR:-$ROOT/target}/release/$1" \
           "${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/$1"; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return; fi
  done
}
ECLIP=$(find_bin eclip "${ECLIP_BIN:-}")
ORT_BENCH=$(find_bin ort_throughput "${ORT_BENCH_BIN:-}")
[ -n "$ECLIP" ] || say "warning: no eclip binary (run benchmarks/gpu/prepare.sh first); skipping the workbench rows"
[ -n "$ORT_BENCH" ] || say "warning: no ort_throughput binary (benchmarks/gpu/prepare.sh); skipping the raw ORT rows"

# 3. Python modules the export needs besides torch/onnx (dynamo exporter: onnxscript; eclip_model: pypng).
for mod in onnxscript png tokenizers; do
  if ! "$PY" -c "import $mod" 2>/dev/null; then
    pkg=$mod; [ "$mod" = png ] && pkg=pypng
    say "installing $pkg (needed by the ONNX export)"
    "$PY" -m pip install -q "$pkg" || { echo "error: $PY lacks $mod; install $pkg" >&2; exit 1; }
  fi
done

# 4. Inputs: the random model (fp32 + fp16 copy, through onnx-export) and synthetic images.
say "exporting $CONFIG (random weights) and its fp16 copy"
FP16=$("$PY" benchmarks/synth.py model "benchmarks/models/$CONFIG-random" --config "$CONFIG" --fp16 | tail -1)
FP32="benchmarks/models/$CONFIG-random"
say "generating $N_IMAGES synthetic images"
DATA=$("$PY" benchmarks/synth.py dataset "benchmarks/out/synth-$N_IMAGES" --n "$N_IMAGES" | tail -1)
VOCAB=$("$PY" -c "import json,sys;from tokenizers import Tokenizer;print(Tokenizer.from_file(sys.argv[1]).get_vocab_size())" "$FP32/tokenizer.json")

# 5. The workbench end to end (decode + preprocess + both towers), per model and batch size.
if [ -n "$ECLIP" ]; then
  for model in "$FP32" "$FP16"; do
    for b in ${BATCHES//,/ }; do
      cfg="$RES/workbench-$(basename "$model")-$b.toml"
      printf '[runtime]\ndevice = "%s"\nthreads = %s\nbatch_size = %s\n\n[[models]]\nname = "%s"\npath = "%s"\n\n[[datasets]]\npath = "%s"\n' \
        "$DEVICE" "$THREADS" "$b" "$(basename "$model")" "$ROOT/$model" "$ROOT/$DATA" > "$cfg"
      say "eclip embed $(basename "$model") batch $b"
      "$PY" benchmarks/gpu/time_cmd.py --label "eclip-embed" --model "$model" --batch "$b" --images "$N_IMAGES" \
        -- "$ECLIP" embed --config "$cfg" --out "$RES/emb-$(basename "$model")-$b" --no-cache --device "$DEVICE" >> "$LOG"
    done
  done
fi

# 6. Raw ONNX Runtime (no decoding): plain run vs I/O binding; fp32, TF32, fp16 graph.
if [ -n "$ORT_BENCH" ]; then
  for spec in "$FP32:" "$FP32:--tf32" "$FP16:"; do
    model=${spec%%:*}; flag=${spec#*:}
    say "ort_throughput $(basename "$model") $flag"
    "$ORT_BENCH" --model-dir "$model" --device "$DEVICE" --batch "$BATCHES" --iters "$ITERS" --threads "$THREADS" $flag >> "$LOG"
  done
fi

# 7. PyTorch eager on the same card, same weights.
say "torch eager $PRECISIONS"
"$PY" benchmarks/gpu/torch_eager.py --config "$CONFIG" --vocab-size "$VOCAB" --device "$DEVICE" --batch "$BATCHES" \
  --iters "$ITERS" --precisions "$PRECISIONS" --threads "$THREADS" >> "$LOG"
if [ $DRY = 0 ]; then
  "$PY" benchmarks/gpu/torch_eager.py --config "$CONFIG" --vocab-size "$VOCAB" --device cuda --batch 128 \
    --iters "$ITERS" --precisions bf16-autocast,fp16 --input-on-device >> "$LOG"
fi

"$PY" benchmarks/gpu/summarize.py "$LOG" --title "$( [ $DRY = 1 ] && echo 'CPU dry run (not GPU figures)' || nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" \
  | tee "$RES/gpu-results.md"
