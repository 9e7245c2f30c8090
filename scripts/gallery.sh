#!/usr/bin/env bash
# The README's figure gallery: every figure of `eclip --report --plots` on the bundled fixtures, as
# PNG, into docs/figures/ (the only folder it writes in the repository; the report itself goes to a
# temporary folder), all but the saliency figure (too large for the README). Usage:
#   scripts/gallery.sh [CONFIG]      (default: fixtures/workbench.toml)
# Needs a built binary (target/release/eclip or target/debug/eclip, or $ECLIP_BIN) and ONNX Runtime
# where eclip finds it. Each PNG should stay under ~150 KB (the script prints their sizes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cfg="${1:-$root/fixtures/workbench.toml}"
. "$root/scripts/eclip-bin.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" --config "$cfg" --quiet --report "$tmp/out.csv" --plots "$tmp/figs" > /dev/null
out="$root/docs/figures"
mkdir -p "$out"
rm -f "$out"/*.png
# The saliency figure (a grid of X-ray images, ≈450 KB as PNG) stays out of the gallery for its size.
for f in "$tmp"/figs/*.png; do
  case "$f" in *_saliency.png) continue ;; esac
  cp "$f" "$out"/
done
ls -l "$out"/*.png | awk '{ printf "%8.1f KB  %s\n", $5 / 1024, $NF }'
