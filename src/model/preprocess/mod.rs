/*!
Image preprocessing, step for step as docs/formats.md §2.1 and the Python reference
`eclip_model.transform` define it, so that Rust and Python feed the encoders the same tensor
(checked by `tests/parity.rs`).

1. decode: file bytes → the decoder's native samples (a per-thread reusable byte buffer). PNG/JPEG go
   through the `image` crate's decoders; DICOM through `dicom-pixeldata` (frame 0; modality LUT =
   rescale slope/intercept; VOI = the first VOI LUT Sequence item when the file has one, else the
   first Window Center/Width with its VOI LUT Function, else the min–max of the frame; `MONOCHROME1`
   inverted; values in f64 as pydicom; JPEG 2000 through the pure-Rust `openjp2`).
2. channels, straight into f32 planes (reused per thread): 8-bit `v / 255` and 16-bit `v / 65535`
   computed in f64 and rounded once to f32 (a 256-entry table for 8 bit); alpha dropped; RGB → gray as
   `0.299 R + 0.587 G + 0.114 B` in f64 for one channel; gray is resized once and repeated for three.
3. resize so the shorter edge is `size` (longer edge rounded half up; truncated for the library
   rules), then a centre crop; only the cropped outputs are computed. The rules ([`Resize`]):
   - `shortest_edge_bilinear_center_crop`: the `image` crate's `Triangle` filter on f32 (the same
     antialiased bilinear kernel as PIL's `BILINEAR`; vertical pass then horizontal, f32 weights and
     sums, clamped to [0, 1]) — re-implemented here operation for operation so the result is
     bit-identical to `image::imageops::resize` (a unit test holds it to that) without its per-call
     four-channel temporaries;
   - `shortest_edge_bicubic_center_crop`: PIL's antialiased `BICUBIC` (a = −0.5) on mode `F`, as
     Pillow's `Resample.c` computes it ([`pillow::resample_f32`]: f64 weights and sums, f32
     intermediate, no clamping);
   - the library rules `open_clip_bicubic_center_crop` / `hf_bicubic_center_crop`: 8-bit images are
     decoded into u8 planes and resized on Pillow's 8-bit path ([`pillow::resample_u8`]), then
     scaled by 1/255; other images take the mode-`F` bicubic. The resized shape truncates the longer
     edge and the crop offset follows the library ([`shape_for`], [`crop_offset`]).
4. normalise per channel with the model's mean/std, in f32.

Memory: every buffer that scales with the input (file bytes, decoded samples, f32 planes, the
resize intermediate) lives in a per-thread [`Scratch`] that is reused, so a run does not map and
fault in fresh pages for every radiograph; the process keeps glibc's default allocator.
*/
use std::cell::RefCell;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ColorType, ImageDecoder};

use super::spec::{ImageSpec, Resize};

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

/// The preprocessing of one model (the `image` section of `model.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessor {
    pub size: u32,
    pub channels: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub resize: Resize,
}

/// Per-thread buffers reused from image to image (see the module docs).
#[derive(Default)]
pub struct Scratch {
    /// File contents.
    pub bytes: Vec<u8>,
    /// Decoded samples as the decoder writes them.
    raw: Vec<u8>,
    /// f32 planes in [0, 1], `height × width` each.
    planes: [Vec<f32>; 3],
    /// Resize intermediate.
    tmp: Vec<f32>,
    /// One resized plane, `size × size`.
    plane_out: Vec<f32>,
    /// 8-bit planes (library rules on 8-bit images), their resize intermediate and output.
    planes8: [Vec<u8>; 3],
    tmp8: Vec<u8>,
    out8: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's [`Scratch`].
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

/// Decoded f32 planes (in the scratch) and their shape.
struct Planes {
    height: usize,
    width: usize,
    /// The stored `(height, width)`; differs from the planes' for a JPEG decoded at a reduced DCT
    /// scale (fast rules), and the output geometry follows it.
    full: (usize, usize),
    /// Distinct planes held in `Scratch::planes` (or `planes8`): 1 (gray, repeated when 3 are
    /// wanted) or 3.
    count: usize,
    /// Whether the planes are the decoder's 8-bit samples in `Scratch::planes8` (`f32` planes are
    /// then not filled).
    eight: bool,
}

impl Preprocessor {
    pub fn from_spec(spec: &ImageSpec) -> Self {
        Preprocessor {
            size: spec.size,
            channels: spec.channels,
            mean: spec.mean.clone(),
            std: spec.std.clone(),
            resize: spec.resize_rule(),
        }
    }

