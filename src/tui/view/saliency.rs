/*!
The saliency view of an opened image (`s` on the Zero-shot tab, issue 16): the expert heatmap and
each model's saliency map side by side, each blended in red over the image on the model's input
grid (as the `m` overlay blends) and drawn as coloured half blocks, above the agreement scores of
this image (NSS, CC, KL, SIM, AUC-Judd; `crate::eval::saliency`) with the later models' `B - A`
differences. Pictures and scores come ready-made in the state ([`SaliencyView`]); while they are
computed on the saliency thread the panels say "computing…".
*/
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Widget, Wrap};

use super::num;
use super::theme::Theme;
use crate::eval::metrics::{Direction, Task, direction};
use crate::eval::saliency::Agreement;
use crate::tui::state::{Gallery, OpenedImage, Panel, SaliencyPane, SaliencyView};

/// Display names of [`Agreement::NAMES`].
const LABELS: [&str; 5] = ["NSS", "CC", "KL", "SIM", "AUC-Judd"];

/// Rows of the score table: borders, header, one per metric.
const TABLE_ROWS: u16 = 2 + 1 + LABELS.len() as u16;

pub fn draw(frame: &mut Frame<'_>, area: Rect, gallery: &Gallery, opened: &OpenedImage) {
    let name = gallery
        .items
        .get(opened.item)
        .and_then(|i| i.image.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let view = match &opened.saliency {
        SaliencyPane::Ready(v) => Some(v.as_ref()),
        _ => None,
    };
    let [info, panels, scores] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(TABLE_ROWS),
    ])
    .areas(area);
    let mut spans = vec![Span::styled(format!(" {name} "), Theme::HEADER_ROW)];
    if let Some(v) = view {
        spans.push(Span::raw(format!(
            "saliency: {} · target: {}",
            v.setting, v.target
        )));
    } else {
        spans.push(Span::raw("saliency"));
    }
    spans.push(Span::styled("  v/Esc back", Theme::DIM));
    frame.render_widget(Paragraph::new(Line::from(spans)), info);

    let models: Vec<&str> = gallery.models.iter().map(|m| m.model.as_str()).collect();
    if let SaliencyPane::Failed(e) = &opened.saliency {
        super::placeholder(frame, panels, &format!("no saliency: {e} (s tries again)"));
        draw_scores(frame, scores, &models, None);
        return;
    }
    let cols = super::model_columns(panels, models.len() + 1);
    let pending_text = match &opened.saliency {
        SaliencyPane::Pending(_) => Some("computing…".to_string()),
        SaliencyPane::Failed(_) => None,
        SaliencyPane::NotAsked => Some("press s to compute".to_string()),
        SaliencyPane::Ready(_) => None,
    };
    let title = |t: String, style: Style| Span::styled(format!(" {t} "), style);
    picture_or_text(
        frame,
        cols[0],
        title("expert heatmap".into(), Theme::FINDING),
        view.and_then(|v| v.heatmap.as_ref()),
        pending_text
            .as_deref()
            .unwrap_or("no heatmap on a model grid"),
    );
    for (m, (model, col)) in models.iter().zip(&cols[1..]).enumerate() {
        let ms = view.and_then(|v| v.models.iter().find(|s| s.model == *model));
        let (heading, text) = match ms {
            Some(s) if s.panel.is_some() => (format!("{model} · {}", s.note), String::new()),
            Some(s) => (model.to_string(), format!("no map: {}", s.note)),
            None => (
                model.to_string(),
                pending_text.clone().unwrap_or_else(|| "no map".to_string()),
            ),
        };
        picture_or_text(
            frame,
            *col,
            title(heading, Theme::model(m)),
            ms.and_then(|s| s.panel.as_ref()),
            &text,
        );
    }
    draw_scores(frame, scores, &models, view);
}

