/*!
Figure files: every figure is drawn once as SVG text and written as `<name>.svg` and `<name>.png`,
the PNG rendered from that same SVG by resvg (pure Rust) at [`theme::PNG_SCALE`] with the embedded
DejaVu Sans as its only font, so the PNGs are the same on every machine, offline, with or without
system fonts (`assets/fonts/README.md`).
*/
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ReportError, theme};

/// Draw a figure of `size` SVG pixels on a white background; returns the SVG text.
pub(super) fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

fn fonts() -> Arc<resvg::usvg::fontdb::Database> {
    static DB: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(theme::EMBEDDED_FONT.to_vec());
        db.set_sans_serif_family(theme::EMBEDDED_FAMILY);
        db.set_serif_family(theme::EMBEDDED_FAMILY);
        db.set_monospace_family(theme::EMBEDDED_FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// PNG bytes of an SVG document, `scale` PNG pixels per SVG pixel.
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    let opt = resvg::usvg::Options {
        font_family: theme::EMBEDDED_FAMILY.into(),
        fontdb: fonts(),
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &opt).map_err(|e| format!("SVG: {e}"))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or("empty figure")?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or("figure too large to render")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    // Opaque RGB through the `image` crate's best compression (smaller than the RGBA default).
    let rgb = image::RgbImage::from_fn(size.width(), size.height(), |x, y| {
        let p = pixmap.pixel(x, y).map_or([255; 4], |p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        });
        image::Rgb([p[0], p[1], p[2]])
    });
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    );
    rgb.write_with_encoder(enc).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Write `<dir>/<name>.svg` and `<dir>/<name>.png` (at [`theme::PNG_SCALE`]); returns both paths
/// (SVG first).
pub(super) fn write(dir: &Path, name: &str, svg: &str) -> Result<[PathBuf; 2], ReportError> {
    write_scaled(dir, name, svg, theme::PNG_SCALE)
}

/// [`write`] with the PNG at `scale` PNG pixels per SVG pixel. Both files are written to a temp
/// file and renamed ([`crate::output::write_bytes`]).
pub(super) fn write_scaled(
    dir: &Path,
    name: &str,
    svg: &str,
    scale: f32,
) -> Result<[PathBuf; 2], ReportError> {
    let svg_path = dir.join(format!("{name}.svg"));
    let png_path = dir.join(format!("{name}.png"));
    crate::output::write_bytes(&svg_path, svg.as_bytes())
        .map_err(|e| ReportError::io(&svg_path, e))?;
    let bytes = png(svg, scale).map_err(|message| ReportError::Plot {
        path: png_path.clone(),
        message,
    })?;
    crate::output::write_bytes(&png_path, &bytes).map_err(|e| ReportError::io(&png_path, e))?;
    Ok([svg_path, png_path])
}

/// `path` relative to the folder `dir` (`..` where needed), both taken absolute and lexically
/// normalised first; `path` unchanged when there is no common root (another drive).
pub fn relative_to(dir: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    fn norm(p: &Path) -> Vec<Component<'_>> {
        let mut out: Vec<Component> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out
    }
    let (Ok(d), Ok(p)) = (std::path::absolute(dir), std::path::absolute(path)) else {
        return path.to_path_buf();
    };
    let (d, p) = (norm(&d), norm(&p));
    let common = d.iter().zip(&p).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return path.to_path_buf();
    }
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &p[common..] {
        rel.push(c.as_os_str());
    }
    rel
}

/// A path as a Markdown link target: `/` separators, spaces and brackets percent-encoded.
pub fn markdown_path(p: &Path) -> String {
    let parts: Vec<String> = p
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts
        .join("/")
        .replace('%', "%25")
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('<', "%3C")
        .replace('>', "%3E")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_text_with_the_embedded_font() {
        let blank = r#"<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20"><rect width="60" height="20" fill="white"/></svg>"#;
        let text = r#"<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20"><rect width="60" height="20" fill="white"/><text x="2" y="15" font-family="sans-serif" font-size="14">λ −0.5</text></svg>"#;
        let decode = |b: Vec<u8>| image::load_from_memory(&b).unwrap().to_rgb8();
        let a = decode(png(blank, 2.0).unwrap());
        let b = decode(png(text, 2.0).unwrap());
        assert_eq!(a.dimensions(), (120, 40));
        assert!(a.pixels().all(|p| p.0 == [255, 255, 255]));
        let dark = b.pixels().filter(|p| p.0[0] < 128).count();
        assert!(dark > 100, "text drawn: {dark} dark pixels");
    }

    #[test]
    fn figure_paths_relative_to_the_review() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(relative_to(&p("/r"), &p("/r/figs/a.png")), p("figs/a.png"));
        assert_eq!(
            relative_to(&p("/r/x"), &p("/r/figs/a.png")),
            p("../figs/a.png")
        );
        assert_eq!(
            relative_to(&p("/r/./x/.."), &p("/r/figs/a.png")),
            p("figs/a.png")
        );
        assert_eq!(relative_to(&p("/a/b"), &p("/c/d.png")), p("../../c/d.png"));
        // Relative inputs are taken from the current folder.
        assert_eq!(
            relative_to(&p("out"), &p("out/plots/a.png")),
            p("plots/a.png")
        );
        assert_eq!(
            relative_to(&p("out"), &p("plots/a.png")),
            p("../plots/a.png")
        );
        assert_eq!(
            markdown_path(&p("../my figs/a (1).png")),
            "../my%20figs/a%20%281%29.png"
        );
    }
}
