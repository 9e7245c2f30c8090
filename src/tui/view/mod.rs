/*!
Views: pure functions from [`AppState`] to widgets.

Drawing takes `&AppState` and never changes it, never computes a metric and never reads a file;
it lays out and styles what the state already holds. The screen is, top to bottom: a header line
(models, dataset, split, execution provider, cache), the tab bar, the current tab's body, a status
line (job gauges or the last message) and the footer of key hints from [`crate::tui::keys`].
The layout helpers ([`body_area`], [`tab_at`]) are shared with [`crate::tui::app`] for mouse
hit-testing, so clicks land where things are drawn.
*/
pub mod geometry;
pub mod probe;
pub mod problems;
pub mod rag;
pub mod report_text;
pub mod retrieval;
pub mod saliency;
pub mod theme;
pub mod zeroshot;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, LineGauge, Paragraph, Row, Table, Tabs, Wrap};

use super::keys::{BINDINGS, Binding, footer_hints};
use super::state::{AppState, Chooser, InputMode, JobState, Tab};
use theme::Theme;

/// The body rectangle of a terminal of `size` (columns, rows).
pub fn body_area(size: (u16, u16)) -> Rect {
    let full = Rect::new(0, 0, size.0, size.1);
    split(full)[2]
}

fn split(area: Rect) -> [Rect; 5] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

fn tab_titles() -> Vec<String> {
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{} {}", i + 1, t.title()))
        .collect()
}

/// The tab under a mouse position, if the position is on the tab bar.
pub fn tab_at(full: Rect, pos: Position) -> Option<Tab> {
    let bar = split(full)[1];
    if !bar.contains(pos) {
        return None;
    }
    // ratatui's Tabs: " title " then a one-column divider, repeated.
    let mut x = bar.x;
    for (tab, title) in Tab::ALL.iter().zip(tab_titles()) {
        let w = title.chars().count() as u16 + 2;
        if pos.x >= x && pos.x < x + w {
            return Some(*tab);
        }
        x += w + 1;
    }
    None
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, state: &AppState) {
    let [header, tabs, body, status, footer] = split(frame.area());
    draw_header(frame, header, state);
    frame.render_widget(
        Tabs::new(tab_titles())
            .select(state.tab.index())
            .style(Theme::DIM)
            .highlight_style(Theme::SELECTED_TAB),
        tabs,
    );
    match state.tab {
        Tab::Overview => super::tabs::overview::draw(frame, body, state),
        Tab::ZeroShot => zeroshot::draw(frame, body, state),
        Tab::Retrieval => retrieval::draw(frame, body, state),
        Tab::Probe => probe::draw(frame, body, state),
        Tab::Geometry => geometry::draw(frame, body, state),
        Tab::Rag => rag::draw(frame, body, state),
    }
    draw_status(frame, status, state);
    draw_footer(frame, footer, state);
    if let Some(c) = &state.chooser {
        draw_chooser(frame, body, c);
    }
    if state.problems.open {
        problems::draw(frame, body, state);
    }
    if let Some(t) = &state.report_text {
        report_text::draw(frame, body, t);
    }
    if state.help {
        draw_help(frame, frame.area(), state.tab);
    }
}

/// The header: models (the chosen pair marked A and B), dataset, split, execution provider and
/// cache. On a narrow terminal the field names go first, then the cache and provider, so the
/// models, dataset and split stay readable.
fn draw_header(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let h = &state.header;
    let value = |v: &str| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.to_string()
        }
    };
    let fields = [
        ("data", value(&h.dataset)),
        ("split", value(&h.split)),
        ("EP", value(&h.provider)),
        ("cache", value(&h.cache)),
    ];
    let width = area.width as usize;
    // (labels shown, fields kept): drop labels first, then the last fields.
    let mut line = Line::default();
    for (labels, keep) in [(true, 4), (false, 4), (false, 3), (false, 2)] {
        line = header_line(state, &fields[..keep], labels);
        if line.width() <= width {
            break;
        }
    }
    frame.render_widget(Paragraph::new(line), area);
}

