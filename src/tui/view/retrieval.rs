/*!
Retrieval tab. Image → report: pick a gallery image (↑/↓) and see each model's top-k reports,
the image's own report marked ✓. Query → image (`/`): a report-like text against the images.
Below, the recall@k table of both directions from the evaluation rows.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, List, ListItem, ListState, Paragraph, Row};
use ratatui_image::Image;

use super::theme::Theme;
use super::zeroshot::{draw_hits, query_line};
use super::{model_columns, num, placeholder, titled_table};
use crate::tui::layout::THUMB_CELLS;
use crate::tui::state::{AppState, Gallery, RetrievalMode};

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let rt = &state.retrieval;
    let recall: Vec<_> = state.overview.lines_of_task("retrieval").collect();
    let table_h = if recall.is_empty() {
        0
    } else {
        (recall.len() as u16 + 3).min(area.height / 3)
    };
    let [top, mid, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(table_h),
    ])
    .areas(area);
    let (label, text, extra) = match rt.mode {
        RetrievalMode::ImageToText => (
            "image → report",
            "",
            "↑↓ pick an image · t: type a query instead".to_string(),
        ),
        RetrievalMode::TextToImage => (
            "query → image",
            rt.query.as_str(),
            "t: pick an image instead".to_string(),
        ),
    };
    let extra = if rt.pending.is_some() {
        "searching…".to_string()
    } else {
        extra
    };
    frame.render_widget(Paragraph::new(query_line(state, label, text, extra)), top);
    if table_h > 0 {
        draw_recall(frame, bottom, state, &recall);
    }
    let Some(gallery) = state.gallery.as_deref() else {
        placeholder(
            frame,
            mid,
            &crate::tui::problems::placeholder_text(
                state,
                "embed",
                "Embeddings are loading; the gallery appears when they are ready.",
            ),
        );
        return;
    };
    match rt.mode {
        RetrievalMode::ImageToText => {
            let [pick, results] =
                Layout::horizontal([Constraint::Length(28), Constraint::Min(0)]).areas(mid);
            draw_picker(frame, pick, state, gallery);
            if rt.results.is_empty() {
                placeholder(
                    frame,
                    results,
                    "Move with ↑/↓ to pick an image; its nearest reports appear here.",
                );
                return;
            }
            for (m, (hits, col)) in rt
                .results
                .iter()
                .zip(model_columns(results, rt.results.len()))
                .enumerate()
            {
                let items: Vec<ListItem> = hits
                    .hits
                    .iter()
                    .enumerate()
                    .map(|(r, h)| {
                        let truth = rt.truth == Some(h.item);
                        let report = gallery
                            .items
                            .get(h.item)
                            .map_or(String::new(), |i| i.report.clone());
                        ListItem::new(Line::from(vec![
                            Span::raw(format!("{:>2}. {:.3} ", r + 1, h.score)),
                            Span::styled(if truth { "✓ " } else { "  " }, Theme::TRUTH),
                            Span::styled(report, if truth { Theme::TRUTH } else { Style::new() }),
                        ]))
                    })
                    .collect();
                let found = hits.hits.iter().position(|h| rt.truth == Some(h.item));
                let title = format!(
                    " {} · own report {} ",
                    hits.model,
                    found.map_or("not in top-k".to_string(), |r| format!("at rank {}", r + 1))
                );
                frame.render_widget(
                    List::new(items).block(
                        Block::default()
                            .borders(Borders::ALL)
                            .border_style(Theme::model(m))
                            .title(Span::styled(title, Theme::model(m))),
                    ),
                    col,
                );
            }
        }
        RetrievalMode::TextToImage => {
            if rt.results.is_empty() {
                placeholder(
                    frame,
                    mid,
                    "Press / and type a report-like query (e.g. \"small left pleural effusion\").",
                );
                return;
            }
            for (m, (hits, col)) in rt
                .results
                .iter()
                .zip(model_columns(mid, rt.results.len()))
                .enumerate()
            {
                let selected = (m == rt.column).then_some(rt.rank);
                draw_hits(frame, col, m, hits, selected, gallery, &state.thumbs);
            }
        }
    }
}

fn draw_picker(frame: &mut Frame<'_>, area: Rect, state: &AppState, gallery: &Gallery) {
    let rt = &state.retrieval;
    let block = Block::default().borders(Borders::ALL).title(format!(
        " image {}/{} ",
        rt.item + 1,
        gallery.items.len()
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [thumb, list] =
        Layout::vertical([Constraint::Length(THUMB_CELLS.1 + 1), Constraint::Min(0)]).areas(inner);
    if let Some(Some(p)) = state.thumbs.0.get(rt.item) {
        frame.render_widget(Image::new(p), thumb);
    }
    if let Some(item) = gallery.items.get(rt.item) {
        let labels = if item.labels.is_empty() {
            "(no labels)".to_string()
        } else {
            item.labels.join(", ")
        };
        let text_x = thumb.x + THUMB_CELLS.0 + 1;
        frame.render_widget(
            Paragraph::new(labels)
                .style(Theme::TRUTH)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            Rect::new(
                text_x,
                thumb.y,
                thumb.right().saturating_sub(text_x),
                thumb.height,
            ),
        );
    }
    // Only the visible window is built: the gallery may hold 100k images.
    let visible = list.height as usize;
    let first = rt.item.saturating_sub(visible.saturating_sub(1));
    let items: Vec<ListItem> = gallery
        .items
        .iter()
        .skip(first)
        .take(visible)
        .map(|i| {
            ListItem::new(
                i.image
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let mut ls = ListState::default().with_selected(Some(rt.item - first));
    frame.render_stateful_widget(
        List::new(items)
            .highlight_style(Theme::SELECTED)
            .highlight_symbol("▶ "),
        list,
        &mut ls,
    );
}

fn draw_recall(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &AppState,
    lines: &[&crate::tui::state::OverviewLine],
) {
    let t = &state.overview;
    let mut header = vec![Cell::from("direction / metric")];
    for (i, m) in t.models.iter().enumerate() {
        header.push(Cell::from(Span::styled(m.clone(), Theme::model(i))));
    }
    for c in &t.comparisons {
        header.push(Cell::from(format!("Δ {c}")));
    }
    let rows = lines.iter().map(|l| {
        let mut cells = vec![Cell::from(format!("{} {}", l.setting, l.metric))];
        cells.extend(
            l.values
                .iter()
                .map(|v| Cell::from(num(v.and_then(|e| e.value)))),
        );
        cells.extend(l.deltas.iter().map(|d| {
            let v = d
                .and_then(|d| d.value)
                .map_or("-".into(), |v| format!("{v:+.3}"));
            let verdict = d.map_or(crate::tui::state::Verdict::NotJudged, |d| d.verdict);
            Cell::from(Span::styled(v, Theme::verdict(verdict)))
        }));
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Min(24)];
    widths.extend((0..t.models.len() + t.comparisons.len()).map(|_| Constraint::Length(14)));
    frame.render_widget(
        titled_table(rows, widths, header, " recall@k (test split) "),
        area,
    );
}
