"""PyTorch eager throughput of the same image tower the ONNX benchmarks run (the GPU baseline).

This script owns the PyTorch side of `benchmarks/gpu/run_gpu.sh`: it builds the image encoder of a named
`eclip_model` configuration (`vit-b-16` by default) with the same seed `benchmarks/synth.py` exports with,
so both runners hold the same weights, and times it at several precisions on random pixels:

- `fp32`: strict float32 (TF32 off for matmul and cuDNN);
- `tf32`: float32 with TF32 tensor-core math allowed;
- `fp16`: the model converted with `.half()` (what an fp16 ONNX graph computes);
- `fp16-autocast`, `bf16-autocast`: `torch.autocast` (layer norms and softmax stay float32).

Each batch is copied from pinned host memory unless `--input-on-device`; outputs are copied back to the
host (as the workbench needs them). One JSON line per (precision, batch) on stdout.

    python benchmarks/gpu/torch_eager.py --device cuda --batch 64,128 --iters 20
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

_SRC = Path(__file__).resolve().parents[2] / "onnx-export" / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

PRECISIONS = ["fp32", "tf32", "fp16", "fp16-autocast", "bf16-autocast"]


def build_image_encoder(config: str, seed: int, vocab_size: int):
    """The exported `ImageEncoder` of `benchmarks/synth.random_model` (same config, seed and vocabulary)."""
    import torch

    from eclip_model.clip import CLIP, ImageEncoder
    from eclip_model.config import load_model_config

    cfg = load_model_config(config)
    torch.manual_seed(seed)
    return ImageEncoder(CLIP(cfg, vocab_size)).eval(), cfg


def time_precision(
    model, cfg, precision: str, batch: int, iters: int, warmup: int, device: str, on_device: bool
) -> float:
    import torch

    dev = torch.device(device)
    cuda = dev.type == "cuda"
    if cuda:
        strict = precision == "fp32"
        torch.backends.cuda.matmul.allow_tf32 = not strict
        torch.backends.cudnn.allow_tf32 = not strict
    m = model.to(dev)
    m = m.half() if precision == "fp16" else m.float()
    host = torch.randn(
        batch, cfg.image.channels, cfg.image.size, cfg.image.size, generator=torch.Generator().manual_seed(0)
    )
    if cuda:
        host = host.pin_memory()
    resident = host.to(dev) if on_device else None
    autocast_dtype = {"fp16-autocast": torch.float16, "bf16-autocast": torch.bfloat16}.get(precision)

    def once() -> None:
        x = resident if resident is not None else host.to(dev, non_blocking=True)
        if precision == "fp16":
            x = x.half()
        if autocast_dtype is not None:
            with torch.autocast(device_type=dev.type, dtype=autocast_dtype):
                y = m(x)
        else:
            y = m(x)
        y.float().cpu()

    with torch.inference_mode():
        for _ in range(warmup):
            once()
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(iters):
            once()
        if cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="PyTorch eager images/s of an eclip_model image tower")
    p.add_argument("--config", default="vit-b-16")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--vocab-size", type=int, default=1000, help="text vocabulary (does not affect the image tower)"
    )
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", default="64")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--precisions", default=",".join(PRECISIONS))
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.add_argument("--input-on-device", action="store_true")
    a = p.parse_args(argv)
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda but torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    model, cfg = build_image_encoder(a.config, a.seed, a.vocab_size)
    for prec in [x.strip() for x in a.precisions.split(",") if x.strip()]:
        if prec not in PRECISIONS:
            p.error(f"unknown precision {prec!r}; known: {PRECISIONS}")
        for b in [int(x) for x in a.batch.split(",")]:
            secs = time_precision(model, cfg, prec, b, a.iters, a.warmup, a.device, a.input_on_device)
            print(
                json.dumps(
                    {
                        "runner": "torch-eager",
                        "config": a.config,
                        "device": a.device,
                        "precision": prec,
                        "batch": b,
                        "iters": a.iters,
                        "input": "device" if a.input_on_device else "pinned-host",
                        "images_per_s": b * a.iters / secs,
                        "ms_per_batch": 1e3 * secs / a.iters,
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
