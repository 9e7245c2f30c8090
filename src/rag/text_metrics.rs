/*!
Report-quality metrics against the ground-truth report: corpus BLEU-n and ROUGE-L F.

Both follow the standard implementations exactly, so numbers compare with published ones:
BLEU is sacrebleu's corpus BLEU (13a tokenisation, case-sensitive, `exp` smoothing, one reference per
segment, brevity penalty on the summed lengths); ROUGE-L is Google's `rouge-score` F-measure without
stemming (lower-case, runs of non-`[a-z0-9]` characters are separators). `tests/rag_text_metrics.rs`
checks both against values from those packages (`onnx-export/scripts/make_text_metric_refs.py`).

Next to them, the per-report scores the eCLIP authors average (`eclip/utils/eval_metrics.py:25` and `:52`,
ykumards/eCLIP @e539dd0: `sentence_bleu([word_tokenize(ref)], word_tokenize(cand), weights=(0.5, 0.5))`
averaged over reports, and NLTK's `meteor_score`): [`sentence_bleu`] is NLTK 3.10's `sentence_bleu`
with no smoothing, and [`meteor`] NLTK's `single_meteor_score` without the WordNet synonym stage (see
[`meteor`]). Both take tokens; [`tokenize_wordpunct`] is NLTK's `wordpunct_tokenize`. The authors'
`word_tokenize` needs NLTK's Punkt sentence model, a data download no package here ships, so our
reference values (`make_text_metric_refs.py`) use `wordpunct_tokenize` on both sides; it splits more
than `word_tokenize` ("1.5" → "1", ".", "5"), so values differ slightly from the authors' tokenisation.

Corpus BLEU is not a mean of per-segment scores: [`BleuStats`] holds a segment's sufficient statistics,
and a resample's BLEU is computed from the summed statistics of the segments it draws.
*/
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// Largest n-gram order the statistics keep.
pub(crate) const MAX_ORDER: usize = 4;

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
pub(crate) fn tokenize_13a(line: &str) -> Vec<String> {
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
pub(crate) struct BleuStats {
    /// Clipped n-gram matches, n = 1..=MAX_ORDER.
    pub(crate) correct: [u64; MAX_ORDER],
    /// Hypothesis n-grams, n = 1..=MAX_ORDER.
    pub(crate) total: [u64; MAX_ORDER],
    pub(crate) sys_len: u64,
    pub(crate) ref_len: u64,
}

impl BleuStats {
    /// Statistics of one hypothesis against its single reference.
    pub(crate) fn segment(hypothesis: &str, reference: &str) -> Self {
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
    pub(crate) fn add(&mut self, other: &BleuStats) {
        for n in 0..MAX_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
    }

    /// Corpus BLEU of order `max_order` (1..=4) in [0, 1], as sacrebleu computes it from these
    /// statistics (`exp` smoothing, no effective order).
    pub(crate) fn bleu(&self, max_order: usize) -> f64 {
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

static WORDPUNCT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\w+|[^\w\s]+").expect("static regex"));

/// NLTK's `wordpunct_tokenize`: runs of word characters and runs of other non-space characters
/// (regex `\w+|[^\w\s]+`; identical to Python's on ASCII, Unicode classes may differ in rare
/// characters). Case is kept.
pub fn tokenize_wordpunct(text: &str) -> Vec<String> {
    WORDPUNCT
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// NLTK 3.10 `sentence_bleu([reference], hypothesis, weights)` with no smoothing (`method0`): one
/// reference, modified n-gram precisions p_n = clipped matches / max(1, hypothesis n-grams) for
/// n = 1..=weights.len(), brevity penalty exp(1 - r/c) when c <= r (0 for an empty hypothesis).
/// As NLTK: 0 when no unigram matches; an order without matches contributes
/// `w * ln(f64::MIN_POSITIVE)` (NLTK's `sys.float_info.min`), so the score is tiny but not 0.
/// BLEU-2 as the eCLIP authors compute it is `weights = [0.5, 0.5]`.
pub(crate) fn sentence_bleu<S: AsRef<str>>(
    hypothesis: &[S],
    reference: &[S],
    weights: &[f64],
) -> f64 {
    let hyp: Vec<&str> = hypothesis.iter().map(AsRef::as_ref).collect();
    let refr: Vec<&str> = reference.iter().map(AsRef::as_ref).collect();
    fn counts<'a, 'b>(toks: &'b [&'a str], n: usize) -> HashMap<&'b [&'a str], u64> {
        let mut c = HashMap::new();
        if toks.len() >= n {
            for w in toks.windows(n) {
                *c.entry(w).or_insert(0) += 1;
            }
        }
        c
    }
    let mut log_sum = 0.0;
    for (i, &w) in weights.iter().enumerate() {
        let n = i + 1;
        let h = counts(&hyp, n);
        let r = counts(&refr, n);
        let matched: u64 = h
            .iter()
            .map(|(g, &c)| c.min(r.get(g).copied().unwrap_or(0)))
            .sum();
        let total = h.values().sum::<u64>().max(1);
        if n == 1 && matched == 0 {
            return 0.0;
        }
        let p = if matched == 0 {
            f64::MIN_POSITIVE
        } else {
            matched as f64 / total as f64
        };
        log_sum += w * p.ln();
    }
    let (c, r) = (hyp.len(), refr.len());
    let bp = if c > r {
        1.0
    } else if c == 0 {
        0.0
    } else {
        (1.0 - r as f64 / c as f64).exp()
    };
    bp * log_sum.exp()
}

/// Sentence BLEU of order `max_order` (uniform weights) on [`tokenize_wordpunct`] tokens: the
/// per-report value the eCLIP authors average (BLEU-2: `max_order = 2`).
pub fn sentence_bleu_text(hypothesis: &str, reference: &str, max_order: usize) -> f64 {
    let n = max_order.max(1);
    sentence_bleu(
        &tokenize_wordpunct(hypothesis),
        &tokenize_wordpunct(reference),
        &vec![1.0 / n as f64; n],
    )
}

/// Words with their original positions, as NLTK's METEOR enumerates them.
type Enumerated = Vec<(usize, String)>;

/// Greedy one-to-one matching of equal words, as NLTK's `_match_enums`: hypothesis words from the
/// last to the first, each taking the last unmatched equal reference word. `hyp`/`refr` hold
/// (original position, word); returns the matches (hypothesis position, reference position) and the
/// unmatched rest of both.
fn match_equal(hyp: Enumerated, refr: Enumerated) -> (Vec<(usize, usize)>, Enumerated, Enumerated) {
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, (_, w)) in refr.iter().enumerate() {
        positions.entry(w.as_str()).or_default().push(j);
    }
    let mut matches = Vec::new();
    let mut hyp_used = vec![false; hyp.len()];
    let mut ref_used = vec![false; refr.len()];
    for i in (0..hyp.len()).rev() {
        if let Some(j) = positions.get_mut(hyp[i].1.as_str()).and_then(Vec::pop) {
            hyp_used[i] = true;
            ref_used[j] = true;
            matches.push((hyp[i].0, refr[j].0));
        }
    }
    let keep = |v: Enumerated, used: &[bool]| {
        v.into_iter()
            .zip(used)
            .filter(|(_, u)| !**u)
            .map(|(x, _)| x)
            .collect::<Vec<_>>()
    };
    (matches, keep(hyp, &hyp_used), keep(refr, &ref_used))
}

/// METEOR of `hypothesis` against one `reference` (tokens) as NLTK 3.10's
/// `single_meteor_score(reference, hypothesis)` computes it with its defaults (lower-cased tokens,
/// alpha = 0.9, beta = 3, gamma = 0.5) **without the WordNet synonym stage**: words align by exact
/// match, then by Porter stem ([`super::porter::stem`], NLTK's `PorterStemmer`), each stage greedy as
/// NLTK's; P = m / |hyp|, R = m / |ref|, F = P·R / (alpha·P + (1 − alpha)·R), penalty =
/// gamma · (chunks / m)^beta, score = (1 − penalty)·F; 0 without matches or for empty input.
///
/// The synonym stage needs the WordNet database, which NLTK downloads at run time and no package
/// here ships; NLTK run with a WordNet that knows no synonyms gives exactly these values (NLTK's
/// synonym stage also matches a word to itself, which the earlier stages have already exhausted).
pub(crate) fn meteor<S: AsRef<str>>(hypothesis: &[S], reference: &[S]) -> f64 {
    let (alpha, beta, gamma) = (0.9, 3.0, 0.5);
    let enumerate = |v: &[S]| -> Enumerated {
        v.iter()
            .map(|w| w.as_ref().to_lowercase())
            .enumerate()
            .collect()
    };
    let (hyp, refr) = (enumerate(hypothesis), enumerate(reference));
    let (hyp_len, ref_len) = (hyp.len(), refr.len());
    let (mut matches, hyp_rest, ref_rest) = match_equal(hyp, refr);
    let stemmed = |v: Enumerated| -> Enumerated {
        v.into_iter()
            .map(|(i, w)| (i, super::porter::stem(&w)))
            .collect()
    };
    let (stem_matches, _, _) = match_equal(stemmed(hyp_rest), stemmed(ref_rest));
    matches.extend(stem_matches);
    matches.sort_by_key(|&(h, _)| h);
    let m = matches.len();
    if m == 0 || hyp_len == 0 || ref_len == 0 {
        return 0.0;
    }
    let precision = m as f64 / hyp_len as f64;
    let recall = m as f64 / ref_len as f64;
    let fmean = precision * recall / (alpha * precision + (1.0 - alpha) * recall);
    let chunks = 1 + matches
        .windows(2)
        .filter(|p| !(p[1].0 == p[0].0 + 1 && p[1].1 == p[0].1 + 1))
        .count();
    let penalty = gamma * (chunks as f64 / m as f64).powf(beta);
    (1.0 - penalty) * fmean
}

/// The eCLIP authors' METEOR (`eclip/utils/eval_metrics.py` lines 48–53, ykumards/eCLIP @5f79125):
/// NLTK's `meteor_score([references], hypotheses)` called with the whole lists of report strings,
/// so each report is one "word" of [`meteor`] (lower-cased, Porter-stemmed as a whole, matched in
/// list order): one score for the list, rewarding generated reports identical to their reference
/// and in order, not a per-report average. Checked against NLTK in `tests/rag_text_metrics.rs`.
pub fn meteor_listwise<S: AsRef<str>>(hypotheses: &[S], references: &[S]) -> f64 {
    meteor(hypotheses, references)
}

/// [`meteor`] on [`tokenize_wordpunct`] tokens: the per-report value to average.
pub fn meteor_text(hypothesis: &str, reference: &str) -> f64 {
    meteor(
        &tokenize_wordpunct(hypothesis),
        &tokenize_wordpunct(reference),
    )
}

/// `rouge-score`'s tokeniser without stemming: lower-case, split on runs of non-`[a-z0-9]`.
pub(crate) fn tokenize_rouge(text: &str) -> Vec<String> {
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
