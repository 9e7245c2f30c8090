"""Open-I / IU X-ray report importer: the 3,955 radiology reports that the PyPI package
`torchxrayvision` ships as `data/NLMCXR_reports.tgz` (Demner-Fushman et al. 2016, CC BY-NC-ND 4.0).

This module owns turning that archive into a CSV the workbench can use as a text-only retrieval corpus
for RAG and as a real-text test of the report labeler: one row per report with the findings, the
impression, the MeSH terms, and one 0/1 column per workbench label derived from the MeSH *major* terms
(the radiologists' own coding, independent of any text rule). The archive is located through the
installed package's files, without importing torchxrayvision (which would import torch).

Run: `eclip-iu-xray --out iu_xray.csv` (or `python -m eclip_data.iu_xray`).
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ARCHIVE_NAME = "NLMCXR_reports.tgz"

# Workbench labels (docs/formats.md §1) and the MeSH major headings (first component, lower case) that
# code them. Kept strict: a heading only counts when it names the finding itself.
MESH_LABELS: dict[str, tuple[str, ...]] = {
    "cardiomegaly": ("cardiomegaly",),
    "pleural_effusion": ("pleural effusion",),
    "pneumothorax": ("pneumothorax",),
    "nodule": ("nodule",),
    "consolidation": ("consolidation",),
    "edema": ("pulmonary edema", "edema"),
    "no_finding": ("normal",),
}

CSV_COLUMNS: tuple[str, ...] = (
    "study_id",
    "report",
    "findings",
    "impression",
    "indication",
    "mesh_major",
    "mesh_automatic",
    "images",
    *MESH_LABELS,
)


@dataclass
class IuReport:
    """One parsed IU X-ray report."""

    study_id: str
    findings: str = ""
    impression: str = ""
    indication: str = ""
    comparison: str = ""
    mesh_major: list[str] = field(default_factory=list)
    mesh_automatic: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    @property
    def report(self) -> str:
        """Findings then impression, the text a report generator is scored against."""
        parts = [p for p in (self.findings, self.impression) if p]
        return " ".join(parts)

    def labels(self) -> dict[str, int]:
        """0/1 per workbench label from the MeSH major headings."""
        heads = {m.split("/")[0].strip().lower() for m in self.mesh_major}
        return {label: int(any(h in heads for h in names)) for label, names in MESH_LABELS.items()}


def find_archive() -> Path:
    """Locate `data/NLMCXR_reports.tgz` inside the installed torchxrayvision distribution.

    Uses the distribution's file list (no import, so torch is not loaded); falls back to the package
    spec's directory. Raises FileNotFoundError with the fix when the package is absent.
    """
    try:
        files = importlib.metadata.files("torchxrayvision") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == ARCHIVE_NAME:
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    spec = importlib.util.find_spec("torchxrayvision")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            path = Path(loc) / "data" / ARCHIVE_NAME
            if path.is_file():
                return path
    raise FileNotFoundError(
        f"{ARCHIVE_NAME} not found: install the PyPI package torchxrayvision "
        "(pip install torchxrayvision) or pass --archive PATH"
    )


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def parse_report(xml_bytes: bytes, name: str = "<xml>") -> IuReport:
    """Parse one `ecgen-radiology/N.xml` document."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as e:
        raise ValueError(f"{name}: not valid XML ({e})") from e
    uid = root.find("uId")
    study_id = uid.get("id", "") if uid is not None else ""
    if not study_id:
        raise ValueError(f"{name}: no <uId id=...> element")
    rep = IuReport(study_id=study_id)
    for node in root.iter("AbstractText"):
        label = (node.get("Label") or "").upper()
        text = _clean(node.text)
        if label == "FINDINGS":
            rep.findings = text
        elif label == "IMPRESSION":
            rep.impression = text
        elif label == "INDICATION":
            rep.indication = text
        elif label == "COMPARISON":
            rep.comparison = text
    mesh = root.find("MeSH")
    if mesh is not None:
        rep.mesh_major = [_clean(m.text) for m in mesh.findall("major") if _clean(m.text)]
        rep.mesh_automatic = [_clean(m.text) for m in mesh.findall("automatic") if _clean(m.text)]
    rep.images = [img.get("id", "") for img in root.findall("parentImage") if img.get("id")]
    return rep


def iter_reports(archive: Path) -> Iterator[IuReport]:
    """Yield every report in the archive, in numeric file order."""
    with tarfile.open(archive, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".xml")]

        def key(m: tarfile.TarInfo) -> tuple[int, str]:
            stem = Path(m.name).stem
            return (int(stem), m.name) if stem.isdigit() else (1 << 30, m.name)

        for member in sorted(members, key=key):
            fh = tar.extractfile(member)
            if fh is None:
                continue
            yield parse_report(fh.read(), f"{archive}:{member.name}")


def write_csv(reports: list[IuReport], out: Path) -> None:
    """Write the corpus CSV (columns `CSV_COLUMNS`)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for r in reports:
            labels = r.labels()
            w.writerow(
                [
                    r.study_id,
                    r.report,
                    r.findings,
                    r.impression,
                    r.indication,
                    ";".join(r.mesh_major),
                    ";".join(r.mesh_automatic),
                    ";".join(r.images),
                    *(labels[k] for k in MESH_LABELS),
                ]
            )
    tmp.replace(out)


def load_reports(archive: Path | None = None, keep_empty: bool = False) -> list[IuReport]:
    """All reports of the archive; those with neither findings nor impression are dropped unless asked."""
    reports = list(iter_reports(archive or find_archive()))
    return reports if keep_empty else [r for r in reports if r.report]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="eclip-iu-xray",
        description="Convert the IU X-ray (Open-I) reports shipped by torchxrayvision into a corpus CSV.",
    )
    p.add_argument("--out", type=Path, default=Path("iu_xray_reports.csv"), help="output CSV")
    p.add_argument(
        "--archive", type=Path, default=None, help="NLMCXR_reports.tgz (default: from torchxrayvision)"
    )
    p.add_argument("--keep-empty", action="store_true", help="keep reports without findings or impression")
    args = p.parse_args(argv)
    archive = args.archive or find_archive()
    reports = load_reports(archive, keep_empty=args.keep_empty)
    write_csv(reports, args.out)
    counts = {k: sum(r.labels()[k] for r in reports) for k in MESH_LABELS}
    print(f"{len(reports)} reports from {archive} -> {args.out}; MeSH label counts: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
