//! The embedding pipeline's contract beyond single rows: cancellation stops between batches and
//! keeps what was finished, and a second run picks it up from the cache.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use core_support::{runtime, test_model_dir, write_dataset, write_images};
use eclip_workbench::cache::EmbeddingCache;
use eclip_workbench::data::Dataset;
use eclip_workbench::embed::{EmbedError, EmbedOptions, Progress, Stage, embed_dataset};
use eclip_workbench::model::Model;

/// Sets the cancel flag after the first batch has been reported.
struct CancelAfterFirst {
    cancel: Arc<AtomicBool>,
    advanced: AtomicUsize,
}

impl Progress for CancelAfterFirst {
    fn start(&self, _: Stage, _: &str, _: &str, _: usize) {}
    fn advance(&self, n: usize) {
        self.advanced.fetch_add(n, Ordering::SeqCst);
        self.cancel.store(true, Ordering::SeqCst);
    }
    fn finish(&self) {}
}

#[test]
fn cancel_stops_between_batches_and_the_next_run_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let names = write_images(tmp.path(), 12);
    let rows: Vec<Vec<u8>> = names
        .iter()
        .map(|n| format!("{n},report {n},test,0").into_bytes())
        .collect();
    let rows: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
    let ds = Dataset::load(&write_dataset(tmp.path(), &rows)).unwrap();
    let model = Model::load(runtime(), "M", &test_model_dir()).unwrap();
    let cache = EmbeddingCache::open(Some(&tmp.path().join("cache"))).unwrap();

    let cancel = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(CancelAfterFirst {
        cancel: cancel.clone(),
        advanced: AtomicUsize::new(0),
    });
    let opts = EmbedOptions {
        batch_size: 3,
        cancel,
        progress: progress.clone(),
        shard: None,
    };
    let err = embed_dataset(&model, &ds, &cache, &opts).unwrap_err();
    assert!(matches!(err, EmbedError::Cancelled), "{err}");
    let done = progress.advanced.load(Ordering::SeqCst);
    assert!((3..12).contains(&done), "stopped after {done} images");

    let (emb, stats) = embed_dataset(
        &model,
        &ds,
        &cache,
        &EmbedOptions {
            batch_size: 3,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(stats.images_computed, 12 - done);
    assert_eq!(emb.splits["test"].rows.len(), 12);
}
