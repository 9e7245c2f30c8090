/*!
Linear-probe tab: accuracy (or the probe's metric) against the fraction of training labels, one
line per model (mean over seeds) with its interval drawn as dots above and below (the interval of
the probe's metric rows; the seed range where the run has none), on a log x-axis; the legend and
axis names sit under the chart, outside the data. A table underneath gives the same means with
their intervals and the seed range.
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

/// Mean and interval-end series of a curve on a log10 x-axis (the interval of the rows, else the
/// seed range).
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
        .enumerate()
        .flat_map(|(k, f)| {
            let ends = c.ci.get(k).copied().flatten().or_else(|| {
                let (lo, hi) = (c.min.get(k)?, c.max.get(k)?);
                Some((*lo, *hi))
            });
            ends.map(|(lo, hi)| [(x(*f), lo), (x(*f), hi)])
        })
        .flatten()
        .collect();
    (mean, spread)
}

/// Whether every point has an interval from the rows (else the chart shows the seed range).
fn has_ci(c: &ProbeCurve) -> bool {
    !c.fractions.is_empty() && c.ci.len() == c.fractions.len() && c.ci.iter().all(Option::is_some)
}

#[expect(
    clippy::too_many_lines,
    reason = "one tab's layout: table, chart, legend and axis labels share the computed areas and ranges"
)]
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
    // No names: the legend is drawn under the chart, where it cannot cover the 100% points.
    let mut datasets = Vec::new();
    let mut legend = vec![Span::raw(" ")];
    let ci_everywhere = curves.iter().all(has_ci);
    for (i, (c, (mean, spread))) in curves.iter().zip(&all).enumerate() {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Theme::model(i))
                .data(mean),
        );
        datasets.push(
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Scatter)
                .style(Theme::model(i))
                .data(spread),
        );
        legend.push(Span::styled(format!("─ {} ", c.model), Theme::model(i)));
    }
    legend.push(Span::styled(
        if ci_everywhere {
            "· 95% CI │ x: label fraction (log) · y: "
        } else {
            "· seed range │ x: label fraction (log) · y: "
        },
        Theme::DIM,
    ));
    let x_labels: Vec<Span> = curves[0]
        .fractions
        .iter()
        .map(|f| Span::raw(format!("{}%", f * 100.0)))
        .collect();
    let metric = curves[0].metric.clone();
    legend.push(Span::styled(format!("{metric} "), Theme::DIM));
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" linear probe {metric} vs label fraction "))
                .title_bottom(ratatui::text::Line::from(legend)),
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
            let ci =
                c.ci.get(k)
                    .copied()
                    .flatten()
                    .map_or(String::new(), |(lo, hi)| {
                        format!(" {}", super::interval(lo, hi, false))
                    });
            let text = match (c.mean.get(k), c.min.get(k), c.max.get(k)) {
                (Some(m), Some(lo), Some(hi)) => format!("{m:.3}{ci} seeds {lo:.3}–{hi:.3}"),
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
        titled_table(
            rows,
            widths,
            header,
            " mean over seeds (95% CI) and the seed range ",
        ),
        table_area,
    );
}
