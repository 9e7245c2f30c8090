"""EGD-CXR and REFLACX fixation readers and the MIMIC-CXR-JPG join, on small files in their layouts.

Layouts: REFLACX `fixations.csv` columns as the dataset's own heatmap script and visualisation
notebook read them (timestamp_start/end_fixation, x/y_position, pupil_area_normalized,
angular_resolution_x/y_pixels_per_degree, window_width/level, x/ymin/max_shown_from_image,
x/ymin/max_in_screen_coordinates) and `metadata_phase_N.csv` (id, split, eye_tracking_data_discarded,
image, dicom_id, subject_id, image_size_x, image_size_y); EGD-CXR `fixations.csv` with the Gazepoint
columns its processing script reads (SESSION_ID, DICOM_ID, Time (in secs), FPOGX, FPOGY, FPOGD,
FPOGID, FPOGV) and its image-space columns X_ORIGINAL, Y_ORIGINAL. Realistic positions and
durations come from the real GazeSearch scanpaths in ../shared/data/gaze where present.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eclip_data.cli import main
from eclip_data.gaze import Fixations
from eclip_data.heatmap import fixation_heatmap, load_heatmap
from eclip_data.real_gaze import read_egd_fixations, read_reflacx, read_reflacx_fixations, render
from eclip_data.recipes import RecipeError

GAZESEARCH = Path(__file__).resolve().parents[3] / "shared" / "data" / "gaze" / "gazesearch_scanpaths.json"
EGD_HEADER = [
    "SESSION_ID",
    "MEDIA_ID",
    "DICOM_ID",
    "CNT",
    "Time (in secs)",
    "FPOGX",
    "FPOGY",
    "FPOGS",
    "FPOGD",
]
EGD_HEADER += ["FPOGID", "FPOGV", "X_ORIGINAL", "Y_ORIGINAL"]
REFLACX_HEADER = [
    "timestamp_start_fixation",
    "timestamp_end_fixation",
    "x_position",
    "y_position",
    "pupil_area_normalized",
    "angular_resolution_x_pixels_per_degree",
    "angular_resolution_y_pixels_per_degree",
    "window_width",
    "window_level",
    "xmin_shown_from_image",
    "ymin_shown_from_image",
    "xmax_shown_from_image",
    "ymax_shown_from_image",
    "xmin_in_screen_coordinates",
    "ymin_in_screen_coordinates",
    "xmax_in_screen_coordinates",
    "ymax_in_screen_coordinates",
]
META_HEADER = ["id", "split", "eye_tracking_data_discarded", "image", "dicom_id", "subject_id"]
META_HEADER += ["image_size_x", "image_size_y"]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _scanpaths(n: int) -> list[tuple[list[float], list[float], list[float]]]:
    """n real scanpaths (224 grid, seconds) or, without the shared data, fixed ones."""
    if GAZESEARCH.exists():
        data = json.loads(GAZESEARCH.read_text())
        return [(d["X"], d["Y"], d["T"]) for d in data[:n]]
    return [
        ([50.0 + 20 * i, 120.0, 180.0], [60.0, 100.0 + 10 * i, 150.0], [0.2, 0.35, 0.5]) for i in range(n)
    ]


def _mimic_tree(tmp_path: Path, dicoms: list[str], size: tuple[int, int]) -> dict[str, Path]:
    root, reports = tmp_path / "jpg", tmp_path / "reports"
    rows = []
    for k, dicom in enumerate(dicoms):
        subject, study = f"1{k:07d}", f"5{k:07d}"
        img = root / "files" / f"p{subject[:2]}" / f"p{subject}" / f"s{study}" / f"{dicom}.jpg"
        img.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", size).save(img)
        rp = reports / "files" / f"p{subject[:2]}" / f"p{subject}" / f"s{study}.txt"
        rp.parent.mkdir(parents=True, exist_ok=True)
        rp.write_text(f" FINDINGS:  Finding {k}.\n IMPRESSION:  Impression {k}.\n")
        rows.append(
            [
                dicom,
                subject,
                study,
                "CHEST (PA AND LAT)",
                "PA",
                size[1],
                size[0],
                21800506,
                213014.5,
                "",
                "",
                "",
            ]
        )
    header = ["dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition"]
    header += ["Rows", "Columns", "StudyDate", "StudyTime", "ProcedureCodeSequence_CodeMeaning"]
    header += ["ViewCodeSequence_CodeMeaning", "PatientOrientationCodeSequence_CodeMeaning"]
    meta = _write(tmp_path / "mimic-cxr-2.0.0-metadata.csv", header, rows)
    return {"root": root, "reports": reports, "meta": meta}


def test_egd_reader_drops_off_image_rows_and_names_bad_rows(tmp_path):
    size = (2544, 3056)
    rows = []
    for (xs, ys, ts), dicom in zip(_scanpaths(2), ["d-one", "d-two"], strict=True):
        t = 0.0
        for i, (x, y, d) in enumerate(zip(xs, ys, ts, strict=True)):
            t += d
            xo, yo = x * size[0] / 224, y * size[1] / 224
            rows.append([1, 0, dicom, i, t, 0.4, 0.5, t - d, d, i + 1, 1, round(xo), round(yo)])
    rows.append([1, 0, "d-one", 99, 9.0, 1.1, 0.5, 8.0, 0.3, 99, 1, -1, -1])  # off the image
    path = _write(tmp_path / "fixations.csv", EGD_HEADER, rows)
    got = read_egd_fixations(path)
    assert sorted(got) == ["d-one", "d-two"]
    assert got["d-one"].off_image == 1
    assert len(got["d-one"].x) == len(_scanpaths(1)[0][0])
    rows[1][8] = "fast"
    path = _write(tmp_path / "bad.csv", EGD_HEADER, rows)
    with pytest.raises(RecipeError, match=r"bad\.csv:3: column 'FPOGD' is not a number"):
        read_egd_fixations(path)
    path = _write(tmp_path / "nocol.csv", EGD_HEADER[:-1], [r[:-1] for r in rows])
    with pytest.raises(RecipeError, match=r"missing columns \['Y_ORIGINAL'\]"):
        read_egd_fixations(path)


def _reflacx_rows(ppd: float = 90.0, window=(0, 300, 2500, 2460)) -> list[list[object]]:
    rows, t = [], 0.0
    for x, y, d in ((400.0, 900.0, 0.3), (1800.0, 1500.0, 0.6), (1200.0, 350.0, 0.2)):
        rows.append([t, t + d, x, y, 1.1, ppd, ppd, 0.99, 0.5, *window, 661, 0, 3180, 2160])
        t += d + 0.05
    return rows


def test_reflacx_sigma_is_degrees_times_pixels_per_degree_and_clipped_to_the_shown_window(tmp_path):
    path = _write(tmp_path / "r1" / "fixations.csv", REFLACX_HEADER, _reflacx_rows()[1:2])
    rec = read_reflacx_fixations(path)
    rec.size = (2544, 3056)
    h, fix = render(rec, 636, 764, sigma_deg=1.0)  # a quarter of the original resolution
    # independent check: the x-profile through the peak has standard deviation 90 px / 4
    row = h[int(np.rint(fix.y[0]))].astype(np.float64)
    xs = np.arange(h.shape[1])
    mean = (row * xs).sum() / row.sum()
    sd = np.sqrt((row * (xs - mean) ** 2).sum() / row.sum())
    assert abs(sd - 22.5) < 0.3 and abs(mean - fix.x[0]) < 0.1
    # the first fixation sits 40 px (original) below the window top: nothing is drawn above it
    path = _write(tmp_path / "r2" / "fixations.csv", REFLACX_HEADER, _reflacx_rows()[2:3])
    rec = read_reflacx_fixations(path)
    rec.size = (2544, 3056)
    h, _ = render(rec, 2544, 3056)
    assert h[:300].max() == 0 and h[300:].max() == 1.0
    bad = _reflacx_rows(ppd=0.0)
    with pytest.raises(RecipeError, match=r"fixations\.csv:2: angular resolution must be > 0"):
        read_reflacx_fixations(_write(tmp_path / "r3" / "fixations.csv", REFLACX_HEADER, bad))
    bad = _reflacx_rows()
    bad[1][1] = 0.0
    with pytest.raises(RecipeError, match=r"fixations\.csv:3: timestamp_end_fixation is before"):
        read_reflacx_fixations(_write(tmp_path / "r4" / "fixations.csv", REFLACX_HEADER, bad))


def test_render_uses_the_one_heatmap_definition(tmp_path):
    rows = [
        [1, 0, "d", 0, 0.3, 0.4, 0.5, 0.0, 0.3, 1, 1, 100, 120],
        [1, 0, "d", 1, 0.9, 0.4, 0.5, 0.3, 0.6, 2, 1, 40, 30],
    ]
    rec = read_egd_fixations(_write(tmp_path / "f.csv", EGD_HEADER, rows))["d"]
    h, _ = render(rec, 200, 160, sigma_px=6.0)
    ref = fixation_heatmap(
        Fixations(np.array([100.0, 40.0]), np.array([120.0, 30.0]), np.array([0.3, 0.6]), 200, 160),
        200,
        160,
        6.0,
    )
    assert np.array_equal(h, ref)


def test_reflacx_join_writes_a_dataset_with_heatmaps_at_image_resolution(tmp_path):
    size = (254, 306)  # a small stand-in for the 2544 x 3056 originals, same aspect
    tree = _mimic_tree(tmp_path, ["dcm-a", "dcm-b"], size)
    main_data = tmp_path / "main_data"
    scale = [
        [r[0], r[1], r[2] / 10, r[3] / 10, *r[4:]] for r in _reflacx_rows(ppd=9.0, window=(0, 30, 250, 246))
    ]
    _write(main_data / "P101R1" / "fixations.csv", REFLACX_HEADER, scale)
    _write(main_data / "P101R2" / "fixations.csv", REFLACX_HEADER, scale[:1])
    _write(main_data / "P102R1" / "fixations.csv", REFLACX_HEADER, scale[1:])
    meta = [
        ["P101R1", "train", "False", "files/p10/x.dcm", "dcm-a", 10000000, *size],
        ["P101R2", "train", "False", "files/p10/x.dcm", "dcm-a", 10000000, *size],
        ["P102R1", "train", "False", "files/p10/y.dcm", "dcm-b", 10000001, *size],
        ["P103R1", "train", "True", "files/p10/z.dcm", "dcm-c", 10000002, *size],
    ]
    _write(main_data / "metadata_phase_3.csv", META_HEADER, meta)
    out = tmp_path / "out"
    argv = ["gaze-join", "--reflacx-main-data", str(main_data), "--mimic-metadata", str(tree["meta"])]
    argv += ["--root", str(tree["root"]), "--reports-root", str(tree["reports"]), "--section", "both"]
    assert main([*argv, "--out", str(out)]) == 0
    with open(out / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["heatmap"], r["fixations"], r["readings"]) for r in rows] == [
        ("heatmaps/dcm-a.png", "4", "2"),
        ("heatmaps/dcm-b.png", "2", "1"),
    ]
    assert rows[0]["report"] == "Finding 0. Impression 0."
    for r in rows:
        assert (out / r["image"]).is_file()
        h = load_heatmap(out / r["heatmap"])
        assert h.shape == (size[1], size[0]) and h.max() == 1.0
    from eclip_train.data import load_dataset

    ds = load_dataset(out)
    assert all(r.heatmap is not None and r.heatmap.is_file() for r in ds.rows)
    with open(out / "gaze_fixations.csv", encoding="utf-8") as fh:
        fx = list(csv.DictReader(fh))
    assert len(fx) == 6 and {f["image"] for f in fx} == {r["image"] for r in rows}
    # a reading folder that is missing is an error naming the metadata row
    meta[2][0] = "P999R1"
    _write(main_data / "metadata_phase_3.csv", META_HEADER, meta)
    with pytest.raises(RecipeError, match=r"metadata_phase_3\.csv:4: reading P999R1"):
        read_reflacx(main_data, [main_data / "metadata_phase_3.csv"])


def test_egd_join_needs_sigma_px_and_a_known_dicom(tmp_path):
    tree = _mimic_tree(tmp_path, ["d-one"], (320, 256))
    rows = [
        [1, 0, "d-one", 0, 0.3, 0.4, 0.5, 0.0, 0.3, 1, 1, 100, 120],
        [1, 0, "d-zzz", 0, 0.3, 0.4, 0.5, 0.0, 0.3, 1, 1, 1, 2],
    ]
    fx = _write(tmp_path / "fixations.csv", EGD_HEADER, rows)
    argv = ["gaze-join", "--egd", str(fx), "--mimic-metadata", str(tree["meta"]), "--root", str(tree["root"])]
    argv += ["--reports-root", str(tree["reports"]), "--out", str(tmp_path / "out")]
    assert main(argv) == 1  # no --sigma-px
    with pytest.raises(SystemExit):
        main([*argv, "--sigma-px", "x"])
    from eclip_data.real_gaze import mimic_gaze_join

    with pytest.raises(RecipeError, match=r"fixations\.csv:3: dicom_id d-zzz is not in"):
        mimic_gaze_join(
            read_egd_fixations(fx), tree["meta"], tree["root"], tree["reports"], tmp_path / "o", sigma_px=8.0
        )
