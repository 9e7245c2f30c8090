//! Saliency cost benchmark (a measurement, not a test): milliseconds per image per model for
//! occlusion and RISE at the default `[saliency]` settings, on the demo's test images that have an
//! expert heatmap, through `eclip_workbench::saliency::{occlusion, rise}` (no cache).
//!
//! Run: `cargo run --release --example saliency_cost -- [N_IMAGES] [THREADS]` (default 8 images,
//! ONNX Runtime's default threads). Prints one line per model × method.
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use eclip_workbench::model::Model;
use eclip_workbench::runtime::{Device, Runtime, RuntimeOptions};
use eclip_workbench::saliency::{self, SaliencySettings};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(8), |s| s.parse())?;
    let threads: usize = args.get(2).map_or(Ok(0), |s| s.parse())?;
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rt = Runtime::load(RuntimeOptions {
        device: Device::Cpu,
        threads,
        ort_dylib: None,
    })?;
    let manifest = std::fs::read_to_string(repo.join("fixtures/data/manifest.csv"))?;
    let images: Vec<_> = manifest
        .lines()
        .filter(|l| l.contains(",test,") && l.contains("heatmaps/test_"))
        .filter_map(|l| l.split(',').next())
        .take(n)
        .map(|p| repo.join("fixtures/data").join(p))
        .collect();
    let d = SaliencySettings::default();
    let batch = eclip_workbench::config::DEFAULT_BATCH;
    let no = AtomicBool::new(false);
    println!(
        "{} images, batch {batch}, threads {threads} (0 = ORT default); occlusion patch {} stride {}, RISE masks {} grid {} keep {}",
        images.len(),
        d.patch,
        d.stride,
        d.masks,
        d.grid,
        d.keep
    );
    for name in ["clip", "eclip"] {
        let m = Model::load(&rt, name, &repo.join("fixtures/models").join(name))?;
        let t = m.encode_texts(&["moderate cardiomegaly"])?.row(0).to_vec();
        let pix: Vec<Vec<f32>> = images
            .iter()
            .map(|p| m.preprocessor.load(p))
            .collect::<Result<_, _>>()?;
        let s = m.preprocessor.size as usize;
        let masks = saliency::rise_masks(s, d.masks, d.grid as usize, d.keep, d.seed);
        let t0 = Instant::now();
        for p in &pix {
            saliency::occlusion(&m, p, &t, d.patch as usize, d.stride as usize, batch, &no)?;
        }
        let occ = t0.elapsed().as_secs_f64() * 1e3 / pix.len() as f64;
        let t0 = Instant::now();
        for p in &pix {
            saliency::rise(&m, p, &t, &masks, d.keep, batch, &no)?;
        }
        let rise = t0.elapsed().as_secs_f64() * 1e3 / pix.len() as f64;
        let passes = saliency::patch_positions(s, d.patch as usize, d.stride as usize)
            .len()
            .pow(2);
        println!("{name}\tocclusion\t{occ:.1} ms/image\t({passes} forward passes + 1)");
        println!(
            "{name}\trise\t{rise:.1} ms/image\t({} forward passes)",
            d.masks
        );
    }
    Ok(())
}
