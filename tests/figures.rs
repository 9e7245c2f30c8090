//! Every figure rendered to PNG and checked (issue 18): decoded with the `image` crate, its size is
//! a paper width at the PNG scale, it has drawn content (non-white share, distinct colours, text in
//! the title strip) and, where models are the series, every model's colour. Run on a synthetic
//! three-model evaluation (every figure of `write_plots`, the provenance one included) and through
//! `eclip --report --plots` on the fixture models over a small subset of `fixtures/data` (the
//! saliency figure too).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use eclip_workbench::eval::config::EvalConfig;
use eclip_workbench::eval::synthetic::{SyntheticModel, SyntheticSpec, synthetic};
use eclip_workbench::report::plots::{ModelProvenance, write_plots};
use eclip_workbench::report::theme::{ONE_COLUMN, PNG_SCALE, TWO_COLUMN, model_color};
use eclip_workbench::run::evaluate;

/// What a PNG figure shows, measured.
struct Png {
    width: u32,
    height: u32,
    ink_share: f64,
    colours: usize,
    title_ink: usize,
    img: image::RgbImage,
}

fn measure(path: &Path) -> Png {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    let (width, height) = img.dimensions();
    let ink = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 235))
        .count();
    let colours: HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    // Dark pixels in the top strip (the title's glyphs: the embedded font was used).
    let title_ink = (0..width)
        .flat_map(|x| (0..(24.0 * PNG_SCALE) as u32).map(move |y| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    Png {
        width,
        height,
        ink_share: ink as f64 / f64::from(width * height),
        colours: colours.len(),
        title_ink,
        img,
    }
}

/// Pixels within a small distance of `c` (lines are 2 px wide, so their cores keep the colour).
fn pixels_of(img: &image::RgbImage, c: [u8; 3]) -> usize {
    img.pixels()
        .filter(|p| {
            p.0.iter()
                .zip(c)
                .all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() <= 12)
        })
        .count()
}

/// The checks every figure must pass.
fn check(path: &Path) -> Png {
    let png = measure(path);
    let name = path.display();
    let (one, two) = (
        (f64::from(ONE_COLUMN) * f64::from(PNG_SCALE)) as u32,
        (f64::from(TWO_COLUMN) * f64::from(PNG_SCALE)) as u32,
    );
    assert!(
        (one..=two + 40).contains(&png.width),
        "{name}: width {} is not a paper width at the PNG scale ({one}..{two})",
        png.width
    );
    assert!(
        (300..=6000).contains(&png.height),
        "{name}: height {}",
        png.height
    );
    assert!(
        png.ink_share > 0.03 && png.ink_share < 0.9,
        "{name}: {:.3} of the pixels drawn",
        png.ink_share
    );
    assert!(png.colours > 40, "{name}: {} distinct colours", png.colours);
    assert!(
        png.title_ink > 200,
        "{name}: no title text ({})",
        png.title_ink
    );
    assert!(
        path.with_extension("svg").is_file(),
        "{name}: no SVG beside it"
    );
    let bytes = std::fs::metadata(path).unwrap().len();
    assert!(bytes < 1_500_000, "{name}: {bytes} bytes");
    png
}

fn pngs(files: &[PathBuf]) -> Vec<&PathBuf> {
    files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .collect()
}

#[test]
fn every_figure_renders_to_a_checked_png() {
    let names = ["CLIP", "eCLIP", "eCLIP-random"];
    let spec = SyntheticSpec {
        models: names
            .iter()
            .zip([(0.35, 0.8), (0.25, 0.4), (0.3, 0.6)])
            .map(|(n, (noise, gap))| SyntheticModel {
                name: (*n).into(),
                noise,
                gap,
            })
            .collect(),
        ..SyntheticSpec::default()
    };
    let (ds, embeds) = synthetic(&spec);
    let cfg = EvalConfig {
        bootstrap: 50,
        probe_fractions: vec![0.1, 1.0],
        probe_seeds: vec![0, 1, 2],
        gap_shift: vec![-0.5, 0.0, 0.5],
        ..EvalConfig::default()
    };
    let s = evaluate(&ds, &embeds, &cfg, &mut |_| {});
    let prov: Vec<ModelProvenance> = names
        .iter()
        .zip([1.0, 1.0, 0.5])
        .map(|(n, f)| ModelProvenance {
            model: (*n).into(),
            family: if n.starts_with("eCLIP") {
                "eclip"
            } else {
                "clip"
            }
            .into(),
            values: BTreeMap::from([("train_fraction".to_string(), f)]),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let files = write_plots(dir.path(), std::slice::from_ref(&s), &prov).unwrap();
    let got: Vec<String> = pngs(&files)
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "cosine",
        "group_cosine",
        "pca",
        "probe",
        "gap_shift",
        "reliability",
        "roc",
        "provenance_train_fraction",
    ] {
        assert!(
            got.contains(&format!("synthetic_{want}")),
            "{want} in {got:?}"
        );
    }
    for f in pngs(&files) {
        let png = check(f);
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        // Figures whose series are the models show every model's colour.
        if ["probe", "gap_shift", "reliability", "roc"]
            .iter()
            .any(|k| stem.ends_with(k))
        {
            for m in 0..names.len() {
                let c = model_color(m);
                let n = pixels_of(&png.img, [c.0, c.1, c.2]);
                assert!(n > 40, "{stem}: model {m}'s colour on {n} pixels");
            }
        }
    }
    // The group-cosine data carries the image–text matrix the figure draws.
    let g = s.plots[0].group_cosine.as_ref().unwrap();
    assert_eq!(g.image_text.len(), g.classes.len());
}

/// `eclip --report --plots` on the fixture models, small settings, saliency on two items.
#[test]
fn fixture_figures_render_to_checked_pngs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dataset = core_support::subset_dataset(
        &root.join("data"),
        &[
            ("train", 120),
            ("val", 40),
            ("test", 40),
            ("test_5x200", 50),
        ],
    );
    let models = core_support::fixture_models();
    let cfg = root.join("workbench.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[models]]\nname = \"CLIP\"\npath = \"{}\"\n[[models]]\nname = \"eCLIP\"\npath = \"{}\"\n\
             [[datasets]]\npath = \"{}\"\n[eval]\nbootstrap = 50\nprobe_fractions = [0.1, 1.0]\n\
             probe_seeds = [0, 1]\ngap_shift = [-0.5, 0.0, 0.5]\n\
             [saliency]\nmethod = \"occlusion\"\npatch = 56\nstride = 56\nitems = 2\n",
            models[0].display(),
            models[1].display(),
            dataset.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .current_dir(root)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--threads",
            "1",
        ])
        .args([
            "--report",
            "out.csv",
            "--plots",
            "figs",
            "--review",
            "review.md",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "eclip failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("figs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let got: Vec<String> = pngs(&files)
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "cosine",
        "group_cosine",
        "pca",
        "probe",
        "gap_shift",
        "reliability",
        "roc",
        "saliency",
    ] {
        assert!(
            got.contains(&format!("cxr-demo_{want}")),
            "{want} in {got:?}"
        );
    }
    for f in pngs(&files) {
        check(f);
    }
    // The review shows the PNGs, relative to its own folder.
    let md = std::fs::read_to_string(root.join("review.md")).unwrap();
    assert!(
        md.contains("![cxr-demo_pca](figs/cxr-demo_pca.png)"),
        "{md}"
    );
    assert!(md.contains("([SVG](figs/cxr-demo_pca.svg))"));
}
