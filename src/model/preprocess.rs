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

use super::pillow::{self, Crop, Filter, Taps};
use super::spec::{Geometry, ImageSpec, Resize};

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

fn decode_dicom(
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
    // VOI (grayscale only), as pydicom's `apply_voi_lut` with its default `prefer_lut=True`: the first
    // item of the VOI LUT Sequence when the file has one, else the first Window Center/Width with its
    // VOI LUT Function, else the min–max window of the frame.
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
    let voi = match (spp, lut, first_window) {
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
    };
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

/// The VOI step of DICOM decoding, to [0, 1].
#[derive(Debug, Clone, Copy)]
enum Voi<'a> {
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
    fn apply(self, v: f64) -> f64 {
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

/// Output `(height, width)` with the shorter edge `size` and the longer edge rounded half up.
pub fn resized_shape(height: usize, width: usize, size: u32) -> (usize, usize) {
    let s = size as usize;
    if height <= width {
        (s, (2 * width * s + height) / (2 * height))
    } else {
        ((2 * height * s + width) / (2 * width), s)
    }
}

/// The resized `(height, width)` under `geometry`: the shorter edge `size`, the longer edge rounded
/// half up (the workbench's) or truncated (the libraries' `int(size * long / short)`, exact in
/// integers).
pub fn shape_for(geometry: Geometry, height: usize, width: usize, size: u32) -> (usize, usize) {
    let s = size as usize;
    match geometry {
        Geometry::Workbench => resized_shape(height, width, size),
        Geometry::Torchvision | Geometry::Transformers => {
            if height <= width {
                (s, width * s / height)
            } else {
                (height * s / width, s)
            }
        }
    }
}

/// The centre crop's first row / column of an `edge`-long axis under `geometry`.
pub fn crop_offset(geometry: Geometry, edge: usize, size: usize) -> usize {
    let d = edge - size;
    match geometry {
        Geometry::Workbench | Geometry::Transformers => d / 2,
        // Python's round((edge - size) / 2): a half goes to the even neighbour.
        Geometry::Torchvision => d / 2 + usize::from(d % 2 == 1 && (d / 2) % 2 == 1),
    }
}

/// The crop of `rule` in a resized `(nh, nw)` image.
fn crop_of(rule: Resize, (nh, nw): (usize, usize), s: usize) -> Crop {
    let (top, left) = (
        crop_offset(rule.geometry(), nh, s),
        crop_offset(rule.geometry(), nw, s),
    );
    Crop {
        rows: top..top + s,
        cols: left..left + s,
    }
}

/// Step 3 on one row-major plane: resize by `rule` and centre-crop to `size × size`, into `out`.
/// `tmp` is the reusable intermediate.
pub fn resize_crop_into(
    plane: &[f32],
    width: usize,
    height: usize,
    size: u32,
    rule: Resize,
    tmp: &mut Vec<f32>,
    out: &mut Vec<f32>,
) {
    let target = shape_for(rule.geometry(), height, width, size);
    resize_crop_to(plane, width, height, target, size, rule, tmp, out);
}

/// The window `crop` of a `width`-wide plane, row by row, into `out`.
fn copy_crop<T: Copy>(plane: &[T], width: usize, crop: &Crop, out: &mut Vec<T>) {
    out.clear();
    for y in crop.rows.clone() {
        out.extend_from_slice(&plane[y * width + crop.cols.start..y * width + crop.cols.end]);
    }
}

/// [`resize_crop_into`] to an explicit resized shape `(nh, nw)` (the fast rules resize a reduced
/// plane to the shape of the full image).
#[allow(clippy::too_many_arguments)]
pub fn resize_crop_to(
    plane: &[f32],
    width: usize,
    height: usize,
    (nh, nw): (usize, usize),
    size: u32,
    rule: Resize,
    tmp: &mut Vec<f32>,
    out: &mut Vec<f32>,
) {
    let s = size as usize;
    let crop = crop_of(rule, (nh, nw), s);
    if (nh, nw) == (height, width) {
        return copy_crop(plane, width, &crop, out);
    }
    if rule.bicubic() {
        pillow::resample_f32(
            plane,
            width,
            height,
            (nh, nw),
            &crop,
            Filter::Bicubic,
            tmp,
            out,
        )
    } else {
        let (top, left) = (crop.rows.start, crop.cols.start);
        out.clear();
        triangle_f32(plane, width, height, (nh, nw), (top, left), s, tmp, out)
    }
}

/// Step 3 of a library rule on an 8-bit plane (docs/formats.md §2.1): Pillow's 8-bit resize to
/// `(nh, nw)` and the rule's centre crop, into `out` (`size × size` bytes).
#[allow(clippy::too_many_arguments)]
pub fn resize_crop_u8(
    plane: &[u8],
    width: usize,
    height: usize,
    (nh, nw): (usize, usize),
    size: u32,
    rule: Resize,
    tmp: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    let crop = crop_of(rule, (nh, nw), size as usize);
    if (nh, nw) == (height, width) {
        return copy_crop(plane, width, &crop, out);
    }
    let filter = if rule.bicubic() {
        Filter::Bicubic
    } else {
        Filter::Bilinear
    };
    pillow::resample_u8(plane, width, height, (nh, nw), &crop, filter, tmp, out);
}

/// The `image` crate's sample positions and weights (`imageops::sample`, `Triangle`), in f32.
fn triangle_taps(in_len: usize, out_len: usize, outs: std::ops::Range<usize>) -> Vec<Taps<f32>> {
    let ratio = in_len as f32 / out_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = 1.0 * sratio;
    let kernel = |x: f32| if x.abs() < 1.0 { 1.0 - x.abs() } else { 0.0 };
    outs.map(|o| {
        let input = (o as f32 + 0.5) * ratio;
        let left = ((input - support).floor() as i64).clamp(0, in_len as i64 - 1);
        let right = ((input + support).ceil() as i64).clamp(left + 1, in_len as i64);
        let input = input - 0.5;
        let mut weights = Vec::with_capacity((right - left) as usize);
        let mut sum = 0.0f32;
        for i in left..right {
            let w = kernel((i as f32 - input) / sratio);
            weights.push(w);
            sum += w;
        }
        for w in &mut weights {
            *w /= sum;
        }
        Taps {
            first: left as usize,
            weights,
        }
    })
    .collect()
}

/// `image::imageops::resize(.., Triangle)` on a Luma<f32> plane, restricted to the crop: the
/// vertical pass (rows `top..top+s`, all columns) then the horizontal pass (columns `left..left+s`),
/// each sum accumulated in the same order from 0.0, the result clamped to [0, 1].
#[allow(clippy::too_many_arguments)]
fn triangle_f32(
    plane: &[f32],
    width: usize,
    height: usize,
    (nh, nw): (usize, usize),
    (top, left): (usize, usize),
    s: usize,
    tmp: &mut Vec<f32>,
    out: &mut Vec<f32>,
) {
    let vt = triangle_taps(height, nh, top..top + s);
    tmp.clear();
    tmp.resize(s * width, 0.0);
    for (r, taps) in vt.iter().enumerate() {
        let acc = &mut tmp[r * width..(r + 1) * width];
        for (i, w) in taps.weights.iter().enumerate() {
            let row = &plane[(taps.first + i) * width..(taps.first + i + 1) * width];
            for (a, p) in acc.iter_mut().zip(row) {
                *a += p * w;
            }
        }
    }
    let ht = triangle_taps(width, nw, left..left + s);
    out.resize(s * s, 0.0);
    for r in 0..s {
        let row = &tmp[r * width..(r + 1) * width];
        for (c, taps) in ht.iter().enumerate() {
            let mut t = 0.0f32;
            for (i, w) in taps.weights.iter().enumerate() {
                t += row[taps.first + i] * w;
            }
            // Same as the image crate's clamp (NaN passes through, -0.0 stays -0.0).
            out[r * s + c] = t.clamp(0.0, 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Luma};

    #[test]
    fn shorter_edge_becomes_size_and_longer_rounds_half_up() {
        assert_eq!(resized_shape(512, 512, 128), (128, 128));
        assert_eq!(resized_shape(885, 1036, 128), (128, 150)); // 149.84
        assert_eq!(resized_shape(4, 6, 3), (3, 5)); // 4.5 rounds up
        assert_eq!(resized_shape(6, 4, 3), (5, 3));
    }

    /// The libraries' geometry (values as torchvision / transformers compute them, see
    /// `onnx-export/tests/test_model_transform.py::test_library_rule_geometry`).
    #[test]
    fn library_geometry_truncates_and_rounds_the_crop_like_the_libraries() {
        use Geometry::{Torchvision, Transformers, Workbench};
        assert_eq!(shape_for(Torchvision, 5, 7, 4), (4, 5)); // 5.6 truncates
        assert_eq!(shape_for(Workbench, 5, 7, 4), (4, 6));
        assert_eq!(shape_for(Transformers, 1036, 885, 224), (262, 224));
        assert_eq!(shape_for(Torchvision, 45, 38, 16), (18, 16)); // 18.9
        let tv: Vec<usize> = (0..8)
            .map(|d| crop_offset(Torchvision, 32 + d, 32))
            .collect();
        assert_eq!(tv, [0, 0, 1, 2, 2, 2, 3, 4]); // round(d / 2), halves to even
        let hf: Vec<usize> = (0..8)
            .map(|d| crop_offset(Transformers, 32 + d, 32))
            .collect();
        assert_eq!(hf, [0, 0, 1, 1, 2, 2, 3, 3]);
    }

    /// The 8-bit samples become `v / 255` exactly as torchvision's `ToTensor` computes it in f32.
    #[test]
    fn eight_bit_samples_scale_like_to_tensor() {
        for v in 0..=255u8 {
            assert_eq!(lut8()[usize::from(v)] as f32, f32::from(v) / 255.0, "{v}");
        }
    }

    #[test]
    fn voi_lut_clamps_and_floors_like_pydicom() {
        // pydicom 3.0.2 `apply_voi` on LUTDescriptor [4, 10, 8], LUTData [0, 100, 200, 255] and the
        // inputs below gives [0, 0, 100, 100, 255, 255]: values below `first` take entry 0, floats are
        // floored to an index, values past the table take the last entry.
        let data = [0u16, 100, 200, 255];
        let lut = Voi::Lut {
            first: 10.0,
            max: 255.0,
            data: &data,
        };
        let got: Vec<f64> = [-5.0, 10.9, 11.0, 11.99, 13.0, 1e6]
            .iter()
            .map(|v| lut.apply(*v) * 255.0)
            .collect();
        assert_eq!(got, [0.0, 0.0, 100.0, 100.0, 255.0, 255.0]);
    }

    #[test]
    fn jpeg2000_decodes_and_jpeg_ls_is_refused_by_name() {
        let j2k = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parity/gen_j2k.dcm"),
        )
        .expect("gen_j2k.dcm (make_parity_refs.py)");
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = dir.path().join("j2k.dcm");
        std::fs::write(&ok, &j2k).expect("write");
        let img = decode_image(&ok, 1).expect("JPEG 2000 lossless decodes");
        assert_eq!((img.width, img.height), (50, 61));
        // The same file relabelled JPEG-LS Lossless (a UID of the same length): the decoder must
        // refuse it with an error naming the file and the transfer syntax.
        let (j2k_uid, ls_uid) = (b"1.2.840.10008.1.2.4.90", b"1.2.840.10008.1.2.4.80");
        let at = j2k
            .windows(j2k_uid.len())
            .position(|w| w == j2k_uid)
            .expect("transfer syntax UID in the file meta");
        let mut ls = j2k.clone();
        ls[at..at + ls_uid.len()].copy_from_slice(ls_uid);
        let bad = dir.path().join("ls.dcm");
        std::fs::write(&bad, &ls).expect("write");
        let e = decode_image(&bad, 1)
            .expect_err("JPEG-LS is not decoded here")
            .to_string();
        assert!(
            e.contains("ls.dcm") && e.contains("JPEG-LS Lossless") && e.contains("gdcmconv"),
            "{e}"
        );
    }

    #[test]
    fn fast_rule_factors_and_box_reduce() {
        // PIL's draft rule: the largest of 8, 4, 2, 1 not above min(w / nw, h / nh).
        assert_eq!(draft_factor(2500, 2048, 128), 8); // 2048 / 128 = 16
        assert_eq!(draft_factor(885, 1036, 128), 4); // 885 / 128 = 6.9
        assert_eq!(draft_factor(200, 200, 128), 1);
        assert_eq!(reduce_factor(2500, 2048, (156, 128)), 8);
        assert_eq!(reduce_factor(313, 256, (156, 128)), 1);
        // 3 x 5 plane, k = 2: blocks of 4, 2 (right edge), 2 (bottom edge) and 1 pixels.
        let p = [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
        ];
        let mut out = Vec::new();
        assert_eq!(box_reduce(&p, 5, 3, 2, &mut out), (2, 3));
        assert_eq!(out, vec![4.0, 6.0, 7.5, 11.5, 13.5, 15.0]);
    }

    /// A deterministic test plane with smooth structure plus pixel noise.
    fn plane(w: usize, h: usize, seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..w * h)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = (x >> 40) as f32 / (1u64 << 24) as f32;
                let (r, c) = ((i / w) as f32, (i % w) as f32);
                (0.5 + 0.3 * (r * 0.05).sin() * (c * 0.07).cos() + 0.2 * (noise - 0.5))
                    .clamp(0.0, 1.0)
            })
            .collect()
    }

    /// The re-implemented bilinear path is bit-identical to `image::imageops::resize` + crop (the
    /// pre-v1 contract's implementation), downscaling, upscaling and one-axis cases.
    #[test]
    fn bilinear_is_bit_identical_to_the_image_crate() {
        for (w, h, size) in [
            (300, 257, 64),
            (257, 300, 64),
            (90, 71, 128),
            (1036, 885, 128),
            (64, 40, 64),
            (40, 64, 40),
            (129, 128, 128),
        ] {
            let p = plane(w, h, (w * h) as u64);
            let (nh, nw) = resized_shape(h, w, size);
            let buf: ImageBuffer<Luma<f32>, Vec<f32>> =
                ImageBuffer::from_raw(w as u32, h as u32, p.clone()).unwrap();
            let full = image::imageops::resize(
                &buf,
                nw as u32,
                nh as u32,
                image::imageops::FilterType::Triangle,
            );
            let s = size as usize;
            let (top, left) = ((nh - s) / 2, (nw - s) / 2);
            let want: Vec<u32> = (top..top + s)
                .flat_map(|y| full.as_raw()[y * nw + left..y * nw + left + s].to_vec())
                .map(f32::to_bits)
                .collect();
            let (mut tmp, mut out) = (Vec::new(), Vec::new());
            resize_crop_into(&p, w, h, size, Resize::Bilinear, &mut tmp, &mut out);
            let got: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
            assert!(got == want, "{w}x{h} -> {size}: not bit-identical");
        }
    }

    /// Bicubic against Pillow 13.0.0 (values printed by
    /// `np.asarray(Image.fromarray(a, "F").resize((nw, nh), Image.BICUBIC))` with
    /// `a[r, c] = ((7 r + 3 c) % 11) / 10` as float32): a downscale 13x9 -> 7x5 and an upscale
    /// 5x3 -> 10x6 (overshooting below 0, which PIL does not clamp), then the centre crop.
    #[test]
    fn bicubic_matches_pillow() {
        let cases: [(usize, usize, u32, usize, &[f32]); 2] = [
            (13, 9, 5, 7, &PIL_13X9_TO_7X5),
            (5, 3, 6, 10, &PIL_5X3_TO_10X6),
        ];
        for (w, h, size, nw, full) in cases {
            let p: Vec<f32> = (0..h)
                .flat_map(|r| (0..w).map(move |c| ((r * 7 + c * 3) % 11) as f32 / 10.0))
                .collect();
            let s = size as usize;
            let left = (nw - s) / 2;
            let (mut tmp, mut out) = (Vec::new(), Vec::new());
            resize_crop_into(&p, w, h, size, Resize::Bicubic, &mut tmp, &mut out);
            for r in 0..s {
                for c in 0..s {
                    let (g, want) = (out[r * s + c], full[r * nw + left + c]);
                    assert!(
                        (g - want).abs() <= 1e-7,
                        "{w}x{h} ({r},{c}): {g} vs PIL {want}"
                    );
                }
            }
        }
    }
    #[allow(clippy::excessive_precision)]
    const PIL_13X9_TO_7X5: [f32; 35] = [
        0.4504435062408447,
        0.5735228061676025,
        0.4110504686832428,
        0.5215871334075928,
        0.5886956453323364,
        0.4309837222099304,
        0.49066752195358276,
        0.6043374538421631,
        0.5329301357269287,
        0.37266290187835693,
        0.6200866103172302,
        0.485729843378067,
        0.4141412675380707,
        0.5673920512199402,
        0.6074858903884888,
        0.40130460262298584,
        0.5134251117706299,
        0.5623485445976257,
        0.4492170512676239,
        0.4631698727607727,
        0.6306838393211365,
        0.48927274346351624,
        0.4064166843891144,
        0.5877640843391418,
        0.5200390219688416,
        0.37901753187179565,
        0.6135587096214294,
        0.4844413101673126,
        0.420403391122818,
        0.5149303674697876,
        0.5676321387290955,
        0.4366026222705841,
        0.4435581564903259,
        0.6088508367538452,
        0.4425445795059204,
    ];
    #[allow(clippy::excessive_precision)]
    const PIL_5X3_TO_10X6: [f32; 60] = [
        -0.0882352888584137,
        -0.013525119051337242,
        0.14454424381256104,
        0.3329504132270813,
        0.540579080581665,
        0.7451746463775635,
        0.9467371106147766,
        0.7573192715644836,
        0.2150493711233139,
        -0.04091695323586464,
        0.11513524502515793,
        0.19706964492797852,
        0.3705800473690033,
        0.46874430775642395,
        0.47936248779296875,
        0.5931683778762817,
        0.8101619482040405,
        0.7242268919944763,
        0.3609089255332947,
        0.18943753838539124,
        0.5460484623908997,
        0.6432941555976868,
        0.8495308756828308,
        0.7564229369163513,
        0.34946921467781067,
        0.27098044753074646,
        0.5209565758705139,
        0.6543383002281189,
        0.6700228452682495,
        0.6775034070014954,
        0.6330713629722595,
        0.7303170561790466,
        0.9365537762641907,
        0.8509243726730347,
        0.458927720785141,
        0.285710871219635,
        0.3312738537788391,
        0.4709923565387726,
        0.6895024180412292,
        0.7926807403564453,
        0.3647702932357788,
        0.4467046856880188,
        0.620215117931366,
        0.7398324012756348,
        0.7933565378189087,
        0.6354242563247681,
        0.2660355865955353,
        0.1982782632112503,
        0.41678833961486816,
        0.5198368430137634,
        0.23823529481887817,
        0.31294548511505127,
        0.4710148572921753,
        0.6874770522117615,
        0.9512178301811218,
        0.8004365563392639,
        0.23513326048851013,
        0.06948810815811157,
        0.28812795877456665,
        0.3911764919757843,
    ];
}