    /// Elements of one preprocessed image: `channels × size × size`.
    pub fn tensor_len(&self) -> usize {
        self.channels * (self.size as usize) * (self.size as usize)
    }

    /// A stable description that goes into cache keys: any change here invalidates cached images.
    /// `dicom-voi-lut`: DICOM decoding applies the VOI LUT Sequence first (older caches windowed
    /// such files); `pillow13`: the bicubic rules follow Pillow 13's pass order (older caches of tall
    /// or upscaled images differ at rounding level).
    pub fn cache_tag(&self) -> String {
        format!(
            "pre-v1;{}{};dicom-voi-lut;size={};channels={};mean={:?};std={:?}",
            self.resize.name(),
            if self.resize.bicubic() {
                ";pillow13"
            } else {
                ""
            },
            self.size,
            self.channels,
            self.mean,
            self.std
        )
    }

    /// Decode and preprocess one file (read here).
    pub fn load(&self, path: &Path) -> Result<Vec<f32>, ImageError> {
        let mut out = vec![0.0; self.tensor_len()];
        with_scratch(|s| {
            let mut bytes = std::mem::take(&mut s.bytes);
            let read = read_into(path, &mut bytes);
            let r = read.and_then(|()| self.preprocess_into(path, &bytes, s, &mut out));
            s.bytes = bytes;
            r
        })?;
        Ok(out)
    }

    /// All four steps on a file's `bytes` (already read; `path` names it and picks DICOM by
    /// extension), written to `out` (`tensor_len()` values, normalised).
    pub fn preprocess_into(
        &self,
        path: &Path,
        bytes: &[u8],
        s: &mut Scratch,
        out: &mut [f32],
    ) -> Result<(), ImageError> {
        self.unnormalized_into(path, bytes, s, out)?;
        let plane_len = (self.size as usize) * (self.size as usize);
        for (c, chunk) in out.chunks_mut(plane_len).enumerate() {
            let (m, sd) = (self.mean[c], self.std[c]);
            for x in chunk {
                *x = (*x - m) / sd;
            }
        }
        Ok(())
    }

    /// Steps 1–3: `channels × size × size` floats in [0, 1] (bicubic may overshoot slightly).
    pub fn unnormalized_into(
        &self,
        path: &Path,
        bytes: &[u8],
        s: &mut Scratch,
        out: &mut [f32],
    ) -> Result<(), ImageError> {
        assert_eq!(out.len(), self.tensor_len(), "output slice of one image");
        let fast = self.resize.reduces();
        let p = decode_planes(
            path,
            bytes,
            self.channels,
            fast.then_some(self.size),
            self.resize.eight_bit(),
            s,
        )?;
        // The output geometry follows the stored image, also when a JPEG was decoded smaller.
        let target = shape_for(self.resize.geometry(), p.full.0, p.full.1, self.size);
        let plane_len = (self.size as usize) * (self.size as usize);
        if p.eight {
            let lut = lut8();
            let (mut tmp, mut resized) = (std::mem::take(&mut s.tmp8), std::mem::take(&mut s.out8));
            for c in 0..p.count {
                let plane = &s.planes8[c][..p.height * p.width];
                resize_crop_u8(
                    plane,
                    p.width,
                    p.height,
                    target,
                    self.size,
                    self.resize,
                    &mut tmp,
                    &mut resized,
                );
                for (o, v) in out[c * plane_len..(c + 1) * plane_len]
                    .iter_mut()
                    .zip(&resized)
                {
                    *o = lut[usize::from(*v)] as f32;
                }
            }
            (s.tmp8, s.out8) = (tmp, resized);
        }
        let k = if fast {
            reduce_factor(p.height, p.width, target)
        } else {
            1
        };
        for c in (0..p.count).filter(|_| !p.eight) {
            let mut resized = std::mem::take(&mut s.plane_out);
            let (mut plane, mut w, mut h) = (std::mem::take(&mut s.planes[c]), p.width, p.height);
            if k > 1 {
                let mut reduced = std::mem::take(&mut s.tmp);
                (h, w) = box_reduce(
                    &plane[..p.height * p.width],
                    p.width,
                    p.height,
                    k,
                    &mut reduced,
                );
                s.tmp = std::mem::replace(&mut plane, reduced);
            }
            resize_crop_to(
                &plane[..h * w],
                w,
                h,
                target,
                self.size,
                self.resize,
                &mut s.tmp,
                &mut resized,
            );
            s.planes[c] = plane;
            out[c * plane_len..(c + 1) * plane_len].copy_from_slice(&resized);
            s.plane_out = resized;
        }
        // Gray for a three-channel model: the one resized plane, repeated.
        for c in p.count..self.channels {
            out.copy_within(0..plane_len, c * plane_len);
        }
        Ok(())
    }
}

/// An image file decoded exactly as the embedding path decodes it (steps 1–2: PNG, JPEG, DICOM with
/// its modality LUT, window and `MONOCHROME1`), before any resize: one plane (gray) or three (RGB)
/// of `height × width` values in [0, 1]. For display (the TUI's thumbnails and opened images), so
/// what a user sees is what the model was given.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedImage {
    pub width: usize,
    pub height: usize,
    pub planes: Vec<Vec<f32>>,
}

