"""`eclip-export text-encoder`: a tiny randomly initialised BertModel saved offline, exported to the
text-encoder folder (docs/formats.md §2.3); ONNX Runtime vs PyTorch on the chosen layer's hidden
states and the pooled embeddings, the manifest, the CLI, and the layer convention of bert_score
(`num_layers=L` reads the same states as our `--layer L`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

pytest.importorskip("transformers")

from eclip_train.cli import export_main
from eclip_train.text_encoder import export_text_encoder, pooled
from eclip_train.toydata import write_tiny_bert

TEXTS = [
    "The heart is normal in size.",
    "Small bilateral pleural effusions with mild pulmonary edema.",
    "No pneumothorax.",
]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_bert(tmp_path_factory.mktemp("hf") / "tiny-bert", seed=0, layers=3, max_length=64)


def _onnx_states(folder: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from tokenizers import Tokenizer

    m = json.loads((folder / "text_encoder.json").read_text())
    tok = Tokenizer.from_file(str(folder / m["tokenizer"]))
    tok.enable_truncation(m["max_length"])
    tok.enable_padding(pad_id=m["pad_token_id"])
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    sess = ort.InferenceSession(str(folder / m["file"]), providers=["CPUExecutionProvider"])
    return sess.run([m["output"]], {m["input_ids"]: ids, m["attention_mask"]: mask})[0], ids, mask


@pytest.mark.parametrize(("layer", "pooling"), [(2, "mean"), (None, "cls"), (0, "mean")])
def test_export_matches_pytorch_hidden_states(
    tiny_bert: Path, tmp_path: Path, layer: int | None, pooling: str
) -> None:
    from transformers import AutoModel

    out = tmp_path / "enc"
    m = export_text_encoder(tiny_bert, out, layer=layer, pooling=pooling)
    want_layer = 3 if layer is None else layer
    assert (m["layer"], m["num_layers"], m["pooling"], m["max_length"]) == (want_layer, 3, pooling, 64)
    assert m["special_token_ids"] == [2, 3] and m["hidden_size"] == 32
    assert json.loads((out / "text_encoder.json").read_text()) == m
    got, ids, mask = _onnx_states(out, TEXTS)
    model = AutoModel.from_pretrained(tiny_bert).eval()
    with torch.no_grad():
        want = model(
            input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask), output_hidden_states=True
        ).hidden_states[want_layer]
    keep = mask.astype(bool)
    assert np.abs(got[keep] - want.numpy()[keep]).max() < 1e-4
    # Pooling as the eCLIP authors pool Bio_ClinicalBERT (attention-masked mean) or the first token.
    p = pooled(got, mask, pooling)
    if pooling == "mean":
        first = got[0][keep[0]].mean(axis=0)
        np.testing.assert_allclose(p[0], first, atol=1e-6)
    else:
        np.testing.assert_allclose(p, got[:, 0, :])


def test_bert_score_layer_convention_is_ours(tiny_bert: Path, tmp_path: Path) -> None:
    """bert_score cuts the encoder to `num_layers` layers and reads the last hidden state: the same
    states as our export with `--layer num_layers`."""
    bert_utils = pytest.importorskip("bert_score.utils")
    export_text_encoder(tiny_bert, tmp_path / "enc", layer=2)
    got, ids, mask = _onnx_states(tmp_path / "enc", TEXTS[:1])
    model = bert_utils.get_model(str(tiny_bert), 2, all_layers=False).eval()
    with torch.no_grad():
        want = model(torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))[0].numpy()
    assert np.abs(got - want).max() < 1e-4


def test_cli_and_bad_arguments(tiny_bert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    rc = export_main(["text-encoder", "--hf", str(tiny_bert), "--out", str(out), "--layer", "1"])
    assert rc == 0, capsys.readouterr().err
    assert "layer 1/3" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"encoder.onnx", "tokenizer.json", "text_encoder.json"}
    assert export_main(["text-encoder", "--hf", str(tiny_bert), "--out", str(out), "--layer", "7"]) == 2
    assert "--layer 7" in capsys.readouterr().err
    assert export_main(["text-encoder", "--hf", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "no config.json" in capsys.readouterr().err
    assert (
        export_main(["text-encoder", "--hf", str(tiny_bert), "--out", str(out), "--max-length", "500"]) == 2
    )
    assert "--max-length 500" in capsys.readouterr().err
