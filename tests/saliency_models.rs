//! Saliency maps with the fixture models (`fixtures/models/clip`, `eclip`) on fixture test images:
//! determinism, the all-occluded limit, the map's grid against the expert heatmap's, and the cache.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::sync::atomic::AtomicBool;

use core_support::{repo, runtime};
use eclip_workbench::cache::EmbeddingCache;
use eclip_workbench::eval::saliency;
use eclip_workbench::model::Model;
use eclip_workbench::saliency::{
    self as sal, Method, SaliencyItem, SaliencySettings, grid, occlusion, rise, rise_masks,
};

fn model(name: &str) -> Model {
    Model::load(runtime(), name, &repo().join("fixtures/models").join(name)).unwrap()
}

fn target(m: &Model) -> Vec<f32> {
    m.encode_texts(&["moderate cardiomegaly"])
        .unwrap()
        .row(0)
        .to_vec()
}

const IMAGES: [&str; 3] = ["test_00001.png", "test_00002.png", "test_00016.png"];

#[test]
fn occlusion_and_rise_are_deterministic_and_on_the_heatmap_grid() {
    let m = model("clip");
    let t = target(&m);
    let no = AtomicBool::new(false);
    let img = repo().join("fixtures/data/images/test").join(IMAGES[0]);
    let px = m.preprocessor.load(&img).unwrap();
    let a = occlusion(&m, &px, &t, 16, 8, 32, &no).unwrap();
    let b = occlusion(&m, &px, &t, 16, 8, 7, &no).unwrap();
    // Batching does not change the result beyond float noise of the graph.
    assert!(a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() < 1e-5));
    assert!(a.iter().any(|v| *v != a[[0, 0]]), "a flat map");
    let heat = grid::load_heatmap(&repo().join("fixtures/data/heatmaps").join(IMAGES[0])).unwrap();
    let on_grid = grid::heatmap_on_grid(&heat, m.preprocessor.size);
    assert_eq!(a.dim(), on_grid.dim());
    assert_eq!(
        a.dim(),
        heat.dim(),
        "the demo's heatmaps are at the model's input size"
    );
    let masks = rise_masks(128, 64, 8, 0.5, 0);
    let r1 = rise(&m, &px, &t, &masks, 0.5, 32, &no).unwrap();
    let r2 = rise(&m, &px, &t, &rise_masks(128, 64, 8, 0.5, 0), 0.5, 16, &no).unwrap();
    assert!(r1.iter().zip(r2.iter()).all(|(x, y)| (x - y).abs() < 1e-5));
    assert_eq!(r1.dim(), on_grid.dim());
    // The agreement scores are defined on this pair.
    let s = a.mapv(f64::from);
    let ag = saliency::agreement(s.view(), on_grid.view(), &[]);
    assert!(ag.values().iter().all(Option::is_some), "{ag:?}");
}

#[test]
fn occluding_everything_gives_the_drop_to_the_baseline_image() {
    let m = model("eclip");
    let t = target(&m);
    let no = AtomicBool::new(false);
    let img = repo().join("fixtures/data/images/test").join(IMAGES[1]);
    let px = m.preprocessor.load(&img).unwrap();
    let map = occlusion(&m, &px, &t, 128, 128, 1, &no).unwrap();
    let cos = |e: ndarray::Array2<f32>| -> f64 {
        e.row(0)
            .iter()
            .zip(&t)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum()
    };
    let want =
        cos(m.run_image(&px, 1).unwrap()) - cos(m.run_image(&vec![0.0; px.len()], 1).unwrap());
    assert!(
        map.iter().all(|v| (f64::from(*v) - want).abs() < 1e-6),
        "{} vs {want}",
        map[[0, 0]]
    );
}

#[test]
fn compute_maps_caches_limits_and_skips() {
    let m = model("clip");
    let t = target(&m);
    let tmp = tempfile::tempdir().unwrap();
    let cache = EmbeddingCache::open(Some(tmp.path())).unwrap();
    let mut items: Vec<SaliencyItem> = IMAGES
        .iter()
        .map(|f| SaliencyItem {
            image: repo().join("fixtures/data/images/test").join(f),
            target: t.clone(),
        })
        .collect();
    items.insert(
        1,
        SaliencyItem {
            image: tmp.path().join("missing.png"),
            target: t.clone(),
        },
    );
    let settings = SaliencySettings {
        method: Method::Rise,
        masks: 40,
        items: 2,
        ..SaliencySettings::default()
    };
    let no = AtomicBool::new(false);
    let first = sal::compute_maps(&m, &items, &settings, &cache, 32, &no).unwrap();
    assert_eq!((first.computed, first.cached, first.over_limit), (2, 0, 1));
    assert_eq!(first.skipped.len(), 1);
    assert!(
        first.skipped[0].1.contains("missing.png"),
        "{:?}",
        first.skipped
    );
    let second = sal::compute_maps(&m, &items, &settings, &cache, 32, &no).unwrap();
    assert_eq!((second.computed, second.cached), (0, 2));
    for (a, b) in first.maps.iter().zip(&second.maps) {
        assert_eq!(a, b);
    }
    // Another seed is another namespace: computed again, and a different map.
    let other = SaliencySettings {
        seed: 1,
        ..settings.clone()
    };
    let third = sal::compute_maps(&m, &items, &other, &cache, 32, &no).unwrap();
    assert_eq!(third.computed, 2);
    assert_ne!(third.maps[0], first.maps[0]);
    // A patch larger than the input is an error naming the key and the model.
    let bad = SaliencySettings {
        patch: 500,
        ..SaliencySettings::default()
    };
    let e = sal::compute_maps(&m, &items, &bad, &cache, 32, &no)
        .unwrap_err()
        .to_string();
    assert!(e.contains("patch") && e.contains("clip"), "{e}");
}
