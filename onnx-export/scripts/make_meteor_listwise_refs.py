"""Reference values for the eCLIP authors' METEOR (`tests/rag_text_metrics.rs`).

The authors' `eclip/utils/eval_metrics.py` (ykumards/eCLIP @5f79125, lines 48-53) calls NLTK's
`meteor_score([references], candidates)` with the whole lists of report strings: one METEOR over the
list, each report string one "word" (lower-cased, Porter-stemmed as a whole, exact then stem
matches, fragmentation penalty over the list order). This script computes that with NLTK and a
WordNet stand-in without synonyms on small fixed report lists (exact repeats as top-1 retrieval gives
them, case differences, whole-string stem differences, reordering), and writes
`tests/data/rag/meteor_listwise_refs.json`.

    .venv/bin/python onnx-export/scripts/make_meteor_listwise_refs.py
"""

from __future__ import annotations

import json
from pathlib import Path

import nltk
from nltk.translate.meteor_score import meteor_score

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "rag" / "meteor_listwise_refs.json"

NORMAL = "No acute cardiopulmonary abnormality."
CORPORA: dict[str, tuple[list[str], list[str]]] = {
    "repeats_in_order": (
        [NORMAL, "Small left pleural effusion.", NORMAL, "Heart size is enlarged."],
        [NORMAL, "Small left pleural effusion.", "The lungs are clear.", "Heart size is enlarged."],
    ),
    "case_and_stem": (
        ["NO ACUTE CARDIOPULMONARY ABNORMALITY.", "Bilateral pleural effusions", "Cardiomegaly"],
        [NORMAL, "Bilateral pleural effusion", "cardiomegaly"],
    ),
    "reordered": (
        ["A.", "B.", "C.", "D.", "E."],
        ["C.", "D.", "E.", "A.", "B."],
    ),
    "no_match": (["Pneumothorax on the right."], ["Normal chest."]),
}


class NoSynonyms:
    """A WordNet stand-in: no word has synsets (the workbench has no WordNet)."""

    def synsets(self, word: str) -> list[object]:
        return []


def main() -> None:
    out: dict[str, object] = {
        "generated_by": "onnx-export/scripts/make_meteor_listwise_refs.py",
        "definition": f"nltk {nltk.__version__} meteor_score([references], hypotheses, wordnet=<no synsets>)"
        " with the report strings as tokens (the eCLIP authors' call)",
        "corpora": {},
    }
    for name, (hyps, refs) in CORPORA.items():
        value = float(meteor_score([refs], hyps, wordnet=NoSynonyms()))  # type: ignore[arg-type]
        out["corpora"][name] = {"hypotheses": hyps, "references": refs, "meteor_listwise": value}  # type: ignore[index]
        print(f"{name}: {value!r}")
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
