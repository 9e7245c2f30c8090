/*!
Live queries over cached embeddings: cosine scores, top-k, per-class probabilities.

These run on the query thread (see [`crate::tui::worker`]) every time the user types a prompt,
picks a class or opens an image, so they must stay fast at 100k cached embeddings: one
matrix–vector product over L2-normalised rows (cosine = dot product) and a partial selection of
the k best, not a full sort. Ties go to the smaller index, as open_clip ranks, so results are
deterministic. Everything here is a pure function of its arguments.
*/
use ndarray::{ArrayView1, ArrayView2, Axis};

use super::state::Hit;
use crate::eval::inference::calibration;

/// Encodes free text into each model's embedding space.
///
/// Implemented by the core text encoder at integration; tests use small hand-made encoders.
pub trait PromptEncoder: Send {
    /// One L2-normalised `[texts.len(), dim]` matrix per model, in the gallery's model order.
    ///
    /// # Errors
    /// When tokenising or running a text graph fails; the message names the model.
    fn encode(
        &mut self,
        texts: &[String],
    ) -> Result<Vec<ndarray::Array2<f32>>, Box<dyn std::error::Error + Send + Sync>>;
}

/// Rows per parallel chunk of [`scores`]; smaller galleries are scored on the calling thread.
const CHUNK: usize = 16_384;

/// Cosine scores of `query` against every row of `gallery` (both L2-normalised). Large galleries
/// are scored in parallel chunks (rayon).
pub fn scores(gallery: ArrayView2<'_, f32>, query: ArrayView1<'_, f32>) -> Vec<f32> {
    use rayon::prelude::*;
    if gallery.nrows() <= CHUNK {
        return gallery.dot(&query).to_vec();
    }
    let chunks: Vec<ArrayView2<'_, f32>> = gallery.axis_chunks_iter(Axis(0), CHUNK).collect();
    chunks
        .par_iter()
        .map(|c| c.dot(&query).to_vec())
        .collect::<Vec<_>>()
        .concat()
}

/// The `k` highest scores, best first; ties go to the smaller index. `k` larger than the gallery
/// returns every row. NaN scores rank last.
pub fn top_k(scores: &[f32], k: usize) -> Vec<Hit> {
    let k = k.min(scores.len());
    if k == 0 {
        return Vec::new();
    }
    let better = |a: &usize, b: &usize| {
        let (sa, sb) = (scores[*a], scores[*b]);
        match (sa.is_nan(), sb.is_nan()) {
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => sb
                .partial_cmp(&sa)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.cmp(b)),
        }
    };
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, better);
        idx.truncate(k);
    }
    idx.sort_unstable_by(better);
    idx.into_iter()
        .map(|item| Hit {
            item,
            score: scores[item],
        })
        .collect()
}

/// Top-k rows of `gallery` for one query vector.
pub fn search(gallery: ArrayView2<'_, f32>, query: ArrayView1<'_, f32>, k: usize) -> Vec<Hit> {
    top_k(&scores(gallery, query), k)
}

/// Zero-shot class probabilities of one image: `softmax(logit_scale · cos)` to each class
/// embedding, with the model's learned `logit_scale` from model.json (the one definition of
/// [`calibration::softmax_scaled`], as the report's calibration rows). Empty when the model has no
/// `logit_scale` (the panel then says so instead of showing numbers).
pub fn class_probabilities(
    classes: ArrayView2<'_, f32>,
    image: ArrayView1<'_, f32>,
    logit_scale: Option<f64>,
) -> Vec<f32> {
    let Some(scale) = logit_scale else {
        return Vec::new();
    };
    let cos = classes.dot(&image).insert_axis(Axis(0));
    match calibration::softmax_scaled(cos.view(), scale) {
        Ok(p) => p.iter().map(|&v| v as f32).collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, array};

    /// Naive reference: score every row, full stable sort by (score desc, index asc).
    fn naive(g: &Array2<f32>, q: &Array1<f32>, k: usize) -> Vec<usize> {
        let mut s: Vec<(usize, f32)> = g
            .rows()
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i, r.iter().zip(q.iter()).map(|(a, b)| a * b).sum()))
            .collect();
        s.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then(a.0.cmp(&b.0)));
        s.into_iter().take(k).map(|(i, _)| i).collect()
    }

    #[test]
    fn top_k_matches_naive_sort_on_seeded_data() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let g = Array2::from_shape_fn((500, 16), |_| rng.gen_range(-1.0f32..1.0));
        let q = Array1::from_shape_fn(16, |_| rng.gen_range(-1.0f32..1.0));
        let big = Array2::from_shape_fn((CHUNK * 2 + 3, 4), |_| rng.gen_range(-1.0f32..1.0));
        let bq = Array1::from_shape_fn(4, |_| rng.gen_range(-1.0f32..1.0));
        let got: Vec<usize> = search(big.view(), bq.view(), 20)
            .iter()
            .map(|h| h.item)
            .collect();
        assert_eq!(got, naive(&big, &bq, 20), "chunked scoring");
        for k in [1, 5, 37, 500, 900] {
            let got: Vec<usize> = search(g.view(), q.view(), k)
                .iter()
                .map(|h| h.item)
                .collect();
            assert_eq!(got, naive(&g, &q, k), "k = {k}");
        }
    }

    #[test]
    fn ties_go_to_the_smaller_index_and_nan_ranks_last() {
        let hits = top_k(&[0.5, f32::NAN, 0.9, 0.5, 0.9], 4);
        let order: Vec<usize> = hits.iter().map(|h| h.item).collect();
        assert_eq!(order, vec![2, 4, 0, 3]);
        assert!(top_k(&[], 3).is_empty());
        assert!(top_k(&[1.0], 0).is_empty());
    }

    #[test]
    fn class_probabilities_are_a_softmax_at_the_models_logit_scale() {
        let classes = array![[1.0f32, 0.0], [0.0, 1.0]];
        let image = array![0.6f32, 0.8];
        let p = class_probabilities(classes.view(), image.view(), Some(14.28));
        // softmax([0.6, 0.8] * 14.28) = [1/(1+e^2.856), e^2.856/(1+e^2.856)] (by hand).
        let expected1 = 1.0 / (1.0 + (-0.2f32 * 14.28).exp());
        assert!((p[1] - expected1).abs() < 1e-6, "{p:?}");
        assert!((p[0] + p[1] - 1.0).abs() < 1e-6);
        // Not saturated at the learned scale (softmax of 100·cos would give 1 - 2e-9).
        assert!(p[1] < 0.95);
        assert!(class_probabilities(classes.view(), image.view(), None).is_empty());
    }
}
