"""Radiograph-size embedding benchmark (issue 17): `eclip` exact and fast rules against the project's
`reference.py` and a careful Python pipeline (PIL `draft` / `reducing_gap` + a thread pool), end to end.

    PYTHONPATH=onnx-export/src .venv/bin/python benchmarks/realsize.py --n 100 --runs 3 \
        --eclip target/release/eclip [--baseline /path/to/older/eclip] [--cases jpeg,png16]

Inputs (generated once into benchmarks/out/realsize-*): `--n` synthetic chest-X-ray phantoms of
2,048 x 2,500 px as 8-bit JPEG q95 (MIMIC-CXR-JPG style) and as 16-bit gray PNG; the fixture CLIP model
(`fixtures/models/clip`, 128 px), and a copy of it whose `model.json` names the fast rule
(`shortest_edge_bilinear_center_crop_reduce`). Every side is a separate process with 2 threads and
batch 32, timed with `/usr/bin/time` (wall seconds and that child's own peak RSS), and the sides
alternate in every round so load changes hit all of them alike. `eclip` runs with `--no-cache` (no
hashing, nothing read from a cache); its ONNX Runtime share of wall comes from its summary line.
The PIL pipeline embeds images only (the 100 reports cost eclip and reference.py a few ms).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

OUT = HERE / "out"
W, H = 2048, 2500
FAST_RULE = "shortest_edge_bilinear_center_crop_reduce"


KINDS = ("jpeg", "png16", "dicom")
DICOM_WINDOW = (30000.0, 50000.0)  # Window Center / Width of the DICOM phantoms (16-bit stored values)


def write_dicom(path: Path, pixels: np.ndarray, index: int) -> None:
    """Uncompressed (Explicit VR Little Endian) 16-bit MONOCHROME2 DX image with one Window
    Center/Width, written by pydicom (as a modality delivers a processed radiograph)."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.17.{index + 1}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.17"
    ds.Modality = "DX"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    ds.WindowCenter, ds.WindowWidth = DICOM_WINDOW
    ds.PixelData = pixels.astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)


def make_dataset(kind: str, n: int) -> Path:
    """`n` phantoms as JPEG q95 (`jpeg`), 16-bit PNG (`png16`) or 16-bit DICOM with a window
    (`dicom`); returns dataset.toml (reused)."""
    from PIL import Image

    out = OUT / f"realsize-{kind}-{n}"
    ready = out / "READY"
    if ready.exists():
        return out / "dataset.toml"
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(17)
    yy, xx = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing="ij")
    # The DICOM phantoms hold the 16-bit PNG phantoms' pixels when those exist (the phantom costs far
    # more than the file): the same images in both formats.
    png16 = OUT / f"realsize-png16-{n}"
    same_pixels = kind == "dicom" and (png16 / "READY").exists()
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "report", "split", "patient", *synth.LABELS])
        for i in range(n):
            if same_pixels:
                with Image.open(png16 / f"images/{i:05d}.png") as im:
                    img = np.asarray(im, dtype=np.float64) / 65535.0
            else:
                img = synth._phantom(rng, W, yy, xx)
            if kind == "jpeg":
                name = f"images/{i:05d}.jpg"
                Image.fromarray((img * 255 + 0.5).astype(np.uint8), mode="L").save(out / name, quality=95)
            elif kind == "png16":
                name = f"images/{i:05d}.png"
                Image.fromarray((img * 65535 + 0.5).astype(np.uint16)).save(out / name, compress_level=1)
            else:
                name = f"images/{i:05d}.dcm"
                write_dicom(out / name, (img * 65535 + 0.5).astype(np.uint16), i)
            w.writerow(
                [name, f"Report {i}. The lungs are clear.", "test", f"p{i}", *([0] * len(synth.LABELS))]
            )
    synth._write_prompts(out / "prompts.json")
    synth._write_toml(
        out / "dataset.toml", f"realsize-{kind}", {"train": "test", "val": "test", "test": "test"}
    )
    ready.write_text("1", encoding="utf-8")
    return out / "dataset.toml"


