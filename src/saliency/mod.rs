/*!
Model-agnostic saliency for ONNX image encoders: where in the image does the similarity between the
image embedding and a target text embedding (a zero-shot class embedding or the image's own report)
come from? No gradients: the encoder is run on perturbed copies of the preprocessed image, batched
through [`Model::run_image`] (thread-safe). Methods and settings: docs/saliency.md, `[saliency]`
([`SaliencySettings`]).

- **Occlusion** ([`occlusion`]): a `patch × patch` square slides over the input grid with step
  `stride` (the last position is moved to touch the right/bottom edge, so every pixel is covered);
  inside it the tensor is set to the *baseline* 0 — in normalised space, i.e. each channel's
  `mean` from `model.json`, a flat grey at the training mean. A patch's score is the drop
  `cos(e(x), t) − cos(e(x with the patch occluded), t)`; a pixel's value is the mean drop over the
  patches that cover it.
- **RISE** ([`rise`], Petsiuk, Das & Saenko, BMVC 2018): `masks` binary `grid × grid` masks, each
  cell kept with probability `keep`, upsampled bilinearly to `(grid + 1) · cell` pixels
  (`cell = ceil(size / grid)`) and cropped at a random shift in `[0, cell)²`, as their reference
  code does (`skimage.transform.resize(order = 1, mode = "reflect")`, which for linear
  interpolation equals clamping at the border). The masked input is `M ⊙ x + (1 − M) · baseline`.
  A pixel's value is `Σᵢ cos(e(Mᵢ ⊙ x), t) · Mᵢ / (N · keep)`, their eq. 6: the expected
  similarity when that pixel is visible. The masks depend only on the settings and the input size,
  so every image and every model sees the same masks.

Maps live on the model's input grid (`size × size`, after resize and centre crop); [`grid`] puts an
expert heatmap and its fixations on the same grid. [`compute_maps`] runs a list of items with the
cache (the embedding cache's chunk format, [`crate::cache`]) and the item/time bounds.
*/
pub(crate) mod config;
pub mod grid;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use config::{Method, SaliencySettings, SettingsError, Target};

use crate::cache::{CacheError, CacheProblem, EmbeddingCache, Key, sha256};
use crate::model::{Model, ModelError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaliencyError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(
        "saliency for model {model}: the target embedding has {got} values, the model embeds in {want}"
    )]
    TargetDim {
        model: String,
        got: usize,
        want: usize,
    },
    #[error("saliency for model {model}: the image tensor has {got} values, expected {want}")]
    TensorLen {
        model: String,
        got: usize,
        want: usize,
    },
    #[error("saliency cancelled; finished maps are cached")]
    Cancelled,
}

/// What saliency needs from an image encoder: the input layout and batched, L2-normalised
/// embeddings. [`Model`] is one; tests can use a closed-form encoder.
pub trait ImageEncoder {
    fn name(&self) -> &str;
    /// Channels and side of the input grid.
    fn input(&self) -> (usize, usize);
    fn embed_dim(&self) -> usize;
    /// `n` images laid out back to back → `n × embed_dim`, rows L2-normalised.
    fn embed(&self, pixels: &[f32], n: usize) -> Result<Array2<f32>, ModelError>;
}

impl ImageEncoder for Model {
    fn name(&self) -> &str {
        &self.name
    }
    fn input(&self) -> (usize, usize) {
        (self.preprocessor.channels, self.preprocessor.size as usize)
    }
    fn embed_dim(&self) -> usize {
        self.spec.embed_dim
    }
    fn embed(&self, pixels: &[f32], n: usize) -> Result<Array2<f32>, ModelError> {
        self.run_image(pixels, n)
    }
}

/// The baseline value of an occluded / masked input element, in normalised space (= the
/// channel mean of the model's normalisation).
pub(crate) const BASELINE: f32 = 0.0;

