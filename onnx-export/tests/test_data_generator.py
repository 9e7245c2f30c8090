"""Demo-data generator: determinism, report/label consistency, splits, heatmap placement, and the
committed fixtures/data folder."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from eclip_data import FINDINGS, LABELS, ZEROSHOT_CLASSES
from eclip_data.cli import main
from eclip_data.dataset import build, choose_test_heatmaps, plan_split, simulate_gaze
from eclip_data.findings import labels_of
from eclip_data.gaze import load_default_stats
from eclip_data.heatmap import fixation_heatmap
from eclip_data.phantom import render

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "data"

# An independent rule checker (not the generator's vocabulary): which findings a sentence mentions,
# and whether the sentence is a negation.
MENTION = {
    "cardiomegaly": (
        r"cardiomegaly|heart is \w+ enlarged|enlargement of the cardiac|silhouette is \w+ enlarged"
    ),
    "pleural_effusion": r"effusion",
    "pneumothorax": r"pneumothorax",
    "nodule": r"nodul|mass\b",
    "consolidation": r"consolidation|airspace opacity|pneumonia",
    "edema": r"edema",
}
NEGATION = r"^(no|there is no|there are no)\b|\bno evidence\b|\bnormal\b|\bclear\b"


def mentioned(report: str) -> tuple[set[str], set[str]]:
    """(findings asserted, findings mentioned only inside negated sentences)."""
    pos, neg = set(), set()
    for sentence in re.split(r"(?<=\.)\s+", report.lower()):
        hits = {k for k, rx in MENTION.items() if re.search(rx, sentence)}
        (neg if re.search(NEGATION, sentence) else pos).update(hits)
    return pos, neg - pos


def _check_reports(rows: list[tuple[str, dict[str, int]]]) -> float:
    negated = 0
    for report, lab in rows:
        pos, neg = mentioned(report)
        truth = {k for k in FINDINGS if lab[k]}
        assert pos == truth, f"report {report!r} asserts {sorted(pos)}, labels say {sorted(truth)}"
        negated += bool(neg)
    return negated / len(rows)


def test_reports_agree_with_labels_ignoring_negations():
    studies = plan_split(7, "train", 600)
    rows = [(s.report, labels_of(s.case.findings)) for s in studies]
    frac_negated = _check_reports(rows)
    assert frac_negated > 0.5  # negations are common, so the check really has to ignore them
    assert len({r for r, _ in rows}) > 0.6 * len(rows)  # reports are not a code of the labels


def test_splits_are_patient_grouped_and_5x200_single_positive():
    train = plan_split(3, "train", 200)
    test = plan_split(3, "test", 100)
    sp = plan_split(3, "test_5x200", 50)
    assert not {s.patient for s in train} & {s.patient for s in test}
    assert len({s.patient for s in train}) < len(train)  # some patients have several studies
    per_class = dict.fromkeys(ZEROSHOT_CLASSES, 0)
    for s in sp:
        pos = [c for c in ZEROSHOT_CLASSES if c in s.case.findings]
        assert len(pos) == 1
        per_class[pos[0]] += 1
    assert set(per_class.values()) == {10}


def test_confounder_follows_acute_findings_in_train_and_is_reversed_in_test():
    def rates(studies):
        acute = np.array(
            [
                any(k in s.case.findings for k in ("pleural_effusion", "consolidation", "edema"))
                for s in studies
            ]
        )
        dev = np.array([s.case.device is not None for s in studies])
        return dev[acute].mean(), dev[~acute].mean()

    a_tr, n_tr = rates(plan_split(11, "train", 800))
    a_te, n_te = rates(plan_split(11, "test", 800))
    assert a_tr > n_tr + 0.4
    assert a_te < n_te - 0.3


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_for_any_worker_count(tmp_path):
    counts = {"train": 20, "val": 4, "test": 6, "test_5x200": 5}
    kw = {"counts": counts, "heatmap_fraction": 0.2, "test_heatmaps": 3}
    build(tmp_path / "a", seed=5, workers=1, **kw)
    build(tmp_path / "b", seed=5, workers=2, **kw)
    build(tmp_path / "c", seed=6, workers=1, **kw)
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db
    assert da["manifest.csv"] != dc["manifest.csv"]
    assert len(da) == 35 + 4 + 3 + 6  # images, heatmaps, manifest/toml/prompts/stats/findings/fixations
    with open(tmp_path / "a" / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [sum(bool(r["heatmap"]) for r in rows if r["split"] == k) for k in counts] == [4, 0, 3, 0]
    # the heatmaps are reproducible from the written fixations by the real-data conversion path
    assert (
        main(
            [
                "heatmap",
                "--fixations",
                str(tmp_path / "a" / "gaze_fixations.csv"),
                "--out",
                str(tmp_path / "h"),
            ]
        )
        == 0
    )
    for r in rows:
        if r["heatmap"]:
            name = Path(r["heatmap"]).name
            assert (tmp_path / "h" / name).read_bytes() == (tmp_path / "a" / r["heatmap"]).read_bytes()


def test_test_heatmaps_change_no_other_byte(tmp_path):
    """The test-split heatmaps come from streams of their own: building with them changes only the
    manifest's `heatmap` cells of the chosen test rows and appends fixation rows."""
    counts = {"train": 20, "val": 4, "test": 12, "test_5x200": 5}
    build(tmp_path / "without", seed=2, counts=counts, heatmap_fraction=0.2, test_heatmaps=0)
    build(tmp_path / "with", seed=2, counts=counts, heatmap_fraction=0.2, test_heatmaps=5)
    d0, d1 = _digest(tmp_path / "without"), _digest(tmp_path / "with")
    changed = {k for k in d0 if d1[k] != d0[k]}
    added = set(d1) - set(d0)
    assert changed == {"manifest.csv", "gaze_fixations.csv"}
    assert len(added) == 5 and all(k.startswith("heatmaps/test_") for k in added)
    old = (tmp_path / "without" / "gaze_fixations.csv").read_bytes()
    new = (tmp_path / "with" / "gaze_fixations.csv").read_bytes()
    assert new.startswith(old) and len(new) > len(old)
    with open(tmp_path / "without" / "manifest.csv", encoding="utf-8") as fh:
        r0 = list(csv.DictReader(fh))
    with open(tmp_path / "with" / "manifest.csv", encoding="utf-8") as fh:
        r1 = list(csv.DictReader(fh))
    for a, b in zip(r0, r1, strict=True):
        assert {k: v for k, v in a.items() if k != "heatmap"} == {
            k: v for k, v in b.items() if k != "heatmap"
        }
        if a["heatmap"] != b["heatmap"]:
            assert a["heatmap"] == "" and b["split"] == "test"
    assert sum(bool(r["heatmap"]) for r in r1 if r["split"] == "test") == 5


