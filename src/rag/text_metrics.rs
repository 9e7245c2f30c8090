/*!
Report-quality metrics against the ground-truth report: corpus BLEU-n and ROUGE-L F.

Both follow the standard implementations exactly, so numbers compare with published ones:
BLEU is sacrebleu's corpus BLEU (13a tokenisation, case-sensitive, `exp` smoothing, one reference per
segment, brevity penalty on the summed lengths); ROUGE-L is Google's `rouge-score` F-measure without
stemming (lower-case, runs of non-`[a-z0-9]` characters are separators). `tests/rag_text_metrics.rs`
checks both against values from those packages (`onnx-export/scripts/make_text_metric_refs.py`).

Corpus BLEU is not a mean of per-segment scores: [`BleuStats`] holds a segment's sufficient statistics,
and a resample's BLEU is computed from the summed statistics of the segments it draws.
*/
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// Largest n-gram order the statistics keep.
pub const MAX_ORDER: usize = 4;

static PUNCT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([\{-\~\[-\` -\&\(-\+\:-\@/])").expect("static regex"));
static PERIOD_COMMA_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([^0-9])([\.,])").expect("static regex"));
static PERIOD_COMMA_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([\.,])([^0-9])").expect("static regex"));
static DIGIT_DASH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([0-9])(-)").expect("static regex"));

/// sacrebleu's `13a` tokeniser (mteval-v13a): punctuation split off, periods and commas split unless
/// between digits, dashes after digits split.
pub fn tokenize_13a(line: &str) -> Vec<String> {
    let mut s = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if s.contains('&') {
        s = s
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let s = format!(" {s} ");
    let s = PUNCT.replace_all(&s, " $1 ");
    let s = PERIOD_COMMA_AFTER.replace_all(&s, "${1} ${2} ");
    let s = PERIOD_COMMA_BEFORE.replace_all(&s, " ${1} ${2}");
    let s = DIGIT_DASH.replace_all(&s, "${1} ${2} ");
    s.split_whitespace().map(str::to_owned).collect()
}

/// Sufficient statistics of one segment for corpus BLEU up to order [`MAX_ORDER`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BleuStats {
    /// Clipped n-gram matches, n = 1..=MAX_ORDER.
    pub correct: [u64; MAX_ORDER],
    /// Hypothesis n-grams, n = 1..=MAX_ORDER.
    pub total: [u64; MAX_ORDER],
    pub sys_len: u64,
    pub ref_len: u64,
}

impl BleuStats {
    /// Statistics of one hypothesis against its single reference.
    pub fn segment(hypothesis: &str, reference: &str) -> Self {
        let hyp = tokenize_13a(hypothesis);
        let refr = tokenize_13a(reference);
        let mut out = BleuStats {
            sys_len: hyp.len() as u64,
            ref_len: refr.len() as u64,
            ..Default::default()
        };
        for n in 1..=MAX_ORDER {
            let ref_counts = ngram_counts(&refr, n);
            let hyp_counts = ngram_counts(&hyp, n);
            for (gram, &c) in &hyp_counts {
                out.total[n - 1] += c;
                out.correct[n - 1] += c.min(ref_counts.get(gram).copied().unwrap_or(0));
            }
        }
        out
    }

    /// Sum of the statistics (for a corpus or a bootstrap resample).
    pub fn add(&mut self, other: &BleuStats) {
        for n in 0..MAX_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
    }

    /// Corpus BLEU of order `max_order` (1..=4) in [0, 1], as sacrebleu computes it from these
    /// statistics (`exp` smoothing, no effective order).
    pub fn bleu(&self, max_order: usize) -> f64 {
        let max_order = max_order.clamp(1, MAX_ORDER);
        let bp = if self.sys_len < self.ref_len {
            if self.sys_len > 0 {
                (1.0 - self.ref_len as f64 / self.sys_len as f64).exp()
            } else {
                0.0
            }
        } else {
            1.0
        };
        // sacrebleu stops early when no order has any match (all four orders, not just max_order).
        if self.correct.iter().all(|&c| c == 0) {
            return 0.0;
        }
        let mut precisions = [0.0f64; MAX_ORDER];
        let mut smooth = 1.0f64;
        for ((p, &correct), &total) in precisions
            .iter_mut()
            .zip(&self.correct)
            .zip(&self.total)
            .take(max_order)
        {
            if total == 0 {
                break;
            }
            *p = if correct == 0 {
                smooth *= 2.0;
                100.0 / (smooth * total as f64)
            } else {
                100.0 * correct as f64 / total as f64
            };
        }
        let log_sum: f64 = precisions[..max_order]
            .iter()
            .map(|&p| if p > 0.0 { p.ln() } else { -9_999_999_999.0 })
            .sum();
        bp * (log_sum / max_order as f64).exp() / 100.0
    }
}

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], u64> {
    let mut counts = HashMap::new();
    if tokens.len() >= n {
        for w in tokens.windows(n) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// Corpus BLEU of order `max_order` over aligned hypotheses and references.
pub fn corpus_bleu(hypotheses: &[&str], references: &[&str], max_order: usize) -> f64 {
    let mut total = BleuStats::default();
    for (h, r) in hypotheses.iter().zip(references) {
        total.add(&BleuStats::segment(h, r));
    }
    total.bleu(max_order)
}

/// `rouge-score`'s tokeniser without stemming: lower-case, split on runs of non-`[a-z0-9]`.
pub fn tokenize_rouge(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// ROUGE-L F-measure of a hypothesis against its reference (0 when either is empty).
pub fn rouge_l(hypothesis: &str, reference: &str) -> f64 {
    let hyp = tokenize_rouge(hypothesis);
    let refr = tokenize_rouge(reference);
    if hyp.is_empty() || refr.is_empty() {
        return 0.0;
    }
    let lcs = lcs_len(&refr, &hyp) as f64;
    let precision = lcs / hyp.len() as f64;
    let recall = lcs / refr.len() as f64;
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

fn lcs_len(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_13a_splits_like_mteval() {
        assert_eq!(
            tokenize_13a("A 1.5-cm nodule, (stable)."),
            [
                "A", "1.5", "-", "cm", "nodule", ",", "(", "stable", ")", "."
            ]
        );
        assert_eq!(tokenize_13a("3,000 ml"), ["3,000", "ml"]);
    }

    #[test]
    fn identical_text_scores_one() {
        let s = "No acute cardiopulmonary abnormality.";
        assert!((corpus_bleu(&[s], &[s], 4) - 1.0).abs() < 1e-12);
        assert!((rouge_l(s, s) - 1.0).abs() < 1e-12);
    }
}
