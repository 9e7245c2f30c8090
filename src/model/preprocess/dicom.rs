//! DICOM decoding (step 1 of the [module docs](super)): frame 0 through `dicom-pixeldata`, the
//! modality LUT (rescale slope/intercept), the VOI (first VOI LUT Sequence item, else the first
//! Window Center/Width with its VOI LUT Function, else the min–max of the frame), `MONOCHROME1`
//! inverted, values in f64 as pydicom, then the f32 planes of [`Scratch`].
use std::io::Cursor;
use std::path::Path;

use super::{GRAY_WEIGHTS, ImageError, Planes, Scratch};

pub(super) fn decode_dicom(
    path: &Path,
    bytes: &[u8],
    channels: usize,
    s: &mut Scratch,
) -> Result<Planes, ImageError> {
    use dicom_object::{OpenFileOptions, file::ReadPreamble};
    use dicom_pixeldata::PixelDecoder;
    crate::limits::check_dicom_meta(bytes).map_err(|m| ImageError::new(path, m))?;
    let obj = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Auto)
        .from_reader(Cursor::new(bytes))
        .map_err(|e| ImageError::new(path, format!("cannot read DICOM ({e})")))?;
    let syntax = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_string();
    // Rows x Columns (x frames) from the header, before the pixel data is decoded.
    let dim = |name: &str| {
        obj.element_by_name(name)
            .ok()
            .and_then(|e| e.to_int::<u64>().ok())
    };
    if let (Some(rows), Some(cols)) = (dim("Rows"), dim("Columns")) {
        let frames = dim("NumberOfFrames").unwrap_or(1).max(1);
        crate::limits::check_image_pixels(cols, rows.saturating_mul(frames))
            .map_err(|m| ImageError::new(path, m))?;
    }
    let pixels = obj.decode_pixel_data().map_err(|e| {
        let name = transfer_syntax_name(&syntax);
        ImageError::new(
            path,
            format!(
                "cannot decode DICOM pixel data with transfer syntax {syntax} ({name}): {e}. \
                 Supported here: uncompressed, deflated, RLE, JPEG baseline/extended/lossless, \
                 JPEG 2000 (lossless and lossy); JPEG-LS and High-Throughput JPEG 2000 need \
                 transcoding first (e.g. `gdcmconv --raw`)"
            ),
        )
    })?;
    let (height, width) = (pixels.rows() as usize, pixels.columns() as usize);
    let spp = pixels.samples_per_pixel() as usize;
    if spp != 1 && spp != 3 {
        return Err(ImageError::new(
            path,
            format!("DICOM with {spp} samples per pixel is not supported (1 or 3)"),
        ));
    }
    // Frame 0 (of a multi-frame object, the first frame only) with the modality LUT (rescale
    // slope/intercept) applied, as pydicom's pixel_array * slope + intercept.
    let data: Vec<f64> = pixels
        .to_vec_frame(0)
        .map_err(|e| ImageError::new(path, format!("cannot convert DICOM pixels ({e})")))?;
    let px = height * width;
    if data.len() != px * spp || data.is_empty() {
        return Err(ImageError::new(
            path,
            format!(
                "DICOM pixel data has {} values, expected {height}x{width}x{spp}",
                data.len()
            ),
        ));
    }
    let monochrome1 = pixels
        .photometric_interpretation()
        .as_str()
        .eq_ignore_ascii_case("MONOCHROME1");
    let voi = select_voi(&pixels, spp, &data);
    let window = |v: f64| -> f64 {
        let x = voi.apply(v);
        if monochrome1 { 1.0 - x } else { x }
    };
    let count = if spp == 1 || channels == 1 { 1 } else { 3 };
    for p in s.planes.iter_mut().take(count) {
        p.clear();
        p.resize(px, 0.0);
    }
    let [p0, p1, p2] = &mut s.planes;
    if spp == 1 {
        for (v, d) in p0.iter_mut().zip(&data) {
            *v = window(*d) as f32;
        }
    } else if count == 1 {
        let [wr, wg, wb] = GRAY_WEIGHTS;
        for (v, d) in p0.iter_mut().zip(data.chunks_exact(3)) {
            *v = (wr * window(d[0]) + wg * window(d[1]) + wb * window(d[2])) as f32;
        }
    } else {
        for (i, d) in data.chunks_exact(3).enumerate() {
            p0[i] = window(d[0]) as f32;
            p1[i] = window(d[1]) as f32;
            p2[i] = window(d[2]) as f32;
        }
    }
    Ok(Planes {
        height,
        width,
        full: (height, width),
        count,
        eight: false,
    })
}

