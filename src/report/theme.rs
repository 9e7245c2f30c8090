/*!
The one visual style of every figure (`plots`, `plots_calibration`, `plots_saliency`): sizes, fonts,
colours, the grid, tick labels, the shared legend strip and the figure frame.

Sizes are for a paper: figures are drawn in SVG pixels at [`PX_PER_INCH`], so a one-column figure
([`ONE_COLUMN`], 3.5 in) or a two-column figure ([`TWO_COLUMN`], 7 in) shown at that width has its
text at the point sizes below (7–9 pt, the usual minimum for journal figures). Colours: one per model
([`model_color`], Okabe–Ito, colour-blind safe), the same index in every figure; within a model's own
panel the two modalities / pair kinds use [`FIRST`] and [`SECOND`], which no model uses. Legends are
drawn in a strip above the panels ([`Frame`]), never over data.
*/
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// SVG pixels per inch: a figure's width in pixels / 100 is its width in inches at 100% size.
pub const PX_PER_INCH: f64 = 100.0;
/// One column of a two-column paper (3.5 in).
pub const ONE_COLUMN: u32 = 350;
/// Full page width of a two-column paper (7 in).
pub const TWO_COLUMN: u32 = 700;
/// PNG pixels per SVG pixel (200 dpi at the widths above).
pub const PNG_SCALE: f32 = 2.0;

/// Font family named in the SVG files; the PNG renderer maps it to the embedded DejaVu Sans.
pub const FAMILY: &str = "sans-serif";
/// Family name of the embedded font (`assets/fonts/`).
pub const EMBEDDED_FAMILY: &str = "DejaVu Sans";
/// The embedded font (a ≈30 KB subset of DejaVu Sans; licence in `assets/fonts/`).
pub const EMBEDDED_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Point sizes.
pub const TITLE_PT: f64 = 9.0;
pub const LABEL_PT: f64 = 8.0;
pub const TICK_PT: f64 = 7.0;

pub const INK: RGBColor = RGBColor(30, 30, 30);
pub const AXIS: RGBColor = RGBColor(110, 110, 110);
pub const GRID: RGBColor = RGBColor(232, 232, 232);
pub const MUTED: RGBColor = RGBColor(150, 150, 150);

/// Model colours (Okabe–Ito without its orange, which is [`SECOND`]).
const MODEL: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 94, 40),   // brown (Okabe–Ito's yellow is too light on white)
];
/// First category inside a model's panel (images, matched pairs).
pub const FIRST: RGBColor = RGBColor(60, 60, 60);
/// Second category inside a model's panel (reports, unmatched pairs).
pub const SECOND: RGBColor = RGBColor(230, 159, 0);

/// The colour of the model at index `i` of a summary's models (the same in every figure).
pub fn model_color(i: usize) -> RGBColor {
    MODEL[i % MODEL.len()]
}

/// `#rrggbb` of a colour, for hand-written SVG.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// SVG pixels of `pt` points.
pub fn px(pt: f64) -> f64 {
    pt * PX_PER_INCH / 72.0
}

/// A plotters text style of `pt` points (plotters' SVG backend writes `font-size = size / 1.24`).
pub fn font(pt: f64) -> TextStyle<'static> {
    (FAMILY, px(pt) * 1.24).into_font().color(&INK)
}

/// Average glyph width of DejaVu Sans in em (≈ 0.58), for estimating text widths.
pub const EM_WIDTH: f64 = 0.58;

/// Estimated width in SVG pixels of `text` at `pt` points.
pub fn text_width(text: &str, pt: f64) -> f64 {
    text.chars().count() as f64 * EM_WIDTH * px(pt)
}

