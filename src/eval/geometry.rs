/*!
Embedding geometry: modality gap, alignment, uniformity, cone effect, matched/unmatched cosine
distributions, group-cosine matrices, a 2-D PCA of both modalities, and the gap-shift transform.

Definitions (`../shared/docs/method.md`, recorded in every report), with `x_i`, `y_i` the
L2-normalised image and text embeddings of pair `i`:
- `modality_gap` = ||mean_i x_i − mean_i y_i||₂ (Liang et al. 2022); the gap direction is that vector
  normalised;
- `alignment` = mean_i ||x_i − y_i||² (Wang & Isola 2020, α = 2);
- `uniformity` = log mean_{i<j} exp(−2 ||u_i − u_j||²) per modality (t = 2); exact for N ≤
  [`UNIFORMITY_EXACT_MAX`], otherwise on a seeded subsample of that many items (stated in the output);
- `cone` = mean cosine over distinct pairs i ≠ j within one modality;
- `mean_cos_matched` = mean_i cos(x_i, y_i); `mean_cos_unmatched` = mean over i ≠ j of cos(x_i, y_j);
- group-cosine matrix entry (a, b) = mean cosine between members of group a and of group b (distinct
  items only on the diagonal).

Means over all pairs use exact sum identities (Σ_{i≠j} u_i·v_j = (Σu)·(Σv) − Σ u_i·v_i), so they cost
O(N·d), not O(N²·d). All accumulation is in f64.
*/
use linfa_linalg::eigh::Eigh;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use serde::{Deserialize, Serialize};

/// Largest N for which uniformity is computed over all pairs.
pub const UNIFORMITY_EXACT_MAX: usize = 5000;

fn to_f64(a: ArrayView2<f32>) -> Array2<f64> {
    a.mapv(f64::from)
}

/// Column sums in f64.
fn sum_rows(a: ArrayView2<f32>) -> Array1<f64> {
    let mut s = Array1::<f64>::zeros(a.ncols());
    for row in a.rows() {
        s.zip_mut_with(&row, |acc, &v| *acc += f64::from(v));
    }
    s
}

fn dot_f32(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// mean(image) − mean(text), the gap vector. NaN-filled for no items.
pub fn gap_vector(image: ArrayView2<f32>, text: ArrayView2<f32>) -> Array1<f64> {
    let n = image.nrows() as f64;
    (sum_rows(image) - sum_rows(text)) / n
}

/// ||mean x − mean y||₂.
pub fn modality_gap(image: ArrayView2<f32>, text: ArrayView2<f32>) -> f64 {
    modality_gap_of(image, text, None)
}

/// mean_i ||x_i − y_i||² over the items in `idx` (all when `None`).
pub fn alignment(image: ArrayView2<f32>, text: ArrayView2<f32>, idx: Option<&[usize]>) -> f64 {
    let per_item = |i: usize| -> f64 {
        image
            .row(i)
            .iter()
            .zip(text.row(i))
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum()
    };
    super::stats::mean_over_items(image.nrows(), idx, per_item)
}

/// mean_i cos(x_i, y_i) (dot products of normalised rows).
pub fn mean_cos_matched(
    image: ArrayView2<f32>,
    text: ArrayView2<f32>,
    idx: Option<&[usize]>,
) -> f64 {
    super::stats::mean_over_items(image.nrows(), idx, |i| dot_f32(image.row(i), text.row(i)))
}

/// mean over ordered pairs i ≠ j of cos(x_i, y_j), computed exactly in O(N·d). NaN for N < 2.
pub fn mean_cos_unmatched(image: ArrayView2<f32>, text: ArrayView2<f32>) -> f64 {
    mean_cos_unmatched_of(image, text, None)
}

/// Mean cosine over distinct pairs within one modality (the cone effect), exact in O(N·d).
pub fn cone(u: ArrayView2<f32>) -> f64 {
    cone_of(u, None)
}

/// Uniformity of one modality and how it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Uniformity {
    pub value: f64,
    /// Items the value was computed on (all, or the subsample size).
    pub n_used: usize,
    /// True when `n_used` < the number of items.
    pub subsampled: bool,
}

