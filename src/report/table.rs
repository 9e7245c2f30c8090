/*!
The readable summary table printed to stdout after a headless run: one block per dataset, one line
per metric, one column per model (value and 95% interval) and one per comparison (`B - A`: delta,
interval and p-value). Column widths follow the content; no colours, so it pipes cleanly.
*/
use super::{fmt_ci, fmt_p};
use crate::eval::rows::Comparison;
use crate::eval::summary::EvalSummary;

/// Render the summary table of one dataset.
pub fn render(s: &EvalSummary) -> String {
    let comparisons: Vec<String> = s
        .models
        .iter()
        .skip(1)
        .map(|b| Comparison::new(&s.models[0], b).label())
        .collect();
    let mut header = vec!["task".to_string(), "setting".into(), "metric".into()];
    header.extend(s.models.iter().cloned());
    header.extend(comparisons.iter().map(|c| format!("{c} (p)")));
    let mut lines: Vec<Vec<String>> = vec![header];
    for (task, setting, metric) in s.metric_keys() {
        let mut line = vec![task.clone(), setting.clone(), metric.clone()];
        for m in &s.models {
            line.push(
                s.row(m, &task, &setting, &metric)
                    .map(|r| fmt_ci(r.value, r.ci_low, r.ci_high))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        for c in &comparisons {
            line.push(
                s.row(c, &task, &setting, &metric)
                    .map(|r| {
                        let p = fmt_p(r.p_value);
                        let v = fmt_ci(r.value, r.ci_low, r.ci_high);
                        if p.is_empty() {
                            v
                        } else {
                            format!("{v} p={p}")
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
        "== {} ({} models; 95% CIs: bootstrap over items, probes: t-interval over seeds) ==\n",
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
    if !s.notes.is_empty() {
        out.push_str("notes:\n");
        for n in &s.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}
