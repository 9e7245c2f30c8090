/*!
SVG figures (`--plots DIR`), drawn with plotters from the summaries' figure data:

- `<dataset>_cosine.svg`: matched vs unmatched image–text cosine densities, one panel per model;
- `<dataset>_group_cosine.svg`: mean cosine between abnormality groups, image–image and text–text,
  one row per model (the eCLIP paper's motivating figure);
- `<dataset>_pca.svg`: 2-D PCA of image and text embeddings with the gap vector, one panel per model;
- `<dataset>_probe.svg`: linear-probe metrics vs label fraction (mean ± sd over seeds);
- `<dataset>_gap_shift.svg`: modality gap, zero-shot accuracy and R@1 along the gap-shift sweep;
- `<dataset>_provenance_<key>.svg`: headline metrics vs a numeric provenance value (e.g.
  `train_fraction`) per model family, when the models of a family differ in exactly one such value.

File names are the dataset name with anything but letters, digits, `-` and `_` replaced by `_`.
*/
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::ReportError;
use crate::eval::metrics::{Setting, Task};
use crate::eval::summary::EvalSummary;

const PANEL: (u32, u32) = (520, 400);
const FONT: &str = "sans-serif";

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

use super::safe_name;

fn plot_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> ReportError + '_ {
    move |e| ReportError::Plot {
        path: path.to_path_buf(),
        message: format!("{e:?}"),
    }
}

pub(super) fn color(i: usize) -> RGBColor {
    const C: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    C[i % C.len()]
}

/// (min, max) padded by 5% (and widened when flat).
/// A tick label with about three significant digits and no float noise (0.01, 0.25, 120).
fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
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

/// The series legend, boxed on a translucent background.
fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}

/// A series of (x, y, optional ± error) points.
pub(super) struct Series {
    pub(super) name: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<(f64, f64, f64)>,
}

