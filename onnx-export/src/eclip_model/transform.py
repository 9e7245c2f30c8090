"""Image preprocessing shared by training, export checks and evaluation (docs/formats.md §2.1).

This module owns the one definition of how a file on disk becomes the float tensor an image encoder
sees. The Rust workbench (`src/model/preprocess.rs`) implements the same steps; a parity script compares
the two, so every step here is spelled out rather than delegated to a library default:

1. decode to float32 in [0, 1] (8-bit / 255, 16-bit / 65535; DICOM: frame 0, rescale slope/intercept,
   then, for grayscale, the first VOI LUT Sequence item (pydicom's `apply_voi`), else the first
   Window Center/Width with its VOI LUT Function, else the min/max of the frame; invert MONOCHROME1);
2. channels: RGBA drops alpha; for 1 channel RGB becomes 0.299 R + 0.587 G + 0.114 B in float; for 3
   channels gray is repeated;
3. resize with PIL's antialiased filter on mode "F" so the shorter edge equals `size` (the longer edge
   is rounded half up), then centre-crop `size x size` at offset floor((edge - size) / 2). The filter is
   the manifest's `resize` rule: BILINEAR for `shortest_edge_bilinear_center_crop` (the default),
   BICUBIC for `shortest_edge_bicubic_center_crop`. The library rules reproduce a CLIP library's own
   preprocessing for imported models: `open_clip_bicubic_center_crop` (open_clip: torchvision `Resize`
   + `CenterCrop` on the PIL image) and `hf_bicubic_center_crop` (transformers' CLIPImageProcessor)
   resize 8-bit images (gray, or colour for 3 channels) with PIL's 8-bit BICUBIC (modes L / RGB: the
   library's own arithmetic), and take the longer edge as int(size * long / short) and the crop offset
   as the library does (torchvision: round half to even; transformers: floor). Other inputs (16-bit,
   DICOM, colour for 1 channel) use mode F with the same geometry;
4. normalise per channel: (x - mean) / std.

PIL reads 16-bit RGB(A) PNGs as 8-bit, so PNGs are decoded with `pypng`, which keeps all bits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import png
from PIL import Image

RESIZE_RULE = "shortest_edge_bilinear_center_crop"
RESIZE_BICUBIC = "shortest_edge_bicubic_center_crop"
RESIZE_OPEN_CLIP = "open_clip_bicubic_center_crop"
RESIZE_HF = "hf_bicubic_center_crop"
# Library rules: 8-bit images on PIL's 8-bit path, the library's size and crop rounding.
LIBRARY_RULES = (RESIZE_OPEN_CLIP, RESIZE_HF)
# The fast rules: JPEG decoded at a reduced DCT scale (PIL `draft`), a box reduction, then the filter.
REDUCE_SUFFIX = "_reduce"
# Every resize rule of the contract and the PIL filter it names.
RESIZE_FILTERS = {
    RESIZE_RULE: Image.BILINEAR,
    RESIZE_BICUBIC: Image.BICUBIC,
    RESIZE_RULE + REDUCE_SUFFIX: Image.BILINEAR,
    RESIZE_BICUBIC + REDUCE_SUFFIX: Image.BICUBIC,
    RESIZE_OPEN_CLIP: Image.BICUBIC,
    RESIZE_HF: Image.BICUBIC,
}
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


class ImageDecodeError(ValueError):
    """An image file could not be read; the message names the file and the reason."""


def _decode_png(path: Path) -> np.ndarray:
    reader = png.Reader(filename=str(path))
    width, height, rows, info = reader.asDirect()
    planes = int(info["planes"])
    bitdepth = int(info["bitdepth"])
    arr = np.vstack([np.asarray(row, dtype=np.uint32) for row in rows]).reshape(height, width, planes)
    maxval = float((1 << bitdepth) - 1)
    return arr.astype(np.float64) / maxval


def _first(value: object) -> float | None:
    """The first value of a possibly multi-valued DICOM number, or None."""
    if value is None:
        return None
    try:
        return float(value[0]) if isinstance(value, Sequence) and not isinstance(value, str) else float(value)
    except (TypeError, ValueError, IndexError):
        return None


def _first_window(ds: object) -> tuple[float, float, str] | None:
    """(centre, width, VOI LUT function) of the first window in the file, if it has a usable one."""
    c, w = _first(getattr(ds, "WindowCenter", None)), _first(getattr(ds, "WindowWidth", None))
    if c is None or w is None or not (np.isfinite(c) and np.isfinite(w) and w > 0):
        return None
    function = str(getattr(ds, "VOILUTFunction", "LINEAR") or "LINEAR").upper()
    return c, w, function if function in ("LINEAR", "LINEAR_EXACT", "SIGMOID") else "LINEAR"


def apply_window(x: np.ndarray, c: float, w: float, function: str = "LINEAR") -> np.ndarray:
    """DICOM VOI (PS3.3 C.11.2.1.2) to the output range [0, 1], in float64."""
    x = np.asarray(x, dtype=np.float64)
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    if function == "LINEAR_EXACT":
        return np.where(x <= c - w / 2, 0.0, np.where(x > c + w / 2, 1.0, (x - c) / w + 0.5))
    if w <= 1.0:
        return np.where(x <= c - 0.5, 0.0, 1.0)
    lo, hi = c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
    return np.where(x <= lo, 0.0, np.where(x > hi, 1.0, (x - (c - 0.5)) / (w - 1) + 0.5))


def _decode_dicom(path: Path) -> np.ndarray:
    try:
        import pydicom
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImageDecodeError(f"{path}: reading DICOM needs `pip install pydicom`") from exc
    ds = pydicom.dcmread(str(path))
    pixels = np.asarray(ds.pixel_array, dtype=np.float64)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        pixels = pixels[0]
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    pixels = pixels * slope + intercept
    gray = int(getattr(ds, "SamplesPerPixel", 1) or 1) == 1
    window = _first_window(ds) if gray else None
    if gray and ds.get("VOILUTSequence"):
        # pydicom's own VOI LUT (the first item), scaled by its nominal depth to [0, 1]; it floors
        # float inputs (after the modality LUT) to table indices, which is what it warns about.
        from pydicom.pixels import apply_voi

        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = apply_voi(pixels, ds).astype(np.float64) / float((1 << bits) - 1)
    elif window is not None:
        out = apply_window(pixels, *window)
    else:
        lo, hi = float(pixels.min()), float(pixels.max())
        out = (pixels - lo) / (hi - lo) if hi > lo else np.zeros_like(pixels)
    if str(getattr(ds, "PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        out = 1.0 - out
    return out if out.ndim == 3 else out[:, :, None]


def _decode_pil(path: Path, draft_size: int | None = None, full: list | None = None) -> np.ndarray:
    with Image.open(path) as im:
        if full is not None:
            full[:] = [im.size[1], im.size[0]]
        if draft_size is not None and im.format == "JPEG":
            nh, nw = resized_shape(im.size[1], im.size[0], draft_size)
            im.draft(im.mode, (nw, nh))  # the largest DCT scale 1/8..1 not below the target
        im.load()
        mode = im.mode
        if mode in ("I;16", "I;16L", "I;16B", "I"):
            return np.asarray(im, dtype=np.float64)[:, :, None] / 65535.0
        if mode == "L":
            return np.asarray(im, dtype=np.float64)[:, :, None] / 255.0
        if mode in ("RGB", "RGBA"):
            return np.asarray(im, dtype=np.float64) / 255.0
        if mode == "LA":
            return np.asarray(im, dtype=np.float64) / 255.0
        if mode == "F":
            return np.asarray(im, dtype=np.float64)[:, :, None]
        return np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0


def decode_u8(path: str | Path) -> np.ndarray | None:
    """The stored 8-bit samples of an 8-bit image as `H x W x C` uint8 (C as stored, alpha included;
    PNGs below 8 bits scaled to 0..255), or None for 16-bit, float and DICOM images (library rules)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".dcm", ".dicom"):
        return None
    try:
        if suffix == ".png":
            width, height, rows, info = png.Reader(filename=str(path)).asDirect()
            bitdepth = int(info["bitdepth"])
            if bitdepth > 8:
                return None
            arr = np.vstack([np.asarray(row, dtype=np.uint16) for row in rows])
            arr = arr.reshape(height, width, int(info["planes"])) * (255 // ((1 << bitdepth) - 1))
            return arr.astype(np.uint8)
        with Image.open(path) as im:
            im.load()
            if im.mode in ("L", "LA", "RGB", "RGBA"):
                arr = np.asarray(im, dtype=np.uint8)
            elif im.mode in ("I;16", "I;16L", "I;16B", "I", "F"):
                return None
            else:
                arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
        return arr if arr.ndim == 3 else arr[:, :, None]
    except Exception as exc:  # decoders raise many types; name the file and keep the cause
        raise ImageDecodeError(f"{path}: cannot decode image ({exc})") from exc


def decode_image(path: str | Path, draft_size: int | None = None, full: list | None = None) -> np.ndarray:
    """Decode an image file to an `H x W x C` float64 array in [0, 1] (C = 1, 2, 3 or 4 as stored).

    `draft_size` (fast rules only): a JPEG is decoded at the largest DCT scale whose output is not
    smaller than the resize target for that shorter-edge size (PIL `Image.draft`); `full`, if given,
    receives the stored `[height, width]` (which then differs from the array's).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".png":
            return _decode_png(path)
        if suffix in (".dcm", ".dicom"):
            return _decode_dicom(path)
        return _decode_pil(path, draft_size, full)
    except ImageDecodeError:
        raise
    except Exception as exc:  # decoders raise many types; name the file and keep the cause
        raise ImageDecodeError(f"{path}: cannot decode image ({exc})") from exc


def to_channels(img: np.ndarray, channels: int) -> np.ndarray:
    """Apply the channel rules of §2.1 step 2 to an `H x W x C` array; returns `H x W x channels`."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    c = img.shape[2]
    if c in (2, 4):  # gray+alpha or RGBA: drop alpha
        img = img[:, :, : c - 1]
        c -= 1
    if channels == 1:
        if c == 1:
            return img
        r, g, b = img[:, :, 0], img[:, :, 1], img[:, :, 2]
        gray = GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b
        return gray[:, :, None]
    if c == 1:
        return np.repeat(img, 3, axis=2)
    return img


def resized_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """(new_height, new_width) with the shorter edge = size and the longer edge rounded half up."""
    if height <= width:
        return size, (2 * width * size + height) // (2 * height)
    return (2 * height * size + width) // (2 * width), size


def shape_for(rule: str, height: int, width: int, size: int) -> tuple[int, int]:
    """The resized (height, width) of `rule`: the library rules take int(size * long / short)."""
    if rule not in LIBRARY_RULES:
        return resized_shape(height, width, size)
    return (size, width * size // height) if height <= width else (height * size // width, size)


def crop_offset(rule: str, edge: int, size: int) -> int:
    """First row / column of the centre crop: torchvision int(round(d / 2)) for open_clip, else floor."""
    return round((edge - size) / 2.0) if rule == RESIZE_OPEN_CLIP else (edge - size) // 2


def reduce_factor(height: int, width: int, nh: int, nw: int) -> int:
    """Box-reduction factor of the fast rules: floor(min(w / nw, h / nh) / 2) (PIL's reducing_gap 2), >= 1."""
    return max(1, int(min(width / nw, height / nh) / 2.0))


def box_reduce(plane: np.ndarray, k: int) -> np.ndarray:
    """Mean of every k x k block (PIL `reduce` geometry: ceil sizes, partial edge blocks)."""
    h, w = plane.shape
    ys, xs = np.arange(0, h, k), np.arange(0, w, k)
    sums = np.add.reduceat(np.add.reduceat(plane.astype(np.float64), ys, axis=0), xs, axis=1)
    counts = (np.minimum(ys + k, h) - ys)[:, None] * (np.minimum(xs + k, w) - xs)[None, :]
    return (sums / counts).astype(np.float32)


def _check_rule(rule: str) -> str:
    if rule not in RESIZE_FILTERS:
        raise ValueError(f"unsupported resize rule {rule!r}; the contract defines {sorted(RESIZE_FILTERS)}")
    return rule


def resize_crop(
    img: np.ndarray, size: int, rule: str = RESIZE_RULE, full: tuple[int, int] | None = None
) -> np.ndarray:
    """Resize (PIL's filter for `rule` on mode F, per channel) so the shorter edge = size, then crop.

    `full`: the stored `(height, width)` of an image decoded at a reduced DCT scale (fast rules); the
    output geometry follows it, so both modes crop the same region.
    """
    resample = RESIZE_FILTERS[_check_rule(rule)]
    h, w = img.shape[:2]
    nh, nw = shape_for(rule, *(full or (h, w)), size)
    k = reduce_factor(h, w, nh, nw) if rule.endswith(REDUCE_SUFFIX) else 1
    top, left = crop_offset(rule, nh, size), crop_offset(rule, nw, size)
    out = np.empty((size, size, img.shape[2]), dtype=np.float32)
    for ch in range(img.shape[2]):
        if img.dtype == np.uint8:  # library rules: PIL's 8-bit path (mode L), then / 255
            plane = Image.fromarray(np.ascontiguousarray(img[:, :, ch]), mode="L")
            if (nh, nw) != (h, w):
                plane = plane.resize((nw, nh), resample)
            crop = np.asarray(plane, dtype=np.float64)[top : top + size, left : left + size]
            out[:, :, ch] = (crop / 255.0).astype(np.float32)
            continue
        arr = np.ascontiguousarray(img[:, :, ch], dtype=np.float32)
        if k > 1:
            arr = box_reduce(arr, k)
        plane = Image.fromarray(arr, mode="F")
        if (nh, nw) != arr.shape:
            plane = plane.resize((nw, nh), resample)
        out[:, :, ch] = np.asarray(plane, dtype=np.float32)[top : top + size, left : left + size]
    return out


@dataclass(frozen=True)
class ImageTransform:
    """The preprocessing of one model: output is float32 `channels x size x size`."""

    size: int
    channels: int
    mean: Sequence[float]
    std: Sequence[float]
    resize: str = RESIZE_RULE

    def __post_init__(self) -> None:
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean/std need {self.channels} values, got {self.mean} / {self.std}")
        _check_rule(self.resize)

    def unnormalized(self, img: np.ndarray, full: tuple[int, int] | None = None) -> np.ndarray:
        """Steps 2-3 on a decoded `H x W x C` array: `channels x size x size` floats in [0, 1]."""
        return resize_crop(to_channels(img, self.channels), self.size, self.resize, full).transpose(2, 0, 1)

    def normalize(self, chw: np.ndarray) -> np.ndarray:
        mean = np.asarray(self.mean, dtype=np.float32)[:, None, None]
        std = np.asarray(self.std, dtype=np.float32)[:, None, None]
        return ((chw - mean) / std).astype(np.float32)

    def eight_bit(self, path: str | Path) -> np.ndarray | None:
        """Library rules: the 8-bit image ready for PIL's 8-bit resize (alpha dropped; gray, or colour
        for 3 channels, gray repeated), or None when the float path applies."""
        if self.resize not in LIBRARY_RULES:
            return None
        img = decode_u8(path)
        if img is None:
            return None
        if img.shape[2] in (2, 4):
            img = img[:, :, :-1]
        if img.shape[2] == 3 and self.channels == 1:
            return None  # the gray conversion is in float (step 2)
        return img

    def __call__(self, path: str | Path) -> np.ndarray:
        u8 = self.eight_bit(path)
        if u8 is not None:
            out = resize_crop(u8, self.size, self.resize)
            if out.shape[2] != self.channels:  # gray for a 3-channel model: repeated
                out = np.repeat(out, self.channels, axis=2)
            return self.normalize(out.transpose(2, 0, 1))
        if not self.resize.endswith(REDUCE_SUFFIX):
            return self.normalize(self.unnormalized(decode_image(path)))
        full: list = []
        img = decode_image(path, draft_size=self.size, full=full)
        return self.normalize(self.unnormalized(img, (full[0], full[1]) if full else None))

    @classmethod
    def from_manifest(cls, image_section: dict) -> ImageTransform:
        """Build from the `image` section of a model.json (refuses unknown resize rules)."""
        return cls(
            size=int(image_section["size"]),
            channels=int(image_section["channels"]),
            mean=tuple(float(m) for m in image_section["mean"]),
            std=tuple(float(s) for s in image_section["std"]),
            resize=str(image_section.get("resize", RESIZE_RULE)),
        )


def load_heatmap(path: str | Path, size: int) -> np.ndarray:
    """A gaze heatmap (PNG or `.npy` float32, image resolution) resized and cropped like its image.

    Returns `size x size` float32, not rescaled (the processor scales heatmaps to [0, 1] itself).
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        arr = np.load(path).astype(np.float64)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        elif arr.ndim != 3:
            raise ImageDecodeError(f"{path}: heatmap array must be 2-D, got shape {arr.shape}")
    else:
        arr = decode_image(path)
    return resize_crop(to_channels(arr, 1), size)[:, :, 0]
