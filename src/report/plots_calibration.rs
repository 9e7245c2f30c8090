/*!
Calibration and ROC figures of the zero-shot family (issue 12), drawn from [`ModelPlots`] data:

- `<dataset>_reliability.svg`: one panel per model, the top-label reliability diagram of the argmax
  zero-shot probabilities `softmax(logit_scale · cos)` (observed accuracy against mean confidence
  per non-empty bin of 15 equal-width bins; the diagonal is perfect calibration);
- `<dataset>_roc.svg`: one panel per zero-shot class, the posneg ROC curve of every model.

Each returns `false` (and writes nothing) when no model has the data.
*/
use std::path::Path;

use plotters::prelude::*;

use super::plots::{Series, canvas, color, line_panel};
use crate::eval::summary::EvalSummary;

const DIAGONAL: RGBColor = RGBColor(150, 150, 150);

fn diagonal() -> Series {
    Series {
        name: "perfect".into(),
        color: DIAGONAL,
        points: vec![(0.0, 0.0, 0.0), (1.0, 1.0, 0.0)],
    }
}

/// Columns and rows of a grid of `n` panels, at most three columns.
fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (cols, n.div_ceil(cols).max(1))
}

pub(super) fn reliability_figure(s: &EvalSummary, path: &Path) -> Result<bool, String> {
    let models: Vec<_> = s
        .plots
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.reliability.is_empty())
        .collect();
    if models.is_empty() {
        return Ok(false);
    }
    let (cols, rows) = grid(models.len());
    let root = canvas(path, cols, rows);
    let areas = root.split_evenly((rows, cols));
    for ((i, p), area) in models.iter().zip(&areas) {
        let points = p
            .reliability
            .iter()
            .filter_map(|b| Some((b.mean_confidence?, b.accuracy?, 0.0)))
            .collect();
        let series = [
            diagonal(),
            Series {
                name: p.model.clone(),
                color: color(*i),
                points,
            },
        ];
        line_panel(
            area,
            &format!("{}: reliability (argmax zero-shot)", p.model),
            "mean confidence",
            "accuracy",
            &series,
            false,
        )?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(true)
}

pub(super) fn roc_figure(s: &EvalSummary, path: &Path) -> Result<bool, String> {
    let mut classes: Vec<&str> = Vec::new();
    for p in &s.plots {
        for r in &p.roc {
            if !classes.contains(&r.class.as_str()) {
                classes.push(&r.class);
            }
        }
    }
    if classes.is_empty() {
        return Ok(false);
    }
    let (cols, rows) = grid(classes.len());
    let root = canvas(path, cols, rows);
    let areas = root.split_evenly((rows, cols));
    for (class, area) in classes.iter().zip(&areas) {
        let mut series = vec![diagonal()];
        for (i, p) in s.plots.iter().enumerate() {
            if let Some(r) = p.roc.iter().find(|r| r.class == *class) {
                series.push(Series {
                    name: p.model.clone(),
                    color: color(i),
                    points: r
                        .curve
                        .fpr
                        .iter()
                        .zip(&r.curve.tpr)
                        .map(|(&x, &y)| (x, y, 0.0))
                        .collect(),
                });
            }
        }
        line_panel(
            area,
            &format!("{class}: ROC (posneg zero-shot)"),
            "false positive rate",
            "true positive rate",
            &series,
            false,
        )?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(true)
}
