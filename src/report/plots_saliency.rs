/*!
The saliency figure (`--plots DIR`, when the saliency step ran): `<dataset>_saliency.svg` and `.png`
(hand-written SVG in the sizes and model colours of [`super::theme`]).

Top: a grid with one row per example item (a few per finding, [`crate::run::saliency`]) and the
columns image / expert heatmap / each model's saliency map (headed by the model's name in its
colour), all on the first model's input grid (after resize and centre crop), each map min–max
scaled and drawn in a black–red–yellow–white ramp over the grey image at half opacity (the
colourbar beside the title); the row label names the image and the finding, and each model's NSS
and CC on that item stand under its map (in ink; the column head carries the model's colour). The maps are embedded as PNG data URIs (one `<image>` per
cell). Text scales with the figure's width so it reads at [`theme::LABEL_PT`] on a two-column page
with any number of models.

Bottom: the distribution of each agreement score over the items every model scored (one column of
dots per model in legend order (opaque, white-edged: exact model colours), jittered deterministically, with the mean as a bar); the model
legend sits above the panels, outside the data.
*/
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::{ReportError, figure, safe_name, theme};
use crate::eval::saliency::Agreement;
use crate::run::saliency::{SaliencyExample, SaliencyOutcome};
use crate::saliency::grid::heatmap_on_grid;

// Sized for a two-column page with two models (≈ 7 in at theme::PX_PER_INCH).
const CELL: usize = 118;
const GAP: usize = 8;
const LABEL_W: usize = 190;
const DIST_H: usize = 220;

/// The model's colour (the same as in every other figure).
fn colour(m: usize) -> String {
    theme::hex(theme::model_color(m))
}

/// "Hot" ramp: black → red → yellow → white for `v` in [0, 1].
pub fn hot(v: f64) -> [u8; 3] {
    let v = v.clamp(0.0, 1.0) * 3.0;
    let c = |x: f64| (x.clamp(0.0, 1.0) * 255.0).round() as u8;
    [c(v), c(v - 1.0), c(v - 2.0)]
}

/// `map` scaled to [0, 1] by its minimum and maximum (a flat map is all 0).
pub fn min_max(map: &Array2<f64>) -> Array2<f64> {
    let (lo, hi) = map
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = hi - lo;
    map.mapv(|v| {
        if span > 0.0 && v.is_finite() {
            (v - lo) / span
        } else {
            0.0
        }
    })
}

/// RGB pixels of the grey image `grey` with `overlay` (already in [0, 1]) blended at half opacity.
fn blend(grey: &Array2<f64>, overlay: Option<&Array2<f64>>) -> image::RgbImage {
    let (h, w) = grey.dim();
    image::RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let g = grey[[y as usize, x as usize]].clamp(0.0, 1.0) * 255.0;
        match overlay {
            None => image::Rgb([g as u8; 3]),
            Some(o) => {
                let c = hot(o[[y as usize, x as usize]]);
                image::Rgb(c.map(|c| (0.5 * g + 0.5 * f64::from(c)).round() as u8))
            }
        }
    })
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn png_uri(img: &image::RgbImage) -> Result<String, String> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(format!("data:image/png;base64,{}", base64(buf.get_ref())))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

/// Sizes of one figure: text is scaled with the figure's width so that it reads at the size of
/// [`theme::LABEL_PT`] once the figure is fitted to a two-column page ([`theme::TWO_COLUMN`]),
/// whatever the number of models.
struct Layout {
    /// Font size and line height in px.
    font: f64,
    line: usize,
    label_w: usize,
    /// One example row: the cells, two lines of scores under each map, a gap.
    row_h: usize,
    width: usize,
    /// Top of the first example row (below the title, colourbar and column heads).
    grid_top: usize,
    dist_h: usize,
}

impl Layout {
    fn new(models: usize) -> Layout {
        let cols = 2 + models;
        let rest = cols * (CELL + GAP) + GAP;
        // The label column widens with the text (up to 1.4×), then the text follows the width.
        let first = ((LABEL_W + rest) as f64 / f64::from(theme::TWO_COLUMN)).max(1.0);
        let label_w = (LABEL_W as f64 * first.min(1.4)).round() as usize;
        let width = label_w + rest;
        let scale = (width as f64 / f64::from(theme::TWO_COLUMN)).max(1.0);
        let font = theme::px(theme::LABEL_PT) * scale;
        let line = (font * 1.3).ceil() as usize;
        Layout {
            font,
            line,
            label_w,
            row_h: CELL + 2 * line + GAP,
            width,
            grid_top: 5 * line,
            dist_h: (DIST_H as f64 * scale).round() as usize,
        }
    }

