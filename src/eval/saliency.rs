/*!
Saliency-agreement metrics: how well a model's saliency map predicts where an expert looked. Pure
functions (maps and points in, numbers out), no I/O.

The definitions are those of the MIT/Tübingen saliency benchmark as its maintained implementation,
`pysaliency` (Kümmerer et al., <https://github.com/matthias-k/pysaliency>, version 0.2.22), computes
them; where the older MATLAB code of the MIT benchmark (`cvzoya/saliency`, `code_forMetrics/`)
differs, the doc comment of the function says how. Reference values: `tests/saliency_refs.rs`
(from `onnx-export/scripts/make_saliency_refs.py`).

Conventions:
- a map is an `ArrayView2<f64>` indexed `[y, x]` (row = y from the top, column = x from the left);
- a fixation is a [`Pixel`] of that map. Sub-pixel fixations (docs/formats.md §1.3, pixel centres at
  integer coordinates) go to the nearest pixel with [`Pixel::nearest`];
- a metric that is undefined for its input (no fixations, a map of the wrong shape, non-finite
  values) returns `None`, never a number that could be mistaken for a score.
*/
use ndarray::{Array2, ArrayView2};

/// The regularisation of the benchmark's KL divergence: MATLAB's `eps` as `pysaliency.metrics.MIT_KLDiv`
/// writes it (2.2204e-16; MIT `KLdiv.m` uses `eps` itself, 2^-52, which differs in the 5th digit).
pub const KL_EPS: f64 = 2.2204e-16;

/// Local maxima below this fraction of the map's maximum are not fixation points ([`local_maxima`]).
pub const LOCAL_MAX_REL: f64 = 0.1;

/// One pixel of a map: column `x`, row `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pixel {
    pub x: usize,
    pub y: usize,
}

impl Pixel {
    /// The pixel nearest to the sub-pixel point (`x`, `y`) on a `width × height` map, pixel centres
    /// at integer coordinates (so `round`, halves up); `None` outside the map by more than half a
    /// pixel or for a non-finite coordinate. (`pysaliency` truncates instead, `Fixations.x_int`,
    /// because its pixel `i` spans `[i, i + 1)`; our heatmaps put Gaussian centres on integers.)
    pub fn nearest(x: f64, y: f64, width: usize, height: usize) -> Option<Pixel> {
        let (xi, yi) = ((x + 0.5).floor(), (y + 0.5).floor());
        if !(xi >= 0.0 && yi >= 0.0 && xi < width as f64 && yi < height as f64) {
            return None;
        }
        Some(Pixel {
            x: xi as usize,
            y: yi as usize,
        })
    }
}

fn finite(map: ArrayView2<f64>) -> bool {
    !map.is_empty() && map.iter().all(|v| v.is_finite())
}

fn inside(map: ArrayView2<f64>, fix: &[Pixel]) -> bool {
    let (h, w) = map.dim();
    !fix.is_empty() && fix.iter().all(|p| p.x < w && p.y < h)
}

