//! Expert heatmaps and fixations on a model's input grid, where saliency maps live.
//!
//! A heatmap is at image resolution (docs/formats.md §1.1); it goes through the same resize and
//! centre crop as the image (`model::preprocess::resize_crop_into` with the bilinear rule, no normalisation), so pixel (x, y) of
//! the result and of a saliency map are the same place. Fixations (sub-pixel, pixel centres at
//! integer coordinates, §1.3) are mapped by the same scale and crop offset and rounded to the
//! nearest pixel; fixations that fall outside the crop are dropped.
use std::path::Path;

use ndarray::Array2;

use crate::eval::saliency::Pixel;
use crate::model::preprocess::{self, ImageError};
use crate::model::spec::Resize;

/// A heatmap read as floats in [0, 1] (8/16-bit PNG, or float32 `.npy`), `height × width`.
pub fn load_heatmap(path: &Path) -> Result<Array2<f64>, ImageError> {
    let err = |message: String| ImageError {
        path: path.to_path_buf(),
        message,
    };
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        let a: Array2<f32> = ndarray_npy::read_npy(path)
            .map_err(|e| err(format!("cannot read heatmap .npy ({e})")))?;
        return Ok(a.mapv(f64::from));
    }
    let d = preprocess::decode_image(path, 1)?;
    let plane = d
        .planes
        .first()
        .ok_or_else(|| err("no image plane".into()))?;
    Array2::from_shape_vec(
        (d.height, d.width),
        plane.iter().map(|v| f64::from(*v)).collect(),
    )
    .map_err(|e| err(e.to_string()))
}

/// The heatmap resized and centre-cropped like the image to `size × size`.
pub fn heatmap_on_grid(heatmap: &Array2<f64>, size: u32) -> Array2<f64> {
    let (h, w) = heatmap.dim();
    let plane: Vec<f32> = heatmap.iter().map(|v| *v as f32).collect();
    let (mut tmp, mut out) = (Vec::new(), Vec::new());
    preprocess::resize_crop_into(&plane, w, h, size, Resize::Bilinear, &mut tmp, &mut out);
    let s = size as usize;
    Array2::from_shape_fn((s, s), |(y, x)| f64::from(out[y * s + x]))
}

/// A fixation at (`x`, `y`) pixels of a `width × height` image → its pixel on the `size` grid.
pub(crate) fn fixation_on_grid(
    x: f64,
    y: f64,
    width: usize,
    height: usize,
    size: u32,
) -> Option<Pixel> {
    let (nh, nw) = preprocess::resized_shape(height, width, size);
    let s = size as usize;
    let (top, left) = ((nh - s) / 2, (nw - s) / 2);
    let (sx, sy) = (nw as f64 / width as f64, nh as f64 / height as f64);
    // Pixel centres: image pixel i is at i, resized pixel j at j; (i + 0.5)·scale − 0.5 maps one onto the other.
    let gx = (x + 0.5) * sx - 0.5 - left as f64;
    let gy = (y + 0.5) * sy - 0.5 - top as f64;
    Pixel::nearest(gx, gy, s, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_the_identity_and_crops_drop_outside_points() {
        let h = Array2::from_shape_fn((4, 4), |(y, x)| (y * 4 + x) as f64 / 15.0);
        let g = heatmap_on_grid(&h, 4);
        assert!(g.iter().zip(h.iter()).all(|(a, b)| (a - b).abs() < 1e-6));
        assert_eq!(
            fixation_on_grid(2.2, 1.6, 4, 4, 4),
            Some(Pixel { x: 2, y: 2 })
        );
        // 8 × 4 image (wide) onto 4: no resize, crop columns 2..6.
        assert_eq!(fixation_on_grid(0.0, 0.0, 8, 4, 4), None);
        assert_eq!(
            fixation_on_grid(2.0, 3.0, 8, 4, 4),
            Some(Pixel { x: 0, y: 3 })
        );
        // 8 × 8 onto 4: halves; pixel 5 of the image is at 2.25 on the grid.
        assert_eq!(
            fixation_on_grid(5.0, 0.0, 8, 8, 4),
            Some(Pixel { x: 2, y: 0 })
        );
    }
}
