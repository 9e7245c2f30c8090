/*!
Figures (`--plots DIR`), drawn with plotters from the summaries' figure data and rows, each written
as `<name>.svg` and `<name>.png` ([`super::figure`]) in the one style of [`super::theme`]:

- `<dataset>_cosine`: matched vs unmatched image–text cosine densities, one panel per model, shared
  axes;
- `<dataset>_group_cosine`: mean cosine between abnormality groups, image–image, text–text and
  image–text, one row per model, one colour range for every matrix with its colourbar (the eCLIP
  paper's motivating figure);
- `<dataset>_pca`: 2-D PCA of image and text embeddings with the gap vector (an arrow from the text
  mean to the image mean), one panel per model, shared axes;
- `<dataset>_probe`: linear-probe metrics vs label fraction, the rows' values with the rows' 95%
  intervals as error bars;
- `<dataset>_gap_shift`: modality gap, zero-shot accuracy and R@1 along the gap-shift sweep, the
  rows' values with the rows' 95% bootstrap intervals as bands;
- `<dataset>_provenance_<key>`: headline metrics vs a numeric provenance value (e.g.
  `train_fraction`) per model family, when the models of a family differ in exactly one such value.

File names are the dataset name with anything but letters, digits, `-` and `_` replaced by `_`.
*/
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::theme::{self, Frame, Key, Mark, font};
use super::{ReportError, figure, safe_name};
use crate::eval::metrics::{Setting, Task};
use crate::eval::summary::EvalSummary;

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Numeric provenance of one model, for metric-vs-value curves.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelProvenance {
    pub model: String,
    /// Curves are drawn per family (e.g. provenance `variant`: "clip" / "eclip").
    pub family: String,
    pub values: BTreeMap<String, f64>,
}

/// Provenance keys that vary between runs without describing the model (ignored for curves).
const INCIDENTAL: [&str; 4] = ["train_seconds", "seconds", "wall_seconds", "seed"];

/// Metrics drawn against a provenance value: (label, task, setting, metric). Settings are typed
/// and formatted by the row builder's own [`Setting::label`], so they match the rows.
fn headline() -> [(&'static str, Task, Setting, &'static str); 5] {
    [
        (
            "zero-shot accuracy",
            Task::Zeroshot,
            Setting::Argmax,
            "accuracy",
        ),
        (
            "zero-shot macro AUROC",
            Task::Zeroshot,
            Setting::Posneg,
            "macro_auroc",
        ),
        ("i2t R@1", Task::Retrieval, Setting::I2t, "r@1"),
        (
            "probe accuracy (all labels)",
            Task::LinearProbe,
            Setting::Fraction(1.0),
            "accuracy",
        ),
        (
            "modality gap",
            Task::Geometry,
            Setting::None,
            "modality_gap",
        ),
    ]
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Style {
    /// Line through dots.
    Line,
    /// Line only (curves with many points: ROC).
    Curve,
    /// Line with the area under it lightly filled (densities).
    Area,
    /// Dashed line (references: the diagonal).
    Dashed,
    /// Line through dots with each point's interval as a translucent band.
    Band,
    /// Line through dots with each point's interval as an error bar.
    Bars,
}

/// One point: x, y and its interval when it has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) interval: Option<(f64, f64)>,
}

impl Point {
    pub(super) fn at(x: f64, y: f64) -> Self {
        Self {
            x,
            y,
            interval: None,
        }
    }
}

pub(super) struct Series {
    pub(super) name: String,
    pub(super) color: RGBColor,
    pub(super) style: Style,
    pub(super) points: Vec<Point>,
}

impl Series {
    /// The legend key of this series.
    pub(super) fn key(&self) -> Key {
        let mark = match self.style {
            Style::Line | Style::Bars => Mark::Line,
            Style::Curve => Mark::Stroke,
            Style::Area | Style::Band => Mark::Band,
            Style::Dashed => Mark::Dashed,
        };
        Key::new(self.name.clone(), self.color, mark)
    }
}

/// Legend keys of several panels' series, each name once, in first-seen order.
pub(super) fn keys<'s>(series: impl IntoIterator<Item = &'s Series>) -> Vec<Key> {
    let mut out: Vec<Key> = Vec::new();
    for s in series {
        if !out.iter().any(|k| k.name == s.name) {
            out.push(s.key());
        }
    }
    out
}

