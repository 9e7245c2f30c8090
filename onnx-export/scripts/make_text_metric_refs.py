"""Reference values for the Rust report-quality metrics (`src/rag/text_metrics.rs`), computed with the
standard implementations: sacrebleu (corpus BLEU-2 / BLEU-4, 13a tokenisation, exp smoothing, case
sensitive) and Google's rouge-score (ROUGE-L F-measure, no stemming). Also writes the sample of real
IU X-ray reports the labeler test reads.

Run from the repository root (needs `pip install sacrebleu rouge-score torchxrayvision`):

    PYTHONPATH=onnx-export/src python onnx-export/scripts/make_text_metric_refs.py

Writes `tests/data/rag/text_metric_refs.json` and `tests/data/rag/iu_xray_sample.csv`.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

from eclip_data import iu_xray

OUT_DIR = Path("tests/data/rag")

DEMO_PAIRS: list[tuple[str, str]] = [
    (
        "The heart is enlarged. No pleural effusion. No pneumothorax.",
        "Cardiomegaly. There is no pleural effusion or pneumothorax.",
    ),
    (
        "Small left pleural effusion. Heart size is normal.",
        "Small left pleural effusion with adjacent atelectasis. Normal heart size.",
    ),
    ("No acute cardiopulmonary abnormality.", "No acute cardiopulmonary abnormality."),
    (
        "A 1.5 cm nodule in the right upper lobe, unchanged since 2012-03-01.",
        "There is a 1.5-cm nodule in the right upper lobe; stable since 2012.",
    ),
    ("Mild pulmonary edema, improved from prior.", "Pulmonary edema has resolved. Lungs are clear."),
    ("", "Right-sided pneumothorax, approximately 20%."),
    (
        "Focal consolidation in the left lower lobe, consistent with pneumonia (T-11, 3,000 ml).",
        'Left lower lobe consolidation & effusion: "likely" pneumonia, T11 compression.',
    ),
    ("Lungs clear", "The lungs are clear bilaterally without focal consolidation, effusion or pneumothorax."),
]

EDGE_CORPORA: dict[str, list[tuple[str, str]]] = {
    # No 3- or 4-gram matches: exercises the exp smoothing.
    "no_high_order_matches": [("heart large effusion small", "heart large. effusion is small")],
    # No matches at all: score 0.
    "no_matches": [("alpha beta", "gamma delta epsilon")],
    # Hypothesis shorter than the reference: brevity penalty.
    "brevity": [("no pleural effusion", "there is no pleural effusion or pneumothorax seen today")],
    # Only unigrams in the hypothesis: no bigrams at all (total[1] == 0).
    "single_token_hyp": [("effusion", "effusion is present")],
}


def bleu_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    hyps = [h for h, _ in pairs]
    refs = [[r for _, r in pairs]]
    out = {}
    for order in (2, 4):
        out[f"bleu{order}"] = BLEU(max_ngram_order=order).corpus_score(hyps, refs).score / 100.0
    return out


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    reports = iu_xray.load_reports()
    rng = random.Random(0)
    iu_sample = rng.sample(reports, 60)
    iu_pairs = [(iu_sample[i].report, iu_sample[i + 30].report) for i in range(30)]

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    corpora: dict[str, list[tuple[str, str]]] = {"demo": DEMO_PAIRS, "iu_xray": iu_pairs, **EDGE_CORPORA}
    out: dict[str, object] = {
        "generated_by": "onnx-export/scripts/make_text_metric_refs.py",
        "bleu": "sacrebleu BLEU(max_ngram_order=n).corpus_score, tokenize=13a, smooth=exp, /100",
        "rougeL": "rouge_score RougeScorer(['rougeL'], use_stemmer=False) fmeasure(target=ref, pred=hyp)",
        "corpora": {},
    }
    for name, pairs in corpora.items():
        rouge = [scorer.score(ref, hyp)["rougeL"].fmeasure for hyp, ref in pairs]
        out["corpora"][name] = {  # type: ignore[index]
            "hypotheses": [h for h, _ in pairs],
            "references": [r for _, r in pairs],
            **bleu_scores(pairs),
            "rougeL": rouge,
        }
    path = OUT_DIR / "text_metric_refs.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")

    sample = select_labeler_sample(reports, rng)
    sample_path = OUT_DIR / "iu_xray_sample.csv"
    with sample_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["study_id", "report", "mesh_major", *iu_xray.MESH_LABELS])
        for r in sample:
            w.writerow([r.study_id, r.report, ";".join(r.mesh_major), *r.labels().values()])
    print(f"wrote {sample_path} ({len(sample)} reports, {sample_path.stat().st_size} bytes)")


def select_labeler_sample(reports: list[iu_xray.IuReport], rng: random.Random) -> list[iu_xray.IuReport]:
    """Up to 25 MeSH-positive reports per finding label plus 50 'normal' reports (which are full of
    negated findings), at most 600 characters each, in archive order."""
    short = [r for r in reports if len(r.report) <= 600]
    chosen: dict[str, iu_xray.IuReport] = {}
    for label in iu_xray.MESH_LABELS:
        pool = [r for r in short if r.labels()[label]]
        quota = 50 if label == "no_finding" else 25
        for r in rng.sample(pool, min(quota, len(pool))):
            chosen[r.study_id] = r
    order = {r.study_id: i for i, r in enumerate(reports)}
    return sorted(chosen.values(), key=lambda r: order[r.study_id])


if __name__ == "__main__":
    main()
