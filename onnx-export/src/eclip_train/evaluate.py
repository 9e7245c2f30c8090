"""Evaluation of exported models with ONNX Runtime on a dataset (the figures of the training report).

For each model folder: zero-shot accuracy and macro-F1 on the single-positive split (class embedding =
normalize(mean of the normalised positive-prompt embeddings), prediction = argmax cosine), and the
embedding geometry of the test split's image-report pairs (method.md, Definitions):
modality gap ||mean x - mean y||, alignment mean ||x - y||^2, uniformity log mean_{i<j} exp(-2||u_i - u_j||^2)
per modality. This runs the exported graphs, not PyTorch, so it measures what the workbench will load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from eclip_model import tokenizer as tok_mod
from eclip_model.transform import ImageTransform

from .data import Dataset, Row, load_images
from .export import validate_manifest


def l2n(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def modality_gap(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.linalg.norm(x.mean(axis=0) - y.mean(axis=0)))


def alignment(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.sum((x - y) ** 2, axis=1)))


def uniformity(u: np.ndarray) -> float:
    sq = np.maximum(2.0 - 2.0 * (u @ u.T), 0.0)  # squared distances of unit vectors
    iu = np.triu_indices(len(u), k=1)
    return float(np.log(np.mean(np.exp(-2.0 * sq[iu]))))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Unweighted mean of the per-class F1 over the classes that occur in the truth or the predictions
    (scikit-learn's `f1_score(average="macro")` with its default labels; the workbench's definition).
    `n_classes` bounds the labels; a class neither true nor predicted does not count."""
    scores = []
    for c in range(n_classes):
        tp = np.sum((y_pred == c) & (y_true == c))
        fp = np.sum((y_pred == c) & (y_true != c))
        fn = np.sum((y_pred != c) & (y_true == c))
        denom = 2 * tp + fp + fn
        if denom:
            scores.append(2 * tp / denom)
    return float(np.mean(scores)) if scores else 0.0


class OnnxModel:
    """An exported model folder run with ONNX Runtime."""

    def __init__(self, folder: str | Path, threads: int = 0) -> None:
        self.folder = Path(folder)
        self.manifest = json.loads((self.folder / "model.json").read_text(encoding="utf-8"))
        validate_manifest(self.manifest)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        img, txt = self.manifest["image"], self.manifest["text"]
        self.image = ort.InferenceSession(
            str(self.folder / img["file"]), opts, providers=["CPUExecutionProvider"]
        )
        self.text = ort.InferenceSession(
            str(self.folder / txt["file"]), opts, providers=["CPUExecutionProvider"]
        )
        self.context_length = int(txt["context_length"])
        self.pad_id = int(txt["pad_token_id"])
        self.tokenizer = tok_mod.load(
            self.folder / self.manifest["tokenizer"], self.context_length, self.pad_id
        )

    @property
    def transform(self) -> ImageTransform:
        """The model's preprocessing (built on use: a resize rule `eclip_model.transform` does not
        implement fails here, not when only the graphs are needed)."""
        return ImageTransform.from_manifest(self.manifest["image"])

    def embed_pixels(self, pixels: np.ndarray, batch: int = 64) -> np.ndarray:
        img = self.manifest["image"]
        outs = [
            self.image.run([img["output"]], {img["input"]: pixels[i : i + batch]})[0]
            for i in range(0, len(pixels), batch)
        ]
        return l2n(np.concatenate(outs).astype(np.float64))

    def embed_texts(self, texts: list[str], batch: int = 64) -> np.ndarray:
        txt = self.manifest["text"]
        outs = []
        for i in range(0, len(texts), batch):
            ids, mask = tok_mod.encode(self.tokenizer, texts[i : i + batch], self.context_length, self.pad_id)
            outs.append(
                self.text.run([txt["output"]], {txt["input_ids"]: ids, txt["attention_mask"]: mask})[0]
            )
        return l2n(np.concatenate(outs).astype(np.float64))


def zero_shot(model: OnnxModel, pixels: np.ndarray, rows: list[Row], ds: Dataset) -> dict[str, Any]:
    classes = ds.zeroshot_classes
    prompts = ds.prompts.get("classes", {})
    missing = [c for c in classes if c not in prompts or not prompts[c].get("positive")]
    if missing:
        raise ValueError(f"{ds.root}: prompts.json has no positive prompts for {missing}")
    class_emb = l2n(np.stack([model.embed_texts(list(prompts[c]["positive"])).mean(axis=0) for c in classes]))
    truth, keep = [], []
    for i, r in enumerate(rows):
        pos = [k for k, c in enumerate(classes) if r.labels.get(c) == 1]
        if len(pos) == 1:
            truth.append(pos[0])
            keep.append(i)
    y = np.array(truth)
    pred = np.argmax(model.embed_pixels(pixels[keep]) @ class_emb.T, axis=1)
    return {"n": len(y), "accuracy": float(np.mean(pred == y)), "macro_f1": macro_f1(y, pred, len(classes))}


def geometry(model: OnnxModel, pixels: np.ndarray, rows: list[Row]) -> dict[str, Any]:
    x = model.embed_pixels(pixels)
    y = model.embed_texts([r.report for r in rows])
    return {
        "n": len(rows),
        "modality_gap": modality_gap(x, y),
        "alignment": alignment(x, y),
        "uniformity_image": uniformity(x),
        "uniformity_text": uniformity(y),
    }


def evaluate(model_dirs: list[str | Path], ds: Dataset, threads: int = 0) -> list[dict[str, Any]]:
    """Zero-shot and geometry figures for each model folder (images preprocessed once per transform)."""
    cache: dict[tuple, tuple[np.ndarray, list[Row], np.ndarray, list[Row]]] = {}
    results = []
    for folder in model_dirs:
        model = OnnxModel(folder, threads)
        t = model.transform
        key = (t.size, t.channels, tuple(t.mean), tuple(t.std))
        if key not in cache:
            sp_pix, _, sp_rows, _ = load_images(ds.split("single_positive"), t)
            te_pix, _, te_rows, _ = load_images(ds.split("test"), t)
            cache[key] = (sp_pix, sp_rows, te_pix, te_rows)
        sp_pix, sp_rows, te_pix, te_rows = cache[key]
        prov = model.manifest.get("provenance", {})
        results.append(
            {
                "model": str(folder),
                "name": model.manifest["name"],
                "variant": prov.get("variant"),
                "train_fraction": prov.get("train_fraction"),
                "train_seconds": prov.get("train_seconds"),
                "zero_shot": zero_shot(model, sp_pix, sp_rows, ds),
                "geometry": geometry(model, te_pix, te_rows),
            }
        )
    return results


def format_table(results: list[dict[str, Any]]) -> str:
    head = (
        f"{'model':<22}{'acc':>7}{'macroF1':>9}{'gap':>8}{'align':>8}{'unif_img':>10}{'unif_txt':>10}"
        f"{'train_s':>9}"
    )
    lines = [head]
    for r in results:
        z, g = r["zero_shot"], r["geometry"]
        secs = r["train_seconds"]
        lines.append(
            f"{r['name']:<22}{z['accuracy']:>7.3f}{z['macro_f1']:>9.3f}{g['modality_gap']:>8.3f}"
            f"{g['alignment']:>8.3f}{g['uniformity_image']:>10.3f}{g['uniformity_text']:>10.3f}"
            f"{secs if secs is not None else float('nan'):>9.1f}"
        )
    return "\n".join(lines)