/// Mean and population standard deviation (ddof = 0, numpy's `std`); exactly 0 for a constant map
/// (where rounding would otherwise leave ~1e-17 and `pysaliency` divides by it, giving ±1).
fn mean_std(map: ArrayView2<f64>) -> (f64, f64) {
    let n = map.len() as f64;
    let mean = map.sum() / n;
    if map.iter().all(|v| *v == map[[0, 0]]) {
        return (mean, 0.0);
    }
    let var = map.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Normalised scanpath saliency: the mean over fixations of the z-scored map at each fixation,
/// `(s[y, x] − mean(s)) / std(s)` with the population std; a constant map is not divided
/// (`pysaliency.metrics.NSS`, averaged over fixations as `SaliencyMapModel.NSS` does). Repeated
/// fixations count repeatedly. (MIT `NSS.m` z-scores with MATLAB's sample std, ddof = 1, and reads a
/// binary fixation map, so repeats count once.)
pub fn nss(map: ArrayView2<f64>, fixations: &[Pixel]) -> Option<f64> {
    if !finite(map) || !inside(map, fixations) {
        return None;
    }
    let (mean, std) = mean_std(map);
    let div = if std > 0.0 { std } else { 1.0 };
    let sum: f64 = fixations
        .iter()
        .map(|p| (map[[p.y, p.x]] - mean) / div)
        .sum();
    Some(sum / fixations.len() as f64)
}

/// Pearson correlation of the two maps over pixels (`pysaliency.metrics.CC`, MIT `CC.m`).
/// If only the first map is constant the score is 0 (as `pysaliency` returns); if the second (or
/// both) is constant the correlation is undefined (`None`; numpy gives NaN).
pub fn cc(saliency: ArrayView2<f64>, reference: ArrayView2<f64>) -> Option<f64> {
    if saliency.dim() != reference.dim() || !finite(saliency) || !finite(reference) {
        return None;
    }
    let (ma, sa) = mean_std(saliency);
    let (mb, sb) = mean_std(reference);
    if sb == 0.0 {
        return None;
    }
    if sa == 0.0 {
        return Some(0.0);
    }
    let n = saliency.len() as f64;
    let cov = saliency
        .iter()
        .zip(reference.iter())
        .map(|(a, b)| (a - ma) * (b - mb))
        .sum::<f64>()
        / n;
    Some(cov / (sa * sb))
}

/// A map as a probability distribution (`pysaliency.metrics.convert_saliency_map_to_density`
/// with `minimum_value = 0`): shifted so its minimum is 0 if it has negative values, divided by its
/// sum; a map summing to 0 becomes uniform.
pub fn to_density(map: ArrayView2<f64>) -> Array2<f64> {
    let min = map.iter().copied().fold(f64::INFINITY, f64::min);
    let mut d = map.to_owned();
    if min < 0.0 {
        d.mapv_inplace(|v| v - min);
    }
    let sum = d.sum();
    if sum != 0.0 {
        d.mapv_inplace(|v| v / sum);
    } else {
        d.fill(1.0 / map.len() as f64);
    }
    d
}

/// KL divergence of the saliency density P from the reference density Q (the expert heatmap),
/// `Σ Q · ln(ε + Q / (P + ε))` with ε = [`KL_EPS`] (`pysaliency.metrics.MIT_KLDiv`, the
/// "hyperparameters of the Tübingen/MIT benchmark", i.e. MIT `KLdiv.m`). Both maps become densities
/// with [`to_density`] (MIT `KLdiv.m` only divides by the sum; the two agree for non-negative maps).
/// Lower is better; 0 for identical maps.
pub fn kl_div(saliency: ArrayView2<f64>, reference: ArrayView2<f64>) -> Option<f64> {
    if saliency.dim() != reference.dim() || !finite(saliency) || !finite(reference) {
        return None;
    }
    let p = to_density(saliency);
    let q = to_density(reference);
    Some(
        p.iter()
            .zip(q.iter())
            .map(|(p, q)| q * (KL_EPS + q / (p + KL_EPS)).ln())
            .sum(),
    )
}

/// Similarity (histogram intersection) of the two densities, `Σ min(P, Q)` in [0, 1]
/// (`pysaliency.metrics.SIM`: both maps through [`to_density`]). (MIT `similarity.m` min–max
/// normalises each map to [0, 1] first, which changes the score for maps whose minimum is above 0.)
pub fn sim(saliency: ArrayView2<f64>, reference: ArrayView2<f64>) -> Option<f64> {
    if saliency.dim() != reference.dim() || !finite(saliency) || !finite(reference) {
        return None;
    }
    let p = to_density(saliency);
    let q = to_density(reference);
    Some(p.iter().zip(q.iter()).map(|(p, q)| p.min(*q)).sum())
}

/// AUC-Judd: the area under the ROC curve of the saliency values at fixations (positives) against
/// the values at every pixel that was not fixated (negatives), with thresholds at the fixation
/// values only (`pysaliency` `SaliencyMapModel.AUC_Judd` → `AUC_per_image(nonfixations =
/// "unfixated", thresholds = "fixations")` → `roc.general_roc(judd = 1)`): thresholds are the
/// positives plus one above the maximum and the minimum of both sets, a value counts as above a
/// threshold when ≥ it, and the curve is integrated with the trapezoid rule. No jitter:
/// `pysaliency` adds N(0, 1e-7²) noise (MIT `AUC_Judd.m` uniform [0, 1e-7) noise) to break ties
/// at random; here ties stay ties, which is deterministic. `None` without fixations or when every
/// pixel is fixated.
pub fn auc_judd(map: ArrayView2<f64>, fixations: &[Pixel]) -> Option<f64> {
    if !finite(map) || !inside(map, fixations) {
        return None;
    }
    let (h, w) = map.dim();
    let mut fixated = vec![false; h * w];
    for p in fixations {
        fixated[p.y * w + p.x] = true;
    }
    let mut pos: Vec<f64> = fixations.iter().map(|p| map[[p.y, p.x]]).collect();
    let mut neg: Vec<f64> = map
        .iter()
        .zip(&fixated)
        .filter(|(_, f)| !**f)
        .map(|(v, _)| *v)
        .collect();
    if neg.is_empty() {
        return None;
    }
    let desc = |a: &f64, b: &f64| b.total_cmp(a);
    pos.sort_by(desc);
    neg.sort_by(desc);
    let min_val = pos[pos.len() - 1].min(neg[neg.len() - 1]);
    let max_val = pos[0].max(neg[0]) + 1.0;
    let mut thresholds = Vec::with_capacity(pos.len() + 2);
    thresholds.push(max_val);
    thresholds.extend_from_slice(&pos);
    thresholds.push(min_val);
    thresholds.sort_by(desc);
    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut prev_fpr, mut prev_tpr) = (0.0f64, 0.0f64);
    let mut auc = 0.0;
    for theta in thresholds {
        while tp < pos.len() && pos[tp] >= theta {
            tp += 1;
        }
        while fp < neg.len() && neg[fp] >= theta {
            fp += 1;
        }
        let (fpr, tpr) = (fp as f64 / neg.len() as f64, tp as f64 / pos.len() as f64);
        auc += (fpr - prev_fpr) * (tpr + prev_tpr) / 2.0;
        (prev_fpr, prev_tpr) = (fpr, tpr);
    }
    Some(auc)
}

