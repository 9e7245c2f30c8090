/*!
Linear-probe tab: accuracy (or the probe's metric) against the fraction of training labels, one
line per model (mean over seeds) with the seed range drawn as dots above and below, on a log
x-axis; a table with the same numbers underneath.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Cell, Chart, Dataset, GraphType, Row};

use super::theme::Theme;
use super::{placeholder, titled_table};
use crate::tui::state::{AppState, ProbeCurve};

/// Chart points of a curve: (log10 fraction, value).
type Points = Vec<(f64, f64)>;

/// Mean, min and max series of a curve on a log10 x-axis.
fn series(c: &ProbeCurve) -> (Points, Points) {
    let x = |f: f64| f.max(1e-12).log10();
    let mean = c
        .fractions
        .iter()
        .zip(&c.mean)
        .map(|(f, v)| (x(*f), *v))
        .collect();
    let spread = c
        .fractions
        .iter()
        .zip(c.min.iter().zip(&c.max))
        .flat_map(|(f, (lo, hi))| [(x(*f), *lo), (x(*f), *hi)])
        .collect();
    (mean, spread)
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let curves = &state.plots.probe;
    if curves.is_empty() {
        placeholder(
            frame,
            area,
            "No probe results yet: the linear probes run after embedding (progress below).",
        );
        return;
    }
    let n_fr = curves.iter().map(|c| c.fractions.len()).max().unwrap_or(0) as u16;
    let table_h = (n_fr + 3).min(area.height / 2);
    let [chart_area, table_area] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(table_h)]).areas(area);
    let all: Vec<(Points, Points)> = curves.iter().map(series).collect();
    let xs = all.iter().flat_map(|(m, s)| m.iter().chain(s).map(|p| p.0));
    let ys: Vec<f64> = all
        .iter()
        .flat_map(|(m, s)| m.iter().chain(s).map(|p| p.1))
        .collect();
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let y0 = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let y1 = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = ((y1 - y0) * 0.1).max(0.01);
    let (y0, y1) = ((y0 - pad).max(0.0), y1 + pad);
    let (x0, x1) = if x1 > x0 {
        (x0, x1)
    } else {
        (x0 - 1.0, x0 + 1.0)
    };
    let mut datasets = Vec::new();
    for (i, (c, (mean, spread))) in curves.iter().zip(&all).enumerate() {
        datasets.push(
            Dataset::default()
                .name(format!("{} mean", c.model))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Theme::model(i))
                .data(mean),
        );
        datasets.push(
            Dataset::default()
                .name(format!("{} seed min/max", c.model))
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(Theme::model(i))
                .data(spread),
        );
    }
    let x_labels: Vec<Span> = curves[0]
        .fractions
        .iter()
        .map(|f| Span::raw(format!("{}%", f * 100.0)))
        .collect();
    let metric = curves[0].metric.clone();
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" linear probe {metric} vs label fraction (log x) ")),
        )
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels(x_labels)
                .style(Theme::DIM),
        )
        .y_axis(
            Axis::default()
                .bounds([y0, y1])
                .labels(vec![
                    Span::raw(format!("{y0:.2}")),
                    Span::raw(format!("{:.2}", (y0 + y1) / 2.0)),
                    Span::raw(format!("{y1:.2}")),
                ])
                .style(Theme::DIM),
        );
    frame.render_widget(chart, chart_area);

    let mut header = vec![Cell::from("labels")];
    for (i, c) in curves.iter().enumerate() {
        header.push(Cell::from(Span::styled(c.model.clone(), Theme::model(i))));
    }
    let rows = curves[0].fractions.iter().enumerate().map(|(k, f)| {
        let mut cells = vec![Cell::from(format!("{}%", f * 100.0))];
        let best = curves
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((i, *c.mean.get(k)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|b| b.0);
        for (i, c) in curves.iter().enumerate() {
            let text = match (c.mean.get(k), c.min.get(k), c.max.get(k)) {
                (Some(m), Some(lo), Some(hi)) => format!("{m:.3} ({lo:.3}–{hi:.3})"),
                _ => "-".into(),
            };
            let style = if best == Some(i) && curves.len() > 1 {
                Theme::model(i)
            } else {
                Style::new()
            };
            cells.push(Cell::from(Span::styled(text, style)));
        }
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(8)];
    widths.extend(curves.iter().map(|_| Constraint::Fill(1)));
    frame.render_widget(
        titled_table(rows, widths, header, " mean over seeds (min–max) "),
        table_area,
    );
}
