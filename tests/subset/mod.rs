//! A small slice of the bundled demo dataset (`fixtures/data`) in a temp folder, for end-to-end
//! tests that need real images, heatmaps and fixations but not 3,650 rows: the first rows of each
//! split (test rows with and without a heatmap counted separately), the manifest rewritten with
//! only those rows, `images/` and `heatmaps/` linked to the fixtures (so manifest paths and the
//! fixation file's keys stay as they are), `dataset.toml`, `prompts.json` and
//! `gaze_fixations.csv` copied. Nothing under `fixtures/` is written.
#![allow(dead_code)] // each test binary uses its own subset
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How many rows of each kind to take.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    pub train: usize,
    pub val: usize,
    /// Test rows with a heatmap.
    pub test_heatmap: usize,
    /// Test rows without one.
    pub test_plain: usize,
    pub single_positive: usize,
}

/// Writes the slice into `dir` and returns its `dataset.toml`.
pub fn write(dir: &Path, counts: Counts) -> PathBuf {
    let src = repo().join("fixtures/data");
    std::fs::create_dir_all(dir).unwrap();
    let mut rdr = csv::Reader::from_path(src.join("manifest.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (split, heat) = (col("split"), col("heatmap"));
    let mut left = counts;
    let mut w = csv::Writer::from_path(dir.join("manifest.csv")).unwrap();
    w.write_record(&header).unwrap();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let n = match (&rec[split], rec[heat].is_empty()) {
            ("train", _) => &mut left.train,
            ("val", _) => &mut left.val,
            ("test", false) => &mut left.test_heatmap,
            ("test", true) => &mut left.test_plain,
            ("test_5x200", _) => &mut left.single_positive,
            _ => continue,
        };
        if *n > 0 {
            *n -= 1;
            w.write_record(&rec).unwrap();
        }
    }
    w.flush().unwrap();
    for f in ["dataset.toml", "prompts.json", "gaze_fixations.csv"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    for d in ["images", "heatmaps"] {
        std::os::unix::fs::symlink(src.join(d), dir.join(d)).unwrap();
    }
    dir.join("dataset.toml")
}

/// A `workbench.toml` in `dir` over `models` (name, folder) and `datasets`, small evaluation
/// settings (50 resamples, one probe fraction and seed, the `top1` RAG generator) and `extra`
/// appended (e.g. a `[saliency]` section). Returns its path.
pub fn config(
    dir: &Path,
    models: &[(&str, PathBuf)],
    datasets: &[PathBuf],
    extra: &str,
) -> PathBuf {
    let mut text = String::from("[runtime]\ndevice = \"cpu\"\nbatch_size = 32\n");
    for (name, path) in models {
        text.push_str(&format!(
            "\n[[models]]\nname = \"{name}\"\npath = \"{}\"\n",
            path.display()
        ));
    }
    for d in datasets {
        text.push_str(&format!("\n[[datasets]]\npath = \"{}\"\n", d.display()));
    }
    text.push_str(
        "\n[eval]\nseed = 0\nbootstrap = 50\nprobe_fractions = [1.0]\nprobe_seeds = [0]\n\
         gap_shift = [0.0]\n\n[rag]\nk = 2\nm = 4\ngenerators = [\"top1\"]\n",
    );
    text.push_str(extra);
    let path = dir.join("workbench.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The two bundled fixture models.
pub fn fixture_models() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("CLIP", repo().join("fixtures/models/clip")),
        ("eCLIP", repo().join("fixtures/models/eclip")),
    ]
}

/// The two fixture models plus a second CLIP seed (`CLIP1`): three models, so that a pair exists
/// that `[eval] compare = "first"` does not compare (eCLIP vs CLIP1).
pub fn three_models() -> Vec<(&'static str, PathBuf)> {
    let mut m = fixture_models();
    m.push(("CLIP1", repo().join("fixtures/models/clip-s1")));
    m
}
