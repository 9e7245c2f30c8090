/*!
Pillow's resampling (`src/libImaging/Resample.c`, `Image.resize` with a `BILINEAR` or `BICUBIC`
filter), as the CLIP libraries apply it, on one plane and restricted to a crop of the output (only
the cropped outputs are computed; each output depends on its own taps only, so the values are those
of the full resize).

- Coefficients ([`coeffs`], Pillow's `precompute_coeffs`): scale = in / out, filter scale =
  max(scale, 1) (antialiasing: the kernel widens when downscaling), support = filter support × filter
  scale, centre = (o + 0.5) × scale, taps `(int)(centre ± support + 0.5)` clamped to the input,
  weights `filter((i − centre + 0.5) / filterscale)` in f64, divided by their sum.
- Mode `F` ([`resample_f32`]): sums in f64, each pass stored as f32, no clamping.
- 8-bit modes `L` / `RGB` ([`resample_u8`]; each band of an RGB image is computed like an `L` plane):
  the weights become fixed point with `PRECISION_BITS = 32 − 8 − 2 = 22` fractional bits, rounded half
  away from zero (`normalize_coeffs_8bpc`); every output is `clip8(2^21 + Σ v·k)`: the sum shifted
  right by 22 (arithmetic, so this rounds half up) and clamped to 0..=255. The horizontal pass comes
  first and is rounded to u8 before the vertical pass reads it.
- Passes: horizontal first, over the input rows the vertical pass needs, skipped when the width is
  unchanged; then vertical, skipped when the height is unchanged (`ImagingResampleInner`).
*/
use std::ops::Range;

/// Pillow's fractional bits for 8-bit resampling: 8 bits of result, 2 for overshoot and sign.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// A Pillow filter: its kernel and support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `Image.BILINEAR` (triangle, support 1).
    Bilinear,
    /// `Image.BICUBIC` (Keys cubic with a = −0.5, support 2).
    Bicubic,
}

impl Filter {
    fn support(self) -> f64 {
        match self {
            Filter::Bilinear => 1.0,
            Filter::Bicubic => 2.0,
        }
    }

    fn eval(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Filter::Bilinear => {
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Filter::Bicubic => {
                const A: f64 = -0.5;
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
        }
    }
}

/// One output sample's window into the input: first index and weights.
pub(crate) struct Taps<W> {
    pub(crate) first: usize,
    pub(crate) weights: Vec<W>,
}

/// Pillow's `precompute_coeffs` for resizing `in_len` samples to `out_len`, outputs `outs` only.
pub(crate) fn coeffs(
    filter: Filter,
    in_len: usize,
    out_len: usize,
    outs: Range<usize>,
) -> Vec<Taps<f64>> {
    let scale = in_len as f64 / out_len as f64;
    let filterscale = if scale < 1.0 { 1.0 } else { scale };
    let support = filter.support() * filterscale;
    let ss = 1.0 / filterscale;
    outs.map(|o| {
        let center = (o as f64 + 0.5) * scale;
        // C's (int) truncates toward zero, like `as`.
        let xmin = ((center - support + 0.5) as i64).max(0);
        let xmax = ((center + support + 0.5) as i64).min(in_len as i64) - xmin;
        let mut weights = Vec::with_capacity(xmax.max(0) as usize);
        let mut ww = 0.0;
        for x in 0..xmax {
            let w = filter.eval((x as f64 + xmin as f64 - center + 0.5) * ss);
            weights.push(w);
            ww += w;
        }
        if ww != 0.0 {
            for w in &mut weights {
                *w /= ww;
            }
        }
        Taps {
            first: xmin as usize,
            weights,
        }
    })
    .collect()
}

/// Pillow's `normalize_coeffs_8bpc`: weights in fixed point with [`PRECISION_BITS`] fractional bits,
/// rounded half away from zero (C's `(int)(w * 2^22 ± 0.5)`).
fn fixed(taps: Vec<Taps<f64>>) -> Vec<Taps<i32>> {
    let one = f64::from(1u32 << PRECISION_BITS);
    taps.into_iter()
        .map(|t| Taps {
            first: t.first,
            weights: t
                .weights
                .iter()
                .map(|&w| {
                    if w < 0.0 {
                        (-0.5 + w * one) as i32
                    } else {
                        (0.5 + w * one) as i32
                    }
                })
                .collect(),
        })
        .collect()
}

/// Pillow's `clip8` of an accumulated sum (which started at `2^(PRECISION_BITS - 1)`).
fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The input range the taps read (`default` when there is no pass on that axis).
fn span<W>(taps: Option<&[Taps<W>]>, default: &Range<usize>) -> Range<usize> {
    match taps {
        Some(t) => {
            let lo = t.iter().map(|t| t.first).min().unwrap_or(0);
            let hi = t
                .iter()
                .map(|t| t.first + t.weights.len())
                .max()
                .unwrap_or(0);
            lo..hi
        }
        None => default.clone(),
    }
}

/// The cropped region of a resize: output rows `rows` and columns `cols` of the `(nh, nw)` image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Crop {
    pub(crate) rows: Range<usize>,
    pub(crate) cols: Range<usize>,
}

