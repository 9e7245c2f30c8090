"""Free-text reports from a small grammar, so that reports are not a one-to-one code of the labels.

Each positive finding gets one sentence (synonyms, laterality, zone/lobe, severity words); some absent
findings get explicit negations (alone or combined: "No pleural effusion or pneumothorax."); studies
without findings use normal templates; sentence order varies. The support device is not reported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SIDE = {-1: "right", 1: "left", 0: "bilateral"}
LOBE = {
    (-1, "upper"): "right upper lobe",
    (-1, "middle"): "right middle lobe",
    (-1, "lower"): "right lower lobe",
    (1, "upper"): "left upper lobe",
    (1, "middle"): "lingula",
    (1, "lower"): "left lower lobe",
}
ZONE_WORD = {"upper": "upper", "middle": "mid", "lower": "lower"}
ADJ = {"mild": ["mild", "slight"], "moderate": ["moderate"], "severe": ["severe", "marked"]}
ADV = {"mild": ["mildly", "slightly"], "moderate": ["moderately"], "severe": ["severely", "markedly"]}
SIZE = {"mild": ["small", "trace"], "moderate": ["moderate", "moderate-sized"], "severe": ["large"]}


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def positive_sentence(rng: np.random.Generator, name: str, f: dict[str, Any]) -> str:
    sev = f.get("severity", "moderate")
    if name == "cardiomegaly":
        return _pick(
            rng,
            [
                f"{_cap(_pick(rng, ADJ[sev]))} cardiomegaly.",
                f"The heart is {_pick(rng, ADV[sev])} enlarged.",
                f"{_cap(_pick(rng, ADJ[sev]))} enlargement of the cardiac silhouette.",
                f"The cardiac silhouette is {_pick(rng, ADV[sev])} enlarged.",
            ],
        )
    if name == "pleural_effusion":
        side, size = f["side"], _pick(rng, SIZE[sev])
        if side == 0:
            return _pick(
                rng,
                [
                    f"{_cap(size)} bilateral pleural effusions.",
                    f"There are {size} bilateral pleural effusions.",
                    f"{_cap(size)} pleural effusions on both sides.",
                ],
            )
        s = SIDE[side]
        return _pick(
            rng,
            [
                f"{_cap(size)} {s} pleural effusion.",
                f"There is a {size} {s} pleural effusion.",
                f"{_cap(s)}-sided pleural effusion, {size}.",
                f"{_cap(size)} {s} effusion with blunting of the costophrenic angle.",
            ],
        )
    if name == "pneumothorax":
        s, size = SIDE[f["side"]], _pick(rng, SIZE[sev])
        return _pick(
            rng,
            [
                f"{_cap(size)} {s} pneumothorax.",
                f"There is a {size} {s}-sided pneumothorax.",
                f"{_cap(s)} apical pneumothorax, {size}.",
                f"A {size} pneumothorax is seen on the {s}.",
            ],
        )
    if name == "nodule":
        s, z = SIDE[f["side"]], ZONE_WORD[f["zone"]]
        if sev == "severe":
            return _pick(
                rng,
                [
                    f"{_cap(s)} {z} lung mass.",
                    f"There is a mass in the {s} {z} lung zone.",
                    f"A pulmonary mass projects over the {s} {z} lung.",
                ],
            )
        word = "small " if sev == "mild" else ""
        return _pick(
            rng,
            [
                f"{_cap(word)}{s} {z} lung nodule." if word else f"{_cap(s)} {z} lung nodule.",
                f"There is a {word}nodule in the {s} {z} lung zone.",
                f"A {word}pulmonary nodule projects over the {s} {z} lung.",
                f"{_cap(word)}nodular opacity in the {s} {z} lung."
                if word
                else f"Nodular opacity in the {s} {z} lung.",
            ],
        )
    if name == "consolidation":
        lobe = LOBE[(f["side"], f["zone"])]
        adj = "patchy" if sev == "mild" else _pick(rng, ["dense", "confluent"])
        return _pick(
            rng,
            [
                f"{_cap(adj)} consolidation in the {lobe}.",
                f"{_cap(adj)} {lobe} airspace consolidation.",
                f"{_cap(adj)} airspace opacity in the {lobe}, consistent with pneumonia.",
                f"There is {adj} consolidation of the {lobe}.",
            ],
        )
    if name == "edema":
        adj = _pick(rng, ADJ[sev])
        options = [
            f"{_cap(adj)} pulmonary edema.",
            f"{_cap(adj)} interstitial edema.",
            f"Findings are consistent with {adj} pulmonary edema.",
        ]
        if f.get("kerley"):
            options.append(f"{_cap(adj)} pulmonary edema with Kerley B lines.")
        return _pick(rng, options)
    raise ValueError(f"no sentence for finding {name!r}")


NEGATIONS: dict[str, list[str]] = {
    "cardiomegaly": [
        "Heart size is normal.",
        "The cardiac silhouette is within normal limits.",
        "No cardiomegaly.",
        "Normal cardiomediastinal silhouette.",
    ],
    "pleural_effusion": [
        "No pleural effusion.",
        "There is no pleural effusion.",
        "No pleural effusions are seen.",
    ],
    "pneumothorax": ["No pneumothorax.", "There is no pneumothorax.", "No evidence of pneumothorax."],
    "nodule": ["No suspicious pulmonary nodules.", "No focal nodule or mass."],
    "consolidation": ["No focal consolidation.", "No airspace consolidation.", "No focal airspace opacity."],
    "edema": ["No pulmonary edema.", "No evidence of pulmonary edema.", "No vascular congestion or edema."],
}
COMBINED = {
    ("pleural_effusion", "pneumothorax"): [
        "No pleural effusion or pneumothorax.",
        "No effusion or pneumothorax.",
    ],
    ("consolidation", "edema"): ["No consolidation or edema."],
}
NORMAL = [
    "No acute cardiopulmonary process.",
    "No acute cardiopulmonary abnormality.",
    "Normal chest radiograph.",
    "No acute intrathoracic process.",
]
CLEAR = ["The lungs are clear.", "Lungs are clear.", "Clear lungs."]
EXTRA = [
    "Osseous structures are unremarkable.",
    "Degenerative changes of the thoracic spine.",
    "Frontal view of the chest.",
    "Single frontal radiograph of the chest.",
    "Comparison to prior study.",
]
LUNG = ("pleural_effusion", "pneumothorax", "nodule", "consolidation", "edema")


def make_report(rng: np.random.Generator, findings: dict[str, dict[str, Any]]) -> str:
    """One report for these findings (see module doc)."""
    positives = [positive_sentence(rng, name, f) for name, f in findings.items()]
    rng.shuffle(positives)
    absent = [n for n in NEGATIONS if n not in findings]
    negatives: list[str] = []
    used: set[str] = set()
    for pair, options in COMBINED.items():
        if all(p in absent for p in pair) and rng.random() < 0.4:
            negatives.append(_pick(rng, options))
            used.update(pair)
    for n in absent:
        if n not in used and rng.random() < (0.45 if findings else 0.35):
            negatives.append(_pick(rng, NEGATIONS[n]))
    if not any(n in findings for n in LUNG) and rng.random() < 0.6:
        negatives.append(_pick(rng, CLEAR))
    rng.shuffle(negatives)
    if not findings:
        body = [_pick(rng, NORMAL)] if rng.random() < 0.7 else []
        sentences = negatives + body if rng.random() < 0.5 else body + negatives
        if not sentences:
            sentences = [_pick(rng, NORMAL)]
    elif negatives and rng.random() < 0.2:
        sentences = negatives[:1] + positives + negatives[1:]
    else:
        sentences = positives + negatives
    if rng.random() < 0.2:
        extra = _pick(rng, EXTRA)
        sentences = (
            [extra, *sentences]
            if extra.startswith(("Frontal", "Single", "Comparison"))
            else [*sentences, extra]
        )
    return " ".join(sentences)
