/*!
Zero-shot classification from prompt embeddings.

- Class embedding = normalize(mean of the class's L2-normalised prompt embeddings) (CLIP_benchmark,
  CheXzero, `docs/formats.md` §1.2), or, under the `eclip-paper` protocol, the mean of the
  normalised prompt embeddings without the final normalisation ([`ClassEmbedding`],
  `docs/protocols.md`).
- `argmax` scorer (single-label sets): the predicted class of an image is the class embedding with
  the largest cosine; ties go to the class listed first.
- `posneg` scorer (multi-label sets, CheXzero): for each class with negative prompts,
  p(class) = softmax over (cos(x, positive class embedding), cos(x, negative class embedding)) of the
  positive entry, i.e. `1 / (1 + exp(s·(cos_neg − cos_pos)))`, with the protocol's logit scale `s`
  (1 = raw cosines, CheXzero's).
*/
use ndarray::{Array1, Array2, ArrayView2};

use super::protocol::ClassEmbedding;

/// normalize(mean of the L2-normalised rows of `prompts`) (the workbench default,
/// [`ClassEmbedding::Renormalised`]); `None` for no prompts or a zero mean.
pub fn class_embedding(prompts: ArrayView2<f32>) -> Option<Array1<f32>> {
    class_embedding_with(prompts, ClassEmbedding::Renormalised)
}