    fn cell_x(&self, c: usize) -> usize {
        self.label_w + c * (CELL + GAP)
    }

    /// At most this many characters fit in `px` at the figure's font (average glyph width).
    fn chars(&self, px: usize) -> usize {
        ((px as f64) / (theme::EM_WIDTH * self.font))
            .floor()
            .max(4.0) as usize
    }

    /// Estimated width in px of `text` at the figure's font ([`theme::EM_WIDTH`]).
    fn text_px(&self, text: &str) -> usize {
        (text.chars().count() as f64 * theme::EM_WIDTH * self.font).ceil() as usize
    }
}

/// `text` shortened to `n` characters with an ellipsis in the middle (file names keep their
/// beginning and extension).
fn fit(text: &str, n: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= n {
        return text.to_string();
    }
    let tail = (n - 1) / 2;
    let head = n - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The SVG text of the figure for one dataset's saliency outcome.
pub fn svg(dataset: &str, out: &SaliencyOutcome) -> Result<String, String> {
    let l = Layout::new(out.models.len());
    let grid_h = l.grid_top + out.examples.len() * l.row_h;
    let legend_top = grid_h + l.line;
    let height = legend_top + 2 * l.line + l.dist_h + 3 * l.line;
    let width = l.width;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="{}" font-size="{:.1}"><rect width="100%" height="100%" fill="white"/>"#,
        theme::FAMILY,
        l.font
    );
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="{}" font-size="{:.1}" font-weight="bold">{}: saliency ({}) vs expert heatmap</text>"#,
        l.line,
        l.font * theme::TITLE_PT / theme::LABEL_PT,
        esc(dataset),
        esc(&out.setting)
    );
    colourbar(&mut s, &l, 2 * l.line);
    let heads: Vec<(String, String)> = [
        ("image".to_owned(), theme::hex(theme::INK)),
        ("expert map".to_owned(), theme::hex(theme::INK)),
    ]
    .into_iter()
    .chain(
        out.models
            .iter()
            .enumerate()
            .map(|(m, name)| (name.clone(), colour(m))),
    )
    .collect();
    for (c, (h, fill)) in heads.iter().enumerate() {
        let x = l.cell_x(c) + CELL / 2;
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle" fill="{fill}" font-weight="bold">{}</text>"#,
            l.grid_top - l.line / 2,
            esc(&fit(h, l.chars(CELL + GAP)))
        );
    }
    for (r, ex) in out.examples.iter().enumerate() {
        example_row(&mut s, &l, out, ex, l.grid_top + r * l.row_h)?;
    }
    distributions(&mut s, &l, out, legend_top);
    s.push_str("</svg>\n");
    Ok(s)
}

