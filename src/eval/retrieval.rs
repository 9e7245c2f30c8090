/*!
Cross-modal retrieval: the rank of each query's paired item among all candidates, and the recall,
median-rank and MRR summaries of those ranks.

Definitions (open_clip's except the default median rank, recorded in every report):
- scores are dot products of L2-normalised embeddings (cosine similarity);
- rank (0-based) of the paired candidate `p` of a query = `#{j : s_j > s_p} + #{j < p : s_j = s_p}`:
  ties are broken by candidate index, never in the model's favour by accident;
- `r@k` = fraction of queries with rank < k (so with fewer than k candidates every query is a hit);
- `median_rank` is, by default, the median of the 1-based ranks (numpy median of `rank + 1`: a half
  for an even count where the middle ranks differ); open_clip's own convention, floor(median of the
  0-based ranks) + 1, is [`MedianRankConvention::OpenClipFloor`] (see there for the source);
- `mrr` = mean of `1 / (rank + 1)`.

Image→text and text→image ranks come from one pass over blocks of the similarity matrix: a block of
`chunk` query rows against all `N` candidates is scored with one matrix product, each row's rank is
counted for image→text, and each column's count of larger/earlier-equal scores is accumulated for
text→image. Memory is O(chunk · N) per worker thread, never N × N. The diagonal scores the ranks are
compared with are taken from the same blocked products, so a candidate identical to the paired one
(a duplicate report) compares *equal* and is ranked by index, exactly as a full-matrix computation
would.

With duplicate reports the paired text is not the only correct one; [`unique_gallery`] gives the
eCLIP paper's Open-I protocol instead: the gallery holds each distinct report string once and a query
hits when its own report string is in the top k.
*/
use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Largest similarity block, in scores, one worker holds at a time (32 MiB of f32).
const BLOCK_SCORES: usize = 1 << 23;

/// Query rows per block for `n_candidates` candidates: `BLOCK_SCORES / n`, between 16 and 1024.
pub fn default_chunk(n_candidates: usize) -> usize {
    (BLOCK_SCORES / n_candidates.max(1)).clamp(16, 1024)
}

/// 0-based ranks of the paired items in both directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedRanks {
    /// Image query `i`: rank of text `i` among all texts.
    pub i2t: Vec<usize>,
    /// Text query `j`: rank of image `j` among all images.
    pub t2i: Vec<usize>,
}

/// Ranks of the paired items for `image[i]` ↔ `text[i]`, in blocks of `chunk` image rows.
///
/// Panics if the two arrays differ in shape (a programming error: both come from one split).
pub fn paired_ranks(image: ArrayView2<f32>, text: ArrayView2<f32>, chunk: usize) -> PairedRanks {
    assert_eq!(
        image.dim(),
        text.dim(),
        "image and text embeddings must pair up"
    );
    let n = image.nrows();
    let chunk = chunk.max(1);
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    // Diagonal scores from the same blocked products used for ranking (see the module docs).
    let diag: Vec<f32> = starts
        .par_iter()
        .flat_map_iter(|&s0| {
            let s1 = (s0 + chunk).min(n);
            let block = image
                .slice(s![s0..s1, ..])
                .dot(&text.slice(s![s0..s1, ..]).t());
            (0..s1 - s0).map(move |k| block[[k, k]])
        })
        .collect();
    let (i2t, t2i_counts) = starts
        .par_iter()
        .map(|&s0| {
            let s1 = (s0 + chunk).min(n);
            let block = image.slice(s![s0..s1, ..]).dot(&text.t());
            let mut row_ranks = Vec::with_capacity(s1 - s0);
            let mut col_counts = vec![0usize; n];
            for (k, row) in block.axis_iter(Axis(0)).enumerate() {
                let i = s0 + k;
                let d = diag[i];
                let mut rank = 0usize;
                for (j, (&v, count)) in row.iter().zip(col_counts.iter_mut()).enumerate() {
                    // image→text: texts scoring above text i, or equal at a smaller index.
                    rank += usize::from(v > d || (v == d && j < i));
                    // text→image for query j: image i outranks image j.
                    let dj = diag[j];
                    *count += usize::from(v > dj || (v == dj && i < j));
                }
                // The paired entry itself never counts (v == d, j == i; for t2i i == j).
                row_ranks.push(rank);
            }
            (row_ranks, col_counts)
        })
        .reduce(
            || (Vec::new(), vec![0usize; n]),
            |(mut ra, mut ca), (rb, cb)| {
                ra.extend(rb);
                ca.iter_mut().zip(cb).for_each(|(a, b)| *a += b);
                (ra, ca)
            },
        );
    PairedRanks {
        i2t,
        t2i: t2i_counts,
    }
}

