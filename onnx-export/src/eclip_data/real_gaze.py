"""Real radiologist gaze on MIMIC-CXR: readers for the EGD-CXR `fixations.csv` and the REFLACX
per-reading `fixations.csv`, and the join with MIMIC-CXR-JPG that writes a workbench dataset with a
`heatmap` column (docs/formats.md §1, docs/recipes.md "Real gaze").

EGD-CXR (PhysioNet egd-cxr 1.0.0, one file for all sessions): one row per fixation with `SESSION_ID`,
`DICOM_ID`, `Time (in secs)`, Gazepoint columns (`FPOGX`, `FPOGY` normalised screen position, `FPOGD`
fixation duration in seconds, `FPOGV` valid flag, ...) and `X_ORIGINAL`, `Y_ORIGINAL`: the position
in pixels of the original image (the dataset's own screen-to-image mapping; fixations off the image
are marked with negative values). It has no angular resolution, so sigma is given in pixels.

REFLACX (PhysioNet reflacx 1.0.0): `main_data/<reading id>/fixations.csv`, one row per fixation with
`timestamp_start_fixation`, `timestamp_end_fixation` (s), `x_position`, `y_position` (pixels of the
original image), `pupil_area_normalized`, `angular_resolution_x_pixels_per_degree`,
`angular_resolution_y_pixels_per_degree`, `window_width`, `window_level`, `xmin_shown_from_image`,
`ymin_shown_from_image`, `xmax_shown_from_image`, `ymax_shown_from_image` and the same box
`*_in_screen_coordinates`; `main_data/metadata_phase_<n>.csv` maps reading `id` to `dicom_id`,
`image_size_x`, `image_size_y` and `eye_tracking_data_discarded`. Sigma is in degrees of visual angle
(default 1, as REFLACX's own heatmap script), per fixation `deg * pixels_per_degree` along each axis,
and each Gaussian is limited to the part of the image that was on screen.

Heatmaps are rendered by `eclip_data.heatmap.fixation_heatmap` (the one definition) at the image's
resolution; several readings of one image are summed (their fixations pooled).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from eclip_data.gaze import Fixations
from eclip_data.heatmap import fixation_heatmap, save_heatmap
from eclip_data.recipes import (
    CHEXPERT_LABELS,
    RecipeError,
    _snake,
    chexpert_value,
    mimic_image_path,
    mimic_report_path,
    read_csv,
    read_mimic_metadata,
    report_sections,
    report_text,
)

EGD_COLUMNS = ("DICOM_ID", "FPOGD", "X_ORIGINAL", "Y_ORIGINAL")
REFLACX_COLUMNS = (
    "timestamp_start_fixation",
    "timestamp_end_fixation",
    "x_position",
    "y_position",
    "angular_resolution_x_pixels_per_degree",
    "angular_resolution_y_pixels_per_degree",
    "xmin_shown_from_image",
    "ymin_shown_from_image",
    "xmax_shown_from_image",
    "ymax_shown_from_image",
)
REFLACX_METADATA_COLUMNS = ("id", "dicom_id", "image_size_x", "image_size_y", "eye_tracking_data_discarded")


def _num(row: dict[str, str], col: str, where: str) -> float:
    raw = row[col]
    try:
        v = float(raw)
    except ValueError:
        raise RecipeError(f"{where}: column {col!r} is not a number: {raw!r}") from None
    if not math.isfinite(v):
        raise RecipeError(f"{where}: column {col!r} is not finite: {raw!r}")
    return v


@dataclass
class GazeRecord:
    """Fixations of one image in its original pixel frame, with optional per-fixation sigma
    (pixels per degree along x and y) and on-screen window (x0, y0, x1, y1), and where they came
    from (file:line of the first row)."""

    x: list[float]
    y: list[float]
    duration_s: list[float]
    source: str
    ppd: list[tuple[float, float]] | None = None
    windows: list[tuple[float, float, float, float]] | None = None
    size: tuple[int, int] | None = None  # (width, height) of the frame, when the data give it
    readings: int = 1
    off_image: int = 0


def read_egd_fixations(path: str | Path) -> dict[str, GazeRecord]:
    """DICOM_ID -> fixations (X_ORIGINAL, Y_ORIGINAL, FPOGD) in file order. Rows off the image
    (negative X/Y_ORIGINAL) or marked invalid (`FPOGV` 0, when present) are counted, not used; a
    non-numeric or negative duration is an error naming file and line."""
    path = Path(path)
    out: dict[str, GazeRecord] = {}
    for line, row in read_csv(path, EGD_COLUMNS):
        where = f"{path}:{line}"
        dicom = row["DICOM_ID"]
        if not dicom:
            raise RecipeError(f"{where}: empty DICOM_ID")
        rec = out.setdefault(dicom, GazeRecord([], [], [], where))
        d = _num(row, "FPOGD", where)
        if d < 0:
            raise RecipeError(f"{where}: FPOGD (fixation duration, s) must be >= 0, got {row['FPOGD']!r}")
        if row.get("FPOGV", "1") in ("0", "0.0"):
            rec.off_image += 1
            continue
        if row["X_ORIGINAL"] == "" and row["Y_ORIGINAL"] == "":
            rec.off_image += 1
            continue
        x, y = _num(row, "X_ORIGINAL", where), _num(row, "Y_ORIGINAL", where)
        if x < 0 or y < 0:
            rec.off_image += 1
            continue
        rec.x.append(x)
        rec.y.append(y)
        rec.duration_s.append(d)
    return out


def read_reflacx_fixations(path: str | Path) -> GazeRecord:
    """One REFLACX reading's fixations.csv. Errors (naming file and line): a non-numeric value, an
    end before the start, a non-positive angular resolution, an empty shown window."""
    path = Path(path)
    rec = GazeRecord([], [], [], f"{path}:2", ppd=[], windows=[])
    assert rec.ppd is not None and rec.windows is not None
    for line, row in read_csv(path, REFLACX_COLUMNS):
        where = f"{path}:{line}"
        v = {c: _num(row, c, where) for c in REFLACX_COLUMNS}
        dur = v["timestamp_end_fixation"] - v["timestamp_start_fixation"]
        if dur < 0:
            raise RecipeError(f"{where}: timestamp_end_fixation is before timestamp_start_fixation")
        px, py = v["angular_resolution_x_pixels_per_degree"], v["angular_resolution_y_pixels_per_degree"]
        if px <= 0 or py <= 0:
            raise RecipeError(f"{where}: angular resolution must be > 0 pixels per degree, got {px}, {py}")
        win = tuple(round(v[f"{k}_shown_from_image"]) for k in ("xmin", "ymin", "xmax", "ymax"))
        if win[2] <= win[0] or win[3] <= win[1]:
            raise RecipeError(f"{where}: the shown window {win} is empty")
        rec.x.append(v["x_position"])
        rec.y.append(v["y_position"])
        rec.duration_s.append(dur)
        rec.ppd.append((px, py))
        rec.windows.append((float(win[0]), float(win[1]), float(win[2]), float(win[3])))
    return rec


def read_reflacx(main_data: Path, metadata: list[Path]) -> dict[str, GazeRecord]:
    """dicom_id -> pooled fixations of its kept readings (`eye_tracking_data_discarded` False) from
    the REFLACX metadata tables and `main_data/<id>/fixations.csv`."""
    out: dict[str, GazeRecord] = {}
    for meta in metadata:
        for line, row in read_csv(meta, REFLACX_METADATA_COLUMNS):
            where = f"{meta}:{line}"
            flag = row["eye_tracking_data_discarded"].lower()
            if flag not in ("true", "false"):
                raise RecipeError(f"{where}: eye_tracking_data_discarded must be True or False, got {flag!r}")
            if flag == "true":
                continue
            size = (int(_num(row, "image_size_x", where)), int(_num(row, "image_size_y", where)))
            path = main_data / row["id"] / "fixations.csv"
            if not path.is_file():
                raise RecipeError(
                    f"{where}: reading {row['id']}: {path} not found (check --reflacx-main-data)"
                )
            rec = read_reflacx_fixations(path)
            rec.size = size
            prev = out.get(row["dicom_id"])
            if prev is None:
                out[row["dicom_id"]] = rec
                continue
            if prev.size != size:
                raise RecipeError(f"{where}: image size {size} differs from {prev.size} of {prev.source}")
            assert prev.ppd is not None and prev.windows is not None and rec.ppd and rec.windows
            prev.x += rec.x
            prev.y += rec.y
            prev.duration_s += rec.duration_s
            prev.ppd += rec.ppd
            prev.windows += rec.windows
            prev.readings += 1
    return out


def render(
    rec: GazeRecord, width: int, height: int, sigma_px: float | None = None, sigma_deg: float = 1.0
) -> tuple[np.ndarray, Fixations]:
    """Heatmap on the `width` x `height` image grid and the fixations in that grid. The record's
    frame is `rec.size` when given (REFLACX), else the image's. With angular resolutions (REFLACX)
    sigma = `sigma_deg` x pixels per degree per fixation and axis, scaled to the grid; otherwise
    `sigma_px` (grid pixels)."""
    fw, fh = rec.size or (width, height)
    fix = Fixations(np.asarray(rec.x), np.asarray(rec.y), np.asarray(rec.duration_s), fw, fh).rescaled(
        width, height
    )
    sx, sy = width / fw, height / fh
    if rec.ppd is not None:
        ppd = np.asarray(rec.ppd, dtype=np.float64).reshape(-1, 2)
        win = np.asarray(rec.windows, dtype=np.float64).reshape(-1, 4) * [sx, sy, sx, sy]
        h = fixation_heatmap(fix, width, height, sigma_deg * ppd[:, 0] * sx, sigma_deg * ppd[:, 1] * sy, win)
    else:
        if sigma_px is None:
            raise RecipeError("EGD-CXR gives no angular resolution: pass --sigma-px")
        h = fixation_heatmap(fix, width, height, sigma_px)
    return h, fix


def mimic_gaze_join(
    gaze: dict[str, GazeRecord],
    metadata_csv: Path,
    root: Path,
    reports_root: Path,
    out: Path,
    section: str = "findings",
    split_csv: Path | None = None,
    labels_csv: Path | None = None,
    uncertain: str = "zeros",
    sigma_px: float | None = None,
    sigma_deg: float = 1.0,
    heatmap_format: str = "png8",
    name: str = "mimic-gaze",
) -> dict[str, Any]:
    """Write `out`: manifest (image, report section, split, patient, CheXpert labels, heatmap,
    fixation count), `heatmaps/<dicom_id>.png|.npy` at the image's resolution, `gaze_fixations.csv`
    (docs/formats.md §1.3, pixels of the image), `dataset.toml`, `prompts.json`."""
    report_text({}, section)
    if uncertain not in ("zeros", "ones"):
        raise RecipeError(f"--uncertain must be zeros or ones for the gaze join, got {uncertain!r}")
    meta = read_mimic_metadata(metadata_csv)
    splits: dict[str, str] = {}
    if split_csv is not None:
        for _, row in read_csv(split_csv, ("dicom_id", "split")):
            splits[row["dicom_id"]] = row["split"]
    study_labels: dict[tuple[str, str], dict[str, int]] = {}
    label_names = [_snake(c) for c in CHEXPERT_LABELS] if labels_csv is not None else []
    if labels_csv is not None:
        for line, row in read_csv(labels_csv, ("subject_id", "study_id", *CHEXPERT_LABELS)):
            where = f"{labels_csv}:{line}"
            lab = {}
            for c in CHEXPERT_LABELS:
                v = chexpert_value(row[c], where, c)
                lab[_snake(c)] = int(v == 1 or (v == -1 and uncertain == "ones"))
            study_labels[(row["subject_id"], row["study_id"])] = lab
    out.mkdir(parents=True, exist_ok=True)
    (out / "heatmaps").mkdir(exist_ok=True)
    ext = ".npy" if heatmap_format == "npy" else ".png"
    manifest = io.StringIO()
    mw = csv.writer(manifest, lineterminator="\n")
    mw.writerow(["image", "report", "split", "patient", *label_names, "heatmap", "fixations", "readings"])
    fixations = io.StringIO()
    fw = csv.writer(fixations, lineterminator="\n")
    fw.writerow(["image", "x", "y", "duration_s"])
    off = 0
    for dicom in sorted(gaze):
        rec = gaze[dicom]
        if dicom not in meta:
            raise RecipeError(f"{rec.source}: dicom_id {dicom} is not in {metadata_csv}")
        _, m = meta[dicom]
        subject, study = m["subject_id"], m["study_id"]
        img = mimic_image_path(root, subject, study, dicom)
        try:
            with Image.open(img) as im:
                width, height = im.size
        except OSError as e:
            raise RecipeError(
                f"{rec.source}: image for {dicom} cannot be opened: {img} ({e}); check --root"
            ) from e
        rp = mimic_report_path(reports_root, subject, study)
        try:
            report = report_text(report_sections(rp.read_text(encoding="utf-8")), section)
        except OSError as e:
            raise RecipeError(f"{rec.source}: report {rp} cannot be read ({e}); check --reports-root") from e
        if labels_csv is not None and (subject, study) not in study_labels:
            raise RecipeError(f"{rec.source}: study {study} of {dicom} has no row in {labels_csv}")
        h, fix = render(rec, width, height, sigma_px, sigma_deg)
        save_heatmap(h, out / "heatmaps" / f"{dicom}{ext}", bits=16 if heatmap_format == "png16" else 8)
        image_rel = Path(os.path.relpath(img.resolve(), out.resolve()))
        lab = study_labels.get((subject, study), {})
        mw.writerow(
            [
                image_rel.as_posix(),
                report,
                splits.get(dicom, "train"),
                subject,
                *(lab[k] for k in label_names),
                f"heatmaps/{dicom}{ext}",
                len(rec.x),
                rec.readings,
            ]
        )
        for x, y, d in zip(fix.x, fix.y, fix.duration_s, strict=True):
            fw.writerow([image_rel.as_posix(), round(float(x), 2), round(float(y), 2), round(float(d), 4)])
        off += rec.off_image
    (out / "manifest.csv").write_text(manifest.getvalue(), encoding="utf-8")
    (out / "gaze_fixations.csv").write_text(fixations.getvalue(), encoding="utf-8")
    (out / "prompts.json").write_text('{"format_version": 1, "classes": {}}\n', encoding="utf-8")
    (out / "dataset.toml").write_text(
        f"# Generated by: eclip-data gaze-join (docs/recipes.md)\n"
        f'name = "{name}"\nmanifest = "manifest.csv"\nprompts = "prompts.json"\n'
        f"labels = {json.dumps(label_names)}\nzeroshot_classes = []\n\n"
        '[splits]\ntrain = "train"\nval = "validate"\ntest = "test"\n\n'
        f'[recipe]\nname = "gaze-join"\nsection = "{section}"\nsigma = '
        + (f'"{sigma_deg} deg x pixels per degree"' if sigma_px is None else f'"{sigma_px} px"')
        + "\n",
        encoding="utf-8",
    )
    return {"images": len(gaze), "out": str(out), "fixations_off_image_or_invalid": off}
