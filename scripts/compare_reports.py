#!/usr/bin/env python3
# Usage: scripts/compare_reports.py BEFORE_DIR AFTER_DIR (each holding out.csv, out.json, out.csv.record.json,
# stdout.txt, review.md from `eclip --report DIR/out.csv --json DIR/out.json --review DIR/review.md > DIR/stdout.txt`).
"""Compare two eclip report runs: CSV rows exactly, JSON numbers exactly, text outputs by diff."""
import csv, json, sys, difflib
a, b = sys.argv[1], sys.argv[2]
ra = list(csv.reader(open(f"{a}/out.csv"))); rb = list(csv.reader(open(f"{b}/out.csv")))
print(f"CSV: {len(ra)} vs {len(rb)} lines; identical={ra == rb}")
for x, y in zip(ra, rb):
    if x != y: print("  CSV diff:", x, "->", y)
def walk(x, y, path, out, ignore=("timestamp", "command", "tool_version", "wall", "seconds", "elapsed", "generated")):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if any(i in k for i in ignore): continue
            if k not in x or k not in y:
                out.append(f"{path}/{k}: only in {'after' if k in y else 'before'}"); continue
            walk(x[k], y[k], f"{path}/{k}", out)
    elif isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y): out.append(f"{path}: length {len(x)} vs {len(y)}")
        for i, (u, v) in enumerate(zip(x, y)): walk(u, v, f"{path}[{i}]", out)
    elif x != y:
        out.append(f"{path}: {x!r} -> {y!r}")
for name in ["out.json", "out.csv.record.json"]:
    out = []
    walk(json.load(open(f"{a}/{name}")), json.load(open(f"{b}/{name}")), "", out)
    only = [o for o in out if "only in after" in o and "/comparison" in o]
    rest = [o for o in out if o not in only]
    print(f"{name}: {len(out)} differences ({len(only)} = the new typed 'comparison' field on comparison rows)")
    for o in rest[:40]: print("  ", o)
for name in ["stdout.txt", "review.md"]:
    d = list(difflib.unified_diff(open(f"{a}/{name}").read().splitlines(), open(f"{b}/{name}").read().splitlines(), lineterm="", n=0))
    print(f"{name}: {'identical' if not d else str(len(d)) + ' diff lines'}")
    for l in d[:30]: print("  ", l)
