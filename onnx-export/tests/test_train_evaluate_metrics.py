"""`eclip_train.evaluate`'s metrics (which fill fixtures/models/evaluation.json) against the reference
values the Rust workbench's metric tests use (tests/data/metric_refs/, computed independently with
numpy / scipy / scikit-learn by onnx-export/scripts/make_metric_refs.py), so the Python training report
and the workbench agree on what gap, alignment, uniformity, accuracy and macro-F1 mean."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eclip_train.evaluate import alignment, l2n, macro_f1, modality_gap, uniformity

REFS = Path(__file__).resolve().parents[2] / "tests" / "data" / "metric_refs"


def _ref(name: str) -> dict:
    return json.loads((REFS / f"{name}.json").read_text(encoding="utf-8"))


def test_geometry_matches_the_workbench_references() -> None:
    g = _ref("geometry")
    x, y = l2n(np.array(g["image"], dtype=np.float64)), l2n(np.array(g["text"], dtype=np.float64))
    assert modality_gap(x, y) == pytest.approx(g["modality_gap"], abs=1e-6)
    assert alignment(x, y) == pytest.approx(g["alignment"], abs=1e-6)
    assert uniformity(x) == pytest.approx(g["uniformity_image"], abs=1e-6)
    assert uniformity(y) == pytest.approx(g["uniformity_text"], abs=1e-6)


def test_accuracy_and_macro_f1_match_the_workbench_references() -> None:
    c = _ref("classification")
    y, p = np.array(c["y_true"]), np.array(c["y_pred"])
    # the reference set leaves one of its 6 classes out of truth and predictions: it must not count
    assert len(set(y.tolist()) | set(p.tolist())) < c["n_classes"]
    assert float(np.mean(y == p)) == pytest.approx(c["accuracy"], abs=1e-9)
    assert macro_f1(y, p, c["n_classes"]) == pytest.approx(c["macro_f1"], abs=1e-9)
