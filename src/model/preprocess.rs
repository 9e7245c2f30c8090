/*!
Image preprocessing, step for step as docs/formats.md §2.1 and the Python reference
`eclip_model.transform` define it, so that Rust and Python feed the encoders the same tensor
(checked by `tests/parity.rs`).

1. [`decode`]: file → `H × W × C` floats in [0, 1] (f64, like the Python side). PNG/JPEG go through
   the `image` crate (8-bit / 255, 16-bit / 65535); DICOM through `dicom-pixeldata` (modality LUT =
   rescale slope/intercept, min–max window over the frame, `MONOCHROME1` inverted).
2. [`to_channels`]: alpha dropped; RGB → gray as 0.299 R + 0.587 G + 0.114 B in f64 for one channel,
   gray repeated for three. The result is cast to f32 (PIL's mode `F`).
3. [`resize_crop`]: `image`'s `Triangle` filter on f32 planes (the same antialiased bilinear kernel as
   PIL's `BILINEAR`) so the shorter edge is `size` (longer edge rounded half up), then a centre crop.
4. normalise per channel with the model's mean/std, in f32.
*/
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, Luma};

use super::spec::ImageSpec;

/// An image that could not be turned into a tensor; names the file and the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ImageError {
    pub path: PathBuf,
    pub message: String,
}

impl ImageError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        ImageError {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Decoded pixels, row-major `height × width × channels`, values in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub data: Vec<f64>,
}

/// The preprocessing of one model (the `image` section of `model.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessor {
    pub size: u32,
    pub channels: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Preprocessor {
    pub fn from_spec(spec: &ImageSpec) -> Self {
        Preprocessor {
            size: spec.size,
            channels: spec.channels,
            mean: spec.mean.clone(),
            std: spec.std.clone(),
        }
    }

    /// Elements of one preprocessed image: `channels × size × size`.
    pub fn tensor_len(&self) -> usize {
        self.channels * (self.size as usize) * (self.size as usize)
    }

    /// A stable description that goes into cache keys: any change here invalidates cached images.
    pub fn cache_tag(&self) -> String {
        format!(
            "pre-v1;{};size={};channels={};mean={:?};std={:?}",
            super::spec::RESIZE_RULE,
            self.size,
            self.channels,
            self.mean,
            self.std
        )
    }

    /// Steps 2–3: `channels × size × size` floats in [0, 1], before normalisation.
    pub fn unnormalized(&self, img: &Decoded) -> Vec<f32> {
        let planes = to_channels(img, self.channels);
        let mut out = Vec::with_capacity(self.tensor_len());
        for plane in planes {
            out.extend(resize_crop(&plane, img.width, img.height, self.size));
        }
        out
    }

    /// All four steps, appended to `out` (so a batch buffer can be filled in place).
    pub fn apply(&self, img: &Decoded, out: &mut Vec<f32>) {
        let plane_len = (self.size as usize) * (self.size as usize);
        let raw = self.unnormalized(img);
        for (c, chunk) in raw.chunks(plane_len).enumerate() {
            let (m, s) = (self.mean[c], self.std[c]);
            out.extend(chunk.iter().map(|x| (x - m) / s));
        }
    }

    /// Decode and preprocess one file.
    pub fn load(&self, path: &Path) -> Result<Vec<f32>, ImageError> {
        let img = decode(path)?;
        let mut out = Vec::with_capacity(self.tensor_len());
        self.apply(&img, &mut out);
        Ok(out)
    }
}

/// Step 1 for any supported file: DICOM by extension (`.dcm`, `.dicom`), everything else by content.
pub fn decode(path: &Path) -> Result<Decoded, ImageError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("dcm" | "dicom")) {
        return decode_dicom(path);
    }
    let reader = image::ImageReader::open(path)
        .map_err(|e| ImageError::new(path, format!("cannot open image ({e})")))?
        .with_guessed_format()
        .map_err(|e| ImageError::new(path, format!("cannot read image ({e})")))?;
    let img = reader
        .decode()
        .map_err(|e| ImageError::new(path, format!("cannot decode image ({e})")))?;
    Ok(from_dynamic(img))
}

fn from_dynamic(img: DynamicImage) -> Decoded {
    let (width, height) = (img.width() as usize, img.height() as usize);
    fn scaled<T: Copy + Into<f64>>(raw: &[T], max: f64) -> Vec<f64> {
        raw.iter().map(|v| (*v).into() / max).collect()
    }
    let (channels, data) = match img {
        DynamicImage::ImageLuma8(b) => (1, scaled(b.as_raw(), 255.0)),
        DynamicImage::ImageLumaA8(b) => (2, scaled(b.as_raw(), 255.0)),
        DynamicImage::ImageRgb8(b) => (3, scaled(b.as_raw(), 255.0)),
        DynamicImage::ImageRgba8(b) => (4, scaled(b.as_raw(), 255.0)),
        DynamicImage::ImageLuma16(b) => (1, scaled(b.as_raw(), 65535.0)),
        DynamicImage::ImageLumaA16(b) => (2, scaled(b.as_raw(), 65535.0)),
        DynamicImage::ImageRgb16(b) => (3, scaled(b.as_raw(), 65535.0)),
        DynamicImage::ImageRgba16(b) => (4, scaled(b.as_raw(), 65535.0)),
        DynamicImage::ImageRgb32F(b) => (3, scaled(b.as_raw(), 1.0)),
        DynamicImage::ImageRgba32F(b) => (4, scaled(b.as_raw(), 1.0)),
        // `DynamicImage` is non-exhaustive; anything new is converted to 8-bit RGB like PIL's fallback.
        other => (3, scaled(other.to_rgb8().as_raw(), 255.0)),
    };
    Decoded {
        height,
        width,
        channels,
        data,
    }
}