fn check_inputs<E: ImageEncoder + ?Sized>(
    enc: &E,
    pixels: &[f32],
    target: &[f32],
) -> Result<(usize, usize), SaliencyError> {
    let (c, s) = enc.input();
    if target.len() != enc.embed_dim() {
        return Err(SaliencyError::TargetDim {
            model: enc.name().to_string(),
            got: target.len(),
            want: enc.embed_dim(),
        });
    }
    if pixels.len() != c * s * s {
        return Err(SaliencyError::TensorLen {
            model: enc.name().to_string(),
            got: pixels.len(),
            want: c * s * s,
        });
    }
    Ok((c, s))
}

fn cosines(emb: &Array2<f32>, target: &[f32]) -> Vec<f64> {
    emb.rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .zip(target)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum()
        })
        .collect()
}

/// Cosine similarity of the unperturbed image with `target`.
fn base_cosine<E: ImageEncoder + ?Sized>(
    enc: &E,
    pixels: &[f32],
    target: &[f32],
) -> Result<f64, SaliencyError> {
    Ok(cosines(&enc.embed(pixels, 1)?, target)[0])
}

/// Runs `count` perturbed copies of the image through the encoder, `batch` at a time; `fill(i, buf)`
/// writes copy `i` into `buf` (one image tensor). Returns the cosine of each copy with `target`.
fn run_perturbed<E: ImageEncoder + ?Sized>(
    enc: &E,
    tensor_len: usize,
    count: usize,
    batch: usize,
    target: &[f32],
    cancel: &AtomicBool,
    fill: impl Fn(usize, &mut [f32]),
) -> Result<Vec<f64>, SaliencyError> {
    let batch = batch.max(1);
    let mut out = Vec::with_capacity(count);
    let mut buf = vec![0.0f32; batch * tensor_len];
    let mut start = 0;
    while start < count {
        if cancel.load(Ordering::Relaxed) {
            return Err(SaliencyError::Cancelled);
        }
        let n = batch.min(count - start);
        for (k, chunk) in buf[..n * tensor_len]
            .chunks_exact_mut(tensor_len)
            .enumerate()
        {
            fill(start + k, chunk);
        }
        out.extend(cosines(&enc.embed(&buf[..n * tensor_len], n)?, target));
        start += n;
    }
    Ok(out)
}

/// Patch origins along one axis of length `size`: `0, stride, 2·stride, …` and `size − patch` if
/// the steps do not end there.
pub fn patch_positions(size: usize, patch: usize, stride: usize) -> Vec<usize> {
    let last = size.saturating_sub(patch);
    let mut v: Vec<usize> = (0..=last).step_by(stride.max(1)).collect();
    if v.last() != Some(&last) {
        v.push(last);
    }
    v
}

/// Occlusion saliency (module docs) of one preprocessed image (`channels × size × size`,
/// normalised) for the L2-normalised `target`: a `size × size` map of mean cosine drops.
pub fn occlusion<E: ImageEncoder + ?Sized>(
    enc: &E,
    pixels: &[f32],
    target: &[f32],
    patch: usize,
    stride: usize,
    batch: usize,
    cancel: &AtomicBool,
) -> Result<Array2<f32>, SaliencyError> {
    let (c, s) = check_inputs(enc, pixels, target)?;
    let patch = patch.clamp(1, s);
    let pos = patch_positions(s, patch, stride);
    let origins: Vec<(usize, usize)> = pos
        .iter()
        .flat_map(|&y| pos.iter().map(move |&x| (x, y)))
        .collect();
    let base = base_cosine(enc, pixels, target)?;
    let sims = run_perturbed(
        enc,
        pixels.len(),
        origins.len(),
        batch,
        target,
        cancel,
        |i, buf| {
            buf.copy_from_slice(pixels);
            let (x0, y0) = origins[i];
            for ch in 0..c {
                for y in y0..y0 + patch {
                    let row = ch * s * s + y * s;
                    buf[row + x0..row + x0 + patch].fill(BASELINE);
                }
            }
        },
    )?;
    let mut sum = Array2::<f64>::zeros((s, s));
    let mut cover = Array2::<f64>::zeros((s, s));
    for (&(x0, y0), sim) in origins.iter().zip(&sims) {
        let drop = base - sim;
        for y in y0..y0 + patch {
            for x in x0..x0 + patch {
                sum[[y, x]] += drop;
                cover[[y, x]] += 1.0;
            }
        }
    }
    Ok(Array2::from_shape_fn((s, s), |(y, x)| {
        (sum[[y, x]] / cover[[y, x]]) as f32
    }))
}