/// The class embedding of `prompts` under `rule`: the mean of the L2-normalised rows, re-normalised
/// for [`ClassEmbedding::Renormalised`] and left as is for [`ClassEmbedding::MeanOfNormalised`].
/// `None` for no prompts or a zero (or non-finite) mean.
pub fn class_embedding_with(prompts: ArrayView2<f32>, rule: ClassEmbedding) -> Option<Array1<f32>> {
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
    let divisor = match rule {
        ClassEmbedding::Renormalised => norm,
        ClassEmbedding::MeanOfNormalised => prompts.nrows() as f64,
    };
    (norm > 0.0 && norm.is_finite()).then(|| mean.mapv(|v| (v / divisor) as f32))
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

/// CheXzero probability of the positive prompt: the first entry of softmax(cos_pos, cos_neg) per
/// image, on raw cosines.
pub fn posneg_probabilities(
    image: ArrayView2<f32>,
    positive: &Array1<f32>,
    negative: &Array1<f32>,
) -> Vec<f64> {
    posneg_probabilities_scaled(image, positive, negative, 1.0)
}

/// The first entry of softmax(s·cos_pos, s·cos_neg) per image (`s` = the protocol's logit scale).
pub fn posneg_probabilities_scaled(
    image: ArrayView2<f32>,
    positive: &Array1<f32>,
    negative: &Array1<f32>,
    scale: f64,
) -> Vec<f64> {
    let pos = image.dot(positive);
    let neg = image.dot(negative);
    pos.iter()
        .zip(neg.iter())
        .map(|(&p, &n)| 1.0 / (1.0 + (scale * (f64::from(n) - f64::from(p))).exp()))
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

    /// Values from `onnx-export/scripts/eclip_zeroshot_reference.py` (numpy 64-bit; run
    /// `.venv/bin/python onnx-export/scripts/eclip_zeroshot_reference.py`), on the rounded inputs it
    /// prints: prompts per class (1, 3 and 5 prompts) and six images L2-normalised here.
    #[test]
    fn eclip_paper_class_embeddings_match_numpy() {
        let prompts = [
            array![[0.1257f32, -0.1321, 0.6404, 0.1049]],
            array![
                [-0.5357f32, 0.3616, 1.304, 0.9471],
                [-0.7037, -1.2654, -0.6233, 0.0413],
                [-2.325, -0.2188, -1.2459, -0.7323]
            ],
            array![
                [-0.5443f32, -0.3163, 0.4116, 1.0425],
                [-0.1285, 1.3665, -0.6652, 0.3515],
                [0.9035, 0.094, -0.7435, -0.9217],
                [-0.4577, 0.2202, -1.0096, -0.2092],
                [-0.1592, 0.5408, 0.2147, 0.3554]
            ],
        ];
        let mut images = array![
            [-0.6538f32, -0.1296, 0.784, 1.4934],
            [-1.2591, 1.5139, 1.3459, 0.7813],
            [0.2645, -0.3139, 1.458, 1.9603],
            [1.8016, 1.3151, 0.3574, -1.2083],
            [-0.0045, 0.6565, -1.2884, 0.3951],
            [0.4299, 0.696, -1.1841, -0.6617]
        ];
        for mut row in images.rows_mut() {
            let n = row.mapv(|v| v * v).sum().sqrt();
            row.mapv_inplace(|v| v / n);
        }
        let cases = [
            (
                ClassEmbedding::Renormalised,
                [1.0, 1.0, 1.0],
                [
                    [0.48562264, 0.47220336, 0.07905385],
                    [0.34615564, 0.24865084, 0.38805787],
                    [0.72703413, 0.05551763, -0.16580628],
                    [0.08968063, -0.92241663, -0.01585601],
                    [-0.86192965, -0.0711732, 0.86862994],
                    [-0.81069109, -0.44426298, 0.51786051],
                ],
                vec![0, 2, 0, 0, 2, 2],
            ),
            (
                ClassEmbedding::MeanOfNormalised,
                [1.0, 0.5888865958, 0.444740914],
                [
                    [0.48562264, 0.27807423, 0.03515848],
                    [0.34615564, 0.14642714, 0.17258521],
                    [0.72703413, 0.03269359, -0.07374084],
                    [0.08968063, -0.54319879, -0.00705181],
                    [-0.86192965, -0.04191294, 0.38631527],
                    [-0.81069109, -0.26162051, 0.23031376],
                ],
                vec![0, 0, 0, 0, 2, 2],
            ),
        ];
        for (rule, norms, scores, argmax) in cases {
            let classes: Vec<Array1<f32>> = prompts
                .iter()
                .map(|p| class_embedding_with(p.view(), rule).unwrap())
                .collect();
            for (c, want) in classes.iter().zip(norms) {
                let norm = c.mapv(|v| f64::from(v).powi(2)).sum().sqrt();
                assert!((norm - want).abs() < 1e-6, "{rule:?}: {norm} vs {want}");
            }
            let got = class_scores(images.view(), stack(&classes, 4).view());
            for (g, w) in got.rows().into_iter().zip(scores) {
                for (g, w) in g.iter().zip(w) {
                    assert!((f64::from(*g) - w).abs() < 1e-6, "{rule:?}: {g} vs {w}");
                }
            }
            assert_eq!(argmax_predictions(got.view()), argmax, "{rule:?}");
        }
    }

    /// Normalising or not changes the argmax: class 0 averages two orthogonal prompts (mean length
    /// 1/√2), class 1 has one prompt; numpy (same script, "flip" lines): renormalised scores
    /// (0.98995, 0.9) → class 0, mean-of-normalised (0.7, 0.9) → class 1.
    #[test]
    fn skipping_the_renormalisation_can_change_the_argmax() {
        let a = array![[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let b = array![[0.9f32, 0.3, 0.316_227_77]];
        let x = array![[0.8f32, 0.6, 0.0]];
        let pick = |rule| {
            let classes = [
                class_embedding_with(a.view(), rule).unwrap(),
                class_embedding_with(b.view(), rule).unwrap(),
            ];
            let s = class_scores(x.view(), stack(&classes, 3).view());
            (s[[0, 0]], s[[0, 1]], argmax_predictions(s.view())[0])
        };
        let (s0, s1, top) = pick(ClassEmbedding::Renormalised);
        assert!((s0 - 0.989_949_5).abs() < 1e-6 && (s1 - 0.9).abs() < 1e-6 && top == 0);
        let (s0, s1, top) = pick(ClassEmbedding::MeanOfNormalised);
        assert!((s0 - 0.7).abs() < 1e-6 && (s1 - 0.9).abs() < 1e-6 && top == 1);
    }

    #[test]
    fn the_logit_scale_sharpens_posneg_probabilities() {
        let img = array![[1.0f32, 0.0]];
        let (p, n) = (array![1.0f32, 0.0], array![0.0f32, 1.0]);
        let s = posneg_probabilities_scaled(img.view(), &p, &n, 100.0);
        assert!((s[0] - 1.0 / (1.0 + (-100.0f64).exp())).abs() < 1e-12);
    }
}
