"""Print Pillow's 8-bit resize outputs for the Rust unit tests of `src/model/pillow.rs`.

Each case resizes the plane `a[r, c] = (37 r + 101 c + ((r c) mod 13) 17) mod 256` (uint8, mode "L")
with `Image.fromarray(a, "L").resize((nw, nh), filter)` and prints one Rust tuple: the sizes, the
filter, the FNV-1a 64 hash of the output bytes, their sum and the first six values; then the same
planes divided by 255 as float32 on mode "F" (hash of the float32 output bytes). The values come
from Pillow only; the Rust test recomputes them. Run from the repository root:

    .venv/bin/python onnx-export/scripts/pillow_resample_refs.py

and paste the printed lines into `u8_resize_is_bit_exact_to_pillow` and `f32_resize_is_bit_exact_to_pillow`
(the Pillow version is printed).
"""

from __future__ import annotations

import numpy as np
import PIL
from PIL import Image

# (w, h, nw, nh, filter): down- and upscaling, odd sizes, one axis only, a 16x reduction, and shapes
# on both sides of Pillow 13's vertical-pass-first rule (h - nh > 2 (w - nw) with the height reduced)
CASES = [
    (13, 9, 7, 5, "Bicubic"),
    (5, 3, 10, 6, "Bicubic"),
    (97, 61, 40, 25, "Bicubic"),
    (31, 44, 70, 100, "Bicubic"),
    (50, 50, 50, 23, "Bicubic"),
    (64, 40, 17, 40, "Bicubic"),
    (512, 512, 32, 32, "Bicubic"),
    (300, 257, 262, 224, "Bicubic"),
    (2, 7, 9, 3, "Bicubic"),
    (60, 122, 30, 61, "Bicubic"),
    (60, 120, 30, 60, "Bicubic"),
    (150, 211, 50, 10, "Bicubic"),
    (40, 40, 41, 20, "Bicubic"),
    (97, 61, 40, 25, "Bilinear"),
    (31, 44, 70, 100, "Bilinear"),
    (512, 512, 32, 32, "Bilinear"),
]
FILTERS = {"Bicubic": Image.BICUBIC, "Bilinear": Image.BILINEAR}


def pattern(w: int, h: int) -> np.ndarray:
    r, c = np.mgrid[0:h, 0:w]
    return ((r * 37 + c * 101 + (r * c) % 13 * 17) % 256).astype(np.uint8)


def fnv1a(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) % (1 << 64)
    return h


def main() -> None:
    print(f"// Pillow {PIL.__version__}: mode L")
    for w, h, nw, nh, f in CASES:
        out = np.asarray(Image.fromarray(pattern(w, h), "L").resize((nw, nh), FILTERS[f]))
        assert out.shape == (nh, nw) and out.dtype == np.uint8
        first = ", ".join(str(int(v)) for v in out.reshape(-1)[:6])
        print(f"({w}, {h}, {nw}, {nh}, {f}, 0x{fnv1a(out.tobytes()):016x}, {int(out.sum())}, [{first}]),")
    # mode F on the same planes / 255 (float32): hash of the little-endian float32 output bytes
    print(f"// Pillow {PIL.__version__}: mode F, input pattern / 255 as float32")
    for w, h, nw, nh, f in CASES:
        a = (pattern(w, h).astype(np.float32) / np.float32(255)).astype("<f4")
        out = np.asarray(Image.fromarray(a, "F").resize((nw, nh), FILTERS[f]), dtype="<f4")
        print(f"({w}, {h}, {nw}, {nh}, {f}, 0x{fnv1a(out.tobytes()):016x}),")


if __name__ == "__main__":
    main()
