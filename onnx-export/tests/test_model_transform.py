"""Image preprocessing (docs/formats.md §2.1): decoding, channel rules, resize geometry, normalisation."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eclip_model.transform import (
    RESIZE_BICUBIC,
    RESIZE_HF,
    RESIZE_OPEN_CLIP,
    RESIZE_RULE,
    ImageTransform,
    box_reduce,
    crop_offset,
    decode_image,
    decode_u8,
    load_heatmap,
    resize_crop,
    resized_shape,
    shape_for,
    to_channels,
)


def _png16(path: Path, arr: np.ndarray, color_type: int) -> None:
    """Minimal 16-bit PNG writer (PIL cannot write 16-bit RGB)."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_decode_16bit_rgb_and_gray_keep_all_bits(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 65536, size=(5, 7, 3), dtype=np.uint16)
    _png16(tmp_path / "rgb.png", rgb, 2)
    np.testing.assert_array_equal(decode_image(tmp_path / "rgb.png"), rgb / 65535.0)
    gray = rng.integers(0, 65536, size=(4, 6), dtype=np.uint16)
    _png16(tmp_path / "g.png", gray, 0)
    np.testing.assert_array_equal(decode_image(tmp_path / "g.png")[:, :, 0], gray / 65535.0)


def test_decode_8bit_png_rgba_and_jpeg(tmp_path: Path) -> None:
    rgba = np.random.default_rng(1).integers(0, 256, size=(6, 5, 4), dtype=np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    img = decode_image(tmp_path / "a.png")
    np.testing.assert_array_equal(img, rgba / 255.0)
    assert to_channels(img, 3).shape == (6, 5, 3)  # alpha dropped
    Image.fromarray(rgba[:, :, 0], mode="L").save(tmp_path / "g.jpg", quality=95)
    jpg = decode_image(tmp_path / "g.jpg")
    assert jpg.shape == (6, 5, 1) and jpg.min() >= 0 and jpg.max() <= 1


def test_channel_rules() -> None:
    rgb = np.array([[[1.0, 0.0, 0.0], [0.2, 0.4, 0.6]]])
    gray = to_channels(rgb, 1)
    np.testing.assert_allclose(gray[0, :, 0], [0.299, 0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6])
    rep = to_channels(gray, 3)
    assert rep.shape == (1, 2, 3) and np.all(rep[..., 0] == rep[..., 2])
    with pytest.raises(ValueError):
        to_channels(rgb, 2)


def test_resized_shape_rounds_half_up() -> None:
    assert resized_shape(100, 100, 32) == (32, 32)
    assert resized_shape(300, 200, 128) == (192, 128)
    assert resized_shape(5, 7, 4) == (4, 6)  # 7 * 4 / 5 = 5.6 -> 6
    assert resized_shape(8, 10, 4) == (4, 5)
    assert resized_shape(10, 8, 4) == (5, 4)
    assert resized_shape(2, 3, 1) == (1, 2)  # 1.5 rounds half up


def test_centre_crop_offset_and_pil_bilinear() -> None:
    img = np.arange(6 * 9, dtype=np.float64).reshape(6, 9, 1) / 54
    out = resize_crop(img, 6)  # no resize: shorter edge already 6 -> crop columns 1..6
    np.testing.assert_allclose(out[:, :, 0], img[:, 1:7, 0], atol=1e-7)
    big = np.random.default_rng(2).random((40, 50, 1))
    want = np.asarray(
        Image.fromarray(big[:, :, 0].astype(np.float32), mode="F").resize((20, 16), Image.BILINEAR)
    )
    got = resize_crop(big, 16)
    np.testing.assert_allclose(got[:, :, 0], want[:, 2:18], atol=1e-7)


def test_transform_normalises_and_heatmap_follows_geometry(tmp_path: Path) -> None:
    arr = np.full((20, 30), 128, dtype=np.uint8)
    Image.fromarray(arr, mode="L").save(tmp_path / "x.png")
    t = ImageTransform(size=10, channels=3, mean=[0.5, 0.4, 0.3], std=[0.5, 0.5, 0.5])
    out = t(tmp_path / "x.png")
    assert out.shape == (3, 10, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0, 0], (128 / 255 - np.array([0.5, 0.4, 0.3])) / 0.5, atol=1e-6)
    heat = np.zeros((20, 30), np.float32)
    heat[:, 15:] = 2.0
    np.save(tmp_path / "h.npy", heat)
    h = load_heatmap(tmp_path / "h.npy", 10)
    assert h.shape == (10, 10) and h[:, 0].max() == 0.0 and h[:, -1].min() == pytest.approx(2.0)


def test_from_manifest_rejects_unknown_resize() -> None:
    section = {"size": 8, "channels": 1, "mean": [0.5], "std": [0.25]}
    assert ImageTransform.from_manifest(section).size == 8
    with pytest.raises(ValueError, match="resize"):
        ImageTransform.from_manifest({**section, "resize": "squash"})


def test_bicubic_rule_is_pil_bicubic_and_read_from_the_manifest() -> None:
    big = np.random.default_rng(3).random((40, 50, 1))
    plane = Image.fromarray(big[:, :, 0].astype(np.float32), mode="F")
    want = np.asarray(plane.resize((20, 16), Image.BICUBIC))
    got = resize_crop(big, 16, RESIZE_BICUBIC)
    np.testing.assert_allclose(got[:, :, 0], want[:, 2:18], atol=1e-7)
    assert np.abs(got - resize_crop(big, 16)).max() > 1e-3  # really another filter than bilinear
    section = {"size": 8, "channels": 1, "mean": [0.5], "std": [0.25], "resize": RESIZE_BICUBIC}
    assert ImageTransform.from_manifest(section).resize == RESIZE_BICUBIC
    with pytest.raises(ValueError, match="resize"):
        resize_crop(big, 16, "squash")