/// Axes of a line panel.
pub(super) struct Axes {
    pub(super) x: (f64, f64),
    pub(super) y: (f64, f64),
    pub(super) log_x: bool,
    pub(super) x_desc: String,
    pub(super) y_desc: String,
    pub(super) x_fmt: fn(&f64) -> String,
}

impl Axes {
    pub(super) fn new(x: (f64, f64), y: (f64, f64), x_desc: &str, y_desc: &str) -> Self {
        Self {
            x,
            y,
            log_x: false,
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            x_fmt: theme::tick_ref,
        }
    }

    /// Unit square (rates, probabilities).
    pub(super) fn unit(x_desc: &str, y_desc: &str) -> Self {
        Self::new((0.0, 1.0), (0.0, 1.0), x_desc, y_desc)
    }
}

fn plot_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> ReportError + '_ {
    move |e| ReportError::Plot {
        path: path.to_path_buf(),
        message: format!("{e:?}"),
    }
}

/// (min, max) of finite values padded by 5% (and widened when flat); (0, 1) when there are none.
pub(super) fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = (hi - lo).max(1e-6);
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// Padded x and y ranges over every point and interval of `series` (shared between panels).
pub(super) fn extent<'s>(
    series: impl Iterator<Item = &'s Series> + Clone,
) -> ((f64, f64), (f64, f64)) {
    let points = series.flat_map(|s| &s.points);
    let x = padded(points.clone().map(|p| p.x));
    let y = padded(points.flat_map(|p| {
        let (lo, hi) = p.interval.unwrap_or((p.y, p.y));
        [p.y, lo, hi]
    }));
    (x, y)
}

/// Runs of consecutive points that have an interval (one band each).
fn band_runs(points: &[Point]) -> Vec<Vec<(f64, f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
    for p in points {
        match p.interval {
            Some((lo, hi)) => {
                if let Some(r) = runs.last_mut() {
                    r.push((p.x, lo, hi));
                }
            }
            None => runs.push(Vec::new()),
        }
    }
    runs.retain(|r| r.len() >= 2);
    runs
}

fn draw_series<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    s: &Series,
    y_floor: f64,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let c = s.color;
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let line = s.points.iter().map(|p| (p.x, p.y));
    match s.style {
        Style::Dashed => {
            chart
                .draw_series(DashedLineSeries::new(line, 4, 3, c.stroke_width(1)))
                .map_err(e)?;
            return Ok(());
        }
        Style::Area => {
            let mut poly: Vec<(f64, f64)> = s.points.iter().map(|p| (p.x, p.y)).collect();
            if let (Some(first), Some(last)) = (s.points.first(), s.points.last()) {
                poly.push((last.x, y_floor));
                poly.push((first.x, y_floor));
            }
            chart
                .draw_series([Polygon::new(poly, c.mix(0.15).filled())])
                .map_err(e)?;
        }
        Style::Band => {
            for run in band_runs(&s.points) {
                let poly: Vec<(f64, f64)> = run
                    .iter()
                    .map(|q| (q.0, q.2))
                    .chain(run.iter().rev().map(|q| (q.0, q.1)))
                    .collect();
                chart
                    .draw_series([Polygon::new(poly, c.mix(0.18).filled())])
                    .map_err(e)?;
            }
        }
        _ => {}
    }
    chart
        .draw_series(LineSeries::new(line, c.stroke_width(2)))
        .map_err(e)?;
    match s.style {
        Style::Line | Style::Band => {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|p| Circle::new((p.x, p.y), 3, c.filled())),
                )
                .map_err(e)?;
        }
        Style::Bars => {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|p| Circle::new((p.x, p.y), 3, c.filled())),
                )
                .map_err(e)?;
            chart
                .draw_series(s.points.iter().filter_map(|p| {
                    let (lo, hi) = p.interval?;
                    Some(ErrorBar::new_vertical(
                        p.x,
                        lo,
                        p.y,
                        hi,
                        c.stroke_width(2),
                        8,
                    ))
                }))
                .map_err(e)?;
        }
        _ => {}
    }
    Ok(())
}

