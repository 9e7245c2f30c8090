/*!
Rule-based, negation-aware labeler for a dataset's report labels.

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

The rules come from the dataset ([`Labeler::from_spec`], `dataset.toml` `[labeler]`, docs/formats.md
§1.4): per label, phrases or patterns, extra negation cues and words that must not precede a mention.
Without a `[labeler]` table the demo's rules below serve the demo's labels. A label with no rule is
[`LabelOutcome::NotScored`], never a 0 or a 1. The derived "no finding" label (`no_finding` with the
demo rules) has no phrases of its own: it is positive when no other label is, and it is scored only
when every other dataset label has rules. Lists like "no effusion, consolidation or
pneumothorax" are negated as a whole, which is right for radiology reports but makes
"no effusion, cardiomegaly is present" a false negative; such sentences are rare.
*/
use std::sync::LazyLock;

use regex::Regex;

use crate::data::{BuiltinRules, LabelerSpec};

/// The label that is positive when no other known label is.
pub(crate) const NO_FINDING: &str = "no_finding";

/// One mention of a label in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub(crate) label: String,
    pub(crate) negated: bool,
    /// Byte range `[start, end)` of the mention in the text.
    pub span: (usize, usize),
}

#[derive(Clone)]
struct LabelRule {
    label: String,
    pattern: Regex,
    /// Label-specific negation cues before / after a mention, besides the built-in ones.
    pre_cue: Option<Regex>,
    post_cue: Option<Regex>,
    /// Words that, right before a mention, make it no mention.
    not_after: Vec<String>,
}

impl LabelRule {
    fn builtin(label: &str, pattern: Regex) -> Self {
        let not_after = if label == "pleural_effusion" {
            vec!["pericardial".to_owned()]
        } else {
            Vec::new()
        };
        LabelRule {
            label: label.to_owned(),
            pattern,
            pre_cue: None,
            post_cue: None,
            not_after,
        }
    }
}

fn rx(p: &str) -> Regex {
    Regex::new(p).expect("static labeler regex")
}

/// The demo's finding labels, which the built-in rules know.
pub(crate) const DEMO_LABELS: [&str; 6] = [
    "cardiomegaly",
    "pleural_effusion",
    "pneumothorax",
    "nodule",
    "consolidation",
    "edema",
];

fn demo_rules() -> Vec<LabelRule> {
    let heart = r"(?:heart|cardiac silhouette|cardiac shadow|cardiomediastinal silhouette|cardiac size|heart size)";
    let degree = r"(?:(?:mildly|moderately|severely|markedly|slightly|minimally|borderline|again|still|stably)\s+)?";
    vec![
        LabelRule::builtin(
            "cardiomegaly",
            rx(&format!(
                r"\b(?:cardiomegaly|cardiac enlargement|enlarged {heart}|enlargement of the {heart}|{heart}(?:\s+size)?\s+(?:is\s+|are\s+|appears\s+|remains\s+|was\s+)?(?:not\s+)?{degree}(?:enlarged|large))\b"
            )),
        ),
        LabelRule::builtin("pleural_effusion", rx(r"\b(?:pleural\s+)?effusions?\b")),
        LabelRule::builtin("pneumothorax", rx(r"\bpneumothora(?:x|ces)\b")),
        LabelRule::builtin(
            "nodule",
            rx(r"\b(?:nodules?|nodular\s+(?:opacity|opacities|density|densities)|masse?s?)\b"),
        ),
        LabelRule::builtin(
            "consolidation",
            rx(r"\b(?:consolidations?|consolidative|airspace\s+opacit(?:y|ies)|pneumonias?)\b"),
        ),
        LabelRule::builtin("edema", rx(r"\b(?:o?edema|oedema)\b")),
    ]
}

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

/// What the labeler says about one label of one report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOutcome {
    Positive,
    Negative,
    /// The labeler has no rules for the label (or, for the derived "no finding" label, not for
    /// every other label): it cannot say, so the label takes no part in any score.
    NotScored,
}

/// Why a `[labeler]` spec cannot be compiled (the dataset loader reports these with the file).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabelerError {
    #[error("[labeler.labels.{label}]: {reason}")]
    Rule { label: String, reason: String },
}

