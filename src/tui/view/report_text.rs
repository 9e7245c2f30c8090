/*!
The full-text overlay (`r`, issue 18) drawn over the body: a header with the row id and image path,
each text under its heading, wrapped to the width (line breaks of the report kept) and scrolled with
↑↓ / PgUp / PgDn. RAG texts are side by side on a wide terminal — the ground truth on the left,
each generated report on the right — and one under the other below [`SIDE_BY_SIDE_MIN`] columns.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::problems::wrap;
use super::theme::Theme;
use crate::tui::report_text::{ReportPane, ReportText};

/// The narrowest inner width at which side-by-side texts get two columns.
pub const SIDE_BY_SIDE_MIN: u16 = 100;

/// The lines of `panes` at `width`: per pane its heading, then its text wrapped paragraph by
/// paragraph; a blank line between panes.
fn pane_lines(panes: &[ReportPane], width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (i, p) in panes.iter().enumerate() {
        if i > 0 {
            out.push(Line::default());
        }
        let style = if p.heading.contains('✓') || p.heading == "ground truth" {
            Theme::TRUTH
        } else {
            Theme::HEADER_ROW
        };
        out.push(Line::from(Span::styled(p.heading.clone(), style)));
        let text = if p.text.trim().is_empty() {
            "(empty)"
        } else {
            p.text.as_str()
        };
        for para in text.lines() {
            out.extend(wrap(para, width).into_iter().map(Line::from));
        }
    }
    out
}

/// The overlay's text columns inside `inner`: one, or two when the texts go side by side.
fn columns(t: &ReportText, inner: Rect) -> Vec<(Rect, Vec<Line<'static>>)> {
    if t.side_by_side && t.panes.len() > 1 && inner.width >= SIDE_BY_SIDE_MIN {
        let [left, _, right] = Layout::horizontal([
            Constraint::Ratio(1, 2),
            Constraint::Length(1),
            Constraint::Ratio(1, 2),
        ])
        .areas(inner);
        vec![
            (left, pane_lines(&t.panes[..1], left.width as usize)),
            (right, pane_lines(&t.panes[1..], right.width as usize)),
        ]
    } else {
        vec![(inner, pane_lines(&t.panes, inner.width as usize))]
    }
}

fn inner_of(body: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(body)
}

/// The largest useful scroll offset for a terminal of `size` (the app clamps to it).
pub fn max_scroll(t: &ReportText, size: (u16, u16)) -> usize {
    let inner = inner_of(super::body_area(size));
    let longest = columns(t, inner)
        .iter()
        .map(|(_, l)| l.len())
        .max()
        .unwrap_or(0);
    longest.saturating_sub(inner.height as usize)
}

pub fn draw(frame: &mut Frame<'_>, body: Rect, t: &ReportText) {
    let inner = inner_of(body);
    let cols = columns(t, inner);
    let total = cols.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    let scroll = t.scroll.min(total.saturating_sub(inner.height as usize));
    let last = (scroll + inner.height as usize).min(total);
    let title = format!(" row {} · {} ", t.row, t.image);
    let footer = format!(
        " {} · lines {}–{last} of {total} · ↑↓ PgUp PgDn · Esc closes ",
        t.context,
        (scroll + 1).min(total)
    );
    frame.render_widget(Clear, body);
    frame.render_widget(
        Block::default()
            .borders(Borders::ALL)
            .border_style(Theme::GAUGE)
            .title(Span::styled(title, Theme::HEADER_ROW))
            .title_bottom(Span::styled(footer, Theme::DIM)),
        body,
    );
    for (area, lines) in cols {
        let shown: Vec<Line> = lines
            .into_iter()
            .skip(scroll)
            .take(area.height as usize)
            .collect();
        frame.render_widget(Paragraph::new(shown), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(panes: usize, side: bool) -> ReportText {
        ReportText {
            row: 3,
            image: "img.png".into(),
            context: "c".into(),
            panes: (0..panes)
                .map(|i| ReportPane {
                    heading: format!("h{i}"),
                    text: "one two three four five six\nseven".into(),
                })
                .collect(),
            side_by_side: side,
            scroll: 0,
        }
    }

    #[test]
    fn paragraphs_wrap_and_panes_are_separated() {
        let lines = pane_lines(&text(2, false).panes, 10);
        let s: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            s,
            [
                "h0",
                "one two",
                "three four",
                "five six",
                "seven",
                "",
                "h1",
                "one two",
                "three four",
                "five six",
                "seven"
            ]
        );
    }

    #[test]
    fn side_by_side_only_when_wide() {
        let t = text(3, true);
        assert_eq!(columns(&t, Rect::new(0, 0, 80, 20)).len(), 1);
        let wide = columns(&t, Rect::new(0, 0, 120, 20));
        assert_eq!(wide.len(), 2);
        assert_eq!(wide[0].1[0].to_string(), "h0");
        assert_eq!(wide[1].1[0].to_string(), "h1");
        // Scrolling stops when the last line is on screen: 80×24 leaves 20 inner rows.
        let long = ReportText {
            panes: vec![ReportPane {
                heading: "h".into(),
                text: "x\n".repeat(30),
            }],
            ..text(1, false)
        };
        assert_eq!(max_scroll(&long, (80, 24)), 31 - 18);
    }
}
