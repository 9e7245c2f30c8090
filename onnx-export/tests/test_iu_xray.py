"""IU X-ray importer: parsing of one hand-written document, and the real archive from torchxrayvision."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from eclip_data import iu_xray

DOC = b"""<?xml version="1.0" encoding="utf-8"?>
<eCitation><uId id="CXR7"/><MedlineCitation><Article><Abstract>
<AbstractText Label="COMPARISON">None.</AbstractText>
<AbstractText Label="INDICATION">Cough</AbstractText>
<AbstractText Label="FINDINGS">Heart is   enlarged. No pleural effusion.</AbstractText>
<AbstractText Label="IMPRESSION">Cardiomegaly.</AbstractText>
</Abstract></Article></MedlineCitation>
<MeSH><major>Cardiomegaly/mild</major><major>Pulmonary Edema</major><automatic>cardiomegaly</automatic></MeSH>
<parentImage id="CXR7_IM-1"/><parentImage id="CXR7_IM-2"/>
</eCitation>"""


def test_parse_one_document() -> None:
    r = iu_xray.parse_report(DOC)
    assert r.study_id == "CXR7"
    assert r.findings == "Heart is enlarged. No pleural effusion."
    assert r.impression == "Cardiomegaly."
    assert r.indication == "Cough"
    assert r.report == "Heart is enlarged. No pleural effusion. Cardiomegaly."
    assert r.images == ["CXR7_IM-1", "CXR7_IM-2"]
    labels = r.labels()
    assert labels["cardiomegaly"] == 1 and labels["edema"] == 1
    assert labels["pleural_effusion"] == 0 and labels["no_finding"] == 0


def test_bad_xml_names_the_file() -> None:
    with pytest.raises(ValueError, match=r"bad\.xml"):
        iu_xray.parse_report(b"<eCitation>", "bad.xml")


def test_real_archive(tmp_path: Path) -> None:
    try:
        archive = iu_xray.find_archive()
    except FileNotFoundError:
        pytest.skip("torchxrayvision is not installed")
    all_reports = iu_xray.load_reports(archive, keep_empty=True)
    assert len(all_reports) == 3955
    assert len({r.study_id for r in all_reports}) == 3955
    reports = [r for r in all_reports if r.report]
    assert 3900 <= len(reports) < 3955
    first = all_reports[0]
    assert first.study_id == "CXR1"
    assert "no pulmonary edema" in first.findings.lower()
    assert first.mesh_major == ["normal"]
    assert first.labels()["no_finding"] == 1
    counts = {k: sum(r.labels()[k] for r in reports) for k in iu_xray.MESH_LABELS}
    # Every workbench label occurs in the real coding; "normal" is the most frequent heading.
    assert all(v > 0 for v in counts.values()), counts
    assert counts["no_finding"] > 1000
    out = tmp_path / "iu.csv"
    iu_xray.main(["--out", str(out)])
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(reports)
    assert list(rows[0]) == list(iu_xray.CSV_COLUMNS)
    assert rows[0]["report"] == first.report
