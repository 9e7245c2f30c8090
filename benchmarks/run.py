"""One command for the CPU benchmarks: the workbench (`eclip`, release build) against the reference Python
pipeline (`benchmarks/reference.py`), timed alternately in one run on the same machine.

    /work/main/.venv/bin/python benchmarks/run.py            # full (tens of minutes on 2 busy cores)
    /work/main/.venv/bin/python benchmarks/run.py --quick    # a few minutes
    ... --cases embed-fixture,retrieval --runs 5 --threads 2 --json out.json

This module owns orchestration only: building the binary, generating inputs (`synth.py`), running each
side as a separate process with the same ONNX Runtime library, thread count and batch size, measuring
wall time (median and min-max over `--runs` alternating runs) and peak resident memory (`wait4`
rusage of that process, taken by the small launcher `rusage.py` so that the driver's own memory
does not leak into it), checking agreement (max abs difference of the embeddings, sha256 of the
image->text retrieval ranks computed from each side's embeddings), and printing the ratio table plus a
Markdown block for `benchmarks/RESULTS.md` with the machine, date, commit and load.

Cases:
- `embed-fixture`: the fixture test split, fixture model (end to end: process start to .npz written);
- `embed-synth`: a synthetic set of >= 10k images (2k with --quick), generated into benchmarks/out/;
- `embed-large`: 500 (100 with --quick) synthetic 1024 x 1024 images, where decoding and resizing weigh
  as much as the model (real radiographs are larger still);
- `embed-vitb16`: a randomly initialised ViT-B/16-size model exported through onnx-export into
  benchmarks/models/ on the first 64 (16 with --quick) synthetic images;
- `retrieval`, `probe`: the eval helper's micro-benchmarks in benchmarks/eval/ (called, not owned here);
- `report`: the whole `eclip --report` on the fixtures (workbench only; there is no Python equivalent).
Time inside ONNX Runtime is taken from each side's own timers (`reference.py --timings`, the workbench's
summary line) and, with `--perf`, from `perf record` samples per shared object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import realsize  # noqa: E402
import reference  # noqa: E402
import synth  # noqa: E402

OUT = HERE / "out"
CARGO_TOML = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
MODELS = HERE / "models"
REAL_CASES = {"real-jpeg": "jpeg", "real-png16": "png16", "real-dicom": "dicom"}
ALL_CASES = [
    "embed-fixture",
    "embed-synth",
    "embed-large",
    "embed-vitb16",
    *REAL_CASES,
    "retrieval",
    "probe",
    "report",
]
LARGE_SIZE = 1024  # radiograph-like resolution: decoding and resizing cost as much as a small model


@dataclass
class Measured:
    """One process run: wall seconds, CPU seconds (user + system), peak RSS in MiB, what it printed."""

    wall: float
    cpu: float
    rss_mib: float
    rc: int
    output: str
    inner: float | None = None  # the seconds the program timed itself (the measured kernel only)


@dataclass
class Side:
    runs: list[Measured] = field(default_factory=list)
    ort_share: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> list[Measured]:
        return [r for r in self.runs if r.rc == 0]

    def summary(self) -> dict[str, Any]:
        ok = self.ok
        if not ok:
            return {
                "ok": False,
                "note": self.note or (self.runs[-1].output[-400:] if self.runs else "not run"),
            }
        walls = [r.wall for r in ok]
        cpus = [r.cpu for r in ok]
        return {
            "ok": True,
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "cpu_median_s": statistics.median(cpus),
            "cpu_min_s": min(cpus),
            "cpu_max_s": max(cpus),
            "runs": len(ok),
            "peak_rss_mib": max(r.rss_mib for r in ok),
            "ort_share": statistics.median(self.ort_share) if self.ort_share else None,
            "timed_median_s": statistics.median(inner)
            if (inner := [r.inner for r in ok if r.inner])
            else None,
            "note": self.note,
        }


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run `cmd` to completion through `rusage.py` (a fresh ~10 MiB interpreter), which reports the
    command's own wall time, CPU time and peak RSS: a child forked by this driver directly would
    inherit the driver's RSS high-water mark (see rusage.py), so its peak could never read lower."""
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "rusage.json"
        launcher = [sys.executable, "-I", "-S", str(HERE / "rusage.py"), str(stats)]
        proc = subprocess.run(launcher + cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
        if not stats.exists():  # the launcher itself failed: report its output
            return Measured(float("nan"), float("nan"), float("nan"), proc.returncode or 1, text)
        r = json.loads(stats.read_text(encoding="utf-8"))
    return Measured(r["wall_s"], r["cpu_s"], r["maxrss_mib"], r["returncode"], text)


def ort_dylib() -> str:
    """The ONNX Runtime library of the Python package the reference uses: both sides run the same build."""
    if os.environ.get("ORT_DYLIB_PATH"):
        return os.environ["ORT_DYLIB_PATH"]
    import onnxruntime

    capi = Path(onnxruntime.__file__).parent / "capi"
    libs = sorted(capi.glob("libonnxruntime.so.*"))
    if not libs:
        raise SystemExit(f"no libonnxruntime.so.* under {capi}; set ORT_DYLIB_PATH")
    return str(libs[-1])


def build_release() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    print("building: cargo build --release --bin eclip", file=sys.stderr, flush=True)
    examples = [
        f"--example={e}" for e in ("eval_retrieval_bench", "eval_probe_bench") if f'"{e}"' in CARGO_TOML
    ]
    subprocess.run(["cargo", "build", "--release", "--bin", "eclip", *examples], cwd=ROOT, check=True)
    return target / "release" / "eclip"


def eclip_help(binary: Path, *sub: str) -> str:
    try:
        out = subprocess.run([str(binary), *sub, "--help"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        return f"error: {exc}"
    return out.stdout + out.stderr


def write_config(path: Path, model: Path, dataset: Path, threads: int, batch: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(
            [
                "[runtime]",
                'device = "cpu"',
                f"threads = {threads}",
                f"batch_size = {batch}",
                "",
                "[[models]]",
                f'name = "{model.name}"',
                f'path = "{model.resolve()}"',
                "",
                "[[datasets]]",
                f'path = "{dataset.resolve()}"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def load_npz_dir(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """split name -> arrays (rows sorted by manifest record index), from any layout under `folder`."""
    found: dict[str, dict[str, np.ndarray]] = {}
    for f in sorted(folder.rglob("*.npz")):
        if f.stem == "prompts":
            continue
        with np.load(f) as z:
            if "image" not in z or "text" not in z:
                continue
            order = np.argsort(z["row"], kind="stable") if "row" in z else np.arange(len(z["image"]))
            found[f.stem] = {"image": z["image"][order], "text": z["text"][order]}
    return found


def agreement(a_dir: Path, b_dir: Path) -> dict[str, Any]:
    a, b = load_npz_dir(a_dir), load_npz_dir(b_dir)
    if not a or set(a) != set(b):
        return {"ok": False, "note": f"splits differ: {sorted(a)} vs {sorted(b)}"}
    res: dict[str, Any] = {"ok": True}
    for split in sorted(a):
        x, y = a[split], b[split]
        if x["image"].shape != y["image"].shape:
            return {"ok": False, "note": f"{split}: shapes {x['image'].shape} vs {y['image'].shape}"}
        # float64 similarities: with duplicate reports (identical text vectors) float32 matmul rounds the
        # same dot product differently in different BLAS blocks, which turns exact ties into near-ties and
        # moves ranks by the number of duplicates even between two numpy runs of the same embeddings.
        ra = reference.retrieval_ranks(
            x["image"].astype(np.float64), x["text"].astype(np.float64), chunk=1024
        )
        rb = reference.retrieval_ranks(
            y["image"].astype(np.float64), y["text"].astype(np.float64), chunk=1024
        )
        res[split] = {
            "n": len(x["image"]),
            "max_abs_diff_image": float(np.abs(x["image"] - y["image"]).max()),
            "max_abs_diff_text": float(np.abs(x["text"] - y["text"]).max()),
            "rank_checksum_rust": reference.rank_checksum(ra),
            "rank_checksum_python": reference.rank_checksum(rb),
            "ranks_identical": bool(np.array_equal(ra, rb)),
            "ranks_differing": int((ra != rb).sum()),
            "max_rank_change": int(np.abs(ra - rb).max()) if len(ra) else 0,
        }
    return res


STATS_LINE = re.compile(
    r"(images|texts): (\d+) computed[^\n]*?([\d.]+)/s \(([\d.]+)/s in ONNX Runtime, (\d+)% of wall\)"
)


def eclip_stats(output: str) -> dict[str, float]:
    """The workbench's own summary lines (`images: N computed, ..., R/s (R'/s in ONNX Runtime, P% of wall)`):
    per phase the count, wall rate, rate inside ONNX Runtime and the seconds those imply, summed over
    models/datasets."""
    out: dict[str, float] = {}
    for phase, n, rate, ort_rate, _ in STATS_LINE.findall(output):
        n_f = float(n)
        if n_f == 0:
            continue
        out[f"{phase}"] = out.get(phase, 0.0) + n_f
        out[f"{phase}_wall_s"] = out.get(f"{phase}_wall_s", 0.0) + n_f / float(rate)
        out[f"{phase}_ort_s"] = out.get(f"{phase}_ort_s", 0.0) + n_f / float(ort_rate)
    if "images" in out:
        out["images_per_s"] = out["images"] / out["images_wall_s"]
    out["ort_s"] = out.get("images_ort_s", 0.0) + out.get("texts_ort_s", 0.0)
    return out


def perf_dso_share(cmd: list[str], env: dict[str, str], pattern: str) -> float | None:
    """Share of CPU-clock samples (all threads) in shared objects whose name contains `pattern`."""
    if not shutil.which("perf"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "perf.data"
        rec = subprocess.run(
            ["perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "-o", str(data), "--", *cmd],
            env=env,
            capture_output=True,
            text=True,
        )
        if rec.returncode != 0:
            return None
        rep = subprocess.run(
            ["perf", "report", "-i", str(data), "--sort", "dso", "--stdio", "-q"],
            capture_output=True,
            text=True,
        )
    total = 0.0
    for line in rep.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith("%") and pattern in parts[-1]:
            total += float(parts[0].rstrip("%"))
    return total / 100.0


@dataclass
class Ctx:
    args: argparse.Namespace
    eclip: Path | None
    env: dict[str, str]
    py: str
    results: dict[str, Any] = field(default_factory=dict)


def dataset_prompts(dataset_toml: Path) -> Path | None:
    import tomllib

    spec = tomllib.loads(dataset_toml.read_text(encoding="utf-8"))
    return (dataset_toml.parent / spec["prompts"]).resolve() if spec.get("prompts") else None


def embed_case(ctx: Ctx, name: str, model: Path, dataset: Path) -> None:
    a = ctx.args
    case_dir = OUT / name
    shutil.rmtree(case_dir, ignore_errors=True)
    cfg = write_config(case_dir / "workbench.toml", model, dataset, a.threads, a.batch)
    manifest = dataset.parent / "manifest.csv"
    rust, py = Side(), Side()
    rust_cmd = None
    if ctx.eclip is None:
        rust.note = "no eclip binary with an `embed` command"
    else:
        rust_cmd = [
            str(ctx.eclip),
            "embed",
            "--config",
            str(cfg),
            "--out",
            str(case_dir / "rust"),
            "--no-cache",
            "--device",
            "cpu",
            "--threads",
            str(a.threads),
        ]
    py_cmd = [
        ctx.py,
        str(HERE / "reference.py"),
        "embed",
        "--model",
        str(model),
        "--manifest",
        str(manifest),
        "--out",
        str(case_dir / "python"),
        "--threads",
        str(a.threads),
        "--batch",
        str(a.batch),
        "--timings",
        str(case_dir / "py-timings.json"),
        "--workers",
        str(a.python_workers),
    ]
    prompts = dataset_prompts(dataset)
    if prompts:
        py_cmd += ["--prompts", str(prompts)]
    for r in range(a.runs):
        print(f"  {name}: run {r + 1}/{a.runs}", file=sys.stderr, flush=True)
        if rust_cmd:
            m = run_measured(rust_cmd, env=ctx.env)
            rust.runs.append(m)
            (case_dir / "rust-last.log").write_text(m.output, encoding="utf-8")
            stats = eclip_stats(m.output)
            if stats.get("ort_s"):
                rust.ort_share.append(stats["ort_s"] / m.wall)
            if m.rc != 0:
                print(f"  eclip failed (rc {m.rc}): {m.output[-600:]}", file=sys.stderr)
                rust_cmd = None
        m = run_measured(py_cmd, env=ctx.env)
        py.runs.append(m)
        if m.rc == 0:
            py.ort_share.append(json.loads((case_dir / "py-timings.json").read_text())["ort"] / m.wall)
        else:
            print(f"  reference failed (rc {m.rc}): {m.output[-600:]}", file=sys.stderr)
            break
    res: dict[str, Any] = {
        "rust": rust.summary(),
        "python": py.summary(),
        "model": str(model),
        "dataset": str(dataset),
    }
    if rust.ok and py.ok:
        res["agreement"] = agreement(case_dir / "rust", case_dir / "python")
    if a.perf:
        if rust_cmd:
            res["rust"]["perf_ort_cpu_share"] = perf_dso_share(rust_cmd, ctx.env, "libonnxruntime")
        res["python"]["perf_ort_cpu_share"] = perf_dso_share(py_cmd, ctx.env, "onnxruntime")
    ctx.results[name] = res


# Which eclip rule is compared with which Python side in the real-size cases (issue 17 targets).
REAL_PAIRS = [
    ("eclip exact", "reference.py"),
    ("eclip exact", "PIL draft + pool"),
    ("eclip fast", "PIL draft + pool"),
    ("eclip fast", "reference.py"),
]


def realsize_case(ctx: Ctx, case: str) -> None:
    """Radiograph-size inputs (`realsize.py`'s phantoms, 2,048 x 2,500 px; 100 images, 20 with
    --quick): eclip with the exact and the fast (`_reduce`) rule of the fixture CLIP model against
    reference.py and the careful Python pipeline (PIL `draft`/`reducing_gap` + a thread pool, or pydicom
    + numpy window + PIL for DICOM), all four alternating in every round. Each pair is one table row."""
    kind = REAL_CASES[case]
    n = 20 if ctx.args.quick else 100
    model = ROOT / "fixtures" / "models" / "clip"
    if not (model / "model.json").exists():
        ctx.results[case] = {"skipped": f"{model} missing"}
        return
    if ctx.eclip is None:
        ctx.results[case] = {"skipped": "no eclip binary"}
        return
    if kind == "dicom":
        try:
            import pydicom  # noqa: F401
        except ImportError:
            ctx.results[case] = {"skipped": "pydicom is not installed: it writes and reads the DICOM inputs"}
            return
    ds = realsize.make_dataset(kind, n)
    fast = realsize.fast_model(model)
    tmp = OUT / case
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    timings = tmp / "ref-timings.json"
    cmds = realsize.side_commands(
        str(ctx.eclip), model, fast, ds, tmp, ctx.args.threads, reference_timings=timings
    )
    sides = {name: Side() for name in cmds}
    for r in range(ctx.args.runs):
        print(f"  {case}: run {r + 1}/{ctx.args.runs}", file=sys.stderr, flush=True)
        for name, cmd in cmds.items():
            m = run_measured(cmd, env=ctx.env)
            sides[name].runs.append(m)
            if m.rc != 0:
                print(f"  {name} failed (rc {m.rc}): {m.output[-600:]}", file=sys.stderr)
                continue
            if name.startswith("eclip"):
                share = realsize.ort_share(m.output)
            elif name == "reference.py":
                share = json.loads(timings.read_text(encoding="utf-8"))["ort"] / m.wall
            else:
                secs = realsize.ort_seconds(m.output)
                share = secs / m.wall if secs is not None else None
            if share is not None:
                sides[name].ort_share.append(share)
    summaries = {name: side.summary() for name, side in sides.items()}
    for s in summaries.values():
        if s.get("ok"):
            s["images_per_s"] = n / s["median_s"]
    notes = {"eclip exact": "", "eclip fast": ""}
    if all(summaries[k].get("ok") for k in ("eclip exact", "eclip fast")):
        exact = load_npz_dir(tmp / "exact")
        fastv = load_npz_dir(tmp / "fast")
        if exact and set(exact) == set(fastv):
            diff = max(float(np.abs(exact[k]["image"] - fastv[k]["image"]).max()) for k in exact)
            notes["eclip fast"] = f"fast vs exact embeddings max abs diff {diff:.1e}"
    what = f"{n} images {realsize.W}x{realsize.H} {kind}"
    for rust_side, py_side in REAL_PAIRS:
        res: dict[str, Any] = {
            "rust": summaries[rust_side],
            "python": summaries[py_side],
            "what": what,
            "dataset": str(ds),
        }
        if rust_side == "eclip exact" and py_side == "reference.py" and summaries[py_side].get("ok"):
            res["agreement"] = agreement(tmp / "exact", tmp / "ref")
        elif notes[rust_side]:
            res["note"] = notes[rust_side]
        ctx.results[f"{case} {rust_side.removeprefix('eclip ')} / {py_side}"] = res


MALLOC_TUNING = {
    "MALLOC_MMAP_THRESHOLD_": str(256 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
    "MALLOC_TOP_PAD_": str(256 << 20),
}
NUMPY_MAX_N = 20_000  # numpy's N x N float32 matrix: 1.6 GB at 20k, 10 GB at 50k (too much for this machine)
PROBE_ARGS = ["5000", "512", "5", "1.0", "1000"]  # n_train d classes C max_iter: room to converge
SECONDS = re.compile(r"(\d+(?:\.\d+)?)s[;,]")
ACCURACY = re.compile(r"test accuracy (\d+(?:\.\d+)?)")
ITERATIONS = re.compile(r"iterations (\d+(?: \(not converged\))?)")
MISMATCH = re.compile(r"rank mismatches vs Rust: i2t (\d+), t2i (\d+)")


def example_bin(name: str) -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "examples" / name


def retrieval_case(ctx: Ctx) -> None:
    """Ranks both ways at each N: the eval helper's Rust benchmark (`benchmarks/eval/retrieval.rs`, the
    workbench's chunked ranks) against its numpy script (full N x N matrix), both generating the same
    seeded embeddings (d = 512); numpy also checks the ranks are identical. Each side is its own process,
    so peak RSS is that side's."""
    sizes = ctx.args.retrieval_sizes or (
        [1000, 10_000] if ctx.args.quick else [1000, 10_000, 20_000, 50_000, 100_000]
    )
    rust_bin = example_bin("eval_retrieval_bench")
    for n in sizes:
        rust, py = Side(), Side()
        res: dict[str, Any] = {}
        rust_json = OUT / "retrieval" / f"rust-{n}.json"
        rust_json.parent.mkdir(parents=True, exist_ok=True)
        py_cmd = [ctx.py, str(HERE / "eval" / "retrieval_numpy.py"), str(n), "512", "--check", str(rust_json)]
        if n > NUMPY_MAX_N:
            py.note = f"numpy not run: its {n}x{n} float32 matrix needs {4 * n * n / 1e9:.0f} GB"
        for _ in range(ctx.args.runs):
            if rust_bin.exists():
                m = run_measured([str(rust_bin), str(n), "512"], env=ctx.env)
                if m.rc == 0:
                    rec = json.loads(m.output[m.output.index("{") :])
                    m.inner = rec["seconds"]
                    rust_json.write_text(json.dumps({"i2t": rec["i2t"], "t2i": rec["t2i"]}), encoding="utf-8")
                    m.output = ""
                rust.runs.append(m)
            else:
                rust.note = f"{rust_bin} not built"
            if n <= NUMPY_MAX_N and rust_json.exists():
                m = run_measured(py_cmd, env=ctx.env)
                py.runs.append(m)
                sec = SECONDS.search(m.output)
                m.inner = float(sec.group(1)) if sec else None
                mm = MISMATCH.search(m.output)
                if mm:
                    res["rank_mismatches"] = int(mm.group(1)) + int(mm.group(2))
        res.update(rust=rust.summary(), python=py.summary(), what="ranks i2t + t2i, d=512")
        ctx.results[f"retrieval N={n}"] = res


def probe_case(ctx: Ctx) -> None:
    """Linear-probe fit at convergence (max_iter 1000, tol 1e-4 on both sides): linfa-logistic
    (`benchmarks/eval/probe.rs`) against scikit-learn lbfgs (`probe_sklearn.py`) on the same
    deterministic features and C (eval helper's pieces), on the raw features and standardised with the
    training set's statistics (`[eval] probe_standardize`; StandardScaler on the Python side)."""
    rust_bin = example_bin("eval_probe_bench")
    for variant, extra in (("probe", []), ("probe standardized", ["standardize"])):
        args = [*PROBE_ARGS, *extra]
        rust, py = Side(), Side()
        acc: dict[str, float] = {}
        iters: dict[str, str] = {}
        fit: dict[str, list[float]] = {"rust": [], "python": []}
        for r in range(ctx.args.runs):
            # The bisection that counts linfa's iterations costs several fits: first run, on request.
            count = ["iterations"] if r == 0 and ctx.args.probe_iterations else []
            for side, cmd, label in (
                (rust, [str(rust_bin), *args, *count], "rust"),
                (py, [ctx.py, str(HERE / "eval" / "probe_sklearn.py"), *args], "python"),
            ):
                if label == "rust" and not rust_bin.exists():
                    rust.note = f"{rust_bin} not built"
                    continue
                m = run_measured(cmd, env=ctx.env)
                if extra and m.rc == 0 and "standardized" not in m.output:
                    # An older probe bench ignores the argument: its figures are not this variant's.
                    side.note = f"{cmd[0]} does not standardise (an older build)"
                    m.rc = 1
                side.runs.append(m)
                s, a, it = SECONDS.search(m.output), ACCURACY.search(m.output), ITERATIONS.search(m.output)
                m.inner = float(s.group(1)) if s else None
                if s and a:
                    fit[label].append(float(s.group(1)))
                    acc[label] = float(a.group(1))
                if it:
                    iters[label] = it.group(1)
        res: dict[str, Any] = {"rust": rust.summary(), "python": py.summary(), "args": " ".join(args)}
        for label in fit:
            if fit[label]:
                res[label]["fit_median_s"] = statistics.median(fit[label])
                res[label]["accuracy"] = acc[label]
            if label in iters:
                res[label]["iterations"] = iters[label]
        ctx.results[variant] = res


def report_case(ctx: Ctx, fixture_toml: Path | None, fixture_model: Path | None) -> None:
    """The whole `eclip --report` (embedding with --no-cache, every evaluation, bootstrap CIs, CSV) on the
    bundled fixtures; while the fixture models are not there, on the fixture data with the first model
    found and its sibling (e.g. tiny-a and tiny-b) as the two compared models. Workbench only."""
    if ctx.eclip is None or "--report" not in eclip_help(ctx.eclip):
        ctx.results["report"] = {"skipped": "eclip has no --report option yet"}
        return
    out = OUT / "report"
    out.mkdir(parents=True, exist_ok=True)
    config = ROOT / "fixtures" / "workbench.toml"
    if not (ROOT / "fixtures" / "models" / "eclip" / "model.json").exists():
        if fixture_toml is None or fixture_model is None:
            ctx.results["report"] = {"skipped": "no fixture data/models"}
            return
        siblings = sorted(p for p in fixture_model.parent.iterdir() if (p / "model.json").exists())
        models = [fixture_model, *(p for p in siblings if p != fixture_model)][:2]
        lines = ["[runtime]", 'device = "cpu"', f"threads = {ctx.args.threads}", ""]
        for name, m in zip(("A", "B"), models, strict=False):
            lines += ["[[models]]", f'name = "{name}-{m.name}"', f'path = "{m.resolve()}"', ""]
        lines += ["[[datasets]]", f'path = "{fixture_toml.resolve()}"', ""]
        config = out / "workbench.toml"
        config.write_text("\n".join(lines), encoding="utf-8")
    cmd = [str(ctx.eclip), "--config", str(config), "--report", str(out / "report.csv"), "--no-cache", "-q"]
    side = Side()
    for _ in range(1 if ctx.args.quick else ctx.args.runs):  # minutes per run
        m = run_measured(cmd, env=ctx.env, cwd=ROOT)
        side.runs.append(m)
        (out / "last.log").write_text(m.output, encoding="utf-8")
        if m.rc != 0:
            break
    ctx.results["report"] = {
        "rust": side.summary(),
        "python": {"ok": False, "note": "no Python equivalent"},
        "command": " ".join(cmd),
    }


def machine() -> dict[str, Any]:
    def sh(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"

    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in sh("lscpu").splitlines() if ln.startswith("Model name")), "?"
    )
    dirty = "-dirty" if sh("git", "status", "--porcelain", "--untracked-files=no") else ""
    import onnxruntime

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": sh("git", "rev-parse", "--short", "HEAD") + dirty,
        "cpu": f"{cpu}, {os.cpu_count()} logical CPUs",
        "load": sh("uptime").split("load average:")[-1].strip(),
        "onnxruntime": onnxruntime.__version__,
        "python": platform.python_version(),
    }


def fmt_side(s: dict[str, Any]) -> str:
    if not s.get("ok"):
        return "n/a"
    out = f"{s['median_s']:.2f} s ({s['min_s']:.2f}-{s['max_s']:.2f})"
    if s.get("images_per_s"):
        out += f"; {s['images_per_s']:.1f} img/s"
    if s.get("timed_median_s"):
        out += f"; timed {s['timed_median_s']:.2f} s"
    if s.get("accuracy") is not None:
        out += f"; acc {s['accuracy']:.4f}"
    if s.get("iterations") is not None:
        out += f"; {s['iterations']} iterations"
    return out


def table(results: dict[str, Any], threads: int, batch: int) -> str:
    lines = [
        f"| case (threads {threads}, batch {batch}) | eclip median (min-max) | Python median (min-max) | "
        "Python / eclip (wall) | CPU s eclip / Python (ratio) | peak RSS eclip / Python | "
        "ORT share of wall eclip / Python | agreement |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, res in results.items():
        if "skipped" in res:
            lines.append(f"| {name} | skipped: {res['skipped'][:120]} | | | | | | |")
            continue
        if "rust" not in res or "python" not in res:
            lines.append(f"| {name} | {json.dumps(res)[:200]} | | | | | | |")
            continue
        r, p = res["rust"], res["python"]
        key = "timed_median_s" if r.get("timed_median_s") and p.get("timed_median_s") else "median_s"
        ratio = (
            f"{p[key] / r[key]:.2f}x" + (" (timed)" if key != "median_s" else "")
            if r.get("ok") and p.get("ok")
            else "n/a"
        )

        def val(x: dict[str, Any], key: str, fmt: str) -> str:
            return format(x[key], fmt) if x.get("ok") else "n/a"

        both = r.get("ok") and p.get("ok")
        cpu = f"{val(r, 'cpu_median_s', '.1f')} / {val(p, 'cpu_median_s', '.1f')}" + (
            f" ({p['cpu_median_s'] / r['cpu_median_s']:.2f}x)" if both else ""
        )
        rss = f"{val(r, 'peak_rss_mib', '.0f')} / {val(p, 'peak_rss_mib', '.0f')} MiB"

        def share(s: dict[str, Any]) -> str:
            v = s.get("ort_share")
            perf = s.get("perf_ort_cpu_share")
            out = f"{v:.0%}" if isinstance(v, float) else "?"
            return out + (f" (perf {perf:.0%})" if isinstance(perf, float) else "")

        agr = res.get("agreement", {})
        if "rank_mismatches" in res:
            agr = {"note": f"rank mismatches vs numpy: {res['rank_mismatches']}"}
        elif "args" in res and r.get("accuracy") is not None and p.get("accuracy") is not None:
            agr = {
                "note": f"accuracy diff {100 * (r['accuracy'] - p['accuracy']):+.2f} points ({res['args']})"
            }
        elif res.get("note"):
            agr = {"note": res["note"]}
        elif p.get("note"):
            agr = {"note": p["note"]}
        if agr.get("ok"):
            parts = []
            for split, v in agr.items():
                if isinstance(v, dict):
                    same = (
                        "identical"
                        if v["ranks_identical"]
                        else f"{v['ranks_differing']} differ (max change {v['max_rank_change']})"
                    )
                    parts.append(
                        f"{split}: n={v['n']} max|d| img {v['max_abs_diff_image']:.1e} txt "
                        f"{v['max_abs_diff_text']:.1e}, ranks {same}"
                    )
            agr_s = "; ".join(parts)
        else:
            agr_s = agr.get("note", "n/a")
        lines.append(
            f"| {name} | {fmt_side(r)} | {fmt_side(p)} | {ratio} | {cpu} | {rss} | "
            f"{share(r)} / {share(p)} | {agr_s} |"
        )
    return "\n".join(lines)


def find_fixtures(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    data = Path(args.fixture_data) if args.fixture_data else None
    if data is None:
        for cand in (
            ROOT / "fixtures" / "data" / "dataset.toml",
            Path("/work/wt/data/fixtures/data/dataset.toml"),
        ):
            if cand.exists():
                data = cand
                break
    model = Path(args.fixture_model) if args.fixture_model else None
    if model is None:
        for cand in (ROOT / "fixtures" / "models" / "eclip", Path("/work/scratch/models/tiny-a")):
            if (cand / "model.json").exists():
                model = cand
                break
    return data, model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="CPU benchmarks: eclip vs the reference Python pipeline.")
    p.add_argument("--quick", action="store_true", help="small sizes, 3 runs: a few minutes")
    p.add_argument("--cases", default=",".join(ALL_CASES), help=f"comma-separated subset of {ALL_CASES}")
    p.add_argument("--runs", type=int, help="alternating runs per side (default 5, --quick 3)")
    p.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="ORT intra-op threads, both sides"
    )
    p.add_argument("--batch", type=int, default=32, help="images/texts per ORT call, both sides")
    p.add_argument(
        "--python-workers",
        type=int,
        default=-1,
        help="reference decode threads overlapping inference (-1 = --threads; 0 = serial, like a plain loop)",
    )
    p.add_argument("--synth-n", type=int, help="synthetic images (default 10000, --quick 2000)")
    p.add_argument("--vit-n", type=int, help="images for the ViT-B/16 case (default 64, --quick 16)")
    p.add_argument(
        "--retrieval-sizes",
        type=lambda v: [int(x) for x in v.split(",")],
        help="comma-separated N for the retrieval case (default 1000,...,100000; --quick 1000,10000)",
    )
    p.add_argument("--fixture-data", help="dataset.toml of the fixtures (default: fixtures/data)")
    p.add_argument(
        "--fixture-model", help="model folder for the fixture/synthetic cases (default fixtures/models/eclip)"
    )
    p.add_argument("--eclip", help="use this eclip binary instead of building one")
    p.add_argument(
        "--no-build", action="store_true", help="do not run cargo (needs --eclip or a built binary)"
    )
    p.add_argument(
        "--perf", action="store_true", help="one extra run per side under perf for the ORT CPU share"
    )
    p.add_argument(
        "--malloc-tuned",
        action="store_true",
        help="both sides: glibc malloc keeps freed memory (MALLOC_MMAP_THRESHOLD_/TRIM_THRESHOLD_/TOP_PAD_), "
        "which removes the page-fault cost of per-image buffers (see RESULTS.md, embed-large)",
    )
    p.add_argument(
        "--probe-iterations",
        action="store_true",
        help="probe case: also count linfa's L-BFGS iterations (a bisection of extra fits, first run)",
    )
    p.add_argument("--json", help="also write the results as JSON here")
    p.add_argument(
        "--table-from",
        metavar="JSON",
        help="only print the tables of a saved run (benchmarks/out/last.json or partial.json)",
    )
    a = p.parse_args(argv)
    if a.table_from:
        print_record(json.loads(Path(a.table_from).read_text(encoding="utf-8")))
        return 0
    a.runs = a.runs or (3 if a.quick else 5)
    a.synth_n = a.synth_n or (2000 if a.quick else 10_000)
    a.vit_n = a.vit_n or (16 if a.quick else 64)
    cases = [c.strip() for c in a.cases.split(",") if c.strip()]
    unknown = set(cases) - set(ALL_CASES)
    if unknown:
        p.error(f"unknown cases {sorted(unknown)}; known: {ALL_CASES}")

    env = dict(os.environ, ORT_DYLIB_PATH=ort_dylib(), OMP_NUM_THREADS=str(a.threads))
    if a.malloc_tuned:
        env.update(MALLOC_TUNING)
    if a.eclip:
        eclip: Path | None = Path(a.eclip)
    elif a.no_build:
        eclip = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "eclip"
    else:
        eclip = build_release()
    if eclip is not None and "embed" not in eclip_help(eclip):
        print(f"note: {eclip} has no `embed` command; timing the Python side only", file=sys.stderr)
        eclip = None
    ctx = Ctx(a, eclip, env, sys.executable)
    info = machine()
    info["load_before"] = info.pop("load")
    fixture_data, fixture_model = find_fixtures(a)

    OUT.mkdir(parents=True, exist_ok=True)
    synth_toml = None
    if {"embed-synth", "embed-vitb16"} & set(cases):
        print(f"generating {a.synth_n} synthetic images (reused when present)", file=sys.stderr, flush=True)
        synth_toml = synth.synthetic_dataset(OUT / f"synth-{a.synth_n}", a.synth_n)
    for case in cases:
        print(f"case {case}", file=sys.stderr, flush=True)
        # What is finished so far, so that an interrupted run keeps its cases (`--table-from`).
        partial = {**run_record(a, info, ctx, argv), "partial": True}
        (OUT / "partial.json").write_text(json.dumps(partial, indent=1) + "\n", encoding="utf-8")
        if case == "embed-fixture":
            if fixture_data is None or fixture_model is None:
                ctx.results[case] = {
                    "skipped": f"fixtures missing (data {fixture_data}, model {fixture_model})"
                }
                continue
            sub = synth.subset_dataset(fixture_data, {"test"}, OUT / "fixture-test-data")
            embed_case(ctx, case, fixture_model, sub)
        elif case == "embed-synth":
            model = fixture_model or synth.random_model("vit-tiny", MODELS / "vit-tiny-random")
            assert synth_toml is not None
            embed_case(ctx, case, model, synth_toml)
        elif case == "embed-large":
            n = 100 if a.quick else 500
            model = fixture_model or synth.random_model("vit-tiny", MODELS / "vit-tiny-random")
            large = synth.synthetic_dataset(OUT / f"synth-{n}-{LARGE_SIZE}px", n, size=LARGE_SIZE)
            embed_case(ctx, case, model, large)
        elif case == "embed-vitb16":
            assert synth_toml is not None
            print("  exporting the random ViT-B/16 (first time: minutes)", file=sys.stderr, flush=True)
            model = synth.random_model("vit-b-16", MODELS / "vit-b-16-random")
            sub = synth.head_dataset(synth_toml, a.vit_n, OUT / f"synth-head-{a.vit_n}")
            embed_case(ctx, case, model, sub)
        elif case in REAL_CASES:
            realsize_case(ctx, case)
        elif case == "retrieval":
            retrieval_case(ctx)
        elif case == "probe":
            probe_case(ctx)
        elif case == "report":
            report_case(ctx, fixture_data, fixture_model)
    info["load_after"] = machine()["load"]
    out = run_record(a, info, ctx, argv)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    (OUT / "last.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print_record(out)
    return 0


def run_record(
    a: argparse.Namespace, info: dict[str, Any], ctx: Ctx, argv: list[str] | None
) -> dict[str, Any]:
    return {
        "machine": dict(info),
        "threads": a.threads,
        "batch": a.batch,
        "runs": a.runs,
        "quick": a.quick,
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "results": dict(ctx.results),
    }


def print_record(out: dict[str, Any]) -> None:
    """The machine line and the ratio table of a run record (`last.json` or `partial.json`)."""
    info = out["machine"]
    print()
    print(
        f"machine: {info['cpu']}; load {info['load_before']} -> {info.get('load_after', '?')}; "
        f"{info['date']}; commit {info['commit']}; onnxruntime {info['onnxruntime']}"
        + ("; interrupted: finished cases only" if out.get("partial") else "")
    )
    print(table(out["results"], out["threads"], out["batch"]))


if __name__ == "__main__":
    sys.exit(main())