def test_fast_rule_box_reduces_then_resizes_and_drafts_jpeg(tmp_path: Path) -> None:
    p = np.arange(1, 16, dtype=np.float32).reshape(3, 5)
    np.testing.assert_array_equal(box_reduce(p, 2), [[4.0, 6.0, 7.5], [11.5, 13.5, 15.0]])
    big = np.random.default_rng(4).random((160, 200, 1))
    fast = resize_crop(big, 16, RESIZE_RULE + "_reduce")  # factor floor(160 / 16 / 2) = 5
    reduced = box_reduce(big[:, :, 0].astype(np.float32), 5)
    want = np.asarray(Image.fromarray(reduced, mode="F").resize((20, 16), Image.BILINEAR))[:, 2:18]
    np.testing.assert_allclose(fast[:, :, 0], want, atol=1e-7)
    # A JPEG is decoded at 1/4 scale (400 / 64 = 6.25) but cropped with the stored geometry.
    Image.fromarray((big[:, :, 0] * 255).astype(np.uint8).repeat(2, 0).repeat(2, 1), mode="L").save(
        tmp_path / "x.jpg"
    )
    full: list = []
    assert decode_image(tmp_path / "x.jpg", draft_size=64, full=full).shape[:2] == (80, 100)
    assert full == [320, 400]
    t = ImageTransform(size=64, channels=1, mean=(0.0,), std=(1.0,), resize=RESIZE_RULE + "_reduce")
    exact = ImageTransform(size=64, channels=1, mean=(0.0,), std=(1.0,))
    a, b = t(tmp_path / "x.jpg"), exact(tmp_path / "x.jpg")
    assert a.shape == b.shape == (1, 64, 64) and np.abs(a - b).mean() < 0.05


def test_dicom_voi_lut_sequence_wins_over_the_window_and_jpeg2000_decodes() -> None:
    """The committed parity DICOMs (make_parity_refs.py): the VOI LUT file carries a window too, and
    the LUT must be the one applied (pydicom's prefer_lut order); the JPEG 2000 lossless file decodes
    to the same pixels as its uncompressed source would (min-max window, exact integers)."""
    import pydicom
    from pydicom.pixels import apply_voi

    parity = Path(__file__).resolve().parents[2] / "tests" / "data" / "parity"
    lut = parity / "gen_voilut.dcm"
    ds = pydicom.dcmread(lut)
    rescaled = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    want = apply_voi(rescaled.astype(np.int64), ds) / float(
        (1 << int(ds.VOILUTSequence[0].LUTDescriptor[2])) - 1
    )
    got = decode_image(lut)[:, :, 0]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert float(ds.WindowCenter) == 1800.0  # a window is present and not used
    j2k = pydicom.dcmread(parity / "gen_j2k.dcm")
    assert "2000" in j2k.file_meta.TransferSyntaxUID.name
    px = j2k.pixel_array.astype(np.float64) * float(j2k.RescaleSlope) + float(j2k.RescaleIntercept)
    lo, hi = px.min(), px.max()
    np.testing.assert_allclose(
        decode_image(parity / "gen_j2k.dcm")[:, :, 0], 1.0 - (px - lo) / (hi - lo), atol=1e-12
    )


def test_library_rule_geometry() -> None:
    # int(size * long / short) truncates where the workbench rounds half up
    assert shape_for(RESIZE_OPEN_CLIP, 5, 7, 4) == (4, 5) and resized_shape(5, 7, 4) == (4, 6)
    assert shape_for(RESIZE_HF, 1036, 885, 224) == (262, 224)
    assert shape_for(RESIZE_OPEN_CLIP, 512, 512, 32) == (32, 32)
    # torchvision's CenterCrop: int(round(d / 2)), halves to even; transformers: floor
    assert [crop_offset(RESIZE_OPEN_CLIP, 32 + d, 32) for d in range(8)] == [0, 0, 1, 2, 2, 2, 3, 4]
    assert [crop_offset(RESIZE_HF, 32 + d, 32) for d in range(8)] == [0, 0, 1, 1, 2, 2, 3, 3]


def test_open_clip_rule_equals_torchvision_on_pil_images(tmp_path: Path) -> None:
    """The open_clip rule is open_clip's own eval transform value for value on 8-bit images."""
    tv = pytest.importorskip("torchvision.transforms")
    rng = np.random.default_rng(3)
    for shape, size in [((37, 45, 3), 16), ((45, 38), 16), ((40, 40, 4), 24), ((23, 61, 3), 40)]:
        arr = rng.integers(0, 256, shape).astype(np.uint8)
        path = tmp_path / f"im{shape}.png"
        Image.fromarray(arr).save(path)
        ref = tv.Compose(
            [tv.Resize(size, interpolation=tv.InterpolationMode.BICUBIC), tv.CenterCrop(size), tv.ToTensor()]
        )
        want = ref(Image.open(path).convert("RGB")).numpy()
        t = ImageTransform(size=size, channels=3, mean=(0.0,) * 3, std=(1.0,) * 3, resize=RESIZE_OPEN_CLIP)
        np.testing.assert_array_equal(t(path), want)
    # 16-bit images take the float (mode F) path: no 8-bit samples
    _png16(tmp_path / "g16.png", rng.integers(0, 65536, (20, 30)), 0)
    assert decode_u8(tmp_path / "g16.png") is None
    assert decode_u8(path).dtype == np.uint8