/// The arithmetic of one sample type: how a pass accumulates and stores.
trait Sample: Copy + Default {
    type Weight: Copy;
    type Acc: Copy;
    fn taps(
        filter: Filter,
        in_len: usize,
        out_len: usize,
        outs: Range<usize>,
    ) -> Vec<Taps<Self::Weight>>;
    fn start() -> Self::Acc;
    fn add(acc: Self::Acc, v: Self, w: Self::Weight) -> Self::Acc;
    fn store(acc: Self::Acc) -> Self;
}

impl Sample for f32 {
    type Weight = f64;
    type Acc = f64;
    fn taps(f: Filter, i: usize, o: usize, outs: Range<usize>) -> Vec<Taps<f64>> {
        coeffs(f, i, o, outs)
    }
    fn start() -> f64 {
        0.0
    }
    fn add(acc: f64, v: f32, w: f64) -> f64 {
        acc + f64::from(v) * w
    }
    fn store(acc: f64) -> f32 {
        acc as f32
    }
}

impl Sample for u8 {
    type Weight = i32;
    type Acc = i64;
    fn taps(f: Filter, i: usize, o: usize, outs: Range<usize>) -> Vec<Taps<i32>> {
        fixed(coeffs(f, i, o, outs))
    }
    fn start() -> i64 {
        1 << (PRECISION_BITS - 1)
    }
    fn add(acc: i64, v: u8, w: i32) -> i64 {
        acc + i64::from(v) * i64::from(w)
    }
    fn store(acc: i64) -> u8 {
        clip8(acc)
    }
}

/// Whether Pillow (13) runs the vertical pass first: when both passes are needed, the height shrinks
/// and it shrinks by more than twice as many pixels as the width (`ImagingResampleInner`;
/// Pillow 12 and earlier always go horizontal first).
pub(crate) fn vertical_first(width: usize, height: usize, (nh, nw): (usize, usize)) -> bool {
    nw != width && nh < height && (height - nh) as i64 > 2 * (width as i64 - nw as i64)
}

/// The horizontal pass over rows `rows` of a `src_w`-wide `src`: the taps (their `first` shifted
/// down by `shift`) or, without a pass, a copy of the columns `cols`; appended row by row to `dst`.
fn pass_h<T: Sample>(
    src: &[T],
    src_w: usize,
    rows: Range<usize>,
    cols: &Range<usize>,
    taps: Option<&[Taps<T::Weight>]>,
    shift: usize,
    dst: &mut Vec<T>,
) {
    dst.clear();
    for y in rows {
        let row = &src[y * src_w..(y + 1) * src_w];
        match taps {
            Some(ts) => dst.extend(ts.iter().map(|t| {
                let mut acc = T::start();
                for (v, w) in row[t.first - shift..].iter().zip(&t.weights) {
                    acc = T::add(acc, *v, *w);
                }
                T::store(acc)
            })),
            None => dst.extend_from_slice(&row[cols.clone()]),
        }
    }
}

