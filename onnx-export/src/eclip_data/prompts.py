"""Zero-shot prompts per class (docs/formats.md §1.2), generated from the report grammar's vocabulary:
every severity x laterality/location combination as positive prompts, the grammar's negations
(lower case, no final period) as negative prompts."""

from __future__ import annotations

from typing import Any

from eclip_data.reports import ADJ, LOBE, NEGATIONS, SIZE, ZONE_WORD


def _neg(name: str) -> list[str]:
    return [s.rstrip(".").lower() for s in NEGATIONS[name]]


def make_prompts() -> dict[str, Any]:
    sev_adj = [a for v in ADJ.values() for a in v]
    sizes = [a for v in SIZE.values() for a in v]
    sides = ["right", "left"]
    classes: dict[str, dict[str, list[str]]] = {
        "cardiomegaly": {
            "positive": ["cardiomegaly", "enlarged cardiac silhouette", "the heart is enlarged"]
            + [f"{a} cardiomegaly" for a in sev_adj],
            "negative": _neg("cardiomegaly"),
        },
        "pleural_effusion": {
            "positive": ["pleural effusion", "bilateral pleural effusions"]
            + [f"{z} {s} pleural effusion" for z in sizes for s in sides]
            + [f"{z} bilateral pleural effusions" for z in sizes],
            "negative": _neg("pleural_effusion"),
        },
        "pneumothorax": {
            "positive": ["pneumothorax"]
            + [f"{z} {s} pneumothorax" for z in sizes for s in sides]
            + [f"{s} apical pneumothorax" for s in sides],
            "negative": _neg("pneumothorax"),
        },
        "nodule": {
            "positive": ["pulmonary nodule", "lung mass"]
            + [f"{s} {z} lung nodule" for s in sides for z in ZONE_WORD.values()]
            + [f"{s} {z} lung mass" for s in sides for z in ZONE_WORD.values()],
            "negative": _neg("nodule"),
        },
        "consolidation": {
            "positive": [
                "consolidation",
                "airspace consolidation",
                "airspace opacity consistent with pneumonia",
            ]
            + [f"{a} consolidation in the {lobe}" for a in ("patchy", "dense") for lobe in LOBE.values()],
            "negative": _neg("consolidation"),
        },
        "edema": {
            "positive": ["pulmonary edema", "interstitial edema", "pulmonary edema with kerley b lines"]
            + [f"{a} pulmonary edema" for a in sev_adj],
            "negative": _neg("edema"),
        },
    }
    return {"format_version": 1, "classes": classes}
