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

Every variant with a heatmap processor primes it during the cold start (first 10% of the steps):
loss = (1 - w) * InfoNCE + w * MSE(I, HP(I, 1)). An expert batch (B/2 pairs with heatmaps) is appended to
the main batch (B pairs): images I^lambda = lambda * I + (1 - lambda) * HP(I, H), one lambda per expert
batch, and one symmetric InfoNCE runs over all B + B/2 pairs. Paper values are the defaults;
`code_defaults` switches to the values of the authors' code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from eclip_model import tokenizer as tok_mod
from eclip_model.clip import CLIP
from eclip_model.config import ModelConfig, load_model_config
from eclip_model.processor import HeatmapProcessor, priming_loss, scale_heatmaps
from eclip_model.transform import ImageTransform

from .data import Dataset, Row, load_dataset, load_images
from .export import git_commit
from .losses import info_nce
from .schedule import Curriculum, lr_factor, sample_lambda

PAPER_DEFAULTS: dict[str, Any] = {"alpha": 0.3, "p_floor": 0.1, "prime_weight": 0.1, "heatmap_norm": "image"}
CODE_DEFAULTS: dict[str, Any] = {"alpha": 0.2, "p_floor": 0.05, "prime_weight": 0.3, "heatmap_norm": "batch"}


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
    """One training run. Defaults are the paper's; `code_defaults` swaps in the authors' code values."""

    variant: str = "eclip"
    model: str = "vit-tiny"  # named model config or JSON path
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
    heatmap_norm: str = "image"  # "image" (per-image max) | "batch" (authors' code)
    cold_start: float = 0.1
    seed: int = 0
    train_fraction: float = 1.0
    code_defaults: bool = False
    device: str = "auto"
    threads: int = 0
    log_every: int = 10
    min_token_frequency: int = 2
    cache_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # free-form notes copied into provenance

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {', '.join(VARIANTS)}")
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.heatmap_norm not in ("image", "batch"):
            raise ValueError("heatmap_norm must be 'image' or 'batch'")
        if self.batch_size < 2 or self.steps < 1:
            raise ValueError("batch_size must be >= 2 and steps >= 1")

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


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but PyTorch sees no CUDA device; use --device cpu")
    return torch.device(name)


def param_groups(model: CLIP, processor: HeatmapProcessor | None, cfg: TrainConfig) -> list[dict[str, Any]]:
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


def random_heatmaps(n: int, size: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """Smooth random heatmaps (4x4 uniform noise upsampled bilinearly), the random-heatmaps ablation."""
    coarse = torch.rand(n, 1, 4, 4, generator=gen)
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False).to(device)


@dataclass
class ExpertBatch:
    """B/2 pairs with heatmaps and the batch's mixup coefficient lambda."""

    images: torch.Tensor
    heatmaps: torch.Tensor  # raw, [n, 1, S, S]; scaled to [0, 1] in `contrastive_loss`
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    lam: float


def contrastive_loss(
    model: CLIP,
    processor: HeatmapProcessor | None,
    images: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    expert: ExpertBatch | None = None,
    per_image_heatmap_norm: bool = True,
) -> torch.Tensor:
    """One symmetric InfoNCE over the main batch and, if given, the expert batch appended to it, whose
    images are I^lambda = lambda * I + (1 - lambda) * HP(I, H)."""
    if expert is not None:
        if processor is None:
            raise ValueError("an expert batch needs a heatmap processor")
        h = scale_heatmaps(expert.heatmaps, per_image=per_image_heatmap_norm)
        mixed = expert.lam * expert.images + (1.0 - expert.lam) * processor(expert.images, h)
        images = torch.cat([images, mixed])
        input_ids = torch.cat([input_ids, expert.input_ids])
        attention_mask = torch.cat([attention_mask, expert.attention_mask])
    return info_nce(model.encode_image(images), model.encode_text(input_ids, attention_mask), model.scale())