/// The vertical pass over the columns `cols` of a `src_w`-wide `src`: the taps (their `first`
/// shifted down by `shift`) or, without a pass, a copy of the rows `rows`; into `dst`.
fn pass_v<T: Sample>(
    src: &[T],
    src_w: usize,
    cols: Range<usize>,
    rows: &Range<usize>,
    taps: Option<&[Taps<T::Weight>]>,
    shift: usize,
    dst: &mut Vec<T>,
) {
    dst.clear();
    let line = |y: usize| &src[y * src_w + cols.start..y * src_w + cols.end];
    match taps {
        Some(ts) => {
            let mut acc = vec![T::start(); cols.len()];
            for t in ts {
                acc.iter_mut().for_each(|a| *a = T::start());
                for (i, w) in t.weights.iter().enumerate() {
                    for (a, p) in acc.iter_mut().zip(line(t.first + i - shift)) {
                        *a = T::add(*a, *p, *w);
                    }
                }
                dst.extend(acc.iter().map(|a| T::store(*a)));
            }
        }
        None => rows.clone().for_each(|y| dst.extend_from_slice(line(y))),
    }
}

/// `Image.resize((nw, nh), filter)` of a `width × height` plane, restricted to `crop`, into `out`
/// (`crop.rows.len() × crop.cols.len()`, row-major). `tmp` is the reusable intermediate.
#[allow(clippy::too_many_arguments)]
fn resample<T: Sample>(
    plane: &[T],
    width: usize,
    height: usize,
    (nh, nw): (usize, usize),
    crop: &Crop,
    filter: Filter,
    tmp: &mut Vec<T>,
    out: &mut Vec<T>,
) {
    let ht = (nw != width).then(|| T::taps(filter, width, nw, crop.cols.clone()));
    let vt = (nh != height).then(|| T::taps(filter, height, nh, crop.rows.clone()));
    let (ow, oh) = (crop.cols.len(), crop.rows.len());
    if vertical_first(width, height, (nh, nw)) {
        // tmp: the output rows over the input columns the horizontal taps read.
        let cs = span(ht.as_deref(), &crop.cols);
        let tw = cs.len();
        pass_v(plane, width, cs.clone(), &crop.rows, vt.as_deref(), 0, tmp);
        pass_h(tmp, tw, 0..oh, &(0..tw), ht.as_deref(), cs.start, out);
    } else {
        // tmp: the input rows the vertical taps read, over the output columns.
        let rs = span(vt.as_deref(), &crop.rows);
        let r0 = rs.start;
        pass_h(plane, width, rs, &crop.cols, ht.as_deref(), 0, tmp);
        // Without a vertical pass tmp holds exactly the cropped rows.
        pass_v(tmp, ow, 0..ow, &(0..oh), vt.as_deref(), r0, out);
    }
}

/// Pillow's resize of a mode `F` plane (f64 sums, f32 between passes, no clamping), cropped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resample_f32(
    plane: &[f32],
    width: usize,
    height: usize,
    shape: (usize, usize),
    crop: &Crop,
    filter: Filter,
    tmp: &mut Vec<f32>,
    out: &mut Vec<f32>,
) {
    resample(plane, width, height, shape, crop, filter, tmp, out);
}

