/*!
Figures (`--plots DIR`), drawn with plotters from the summaries' figure data and rows, each written
as `<name>.svg` and `<name>.png` ([`super::figure`]) in the one style of [`super::theme`]. This
module holds the shared panel machinery (series, axes, panels), the provenance figure and
[`write_plots`]; the geometry figures are in `plots_geometry`, the curves in `plots_curves`, the
calibration figures in `plots_calibration`:

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
use plotters::prelude::*;

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

pub(super) fn draw_series<X, Y>(
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
pub(super) const PANEL_H: u32 = 230;

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
            ("cosine", super::plots_geometry::cosine_figure),
            ("group_cosine", super::plots_geometry::group_figure),
            ("pca", super::plots_geometry::pca_figure),
            ("probe", super::plots_curves::probe_figure),
            ("gap_shift", super::plots_curves::gap_shift_figure),
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