/// A compiled labeler: rules for some labels, and the derived "no finding" label.
pub struct Labeler {
    rules: Vec<LabelRule>,
    no_finding: Option<String>,
}

static DEMO: LazyLock<Labeler> = LazyLock::new(|| Labeler {
    rules: demo_rules(),
    no_finding: Some(NO_FINDING.to_owned()),
});

/// Whole-word, case-insensitive alternation of literal phrases (`None` for none).
fn phrase_regex(phrases: &[String]) -> Option<String> {
    let alts: Vec<String> = phrases
        .iter()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s+")
        })
        .collect();
    (!alts.is_empty()).then(|| format!(r"\b(?:{})\b", alts.join("|")))
}

impl Labeler {
    /// The demo's rules for its six findings, with `no_finding` derived.
    pub(crate) fn demo() -> &'static Labeler {
        &DEMO
    }

    /// The labeler a dataset's `[labeler]` table describes, for the dataset's `labels`: the
    /// built-in demo rules for those of `labels` that are demo labels (unless `builtin = "none"`),
    /// replaced per label by `[labeler.labels.NAME]`.
    pub fn from_spec(spec: &LabelerSpec, labels: &[String]) -> Result<Labeler, LabelerError> {
        let err = |label: &str, reason: String| LabelerError::Rule {
            label: label.to_owned(),
            reason,
        };
        let compile = |label: &str, what: &str, p: &str| {
            Regex::new(p).map_err(|e| err(label, format!("{what} {p:?}: {e}")))
        };
        let mut rules = Vec::new();
        if spec.builtin == BuiltinRules::Demo {
            for r in DEMO.rules.iter() {
                if labels.contains(&r.label) && !spec.labels.contains_key(&r.label) {
                    rules.push(r.clone());
                }
            }
        }
        for (label, rule) in &spec.labels {
            let mut alts: Vec<String> = rule.patterns.iter().map(|p| format!("(?:{p})")).collect();
            alts.extend(phrase_regex(&rule.phrases));
            if alts.is_empty() {
                return Err(err(
                    label,
                    "needs at least one of phrases or patterns".into(),
                ));
            }
            let pattern = compile(label, "patterns", &alts.join("|"))?;
            let pre_cue = phrase_regex(&rule.negation_cues)
                .map(|p| compile(label, "negation_cues", &p))
                .transpose()?;
            let post_cue = phrase_regex(&rule.post_negation_cues)
                .map(|p| compile(label, "post_negation_cues", &p))
                .transpose()?;
            rules.push(LabelRule {
                label: label.clone(),
                pattern,
                pre_cue,
                post_cue,
                not_after: rule
                    .not_after
                    .iter()
                    .map(|w| w.trim().to_lowercase())
                    .collect(),
            });
        }
        // Labels in rule order as the dataset lists them, so findings sort stably.
        rules.sort_by_key(|r| labels.iter().position(|l| *l == r.label));
        Ok(Labeler {
            rules,
            no_finding: spec.no_finding_label().map(str::to_owned),
        })
    }

    /// Whether `label` has rules of its own.
    pub(crate) fn has_rules(&self, label: &str) -> bool {
        self.rules.iter().any(|r| r.label == label)
    }

    /// Whether the labeler scores `label` among `labels`: it has rules, or it is the derived "no
    /// finding" label and every other entry of `labels` has rules.
    pub(crate) fn scores(&self, label: &str, labels: &[String]) -> bool {
        if self.no_finding.as_deref() == Some(label) {
            labels
                .iter()
                .filter(|l| *l != label)
                .all(|l| self.has_rules(l))
        } else {
            self.has_rules(label)
        }
    }

    /// The entries of `labels` the labeler scores, in order.
    pub fn scored_labels(&self, labels: &[String]) -> Vec<String> {
        labels
            .iter()
            .filter(|l| self.scores(l, labels))
            .cloned()
            .collect()
    }

    /// All label mentions in `text`, in text order.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        // ASCII lower-casing keeps byte offsets; phrases are matched lower-cased.
        let lower = text.to_ascii_lowercase();
        // Pseudo-negations are blanked (same length) so they cannot act as cues.
        let mut masked = lower.clone();
        for m in PSEUDO.find_iter(&lower) {
            masked.replace_range(m.range(), &" ".repeat(m.len()));
        }
        let mut out = Vec::new();
        for rule in &self.rules {
            for m in rule.pattern.find_iter(&lower) {
                if m.is_empty() {
                    continue;
                }
                let preceding = lower[..m.start()].trim_end();
                if rule.not_after.iter().any(|w| {
                    preceding.ends_with(w.as_str())
                        && !preceding[..preceding.len() - w.len()]
                            .ends_with(|c: char| c.is_alphanumeric())
                }) {
                    continue;
                }
                let (cs, ce) = clause_bounds(&lower, m.start(), m.end());
                let before = &masked[cs..m.end()];
                let after = &masked[m.end()..ce];
                let negated = PRE_CUE.is_match(before)
                    || POST_CUE.is_match(after)
                    || rule.pre_cue.as_ref().is_some_and(|c| c.is_match(before))
                    || rule.post_cue.as_ref().is_some_and(|c| c.is_match(after));
                out.push(Finding {
                    label: rule.label.clone(),
                    negated,
                    span: (m.start(), m.end()),
                });
            }
        }
        out.sort_by_key(|f| f.span);
        out
    }

    /// Per entry of `labels`: positive when it has a non-negated mention, the derived "no finding"
    /// label positive when no other entry is; [`LabelOutcome::NotScored`] where
    /// [`Labeler::scores`] is false.
    pub fn outcomes(&self, findings: &[Finding], labels: &[String]) -> Vec<LabelOutcome> {
        let positive = |l: &str| findings.iter().any(|f| f.label == l && !f.negated);
        let any_other = labels
            .iter()
            .any(|l| self.no_finding.as_deref() != Some(l.as_str()) && positive(l));
        labels
            .iter()
            .map(|l| {
                if !self.scores(l, labels) {
                    LabelOutcome::NotScored
                } else if self.no_finding.as_deref() == Some(l.as_str()) {
                    if any_other {
                        LabelOutcome::Negative
                    } else {
                        LabelOutcome::Positive
                    }
                } else if positive(l) {
                    LabelOutcome::Positive
                } else {
                    LabelOutcome::Negative
                }
            })
            .collect()
    }
}

