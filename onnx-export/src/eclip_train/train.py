"""Training of CLIP and the eCLIP variants from one code path (method.md, Training 1-7).

Every variant shares the data, the model initialisation (same seed), the main-batch order and the step
count; they differ only in how expert batches are used:

| variant          | expert batches        | lambda            | heatmaps           |
| ---------------- | --------------------- | ----------------- | ------------------ |
| clip             | never                 | -                 | -                  |
| eclip            | curriculum p(step)    | Beta(alpha,alpha) | expert             |
| naive            | every step (p = 1)    | 0                 | expert             |
| no-mixup         | curriculum p(step)    | 0                 | expert             |
| no-curriculum    | constant p = mean p   | Beta(alpha,alpha) | expert             |
| random-heatmaps  | curriculum p(step)    | Beta(alpha,alpha) | random smooth maps |

The last two ablations are our definitions, not the authors' (see `random_heatmaps`).
Every variant with a heatmap processor primes it during the cold start (first 10% of the steps):
loss = (1 - w) * InfoNCE + w * MSE(I, HP(I, 1)). An expert batch (B/2 pairs with heatmaps) is appended to
the main batch (B pairs): images I^lambda = lambda * I + (1 - lambda) * HP(I, H), one lambda per expert
batch, and one symmetric InfoNCE runs over all B + B/2 pairs (`eclip_model.loss`).

A run is `setup` (data, backbone, processor, optimiser, random streams; resumed from `state.pt` with
`resume`), then `train_loop` calling `train_step` once per optimiser step, then `finish` (checkpoint and
run.json). The backbone is our own CLIP from a model config or, with `init` / `image_tower` +
`text_tower`, an existing model (`eclip_train.backbones`). Under `torchrun` the model and processor run
in DistributedDataParallel: every rank draws the same global batch, curriculum coin and lambda from the
same seeded streams and takes its shard (rank::world); embeddings are gathered (with gradients) before
the InfoNCE, so the loss is the single-process loss of the same global batch.

Defaults: `PAPER_DEFAULTS` are the paper's values; `CODE_DEFAULTS` (`code_defaults`) the authors' code
values (alpha, floor, priming weight, batch-max heatmap scaling, paired augmentation, mean 0.58 /
std 0.26). Heatmap scaling by the per-image maximum (`image-max`), the default, is our choice: the paper
does not say, and the authors' code divides by the batch maximum (`batch-max`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from eclip_model.config import ModelConfig, ProcessorConfig, load_model_config
from eclip_model.loss import ExpertBatch, eclip_loss, weighted_loss
from eclip_model.processor import HeatmapProcessor, scale_heatmaps
from eclip_model.transform import ImageTransform

from . import augment as aug
from .backbones import (
    Backbone,
    checkpoint_backbone,
    checkpoint_meta,
    composed_backbone,
    hf_clip_backbone,
    open_clip_backbone,
    own_backbone,
)
from .data import Dataset, Row, load_dataset, load_images
from .export import git_commit
from .schedule import Curriculum, lr_factor, sample_lambda

PAPER_DEFAULTS: dict[str, Any] = {"alpha": 0.3, "p_floor": 0.1, "prime_weight": 0.1}
AUTHORS_MEAN, AUTHORS_STD = 0.58, 0.26
CODE_DEFAULTS: dict[str, Any] = {
    "alpha": 0.2,
    "p_floor": 0.05,
    "prime_weight": 0.3,
    "heatmap_scaling": "batch-max",
    "augment": True,
    "normalization": "authors",
}
HEATMAP_SCALINGS = ("image-max", "batch-max")
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class VariantSpec:
    expert: bool  # uses expert batches (and hence the heatmap processor)
    mixup: bool  # lambda ~ Beta(alpha, alpha); otherwise lambda = 0
    schedule: str  # "none" | "curriculum" | "always" | "constant"
    random_heatmaps: bool = False


VARIANTS: dict[str, VariantSpec] = {
    "clip": VariantSpec(expert=False, mixup=False, schedule="none"),
    "eclip": VariantSpec(expert=True, mixup=True, schedule="curriculum"),
    "naive": VariantSpec(expert=True, mixup=False, schedule="always"),
    "no-mixup": VariantSpec(expert=True, mixup=False, schedule="curriculum"),
    "no-curriculum": VariantSpec(expert=True, mixup=True, schedule="constant"),
    "random-heatmaps": VariantSpec(expert=True, mixup=True, schedule="curriculum", random_heatmaps=True),
}


@dataclass
class TrainConfig:
    """One training run. Defaults are the paper's (and ours where the paper says nothing: heatmap
    scaling, no augmentation, the model's normalisation); `code_defaults` swaps in the authors' code."""

    variant: str = "eclip"
    model: str = "vit-tiny"  # named model config or JSON path (our own CLIP)
    data: str = ""  # dataset folder or dataset.toml
    out: str = "runs/eclip"
    steps: int = 10000
    batch_size: int = 512
    lr: float = 2e-4
    weight_decay: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.98
    warmup_frac: float = 0.1
    grad_clip: float = 1.0
    processor_lr_mult: float = 2.0
    alpha: float = 0.3
    p_floor: float = 0.1
    prime_weight: float = 0.1
    heatmap_scaling: str = "image-max"  # ours; "batch-max" is the authors' code
    cold_start: float = 0.1
    seed: int = 0
    train_fraction: float = 1.0
    code_defaults: bool = False
    device: str = "auto"
    threads: int = 0
    log_every: int = 10
    min_token_frequency: int = 2
    cache_dir: str = ""
    # starting point other than our own CLIP (eclip_train.backbones)
    init: str = ""  # "open-clip:ARCH" | "hf:DIR" | "ckpt:FILE" (an eclip-train checkpoint, e.g. pretraining)
    init_checkpoint: str = ""  # local open_clip weights file
    image_tower: str = ""  # "timm:NAME"
    image_weights: str = ""  # local timm state dict
    image_kwargs: dict[str, Any] = field(default_factory=dict)  # timm.create_model keyword arguments
    text_tower: str = ""  # "hf:DIR"
    text_pooling: str = "cls"  # "cls" | "mean"
    embed_dim: int = 512  # projection width of a composed timm + HF model
    channels: int = 3  # image channels of a composed model
    context_length: int = 0  # text context of a composed model (0 = the text encoder's maximum)
    # the authors' training details
    augment: bool = False  # paired RandomResizedCrop + CLAHE (eclip_train.augment)
    normalization: str = "model"  # "model" (the model's mean/std) | "authors" (0.58 / 0.26)
    precision: str = "fp32"  # "fp32" | "bf16" | "fp16" (autocast, CUDA only)
    accum_steps: int = 1  # micro-batches of `batch_size` per optimiser step
    checkpoint_every: int = 0  # write state.pt every N steps (0 = never)
    resume: bool = False  # continue from out/state.pt
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes copied into provenance

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.heatmap_scaling not in HEATMAP_SCALINGS:
            raise ValueError(f"heatmap_scaling must be one of {', '.join(HEATMAP_SCALINGS)}")
        if self.batch_size < 2 or self.steps < 1 or self.accum_steps < 1:
            raise ValueError("batch_size must be >= 2, steps and accum_steps >= 1")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.normalization not in ("model", "authors"):
            raise ValueError("normalization must be 'model' or 'authors'")
        if self.init and not self.init.startswith(("open-clip:", "hf:", "ckpt:")):
            raise ValueError(f"--init must be open-clip:ARCH, hf:DIR or ckpt:FILE, got {self.init!r}")
        if self.init and (self.image_tower or self.text_tower):
            raise ValueError("--init and --image-tower / --text-tower are alternatives; give one")
        if bool(self.image_tower) != bool(self.text_tower):
            raise ValueError(
                "--image-tower timm:NAME and --text-tower hf:DIR go together (e.g. --text-tower "
                "hf:/path/to/Bio_ClinicalBERT, a local transformers folder)"
            )
        if self.init_checkpoint and not self.init.startswith("open-clip:"):
            raise ValueError("--init-checkpoint needs --init open-clip:ARCH")

    @classmethod
    def build(cls, file_values: dict[str, Any] | None = None, **overrides: Any) -> TrainConfig:
        """Paper defaults, then the code's values if `code_defaults`, then a config file, then overrides."""
        merged: dict[str, Any] = dict(file_values or {})
        merged.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(merged) - known
        if unknown:
            raise ValueError(f"unknown training config keys: {sorted(unknown)}")
        values: dict[str, Any] = dict(PAPER_DEFAULTS)
        if merged.get("code_defaults"):
            values.update(CODE_DEFAULTS)
        values.update(merged)
        return cls(**values)

    def curriculum(self) -> Curriculum:
        return Curriculum(cold_start=self.cold_start, floor=self.p_floor)


