/*!
The Overview tab in one place: its state (selection, sort order, name filter, significant-only),
the visible lines of the chosen dataset and model pair (rebuilt by [`OverviewState::refresh`] when
rows, the pair, the sort or the filter change — never while drawing), its drawing and its export
rows.

The table shows metrics × models and one delta column, `candidate - baseline` of the chosen pair,
with its interval and multiplicity-adjusted p-value; the delta is green when the candidate is
significantly better and red when worse (the one verdict rule, `eval::metrics::Verdict::of_row`),
and the better of the pair's two values is bold. The metric column takes the width the numbers
leave; the full name of the selected line, its interval and its verdict are in the detail line
under the table.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::tui::state::{
    AppState, Delta, Direction, Estimate, ListPos, OverviewLine, OverviewTable, PairIndex, Verdict,
};
use crate::tui::view::theme::Theme;
use crate::tui::view::{interval, num, placeholder};

/// How the Overview orders its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    /// Report order: task family by family, as the evaluation emits them.
    #[default]
    Family,
    /// Largest |Δ| of the chosen pair first.
    AbsDelta,
    /// Smallest adjusted p-value of the chosen pair first.
    AdjustedP,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Family => SortKey::AbsDelta,
            SortKey::AbsDelta => SortKey::AdjustedP,
            SortKey::AdjustedP => SortKey::Family,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Family => "family",
            SortKey::AbsDelta => "|Δ|",
            SortKey::AdjustedP => "adj. p",
        }
    }
}

/// One visible line: which table line, its name and the chosen pair's delta.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewLine {
    /// Index into [`OverviewTable::lines`].
    pub line: usize,
    pub name: String,
    pub delta: Option<Delta>,
}

/// The Overview tab's state.
#[derive(Debug, Default)]
pub struct OverviewState {
    pub pos: ListPos,
    pub sort: SortKey,
    /// Typed with `/`: lines whose name contains every word (case-insensitive) are shown.
    pub filter: String,
    /// Only lines whose chosen-pair delta is significantly better or worse.
    pub significant_only: bool,
    /// The lines shown, in order.
    pub lines: Vec<ViewLine>,
    /// Lines of the chosen dataset before filtering.
    pub total: usize,
    /// The longest visible name, in characters.
    pub name_width: u16,
}

impl OverviewState {
    /// Rebuilds the visible lines of `dataset` for the pair `pair`, then clamps the selection.
    pub fn refresh(&mut self, table: &OverviewTable, dataset: &str, pair: Option<PairIndex>) {
        let words: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let of_dataset = |l: &&OverviewLine| l.dataset == dataset;
        self.total = table.lines.iter().filter(of_dataset).count();
        let mut lines: Vec<ViewLine> = table
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.dataset == dataset)
            .map(|(i, l)| ViewLine {
                line: i,
                name: l.name(),
                delta: l.delta(pair),
            })
            .filter(|v| {
                let name = v.name.to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .filter(|v| {
                !self.significant_only
                    || v.delta
                        .is_some_and(|d| matches!(d.verdict, Verdict::Better | Verdict::Worse))
            })
            .collect();
        // Stable sorts: ties keep report order; lines without a value go last.
        match self.sort {
            SortKey::Family => {}
            SortKey::AbsDelta => lines.sort_by(|a, b| {
                let key = |v: &ViewLine| v.delta.and_then(|d| d.value).map(f64::abs);
                descending_none_last(key(a), key(b))
            }),
            SortKey::AdjustedP => lines.sort_by(|a, b| {
                let key = |v: &ViewLine| v.delta.and_then(|d| d.p_shown());
                match (key(a), key(b)) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            }),
        }
        self.name_width = lines
            .iter()
            .map(|v| v.name.chars().count())
            .max()
            .unwrap_or(6)
            .min(u16::MAX as usize) as u16;
        self.lines = lines;
        self.pos.selected = self.pos.selected.min(self.lines.len().saturating_sub(1));
    }

    /// Moves the selection by `delta` lines.
    pub fn move_by(&mut self, delta: isize) {
        let len = self.lines.len();
        self.pos.selected = if len == 0 {
            0
        } else {
            (self.pos.selected as isize + delta).clamp(0, len as isize - 1) as usize
        };
    }

    /// What the title says about the sort and filters.
    fn describe(&self) -> String {
        let mut s = format!(
            " {}/{} metrics · sort {}",
            self.lines.len(),
            self.total,
            self.sort.label()
        );
        if !self.filter.is_empty() {
            s.push_str(&format!(" · /{}", self.filter));
        }
        if self.significant_only {
            s.push_str(" · significant only");
        }
        s
    }
}

fn descending_none_last(a: Option<f64>, b: Option<f64>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// Rows of content that fit in the table area (borders and the header row excluded).
fn visible(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// First visible line for a selection in a table showing `visible` lines.
fn offset(selected: usize, visible: usize) -> usize {
    selected.saturating_sub(visible.saturating_sub(1))
}

/// The table and the detail line under it.
fn areas(area: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(0), Constraint::Length(2)]).areas(area)
}

/// The visible line under a mouse position in the body `area`, if any.
pub fn line_at(state: &AppState, area: Rect, pos: Position) -> Option<usize> {
    let [table, _] = areas(area);
    let first_y = table.y + 2;
    if !table.contains(pos) || pos.y < first_y || pos.y >= table.bottom().saturating_sub(1) {
        return None;
    }
    let o = &state.overview_tab;
    let off = offset(o.pos.selected, visible(table));
    let line = off + (pos.y - first_y) as usize;
    (line < o.lines.len()).then_some(line)
}

/// The header of a metrics × models table: `first`, the models in their colours, the pair's delta.
pub fn header_cells<'a>(state: &AppState, first: &'a str, wide: bool) -> Vec<Cell<'a>> {
    let mut header = vec![Cell::from(first)];
    for (i, m) in state.overview.models.iter().enumerate() {
        header.push(Cell::from(Span::styled(m.clone(), Theme::model(i))));
    }
    header.push(Cell::from(if wide {
        format!("Δ {}", pair_label(state))
    } else {
        "Δ B−A".to_string()
    }));
    header
}

/// The pair's delta, with its interval when `wide`, coloured by its verdict.
pub fn delta_cell<'a>(d: &Option<Delta>, wide: bool) -> Cell<'a> {
    let (text, verdict) = match d {
        None => ("-".to_string(), Verdict::NotJudged),
        Some(d) => {
            let text = match (wide, d.ci) {
                (true, Some((lo, hi))) => format!("{} {}", signed(d.value), interval(lo, hi, true)),
                _ => signed(d.value),
            };
            (text, d.verdict)
        }
    };
    Cell::from(Span::styled(text, Theme::verdict(verdict)))
}

/// A value, with its interval when `wide`.
pub fn est(e: &Option<Estimate>, wide: bool) -> String {
    match e {
        None => "-".into(),
        Some(e) => match (wide, e.ci) {
            (true, Some((lo, hi))) => format!("{} {}", num(e.value), interval(lo, hi, false)),
            _ => num(e.value),
        },
    }
}

fn signed(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| {
        if v.abs() >= 100.0 {
            format!("{v:+.1}")
        } else {
            format!("{v:+.3}")
        }
    })
}

/// The better of the pair's two values (model indices `a`, `b`), by the metric's direction.
fn better_of_pair(line: &OverviewLine, a: Option<usize>, b: Option<usize>) -> Option<usize> {
    let (a, b) = (a?, b?);
    let va = line.values.get(a)?.as_ref()?.value?;
    let vb = line.values.get(b)?.as_ref()?.value?;
    if va == vb {
        return None;
    }
    match line.direction {
        Direction::HigherBetter => Some(if vb > va { b } else { a }),
        Direction::LowerBetter => Some(if vb < va { b } else { a }),
        Direction::Descriptive => None,
    }
}

/// `eCLIP−CLIP`: the chosen pair as the delta column names it.
pub fn pair_label(state: &AppState) -> String {
    format!("{}−{}", state.candidate, state.baseline)
}

/// What the Δ column says when the run has no comparison of the chosen pair: it is being
/// computed, it failed, or it will be once the evaluation has finished. `None` when the run
/// compared the pair.
pub fn pair_note(state: &AppState) -> Option<String> {
    if state.pair().is_some() || state.baseline == state.candidate {
        return None;
    }
    Some(match crate::tui::compare_job::pending_for_choice(state) {
        Some(p) => p.describe(),
        None => "not compared by the run".into(),
    })
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let t = &state.overview;
    let o = &state.overview_tab;
    if o.total == 0 {
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
    let [table_area, detail_area] = areas(area);
    let ia = t.models.iter().position(|m| *m == state.baseline);
    let ib = t.models.iter().position(|m| *m == state.candidate);
    // Widths: numbers first, the metric name takes the rest; intervals only when the names keep
    // a readable width.
    let inner = table_area.width.saturating_sub(2);
    let n = t.models.len() as u16;
    let fixed = |value_w: u16, delta_w: u16| n * (value_w + 1) + delta_w + 1 + 6;
    let wide = inner >= fixed(20, 24) + o.name_width.clamp(12, 40);
    let (value_w, delta_w) = if wide { (20, 24) } else { (7, 7) };
    let mut header = header_cells(state, "metric", wide);
    header.push(Cell::from("p adj"));
    let rows = o.lines.iter().map(|v| {
        let l = &t.lines[v.line];
        let best = better_of_pair(l, ia, ib);
        let mut cells = vec![Cell::from(v.name.clone())];
        for (i, e) in l.values.iter().enumerate() {
            let style = if best == Some(i) {
                Style::new().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            cells.push(Cell::from(Span::styled(est(e, wide), style)));
        }
        cells.push(delta_cell(&v.delta, wide));
        let p = v.delta.and_then(|d| d.p_shown());
        cells.push(Cell::from(p.map_or("-".into(), |p| format!("{p:.3}"))));
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Fill(1)];
    widths.extend(t.models.iter().map(|_| Constraint::Length(value_w)));
    widths.push(Constraint::Length(delta_w));
    widths.push(Constraint::Length(5));
    let note = pair_note(state)
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let title = format!("{} · Δ {}{note} ", o.describe(), pair_label(state));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(Theme::HEADER_ROW))
        .row_highlight_style(Theme::SELECTED)
        .block(Block::default().borders(Borders::ALL).title(title));
    if o.lines.is_empty() {
        frame.render_widget(table, table_area);
        frame.render_widget(
            Paragraph::new(" no line matches: / edits the filter, f shows all verdicts")
                .style(Theme::DIM),
            detail_area,
        );
        return;
    }
    let selected = o.pos.selected.min(o.lines.len() - 1);
    let mut ts = TableState::default()
        .with_offset(offset(selected, visible(table_area)))
        .with_selected(Some(selected));
    frame.render_stateful_widget(table, table_area, &mut ts);
    let v = &o.lines[selected];
    let pending = crate::tui::compare_job::pending_for_choice(state).is_some();
    let note = pair_note(state).map(|n| {
        if pending {
            n
        } else {
            // Asked when the pair is chosen with the evaluation finished; a choice made earlier
            // (or kept across a dataset switch) is not asked by itself.
            format!(
                "{n} (it pairs each model with the first): choose the pair again (b/c) once the \
                 evaluation has finished to compute it; [eval] compare names pairs for --report"
            )
        }
    });
    frame.render_widget(
        Paragraph::new(detail(v, &t.lines[v.line], state, note)).wrap(Wrap { trim: true }),
        detail_area,
    );
}

/// The selected line in full: name, the pair's delta with its interval, p and verdict.
fn detail<'a>(v: &ViewLine, l: &OverviewLine, state: &AppState, note: Option<String>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {} ", v.name), Theme::HEADER_ROW)];
    if let Some(note) = note {
        spans.push(Span::styled(note, Theme::DIM));
        return Line::from(spans);
    }
    let Some(d) = v.delta else {
        spans.push(Span::styled(
            format!("no comparison row · {}", direction_word(l.direction)),
            Theme::DIM,
        ));
        return Line::from(spans);
    };
    let ci = d.ci.map_or(String::new(), |(lo, hi)| {
        format!(" {}", interval(lo, hi, true))
    });
    let p = d
        .p_shown()
        .map_or(String::new(), |p| format!(" · p adj {p:.3}"));
    spans.push(Span::raw(format!(
        "Δ {} {}{ci}{p} · ",
        pair_label(state),
        signed(d.value)
    )));
    spans.push(Span::styled(d.verdict.word(), Theme::verdict(d.verdict)));
    spans.push(Span::styled(
        format!(" · {}", direction_word(l.direction)),
        Theme::DIM,
    ));
    Line::from(spans)
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::HigherBetter => "higher is better",
        Direction::LowerBetter => "lower is better",
        Direction::Descriptive => "descriptive, not judged",
    }
}

/// Export: the tidy rows behind the visible lines (every model's and every comparison's), in the
/// visible order, in the tidy CSV's columns.
pub fn export_rows(state: &AppState) -> (Vec<String>, Vec<Vec<String>>) {
    let header = crate::eval::rows::COLUMNS.map(str::to_string).to_vec();
    let t = &state.overview;
    let mut rows = Vec::new();
    for v in &state.overview_tab.lines {
        let l = &t.lines[v.line];
        rows.extend(
            state
                .rows
                .iter()
                .filter(|r| {
                    r.dataset == l.dataset
                        && r.task == l.task
                        && r.setting == l.setting
                        && r.metric == l.metric
                })
                .map(|r| crate::eval::rows::record(r).to_vec()),
        );
    }
    (header, rows)
}
