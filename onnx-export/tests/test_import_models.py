"""Importers on randomly initialised tiny open_clip and Hugging Face CLIP models (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from eclip_model import tokenizer as tok_mod
from eclip_train.evaluate import OnnxModel
from eclip_train.importers import import_hf_clip, import_open_clip, simple_tokenizer_to_json

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend

open_clip = pytest.importorskip("open_clip")
transformers = pytest.importorskip("transformers")

TEXTS = [
    "No acute cardiopulmonary process.",
    "Heart size is mildly ENLARGED;  small   left pleural effusion (2 cm), isn't it?",
    "Tubes & lines: ET tube 4.5 cm above the carina... 123 mm",
    "word " * 100,
]
TINY = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def test_simple_tokenizer_conversion_matches_open_clip() -> None:
    simple = open_clip.get_tokenizer("ViT-B-32")
    tok = simple_tokenizer_to_json(simple, 77)
    want = simple(TEXTS).numpy()
    ids, mask = tok_mod.encode(tok, TEXTS, 77, pad_id=0)
    np.testing.assert_array_equal(ids, want)
    assert mask[0].sum() == int((want[0] != 0).sum())


def test_import_open_clip_random_tiny(tmp_path: Path) -> None:
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "eclip-test-tiny.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(cfg_dir)
    torch.manual_seed(0)
    manifest = import_open_clip("eclip-test-tiny", tmp_path / "oc")
    assert manifest["embed_dim"] == 16 and manifest["image"]["size"] == 32
    assert manifest["text"]["context_length"] == 24 and manifest["image"]["channels"] == 3
    m = OnnxModel(tmp_path / "oc")
    emb = m.embed_texts(TEXTS[:2])
    assert emb.shape == (2, 16)
    # the ONNX text graph agrees with open_clip's own tokenizer + encode_text
    torch.manual_seed(0)  # same random initialisation as the imported model
    model = open_clip.create_model("eclip-test-tiny", pretrained=None).eval()
    with torch.no_grad():
        want = torch.nn.functional.normalize(
            model.encode_text(open_clip.get_tokenizer("eclip-test-tiny")(TEXTS[:2]))
        )
    np.testing.assert_allclose(emb, want.numpy(), atol=1e-4)


def test_import_hf_clip_random_tiny(tmp_path: Path) -> None:
    from transformers import CLIPConfig, CLIPModel

    cfg = CLIPConfig(
        text_config={
            "vocab_size": 49408,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 24,
        },
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    src = tmp_path / "hf"
    CLIPModel(cfg).save_pretrained(str(src))
    tok = simple_tokenizer_to_json(open_clip.get_tokenizer("ViT-B-32"), 24)
    tok.save(str(src / "tokenizer.json"))
    (src / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<end_of_text>"}))
    (src / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5] * 3, "image_std": [0.2] * 3})
    )
    manifest = import_hf_clip(src, tmp_path / "out")
    assert manifest["embed_dim"] == 16 and manifest["text"]["pad_token_id"] == 49407
    assert manifest["image"]["mean"] == [0.5] * 3
    m = OnnxModel(tmp_path / "out")
    assert m.embed_pixels(np.random.default_rng(0).normal(size=(3, 3, 32, 32)).astype(np.float32)).shape == (
        3,
        16,
    )