def expert_probability(cfg: TrainConfig, step: int) -> float:
    spec, curriculum = VARIANTS[cfg.variant], cfg.curriculum()
    frac = step / cfg.steps
    if spec.schedule == "none":
        return 0.0
    if spec.schedule == "always":
        return 1.0
    if spec.schedule == "constant":
        return curriculum.mean()
    return curriculum(frac)


def param_groups(
    model: nn.Module, processor: HeatmapProcessor | None, cfg: TrainConfig
) -> list[dict[str, Any]]:
    """AdamW groups: weight decay only on weight matrices (not biases, norms, embeddings of shape < 2-D
    or the temperature); the heatmap processor at `processor_lr_mult` x the learning rate."""
    groups: list[dict[str, Any]] = []
    modules: list[tuple[torch.nn.Module, float]] = [(model, 1.0)]
    if processor is not None:
        modules.append((processor, cfg.processor_lr_mult))
    for module, mult in modules:
        decay, no_decay = [], []
        for p in module.parameters():
            if not p.requires_grad:
                continue
            (no_decay if p.ndim < 2 else decay).append(p)  # biases, norm scales, temperature
        groups.append({"params": decay, "weight_decay": cfg.weight_decay, "lr_mult": mult})
        groups.append({"params": no_decay, "weight_decay": 0.0, "lr_mult": mult})
    return [g for g in groups if g["params"]]


