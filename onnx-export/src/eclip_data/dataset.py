"""Build a dataset folder (docs/formats.md §1): images, reports, labels, patient-grouped splits, the
single-positive 5x200-style split, simulated gaze heatmaps for a fraction of the training images and
for a fixed, finding-stratified subset of the test split (the saliency evaluation's expert maps),
prompts, and `dataset.toml`.

Determinism: every random draw comes from a numpy Generator seeded by (seed, split code, index), so
the bytes do not depend on the number of worker processes. Cases, reports and the heatmap subsets are
drawn in the main process; drawing pixels and gaze happens per image in workers. The test heatmaps
(subset choice and gaze) draw from streams of their own (`GAZE_STREAM` as a fourth key word), so adding
them changes no image, report or training heatmap byte.
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from eclip_data import FINDINGS, LABELS, ZEROSHOT_CLASSES
from eclip_data.findings import Patient, labels_of, make_case, sample_findings, sample_patient
from eclip_data.gaze import POOLED, Fixations, load_default_stats, simulate_scanpath
from eclip_data.heatmap import fixation_heatmap, save_heatmap
from eclip_data.phantom import Case, render
from eclip_data.prompts import make_prompts
from eclip_data.reports import make_report

SPLIT_CODES = {"train": 0, "val": 1, "test": 2, "test_5x200": 3, "pretrain": 10, "pretrain_val": 11}
FIXTURE_COUNTS = {"train": 1400, "val": 250, "test": 1000, "test_5x200": 1000}
SHIFTED_SPLITS = ("test", "test_5x200")  # confounder reversed here
DEFAULT_SIGMA_PX = 5.0
FIXTURE_TEST_HEATMAPS = 200  # test images with simulated gaze (saliency evaluation)
# Fourth key word of the RNG streams used only for held-out (test) heatmaps. numpy's SeedSequence pads
# short keys with zeros, so the image streams (seed, code, i) equal (seed, code, i, 0) and never this one.
GAZE_STREAM = 1
STUDIES_PER_PATIENT = ([1, 2, 3], [0.5, 0.3, 0.2])


@dataclass
class Study:
    split: str
    index: int
    patient: str
    case: Case
    report: str
    heatmap: bool
    # False: gaze continues the image's own RNG stream (training heatmaps, as first built);
    # True: gaze comes from the separate stream (seed, split code, index + 1, GAZE_STREAM).
    gaze_own_stream: bool = False

    @property
    def name(self) -> str:
        return f"{self.split}_{self.index:05d}"


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


def plan_split(seed: int, split: str, n: int, heatmap_fraction: float = 0.0) -> list[Study]:
    """Cases and reports of one split. Patients have 1-3 studies (never crossing splits); for
    `test_5x200` each patient has one study positive for exactly one zero-shot class, n/5 per class."""
    code = SPLIT_CODES[split]
    rng = _rng(seed, code, 0)
    domain = "shifted" if split in SHIFTED_SPLITS else "train"
    studies: list[Study] = []
    k = 0
    if split == "test_5x200":
        per_class = n // len(ZEROSHOT_CLASSES)
        need = dict.fromkeys(ZEROSHOT_CLASSES, per_class)
        while any(need.values()):
            patient = sample_patient(rng)
            f = sample_findings(rng, patient)
            pos = [c for c in ZEROSHOT_CLASSES if c in f]
            if len(pos) == 1 and need[pos[0]] > 0:
                need[pos[0]] -= 1
                case = make_case(rng, patient, f, domain)
                studies.append(
                    Study(split, len(studies), f"{split}-p{k:05d}", case, make_report(rng, f), False)
                )
            k += 1
        return studies
    while len(studies) < n:
        patient: Patient = sample_patient(rng)
        m = int(rng.choice(STUDIES_PER_PATIENT[0], p=STUDIES_PER_PATIENT[1]))
        for _ in range(min(m, n - len(studies))):
            f = sample_findings(rng, patient)
            case = make_case(rng, patient, f, domain)
            studies.append(Study(split, len(studies), f"{split}-p{k:05d}", case, make_report(rng, f), False))
        k += 1
    if heatmap_fraction > 0:
        chosen = rng.choice(n, size=round(heatmap_fraction * n), replace=False)
        for i in chosen:
            studies[int(i)].heatmap = True
    return studies


def choose_test_heatmaps(seed: int, studies: list[Study], n: int) -> list[int]:
    """Mark `n` studies of a split (all if fewer) for a simulated gaze heatmap drawn from the separate
    stream, stratified by finding: a seeded permutation of the split (stream (seed, code, 0,
    GAZE_STREAM)) is walked round-robin over `LABELS` (each finding and `no_finding`), each label taking
    the next unchosen study positive for it; a label with none left is skipped. Returns the chosen
    indices in the order chosen."""
    if not studies or n <= 0:
        return []
    rng = _rng(seed, SPLIT_CODES[studies[0].split], 0, GAZE_STREAM)
    order = [int(i) for i in rng.permutation(len(studies))]
    labels = [labels_of(studies[i].case.findings) for i in order]
    cursor = dict.fromkeys(LABELS, 0)
    chosen: list[int] = []
    taken: set[int] = set()
    n = min(n, len(studies))
    while len(chosen) < n:
        progressed = False
        for label in LABELS:
            if len(chosen) == n:
                break
            j = cursor[label]
            while j < len(order) and (order[j] in taken or not labels[j][label]):
                j += 1
            cursor[label] = j + 1
            if j < len(order):
                chosen.append(order[j])
                taken.add(order[j])
                progressed = True
        if not progressed:
            break
    for i in chosen:
        studies[i].heatmap = True
        studies[i].gaze_own_stream = True
    return chosen


def simulate_gaze(
    rng: np.random.Generator, regions: dict[str, np.ndarray], stats: dict[str, Any], size: int
) -> Fixations:
    """One scanpath per positive finding (statistics of that finding, final fixation at a random
    point of its region), or one target-less search scanpath for a normal image; concatenated."""
    parts: list[Fixations] = []
    for name in FINDINGS:
        if name in regions and regions[name].any():
            ys, xs = np.nonzero(regions[name])
            j = int(rng.integers(len(xs)))
            parts.append(simulate_scanpath(rng, stats["findings"][name], (float(xs[j]), float(ys[j])), size))
    if not parts:
        parts.append(simulate_scanpath(rng, stats["findings"][POOLED], None, size))
    return Fixations(
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.y for p in parts]),
        np.concatenate([p.duration_s for p in parts]),
        size,
        size,
    )


def _to_file(img: np.ndarray, mode: str) -> Image.Image:
    if mode == "I;16":
        return Image.fromarray(np.round(img * 65535).astype(np.uint16))
    u8 = np.round(img * 255).astype(np.uint8)
    if mode == "RGB":
        return Image.fromarray(np.stack([u8, u8, u8], axis=-1))
    return Image.fromarray(u8)


_WORKER: dict[str, Any] = {}


def _init_worker(out: str, seed: int, size: int, sigma_px: float, stats: dict[str, Any]) -> None:
    _WORKER.update(out=Path(out), seed=seed, size=size, sigma_px=sigma_px, stats=stats)


def _render_one(study: Study) -> list[tuple[float, float, float]] | None:
    w = _WORKER
    rng = _rng(w["seed"], SPLIT_CODES[study.split], study.index + 1)
    img, regions = render(study.case, w["size"], rng)
    _to_file(img, study.case.acquisition.mode).save(
        w["out"] / "images" / study.split / f"{study.name}.png", optimize=True
    )
    if not study.heatmap:
        return None
    if study.gaze_own_stream:
        rng = _rng(w["seed"], SPLIT_CODES[study.split], study.index + 1, GAZE_STREAM)
    fix = simulate_gaze(rng, regions, w["stats"], w["size"])
    # rounded as written to gaze_fixations.csv, so `eclip-data heatmap` on that file gives the same bytes
    fix.x, fix.y, fix.duration_s = np.round(fix.x, 2), np.round(fix.y, 2), np.round(fix.duration_s, 4)
    save_heatmap(
        fixation_heatmap(fix, w["size"], w["size"], w["sigma_px"]),
        w["out"] / "heatmaps" / f"{study.name}.png",
    )
    return [(float(x), float(y), float(t)) for x, y, t in zip(fix.x, fix.y, fix.duration_s, strict=True)]


def _finding_record(findings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        k: {kk: (round(vv, 4) if isinstance(vv, float) else vv) for kk, vv in v.items()}
        for k, v in findings.items()
    }


def build(
    out: str | Path,
    seed: int = 0,
    counts: dict[str, int] | None = None,
    heatmap_fraction: float = 0.1,
    size: int = 128,
    sigma_px: float = DEFAULT_SIGMA_PX,
    workers: int = 1,
    name: str = "cxr-demo",
    test_heatmaps: int = FIXTURE_TEST_HEATMAPS,
) -> dict[str, Any]:
    """Write the dataset folder `out` (replacing generated files there) and return a summary.
    `test_heatmaps` images of the `test` split (if built) get gaze heatmaps (`choose_test_heatmaps`)."""
    t0 = time.time()
    counts = dict(FIXTURE_COUNTS if counts is None else counts)
    out = Path(out)
    for sub in ("images", "heatmaps"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "heatmaps").mkdir(parents=True)
    stats = load_default_stats()
    studies: list[Study] = []
    for split, n in counts.items():
        (out / "images" / split).mkdir(parents=True)
        frac = heatmap_fraction if split in ("train", "pretrain") else 0.0
        planned = plan_split(seed, split, n, frac)
        if split == "test":
            choose_test_heatmaps(seed, planned, test_heatmaps)
        studies += planned
    args = (str(out), seed, size, sigma_px, stats)
    if workers > 1:
        with mp.get_context("fork").Pool(workers, _init_worker, args) as pool:
            gaze = pool.map(_render_one, studies, chunksize=16)
    else:
        _init_worker(*args)
        gaze = [_render_one(s) for s in studies]

    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(
            ["image", "report", "split", "patient", *LABELS, "heatmap", "support_device", "image_mode"]
        )
        for s in studies:
            lab = labels_of(s.case.findings)
            wr.writerow(
                [
                    f"images/{s.split}/{s.name}.png",
                    s.report,
                    s.split,
                    s.patient,
                    *(lab[k] for k in LABELS),
                    f"heatmaps/{s.name}.png" if s.heatmap else "",
                    s.case.device or "",
                    s.case.acquisition.mode,
                ]
            )
    with open(out / "gaze_fixations.csv", "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["image", "x", "y", "duration_s"])
        for s, g in zip(studies, gaze, strict=True):
            for x, y, t in g or []:
                wr.writerow([f"images/{s.split}/{s.name}.png", x, y, t])
    with open(out / "findings.jsonl", "w", encoding="utf-8") as fh:
        for s in studies:
            rec = {
                "image": f"images/{s.split}/{s.name}.png",
                "findings": _finding_record(s.case.findings),
                "device": s.case.device,
            }
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
    (out / "prompts.json").write_text(json.dumps(make_prompts(), indent=1) + "\n", encoding="utf-8")
    (out / "gaze_stats.json").write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
    roles = {"train": "train", "val": "val", "test": "test", "single_positive": "test_5x200"}
    if "pretrain" in counts:
        roles |= {"train": "pretrain", "val": "pretrain_val"}
    split_lines = "".join(f'{k} = "{v}"\n' for k, v in roles.items() if v in counts)
    (out / "dataset.toml").write_text(
        f"# Generated by: eclip-data build --out <dir> --seed {seed} (see fixtures/README.md)\n"
        f'name = "{name}"\nmanifest = "manifest.csv"\nprompts = "prompts.json"\n'
        f"labels = {json.dumps(list(LABELS))}\nzeroshot_classes = {json.dumps(list(ZEROSHOT_CLASSES))}\n\n"
        f"[splits]\n{split_lines}",
        encoding="utf-8",
    )
    return summarize(out) | {"seconds": round(time.time() - t0, 1)}


def summarize(out: str | Path) -> dict[str, Any]:
    """Counts per split and label, heatmap fraction, device rates, bytes on disk of a built folder."""
    out = Path(out)
    with open(out / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    per: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = per.setdefault(r["split"], {"n": 0, "heatmaps": 0, "device": 0, **dict.fromkeys(LABELS, 0)})
        p["n"] += 1
        p["heatmaps"] += bool(r["heatmap"])
        p["device"] += bool(r["support_device"])
        for k in LABELS:
            p[k] += int(r[k])
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"splits": per, "bytes": size, "files": sum(1 for f in out.rglob("*") if f.is_file())}
