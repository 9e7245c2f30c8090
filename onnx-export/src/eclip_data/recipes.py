"""Dataset recipes: the official metadata files of public chest X-ray datasets -> a workbench dataset
folder (docs/formats.md §1): `manifest.csv`, `dataset.toml`, `prompts.json` and `split_list.txt`,
whose SHA-256 is printed and recorded in `dataset.toml` (`[recipe]`, ignored by the loaders).

Recipes (docs/recipes.md gives each one's input layout, selection rule and licence):
`chexpert-5x200`, `mimic-5x200`, `rsna-pneumonia`, `cxr14`, `open-i`, `siim-pneumothorax`.

Determinism: inputs are read in file order, candidates are sorted by their official id before a
seeded permutation (numpy Generator seeded by (seed, recipe code, class index)) picks a sample, and
outputs are written in a fixed order, so the same inputs and seed give byte-identical folders.
Validation: a missing column, an unknown label value, a malformed row or a missing image raises
`RecipeError` naming the file and its 1-based line (the header is line 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eclip_data.iu_xray import MESH_LABELS, IuReport, parse_report


class RecipeError(ValueError):
    """Bad recipe input; the message names the file and row and says what to do."""


@dataclass
class Item:
    """One manifest row before it is written: `image` is the image file on disk; `source` the
    metadata file and line it came from; `key` its official id (the split list entry)."""

    key: str
    image: Path
    split: str
    labels: dict[str, int]
    source: str
    report: str = ""
    patient: str = ""


@dataclass
class Recipe:
    """What a recipe writes besides the rows."""

    name: str
    labels: list[str]
    zeroshot: list[str]
    prompts: dict[str, dict[str, list[str]]]
    roles: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)  # name -> text, written beside the manifest


# ---------------------------------------------------------------- shared readers and helpers


def read_csv(path: str | Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row of a CSV; column names are stripped of spaces (SIIM's
    `train-rle.csv` header is `ImageId, EncodedPixels`). Missing columns -> RecipeError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise RecipeError(f"{path}: cannot read ({e})") from e
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise RecipeError(f"{path}: missing columns {missing} (header: {header}); is this the official file?")
    for i, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise RecipeError(f"{path}:{i}: {len(values)} fields, the header has {len(header)}")
        yield i, {h: (values[j].strip() if j < len(values) else "") for j, h in enumerate(header) if h}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _prompts(classes: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """Simple positive/negative prompts from display names (recipe defaults; users may edit)."""
    out = {}
    for label, display in classes.items():
        d = display.lower()
        if label in ("normal", "no_finding"):
            out[label] = {"positive": ["no acute cardiopulmonary process", "normal chest radiograph"]}
        else:
            out[label] = {"positive": [d, f"findings consistent with {d}"], "negative": [f"no {d}"]}
    return out


def sample(keys: list[str], n: int, seed: int, *stream: int) -> list[str]:
    """`n` of `keys` (all if fewer), chosen by a seeded permutation of the sorted keys."""
    ordered = sorted(keys)
    if n >= len(ordered):
        return ordered
    rng = np.random.default_rng([seed, *stream])
    return sorted(ordered[int(i)] for i in rng.permutation(len(ordered))[:n])


def single_positive_sample(
    items: list[Item], classes: list[str], per_class: int, seed: int, code: int, split: str, what: str
) -> list[Item]:
    """`per_class` items per class among those positive for exactly one of `classes`; fewer
    candidates than asked -> RecipeError naming the class and the count."""
    by_key = {it.key: it for it in items}
    chosen: list[Item] = []
    for ci, c in enumerate(classes):
        cand = [it.key for it in items if it.labels[c] == 1 and sum(it.labels[k] for k in classes) == 1]
        if len(cand) < per_class:
            raise RecipeError(
                f"{what}: only {len(cand)} candidates positive for exactly one class are {c!r} "
                f"(need {per_class}); lower --per-class or widen the source (--from-split / --sample-from)"
            )
        for k in sample(cand, per_class, seed, code, ci):
            it = by_key[k]
            chosen.append(Item(it.key, it.image, split, it.labels, it.source, it.report, it.patient))
    return chosen


class ImageIndex:
    """Find image files by name under a root whose folder layout varies between downloads (CXR14's
    `images_001/images/`, SIIM's `dicom-images-train/<study>/<series>/`)."""

    def __init__(self, root: Path, suffix: str) -> None:
        self.root, self.suffix = root, suffix
        self._index: dict[str, Path] | None = None

    def find(self, name: str) -> Path | None:
        direct = self.root / name
        if direct.is_file():
            return direct
        if self._index is None:
            self._index = {}
            for p in sorted(self.root.rglob(f"*{self.suffix}")):
                self._index.setdefault(p.name, p)
        return self._index.get(name)


def _need_image(path: Path | None, name: str, source: str, check: bool, root: Path) -> Path:
    if path is not None and (not check or path.is_file()):
        return path
    if not check:
        return root / name
    raise RecipeError(f"{source}: image {name} not found under {root} (check --root)")


# ---------------------------------------------------------------- output


def write_dataset(
    out: Path, recipe: Recipe, items: list[Item], seed: int, inputs: list[Path]
) -> dict[str, Any]:
    """Write the folder; return the summary (counts, split list SHA-256)."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["image", "report", "split", "patient", *recipe.labels, "source_id"])
    for it in items:
        rel = Path(os.path.relpath(it.image.resolve(), out.resolve())).as_posix()
        wr.writerow([rel, it.report, it.split, it.patient, *(it.labels[k] for k in recipe.labels), it.key])
    (out / "manifest.csv").write_text(buf.getvalue(), encoding="utf-8")
    split_list = "".join(f"{it.split}\t{it.key}\n" for it in items).encode("utf-8")
    (out / "split_list.txt").write_bytes(split_list)
    split_sha = _sha256(split_list)
    prompts = {"format_version": 1, "classes": {k: recipe.prompts[k] for k in recipe.zeroshot}}
    (out / "prompts.json").write_text(json.dumps(prompts, indent=1) + "\n", encoding="utf-8")
    for name, text in sorted(recipe.extra_files.items()):
        (out / name).write_text(text, encoding="utf-8")
    inputs_sha = {p.name: _sha256(p.read_bytes()) for p in inputs if p.is_file()}
    roles = "".join(f'{k} = "{v}"\n' for k, v in recipe.roles.items())
    opts = "".join(f"{k} = {json.dumps(v)}\n" for k, v in sorted(recipe.options.items()) if v is not None)
    ins = "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in sorted(inputs_sha.items()))
    (out / "dataset.toml").write_text(
        f"# Generated by: eclip-data recipe {recipe.name} (docs/recipes.md)\n"
        f'name = "{recipe.name}"\nmanifest = "manifest.csv"\nprompts = "prompts.json"\n'
        f"labels = {json.dumps(recipe.labels)}\nzeroshot_classes = {json.dumps(recipe.zeroshot)}\n\n"
        f"[splits]\n{roles}\n"
        f'[recipe]\nname = "{recipe.name}"\nseed = {seed}\nsplit_list = "split_list.txt"\n'
        f'split_list_sha256 = "{split_sha}"\n\n[recipe.options]\n{opts}\n[recipe.inputs_sha256]\n{ins}',
        encoding="utf-8",
    )
    counts: dict[str, dict[str, int]] = {}
    for it in items:
        c = counts.setdefault(it.split, {"n": 0, **dict.fromkeys(recipe.labels, 0)})
        c["n"] += 1
        for k in recipe.labels:
            c[k] += it.labels[k]
    return {"recipe": recipe.name, "out": str(out), "split_list_sha256": split_sha, "splits": counts}


# ---------------------------------------------------------------- CheXpert / MIMIC label columns

CHEXPERT_LABELS: tuple[str, ...] = (
    "No Finding",
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Opacity",
    "Lung Lesion",
    "Edema",
    "Consolidation",
    "Pneumonia",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Pleural Other",
    "Fracture",
    "Support Devices",
)
FIVE: tuple[str, ...] = ("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion")
UNCERTAIN_POLICIES = ("exclude", "zeros", "ones")
_LABEL_VALUES = {"1.0": 1, "1": 1, "0.0": 0, "0": 0, "-1.0": -1, "-1": -1, "": None}


def chexpert_value(v: str, where: str, column: str) -> int | None:
    """1, 0, -1 (uncertain) or None (not mentioned) for a CheXpert-labeller cell."""
    if v not in _LABEL_VALUES:
        raise RecipeError(
            f"{where}: column {column!r} has unknown label value {v!r} (expected 1.0, 0.0, -1.0 or empty)"
        )
    return _LABEL_VALUES[v]


def five_labels(row: dict[str, str], where: str, uncertain: str) -> dict[str, int] | None:
    """0/1 for the five 5x200 classes under the uncertain policy; None if the row is excluded
    (`exclude`: any of the five uncertain). Not mentioned counts as negative."""
    out = {}
    for c in FIVE:
        v = chexpert_value(row[c], where, c)
        if v == -1:
            if uncertain == "exclude":
                return None
            v = 1 if uncertain == "ones" else 0
        out[_snake(c)] = int(v == 1)
    return out


def _five_recipe(name: str, options: dict[str, Any]) -> Recipe:
    labels = [_snake(c) for c in FIVE]
    return Recipe(
        name,
        labels,
        labels,
        _prompts({_snake(c): c for c in FIVE}),
        {"train": "train", "val": "val", "test": "test_5x200", "single_positive": "test_5x200"},
        options,
    )


def recipe_chexpert_5x200(
    csvs: list[Path],
    root: Path,
    seed: int = 0,
    per_class: int = 200,
    uncertain: str = "exclude",
    check_images: bool = True,
) -> tuple[Recipe, list[Item]]:
    """Frontal images positive for exactly one of the five classes, `per_class` each. Reports are
    empty (CheXpert publishes none)."""
    if uncertain not in UNCERTAIN_POLICIES:
        raise RecipeError(f"--uncertain must be one of {UNCERTAIN_POLICIES}, got {uncertain!r}")
    items: list[Item] = []
    for path in csvs:
        for line, row in read_csv(path, ("Path", "Frontal/Lateral", *CHEXPERT_LABELS)):
            where = f"{path}:{line}"
            for c in CHEXPERT_LABELS:
                chexpert_value(row[c], where, c)
            if row["Frontal/Lateral"] not in ("Frontal", "Lateral"):
                raise RecipeError(
                    f"{where}: Frontal/Lateral is {row['Frontal/Lateral']!r} (expected Frontal or Lateral)"
                )
            if row["Frontal/Lateral"] != "Frontal":
                continue
            lab = five_labels(row, where, uncertain)
            if lab is None:
                continue
            m = re.search(r"(patient\d+)", row["Path"])
            items.append(Item(row["Path"], root / row["Path"], "", lab, where, "", m.group(1) if m else ""))
    chosen = single_positive_sample(
        items, [_snake(c) for c in FIVE], per_class, seed, 1, "test_5x200", "chexpert-5x200"
    )
    for it in chosen:
        _need_image(it.image, it.key, it.source, check_images, root)
    opts = {"uncertain": uncertain, "per_class": per_class, "frontal_only": True}
    return _five_recipe("chexpert-5x200", opts), chosen


# ---------------------------------------------------------------- MIMIC-CXR-JPG

MIMIC_SECTIONS = ("findings", "impression", "both")
MIMIC_SPLITS = ("train", "validate", "test")


def mimic_image_path(root: Path, subject_id: str, study_id: str, dicom_id: str) -> Path:
    """MIMIC-CXR-JPG layout: files/p<first 2 digits>/p<subject>/s<study>/<dicom>.jpg."""
    return root / "files" / f"p{subject_id[:2]}" / f"p{subject_id}" / f"s{study_id}" / f"{dicom_id}.jpg"


def mimic_report_path(root: Path, subject_id: str, study_id: str) -> Path:
    """MIMIC-CXR reports layout: files/p<first 2 digits>/p<subject>/s<study>.txt."""
    return root / "files" / f"p{subject_id[:2]}" / f"p{subject_id}" / f"s{study_id}.txt"


_SECTION = re.compile(r"^\s*([A-Z][A-Z /&]+):", re.MULTILINE)


def report_sections(text: str) -> dict[str, str]:
    """Upper-case `NAME:` headed sections of a MIMIC-CXR free-text report, whitespace collapsed,
    keyed by lower-case name."""
    heads = list(_SECTION.finditer(text))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out[m.group(1).strip().lower()] = " ".join(text[m.end() : end].split())
    return out


def report_text(sections: dict[str, str], section: str) -> str:
    """The chosen section (`findings`, `impression`, or `both` = findings then impression); '' if
    absent."""
    if section not in MIMIC_SECTIONS:
        raise RecipeError(f"--section must be one of {MIMIC_SECTIONS}, got {section!r}")
    if section == "both":
        return " ".join(p for p in (sections.get("findings", ""), sections.get("impression", "")) if p)
    return sections.get(section, "")


def read_mimic_metadata(path: Path) -> dict[str, tuple[int, dict[str, str]]]:
    """dicom_id -> (line, row) of mimic-cxr-2.0.0-metadata.csv."""
    out = {}
    for line, row in read_csv(path, ("dicom_id", "subject_id", "study_id", "ViewPosition")):
        if not row["dicom_id"] or not row["subject_id"].isdigit() or not row["study_id"].isdigit():
            raise RecipeError(f"{path}:{line}: dicom_id, subject_id and study_id must be set (numeric ids)")
        out[row["dicom_id"]] = (line, row)
    return out


def recipe_mimic_5x200(
    labels_csv: Path,
    metadata_csv: Path,
    split_csv: Path,
    root: Path,
    reports_root: Path,
    seed: int = 0,
    per_class: int = 200,
    uncertain: str = "exclude",
    section: str = "findings",
    from_split: str = "test",
    check_images: bool = True,
) -> tuple[Recipe, list[Item]]:
    """One frontal (PA/AP) image per study of the official `from_split`, the study positive for
    exactly one of the five classes in the chexpert (or negbio) labels; studies whose report lacks
    the chosen section are left out."""
    if uncertain not in UNCERTAIN_POLICIES:
        raise RecipeError(f"--uncertain must be one of {UNCERTAIN_POLICIES}, got {uncertain!r}")
    if from_split not in MIMIC_SPLITS:
        raise RecipeError(f"--from-split must be one of {MIMIC_SPLITS}, got {from_split!r}")
    report_text({}, section)
    study_labels: dict[tuple[str, str], tuple[str, dict[str, int]]] = {}
    for line, row in read_csv(labels_csv, ("subject_id", "study_id", *CHEXPERT_LABELS)):
        where = f"{labels_csv}:{line}"
        for c in CHEXPERT_LABELS:
            chexpert_value(row[c], where, c)
        lab = five_labels(row, where, uncertain)
        if lab is not None:
            study_labels[(row["subject_id"], row["study_id"])] = (where, lab)
    meta = read_mimic_metadata(metadata_csv)
    per_study: dict[tuple[str, str], str] = {}
    for line, row in read_csv(split_csv, ("dicom_id", "study_id", "subject_id", "split")):
        where = f"{split_csv}:{line}"
        if row["split"] not in MIMIC_SPLITS:
            raise RecipeError(f"{where}: split {row['split']!r} is not one of {MIMIC_SPLITS}")
        if row["split"] != from_split:
            continue
        if row["dicom_id"] not in meta:
            raise RecipeError(f"{where}: dicom_id {row['dicom_id']} is not in {metadata_csv}")
        if meta[row["dicom_id"]][1]["ViewPosition"] not in ("PA", "AP"):
            continue
        key = (row["subject_id"], row["study_id"])
        if key in per_study:
            per_study[key] = min(per_study[key], row["dicom_id"])
        else:
            per_study[key] = row["dicom_id"]
    items: list[Item] = []
    for (subject, study), dicom in sorted(per_study.items()):
        if (subject, study) not in study_labels:
            continue
        where, lab = study_labels[(subject, study)]
        items.append(Item(dicom, mimic_image_path(root, subject, study, dicom), "", lab, where, "", subject))
    # read reports only for the candidates (the full set has 227k studies)
    five = [_snake(c) for c in FIVE]
    cand = [it for it in items if sum(it.labels[k] for k in five) == 1]
    kept = []
    for it in cand:
        subject, study = it.patient, it.image.parent.name[1:]
        rp = mimic_report_path(reports_root, subject, study)
        try:
            text = rp.read_text(encoding="utf-8")
        except OSError as e:
            raise RecipeError(f"{it.source}: report {rp} cannot be read ({e}); check --reports-root") from e
        it.report = report_text(report_sections(text), section)
        if it.report:
            kept.append(it)
    chosen = single_positive_sample(kept, five, per_class, seed, 2, "test_5x200", "mimic-5x200")
    for it in chosen:
        _need_image(it.image, it.key, it.source, check_images, root)
    opts = {
        "uncertain": uncertain,
        "per_class": per_class,
        "section": section,
        "from_split": from_split,
        "labels_file": labels_csv.name,
    }
    return _five_recipe("mimic-5x200", opts), chosen


# ---------------------------------------------------------------- RSNA pneumonia (stage 2)

RSNA_CLASSES = ("Normal", "No Lung Opacity / Not Normal", "Lung Opacity")


def recipe_rsna_pneumonia(
    labels_csv: Path,
    root: Path,
    detailed_csv: Path | None = None,
    seed: int = 0,
    per_class: int | None = None,
    check_images: bool = True,
) -> tuple[Recipe, list[Item]]:
    """Binary pneumonia (Target 1, a box) vs normal (Target 0) per patientId from
    stage_2_train_labels.csv (one row per box, or one row with empty box for Target 0); optionally
    cross-checked with stage_2_detailed_class_info.csv; `per_class` draws a balanced sample."""
    target: dict[str, tuple[str, int]] = {}
    for line, row in read_csv(labels_csv, ("patientId", "x", "y", "width", "height", "Target")):
        where = f"{labels_csv}:{line}"
        if row["Target"] not in ("0", "1"):
            raise RecipeError(f"{where}: Target {row['Target']!r} (expected 0 or 1)")
        t = int(row["Target"])
        box = [row[k] for k in ("x", "y", "width", "height")]
        try:
            ok = all(float(v) >= 0 for v in box) if t == 1 else all(v == "" for v in box)
        except ValueError:
            ok = False
        if not ok:
            raise RecipeError(
                f"{where}: Target {t} needs {'a numeric box' if t else 'an empty box'}, got {box}"
            )
        prev = target.get(row["patientId"])
        if prev is not None and prev[1] != t:
            raise RecipeError(
                f"{where}: patientId {row['patientId']} has Target {t} here and {prev[1]} at {prev[0]}"
            )
        target.setdefault(row["patientId"], (where, t))
    if detailed_csv is not None:
        for line, row in read_csv(detailed_csv, ("patientId", "class")):
            where = f"{detailed_csv}:{line}"
            if row["class"] not in RSNA_CLASSES:
                raise RecipeError(f"{where}: class {row['class']!r} is not one of {RSNA_CLASSES}")
            if row["patientId"] not in target:
                raise RecipeError(f"{where}: patientId {row['patientId']} is not in {labels_csv}")
            if (row["class"] == "Lung Opacity") != bool(target[row["patientId"]][1]):
                raise RecipeError(
                    f"{where}: class {row['class']!r} disagrees with Target at {target[row['patientId']][0]}"
                )
    return _binary(
        "rsna-pneumonia",
        "pneumonia",
        target,
        seed,
        3,
        per_class,
        lambda k, where: _need_image(root / f"{k}.dcm", f"{k}.dcm", where, check_images, root),
        {"per_class": per_class, "detailed_class_info": detailed_csv is not None},
    )


def _binary(
    name: str,
    finding: str,
    target: dict[str, tuple[str, int]],
    seed: int,
    code: int,
    per_class: int | None,
    image_of: Callable[[str, str], Path],
    options: dict[str, Any],
) -> tuple[Recipe, list[Item]]:
    """A finding-vs-normal test split from per-image targets (key -> (source, 0/1)): all images, or
    a balanced `per_class` sample."""
    keys = sorted(target)
    if per_class is not None:
        pos = [k for k in keys if target[k][1] == 1]
        neg = [k for k in keys if target[k][1] == 0]
        keys = sorted(sample(pos, per_class, seed, code, 0) + sample(neg, per_class, seed, code, 1))
    items = []
    for k in keys:
        where, t = target[k]
        items.append(Item(k, image_of(k, where), "test", {finding: t, "normal": 1 - t}, where, "", k))
    labels = [finding, "normal"]
    rec = Recipe(
        name,
        labels,
        labels,
        _prompts({finding: finding, "normal": "normal"}),
        {"train": "train", "val": "val", "test": "test", "single_positive": "test"},
        options,
    )
    return rec, items


# ---------------------------------------------------------------- NIH ChestX-ray14

CXR14_LABELS: tuple[str, ...] = (
    "Atelectasis",
    "Cardiomegaly",
    "Effusion",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pneumonia",
    "Pneumothorax",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Fibrosis",
    "Pleural_Thickening",
    "Hernia",
)


def recipe_cxr14(
    data_entry: Path,
    test_list: Path,
    root: Path,
    seed: int = 0,
    per_class: int = 100,
    check_images: bool = True,
    sample_from: str = "test",
) -> tuple[Recipe, list[Item]]:
    """The official test list (multi-label, split `test`) and `per_class` images per class with
    exactly that one finding (split `test_14x100`), drawn from the test list (`sample_from="test"`)
    or from every image of the data entry file (`"all"`; the whole file has only 110 single-label
    Hernia images, the test list fewer than 100). One prompt per class: the raw label name."""
    if sample_from not in ("test", "all"):
        raise RecipeError(f"--sample-from must be test or all, got {sample_from!r}")
    entries: dict[str, tuple[str, dict[str, int], str]] = {}
    for line, row in read_csv(data_entry, ("Image Index", "Finding Labels", "Patient ID")):
        where = f"{data_entry}:{line}"
        names = [n.strip() for n in row["Finding Labels"].split("|")]
        bad = [n for n in names if n not in CXR14_LABELS and n != "No Finding"]
        if bad or ("No Finding" in names and len(names) > 1):
            raise RecipeError(f"{where}: unknown or contradictory Finding Labels {row['Finding Labels']!r}")
        lab = {_snake(c): int(c in names) for c in CXR14_LABELS} | {
            "no_finding": int(names == ["No Finding"])
        }
        entries[row["Image Index"]] = (where, lab, row["Patient ID"])
    try:
        names = [ln.strip() for ln in test_list.read_text(encoding="utf-8").splitlines()]
    except OSError as e:
        raise RecipeError(f"{test_list}: cannot read ({e})") from e
    index = ImageIndex(root, ".png")
    items = []
    for i, name in enumerate(names, start=1):
        if not name:
            continue
        if name not in entries:
            raise RecipeError(f"{test_list}:{i}: {name} is not in {data_entry}")
        where, lab, patient = entries[name]
        img = _need_image(
            index.find(name) if check_images else None, name, f"{test_list}:{i}", check_images, root
        )
        items.append(Item(name, img, "test", lab, f"{test_list}:{i}", "", patient))
    classes = [_snake(c) for c in CXR14_LABELS]
    pool = items
    if sample_from == "all":
        pool = [
            Item(k, root / k, "", lab, where, "", pat) for k, (where, lab, pat) in sorted(entries.items())
        ]
    single = single_positive_sample(pool, classes, per_class, seed, 4, "test_14x100", "cxr14")
    if sample_from == "all":
        for it in single:
            it.image = _need_image(
                index.find(it.key) if check_images else None, it.key, it.source, check_images, root
            )
    labels = [*classes, "no_finding"]
    prompts = {_snake(c): {"positive": [c]} for c in CXR14_LABELS}
    rec = Recipe(
        "cxr14",
        labels,
        classes,
        prompts,
        {"train": "train", "val": "val", "test": "test", "single_positive": "test_14x100"},
        {"per_class": per_class, "sample_from": sample_from},
    )
    return rec, sorted(items, key=lambda it: it.key) + single


# ---------------------------------------------------------------- Open-I / IU X-ray


def iter_open_i_reports(reports: Path) -> Iterator[tuple[str, IuReport]]:
    """(source name, report) from NLMCXR_reports.tgz or a folder of ecgen-radiology XML files, in
    numeric file order."""

    def key(name: str) -> tuple[int, str]:
        stem = Path(name).stem
        return (int(stem), name) if stem.isdigit() else (1 << 30, name)

    if reports.is_dir():
        for p in sorted(reports.rglob("*.xml"), key=lambda p: key(p.name)):
            yield str(p), parse_report(p.read_bytes(), str(p))
        return
    try:
        with tarfile.open(reports, "r:*") as tar:
            members = sorted(
                (m for m in tar.getmembers() if m.isfile() and m.name.endswith(".xml")),
                key=lambda m: key(m.name),
            )
            for m in members:
                fh = tar.extractfile(m)
                if fh is not None:
                    name = f"{reports}:{m.name}"
                    yield name, parse_report(fh.read(), name)
    except (OSError, tarfile.TarError) as e:
        raise RecipeError(
            f"{reports}: cannot read the reports ({e}); pass the XML folder or NLMCXR_reports.tgz"
        ) from e


_OPEN_I_SERIAL = re.compile(r"^(CXR\d+)_\d+_(?=IM-)")


def recipe_open_i(
    reports: Path, images: Path, views_csv: Path, check_images: bool = True, missing_view: str = "error"
) -> tuple[Recipe, list[Item]]:
    """Frontal (PA/AP by the DICOM `View Position` in `views_csv`, columns `imageid`, `View
    Position`) images of reports with a findings section; report = the findings text. The
    retrieval gallery is the unique lower-cased findings strings (`gallery.txt`). An image without
    a view row is an error, or skipped and counted with `missing_view="skip"`."""
    if missing_view not in ("error", "skip"):
        raise RecipeError(f"--missing-view must be error or skip, got {missing_view!r}")
    skipped = 0
    views: dict[str, str] = {}
    for _, row in read_csv(views_csv, ("imageid", "View Position")):
        views[row["imageid"]] = row["View Position"]
    items: list[Item] = []
    for name, rep in iter_open_i_reports(reports):
        if not rep.findings:
            continue
        for img_id in rep.images:
            # the DICOM-header table drops the per-report serial: CXR1_1_IM-0001-3001 -> CXR1_IM-0001-3001
            view = views.get(img_id, views.get(_OPEN_I_SERIAL.sub(r"\1_", img_id)))
            if view is None:
                if missing_view == "skip":
                    skipped += 1
                    continue
                raise RecipeError(
                    f"{name}: image {img_id} has no row in {views_csv} (--missing-view skip leaves it out)"
                )
            if view not in ("PA", "AP"):
                continue
            img = _need_image(images / f"{img_id}.png", f"{img_id}.png", name, check_images, images)
            items.append(Item(img_id, img, "test", rep.labels(), name, rep.findings, rep.study_id))
    gallery = "".join(g.replace("\n", " ") + "\n" for g in open_i_gallery(items))
    rec = Recipe(
        "open-i",
        list(MESH_LABELS),
        [],
        {},
        {"train": "train", "val": "val", "test": "test"},
        {
            "report": "findings",
            "frontal": "PA/AP",
            "labels": "MeSH major (eclip_data.iu_xray)",
            "missing_view": missing_view,
            "images_without_view": skipped,
        },
        {"gallery.txt": gallery},
    )
    return rec, items


def open_i_gallery(items: list[Item]) -> list[str]:
    """The retrieval gallery: unique lower-cased findings strings, in first-seen order."""
    seen: dict[str, None] = {}
    for it in items:
        seen.setdefault(it.report.lower(), None)
    return list(seen)


# ---------------------------------------------------------------- SIIM-ACR pneumothorax


def recipe_siim(
    rle_csv: Path, root: Path, seed: int = 0, per_class: int | None = None, check_images: bool = True
) -> tuple[Recipe, list[Item]]:
    """Pneumothorax (any mask run) vs normal (`-1`) per ImageId from train-rle.csv or
    stage_2_train.csv (several rows per image when it has several masks)."""
    label: dict[str, tuple[str, int]] = {}
    for line, row in read_csv(rle_csv, ("ImageId", "EncodedPixels")):
        where = f"{rle_csv}:{line}"
        enc = row["EncodedPixels"]
        if enc == "-1":
            t = 0
        else:
            parts = enc.split()
            if not parts or len(parts) % 2 or not all(p.isdigit() for p in parts):
                raise RecipeError(f"{where}: EncodedPixels is neither -1 nor pairs of non-negative integers")
            t = 1
        prev = label.get(row["ImageId"])
        if prev is not None and prev[1] != t:
            raise RecipeError(
                f"{where}: ImageId {row['ImageId']} is -1 here but has a mask at {prev[0]} (or vice versa)"
            )
        label.setdefault(row["ImageId"], (where, t))
    index = ImageIndex(root, ".dcm")

    def image_of(k: str, where: str) -> Path:
        found = index.find(f"{k}.dcm") if check_images else None
        return _need_image(found, f"{k}.dcm", where, check_images, root)

    return _binary(
        "siim-pneumothorax", "pneumothorax", label, seed, 6, per_class, image_of, {"per_class": per_class}
    )


RECIPES: dict[str, Callable[..., tuple[Recipe, list[Item]]]] = {
    "chexpert-5x200": recipe_chexpert_5x200,
    "mimic-5x200": recipe_mimic_5x200,
    "rsna-pneumonia": recipe_rsna_pneumonia,
    "cxr14": recipe_cxr14,
    "open-i": recipe_open_i,
    "siim-pneumothorax": recipe_siim,
}