/// Decodes `path` for display; see [`DecodedImage`]: RGB images keep three planes.
pub fn decode_for_display(path: &Path) -> Result<DecodedImage, ImageError> {
    decode_image(path, 3)
}

/// Decodes `path` (steps 1–2) into planes for a consumer of `channels` channels: with 1, colour
/// images become the one gray plane of step 2 (heatmaps, saliency); with 3, gray stays one plane.
pub fn decode_image(path: &Path, channels: usize) -> Result<DecodedImage, ImageError> {
    with_scratch(|s| {
        let mut bytes = std::mem::take(&mut s.bytes);
        let decoded = read_into(path, &mut bytes).and_then(|()| {
            let p = decode_planes(path, &bytes, channels, None, false, s)?;
            let len = p.height * p.width;
            Ok(DecodedImage {
                width: p.width,
                height: p.height,
                planes: (0..p.count).map(|c| s.planes[c][..len].to_vec()).collect(),
            })
        });
        s.bytes = bytes;
        decoded
    })
}

/// Reads a whole file into `buf` (reused: its capacity is kept).
pub fn read_into(path: &Path, buf: &mut Vec<u8>) -> Result<(), ImageError> {
    use std::io::Read;
    buf.clear();
    let mut f = std::fs::File::open(path)
        .map_err(|e| ImageError::new(path, format!("cannot open image ({e})")))?;
    f.read_to_end(buf)
        .map_err(|e| ImageError::new(path, format!("cannot read image ({e})")))?;
    Ok(())
}

fn is_dicom(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("dcm" | "dicom"))
}

/// `v / 255` in f64, rounded once to f32, for every 8-bit value.
fn lut8() -> &'static [f64; 256] {
    static LUT: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|v| v as f64 / 255.0))
}

/// Steps 1–2: decodes `bytes` into f32 planes in `s.planes` for a model of `channels` channels.
/// `draft`: the resized shape `(nh, nw)` the planes are for, when the fast (`_reduce`) rules may
/// decode a JPEG at a reduced DCT scale. `eight`: keep 8-bit images (gray, or colour for three
/// channels: no float gray conversion) as their 8-bit samples in `s.planes8` (library rules).
fn decode_planes(
    path: &Path,
    bytes: &[u8],
    channels: usize,
    draft: Option<u32>,
    eight: bool,
    s: &mut Scratch,
) -> Result<Planes, ImageError> {
    if is_dicom(path) {
        return decode_dicom(path, bytes, channels, s);
    }
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    if let Ok(f) = image::ImageFormat::from_path(path) {
        reader.set_format(f);
    }
    let reader = reader
        .with_guessed_format()
        .map_err(|e| ImageError::new(path, format!("cannot read image ({e})")))?;
    if reader.format() == Some(image::ImageFormat::Jpeg) && !crate::limits::jpeg_is_complete(bytes)
    {
        return Err(ImageError::new(
            path,
            "truncated or corrupt JPEG (no end-of-image marker after the last scan); \
             re-export or re-download the file",
        ));
    }
    if let Some(size) = draft {
        if reader.format() == Some(image::ImageFormat::Jpeg) {
            if let Some(p) = decode_jpeg_scaled(path, bytes, channels, size, s)? {
                return Ok(p);
            }
        }
    }
    let cannot = |e: image::ImageError| ImageError::new(path, format!("cannot decode image ({e})"));
    let decoder = reader.into_decoder().map_err(cannot)?;
    let (w, h) = decoder.dimensions();
    crate::limits::check_image_pixels(u64::from(w), u64::from(h))
        .map_err(|m| ImageError::new(path, m))?;
    let (width, height) = (w as usize, h as usize);
    let color = decoder.color_type();
    let total = decoder.total_bytes();
    image::Limits::default().reserve(total).map_err(cannot)?;
    s.raw.clear();
    s.raw.resize(total as usize, 0);
    decoder.read_image(&mut s.raw).map_err(cannot)?;
    // (samples per pixel, colour samples, bytes per sample)
    let layout = match color {
        ColorType::L8 => (1, 1, 1),
        ColorType::La8 => (2, 1, 1),
        ColorType::Rgb8 => (3, 3, 1),
        ColorType::Rgba8 => (4, 3, 1),
        ColorType::L16 => (1, 1, 2),
        ColorType::La16 => (2, 1, 2),
        ColorType::Rgb16 => (3, 3, 2),
        ColorType::Rgba16 => (4, 3, 2),
        ColorType::Rgb32F => (3, 3, 4),
        ColorType::Rgba32F => (4, 3, 4),
        other => {
            return Err(ImageError::new(
                path,
                format!("unsupported pixel layout {other:?}"),
            ));
        }
    };
    if s.raw.len() != width * height * layout.0 * layout.2 {
        return Err(ImageError::new(
            path,
            format!(
                "decoder returned {} bytes for {width}x{height} {color:?}",
                s.raw.len()
            ),
        ));
    }
    if eight && layout.2 == 1 && (layout.1 == 1 || channels == 3) {
        return Ok(raw_to_planes8(s, width, height, layout));
    }
    Ok(raw_to_planes(s, width, height, layout, channels))
}