def test_test_heatmap_subset_is_stratified_by_finding():
    studies = plan_split(4, "test", 300)
    chosen = choose_test_heatmaps(4, studies, 70)
    assert len(chosen) == len(set(chosen)) == 70
    assert chosen == choose_test_heatmaps(4, plan_split(4, "test", 300), 70)  # deterministic
    assert sum(s.heatmap for s in studies) == 70 and all(s.heatmap == (s.index in chosen) for s in studies)
    # round-robin over the 7 labels: every label gets at least 10 positives (or all it has)
    for label in LABELS:
        avail = sum(labels_of(s.case.findings)[label] for s in studies)
        got = sum(labels_of(studies[i].case.findings)[label] for i in chosen)
        assert got >= min(avail, 70 // len(LABELS)), (label, got, avail)
    # more than asked for: all of them
    assert len(choose_test_heatmaps(4, plan_split(4, "test", 20), 50)) == 20


def test_heatmap_mass_concentrates_on_the_finding_region():
    stats = load_default_stats()
    size, ratios = 128, {k: [] for k in FINDINGS}
    for s in plan_split(21, "test_5x200", 100) + plan_split(21, "train", 400):
        if len(s.case.findings) != 1:
            continue
        rng = np.random.default_rng(s.index)
        _, regions = render(s.case, size, rng)
        (name,) = s.case.findings
        h = fixation_heatmap(simulate_gaze(rng, regions, stats, size), size, size, 5.0)
        region = regions[name]
        ratios[name].append((h[region].sum() / h.sum()) / region.mean())
    for name, r in ratios.items():
        assert len(r) >= 8, name
        # mass in the region per unit area, relative to uniform; gaze also searches elsewhere
        assert np.median(r) > 2.0, (name, np.median(r))


def test_pretrain_set_is_a_dataset_with_train_and_val_roles(tmp_path):
    assert main(["pretrain", "--out", str(tmp_path), "--seed", "3", "--n", "40"]) == 0
    toml = (tmp_path / "dataset.toml").read_text()
    assert 'train = "pretrain"' in toml and 'val = "pretrain_val"' in toml
    with open(tmp_path / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [sum(r["split"] == k for r in rows) for k in ("pretrain", "pretrain_val")] == [40, 2]
    assert sum(bool(r["heatmap"]) for r in rows) == 4


@pytest.mark.skipif(
    not (FIXTURE / "manifest.csv").exists(), reason="fixtures/data not built in this checkout"
)
def test_committed_fixture_dataset():
    with open(FIXTURE / "manifest.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_split: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_split.setdefault(r["split"], []).append(r)
    assert {k: len(v) for k, v in by_split.items()} == {
        "train": 1400,
        "val": 250,
        "test": 1000,
        "test_5x200": 1000,
    }
    patients = {k: {r["patient"] for r in v} for k, v in by_split.items()}
    assert not patients["train"] & (patients["val"] | patients["test"] | patients["test_5x200"])
    assert {k: sum(bool(r["heatmap"]) for r in v) for k, v in by_split.items()} == {
        "train": 140,
        "val": 0,
        "test": 200,
        "test_5x200": 0,
    }
    with open(FIXTURE / "gaze_fixations.csv", encoding="utf-8") as fh:
        fixated = {r["image"] for r in csv.DictReader(fh)}
    assert fixated == {r["image"] for r in rows if r["heatmap"]}
    for r in rows[::10]:
        assert (FIXTURE / r["image"]).is_file()
        if r["heatmap"]:
            assert (FIXTURE / r["heatmap"]).is_file()
    _check_reports([(r["report"], {k: int(r[k]) for k in LABELS}) for r in rows])
    for r in by_split["test_5x200"]:
        assert sum(int(r[c]) for c in ZEROSHOT_CLASSES) == 1