fn header_line<'a>(state: &AppState, fields: &[(&str, String)], labels: bool) -> Line<'a> {
    let mut spans = vec![Span::styled(" eclip ", Theme::TITLE)];
    for (i, m) in state.header.models.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" "));
        }
        let mark = if *m == state.baseline {
            "A:"
        } else if *m == state.candidate {
            "B:"
        } else {
            ""
        };
        if !mark.is_empty() && state.header.models.len() > 1 {
            spans.push(Span::styled(mark, Theme::DIM));
        }
        spans.push(Span::styled(
            m.clone(),
            Theme::model(i).add_modifier(Modifier::BOLD),
        ));
    }
    for (k, v) in fields {
        let sep = if labels {
            format!(" │ {k} ")
        } else {
            " │ ".to_string()
        };
        spans.push(Span::styled(sep, Theme::DIM));
        spans.push(Span::raw(v.clone()));
    }
    Line::from(spans)
}

fn draw_status(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    if let Some(job) = state.jobs.iter().find(|j| j.state == JobState::Running) {
        let mut label = if job.total > 0 {
            format!("{} {}/{}", job.name, job.done, job.total)
        } else {
            format!("{} …", job.name)
        };
        if !state.families_running.is_empty() {
            label.push_str(&format!(
                " · still running: {}",
                state.families_running.join(", ")
            ));
        }
        frame.render_widget(
            LineGauge::default()
                .filled_style(Theme::GAUGE)
                .label(label)
                .ratio(job.ratio()),
            area,
        );
        return;
    }
    let text = match (&state.status, state.mode == InputMode::Editing) {
        (_, true) if state.tab == Tab::Overview => {
            "filter: metric names with every typed word · Enter keeps it, Esc clears it".to_string()
        }
        (_, true) => "typing: Enter runs the query, Esc cancels".to_string(),
        (Some(s), _) => s.clone(),
        (None, _) => {
            let failed = state
                .jobs
                .iter()
                .filter(|j| matches!(j.state, JobState::Failed(_)))
                .count();
            if failed > 0 {
                format!("{failed} job(s) failed; see the Overview")
            } else if state.jobs.is_empty() {
                "ready".to_string()
            } else {
                "all jobs done".to_string()
            }
        }
    };
    frame.render_widget(Paragraph::new(Span::styled(text, Theme::DIM)), area);
}

/// The footer: key hints, most useful first, as many as fit (`?` lists every key).
fn draw_footer(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let mut spans = problems::footer_spans(state);
    let mut used: usize = spans.iter().map(|s| s.width()).sum();
    for (keys, hint) in footer_hints(state.tab) {
        let w = keys.chars().count() + hint.chars().count() + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(format!(" {keys} "), Theme::KEY));
        spans.push(Span::raw(format!("{hint} ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn help_row<'a>(b: &Binding, tab: Tab, with_scope: bool) -> Row<'a> {
    let style = if b.scope.covers(tab) {
        Style::default()
    } else {
        Theme::DIM
    };
    let mut cells = vec![b.label.to_string(), b.help.to_string()];
    if with_scope {
        cells.push(match b.scope {
            super::keys::Scope::Global => "all tabs".to_string(),
            super::keys::Scope::Tabs(t) => {
                t.iter().map(|t| t.title()).collect::<Vec<_>>().join(", ")
            }
        });
    }
    Row::new(cells).style(style)
}

/// The help overlay: every binding (keys of other tabs dimmed); in two columns when one does not
/// fit the terminal's height.
fn draw_help(frame: &mut Frame<'_>, area: Rect, tab: Tab) {
    let n = BINDINGS.len() as u16;
    let two = n + 2 > area.height;
    let rows_per_col = if two { n.div_ceil(2) } else { n };
    let h = (rows_per_col + 2).min(area.height);
    let w = if two { area.width } else { area.width.min(100) };
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" keys (? or Esc closes; dim: other tabs) ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if two {
        let cols: [Rect; 2] =
            Layout::horizontal([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)]).areas(inner);
        for (col, chunk) in cols.iter().zip(BINDINGS.chunks(rows_per_col as usize)) {
            let rows: Vec<Row> = chunk.iter().map(|b| help_row(b, tab, false)).collect();
            frame.render_widget(
                Table::new(rows, [Constraint::Length(5), Constraint::Fill(1)]),
                *col,
            );
        }
    } else {
        let rows: Vec<Row> = BINDINGS.iter().map(|b| help_row(b, tab, true)).collect();
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(6),
                    Constraint::Fill(3),
                    Constraint::Fill(1),
                ],
            ),
            inner,
        );
    }
}