/// One chart: caption, themed mesh with axis descriptions, the series (legend drawn by the frame).
pub(super) fn line_panel(
    area: &Area,
    caption: &str,
    axes: &Axes,
    series: &[Series],
) -> Result<(), String> {
    let mut b = ChartBuilder::on(area);
    b.caption(caption, font(theme::LABEL_PT))
        .margin(theme::MARGIN)
        .x_label_area_size(theme::X_LABEL_AREA)
        .y_label_area_size(theme::Y_LABEL_AREA);
    let (x0, x1) = axes.x;
    let (y0, y1) = axes.y;
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            let mut m = chart.configure_mesh();
            theme::mesh(&mut m);
            m.x_desc(axes.x_desc.as_str())
                .y_desc(axes.y_desc.as_str())
                .x_label_formatter(&axes.x_fmt)
                .y_label_formatter(&theme::tick_ref)
                .draw()
                .map_err(|e| e.to_string())?;
            for s in series {
                draw_series(&mut chart, s, y0)?;
            }
        }};
    }
    if axes.log_x {
        draw!(
            b.build_cartesian_2d((x0.max(1e-9)..x1).log_scale(), y0..y1)
                .map_err(|e| e.to_string())?
        );
    } else {
        draw!(
            b.build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

/// Width of a figure with `cols` panels per row: one paper column for one panel, else the page.
pub(super) fn width_for(cols: usize) -> u32 {
    if cols <= 1 {
        theme::ONE_COLUMN
    } else {
        theme::TWO_COLUMN
    }
}

/// A figure of `n` panels in rows of `cols` (each `panel_h` high) under `frame`; `draw(i, area)`
/// draws panel `i`. Returns the SVG text.
pub(super) fn panels(
    frame: &Frame,
    n: usize,
    cols: usize,
    panel_h: u32,
    mut draw: impl FnMut(usize, &Area) -> Result<(), String>,
) -> Result<String, String> {
    let cols = cols.clamp(1, n.max(1));
    let rows = n.div_ceil(cols).max(1);
    let width = width_for(cols);
    let height = frame.top(width) + rows as u32 * panel_h + frame.bottom();
    figure::svg((width, height), |root| {
        let areas = frame.draw(root)?;
        let cells = areas.body.split_evenly((rows, cols));
        for (i, cell) in cells.iter().enumerate().take(n) {
            draw(i, cell)?;
        }
        Ok(())
    })
}

/// Panel height of per-model / per-metric rows of panels.
const PANEL_H: u32 = 230;

fn cosine_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    let models: Vec<_> = s
        .plots
        .iter()
        .filter_map(|p| Some((p.model.as_str(), p.cosine.as_ref()?)))
        .collect();
    if models.is_empty() {
        return Ok(None);
    }
    let per_model: Vec<[Series; 2]> = models
        .iter()
        .map(|(_, h)| {
            let centres: Vec<f64> = h
                .matched
                .edges
                .windows(2)
                .map(|w| (w[0] + w[1]) / 2.0)
                .collect();
            [
                ("matched pairs", &h.matched, theme::FIRST),
                ("unmatched pairs", &h.unmatched, theme::SECOND),
            ]
            .map(|(name, hist, color)| Series {
                name: name.into(),
                color,
                style: Style::Area,
                points: centres
                    .iter()
                    .zip(hist.density())
                    .map(|(&x, y)| Point::at(x, y))
                    .collect(),
            })
        })
        .collect();
    // Shared axes: x over the bins any model fills, y from 0 to the highest density.
    let filled = per_model
        .iter()
        .flatten()
        .flat_map(|s| &s.points)
        .filter(|p| p.y > 0.0)
        .map(|p| p.x);
    let (x0, x1) = padded(filled);
    let y1 = per_model
        .iter()
        .flatten()
        .flat_map(|s| &s.points)
        .map(|p| p.y)
        .fold(0.0f64, f64::max)
        * 1.08;
    let axes = Axes::new(
        (x0.max(-1.0), x1.min(1.0)),
        (0.0, y1.max(1e-6)),
        "image–report cosine",
        "density",
    );
    let frame = Frame {
        title: Some(format!(
            "{}: cosine of matched and unmatched image–report pairs",
            s.dataset
        )),
        keys: keys(per_model.iter().flatten()),
        ..Frame::default()
    };
    panels(
        &frame,
        models.len(),
        models.len().min(3),
        PANEL_H,
        |i, area| line_panel(area, models[i].0, &axes, &per_model[i]),
    )
    .map(Some)
}

/// The three group-cosine matrices of a model: (caption, matrix).
type Matrices<'g> = [(&'static str, &'g Vec<Vec<Option<f64>>>); 3];

fn group_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    let models: Vec<(&str, &crate::eval::summary::GroupCosine)> = s
        .plots
        .iter()
        .filter_map(|p| Some((p.model.as_str(), p.group_cosine.as_ref()?)))
        .filter(|(_, g)| !g.classes.is_empty())
        .collect();
    let Some((_, first)) = models.first() else {
        return Ok(None);
    };
    let mats: Vec<Matrices> = models
        .iter()
        .map(|(_, g)| {
            [
                ("image–image", &g.image),
                ("text–text", &g.text),
                ("image–text", &g.image_text),
            ]
        })
        .collect();
    // One colour range for every matrix of every model.
    let (lo, hi) = mats
        .iter()
        .flatten()
        .flat_map(|(_, m)| m.iter().flatten().flatten())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1e-6))
    } else {
        (0.0, 1.0)
    };
    let n = first.classes.len();
    let y_labels: Vec<String> = first
        .classes
        .iter()
        .zip(&first.counts)
        .map(|(c, k)| format!("{c} ({k})"))
        .collect();
    let label_w = y_labels
        .iter()
        .map(|l| theme::text_width(l, theme::TICK_PT))
        .fold(0.0, f64::max)
        .ceil() as i32
        + 8;
    let x_label_h = (first
        .classes
        .iter()
        .map(|l| theme::text_width(l, theme::TICK_PT))
        .fold(0.0, f64::max)
        * 0.85)
        .ceil() as i32
        + 8;
    const GAP: i32 = 14;
    const CAPTION: i32 = 16;
    const BAR: u32 = 64;
    let width = theme::TWO_COLUMN;
    let frame = Frame {
        title: Some(format!(
            "{}: mean cosine between finding groups ({} split)",
            s.dataset, first.split
        )),
        note: Some(
            "cell (a, b): items of row group a vs column group b (image–text: a's images, b's reports); group sizes in brackets"
                .into(),
        ),
        right: BAR,
        ..Frame::default()
    };
    let side = ((width as i32 - label_w - 2 * GAP - BAR as i32 - 6) / 3).max(30);
    let cell = f64::from(side) / n as f64;
    let rows = models.len() as i32;
    let height =
        frame.top(width) as i32 + rows * (CAPTION + side + GAP) + x_label_h + frame.bottom() as i32;
    let svg = figure::svg((width, height.max(1) as u32), |root| {
        let areas = frame.draw(root)?;
        let (bx, by) = areas.body.get_base_pixel();
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        for (m, (model, _)) in models.iter().enumerate() {
            let top = by + m as i32 * (CAPTION + side + GAP) + CAPTION;
            for (k, (kind, mat)) in mats[m].iter().enumerate() {
                let left = bx + label_w + k as i32 * (side + GAP);
                root.draw(&Text::new(
                    format!("{model}: {kind}"),
                    (left, top - 4),
                    font(theme::LABEL_PT).pos(Pos::new(HPos::Left, VPos::Bottom)),
                ))
                .map_err(e)?;
                for (a, row) in mat.iter().enumerate() {
                    for (b, v) in row.iter().enumerate() {
                        let x = left + (b as f64 * cell).round() as i32;
                        let y = top + (a as f64 * cell).round() as i32;
                        let x2 = left + ((b + 1) as f64 * cell).round() as i32;
                        let y2 = top + ((a + 1) as f64 * cell).round() as i32;
                        let fill = v.map_or(RGBColor(225, 225, 225), |v| {
                            theme::sequential((v - lo) / (hi - lo))
                        });
                        root.draw(&Rectangle::new([(x, y), (x2, y2)], fill.filled()))
                            .map_err(e)?;
                        if cell >= 24.0 {
                            let text = v.map_or("n/a".to_string(), |v| format!("{v:.2}"));
                            root.draw(&Text::new(
                                text,
                                ((x + x2) / 2, (y + y2) / 2),
                                font(theme::TICK_PT - 0.5)
                                    .color(&theme::ink_on(fill))
                                    .pos(Pos::new(HPos::Center, VPos::Center)),
                            ))
                            .map_err(e)?;
                        }
                    }
                }
                if k == 0 {
                    for (a, l) in y_labels.iter().enumerate() {
                        let y = top + ((a as f64 + 0.5) * cell).round() as i32;
                        root.draw(&Text::new(
                            l.clone(),
                            (left - 4, y),
                            font(theme::TICK_PT).pos(Pos::new(HPos::Right, VPos::Center)),
                        ))
                        .map_err(e)?;
                    }
                }
                if m + 1 == models.len() {
                    for (b, l) in first.classes.iter().enumerate() {
                        let x = left + ((b as f64 + 0.5) * cell).round() as i32;
                        root.draw(&Text::new(
                            l.clone(),
                            (x, top + side + 4),
                            font(theme::TICK_PT)
                                .transform(FontTransform::Rotate270)
                                .pos(Pos::new(HPos::Right, VPos::Center)),
                        ))
                        .map_err(e)?;
                    }
                }
            }
        }
        if let Some(bar) = &areas.right {
            let (rx, _) = bar.get_base_pixel();
            let (x0, x1) = (rx + 10, rx + 22);
            let (y0, y1) = (by + CAPTION, by + rows * (CAPTION + side + GAP) - GAP);
            let steps = 64;
            for i in 0..steps {
                let t0 = f64::from(i) / f64::from(steps);
                let t1 = f64::from(i + 1) / f64::from(steps);
                let ya = y1 - (t1 * f64::from(y1 - y0)).round() as i32;
                let yb = y1 - (t0 * f64::from(y1 - y0)).round() as i32;
                root.draw(&Rectangle::new(
                    [(x0, ya), (x1, yb)],
                    theme::sequential((t0 + t1) / 2.0).filled(),
                ))
                .map_err(e)?;
            }
            root.draw(&Rectangle::new(
                [(x0, y0), (x1, y1)],
                theme::AXIS.stroke_width(1),
            ))
            .map_err(e)?;
            for t in theme::nice_ticks(lo, hi, 5) {
                let y = y1 - ((t - lo) / (hi - lo) * f64::from(y1 - y0)).round() as i32;
                root.draw(&PathElement::new(vec![(x1, y), (x1 + 3, y)], theme::AXIS))
                    .map_err(e)?;
                root.draw(&Text::new(
                    theme::tick(t),
                    (x1 + 5, y),
                    font(theme::TICK_PT).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(e)?;
            }
            root.draw(&Text::new(
                "cosine",
                (x0 - 2, y0 - 4),
                font(theme::TICK_PT).pos(Pos::new(HPos::Left, VPos::Bottom)),
            ))
            .map_err(e)?;
        }
        Ok(())
    })?;
    Ok(Some(svg))
}

fn pca_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    let models: Vec<(&str, &crate::eval::geometry::Pca2)> = s
        .plots
        .iter()
        .filter_map(|p| Some((p.model.as_str(), p.pca.as_ref()?)))
        .collect();
    if models.is_empty() {
        return Ok(None);
    }
    // Shared axes: every model's points and means.
    let all = || {
        models.iter().flat_map(|(_, p)| {
            p.image
                .iter()
                .chain(&p.text)
                .chain([&p.image_mean, &p.text_mean])
        })
    };
    let x = padded(all().map(|q| q[0]));
    let y = padded(all().map(|q| q[1]));
    let frame = Frame {
        title: Some(format!("{}: PCA of image and report embeddings", s.dataset)),
        keys: vec![
            Key::new("image", theme::FIRST, Mark::Dot),
            Key::new("report", theme::SECOND, Mark::Dot),
            Key::new(
                "gap vector (report mean → image mean)",
                theme::INK,
                Mark::Arrow,
            ),
        ],
        ..Frame::default()
    };
    let svg = panels(&frame, models.len(), models.len().min(3), 250, |i, area| {
        let (model, p) = models[i];
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "{model} (PC1 {:.0}%, PC2 {:.0}% of variance)",
                    p.explained[0] * 100.0,
                    p.explained[1] * 100.0
                ),
                font(theme::LABEL_PT),
            )
            .margin(theme::MARGIN)
            .x_label_area_size(theme::X_LABEL_AREA)
            .y_label_area_size(theme::Y_LABEL_AREA)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(|e| e.to_string())?;
        let mut m = chart.configure_mesh();
        theme::mesh(&mut m);
        m.x_desc("PC1")
            .y_desc("PC2")
            .x_label_formatter(&theme::tick_ref)
            .y_label_formatter(&theme::tick_ref)
            .draw()
            .map_err(|e| e.to_string())?;
        for (pts, c) in [(&p.image, theme::FIRST), (&p.text, theme::SECOND)] {
            chart
                .draw_series(
                    pts.iter()
                        .map(|q| Circle::new((q[0], q[1]), 2, c.mix(0.35).filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        gap_arrow(&chart, area, p.text_mean, p.image_mean)
    })?;
    Ok(Some(svg))
}

/// The gap vector as an arrow from `from` to `to` (data coordinates), the head in pixels so it
/// keeps its shape whatever the axes' scales.
fn gap_arrow(
    chart: &ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    area: &Area,
    from: [f64; 2],
    to: [f64; 2],
) -> Result<(), String> {
    let (bx, by) = area.get_base_pixel();
    let rel = |p: (i32, i32)| (p.0 - bx, p.1 - by);
    let a = rel(chart.backend_coord(&(from[0], from[1])));
    let b = rel(chart.backend_coord(&(to[0], to[1])));
    let head = theme::arrowhead(a, b, 10.0);
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    // White under-stroke so the arrow stays visible over dense points.
    let shaft_end = head
        .get(1)
        .zip(head.get(2))
        .map_or(b, |(l, r)| ((l.0 + r.0) / 2, (l.1 + r.1) / 2));
    area.draw(&PathElement::new(vec![a, shaft_end], WHITE.stroke_width(5)))
        .map_err(e)?;
    area.draw(&PathElement::new(
        vec![a, shaft_end],
        theme::INK.stroke_width(2),
    ))
    .map_err(e)?;
    area.draw(&Circle::new(a, 3, theme::INK.filled()))
        .map_err(e)?;
    if !head.is_empty() {
        area.draw(&Polygon::new(head, theme::INK.filled()))
            .map_err(e)?;
    }
    Ok(())
}

/// Metric label on an axis ("macro_f1" → "macro F1").
fn metric_label(m: &str) -> String {
    match m {
        "accuracy" => "accuracy".into(),
        "macro_f1" => "macro F1".into(),
        "macro_auroc" => "macro AUROC".into(),
        "r@1" => "i2t R@1".into(),
        "modality_gap" => "modality gap".into(),
        "zeroshot_accuracy" => "zero-shot accuracy".into(),
        other => other.replace('_', " "),
    }
}

fn probe_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    let mut metrics: Vec<String> = Vec::new();
    for c in s.plots.iter().flat_map(|p| &p.probe_curves) {
        if !metrics.contains(&c.metric) {
            metrics.push(c.metric.clone());
        }
    }
    if metrics.is_empty() {
        return Ok(None);
    }
    let n_models = s.plots.len();
    let per_metric: Vec<Vec<Series>> = metrics
        .iter()
        .map(|metric| {
            s.plots
                .iter()
                .enumerate()
                .filter_map(|(m, p)| {
                    let c = p.probe_curves.iter().find(|c| &c.metric == metric)?;
                    // Models side by side at each fraction (a few % apart on the log axis).
                    let dodge = 1.07f64.powf(m as f64 - (n_models as f64 - 1.0) / 2.0);
                    let points = c
                        .points
                        .iter()
                        .map(|q| {
                            let setting = Setting::Fraction(q.fraction);
                            let row = s.row(&p.model, Task::LinearProbe, &setting, metric);
                            Point {
                                x: q.fraction * dodge,
                                y: row.and_then(|r| r.value).unwrap_or(q.mean),
                                interval: row.and_then(|r| r.ci_low.zip(r.ci_high)),
                            }
                        })
                        .collect();
                    Some(Series {
                        name: p.model.clone(),
                        color: theme::model_color(m),
                        style: Style::Bars,
                        points,
                    })
                })
                .collect()
        })
        .collect();
    let xs = per_metric
        .iter()
        .flatten()
        .flat_map(|s| &s.points)
        .map(|p| p.x)
        .filter(|x| *x > 0.0);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let x = if x_lo.is_finite() {
        (x_lo * 0.7, x_hi * 1.4)
    } else {
        (0.01, 1.0)
    };
    let missing = per_metric
        .iter()
        .flatten()
        .flat_map(|s| &s.points)
        .any(|p| p.interval.is_none());
    let frame = Frame {
        title: Some(format!("{}: linear probes vs label fraction", s.dataset)),
        keys: keys(per_metric.iter().flatten()),
        note: Some(if missing {
            "bars: the probe rows' 95% intervals (as in the tables); no bar: the row has no interval (fitted once)".into()
        } else {
            "bars: the probe rows' 95% intervals (as in the tables)".into()
        }),
        ..Frame::default()
    };
    let svg = panels(
        &frame,
        metrics.len(),
        metrics.len().min(3),
        PANEL_H,
        |i, area| {
            // Each metric on its own y scale (the models share it within the panel).
            let (_, y) = extent(per_metric[i].iter());
            let axes = Axes {
                log_x: true,
                x_fmt: theme::percent_ref,
                ..Axes::new(
                    x,
                    y,
                    "label fraction (log scale)",
                    &metric_label(&metrics[i]),
                )
            };
            line_panel(area, &metric_label(&metrics[i]), &axes, &per_metric[i])
        },
    )?;
    Ok(Some(svg))
}

fn gap_shift_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    if s.plots.iter().all(|p| p.gap_shift.is_empty()) {
        return Ok(None);
    }
    type Get = fn(&crate::eval::summary::GapShiftPoint) -> Option<f64>;
    let panels_spec: [(&str, Get); 3] = [
        ("modality_gap", |g| Some(g.modality_gap)),
        ("zeroshot_accuracy", |g| g.zeroshot_accuracy),
        ("r@1", |g| g.r_at_1),
    ];
    let per_panel: Vec<Vec<Series>> = panels_spec
        .iter()
        .map(|(metric, get)| {
            s.plots
                .iter()
                .enumerate()
                .map(|(m, p)| Series {
                    name: p.model.clone(),
                    color: theme::model_color(m),
                    style: Style::Band,
                    points: p
                        .gap_shift
                        .iter()
                        .filter_map(|g| {
                            let setting = Setting::Lambda(g.lambda);
                            let row = s.row(&p.model, Task::GapShift, &setting, metric);
                            let y = row.and_then(|r| r.value).or_else(|| get(g))?;
                            Some(Point {
                                x: g.lambda,
                                y,
                                interval: row.and_then(|r| r.ci_low.zip(r.ci_high)),
                            })
                        })
                        .collect(),
                })
                .collect()
        })
        .collect();
    let present: Vec<usize> = (0..per_panel.len())
        .filter(|&i| per_panel[i].iter().any(|s| !s.points.is_empty()))
        .collect();
    let frame = Frame {
        title: Some(format!(
            "{}: gap shift (image − λ/2·gap, report + λ/2·gap)",
            s.dataset
        )),
        keys: keys(per_panel.iter().flatten()),
        note: Some("bands: the gap_shift rows' 95% bootstrap intervals (as in the tables)".into()),
        ..Frame::default()
    };
    let svg = panels(
        &frame,
        present.len(),
        present.len().min(3),
        PANEL_H,
        |i, area| {
            let k = present[i];
            let (x, y) = extent(per_panel[k].iter());
            let label = metric_label(panels_spec[k].0);
            let axes = Axes::new(x, y, "λ (shift along the gap)", &label);
            line_panel(area, &label, &axes, &per_panel[k])
        },
    )?;
    Ok(Some(svg))
}