/// 8-bit `s.raw` (`layout` as [`raw_to_planes`], one byte per sample) into u8 planes, alpha dropped.
fn raw_to_planes8(
    s: &mut Scratch,
    width: usize,
    height: usize,
    (spp, colour, _): (usize, usize, usize),
) -> Planes {
    let px = width * height;
    for (k, p) in s.planes8.iter_mut().take(colour).enumerate() {
        p.clear();
        p.extend(s.raw[..px * spp].iter().skip(k).step_by(spp));
    }
    Planes {
        height,
        width,
        full: (height, width),
        count: colour,
        eight: true,
    }
}

/// The largest JPEG DCT scale 1/a (a in 8, 4, 2, 1) with `a <= min(w / nw, h / nh)`: PIL's
/// `Image.draft` rule, so the decoded image is never smaller than the resize target.
pub fn draft_factor(height: usize, width: usize, size: u32) -> usize {
    let (nh, nw) = resized_shape(height, width, size);
    let scale = (width / nw).min(height / nh);
    [8, 4, 2, 1].into_iter().find(|&a| a <= scale).unwrap_or(1)
}

/// A JPEG decoded at the reduced DCT scale of [`draft_factor`] by `jpeg-decoder` (pure Rust;
/// the `image` crate's zune-jpeg has no scaled decoding). `None` for layouts it does not give as
/// 8-bit gray or RGB (the caller then decodes at full size).
fn decode_jpeg_scaled(
    path: &Path,
    bytes: &[u8],
    channels: usize,
    size: u32,
    s: &mut Scratch,
) -> Result<Option<Planes>, ImageError> {
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    let Some(info) = d.read_info().ok().and_then(|()| d.info()) else {
        return Ok(None);
    };
    crate::limits::check_image_pixels(u64::from(info.width), u64::from(info.height))
        .map_err(|m| ImageError::new(path, m))?;
    Ok(jpeg_scaled_pixels(d, info, channels, size, s))
}

/// [`decode_jpeg_scaled`] after the header was read and checked.
fn jpeg_scaled_pixels(
    mut d: jpeg_decoder::Decoder<Cursor<&[u8]>>,
    info: jpeg_decoder::ImageInfo,
    channels: usize,
    size: u32,
    s: &mut Scratch,
) -> Option<Planes> {
    let (full_w, full_h) = (usize::from(info.width), usize::from(info.height));
    let a = draft_factor(full_h, full_w, size);
    if a > 1 {
        d.scale(full_w.div_ceil(a) as u16, full_h.div_ceil(a) as u16)
            .ok()?;
    }
    let info_pf = info.pixel_format;
    let pixels = d.decode().ok()?;
    let info = d.info()?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    let layout = match info_pf {
        jpeg_decoder::PixelFormat::L8 => (1, 1, 1),
        jpeg_decoder::PixelFormat::RGB24 => (3, 3, 1),
        _ => return None,
    };
    if pixels.len() != w * h * layout.0 {
        return None;
    }
    s.raw.clear();
    s.raw.extend_from_slice(&pixels);
    let mut p = raw_to_planes(s, w, h, layout, channels);
    p.full = (full_h, full_w);
    Some(p)
}

