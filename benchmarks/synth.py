"""Inputs the benchmarks generate on the fly (never committed): datasets and randomly initialised models.

This module owns making benchmark inputs reproducible from a seed:

- `synthetic_dataset`: N chest-X-ray-like 8-bit gray PNGs (smooth body/lung phantom, random blobs and a
  little noise, so they decode and compress like real radiographs rather than like pure noise), one-line
  reports from a radiology vocabulary, random labels, written as a dataset folder (docs/formats.md §1);
- `subset_dataset`: a dataset folder holding only some splits of an existing one (paths rewritten), so the
  workbench and the reference embed exactly the same rows;
- `random_model`: a model folder (docs/formats.md §2) exported through `onnx-export` (`eclip_model` +
  `eclip_train.export`, the same code path as trained models) from a named configuration such as
  `vit-b-16`, with random weights, and optionally its float16 copy (`eclip_model.precision`).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

_SRC = Path(__file__).resolve().parents[1] / "onnx-export" / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

from eclip_data import LABELS as _LABELS  # noqa: E402  (after the sys.path entry above)
from eclip_data import ZEROSHOT_CLASSES  # noqa: E402

# The demo dataset's label set, so synthetic sets read like the bundled one.
LABELS = list(_LABELS)
ZEROSHOT = list(ZEROSHOT_CLASSES)
FINDINGS = [
    "the heart is enlarged",
    "heart size is normal",
    "small left pleural effusion",
    "moderate bilateral pleural effusions",
    "no pleural effusion",
    "right apical pneumothorax",
    "no pneumothorax",
    "a small nodule in the right upper lobe",
    "patchy consolidation at the left base",
    "mild pulmonary edema",
    "lungs are clear",
    "no acute cardiopulmonary process",
    "stable mediastinal contours",
    "degenerative changes of the thoracic spine",
]
READY_FILE = ".complete"


def _phantom(rng: np.random.Generator, size: int, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    body = np.exp(-(((xx / 0.85) ** 2 + (yy / 0.95) ** 2) ** 3))
    lungs = np.zeros_like(xx)
    for cx in (-0.38, 0.38):
        lungs += np.exp(-((((xx - cx) / 0.27) ** 2 + ((yy + 0.05) / 0.55) ** 2) ** 2))
    img = 0.25 + 0.55 * body - 0.35 * lungs * rng.uniform(0.7, 1.0)
    for _ in range(int(rng.integers(0, 4))):
        cx, cy, r = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(0.03, 0.15)
        img += rng.uniform(0.05, 0.25) * np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / r**2))
    img += rng.normal(0.0, 0.01, size=img.shape)
    return np.clip(img, 0.0, 1.0)


def synthetic_dataset(out: str | Path, n: int, size: int = 256, seed: int = 0) -> Path:
    """Write (or reuse when complete with the same parameters) `n` images + manifest; returns dataset.toml."""
    from PIL import Image

    out = Path(out)
    params = {"n": n, "size": size, "seed": seed, "version": 1}
    done = out / READY_FILE
    if done.exists() and json.loads(done.read_text(encoding="utf-8")) == params:
        return out / "dataset.toml"
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    coords = np.linspace(-1.0, 1.0, size)
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "report", "split", "patient", *LABELS])
        for i in range(n):
            name = f"images/{i:06d}.png"
            pixels = (_phantom(rng, size, yy, xx) * 255.0 + 0.5).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(out / name, compress_level=1)
            k = int(rng.integers(1, 4))
            report = ". ".join(
                FINDINGS[j] for j in rng.choice(len(FINDINGS), size=k, replace=False)
            ).capitalize()
            labels = (rng.random(len(LABELS)) < 0.2).astype(int).tolist()
            w.writerow([name, report + ".", "test", f"p{i:06d}", *labels])
    _write_prompts(out / "prompts.json")
    _write_toml(out / "dataset.toml", f"synthetic-{n}", {"train": "test", "val": "test", "test": "test"})
    done.write_text(json.dumps(params), encoding="utf-8")
    return out / "dataset.toml"


def _write_prompts(path: Path) -> None:
    classes = {
        c: {
            "positive": [c.replace("_", " "), f"there is {c.replace('_', ' ')}"],
            "negative": [f"no {c.replace('_', ' ')}"],
        }
        for c in ZEROSHOT
    }
    path.write_text(json.dumps({"format_version": 1, "classes": classes}, indent=1) + "\n", encoding="utf-8")


def _write_toml(
    path: Path,
    name: str,
    splits: dict[str, str],
    labels: list[str] | None = None,
    zeroshot: list[str] | None = None,
    prompts: str = "prompts.json",
) -> None:
    lines = [
        f'name = "{name}"',
        'manifest = "manifest.csv"',
        f'prompts = "{prompts}"',
        "labels = [" + ", ".join(f'"{x}"' for x in (labels or LABELS)) + "]",
        "zeroshot_classes = [" + ", ".join(f'"{x}"' for x in (zeroshot or ZEROSHOT)) + "]",
        "",
        "[splits]",
        *(f'{k} = "{v}"' for k, v in splits.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def subset_dataset(
    dataset_toml: str | Path, keep: set[str], out: str | Path, limit: int | None = None
) -> Path:
    """A copy of a dataset folder's manifest with only the splits in `keep` (at most `limit` rows, the first
    ones); every split role maps to the first kept split."""
    import os

    import tomllib

    src = Path(dataset_toml).resolve()
    spec = tomllib.loads(src.read_text(encoding="utf-8"))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = src.parent / spec["manifest"]
    with (
        open(manifest, newline="", encoding="utf-8") as fh_in,
        open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh_out,
    ):
        reader = csv.DictReader(fh_in)
        fields = list(reader.fieldnames or [])
        w = csv.DictWriter(fh_out, fieldnames=fields)
        w.writeheader()
        kept = 0
        for rec in reader:
            if rec["split"] in keep and (limit is None or kept < limit):
                kept += 1
                for col in ("image", "heatmap"):
                    if rec.get(col):
                        rec[col] = os.path.relpath(manifest.parent / rec[col], out)
                w.writerow(rec)
    prompts = os.path.relpath(src.parent / spec["prompts"], out)
    first = sorted(keep)[0]
    _write_toml(
        out / "dataset.toml",
        f"{spec.get('name', 'data')}-{'+'.join(sorted(keep))}",
        {"train": first, "val": first, "test": first},
        spec["labels"],
        spec["zeroshot_classes"],
        prompts,
    )
    return out / "dataset.toml"


def head_dataset(dataset_toml: str | Path, n: int, out: str | Path) -> Path:
    """The first `n` rows of the `test` split of a dataset (e.g. a few synthetic images for a big model)."""
    return subset_dataset(dataset_toml, {"test"}, out, limit=n)


def random_model(config: str, out: str | Path, seed: int = 0, fp16: bool = False) -> Path:
    """Export a randomly initialised CLIP of a named `eclip_model` configuration; reused when present."""
    out = Path(out)
    params = {"config": config, "seed": seed, "version": 1}
    done = out / READY_FILE
    if not (done.exists() and json.loads(done.read_text(encoding="utf-8")) == params):
        import torch

        from eclip_model import tokenizer as tok_mod
        from eclip_model.clip import CLIP
        from eclip_model.config import load_model_config
        from eclip_train.checkpoint import export_clip

        cfg = load_model_config(config)
        rng = np.random.default_rng(seed)
        texts = [". ".join(rng.choice(FINDINGS, size=3)) for _ in range(400)]
        tok = tok_mod.train_wordpiece(
            texts, vocab_size=cfg.text.vocab_size, context_length=cfg.text.context_length
        )
        torch.manual_seed(seed)
        model = CLIP(cfg, tok.get_vocab_size()).eval()
        export_clip(
            model,
            tok,
            out,
            f"{config}-random",
            {"variant": "random-init", "seed": seed, "config": config},
        )
        done.write_text(json.dumps(params), encoding="utf-8")
    if fp16:
        from eclip_model.precision import to_fp16

        half = out.parent / f"{out.name}-fp16"
        if not (half / READY_FILE).exists():
            to_fp16(out, half)
            (half / READY_FILE).write_text(json.dumps(params), encoding="utf-8")
        return half
    return out


def main() -> int:
    import argparse

    p = argparse.ArgumentParser(description="Generate benchmark inputs (datasets, random models).")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dataset")
    d.add_argument("out")
    d.add_argument("--n", type=int, default=10_000)
    d.add_argument("--size", type=int, default=256)
    d.add_argument("--seed", type=int, default=0)
    m = sub.add_parser("model")
    m.add_argument("out")
    m.add_argument("--config", default="vit-b-16")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--fp16", action="store_true", help="also write <out>-fp16 and print its path")
    args = p.parse_args()
    if args.cmd == "dataset":
        print(synthetic_dataset(args.out, args.n, args.size, args.seed))
    else:
        print(random_model(args.config, args.out, args.seed, args.fp16))
    return 0


if __name__ == "__main__":
    sys.exit(main())
