"""InfoNCE against a hand-computed case; with lambda = 1 the eCLIP loss is CLIP's on the same pairs."""

from __future__ import annotations

import math

import pytest
import torch

from eclip_model.clip import CLIP
from eclip_model.config import ModelConfig
from eclip_model.processor import HeatmapProcessor
from eclip_train.losses import info_nce
from eclip_train.toydata import tiny_model_config
from eclip_train.train import ExpertBatch, contrastive_loss

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend


def test_info_nce_hand_computed() -> None:
    # two pairs at right angles: cos = [[1, 0], [0, 1]] for images vs texts, except text 1 tilted
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    s = math.sqrt(0.5)
    y = torch.tensor([[1.0, 0.0], [s, s]])
    scale = torch.tensor(2.0)
    # logits = 2 * x @ y.T = [[2, 2s], [0, 2s]]
    l00, l01, l10, l11 = 2.0, 2 * s, 0.0, 2 * s
    img_to_txt = (
        -(l00 - math.log(math.exp(l00) + math.exp(l01))) - (l11 - math.log(math.exp(l10) + math.exp(l11)))
    ) / 2
    txt_to_img = (
        -(l00 - math.log(math.exp(l00) + math.exp(l10))) - (l11 - math.log(math.exp(l01) + math.exp(l11)))
    ) / 2
    want = (img_to_txt + txt_to_img) / 2
    assert float(info_nce(x, y, scale)) == pytest.approx(want, abs=1e-6)


def test_info_nce_perfect_alignment_tends_to_zero() -> None:
    x = torch.eye(4)
    assert float(info_nce(x, x, torch.tensor(100.0))) < 1e-6
    assert float(info_nce(x, x, torch.tensor(1e-6))) == pytest.approx(math.log(4), abs=1e-5)


def test_lambda_one_eclip_loss_equals_clip_loss() -> None:
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict(tiny_model_config())
    model = CLIP(cfg, 60).eval()
    hp = HeatmapProcessor(1, cfg.processor)
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(6, 1, 32, 32, generator=gen)
    ids = torch.randint(4, 60, (6, 16), generator=gen)
    mask = torch.ones(6, 16, dtype=torch.long)
    mask[:, 10:] = 0
    heat = torch.rand(3, 1, 32, 32, generator=gen)
    expert = ExpertBatch(images[3:], heat, ids[3:], mask[3:], lam=1.0)
    with torch.no_grad():
        eclip = contrastive_loss(model, hp, images[:3], ids[:3], mask[:3], expert)
        clip = contrastive_loss(model, None, images, ids, mask)
        assert float(eclip) == pytest.approx(float(clip), abs=1e-6)
        # and with lambda < 1 the processed image changes the loss
        expert.lam = 0.3
        mixed = contrastive_loss(model, hp, images[:3], ids[:3], mask[:3], expert)
        assert abs(float(mixed) - float(clip)) > 1e-5
