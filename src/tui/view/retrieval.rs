/*!
Retrieval tab. Image → report: pick a gallery image (↑/↓) and see each model's top-k reports,
the image's own report marked ✓. Query → image (`/`): a report-like text against the images.
`Enter` opens an item: its thumbnail and labels, its full report, its rank in every model's top-k
and (image → report) every retrieved report in full, scrolled with ↑/↓. Below, the recall@k table
of both directions from the evaluation rows: each model's value with its interval and the chosen
pair's delta with its interval, coloured by the one verdict rule.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, List, ListItem, ListState, Paragraph, Row};
use ratatui_image::Image;

use super::theme::Theme;
use super::zeroshot::{draw_hits, query_line};
use super::{model_columns, placeholder, titled_table};
use crate::tui::layout::THUMB_CELLS;
use crate::tui::state::{AppState, Gallery, ItemView, RetrievalMode};
use crate::tui::tabs::overview::{ViewLine, delta_cell, est, header_cells};

#[expect(
    clippy::too_many_lines,
    reason = "one tab's layout: query line, per-model columns, opened item and interval table share the computed areas"
)]
pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let rt = &state.retrieval;
    let recall = &state.derived.retrieval;
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
        draw_recall(frame, bottom, state, recall);
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
    if let Some(item) = &rt.opened {
        draw_item(frame, mid, state, gallery, item);
        return;
    }
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

fn draw_recall(frame: &mut Frame<'_>, area: Rect, state: &AppState, lines: &[ViewLine]) {
    let t = &state.overview;
    let wide = area.width >= 24 + (t.models.len() as u16 + 1) * 22;
    let header = header_cells(state, "direction / metric", wide);
    let rows = lines.iter().map(|v| {
        let l = &t.lines[v.line];
        let mut cells = vec![Cell::from(v.name.clone())];
        cells.extend(l.values.iter().map(|e| Cell::from(est(e, wide))));
        cells.push(delta_cell(&v.delta, wide));
        Row::new(cells)
    });
    let w = if wide { 22 } else { 8 };
    let mut widths = vec![Constraint::Min(16)];
    widths.extend((0..=t.models.len()).map(|_| Constraint::Length(w)));
    let title = if wide {
        " recall@k of the evaluation (test split) · value (95% CI) ".to_string()
    } else {
        " recall@k of the evaluation (wider terminal: CIs) ".to_string()
    };
    frame.render_widget(titled_table(rows, widths, header, title), area);
}

/// An opened item: thumbnail and labels, ranks per model, the full report, and (image → report)
/// every model's retrieved reports in full; one scrolled paragraph.
fn draw_item(frame: &mut Frame<'_>, area: Rect, state: &AppState, gallery: &Gallery, o: &ItemView) {
    let Some(item) = gallery.items.get(o.item) else {
        return;
    };
    let name = item
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {name} · {} ", o.query))
        .title_bottom(" ↑↓ PgUp/PgDn scroll · Esc back ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head, text] =
        Layout::vertical([Constraint::Length(THUMB_CELLS.1), Constraint::Min(0)]).areas(inner);
    if let Some(Some(p)) = state.thumbs.0.get(o.item) {
        frame.render_widget(
            Image::new(p),
            Rect::new(head.x, head.y, THUMB_CELLS.0.min(head.width), head.height),
        );
    }
    let labels = if item.labels.is_empty() {
        "(no labels)".to_string()
    } else {
        item.labels.join(", ")
    };
    let mut ranks = vec![Span::raw("rank ")];
    for (m, (model, rank)) in o.ranks.iter().enumerate() {
        if m > 0 {
            ranks.push(Span::raw(" · "));
        }
        let r = rank.map_or(format!("not in top-{}", state.k), |r| r.to_string());
        ranks.push(Span::styled(format!("{model} {r}"), Theme::model(m)));
    }
    let x = head.x + THUMB_CELLS.0 + 1;
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(Span::styled(labels, Theme::TRUTH)),
            Line::from(ranks),
            Line::from(Span::styled(
                format!("dataset row {} · {}", item.row, item.image.display()),
                Theme::DIM,
            )),
        ]),
        Rect::new(x, head.y, head.right().saturating_sub(x), head.height),
    );
    let mut lines = vec![
        Line::from(Span::styled("report:", Theme::HEADER_ROW)),
        Line::from(item.report.clone()),
    ];
    for (m, (model, hits)) in o.retrieved.iter().enumerate() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("retrieved by {model}:"),
            Theme::model(m).add_modifier(ratatui::style::Modifier::BOLD),
        )));
        for r in hits {
            let (rank, score, own) = (r.rank, r.score, r.own);
            let report = gallery.items.get(r.item).map_or("", |i| i.report.as_str());
            let style = if own { Theme::TRUTH } else { Style::new() };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{rank:>2}. {score:.3} {}", if own { "✓ " } else { "" }),
                    style,
                ),
                Span::styled(report.to_string(), style),
            ]));
        }
    }
    let max = lines.len().saturating_sub(1) as u16;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .scroll((o.scroll.min(max), 0)),
        text,
    );
}
