"""A few-step training of clip, eclip and naive on the toy dataset, then export and evaluation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from eclip_train.checkpoint import export_checkpoint
from eclip_train.cli import main as cli_main
from eclip_train.data import load_dataset
from eclip_train.evaluate import evaluate
from eclip_train.toydata import tiny_resnet_image_config
from eclip_train.train import TrainConfig, train

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend


def _log(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("variant", ["clip", "eclip", "naive"])
def test_smoke_train_export_evaluate(toy: tuple[Path, Path], tmp_path: Path, variant: str) -> None:
    data, model_cfg = toy
    cfg = TrainConfig.build(
        variant=variant,
        model=str(model_cfg),
        data=str(data),
        steps=12,
        batch_size=8,
        lr=1e-3,
        seed=0,
        out=str(tmp_path / "run"),
        log_every=1,
    )
    run = train(cfg, progress=False)
    log = _log(run)
    assert len(log) == 12 and all(math.isfinite(r["loss"]) for r in log)
    if variant == "clip":
        assert all(not r["expert"] and r["prime_loss"] is None for r in log)
    else:
        assert log[0]["prime_loss"] is not None  # cold start primes the processor
        assert all(r["prime_loss"] is None for r in log[2:])
    if variant == "naive":
        assert all(r["expert"] and r["lambda"] == 0.0 for r in log)
    manifest = export_checkpoint(run / "checkpoint.pt", tmp_path / "model")
    prov = manifest["provenance"]
    assert prov["variant"] == variant and prov["steps"] == 12 and prov["seed"] == 0
    assert prov["train_fraction"] == 1.0 and prov["pairs"] == 40 and prov["expert_pairs"] == 20
    [res] = evaluate([tmp_path / "model"], load_dataset(data))
    assert res["zero_shot"]["n"] == 10 and 0 <= res["zero_shot"]["accuracy"] <= 1
    assert all(math.isfinite(v) for v in res["geometry"].values())


def test_same_seed_same_main_batches_across_variants(toy: tuple[Path, Path], tmp_path: Path) -> None:
    data, model_cfg = toy
    losses = {}
    for variant in ("clip", "no-mixup"):
        cfg = TrainConfig.build(
            variant=variant,
            model=str(model_cfg),
            data=str(data),
            steps=2,
            batch_size=8,
            seed=5,
            out=str(tmp_path / variant),
            log_every=1,
        )
        losses[variant] = _log(train(cfg, progress=False))[0]["clip_loss"]
    # step 0 is in the cold start: no expert batch, same init, same batch -> same InfoNCE
    assert losses["clip"] == pytest.approx(losses["no-mixup"], abs=1e-6)


def test_cli_train_with_fraction_and_export(toy: tuple[Path, Path], tmp_path: Path) -> None:
    data, model_cfg = toy
    config = tmp_path / "train.json"
    config.write_text(json.dumps({"variant": "eclip", "model": str(model_cfg), "steps": 3, "batch_size": 8}))
    rc = cli_main(
        [
            "train",
            "--config",
            str(config),
            "--data",
            str(data),
            "--train-fraction",
            "0.5",
            "--out",
            str(tmp_path / "run"),
            "--export",
            str(tmp_path / "model"),
            "--no-progress",
        ]
    )
    assert rc == 0
    manifest = json.loads((tmp_path / "model" / "model.json").read_text())
    assert manifest["provenance"]["train_fraction"] == 0.5
    assert manifest["provenance"]["pairs"] == 20 + 10  # all 20 expert pairs + half of the other 20
    assert (
        cli_main(["train", "--variant", "eclip", "--data", str(tmp_path / "nope"), "--out", str(tmp_path)])
        == 2
    )


def test_resnet_backbone_trains_with_eclip_and_exports(toy: tuple[Path, Path], tmp_path: Path) -> None:
    data, model_cfg = toy
    cfg_dict = json.loads(model_cfg.read_text())
    cfg_dict["image"] = tiny_resnet_image_config()
    resnet_cfg = tmp_path / "resnet.json"
    resnet_cfg.write_text(json.dumps(cfg_dict))
    cfg = TrainConfig.build(
        variant="naive",
        model=str(resnet_cfg),
        data=str(data),
        steps=3,
        batch_size=8,
        out=str(tmp_path / "run"),
        log_every=1,
    )
    run = train(cfg, progress=False)
    assert all(r["expert"] for r in _log(run))
    manifest = export_checkpoint(run / "checkpoint.pt", tmp_path / "model")
    assert manifest["provenance"]["export_parity_max_abs_diff"]["image"] <= 1e-4


def test_efficiency_command_records_fractions(toy: tuple[Path, Path], tmp_path: Path) -> None:
    data, model_cfg = toy
    rc = cli_main(
        [
            "efficiency",
            "--model",
            str(model_cfg),
            "--data",
            str(data),
            "--steps",
            "2",
            "--batch-size",
            "8",
            "--fractions",
            "0.5,1.0",
            "--out",
            str(tmp_path),
            "--no-progress",
        ]
    )
    assert rc == 0
    fracs = {}
    for tag in ("clip-f050", "eclip-f050", "clip-f100", "eclip-f100"):
        prov = json.loads((tmp_path / "models" / tag / "model.json").read_text())["provenance"]
        fracs[tag] = (prov["train_fraction"], prov["pairs"], prov["expert_pairs"])
    assert fracs["clip-f050"] == fracs["eclip-f050"] == (0.5, 30, 20)
    assert fracs["clip-f100"] == (1.0, 40, 20)