/// log mean_{i<j} exp(−2 ||u_i − u_j||²); exact up to `max_exact` items, otherwise on a subsample
/// of `max_exact` items drawn without replacement with `seed`.
pub fn uniformity(u: ArrayView2<f32>, max_exact: usize, seed: u64) -> Uniformity {
    let n = u.nrows();
    let (x, subsampled) = if n > max_exact {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut pick = sample(&mut rng, n, max_exact).into_vec();
        pick.sort_unstable();
        (to_f64(u.select(Axis(0), &pick).view()), true)
    } else {
        (to_f64(u), false)
    };
    let m = x.nrows();
    if m < 2 {
        return Uniformity {
            value: f64::NAN,
            n_used: m,
            subsampled,
        };
    }
    let sq: Vec<f64> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
    // Blocks of rows against all later rows keep memory at O(block · m).
    let block = 256;
    let mut total = 0.0f64;
    for s0 in (0..m).step_by(block) {
        let s1 = (s0 + block).min(m);
        let g = x.slice(ndarray::s![s0..s1, ..]).dot(&x.t());
        for (k, row) in g.rows().into_iter().enumerate() {
            let i = s0 + k;
            for j in (i + 1)..m {
                let d2 = (sq[i] + sq[j] - 2.0 * row[j]).max(0.0);
                total += (-2.0 * d2).exp();
            }
        }
    }
    let pairs = (m * (m - 1) / 2) as f64;
    Uniformity {
        value: (total / pairs).ln(),
        n_used: m,
        subsampled,
    }
}

/// A histogram with equal-width bins over [lo, hi].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `bins + 1` bin edges.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// Number of values that went into the histogram.
    pub total: u64,
}

impl Histogram {
    pub fn new(lo: f64, hi: f64, bins: usize) -> Self {
        let bins = bins.max(1);
        Self {
            edges: (0..=bins)
                .map(|b| lo + (hi - lo) * b as f64 / bins as f64)
                .collect(),
            counts: vec![0; bins],
            total: 0,
        }
    }

    /// Add a value; values outside [lo, hi] go to the first/last bin (numpy puts `hi` in the last).
    pub fn add(&mut self, v: f64) {
        let bins = self.counts.len();
        let (lo, hi) = (self.edges[0], self.edges[bins]);
        let b = (((v - lo) / (hi - lo)) * bins as f64).floor();
        let b = if b.is_nan() {
            0
        } else {
            (b.max(0.0) as usize).min(bins - 1)
        };
        self.counts[b] += 1;
        self.total += 1;
    }

    /// Counts as a density (integrates to 1), for plotting distributions of different sizes.
    pub fn density(&self) -> Vec<f64> {
        let width = self.edges[1] - self.edges[0];
        let total = self.total.max(1) as f64;
        self.counts
            .iter()
            .map(|&c| c as f64 / (total * width))
            .collect()
    }
}

/// Matched and unmatched cosine histograms over [-1, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CosineHistograms {
    pub matched: Histogram,
    pub unmatched: Histogram,
    /// Unmatched pairs that went into `unmatched`: all i ≠ j when N·(N−1) ≤ `max_pairs`, otherwise
    /// a seeded uniform sample of `max_pairs` pairs.
    pub unmatched_sampled: bool,
}

/// Histograms of cos(x_i, y_i) and of cos(x_i, y_j), i ≠ j.
pub fn cosine_histograms(
    image: ArrayView2<f32>,
    text: ArrayView2<f32>,
    bins: usize,
    max_pairs: usize,
    seed: u64,
) -> CosineHistograms {
    let n = image.nrows();
    let mut matched = Histogram::new(-1.0, 1.0, bins);
    let mut unmatched = Histogram::new(-1.0, 1.0, bins);
    for i in 0..n {
        matched.add(dot_f32(image.row(i), text.row(i)));
    }
    let all_pairs = n.saturating_mul(n.saturating_sub(1));
    let sampled = all_pairs > max_pairs;
    if sampled {
        use rand::Rng;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut added = 0;
        while added < max_pairs {
            let (i, j) = (rng.gen_range(0..n), rng.gen_range(0..n));
            if i != j {
                unmatched.add(dot_f32(image.row(i), text.row(j)));
                added += 1;
            }
        }
    } else {
        for i in 0..n {
            for j in (0..n).filter(|&j| j != i) {
                unmatched.add(dot_f32(image.row(i), text.row(j)));
            }
        }
    }
    CosineHistograms {
        matched,
        unmatched,
        unmatched_sampled: sampled,
    }
}

