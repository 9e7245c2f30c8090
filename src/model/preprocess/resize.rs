//! Output geometry and the resize + centre crop of step 3 (see the [module docs](super)): the
//! shapes and crop offsets of every rule, and the rules' resamplers on f32 and u8 planes.
use super::super::pillow::{self, Crop, Filter, Taps};
use super::super::spec::{Geometry, Resize};

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