/// A bordered panel with the picture centred in it, or the text when there is none.
fn picture_or_text(
    frame: &mut Frame<'_>,
    area: Rect,
    title: Span<'_>,
    panel: Option<&Panel>,
    text: &str,
) {
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match panel.filter(|p| p.side > 0) {
        Some(p) => {
            // Half blocks: a cell is one pixel wide and two tall, so a square is 2h × h cells.
            let cols = inner.width.min(inner.height * 2);
            let rows = cols / 2;
            let pic = Rect::new(
                inner.x + (inner.width - cols) / 2,
                inner.y + (inner.height - rows) / 2,
                cols,
                rows,
            );
            frame.render_widget(HalfBlocks(p), pic);
        }
        None => frame.render_widget(
            Paragraph::new(text.to_string())
                .style(Theme::DIM)
                .wrap(Wrap { trim: true }),
            inner,
        ),
    }
}

/// A [`Panel`] scaled to the area (box average), two pixel rows per cell: `▀` with the upper
/// pixel as foreground and the lower as background.
struct HalfBlocks<'a>(&'a Panel);

impl Widget for HalfBlocks<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let p = self.0;
        let (w, h) = (area.width as usize, area.height as usize * 2);
        if w == 0 || h == 0 || p.side == 0 || p.rgb.len() != p.side * p.side {
            return;
        }
        let pixel = |x: usize, y: usize| -> Color {
            let (x0, x1) = (
                x * p.side / w,
                ((x + 1) * p.side / w).max(x * p.side / w + 1),
            );
            let (y0, y1) = (
                y * p.side / h,
                ((y + 1) * p.side / h).max(y * p.side / h + 1),
            );
            let mut acc = [0u32; 3];
            let mut n = 0u32;
            for sy in y0..y1.min(p.side) {
                for sx in x0..x1.min(p.side) {
                    let c = p.rgb[sy * p.side + sx];
                    for k in 0..3 {
                        acc[k] += u32::from(c[k]);
                    }
                    n += 1;
                }
            }
            let n = n.max(1);
            Color::Rgb((acc[0] / n) as u8, (acc[1] / n) as u8, (acc[2] / n) as u8)
        };
        for cy in 0..area.height as usize {
            for cx in 0..w {
                let cell = &mut buf[(area.x + cx as u16, area.y + cy as u16)];
                cell.set_symbol("▀");
                cell.set_fg(pixel(cx, 2 * cy));
                cell.set_bg(pixel(cx, 2 * cy + 1));
            }
        }
    }
}

/// The agreement scores of this image, one column per model, then each later model's difference
/// from the first (no interval: one image).
fn draw_scores(frame: &mut Frame<'_>, area: Rect, models: &[&str], view: Option<&SaliencyView>) {
    let scores: Vec<Option<Agreement>> = models
        .iter()
        .map(|m| {
            view.and_then(|v| v.models.iter().find(|s| s.model == *m))
                .and_then(|s| s.scores)
        })
        .collect();
    let mut header = vec![Cell::from("metric")];
    for (i, m) in models.iter().enumerate() {
        header.push(Cell::from(Span::styled(m.to_string(), Theme::model(i))));
    }
    for m in models.iter().skip(1) {
        header.push(Cell::from(format!("Δ {m} - {}", models[0])));
    }
    let rows = Agreement::NAMES
        .iter()
        .zip(LABELS)
        .enumerate()
        .map(|(k, (name, label))| {
            let arrow = match direction(Task::Saliency, name) {
                Direction::HigherBetter => "↑",
                Direction::LowerBetter => "↓",
                Direction::Descriptive => " ",
            };
            let value = |s: &Option<Agreement>| s.and_then(|a| a.values()[k]);
            let mut cells = vec![Cell::from(format!("{label} {arrow}"))];
            cells.extend(scores.iter().map(|s| Cell::from(num(value(s)))));
            let a = scores.first().and_then(value);
            for s in scores.iter().skip(1) {
                cells.push(Cell::from(
                    value(s)
                        .zip(a)
                        .map_or("-".to_string(), |(b, a)| format!("{:+.3}", b - a)),
                ));
            }
            Row::new(cells)
        });
    let mut widths = vec![Constraint::Length(11)];
    widths.extend((0..(models.len() * 2).saturating_sub(1)).map(|_| Constraint::Fill(1)));
    let points = view.map_or(String::new(), |v| format!(" · {}", v.points));
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(Theme::HEADER_ROW))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" agreement with the expert heatmap{points} ")),
            ),
        area,
    );
}