/// The RISE masks for an input side `size` (module docs): `masks × size × size` values in [0, 1].
pub fn rise_masks(size: usize, masks: usize, grid: usize, keep: f64, seed: u64) -> Vec<f32> {
    let g = grid.max(1);
    let cell = size.div_ceil(g);
    let up = (g + 1) * cell;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(masks * size * size);
    // Source coordinate (in grid cells) of each upsampled pixel, and its two neighbours + weight.
    let scale = g as f64 / up as f64;
    let taps: Vec<(usize, usize, f64)> = (0..up)
        .map(|u| {
            let c = ((u as f64 + 0.5) * scale - 0.5).clamp(0.0, (g - 1) as f64);
            let lo = c.floor() as usize;
            let hi = (lo + 1).min(g - 1);
            (lo, hi, c - lo as f64)
        })
        .collect();
    let mut cells = vec![0.0f64; g * g];
    for _ in 0..masks {
        for v in cells.iter_mut() {
            *v = if rng.r#gen::<f64>() < keep { 1.0 } else { 0.0 };
        }
        let dx = rng.gen_range(0..cell);
        let dy = rng.gen_range(0..cell);
        for y in 0..size {
            let (y0, y1, wy) = taps[y + dy];
            for x in 0..size {
                let (x0, x1, wx) = taps[x + dx];
                let top = cells[y0 * g + x0] * (1.0 - wx) + cells[y0 * g + x1] * wx;
                let bot = cells[y1 * g + x0] * (1.0 - wx) + cells[y1 * g + x1] * wx;
                out.push((top * (1.0 - wy) + bot * wy) as f32);
            }
        }
    }
    out
}

/// RISE saliency (module docs) of one preprocessed image for `target`, with masks from
/// [`rise_masks`] (pass the same masks for every image: they depend only on the settings).
pub fn rise<E: ImageEncoder + ?Sized>(
    enc: &E,
    pixels: &[f32],
    target: &[f32],
    masks: &[f32],
    keep: f64,
    batch: usize,
    cancel: &AtomicBool,
) -> Result<Array2<f32>, SaliencyError> {
    let (c, s) = check_inputs(enc, pixels, target)?;
    let plane = s * s;
    let n = masks.len() / plane;
    let sims = run_perturbed(enc, pixels.len(), n, batch, target, cancel, |i, buf| {
        let m = &masks[i * plane..(i + 1) * plane];
        for ch in 0..c {
            let (src, dst) = (
                &pixels[ch * plane..(ch + 1) * plane],
                &mut buf[ch * plane..(ch + 1) * plane],
            );
            for ((d, x), w) in dst.iter_mut().zip(src).zip(m) {
                *d = w * x + (1.0 - w) * BASELINE;
            }
        }
    })?;
    let mut acc = vec![0.0f64; plane];
    for (i, sim) in sims.iter().enumerate() {
        for (a, w) in acc.iter_mut().zip(&masks[i * plane..(i + 1) * plane]) {
            *a += sim * f64::from(*w);
        }
    }
    let norm = n as f64 * keep;
    Ok(Array2::from_shape_fn((s, s), |(y, x)| {
        (acc[y * s + x] / norm) as f32
    }))
}

/// One map to compute: an image file and the L2-normalised target text embedding.
#[derive(Debug, Clone)]
pub struct SaliencyItem {
    pub image: PathBuf,
    pub target: Vec<f32>,
}