/// A chooser popup in the body: its options, the highlighted one reversed.
fn draw_chooser(frame: &mut Frame<'_>, body: Rect, c: &Chooser) {
    let title = format!(" {} (↑↓ Enter, Esc) ", c.kind.title());
    let w = (c
        .options
        .iter()
        .map(|o| o.chars().count())
        .max()
        .unwrap_or(0)
        .max(title.chars().count())
        + 4)
    .min(body.width as usize) as u16;
    let h = (c.options.len() as u16 + 2).min(body.height);
    let popup = Rect::new(
        body.x + (body.width - w) / 2,
        body.y + (body.height - h) / 2,
        w,
        h,
    );
    let items: Vec<ratatui::widgets::ListItem> = c
        .options
        .iter()
        .map(|o| ratatui::widgets::ListItem::new(o.clone()))
        .collect();
    let mut ls = ratatui::widgets::ListState::default().with_selected(Some(c.selected));
    frame.render_widget(Clear, popup);
    frame.render_stateful_widget(
        ratatui::widgets::List::new(items)
            .highlight_style(Theme::SELECTED)
            .highlight_symbol("▶ ")
            .block(Block::default().borders(Borders::ALL).title(title)),
        popup,
        &mut ls,
    );
}

/// A centred message for a panel with nothing to show yet.
pub fn placeholder(frame: &mut Frame<'_>, area: Rect, text: &str) {
    frame.render_widget(
        Paragraph::new(text.to_string())
            .style(Theme::DIM)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL)),
        area,
    );
}

/// Splits `area` into one column per model.
pub fn model_columns(area: Rect, n: usize) -> Vec<Rect> {
    let n = n.max(1);
    Layout::horizontal(vec![Constraint::Ratio(1, n as u32); n])
        .split(area)
        .to_vec()
}

/// A bordered table with a bold header row and a title.
pub fn titled_table<'a>(
    rows: impl IntoIterator<Item = Row<'a>>,
    widths: Vec<Constraint>,
    header: Vec<ratatui::widgets::Cell<'a>>,
    title: impl Into<Line<'a>>,
) -> Table<'a> {
    Table::new(rows, widths)
        .header(Row::new(header).style(Theme::HEADER_ROW))
        .block(Block::default().borders(Borders::ALL).title(title))
}

/// `0.123` with three decimals (`213.5` with one from 100 up, so ranks fit their column), `-` for none.
pub fn num(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |v| {
        if v.abs() >= 100.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.3}")
        }
    })
}

/// A confidence interval `(lo–hi)`: two decimals, none from 100 up; `+` signs when `signed`.
pub fn interval(lo: f64, hi: f64, signed: bool) -> String {
    let d = if lo.abs().max(hi.abs()) >= 100.0 {
        0
    } else {
        2
    };
    if signed {
        format!("({lo:+.d$}–{hi:+.d$})")
    } else {
        format!("({lo:.d$}–{hi:.d$})")
    }
}

#[cfg(test)]
mod format_tests {
    use super::{interval, num};

    #[test]
    fn ranks_keep_their_digits_in_a_narrow_column() {
        assert_eq!(num(Some(0.5432)), "0.543");
        assert_eq!(num(Some(213.0)), "213.0");
        assert_eq!(num(None), "-");
        assert_eq!(interval(189.5, 239.0, false), "(190–239)");
        assert_eq!(interval(0.511, 0.574, false), "(0.51–0.57)");
        assert_eq!(interval(-37.0, 1.0, true), "(-37.00–+1.00)");
        assert_eq!(interval(-137.0, 1.0, true), "(-137–+1)");
    }
}
