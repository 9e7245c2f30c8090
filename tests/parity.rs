//! Rust vs Python: preprocessing within 1e-5, token ids exactly, embeddings within 1e-4.
//!
//! The reference values in `tests/data/parity/refs.json` are computed by
//! `onnx-export/scripts/make_parity_refs.py` with `eclip_model.transform`, `eclip_model.tokenizer`
//! and Python onnxruntime on real chest X-rays from `../shared/data/cxr-samples` (8-bit gray PNG,
//! RGB PNG, JPEG, DICOM) and generated 16-bit gray, 16-bit RGB and RGBA PNGs. If a model file's hash
//! differs from the one recorded, the refs are stale: rerun the script (the test says so).
//!
//! JPEG: PIL (libjpeg-turbo) and the Rust decoders (`image`'s zune-jpeg; `jpeg-decoder` inside
//! dicom-rs for JPEG-compressed DICOM, like the SIIM sample) decode the same file to pixel values that
//! differ by up to one 8-bit step (IDCT/upsampling rounding). Inputs the refs mark `jpeg_decoded` are
//! held to [`JPEG_TOL`] per value instead of 1e-5, and their embeddings to [`JPEG_EMBED_TOL`]; the
//! exact paths (PNG of every depth/layout, uncompressed DICOM incl. MONOCHROME1 and rescale) stay at
//! 1e-5 / 1e-4.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use core_support::{parity_refs, repo, resolve, runtime};
use eclip_workbench::model::{Model, Preprocessor, preprocess};

const TOL: f64 = 1e-5;
const EMBED_TOL: f64 = 1e-4;
/// `gen_rgba8.png` is independent per-pixel noise, upsampled (90x71 → 128): the `image` crate computes
/// sample positions and filter weights in f32 where PIL uses f64, and on noise (the largest possible
/// pixel-to-pixel steps) that shows: measured 1.3e-5 (gray128) and 1.9e-5 (rgb96) after
/// normalisation, while every real image stays below 3e-6.
const NOISE_TOL: f64 = 3e-5;
/// Per-value bound for JPEG after normalisation (one 8-bit step is 1/255/std ≈ 0.016 at std 0.25).
const JPEG_TOL: f64 = 0.05;
/// Mean of a JPEG tensor. Rounding differences mostly cancel, but for DICOM the min–max window
/// follows the extreme pixels: in the SIIM sample one pixel decodes to 255 in Rust and 254 in pydicom,
/// which rescales the whole image by 254/255 (mean shift ≈ 0.01 after normalisation).
const JPEG_MEAN_TOL: f64 = 2e-2;
const JPEG_EMBED_TOL: f64 = 2e-2;

fn transform(name: &str) -> Preprocessor {
    match name {
        "gray128" => Preprocessor {
            size: 128,
            channels: 1,
            mean: vec![0.5],
            std: vec![0.25],
        },
        "rgb96" => Preprocessor {
            size: 96,
            channels: 3,
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        },
        other => panic!("unknown transform {other} in refs.json"),
    }
}

fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

