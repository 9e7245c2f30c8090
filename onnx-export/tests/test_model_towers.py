"""Configs, towers (ViT, ResNet, text), the CLIP wrapper and the tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from eclip_model import tokenizer as tok_mod
from eclip_model.clip import CLIP
from eclip_model.config import ModelConfig, load_model_config, named_configs
from eclip_train.toydata import REPORTS, tiny_model_config, tiny_resnet_image_config

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend


def test_named_configs_parse() -> None:
    assert {"vit-tiny", "resnet-tiny", "vit-small", "vit-b-16"} <= set(named_configs())
    for name in named_configs():
        cfg = load_model_config(name)
        assert cfg.name == name and cfg.embed_dim > 0
    b16 = load_model_config("vit-b-16")
    assert (b16.image.width, b16.image.layers, b16.image.patch, b16.image.size) == (768, 12, 16, 224)
    with pytest.raises(ValueError, match="no model config"):
        load_model_config("vit-huge")
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({"image": {"wdith": 3}})


@pytest.mark.parametrize("kind", ["vit", "resnet"])
def test_clip_towers_shapes_and_norm(kind: str) -> None:
    d = tiny_model_config()
    if kind == "resnet":
        d["image"] = tiny_resnet_image_config()
    model = CLIP(ModelConfig.from_dict(d), 50).eval()
    img = model.encode_image(torch.randn(3, 1, 32, 32))
    ids = torch.randint(0, 50, (4, 16))
    txt = model.encode_text(ids, torch.ones_like(ids))
    assert img.shape == (3, 16) and txt.shape == (4, 16)
    assert torch.allclose(img.norm(dim=1), torch.ones(3)) and torch.allclose(txt.norm(dim=1), torch.ones(4))


def test_resnet_tiny_config_builds() -> None:
    cfg = load_model_config("resnet-tiny")
    model = CLIP(cfg, 100).eval()
    assert model.encode_image(torch.randn(2, 1, cfg.image.size, cfg.image.size)).shape == (2, cfg.embed_dim)


def test_tokenizer_is_deterministic_and_pads(tmp_path) -> None:
    texts = list(REPORTS.values()) * 2 + ["an unseen wordzz"]
    a = tok_mod.train_wordpiece(texts, vocab_size=200, context_length=8, min_frequency=2)
    b = tok_mod.train_wordpiece(list(reversed(texts)), vocab_size=200, context_length=8, min_frequency=2)
    assert a.get_vocab() == b.get_vocab()
    ids, mask = tok_mod.encode(a, ["The heart is enlarged.", "edema " * 20], 8)
    assert ids.shape == (2, 8) and ids.dtype == np.int64
    assert ids[0, 0] == a.token_to_id("[CLS]") and mask[0].sum() < 8 and ids[0, mask[0].sum() :].max() == 0
    assert mask[1].sum() == 8 and ids[1, -1] == a.token_to_id("[SEP]")  # truncation keeps [SEP]
    a.save(str(tmp_path / "t.json"))
    on_disk = json.loads((tmp_path / "t.json").read_text())
    assert on_disk["padding"]["strategy"] == {"Fixed": 8} and on_disk["truncation"]["max_length"] == 8
    c = tok_mod.load(tmp_path / "t.json", 8, 0)
    np.testing.assert_array_equal(tok_mod.encode(c, ["The heart is enlarged."], 8)[0], ids[:1])
    # unseen words are spelled with character pieces, not dropped
    assert "[UNK]" not in a.encode("wordzz").tokens
