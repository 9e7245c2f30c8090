"""Fine-tuning existing models (`--init open-clip:ARCH`, `--init hf:DIR`, `--image-tower timm:NAME
--text-tower hf:DIR`) on the toy dataset for a few steps, then the export and its parity check. All models
are tiny, randomly initialised and built offline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from eclip_model import tokenizer as tok_mod
from eclip_train.cli import main as cli_main
from eclip_train.evaluate import OnnxModel
from eclip_train.toydata import REPORTS, write_toy_dataset

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend

open_clip = pytest.importorskip("open_clip")
transformers = pytest.importorskip("transformers")
timm = pytest.importorskip("timm")

TINY_OC = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TIMM_KW = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2}


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "data")


def tiny_hf_clip(folder: Path) -> Path:
    from transformers import CLIPConfig, CLIPModel

    from eclip_train.importers import simple_tokenizer_to_json

    cfg = CLIPConfig(
        text_config={
            "vocab_size": 49408,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "max_position_embeddings": 24,
        },
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(str(folder))
    tok = simple_tokenizer_to_json(open_clip.get_tokenizer("ViT-B-32"), 24)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<end_of_text>"}))
    return folder


def tiny_bert(folder: Path) -> Path:
    from transformers import BertConfig, BertModel

    tok = tok_mod.train_wordpiece(list(REPORTS.values()) * 3, vocab_size=200, context_length=24)
    cfg = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=32,
        pad_token_id=tok.token_to_id("[PAD]"),
    )
    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(str(folder))
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"pad_token": "[PAD]"}))
    return folder


def _train(toy: Path, tmp: Path, *extra: str, variant: str = "eclip") -> dict:
    args = ["train", "--variant", variant, "--data", str(toy), "--steps", "3", "--batch-size", "8"]
    args += ["--out", str(tmp / "run"), "--export", str(tmp / "model"), "--no-progress", "--log-every", "1"]
    assert cli_main([*args, *extra]) == 0
    log = [json.loads(x) for x in (tmp / "run" / "log.jsonl").read_text().splitlines()]
    assert len(log) == 3 and all(math.isfinite(r["loss"]) for r in log)
    manifest = json.loads((tmp / "model" / "model.json").read_text())
    assert max(manifest["provenance"]["export_parity_max_abs_diff"].values()) <= 1e-4
    return manifest


def _embeds(folder: Path, channels: int, size: int) -> None:
    m = OnnxModel(folder)
    pixels = np.random.default_rng(0).normal(size=(2, channels, size, size)).astype(np.float32)
    x, y = m.embed_pixels(pixels), m.embed_texts(["The heart is enlarged.", "No effusion."])
    assert x.shape == y.shape and np.allclose(np.linalg.norm(x, axis=1), 1)


def test_finetune_hf_clip_folder(toy: Path, tmp_path: Path) -> None:
    src = tiny_hf_clip(tmp_path / "hf")
    (src / "processor_config.json").write_text(
        json.dumps({"image_processor": {"image_mean": [0.5] * 3, "image_std": [0.5] * 3, "resample": 3}})
    )
    manifest = _train(toy, tmp_path, "--init", f"hf:{src}")
    assert manifest["family"] == "hf-clip" and manifest["image"]["mean"] == [0.5] * 3
    assert manifest["image"]["size"] == 32 and manifest["text"]["pad_token_id"] == 49407
    assert manifest["provenance"]["original_resize"] == "bicubic"
    assert manifest["image"]["resize"] == "shortest_edge_bilinear_center_crop"  # trained on our resize
    assert (tmp_path / "model" / "tokenizer.json").read_bytes() == (src / "tokenizer.json").read_bytes()
    _embeds(tmp_path / "model", 3, 32)
    # the processor adapted to the model: 3 channels, the model's patch 8
    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert ckpt["processor"]["embed.weight"].shape[1:] == (3, 8, 8)


def test_finetune_open_clip_arch(toy: Path, tmp_path: Path) -> None:
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "eclip-train-tiny.json").write_text(json.dumps(TINY_OC))
    open_clip.add_model_config(cfg_dir)
    manifest = _train(toy, tmp_path, "--init", "open-clip:eclip-train-tiny", variant="naive")
    assert manifest["family"] == "open_clip:eclip-train-tiny" and manifest["embed_dim"] == 16
    assert manifest["text"]["context_length"] == 24 and manifest["text"]["pad_token_id"] == 0
    _embeds(tmp_path / "model", 3, 32)
    # --init-checkpoint: the weights come from the local file (lr 0: nothing moves in one step)
    torch.manual_seed(7)
    weights = open_clip.create_model("eclip-train-tiny", pretrained=None).state_dict()
    torch.save(weights, tmp_path / "oc.pt")
    run = tmp_path / "run2"
    args = [
        "train",
        "--variant",
        "clip",
        "--data",
        str(toy),
        "--steps",
        "1",
        "--batch-size",
        "8",
        "--lr",
        "0",
    ]
    args += ["--init", "open-clip:eclip-train-tiny", "--init-checkpoint", str(tmp_path / "oc.pt")]
    assert cli_main([*args, "--out", str(run), "--no-progress"]) == 0
    trained = torch.load(run / "checkpoint.pt", weights_only=False)
    assert trained["provenance"]["init_checkpoint"] == str(tmp_path / "oc.pt")
    for k, v in weights.items():
        assert torch.equal(trained["model"][f"model.{k}"], v), k


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_timm_image_tower_with_hf_text_tower(toy: Path, tmp_path: Path, pooling: str) -> None:
    text_dir = tiny_bert(tmp_path / "bert")
    image = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0, in_chans=1, **TIMM_KW)
    torch.save(image.state_dict(), tmp_path / "timm.pt")
    config = tmp_path / "towers.json"
    config.write_text(json.dumps({"image_kwargs": TIMM_KW, "channels": 1, "embed_dim": 24}))
    manifest = _train(
        toy,
        tmp_path,
        "--config",
        str(config),
        "--image-tower",
        "timm:vit_tiny_patch16_224",
        "--image-weights",
        str(tmp_path / "timm.pt"),
        "--text-tower",
        f"hf:{text_dir}",
        "--text-pooling",
        pooling,
    )
    assert manifest["embed_dim"] == 24 and manifest["image"]["channels"] == 1
    assert manifest["provenance"]["text_pooling"] == pooling
    assert manifest["text"]["context_length"] == 32
    assert (tmp_path / "model" / "tokenizer.json").read_bytes() == (text_dir / "tokenizer.json").read_bytes()
    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert "image_proj.bias" not in ckpt["model"] and "text_proj.bias" not in ckpt["model"]
    _embeds(tmp_path / "model", 1, 32)


def test_bad_tower_arguments_are_refused(toy: Path, tmp_path: Path) -> None:
    base = ["train", "--data", str(toy), "--out", str(tmp_path / "r"), "--steps", "1", "--no-progress"]
    assert cli_main([*base, "--image-tower", "timm:vit_tiny_patch16_224"]) == 2  # text tower missing
    assert cli_main([*base, "--init", "hf:" + str(tmp_path / "missing")]) == 2
    assert cli_main([*base, "--init", "open-clip:no-such-arch"]) == 2


@pytest.mark.parametrize(
    ("name", "tower"),
    [
        ("authors-swin-t", "swin_tiny_patch4_window7_224"),
        ("authors-vit-s", "vit_small_patch16_224.augreg_in21k_ft_in1k"),
        ("authors-vit-b", "vit_base_patch16_224"),
    ],
)
def test_authors_backbone_configs(name: str, tower: str) -> None:
    from eclip_train.cli import config_file
    from eclip_train.train import TrainConfig

    values = json.loads(config_file(name).read_text())
    cfg = TrainConfig.build(values, text_tower="hf:/models/Bio_ClinicalBERT")
    assert cfg.image_tower == f"timm:{tower}" and timm.is_model(tower)
    assert (cfg.text_pooling, cfg.embed_dim, cfg.context_length) == ("cls", 512, 128)
    assert cfg.code_defaults and cfg.augment and cfg.heatmap_scaling == "batch-max"
    with pytest.raises(ValueError, match="Bio_ClinicalBERT"):
        TrainConfig.build(values)  # the text tower's folder must be given


def test_finetune_from_own_pretraining_checkpoint(toy: Path, tmp_path: Path) -> None:
    from eclip_train.toydata import tiny_model_config

    model_cfg = tmp_path / "tiny.json"
    model_cfg.write_text(json.dumps(tiny_model_config()))
    pre = ["train", "--variant", "clip", "--model", str(model_cfg), "--data", str(toy), "--steps", "2"]
    assert cli_main([*pre, "--batch-size", "8", "--out", str(tmp_path / "pre"), "--no-progress"]) == 0
    ckpt = tmp_path / "pre" / "checkpoint.pt"
    manifest = _train(toy, tmp_path, "--init", f"ckpt:{ckpt}")
    assert manifest["family"] == tiny_model_config()["name"]
    assert manifest["provenance"]["init"] == f"ckpt:{ckpt}"
    assert manifest["provenance"]["init_provenance"]["variant"] == "clip"
    pre_tok = json.loads(torch.load(ckpt, weights_only=False)["tokenizer"])["model"]["vocab"]
    assert json.loads((tmp_path / "model" / "tokenizer.json").read_text())["model"]["vocab"] == pre_tok
