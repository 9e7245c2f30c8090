/*!
Rule-based, negation-aware labeler for the workbench's report labels.

It owns turning report text into findings: every mention of a label's phrases, with its byte span
(for highlighting in the TUI) and whether it is negated, and from those the 0/1 label vector the
clinical-efficacy F1 compares. The rules are NegEx-style and deliberately small:

- a report is cut into clauses at sentence ends, `;`, `:` and contrast words (`but`, `however`,
  `although`, `except`, `apart from`), so negation never crosses them;
- a mention is negated when a negation cue (`no`, `not`, `without`, `negative for`, `free of`,
  `absence of`, `resolution of`, `clear of`) appears earlier in its clause (inside the mention too:
  "heart is not enlarged"), or a post-cue (`has resolved`, `is not seen`, `no longer`, `absent`, ...)
  follows it in the clause;
- pseudo-negations ("no change in", "no interval increase", "not only") are not cues;
- uncertain mentions ("possible effusion") count as positive;
- "pericardial effusion" is not a pleural effusion.

`no_finding` has no phrases of its own: it is positive when no other label is.
Labels the labeler does not know are never positive. Lists like "no effusion, consolidation or
pneumothorax" are negated as a whole, which is right for radiology reports but makes
"no effusion, cardiomegaly is present" a false negative; such sentences are rare.
*/
use std::sync::LazyLock;

use regex::Regex;

/// The label that is positive when no other known label is.
pub const NO_FINDING: &str = "no_finding";

/// One mention of a label in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub label: String,
    pub negated: bool,
    /// Byte range `[start, end)` of the mention in the text.
    pub span: (usize, usize),
}

struct LabelRule {
    label: &'static str,
    pattern: Regex,
}

fn rx(p: &str) -> Regex {
    Regex::new(p).expect("static labeler regex")
}

static RULES: LazyLock<Vec<LabelRule>> = LazyLock::new(|| {
    let heart = r"(?:heart|cardiac silhouette|cardiac shadow|cardiomediastinal silhouette|cardiac size|heart size)";
    let degree = r"(?:(?:mildly|moderately|severely|markedly|slightly|minimally|borderline|again|still|stably)\s+)?";
    vec![
        LabelRule {
            label: "cardiomegaly",
            pattern: rx(&format!(
                r"\b(?:cardiomegaly|cardiac enlargement|enlarged {heart}|enlargement of the {heart}|{heart}(?:\s+size)?\s+(?:is\s+|are\s+|appears\s+|remains\s+|was\s+)?(?:not\s+)?{degree}(?:enlarged|large))\b"
            )),
        },
        LabelRule {
            label: "pleural_effusion",
            pattern: rx(r"\b(?:pleural\s+)?effusions?\b"),
        },
        LabelRule {
            label: "pneumothorax",
            pattern: rx(r"\bpneumothora(?:x|ces)\b"),
        },
        LabelRule {
            label: "nodule",
            pattern: rx(
                r"\b(?:nodules?|nodular\s+(?:opacity|opacities|density|densities)|masse?s?)\b",
            ),
        },
        LabelRule {
            label: "consolidation",
            pattern: rx(
                r"\b(?:consolidations?|consolidative|airspace\s+opacit(?:y|ies)|pneumonias?)\b",
            ),
        },
        LabelRule {
            label: "edema",
            pattern: rx(r"\b(?:o?edema|oedema)\b"),
        },
    ]
});

static CLAUSE_BREAK: LazyLock<Regex> = LazyLock::new(|| {
    rx(r"(?:\.\s|\.$|[;:?!\n]|\bbut\b|\bhowever\b|\balthough\b|\bexcept\b|\bapart from\b)")
});
static PRE_CUE: LazyLock<Regex> = LazyLock::new(|| {
    rx(
        r"\b(?:no|not|without|negative for|free of|absence of|absent|resolution of|resolved|clear of|nor|neither)\b",
    )
});
static POST_CUE: LazyLock<Regex> = LazyLock::new(|| {
    rx(
        r"\b(?:(?:has|have)\s+(?:since\s+)?(?:resolved|cleared)|resolved|(?:is|are|was|were)\s+(?:not|no longer)\s+(?:seen|present|visible|identified|visualized|demonstrated|evident|appreciated)|no longer|absent|not\s+(?:seen|present|identified|visualized))\b",
    )
});
static PSEUDO: LazyLock<Regex> = LazyLock::new(|| {
    rx(
        r"\b(?:no|without)\s+(?:significant\s+|interval\s+|substantial\s+)?(?:change|increase|decrease|worsening|improvement)\b|\bnot\s+only\b",
    )
});

/// All label mentions in `text`, in text order.
pub fn find(text: &str) -> Vec<Finding> {
    // ASCII lower-casing keeps byte offsets; non-ASCII characters never occur in the phrases.
    let lower = text.to_ascii_lowercase();
    // Pseudo-negations are blanked (same length) so they cannot act as cues.
    let mut masked = lower.clone();
    for m in PSEUDO.find_iter(&lower) {
        masked.replace_range(m.range(), &" ".repeat(m.len()));
    }
    let mut out = Vec::new();
    for rule in RULES.iter() {
        for m in rule.pattern.find_iter(&lower) {
            if rule.label == "pleural_effusion"
                && lower[..m.start()].trim_end().ends_with("pericardial")
            {
                continue;
            }
            let (cs, ce) = clause_bounds(&lower, m.start(), m.end());
            let before = &masked[cs..m.end()];
            let after = &masked[m.end()..ce];
            let negated = PRE_CUE.is_match(before) || POST_CUE.is_match(after);
            out.push(Finding {
                label: rule.label.to_owned(),
                negated,
                span: (m.start(), m.end()),
            });
        }
    }
    out.sort_by_key(|f| f.span);
    out
}