/// Provenance keys that name a series explicitly: `eclip-train efficiency` writes
/// `train_fraction` (onnx-export/src/eclip_train/cli.py `_cmd_efficiency`), and its models also
/// differ in what the fraction implies (`pairs`, `prep_seconds`, `final_temperature`, ...).
pub const SERIES_KEYS: [&str; 1] = ["train_fraction"];

/// The provenance key of the metric-vs-value figure: a [`SERIES_KEYS`] key present in every model
/// of every family with at least two models and varying in at least one of them; otherwise the
/// one numeric key that varies within the families (ignoring incidental ones), when each family
/// with at least two models varies in exactly that key.
pub fn varying_provenance_key(models: &[ModelProvenance]) -> Option<String> {
    let mut families: BTreeMap<&str, Vec<&ModelProvenance>> = BTreeMap::new();
    for m in models {
        families.entry(m.family.as_str()).or_default().push(m);
    }
    let multi: Vec<&Vec<&ModelProvenance>> = families.values().filter(|f| f.len() >= 2).collect();
    for k in SERIES_KEYS {
        let everywhere = !multi.is_empty()
            && multi
                .iter()
                .all(|f| f.iter().all(|m| m.values.contains_key(k)));
        let varies = multi
            .iter()
            .any(|f| f.iter().any(|m| m.values.get(k) != f[0].values.get(k)));
        if everywhere && varies {
            return Some(k.to_owned());
        }
    }
    let mut key: Option<String> = None;
    for members in families.values().filter(|f| f.len() >= 2) {
        let keys: Vec<&String> = members[0]
            .values
            .keys()
            .filter(|k| !INCIDENTAL.contains(&k.as_str()))
            .filter(|k| members.iter().all(|m| m.values.contains_key(*k)))
            .filter(|k| {
                members
                    .iter()
                    .any(|m| m.values[*k] != members[0].values[*k])
            })
            .collect();
        match (keys.as_slice(), &key) {
            ([k], None) => key = Some((*k).clone()),
            ([k], Some(prev)) if *k == prev => {}
            _ => return None,
        }
    }
    key
}