/// All label mentions in `text` under the demo rules ([`Labeler::demo`]).
pub fn find(text: &str) -> Vec<Finding> {
    Labeler::demo().find(text)
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
/// mention; [`NO_FINDING`] is positive when no other label of `labels` is. Labels without
/// mentions are 0, so pass only labels a labeler scores ([`Labeler::scored_labels`]); with those,
/// this equals [`Labeler::outcomes`] read as 0/1.
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

/// The labels the demo rules have phrases for (plus [`NO_FINDING`]).
pub fn known_labels() -> Vec<&'static str> {
    let mut v = DEMO_LABELS.to_vec();
    v.push(NO_FINDING);
    v
}

/// Per-label confusion counts of predicted against reference label vectors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Confusion {
    pub(crate) tp: u64,
    pub(crate) fp: u64,
    pub(crate) fn_: u64,
}

impl Confusion {
    pub(crate) fn add(&mut self, o: &Confusion) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }

    /// F1, `None` when the label has no positive in either vector (undefined).
    pub(crate) fn f1(&self) -> Option<f64> {
        let denom = 2 * self.tp + self.fp + self.fn_;
        (denom > 0).then(|| 2.0 * self.tp as f64 / denom as f64)
    }
}

/// Confusion counts per label of one item.
pub(crate) fn confusion(predicted: &[u8], reference: &[u8]) -> Vec<Confusion> {
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
pub(crate) fn f1_micro_macro(per_label: &[Confusion]) -> (Option<f64>, Option<f64>) {
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

    fn spec(toml_text: &str) -> LabelerSpec {
        toml::from_str(toml_text).expect("test spec parses")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn demo_rules_cover_exactly_the_demo_labels() {
        let names: Vec<String> = demo_rules().into_iter().map(|r| r.label).collect();
        assert_eq!(names, DEMO_LABELS);
        // Without a [labeler] table a demo dataset scores every label, no_finding included.
        let lab = Labeler::from_spec(&LabelerSpec::default(), &labels()).unwrap();
        assert_eq!(lab.scored_labels(&labels()), labels());
        let t = "No pleural effusion. The heart is enlarged without edema.";
        assert_eq!(lab.find(t), find(t));
    }

    #[test]
    fn labels_without_rules_are_not_scored_and_no_finding_needs_all_rules() {
        // The COVID-19 notes case of issue 15: labels the demo rules do not know.
        let ls = strings(&["covid19", "pneumonia", "no_finding"]);
        let lab = Labeler::from_spec(&LabelerSpec::default(), &ls).unwrap();
        let f = lab.find("Bilateral ground-glass opacities, COVID-19 pneumonia.");
        assert_eq!(
            lab.outcomes(&f, &ls),
            [LabelOutcome::NotScored; 3],
            "no rules: nothing is scored (no_finding used to be 1 for every report)"
        );
        assert!(lab.scored_labels(&ls).is_empty());
        // Rules for one label: it is scored; no_finding still is not (covid19 has no rules).
        let sp = spec(
            r#"
            [labels.pneumonia]
            phrases = ["pneumonia", "ground glass opacities", "ground-glass opacities"]
            negation_cues = ["no evidence of"]
            "#,
        );
        let lab = Labeler::from_spec(&sp, &ls).unwrap();
        let f = lab.find("Bilateral ground-glass  opacities, COVID-19 pneumonia.");
        assert_eq!(
            lab.outcomes(&f, &ls),
            [
                LabelOutcome::NotScored,
                LabelOutcome::Positive,
                LabelOutcome::NotScored
            ]
        );
        // Rules for both: no_finding is derived and scored.
        let sp = spec(
            r#"
            [labels.pneumonia]
            phrases = ["pneumonia"]
            [labels.covid19]
            patterns = ['covid(?:-19)?']
            post_negation_cues = ["ruled out"]
            "#,
        );
        let lab = Labeler::from_spec(&sp, &ls).unwrap();
        let f = lab.find("COVID-19 ruled out. Lungs are clear, no pneumonia.");
        assert_eq!(
            lab.outcomes(&f, &ls),
            [
                LabelOutcome::Negative,
                LabelOutcome::Negative,
                LabelOutcome::Positive
            ]
        );
    }

    #[test]
    fn spec_options() {
        let ls = strings(&["effusion", "normal"]);
        // builtin = "none" and a differently named derived label; not_after words.
        let sp = spec(
            r#"
            builtin = "none"
            no_finding = "normal"
            [labels.effusion]
            phrases = ["effusion"]
            not_after = ["pericardial"]
            "#,
        );
        let lab = Labeler::from_spec(&sp, &ls).unwrap();
        let out = |t: &str| lab.outcomes(&lab.find(t), &ls);
        use LabelOutcome::{Negative, Positive};
        assert_eq!(out("Small pericardial effusion."), [Negative, Positive]);
        assert_eq!(out("Small pleural effusion."), [Positive, Negative]);
        // Without a derived label, "normal" would be not scored.
        let sp = spec("builtin = \"none\"\n[labels.effusion]\nphrases = [\"effusion\"]");
        let lab = Labeler::from_spec(&sp, &ls).unwrap();
        assert_eq!(lab.outcomes(&[], &ls), [Negative, LabelOutcome::NotScored]);
        // builtin = "none" drops the demo rules even for demo labels.
        let lab = Labeler::from_spec(&sp, &labels()).unwrap();
        assert!(lab.scored_labels(&labels()).is_empty());
        // A bad pattern is an error naming the label.
        let bad = spec("[labels.effusion]\npatterns = [\"(\"]");
        let e = Labeler::from_spec(&bad, &ls).err().unwrap().to_string();
        assert!(e.contains("[labeler.labels.effusion]"), "{e}");
        assert!(toml::from_str::<LabelerSpec>("[labels.x]\nphrase = [\"x\"]").is_err());
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
