#!/usr/bin/env bash
# Install the ONNX Runtime shared library the workbench loads, from the pinned, hash-checked PyPI wheel.
#
#   ./scripts/install-onnxruntime.sh          # CPU: onnxruntime 1.31.1
#   ./scripts/install-onnxruntime.sh --gpu    # CUDA 13: onnxruntime-gpu 1.31.1 (~256 MB download)
#   ./scripts/install-onnxruntime.sh --dest DIR   # somewhere else (then export ORT_DYLIB_PATH as printed)
#
# Default destination: ${XDG_DATA_HOME:-~/.local/share}/eclip-workbench/onnxruntime/1.31.1/, which is
# where `eclip` looks when neither ORT_DYLIB_PATH nor [runtime] ort_dylib is set (src/runtime.rs).
# Only PyPI is contacted (through pip). Idempotent: a finished install is detected and kept.
# The GPU library needs CUDA 13 + cuDNN 9 on LD_LIBRARY_PATH at run time (see docs/architecture.md).
set -euo pipefail

VERSION=1.31.1
CPU_PKG=onnxruntime
CPU_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f   # cp311 manylinux_2_28_x86_64
GPU_PKG=onnxruntime-gpu
GPU_SHA256=e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6   # cp311 manylinux_2_28_x86_64

pkg=$CPU_PKG sha=$CPU_SHA256 dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --gpu) pkg=$GPU_PKG sha=$GPU_SHA256 ;;
    --dest) dest="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
dest=${dest:-${XDG_DATA_HOME:-$HOME/.local/share}/eclip-workbench/onnxruntime/$VERSION}

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "error: the pinned wheel is for Linux x86_64; on $(uname -s)-$(uname -m) install ONNX Runtime >= 1.23 yourself and set ORT_DYLIB_PATH" >&2
  exit 1
fi

marker="$dest/INSTALLED"
if [ -f "$marker" ] && grep -qx "$pkg==$VERSION sha256:$sha" "$marker" && [ -f "$dest/libonnxruntime.so.$VERSION" ]; then
  echo "onnxruntime: $pkg $VERSION already installed in $dest"
  exit 0
fi

# Any Python with pip will do: the wheel is selected by platform tags, not by this interpreter.
py=""
for cand in "${PYTHON:-}" "$(dirname "$0")/../.venv/bin/python" python3 python; do
  if [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 && "$cand" -m pip --version >/dev/null 2>&1; then py=$cand; break; fi
done
if [ -z "$py" ]; then
  echo "error: no python with pip found (install python3-pip, or set PYTHON=/path/to/python)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "$pkg==$VERSION --hash=sha256:$sha" > "$tmp/req.txt"
echo "onnxruntime: downloading $pkg $VERSION (hash-checked) ..."
"$py" -m pip download --quiet --no-deps --only-binary :all: --platform manylinux_2_28_x86_64 \
  --python-version 3.11 --implementation cp --abi cp311 --require-hashes -r "$tmp/req.txt" -d "$tmp/whl"
wheel=$(ls "$tmp"/whl/*.whl)
mkdir -p "$tmp/lib"
echo "$sha  $wheel" | sha256sum -c --quiet -

# Extract the libraries (and nothing else) with Python's zipfile; unzip may be missing.
"$py" - "$wheel" "$tmp/lib" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    libs = [n for n in z.namelist() if n.startswith("onnxruntime/capi/lib") and ".so" in n]
    if not libs:
        sys.exit(f"{wheel}: no onnxruntime/capi/lib*.so* inside")
    for n in libs:
        target = f"{out}/{n.rsplit('/', 1)[1]}"
        with z.open(n) as src, open(target, "wb") as dst:
            dst.write(src.read())
        print("  ", n.rsplit("/", 1)[1])
PY

mkdir -p "$dest"
for f in "$tmp"/lib/*; do
  # Replace atomically so a running eclip never sees a half-written library.
  cp "$f" "$dest/.$(basename "$f").tmp" && mv -f "$dest/.$(basename "$f").tmp" "$dest/$(basename "$f")"
done
echo "$pkg==$VERSION sha256:$sha" > "$marker"
echo "onnxruntime: installed $pkg $VERSION into $dest"
echo "  eclip finds it there by itself; elsewhere: export ORT_DYLIB_PATH=$dest/libonnxruntime.so.$VERSION"