/// Mean cosine between groups: entry (a, b) over all pairs (u in a, v in b), distinct items when
/// a = b. `None` where a group is empty (or a singleton on the diagonal).
pub fn group_cosine_matrix(u: ArrayView2<f32>, groups: &[Vec<usize>]) -> Vec<Vec<Option<f64>>> {
    // The cross matrix of a modality with itself: its diagonal leaves out each item's self-cosine.
    group_cross_cosine_matrix(u, u, groups)
}

/// Mean cosine between the images of one group and the texts of another: entry (a, b) over all
/// pairs (image u_i of an item in a, text v_j of an item in b) with i ≠ j, so an item's own report
/// is left out of the diagonal (which would otherwise mix matched-pair cosines into the group
/// mean). `u` and `v` are the same items' rows. `None` where a group is empty (or a singleton on
/// the diagonal).
pub fn group_cross_cosine_matrix(
    u: ArrayView2<f32>,
    v: ArrayView2<f32>,
    groups: &[Vec<usize>],
) -> Vec<Vec<Option<f64>>> {
    let su: Vec<Array1<f64>> = groups
        .iter()
        .map(|g| sum_rows(u.select(Axis(0), g).view()))
        .collect();
    let sv: Vec<Array1<f64>> = groups
        .iter()
        .map(|g| sum_rows(v.select(Axis(0), g).view()))
        .collect();
    let own: Vec<f64> = groups
        .iter()
        .map(|g| g.iter().map(|&i| dot_f32(u.row(i), v.row(i))).sum())
        .collect();
    (0..groups.len())
        .map(|a| {
            (0..groups.len())
                .map(|b| {
                    let (na, nb) = (groups[a].len(), groups[b].len());
                    if a == b {
                        (na >= 2).then(|| (su[a].dot(&sv[a]) - own[a]) / (na * (na - 1)) as f64)
                    } else {
                        (na > 0 && nb > 0).then(|| su[a].dot(&sv[b]) / (na * nb) as f64)
                    }
                })
                .collect()
        })
        .collect()
}

/// A 2-D principal-component view of both modalities of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pca2 {
    pub image: Vec<[f64; 2]>,
    pub text: Vec<[f64; 2]>,
    /// Projections of mean image and mean text: the gap vector runs from `text_mean` to `image_mean`.
    pub image_mean: [f64; 2],
    pub text_mean: [f64; 2],
    /// Fraction of the total variance explained by each component.
    pub explained: [f64; 2],
}

