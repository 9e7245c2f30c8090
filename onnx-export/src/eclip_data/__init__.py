"""Bundled demo data for eclip-workbench: synthetic chest X-ray phantoms with reports and simulated
radiologist gaze, plus the conversion of real fixations into heatmaps.

Modules: `phantom` (image rendering), `findings` (labels, co-occurrence, confounder), `reports`
(report grammar), `gaze` (fixation readers, fitting real scanpath statistics, simulation),
`heatmap` (fixations -> heatmap), `dataset` (splits, manifest, prompts, build), `cli`.
"""

LABELS: tuple[str, ...] = (
    "cardiomegaly",
    "pleural_effusion",
    "pneumothorax",
    "nodule",
    "consolidation",
    "edema",
    "no_finding",
)
FINDINGS: tuple[str, ...] = LABELS[:-1]
ZEROSHOT_CLASSES: tuple[str, ...] = (
    "cardiomegaly",
    "pleural_effusion",
    "pneumothorax",
    "consolidation",
    "edema",
)