fn provenance_figure(
    s: &EvalSummary,
    models: &[ModelProvenance],
    key: &str,
) -> Result<String, String> {
    let mut families: Vec<&str> = Vec::new();
    for m in models {
        if !families.contains(&m.family.as_str()) {
            families.push(&m.family);
        }
    }
    let present: Vec<(&str, Task, Setting, &str)> = headline()
        .into_iter()
        .filter(|h| {
            s.rows
                .iter()
                .any(|r| r.task == h.1 && r.setting == h.2 && r.metric == h.3)
        })
        .collect();
    let per_panel: Vec<Vec<Series>> = present
        .iter()
        .map(|(_, task, setting, metric)| {
            families
                .iter()
                .enumerate()
                .map(|(f, fam)| {
                    let mut points: Vec<Point> = models
                        .iter()
                        .filter(|m| m.family == *fam)
                        .filter_map(|m| {
                            let x = *m.values.get(key)?;
                            let r = s.row(&m.model, *task, setting, metric)?;
                            Some(Point {
                                x,
                                y: r.value?,
                                interval: r.ci_low.zip(r.ci_high),
                            })
                        })
                        .collect();
                    points.sort_by(|a, b| a.x.total_cmp(&b.x));
                    Series {
                        name: (*fam).to_string(),
                        color: theme::model_color(f),
                        style: Style::Bars,
                        points,
                    }
                })
                .collect()
        })
        .collect();
    let frame = Frame {
        title: Some(format!("{}: headline metrics vs {key}", s.dataset)),
        keys: keys(per_panel.iter().flatten()),
        note: Some("one curve per model family; bars: the rows' 95% intervals".into()),
        ..Frame::default()
    };
    panels(
        &frame,
        present.len(),
        present.len().min(3),
        PANEL_H,
        |i, area| {
            let (x, y) = extent(per_panel[i].iter());
            let axes = Axes::new(x, y, key, present[i].0);
            line_panel(area, present[i].0, &axes, &per_panel[i])
        },
    )
}

