"""Reference values for the workbench's BERTScore and embedding-cosine rows (`src/rag/bertscore.rs`,
`src/model/text_encoder.rs`), and the tiny text-encoder fixture the Rust test runs them on.

1. builds a randomly initialised tiny BertModel with its WordPiece tokenizer, saved offline with
   `save_pretrained` (`eclip_train.toydata.write_tiny_bert`, seed 0: hidden 32, 3 layers, max length
   64) in a temporary folder;
2. exports it with `eclip-export text-encoder` (`eclip_train.text_encoder.export_text_encoder`,
   layer 2, mean pooling) into `tests/data/text_encoder/` (about 140 KB);
3. computes, on fixed candidate / reference pairs (a text truncated at 64 tokens and words outside
   the vocabulary among them; no empty text: bert_score 0.3.13 encodes one with the tokenizer's
   `build_inputs_with_special_tokens`, which transformers 5 removed, so it fails there — the
   empty-report rule, scores 0, is unit-tested in Rust), `bert_score.score(cands, refs, model_type=<folder>,
   num_layers=2, idf=False, rescale_with_baseline=False)` twice: `batch_size=1` (no padding inside a
   batch: the definition the workbench implements) and bert_score's default batch of 64 (whose
   padding can turn a negative best cosine into 0; the script prints the largest difference of the
   two), and the mean-pooled `hidden_states[2]` of every text from the PyTorch model (attention-masked
   mean, one text at a time) and the cosine of each pair's pooled embeddings;
4. writes them to `tests/data/text_encoder/bertscore_refs.json`.

Run from the repository root (needs `pip install bert-score transformers`; nothing is downloaded):

    PYTHONPATH=onnx-export/src python onnx-export/scripts/make_bertscore_refs.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import bert_score
import numpy as np
import torch

from eclip_train.text_encoder import export_text_encoder
from eclip_train.toydata import write_tiny_bert

OUT = Path("tests/data/text_encoder")
LAYER = 2
LONG = " ".join(["the heart is normal in size and the lungs are clear ."] * 8)
PAIRS: list[tuple[str, str]] = [
    ("The heart is normal in size.", "The heart is normal in size."),
    ("Small left pleural effusion.", "Small bilateral pleural effusions with mild pulmonary edema."),
    ("No pneumothorax is seen.", "Right lower lobe consolidation. No pneumothorax."),
    ("Cardiac silhouette enlarged, unchanged.", "The cardiac silhouette is moderately enlarged."),
    ("Mild interstitial prominence bibasilar.", "Lungs are clear. No focal airspace opacity."),
    (LONG, "The heart is normal in size and the lungs are clear."),
]


def pooled_torch(model: torch.nn.Module, tokenizer: object, texts: list[str]) -> np.ndarray:
    out = []
    for t in texts:
        x = tokenizer(t.strip(), truncation=True, max_length=64, return_tensors="pt")
        with torch.no_grad():
            h = model(**x, output_hidden_states=True).hidden_states[LAYER][0]
        m = x["attention_mask"][0].unsqueeze(-1).float()
        out.append(((h * m).sum(0) / m.sum().clamp(min=1e-9)).numpy())
    return np.stack(out).astype(np.float64)


def main() -> int:
    from transformers import AutoModel, AutoTokenizer

    cands = [c for c, _ in PAIRS]
    refs = [r for _, r in PAIRS]
    with tempfile.TemporaryDirectory() as tmp:
        hf = write_tiny_bert(Path(tmp) / "tiny-bert", seed=0, layers=3, max_length=64)
        manifest = export_text_encoder(hf, OUT, layer=LAYER, pooling="mean", name="tiny-random-bert")
        scores = {}
        for label, batch in (("batch_size_1", 1), ("batch_size_64", 64)):
            P, R, F = bert_score.score(
                cands,
                refs,
                model_type=str(hf),
                num_layers=LAYER,
                idf=False,
                rescale_with_baseline=False,
                batch_size=batch,
                device="cpu",
            )
            scores[label] = {"p": P.tolist(), "r": R.tolist(), "f1": F.tolist()}
        model = AutoModel.from_pretrained(hf).eval()
        tokenizer = AutoTokenizer.from_pretrained(hf)
        pc, pr = pooled_torch(model, tokenizer, cands), pooled_torch(model, tokenizer, refs)
    cos = [
        float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) if np.linalg.norm(a) > 0 else 0.0
        for a, b in zip(pc, pr, strict=True)
    ]
    gap = max(
        abs(a - b)
        for k in ("p", "r", "f1")
        for a, b in zip(scores["batch_size_1"][k], scores["batch_size_64"][k], strict=True)
    )
    refs_json = {
        "how": "onnx-export/scripts/make_bertscore_refs.py: bert_score "
        f"{bert_score.__version__} score(cands, refs, model_type=<tiny BERT folder>, num_layers={LAYER}, "
        "idf=False, rescale_with_baseline=False, batch_size=1 and 64) on the model exported here; pooled = "
        "attention-masked mean of the PyTorch model's hidden_states[2], one text at a time",
        "layer": LAYER,
        "encoder_sha256": manifest["provenance"]["files"]["encoder.onnx"],
        "pairs": [{"candidate": c, "reference": r} for c, r in PAIRS],
        "bertscore": scores["batch_size_1"],
        "bertscore_batch_size_64": scores["batch_size_64"],
        "pooled_candidates": pc.tolist(),
        "pooled_references": pr.tolist(),
        "embedding_cosine": cos,
    }
    (OUT / "bertscore_refs.json").write_text(json.dumps(refs_json, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}/ (encoder.onnx, tokenizer.json, text_encoder.json, bertscore_refs.json)")
    for (c, r), p, rc, f in zip(
        PAIRS,
        scores["batch_size_1"]["p"],
        scores["batch_size_1"]["r"],
        scores["batch_size_1"]["f1"],
        strict=True,
    ):
        print(f"P {p:.6f} R {rc:.6f} F1 {f:.6f}  {c[:40]!r} vs {r[:40]!r}")
    print(f"largest |batch 1 - batch 64| over P/R/F1: {gap:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
