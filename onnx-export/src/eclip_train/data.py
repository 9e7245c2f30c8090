"""Reading a dataset folder (docs/formats.md §1) into tensors for training and evaluation.

This module owns the path from `dataset.toml` + manifest CSV to preprocessed image arrays, heatmaps and
report texts. Rows whose image cannot be read are skipped with a message naming the file and CSV line,
and counted. Images are preprocessed once with `eclip_model.transform` (the same code the exported
model's users run), so training sees exactly what evaluation sees.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from eclip_model.transform import ImageDecodeError, ImageTransform, decode_image, load_heatmap


class DatasetError(ValueError):
    """The dataset folder does not follow docs/formats.md §1; the message says what to fix."""


@dataclass
class Row:
    line: int  # 1-based line in the CSV (header = line 1)
    image: Path
    report: str
    split: str
    labels: dict[str, int]
    heatmap: Path | None
    patient: str = ""


@dataclass
class Dataset:
    root: Path
    toml: dict[str, Any]
    rows: list[Row]
    prompts: dict[str, Any]
    sha256: str
    skipped: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.toml.get("name", self.root.name))

    @property
    def labels(self) -> list[str]:
        return list(self.toml.get("labels", []))

    @property
    def zeroshot_classes(self) -> list[str]:
        return list(self.toml.get("zeroshot_classes", []))

    def split(self, role: str) -> list[Row]:
        """Rows of the split that plays `role` (train, val, test, single_positive)."""
        name = self.toml.get("splits", {}).get(role, role)
        return [r for r in self.rows if r.split == name]


def load_dataset(path: str | Path) -> Dataset:
    """Load `dataset.toml` (or a folder holding one), its manifest CSV and its prompts."""
    path = Path(path)
    toml_path = path / "dataset.toml" if path.is_dir() else path
    if not toml_path.exists():
        raise DatasetError(f"{toml_path}: not found (a dataset is a folder with a dataset.toml)")
    raw_toml = toml_path.read_bytes()
    try:
        meta = tomllib.loads(raw_toml.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{toml_path}: invalid TOML ({exc})") from exc
    root = toml_path.parent
    digest = hashlib.sha256(raw_toml)
    manifest = root / str(meta.get("manifest", "manifest.csv"))
    if not manifest.exists():
        raise DatasetError(f"{toml_path}: manifest {manifest} does not exist")
    raw_csv = manifest.read_bytes()
    digest.update(raw_csv)
    labels = list(meta.get("labels", []))
    rows = _parse_manifest(manifest, raw_csv.decode("utf-8-sig"), labels)
    prompts: dict[str, Any] = {}
    if "prompts" in meta:
        prompts_path = root / str(meta["prompts"])
        raw = prompts_path.read_bytes()
        digest.update(raw)
        prompts = json.loads(raw.decode("utf-8"))
    return Dataset(root=root, toml=meta, rows=rows, prompts=prompts, sha256=digest.hexdigest())


def _parse_manifest(manifest: Path, text: str, labels: list[str]) -> list[Row]:
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("image", "report", "split", *labels) if c not in (reader.fieldnames or [])]
    if missing:
        raise DatasetError(f"{manifest}: missing columns {missing}")
    rows = []
    base = manifest.parent
    for i, rec in enumerate(reader, start=2):
        heat = (rec.get("heatmap") or "").strip()
        try:
            lab = {name: int(rec[name]) for name in labels}
        except ValueError as exc:
            raise DatasetError(f"{manifest}:{i}: label values must be 0 or 1 ({exc})") from exc
        rows.append(
            Row(
                line=i,
                image=base / rec["image"],
                report=rec["report"],
                split=rec["split"],
                labels=lab,
                heatmap=base / heat if heat else None,
                patient=rec.get("patient", ""),
            )
        )
    return rows


def load_images(
    rows: list[Row], transform: ImageTransform, heatmaps: bool = False, log: Any = sys.stderr
) -> tuple[np.ndarray, np.ndarray | None, list[Row], list[str]]:
    """Preprocess the images of `rows` (normalised, `[N, C, S, S]` float32).

    With `heatmaps`, also returns `[N, 1, S, S]` heatmaps (zeros where a row has none). Unreadable rows
    are skipped with a message and returned in the skipped list; the kept rows are returned too.
    """
    images, heats, kept, skipped = [], [], [], []
    for row in rows:
        try:
            img = transform(row.image)
            heat = None
            if heatmaps:
                heat = (
                    load_heatmap(row.heatmap, transform.size)
                    if row.heatmap is not None
                    else np.zeros((transform.size, transform.size), np.float32)
                )
        except (ImageDecodeError, OSError, ValueError) as exc:
            msg = f"skipping CSV line {row.line}: {exc}"
            print(msg, file=log)
            skipped.append(msg)
            continue
        images.append(img)
        if heat is not None:
            heats.append(heat[None])
        kept.append(row)
    c, s = transform.channels, transform.size
    arr = np.stack(images) if images else np.zeros((0, c, s, s), np.float32)
    harr = (np.stack(heats) if heats else np.zeros((0, 1, s, s), np.float32)) if heatmaps else None
    return arr, harr, kept, skipped


__all__ = ["Dataset", "DatasetError", "Row", "decode_image", "load_dataset", "load_images"]
