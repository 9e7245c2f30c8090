/*!
Calibration and ROC figures of the zero-shot family (issue 12), drawn from [`ModelPlots`] data in
the style of [`super::theme`]:

- `<dataset>_reliability`: one panel per model, the top-label reliability diagram of the argmax
  zero-shot probabilities `softmax(logit_scale · cos)` (observed accuracy against mean confidence
  per non-empty bin of 15 equal-width bins; the dashed diagonal is perfect calibration);
- `<dataset>_roc`: one panel per zero-shot class, the posneg ROC curve of every model.

Each returns `None` when no model has the data.

[`ModelPlots`]: crate::eval::summary::ModelPlots
*/
use super::plots::{Axes, Point, Series, Style, keys, line_panel, panels};
use super::theme::{self, Frame};
use crate::eval::summary::EvalSummary;

fn diagonal(name: &str) -> Series {
    Series {
        name: name.into(),
        color: theme::MUTED,
        style: Style::Dashed,
        points: vec![Point::at(0.0, 0.0), Point::at(1.0, 1.0)],
    }
}

pub(super) fn reliability_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    let models: Vec<_> = s
        .plots
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.reliability.is_empty())
        .collect();
    if models.is_empty() {
        return Ok(None);
    }
    let per_model: Vec<[Series; 2]> = models
        .iter()
        .map(|(i, p)| {
            [
                diagonal("perfect calibration"),
                Series {
                    name: p.model.clone(),
                    color: theme::model_color(*i),
                    style: Style::Line,
                    points: p
                        .reliability
                        .iter()
                        .filter_map(|b| Some(Point::at(b.mean_confidence?, b.accuracy?)))
                        .collect(),
                },
            ]
        })
        .collect();
    let frame = Frame {
        title: Some(format!("{}: reliability of argmax zero-shot", s.dataset)),
        keys: keys(per_model.iter().flatten()),
        note: Some("top-label confidence, 15 equal-width bins (non-empty bins shown)".into()),
        ..Frame::default()
    };
    let axes = Axes::unit("mean confidence", "accuracy");
    panels(&frame, models.len(), models.len().min(3), 240, |k, area| {
        line_panel(area, &models[k].1.model, &axes, &per_model[k])
    })
    .map(Some)
}

pub(super) fn roc_figure(s: &EvalSummary) -> Result<Option<String>, String> {
    let mut classes: Vec<&str> = Vec::new();
    for p in &s.plots {
        for r in &p.roc {
            if !classes.contains(&r.class.as_str()) {
                classes.push(&r.class);
            }
        }
    }
    if classes.is_empty() {
        return Ok(None);
    }
    let per_class: Vec<Vec<Series>> = classes
        .iter()
        .map(|class| {
            let mut series = vec![diagonal("chance")];
            for (i, p) in s.plots.iter().enumerate() {
                if let Some(r) = p.roc.iter().find(|r| r.class == *class) {
                    series.push(Series {
                        name: p.model.clone(),
                        color: theme::model_color(i),
                        style: Style::Curve,
                        points: r
                            .curve
                            .fpr
                            .iter()
                            .zip(&r.curve.tpr)
                            .map(|(&x, &y)| Point::at(x, y))
                            .collect(),
                    });
                }
            }
            series
        })
        .collect();
    let frame = Frame {
        title: Some(format!(
            "{}: ROC of posneg zero-shot per finding",
            s.dataset
        )),
        keys: keys(per_class.iter().flatten()),
        ..Frame::default()
    };
    let axes = Axes::unit("false positive rate", "true positive rate");
    panels(
        &frame,
        classes.len(),
        classes.len().min(3),
        215,
        |k, area| line_panel(area, classes[k], &axes, &per_class[k]),
    )
    .map(Some)
}
