/*!
Zero-shot tab: a prompt (typed with `/`) or a class (picked with `[`/`]`) against the gallery
images, one column per model, each hit with a half-block thumbnail, its score and its labels.
`Enter` opens the selected image: its pixels (real pixels where the terminal has a graphics
protocol) beside every model's class probabilities; `m` overlays the expert heatmap.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui_image::Image;

use super::theme::Theme;
use super::{model_columns, placeholder};
use crate::tui::layout::THUMB_CELLS;
use crate::tui::state::{AppState, Gallery, InputMode, ModelHits, Tab, Thumbs};

/// Where the opened image is drawn inside the body.
pub fn opened_image_area(body: Rect) -> Rect {
    let [_, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
    let w = (rest.height.saturating_sub(2) * 2).min(rest.width / 2);
    Rect::new(rest.x + 1, rest.y + 1, w, rest.height.saturating_sub(2))
}

/// The query line shared by Zero-shot and Retrieval.
pub fn query_line<'a>(state: &AppState, label: &'a str, text: &'a str, extra: String) -> Line<'a> {
    let editing = state.mode == InputMode::Editing;
    let mut spans = vec![
        Span::styled(format!(" {label} "), Theme::KEY),
        Span::raw(" "),
        Span::styled(
            if text.is_empty() && !editing {
                "press / to type".to_string()
            } else {
                text.to_string()
            },
            if editing {
                Style::new().add_modifier(Modifier::UNDERLINED)
            } else if text.is_empty() {
                Theme::DIM
            } else {
                Style::new()
            },
        ),
    ];
    if editing {
        spans.push(Span::styled(
            "▏",
            Style::new().add_modifier(Modifier::SLOW_BLINK),
        ));
    }
    spans.push(Span::styled(format!("  {extra}"), Theme::DIM));
    Line::from(spans)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let zs = &state.zeroshot;
    // The active query only: the prompt being typed, else what the results answer (a class query
    // replaces an earlier typed prompt on this line).
    let editing = state.tab == Tab::ZeroShot && state.mode == InputMode::Editing;
    let (text, extra) = if editing {
        (zs.prompt.as_str(), String::new())
    } else if zs.pending.is_some() {
        (zs.query_label.as_str(), "searching…".to_string())
    } else {
        (zs.query_label.as_str(), String::new())
    };
    let line = query_line(state, "query", text, extra);
    frame.render_widget(Paragraph::new(line), top);
    let Some(gallery) = state.gallery.as_deref() else {
        placeholder(
            frame,
            rest,
            &crate::tui::problems::placeholder_text(
                state,
                "embed",
                "Embeddings are loading; the gallery appears when they are ready.",
            ),
        );
        return;
    };
    if let Some(opened) = &zs.opened {
        draw_opened(frame, rest, state, gallery, opened);
        return;
    }
    if zs.results.is_empty() {
        placeholder(
            frame,
            rest,
            &format!(
                "Type a prompt with / (e.g. \"enlarged cardiac silhouette\") or pick a class with [ ] \
                 ({} classes: {}). Each model's top {} images appear side by side.",
                gallery.classes.len(),
                gallery.classes.join(", "),
                state.k
            ),
        );
        return;
    }
    let cols = model_columns(rest, zs.results.len());
    for (m, (hits, col)) in zs.results.iter().zip(cols).enumerate() {
        let selected = (m == zs.column).then_some(zs.rank);
        draw_hits(frame, col, m, hits, selected, gallery, &state.thumbs);
    }
}

/// One model's hits as thumbnail cards.
pub fn draw_hits(
    frame: &mut Frame<'_>,
    area: Rect,
    model: usize,
    hits: &ModelHits,
    selected: Option<usize>,
    gallery: &Gallery,
    thumbs: &Thumbs,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if selected.is_some() {
            Theme::model(model)
        } else {
            Theme::DIM
        })
        .title(Span::styled(
            format!(" {} ", hits.model),
            Theme::model(model),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let card_h = THUMB_CELLS.1;
    let per_page = (inner.height / card_h).max(1) as usize;
    let first = selected.map_or(0, |s| s.saturating_sub(per_page - 1));
    for (slot, (rank, hit)) in hits
        .hits
        .iter()
        .enumerate()
        .skip(first)
        .take(per_page)
        .enumerate()
    {
        let y = inner.y + slot as u16 * card_h;
        let card = Rect::new(inner.x, y, inner.width, card_h.min(inner.bottom() - y));
        let Some(item) = gallery.items.get(hit.item) else {
            continue;
        };
        let thumb_w = THUMB_CELLS.0.min(card.width);
        if let Some(Some(p)) = thumbs.0.get(hit.item) {
            frame.render_widget(
                Image::new(p),
                Rect::new(card.x, card.y, thumb_w, card.height),
            );
        }
        let text_area = Rect::new(
            card.x + thumb_w + 1,
            card.y,
            card.width.saturating_sub(thumb_w + 1),
            card.height,
        );
        let style = if selected == Some(rank) {
            Theme::SELECTED
        } else {
            Style::new()
        };
        let name = item
            .image
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let labels = if item.labels.is_empty() {
            "(no labels)".to_string()
        } else {
            item.labels.join(", ")
        };
        let lines = vec![
            Line::from(vec![
                Span::styled(
                    format!(
                        "{}{:>2}. {:.3}",
                        if selected == Some(rank) { "▶" } else { " " },
                        rank + 1,
                        hit.score
                    ),
                    style,
                ),
                Span::styled(format!(" {name}"), Theme::DIM),
            ]),
            Line::from(Span::styled(labels, Theme::model(model))),
            Line::from(Span::styled(item.report.clone(), Theme::DIM)),
        ];
        frame.render_widget(Paragraph::new(lines), text_area);
    }
}

fn draw_opened(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &AppState,
    gallery: &Gallery,
    opened: &crate::tui::state::OpenedImage,
) {
    if opened.show_saliency {
        super::saliency::draw(frame, area, gallery, opened);
        return;
    }
    let img_area = opened_image_area(super::body_area(state.size));
    let img_w = img_area.width + 2;
    let [left, right] =
        Layout::horizontal([Constraint::Length(img_w), Constraint::Min(0)]).areas(area);
    let item = gallery.items.get(opened.item);
    let title = item
        .and_then(|i| i.image.file_name())
        .map(|n| format!(" {} ", n.to_string_lossy()))
        .unwrap_or_default();
    let heat = if opened.show_heatmap { " +heatmap" } else { "" };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!("{title}{heat}"));
    let inner = block.inner(left);
    frame.render_widget(block, left);
    let protocol = if opened.show_heatmap {
        opened.overlay.as_ref()
    } else {
        opened.image.as_ref()
    };
    match protocol {
        Some(p) => frame.render_widget(Image::new(p), inner),
        None => frame.render_widget(
            Paragraph::new("(image could not be read)").style(Theme::DIM),
            inner,
        ),
    }
    let truth: Vec<String> = item.map(|i| i.labels.clone()).unwrap_or_default();
    let mut header = vec![Cell::from("class")];
    for (m, e) in gallery.models.iter().enumerate() {
        header.push(Cell::from(Span::styled(e.model.clone(), Theme::model(m))));
    }
    let argmax: Vec<Option<usize>> = opened
        .probs
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
        })
        .collect();
    let bar_w = (right.width.saturating_sub(20) / gallery.models.len().max(1) as u16)
        .saturating_sub(7)
        .min(20);
    let rows = gallery.classes.iter().enumerate().map(|(c, name)| {
        let is_true = truth.contains(name);
        let mut cells = vec![Cell::from(Span::styled(
            format!("{}{name}", if is_true { "✓ " } else { "  " }),
            if is_true { Theme::TRUTH } else { Style::new() },
        ))];
        for (m, p) in opened.probs.iter().enumerate() {
            let Some(&v) = p.get(c) else {
                cells.push(Cell::from(Span::styled("n/a: no logit_scale", Theme::DIM)));
                continue;
            };
            let bar = "█".repeat((v * bar_w as f32).round() as usize);
            let style = if argmax[m] == Some(c) {
                Theme::model(m).add_modifier(Modifier::BOLD)
            } else {
                Theme::model(m)
            };
            cells.push(Cell::from(Span::styled(format!("{v:.3} {bar}"), style)));
        }
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(20)];
    widths.extend(gallery.models.iter().map(|_| Constraint::Fill(1)));
    let title = format!(
        " {}class probabilities (softmax of logit_scale·cos, model.json) · ✓ ground truth ",
        match gallery.items.get(opened.item).map(|i| i.heatmap.is_some()) {
            Some(true) if opened.overlay.is_some() => "m heatmap · v saliency · ",
            Some(true) => "v saliency · ",
            _ => "",
        }
    );
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(Theme::HEADER_ROW))
            .block(Block::default().borders(Borders::ALL).title(title)),
        right,
    );
}