def select_pool(train_rows: list[Row], fraction: float, seed: int) -> list[Row]:
    """The pretraining pairs a run uses: a seeded `fraction` of the pairs without heatmaps plus every
    pair with a heatmap (the expert subset is kept whatever the fraction)."""
    expert = [r for r in train_rows if r.heatmap is not None]
    plain = [r for r in train_rows if r.heatmap is None]
    if fraction < 1.0:
        rng = np.random.default_rng(seed + 7919)
        keep = max(1, round(fraction * len(plain)))
        idx = np.sort(rng.choice(len(plain), size=keep, replace=False))
        plain = [plain[i] for i in idx]
    return sorted(expert + plain, key=lambda r: r.line)


def _cached_images(
    ds: Dataset, rows: list[Row], transform: ImageTransform, cache_dir: str
) -> tuple[np.ndarray, np.ndarray, list[Row]]:
    """Preprocessed images and heatmaps of `rows` (and the rows kept), cached in `cache_dir` if given."""
    key = hashlib.sha256(
        json.dumps(
            [
                ds.sha256,
                transform.size,
                transform.channels,
                list(transform.mean),
                list(transform.std),
                [r.line for r in rows],
            ]
        ).encode()
    ).hexdigest()[:24]
    path = Path(cache_dir) / f"images-{key}.npz" if cache_dir else None
    if path is not None and path.exists():
        z = np.load(path)
        kept_lines = set(z["lines"].tolist())
        return z["images"], z["heatmaps"], [r for r in rows if r.line in kept_lines]
    images, heatmaps, kept, _ = load_images(rows, transform, heatmaps=True)
    assert heatmaps is not None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, heatmaps=heatmaps, lines=np.array([r.line for r in kept]))
        os.replace(tmp, path)
    return images, heatmaps, kept