/// The result of [`compute_maps`]: one slot per item, in order.
#[derive(Debug, Default)]
pub struct SaliencyRun {
    /// `size × size` maps; `None` for an item left out (see `skipped`, `over_limit`).
    pub maps: Vec<Option<Array2<f32>>>,
    pub computed: usize,
    pub cached: usize,
    /// Items whose image could not be read: (index, message naming the file).
    pub skipped: Vec<(usize, String)>,
    /// Items not computed because of `items` or `time_budget_s`.
    pub over_limit: usize,
    /// Wall time spent computing (not reading the cache).
    pub(crate) compute_time: Duration,
    /// Broken cache chunks found (and deleted) while reading the map cache; `run::saliency`
    /// reports each as a note.
    pub(crate) cache_problems: Vec<CacheProblem>,
}

/// Cache namespace description of a model's maps under `settings`.
pub(crate) fn namespace_description(model: &Model, settings: &SaliencySettings) -> String {
    format!(
        "{};{}",
        crate::embed::image_namespace(model),
        settings.cache_tag()
    )
}

/// The cache key of one map: SHA-256 of the image file's SHA-256 and the target's f32 bytes.
pub(crate) fn map_key(image_key: &Key, target: &[f32]) -> Key {
    let mut bytes = Vec::with_capacity(32 + 4 * target.len());
    bytes.extend_from_slice(image_key);
    for v in target {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    sha256(&bytes)
}

/// Maps for `items` with `model` under `settings`: cached maps are read, the rest computed in
/// order until `settings.items` maps exist or `settings.time_budget_s` has passed; each computed
/// map is written to the cache at once (one chunk), so an interrupted run resumes.
pub fn compute_maps(
    model: &Model,
    items: &[SaliencyItem],
    settings: &SaliencySettings,
    cache: &EmbeddingCache,
    batch: usize,
    cancel: &AtomicBool,
) -> Result<SaliencyRun, SaliencyError> {
    settings.validate()?;
    let size = model.preprocessor.size;
    settings.validate_for(size, &model.name)?;
    let s = size as usize;
    let ns = cache.namespace(&namespace_description(model, settings), s * s);
    let (entries, cache_problems) = ns.load();
    let masks = (settings.method == Method::Rise).then(|| {
        rise_masks(
            s,
            settings.masks,
            settings.grid as usize,
            settings.keep,
            settings.seed,
        )
    });
    let mut run = SaliencyRun {
        cache_problems,
        ..SaliencyRun::default()
    };
    let started = Instant::now();
    for (i, item) in items.iter().enumerate() {
        if run.maps.iter().flatten().count() >= settings.items {
            run.maps.push(None);
            run.over_limit += 1;
            continue;
        }
        let bytes = match std::fs::read(&item.image) {
            Ok(b) => b,
            Err(e) => {
                run.skipped
                    .push((i, format!("{}: cannot read ({e})", item.image.display())));
                run.maps.push(None);
                continue;
            }
        };
        let key = map_key(&sha256(&bytes), &item.target);
        if let Some(v) = entries.get(&key) {
            run.maps
                .push(Array2::from_shape_vec((s, s), v.clone()).ok());
            run.cached += 1;
            continue;
        }
        if settings
            .time_budget_s
            .is_some_and(|b| started.elapsed().as_secs_f64() >= b)
        {
            run.maps.push(None);
            run.over_limit += 1;
            continue;
        }
        let pixels = match model.preprocessor.load(&item.image) {
            Ok(p) => p,
            Err(e) => {
                run.skipped.push((i, e.to_string()));
                run.maps.push(None);
                continue;
            }
        };
        let t0 = Instant::now();
        let map = match &masks {
            None => occlusion(
                model,
                &pixels,
                &item.target,
                settings.patch as usize,
                settings.stride as usize,
                batch,
                cancel,
            )?,
            Some(m) => rise(
                model,
                &pixels,
                &item.target,
                m,
                settings.keep,
                batch,
                cancel,
            )?,
        };
        run.compute_time += t0.elapsed();
        ns.write_chunk(
            &[key],
            map.as_slice()
                .unwrap_or(&map.iter().copied().collect::<Vec<_>>()),
        )?;
        run.computed += 1;
        run.maps.push(Some(map));
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A closed-form encoder: embedding = normalize([sum of the left half, sum of the right half,
    /// 1]) of a 1 × 8 × 8 input, so only the left half matters for target (1, 0, 0).
    struct Halves;
    impl ImageEncoder for Halves {
        fn name(&self) -> &str {
            "halves"
        }
        fn input(&self) -> (usize, usize) {
            (1, 8)
        }
        fn embed_dim(&self) -> usize {
            3
        }
        fn embed(&self, pixels: &[f32], n: usize) -> Result<Array2<f32>, ModelError> {
            let mut out = Array2::zeros((n, 3));
            for (i, img) in pixels.chunks(64).enumerate() {
                let l: f32 = (0..64).filter(|k| k % 8 < 4).map(|k| img[k]).sum();
                let r: f32 = (0..64).filter(|k| k % 8 >= 4).map(|k| img[k]).sum();
                let v = [l, r, 1.0];
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                for j in 0..3 {
                    out[[i, j]] = v[j] / norm;
                }
            }
            Ok(out)
        }
    }

    #[test]
    fn occlusion_finds_the_half_that_matters() {
        let px = vec![1.0f32; 64];
        let t = [1.0, 0.0, 0.0];
        let no = AtomicBool::new(false);
        let m = occlusion(&Halves, &px, &t, 4, 4, 3, &no).unwrap();
        assert_eq!(m.dim(), (8, 8));
        // Occluding a right-half patch raises the cosine with (1, 0, 0): negative drop there.
        assert!(m[[0, 0]] > 0.0 && m[[0, 7]] < 0.0, "{m:?}");
        // One patch covering everything: the drop to the all-baseline image.
        let all = occlusion(&Halves, &px, &t, 8, 8, 3, &no).unwrap();
        let base = cosines(&Halves.embed(&px, 1).unwrap(), &t)[0];
        let empty = cosines(&Halves.embed(&[0.0; 64], 1).unwrap(), &t)[0];
        assert!(
            all.iter()
                .all(|v| (f64::from(*v) - (base - empty)).abs() < 1e-6)
        );
        assert_eq!(patch_positions(10, 4, 4), vec![0, 4, 6]);
        assert_eq!(patch_positions(8, 8, 3), vec![0]);
    }

    #[test]
    fn rise_masks_are_seeded_smooth_and_keep_about_p() {
        let a = rise_masks(16, 20, 4, 0.5, 7);
        assert_eq!(a, rise_masks(16, 20, 4, 0.5, 7));
        assert_ne!(a, rise_masks(16, 20, 4, 0.5, 8));
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
        let mean = a.iter().map(|v| f64::from(*v)).sum::<f64>() / a.len() as f64;
        assert!((mean - 0.5).abs() < 0.15, "{mean}");
        // Smooth: some values strictly between 0 and 1.
        assert!(a.iter().any(|v| *v > 0.05 && *v < 0.95));
        let px = vec![1.0f32; 64];
        let masks = rise_masks(8, 200, 4, 0.5, 0);
        let no = AtomicBool::new(false);
        let m = rise(&Halves, &px, &[1.0, 0.0, 0.0], &masks, 0.5, 16, &no).unwrap();
        let left: f32 = (0..8).map(|y| m[[y, 0]]).sum();
        let right: f32 = (0..8).map(|y| m[[y, 7]]).sum();
        assert!(left > right, "{left} {right}");
    }

    #[test]
    fn wrong_target_or_tensor_is_an_error_naming_the_model() {
        let no = AtomicBool::new(false);
        let e = occlusion(&Halves, &[0.0; 64], &[1.0], 4, 4, 1, &no).unwrap_err();
        assert!(e.to_string().contains("halves"), "{e}");
        let e = occlusion(&Halves, &[0.0; 10], &[1.0, 0.0, 0.0], 4, 4, 1, &no).unwrap_err();
        assert!(e.to_string().contains("expected 64"), "{e}");
        let yes = AtomicBool::new(true);
        assert!(matches!(
            occlusion(&Halves, &[0.0; 64], &[1.0, 0.0, 0.0], 4, 4, 1, &yes),
            Err(SaliencyError::Cancelled)
        ));
    }
}