/// A tick label with about three significant digits, no float noise and never "-0".
pub fn tick(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() < 1e-9 {
        return "0".into();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// Plotters wants a `&dyn Fn(&f64) -> String` for tick labels.
pub fn tick_ref(v: &f64) -> String {
    tick(*v)
}

/// A percentage tick (0.01 → "1%").
pub fn percent_ref(v: &f64) -> String {
    format!("{}%", tick(*v * 100.0))
}

/// The mesh of every chart: light grid on the labelled ticks only, grey axes, short tick marks,
/// themed fonts; the caller adds descriptions and formatters.
pub fn mesh<X: Ranged, Y: Ranged, DB: DrawingBackend>(
    m: &mut plotters::chart::MeshStyle<'_, '_, X, Y, DB>,
) {
    m.light_line_style(TRANSPARENT)
        .bold_line_style(GRID.stroke_width(1))
        .axis_style(AXIS.stroke_width(1))
        .label_style(font(TICK_PT))
        .axis_desc_style(font(LABEL_PT))
        .set_all_tick_mark_size(3)
        .x_labels(6)
        .y_labels(6);
}

/// Label area sizes (x below, y left) and the margin around a chart, in SVG pixels.
pub const X_LABEL_AREA: u32 = 30;
pub const Y_LABEL_AREA: u32 = 42;
pub const MARGIN: u32 = 6;

/// How a legend key is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mark {
    /// A line with a dot (a series).
    Line,
    /// A line without dots (a curve).
    Stroke,
    /// A dashed line (a reference such as the diagonal).
    Dashed,
    /// A filled dot (a scatter).
    Dot,
    /// A line on a translucent band (a series with its interval).
    Band,
    /// An arrow.
    Arrow,
}

/// One legend entry.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub color: RGBColor,
    pub mark: Mark,
}

impl Key {
    pub fn new(name: impl Into<String>, color: RGBColor, mark: Mark) -> Self {
        Self {
            name: name.into(),
            color,
            mark,
        }
    }
}

const KEY_SWATCH: f64 = 20.0;
const KEY_GAP: f64 = 14.0;
const LINE_H: f64 = 15.0;

fn key_width(k: &Key) -> f64 {
    KEY_SWATCH + 5.0 + text_width(&k.name, LABEL_PT) + KEY_GAP
}

/// Rows of keys that fit in `width`.
fn key_rows(keys: &[Key], width: f64) -> Vec<Vec<&Key>> {
    let mut rows: Vec<Vec<&Key>> = Vec::new();
    let mut used = f64::INFINITY;
    for k in keys {
        let w = key_width(k);
        if used + w > width {
            rows.push(Vec::new());
            used = 0.0;
        }
        used += w;
        if let Some(r) = rows.last_mut() {
            r.push(k);
        }
    }
    rows
}

/// A figure's outer parts: an optional title, the legend strip (above the panels), an optional
/// note under them, and a strip on the right (e.g. for a colourbar).
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub title: Option<String>,
    pub keys: Vec<Key>,
    pub note: Option<String>,
    pub right: u32,
}

/// The areas of a framed figure.
pub struct Areas<'a> {
    /// The panel area (under the legend, above the note, left of the right strip).
    pub body: DrawingArea<SVGBackend<'a>, Shift>,
    pub right: Option<DrawingArea<SVGBackend<'a>, Shift>>,
}

impl Frame {
    /// Height of the parts above the panels.
    pub fn top(&self, width: u32) -> u32 {
        let title = if self.title.is_some() { 20.0 } else { 4.0 };
        let rows = key_rows(&self.keys, f64::from(width) - 16.0).len() as f64;
        (title + rows * LINE_H + if rows > 0.0 { 4.0 } else { 0.0 }).ceil() as u32
    }

    /// Height of the note under the panels.
    pub fn bottom(&self) -> u32 {
        if self.note.is_some() { 16 } else { 0 }
    }