/// Fixation points of a heatmap that has no recorded fixations: its local maxima. A pixel is one
/// when (1) its value is at least [`LOCAL_MAX_REL`] × the map's maximum and above 0, (2) it is ≥
/// each of its up to 8 neighbours, and (3) it is > each neighbour that comes before it in raster
/// order (the row above, and the pixel to its left), so a flat top yields its first pixel in raster
/// order rather than all of it. Returned in raster order. Empty for a map without a positive value.
pub fn local_maxima(map: ArrayView2<f64>) -> Vec<Pixel> {
    let (h, w) = map.dim();
    let max = map.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut out = Vec::new();
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return out;
    }
    let floor = LOCAL_MAX_REL * max;
    for y in 0..h {
        for x in 0..w {
            let v = map[[y, x]];
            if !(v >= floor && v > 0.0) {
                continue;
            }
            let mut is_max = true;
            'n: for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if dx == 0 && dy == 0 {
                        continue;
                    }
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let n = map[[ny as usize, nx as usize]];
                    let earlier = dy < 0 || (dy == 0 && dx < 0);
                    if n > v || (earlier && n == v) {
                        is_max = false;
                        break 'n;
                    }
                }
            }
            if is_max {
                out.push(Pixel { x, y });
            }
        }
    }
    out
}

/// Pointing game (Zhang et al. 2018, "Top-down neural attention by excitation backprop"): a hit when
/// the saliency map's maximum lies inside the finding's region, i.e. the maximum of the map over
/// the region equals its global maximum (with tied maxima, one inside is enough). No tolerance
/// margin: dilate `region` first for the paper's 15-pixel tolerance. `None` for an empty region,
/// a region of another shape, or a non-finite map.
pub fn pointing_game(map: ArrayView2<f64>, region: ArrayView2<bool>) -> Option<bool> {
    if map.dim() != region.dim() || !finite(map) || !region.iter().any(|r| *r) {
        return None;
    }
    let global = map.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let inside = map
        .iter()
        .zip(region.iter())
        .filter(|(_, r)| **r)
        .map(|(v, _)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    Some(inside == global)
}

/// The five agreement scores of one saliency map against one expert heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Agreement {
    pub nss: Option<f64>,
    pub cc: Option<f64>,
    pub kl: Option<f64>,
    pub sim: Option<f64>,
    pub auc_judd: Option<f64>,
}

