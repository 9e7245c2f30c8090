"""Command-line entry points: `eclip-train` (train, efficiency, evaluate, configs), `eclip-export`,
`eclip-import`. Errors on user input end with a one-line message and exit status 2, not a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .train import VARIANTS, TrainConfig


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        help="JSON training config (keys of TrainConfig) or a shipped one: fixture, authors-swin-t, "
        "authors-vit-s, authors-vit-b; flags override it",
    )
    p.add_argument("--variant", choices=list(VARIANTS))
    p.add_argument("--model", help="named model config (see `eclip-train configs`) or JSON path")
    p.add_argument("--data", help="dataset folder or dataset.toml (docs/formats.md §1)")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--alpha", type=float, help="mixup Beta(alpha, alpha) (paper 0.3, code 0.2)")
    p.add_argument("--p-floor", type=float, dest="p_floor", help="curriculum floor (paper 0.1, code 0.05)")
    p.add_argument(
        "--prime-weight", type=float, dest="prime_weight", help="priming weight (paper 0.1, code 0.3)"
    )
    p.add_argument("--train-fraction", type=float, dest="train_fraction")
    p.add_argument(
        "--code-defaults",
        action="store_const",
        const=True,
        dest="code_defaults",
        help="use the authors' code values instead of the paper's",
    )
    p.add_argument("--init", help="start from open-clip:ARCH or hf:DIR (a local CLIPModel folder)")
    p.add_argument("--init-checkpoint", dest="init_checkpoint", help="local open_clip weights file")
    p.add_argument("--image-tower", dest="image_tower", help="timm:NAME (random init or --image-weights)")
    p.add_argument("--image-weights", dest="image_weights", help="local state dict for the timm tower")
    p.add_argument("--text-tower", dest="text_tower", help="hf:DIR, a local transformers encoder folder")
    p.add_argument("--text-pooling", dest="text_pooling", choices=["cls", "mean"])
    p.add_argument("--embed-dim", type=int, dest="embed_dim", help="projection width of timm + HF models")
    p.add_argument(
        "--heatmap-scaling",
        dest="heatmap_scaling",
        choices=["image-max", "batch-max"],
        help="divide heatmaps by their own max (ours, default) or the batch max (authors' code)",
    )
    p.add_argument(
        "--augment",
        action="store_const",
        const=True,
        help="paired RandomResizedCrop + CLAHE (authors' code)",
    )
    p.add_argument(
        "--normalization", choices=["model", "authors"], help="model's mean/std or 0.58/0.26 (authors)"
    )
    p.add_argument("--precision", choices=["fp32", "bf16", "fp16"], help="autocast on CUDA")
    p.add_argument("--accum-steps", type=int, dest="accum_steps", help="micro-batches per optimiser step")
    p.add_argument("--checkpoint-every", type=int, dest="checkpoint_every", help="save state.pt every N")
    p.add_argument(
        "--resume", action="store_const", const=True, help="continue from OUT/state.pt (same settings)"
    )
    p.add_argument("--log-every", type=int, dest="log_every")
    p.add_argument("--device", help="auto | cpu | cuda[:N]")
    p.add_argument("--threads", type=int, help="torch CPU threads (0 = default)")
    p.add_argument("--cache-dir", dest="cache_dir", help="cache of preprocessed images")
    p.add_argument("--no-progress", action="store_true")


CONFIG_DIR = Path(__file__).parent / "configs"


def config_file(name: str) -> Path:
    """A training config path, or the name of one shipped in eclip_train/configs (fixture, authors-*)."""
    path = Path(name)
    if path.exists():
        return path
    shipped = CONFIG_DIR / f"{name}.json"
    if shipped.exists():
        return shipped
    known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
    raise FileNotFoundError(f"{name}: no such training config file, nor a shipped one ({known})")


def _config(args: argparse.Namespace, **fixed: Any) -> TrainConfig:
    file_values = json.loads(config_file(args.config).read_text(encoding="utf-8")) if args.config else {}
    keys = [
        "variant",
        "model",
        "data",
        "steps",
        "batch_size",
        "lr",
        "seed",
        "alpha",
        "p_floor",
        "prime_weight",
        "train_fraction",
        "code_defaults",
        "device",
        "threads",
        "cache_dir",
        "init",
        "init_checkpoint",
        "image_tower",
        "image_weights",
        "text_tower",
        "text_pooling",
        "embed_dim",
        "heatmap_scaling",
        "augment",
        "normalization",
        "precision",
        "accum_steps",
        "checkpoint_every",
        "resume",
        "log_every",
    ]
    overrides = {k: getattr(args, k, None) for k in keys}
    overrides.update(fixed)
    return TrainConfig.build(file_values, **overrides)


def _cmd_train(args: argparse.Namespace) -> None:
    from .checkpoint import export_checkpoint
    from .train import train

    cfg = _config(args, out=args.out)
    run = train(cfg, progress=not args.no_progress)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 writes and exports
        return
    print(f"checkpoint: {run / 'checkpoint.pt'}")
    if args.export:
        manifest = export_checkpoint(run / "checkpoint.pt", args.export, name=args.name)
        print(f"exported {manifest['name']} to {args.export}")


def _cmd_efficiency(args: argparse.Namespace) -> None:
    """clip and eclip on fractions of the pretraining pairs (expert subset kept), each exported."""
    from .checkpoint import export_checkpoint
    from .data import load_dataset
    from .train import train

    fractions = [float(f) for f in args.fractions.split(",")]
    base = _config(args)
    ds = load_dataset(base.data)
    out = Path(args.out)
    for frac in fractions:
        for variant in ("clip", "eclip"):
            tag = f"{variant}-f{round(frac * 100):03d}"
            cfg = _config(args, variant=variant, train_fraction=frac, out=str(out / "runs" / tag))
            t = time.perf_counter()
            run = train(cfg, progress=not args.no_progress, dataset=ds)
            export_checkpoint(run / "checkpoint.pt", out / "models" / tag, name=tag)
            print(f"{tag}: {time.perf_counter() - t:.1f}s -> {out / 'models' / tag}")


def _cmd_evaluate(args: argparse.Namespace) -> None:
    from .data import load_dataset
    from .evaluate import evaluate, format_table

    results = evaluate(args.models, load_dataset(args.data), threads=args.threads or 0)
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _cmd_configs(_: argparse.Namespace) -> None:
    from eclip_model.config import load_model_config, named_configs

    for name in named_configs():
        c = load_model_config(name)
        print(
            f"{name:<12} image={c.image.kind} {c.image.size}px ch={c.image.channels} "
            f"text={c.text.layers}x{c.text.width} ctx={c.text.context_length} embed={c.embed_dim}"
        )


def _run(fn: Any, args: argparse.Namespace) -> int:
    try:
        fn(args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eclip-train", description="Train CLIP / eCLIP variants.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("train", help="train one variant")
    _train_args(p)
    p.add_argument("--out", required=True, help="run folder (checkpoint.pt, run.json, log.jsonl)")
    p.add_argument("--export", help="also export the model to this folder")
    p.add_argument("--name", help="model name in model.json (default: the variant)")
    p.set_defaults(fn=_cmd_train)
    p = sub.add_parser("efficiency", help="data-efficiency series: clip and eclip on fractions of the pairs")
    _train_args(p)
    p.add_argument("--fractions", default="0.1,0.25,0.5,1.0")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=_cmd_efficiency)
    p = sub.add_parser("evaluate", help="zero-shot and geometry figures of exported models (ONNX Runtime)")
    p.add_argument("models", nargs="+")
    p.add_argument("--data", required=True)
    p.add_argument("--json", help="also write the results as JSON")
    p.add_argument("--threads", type=int)
    p.set_defaults(fn=_cmd_evaluate)
    p = sub.add_parser("configs", help="list the named model configurations")
    p.set_defaults(fn=_cmd_configs)
    args = parser.parse_args(argv)
    return _run(args.fn, args)


def export_main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["text-encoder"]:
        return _text_encoder_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="eclip-export",
        description="Export a training checkpoint to ONNX "
        "(or `eclip-export text-encoder --hf DIR --out OUT`: a transformers encoder for [rag] text_encoder).",
    )
    parser.add_argument("checkpoint")
    parser.add_argument("out")
    parser.add_argument("--name")
    args = parser.parse_args(argv)

    def fn(a: argparse.Namespace) -> None:
        from .checkpoint import export_checkpoint

        m = export_checkpoint(a.checkpoint, a.out, name=a.name)
        print(f"exported {m['name']} to {a.out} (parity {m['provenance']['export_parity_max_abs_diff']})")

    return _run(fn, args)


def _text_encoder_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="eclip-export text-encoder",
        description="Export a local transformers encoder folder (e.g. Bio_ClinicalBERT saved with "
        "save_pretrained) as a workbench text encoder: token hidden states of one layer "
        "(docs/formats.md §2.3).",
    )
    parser.add_argument(
        "--hf", required=True, help="the transformers model folder (config.json, weights, tokenizer)"
    )
    parser.add_argument(
        "--out", required=True, help="output folder (text_encoder.json, encoder.onnx, tokenizer.json)"
    )
    parser.add_argument(
        "--layer", type=int, help="hidden state to output: 0 = embeddings, default the last layer"
    )
    parser.add_argument(
        "--pooling", choices=["mean", "cls"], default="mean", help="sentence embedding (default mean)"
    )
    parser.add_argument("--max-length", type=int, help="tokens per text (default: the model's limit)")
    parser.add_argument("--name", help="name in text_encoder.json (default: the folder name)")
    args = parser.parse_args(argv)

    def fn(a: argparse.Namespace) -> None:
        from .text_encoder import export_text_encoder

        m = export_text_encoder(
            a.hf, a.out, layer=a.layer, pooling=a.pooling, max_length=a.max_length, name=a.name
        )
        print(
            f"exported text encoder {m['name']} (layer {m['layer']}/{m['num_layers']}, "
            f"{m['pooling']} pooling) "
            f"to {a.out} (parity {m['provenance']['export_parity_max_abs_diff']:.2g})"
        )

    return _run(fn, args)


def import_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eclip-import", description="Import open_clip / HF CLIP models.")
    sub = parser.add_subparsers(dest="source", required=True)
    p = sub.add_parser("open-clip", help="an open_clip architecture, random or from a local checkpoint file")
    p.add_argument("arch")
    p.add_argument("out")
    p.add_argument("--checkpoint", help="local weights file (default: random initialisation)")
    p.add_argument("--name")
    p = sub.add_parser("hf", help="a Hugging Face transformers CLIPModel folder")
    p.add_argument("model_dir")
    p.add_argument("out")
    p.add_argument("--name")
    p.add_argument(
        "--rewrite-tokenizer",
        action="store_true",
        help="save tokenizer.json through `tokenizers` (default: copy the folder's file byte for byte)",
    )
    args = parser.parse_args(argv)

    def fn(a: argparse.Namespace) -> None:
        from .importers import import_hf_clip, import_open_clip

        if a.source == "open-clip":
            m = import_open_clip(a.arch, a.out, checkpoint=a.checkpoint, name=a.name)
        else:
            m = import_hf_clip(a.model_dir, a.out, name=a.name, rewrite_tokenizer=a.rewrite_tokenizer)
        print(f"imported {m['name']} to {a.out}")

    return _run(fn, args)


if __name__ == "__main__":
    sys.exit(main())
