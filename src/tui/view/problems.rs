/*!
The problems panel (`!`, issue 13): every load error, skipped row, rebuilt cache file and failed
job ([`crate::tui::problems::all`]), each message whole — wrapped to the panel's width and
scrollable with ↑↓ / PgUp / PgDn — drawn over the body; and the footer's announcement of how
many there are.
*/
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::theme::Theme;
use crate::tui::problems::{all, count};
use crate::tui::state::{AppState, ProblemKind};

const KIND: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
const NOTE: Style = Style::new().fg(Color::Yellow);

/// Greedy word wrap to `width` columns; words longer than a line are cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The panel's lines at inner width `width`: per problem a heading line with its kind and source,
/// then the message wrapped and indented by two.
fn lines(state: &AppState, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for p in all(state) {
        let style = match p.kind {
            ProblemKind::Model | ProblemKind::Dataset | ProblemKind::Job => KIND,
            _ => NOTE,
        };
        out.push(Line::from(vec![
            Span::styled(p.kind.label().to_string(), style),
            Span::raw(format!(" {}", p.source)),
        ]));
        out.extend(
            wrap(&p.message, width.saturating_sub(2))
                .into_iter()
                .map(|l| Line::from(format!("  {l}"))),
        );
    }
    out
}

/// The panel's area over the body.
fn panel_area(body: Rect) -> Rect {
    body
}

/// The largest useful scroll offset for a terminal of `size` (the app clamps to it).
pub fn max_scroll(state: &AppState) -> usize {
    let area = panel_area(super::body_area(state.size));
    let inner_h = area.height.saturating_sub(2) as usize;
    lines(state, area.width.saturating_sub(2) as usize)
        .len()
        .saturating_sub(inner_h)
}

/// Draws the panel over the body.
pub fn draw(frame: &mut Frame<'_>, body: Rect, state: &AppState) {
    let area = panel_area(body);
    let n = count(state);
    let block = Block::default().borders(Borders::ALL).title(format!(
        " {n} problem{} · ↑↓ PgUp PgDn scroll · ! or Esc closes ",
        if n == 1 { "" } else { "s" }
    ));
    let inner = block.inner(area);
    let mut text = lines(state, inner.width as usize);
    if text.is_empty() {
        text.push(Line::styled(
            "No problems: every model and dataset loaded, no row was skipped, no cache file was rebuilt.",
            Theme::DIM,
        ));
    }
    let scroll = state.problems.scroll.min(text.len().saturating_sub(1));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(text.into_iter().skip(scroll).collect::<Vec<_>>()).block(block),
        area,
    );
}

/// The footer's announcement, when there are problems: `! N problems`.
pub fn footer_spans(state: &AppState) -> Vec<Span<'static>> {
    let n = count(state);
    if n == 0 {
        return Vec::new();
    }
    vec![
        Span::styled(" ! ", Style::new().fg(Color::White).bg(Color::Red)),
        Span::styled(
            format!("{n} problem{} ", if n == 1 { "" } else { "s" }),
            KIND,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_every_character_and_cuts_long_words() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(
            wrap("/a/very/long/path:12: bad", 6),
            vec!["/a/ver", "y/long", "/path:", "12:", "bad"]
        );
        assert_eq!(wrap("", 5), vec![""]);
    }
}