fn decode_dicom(path: &Path) -> Result<Decoded, ImageError> {
    use dicom_pixeldata::PixelDecoder;
    let obj = dicom_object::open_file(path)
        .map_err(|e| ImageError::new(path, format!("cannot read DICOM ({e})")))?;
    let pixels = obj
        .decode_pixel_data()
        .map_err(|e| ImageError::new(path, format!("cannot decode DICOM pixel data ({e})")))?;
    let (height, width) = (pixels.rows() as usize, pixels.columns() as usize);
    let channels = pixels.samples_per_pixel() as usize;
    if channels != 1 && channels != 3 {
        return Err(ImageError::new(
            path,
            format!("DICOM with {channels} samples per pixel is not supported (1 or 3)"),
        ));
    }
    // Frame 0 with the modality LUT (rescale slope/intercept) applied, as pydicom's pixel_array * slope + intercept.
    let mut data: Vec<f64> = pixels
        .to_vec_frame(0)
        .map_err(|e| ImageError::new(path, format!("cannot convert DICOM pixels ({e})")))?;
    if data.len() != height * width * channels || data.is_empty() {
        return Err(ImageError::new(
            path,
            format!(
                "DICOM pixel data has {} values, expected {height}x{width}x{channels}",
                data.len()
            ),
        ));
    }
    let (lo, hi) = data
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let monochrome1 = pixels
        .photometric_interpretation()
        .as_str()
        .eq_ignore_ascii_case("MONOCHROME1");
    for v in &mut data {
        let x = if hi > lo { (*v - lo) / (hi - lo) } else { 0.0 };
        *v = if monochrome1 { 1.0 - x } else { x };
    }
    Ok(Decoded {
        height,
        width,
        channels,
        data,
    })
}

/// Step 2: one f32 plane per output channel (row-major `H × W`).
pub fn to_channels(img: &Decoded, channels: usize) -> Vec<Vec<f32>> {
    let c = img.channels;
    // Gray+alpha and RGBA: drop alpha.
    let colour = if c == 2 || c == 4 { c - 1 } else { c };
    let px = img.height * img.width;
    let plane = |k: usize| -> Vec<f32> { (0..px).map(|i| img.data[i * c + k] as f32).collect() };
    match (colour, channels) {
        (1, 1) => vec![plane(0)],
        (1, _) => vec![plane(0); channels],
        (_, 1) => vec![
            (0..px)
                .map(|i| {
                    let p = &img.data[i * c..i * c + 3];
                    (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) as f32
                })
                .collect(),
        ],
        _ => (0..3).map(plane).collect(),
    }
}

/// Output `(height, width)` with the shorter edge `size` and the longer edge rounded half up.
pub fn resized_shape(height: usize, width: usize, size: u32) -> (usize, usize) {
    let s = size as usize;
    if height <= width {
        (s, (2 * width * s + height) / (2 * height))
    } else {
        ((2 * height * s + width) / (2 * width), s)
    }
}

/// Step 3 on one plane: resize (Triangle on f32) and centre-crop to `size × size`.
pub fn resize_crop(plane: &[f32], width: usize, height: usize, size: u32) -> Vec<f32> {
    let (nh, nw) = resized_shape(height, width, size);
    let s = size as usize;
    let (top, left) = ((nh - s) / 2, (nw - s) / 2);
    let crop = |src: &[f32], w: usize| -> Vec<f32> {
        let mut out = Vec::with_capacity(s * s);
        for y in top..top + s {
            out.extend_from_slice(&src[y * w + left..y * w + left + s]);
        }
        out
    };
    if (nh, nw) == (height, width) {
        return crop(plane, width);
    }
    // The plane was built from a decoded image of exactly width × height values.
    let buf: ImageBuffer<Luma<f32>, Vec<f32>> =
        ImageBuffer::from_raw(width as u32, height as u32, plane.to_vec())
            .unwrap_or_else(|| ImageBuffer::new(width as u32, height as u32));
    let resized = image::imageops::resize(
        &buf,
        nw as u32,
        nh as u32,
        image::imageops::FilterType::Triangle,
    );
    crop(resized.as_raw(), nw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorter_edge_becomes_size_and_longer_rounds_half_up() {
        assert_eq!(resized_shape(512, 512, 128), (128, 128));
        assert_eq!(resized_shape(885, 1036, 128), (128, 150)); // 149.84
        assert_eq!(resized_shape(4, 6, 3), (3, 5)); // 4.5 rounds up
        assert_eq!(resized_shape(6, 4, 3), (5, 3));
    }

    #[test]
    fn gray_weights_alpha_and_repeat() {
        let img = Decoded {
            height: 1,
            width: 1,
            channels: 4,
            data: vec![1.0, 0.5, 0.0, 0.2],
        };
        let g = to_channels(&img, 1);
        assert!((g[0][0] - (0.299 + 0.587 * 0.5) as f32).abs() < 1e-7);
        let gray = Decoded {
            height: 1,
            width: 2,
            channels: 1,
            data: vec![0.25, 0.75],
        };
        assert_eq!(to_channels(&gray, 3), vec![vec![0.25, 0.75]; 3]);
    }

    #[test]
    fn constant_image_stays_constant_and_is_normalised() {
        let p = Preprocessor {
            size: 4,
            channels: 1,
            mean: vec![0.5],
            std: vec![0.25],
        };
        let img = Decoded {
            height: 7,
            width: 9,
            channels: 1,
            data: vec![0.75; 63],
        };
        let mut out = Vec::new();
        p.apply(&img, &mut out);
        assert_eq!(out.len(), 16);
        assert!(out.iter().all(|v| (v - 1.0).abs() < 1e-6), "{out:?}");
    }
}
