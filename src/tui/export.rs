/*!
`e`: the current view's data as a table, and that table as CSV.

[`view_table`] is pure (state in, header + rows out) so it is tested without files; [`write_csv`]
is the one function that writes, called by the run loop.
*/
use std::path::{Path, PathBuf};

use super::state::{AppState, RetrievalMode, Tab};

/// A header and rows of strings.
pub type TableData = (Vec<String>, Vec<Vec<String>>);

use crate::eval::rows::cell as opt;

/// The data behind what `tab` shows.
pub fn view_table(state: &AppState, tab: Tab) -> TableData {
    match tab {
        Tab::Overview => super::tabs::overview::export_rows(state),
        Tab::ZeroShot | Tab::Retrieval => hits_table(state, tab),
        Tab::Probe => probe_table(state),
        Tab::Geometry => geometry_table(state),
        Tab::Rag => rag_table(state),
    }
}

fn s(x: &str) -> String {
    x.to_string()
}

/// The image path of gallery item `i` (empty when there is none).
fn item_name(state: &AppState, i: usize) -> String {
    state
        .gallery
        .as_ref()
        .and_then(|g| g.items.get(i))
        .map_or(String::new(), |it| it.image.display().to_string())
}

/// Whether gallery item `item` answers the current query: for a zero-shot class query, the item
/// has the class among its positive labels; for image → text, the hit is the item's own report;
/// `None` (an empty cell) when the query has no ground truth (a typed prompt).
fn ground_truth(state: &AppState, tab: Tab, item: usize) -> Option<bool> {
    if tab == Tab::ZeroShot {
        let g = state.gallery.as_ref()?;
        let class = g.classes.get(state.zeroshot.class?)?;
        return Some(g.items.get(item)?.labels.contains(class));
    }
    state.retrieval.truth.map(|t| t == item)
}

/// Zero-shot / Retrieval: the live query's hits per model.
fn hits_table(state: &AppState, tab: Tab) -> TableData {
    let (query, results) = if tab == Tab::ZeroShot {
        let z = &state.zeroshot;
        (z.query_label.clone(), &z.results)
    } else {
        let r = &state.retrieval;
        let q = match r.mode {
            RetrievalMode::ImageToText => format!("image: {}", item_name(state, r.item)),
            RetrievalMode::TextToImage => format!("query: {}", r.query),
        };
        (q, &r.results)
    };
    let text_hits = tab == Tab::Retrieval && state.retrieval.mode == RetrievalMode::ImageToText;
    let header = [
        "query",
        "model",
        "rank",
        "score",
        "item",
        if text_hits { "report" } else { "image" },
        "ground_truth",
    ]
    .map(s)
    .to_vec();
    let mut rows = Vec::new();
    for m in results {
        for (rank, h) in m.hits.iter().enumerate() {
            let what = if text_hits {
                state
                    .gallery
                    .as_ref()
                    .and_then(|g| g.items.get(h.item))
                    .map_or(String::new(), |i| i.report.clone())
            } else {
                item_name(state, h.item)
            };
            rows.push(vec![
                query.clone(),
                m.model.clone(),
                (rank + 1).to_string(),
                h.score.to_string(),
                h.item.to_string(),
                what,
                ground_truth(state, tab, h.item).map_or(String::new(), |t| t.to_string()),
            ]);
        }
    }
    (header, rows)
}

/// Linear probe: the curves (mean with its interval, min and max over seeds per fraction).
fn probe_table(state: &AppState) -> TableData {
    let header = [
        "model", "metric", "fraction", "mean", "ci_low", "ci_high", "min", "max",
    ]
    .map(s)
    .to_vec();
    let rows = state
        .plots
        .probe
        .iter()
        .flat_map(|c| {
            (0..c.fractions.len()).map(move |k| {
                vec![
                    c.model.clone(),
                    c.metric.clone(),
                    c.fractions[k].to_string(),
                    opt(c.mean.get(k).copied()),
                    opt(c.ci.get(k).copied().flatten().map(|x| x.0)),
                    opt(c.ci.get(k).copied().flatten().map(|x| x.1)),
                    opt(c.min.get(k).copied()),
                    opt(c.max.get(k).copied()),
                ]
            })
        })
        .collect();
    (header, rows)
}