class BatchSampler:
    """Epoch-wise shuffled index batches from a seeded generator."""

    def __init__(self, n: int, batch: int, rng: np.random.Generator) -> None:
        if n == 0:
            raise ValueError("cannot sample batches from an empty set")
        self.n, self.batch, self.rng = n, batch, rng
        self.order = rng.permutation(n)
        self.pos = 0

    def next(self) -> np.ndarray:
        out = []
        need = self.batch
        while need > 0:
            if self.pos >= self.n:
                self.order, self.pos = self.rng.permutation(self.n), 0
            take = self.order[self.pos : self.pos + need]
            self.pos += len(take)
            need -= len(take)
            out.append(take)
        return np.concatenate(out)

    def state_dict(self) -> dict[str, Any]:
        return {"order": self.order.copy(), "pos": self.pos, "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.order, self.pos = np.asarray(state["order"]), int(state["pos"])
        self.rng.bit_generator.state = state["rng"]


def random_heatmaps(n: int, size: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Smooth random heatmaps (4x4 uniform noise upsampled bilinearly), the random-heatmaps ablation.

    This is our definition: the authors' code makes its "random" control by multiplying by N(0, 0.01)
    noise instead. (Likewise no-curriculum, a constant p at the curriculum's mean, is ours: the authors'
    code has no such switch.)"""
    coarse = torch.rand(n, 1, 4, 4, generator=gen)
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False).to(device)


@dataclass
class Dist:
    """This process's place in a torchrun job (rank 0 of 1 without one)."""

    rank: int = 0
    world: int = 1


def init_distributed(device: torch.device) -> Dist:
    """Join the torchrun process group (gloo on CPU, nccl on CUDA) when WORLD_SIZE > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size())


def _gather(x: torch.Tensor) -> torch.Tensor:
    """All ranks' rows in rank order, differentiable (the backward sums the gradients of every rank)."""
    import torch.distributed.nn.functional as dist_fn

    return torch.cat(dist_fn.all_gather(x))


class Objective(nn.Module):
    """The model and the heatmap processor computing one micro-batch's `LossParts`: the unit DDP wraps,
    so both are synchronised and each step has a single forward."""

    def __init__(self, model: nn.Module, processor: HeatmapProcessor | None, world: int) -> None:
        super().__init__()
        self.model, self.processor, self.world = model, processor, world

    def forward(
        self, batch: MicroBatch, prime_weight: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        expert = batch.expert
        if expert is not None and self.processor is None:
            raise ValueError("an expert batch needs a heatmap processor")
        parts = eclip_loss(
            self.model,
            self.processor,
            batch.images,
            batch.input_ids,
            batch.attention_mask,
            expert,
            prime=batch.prime,
            prime_weight=prime_weight,
            gather=_gather if self.world > 1 else None,
        )
        return parts.total, parts.clip, parts.prime


@dataclass
class Streams:
    """The seeded random streams of a run; identical on every rank, saved with a checkpoint."""

    main: BatchSampler
    expert: BatchSampler | None
    coin: np.random.Generator
    lam: np.random.Generator
    heat: torch.Generator
    augment: np.random.Generator

    @classmethod
    def create(cls, seed: int, n_pool: int, n_expert: int, batch: int, with_expert: bool) -> Streams:
        return cls(
            main=BatchSampler(n_pool, batch, np.random.default_rng([seed, 1])),
            expert=BatchSampler(n_expert, batch // 2, np.random.default_rng([seed, 2]))
            if with_expert
            else None,
            coin=np.random.default_rng([seed, 3]),
            lam=np.random.default_rng([seed, 4]),
            heat=torch.Generator().manual_seed(seed + 5),
            augment=np.random.default_rng([seed, 6]),
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "main": self.main.state_dict(),
            "expert": self.expert.state_dict() if self.expert else None,
            "coin": self.coin.bit_generator.state,
            "lam": self.lam.bit_generator.state,
            "heat": self.heat.get_state(),
            "augment": self.augment.bit_generator.state,
        }

    def load_state_dict(self, s: dict[str, Any]) -> None:
        self.main.load_state_dict(s["main"])
        if self.expert is not None:
            self.expert.load_state_dict(s["expert"])
        self.coin.bit_generator.state = s["coin"]
        self.lam.bit_generator.state = s["lam"]
        self.heat.set_state(s["heat"])
        self.augment.bit_generator.state = s["augment"]


@dataclass
class TrainData:
    pool: list[Row]
    images: torch.Tensor  # [N, C, S, S], normalised
    heatmaps: torch.Tensor  # [N, 1, S, S], raw (zeros where a row has none)
    ids: torch.Tensor
    mask: torch.Tensor
    expert_idx: np.ndarray  # rows of `pool` with a heatmap


@dataclass
class Setup:
    """Everything a run needs, built once by `setup`; `step` and `n_expert_batches` advance."""

    cfg: TrainConfig
    spec: VariantSpec
    device: torch.device
    dist: Dist
    backbone: Backbone
    processor: HeatmapProcessor | None
    objective: nn.Module  # Objective, or DDP(Objective)
    opt: torch.optim.Optimizer
    params: list[torch.Tensor]
    scaler: torch.amp.GradScaler | None
    data: TrainData
    streams: Streams
    ds: Dataset
    out: Path
    prep_seconds: float
    tokenizer_file_text: str | None = None
    step: int = 0  # next step to run
    n_expert_batches: int = 0
    start_step: int = 0  # the step this process started at (> 0 after a resume)

    @property
    def model(self) -> Any:
        return self.backbone.model


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but PyTorch sees no CUDA device; use --device cpu")
    if name == "cuda" and "LOCAL_RANK" in os.environ:  # torchrun: one device per local rank
        return torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}")
    return torch.device(name)


def _backbone(
    cfg: TrainConfig, ds: Dataset, pool: list[Row]
) -> tuple[Backbone, np.ndarray, np.ndarray, list[Row]]:
    """The starting model and the preprocessed pool (images at the model's input)."""
    torch.manual_seed(cfg.seed)
    if cfg.init or cfg.image_tower:
        if cfg.init.startswith("open-clip:"):
            b = open_clip_backbone(cfg.init[len("open-clip:") :], cfg.init_checkpoint or None)
        elif cfg.init.startswith("hf:"):
            b = hf_clip_backbone(cfg.init[3:])
        elif cfg.init.startswith("ckpt:"):
            b = checkpoint_backbone(cfg.init[5:])
        else:
            b = composed_backbone(
                cfg.image_tower,
                cfg.text_tower,
                cfg.embed_dim,
                cfg.text_pooling,
                cfg.image_weights or None,
                cfg.image_kwargs,
                cfg.channels,
                context_length=cfg.context_length,
            )
        if cfg.normalization == "authors":
            b.mean, b.std = [AUTHORS_MEAN] * b.channels, [AUTHORS_STD] * b.channels
            if b.spec.get("kind") == "own":  # a checkpoint of ours: its config carries the normalisation
                b.spec["model_config"]["image"].update(mean=b.mean, std=b.std)
        transform = ImageTransform(b.image_size, b.channels, b.mean, b.std)
        images, heat, pool = _cached_images(ds, pool, transform, cfg.cache_dir)
        return b, images, heat, pool
    mcfg = load_model_config(cfg.model)
    if cfg.normalization == "authors":
        mcfg.image.mean = [AUTHORS_MEAN] * mcfg.image.channels
        mcfg.image.std = [AUTHORS_STD] * mcfg.image.channels
    transform = ImageTransform(mcfg.image.size, mcfg.image.channels, mcfg.image.mean, mcfg.image.std)
    images, heat, pool = _cached_images(ds, pool, transform, cfg.cache_dir)
    torch.manual_seed(cfg.seed)
    b = own_backbone(mcfg, [r.report for r in pool], cfg.min_token_frequency)
    return b, images, heat, pool


def setup(cfg: TrainConfig, dataset: Dataset | None = None) -> Setup:
    """Data, backbone, processor, optimiser and random streams; resumed from `state.pt` if asked."""
    spec = VARIANTS[cfg.variant]
    device = pick_device(cfg.device)
    dist = init_distributed(device)
    if cfg.batch_size % dist.world or (cfg.batch_size // 2) % dist.world:
        raise ValueError(f"batch_size {cfg.batch_size} and its half must divide by the {dist.world} ranks")
    if cfg.precision != "fp32" and device.type != "cuda":
        raise ValueError(f"precision {cfg.precision} is for CUDA; on {device} train in fp32")
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ds = dataset or load_dataset(cfg.data)
    t_prep = time.perf_counter()
    pool = select_pool(ds.split("train"), cfg.train_fraction, cfg.seed)
    backbone, images_np, heat_np, pool = _backbone(cfg, ds, pool)
    expert_idx = np.array([i for i, r in enumerate(pool) if r.heatmap is not None], dtype=np.int64)
    if spec.expert and len(expert_idx) < 2:
        raise ValueError(
            f"variant {cfg.variant} needs training rows with heatmaps; {ds.root} has {len(expert_idx)}"
        )
    from eclip_model import tokenizer as tok_mod

    ids_np, mask_np = tok_mod.encode(
        backbone.tokenizer, [r.report for r in pool], backbone.context_length, backbone.pad_id
    )
    data = TrainData(
        pool=pool,
        images=torch.from_numpy(images_np).to(device),
        heatmaps=torch.from_numpy(heat_np).to(device),
        ids=torch.from_numpy(ids_np).to(device),
        mask=torch.from_numpy(mask_np).to(device),
        expert_idx=expert_idx,
    )
    prep_seconds = time.perf_counter() - t_prep

    model = backbone.model.to(device)
    torch.manual_seed(cfg.seed + 1)
    processor = None
    if spec.expert:
        own = backbone.spec.get("kind") == "own"  # our CLIP, fresh or from a checkpoint: its processor
        pcfg = ModelConfig.from_dict(backbone.spec["model_config"]).processor if own else ProcessorConfig()
        pcfg = ProcessorConfig(patch=backbone.patch, dim=pcfg.dim, heads=pcfg.heads)
        processor = HeatmapProcessor(backbone.channels, pcfg).to(device)
    groups = param_groups(model, processor, cfg)
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    objective: nn.Module = Objective(model, processor, dist.world)
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        ids_arg = [device.index] if device.type == "cuda" else None
        objective = DistributedDataParallel(objective, device_ids=ids_arg, find_unused_parameters=True)
    scaler = torch.amp.GradScaler("cuda") if cfg.precision == "fp16" else None
    streams = Streams.create(cfg.seed, len(pool), len(expert_idx), cfg.batch_size, spec.expert)
    tok_file = getattr(backbone, "tokenizer_file", None)
    s = Setup(
        cfg=cfg,
        spec=spec,
        device=device,
        dist=dist,
        backbone=backbone,
        processor=processor,
        objective=objective,
        opt=opt,
        params=[p for g in groups for p in g["params"]],
        scaler=scaler,
        data=data,
        streams=streams,
        ds=ds,
        out=out,
        prep_seconds=prep_seconds,
        tokenizer_file_text=tok_file.read_text(encoding="utf-8") if tok_file else None,
    )
    if cfg.resume:
        load_state(s)
    return s


# ------------------------------------------------------------------------------------------- one step


@dataclass
class MicroBatch:
    """One rank's share of a micro-batch."""

    images: torch.Tensor
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    expert: ExpertBatch | None
    prime: bool


def draw_micro_batch(s: Setup, step: int) -> tuple[MicroBatch, dict[str, Any]]:
    """Draw the global micro-batch from the shared streams (same on every rank), augment and scale it, and
    return this rank's shard and the draw's log fields."""
    cfg, spec, d, st = s.cfg, s.spec, s.data, s.streams
    p = expert_probability(cfg, step)
    use_expert = spec.expert and st.coin.random() < p
    idx = st.main.next()
    images = d.images[torch.from_numpy(idx).to(s.device)]
    if cfg.augment:
        images, _ = aug.apply(aug.draw(st.augment, len(idx), images.shape[-1]), images, None, *_norm(s))
    lam: float | None = None
    expert: ExpertBatch | None = None
    shard = slice(s.dist.rank, None, s.dist.world)
    if use_expert:
        assert st.expert is not None
        eidx = torch.from_numpy(d.expert_idx[st.expert.next()]).to(s.device)
        e_images = d.images[eidx]
        if spec.random_heatmaps:
            h = random_heatmaps(len(eidx), e_images.shape[-1], st.heat, s.device)
        else:
            h = d.heatmaps[eidx]
        if cfg.augment:
            draws = aug.draw(st.augment, len(eidx), e_images.shape[-1])
            e_images, h = aug.apply(draws, e_images, h, *_norm(s))
            assert h is not None
        lam = sample_lambda(st.lam, cfg.alpha) if spec.mixup else 0.0
        # scaled over the whole global batch (batch-max) before sharding, as in one process
        h = scale_heatmaps(h, per_image=cfg.heatmap_scaling == "image-max")
        expert = ExpertBatch(e_images[shard], h[shard], d.ids[eidx][shard], d.mask[eidx][shard], lam)
        s.n_expert_batches += 1
    cold_steps = round(cfg.cold_start * cfg.steps)
    batch = MicroBatch(
        images[shard],
        d.ids[idx][shard],
        d.mask[idx][shard],
        expert,
        prime=s.processor is not None and step < cold_steps,
    )
    return batch, {"p": p, "expert": bool(use_expert), "lambda": lam}


def _norm(s: Setup) -> tuple[list[float], list[float]]:
    return list(s.backbone.mean), list(s.backbone.std)


def _mean_over_ranks(x: float, s: Setup) -> float:
    if s.dist.world == 1:
        return x
    import torch.distributed as dist

    t = torch.tensor([x], dtype=torch.float64, device=s.device)
    dist.all_reduce(t)
    return float(t.item()) / s.dist.world


def train_step(s: Setup, step: int) -> dict[str, Any]:
    """One optimiser step (`accum_steps` micro-batches); returns its log record."""
    cfg = s.cfg
    factor = lr_factor(step, cfg.steps, cfg.warmup_frac)
    for g in s.opt.param_groups:
        g["lr"] = cfg.lr * g["lr_mult"] * factor
    dtype = PRECISIONS[cfg.precision]
    s.opt.zero_grad(set_to_none=True)
    total = clip = 0.0
    prime: float | None = None
    info: dict[str, Any] = {}
    for micro in range(cfg.accum_steps):
        batch, info = draw_micro_batch(s, step)
        last = micro == cfg.accum_steps - 1
        sync = s.objective.no_sync() if (s.dist.world > 1 and not last) else nullcontext()
        amp = torch.autocast("cuda", dtype=dtype) if dtype is not None else nullcontext()
        with sync:
            with amp:
                loss_t, clip_t, prime_t = s.objective(batch, cfg.prime_weight)
            scaled = loss_t / cfg.accum_steps
            (s.scaler.scale(scaled) if s.scaler is not None else scaled).backward()
        total += float(loss_t.item()) / cfg.accum_steps
        clip += float(clip_t.item()) / cfg.accum_steps
        if prime_t is not None:
            prime = (prime or 0.0) + _mean_over_ranks(float(prime_t.item()), s) / cfg.accum_steps
    if s.scaler is not None:
        s.scaler.unscale_(s.opt)
    torch.nn.utils.clip_grad_norm_(s.params, cfg.grad_clip)
    if s.scaler is not None:
        s.scaler.step(s.opt)
        s.scaler.update()
    else:
        s.opt.step()
    s.model.clamp_temperature()
    if prime is not None and s.dist.world > 1:  # the logged total uses the rank-averaged priming loss
        total = weighted_loss(torch.tensor(clip), torch.tensor(prime), cfg.prime_weight).item()
    return {
        "step": step,
        "loss": float(total),
        "clip_loss": clip,
        "prime_loss": prime,
        "tau": s.model.temperature(),
        **info,
        "expert_batches": s.n_expert_batches,
        "lr": cfg.lr * factor,
    }


# ------------------------------------------------------------------------------------------- the loop


STATE_FILE = "state.pt"


def save_state(s: Setup) -> None:
    """Everything `resume` needs to continue bit for bit: weights, optimiser, streams, RNG, counters."""
    if s.dist.rank != 0:
        return
    state = {
        "step": s.step,
        "n_expert_batches": s.n_expert_batches,
        "model": s.model.state_dict(),
        "processor": s.processor.state_dict() if s.processor is not None else None,
        "opt": s.opt.state_dict(),
        "scaler": s.scaler.state_dict() if s.scaler is not None else None,
        "streams": s.streams.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(s.device) if s.device.type == "cuda" else None,
        "train_config": asdict(s.cfg),
    }
    tmp = s.out / (STATE_FILE + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, s.out / STATE_FILE)


def load_state(s: Setup) -> None:
    path = s.out / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no saved state to resume from (train with --checkpoint-every N)")
    state = torch.load(str(path), map_location=s.device, weights_only=False)
    mismatch = {
        k: (v, state["train_config"].get(k))
        for k, v in asdict(s.cfg).items()
        if k not in ("resume", "device", "threads", "checkpoint_every") and state["train_config"].get(k) != v
    }
    if mismatch:
        raise ValueError(
            f"{path}: saved with other settings {mismatch} (key: (now, saved)); resume with those"
        )
    s.model.load_state_dict(state["model"])
    if s.processor is not None:
        s.processor.load_state_dict(state["processor"])
    s.opt.load_state_dict(state["opt"])
    if s.scaler is not None and state["scaler"] is not None:
        s.scaler.load_state_dict(state["scaler"])
    s.streams.load_state_dict(state["streams"])
    torch.set_rng_state(state["torch_rng"].cpu())
    if state.get("cuda_rng") is not None and s.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"].cpu(), s.device)
    s.step, s.n_expert_batches = int(state["step"]), int(state["n_expert_batches"])
    s.start_step = s.step


def train_loop(s: Setup, progress: bool = True, on_step: Callable[[int], None] | None = None) -> float:
    """Steps `s.step`..`steps - 1`, logging to log.jsonl (rank 0) and saving state every
    `checkpoint_every` steps; returns the seconds spent. `on_step(step)` runs after each step."""
    cfg = s.cfg
    log_path = s.out / "log.jsonl"
    lines: list[str] = []
    if s.step > 0 and log_path.exists():  # keep the records of the steps already run
        lines = [
            ln for ln in log_path.read_text(encoding="utf-8").splitlines() if json.loads(ln)["step"] < s.step
        ]
    rank0 = s.dist.rank == 0
    log = open(log_path, "w", encoding="utf-8") if rank0 else None  # noqa: SIM115 - closed in finally
    if log is not None and lines:
        log.write("\n".join(lines) + "\n")
    bar = tqdm(
        range(s.step, cfg.steps),
        desc=cfg.variant,
        disable=not progress or not rank0,
        file=sys.stderr,
        mininterval=2,
    )
    t0 = time.perf_counter()
    s.objective.train()
    try:
        for step in bar:
            rec = train_step(s, step)
            s.step = step + 1
            if log is not None and (step % cfg.log_every == 0 or step == cfg.steps - 1):
                rec["seconds"] = time.perf_counter() - t0
                log.write(json.dumps(rec) + "\n")
                log.flush()
                bar.set_postfix(
                    loss=f"{rec['loss']:.3f}", tau=f"{rec['tau']:.3f}", experts=s.n_expert_batches
                )
            if cfg.checkpoint_every and s.step % cfg.checkpoint_every == 0 and s.step < cfg.steps:
                save_state(s)
            if on_step is not None:
                on_step(step)
    finally:
        if log is not None:
            log.close()
    return time.perf_counter() - t0


def finish(s: Setup, train_seconds: float) -> Path:
    """Write `checkpoint.pt` and `run.json` (rank 0)."""
    cfg, b, out = s.cfg, s.backbone, s.out
    if s.dist.rank != 0:
        return out
    provenance = {
        "variant": cfg.variant,
        "data": s.ds.name,
        "data_sha256": s.ds.sha256,
        "steps": cfg.steps,
        "seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "train_seconds": round(train_seconds, 2),
        "prep_seconds": round(s.prep_seconds, 2),
        "train_fraction": cfg.train_fraction,
        "pairs": len(s.data.pool),
        "expert_pairs": len(s.data.expert_idx),
        "expert_batches": s.n_expert_batches,
        "alpha": cfg.alpha,
        "p_floor": cfg.p_floor,
        "prime_weight": cfg.prime_weight,
        "code_defaults": cfg.code_defaults,
        "final_temperature": s.model.temperature(),
        "device": str(s.device),
        "world_size": s.dist.world,
        "precision": cfg.precision,
        "steps_per_second": round((cfg.steps - s.start_step) / train_seconds, 3) if train_seconds else None,
        **(
            {"peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated(s.device) / 2**30, 2)}
            if s.device.type == "cuda"
            else {}
        ),
        "commit": git_commit(),
        "torch": torch.__version__,
        **({"init": cfg.init} if cfg.init else {}),
        **b.provenance,
        **cfg.extra,
    }
    model_config = b.spec.get("model_config")
    ckpt = {
        "model": {k: v.cpu() for k, v in s.model.state_dict().items()},
        "processor": {k: v.cpu() for k, v in s.processor.state_dict().items()} if s.processor else None,
        "backbone": checkpoint_meta(b),
        "model_config": model_config,
        "train_config": asdict(cfg),
        "vocab_size": b.tokenizer.get_vocab_size(),
        "tokenizer": b.tokenizer.to_str(),
        "tokenizer_file_text": s.tokenizer_file_text,
        "provenance": provenance,
    }
    torch.save(ckpt, out / "checkpoint.pt")
    run = {
        "train_config": asdict(cfg),
        "model_config": model_config,
        "backbone": b.spec,
        "provenance": provenance,
    }
    (out / "run.json").write_text(json.dumps(run, indent=2, default=str) + "\n", encoding="utf-8")
    return out


def train(
    cfg: TrainConfig,
    progress: bool = True,
    dataset: Dataset | None = None,
    on_step: Callable[[int], None] | None = None,
) -> Path:
    """Run one training and write `checkpoint.pt`, `run.json` and `log.jsonl` into `cfg.out`."""
    s = setup(cfg, dataset)
    seconds = train_loop(s, progress, on_step)
    out = finish(s, seconds)
    if s.dist.world > 1:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return out
