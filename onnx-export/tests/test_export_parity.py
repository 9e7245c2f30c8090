"""Export: ONNX Runtime parity with PyTorch, dynamic batch, manifest schema, file hashes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from eclip_model import tokenizer as tok_mod
from eclip_model.clip import CLIP, ImageEncoder, TextEncoder
from eclip_model.config import ModelConfig
from eclip_train.export import (
    PARITY_TOL,
    ExportError,
    ExportSpec,
    _check,
    export_model,
    sha256_file,
    validate_manifest,
)
from eclip_train.toydata import REPORTS, tiny_model_config

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CLIP, dict]:
    out = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict(tiny_model_config())
    tok = tok_mod.train_wordpiece(
        list(REPORTS.values()) * 3, vocab_size=100, context_length=16, min_frequency=1
    )
    model = CLIP(cfg, tok.get_vocab_size()).eval()
    spec = ExportSpec(
        name="t",
        family=cfg.name,
        embed_dim=16,
        image_size=32,
        channels=1,
        mean=[0.5],
        std=[0.25],
        context_length=16,
        pad_token_id=0,
        logit_scale=14.3,
        provenance={"variant": "clip", "train_fraction": 0.5, "seed": 3},
    )
    manifest = export_model(ImageEncoder(model), TextEncoder(model), tok, spec, out)
    return out, model, manifest


def test_files_and_manifest(exported: tuple[Path, CLIP, dict]) -> None:
    out, _, manifest = exported
    assert sorted(p.name for p in out.iterdir()) == [
        "image.onnx",
        "model.json",
        "text.onnx",
        "tokenizer.json",
    ]
    on_disk = json.loads((out / "model.json").read_text())
    assert on_disk == manifest
    validate_manifest(on_disk)
    for f, digest in on_disk["provenance"]["files"].items():
        assert sha256_file(out / f) == digest
    assert on_disk["provenance"]["train_fraction"] == 0.5
    diffs = on_disk["provenance"]["export_parity_max_abs_diff"]
    assert diffs["image"] <= PARITY_TOL and diffs["text"] <= PARITY_TOL


@pytest.mark.parametrize("batch", [1, 5])
def test_dynamic_batch_parity(exported: tuple[Path, CLIP, dict], batch: int) -> None:
    out, model, _ = exported
    gen = torch.Generator().manual_seed(batch)
    pixels = torch.randn(batch, 1, 32, 32, generator=gen)
    sess = ort.InferenceSession(str(out / "image.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(["image_embeds"], {"pixel_values": pixels.numpy()})[0]
    with torch.no_grad():
        want = model.encode_image(pixels).numpy()
    assert got.shape == (batch, 16)
    assert np.abs(got - want).max() <= PARITY_TOL
    tok = tok_mod.load(out / "tokenizer.json", 16, 0)
    texts = ["The heart is enlarged.", "edema " * 30, "", "pneumothorax", "x"][:batch]
    ids, mask = tok_mod.encode(tok, texts, 16)
    tsess = ort.InferenceSession(str(out / "text.onnx"), providers=["CPUExecutionProvider"])
    got = tsess.run(["text_embeds"], {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        want = model.encode_text(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    assert np.abs(got - want).max() <= PARITY_TOL
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_padding_does_not_change_text_embedding(exported: tuple[Path, CLIP, dict]) -> None:
    _, model, _ = exported
    tok = tok_mod.load(exported[0] / "tokenizer.json", 16, 0)
    ids, mask = tok_mod.encode(tok, ["The heart is enlarged."], 16)
    n = int(mask.sum())
    ids2 = ids.copy()
    ids2[0, n:] = 7  # garbage under the mask
    with torch.no_grad():
        a = model.encode_text(torch.from_numpy(ids), torch.from_numpy(mask))
        b = model.encode_text(torch.from_numpy(ids2), torch.from_numpy(mask))
    assert torch.allclose(a, b, atol=1e-5)


def test_parity_check_refuses_differences() -> None:
    a = np.zeros((2, 3), np.float32)
    assert _check("x", a, a + 5e-5) <= PARITY_TOL
    with pytest.raises(ExportError, match="differs"):
        _check("x", a, a + 2e-4)
    with pytest.raises(ExportError, match="shape"):
        _check("x", a, a[:1])
    with pytest.raises(ExportError):
        _check("x", a, a + np.nan)


def test_manifest_schema_rejects_bad_files(exported: tuple[Path, CLIP, dict]) -> None:
    good = exported[2]
    validate_manifest(good)
    cases = [
        (lambda m: m.pop("embed_dim"), "missing embed_dim"),
        (lambda m: m["image"].pop("mean"), "missing image.mean"),
        (lambda m: m["text"].update(context_length="48"), "text.context_length"),
        (lambda m: m.update(format_version=2), "format_version"),
        (lambda m: m["image"].update(channels=3), "channels"),
        (lambda m: m["image"].update(resize="bicubic"), "resize"),
        (lambda m: m["provenance"].update(train_fraction=1.5), "train_fraction"),
        (lambda m: m.update(normalized=1), "normalized"),
    ]
    for mutate, msg in cases:
        bad = copy.deepcopy(good)
        mutate(bad)
        with pytest.raises(ValueError, match=msg):
            validate_manifest(bad)
