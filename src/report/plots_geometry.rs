/*!
The embedding-geometry figures of [`super::plots`]: `<dataset>_cosine` (matched vs unmatched cosine
densities per model), `<dataset>_group_cosine` (mean cosine between finding groups, one colour
range and colourbar for every matrix) and `<dataset>_pca` (2-D PCA with the gap arrow).
*/
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure;
use super::plots::{Area, Axes, PANEL_H, Point, Series, Style, keys, line_panel, padded, panels};
use super::theme::{self, Frame, Key, Mark, font};
use crate::eval::summary::EvalSummary;

pub(super) fn cosine_figure(s: &EvalSummary) -> Result<Option<String>, String> {
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

#[expect(
    clippy::too_many_lines,
    reason = "the figure's layout arithmetic and its drawing loop share a dozen local sizes; the cells and the colourbar are functions"
)]
pub(super) fn group_figure(s: &EvalSummary) -> Result<Option<String>, String> {
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
                draw_cells(root, mat, (left, top), cell, (lo, hi))?;
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
            let (y0, y1) = (by + CAPTION, by + rows * (CAPTION + side + GAP) - GAP);
            draw_colourbar(root, bar, (y0, y1), (lo, hi))?;
        }
        Ok(())
    })?;
    Ok(Some(svg))
}

/// One group-cosine matrix with its top-left corner at `(left, top)`, `cell` px per cell, coloured
/// on the shared range `(lo, hi)`; values are written in cells of at least 24 px.
fn draw_cells(
    root: &Area,
    mat: &[Vec<Option<f64>>],
    (left, top): (i32, i32),
    cell: f64,
    (lo, hi): (f64, f64),
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
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
    Ok(())
}

/// The colourbar of the shared range `(lo, hi)` in `bar` (the frame's right margin), from `y0` to
/// `y1`, with about eight ticks.
fn draw_colourbar(
    root: &Area,
    bar: &Area,
    (y0, y1): (i32, i32),
    (lo, hi): (f64, f64),
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<_>| e.to_string();
    let (rx, _) = bar.get_base_pixel();
    let (x0, x1) = (rx + 10, rx + 22);
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
    // About eight ticks: with five, a range like -0.36…0.81 got only 0 and 0.5.
    for t in theme::nice_ticks(lo, hi, 8) {
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
    Ok(())
}

pub(super) fn pca_figure(s: &EvalSummary) -> Result<Option<String>, String> {
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
            .caption(model, font(theme::LABEL_PT))
            .margin(theme::MARGIN)
            .x_label_area_size(theme::X_LABEL_AREA)
            .y_label_area_size(theme::Y_LABEL_AREA)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(|e| e.to_string())?;
        let mut m = chart.configure_mesh();
        theme::mesh(&mut m);
        // The variance shares on the axes: in the caption they made neighbouring captions touch.
        let pc1 = format!("PC1 ({:.0}% of variance)", p.explained[0] * 100.0);
        let pc2 = format!("PC2 ({:.0}%)", p.explained[1] * 100.0);
        m.x_desc(pc1)
            .y_desc(pc2)
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