/// Pillow's resize of an 8-bit plane (mode `L`, or one band of `RGB`): fixed-point weights, each
/// pass rounded and clamped to u8 (module docs), cropped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn resample_u8(
    plane: &[u8],
    width: usize,
    height: usize,
    shape: (usize, usize),
    crop: &Crop,
    filter: Filter,
    tmp: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    resample(plane, width, height, shape, crop, filter, tmp, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full resize (no crop) of an 8-bit plane.
    fn resize_u8(p: &[u8], w: usize, h: usize, nw: usize, nh: usize, f: Filter) -> Vec<u8> {
        let crop = Crop {
            rows: 0..nh,
            cols: 0..nw,
        };
        let (mut tmp, mut out) = (Vec::new(), Vec::new());
        resample_u8(p, w, h, (nh, nw), &crop, f, &mut tmp, &mut out);
        out
    }

    #[test]
    fn fixed_point_rounds_half_away_from_zero_and_clip8_floors() {
        let t = fixed(vec![Taps {
            first: 0,
            weights: vec![0.5, -0.25, 1.0 / 3.0, -1.0 / 3.0],
        }]);
        // 1/3 * 2^22 = 1398101.33 -> 1398101; -1/3 -> -1398101; halves are exact.
        assert_eq!(t[0].weights, vec![2097152, -1048576, 1398101, -1398101]);
        assert_eq!(clip8((1 << 21) + 254 * (1 << 22)), 254);
        assert_eq!(clip8((1 << 22) * 256), 255);
        assert_eq!(clip8(-1), 0);
        assert_eq!(clip8((1 << 22) - 1), 0);
        assert_eq!(clip8(1 << 22), 1);
    }

    /// A plane of `a[r, c] = (r * 37 + c * 101 + (r * c) % 13 * 17) % 256`, the input of
    /// `onnx-export/scripts/pillow_resample_refs.py`.
    fn pattern(w: usize, h: usize) -> Vec<u8> {
        (0..h)
            .flat_map(|r| (0..w).map(move |c| ((r * 37 + c * 101 + (r * c) % 13 * 17) % 256) as u8))
            .collect()
    }

    /// FNV-1a 64 of a byte string (the script prints the same hash).
    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
        })
    }

    /// `(w, h, nw, nh, filter, FNV-1a of the output bytes, their sum, the first six)`.
    type Case8 = (usize, usize, usize, usize, Filter, u64, u64, [u8; 6]);

    /// Bit-exact against Pillow 13.0.0: `onnx-export/scripts/pillow_resample_refs.py` resizes
    /// [`pattern`] planes with `Image.fromarray(a, "L").resize((nw, nh), filter)` and prints the
    /// FNV-1a hash of the output bytes, their sum and the first values (down- and upscaling, odd
    /// sizes, one axis only, both filters).
    #[test]
    fn u8_resize_is_bit_exact_to_pillow() {
        use Filter::{Bicubic, Bilinear};
        #[rustfmt::skip]
        let cases: [Case8; 16] = [
            // Pillow 13.0.0: mode L
            (13, 9, 7, 5, Bicubic, 0x9256c5d6bdbcce70, 4079, [74, 113, 175, 167, 123, 156]),
            (5, 3, 10, 6, Bicubic, 0x792b39f128d9ba49, 7152, [0, 13, 66, 132, 209, 188]),
            (97, 61, 40, 25, Bicubic, 0xc6fcb19d3ef99f4c, 127509, [91, 144, 171, 124, 136, 126]),
            (31, 44, 70, 100, Bicubic, 0x7b96fddcd125fe68, 867163, [0, 6, 48, 101, 175, 220]),
            (50, 50, 50, 23, Bicubic, 0x6f6297fb0ac4eeea, 143557, [24, 148, 98, 115, 188, 195]),
            (64, 40, 17, 40, Bicubic, 0x656c0981b86a02da, 85271, [100, 155, 141, 133, 131, 129]),
            (512, 512, 32, 32, Bicubic, 0xee74f0ffb82eaa9f, 130576, [120, 125, 130, 129, 133, 133]),
            (300, 257, 262, 224, Bicubic, 0x2a0591fc0619df2e, 7478359, [12, 130, 131, 98, 220, 139]),
            (2, 7, 9, 3, Bicubic, 0x5ce04f491a1655f3, 3078, [13, 19, 31, 56, 88, 120]),
            (60, 122, 30, 61, Bicubic, 0x92b101129d2fb040, 233663, [82, 119, 185, 150, 129, 146]),
            (60, 120, 30, 60, Bicubic, 0x76a0a4da2e4fef29, 229728, [82, 119, 185, 150, 129, 146]),
            (150, 211, 50, 10, Bicubic, 0xc9f4a2e86a551ce5, 63926, [124, 124, 124, 107, 117, 124]),
            (40, 40, 41, 20, Bicubic, 0x68e17f490b2aee90, 101303, [19, 141, 106, 105, 184, 195]),
            (97, 61, 40, 25, Bilinear, 0x80636103da2640c4, 127519, [97, 141, 163, 128, 137, 125]),
            (31, 44, 70, 100, Bilinear, 0xd57e89d6663fea73, 867054, [0, 17, 61, 106, 151, 196]),
            (512, 512, 32, 32, Bilinear, 0x8a46c32aec2d30f4, 130613, [120, 124, 130, 130, 133, 133]),
        ];
        for (w, h, nw, nh, f, hash, sum, first) in cases {
            let got = resize_u8(&pattern(w, h), w, h, nw, nh, f);
            assert_eq!(got.len(), nw * nh);
            assert_eq!(
                &got[..6],
                &first,
                "{w}x{h} -> {nw}x{nh} {f:?}: first values"
            );
            let s: u64 = got.iter().map(|v| u64::from(*v)).sum();
            assert_eq!(s, sum, "{w}x{h} -> {nw}x{nh} {f:?}: sum");
            assert_eq!(fnv1a(&got), hash, "{w}x{h} -> {nw}x{nh} {f:?}: bytes");
        }
    }

    /// Mode `F` bit-exact against Pillow 13.0.0 (same script, the [`pattern`] planes / 255 as f32:
    /// FNV-1a 64 of the little-endian f32 output bytes).
    #[test]
    fn f32_resize_is_bit_exact_to_pillow() {
        use Filter::{Bicubic, Bilinear};
        #[rustfmt::skip]
        let cases: [(usize, usize, usize, usize, Filter, u64); 16] = [
            // Pillow 13.0.0: mode F, input pattern / 255 as float32
            (13, 9, 7, 5, Bicubic, 0x9fdd2681c293db5b),
            (5, 3, 10, 6, Bicubic, 0xbd7077e58c2a5f68),
            (97, 61, 40, 25, Bicubic, 0xebc0ddd76a307149),
            (31, 44, 70, 100, Bicubic, 0xd2091b8c2c2b39af),
            (50, 50, 50, 23, Bicubic, 0x8bc7769dc6632865),
            (64, 40, 17, 40, Bicubic, 0xdc89d793cdbb7c2e),
            (512, 512, 32, 32, Bicubic, 0x4bbe2bea30f7e858),
            (300, 257, 262, 224, Bicubic, 0x731c1db12af1e6fe),
            (2, 7, 9, 3, Bicubic, 0xa69932e3f3df2c4d),
            (60, 122, 30, 61, Bicubic, 0xe2794f31fbf18495),
            (60, 120, 30, 60, Bicubic, 0x6034390b7bb23fad),
            (150, 211, 50, 10, Bicubic, 0xdd368ceac391aab2),
            (40, 40, 41, 20, Bicubic, 0x9b420877a0d0016a),
            (97, 61, 40, 25, Bilinear, 0x69d79a57d4282d65),
            (31, 44, 70, 100, Bilinear, 0x5eb86a8475a2285e),
            (512, 512, 32, 32, Bilinear, 0xcddfc7358eb7f067),
        ];
        for (w, h, nw, nh, f, hash) in cases {
            let p: Vec<f32> = pattern(w, h)
                .iter()
                .map(|v| f32::from(*v) / 255.0)
                .collect();
            let crop = Crop {
                rows: 0..nh,
                cols: 0..nw,
            };
            let (mut tmp, mut out) = (Vec::new(), Vec::new());
            resample_f32(&p, w, h, (nh, nw), &crop, f, &mut tmp, &mut out);
            let bytes: Vec<u8> = out.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert_eq!(fnv1a(&bytes), hash, "{w}x{h} -> {nw}x{nh} {f:?}: f32 bytes");
        }
    }

    /// A crop of the resize equals the same window of the full resize (the crop-restricted passes
    /// compute exactly the outputs they keep).
    #[test]
    fn cropped_resize_is_a_window_of_the_full_resize() {
        for (w, h, nw, nh) in [
            (97, 61, 40, 25),
            (31, 44, 70, 100),
            (50, 50, 50, 23),
            (30, 90, 29, 30),
        ] {
            for f in [Filter::Bilinear, Filter::Bicubic] {
                let p = pattern(w, h);
                let full = resize_u8(&p, w, h, nw, nh, f);
                let crop = Crop {
                    rows: 3..nh - 2,
                    cols: 5..nw - 4,
                };
                let (mut tmp, mut out) = (Vec::new(), Vec::new());
                resample_u8(&p, w, h, (nh, nw), &crop, f, &mut tmp, &mut out);
                let want: Vec<u8> = crop
                    .rows
                    .clone()
                    .flat_map(|y| full[y * nw + crop.cols.start..y * nw + crop.cols.end].to_vec())
                    .collect();
                assert_eq!(out, want, "{w}x{h} -> {nw}x{nh} {f:?}");
            }
        }
    }
}