/// A gallery of distinct report strings: `gallery[g]` is the first row holding that string, and
/// `target[i]` the gallery entry of row `i`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueGallery {
    pub gallery: Vec<usize>,
    pub target: Vec<usize>,
}

/// Deduplicate reports by exact string, keeping first occurrences in order.
pub fn unique_gallery<S: AsRef<str>>(reports: &[S]) -> UniqueGallery {
    let mut seen = std::collections::HashMap::new();
    let mut gallery = Vec::new();
    let target = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            *seen.entry(r.as_ref()).or_insert_with(|| {
                gallery.push(i);
                gallery.len() - 1
            })
        })
        .collect();
    UniqueGallery { gallery, target }
}

/// Image→text ranks against a unique-report gallery: for image `i`, the 0-based rank of
/// `gallery.target[i]` among the gallery's texts (ties by gallery index).
pub fn gallery_ranks(
    image: ArrayView2<f32>,
    text: ArrayView2<f32>,
    gallery: &UniqueGallery,
    chunk: usize,
) -> Vec<usize> {
    let texts: Array2<f32> = text.select(Axis(0), &gallery.gallery);
    let n = image.nrows();
    let chunk = chunk.max(1);
    (0..n)
        .step_by(chunk)
        .collect::<Vec<_>>()
        .par_iter()
        .flat_map_iter(|&s0| {
            let s1 = (s0 + chunk).min(n);
            let block = image.slice(s![s0..s1, ..]).dot(&texts.t());
            (s0..s1)
                .map(|i| {
                    let row = block.row(i - s0);
                    let p = gallery.target[i];
                    let d = row[p];
                    row.iter()
                        .enumerate()
                        .filter(|&(j, &v)| v > d || (v == d && j < p))
                        .count()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Fraction of (resampled) queries with rank < k. NaN for no queries.
pub fn recall_at(ranks: &[usize], k: usize, idx: Option<&[usize]>) -> f64 {
    super::stats::mean_over_items(ranks.len(), idx, |i| f64::from(u8::from(ranks[i] < k)))
}

/// Mean reciprocal rank: mean of 1 / (rank + 1). NaN for no queries.
pub fn mrr(ranks: &[usize], idx: Option<&[usize]>) -> f64 {
    super::stats::mean_over_items(ranks.len(), idx, |i| 1.0 / (ranks[i] + 1) as f64)
}

/// How a median rank is turned into one number. The two conventions differ by 0.5 exactly when the
/// median of the 0-based ranks falls halfway between two integers (an even count whose two middle
/// ranks differ by an odd number); otherwise they agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MedianRankConvention {
    /// "median of 1-based ranks": numpy `np.median(rank + 1)` (mean of the two middle values for an
    /// even count). The workbench's default.
    #[default]
    MedianOfOneBased,
    /// "floor(median of 0-based ranks) + 1": open_clip's `np.floor(np.median(ranks)) + 1`, an integer
    /// (open_clip @89fb801 `src/open_clip_train/metrics.py` line 174, in `_add_rank_metrics`; older
    /// releases have the same line in `src/open_clip_train/train.py` `get_clip_metrics`).
    OpenClipFloor,
}

impl MedianRankConvention {
    /// Both conventions, default first.
    pub const ALL: [MedianRankConvention; 2] = [
        MedianRankConvention::MedianOfOneBased,
        MedianRankConvention::OpenClipFloor,
    ];

    /// The name a report records (also the serde spelling).
    pub fn name(self) -> &'static str {
        match self {
            MedianRankConvention::MedianOfOneBased => "median-of-one-based",
            MedianRankConvention::OpenClipFloor => "open-clip-floor",
        }
    }

    /// The definition in words, for a report's definitions.
    pub fn definition(self) -> &'static str {
        match self {
            MedianRankConvention::MedianOfOneBased => {
                "median of 1-based ranks (numpy median of rank + 1; halves possible)"
            }
            MedianRankConvention::OpenClipFloor => {
                "open_clip: floor(median of 0-based ranks) + 1 (an integer)"
            }
        }
    }

    /// The convention named `name` (as [`MedianRankConvention::name`] spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Median of the 1-based ranks (mean of the two middle values for an even count). NaN for none.
/// The workbench's default convention; [`median_rank_with`] takes the convention as a parameter.
pub fn median_rank(ranks: &[usize], idx: Option<&[usize]>) -> f64 {
    median_rank_with(ranks, idx, MedianRankConvention::MedianOfOneBased)
}

/// Median rank of the (resampled) 0-based `ranks` under `convention`. NaN for no queries.
pub fn median_rank_with(
    ranks: &[usize],
    idx: Option<&[usize]>,
    convention: MedianRankConvention,
) -> f64 {
    let mut v: Vec<usize> = match idx {
        Some(idx) => idx.iter().map(|&i| ranks[i]).collect(),
        None => ranks.to_vec(),
    };
    if v.is_empty() {
        return f64::NAN;
    }
    let mid = v.len() / 2;
    let (_, &mut hi, _) = v.select_nth_unstable(mid);
    // Median of the 0-based ranks, as numpy computes it.
    let median0 = if v.len() % 2 == 1 {
        hi as f64
    } else {
        let lo = *v[..mid].iter().max().unwrap_or(&hi);
        (lo + hi) as f64 / 2.0
    };
    match convention {
        MedianRankConvention::MedianOfOneBased => median0 + 1.0,
        MedianRankConvention::OpenClipFloor => median0.floor() + 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ties_break_by_index_and_chunking_does_not_matter() {
        // Texts 0 and 1 are identical (a duplicate report); images 2 and 3 are identical.
        let img = array![[1.0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]];
        let txt = array![[1.0f32, 0.0], [1.0, 0.0], [0.6, 0.8], [0.0, 1.0]];
        for chunk in [1, 2, 3, 16] {
            let r = paired_ranks(img.view(), txt.view(), chunk);
            // image 1: text 0 ties with text 1 at a smaller index.
            assert_eq!(r.i2t, vec![0, 1, 1, 0], "chunk {chunk}");
            // text 3: image 2 ties with image 3 at a smaller index.
            assert_eq!(r.t2i, vec![0, 1, 0, 1], "chunk {chunk}");
        }
    }

    #[test]
    fn recall_with_fewer_candidates_than_k_is_one() {
        let ranks = [0, 1];
        assert_eq!(recall_at(&ranks, 10, None), 1.0);
        assert_eq!(recall_at(&ranks, 1, None), 0.5);
        assert_eq!(median_rank(&ranks, None), 1.5);
        assert!((mrr(&ranks, None) - 0.75).abs() < 1e-12);
        assert!(recall_at(&[], 1, None).is_nan());
    }

    #[test]
    fn median_rank_conventions_match_numpy() {
        // 0-based ranks, then np.median(r + 1) and np.floor(np.median(r)) + 1 (numpy 2.4.6, venv):
        // .venv/bin/python -c "import numpy as np; a = np.array(R); print(np.median(a + 1), np.floor(np.median(a)) + 1)"
        let cases: &[(&[usize], f64, f64)] = &[
            (&[0, 1], 1.5, 1.0),
            (&[3, 0, 2, 7], 3.5, 3.0),
            (&[5], 6.0, 6.0),
            (&[0, 0, 1, 4, 9, 2], 2.5, 2.0),
            (&[2, 2, 3, 3], 3.5, 3.0),
        ];
        for &(r, ours, open_clip) in cases {
            assert_eq!(median_rank(r, None), ours, "{r:?}");
            assert_eq!(
                median_rank_with(r, None, MedianRankConvention::MedianOfOneBased),
                ours
            );
            assert_eq!(
                median_rank_with(r, None, MedianRankConvention::OpenClipFloor),
                open_clip,
                "{r:?}"
            );
        }
        // Resampled indices are honoured (items 1, 3, 3 → ranks 0, 7, 7).
        let r = [3, 0, 2, 7];
        assert_eq!(
            median_rank_with(&r, Some(&[1, 3, 3]), MedianRankConvention::OpenClipFloor),
            8.0
        );
        assert!(median_rank_with(&[], None, MedianRankConvention::OpenClipFloor).is_nan());
        for c in MedianRankConvention::ALL {
            assert_eq!(MedianRankConvention::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn unique_gallery_hits_on_exact_strings() {
        let reports = ["a", "b", "a", "c"];
        let g = unique_gallery(&reports);
        assert_eq!(g.gallery, vec![0, 1, 3]);
        assert_eq!(g.target, vec![0, 1, 0, 2]);
        let img = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [0.7, 0.7]];
        let txt = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]];
        assert_eq!(
            gallery_ranks(img.view(), txt.view(), &g, 2),
            vec![0, 0, 0, 0]
        );
    }
}
