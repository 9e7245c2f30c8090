#!/usr/bin/env bash
# The README's figure gallery: every figure of `eclip --report --plots` on the bundled fixtures, as
# PNG, into docs/figures/ (the only folder it writes in the repository; the report itself goes to a
# temporary folder); the saliency figure (a grid of X-ray images, ≈780 KB as PNG) as a gallery-size
# copy, palette-reduced with Pillow (.venv/bin/python, or $PYTHON) to at most 250 KB. Usage:
#   scripts/gallery.sh [CONFIG]      (default: fixtures/workbench.toml)
# Needs a built binary (target/release/eclip or target/debug/eclip, or $ECLIP_BIN) and ONNX Runtime
# where eclip finds it. Each PNG should stay under ~150 KB, the saliency one under 250 KB (the script
# prints their sizes).
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
for f in "$tmp"/figs/*.png; do
  case "$f" in *_saliency.png) continue ;; esac
  cp "$f" "$out"/
done
# The saliency figure at its own size (1×: the text stays readable) with a palette of the fewest
# colours, from 64 down, that brings it under 250 KB (no dithering: flat text and clean ramps). The
# pixels drawn in exactly one of the fill colours the SVG names (model colours, ink) keep that colour
# instead of the nearest median-cut one, so headers and legends keep their model's colour.
python="${PYTHON:-$root/.venv/bin/python}"
for f in "$tmp"/figs/*_saliency.png; do
  [ -e "$f" ] || continue
  "$python" - "$f" "${f%.png}.svg" "$out/$(basename "$f")" <<'PY'
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

src, svg, dst = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
image = Image.open(src).convert("RGB")
rgb = np.asarray(image)
named = sorted(set(re.findall(r'fill="#([0-9a-fA-F]{6})"', svg.read_text(encoding="utf-8"))))
exact = [tuple(int(h[i : i + 2], 16) for i in (0, 2, 4)) for h in named][:32]
for colours in (64, 48, 32, 24, 16):
    cut = image.quantize(colors=max(colours - len(exact), 8), method=Image.Quantize.MEDIANCUT)
    used = len(cut.getcolors())
    index = np.array(cut)
    # Pixels drawn in exactly a named colour (glyphs, swatches) keep it; the rest keep median cut's.
    for k, colour in enumerate(exact):
        index[(rgb == colour).all(axis=-1)] = used + k
    out = Image.fromarray(index.astype(np.uint8), mode="P")
    palette = cut.getpalette()[: 3 * used] + [c for rgb_ in exact for c in rgb_]
    out.putpalette(palette + [0] * (768 - len(palette)))
    out.save(dst, optimize=True)
    if dst.stat().st_size <= 250 * 1024:
        break
PY
done
ls -l "$out"/*.png | awk '{ printf "%8.1f KB  %s\n", $5 / 1024, $NF }'