#[test]
fn preprocessing_matches_python() {
    let refs = parity_refs();
    let entries = refs["preprocess"].as_array().expect("preprocess entries");
    assert!(
        entries.len() >= 14,
        "refs.json should cover 7 images x 2 transforms"
    );
    let mut kinds = std::collections::BTreeSet::new();
    for e in entries {
        let reference = e["image"].as_str().unwrap();
        let path = resolve(reference);
        let ext = path.extension().unwrap().to_string_lossy().to_string();
        kinds.insert(if e["jpeg_decoded"].as_bool() == Some(true) {
            format!("{ext}+jpeg")
        } else {
            ext
        });
        let pre = transform(e["transform"].as_str().unwrap());
        let img = preprocess::decode(&path).unwrap_or_else(|err| panic!("{err}"));
        let mut x = Vec::new();
        pre.apply(&img, &mut x);
        let shape: Vec<usize> = e["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(
            x.len(),
            shape.iter().product::<usize>(),
            "{reference}: tensor size"
        );
        let n = x.len() as f64;
        let mean = x.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
        let mean_sq = x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / n;
        let jpeg = e["jpeg_decoded"].as_bool().unwrap();
        let (tol, mean_tol) = if reference.ends_with("gen_rgba8.png") {
            (NOISE_TOL, TOL)
        } else if jpeg {
            (JPEG_TOL, JPEG_MEAN_TOL)
        } else {
            (TOL, TOL)
        };
        let worst = e["index"]
            .as_array()
            .unwrap()
            .iter()
            .zip(f64s(&e["values"]))
            .map(|(i, want)| (f64::from(x[i.as_u64().unwrap() as usize]) - want).abs())
            .fold(0.0, f64::max);
        let ctx = format!("{reference} {}", e["transform"]);
        assert!(
            worst <= tol,
            "{ctx}: max |rust - python| = {worst:e} > {tol:e}"
        );
        assert!(
            (mean - e["mean"].as_f64().unwrap()).abs() <= mean_tol,
            "{ctx}: mean {mean} vs {}",
            e["mean"]
        );
        let msq = e["mean_sq"].as_f64().unwrap();
        assert!(
            (mean_sq - msq).abs() <= mean_tol * (1.0 + msq),
            "{ctx}: mean square {mean_sq} vs {msq}"
        );
    }
    // Exact paths (PNG, uncompressed DICOM) and JPEG-decoded ones (JPEG, JPEG-compressed DICOM).
    for k in ["png", "dcm", "jpg+jpeg", "dcm+jpeg"] {
        assert!(kinds.contains(k), "refs.json lacks a .{k} image");
    }
}

fn max_diff(a: ndarray::ArrayView1<f32>, b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - y).abs())
        .fold(0.0, f64::max)
}

#[test]
fn tokens_and_embeddings_match_python_onnxruntime() {
    let refs = parity_refs();
    let models = refs["models"].as_array().expect("models");
    assert!(
        !models.is_empty(),
        "refs.json has no model entries; rerun make_parity_refs.py with --model"
    );
    for m in models {
        let p = std::path::PathBuf::from(m["path"].as_str().unwrap());
        let dir = if p.is_absolute() { p } else { repo().join(p) };
        assert!(
            dir.join("model.json").is_file(),
            "model folder {} missing",
            dir.display()
        );
        let model = Model::load(runtime(), m["name"].as_str().unwrap(), &dir)
            .unwrap_or_else(|e| panic!("{e}"));
        let hashes = &model.hashes;
        let recorded = &m["sha256"];
        for (file, got) in [
            (&model.spec.image.file, &hashes.image_onnx),
            (&model.spec.text.file, &hashes.text_onnx),
            (&model.spec.tokenizer, &hashes.tokenizer),
        ] {
            assert_eq!(
                recorded[file.as_str()].as_str(),
                Some(got.as_str()),
                "{file} of {} changed since refs.json was made: rerun onnx-export/scripts/make_parity_refs.py",
                dir.display()
            );
        }

        let texts: Vec<String> = m["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        let tokens = model.tokenizer.encode(&texts).unwrap();
        let want_ids: Vec<i64> = m["input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()))
            .collect();
        assert_eq!(
            tokens.ids, want_ids,
            "{}: token ids differ from Python",
            model.name
        );

        let text_emb = model.encode_texts(&texts).unwrap();
        for (i, want) in m["text_embeds"].as_array().unwrap().iter().enumerate() {
            let d = max_diff(text_emb.row(i), &f64s(want));
            assert!(d <= EMBED_TOL, "{}: text {i} differs by {d:e}", model.name);
        }

        let images: Vec<&str> = m["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let paths: Vec<_> = images.iter().map(|r| resolve(r)).collect();
        let image_emb = model
            .encode_image_files(&paths)
            .unwrap_or_else(|e| panic!("{e}"));
        for (i, want) in m["image_embeds"].as_array().unwrap().iter().enumerate() {
            let tol = if m["jpeg_decoded"][i].as_bool().unwrap() {
                JPEG_EMBED_TOL
            } else {
                EMBED_TOL
            };
            let d = max_diff(image_emb.row(i), &f64s(want));
            assert!(
                d <= tol,
                "{}: image {} differs by {d:e} > {tol:e}",
                model.name,
                images[i]
            );
        }
    }
}
