"""Reference values for the Rust parity tests (`tests/parity.rs`), computed with the Python side.

Writes `tests/data/parity/refs.json` (small: sampled values and summary statistics, not full tensors):

- preprocessing of real chest X-rays (`../shared/data/cxr-samples`: 8-bit gray PNG, RGB PNG, JPEG,
  JPEG-compressed DICOM) and of generated images committed next to the refs (16-bit gray PNG,
  16-bit RGB PNG, 8-bit RGBA PNG, uncompressed 16-bit MONOCHROME1 DICOM with rescale slope and
  intercept, written by this script), through `eclip_model.transform` for a one-channel and a
  three-channel transform;
- tiny broken image graphs in `tests/data/bad_models/` for `tests/bad_input.rs`;
- token ids from `eclip_model.tokenizer` and L2-normalised embeddings from Python onnxruntime for
  every model given with `--model NAME=DIR`, with the SHA-256 of the model files so the Rust test
  can tell stale refs from a real mismatch.

Run from the repository root (after `scripts/setup-python.sh`):

    .venv/bin/python onnx-export/scripts/make_parity_refs.py \
        --model clip=fixtures/models/clip --model eclip=fixtures/models/eclip
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import png
import pydicom
from onnx import TensorProto, helper
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

from eclip_model import tokenizer as tok_mod
from eclip_model.transform import (
    LIBRARY_RULES,
    RESIZE_BICUBIC,
    RESIZE_HF,
    RESIZE_OPEN_CLIP,
    RESIZE_RULE,
    ImageTransform,
    decode_image,
)

REPO = Path(__file__).resolve().parents[2]
PARITY_DIR = REPO / "tests" / "data" / "parity"
SAMPLES = 256  # sampled tensor values per image and transform

REAL_IMAGES = [
    "cxr-samples/00000001_000.png",
    "cxr-samples/h0001.png",
    "cxr-samples/16747_3_1.jpg",
    "cxr-samples/siim_pneumothorax_sample.dcm",
]
TRANSFORMS = {
    "gray128": ImageTransform(size=128, channels=1, mean=(0.5,), std=(0.25,)),
    "rgb96": ImageTransform(size=96, channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    # PIL BICUBIC (imported CLIPs): tests/parity.rs holds PNG/DICOM inputs to 1e-5 here too.
    "gray128_bicubic": ImageTransform(size=128, channels=1, mean=(0.5,), std=(0.25,), resize=RESIZE_BICUBIC),
    "rgb96_bicubic": ImageTransform(
        size=96, channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize=RESIZE_BICUBIC
    ),
    # The fast rule (JPEG DCT-scaled decode, box reduction, bilinear).
    "gray128_reduce": ImageTransform(
        size=128, channels=1, mean=(0.5,), std=(0.25,), resize=RESIZE_RULE + "_reduce"
    ),
    "rgb96_reduce": ImageTransform(
        size=96,
        channels=3,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        resize=RESIZE_RULE + "_reduce",
    ),
    # The library rules of imported CLIPs (PIL's 8-bit BICUBIC on 8-bit images, the libraries' size and
    # crop rounding): tests/parity.rs holds 8-bit PNGs to the exact tensor (`f32_sha256`).
    "gray128_open_clip": ImageTransform(
        size=128, channels=1, mean=(0.5,), std=(0.25,), resize=RESIZE_OPEN_CLIP
    ),
    "rgb96_open_clip": ImageTransform(
        size=96, channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize=RESIZE_OPEN_CLIP
    ),
    "rgb96_hf": ImageTransform(
        size=96, channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), resize=RESIZE_HF
    ),
}
TEXTS = [
    "The heart is enlarged. Small left pleural effusion.",
    "no acute cardiopulmonary process",
    "Élargissement — naïve façade, Ünïcode text with accents and symbols ±5 mm.",
    "",
    " ".join(["bibasilar atelectasis and mild pulmonary edema"] * 20),
]


def find_shared_data() -> Path:
    """`shared/data` next to the repository or next to one of its parent folders."""
    for parent in [REPO, *REPO.parents]:
        cand = parent.parent / "shared" / "data"
        if (cand / "cxr-samples").is_dir():
            return cand
    raise SystemExit("shared/data/cxr-samples not found next to the repository")


def write_generated() -> list[Path]:
    """Deterministic synthetic images covering decode paths the real samples do not."""
    rng = np.random.default_rng(7)
    out = []

    def grad(h: int, w: int) -> np.ndarray:
        y, x = np.mgrid[0:h, 0:w]
        return (x / (w - 1)) * 0.6 + (y / (h - 1)) * 0.3 + rng.random((h, w)) * 0.1

    specs = {
        "gen_gray16.png": (grad(83, 97)[:, :, None], 16, False),
        "gen_rgb16.png": (np.stack([grad(56, 40), grad(56, 40) ** 2, 1 - grad(56, 40)], axis=2), 16, False),
        "gen_rgba8.png": (
            np.concatenate([rng.random((90, 71, 3)), rng.random((90, 71, 1))], axis=2),
            8,
            True,
        ),
    }
    PARITY_DIR.mkdir(parents=True, exist_ok=True)
    for name, (arr, depth, alpha) in specs.items():
        path = PARITY_DIR / name
        maxval = (1 << depth) - 1
        ints = np.clip(np.round(arr * maxval), 0, maxval).astype(np.uint32)
        h, w, c = ints.shape
        writer = png.Writer(w, h, greyscale=(c == 1), alpha=alpha, bitdepth=depth)
        with path.open("wb") as f:
            writer.write(f, ints.reshape(h, w * c).tolist())
        out.append(path)
    out.append(write_dicom(PARITY_DIR / "gen_mono1_rescaled.dcm", rng))
    out.append(write_dicom(PARITY_DIR / "gen_windowed.dcm", rng, window=("1800", "1200", "LINEAR")))
    out.append(
        write_dicom(PARITY_DIR / "gen_sigmoid.dcm", rng, window=(["2000", "900"], ["2500", "400"], "SIGMOID"))
    )
    # A VOI LUT Sequence (a gamma-like 10-bit table over part of the range; values below/above it clamp)
    # next to a window it must take precedence over, and a JPEG 2000 lossless file (exact on both sides).
    out.append(write_dicom(PARITY_DIR / "gen_voilut.dcm", rng, window=("1800", "1200", "LINEAR"), lut=True))
    out.append(write_dicom(PARITY_DIR / "gen_j2k.dcm", rng, j2k=True))
    return out


def write_dicom(
    path: Path, rng: np.random.Generator, window: tuple | None = None, lut: bool = False, j2k: bool = False
) -> Path:
    """16-bit DICOM with rescale slope/intercept (exact decode on both sides): MONOCHROME1 without a
    window, or MONOCHROME2 with `window` = (centre(s), width(s), VOI LUT function); `lut` adds a VOI LUT
    Sequence; `j2k` stores the pixels JPEG 2000 lossless (pydicom + pylibjpeg-openjpeg)."""
    h, w = 61, 50
    y, x = np.mgrid[0:h, 0:w]
    pixels = (x * 37 + y * 11 + rng.integers(0, 200, (h, w))).astype(np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.2"
    ds.Modality = "DX"
    ds.Rows, ds.Columns = h, w
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if window is None else "MONOCHROME2"
    if window is not None:
        ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = window
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.RescaleSlope, ds.RescaleIntercept = "2", "-100"
    if lut:
        item = pydicom.Dataset()
        entries, first, bits = 3000, 200, 10
        item.LUTDescriptor = [entries, first, bits]
        table = np.round(((np.arange(entries) / (entries - 1)) ** 0.6) * ((1 << bits) - 1)).astype(np.uint16)
        item.LUTData = table.tolist()
        item["LUTData"].VR = "US"
        item.LUTExplanation = "gamma 0.6"
        ds.VOILUTSequence = pydicom.Sequence([item])
    ds.PixelData = pixels.tobytes()
    if j2k:
        from pydicom.uid import JPEG2000Lossless

        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)
    return path


def jpeg_decoded(path: Path) -> bool:
    """Whether the pixels go through a JPEG decoder (decoders differ by rounding)."""
    if path.suffix.lower() in (".jpg", ".jpeg"):
        return True
    if path.suffix.lower() == ".dcm":
        name = pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID.name
        return "JPEG" in name and "Lossless" not in name
    return False


def write_bad_models(size: int = 128, dim: int = 128) -> None:
    """Tiny broken image graphs for `tests/bad_input.rs` (input `pixel_values` [N, 1, size, size])."""
    out = REPO / "tests" / "data" / "bad_models"
    out.mkdir(parents=True, exist_ok=True)
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 1, size, size])
    starts = helper.make_tensor("starts", TensorProto.INT64, [1], [0])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])

    def first_columns(n: int, out_dims: list, extra: list, inits: list, last: str = "image_embeds") -> None:
        ends = helper.make_tensor("ends", TensorProto.INT64, [1], [n])
        nodes = [
            helper.make_node("Flatten", ["pixel_values"], ["flat"], axis=1),
            helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["cols" if extra else last]),
            *extra,
        ]
        y = helper.make_tensor_value_info(last, TensorProto.FLOAT, out_dims)
        return helper.make_graph(nodes, "bad", [x], [y], [starts, ends, axes, *inits])

    graphs = {
        # Rank 4 output where model.json promises [N, embed_dim]: refused at load.
        "wrong_rank.onnx": helper.make_graph(
            [helper.make_node("ReduceMean", ["pixel_values"], ["image_embeds"], axes=[2, 3], keepdims=1)],
            "bad",
            [x],
            [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", 1, 1, 1])],
        ),
        # Fixed dimension 64 instead of 128: refused at load (embed-dim mismatch).
        "dim64.onnx": first_columns(64, ["N", 64], [], []),
        # Output width computed at run time (height / 2 = 64), so no shape inference can see it:
        # passes the load-time check, caught on the first batch.
        "dim64_dynamic.onnx": helper.make_graph(
            [
                helper.make_node("Flatten", ["pixel_values"], ["flat"], axis=1),
                helper.make_node("Shape", ["pixel_values"], ["shape"]),
                helper.make_node("Gather", ["shape", "two"], ["height"], axis=0),
                helper.make_node("Div", ["height", "two"], ["ends"]),
                helper.make_node("Slice", ["flat", "starts", "ends", "axes"], ["image_embeds"]),
            ],
            "bad",
            [x],
            [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", "D"])],
            [starts, axes, helper.make_tensor("two", TensorProto.INT64, [1], [2])],
        ),
        # NaN outputs: caught on the first batch.
        "nan.onnx": first_columns(
            dim,
            ["N", dim],
            [helper.make_node("Mul", ["cols", "nan"], ["image_embeds"])],
            [helper.make_tensor("nan", TensorProto.FLOAT, [1], [float("nan")])],
        ),
    }
    for name, graph in graphs.items():
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_parity_refs"
        )
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, out / name)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rel(path: Path, shared: Path) -> str:
    if path.is_relative_to(shared):
        return "shared:" + path.relative_to(shared).as_posix()
    return "repo:" + path.relative_to(REPO).as_posix()


def preprocess_refs(images: list[Path], shared: Path) -> list[dict]:
    refs = []
    for img_path in images:
        decoded = decode_image(img_path)
        for tname, t in TRANSFORMS.items():
            # Fast rules decode the file themselves (a JPEG at a reduced DCT scale), library rules too
            # (8-bit images stay 8-bit).
            library = t.resize in LIBRARY_RULES
            x = (
                t(img_path)
                if t.resize.endswith("_reduce") or library
                else t.normalize(t.unnormalized(decoded))
            ).astype(np.float32)
            flat = x.reshape(-1).astype(np.float64)
            idx = np.linspace(0, flat.size - 1, SAMPLES).round().astype(int)
            refs.append(
                {
                    "image": rel(img_path, shared),
                    "transform": tname,
                    "jpeg_decoded": jpeg_decoded(img_path),
                    "shape": list(x.shape),
                    "mean": float(flat.mean()),
                    "mean_sq": float((flat**2).mean()),
                    "index": idx.tolist(),
                    "values": [float(f"{v:.8g}") for v in flat[idx]],
                }
            )
            if library:
                refs[-1]["f32_sha256"] = hashlib.sha256(x.astype("<f4").tobytes()).hexdigest()
    return refs


def normalize(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def model_refs(name: str, model_dir: Path, images: list[Path], shared: Path) -> dict:
    spec = json.loads((model_dir / "model.json").read_text())
    im, tx = spec["image"], spec["text"]
    transform = ImageTransform.from_manifest(im)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    image_sess = ort.InferenceSession(str(model_dir / im["file"]), opts, providers=["CPUExecutionProvider"])
    text_sess = ort.InferenceSession(str(model_dir / tx["file"]), opts, providers=["CPUExecutionProvider"])
    pixels = np.stack([transform(p) for p in images]).astype(np.float32)
    image_emb = normalize(image_sess.run([im["output"]], {im["input"]: pixels})[0].astype(np.float64))
    tok = tok_mod.load(model_dir / spec["tokenizer"], tx["context_length"], tx["pad_token_id"])
    ids, mask = tok_mod.encode(tok, TEXTS, tx["context_length"], tx["pad_token_id"])
    text_emb = normalize(
        text_sess.run([tx["output"]], {tx["input_ids"]: ids, tx["attention_mask"]: mask})[0].astype(
            np.float64
        )
    )
    try:
        shown = model_dir.resolve().relative_to(REPO).as_posix()
    except ValueError:
        shown = str(model_dir.resolve())
    return {
        "name": name,
        "path": shown,
        "sha256": {f: sha256(model_dir / f) for f in (im["file"], tx["file"], spec["tokenizer"])},
        "images": [rel(p, shared) for p in images],
        "jpeg_decoded": [jpeg_decoded(p) for p in images],
        "image_embeds": [[float(f"{v:.8g}") for v in row] for row in image_emb],
        "texts": TEXTS,
        "input_ids": ids.tolist(),
        "text_embeds": [[float(f"{v:.8g}") for v in row] for row in text_emb],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--model", action="append", default=[], metavar="NAME=DIR", help="model folder to embed with"
    )
    ap.add_argument("--out", type=Path, default=PARITY_DIR / "refs.json")
    args = ap.parse_args()
    shared = find_shared_data()
    images = [shared / p for p in REAL_IMAGES] + write_generated()
    write_bad_models()
    refs = {
        "format_version": 1,
        "generated_by": "onnx-export/scripts/make_parity_refs.py",
        "onnxruntime": ort.__version__,
        "preprocess": preprocess_refs(images, shared),
        "models": [],
    }
    for spec in args.model:
        name, _, d = spec.partition("=")
        refs["models"].append(model_refs(name, Path(d), images, shared))
    args.out.write_text(json.dumps(refs, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
