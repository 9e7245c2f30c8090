/*!
The saliency figure (`--plots DIR`, when the saliency step ran): `<dataset>_saliency.svg` and `.png`
(hand-written SVG in the sizes and model colours of [`super::theme`]).

Top: a grid with one row per example item (a few per finding, [`crate::run::saliency`]) and the
columns image / expert heatmap / each model's saliency map, all on the first model's input grid
(after resize and centre crop), each map min–max scaled and drawn in a black–red–yellow–white
ramp over the grey image at half opacity; the row label names the image, the finding and each
model's NSS and CC on that item. The maps are embedded as PNG data URIs (one `<image>` per cell).

Bottom: the distribution of each agreement score over the items every model scored (one column of
dots per model, jittered deterministically, with the mean as a bar).
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

/// The SVG text of the figure for one dataset's saliency outcome.
pub fn svg(dataset: &str, out: &SaliencyOutcome) -> Result<String, String> {
    let cols = 2 + out.models.len();
    let width = LABEL_W + cols * (CELL + GAP) + GAP;
    let grid_h = 40 + out.examples.len() * (CELL + GAP);
    let height = grid_h + 40 + DIST_H + 40;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="{}" font-size="{:.1}"><rect width="100%" height="100%" fill="white"/>"#,
        theme::FAMILY,
        theme::px(theme::TICK_PT)
    );
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="16" font-size="{:.1}">{}: saliency ({}) vs expert heatmap</text>"#,
        theme::px(theme::TITLE_PT),
        esc(dataset),
        esc(&out.setting)
    );
    let heads: Vec<String> = ["image".to_owned(), "expert heatmap".to_owned()]
        .into_iter()
        .chain(out.models.iter().map(|m| format!("{m} saliency")))
        .collect();
    for (c, h) in heads.iter().enumerate() {
        let x = LABEL_W + c * (CELL + GAP) + CELL / 2;
        let _ = writeln!(
            s,
            r#"<text x="{x}" y="34" text-anchor="middle">{}</text>"#,
            esc(h)
        );
    }
    for (r, ex) in out.examples.iter().enumerate() {
        example_row(&mut s, out, ex, 40 + r * (CELL + GAP))?;
    }
    distributions(&mut s, out, grid_h + 40, width);
    s.push_str("</svg>\n");
    Ok(s)
}

/// One example row at height `y`: the image, the expert heatmap and each model's map over it,
/// and the row label (image name, finding, each model's NSS and CC on the item).
fn example_row(
    s: &mut String,
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
        let x = LABEL_W + c * (CELL + GAP);
        let _ = writeln!(
            s,
            r#"<image x="{x}" y="{y}" width="{CELL}" height="{CELL}" href="{}"/>"#,
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
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="{}" font-weight="bold">{}</text>"#,
        y + 16,
        esc(&name)
    );
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="{}">{}</text>"#,
        y + 32,
        esc(&finding)
    );
    for (m, model) in out.models.iter().enumerate() {
        let a = out.scores[m][ex.item];
        let _ = writeln!(
            s,
            r#"<text x="{GAP}" y="{}" fill="{}">{}: NSS {} CC {}</text>"#,
            y + 52 + 16 * m,
            colour(m),
            esc(model),
            fmt(a.and_then(|a| a.nss)),
            fmt(a.and_then(|a| a.cc))
        );
    }
    Ok(())
}

/// The score distributions below the grid, from height `top`: one panel per agreement score.
fn distributions(s: &mut String, out: &SaliencyOutcome, top: usize, width: usize) {
    let _ = writeln!(
        s,
        r#"<text x="{GAP}" y="{}" font-size="{:.1}">score distributions over items (dots = items, bar = mean)</text>"#,
        top - 12,
        theme::px(theme::LABEL_PT)
    );
    let pw = (width - 2 * GAP) / Agreement::NAMES.len();
    for (k, name) in Agreement::NAMES.iter().enumerate() {
        distribution(s, out, k, name, (GAP + k * pw, top + 10, pw));
    }
}

/// Score `k` (`name`) in the panel at (x0, py0) of width `pw`: its frame, range and every model's
/// dots and mean.
fn distribution(
    s: &mut String,
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
    let ph = DIST_H - 30;
    let _ = writeln!(
        s,
        r##"<rect x="{}" y="{py0}" width="{}" height="{ph}" fill="none" stroke="#999"/><text x="{}" y="{}" text-anchor="middle">{}{}</text>"##,
        x0 + 40,
        pw - 50,
        x0 + 40 + (pw - 50) / 2,
        py0 + ph + 16,
        name,
        if name == "kl" {
            " (lower is better)"
        } else {
            ""
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
        x0 + 36,
        py0 + ph,
        x0 + 36,
        py0 + 10
    );
    let colw = (pw - 50) as f64 / nm.max(1) as f64;
    for (m, v) in vals.iter().enumerate() {
        let cx = (x0 + 40) as f64 + colw * (m as f64 + 0.5);
        let col = colour(m);
        for (i, &x) in v.iter().enumerate() {
            // Deterministic jitter in ±colw/4.
            let j = ((i * 7919) % 101) as f64 / 100.0 - 0.5;
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="1.8" fill="{col}" fill-opacity="0.45"/>"#,
                cx + j * colw * 0.5,
                yv(x)
            );
        }
        if !v.is_empty() {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let _ = writeln!(
                s,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="black" stroke-width="2"/><text x="{cx:.1}" y="{}" text-anchor="middle" fill="{col}">{}</text>"#,
                cx - colw * 0.3,
                cx + colw * 0.3,
                yv(mean),
                yv(mean),
                py0 + ph + 30,
                esc(&out.models[m])
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