    /// Draw the title, legend and note on `root`; returns the body and right-strip areas.
    pub fn draw<'a>(&self, root: &DrawingArea<SVGBackend<'a>, Shift>) -> Result<Areas<'a>, String> {
        let (w, h) = root.dim_in_pixel();
        let top = self.top(w);
        let mut y = 4.0;
        if let Some(t) = &self.title {
            // A long title gets smaller rather than clipped.
            let mut pt = TITLE_PT;
            while pt > 6.0 && text_width(t, pt) > f64::from(w) - 8.0 {
                pt -= 0.5;
            }
            let style = font(pt).pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(t.clone(), ((w / 2) as i32, 4), style))
                .map_err(|e| e.to_string())?;
            y = 20.0;
        }
        for row in key_rows(&self.keys, f64::from(w) - 16.0) {
            let total: f64 = row.iter().map(|k| key_width(k)).sum::<f64>() - KEY_GAP;
            let mut x = (f64::from(w) - total) / 2.0;
            let cy = (y + LINE_H / 2.0) as i32;
            for k in row {
                draw_key(root, k, x as i32, cy)?;
                let style = font(LABEL_PT).pos(Pos::new(HPos::Left, VPos::Center));
                root.draw(&Text::new(
                    k.name.clone(),
                    ((x + KEY_SWATCH + 5.0) as i32, cy),
                    style,
                ))
                .map_err(|e| e.to_string())?;
                x += key_width(k);
            }
            y += LINE_H;
        }
        if let Some(n) = &self.note {
            let style = font(TICK_PT)
                .color(&RGBColor(80, 80, 80))
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(
                n.clone(),
                ((w / 2) as i32, h as i32 - (self.bottom() / 2) as i32),
                style,
            ))
            .map_err(|e| e.to_string())?;
        }
        let body = root.margin(top, self.bottom(), 0, 0);
        if self.right > 0 {
            let (bw, _) = body.dim_in_pixel();
            let (left, right) = body.split_horizontally(bw.saturating_sub(self.right));
            Ok(Areas {
                body: left,
                right: Some(right),
            })
        } else {
            Ok(Areas { body, right: None })
        }
    }
}

/// The swatch of a key, `KEY_SWATCH` wide from `x`, centred on `y`.
fn draw_key(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    k: &Key,
    x: i32,
    y: i32,
) -> Result<(), String> {
    let c = k.color;
    let w = KEY_SWATCH as i32;
    let r = |e: DrawingAreaErrorKind<_>| e.to_string();
    match k.mark {
        Mark::Line => {
            root.draw(&PathElement::new(
                vec![(x, y), (x + w, y)],
                c.stroke_width(2),
            ))
            .map_err(r)?;
            root.draw(&Circle::new((x + w / 2, y), 3, c.filled()))
                .map_err(r)?;
        }
        Mark::Stroke => {
            root.draw(&PathElement::new(
                vec![(x, y), (x + w, y)],
                c.stroke_width(2),
            ))
            .map_err(r)?;
        }
        Mark::Dashed => {
            for s in (0..w).step_by(6) {
                root.draw(&PathElement::new(
                    vec![(x + s, y), (x + (s + 3).min(w), y)],
                    c.stroke_width(1),
                ))
                .map_err(r)?;
            }
        }
        Mark::Dot => {
            root.draw(&Circle::new((x + w / 2, y), 3, c.filled()))
                .map_err(r)?;
        }
        Mark::Band => {
            root.draw(&Rectangle::new(
                [(x, y - 5), (x + w, y + 5)],
                c.mix(0.2).filled(),
            ))
            .map_err(r)?;
            root.draw(&PathElement::new(
                vec![(x, y), (x + w, y)],
                c.stroke_width(2),
            ))
            .map_err(r)?;
        }
        Mark::Arrow => {
            root.draw(&PathElement::new(
                vec![(x, y), (x + w - 6, y)],
                c.stroke_width(2),
            ))
            .map_err(r)?;
            root.draw(&Polygon::new(
                vec![(x + w, y), (x + w - 7, y - 4), (x + w - 7, y + 4)],
                c.filled(),
            ))
            .map_err(r)?;
        }
    }
    Ok(())
}