/// Geometry: histogram densities, PCA points with the gap vector, gap-shift curves.
fn geometry_table(state: &AppState) -> TableData {
    let header = ["model", "series", "x", "y"].map(s).to_vec();
    let mut rows = Vec::new();
    let p = &state.plots;
    for h in &p.histograms {
        for (k, w) in h.edges.windows(2).enumerate() {
            let c = ((w[0] + w[1]) / 2.0).to_string();
            rows.push(vec![
                h.model.clone(),
                s("matched_density"),
                c.clone(),
                opt(h.matched.get(k).copied()),
            ]);
            rows.push(vec![
                h.model.clone(),
                s("unmatched_density"),
                c,
                opt(h.unmatched.get(k).copied()),
            ]);
        }
    }
    for pc in &p.pca {
        for (series, pts) in [("pca_image", &pc.image), ("pca_text", &pc.text)] {
            rows.extend(
                pts.iter()
                    .map(|(x, y)| vec![pc.model.clone(), s(series), x.to_string(), y.to_string()]),
            );
        }
        rows.push(vec![
            pc.model.clone(),
            s("gap_from"),
            pc.gap_from.0.to_string(),
            pc.gap_from.1.to_string(),
        ]);
        rows.push(vec![
            pc.model.clone(),
            s("gap_to"),
            pc.gap_to.0.to_string(),
            pc.gap_to.1.to_string(),
        ]);
    }
    for g in &p.gap_shift {
        rows.extend(g.shifts.iter().zip(&g.values).map(|(x, y)| {
            vec![
                g.model.clone(),
                format!("gap_shift_{}", g.metric),
                x.to_string(),
                y.to_string(),
            ]
        }));
    }
    (header, rows)
}

/// RAG: every generated report with its reference, findings and snippets.
fn rag_table(state: &AppState) -> TableData {
    let header = [
        "model",
        "row",
        "generated",
        "reference",
        "generated_findings",
        "reference_findings",
        "snippets",
        "error",
    ]
    .map(s)
    .to_vec();
    let fmt = |f: &[super::state::FindingView]| {
        f.iter()
            .map(|f| format!("{}{}", if f.negated { "-" } else { "+" }, f.label))
            .collect::<Vec<_>>()
            .join(";")
    };
    let rows = state
        .rag
        .models
        .iter()
        .zip(&state.rag.items)
        .flat_map(|(m, items)| {
            items.iter().map(move |i| {
                vec![
                    m.clone(),
                    i.row.to_string(),
                    i.generated.clone(),
                    i.reference.clone(),
                    fmt(&i.generated_findings),
                    fmt(&i.reference_findings),
                    i.snippets.join(" | "),
                    i.error.clone().unwrap_or_default(),
                ]
            })
        })
        .collect();
    (header, rows)
}

/// Writes `table` as CSV to `dir/eclip-<tab>.csv`.
///
/// # Errors
/// When the file cannot be created or written; the error names the file.
pub fn write_csv(dir: &Path, tab: Tab, table: &TableData) -> Result<PathBuf, super::Error> {
    let path = dir.join(format!("eclip-{}.csv", tab.slug()));
    let wrap = |source| super::Error::Export {
        path: path.clone(),
        source,
    };
    let file = crate::output::AtomicFile::create(&path).map_err(|e| wrap(e.into()))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(&table.0).map_err(wrap)?;
    for r in &table.1 {
        w.write_record(r).map_err(wrap)?;
    }
    let file = w.into_inner().map_err(|e| wrap(e.into_error().into()))?;
    file.commit().map_err(|e| wrap(e.into()))?;
    Ok(path)
}
