"""Reduced-precision copies of exported model folders: fp16 weights and arithmetic, float32 I/O kept.

This module owns one thing: turning a model folder written by `eclip_train.export` (docs/formats.md §2)
into a folder whose `image.onnx` / `text.onnx` compute in float16 — what the CUDA execution provider runs
fastest on tensor cores — while the graphs' inputs and outputs stay float32 (int64 for token ids), so the
file contract and the workbench's code do not change. The conversion is ONNX Runtime's own
`onnxruntime.transformers.float16.convert_float_to_float16(keep_io_types=True)`; the result is checked
against the float32 graphs with ONNX Runtime (CPU) and refused when the L2-normalised embeddings differ by
more than `FP16_TOL` (max absolute difference).

    python -m eclip_model.precision SRC_DIR DST_DIR [--tol 0.02]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FP16_TOL = 2e-2


class PrecisionError(RuntimeError):
    """A converted graph could not be written or disagrees with its float32 original."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def convert_graph(src: Path, dst: Path) -> None:
    """Write a float16 copy of the ONNX graph `src` to `dst`, keeping float32 inputs and outputs."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    half = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=False)
    onnx.save(half, str(dst))


def _normalize(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _run(path: Path, feeds: dict[str, np.ndarray], output: str) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run([output], feeds)[0]


def parity(fp32: Path, fp16: Path, feeds: dict[str, np.ndarray], output: str) -> float:
    """Max absolute difference of the L2-normalised outputs of two graphs on the same feeds."""
    a = _normalize(_run(fp32, feeds, output))
    b = _normalize(_run(fp16, feeds, output))
    if a.shape != b.shape:
        raise PrecisionError(f"{fp16}: output shape {b.shape} != float32 graph's {a.shape}")
    return float(np.abs(a - b).max())


def _feeds(manifest: dict[str, Any], batch: int = 2) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    img, txt = manifest["image"], manifest["text"]
    c, s = int(img["channels"]), int(img["size"])
    pixels = rng.standard_normal((batch, c, s, s)).astype(np.float32)
    n = int(txt["context_length"])
    ids = np.zeros((batch, n), dtype=np.int64)
    mask = np.zeros((batch, n), dtype=np.int64)
    for i in range(batch):  # short sequences of small ids (always inside any vocabulary of >= 100 tokens)
        k = max(1, min(n, 4 + 3 * i))
        ids[i, :k] = rng.integers(1, 100, size=k)
        mask[i, :k] = 1
    return {img["input"]: pixels}, {txt["input_ids"]: ids, txt["attention_mask"]: mask}


def to_fp16(src_dir: str | Path, dst_dir: str | Path, tol: float = FP16_TOL) -> dict[str, Any]:
    """Copy the model folder `src_dir` to `dst_dir` with float16 graphs; returns the new manifest.

    Raises PrecisionError when a converted graph's normalised outputs differ from the original's by
    more than `tol`.
    """
    src, dst = Path(src_dir), Path(dst_dir)
    manifest = json.loads((src / "model.json").read_text(encoding="utf-8"))
    if src.resolve() == dst.resolve():
        raise PrecisionError(f"{dst}: write the float16 copy to another folder than its source")
    dst.mkdir(parents=True, exist_ok=True)
    img_feeds, txt_feeds = _feeds(manifest)
    diffs = {}
    for part, feeds in (("image", img_feeds), ("text", txt_feeds)):
        name = manifest[part]["file"]
        convert_graph(src / name, dst / name)
        diffs[part] = parity(src / name, dst / name, feeds, manifest[part]["output"])
        if not diffs[part] <= tol:
            raise PrecisionError(
                f"{dst / name}: float16 graph differs from float32 by {diffs[part]:.3g} > {tol:g}"
            )
    tok = manifest["tokenizer"]
    shutil.copyfile(src / tok, dst / tok)
    prov = dict(manifest.get("provenance", {}))
    prov["precision"] = "fp16"
    prov["fp16_source_files"] = prov.get("files", {})
    prov["fp16_parity_max_abs_diff"] = diffs
    prov["files"] = {f: _sha256(dst / f) for f in (manifest["image"]["file"], manifest["text"]["file"], tok)}
    manifest["provenance"] = prov
    manifest["name"] = f"{manifest['name']}-fp16"
    (dst / "model.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a float16 copy (float32 I/O) of an exported model folder.")
    p.add_argument("src", help="model folder with model.json, image.onnx, text.onnx, tokenizer.json")
    p.add_argument("dst", help="output folder")
    p.add_argument("--tol", type=float, default=FP16_TOL, help="max abs difference of normalised outputs")
    args = p.parse_args(argv)
    try:
        m = to_fp16(args.src, args.dst, args.tol)
    except PrecisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(m["provenance"]["fp16_parity_max_abs_diff"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
