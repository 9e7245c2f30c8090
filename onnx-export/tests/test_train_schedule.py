"""Curriculum p(step), Beta sampling of lambda, learning-rate schedule, optimiser groups, config defaults."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from eclip_model.clip import CLIP
from eclip_model.config import ModelConfig, ProcessorConfig
from eclip_model.processor import HeatmapProcessor
from eclip_train.schedule import Curriculum, lr_factor, sample_lambda
from eclip_train.toydata import tiny_model_config
from eclip_train.train import TrainConfig, expert_probability, param_groups

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend


@pytest.mark.parametrize("floor", [0.1, 0.05])
def test_curriculum_values(floor: float) -> None:
    c = Curriculum(floor=floor)
    assert c(0.0) == 0.0
    assert c(0.099) == 0.0
    assert c(0.10) == pytest.approx(0.05)
    assert c(0.25) == pytest.approx(0.275)  # halfway up the rise 0.05 -> 0.5
    assert c(0.40) == pytest.approx(0.5)
    assert c(0.60) == pytest.approx((0.5 + floor) / 2)  # halfway down
    assert c(0.80) == pytest.approx(floor)
    assert c(1.00) == pytest.approx(floor)


def test_curriculum_mean_is_the_average_of_p() -> None:
    c = Curriculum()
    grid = np.linspace(0, 1, 200001)
    assert c.mean() == pytest.approx(np.mean([c(f) for f in grid]), abs=1e-4)


def test_variant_probabilities() -> None:
    def p(variant: str, step: int) -> float:
        return expert_probability(TrainConfig.build(variant=variant, steps=100), step)

    assert p("clip", 50) == 0.0
    assert (
        p("eclip", 5) == 0.0 and p("eclip", 40) == pytest.approx(0.5) and p("eclip", 90) == pytest.approx(0.1)
    )
    assert p("naive", 0) == 1.0 and p("naive", 99) == 1.0
    assert p("no-curriculum", 0) == p("no-curriculum", 70) == pytest.approx(Curriculum().mean())


def test_beta_sampling_matches_beta_distribution() -> None:
    rng = np.random.default_rng(0)
    for alpha in (0.3, 0.2):
        draws = np.array([sample_lambda(rng, alpha) for _ in range(4000)])
        assert draws.min() >= 0 and draws.max() <= 1
        assert stats.kstest(draws, stats.beta(alpha, alpha).cdf).pvalue > 0.01
        assert draws.var() == pytest.approx(1 / (4 * (2 * alpha + 1)), rel=0.1)
    # U-shaped: most mass near 0 and 1 for alpha < 1
    draws = np.array([sample_lambda(rng, 0.3) for _ in range(2000)])
    assert np.mean((draws < 0.1) | (draws > 0.9)) > 0.5


def test_lr_warmup_then_cosine() -> None:
    total = 100
    assert lr_factor(0, total, 0.1) == pytest.approx(0.1)
    assert lr_factor(9, total, 0.1) == pytest.approx(1.0)
    assert lr_factor(10, total, 0.1) == pytest.approx(1.0)
    assert lr_factor(55, total, 0.1) == pytest.approx(0.5)
    assert lr_factor(99, total, 0.1) < 0.01


def test_paper_and_code_defaults() -> None:
    paper = TrainConfig.build()
    assert (paper.alpha, paper.p_floor, paper.prime_weight) == (0.3, 0.1, 0.1)
    # our choices where the paper says nothing
    assert (paper.heatmap_scaling, paper.augment, paper.normalization) == ("image-max", False, "model")
    code = TrainConfig.build(code_defaults=True)
    assert (code.alpha, code.p_floor, code.prime_weight, code.heatmap_scaling) == (
        0.2,
        0.05,
        0.3,
        "batch-max",
    )
    assert (code.augment, code.normalization) == (True, "authors")
    assert TrainConfig.build(code_defaults=True, alpha=0.5).alpha == 0.5  # explicit values win
    assert (paper.beta1, paper.beta2, paper.weight_decay, paper.grad_clip) == (0.9, 0.98, 1e-3, 1.0)
    with pytest.raises(ValueError):
        TrainConfig.build(variant="nope")
    with pytest.raises(ValueError, match="heatmap_scaling"):
        TrainConfig.build(heatmap_scaling="image")
    with pytest.raises(ValueError, match="init"):
        TrainConfig.build(init="timm:x")
    with pytest.raises(ValueError):
        TrainConfig.build({"lerning_rate": 1.0})


def test_param_groups_decay_and_processor_lr() -> None:
    cfg = ModelConfig.from_dict(tiny_model_config())
    model = CLIP(cfg, 50)
    hp = HeatmapProcessor(1, ProcessorConfig(patch=8, dim=32, heads=2))
    groups = param_groups(model, hp, TrainConfig.build())
    ids = {id(p): g for g in groups for p in g["params"]}
    assert len(ids) == sum(1 for _ in model.parameters()) + sum(1 for _ in hp.parameters())
    for name, p in model.named_parameters():
        g = ids[id(p)]
        assert g["lr_mult"] == 1.0
        no_decay = name.endswith("bias") or "norm" in name or name == "logit_scale"
        if no_decay:
            assert g["weight_decay"] == 0.0, name
    assert ids[id(model.image_proj.weight)]["weight_decay"] == 1e-3
    assert all(ids[id(p)]["lr_mult"] == 2.0 for p in hp.parameters())


def test_temperature_init_and_clamp() -> None:
    model = CLIP(ModelConfig.from_dict(tiny_model_config()), 50)
    assert model.temperature() == pytest.approx(0.07)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert model.temperature() == pytest.approx(0.01)
    model.clamp_temperature()
    assert float(model.logit_scale.detach()) == pytest.approx(np.log(100))
    with torch.no_grad():
        model.logit_scale.fill_(-5.0)
    assert model.temperature() == pytest.approx(2.0)
