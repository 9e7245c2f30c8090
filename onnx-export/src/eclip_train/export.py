"""ONNX export of a CLIP-style model to the workbench contract (docs/formats.md §2).

`export_model` takes any pair of PyTorch modules (pixels -> embedding, ids + mask -> embedding), writes
`image.onnx`, `text.onnx`, `tokenizer.json` and `model.json` into one folder, and then runs ONNX Runtime on
a batch whose size differs from the traced one (so the dynamic batch axis is exercised) and refuses the
export unless both graphs agree with PyTorch to `PARITY_TOL` (max absolute difference). Our own trained
checkpoints and the open_clip / Hugging Face importers all go through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from torch import nn

from eclip_model import tokenizer as tok_mod
from eclip_model.transform import RESIZE_BICUBIC, RESIZE_HF, RESIZE_OPEN_CLIP, RESIZE_RULE

# The contract's resize rules (formats.md §2.1): bilinear (our models), PIL BICUBIC with antialias on
# mode F, and the library rules of imported open_clip / Hugging Face CLIPs (PIL's 8-bit BICUBIC on
# 8-bit images with the library's size and crop rounding). `eclip_model.transform` implements them.
BICUBIC_RULE = RESIZE_BICUBIC
RESIZE_RULES = (RESIZE_RULE, BICUBIC_RULE, RESIZE_OPEN_CLIP, RESIZE_HF)
FORMAT_VERSION = 1
PARITY_TOL = 1e-4
OPSET = 18
IMAGE_FILE, TEXT_FILE, TOKENIZER_FILE, MANIFEST_FILE = (
    "image.onnx",
    "text.onnx",
    "tokenizer.json",
    "model.json",
)
PARITY_TEXTS = [
    "No acute cardiopulmonary process.",
    "The heart is enlarged. Small bilateral pleural effusions with mild pulmonary edema.",
    "x",
]


class ExportError(RuntimeError):
    """The export could not be written or failed its ONNX Runtime parity check."""


@dataclass
class ExportSpec:
    """Everything model.json says about a model besides file names and hashes."""

    name: str
    family: str
    embed_dim: int
    image_size: int
    channels: int
    mean: list[float]
    std: list[float]
    context_length: int
    pad_token_id: int
    logit_scale: float
    normalized: bool = True
    resize: str = RESIZE_RULE
    provenance: dict[str, Any] = field(default_factory=dict)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit(path: str | Path | None = None) -> str:
    """The commit of the repository holding this code (suffix `-dirty` with uncommitted changes)."""
    cwd = Path(path) if path else Path(__file__).parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _onnx_export(
    module: nn.Module,
    args: tuple[torch.Tensor, ...],
    path: Path,
    input_names: list[str],
    output_name: str,
    axes: dict[int, str] | None = None,
) -> None:
    """Trace `module` to ONNX with dynamic `axes` (default: the batch axis 0) on every input and the
    output.

    This uses PyTorch's TorchScript-based exporter (`dynamo=False`): it handles every model here and
    takes well under a second, where the torch.export-based one takes tens of seconds on the shared
    CI machine. The parity check below catches any tracing error either way.
    """
    dyn = {name: dict(axes or {0: "batch"}) for name in [*input_names, output_name]}
    fastpath = torch.backends.mha.get_fastpath_enabled()
    # nn.MultiheadAttention's inference fast path (open_clip uses it) has no ONNX export; the plain
    # path computes the same thing.
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=input_names,
                output_names=[output_name],
                dynamic_axes=dyn,
                opset_version=OPSET,
                dynamo=False,
                do_constant_folding=True,
            )
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _check(name: str, expected: np.ndarray, got: np.ndarray) -> float:
    if expected.shape != got.shape:
        raise ExportError(f"{name}: ONNX output shape {got.shape} != PyTorch {expected.shape}")
    diff = float(np.abs(expected - got).max())
    if not diff <= PARITY_TOL:
        raise ExportError(f"{name}: ONNX Runtime differs from PyTorch by {diff:.3g} > {PARITY_TOL:g}")
    return diff


def export_model(
    image_module: nn.Module,
    text_module: nn.Module,
    tokenizer: Tokenizer,
    spec: ExportSpec,
    out_dir: str | Path,
    parity_pixels: torch.Tensor | None = None,
    parity_texts: list[str] | None = None,
    tokenizer_file: str | Path | None = None,
) -> dict[str, Any]:
    """Write the four files of a model folder and return the manifest (also written as model.json).

    `tokenizer_file` is copied byte for byte as tokenizer.json (the workbench applies the contract's
    truncation and padding itself); otherwise `tokenizer` is saved with them configured.
    Raises ExportError when the ONNX Runtime outputs differ from PyTorch by more than PARITY_TOL.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    image_module = image_module.eval().float().cpu()
    text_module = text_module.eval().float().cpu()
    c, s, n = spec.channels, spec.image_size, spec.context_length

    gen = torch.Generator().manual_seed(0)
    trace_pixels = torch.randn(2, c, s, s, generator=gen)
    ids, mask = tok_mod.encode(tokenizer, PARITY_TEXTS[:2], n, spec.pad_token_id)
    with torch.no_grad():
        _onnx_export(image_module, (trace_pixels,), out / IMAGE_FILE, ["pixel_values"], "image_embeds")
        _onnx_export(
            text_module,
            (torch.from_numpy(ids), torch.from_numpy(mask)),
            out / TEXT_FILE,
            ["input_ids", "attention_mask"],
            "text_embeds",
        )
    if tokenizer_file is not None:
        shutil.copyfile(tokenizer_file, out / TOKENIZER_FILE)
    else:
        pad_token = tokenizer.id_to_token(spec.pad_token_id) or "[PAD]"
        tok_mod.configure(tokenizer, n, spec.pad_token_id, pad_token)
        tokenizer.save(str(out / TOKENIZER_FILE))

    # Parity on a batch of a different size than the traced one.
    pixels = parity_pixels if parity_pixels is not None else torch.randn(3, c, s, s, generator=gen)
    texts = parity_texts or PARITY_TEXTS
    ids, mask = tok_mod.encode(Tokenizer.from_file(str(out / TOKENIZER_FILE)), texts, n, spec.pad_token_id)
    with torch.no_grad():
        want_img = image_module(pixels.float()).numpy()
        want_txt = text_module(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    got_img = _session(out / IMAGE_FILE).run(["image_embeds"], {"pixel_values": pixels.float().numpy()})[0]
    got_txt = _session(out / TEXT_FILE).run(["text_embeds"], {"input_ids": ids, "attention_mask": mask})[0]
    img_diff = _check(f"{out / IMAGE_FILE}", want_img, got_img)
    txt_diff = _check(f"{out / TEXT_FILE}", want_txt, got_txt)

    provenance = dict(spec.provenance)
    provenance["files"] = {f: sha256_file(out / f) for f in (IMAGE_FILE, TEXT_FILE, TOKENIZER_FILE)}
    provenance["export_parity_max_abs_diff"] = {"image": img_diff, "text": txt_diff}
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": spec.name,
        "family": spec.family,
        "embed_dim": spec.embed_dim,
        "normalized": spec.normalized,
        "logit_scale": spec.logit_scale,
        "image": {
            "file": IMAGE_FILE,
            "input": "pixel_values",
            "output": "image_embeds",
            "size": s,
            "channels": c,
            "mean": list(spec.mean),
            "std": list(spec.std),
            "resize": spec.resize,
        },
        "text": {
            "file": TEXT_FILE,
            "input_ids": "input_ids",
            "attention_mask": "attention_mask",
            "output": "text_embeds",
            "context_length": n,
            "pad_token_id": spec.pad_token_id,
        },
        "tokenizer": TOKENIZER_FILE,
        "provenance": provenance,
    }
    validate_manifest(manifest)
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format_version": int,
    "name": str,
    "family": str,
    "embed_dim": int,
    "normalized": bool,
    "logit_scale": (int, float),
    "image": dict,
    "text": dict,
    "tokenizer": str,
    "provenance": dict,
}
_IMAGE_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "file": str,
    "input": str,
    "output": str,
    "size": int,
    "channels": int,
    "mean": list,
    "std": list,
    "resize": str,
}
_TEXT_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "file": str,
    "input_ids": str,
    "attention_mask": str,
    "output": str,
    "context_length": int,
    "pad_token_id": int,
}


