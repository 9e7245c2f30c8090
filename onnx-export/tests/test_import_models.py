"""Importers on randomly initialised tiny open_clip and Hugging Face CLIP models (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from eclip_model import tokenizer as tok_mod
from eclip_train.evaluate import OnnxModel
from eclip_train.importers import import_hf_clip, import_open_clip, simple_tokenizer_to_json

torch.set_num_threads(1)  # the CI machine has 2 shared cores; more threads only contend

open_clip = pytest.importorskip("open_clip")
transformers = pytest.importorskip("transformers")

TEXTS = [
    "No acute cardiopulmonary process.",
    "Heart size is mildly ENLARGED;  small   left pleural effusion (2 cm), isn't it?",
    "Tubes & lines: ET tube 4.5 cm above the carina... 123 mm",
    "word " * 100,
]
# what open_clip's Python clean-up changes and the tokenizer.json normaliser reproduces
CLEANUP_TEXTS = [
    "Tubes &amp; lines &lt;5 cm&gt; &quot;stable&quot; &#39;ok&#39; &amp;amp; &#40;x&#41;",
    "  leading and trailing \t whitespace \n\n runs  ",
    "\u201cquoted\u201d and \u2018single\u2019 quotes",
]
TINY = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


def test_simple_tokenizer_conversion_matches_open_clip() -> None:
    simple = open_clip.get_tokenizer("ViT-B-32")
    tok = simple_tokenizer_to_json(simple, 77)
    texts = TEXTS + CLEANUP_TEXTS
    want = simple(texts).numpy()
    ids, mask = tok_mod.encode(tok, texts, 77, pad_id=0)
    np.testing.assert_array_equal(ids, want)
    assert mask[0].sum() == int((want[0] != 0).sum())


def test_import_open_clip_random_tiny(tmp_path: Path) -> None:
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "eclip-test-tiny.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(cfg_dir)
    torch.manual_seed(0)
    manifest = import_open_clip("eclip-test-tiny", tmp_path / "oc")
    assert manifest["image"]["resize"] == "open_clip_bicubic_center_crop"
    assert manifest["provenance"]["original_resize"] == "bicubic"
    assert manifest["embed_dim"] == 16 and manifest["image"]["size"] == 32
    assert manifest["text"]["context_length"] == 24 and manifest["image"]["channels"] == 3
    m = OnnxModel(tmp_path / "oc")
    emb = m.embed_texts(TEXTS[:2])
    assert emb.shape == (2, 16)
    # the ONNX text graph agrees with open_clip's own tokenizer + encode_text
    torch.manual_seed(0)  # same random initialisation as the imported model
    model = open_clip.create_model("eclip-test-tiny", pretrained=None).eval()
    with torch.no_grad():
        want = torch.nn.functional.normalize(
            model.encode_text(open_clip.get_tokenizer("eclip-test-tiny")(TEXTS[:2]))
        )
    np.testing.assert_allclose(emb, want.numpy(), atol=1e-4)


def _tiny_hf(tmp_path: Path) -> Path:
    from transformers import CLIPConfig, CLIPModel

    cfg = CLIPConfig(
        text_config={
            "vocab_size": 49408,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 24,
        },
        vision_config={
            "image_size": 32,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    src = tmp_path / "hf"
    CLIPModel(cfg).save_pretrained(str(src))
    tok = simple_tokenizer_to_json(open_clip.get_tokenizer("ViT-B-32"), 24)
    tok.save(str(src / "tokenizer.json"))
    (src / "tokenizer_config.json").write_text(json.dumps({"pad_token": "<end_of_text>"}))
    return src


def test_import_hf_clip_random_tiny(tmp_path: Path) -> None:
    src = _tiny_hf(tmp_path)
    (src / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5] * 3, "image_std": [0.2] * 3, "resample": 3})
    )
    manifest = import_hf_clip(src, tmp_path / "out")
    assert manifest["embed_dim"] == 16 and manifest["text"]["pad_token_id"] == 49407
    assert manifest["image"]["mean"] == [0.5] * 3
    assert manifest["image"]["resize"] == "hf_bicubic_center_crop"
    assert manifest["provenance"]["original_resize"] == "bicubic"
    # the folder's tokenizer.json is kept byte for byte (its padding settings included) ...
    assert (tmp_path / "out" / "tokenizer.json").read_bytes() == (src / "tokenizer.json").read_bytes()
    # ... unless asked otherwise
    import_hf_clip(src, tmp_path / "out2", rewrite_tokenizer=True)
    assert (tmp_path / "out2" / "tokenizer.json").read_bytes() != (src / "tokenizer.json").read_bytes()
    m = OnnxModel(tmp_path / "out")
    assert m.embed_pixels(np.random.default_rng(0).normal(size=(3, 3, 32, 32)).astype(np.float32)).shape == (
        3,
        16,
    )


def test_hf_processor_config_of_transformers_5_and_conflicts(tmp_path: Path) -> None:
    from eclip_train.importers import hf_preprocessing

    src = _tiny_hf(tmp_path)
    assert hf_preprocessing(src).source.startswith("OpenAI defaults")
    # transformers 5 nests the image processor in processor_config.json
    nested = {"image_processor": {"image_mean": [0.5] * 3, "image_std": [0.5] * 3, "resample": 2}}
    (src / "processor_config.json").write_text(json.dumps(nested))
    pp = hf_preprocessing(src)
    assert (pp.mean, pp.std, pp.resize, pp.source) == (
        [0.5] * 3,
        [0.5] * 3,
        "bilinear",
        "processor_config.json",
    )
    manifest = import_hf_clip(src, tmp_path / "out")
    assert manifest["image"]["mean"] == [0.5] * 3
    assert manifest["image"]["resize"] == "shortest_edge_bilinear_center_crop"
    # the same values in both files are fine; different values are an error naming both files
    (src / "preprocessor_config.json").write_text(json.dumps(nested["image_processor"]))
    assert hf_preprocessing(src).source == "preprocessor_config.json + processor_config.json"
    (src / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.4] * 3}))
    with pytest.raises(ValueError, match=r"preprocessor_config\.json and .*processor_config\.json disagree"):
        hf_preprocessing(src)


_ROOT = Path(__file__).resolve().parents[2]
_SAMPLES = next(
    (c / "data" / "cxr-samples" for c in (_ROOT.parent / "shared", _ROOT.parent.parent / "shared")),
    _ROOT.parent / "shared" / "data" / "cxr-samples",
)
# The library rules (formats.md §2.1) resize 8-bit images with PIL's 8-bit BICUBIC, as open_clip and
# transformers do. Measured on the four real PNG radiographs of ../shared/data/cxr-samples (2026-12-02,
# Pillow 13.0.0, torch 2.15.0 on an AVX-512 CPU): open_clip's preprocessed tensor is equal value for
# value and the embeddings agree within 1.1e-7; transformers 5's CLIPImageProcessor resizes with
# torch's uint8 antialiased bicubic (int16 weights), which differs from Pillow by one grey level in
# about 0.4% of pixels: equal tensors on three PNGs, 1.6e-5 embedding difference on 00027426_000.png.
IMPORT_EMBEDDING_BOUND = 1e-4


def _sample_pngs() -> list[Path]:
    pngs = sorted(_SAMPLES.glob("*.png"))
    if not pngs:
        pytest.skip(f"no real PNGs in {_SAMPLES}")
    return pngs


def test_imported_open_clip_embeds_real_pngs_like_open_clip(tmp_path: Path) -> None:
    from PIL import Image

    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "eclip-test-tiny.json").write_text(json.dumps(TINY))
    open_clip.add_model_config(cfg_dir)
    torch.manual_seed(0)
    import_open_clip("eclip-test-tiny", tmp_path / "oc")
    torch.manual_seed(0)
    model, _, preprocess = open_clip.create_model_and_transforms("eclip-test-tiny", pretrained=None)
    model.eval()
    m = OnnxModel(tmp_path / "oc")
    for p in _sample_pngs():
        with torch.no_grad():
            x = preprocess(Image.open(p)).unsqueeze(0)
            want = torch.nn.functional.normalize(model.encode_image(x)).numpy()
        got = m.embed_pixels(m.transform(p)[None])
        assert np.abs(want - got).max() < IMPORT_EMBEDDING_BOUND, p.name


def test_imported_hf_clip_embeds_real_pngs_like_transformers(tmp_path: Path) -> None:
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPModel

    src = _tiny_hf(tmp_path)
    (src / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_mean": [0.5] * 3,
                "image_std": [0.2] * 3,
                "resample": 3,
                "size": {"shortest_edge": 32},
                "crop_size": {"height": 32, "width": 32},
                "do_resize": True,
                "do_center_crop": True,
                "do_normalize": True,
                "do_rescale": True,
                "rescale_factor": 1 / 255,
                "do_convert_rgb": True,
            }
        )
    )
    import_hf_clip(src, tmp_path / "out")
    hf = CLIPModel.from_pretrained(str(src)).eval()
    processor = CLIPImageProcessor.from_pretrained(str(src))
    m = OnnxModel(tmp_path / "out")
    for p in _sample_pngs():
        pixels = processor(images=Image.open(p).convert("RGB"), return_tensors="pt")["pixel_values"]
        with torch.no_grad():
            f = hf.get_image_features(pixel_values=pixels)
            f = f if isinstance(f, torch.Tensor) else f.pooler_output
        want = torch.nn.functional.normalize(f).numpy()
        got = m.embed_pixels(m.transform(p)[None])
        assert np.abs(want - got).max() < IMPORT_EMBEDDING_BOUND, p.name
