"""Turn the JSON lines of `run_gpu.sh` into one Markdown table (images/s per runner, precision, batch).

python benchmarks/gpu/summarize.py benchmarks/out/gpu/gpu-run.jsonl --title "NVIDIA H200"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def row_name(r: dict) -> str:
    model = Path(r.get("model", "")).name
    fp = "fp16 graph" if model.endswith("-fp16") else "fp32 graph"
    if r["runner"] == "torch-eager":
        return f"PyTorch eager, {r['precision']}, input {r['input']}"
    if r["runner"] == "ort-rust":
        tf32 = " + TF32" if r.get("tf32") else ""
        return f"ONNX Runtime (Rust ort), {fp}{tf32}, {r['mode']}"
    if r["runner"] == "eclip-embed":
        return f"eclip embed end to end, {fp}"
    return r["runner"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("jsonl")
    p.add_argument("--title", default="")
    a = p.parse_args(argv)
    rows: dict[str, dict[int, str]] = {}
    batches: set[int] = set()
    notes: list[str] = []
    for line in Path(a.jsonl).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        name, b = row_name(r), int(r.get("batch", 0))
        batches.add(b)
        if r.get("rc", 0) != 0:
            rows.setdefault(name, {})[b] = f"failed (rc {r['rc']})"
            notes.append(f"{name}, batch {b}: {r.get('error', '')[-300:]!r}")
            continue
        rows.setdefault(name, {})[b] = f"{r['images_per_s']:,.0f}"
        if r.get("rate_source", "").startswith("images / process"):
            notes.append(f"{name}, batch {b}: {r['rate_source']}")
    cols = sorted(batches)
    print(f"### {a.title}\n" if a.title else "", end="")
    print("| runner (images/s) | " + " | ".join(f"batch {b}" for b in cols) + " |")
    print("| --- | " + " | ".join("---" for _ in cols) + " |")
    for name, vals in rows.items():
        print(f"| {name} | " + " | ".join(vals.get(b, "") for b in cols) + " |")
    for n in sorted(set(notes)):
        print(f"\n- {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