/// The heat ramp of every map cell, with what its ends mean: each map is min–max scaled on its
/// own and drawn at half opacity over the image.
fn colourbar(s: &mut String, l: &Layout, y: usize) {
    let w = 3 * CELL;
    // "map value:  min [ramp] max" on one line, the caption under it, all right-aligned.
    let x = l.width - 2 * GAP - l.text_px("max") - 6 - w;
    let h = (l.line * 2 / 3).max(6);
    let stops: String = (0..=8)
        .map(|i| {
            let v = f64::from(i) / 8.0;
            let [r, g, b] = hot(v);
            format!(r#"<stop offset="{v:.3}" stop-color="rgb({r},{g},{b})"/>"#)
        })
        .collect();
    let _ = writeln!(
        s,
        r##"<defs><linearGradient id="hot">{stops}</linearGradient></defs><rect x="{x}" y="{}" width="{w}" height="{h}" fill="url(#hot)" stroke="#999"/><text x="{}" y="{y}" text-anchor="end">map value:  min</text><text x="{}" y="{y}">max</text><text x="{}" y="{}" text-anchor="end" fill="#555555">each map min–max scaled, 50% over the image</text>"##,
        y - h,
        x - 6,
        x + w + 6,
        l.width - 2 * GAP,
        y + l.line
    );
}

/// One example row at height `y`: the image, the expert heatmap and each model's map over it
/// with the model's NSS and CC on the item below the map, and the row label (image name, finding).
fn example_row(
    s: &mut String,
    l: &Layout,
    out: &SaliencyOutcome,
    ex: &SaliencyExample,
    y: usize,
) -> Result<(), String> {
    let size = ex.heatmap.nrows() as u32;
    let decoded =
        crate::model::preprocess::decode_image(&ex.image, 1).map_err(|e| e.to_string())?;
    let plane = decoded.planes.first().ok_or("no image plane")?;
    let raw = Array2::from_shape_fn((decoded.height, decoded.width), |(yy, xx)| {
        f64::from(plane[yy * decoded.width + xx])
    });
    let grey = heatmap_on_grid(&raw, size);
    let mut cells = vec![
        blend(&grey, None),
        blend(&grey, Some(&min_max(&ex.heatmap))),
    ];
    for m in &ex.maps {
        cells.push(match m {
            Some(m) => blend(&grey, Some(&min_max(m))),
            None => blend(&grey, None),
        });
    }
    for (c, img) in cells.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<image x="{}" y="{y}" width="{CELL}" height="{CELL}" href="{}"/>"#,
            l.cell_x(c),
            png_uri(img)?
        );
    }
    let item = &out.items[ex.item];
    let name = ex
        .image
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let finding = item
        .finding
        .clone()
        .unwrap_or_else(|| item.findings.join(", "));
    let fits = l.chars(l.label_w - 2 * GAP);
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="{}" font-weight="bold">{}</text><text x="{GAP}" y="{}">{}</text>"#,
        y + l.line,
        esc(&fit(&name, fits)),
        y + 2 * l.line,
        esc(&fit(&finding, fits))
    );
    for m in 0..out.models.len() {
        let a = out.scores[m][ex.item];
        let x = l.cell_x(2 + m) + CELL / 2;
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="{}" text-anchor="middle">NSS {}</text><text x="{x}" y="{}" text-anchor="middle">CC {}</text>"#,
            y + CELL + l.line,
            fmt(a.and_then(|a| a.nss)),
            y + CELL + 2 * l.line,
            fmt(a.and_then(|a| a.cc))
        );
    }
    Ok(())
}

/// The score distributions below the grid, from height `top`: a caption with the model legend
/// (outside the panels), then one panel per agreement score.
fn distributions(s: &mut String, l: &Layout, out: &SaliencyOutcome, top: usize) {
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="{}" font-weight="bold">score distributions over items (dots = items, bar = mean)</text>"#,
        top + l.line / 2
    );
    // Legend: one swatch and name per model, left to right (the column order in every panel).
    let mut x = GAP;
    let y = top + l.line + l.line / 2;
    for (m, name) in out.models.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{}" width="{}" height="{}" fill="{}"/><text x="{}" y="{y}">{}</text>"#,
            y - l.line * 2 / 3,
            l.line * 2 / 3,
            l.line * 2 / 3,
            colour(m),
            x + l.line,
            esc(name)
        );
        x += l.line + l.text_px(name) + 2 * l.line;
    }
    let pw = (l.width - 2 * GAP) / Agreement::NAMES.len();
    for (k, name) in Agreement::NAMES.iter().enumerate() {
        distribution(s, l, out, k, name, (GAP + k * pw, top + 2 * l.line + 4, pw));
    }
}