def train(cfg: TrainConfig, progress: bool = True, dataset: Dataset | None = None) -> Path:
    """Run one training and write `checkpoint.pt`, `run.json` and `log.jsonl` into `cfg.out`."""
    spec = VARIANTS[cfg.variant]
    device = pick_device(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    mcfg: ModelConfig = load_model_config(cfg.model)
    ds = dataset or load_dataset(cfg.data)
    t_prep = time.perf_counter()

    pool = select_pool(ds.split("train"), cfg.train_fraction, cfg.seed)
    transform = ImageTransform(mcfg.image.size, mcfg.image.channels, mcfg.image.mean, mcfg.image.std)
    images_np, heat_np, pool = _cached_images(ds, pool, transform, cfg.cache_dir)
    expert_idx = np.array([i for i, r in enumerate(pool) if r.heatmap is not None], dtype=np.int64)
    if spec.expert and len(expert_idx) < 2:
        raise ValueError(
            f"variant {cfg.variant} needs training rows with heatmaps; {ds.root} has {len(expert_idx)}"
        )
    reports = [r.report for r in pool]
    tokenizer = tok_mod.train_wordpiece(
        reports,
        vocab_size=mcfg.text.vocab_size,
        context_length=mcfg.text.context_length,
        min_frequency=cfg.min_token_frequency,
    )
    ids_np, mask_np = tok_mod.encode(tokenizer, reports, mcfg.text.context_length)
    images = torch.from_numpy(images_np).to(device)
    heatmaps = torch.from_numpy(heat_np).to(device)
    ids, mask = torch.from_numpy(ids_np).to(device), torch.from_numpy(mask_np).to(device)
    prep_seconds = time.perf_counter() - t_prep

    torch.manual_seed(cfg.seed)
    model = CLIP(mcfg, tokenizer.get_vocab_size()).to(device)
    torch.manual_seed(cfg.seed + 1)
    processor = HeatmapProcessor(mcfg.image.channels, mcfg.processor).to(device) if spec.expert else None
    groups = param_groups(model, processor, cfg)
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), weight_decay=cfg.weight_decay)
    params = [p for g in groups for p in g["params"]]

    # Independent streams: the main batches are identical across variants.
    main_sampler = BatchSampler(len(pool), cfg.batch_size, np.random.default_rng([cfg.seed, 1]))
    expert_sampler = (
        BatchSampler(len(expert_idx), cfg.batch_size // 2, np.random.default_rng([cfg.seed, 2]))
        if spec.expert
        else None
    )
    coin = np.random.default_rng([cfg.seed, 3])
    lam_rng = np.random.default_rng([cfg.seed, 4])
    heat_gen = torch.Generator().manual_seed(cfg.seed + 5)
    cold_steps = round(cfg.cold_start * cfg.steps)

    log_path = out / "log.jsonl"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in finally
    n_expert_batches = 0
    bar = tqdm(range(cfg.steps), desc=f"{cfg.variant}", disable=not progress, file=sys.stderr, mininterval=2)
    t0 = time.perf_counter()
    model.train()
    try:
        for step in bar:
            factor = lr_factor(step, cfg.steps, cfg.warmup_frac)
            for g in opt.param_groups:
                g["lr"] = cfg.lr * g["lr_mult"] * factor
            p = expert_probability(cfg, step)
            use_expert = spec.expert and coin.random() < p
            idx = torch.from_numpy(main_sampler.next()).to(device)
            lam: float | None = None
            expert: ExpertBatch | None = None
            if use_expert:
                assert expert_sampler is not None
                eidx = torch.from_numpy(expert_idx[expert_sampler.next()]).to(device)
                if spec.random_heatmaps:
                    h = random_heatmaps(len(eidx), mcfg.image.size, heat_gen, device)
                else:
                    h = heatmaps[eidx]
                lam = sample_lambda(lam_rng, cfg.alpha) if spec.mixup else 0.0
                expert = ExpertBatch(images[eidx], h, ids[eidx], mask[eidx], lam)
                n_expert_batches += 1
            clip_loss = contrastive_loss(
                model,
                processor,
                images[idx],
                ids[idx],
                mask[idx],
                expert,
                per_image_heatmap_norm=cfg.heatmap_norm == "image",
            )
            loss = clip_loss
            prime: float | None = None
            if processor is not None and step < cold_steps:
                prime_t = priming_loss(processor, images[idx])
                loss = (1.0 - cfg.prime_weight) * clip_loss + cfg.prime_weight * prime_t
                prime = float(prime_t.item())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            model.clamp_temperature()
            if step % cfg.log_every == 0 or step == cfg.steps - 1:
                rec = {
                    "step": step,
                    "loss": float(loss.item()),
                    "clip_loss": float(clip_loss.item()),
                    "prime_loss": prime,
                    "tau": model.temperature(),
                    "p": p,
                    "expert": bool(use_expert),
                    "lambda": lam,
                    "expert_batches": n_expert_batches,
                    "lr": cfg.lr * factor,
                    "seconds": time.perf_counter() - t0,
                }
                log.write(json.dumps(rec) + "\n")
                log.flush()
                bar.set_postfix(
                    loss=f"{rec['loss']:.3f}", tau=f"{rec['tau']:.3f}", p=f"{p:.2f}", experts=n_expert_batches
                )
    finally:
        log.close()
    train_seconds = time.perf_counter() - t0

    provenance = {
        "variant": cfg.variant,
        "data": ds.name,
        "data_sha256": ds.sha256,
        "steps": cfg.steps,
        "seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "train_seconds": round(train_seconds, 2),
        "prep_seconds": round(prep_seconds, 2),
        "train_fraction": cfg.train_fraction,
        "pairs": len(pool),
        "expert_pairs": len(expert_idx),
        "expert_batches": n_expert_batches,
        "alpha": cfg.alpha,
        "p_floor": cfg.p_floor,
        "prime_weight": cfg.prime_weight,
        "code_defaults": cfg.code_defaults,
        "final_temperature": model.temperature(),
        "device": str(device),
        "commit": git_commit(),
        "torch": torch.__version__,
        **cfg.extra,
    }
    ckpt = {
        "model": {k: v.cpu() for k, v in model.state_dict().items()},
        "processor": {k: v.cpu() for k, v in processor.state_dict().items()} if processor else None,
        "model_config": mcfg.to_dict(),
        "train_config": asdict(cfg),
        "vocab_size": tokenizer.get_vocab_size(),
        "tokenizer": tokenizer.to_str(),
        "provenance": provenance,
    }
    torch.save(ckpt, out / "checkpoint.pt")
    (out / "run.json").write_text(
        json.dumps(
            {"train_config": asdict(cfg), "model_config": mcfg.to_dict(), "provenance": provenance}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    return out
