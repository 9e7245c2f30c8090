"""The losses of `eclip_model.loss`: InfoNCE against a hand-computed case, the whole eCLIP step loss
against the same formula written out independently here, and lambda = 1 reducing eCLIP to CLIP.

(The move of the loss into `eclip_model.loss` and the split of `train()` were also checked once against
the code before the move: 12-step toy runs of clip, eclip (both heatmap scalings), naive,
random-heatmaps and no-curriculum gave identical logs and weights, max difference 0.)"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from eclip_model.clip import CLIP
from eclip_model.config import ModelConfig
from eclip_model.loss import ExpertBatch, eclip_loss, info_nce, weighted_loss
from eclip_model.processor import HeatmapProcessor, scale_heatmaps
from eclip_train.toydata import tiny_model_config

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


def _setup() -> tuple[CLIP, HeatmapProcessor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
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
    return model, hp, images, ids, mask, heat


def test_lambda_one_eclip_loss_equals_clip_loss() -> None:
    model, hp, images, ids, mask, heat = _setup()
    expert = ExpertBatch(images[3:], scale_heatmaps(heat), ids[3:], mask[3:], lam=1.0)
    with torch.no_grad():
        eclip = eclip_loss(model, hp, images[:3], ids[:3], mask[:3], expert).total
        clip = eclip_loss(model, None, images, ids, mask).total
        assert float(eclip) == pytest.approx(float(clip), abs=1e-6)
        # and with lambda < 1 the processed image changes the loss
        expert.lam = 0.3
        mixed = eclip_loss(model, hp, images[:3], ids[:3], mask[:3], expert).total
        assert abs(float(mixed) - float(clip)) > 1e-5


def test_eclip_step_loss_matches_the_formula_written_out() -> None:
    model, hp, images, ids, mask, heat = _setup()
    lam, w = 0.4, 0.3
    h = scale_heatmaps(heat, per_image=False)
    with torch.no_grad():
        parts = eclip_loss(
            model,
            hp,
            images[:3],
            ids[:3],
            mask[:3],
            ExpertBatch(images[3:], h, ids[3:], mask[3:], lam),
            prime=True,
            prime_weight=w,
        )
        # independently: I^lambda, one InfoNCE over the 6 pairs (cross-entropy both ways), MSE priming
        mixed = lam * images[3:] + (1 - lam) * hp(images[3:], h)
        x = F.normalize(model.image_proj(model.visual(torch.cat([images[:3], mixed]))), dim=-1)
        y = F.normalize(model.text_proj(model.text(ids, mask)), dim=-1)
        logits = (x @ y.t()) / model.temperature()
        ce = -torch.log_softmax(logits, dim=1).diag().mean() - torch.log_softmax(logits, dim=0).diag().mean()
        prime = ((hp(images[:3], torch.ones(3, 1, 32, 32)) - images[:3]) ** 2).mean()
        want = (1 - w) * ce / 2 + w * prime
    assert float(parts.clip) == pytest.approx(float(ce / 2), abs=1e-5)
    assert parts.prime is not None and float(parts.prime) == pytest.approx(float(prime), abs=1e-6)
    assert float(parts.total) == pytest.approx(float(want), abs=1e-5)
    assert float(weighted_loss(parts.clip, None, w)) == float(parts.clip)
