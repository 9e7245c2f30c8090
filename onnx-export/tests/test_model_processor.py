"""Heatmap processor: shapes, gradient flow, heatmap scaling, and priming towards the identity."""

from __future__ import annotations

import torch

from eclip_model.config import ProcessorConfig
from eclip_model.loss import priming_loss
from eclip_model.processor import HeatmapProcessor, scale_heatmaps

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend


def _proc(channels: int = 1) -> HeatmapProcessor:
    torch.manual_seed(0)
    return HeatmapProcessor(channels, ProcessorConfig(patch=8, dim=32, heads=4))


def test_output_shape_matches_input() -> None:
    for channels in (1, 3):
        hp = _proc(channels)
        x = torch.randn(3, channels, 32, 48)
        assert hp(x, torch.rand(3, 1, 32, 48)).shape == x.shape


def test_gradients_reach_every_parameter_and_the_image() -> None:
    hp = _proc()
    x = torch.randn(2, 1, 32, 32, requires_grad=True)
    h = torch.rand(2, 1, 32, 32)
    hp(x, h).pow(2).mean().backward()
    for name, p in hp.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_heatmap_changes_output() -> None:
    hp = _proc()
    x = torch.randn(1, 1, 32, 32)
    h1 = torch.zeros(1, 1, 32, 32)
    h1[..., :16, :16] = 1
    h2 = torch.zeros(1, 1, 32, 32)
    h2[..., 16:, 16:] = 1
    assert (hp(x, h1) - hp(x, h2)).abs().max() > 1e-4


def test_scale_heatmaps_per_image_and_batch() -> None:
    h = torch.stack([torch.full((1, 4, 4), 2.0), torch.full((1, 4, 4), 4.0)])
    h[0, 0, 0, 0] = 0.0
    per_image = scale_heatmaps(h)
    assert per_image[0].max() == 1.0 and per_image[1].max() == 1.0 and per_image[0, 0, 0, 0] == 0.0
    batch = scale_heatmaps(h, per_image=False)
    assert batch[0].max() == 0.5 and batch[1].max() == 1.0
    assert scale_heatmaps(torch.zeros(1, 1, 4, 4)).abs().max() == 0.0


def test_priming_drives_processor_to_identity() -> None:
    # dim >= patch^2 * channels, so the patch embedding can carry every pixel (as 16x16x1 -> 256 does)
    torch.manual_seed(0)
    hp = HeatmapProcessor(1, ProcessorConfig(patch=4, dim=32, heads=2))
    gen = torch.Generator().manual_seed(1)
    opt = torch.optim.Adam(hp.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        x = torch.randn(8, 1, 16, 16, generator=gen)
        loss = priming_loss(hp, x)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = torch.randn(8, 1, 16, 16, generator=gen)  # unseen images
    with torch.no_grad():
        final = float(priming_loss(hp, x))
    assert final < 0.05 * first, (first, final)
    # identity on the all-ones heatmap means HP(I, 1) ~ I for unseen images too
    with torch.no_grad():
        rel = (hp(x, torch.ones_like(x)) - x).norm() / x.norm()
    assert rel < 0.25