/// Score `k` (`name`) in the panel at (x0, py0) of width `pw`: its frame, range and every model's
/// dots and mean.
fn distribution(
    s: &mut String,
    l: &Layout,
    out: &SaliencyOutcome,
    k: usize,
    name: &str,
    (x0, py0, pw): (usize, usize, usize),
) {
    let nm = out.models.len();
    let vals: Vec<Vec<f64>> = (0..nm)
        .map(|m| {
            out.scores[m]
                .iter()
                .filter_map(|a| a.and_then(|a| a.values()[k]))
                .collect()
        })
        .collect();
    let all = vals.iter().flatten().copied();
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let ph = l.dist_h;
    let axis_w = l.text_px("-0.00") + 6; // the widest range label
    let (fx, fw) = (x0 + axis_w, pw.saturating_sub(axis_w + GAP));
    let _ = writeln!(
        s,
        r##"<rect x="{fx}" y="{py0}" width="{fw}" height="{ph}" fill="none" stroke="#999"/><text x="{}" y="{}" text-anchor="middle">{}{}</text>"##,
        fx + fw / 2,
        py0 + ph + l.line,
        name,
        if name == "kl" {
            " (lower is better)"
        } else {
            " (higher is better)"
        }
    );
    if !(lo.is_finite() && hi.is_finite()) {
        return;
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let yv = |v: f64| py0 as f64 + ph as f64 * (1.0 - (v - lo) / span);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="end">{lo:.2}</text><text x="{}" y="{}" text-anchor="end">{hi:.2}</text>"#,
        fx - 4,
        py0 + ph,
        fx - 4,
        py0 + l.line * 3 / 4
    );
    let colw = fw as f64 / nm.max(1) as f64;
    let r = (l.font / 5.0).max(1.8);
    for (m, v) in vals.iter().enumerate() {
        let cx = fx as f64 + colw * (m as f64 + 0.5);
        let col = colour(m);
        for (i, &x) in v.iter().enumerate() {
            // Deterministic jitter in ±colw/4.
            let j = ((i * 7919) % 101) as f64 / 100.0 - 0.5;
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="{r:.1}" fill="{col}" stroke="white" stroke-width="0.8"/>"#,
                cx + j * colw * 0.5,
                yv(x)
            );
        }
        if !v.is_empty() {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let _ = writeln!(
                s,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="black" stroke-width="2"/>"#,
                cx - colw * 0.3,
                cx + colw * 0.3,
                yv(mean),
                yv(mean),
            );
        }
    }
}

/// Write `<dataset>_saliency.svg` and `.png` for every dataset with a saliency outcome into `dir`.
pub fn write(dir: &Path, runs: &[(String, SaliencyOutcome)]) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for (dataset, out) in runs {
        if out.models.is_empty() {
            continue;
        }
        std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
        let name = format!("{}_saliency", safe_name(dataset));
        let text = svg(dataset, out).map_err(|message| ReportError::Plot {
            path: dir.join(format!("{name}.svg")),
            message,
        })?;
        // At 1×: the cells are raster images at about their own resolution, and the PNG of a
        // photographic grid stays a few hundred KB instead of over a megabyte.
        written.extend(figure::write_scaled(dir, &name, &text, 1.0)?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        // RFC 4648 §10 test vectors.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn long_names_are_fitted_with_a_middle_ellipsis() {
        assert_eq!(fit("short.png", 12), "short.png");
        let f = fit("p10_p10000032_s50414267_02aa.jpg", 12);
        assert_eq!(f.chars().count(), 12);
        assert!(
            f.starts_with("p10_p1") && f.ends_with("a.jpg") && f.contains('…'),
            "{f}"
        );
    }

    #[test]
    fn text_grows_with_the_figure_and_rows_hold_their_scores() {
        let (two, six) = (Layout::new(2), Layout::new(6));
        assert!(six.font > two.font, "six models: wider figure, larger text");
        for l in [&two, &six] {
            // The cells and the two score lines under each map fit in one row.
            assert!(l.row_h >= CELL + 2 * l.line + GAP);
            // Fitted to a two-column page the text is at least the label size.
            let on_page = l.font * f64::from(theme::TWO_COLUMN) / l.width as f64;
            assert!(on_page >= theme::px(theme::LABEL_PT) * 0.95, "{on_page}");
        }
    }

    #[test]
    fn ramp_and_scaling() {
        assert_eq!(hot(0.0), [0, 0, 0]);
        assert_eq!(hot(1.0), [255, 255, 255]);
        assert_eq!(hot(1.0 / 3.0), [255, 0, 0]);
        let m = min_max(&ndarray::array![[1.0, 3.0], [2.0, 3.0]]);
        assert_eq!(m, ndarray::array![[0.0, 1.0], [0.5, 1.0]]);
        assert_eq!(
            min_max(&ndarray::array![[2.0, 2.0]]),
            ndarray::array![[0.0, 0.0]]
        );
    }
}