def fast_model(src: Path) -> Path:
    dst = OUT / "models" / (src.name + "-fast")
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    spec = json.loads((dst / "model.json").read_text(encoding="utf-8"))
    spec["image"]["resize"] = FAST_RULE
    (dst / "model.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return dst


def config(path: Path, model: Path, dataset: Path, threads: int) -> Path:
    path.write_text(
        f'[runtime]\ndevice = "cpu"\nthreads = {threads}\nbatch_size = 32\n'
        f'[[models]]\nname = "M"\npath = "{model}"\n[[datasets]]\npath = "{dataset}"\n',
        encoding="utf-8",
    )
    return path


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MiB) of `cmd` itself (through the `rusage.py` launcher, so this
    driver's memory does not count); plus its output."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "rusage.json"
        launcher = [sys.executable, "-I", "-S", str(Path(__file__).with_name("rusage.py")), str(stats)]
        p = subprocess.run([*launcher, *cmd], capture_output=True, text=True, env=env)
        if p.returncode != 0 or not stats.exists():
            raise SystemExit(f"{cmd[0]} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        r = json.loads(stats.read_text(encoding="utf-8"))
    return r["wall_s"], r["maxrss_mib"], p.stdout + p.stderr


def pil_pool(model: Path, manifest: Path, threads: int) -> None:
    """The careful Python pipeline: PIL draft (JPEG) / reducing_gap resize, thread pool, onnxruntime."""
    import onnxruntime as ort
    from PIL import Image

    spec = json.loads((model / "model.json").read_text(encoding="utf-8"))["image"]
    size, mean, std = spec["size"], np.float32(spec["mean"][0]), np.float32(spec["std"][0])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(model / spec["file"]), so, providers=["CPUExecutionProvider"])
    root = manifest.parent
    with open(manifest, newline="", encoding="utf-8") as fh:
        paths = [root / r["image"] for r in csv.DictReader(fh)]

    def load(p: Path) -> np.ndarray:
        if p.suffix == ".dcm":
            return crop(dicom_image(p))
        with Image.open(p) as im:
            nw, nh = target(*im.size)
            im.draft("L", (nw, nh))
            scale = 255.0 if im.mode == "L" else 65535.0
            f = im.convert("F") if im.mode == "L" else im.convert("I").convert("F")
            return crop(np.asarray(f.resize((nw, nh), Image.BILINEAR, reducing_gap=2.0)) / np.float32(scale))

    def target(w: int, h: int) -> tuple[int, int]:
        return ((2 * w * size + h) // (2 * h), size) if h <= w else (size, (2 * h * size + w) // (2 * w))

    def dicom_image(p: Path) -> np.ndarray:
        import pydicom

        ds = pydicom.dcmread(p)
        x = ds.pixel_array.astype(np.float32)
        c, w = float(ds.WindowCenter), float(ds.WindowWidth)  # PS3.3 C.11.2.1.2 LINEAR
        x = np.clip((x - (c - 0.5)) / (w - 1.0) + 0.5, 0.0, 1.0)
        nw, nh = target(x.shape[1], x.shape[0])
        return np.asarray(Image.fromarray(x, mode="F").resize((nw, nh), Image.BILINEAR, reducing_gap=2.0))

    def crop(r: np.ndarray) -> np.ndarray:
        nh, nw = r.shape
        top, left = (nh - size) // 2, (nw - size) // 2
        return (r[top : top + size, left : left + size] - mean) / std

    ort = 0.0
    with ThreadPoolExecutor(threads) as pool:
        for i in range(0, len(paths), 32):
            batch = np.stack(list(pool.map(load, paths[i : i + 32])))[:, None].astype(np.float32)
            t0 = time.perf_counter()
            sess.run(None, {spec["input"]: batch})
            ort += time.perf_counter() - t0
    print(f"PIL pool: {len(paths)} images, ort_s {ort:.4f}")


def ort_share(text: str) -> float | None:
    m = re.search(r"images: .*?(\d+)% of wall", text)
    return float(m.group(1)) / 100 if m else None


def ort_seconds(text: str) -> float | None:
    """Seconds inside ONNX Runtime as the PIL pool prints them."""
    m = re.search(r"ort_s (\d+(?:\.\d+)?)", text)
    return float(m.group(1)) if m else None


def side_commands(
    eclip_bin: str,
    model: Path,
    fast: Path,
    ds: Path,
    tmp: Path,
    threads: int,
    baseline: str | None = None,
    reference_timings: Path | None = None,
) -> dict[str, list[str]]:
    """The command of every side of one real-size case, embeddings written under `tmp` (eclip exact
    into tmp/exact, fast into tmp/fast, reference.py into tmp/ref); `reference_timings` asks
    reference.py for its per-phase timers (ONNX Runtime seconds)."""
    manifest = ds.parent / "manifest.csv"
    exact_cfg = config(tmp / "exact.toml", model, ds, threads)
    fast_cfg = config(tmp / "fast.toml", fast, ds, threads)

    def eclip(binary: str, cfg: Path, out: str) -> list[str]:
        return [binary, "--config", str(cfg), "--no-cache", "--quiet", "embed", "--out", str(tmp / out)]

    py = sys.executable
    sides: dict[str, list[str]] = {}
    if baseline:
        sides["eclip baseline (exact)"] = eclip(baseline, exact_cfg, "base")
    sides["eclip exact"] = eclip(eclip_bin, exact_cfg, "exact")
    sides["eclip fast"] = eclip(eclip_bin, fast_cfg, "fast")
    ref = [py, str(HERE / "reference.py"), "embed", "--model", str(model), "--manifest", str(manifest)]
    sides["reference.py"] = [*ref, "--out", str(tmp / "ref"), "--threads", str(threads)]
    if reference_timings is not None:
        sides["reference.py"] += ["--timings", str(reference_timings)]
    me = [py, str(Path(__file__).resolve()), "--threads", str(threads)]
    sides["PIL draft + pool"] = [*me, "--pil-pool", str(model), str(manifest)]
    return sides


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eclip", default=str(ROOT / "target" / "release" / "eclip"))
    ap.add_argument("--baseline", help="an older eclip binary to time beside it")
    ap.add_argument("--cases", default=",".join(KINDS))
    ap.add_argument("--pil-pool", nargs=2, metavar=("MODEL", "MANIFEST"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.pil_pool:
        pil_pool(Path(a.pil_pool[0]), Path(a.pil_pool[1]), a.threads)
        return 0
    model = ROOT / "fixtures" / "models" / "clip"
    fast = fast_model(model)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "onnx-export" / "src")}
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cpus {os.cpu_count()}")
    for case in a.cases.split(","):
        ds = make_dataset(case, a.n)
        tmp = Path(tempfile.mkdtemp(prefix="realsize-"))

        sides = side_commands(a.eclip, model, fast, ds, tmp, a.threads, baseline=a.baseline)
        res: dict[str, list[tuple[float, float, float | None]]] = {k: [] for k in sides}
        for _ in range(a.runs):
            for name, cmd in sides.items():
                wall, rss, text = timed(cmd, env)
                res[name].append((wall, rss, ort_share(text)))
        print(f"\n### {case}: {a.n} images {W}x{H}, threads {a.threads}, batch 32, {a.runs} alternating runs")
        print("| side | images/s (median) | wall s median (min-max) | peak RSS MiB | ORT share |")
        print("|---|---|---|---|---|")
        med = {k: statistics.median(w for w, _, _ in v) for k, v in res.items()}
        for name, v in res.items():
            walls = [w for w, _, _ in v]
            shares = [s for _, _, s in v if s is not None]
            share = f"{statistics.median(shares):.0%}" if shares else "-"
            print(
                f"| {name} | {a.n / med[name]:.1f} | {med[name]:.2f} ({min(walls):.2f}-{max(walls):.2f}) | "
                f"{max(r for _, r, _ in v):.0f} | {share} |"
            )
        for name in sides:
            if name.startswith("eclip"):
                print(
                    f"{name}: {med['reference.py'] / med[name]:.2f}x reference.py, "
                    f"{med['PIL draft + pool'] / med[name]:.2f}x PIL draft + pool"
                )
        exact = np.load(tmp / "exact" / f"realsize-{case}" / "M" / "test.npz")["image"]
        fastv = np.load(tmp / "fast" / f"realsize-{case}" / "M" / "test.npz")["image"]
        print(f"fast vs exact embeddings: max |diff| {np.abs(exact - fastv).max():.2e}")
        if a.baseline:
            base = np.load(tmp / "base" / f"realsize-{case}" / "M" / "test.npz")["image"]
            print(f"exact vs baseline embeddings: identical bytes = {bool((base == exact).all())}")
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
