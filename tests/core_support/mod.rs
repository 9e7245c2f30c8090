//! Helpers shared by the core integration tests (parity, bad input, CLI).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use eclip_workbench::runtime::{Device, Runtime, RuntimeOptions};

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/data` beside the repository (or beside one of its parents, for git worktrees).
pub fn shared_data() -> PathBuf {
    repo()
        .ancestors()
        .filter_map(|a| a.parent().map(|p| p.join("shared").join("data")))
        .find(|p| p.join("cxr-samples").is_dir())
        .expect("../shared/data/cxr-samples not found beside the repository (CI provides it)")
}

/// One CPU runtime per test binary (ONNX Runtime is loaded once per process anyway).
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::load(RuntimeOptions {
            device: Device::Cpu,
            threads: 1,
            ort_dylib: None,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Resolves "shared:<rel>" / "repo:<rel>" image references of refs.json.
pub fn resolve(reference: &str) -> PathBuf {
    if let Some(r) = reference.strip_prefix("shared:") {
        shared_data().join(r)
    } else if let Some(r) = reference.strip_prefix("repo:") {
        repo().join(r)
    } else {
        PathBuf::from(reference)
    }
}

/// The test models: the fixture models once they exist, else the parity refs' own models.
pub fn parity_refs() -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("tests/data/parity/refs.json"))
        .expect("tests/data/parity/refs.json");
    serde_json::from_str(&text).expect("refs.json parses")
}

/// Folder of the first model named in refs.json (the model the bad-input and CLI tests use).
pub fn test_model_dir() -> PathBuf {
    let refs = parity_refs();
    let p = refs["models"][0]["path"]
        .as_str()
        .expect("refs.json names at least one model");
    let p = PathBuf::from(p);
    let p = if p.is_absolute() { p } else { repo().join(p) };
    assert!(
        p.join("model.json").is_file(),
        "test model {} is missing; see tests/data/parity/README",
        p.display()
    );
    p
}

/// Copies a model folder so a test can damage it.
pub fn copy_model(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
}

/// Writes a one-label dataset (`dataset.toml`, `manifest.csv`, `prompts.json`) into `dir`; `rows`
/// are raw manifest lines after the header `image,report,split,edema`.
pub fn write_dataset(dir: &Path, rows: &[&[u8]]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut csv = b"image,report,split,edema\n".to_vec();
    for r in rows {
        csv.extend_from_slice(r);
        csv.push(b'\n');
    }
    std::fs::write(dir.join("manifest.csv"), csv).unwrap();
    std::fs::write(
        dir.join("prompts.json"),
        r#"{"format_version": 1, "classes": {"edema": {"positive": ["pulmonary edema", "edema"], "negative": ["no edema"]}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("dataset.toml"),
        "name = \"t\"\nmanifest = \"manifest.csv\"\nprompts = \"prompts.json\"\nlabels = [\"edema\"]\nzeroshot_classes = [\"edema\"]\n[splits]\ntrain = \"train\"\nval = \"val\"\ntest = \"test\"\n",
    )
    .unwrap();
    dir.join("dataset.toml")
}

/// A workbench config naming `models` (name, folder) and one dataset.
pub fn write_config(path: &Path, models: &[(&str, &Path)], dataset: &Path) {
    let mut s = String::from("[runtime]\ndevice = \"cpu\"\nthreads = 1\n");
    for (name, dir) in models {
        s.push_str(&format!(
            "[[models]]\nname = \"{name}\"\npath = \"{}\"\n",
            dir.display()
        ));
    }
    s.push_str(&format!("[[datasets]]\npath = \"{}\"\n", dataset.display()));
    std::fs::write(path, s).unwrap();
}

/// Writes `n` distinct small gray PNGs `img000.png`… into `dir`.
pub fn write_images(dir: &Path, n: usize) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let name = format!("img{i:03}.png");
            let img = image::GrayImage::from_fn(40, 36, |x, y| {
                image::Luma([((x * 7 + y * 3 + i as u32 * 13) % 256) as u8])
            });
            img.save(dir.join(&name)).unwrap();
            name
        })
        .collect()
}

/// The two fixture models named in `tests/data/parity/refs.json` (CLIP, eCLIP), checked to exist.
pub fn fixture_models() -> Vec<PathBuf> {
    let refs = parity_refs();
    let models: Vec<PathBuf> = refs["models"]
        .as_array()
        .expect("refs.json lists models")
        .iter()
        .map(|m| repo().join(m["path"].as_str().expect("model path")))
        .collect();
    for m in &models {
        assert!(
            m.join("model.json").is_file(),
            "fixture model {} is missing (see fixtures/README.md)",
            m.display()
        );
    }
    models
}

/// A subset of fixtures/data in `dir` (the first `keep` rows of each named split, in manifest
/// order), image and heatmap paths made absolute; returns the dataset.toml path.
pub fn subset_dataset(dir: &Path, keep: &[(&str, usize)]) -> PathBuf {
    let src = repo().join("fixtures/data");
    std::fs::create_dir_all(dir).unwrap();
    let mut rdr = csv::Reader::from_path(src.join("manifest.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (image, split, heatmap) = (col("image").unwrap(), col("split").unwrap(), col("heatmap"));
    let mut w = csv::Writer::from_path(dir.join("manifest.csv")).unwrap();
    w.write_record(&headers).unwrap();
    let mut kept = vec![0usize; keep.len()];
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let Some(k) = keep.iter().position(|(s, _)| *s == &rec[split]) else {
            continue;
        };
        if kept[k] == keep[k].1 {
            continue;
        }
        kept[k] += 1;
        let fields: Vec<String> = rec
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if (i == image || Some(i) == heatmap) && !v.is_empty() {
                    src.join(v).display().to_string()
                } else {
                    v.to_owned()
                }
            })
            .collect();
        w.write_record(&fields).unwrap();
    }
    w.flush().unwrap();
    std::fs::copy(src.join("prompts.json"), dir.join("prompts.json")).unwrap();
    std::fs::copy(src.join("dataset.toml"), dir.join("dataset.toml")).unwrap();
    dir.join("dataset.toml")
}

/// Every embedding cache chunk (`*.emb`) under `cache`.
pub fn emb_files(cache: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "emb") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(cache, &mut v);
    v
}

/// A bundled fixture model's folder (`fixtures/models/<name>`); fails naming it when absent.
pub fn fixture_model(name: &str) -> PathBuf {
    let p = repo().join("fixtures/models").join(name);
    assert!(
        p.join("model.json").is_file(),
        "fixture model {} is missing (see fixtures/models/README.md)",
        p.display()
    );
    p
}

/// The rows of a report CSV as column → value maps.
pub fn read_csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}
