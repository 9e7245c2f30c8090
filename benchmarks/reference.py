"""The reference Python pipeline: the work `eclip` does, written the way a user's script would do it.

This module owns the Python side of every benchmark in `benchmarks/run.py`:

- image embedding: decode with PIL, then the preprocessing of docs/formats.md §2.1 from
  `eclip_model.transform` (the same code training and export use), batches through an onnxruntime
  `InferenceSession` with the same intra-op thread count and batch size as the workbench, decoding of the
  next batch overlapped with inference by a thread pool (what a PyTorch `DataLoader` with workers does);
- text embedding: the `tokenizers` file with padding/truncation to the context length (§2.2);
- L2 normalisation, numpy similarities and retrieval ranks with the workbench's tie rule
  (rank = #greater + #equal at a smaller index, 0-based), and a scikit-learn LogisticRegression (lbfgs).

Decoding: `eclip_model.transform.decode_image` reads PNGs with the pure-Python `pypng` (it keeps all bits
of 16-bit RGB PNGs, which PIL cannot). That would make the reference several times slower than any real
user's script and flatter the workbench, so 8-bit PNGs, 16-bit gray PNGs and JPEGs are decoded with
PIL here (the same values: 8-bit / 255, 16-bit / 65535), and only 16-bit colour PNGs and DICOM go through
`decode_image`.

Run `python benchmarks/reference.py --help`; `run.py` calls the `embed` subcommand and imports the rest.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_SRC = Path(__file__).resolve().parents[1] / "onnx-export" / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

from eclip_model.transform import ImageTransform, decode_image  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_is_16bit_colour(path: Path) -> bool:
    """PIL reads 16-bit RGB(A) PNGs as 8-bit; those need `decode_image` (IHDR bit depth and colour type)."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if len(head) < 26 or head[:8] != PNG_SIGNATURE:
        return False
    bit_depth, colour_type = head[24], head[25]
    return bit_depth == 16 and colour_type in (2, 4, 6)


def decode(path: Path) -> np.ndarray:
    """`H x W x C` float32 in [0, 1], the values of docs/formats.md §2.1 step 1."""
    suffix = path.suffix.lower()
    if suffix in (".dcm", ".dicom") or (suffix == ".png" and _png_is_16bit_colour(path)):
        return decode_image(path).astype(np.float32)
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        mode = im.mode
        if mode in ("I;16", "I;16L", "I;16B", "I"):
            arr = np.asarray(im, dtype=np.float32)[:, :, None] / np.float32(65535.0)
        elif mode == "L":
            arr = np.asarray(im, dtype=np.float32)[:, :, None] / np.float32(255.0)
        elif mode in ("RGB", "RGBA", "LA"):
            arr = np.asarray(im, dtype=np.float32) / np.float32(255.0)
        elif mode == "F":
            arr = np.asarray(im, dtype=np.float32)[:, :, None]
        else:
            arr = np.asarray(im.convert("RGB"), dtype=np.float32) / np.float32(255.0)
    return arr


@dataclass
class Timers:
    """Seconds spent per phase; `ort` is the time inside `InferenceSession.run`."""

    load: float = 0.0
    ort: float = 0.0
    wait_decode: float = 0.0
    tokenize: float = 0.0
    total: float = 0.0
    images: int = 0
    texts: int = 0
    skipped: int = 0
    extra: dict[str, float] = field(default_factory=dict)