impl Agreement {
    /// Metric names as they appear in rows and item records, in a fixed order.
    pub const NAMES: [&'static str; 5] = ["nss", "cc", "kl", "sim", "auc_judd"];

    /// Scores in the order of [`Agreement::NAMES`].
    pub fn values(&self) -> [Option<f64>; 5] {
        [self.nss, self.cc, self.kl, self.sim, self.auc_judd]
    }
}

/// All five scores: `fixations` are the recorded fixations mapped to the heatmap's pixels, or, when
/// there are none, the heatmap's [`local_maxima`].
pub fn agreement(
    saliency: ArrayView2<f64>,
    heatmap: ArrayView2<f64>,
    fixations: &[Pixel],
) -> Agreement {
    let maxima;
    let points = if fixations.is_empty() {
        maxima = local_maxima(heatmap);
        &maxima[..]
    } else {
        fixations
    };
    let same = saliency.dim() == heatmap.dim();
    Agreement {
        nss: if same { nss(saliency, points) } else { None },
        cc: cc(saliency, heatmap),
        kl: kl_div(saliency, heatmap),
        sim: sim(saliency, heatmap),
        auc_judd: if same {
            auc_judd(saliency, points)
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_computed_small_cases() {
        let s = array![[0.0, 1.0], [2.0, 3.0]];
        // mean 1.5, population std sqrt(1.25)
        let z = (3.0 - 1.5) / 1.25f64.sqrt();
        assert!((nss(s.view(), &[Pixel { x: 1, y: 1 }]).unwrap() - z).abs() < 1e-12);
        assert!((cc(s.view(), s.view()).unwrap() - 1.0).abs() < 1e-12);
        assert!(kl_div(s.view(), s.view()).unwrap().abs() < 1e-12);
        assert!((sim(s.view(), s.view()).unwrap() - 1.0).abs() < 1e-12);
        // The fixated pixel holds the maximum: a perfect AUC.
        assert_eq!(auc_judd(s.view(), &[Pixel { x: 1, y: 1 }]), Some(1.0));
        // ... the minimum: thresholds only at fixated values jump straight to (1, 1), area 0.5.
        assert_eq!(auc_judd(s.view(), &[Pixel { x: 0, y: 0 }]), Some(0.5));
        let c = Array2::<f64>::from_elem((2, 2), 0.5);
        assert_eq!(cc(c.view(), s.view()), Some(0.0));
        assert_eq!(cc(s.view(), c.view()), None);
        assert_eq!(nss(s.view(), &[]), None);
        assert_eq!(nss(s.view(), &[Pixel { x: 2, y: 0 }]), None);
        assert_eq!(cc(s.view(), Array2::zeros((3, 2)).view()), None);
    }

    #[test]
    fn local_maxima_break_plateaus_and_skip_low_peaks() {
        let m = array![
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 1.0, 0.0, 0.05],
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.5, 0.0],
        ];
        // The plateau at (1,1)-(2,1) gives its first pixel; 0.05 < 0.1 × max is dropped.
        assert_eq!(
            local_maxima(m.view()),
            vec![Pixel { x: 1, y: 1 }, Pixel { x: 3, y: 3 }]
        );
        assert!(local_maxima(Array2::zeros((3, 3)).view()).is_empty());
    }

    #[test]
    fn nearest_pixel_rounds_and_rejects_outside() {
        assert_eq!(Pixel::nearest(1.49, 0.5, 4, 4), Some(Pixel { x: 1, y: 1 }));
        assert_eq!(Pixel::nearest(-0.4, 3.4, 4, 4), Some(Pixel { x: 0, y: 3 }));
        assert_eq!(Pixel::nearest(3.6, 0.0, 4, 4), None);
        assert_eq!(Pixel::nearest(f64::NAN, 0.0, 4, 4), None);
    }

    #[test]
    fn pointing_game_hits_when_the_maximum_is_inside() {
        let m = array![[0.0, 0.2], [0.9, 0.1]];
        let hit = array![[false, false], [true, false]];
        let miss = array![[true, true], [false, true]];
        assert_eq!(pointing_game(m.view(), hit.view()), Some(true));
        assert_eq!(pointing_game(m.view(), miss.view()), Some(false));
        assert_eq!(
            pointing_game(m.view(), Array2::from_elem((2, 2), false).view()),
            None
        );
    }
}
