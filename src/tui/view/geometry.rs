/*!
Geometry tab: per model, a Braille scatter of the 2-D PCA of image (cyan) and text (magenta)
embeddings with the gap vector drawn from the image centroid to the text centroid, titled with
the gap / alignment / uniformity numbers; underneath, matched vs unmatched cosine histograms per
model and the gap-shift curves of all models in one chart.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CLine, Points};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};

use super::theme::Theme;
use super::{model_columns, placeholder};
use crate::tui::state::{AppState, CosineHistogram, GapShiftCurve, PcaScatter};

/// "gap 0.812 · alignment 1.204 · ..." of one model from the geometry rows (`tabs::refresh` picks
/// them for the chosen dataset), as many numbers as fit in `width` characters.
fn numbers(state: &AppState, model: &str, width: usize) -> String {
    let Some((_, all)) = state.derived.geometry.iter().find(|(m, _)| m == model) else {
        return String::new();
    };
    let mut out = String::new();
    for n in all {
        let next = if out.is_empty() {
            n.clone()
        } else {
            format!("{out} · {n}")
        };
        if next.chars().count() > width {
            break;
        }
        out = next;
    }
    out
}

fn bounds(points: impl Iterator<Item = (f64, f64)>) -> ([f64; 2], [f64; 2]) {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let fix = |a: f64, b: f64| {
        if a.is_finite() && b > a {
            let pad = (b - a) * 0.05;
            [a - pad, b + pad]
        } else {
            [-1.0, 1.0]
        }
    };
    (fix(x0, x1), fix(y0, y1))
}

fn draw_pca(frame: &mut Frame<'_>, area: Rect, state: &AppState, i: usize, p: &PcaScatter) {
    let all = p
        .image
        .iter()
        .chain(&p.text)
        .copied()
        .chain([p.gap_from, p.gap_to]);
    let (xb, yb) = bounds(all);
    let room = (area.width as usize).saturating_sub(p.model.chars().count() + 6);
    let nums = numbers(state, &p.model, room);
    let title = Line::from(vec![
        Span::styled(format!(" {} ", p.model), Theme::model(i)),
        Span::raw(format!("{nums} ")),
    ]);
    let canvas = Canvas::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .title_bottom(Line::from(vec![
                    Span::styled(" ● image ", Theme::model(0).fg(Theme::IMAGE)),
                    Span::styled("● text ", Theme::model(0).fg(Theme::TEXT)),
                    Span::raw("→ gap "),
                ])),
        )
        .marker(Marker::Braille)
        .x_bounds(xb)
        .y_bounds(yb)
        .paint(|ctx| {
            ctx.draw(&Points {
                coords: &p.image,
                color: Theme::IMAGE,
            });
            ctx.draw(&Points {
                coords: &p.text,
                color: Theme::TEXT,
            });
            ctx.layer();
            ctx.draw(&CLine {
                x1: p.gap_from.0,
                y1: p.gap_from.1,
                x2: p.gap_to.0,
                y2: p.gap_to.1,
                color: Color::White,
            });
            ctx.print(
                p.gap_to.0,
                p.gap_to.1,
                Span::styled("◆", Theme::model(0).fg(Color::White)),
            );
        });
    frame.render_widget(canvas, area);
}

fn draw_hist(frame: &mut Frame<'_>, area: Rect, i: usize, h: &CosineHistogram) {
    let centers: Vec<f64> = h.edges.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    let matched: Vec<(f64, f64)> = centers
        .iter()
        .copied()
        .zip(h.matched.iter().copied())
        .collect();
    let unmatched: Vec<(f64, f64)> = centers
        .iter()
        .copied()
        .zip(h.unmatched.iter().copied())
        .collect();
    let x0 = h.edges.first().copied().unwrap_or(-1.0);
    let x1 = h.edges.last().copied().unwrap_or(1.0);
    let ymax = h
        .matched
        .iter()
        .chain(&h.unmatched)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let chart = Chart::new(vec![
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Theme::model(0).fg(Color::Green))
            .data(&matched),
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Theme::model(0).fg(Color::Red))
            .data(&unmatched),
    ])
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(Line::from(vec![
                Span::styled(format!(" {} ", h.model), Theme::model(i)),
                Span::styled(
                    if area.width >= 44 {
                        "x: image–text cosine · y: density "
                    } else {
                        "x:cos y:density "
                    },
                    Theme::DIM,
                ),
            ]))
            .title_bottom(Line::from(vec![
                Span::styled(" ─ matched ", Style::new().fg(Color::Green)),
                Span::styled("─ unmatched ", Style::new().fg(Color::Red)),
            ])),
    )
    .x_axis(
        Axis::default()
            .bounds([x0, x1])
            .labels(vec![
                Span::raw(format!("{x0:.1}")),
                Span::raw(format!("{x1:.1}")),
            ])
            .style(Theme::DIM),
    )
    .y_axis(
        Axis::default()
            .bounds([0.0, ymax * 1.05])
            .labels(vec![
                Span::raw("0"),
                Span::raw(format!("{:.2}", ymax * 1.05)),
            ])
            .style(Theme::DIM),
    );
    frame.render_widget(chart, area);
}

fn draw_gap_shift(frame: &mut Frame<'_>, area: Rect, curves: &[GapShiftCurve]) {
    let data: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            c.shifts
                .iter()
                .copied()
                .zip(c.values.iter().copied())
                .collect()
        })
        .collect();
    let (_, yb) = bounds(data.iter().flatten().copied());
    // The x-axis spans the λ values themselves, so its end labels are the sweep's ends.
    let lambdas = curves.iter().flat_map(|c| c.shifts.iter().copied());
    let xb = lambdas.fold([f64::INFINITY, f64::NEG_INFINITY], |[a, b], x| {
        [a.min(x), b.max(x)]
    });
    let xb = if xb[1] > xb[0] { xb } else { [-1.0, 1.0] };
    let mut legend = vec![Span::raw(" ")];
    for (i, c) in curves.iter().enumerate() {
        legend.push(Span::styled(format!("─ {} ", c.model), Theme::model(i)));
    }
    let metric = curves.first().map_or("", |c| c.metric.as_str());
    let datasets = curves
        .iter()
        .zip(&data)
        .enumerate()
        .map(|(i, (_, d))| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Theme::model(i))
                .data(d)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Line::from(vec![
                    Span::raw(" gap shift "),
                    Span::styled(
                        if area.width >= 48 {
                            format!("x:λ along the gap · y:{metric} ")
                        } else {
                            format!("x:λ y:{metric} ")
                        },
                        Theme::DIM,
                    ),
                ]))
                .title_bottom(Line::from(legend)),
        )
        .x_axis(
            Axis::default()
                .bounds(xb)
                .labels(vec![
                    Span::raw(format!("{:.1}", xb[0])),
                    Span::raw(format!("{:.1}", xb[1])),
                ])
                .style(Theme::DIM),
        )
        .y_axis(
            Axis::default()
                .bounds(yb)
                .labels(vec![
                    Span::raw(format!("{:.2}", yb[0])),
                    Span::raw(format!("{:.2}", yb[1])),
                ])
                .style(Theme::DIM),
        );
    frame.render_widget(chart, area);
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let p = &state.plots;
    if p.pca.is_empty() && p.histograms.is_empty() && p.gap_shift.is_empty() {
        placeholder(
            frame,
            area,
            "No geometry results yet: they appear when the evaluation finishes.",
        );
        return;
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    for (i, (pca, col)) in p
        .pca
        .iter()
        .zip(model_columns(top, p.pca.len()))
        .enumerate()
    {
        draw_pca(frame, col, state, i, pca);
    }
    let parts = p.histograms.len() + usize::from(!p.gap_shift.is_empty());
    let cols = model_columns(bottom, parts);
    for (i, h) in p.histograms.iter().enumerate() {
        draw_hist(frame, cols[i], i, h);
    }
    if !p.gap_shift.is_empty() {
        draw_gap_shift(frame, cols[parts - 1], &p.gap_shift);
    }
}
