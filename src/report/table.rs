/*!
The readable summary table printed to stdout after a headless run: one block per dataset, one line
per metric, one column per model (value and 95% interval) and one per comparison (`B - A`: delta,
interval, the multiplicity-adjusted p-value with its procedure and the verdict mark of
[`Verdict::of_row`]). Column widths follow the content; no colours, so it pipes cleanly.
*/
use super::{fmt_ci, fmt_p};
use crate::eval::metrics::{self, Verdict};
use crate::eval::rows::Comparison;
use crate::eval::summary::EvalSummary;

/// Render the summary table of one dataset.
pub fn render(s: &EvalSummary) -> String {
    // Replicate groups replace their replicates here (the CSV has every replicate's rows).
    let subjects = s.subjects();
    let comparisons: Vec<String> = subjects
        .iter()
        .skip(1)
        .map(|b| Comparison::new(&subjects[0], b).label())
        .collect();
    let mut header = vec!["task".to_string(), "setting".into(), "metric".into()];
    header.extend(subjects.iter().map(|m| match s.replicates_of(m) {
        1 => m.clone(),
        r => format!("{m} (mean of {r})"),
    }));
    header.extend(comparisons.iter().map(|c| format!("{c} (p)")));
    let mut lines: Vec<Vec<String>> = vec![header];
    for (task, setting, metric) in s.metric_keys() {
        let mut line = vec![task.name().to_owned(), setting.label(), metric.clone()];
        for m in &subjects {
            line.push(
                s.row(m, task, &setting, &metric)
                    .map(|r| fmt_ci(r.value, r.ci_low, r.ci_high))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        for c in &comparisons {
            line.push(
                s.row(c, task, &setting, &metric)
                    .map(|r| {
                        let v = fmt_ci(r.value, r.ci_low, r.ci_high);
                        let mark = match Verdict::of_row(r) {
                            Verdict::Better => " +",
                            Verdict::Worse => " -",
                            Verdict::TooFewItems => " ?",
                            Verdict::ReplicatesDisagree => " ~",
                            Verdict::NoDifference | Verdict::NotJudged => "",
                        };
                        match (r.adjustment, fmt_p(metrics::verdict_p(r))) {
                            (_, p) if p.is_empty() => v,
                            (Some(a), p) => format!("{v} {}={p}{mark}", a.as_str()),
                            (None, p) => format!("{v} p={p}{mark}"),
                        }
                    })
                    .unwrap_or_else(|| "-".into()),
            );
        }
        lines.push(line);
    }
    let cols = lines[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "== {} ({} models; 95% CIs: BCa bootstrap over items, probes: BC bootstrap over probe seeds then items) ==\n",
        s.dataset,
        s.models.len()
    );
    for (i, l) in lines.iter().enumerate() {
        let cells: Vec<String> = l
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(
                &widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  "),
            );
            out.push('\n');
        }
    }
    out.push_str(
        "(holm=/bh=: the p-value adjusted by Holm over the primary metrics or Benjamini-Hochberg over the others, per dataset and model pair; +/-: significantly better/worse for the later model; ?: fewer than 30 items, no verdict)\n",
    );
    if !s.notes.is_empty() {
        out.push_str("notes:\n");
        for n in &s.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}