/// PCA of the stacked image and text rows (centred on their joint mean), projected on the top two
/// components; each component's sign is fixed so its largest-magnitude coordinate is positive
/// (scikit-learn's `svd_flip` convention for `components_`). `None` for fewer than 2 rows or
/// fewer than 2 dimensions.
pub fn pca2(image: ArrayView2<f32>, text: ArrayView2<f32>) -> Option<Pca2> {
    let d = image.ncols();
    let n = image.nrows() + text.nrows();
    if n < 2 || d < 2 {
        return None;
    }
    let mut all = Array2::<f64>::zeros((n, d));
    all.slice_mut(ndarray::s![..image.nrows(), ..])
        .assign(&to_f64(image));
    all.slice_mut(ndarray::s![image.nrows().., ..])
        .assign(&to_f64(text));
    let mean = all.mean_axis(Axis(0))?;
    let centred = &all - &mean;
    let cov = centred.t().dot(&centred) / (n - 1) as f64;
    let (vals, vecs) = cov.eigh().ok()?;
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let total: f64 = vals.iter().map(|v| v.max(0.0)).sum();
    let mut comps = Array2::<f64>::zeros((d, 2));
    for (k, &c) in order.iter().take(2).enumerate() {
        let mut v = vecs.column(c).to_owned();
        let big = v
            .iter()
            .copied()
            .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        if big < 0.0 {
            v.mapv_inplace(|x| -x);
        }
        comps.column_mut(k).assign(&v);
    }
    let proj = centred.dot(&comps);
    let point = |r: ArrayView1<f64>| [r[0], r[1]];
    let pts: Vec<[f64; 2]> = proj.rows().into_iter().map(point).collect();
    let (img_pts, txt_pts) = pts.split_at(image.nrows());
    let mean_of = |p: &[[f64; 2]]| {
        let k = p.len().max(1) as f64;
        [
            p.iter().map(|q| q[0]).sum::<f64>() / k,
            p.iter().map(|q| q[1]).sum::<f64>() / k,
        ]
    };
    let explained = if total > 0.0 {
        [vals[order[0]] / total, vals[order[1]] / total]
    } else {
        [0.0, 0.0]
    };
    Some(Pca2 {
        image_mean: mean_of(img_pts),
        text_mean: mean_of(txt_pts),
        image: img_pts.to_vec(),
        text: txt_pts.to_vec(),
        explained,
    })
}

/// The gap-shift transform: `x' = normalize(x − λ/2·dir)` for images (`sign = -1`) or
/// `y' = normalize(y + λ/2·dir)` for texts (`sign = +1`), `dir` the unit gap direction.
pub fn shift_along(
    u: ArrayView2<f32>,
    dir: ArrayView1<f64>,
    lambda: f64,
    sign: f64,
) -> Array2<f32> {
    let step = dir.mapv(|v| sign * lambda / 2.0 * v);
    let mut out = Array2::<f32>::zeros(u.dim());
    for (mut o, r) in out.rows_mut().into_iter().zip(u.rows()) {
        let moved: Vec<f64> = r
            .iter()
            .zip(&step)
            .map(|(&a, &s)| f64::from(a) + s)
            .collect();
        let norm = moved.iter().map(|v| v * v).sum::<f64>().sqrt();
        let norm = if norm > 0.0 { norm } else { 1.0 };
        o.iter_mut()
            .zip(&moved)
            .for_each(|(dst, v)| *dst = (v / norm) as f32);
    }
    out
}

/// The unit gap direction (mean image − mean text, normalised); zeros when the gap is zero.
pub fn gap_direction(image: ArrayView2<f32>, text: ArrayView2<f32>) -> Array1<f64> {
    let g = gap_vector(image, text);
    let norm = g.mapv(|v| v * v).sum().sqrt();
    if norm > 0.0 && norm.is_finite() {
        g / norm
    } else {
        Array1::zeros(g.len())
    }
}

/// How often each item occurs in a resample (`None` = every item once).
pub fn item_counts(n: usize, idx: Option<&[usize]>) -> Vec<f64> {
    match idx {
        None => vec![1.0; n],
        Some(idx) => {
            let mut c = vec![0.0; n];
            idx.iter().for_each(|&i| c[i] += 1.0);
            c
        }
    }
}

/// Σ_i c_i u_i in f64.
fn weighted_sum(u: ArrayView2<f32>, counts: &[f64]) -> Array1<f64> {
    let mut s = Array1::<f64>::zeros(u.ncols());
    for (row, &c) in u.rows().into_iter().zip(counts) {
        if c != 0.0 {
            s.zip_mut_with(&row, |acc, &v| *acc += c * f64::from(v));
        }
    }
    s
}

/// Number of ordered pairs of resample positions that hold distinct items: m² − Σ c_i².
fn distinct_pairs(counts: &[f64]) -> f64 {
    let m: f64 = counts.iter().sum();
    m * m - counts.iter().map(|c| c * c).sum::<f64>()
}