class ReferenceModel:
    """A model folder (docs/formats.md §2) opened with onnxruntime Python sessions."""

    def __init__(
        self, folder: str | Path, threads: int, providers: Sequence[str] = ("CPUExecutionProvider",)
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.manifest = json.loads((self.folder / "model.json").read_text(encoding="utf-8"))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        img, txt = self.manifest["image"], self.manifest["text"]
        self.image_session = ort.InferenceSession(
            str(self.folder / img["file"]), opts, providers=list(providers)
        )
        self.text_session = ort.InferenceSession(
            str(self.folder / txt["file"]), opts, providers=list(providers)
        )
        self.transform = ImageTransform.from_manifest(img)
        self.tokenizer = Tokenizer.from_file(str(self.folder / self.manifest["tokenizer"]))
        ctx, pad = int(txt["context_length"]), int(txt["pad_token_id"])
        self.tokenizer.enable_truncation(max_length=ctx)
        self.tokenizer.enable_padding(
            length=ctx, pad_id=pad, pad_token=self.tokenizer.id_to_token(pad) or "[PAD]"
        )

    def preprocess(self, path: Path) -> np.ndarray | None:
        """The model input for one file, or None when it cannot be read (the row is skipped, as in eclip)."""
        t = self.transform
        try:
            return t.normalize(t.unnormalized(decode(path)))
        except (OSError, ValueError) as exc:  # missing, truncated or undecodable: PIL/pypng raise these
            print(f"skipped {path}: {exc}", file=sys.stderr)
            return None

    def embed_images(
        self, paths: Sequence[Path], batch: int, workers: int, timers: Timers
    ) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings of the readable images in order, boolean mask of readable paths); decoding of batch
        k+1 runs while batch k is in ONNX Runtime."""
        img = self.manifest["image"]
        out = np.empty((len(paths), int(self.manifest["embed_dim"])), dtype=np.float32)
        ok = np.zeros(len(paths), dtype=bool)
        chunks = [paths[i : i + batch] for i in range(0, len(paths), batch)]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:

            def submit(chunk: Sequence[Path]) -> list:
                if workers == 0:  # serial: decode in this thread when the batch is needed, no overlap
                    return [_Done(self.preprocess, p) for p in chunk]
                return [pool.submit(self.preprocess, p) for p in chunk]

            pending = submit(chunks[0]) if chunks else []
            pos = 0
            for k in range(len(chunks)):
                t0 = time.perf_counter()
                arrays = [f.result() for f in pending]
                timers.wait_decode += time.perf_counter() - t0
                pending = submit(chunks[k + 1]) if k + 1 < len(chunks) else []
                good = [a for a in arrays if a is not None]
                ok[k * batch : k * batch + len(arrays)] = [a is not None for a in arrays]
                if not good:
                    continue
                t0 = time.perf_counter()
                emb = self.image_session.run([img["output"]], {img["input"]: np.stack(good)})[0]
                timers.ort += time.perf_counter() - t0
                out[pos : pos + len(emb)] = emb
                pos += len(emb)
        timers.images += pos
        return l2_normalize(out[:pos]), ok

    def embed_texts(self, texts: Sequence[str], batch: int, timers: Timers) -> np.ndarray:
        txt = self.manifest["text"]
        out = np.empty((len(texts), int(self.manifest["embed_dim"])), dtype=np.float32)
        for i in range(0, len(texts), batch):
            t0 = time.perf_counter()
            enc = self.tokenizer.encode_batch(list(texts[i : i + batch]))
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            t1 = time.perf_counter()
            emb = self.text_session.run(
                [txt["output"]], {txt["input_ids"]: ids, txt["attention_mask"]: mask}
            )[0]
            timers.ort += time.perf_counter() - t1
            timers.tokenize += t1 - t0
            out[i : i + len(emb)] = emb
        timers.texts += len(texts)
        return l2_normalize(out)


class _Done:
    """A deferred call with the `result()` of a future: the serial decoding mode's stand-in."""

    def __init__(self, fn: Callable[[Path], np.ndarray | None], arg: Path) -> None:
        self.fn, self.arg = fn, arg

    def result(self) -> np.ndarray | None:
        return self.fn(self.arg)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, np.float32(1e-12))).astype(np.float32)


def retrieval_ranks(queries: np.ndarray, candidates: np.ndarray, chunk: int | None = None) -> np.ndarray:
    """0-based rank of candidate i for query i: #greater + #equal at a smaller index (the workbench rule).

    `chunk=None` is the plain numpy way (the full N x N similarity matrix); a chunk size bounds memory to
    chunk x N.
    """
    n = len(queries)
    step = n if chunk is None else chunk
    ranks = np.empty(n, dtype=np.int64)
    idx = np.arange(n)
    for s in range(0, n, step):
        e = min(n, s + step)
        sims = queries[s:e] @ candidates.T
        own = sims[np.arange(e - s), idx[s:e]][:, None]
        greater = (sims > own).sum(axis=1)
        equal_before = ((sims == own) & (idx[None, :] < idx[s:e, None])).sum(axis=1)
        ranks[s:e] = greater + equal_before
    return ranks