/// Start and end of the clause around `[start, end)`.
fn clause_bounds(lower: &str, start: usize, end: usize) -> (usize, usize) {
    let mut cs = 0;
    let mut ce = lower.len();
    for b in CLAUSE_BREAK.find_iter(lower) {
        if b.end() <= start {
            cs = b.end();
        } else if b.start() >= end {
            ce = b.start();
            break;
        }
    }
    (cs, ce)
}

/// 0/1 per entry of `labels` from `findings`: a label is positive when it has a non-negated
/// mention; [`NO_FINDING`] is positive when no other label of `labels` is. Unknown labels are 0.
pub fn label_vector(findings: &[Finding], labels: &[String]) -> Vec<u8> {
    let positive = |l: &str| findings.iter().any(|f| f.label == l && !f.negated);
    let any_other = labels.iter().any(|l| l != NO_FINDING && positive(l));
    labels
        .iter()
        .map(|l| {
            if l == NO_FINDING {
                u8::from(!any_other)
            } else {
                u8::from(positive(l))
            }
        })
        .collect()
}

/// The entries of `labels` that [`label_vector`] marks positive.
pub fn positive_labels(findings: &[Finding], labels: &[String]) -> Vec<String> {
    label_vector(findings, labels)
        .into_iter()
        .zip(labels)
        .filter(|(v, _)| *v == 1)
        .map(|(_, l)| l.clone())
        .collect()
}

/// The labels the labeler has phrases for (plus [`NO_FINDING`]).
pub fn known_labels() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = RULES.iter().map(|r| r.label).collect();
    v.push(NO_FINDING);
    v
}

/// Per-label confusion counts of predicted against reference label vectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
}

impl Confusion {
    pub fn add(&mut self, o: &Confusion) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }

    /// F1, `None` when the label has no positive in either vector (undefined).
    pub fn f1(&self) -> Option<f64> {
        let denom = 2 * self.tp + self.fp + self.fn_;
        (denom > 0).then(|| 2.0 * self.tp as f64 / denom as f64)
    }
}

/// Confusion counts per label of one item.
pub fn confusion(predicted: &[u8], reference: &[u8]) -> Vec<Confusion> {
    predicted
        .iter()
        .zip(reference)
        .map(|(&p, &r)| Confusion {
            tp: u64::from(p == 1 && r == 1),
            fp: u64::from(p == 1 && r == 0),
            fn_: u64::from(p == 0 && r == 1),
        })
        .collect()
}

/// Micro F1 (pooled counts) and macro F1 (mean over labels whose F1 is defined) from per-label
/// counts summed over items. `None` when nothing is defined.
pub fn f1_micro_macro(per_label: &[Confusion]) -> (Option<f64>, Option<f64>) {
    let mut pooled = Confusion::default();
    for c in per_label {
        pooled.add(c);
    }
    let defined: Vec<f64> = per_label.iter().filter_map(Confusion::f1).collect();
    let macro_f1 =
        (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64);
    (pooled.f1(), macro_f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        known_labels().into_iter().map(str::to_owned).collect()
    }

    fn positives(text: &str) -> Vec<String> {
        positive_labels(&find(text), &labels())
    }

    #[test]
    fn negations_and_spans() {
        let t = "No pleural effusion. The heart is enlarged without edema.";
        let f = find(t);
        assert_eq!(f.len(), 3);
        assert_eq!(&t[f[0].span.0..f[0].span.1], "pleural effusion");
        assert!(f[0].negated);
        assert_eq!(f[1].label, "cardiomegaly");
        assert!(!f[1].negated);
        assert!(f[2].negated);
        assert_eq!(positives(t), ["cardiomegaly"]);
    }

    #[test]
    fn cue_forms() {
        assert_eq!(positives("Possible pericardial effusion."), ["no_finding"]);
        assert_eq!(positives("Negative for pneumothorax."), ["no_finding"]);
        assert_eq!(
            positives("The previously seen effusion has resolved."),
            ["no_finding"]
        );
        assert_eq!(positives("Heart is not enlarged."), ["no_finding"]);
        assert_eq!(
            positives("No change in the small left pleural effusion."),
            ["pleural_effusion"]
        );
        assert_eq!(
            positives("No pneumothorax, but there is a right lower lobe consolidation."),
            ["consolidation"]
        );
        assert_eq!(
            positives("No focal consolidation, effusion, or pneumothorax."),
            ["no_finding"]
        );
    }

    #[test]
    fn f1_counts() {
        let c = confusion(&[1, 0, 1], &[1, 1, 0]);
        let (micro, macro_f1) = f1_micro_macro(&c);
        assert!((micro.unwrap() - 0.5).abs() < 1e-12);
        assert!((macro_f1.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(f1_micro_macro(&confusion(&[0], &[0])), (None, None));
    }
}