/// `s.raw` (`layout` = samples per pixel, colour samples, bytes per sample; native endian) into f32
/// planes in [0, 1].
fn raw_to_planes(
    s: &mut Scratch,
    width: usize,
    height: usize,
    (spp, colour, bps): (usize, usize, usize),
    channels: usize,
) -> Planes {
    let px = width * height;
    let count = if colour == 1 || channels == 1 { 1 } else { 3 };
    for p in s.planes.iter_mut().take(count) {
        p.clear();
        p.resize(px, 0.0);
    }
    let raw = &s.raw;
    // Sample k of pixel i in [0, 1], in f64 exactly as `value / max` (the contract's definition).
    let lut = lut8();
    let sample = |i: usize, k: usize| -> f64 {
        let o = (i * spp + k) * bps;
        match bps {
            1 => lut[raw[o] as usize],
            2 => u16::from_ne_bytes([raw[o], raw[o + 1]]) as f64 / 65535.0,
            _ => f32::from_ne_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]) as f64,
        }
    };
    let [p0, p1, p2] = &mut s.planes;
    if colour == 1 {
        for (i, v) in p0.iter_mut().enumerate() {
            *v = sample(i, 0) as f32;
        }
    } else if count == 1 {
        let [wr, wg, wb] = GRAY_WEIGHTS;
        for (i, v) in p0.iter_mut().enumerate() {
            *v = (wr * sample(i, 0) + wg * sample(i, 1) + wb * sample(i, 2)) as f32;
        }
    } else {
        for i in 0..px {
            p0[i] = sample(i, 0) as f32;
            p1[i] = sample(i, 1) as f32;
            p2[i] = sample(i, 2) as f32;
        }
    }
    Planes {
        height,
        width,
        full: (height, width),
        count,
        eight: false,
    }
}

/// The integer box-reduction factor of the fast rules: `floor(min(w / nw, h / nh) / 2)` (PIL's
/// `reducing_gap = 2`), at least 1.
pub fn reduce_factor(height: usize, width: usize, (nh, nw): (usize, usize)) -> usize {
    let r = (width as f64 / nw as f64).min(height as f64 / nh as f64);
    ((r / 2.0).floor() as usize).max(1)
}

/// Box reduction by `k` (PIL's `Image.reduce(k)` geometry): output `ceil(h / k) × ceil(w / k)`, each
/// value the mean of its `k × k` block (edge blocks: of the pixels they hold), summed in f64.
pub fn box_reduce(
    plane: &[f32],
    width: usize,
    height: usize,
    k: usize,
    out: &mut Vec<f32>,
) -> (usize, usize) {
    let (ow, oh) = (width.div_ceil(k), height.div_ceil(k));
    out.clear();
    out.resize(ow * oh, 0.0);
    let mut acc = vec![0.0f64; ow];
    for oy in 0..oh {
        acc.iter_mut().for_each(|a| *a = 0.0);
        let (y0, y1) = (oy * k, ((oy + 1) * k).min(height));
        for y in y0..y1 {
            let row = &plane[y * width..(y + 1) * width];
            for (ox, a) in acc.iter_mut().enumerate() {
                let (x0, x1) = (ox * k, ((ox + 1) * k).min(width));
                *a += row[x0..x1].iter().map(|v| f64::from(*v)).sum::<f64>();
            }
        }
        for (ox, a) in acc.iter().enumerate() {
            let n = (y1 - y0) * (((ox + 1) * k).min(width) - ox * k);
            out[oy * ow + ox] = (a / n as f64) as f32;
        }
    }
    (oh, ow)
}

/// RGB → gray weights (ITU-R 601, PIL's `L` conversion in float).
pub const GRAY_WEIGHTS: [f64; 3] = [0.299, 0.587, 0.114];

mod dicom;
mod resize;
#[cfg(test)]
mod tests;

use dicom::decode_dicom;
pub use resize::{
    crop_offset, resize_crop_into, resize_crop_to, resize_crop_u8, resized_shape, shape_for,
};