def validate_manifest(m: dict[str, Any]) -> None:
    """Check a model.json dict against docs/formats.md §2; raises ValueError naming the first problem."""
    for section, required in (("", _REQUIRED), ("image", _IMAGE_REQUIRED), ("text", _TEXT_REQUIRED)):
        obj = m if not section else m.get(section, {})
        for key, typ in required.items():
            if key not in obj:
                raise ValueError(f"model.json: missing {section + '.' if section else ''}{key}")
            if not isinstance(obj[key], typ) or (typ is int and isinstance(obj[key], bool)):
                raise ValueError(f"model.json: {section + '.' if section else ''}{key} has the wrong type")
    if m["format_version"] != FORMAT_VERSION:
        raise ValueError(f"model.json: format_version {m['format_version']} is not {FORMAT_VERSION}")
    img = m["image"]
    if (
        img["channels"] not in (1, 3)
        or len(img["mean"]) != img["channels"]
        or len(img["std"]) != img["channels"]
    ):
        raise ValueError("model.json: image.channels must be 1 or 3 with one mean/std value per channel")
    if img["resize"] not in RESIZE_RULES:
        raise ValueError(f"model.json: image.resize must be one of {', '.join(map(repr, RESIZE_RULES))}")
    if m["embed_dim"] <= 0 or img["size"] <= 0 or m["text"]["context_length"] <= 0:
        raise ValueError("model.json: embed_dim, image.size and text.context_length must be positive")
    frac = m["provenance"].get("train_fraction")
    if frac is not None and not (isinstance(frac, (int, float)) and 0 < frac <= 1):
        raise ValueError("model.json: provenance.train_fraction must be a number in (0, 1]")
