"""Dataset recipes on small files written in the official layouts (headers copied from the published
files: CheXpert-v1.0 train.csv, MIMIC-CXR-JPG 2.0.0 chexpert/negbio/metadata/split CSVs, RSNA
stage 2 labels + detailed class info, NIH Data_Entry_2017.csv (trailing comma) and _v2020.csv +
test_list.txt, IU X-ray ecgen-radiology XML, SIIM train-rle.csv), plus the real metadata files that
the torchxrayvision package ships, where installed. The outputs are checked against the workbench
dataset contract (docs/formats.md §1) with the rules of `src/data/load.rs` and loaded with the
Python loader `eclip_train.data.load_dataset`."""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import zipfile
from pathlib import Path

import pytest
import tomllib

from eclip_data.cli import main
from eclip_data.recipes import (
    CHEXPERT_LABELS,
    RecipeError,
    recipe_chexpert_5x200,
    recipe_cxr14,
    recipe_mimic_5x200,
    recipe_open_i,
    recipe_rsna_pneumonia,
    recipe_siim,
    report_sections,
    report_text,
)

CHEXPERT_HEADER = ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *CHEXPERT_LABELS]
MIMIC_LABEL_HEADER = [
    "subject_id",
    "study_id",
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Fracture",
    "Lung Lesion",
    "Lung Opacity",
    "No Finding",
    "Pleural Effusion",
    "Pleural Other",
    "Pneumonia",
    "Pneumothorax",
    "Support Devices",
]
MIMIC_META_HEADER = [
    "dicom_id",
    "subject_id",
    "study_id",
    "PerformedProcedureStepDescription",
    "ViewPosition",
    "Rows",
    "Columns",
    "StudyDate",
    "StudyTime",
    "ProcedureCodeSequence_CodeMeaning",
    "ViewCodeSequence_CodeMeaning",
    "PatientOrientationCodeSequence_CodeMeaning",
]
SPLIT_HEADER = ["dicom_id", "study_id", "subject_id", "split"]
FIVE = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion"]


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def _touch(path: Path) -> None:
    """A small real image in the format the name says (PNG, JPEG or DICOM), different per path, so the
    recipe outputs can be evaluated by the workbench itself (`_run_workbench`)."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    seed = int.from_bytes(hashlib.sha256(str(path.name).encode()).digest()[:4], "little")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:40, 0:36]
    pixels = np.clip(xx * 4 + yy * 2 + rng.integers(0, 60, (40, 36)), 0, 255).astype(np.uint8)
    if path.suffix.lower() == ".dcm":
        import pydicom
        from pydicom.dataset import FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[str(path.name)])
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.Rows, ds.Columns = "CR", 40, 36
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PixelData = pixels.tobytes()
        ds.save_as(path, enforce_file_format=True)
    else:
        Image.fromarray(pixels, mode="L").save(
            path, format="JPEG" if path.suffix.lower() == ".jpg" else "PNG"
        )


REPO = Path(__file__).resolve().parents[2]


def _run_workbench(out: Path) -> None:
    """`eclip --report` on a recipe's output with the fixture CLIP model: the dataset must load and every
    task must run (exit 0: no model, dataset or task failed)."""
    import os
    import subprocess

    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    eclip = target / "debug" / "eclip"
    assert eclip.exists(), f"{eclip} not found: build the workbench first (cargo build; scripts/test.sh does)"
    cfg = out.parent / f"{out.name}-workbench.toml"
    cfg.write_text(
        "[[models]]\n"
        'name = "CLIP"\n'
        f"path = {str(REPO / 'fixtures' / 'models' / 'clip')!r}\n"
        "[[datasets]]\n"
        f"path = {str(out / 'dataset.toml')!r}\n"
        "[eval]\nbootstrap = 50\nprobe_fractions = [1.0]\nprobe_seeds = [0]\n",
        encoding="utf-8",
    )
    csv_out = out.parent / f"{out.name}-report.csv"
    p = subprocess.run(
        [str(eclip), "--config", str(cfg), "--report", str(csv_out), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, f"eclip --report on {out} exited {p.returncode}:\n{p.stderr[-3000:]}"
    with open(csv_out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["model"] == "CLIP" for r in rows), rows[:3]


def check_workbench_dataset(out: Path) -> dict:
    """The rules `src/data/load.rs` enforces, and the Python loader on top."""
    meta = tomllib.loads((out / "dataset.toml").read_text(encoding="utf-8"))
    for key in ("name", "manifest", "prompts", "labels", "zeroshot_classes", "splits"):
        assert key in meta, key
    assert {"train", "val", "test"} <= set(meta["splits"])
    assert set(meta["zeroshot_classes"]) <= set(meta["labels"])
    prompts = __import__("json").loads((out / meta["prompts"]).read_text(encoding="utf-8"))
    assert prompts["format_version"] == 1
    for c in meta["zeroshot_classes"]:
        assert prompts["classes"][c]["positive"], c
    with open(out / meta["manifest"], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        assert r["image"] and r["split"]
        assert all(r[k] in ("0", "1") for k in meta["labels"])
    split_list = (out / meta["recipe"]["split_list"]).read_bytes()
    assert hashlib.sha256(split_list).hexdigest() == meta["recipe"]["split_list_sha256"]
    assert len(split_list.splitlines()) == len(rows)
    from eclip_train.data import load_dataset

    ds = load_dataset(out)
    assert len(ds.rows) == len(rows)
    _run_workbench(out)
    return meta


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# ---------------------------------------------------------------- CheXpert


def _chexpert(tmp_path: Path, n: int = 4) -> Path:
    rows = []
    k = 0
    for ci, c in enumerate(FIVE):
        for j in range(n):
            k += 1
            lab = ["" for _ in CHEXPERT_LABELS]
            lab[CHEXPERT_LABELS.index(c)] = "1.0"
            lab[CHEXPERT_LABELS.index("Support Devices")] = "1.0"
            if j == 0:  # a second, uncertain class: excluded under `exclude`, kept under `zeros`
                lab[CHEXPERT_LABELS.index(FIVE[(ci + 1) % 5])] = "-1.0"
            path = f"CheXpert-v1.0-small/train/patient{k:05d}/study1/view1_frontal.jpg"
            rows.append([path, "Female", 60, "Frontal", "AP", *lab])
            lat = path.replace("view1_frontal", "view2_lateral")
            rows.append([lat, "Female", 60, "Lateral", "", *lab])
            _touch(tmp_path / path)
    return _write_csv(tmp_path / "train.csv", CHEXPERT_HEADER, rows)


def test_chexpert_5x200_selects_frontal_single_positive_and_is_deterministic(tmp_path):
    csv_path = _chexpert(tmp_path)
    args = ["recipe", "chexpert-5x200", "--csv", str(csv_path), "--root", str(tmp_path), "--per-class", "3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    meta = check_workbench_dataset(tmp_path / "a")
    assert meta["recipe"]["options"]["uncertain"] == "exclude"
    with open(tmp_path / "a" / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 15 and all("frontal" in r["image"] for r in rows)
    assert all(sum(int(r[c]) for c in meta["zeroshot_classes"]) == 1 for r in rows)
    assert all(not r["source_id"].endswith("patient00001/study1/view1_frontal.jpg") for r in rows)
    # under `exclude` only 3 candidates per class remain, so 4 is too many
    with pytest.raises(RecipeError, match="only 3 candidates"):
        recipe_chexpert_5x200([csv_path], tmp_path, per_class=4)
    _, items = recipe_chexpert_5x200([csv_path], tmp_path, per_class=4, uncertain="zeros")
    assert len(items) == 20
    _, items = recipe_chexpert_5x200([csv_path], tmp_path, per_class=2, seed=1)
    _, items0 = recipe_chexpert_5x200([csv_path], tmp_path, per_class=2, seed=0)
    assert {i.key for i in items} != {i.key for i in items0}


def test_chexpert_errors_name_file_and_row(tmp_path):
    csv_path = _chexpert(tmp_path, n=2)
    lines = csv_path.read_text().splitlines()
    lines[3] = lines[3].replace(",1.0,", ",2.0,", 1)
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=r"train\.csv:4: column .* unknown label value '2\.0'"):
        recipe_chexpert_5x200([csv_path], tmp_path, per_class=1)
    bad = _write_csv(tmp_path / "bad.csv", CHEXPERT_HEADER[:-1], [])
    with pytest.raises(RecipeError, match=r"bad\.csv: missing columns \['Support Devices'\]"):
        recipe_chexpert_5x200([bad], tmp_path, per_class=1)
    csv_path = _chexpert(tmp_path, n=2)
    (tmp_path / "CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg").unlink()
    with pytest.raises(RecipeError, match=r"train\.csv:4: image .*patient00002.* not found"):
        recipe_chexpert_5x200([csv_path], tmp_path, per_class=1)


# ---------------------------------------------------------------- MIMIC-CXR-JPG


def _mimic(tmp_path: Path) -> dict[str, Path]:
    lab_rows, meta_rows, split_rows = [], [], []
    root, reports = tmp_path / "jpg", tmp_path / "reports"
    k = 0
    for ci, c in enumerate(FIVE):
        for j in range(3):
            k += 1
            subject, study = f"1{k:07d}", f"5{k:07d}"
            lab = {h: "" for h in MIMIC_LABEL_HEADER[2:]}
            lab[c] = "1.0"
            lab_rows.append([subject, study, *lab.values()])
            for view, dicom in (("PA", f"d{k:03d}-b"), ("LATERAL", f"d{k:03d}-a"), ("AP", f"d{k:03d}-c")):
                meta_rows.append(
                    [
                        dicom,
                        subject,
                        study,
                        "CHEST (PA AND LAT)",
                        view,
                        3056,
                        2544,
                        21800506,
                        213014.531,
                        "CHEST (PA AND LAT)",
                        "postero-anterior",
                        "Erect",
                    ]
                )
                split_rows.append([dicom, study, subject, "test" if ci != 4 or j < 2 else "train"])
                _touch(root / "files" / f"p{subject[:2]}" / f"p{subject}" / f"s{study}" / f"{dicom}.jpg")
            rp = reports / "files" / f"p{subject[:2]}" / f"p{subject}" / f"s{study}.txt"
            rp.parent.mkdir(parents=True, exist_ok=True)
            findings = "" if (ci, j) == (0, 2) else f"  FINDINGS: {c} is present.\n  Heart size normal.\n"
            rp.write_text(
                "                                 FINAL REPORT\n EXAMINATION:  CHEST (PA AND LAT)\n\n"
                f"{findings}\n IMPRESSION:  {c}.\n"
            )
    return {
        "labels": _write_csv(tmp_path / "mimic-cxr-2.0.0-chexpert.csv", MIMIC_LABEL_HEADER, lab_rows),
        "meta": _write_csv(tmp_path / "mimic-cxr-2.0.0-metadata.csv", MIMIC_META_HEADER, meta_rows),
        "split": _write_csv(tmp_path / "mimic-cxr-2.0.0-split.csv", SPLIT_HEADER, split_rows),
        "root": root,
        "reports": reports,
    }


def test_report_sections_of_a_mimic_report():
    text = (
        "FINAL REPORT\n INDICATION:  cough.\n FINDINGS:  Lungs are clear.\n  No effusion.\n"
        " IMPRESSION:  Normal.\n"
    )
    s = report_sections(text)
    assert s["findings"] == "Lungs are clear. No effusion." and s["impression"] == "Normal."
    assert report_text(s, "both") == "Lungs are clear. No effusion. Normal."
    with pytest.raises(RecipeError, match="--section"):
        report_text(s, "history")


def test_mimic_5x200_one_frontal_image_per_study_with_the_chosen_section(tmp_path):
    f = _mimic(tmp_path)
    common = [f["labels"], f["meta"], f["split"], f["root"], f["reports"]]
    # Atelectasis has 2 studies with findings (one lacks the section); Pleural Effusion 2 test studies
    with pytest.raises(RecipeError, match="only 2 candidates"):
        recipe_mimic_5x200(*common, per_class=3, section="impression")
    _, items = recipe_mimic_5x200(*common, per_class=2, section="findings")
    assert len(items) == 10
    assert all(it.key.endswith("-b") or it.key.endswith("-c") for it in items)  # frontal only
    assert len({it.image.parent for it in items}) == 10  # one image per study
    assert all(it.key.endswith("-b") for it in items)  # the smallest frontal dicom_id of the study
    assert all(it.report.endswith("is present. Heart size normal.") for it in items)
    _, both = recipe_mimic_5x200(*common, per_class=2, section="both")
    assert all(it.report.endswith(".") and "IMPRESSION" not in it.report for it in both)
    out = tmp_path / "out"
    argv = ["recipe", "mimic-5x200", "--chexpert", str(f["labels"]), "--metadata", str(f["meta"])]
    argv += ["--split", str(f["split"]), "--root", str(f["root"]), "--reports-root", str(f["reports"])]
    assert main([*argv, "--per-class", "2", "--section", "impression", "--out", str(out)]) == 0
    meta = check_workbench_dataset(out)
    assert meta["recipe"]["options"]["section"] == "impression"


def test_mimic_errors_name_file_and_row(tmp_path):
    f = _mimic(tmp_path)
    lines = f["split"].read_text().splitlines()
    lines[2] = lines[2].replace(",test", ",testing")
    f["split"].write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=r"split\.csv:3: split 'testing'"):
        recipe_mimic_5x200(f["labels"], f["meta"], f["split"], f["root"], f["reports"], per_class=1)


# ---------------------------------------------------------------- RSNA


def test_rsna_binary_from_stage2_labels(tmp_path):
    rows = [
        ["0004cfab-14fd-4e49-80ba-63a80b6bddd6", "", "", "", "", 0],
        ["00436515-870c-4b36-a041-de91049b9ab4", 264.0, 152.0, 213.0, 379.0, 1],
        ["00436515-870c-4b36-a041-de91049b9ab4", 562.0, 152.0, 256.0, 453.0, 1],
        ["00313ee0-9eaa-42f4-b0ab-c148ed3241cd", "", "", "", "", 0],
    ]
    labels = _write_csv(
        tmp_path / "stage_2_train_labels.csv", ["patientId", "x", "y", "width", "height", "Target"], rows
    )
    detailed = _write_csv(
        tmp_path / "stage_2_detailed_class_info.csv",
        ["patientId", "class"],
        [
            [rows[0][0], "No Lung Opacity / Not Normal"],
            [rows[1][0], "Lung Opacity"],
            [rows[2][0], "Lung Opacity"],
            [rows[3][0], "Normal"],
        ],
    )
    root = tmp_path / "stage_2_train_images"
    for r in rows:
        _touch(root / f"{r[0]}.dcm")
    out = tmp_path / "out"
    argv = ["recipe", "rsna-pneumonia", "--labels", str(labels), "--detailed-class-info", str(detailed)]
    assert main([*argv, "--root", str(root), "--out", str(out)]) == 0
    check_workbench_dataset(out)
    with open(out / "manifest.csv", encoding="utf-8") as fh:
        got = {r["source_id"]: r["pneumonia"] for r in csv.DictReader(fh)}
    assert got == {rows[0][0]: "0", rows[1][0]: "1", rows[3][0]: "0"}
    bad = _write_csv(tmp_path / "bad.csv", ["patientId", "class"], [[rows[1][0], "Normal"]])
    with pytest.raises(RecipeError, match=r"bad\.csv:2: class 'Normal' disagrees"):
        recipe_rsna_pneumonia(labels, root, bad)
    rows[3][5] = 1
    labels = _write_csv(tmp_path / "l2.csv", ["patientId", "x", "y", "width", "height", "Target"], rows)
    with pytest.raises(RecipeError, match=r"l2\.csv:5: Target 1 needs a numeric box"):
        recipe_rsna_pneumonia(labels, root)


# ---------------------------------------------------------------- CXR14

CXR14_2017_HEADER = (
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
    "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],"
)


def test_cxr14_test_list_and_single_label_sample(tmp_path):
    names = ["Cardiomegaly", "Effusion", "Pleural_Thickening"]
    lines, test = [CXR14_2017_HEADER], []
    root = tmp_path / "images_001" / "images"
    for i in range(12):
        name = f"{i:08d}_000.png"
        lab = names[i % 3] if i < 9 else ("No Finding" if i == 9 else "Cardiomegaly|Effusion")
        lines.append(f"{name},{lab},0,{i},58,M,PA,2682,2749,0.143,0.143,")
        test.append(name)
        _touch(root / name)
    entry = tmp_path / "Data_Entry_2017.csv"
    entry.write_text("\n".join(lines) + "\n")
    tl = tmp_path / "test_list.txt"
    tl.write_text("\n".join(test) + "\n")
    rec, items = recipe_cxr14(entry, tl, tmp_path, per_class=0)
    assert [it.split for it in items].count("test") == 12
    assert rec.prompts["pleural_thickening"] == {"positive": ["Pleural_Thickening"]}  # raw label name
    with pytest.raises(
        RecipeError, match="only 0 candidates positive for exactly one class are 'atelectasis'"
    ):
        recipe_cxr14(entry, tl, tmp_path, per_class=1)
    # the v2020 file has no trailing comma; the same recipe reads it
    v2020 = tmp_path / "Data_Entry_2017_v2020.csv"
    v2020.write_text("\n".join(ln.rstrip(",") for ln in lines) + "\n")
    _, items2 = recipe_cxr14(v2020, tl, tmp_path, per_class=0)
    assert [(i.key, i.labels) for i in items2] == [(i.key, i.labels) for i in items]
    lines[3] = lines[3].replace("Pleural_Thickening", "Pleural Thickening")
    entry.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=r"Data_Entry_2017\.csv:4: unknown or contradictory"):
        recipe_cxr14(entry, tl, tmp_path, per_class=0)


# ---------------------------------------------------------------- Open-I

XML = """<?xml version="1.0" encoding="utf-8"?>
<eCitation>
   <meta type="rr"/>
   <uId id="CXR{n}"/>
   <MedlineCitation Owner="Indiana University" Status="supplied">
      <Article PubModel="Electronic">
         <Abstract>
            <AbstractText Label="COMPARISON">None.</AbstractText>
            <AbstractText Label="INDICATION">Positive TB test</AbstractText>
            <AbstractText Label="FINDINGS">{findings}</AbstractText>
            <AbstractText Label="IMPRESSION">Normal chest x-XXXX.</AbstractText>
         </Abstract>
      </Article>
   </MedlineCitation>
   <MeSH><major>{mesh}</major></MeSH>
   <parentImage id="CXR{n}_1_IM-0001-3001"><figureId>F1</figureId></parentImage>
   <parentImage id="CXR{n}_1_IM-0001-4001"><figureId>F2</figureId></parentImage>
