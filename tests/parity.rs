//! Rust vs Python: preprocessing within 1e-5 (bilinear and PIL-bicubic resize; the library rules
//! bit-identical on every non-JPEG input), token ids exactly, embeddings within 1e-4.
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
use eclip_workbench::model::spec::Resize;
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

/// The transforms of refs.json: `gray128` / `rgb96`, bilinear, and the same with `_bicubic`,
/// `_reduce`, `_open_clip` and `_hf` (the library rules).
fn transform(name: &str) -> Preprocessor {
    let (base, resize) = if let Some(base) = name.strip_suffix("_bicubic") {
        (base, Resize::Bicubic)
    } else if let Some(base) = name.strip_suffix("_reduce") {
        (base, Resize::BilinearReduce)
    } else if let Some(base) = name.strip_suffix("_open_clip") {
        (base, Resize::OpenClipBicubic)
    } else if let Some(base) = name.strip_suffix("_hf") {
        (base, Resize::HfBicubic)
    } else {
        (name, Resize::Bilinear)
    };
    match base {
        "gray128" => Preprocessor {
            size: 128,
            channels: 1,
            mean: vec![0.5],
            std: vec![0.25],
            resize,
        },
        "rgb96" => Preprocessor {
            size: 96,
            channels: 3,
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
            resize,
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
        entries.len() >= 42,
        "refs.json should cover 7 images x 6 transforms (bilinear, bicubic, fast)"
    );
    let mut kinds = std::collections::BTreeSet::new();
    let mut transforms = std::collections::BTreeSet::new();
    let mut exact = 0;
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
        transforms.insert(e["transform"].as_str().unwrap().to_string());
        let x = pre.load(&path).unwrap_or_else(|err| panic!("{err}"));
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
        // Library rules: every tensor value equal to Python's (PIL's own 8-bit resize) except for
        // JPEG, whose decoders differ.
        if let (Some(want), false) = (e["f32_sha256"].as_str(), jpeg) {
            use sha2::Digest;
            let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
            let got = format!("{:x}", sha2::Sha256::digest(&bytes));
            assert_eq!(got, want, "{ctx}: tensor not bit-identical to Python's");
            exact += 1;
        }
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
    for t in [
        "gray128",
        "rgb96",
        "gray128_bicubic",
        "rgb96_bicubic",
        "gray128_reduce",
        "rgb96_reduce",
        "gray128_open_clip",
        "rgb96_open_clip",
        "rgb96_hf",
    ] {
        assert!(transforms.contains(t), "refs.json lacks the {t} transform");
    }
    assert!(
        exact >= 15,
        "only {exact} library-rule tensors were compared exactly"
    );
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

/// The contract's pipeline as it was first written (the `image` crate decodes to a `DynamicImage`,
/// samples become f64 `v / max`, then f32 planes, then `image::imageops::resize(Triangle)` and a
/// crop): the optimised decoder/resizer must give the same bits, for 1 and 3 channels.
fn reference_pipeline(path: &std::path::Path, pre: &Preprocessor) -> Vec<f32> {
    use image::DynamicImage;
    let img = image::ImageReader::open(path)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let f = |raw: &[u16], max: f64| raw.iter().map(|v| f64::from(*v) / max).collect::<Vec<_>>();
    let (c, data): (usize, Vec<f64>) = match img {
        DynamicImage::ImageLuma8(b) => (
            1,
            b.as_raw().iter().map(|v| f64::from(*v) / 255.0).collect(),
        ),
        DynamicImage::ImageLumaA8(b) => (
            2,
            b.as_raw().iter().map(|v| f64::from(*v) / 255.0).collect(),
        ),
        DynamicImage::ImageRgb8(b) => (
            3,
            b.as_raw().iter().map(|v| f64::from(*v) / 255.0).collect(),
        ),
        DynamicImage::ImageRgba8(b) => (
            4,
            b.as_raw().iter().map(|v| f64::from(*v) / 255.0).collect(),
        ),
        DynamicImage::ImageLuma16(b) => (1, f(b.as_raw(), 65535.0)),
        DynamicImage::ImageRgb16(b) => (3, f(b.as_raw(), 65535.0)),
        DynamicImage::ImageRgba16(b) => (4, f(b.as_raw(), 65535.0)),
        other => panic!(
            "{}: layout {:?} not covered here",
            path.display(),
            other.color()
        ),
    };
    let colour = if c == 2 || c == 4 { c - 1 } else { c };
    let px = w * h;
    let plane = |k: usize| -> Vec<f32> { (0..px).map(|i| data[i * c + k] as f32).collect() };
    let planes: Vec<Vec<f32>> = match (colour, pre.channels) {
        (1, n) => vec![plane(0); n],
        (_, 1) => vec![
            (0..px)
                .map(|i| {
                    (0.299 * data[i * c] + 0.587 * data[i * c + 1] + 0.114 * data[i * c + 2]) as f32
                })
                .collect(),
        ],
        _ => (0..3).map(plane).collect(),
    };
    let (nh, nw) = preprocess::resized_shape(h, w, pre.size);
    let s = pre.size as usize;
    let (top, left) = ((nh - s) / 2, (nw - s) / 2);
    let mut out = Vec::new();
    for (ch, p) in planes.into_iter().enumerate() {
        let resized = if (nh, nw) == (h, w) {
            p
        } else {
            let buf: image::ImageBuffer<image::Luma<f32>, Vec<f32>> =
                image::ImageBuffer::from_raw(w as u32, h as u32, p).unwrap();
            image::imageops::resize(
                &buf,
                nw as u32,
                nh as u32,
                image::imageops::FilterType::Triangle,
            )
            .into_raw()
        };
        for y in top..top + s {
            out.extend(
                resized[y * nw + left..y * nw + left + s]
                    .iter()
                    .map(|x| (x - pre.mean[ch]) / pre.std[ch]),
            );
        }
    }
    out
}

#[test]
fn bilinear_preprocessing_is_bit_identical_to_the_reference_pipeline() {
    let refs = parity_refs();
    let mut checked = 0;
    for e in refs["preprocess"].as_array().unwrap() {
        let name = e["transform"].as_str().unwrap();
        let path = resolve(e["image"].as_str().unwrap());
        let ext = path
            .extension()
            .unwrap()
            .to_string_lossy()
            .to_ascii_lowercase();
        let pre = transform(name);
        if pre.resize != Resize::Bilinear || ext == "dcm" {
            continue; // DICOM keeps its f64 window arithmetic; the other rules are newer
        }
        let got = pre.load(&path).unwrap();
        let want = reference_pipeline(&path, &pre);
        let same = got.len() == want.len()
            && got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{} {name}: not bit-identical", path.display());
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} PNG/JPEG cases");
}
