"""eclip_model.precision: float16 copies keep float32 I/O, halve the weights and stay close to float32.

The model folder is built by hand with `onnx.helper` (two MatMul graphs with the contract's I/O names), so
the test needs no training or export and runs in a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from eclip_model.precision import PrecisionError, to_fp16


def _graph(path: Path, inputs: list, nodes: list, weights: list, out_dim: int, name: str) -> None:
    out = helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", out_dim])
    g = helper.make_graph(nodes, "g", inputs, [out], initializer=weights)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _folder(tmp: Path) -> Path:
    rng = np.random.default_rng(0)
    d = tmp / "m"
    d.mkdir()
    w_img = numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "w_img")
    _graph(
        d / "image.onnx",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 1, 4, 4])],
        [
            helper.make_node("Flatten", ["pixel_values"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w_img"], ["image_embeds"]),
        ],
        [w_img],
        8,
        "image_embeds",
    )
    w_txt = numpy_helper.from_array(rng.standard_normal((6, 8)).astype(np.float32), "w_txt")
    _graph(
        d / "text.onnx",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", 6]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", 6]),
        ],
        [
            helper.make_node("Mul", ["input_ids", "attention_mask"], ["masked"]),
            helper.make_node("Cast", ["masked"], ["f"], to=TensorProto.FLOAT),
            helper.make_node("MatMul", ["f", "w_txt"], ["text_embeds"]),
        ],
        [w_txt],
        8,
        "text_embeds",
    )
    (d / "tokenizer.json").write_text("{}", encoding="utf-8")
    manifest = {
        "format_version": 1,
        "name": "toy",
        "family": "toy",
        "embed_dim": 8,
        "normalized": False,
        "logit_scale": 1.0,
        "image": {
            "file": "image.onnx",
            "input": "pixel_values",
            "output": "image_embeds",
            "size": 4,
            "channels": 1,
            "mean": [0.5],
            "std": [0.25],
            "resize": "shortest_edge_bilinear_center_crop",
        },
        "text": {
            "file": "text.onnx",
            "input_ids": "input_ids",
            "attention_mask": "attention_mask",
            "output": "text_embeds",
            "context_length": 6,
            "pad_token_id": 0,
        },
        "tokenizer": "tokenizer.json",
        "provenance": {"files": {}},
    }
    (d / "model.json").write_text(json.dumps(manifest), encoding="utf-8")
    return d


def test_fp16_copy_keeps_float32_io_and_halves_weights(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    m = to_fp16(src, tmp_path / "half")
    for part, out_name in (("image.onnx", "image_embeds"), ("text.onnx", "text_embeds")):
        g = onnx.load(str(tmp_path / "half" / part)).graph
        io = {v.name: v.type.tensor_type.elem_type for v in [*g.input, *g.output]}
        assert io[out_name] == TensorProto.FLOAT
        assert TensorProto.FLOAT16 in {init.data_type for init in g.initializer}
    assert io["input_ids"] == TensorProto.INT64
    assert m["provenance"]["precision"] == "fp16"
    assert 0 < m["provenance"]["fp16_parity_max_abs_diff"]["image"] < 1e-2
    assert (tmp_path / "half" / "tokenizer.json").exists()


def test_fp16_copy_is_refused_above_tolerance(tmp_path: Path) -> None:
    with pytest.raises(PrecisionError, match="differs from float32"):
        to_fp16(_folder(tmp_path), tmp_path / "half", tol=0.0)


def test_fp16_copy_refuses_its_own_source(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    with pytest.raises(PrecisionError, match="another folder"):
        to_fp16(src, src)
