/*!
The plain-text summary table printed on quit and in headless mode: one line per metric with each
model's value and every `B - A` delta with its 95% CI and p-value — what a user copies into a
note, like the HF text-generation benchmark prints after its TUI closes.
*/
use std::fmt::Write;

use super::state::{OverviewTable, Verdict};

/// Renders the table; an empty table says so.
pub fn render(table: &OverviewTable) -> String {
    if table.lines.is_empty() {
        return "no metrics were computed\n".to_string();
    }
    let names: Vec<String> = table
        .lines
        .iter()
        .map(|l| format!("{}/{}/{} {}", l.dataset, l.task, l.setting, l.metric))
        .collect();
    let w0 = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let wm: Vec<usize> = table
        .models
        .iter()
        .map(|m| m.chars().count().max(7))
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{:<w0$}", "metric");
    for (m, w) in table.models.iter().zip(&wm) {
        let _ = write!(out, "  {m:>w$}");
    }
    for c in &table.comparisons {
        let _ = write!(out, "  {:>28}  {:>6}", format!("Δ {c} [95% CI]"), "p");
    }
    out.push('\n');
    for (l, name) in table.lines.iter().zip(&names) {
        let _ = write!(out, "{name:<w0$}");
        for (v, w) in l.values.iter().zip(&wm) {
            let s = v
                .and_then(|e| e.value)
                .map_or("-".to_string(), |v| format!("{v:.4}"));
            let _ = write!(out, "  {s:>w$}");
        }
        for d in &l.deltas {
            let (s, p) = match d {
                None => ("-".to_string(), "-".to_string()),
                Some(d) => {
                    let mark = match d.verdict {
                        Verdict::Better => " +",
                        Verdict::Worse => " -",
                        Verdict::TooFewItems => " ?",
                        Verdict::ReplicatesDisagree => " ~",
                        Verdict::NoDifference | Verdict::NotJudged => "  ",
                    };
                    let v = d.value.map_or("-".into(), |v| format!("{v:+.4}"));
                    let ci =
                        d.ci.map_or(String::new(), |(a, b)| format!(" [{a:+.3}, {b:+.3}]"));
                    (
                        format!("{v}{ci}{mark}"),
                        d.p_shown().map_or("-".into(), |p| format!("{p:.4}")),
                    )
                }
            };
            let _ = write!(out, "  {s:>28}  {p:>6}");
        }
        out.push('\n');
    }
    out.push_str("(p: multiplicity-adjusted, Holm over the primary metrics and Benjamini-Hochberg over the others, per dataset and model pair; +/-: the later model is significantly better/worse: the 95% CI of the delta excludes 0 and the adjusted p < 0.05; ?: fewer than 30 items, no verdict; metrics without a good direction are not marked)\n");
    out
}