</eCitation>
"""


def test_open_i_frontal_findings_pairs_and_gallery(tmp_path):
    xml = tmp_path / "ecgen-radiology"
    xml.mkdir()
    png = tmp_path / "NLMCXR_png"
    views = []
    for n, findings, mesh in (
        (1, "The heart is normal.", "normal"),
        (2, "", "normal"),
        (10, "The Heart is normal.", "Cardiomegaly/mild"),
    ):
        (xml / f"{n}.xml").write_text(XML.format(n=n, findings=findings, mesh=mesh))
        for suffix, view in (("3001", "PA"), ("4001", "LATERAL")):
            _touch(png / f"CXR{n}_1_IM-0001-{suffix}.png")
            views.append([f"CXR{n}_IM-0001-{suffix}", view])
    vcsv = _write_csv(tmp_path / "views.csv", ["imageid", "View Position"], views)
    out = tmp_path / "out"
    argv = ["recipe", "open-i", "--reports", str(xml), "--images", str(png), "--views", str(vcsv)]
    assert main([*argv, "--out", str(out)]) == 0
    check_workbench_dataset(out)
    with open(out / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source_id"] for r in rows] == ["CXR1_1_IM-0001-3001", "CXR10_1_IM-0001-3001"]  # numeric order
    assert [r["cardiomegaly"] for r in rows] == ["0", "1"]
    assert (out / "gallery.txt").read_text() == "the heart is normal.\n"
    vcsv = _write_csv(tmp_path / "views2.csv", ["imageid", "View Position"], views[:-1])
    with pytest.raises(RecipeError, match=r"10\.xml: image CXR10_1_IM-0001-4001 has no row"):
        recipe_open_i(xml, png, vcsv)
    _, items = recipe_open_i(xml, png, vcsv, missing_view="skip")
    assert len(items) == 2


# ---------------------------------------------------------------- SIIM


def test_siim_pneumothorax_from_rle(tmp_path):
    ids = [f"1.2.276.0.7230010.3.1.4.8323329.{k}.1517875201.850819" for k in range(4)]
    rle = tmp_path / "train-rle.csv"
    rle.write_text(
        f"ImageId, EncodedPixels\n{ids[0]}, -1\n{ids[1]}, 557374 2 1015 8\n{ids[1]}, 9 3\n"
        f"{ids[2]}, -1\n{ids[3]}, 5 5\n"
    )
    for i in ids:
        _touch(tmp_path / "dicom-images-train" / f"1.2.{i[-3:]}" / "1.2.3" / f"{i}.dcm")
    out = tmp_path / "out"
    assert (
        main(
            [
                "recipe",
                "siim-pneumothorax",
                "--rle",
                str(rle),
                "--root",
                str(tmp_path),
                "--out",
                str(out),
                "--per-class",
                "1",
            ]
        )
        == 0
    )
    check_workbench_dataset(out)
    with open(out / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["pneumothorax"] for r in rows) == ["0", "1"]
    rle.write_text(f"ImageId, EncodedPixels\n{ids[0]}, 1 2 3\n")
    with pytest.raises(RecipeError, match=r"train-rle\.csv:2: EncodedPixels"):
        recipe_siim(rle, tmp_path)
    rle.write_text(f"ImageId, EncodedPixels\n{ids[0]}, -1\n{ids[0]}, 1 2\n")
    with pytest.raises(RecipeError, match=r"train-rle\.csv:3: ImageId"):
        recipe_siim(rle, tmp_path)


# ---------------------------------------------------------------- the official files, where installed

_TXV = importlib.util.find_spec("torchxrayvision")
TXV_DATA = (
    Path(_TXV.submodule_search_locations[0]) / "data" if _TXV and _TXV.submodule_search_locations else None
)


@pytest.mark.skipif(
    TXV_DATA is None or not (TXV_DATA / "chexpert_train.csv.gz").exists(),
    reason="torchxrayvision data not installed",
)
def test_recipes_accept_the_published_metadata_files(tmp_path):
    """The layouts in the tests above are the published ones: the real CheXpert train.csv, RSNA
    stage 2 labels, SIIM train-rle.csv and IU X-ray reports shipped by torchxrayvision go through
    (metadata only: the images are not here). Counts are those of the public files."""
    assert TXV_DATA is not None
    chex = tmp_path / "train.csv"
    chex.write_bytes(gzip.decompress((TXV_DATA / "chexpert_train.csv.gz").read_bytes()))
    _, items = recipe_chexpert_5x200([chex], tmp_path, per_class=200, check_images=False)
    assert len(items) == 1000
    rsna = tmp_path / "stage_2_train_labels.csv"
    with zipfile.ZipFile(TXV_DATA / "kaggle_stage_2_train_labels.csv.zip") as z:
        rsna.write_bytes(z.read("stage_2_train_labels.csv"))
    _, items = recipe_rsna_pneumonia(rsna, tmp_path, check_images=False)
    assert (len(items), sum(i.labels["pneumonia"] for i in items)) == (26684, 6012)
    siim = tmp_path / "train-rle.csv"
    siim.write_bytes(gzip.decompress((TXV_DATA / "siim-pneumothorax-train-rle.csv.gz").read_bytes()))
    _, items = recipe_siim(siim, tmp_path, check_images=False)
    assert (len(items), sum(i.labels["pneumothorax"] for i in items)) == (12047, 2669)


def test_cxr14_sample_from_all_images_and_field_count_errors(tmp_path):
    from eclip_data.recipes import CXR14_LABELS

    lines = [CXR14_2017_HEADER]
    for i, lab in enumerate(CXR14_LABELS):
        lines.append(f"{i:08d}_000.png,{lab},0,{i},58,M,PA,2682,2749,0.143,0.143,")
        _touch(tmp_path / "images" / f"{i:08d}_000.png")
    lines.append("00000099_000.png,No Finding,0,99,40,F,AP,2500,2048,0.168,0.168,")
    _touch(tmp_path / "images" / "00000099_000.png")
    entry = tmp_path / "Data_Entry_2017.csv"
    entry.write_text("\n".join(lines) + "\n")
    tl = tmp_path / "test_list.txt"
    tl.write_text("00000099_000.png\n")
    with pytest.raises(RecipeError, match="--sample-from"):
        recipe_cxr14(entry, tl, tmp_path, per_class=1)
    rec, items = recipe_cxr14(entry, tl, tmp_path, per_class=1, sample_from="all")
    assert [it.split for it in items] == ["test"] + ["test_14x100"] * 14
    assert all(it.image.is_file() for it in items)
    assert rec.options["sample_from"] == "all"
    lines[2] = lines[2].rstrip(",")
    entry.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecipeError, match=r"Data_Entry_2017\.csv:3: 11 fields, the header has 12"):
        recipe_cxr14(entry, tl, tmp_path, per_class=1, sample_from="all")
