/*!
Zero-shot classification from prompt embeddings.

- Class embedding = normalize(mean of the class's L2-normalised prompt embeddings) (CLIP_benchmark,
  `docs/formats.md` §1.2).
- `argmax` scorer (single-label sets): the predicted class of an image is the class embedding with
  the largest cosine; ties go to the class listed first.
- `posneg` scorer (multi-label sets, CheXzero): for each class with negative prompts,
  p(class) = softmax over (cos(x, positive class embedding), cos(x, negative class embedding)) of the
  positive entry, i.e. `1 / (1 + exp(cos_neg − cos_pos))`, on raw cosines (no temperature).
*/
use ndarray::{Array1, Array2, ArrayView2};

/// normalize(mean of the L2-normalised rows of `prompts`); `None` for no prompts or a zero mean.
pub fn class_embedding(prompts: ArrayView2<f32>) -> Option<Array1<f32>> {
    if prompts.nrows() == 0 {
        return None;
    }
    let mut mean = Array1::<f64>::zeros(prompts.ncols());
    for row in prompts.rows() {
        let norm = row
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 {
            mean.zip_mut_with(&row, |m, &v| *m += f64::from(v) / norm);
        }
    }
    let norm = mean.mapv(|v| v * v).sum().sqrt();
    (norm > 0.0 && norm.is_finite()).then(|| mean.mapv(|v| (v / norm) as f32))
}

/// Stack class embeddings as rows (classes × d).
pub fn stack(classes: &[Array1<f32>], dim: usize) -> Array2<f32> {
    let mut out = Array2::<f32>::zeros((classes.len(), dim));
    for (mut row, c) in out.rows_mut().into_iter().zip(classes) {
        row.assign(c);
    }
    out
}

/// Cosine of every image with every class embedding (images × classes).
pub fn class_scores(image: ArrayView2<f32>, classes: ArrayView2<f32>) -> Array2<f32> {
    image.dot(&classes.t())
}

/// argmax over each row; the first maximum wins a tie.
pub fn argmax_predictions(scores: ArrayView2<f32>) -> Vec<usize> {
    scores
        .rows()
        .into_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv { (i, v) } else { (bi, bv) }
                })
                .0
        })
        .collect()
}

/// CheXzero probability of the positive prompt: the first entry of softmax(cos_pos, cos_neg) per image.
pub fn posneg_probabilities(
    image: ArrayView2<f32>,
    positive: &Array1<f32>,
    negative: &Array1<f32>,
) -> Vec<f64> {
    let pos = image.dot(positive);
    let neg = image.dot(negative);
    pos.iter()
        .zip(neg.iter())
        .map(|(&p, &n)| 1.0 / (1.0 + (f64::from(n) - f64::from(p)).exp()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn class_embedding_normalises_prompts_first() {
        // A long prompt vector must not dominate the mean.
        let p = array![[10.0f32, 0.0], [0.0, 1.0]];
        let c = class_embedding(p.view()).unwrap();
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((c[0] - h).abs() < 1e-6 && (c[1] - h).abs() < 1e-6);
        assert!(class_embedding(Array2::<f32>::zeros((0, 2)).view()).is_none());
    }

    #[test]
    fn argmax_ties_go_to_the_first_class() {
        let s = array![[0.5f32, 0.5, 0.1], [0.1, 0.2, 0.3]];
        assert_eq!(argmax_predictions(s.view()), vec![0, 2]);
    }

    #[test]
    fn posneg_is_a_two_way_softmax() {
        let img = array![[1.0f32, 0.0]];
        let p = posneg_probabilities(img.view(), &array![1.0f32, 0.0], &array![0.0f32, 1.0]);
        assert!((p[0] - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
    }
}
