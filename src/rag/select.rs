/*!
Snippet selection, as in the eCLIP paper: the query image's embedding ranks the corpus reports by
cosine, the top `k·m` are clustered into `k` groups by KMeans on their text embeddings (linfa,
seeded), and the report nearest each centroid is kept, giving `k` diverse snippets.

Pure: embeddings in, corpus indices out. Embeddings are L2-normalised, so cosine is a dot product.
*/
use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::KMeans;
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Why snippets could not be selected.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("the corpus is empty")]
    EmptyCorpus,
    #[error("query dimension {query} differs from the corpus text dimension {corpus}")]
    Dimension { query: usize, corpus: usize },
    #[error("KMeans failed: {0}")]
    KMeans(String),
}

/// Corpus indices ordered by descending cosine to `query` (ties by index), skipping `exclude`.
pub fn rank(query: ArrayView1<f32>, corpus: ArrayView2<f32>, exclude: Option<usize>) -> Vec<usize> {
    let scores = corpus.dot(&query);
    let mut idx: Vec<usize> = (0..corpus.nrows())
        .filter(|&i| Some(i) != exclude)
        .collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx
}

/// `k` diverse snippets for `query` (fewer when the corpus is smaller), as corpus indices ordered
/// by their cosine to the query. `exclude` removes one corpus entry (a few-shot example's own report).
pub fn select_snippets(
    query: ArrayView1<f32>,
    corpus: ArrayView2<f32>,
    k: usize,
    m: usize,
    seed: u64,
    exclude: Option<usize>,
) -> Result<Vec<usize>, SelectError> {
    if corpus.nrows() == 0 {
        return Err(SelectError::EmptyCorpus);
    }
    if corpus.ncols() != query.len() {
        return Err(SelectError::Dimension {
            query: query.len(),
            corpus: corpus.ncols(),
        });
    }
    let ranked = rank(query, corpus, exclude);
    let top: Vec<usize> = ranked.into_iter().take(k.max(1) * m.max(1)).collect();
    let k = k.max(1).min(top.len());
    if k == top.len() {
        return Ok(top);
    }
    let records: Array2<f64> = corpus.select(Axis(0), &top).mapv(f64::from);
    let model = KMeans::params_with_rng(k, StdRng::seed_from_u64(seed))
        .n_runs(4)
        .max_n_iterations(300)
        .tolerance(1e-6)
        .fit(&DatasetBase::from(records.clone()))
        .map_err(|e| SelectError::KMeans(e.to_string()))?;
    let centroids = model.centroids();
    // Each cluster keeps its member nearest to its centroid; membership = nearest centroid.
    let mut best: Vec<Option<(f64, usize)>> = vec![None; centroids.nrows()];
    for (pos, row) in records.outer_iter().enumerate() {
        let dists: Vec<f64> = centroids
            .outer_iter()
            .map(|c| (&row - &c).mapv(|v| v * v).sum())
            .collect();
        let (cluster, &d) = dists
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("k >= 1 centroids");
        if best[cluster].is_none_or(|(bd, _)| d < bd) {
            best[cluster] = Some((d, pos));
        }
    }
    // `top` is in rank order, so sorting by position orders snippets by cosine to the query.
    let mut picked: Vec<usize> = best.into_iter().flatten().map(|(_, pos)| pos).collect();
    picked.sort_unstable();
    Ok(picked.into_iter().map(|pos| top[pos]).collect())
}

/// Index into `candidates` of the row nearest (cosine) to the normalised mean of `candidates`.
pub fn nearest_to_centroid(candidates: ArrayView2<f32>) -> Option<usize> {
    if candidates.nrows() == 0 {
        return None;
    }
    let mean = candidates.mean_axis(Axis(0))?;
    let scores = candidates.dot(&mean);
    (0..scores.len()).max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
}