def rank_checksum(ranks: np.ndarray) -> str:
    """sha256 of the int64 little-endian rank array: equal checksums = identical ranks."""
    return hashlib.sha256(np.ascontiguousarray(ranks, dtype="<i8").tobytes()).hexdigest()[:16]


def probe_fit(x: np.ndarray, y: np.ndarray, c: float, max_iter: int = 1000) -> object:
    """scikit-learn's multinomial LogisticRegression with lbfgs at inverse L2 strength `c`."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, solver="lbfgs", max_iter=max_iter).fit(x, y)


def read_manifest(csv_path: Path, splits: set[str] | None) -> list[tuple[int, Path, str, str]]:
    """(row index, image path, report, split) of the manifest rows in `splits` (all when None)."""
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for i, rec in enumerate(csv.DictReader(fh)):
            if splits is None or rec["split"] in splits:
                rows.append((i, (csv_path.parent / rec["image"]).resolve(), rec["report"], rec["split"]))
    return rows


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for s in range(0, n, size):
        yield s, min(n, s + size)


def cmd_embed(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    timers = Timers()
    model = ReferenceModel(args.model, args.threads, providers=args.providers.split(","))
    rows = read_manifest(Path(args.manifest), set(args.split) if args.split else None)
    timers.load = time.perf_counter() - t_start
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    prompts: list[str] = []
    if args.prompts:
        spec = json.loads(Path(args.prompts).read_text(encoding="utf-8"))
        for c in spec["classes"].values():
            prompts += [*c.get("positive", []), *c.get("negative", [])]
    by_split: dict[str, list[tuple[int, Path, str, str]]] = {}
    for r in rows:
        by_split.setdefault(r[3], []).append(r)
    for split, items in sorted(by_split.items()):
        image, ok = model.embed_images(
            [r[1] for r in items], args.batch, args.workers or args.threads, timers
        )
        kept = [r for r, good in zip(items, ok, strict=True) if good]
        timers.skipped += len(items) - len(kept)
        # Like eclip, embed each distinct text once (the workbench's cache is keyed by content), the
        # zero-shot prompts with the reports.
        unique = list(dict.fromkeys([*(r[2] for r in kept), *prompts]))
        index = {t: i for i, t in enumerate(unique)}
        all_text = model.embed_texts(unique, args.batch, timers)
        text = all_text[[index[r[2]] for r in kept]]
        np.savez(out_dir / f"{split}.npz", image=image, text=text, row=np.asarray([r[0] for r in kept]))
        prompts = []  # embedded once, with the first split
    timers.total = time.perf_counter() - t_start
    report = {k: v for k, v in vars(timers).items() if k != "extra"}
    report["ort_share"] = timers.ort / timers.total if timers.total > 0 else 0.0
    if args.timings:
        Path(args.timings).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("embed", help="embed images and reports of a manifest, one .npz per split")
    e.add_argument("--model", required=True, help="model folder (model.json, image.onnx, text.onnx, ...)")
    e.add_argument("--manifest", required=True, help="manifest CSV (docs/formats.md §1.1)")
    e.add_argument("--split", action="append", help="only these splits (repeatable); default all")
    e.add_argument("--out", required=True, help="folder for <split>.npz (arrays image, text, row)")
    e.add_argument(
        "--prompts", help="prompts JSON (docs/formats.md §1.2): its texts are embedded too, as eclip does"
    )
    e.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="onnxruntime intra-op threads")
    e.add_argument(
        "--workers",
        type=int,
        default=-1,
        help="decode threads overlapping inference (default = --threads; 0 = decode serially, no overlap)",
    )
    e.add_argument("--batch", type=int, default=32)
    e.add_argument("--providers", default="CPUExecutionProvider", help="comma-separated onnxruntime EPs")
    e.add_argument("--timings", help="write the phase timings as JSON here")
    e.set_defaults(func=cmd_embed)
    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