/// [`modality_gap`] over a resample (items weighted by how often they were drawn).
pub fn modality_gap_of(
    image: ArrayView2<f32>,
    text: ArrayView2<f32>,
    idx: Option<&[usize]>,
) -> f64 {
    let c = item_counts(image.nrows(), idx);
    let m: f64 = c.iter().sum();
    let g = (weighted_sum(image, &c) - weighted_sum(text, &c)) / m;
    g.mapv(|v| v * v).sum().sqrt()
}

/// [`cone`] over a resample: mean cosine over pairs of positions holding distinct items.
pub fn cone_of(u: ArrayView2<f32>, idx: Option<&[usize]>) -> f64 {
    let c = item_counts(u.nrows(), idx);
    let s = weighted_sum(u, &c);
    let self_dots: f64 = u
        .rows()
        .into_iter()
        .zip(&c)
        .map(|(r, &ci)| ci * ci * dot_f32(r, r))
        .sum();
    let pairs = distinct_pairs(&c);
    if pairs > 0.0 {
        (s.dot(&s) - self_dots) / pairs
    } else {
        f64::NAN
    }
}

/// [`mean_cos_unmatched`] over a resample: pairs of positions holding distinct items.
pub fn mean_cos_unmatched_of(
    image: ArrayView2<f32>,
    text: ArrayView2<f32>,
    idx: Option<&[usize]>,
) -> f64 {
    let c = item_counts(image.nrows(), idx);
    let all = weighted_sum(image, &c).dot(&weighted_sum(text, &c));
    let matched: f64 = (0..image.nrows())
        .filter(|&i| c[i] != 0.0)
        .map(|i| c[i] * c[i] * dot_f32(image.row(i), text.row(i)))
        .sum();
    let pairs = distinct_pairs(&c);
    if pairs > 0.0 {
        (all - matched) / pairs
    } else {
        f64::NAN
    }
}

/// The uniformity kernel exp(−2 ||u_i − u_j||²) of all pairs (N × N; only for small N).
pub fn uniformity_kernel(u: ArrayView2<f32>) -> Array2<f32> {
    let x = to_f64(u);
    let sq: Vec<f64> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
    let g = x.dot(&x.t());
    Array2::from_shape_fn(g.dim(), |(i, j)| {
        let d2 = (sq[i] + sq[j] - 2.0 * g[[i, j]]).max(0.0);
        (-2.0 * d2).exp() as f32
    })
}

/// Uniformity over a resample from a precomputed kernel: log of the mean kernel over pairs of
/// positions holding distinct items.
pub fn uniformity_of(kernel: &Array2<f32>, idx: Option<&[usize]>) -> f64 {
    let c = item_counts(kernel.nrows(), idx);
    let nz: Vec<usize> = (0..c.len()).filter(|&i| c[i] != 0.0).collect();
    let mut total = 0.0;
    for (a, &i) in nz.iter().enumerate() {
        let row = kernel.row(i);
        let inner: f64 = nz[a + 1..].iter().map(|&j| c[j] * f64::from(row[j])).sum();
        total += c[i] * inner;
    }
    let pairs = distinct_pairs(&c) / 2.0;
    if pairs > 0.0 {
        (total / pairs).ln()
    } else {
        f64::NAN
    }
}

