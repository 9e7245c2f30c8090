/*!
The full-text overlay (`r`, issue 18): the whole text of the report under the cursor, wrapped and
scrollable, wherever a report appears — the Zero-shot hits, opened image and saliency view, the
Retrieval results of both directions and the opened item, the RAG tab's generated and reference
reports. [`open`] picks the text out of the state when the key is pressed (never while drawing);
[`on_command`] scrolls and closes it; [`crate::tui::view::report_text`] draws it.
*/
use super::event::Action;
use super::keys::Command;
use super::state::{AppState, Gallery, GalleryItem, RetrievalMode, Tab};

/// One text of the overlay with its heading ("report", "CLIP #1 · 0.812", "generated").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPane {
    pub heading: String,
    pub text: String,
}

/// The open overlay: where the text comes from, the texts, and how far it is scrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportText {
    /// Dataset row of the image whose report(s) these are.
    pub row: usize,
    /// The image's path (`-` when the gallery does not hold the row).
    pub image: String,
    /// What the texts are ("Zero-shot hit", "RAG query 2/5").
    pub context: String,
    pub panes: Vec<ReportPane>,
    /// Panes side by side when the terminal is wide enough (RAG: generated beside reference).
    pub side_by_side: bool,
    /// First line shown.
    pub scroll: usize,
}

fn item_text(item: &GalleryItem, context: String) -> ReportText {
    let labels = if item.labels.is_empty() {
        "no labels".to_string()
    } else {
        item.labels.join(", ")
    };
    ReportText {
        row: item.row,
        image: item.image.display().to_string(),
        context,
        panes: vec![ReportPane {
            heading: format!("report ({labels})"),
            text: item.report.clone(),
        }],
        side_by_side: false,
        scroll: 0,
    }
}

fn gallery_item(g: &Gallery, item: usize) -> Result<&GalleryItem, String> {
    g.items
        .get(item)
        .ok_or_else(|| format!("gallery item {item} is not in the loaded gallery"))
}

/// The report(s) under the cursor of the current tab, or why there is none.
pub fn open(state: &AppState) -> Result<ReportText, String> {
    match state.tab {
        Tab::ZeroShot => zeroshot(state),
        Tab::Retrieval => retrieval(state),
        Tab::Rag => rag(state),
        _ => Err("no report on this tab (r works on Zero-shot, Retrieval and RAG)".to_string()),
    }
}

fn loaded(state: &AppState) -> Result<&Gallery, String> {
    state
        .gallery
        .as_deref()
        .ok_or_else(|| "the gallery is still loading".to_string())
}

fn zeroshot(state: &AppState) -> Result<ReportText, String> {
    let g = loaded(state)?;
    let zs = &state.zeroshot;
    if let Some(o) = &zs.opened {
        return Ok(item_text(gallery_item(g, o.item)?, "opened image".into()));
    }
    let hit = zs
        .results
        .get(zs.column)
        .and_then(|m| m.hits.get(zs.rank).map(|h| (m, h)));
    let Some((m, h)) = hit else {
        return Err("no hit selected: run a query first (/ or [ ])".to_string());
    };
    let context = format!("{} hit {} · {:.3}", m.model, zs.rank + 1, h.score);
    Ok(item_text(gallery_item(g, h.item)?, context))
}

fn retrieval(state: &AppState) -> Result<ReportText, String> {
    let g = loaded(state)?;
    let rt = &state.retrieval;
    if let Some(o) = &rt.opened {
        let mut t = item_text(gallery_item(g, o.item)?, format!("item · {}", o.query));
        // Image → report: the reports the selected model column retrieved, after its own.
        let column = o
            .retrieved
            .get(rt.column.min(o.retrieved.len().saturating_sub(1)));
        if let Some((model, hits)) = column {
            for h in hits {
                let report = gallery_item(g, h.item)?;
                let own = if h.own { " ✓ own report" } else { "" };
                t.panes.push(ReportPane {
                    heading: format!("{model} #{} · {:.3}{own}", h.rank, h.score),
                    text: report.report.clone(),
                });
            }
        }
        return Ok(t);
    }
    match rt.mode {
        RetrievalMode::ImageToText => {
            let Some(m) = rt.results.get(rt.column) else {
                return Err("pick an image first (↑↓)".to_string());
            };
            let mut t = item_text(
                gallery_item(g, rt.item)?,
                format!("image → report · {} top-{}", m.model, m.hits.len()),
            );
            for (r, h) in m.hits.iter().enumerate() {
                let own = if rt.truth == Some(h.item) {
                    " ✓ own report"
                } else {
                    ""
                };
                t.panes.push(ReportPane {
                    heading: format!("{} #{} · {:.3}{own}", m.model, r + 1, h.score),
                    text: gallery_item(g, h.item)?.report.clone(),
                });
            }
            Ok(t)
        }
        RetrievalMode::TextToImage => {
            let hit = rt
                .results
                .get(rt.column)
                .and_then(|m| m.hits.get(rt.rank).map(|h| (m, h)));
            let Some((m, h)) = hit else {
                return Err("type a query first (/)".to_string());
            };
            let context = format!(
                "query: {} · {} hit {} · {:.3}",
                rt.query,
                m.model,
                rt.rank + 1,
                h.score
            );
            Ok(item_text(gallery_item(g, h.item)?, context))
        }
    }
}

fn rag(state: &AppState) -> Result<ReportText, String> {
    let rag = &state.rag;
    let n = rag.items.first().map_or(0, Vec::len);
    if n == 0 {
        return Err("no RAG results yet".to_string());
    }
    let sel = state.rag_pos.selected.min(n - 1);
    let first = &rag.items[0][sel];
    let image = state
        .galleries
        .iter()
        .filter(|e| e.gallery.dataset == rag.dataset)
        .find_map(|e| e.gallery.items.iter().find(|i| i.row == first.row))
        .map_or("-".to_string(), |i| i.image.display().to_string());
    let mut panes = vec![ReportPane {
        heading: "ground truth".to_string(),
        text: first.reference.clone(),
    }];
    for (model, items) in rag.models.iter().zip(&rag.items) {
        if let Some(item) = items.get(sel) {
            let text = match &item.error {
                Some(e) => format!("not generated: {e}"),
                None => item.generated.clone(),
            };
            panes.push(ReportPane {
                heading: format!("generated · {model}"),
                text,
            });
        }
    }
    Ok(ReportText {
        row: first.row,
        image,
        context: format!("RAG query {}/{n}", sel + 1),
        panes,
        side_by_side: true,
        scroll: 0,
    })
}

/// `r` opens / closes the overlay; while it is open, moves scroll it and `Esc` closes it. `None`
/// when the command is not the overlay's.
pub fn on_command(state: &mut AppState, c: Command, page: usize) -> Option<Action> {
    if c == Command::ReadReport {
        if state.report_text.take().is_none() {
            match open(state) {
                Ok(t) => state.report_text = Some(t),
                Err(e) => state.say(e),
            }
        }
        return Some(Action::None);
    }
    let max = state
        .report_text
        .as_ref()
        .map(|t| crate::tui::view::report_text::max_scroll(t, state.size))?;
    let t = state.report_text.as_mut()?;
    match c {
        Command::Up => t.scroll = t.scroll.saturating_sub(1),
        Command::Down => t.scroll = (t.scroll + 1).min(max),
        Command::PageUp => t.scroll = t.scroll.saturating_sub(page),
        Command::PageDown => t.scroll = (t.scroll + page).min(max),
        Command::Back => state.report_text = None,
        Command::Quit | Command::Help => return None,
        _ => {}
    }
    Some(Action::None)
}
