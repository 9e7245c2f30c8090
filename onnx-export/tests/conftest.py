"""Fixtures shared by the training tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eclip_train.toydata import tiny_model_config, write_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A toy dataset and a tiny model config, written once per test module."""
    root = tmp_path_factory.mktemp("toy")
    data = write_toy_dataset(root / "data")
    model_cfg = root / "tiny.json"
    model_cfg.write_text(json.dumps(tiny_model_config()))
    return data, model_cfg