pub(super) fn line_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    log_x: bool,
) -> Result<(), String> {
    let all = series.iter().flat_map(|s| &s.points);
    let (x0, x1) = padded(all.clone().map(|p| p.0));
    let (y0, y1) = padded(all.flat_map(|p| [p.1 - p.2, p.1 + p.2]));
    let mut b = ChartBuilder::on(area);
    b.caption(title, (FONT, 16))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55);
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_label_formatter(&|v: &f64| tick(*v))
                .draw()
                .map_err(|e| e.to_string())?;
            for s in series {
                let c = s.color;
                chart
                    .draw_series(LineSeries::new(
                        s.points.iter().map(|p| (p.0, p.1)),
                        c.stroke_width(2),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(s.name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 15, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .map(|p| Circle::new((p.0, p.1), 3, c.filled())),
                    )
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .filter(|p| p.2 > 0.0)
                            .map(|p| PathElement::new(vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)], c)),
                    )
                    .map_err(|e| e.to_string())?;
            }
            legend(&mut chart)?;
        }};
    }
    if log_x {
        // Padding a log axis by a share of the linear span can push it below zero: pad by ratio.
        let xs = series
            .iter()
            .flat_map(|s| &s.points)
            .map(|p| p.0)
            .filter(|v| *v > 0.0);
        let (lo, hi) = xs.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let (x0, x1) = if lo.is_finite() {
            (lo * 0.8, hi * 1.25)
        } else {
            (x0.max(1e-6), x1)
        };
        draw!(
            b.build_cartesian_2d((x0..x1).log_scale(), y0..y1)
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

pub(super) fn canvas(path: &Path, cols: usize, rows: usize) -> DrawingArea<SVGBackend<'_>, Shift> {
    let size = (PANEL.0 * cols.max(1) as u32, PANEL.1 * rows.max(1) as u32);
    let root = SVGBackend::new(path, size).into_drawing_area();
    // Filling an in-memory SVG cannot fail before `present`.
    let _ = root.fill(&WHITE);
    root
}

fn cosine_figure(s: &EvalSummary, path: &Path) -> Result<(), String> {
    let root = canvas(path, s.plots.len(), 1);
    for (plot, area) in s
        .plots
        .iter()
        .zip(root.split_evenly((1, s.plots.len().max(1))))
    {
        let Some(h) = &plot.cosine else { continue };
        let centres: Vec<f64> = h
            .matched
            .edges
            .windows(2)
            .map(|w| (w[0] + w[1]) / 2.0)
            .collect();
        let series = [
            ("matched pairs", &h.matched, color(0)),
            ("unmatched pairs", &h.unmatched, color(1)),
        ]
        .map(|(name, hist, c)| Series {
            name: name.into(),
            color: c,
            points: centres
                .iter()
                .zip(hist.density())
                .map(|(&x, y)| (x, y, 0.0))
                .collect(),
        });
        line_panel(
            &area,
            &format!("{}: image-text cosine", plot.model),
            "cosine",
            "density",
            &series,
            false,
        )?;
    }
    root.present().map_err(|e| e.to_string())
}

fn heat(v: f64, lo: f64, hi: f64) -> RGBColor {
    let t = if hi > lo {
        ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.5
    };
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(mix(247, 8), mix(251, 48), mix(255, 107))
}

fn group_figure(s: &EvalSummary, path: &Path) -> Result<(), String> {
    let root = canvas(path, 2, s.plots.len());
    let areas = root.split_evenly((s.plots.len().max(1), 2));
    for (m, plot) in s.plots.iter().enumerate() {
        let Some(g) = &plot.group_cosine else {
            continue;
        };
        for (k, (kind, mat)) in [("image-image", &g.image), ("text-text", &g.text)]
            .iter()
            .enumerate()
        {
            let n = g.classes.len();
            let vals: Vec<f64> = mat.iter().flatten().flatten().copied().collect();
            let (lo, hi) = padded(vals.iter().copied());
            let mut chart = ChartBuilder::on(&areas[m * 2 + k])
                .caption(
                    format!("{}: {kind} mean cosine ({:.2}..{:.2})", plot.model, lo, hi),
                    (FONT, 15),
                )
                .margin(10)
                .x_label_area_size(60)
                .y_label_area_size(110)
                // A segmented 0..m axis has m + 1 cells: 0..n - 1 gives one per class.
                .build_cartesian_2d(
                    (0..n.saturating_sub(1)).into_segmented(),
                    (0..n.saturating_sub(1)).into_segmented(),
                )
                .map_err(|e| e.to_string())?;
            let names = g.classes.clone();
            let label = move |v: &SegmentValue<usize>| match v {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            };
            // Row `a` is drawn at y = n - 1 - a (first class on top), so the y labels run backwards.
            let names_y = g.classes.clone();
            let y_label = move |v: &SegmentValue<usize>| match v {
                SegmentValue::CenterOf(i) => n
                    .checked_sub(1 + *i)
                    .and_then(|r| names_y.get(r).cloned())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(n)
                .y_labels(n)
                .x_label_formatter(&label)
                .y_label_formatter(&y_label)
                .draw()
                .map_err(|e| e.to_string())?;
            for (a, row) in mat.iter().enumerate() {
                for (b, v) in row.iter().enumerate() {
                    let (x, y) = (SegmentValue::Exact(b), SegmentValue::Exact(n - 1 - a));
                    let (x2, y2) = (SegmentValue::Exact(b + 1), SegmentValue::Exact(n - a));
                    let fill = v.map_or(RGBColor(200, 200, 200), |v| heat(v, lo, hi));
                    chart
                        .draw_series([Rectangle::new(
                            [(x.clone(), y.clone()), (x2, y2)],
                            fill.filled(),
                        )])
                        .map_err(|e| e.to_string())?;
                    let text = v.map_or("n/a".to_string(), |v| format!("{v:.2}"));
                    let ink = if v.is_some_and(|v| heat(v, lo, hi).0 < 120) {
                        WHITE
                    } else {
                        BLACK
                    };
                    chart
                        .draw_series([Text::new(
                            text,
                            (SegmentValue::CenterOf(b), SegmentValue::CenterOf(n - 1 - a)),
                            (FONT, 12).into_font().color(&ink),
                        )])
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    root.present().map_err(|e| e.to_string())
}

fn pca_figure(s: &EvalSummary, path: &Path) -> Result<(), String> {
    let root = canvas(path, s.plots.len(), 1);
    for (plot, area) in s
        .plots
        .iter()
        .zip(root.split_evenly((1, s.plots.len().max(1))))
    {
        let Some(p) = &plot.pca else { continue };
        let all = p.image.iter().chain(&p.text);
        let (x0, x1) = padded(all.clone().map(|q| q[0]));
        let (y0, y1) = padded(all.map(|q| q[1]));
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!(
                    "{}: PCA (PC1 {:.0}%, PC2 {:.0}%)",
                    plot.model,
                    p.explained[0] * 100.0,
                    p.explained[1] * 100.0
                ),
                (FONT, 16),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("PC1")
            .y_desc("PC2")
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, pts, c) in [("image", &p.image, color(0)), ("text", &p.text, color(1))] {
            chart
                .draw_series(
                    pts.iter()
                        .map(|q| Circle::new((q[0], q[1]), 2, c.mix(0.5).filled())),
                )
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 7, y), 3, c.filled()));
        }
        let (a, b) = (p.text_mean, p.image_mean);
        chart
            .draw_series([PathElement::new(
                vec![(a[0], a[1]), (b[0], b[1])],
                BLACK.stroke_width(3),
            )])
            .map_err(|e| e.to_string())?
            .label("gap vector (text mean -> image mean)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLACK.stroke_width(3)));
        chart
            .draw_series([Circle::new((b[0], b[1]), 5, BLACK.filled())])
            .map_err(|e| e.to_string())?;
        legend(&mut chart)?;
    }
    root.present().map_err(|e| e.to_string())
}

fn probe_figure(s: &EvalSummary, path: &Path) -> Result<bool, String> {
    let mut metrics: Vec<String> = Vec::new();
    for c in s.plots.iter().flat_map(|p| &p.probe_curves) {
        if !metrics.contains(&c.metric) {
            metrics.push(c.metric.clone());
        }
    }
    if metrics.is_empty() {
        return Ok(false);
    }
    let root = canvas(path, metrics.len(), 1);
    for (metric, area) in metrics.iter().zip(root.split_evenly((1, metrics.len()))) {
        let series: Vec<Series> = s
            .plots
            .iter()
            .enumerate()
            .filter_map(|(m, p)| {
                let c = p.probe_curves.iter().find(|c| &c.metric == metric)?;
                Some(Series {
                    name: p.model.clone(),
                    color: color(m),
                    points: c
                        .points
                        .iter()
                        .map(|q| (q.fraction, q.mean, q.sd))
                        .collect(),
                })
            })
            .collect();
        line_panel(
            &area,
            &format!("linear probe {metric} (mean ± sd over seeds)"),
            "label fraction (log)",
            metric,
            &series,
            true,
        )?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(true)
}

fn gap_shift_figure(s: &EvalSummary, path: &Path) -> Result<bool, String> {
    if s.plots.iter().all(|p| p.gap_shift.is_empty()) {
        return Ok(false);
    }
    type Get = fn(&crate::eval::summary::GapShiftPoint) -> Option<f64>;
    let panels: [(&str, Get); 3] = [
        ("modality gap", |g| Some(g.modality_gap)),
        ("zero-shot accuracy", |g| g.zeroshot_accuracy),
        ("i2t R@1", |g| g.r_at_1),
    ];
    let root = canvas(path, 3, 1);
    for ((title, get), area) in panels.iter().zip(root.split_evenly((1, 3))) {
        let series: Vec<Series> = s
            .plots
            .iter()
            .enumerate()
            .map(|(m, p)| Series {
                name: p.model.clone(),
                color: color(m),
                points: p
                    .gap_shift
                    .iter()
                    .filter_map(|g| get(g).map(|v| (g.lambda, v, 0.0)))
                    .collect(),
            })
            .collect();
        line_panel(
            &area,
            &format!("gap shift: {title}"),
            "lambda",
            title,
            &series,
            false,
        )?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(true)
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
    path: &Path,
) -> Result<(), String> {
    let mut families: Vec<&str> = Vec::new();
    for m in models {
        if !families.contains(&m.family.as_str()) {
            families.push(&m.family);
        }
    }
    let present: Vec<(&str, &str, String, &str)> = headline()
        .into_iter()
        .map(|(label, task, setting, metric)| (label, task.name(), setting.label(), metric))
        .filter(|h| {
            s.rows
                .iter()
                .any(|r| r.task == h.1 && r.setting == h.2 && r.metric == h.3)
        })
        .collect();
    let root = canvas(path, present.len(), 1);
    for ((label, task, setting, metric), area) in present
        .iter()
        .zip(root.split_evenly((1, present.len().max(1))))
    {
        let series: Vec<Series> = families
            .iter()
            .enumerate()
            .map(|(f, fam)| {
                let mut points: Vec<(f64, f64, f64)> = models
                    .iter()
                    .filter(|m| m.family == *fam)
                    .filter_map(|m| {
                        let x = *m.values.get(key)?;
                        let y = s.row(&m.model, task, setting, metric)?.value?;
                        Some((x, y, 0.0))
                    })
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series {
                    name: (*fam).to_string(),
                    color: color(f),
                    points,
                }
            })
            .collect();
        line_panel(
            &area,
            &format!("{label} vs {key}"),
            key,
            label,
            &series,
            false,
        )?;
    }
    root.present().map_err(|e| e.to_string())
}

/// Draws a figure into a temporary file beside `path` and renames it into place
/// ([`crate::output::write_via_path`]: a failed or interrupted write leaves no partial SVG).
fn via_temp<T>(path: &Path, draw: impl FnOnce(&Path) -> Result<T, String>) -> Result<T, String> {
    crate::output::write_via_path(path, draw, |e| e.to_string())
}

/// Write every figure for every dataset into `dir` (created if missing); returns the files written.
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
        let file = |name: &str| dir.join(format!("{stem}_{name}.svg"));
        for (name, draw) in [
            (
                "cosine",
                cosine_figure as fn(&EvalSummary, &Path) -> Result<(), String>,
            ),
            ("group_cosine", group_figure),
            ("pca", pca_figure),
        ] {
            let path = file(name);
            if s.plots.iter().any(|p| p.cosine.is_some()) {
                via_temp(&path, |p| draw(s, p)).map_err(plot_err(&path))?;
                written.push(path);
            }
        }
        let path = file("probe");
        if via_temp(&path, |p| probe_figure(s, p)).map_err(plot_err(&path))? {
            written.push(path);
        }
        let path = file("gap_shift");
        if via_temp(&path, |p| gap_shift_figure(s, p)).map_err(plot_err(&path))? {
            written.push(path);
        }
        for (name, draw) in [
            (
                "reliability",
                super::plots_calibration::reliability_figure
                    as fn(&EvalSummary, &Path) -> Result<bool, String>,
            ),
            ("roc", super::plots_calibration::roc_figure),
        ] {
            let path = file(name);
            if via_temp(&path, |p| draw(s, p)).map_err(plot_err(&path))? {
                written.push(path);
            }
        }
        if let Some(key) = &key {
            let path = file(&format!("provenance_{}", safe_name(key)));
            via_temp(&path, |p| provenance_figure(s, provenance, key, p))
                .map_err(plot_err(&path))?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::tick;

    #[test]
    fn tick_labels_have_no_float_noise() {
        assert_eq!(tick(0.01), "0.01");
        assert_eq!(tick(0.1), "0.1");
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(-0.8), "-0.8");
        assert_eq!(tick(120.0), "120");
        assert_eq!(tick(0.000_9), "0.0009");
        assert_eq!(tick(0.069_999_999_999_999_99), "0.07");
    }
}
