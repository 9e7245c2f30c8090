/*!
Overview tab: the report's metric table, metrics × models, with the `B - A` delta, its CI and
p-value. Deltas whose CI excludes zero are green when the later model is better and red when it
is worse (by the metric's direction); the better model's value is bold. Rows appear as the
evaluation jobs finish. CIs are shown when the terminal is wide enough.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Row, Table, TableState};

use super::theme::Theme;
use super::{interval, num, placeholder};
use crate::tui::state::{AppState, Direction, Estimate, OverviewLine, Verdict};

/// Width from which CIs are shown next to values.
const WIDE: u16 = 110;

/// First visible line for a selection in a table showing `visible` lines.
fn offset(selected: usize, visible: usize) -> usize {
    selected.saturating_sub(visible.saturating_sub(1))
}

/// Rows of table content that fit in `area` (borders and the header row excluded).
fn visible(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// The table line under a mouse position, if any.
pub fn line_at(state: &AppState, area: Rect, pos: Position) -> Option<usize> {
    let first_y = area.y + 2;
    if !area.contains(pos) || pos.y < first_y || pos.y >= area.bottom().saturating_sub(1) {
        return None;
    }
    let off = offset(state.overview_pos.selected, visible(area));
    let line = off + (pos.y - first_y) as usize;
    (line < state.overview.lines.len()).then_some(line)
}

fn est(e: &Option<Estimate>, wide: bool) -> String {
    match e {
        None => "-".into(),
        Some(e) => match (wide, e.ci) {
            (true, Some((lo, hi))) => format!("{} {}", num(e.value), interval(lo, hi, false)),
            _ => num(e.value),
        },
    }
}

/// Index of the best model on a line, when the metric has a direction and values differ.
fn best(line: &OverviewLine) -> Option<usize> {
    let vals: Vec<(usize, f64)> = line
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.as_ref()?.value?)))
        .collect();
    if vals.len() < 2 || vals.windows(2).all(|w| w[0].1 == w[1].1) {
        return None;
    }
    let pick = |a: &(usize, f64), b: &(usize, f64)| a.1.total_cmp(&b.1);
    match line.direction {
        Direction::HigherBetter => vals.iter().max_by(|a, b| pick(a, b)).map(|v| v.0),
        Direction::LowerBetter => vals.iter().min_by(|a, b| pick(a, b)).map(|v| v.0),
        Direction::Descriptive => None,
    }
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let t = &state.overview;
    if t.lines.is_empty() {
        placeholder(
            frame,
            area,
            &crate::tui::problems::placeholder_text(
                state,
                "evaluate",
                "No metrics yet: they appear here as the evaluation jobs finish (progress below).",
            ),
        );
        return;
    }
    let wide = area.width >= WIDE;
    let many_datasets = t.lines.iter().any(|l| l.dataset != t.lines[0].dataset);
    let mut header = vec![Cell::from("metric")];
    for (i, m) in t.models.iter().enumerate() {
        header.push(Cell::from(Span::styled(m.clone(), Theme::model(i))));
    }
    for c in &t.comparisons {
        header.push(Cell::from(format!("Δ {c}")));
        header.push(Cell::from("p"));
    }
    let rows = t.lines.iter().map(|l| {
        let name = if many_datasets {
            format!("{}/{}/{}/{}", l.dataset, l.task, l.setting, l.metric)
        } else {
            format!("{}/{} {}", l.task, l.setting, l.metric)
        };
        let best = best(l);
        let mut cells = vec![Cell::from(name)];
        for (i, v) in l.values.iter().enumerate() {
            let style = if best == Some(i) {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            cells.push(Cell::from(Span::styled(est(v, wide), style)));
        }
        for d in &l.deltas {
            let (text, p, verdict) = match d {
                None => ("-".to_string(), "-".to_string(), Verdict::NotJudged),
                Some(d) => {
                    let v = d.value.map_or("-".into(), |v| {
                        if v.abs() >= 100.0 {
                            format!("{v:+.1}")
                        } else {
                            format!("{v:+.3}")
                        }
                    });
                    let text = match (wide, d.ci) {
                        (true, Some((lo, hi))) => format!("{v} {}", interval(lo, hi, true)),
                        _ => v,
                    };
                    let p = d.p_shown().map_or("-".into(), |p| format!("{p:.3}"));
                    (text, p, d.verdict)
                }
            };
            cells.push(Cell::from(Span::styled(text, Theme::verdict(verdict))));
            cells.push(Cell::from(p));
        }
        Row::new(cells)
    });
    let value_w = if wide { 20 } else { 7 };
    let delta_w = if wide { 24 } else { 7 };
    let mut widths = vec![Constraint::Min(20)];
    widths.extend(t.models.iter().map(|_| Constraint::Length(value_w)));
    for _ in &t.comparisons {
        widths.push(Constraint::Length(delta_w));
        widths.push(Constraint::Length(5));
    }
    let title = format!(
        " {} metrics · green/red: later model significantly better/worse ",
        t.lines.len()
    );
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Theme::HEADER_ROW))
        .row_highlight_style(Theme::SELECTED)
        .block(Block::default().borders(Borders::ALL).title(title));
    let selected = state.overview_pos.selected.min(t.lines.len() - 1);
    let mut ts = TableState::default()
        .with_offset(offset(selected, visible(area)))
        .with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
