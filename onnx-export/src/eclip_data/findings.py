"""Labels of one study: which findings, where, how severe; their co-occurrence; the confounder.

A patient carries latent states (heart failure, a chronic nodule) that persist across their studies;
each study adds acute events (infection, pneumothorax). This gives realistic co-occurrence
(cardiomegaly + edema + bilateral effusions; consolidation + ipsilateral effusion) and class
imbalance. The support-device confounder follows the acute findings in the `train` domain (ICU
patients) and is reversed in the `shifted` domain used for the test splits: a model that reads the
device instead of the lungs loses there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eclip_data import FINDINGS, LABELS
from eclip_data.phantom import Acquisition, Anatomy, Case

SEVERITY3 = ("mild", "moderate", "severe")
CTR = {"mild": 0.56, "moderate": 0.61, "severe": 0.67}
EFFUSION_HEIGHT = {"mild": 0.07, "moderate": 0.13, "severe": 0.22}
PTX_FRACTION = {"mild": 0.2, "moderate": 0.32, "severe": 0.46}
NODULE_RADIUS = {"mild": 0.024, "moderate": 0.032, "severe": 0.048}  # severe = mass
CONSOLIDATION_DENSITY = {"mild": 0.24, "severe": 0.36}
EDEMA_DENSITY = {"mild": 0.09, "moderate": 0.14, "severe": 0.2}
ZONES = ("upper", "middle", "lower")
DEVICES = ("cvc_right", "cvc_left", "ett", "ecg")
ACUTE = ("pleural_effusion", "consolidation", "edema")  # findings the device follows in training


@dataclass
class Patient:
    anatomy: Anatomy
    heart_failure: bool
    nodule: dict[str, Any] | None
    base_ctr: float


def sample_patient(rng: np.random.Generator) -> Patient:
    hf = bool(rng.random() < 0.22)
    base_ctr = float(rng.uniform(0.40, 0.48))
    an = Anatomy(
        half_width=float(rng.uniform(0.36, 0.41)),
        lung_top=float(rng.uniform(0.12, 0.17)),
        base_right=float(rng.uniform(0.68, 0.73)),
        base_left=0.0,
        dome=float(rng.uniform(0.035, 0.06)),
        mediastinum=float(rng.uniform(0.05, 0.065)),
        ctr=base_ctr,
        heart_height=float(rng.uniform(0.15, 0.18)),
        rib_phase=float(rng.uniform(-0.015, 0.015)),
        gastric_bubble=bool(rng.random() < 0.5),
    )
    an.base_left = an.base_right + float(rng.uniform(0.01, 0.035))
    nodule = None
    if rng.random() < 0.07:
        nodule = {
            "side": int(rng.choice([-1, 1])),
            "zone": str(rng.choice(ZONES, p=[0.5, 0.3, 0.2])),
            "severity": str(rng.choice(SEVERITY3, p=[0.45, 0.35, 0.2])),
        }
        nodule["radius"] = NODULE_RADIUS[nodule["severity"]]
    return Patient(an, hf, nodule, base_ctr)


def sample_findings(rng: np.random.Generator, patient: Patient) -> dict[str, dict[str, Any]]:
    """Findings of one study of this patient, with laterality/zone/severity parameters."""
    f: dict[str, dict[str, Any]] = {}
    infection = rng.random() < 0.16
    if (patient.heart_failure and rng.random() < 0.78) or rng.random() < 0.05:
        sev = str(rng.choice(SEVERITY3, p=[0.5, 0.33, 0.17]))
        f["cardiomegaly"] = {"severity": sev, "ctr": CTR[sev] + float(rng.uniform(-0.015, 0.015))}
    if (patient.heart_failure and rng.random() < 0.5) or rng.random() < 0.03:
        sev = str(rng.choice(SEVERITY3, p=[0.45, 0.35, 0.2]))
        f["edema"] = {"severity": sev, "density": EDEMA_DENSITY[sev], "kerley": sev != "mild"}
    cons_side = int(rng.choice([-1, 1], p=[0.6, 0.4]))
    if infection or rng.random() < 0.02:
        sev = str(rng.choice(["mild", "severe"], p=[0.55, 0.45]))
        zone = str(rng.choice(ZONES, p=[0.25, 0.3, 0.45]))
        f["consolidation"] = {
            "side": cons_side,
            "zone": zone,
            "severity": sev,
            "density": CONSOLIDATION_DENSITY[sev],
        }
    eff_side = None
    if patient.heart_failure and rng.random() < 0.45:
        eff_side = 0 if rng.random() < 0.6 else int(rng.choice([-1, 1], p=[0.6, 0.4]))
    elif infection and rng.random() < 0.3:
        eff_side = cons_side
    elif rng.random() < 0.05:
        eff_side = int(rng.choice([-1, 0, 1], p=[0.4, 0.3, 0.3]))
    if eff_side is not None:
        sev = str(rng.choice(SEVERITY3, p=[0.5, 0.33, 0.17]))
        f["pleural_effusion"] = {"side": eff_side, "severity": sev, "height": EFFUSION_HEIGHT[sev]}
    if rng.random() < 0.06:
        sev = str(rng.choice(SEVERITY3, p=[0.5, 0.3, 0.2]))
        f["pneumothorax"] = {"side": int(rng.choice([-1, 1])), "severity": sev, "fraction": PTX_FRACTION[sev]}
    if patient.nodule is not None:
        f["nodule"] = dict(patient.nodule)
    return f


def labels_of(findings: dict[str, dict[str, Any]]) -> dict[str, int]:
    lab = {name: int(name in findings) for name in FINDINGS}
    lab["no_finding"] = int(not findings)
    assert set(lab) == set(LABELS)
    return lab


def sample_device(rng: np.random.Generator, findings: dict[str, Any], domain: str) -> str | None:
    """Support device (confounder). `train`: P = 0.75 with an acute finding, else 0.12.
    `shifted` (test splits): reversed, P = 0.12 with an acute finding, else 0.6."""
    acute = any(k in findings for k in ACUTE)
    if domain == "train":
        p = 0.75 if acute else 0.12
    elif domain == "shifted":
        p = 0.12 if acute else 0.6
    else:
        raise ValueError(f"unknown confounder domain {domain!r}")
    return str(rng.choice(DEVICES)) if rng.random() < p else None


def sample_acquisition(rng: np.random.Generator) -> Acquisition:
    u = rng.random()
    mode = "I;16" if u < 0.01 else ("RGB" if u < 0.025 else "L")
    return Acquisition(
        rotation_deg=float(np.clip(rng.normal(0.0, 2.0), -5.0, 5.0)),
        shift=(float(rng.uniform(-0.03, 0.03)), float(rng.uniform(-0.03, 0.03))),
        zoom=float(rng.uniform(0.94, 1.06)),
        gain=float(rng.uniform(0.95, 1.15)),
        offset=float(rng.uniform(-0.03, 0.04)),
        gamma=float(rng.uniform(0.85, 1.2)),
        noise=float(rng.uniform(0.0003, 0.0012)),
        mode=mode,
    )


def make_case(
    rng: np.random.Generator, patient: Patient, findings: dict[str, dict[str, Any]], domain: str
) -> Case:
    an = Anatomy(**vars(patient.anatomy))
    if "cardiomegaly" in findings:
        an.ctr = findings["cardiomegaly"]["ctr"]
    return Case(an, sample_acquisition(rng), findings, sample_device(rng, findings, domain))
