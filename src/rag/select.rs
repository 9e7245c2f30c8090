/*!
Snippet selection, as in the eCLIP paper: the query image's embedding ranks the corpus reports by
cosine, the top `k·m` are clustered into `k` groups by KMeans (linfa, seeded) on their text
embeddings — the model's own, or those of a separate text encoder ([`select_snippets_on`]) — and
the member nearest each centroid by cosine distance is kept (eCLIP: `cdist(..., "cosine")`),
giving `k` diverse snippets.

Pure: embeddings in, corpus indices out. The model's embeddings are L2-normalised, so cosine is a
dot product (and the cosine-nearest member is also the Euclidean-nearest one).
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
    #[error(
        "the clustering embeddings have {cluster} rows for a corpus of {corpus} (one per corpus report expected)"
    )]
    ClusterRows { cluster: usize, corpus: usize },
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
    select_snippets_on(query, corpus, corpus, k, m, seed, exclude)
}

/// [`select_snippets`] with the KMeans on `cluster` (row `i` = corpus entry `i`, e.g. a separate
/// text encoder's pooled embeddings) instead of the retrieval embeddings `corpus`.
pub fn select_snippets_on(
    query: ArrayView1<f32>,
    corpus: ArrayView2<f32>,
    cluster: ArrayView2<f32>,
    k: usize,
    m: usize,
    seed: u64,
    exclude: Option<usize>,
) -> Result<Vec<usize>, SelectError> {
    if cluster.nrows() != corpus.nrows() {
        return Err(SelectError::ClusterRows {
            cluster: cluster.nrows(),
            corpus: corpus.nrows(),
        });
    }
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
    let records: Array2<f64> = cluster.select(Axis(0), &top).mapv(f64::from);
    let model = KMeans::params_with_rng(k, StdRng::seed_from_u64(seed))
        .n_runs(4)
        .max_n_iterations(300)
        .tolerance(1e-6)
        .fit(&DatasetBase::from(records.clone()))
        .map_err(|e| SelectError::KMeans(e.to_string()))?;
    let centroids = model.centroids();
    // Membership = nearest centroid (Euclidean, as KMeans assigns); each cluster keeps the member
    // with the smallest cosine distance to its centroid.
    let mut best: Vec<Option<(f64, usize)>> = vec![None; centroids.nrows()];
    for (pos, row) in records.outer_iter().enumerate() {
        let dists: Vec<f64> = centroids
            .outer_iter()
            .map(|c| (&row - &c).mapv(|v| v * v).sum())
            .collect();
        let Some((cluster, _)) = dists
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
        else {
            continue;
        };
        let c = centroids.row(cluster);
        let denom = (row.dot(&row) * c.dot(&c)).sqrt();
        let d = if denom > 0.0 {
            1.0 - row.dot(&c) / denom
        } else {
            1.0
        };
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
