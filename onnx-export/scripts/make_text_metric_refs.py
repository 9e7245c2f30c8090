"""Reference values for the Rust report-quality metrics (`src/rag/text_metrics.rs`), computed with the
standard implementations: sacrebleu (corpus BLEU-2 / BLEU-4, 13a tokenisation, exp smoothing, case
sensitive), Google's rouge-score (ROUGE-L F-measure, no stemming), and NLTK (per-pair sentence BLEU-2
/ BLEU-4 without smoothing and METEOR without WordNet synonyms, both on `wordpunct_tokenize` tokens,
and the Porter stem of every word in the corpora). Also writes the sample of real IU X-ray reports the
labeler test reads.

NLTK's `word_tokenize` (the eCLIP authors' tokeniser) and its METEOR synonym stage need the Punkt and
WordNet data, which NLTK downloads at run time and no package installed here ships; the METEOR values
come from NLTK with a WordNet stand-in that knows no synonyms (so the synonym stage, which still
matches a word to itself, finds nothing the exact and stem stages left).

Run from the repository root (needs `pip install sacrebleu rouge-score nltk torchxrayvision`):

    PYTHONPATH=onnx-export/src python onnx-export/scripts/make_text_metric_refs.py

Writes `tests/data/rag/text_metric_refs.json` and `tests/data/rag/iu_xray_sample.csv`.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import nltk
from nltk.stem.porter import PorterStemmer
from nltk.tokenize import wordpunct_tokenize
from nltk.translate.bleu_score import sentence_bleu
from nltk.translate.meteor_score import single_meteor_score
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
    # METEOR: stem-only matches, repeated words, fragmented order, case; BLEU: longer hypothesis.
    "stems_and_order": [
        ("Effusions are enlarging; effusion, effusion.", "effusion enlarged. The effusions enlarge"),
        ("lungs clear heart normal", "heart normal lungs clear"),
        ("The The the cardiac silhouette is normal in size", "the cardiac silhouette"),
    ],
}


class NoSynonyms:
    """A WordNet stand-in for NLTK's METEOR: no word has synsets."""

    def synsets(self, word: str) -> list[object]:
        return []


# Words that reach the Porter rules the reports rarely do (NLTK's extensions included).
PORTER_EXTRA_WORDS = [
    "generalization",
    "oscillators",
    "hopefulness",
    "analogies",
    "conditionally",
    "troubled",
    "sized",
    "fizzed",
    "feed",
    "bled",
    "agreed",
    "skies",
    "dying",
    "lying",
    "ties",
    "cries",
    "spied",
    "died",
    "news",
    "innings",
    "proceed",
    "exceeded",
    "succeeding",
    "electrically",
    "formalism",
    "sensitivity",
    "decisiveness",
    "callousness",
    "rationality",
    "probability",
    "apologize",
    "archaeology",
    "theology",
    "fully",
    "hopefully",
    "radically",
    "cyclically",
    "dyeing",
    "yelling",
    "xyz",
    "controlling",
    "rolling",
    "filling",
    "tanned",
    "fizzing",
    "hissing",
    "buzzes",
    "wriggling",
    "ebullient",
    "adjustable",
    "defensible",
    "irritant",
    "replacement",
    "adjustment",
    "dependent",
    "adoption",
    "communism",
    "activate",
    "angularity",
    "homologous",
    "effective",
    "bowdlerize",
    "probate",
    "rate",
    "cease",
    "controll",
    "roll",
    "yyy",
    "ay",
    "by",
    "sky",
]


def nltk_scores(pairs: list[tuple[str, str]]) -> dict[str, list[float]]:
    """Per pair: NLTK sentence BLEU-2/4 (no smoothing) and METEOR without synonyms, on
    `wordpunct_tokenize` tokens."""
    out: dict[str, list[float]] = {"sentence_bleu2": [], "sentence_bleu4": [], "meteor": []}
    for hyp, ref in pairs:
        h, r = wordpunct_tokenize(hyp), wordpunct_tokenize(ref)
        out["sentence_bleu2"].append(float(sentence_bleu([r], h, weights=(0.5, 0.5))))
        out["sentence_bleu4"].append(float(sentence_bleu([r], h)))
        out["meteor"].append(float(single_meteor_score(r, h, wordnet=NoSynonyms())))  # type: ignore[arg-type]
    return out


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
        "sentence_bleu": f"nltk {nltk.__version__} sentence_bleu([wordpunct_tokenize(ref)], "
        "wordpunct_tokenize(hyp), weights=(0.5, 0.5) | default 4-gram), no smoothing",
        "meteor": f"nltk {nltk.__version__} single_meteor_score(wordpunct_tokenize(ref), "
        "wordpunct_tokenize(hyp), wordnet=<no synsets>)",
        "corpora": {},
    }
    for name, pairs in corpora.items():
        rouge = [scorer.score(ref, hyp)["rougeL"].fmeasure for hyp, ref in pairs]
        out["corpora"][name] = {  # type: ignore[index]
            "hypotheses": [h for h, _ in pairs],
            "references": [r for _, r in pairs],
            **bleu_scores(pairs),
            "rougeL": rouge,
            **nltk_scores(pairs),
        }
    # Porter stems of every lower-cased word of the corpora and of the labeler sample's reports.
    sample = select_labeler_sample(reports, rng)
    texts = [t for pairs in corpora.values() for pair in pairs for t in pair] + [r.report for r in sample]
    stemmer = PorterStemmer()
    words = sorted(
        {w.lower() for t in texts for w in wordpunct_tokenize(t) if w.isalpha()} | set(PORTER_EXTRA_WORDS)
    )
    out["porter_stems"] = {w: stemmer.stem(w) for w in words}
    path = OUT_DIR / "text_metric_refs.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")

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
