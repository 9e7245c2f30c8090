/*!
The curve figures of [`super::plots`]: `<dataset>_probe` (linear-probe metrics vs label fraction with
the rows' intervals as error bars) and `<dataset>_gap_shift` (gap, zero-shot accuracy and R@1 along
the gap-shift sweep with the rows' bootstrap intervals as bands).
*/
use super::plots::{Axes, PANEL_H, Point, Series, Style, extent, keys, line_panel, panels};
use super::theme::{self, Frame};
use crate::eval::metrics::{Setting, Task};
use crate::eval::summary::EvalSummary;

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

pub(super) fn probe_figure(s: &EvalSummary) -> Result<Option<String>, String> {
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

pub(super) fn gap_shift_figure(s: &EvalSummary) -> Result<Option<String>, String> {
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