/// Modality gap after the gap shift by λ, over a resample (rows shifted and renormalised on the fly).
pub fn shifted_gap_of<'a>(
    image: ArrayView2<'a, f32>,
    text: ArrayView2<'a, f32>,
    dir: ArrayView1<f64>,
    lambda: f64,
    idx: Option<&[usize]>,
) -> f64 {
    let c = item_counts(image.nrows(), idx);
    let m: f64 = c.iter().sum();
    let mut g = Array1::<f64>::zeros(image.ncols());
    let mut moved = vec![0.0f64; image.ncols()];
    for (u, sign) in [(image, -1.0), (text, 1.0)] {
        for (row, &ci) in u.rows().into_iter().zip(&c) {
            if ci == 0.0 {
                continue;
            }
            for ((m, &v), &d) in moved.iter_mut().zip(row).zip(dir) {
                *m = f64::from(v) + sign * lambda / 2.0 * d;
            }
            let norm = moved.iter().map(|v| v * v).sum::<f64>().sqrt();
            let norm = if norm > 0.0 { norm } else { 1.0 };
            // Image rows add, text rows subtract: g = mean x' − mean y'.
            g.iter_mut()
                .zip(&moved)
                .for_each(|(acc, v)| *acc -= sign * ci * v / norm);
        }
    }
    (g / m).mapv(|v| v * v).sum().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sum_identities_match_brute_force() {
        let x = array![[1.0f32, 0.0], [0.6, 0.8], [0.0, 1.0]];
        let y = array![[0.8f32, 0.6], [0.0, 1.0], [-1.0, 0.0]];
        let mut brute = 0.0;
        let mut cone_brute = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    brute += dot_f32(x.row(i), y.row(j));
                    cone_brute += dot_f32(x.row(i), x.row(j));
                }
            }
        }
        assert!((mean_cos_unmatched(x.view(), y.view()) - brute / 6.0).abs() < 1e-9);
        assert!((cone(x.view()) - cone_brute / 6.0).abs() < 1e-9);
        let g = group_cosine_matrix(x.view(), &[vec![0, 1], vec![2], vec![]]);
        assert!((g[0][0].unwrap() - 0.6).abs() < 1e-6);
        assert!((g[0][1].unwrap() - 0.4).abs() < 1e-6);
        assert_eq!(g[1][1], None);
        assert_eq!(g[0][2], None);
    }

    #[test]
    fn cross_group_cosine_matches_numpy() {
        // Expected values: numpy 2.x in the project venv, float64 from these float32 rows,
        //   block = x[a] @ y[b].T; on a == b the diagonal (own pairs) dropped with
        //   block[~np.eye(len(a), dtype=bool)]; entry = block.mean().
        let x = array![
            [0.003f32, 0.7368, -0.6761],
            [-0.6324, -0.3229, -0.7042],
            [0.0421, 0.9379, -0.3444],
            [-0.7154, 0.5648, 0.4115],
            [0.1125, -0.9932, -0.0312]
        ];
        let y = array![
            [0.4398f32, -0.8502, -0.2894],
            [-0.6457, -0.438, -0.6255],
            [-0.1785, -0.9622, 0.2059],
            [0.062, -0.0739, -0.9953],
            [-0.9748, -0.0878, 0.205]
        ];
        let g = group_cross_cosine_matrix(x.view(), y.view(), &[vec![0, 1, 2], vec![3, 4], vec![]]);
        let want = [
            [-0.19557490699078048, 0.2800886292559118],
            [0.1543655546390145, 0.42178289458208923],
        ];
        for a in 0..2 {
            for b in 0..2 {
                assert!((g[a][b].unwrap() - want[a][b]).abs() < 1e-12, "{a} {b}");
            }
        }
        assert_eq!(g[0][2], None);
        assert_eq!(g[2][2], None);
        let single = group_cross_cosine_matrix(x.view(), y.view(), &[vec![0]]);
        assert_eq!(single[0][0], None);
    }

    #[test]
    fn shifting_by_the_gap_closes_it_for_antipodal_pairs() {
        let x = array![[1.0f32, 0.0], [1.0, 0.0]];
        let y = array![[-1.0f32, 0.0], [-1.0, 0.0]];
        let dir = gap_direction(x.view(), y.view());
        assert!((modality_gap(x.view(), y.view()) - 2.0).abs() < 1e-12);
        let x2 = shift_along(x.view(), dir.view(), 0.5, -1.0);
        assert_eq!(x2.row(0).to_vec(), vec![1.0, 0.0]);
    }

    #[test]
    fn histogram_bins_like_numpy() {
        let mut h = Histogram::new(-1.0, 1.0, 4);
        for v in [-1.0, -0.5, 0.0, 0.49, 1.0] {
            h.add(v);
        }
        assert_eq!(h.counts, vec![1, 1, 2, 1]);
        let area: f64 = h.density().iter().map(|d| d * 0.5).sum();
        assert!((area - 1.0).abs() < 1e-12);
    }
}