/// A figure function: the SVG text, or `None` when the summary has no data for it.
type Draw = fn(&EvalSummary) -> Result<Option<String>, String>;

/// Write every figure for every dataset into `dir` (created if missing), each as SVG and PNG;
/// returns the files written (each figure's SVG, then its PNG).
pub fn write_plots(
    dir: &Path,
    summaries: &[EvalSummary],
    provenance: &[ModelProvenance],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let mut written = Vec::new();
    let key = varying_provenance_key(provenance);
    for s in summaries {
        let stem = safe_name(&s.dataset);
        let figures: [(&str, Draw); 7] = [
            ("cosine", cosine_figure),
            ("group_cosine", group_figure),
            ("pca", pca_figure),
            ("probe", probe_figure),
            ("gap_shift", gap_shift_figure),
            ("reliability", super::plots_calibration::reliability_figure),
            ("roc", super::plots_calibration::roc_figure),
        ];
        for (name, draw) in figures {
            let name = format!("{stem}_{name}");
            let path = dir.join(format!("{name}.svg"));
            if let Some(svg) = draw(s).map_err(plot_err(&path))? {
                written.extend(figure::write(dir, &name, &svg)?);
            }
        }
        if let Some(key) = &key {
            let name = format!("{stem}_provenance_{}", safe_name(key));
            let svg = provenance_figure(s, provenance, key)
                .map_err(plot_err(&dir.join(format!("{name}.svg"))))?;
            written.extend(figure::write(dir, &name, &svg)?);
        }
    }
    Ok(written)
}
