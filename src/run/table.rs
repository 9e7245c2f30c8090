/*!
The one summary table, printed to stdout after a headless `--report` run and after the TUI quits:
one block per dataset, one line per (task, setting, metric), one column per compared subject (value
and 95% interval; replicate groups as the mean of their replicates) and one per comparison
(`B - A`: delta, interval, the multiplicity-adjusted p-value with its procedure and the verdict
mark of [`Verdict::of_row`]). Column widths follow the content; no colours, so it pipes cleanly.

Both front ends hand it tidy rows: the report one [`EvalSummary`] per dataset ([`render`]), the TUI
the rows it holds ([`render_rows`]); neither renders a table of its own.
*/
use crate::eval::MetricRow;
use crate::eval::groups;
use crate::eval::metrics::{self, Setting, Task, Verdict};
use crate::eval::rows::Comparison;
use crate::eval::summary::EvalSummary;

/// A number for people: up to 4 significant decimals, or "undefined".
pub fn fmt_num(v: Option<f64>) -> String {
    match v {
        None => "undefined".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// "0.5123 [0.4800, 0.5500]" (no interval part when there is none).
pub fn fmt_ci(value: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    match (value, lo, hi) {
        (Some(_), Some(l), Some(h)) => format!(
            "{} [{}, {}]",
            fmt_num(value),
            fmt_num(Some(l)),
            fmt_num(Some(h))
        ),
        _ => fmt_num(value),
    }
}

/// A p-value for people: "<0.001" below one in a thousand.
pub fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => String::new(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

/// One dataset's block: what the table shows.
pub struct Block<'a> {
    pub dataset: &'a str,
    /// Models behind the block (replicates counted one by one).
    pub models: usize,
    /// The compared names, the first is `A`; with the replicates behind each (1: a plain model).
    pub subjects: Vec<(String, usize)>,
    pub rows: Vec<&'a MetricRow>,
    pub notes: &'a [String],
}

/// The table of one evaluated dataset (the `--report` stdout).
pub fn render(s: &EvalSummary) -> String {
    // Replicate groups replace their replicates here (the CSV has every replicate's rows).
    let subjects = s
        .subjects()
        .into_iter()
        .map(|m| {
            let r = s.replicates_of(&m);
            (m, r)
        })
        .collect();
    render_block(&Block {
        dataset: &s.dataset,
        models: s.models.len(),
        subjects,
        rows: s.rows.iter().collect(),
        notes: &s.notes,
    })
}

/// The tables of tidy rows of any number of datasets, one block per dataset in row order (the
/// TUI's quit summary). `models` are the run's models; a dataset's subjects are the baseline and
/// candidates of its comparison rows, or its models when it has no comparison.
pub fn render_rows(models: &[String], rows: &[MetricRow]) -> String {
    if rows.is_empty() {
        return "no metrics were computed\n".to_string();
    }
    let mut datasets: Vec<&str> = Vec::new();
    for r in rows {
        if !datasets.contains(&r.dataset.as_str()) {
            datasets.push(&r.dataset);
        }
    }
    let mut out = String::new();
    for (i, dataset) in datasets.into_iter().enumerate() {
        let of: Vec<&MetricRow> = rows.iter().filter(|r| r.dataset == dataset).collect();
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&render_block(&Block {
            dataset,
            models: models.len(),
            subjects: subjects_of(&of),
            rows: of,
            notes: &[],
        }));
    }
    out
}

/// The compared subjects of one dataset's rows: the pairs of its comparison rows in order
/// (baseline first), else every model that has rows; replicates from the rows' own record.
fn subjects_of(rows: &[&MetricRow]) -> Vec<(String, usize)> {
    let mut names: Vec<&str> = Vec::new();
    for c in rows.iter().filter_map(|r| r.comparison.as_ref()) {
        for n in [c.baseline.as_str(), c.candidate.as_str()] {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    if names.is_empty() {
        for r in rows {
            if !names.contains(&r.model.as_str()) {
                names.push(&r.model);
            }
        }
    }
    names
        .into_iter()
        .map(|n| {
            let replicates = rows
                .iter()
                .find(|r| r.model == n)
                .map_or(1, |r| groups::replicates_cell(r));
            (n.to_owned(), replicates)
        })
        .collect()
}

/// The mark of a comparison's verdict in the table.
fn mark(r: &MetricRow) -> &'static str {
    match Verdict::of_row(r) {
        Verdict::Better => " +",
        Verdict::Worse => " -",
        Verdict::TooFewItems => " ?",
        Verdict::ReplicatesDisagree => " ~",
        Verdict::NoDifference | Verdict::NotJudged => "",
    }
}

/// A comparison cell: delta and interval, the p-value the verdict uses, the verdict mark.
fn comparison_cell(r: &MetricRow) -> String {
    let v = fmt_ci(r.value, r.ci_low, r.ci_high);
    match (r.adjustment, fmt_p(metrics::verdict_p(r))) {
        (_, p) if p.is_empty() => v,
        (Some(a), p) => format!("{v} {}={p}{}", a.as_str(), mark(r)),
        (None, p) => format!("{v} p={p}{}", mark(r)),
    }
}

/// Distinct (task, setting, metric) keys of `rows` in first-seen order.
fn keys(rows: &[&MetricRow]) -> Vec<(Task, Setting, String)> {
    let mut keys: Vec<(Task, Setting, String)> = Vec::new();
    for r in rows {
        if !keys
            .iter()
            .any(|(t, s, m)| *t == r.task && *s == r.setting && *m == r.metric)
        {
            keys.push((r.task, r.setting.clone(), r.metric.clone()));
        }
    }
    keys
}

/// The cells of a block: the header line, then one line per metric key.
fn cells(b: &Block) -> Vec<Vec<String>> {
    let (baseline, candidates) = match b.subjects.split_first() {
        Some((first, rest)) => (first.0.as_str(), rest),
        None => ("", &[][..]),
    };
    let comparisons: Vec<String> = candidates
        .iter()
        .map(|(c, _)| Comparison::new(baseline, c).label())
        .collect();
    let mut header = vec!["task".to_string(), "setting".into(), "metric".into()];
    header.extend(b.subjects.iter().map(|(m, r)| match r {
        1 => m.clone(),
        r => format!("{m} (mean of {r})"),
    }));
    header.extend(comparisons.iter().map(|c| format!("{c} (p)")));
    let row = |model: &str, (task, setting, metric): &(Task, Setting, String)| {
        b.rows.iter().copied().find(|r| {
            r.model == model && r.task == *task && r.setting == *setting && r.metric == *metric
        })
    };
    let mut lines = vec![header];
    for key in keys(&b.rows) {
        let mut line = vec![key.0.name().to_owned(), key.1.label(), key.2.clone()];
        for (m, _) in &b.subjects {
            line.push(
                row(m, &key).map_or_else(|| "-".into(), |r| fmt_ci(r.value, r.ci_low, r.ci_high)),
            );
        }
        for c in &comparisons {
            line.push(row(c, &key).map_or_else(|| "-".into(), comparison_cell));
        }
        lines.push(line);
    }
    lines
}

/// One dataset's block as text.
pub fn render_block(b: &Block) -> String {
    let lines = cells(b);
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
        b.dataset, b.models
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
    if !b.notes.is_empty() {
        out.push_str("notes:\n");
        for n in b.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}