/// A filled arrowhead of `len` pixels at `tip`, pointing away from `from` (backend pixels).
pub fn arrowhead(from: (i32, i32), tip: (i32, i32), len: f64) -> Vec<(i32, i32)> {
    let (dx, dy) = (f64::from(tip.0 - from.0), f64::from(tip.1 - from.1));
    let d = dx.hypot(dy);
    if d < 1e-9 {
        return Vec::new();
    }
    let (ux, uy) = (dx / d, dy / d);
    let (bx, by) = (f64::from(tip.0) - ux * len, f64::from(tip.1) - uy * len);
    let half = len * 0.45;
    vec![
        tip,
        (
            (bx - uy * half).round() as i32,
            (by + ux * half).round() as i32,
        ),
        (
            (bx + uy * half).round() as i32,
            (by - ux * half).round() as i32,
        ),
    ]
}

/// Sequential colour map (viridis, 9 stops) for `t` in [0, 1].
pub fn sequential(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Text colour readable on `bg` (white on dark, ink on light).
pub fn ink_on(bg: RGBColor) -> RGBColor {
    let l = 0.299 * f64::from(bg.0) + 0.587 * f64::from(bg.1) + 0.114 * f64::from(bg.2);
    if l < 140.0 { WHITE } else { INK }
}

/// "Nice" tick values covering [lo, hi] (about `n` of them; steps of 1, 2 or 5 × 10^k).
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let exp = raw.log10().floor() as i32;
    let mult = [1i64, 2, 5, 10]
        .into_iter()
        .find(|m| *m as f64 * 10f64.powi(exp) >= raw)
        .unwrap_or(10);
    // k · mult · 10^exp, divided rather than multiplied for exp < 0 so 0.6 is 6 / 10, not 3 × 0.2.
    let value = |k: i64| {
        if exp < 0 {
            (k * mult) as f64 / 10f64.powi(-exp)
        } else {
            (k * mult) as f64 * 10f64.powi(exp)
        }
    };
    let step = value(1);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(value).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_have_no_float_noise_and_no_negative_zero() {
        assert_eq!(tick(0.01), "0.01");
        assert_eq!(tick(0.1), "0.1");
        assert_eq!(tick(1.0), "1");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(-0.8), "-0.8");
        assert_eq!(tick(120.0), "120");
        assert_eq!(tick(0.000_9), "0.0009");
        assert_eq!(tick(0.069_999_999_999_999_99), "0.07");
        assert_eq!(tick(-2.7e-17), "0");
        assert_eq!(tick(-0.0), "0");
        assert_eq!(tick(-0.000_000_001_5), "0");
        assert_eq!(percent_ref(&0.01), "1%");
    }

    #[test]
    fn nice_ticks_cover_the_range_in_round_steps() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let t = nice_ticks(0.13, 0.71, 4);
        assert_eq!(t.len(), 3);
        assert!((t[0] - 0.2).abs() < 1e-12 && (t[2] - 0.6).abs() < 1e-12);
    }

    #[test]
    fn arrowhead_points_along_the_vector() {
        let h = arrowhead((0, 0), (100, 0), 10.0);
        assert_eq!(h, vec![(100, 0), (90, 5), (90, -5)]);
        assert!(arrowhead((3, 3), (3, 3), 10.0).is_empty());
    }

    #[test]
    fn keys_wrap_to_the_width() {
        let keys: Vec<Key> = (0..6)
            .map(|i| Key::new(format!("model number {i}"), model_color(i), Mark::Line))
            .collect();
        assert_eq!(key_rows(&keys, 2000.0).len(), 1);
        assert!(key_rows(&keys, 300.0).len() >= 3);
        assert!(key_rows(&[], 300.0).is_empty());
    }

    #[test]
    fn colour_map_ends_and_ink() {
        assert_eq!(sequential(0.0), RGBColor(68, 1, 84));
        assert_eq!(sequential(1.0), RGBColor(253, 231, 37));
        assert_eq!(ink_on(sequential(0.0)), WHITE);
        assert_eq!(ink_on(sequential(1.0)), INK);
    }
}