/// Names of the compressed transfer syntaxes a user is likely to meet, for error messages.
fn transfer_syntax_name(uid: &str) -> &'static str {
    match uid {
        "1.2.840.10008.1.2.4.50" => "JPEG Baseline",
        "1.2.840.10008.1.2.4.51" => "JPEG Extended",
        "1.2.840.10008.1.2.4.57" | "1.2.840.10008.1.2.4.70" => "JPEG Lossless",
        "1.2.840.10008.1.2.4.80" => "JPEG-LS Lossless",
        "1.2.840.10008.1.2.4.81" => "JPEG-LS Near-Lossless",
        "1.2.840.10008.1.2.4.90" => "JPEG 2000 Lossless",
        "1.2.840.10008.1.2.4.91" => "JPEG 2000",
        "1.2.840.10008.1.2.4.201" | "1.2.840.10008.1.2.4.202" | "1.2.840.10008.1.2.4.203" => {
            "High-Throughput JPEG 2000"
        }
        "1.2.840.10008.1.2.5" => "RLE Lossless",
        "1.2.840.10008.1.2.1.99" => "Deflated Explicit VR Little Endian",
        _ => "see the DICOM standard, PS3.6 Annex A",
    }
}

/// VOI (grayscale only), as pydicom's `apply_voi_lut` with its default `prefer_lut=True`: the first
/// item of the VOI LUT Sequence when the file has one, else the first Window Center/Width with its
/// VOI LUT Function, else the min–max window of the frame.
fn select_voi<'a>(
    pixels: &'a dicom_pixeldata::DecodedPixelData<'_>,
    spp: usize,
    data: &[f64],
) -> Voi<'a> {
    let lut = if spp == 1 {
        pixels
            .voi_lut_sequence()
            .ok()
            .flatten()
            .and_then(|l| l.first())
            .filter(|l| !l.data.is_empty())
    } else {
        None
    };
    let first_window = pixels
        .window()
        .ok()
        .flatten()
        .and_then(|w| w.first().copied());
    match (spp, lut, first_window) {
        (1, Some(l), _) => Voi::Lut {
            first: f64::from(l.min_pixel_value),
            max: f64::from((1u32 << l.bits_stored.clamp(1, 16)) - 1),
            data: &l.data,
        },
        (1, None, Some(w)) if w.width.is_finite() && w.center.is_finite() && w.width > 0.0 => {
            let function = pixels
                .voi_lut_function()
                .ok()
                .flatten()
                .and_then(|f| f.first().copied())
                .unwrap_or_default();
            Voi::Window(w.center, w.width, function)
        }
        _ => {
            let (lo, hi) = data
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(*v), hi.max(*v))
                });
            Voi::MinMax(lo, hi)
        }
    }
}

/// The VOI step of DICOM decoding, to [0, 1].
#[derive(Debug, Clone, Copy)]
pub(super) enum Voi<'a> {
    /// No window in the file: `(v − min) / (max − min)` over the frame (0 for a constant frame).
    MinMax(f64, f64),
    /// Window Center, Window Width and VOI LUT Function (DICOM PS3.3 C.11.2.1.2), output range [0, 1].
    Window(f64, f64, dicom_pixeldata::VoiLutFunction),
    /// The first VOI LUT Sequence item (PS3.3 C.11.2.1.1): input `v` maps to
    /// `data[clamp(floor(v − first), 0, len − 1)]`, divided by `max` = 2^bits − 1 of its LUT Descriptor.
    Lut {
        first: f64,
        max: f64,
        data: &'a [u16],
    },
}

impl Voi<'_> {
    pub(super) fn apply(self, v: f64) -> f64 {
        use dicom_pixeldata::VoiLutFunction as F;
        match self {
            Voi::MinMax(lo, hi) => {
                if hi > lo {
                    (v - lo) / (hi - lo)
                } else {
                    0.0
                }
            }
            Voi::Window(c, w, F::Linear) => {
                if w <= 1.0 {
                    // Width 1: a threshold at c − 0.5.
                    if v <= c - 0.5 { 0.0 } else { 1.0 }
                } else if v <= c - 0.5 - (w - 1.0) / 2.0 {
                    0.0
                } else if v > c - 0.5 + (w - 1.0) / 2.0 {
                    1.0
                } else {
                    (v - (c - 0.5)) / (w - 1.0) + 0.5
                }
            }
            Voi::Window(c, w, F::LinearExact) => {
                if v <= c - w / 2.0 {
                    0.0
                } else if v > c + w / 2.0 {
                    1.0
                } else {
                    (v - c) / w + 0.5
                }
            }
            Voi::Window(c, w, F::Sigmoid) => 1.0 / (1.0 + (-4.0 * (v - c) / w).exp()),
            Voi::Lut { first, max, data } => {
                let d = (v - first).floor();
                let i = if d > 0.0 {
                    (d as usize).min(data.len() - 1)
                } else {
                    0
                };
                f64::from(data[i]) / max
            }
        }
    }
}
