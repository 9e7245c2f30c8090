//! Snippet selection on a small known case: three well-separated groups of report embeddings, a query
//! nearest group A. With k = 3, m = 2 the top 6 reports span the three groups; KMeans must find them and
//! keep each group's member nearest its centroid, ordered by cosine to the query.
use eclip_workbench::rag::select::{
    nearest_to_centroid, rank, select_snippets, select_snippets_on,
};
use ndarray::{Array1, Array2, array};

fn normalized(rows: Vec<[f32; 3]>) -> Array2<f32> {
    let mut a = Array2::from_shape_vec((rows.len(), 3), rows.into_iter().flatten().collect())
        .expect("shape");
    for mut r in a.rows_mut() {
        let n = r.dot(&r).sqrt();
        r /= n;
    }
    a
}

fn corpus() -> Array2<f32> {
    normalized(vec![
        // group A around x: 0 is the central member (others symmetric around it)
        [1.0, 0.0, 0.0],
        [1.0, 0.1, 0.0],
        [1.0, -0.1, 0.0],
        // group B around y (1.0, 0.3 off-axis towards x so it ranks second)
        [0.3, 1.0, 0.0],
        [0.35, 1.0, 0.05],
        // group C around z
        [0.2, 0.0, 1.0],
        // far away: never in the top 6
        [-1.0, 0.0, 0.0],
        [-1.0, 0.2, 0.0],
    ])
}

#[test]
fn kmeans_keeps_one_report_per_group() {
    let c = corpus();
    let q: Array1<f32> = array![1.0, 0.2, 0.1];
    let top = rank(q.view(), c.view(), None);
    assert_eq!(top.len(), 8);
    assert!(
        top[6..].contains(&6) && top[6..].contains(&7),
        "far reports rank last: {top:?}"
    );
    for seed in 0..5 {
        let s = select_snippets(q.view(), c.view(), 3, 2, seed, None).expect("selects");
        // Group A keeps its central member 0; group B one of {3, 4}; group C its only member 5.
        assert_eq!(s.len(), 3, "seed {seed}: {s:?}");
        assert_eq!(s[0], 0, "seed {seed}: {s:?}");
        assert!(s[1] == 3 || s[1] == 4, "seed {seed}: {s:?}");
        assert_eq!(s[2], 5, "seed {seed}: {s:?}");
        // Deterministic for a seed.
        assert_eq!(
            s,
            select_snippets(q.view(), c.view(), 3, 2, seed, None).expect("selects")
        );
    }
}

#[test]
fn exclusion_small_corpus_and_errors() {
    let c = corpus();
    let q: Array1<f32> = array![1.0, 0.0, 0.0];
    let s = select_snippets(q.view(), c.view(), 3, 2, 0, Some(0)).expect("selects");
    assert!(!s.contains(&0), "excluded report is never a snippet: {s:?}");
    // k larger than the corpus: every report, in rank order.
    let small = c.slice(ndarray::s![0..2, ..]).to_owned();
    assert_eq!(
        select_snippets(q.view(), small.view(), 5, 20, 0, None).expect("selects"),
        vec![0, 1]
    );
    let empty = Array2::<f32>::zeros((0, 3));
    assert!(select_snippets(q.view(), empty.view(), 5, 20, 0, None).is_err());
    let q2: Array1<f32> = array![1.0, 0.0];
    assert!(select_snippets(q2.view(), c.view(), 5, 20, 0, None).is_err());
}

#[test]
fn centroid_pick() {
    let c = corpus();
    let group_a = c.slice(ndarray::s![0..3, ..]).to_owned();
    assert_eq!(nearest_to_centroid(group_a.view()), Some(0));
    assert_eq!(
        nearest_to_centroid(Array2::<f32>::zeros((0, 3)).view()),
        None
    );
}

/// `select_snippets_on` clusters another embedding space (a separate text encoder's pooled,
/// unnormalised embeddings) while the ranking stays the model's: with the top 6 of `corpus()`
/// regrouped as {0, 3}, {1, 4}, {2, 5} in the cluster space, the snippets are one member of each of
/// those pairs, and a cluster matrix with the wrong row count is an error.
#[test]
fn clustering_on_a_separate_space_follows_that_space() {
    let c = corpus();
    let q: Array1<f32> = array![1.0, 0.2, 0.1];
    // Three tight pairs far apart, unnormalised (lengths around 10): KMeans must find the pairs.
    let cluster: Array2<f32> = array![
        [10.0, 0.0, 0.0],
        [0.0, 10.0, 0.0],
        [0.0, 0.0, 10.0],
        [10.5, 0.0, 0.0],
        [0.0, 10.5, 0.0],
        [0.0, 0.0, 10.5],
        [5.0, 5.0, 5.0],
        [5.0, 5.0, 5.0],
    ];
    for seed in 0..3 {
        let s = select_snippets_on(q.view(), c.view(), cluster.view(), 3, 2, seed, None)
            .expect("selects");
        assert_eq!(s.len(), 3, "{s:?}");
        let mut pairs: Vec<usize> = s.iter().map(|&i| i % 3).collect();
        pairs.sort_unstable();
        assert_eq!(pairs, vec![0, 1, 2], "seed {seed}: {s:?}");
        // Ordered by the model's cosine to the query, as without a separate space.
        let top = rank(q.view(), c.view(), None);
        let pos: Vec<usize> = s
            .iter()
            .map(|i| top.iter().position(|t| t == i).unwrap_or(usize::MAX))
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{s:?}");
    }
    // Each pair's member nearer its centroid by cosine is the one kept: in a pair of parallel
    // vectors both have cosine 1 to the centroid, so the first (better-ranked) one is kept.
    let s = select_snippets_on(q.view(), c.view(), cluster.view(), 3, 2, 0, None).expect("ok");
    let top = rank(q.view(), c.view(), None);
    let at = |i: usize| top.iter().position(|&t| t == i).unwrap_or(usize::MAX);
    assert!(s.iter().all(|&i| at(i) < at((i + 3) % 6)), "{s:?}");
    assert!(
        select_snippets_on(
            q.view(),
            c.view(),
            cluster.slice(ndarray::s![..7, ..]),
            3,
            2,
            0,
            None
        )
        .is_err()
    );
}
