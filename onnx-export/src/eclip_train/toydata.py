"""A tiny synthetic dataset in the docs/formats.md §1 layout, for tests and smoke runs.

Each class draws a bright blob at its own place on a noisy background and writes a report naming the
finding; rows of the train split get a gaze heatmap (a Gaussian on the blob) on every other row. It is
small enough to train a few steps in CI, and learnable enough that a broken loss would show.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ["cardiomegaly", "pleural_effusion", "pneumothorax", "consolidation", "edema"]
LABELS = [*CLASSES, "nodule", "no_finding"]
CENTRES = [(0.55, 0.5), (0.8, 0.2), (0.2, 0.25), (0.5, 0.8), (0.3, 0.6)]
REPORTS = {
    "cardiomegaly": "The heart is enlarged.",
    "pleural_effusion": "There is a pleural effusion at the left base.",
    "pneumothorax": "A right apical pneumothorax is seen.",
    "consolidation": "Consolidation in the right lower lobe.",
    "edema": "Findings of pulmonary edema.",
}


def _blob(size: int, cy: float, cx: float, sigma: float) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    return np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))


def write_toy_dataset(
    root: str | Path, per_split: dict[str, int] | None = None, size: int = 40, seed: int = 0
) -> Path:
    """Write `dataset.toml`, `manifest.csv`, `prompts.json`, images and heatmaps under `root`."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "heatmaps").mkdir(exist_ok=True)
    per_split = per_split or {"train": 40, "val": 5, "test": 10, "test_5x200": 10}
    rng = np.random.default_rng(seed)
    lines = ["image,report,split,patient,heatmap," + ",".join(LABELS)]
    k = 0
    for split, n in per_split.items():
        for i in range(n):
            c = i % len(CLASSES)
            cy, cx = CENTRES[c]
            img = 0.3 + 0.1 * rng.standard_normal((size, size)) + 0.6 * _blob(size, cy, cx, 0.1)
            name = f"images/{k:04d}.png"
            Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8), mode="L").save(root / name)
            heat = ""
            if split == "train" and i % 2 == 0:
                heat = f"heatmaps/{k:04d}.npy"
                np.save(root / heat, _blob(size, cy, cx, 0.12).astype(np.float32))
            labels = ",".join("1" if lab == CLASSES[c] else "0" for lab in LABELS)
            lines.append(f'{name},"{REPORTS[CLASSES[c]]}",{split},p{k},{heat},{labels}')
            k += 1
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    prompts = {
        "format_version": 1,
        "classes": {
            c: {"positive": [REPORTS[c], c.replace("_", " ")], "negative": [f"no {c.replace('_', ' ')}"]}
            for c in CLASSES
        },
    }
    (root / "prompts.json").write_text(json.dumps(prompts, indent=1), encoding="utf-8")
    toml = (
        'name = "toy"\nmanifest = "manifest.csv"\nprompts = "prompts.json"\n'
        f"labels = {json.dumps(LABELS)}\nzeroshot_classes = {json.dumps(CLASSES)}\n\n"
        '[splits]\ntrain = "train"\nval = "val"\ntest = "test"\nsingle_positive = "test_5x200"\n'
    )
    (root / "dataset.toml").write_text(toml, encoding="utf-8")
    return root


def tiny_resnet_image_config() -> dict:
    """The image section of a tiny two-stage ResNet (for `tiny_model_config()["image"]`)."""
    return {
        "kind": "resnet",
        "size": 32,
        "channels": 1,
        "mean": [0.5],
        "std": [0.25],
        "stage_widths": [8, 16],
        "stage_blocks": [1, 1],
    }


def tiny_model_config() -> dict:
    """A model config small enough for a few CI training steps (32 px, one layer per tower)."""
    return {
        "name": "test-tiny",
        "embed_dim": 16,
        "image": {
            "kind": "vit",
            "size": 32,
            "channels": 1,
            "mean": [0.5],
            "std": [0.25],
            "patch": 8,
            "width": 32,
            "layers": 1,
            "heads": 2,
        },
        "text": {"vocab_size": 200, "context_length": 16, "width": 32, "layers": 1, "heads": 2},
        "processor": {"patch": 8, "dim": 32, "heads": 2},
    }


# The tiny BERT's word-level vocabulary (plus its special tokens and a few "##" pieces).
TINY_BERT_TEXT = (
    "the heart is normal in size enlarged no acute cardiopulmonary process small bilateral left right "
    "pleural effusion effusions with mild pulmonary edema lungs are clear lung base lower lobe "
    "consolidation pneumothorax seen there a of and at findings opacity airspace silhouette cardiac "
    "stable unchanged moderate focal . ,"
)


def write_tiny_bert(out_dir: str | Path, seed: int = 0, layers: int = 3, max_length: int = 64) -> Path:
    """A randomly initialised tiny `transformers` BertModel with its WordPiece tokenizer (slow
    `vocab.txt` and fast `tokenizer.json`), saved offline with `save_pretrained`: the stand-in for a
    local Bio_ClinicalBERT in the text-encoder tests (hidden 32, 2 heads, `layers` layers)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = list(dict.fromkeys(TINY_BERT_TEXT.split()))
    vocab = [*specials, *words, *(f"##{s}" for s in ("s", "ed", "ing", "ly", "al"))]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    ids = {w: i for i, w in enumerate(vocab)}
    tok = BertTokenizerFast(vocab=ids, do_lower_case=True, model_max_length=max_length)
    tok.save_pretrained(out)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_length,
        pad_token_id=0,
    )
    BertModel(cfg).eval().save_pretrained(out)
    return out
