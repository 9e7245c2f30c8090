"""Model configurations: dataclasses for the two towers, the projection and the heatmap processor.

A model is fully described by a `ModelConfig`; the named configurations (`vit-tiny`, `resnet-tiny`,
`vit-small`, `vit-b-16`) live as JSON files in `configs/` next to this module so that a run can be
reproduced from its recorded configuration alone. Sizes run from "trains on two CPU cores in minutes" to
the ViT-B/16 of the paper.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).parent / "configs"


@dataclass
class ImageTowerConfig:
    kind: str = "vit"  # "vit" | "resnet"
    size: int = 128
    channels: int = 1
    mean: list[float] = field(default_factory=lambda: [0.5])
    std: list[float] = field(default_factory=lambda: [0.25])
    # ViT
    patch: int = 16
    width: int = 128
    layers: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    # ResNet: channels of the stem and of each stage (each stage halves the resolution), blocks per stage
    stage_widths: list[int] = field(default_factory=lambda: [32, 64, 128, 256])
    stage_blocks: list[int] = field(default_factory=lambda: [1, 1, 1, 1])

    def __post_init__(self) -> None:
        if self.kind not in ("vit", "resnet"):
            raise ValueError(f"image tower kind must be 'vit' or 'resnet', got {self.kind!r}")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError("image mean/std need one value per channel")
        if self.kind == "vit" and self.size % self.patch:
            raise ValueError(f"image size {self.size} is not a multiple of the patch size {self.patch}")

    @property
    def feature_dim(self) -> int:
        return self.width if self.kind == "vit" else self.stage_widths[-1]


@dataclass
class TextTowerConfig:
    vocab_size: int = 2048  # target size of the trained WordPiece vocabulary (the real size may be smaller)
    context_length: int = 48
    width: int = 128
    layers: int = 2
    heads: int = 4
    mlp_ratio: float = 4.0


@dataclass
class ProcessorConfig:
    """eCLIP heatmap processor: shared patch embedding, attention, output projection, unpatchify."""

    patch: int = 16
    dim: int = 256
    heads: int = 8


@dataclass
class ModelConfig:
    name: str = "vit-tiny"
    embed_dim: int = 128
    init_temperature: float = 0.07
    image: ImageTowerConfig = field(default_factory=ImageTowerConfig)
    text: TextTowerConfig = field(default_factory=TextTowerConfig)
    processor: ProcessorConfig = field(default_factory=ProcessorConfig)

    def __post_init__(self) -> None:
        if self.image.size % self.processor.patch:
            raise ValueError(
                f"image size {self.image.size} is not a multiple of the processor patch "
                f"{self.processor.patch}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        parts = {"image": ImageTowerConfig, "text": TextTowerConfig, "processor": ProcessorConfig}
        kwargs: dict[str, Any] = {}
        for key, value in d.items():
            if key in parts:
                sub = parts[key]
                sub_known = {f.name for f in fields(sub)}
                bad = set(value) - sub_known
                if bad:
                    raise ValueError(f"unknown keys in model config section {key!r}: {sorted(bad)}")
                kwargs[key] = sub(**value)
            else:
                kwargs[key] = value
        return cls(**kwargs)


def named_configs() -> list[str]:
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json"))


def load_model_config(name_or_path: str | Path) -> ModelConfig:
    """A named configuration (`vit-tiny`, ...) or a JSON file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise ValueError(f"no model config named {name_or_path!r}; known: {', '.join(named_configs())}")
    with open(path, encoding="utf-8") as fh:
        return ModelConfig.from_dict(json.load(fh))
