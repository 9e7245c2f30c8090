/*!
BERTScore (Zhang et al., 2020) and pooled-embedding cosine of a generated report against its
reference, from a text encoder's token states. Pure: matrices in, numbers out.

[`bertscore`] is what `bert_score.score(cands, refs, idf=False, rescale_with_baseline=False)`
computes for one pair (bert_score 0.3.13, `utils.greedy_cos_idf`): every token state is
L2-normalised; each candidate token takes its best cosine over **all** reference tokens, `[CLS]`
and `[SEP]` included (bert_score masks only padding), and precision is the mean of these maxima over
the candidate tokens that are not special (`special_token_ids` get idf weight 0); recall likewise
from the reference side; F1 = 2PR / (P + R). A text with no non-special token (an empty report)
scores P = R = F1 = 0, as bert_score sets them. One difference: bert_score pads a batch and
multiplies the similarities by the padding mask, so a token whose best cosine is negative gets 0
from a padded position when the other text is shorter than the batch's longest; this function
never sees padding and keeps the negative maximum (contextual embeddings of one model are almost
never negatively aligned, so the two agree on real encoders).
*/
use ndarray::{Array2, ArrayView1, ArrayView2};

/// BERTScore precision, recall and F1 of one candidate against one reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BertScore {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Rows scaled to unit length (a zero row stays zero), in f64.
fn unit_rows(m: ArrayView2<f32>) -> Array2<f64> {
    let mut out = m.mapv(f64::from);
    for mut row in out.rows_mut() {
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|v| v / norm);
        }
    }
    out
}

/// Mean over the rows of `sim` whose `special` flag is false of each row's maximum; `None` when
/// every row is special (or there are none).
fn weighted_max_mean(sim: ArrayView2<f64>, special: &[bool]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (row, &sp) in sim.outer_iter().zip(special) {
        if sp {
            continue;
        }
        sum += row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

/// BERTScore of `candidate` against `reference`: token states (`tokens × hidden`, padding
/// excluded) and per token whether it is a special token (module docs for the exact definition).
pub fn bertscore(
    candidate: ArrayView2<f32>,
    candidate_special: &[bool],
    reference: ArrayView2<f32>,
    reference_special: &[bool],
) -> BertScore {
    let zero = BertScore {
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
    };
    if candidate.nrows() == 0 || reference.nrows() == 0 {
        return zero;
    }
    let (c, r) = (unit_rows(candidate), unit_rows(reference));
    let sim = c.dot(&r.t());
    let (Some(p), Some(rc)) = (
        weighted_max_mean(sim.view(), candidate_special),
        weighted_max_mean(sim.t(), reference_special),
    ) else {
        return zero;
    };
    let f1 = 2.0 * p * rc / (p + rc);
    BertScore {
        precision: p,
        recall: rc,
        f1: if f1.is_nan() { 0.0 } else { f1 },
    }
}

/// Cosine of two embeddings (0 when either is zero).
pub fn cosine(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f64 {
    let (a, b) = (a.mapv(f64::from), b.mapv(f64::from));
    let denom = (a.dot(&a) * b.dot(&b)).sqrt();
    if denom > 0.0 { a.dot(&b) / denom } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn greedy_matching_by_hand() {
        // Candidate tokens: [CLS], a, b, [SEP]; reference: [CLS], a', [SEP].
        let cls = [1.0f32, 0.0, 0.0];
        let sep = [0.0f32, 0.0, 1.0];
        let cand = array![cls, [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], sep];
        let refr = array![cls, [0.0, 2.0, 0.0], sep];
        let cs = [true, false, false, true];
        let rs = [true, false, true];
        let s = bertscore(cand.view(), &cs, refr.view(), &rs);
        // a matches a' (1.0); b's best is [CLS] (0.6 < 0.8 with a'): 0.8. P = (1 + 0.8) / 2.
        // (f32 inputs: 0.6 and 0.8 are exact to about 1e-8.)
        assert!((s.precision - 0.9).abs() < 1e-7, "{s:?}");
        // a' best = a: 1.0; R = 1.
        assert!((s.recall - 1.0).abs() < 1e-12, "{s:?}");
        assert!((s.f1 - 2.0 * 0.9 / 1.9).abs() < 1e-7, "{s:?}");
        // Special tokens are match targets: b is closer to [CLS] than to a'.
        let b_only = array![cls, [0.9, 0.1, 0.0], sep];
        let s = bertscore(b_only.view(), &[true, false, true], refr.view(), &rs);
        let want = 0.9 / (0.81f64 + 0.01).sqrt();
        assert!((s.precision - want).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn an_empty_text_scores_zero_and_identical_texts_one() {
        let t = array![[1.0f32, 0.0], [0.3, 0.7], [0.0, 1.0]];
        let sp = [true, false, true];
        let s = bertscore(t.view(), &sp, t.view(), &sp);
        assert!((s.f1 - 1.0).abs() < 1e-12);
        let empty = array![[1.0f32, 0.0], [0.0, 1.0]];
        let z = bertscore(empty.view(), &[true, true], t.view(), &sp);
        assert_eq!((z.precision, z.recall, z.f1), (0.0, 0.0, 0.0));
        assert!((cosine(t.row(1), t.row(1)) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(t.row(0), t.row(2)), 0.0);
    }
}
