/*!
Progress reporting for the embedding pipeline, decoupled from how it is shown: headless runs draw an
`indicatif` bar on stderr ([`Bar`]), the TUI implements [`Progress`] itself, tests use
[`NoProgress`].
*/
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Which half of a model is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Images,
    Texts,
}

/// Receives progress from [`super::embed_dataset`] (from the thread that runs ONNX Runtime).
pub trait Progress: Send + Sync {
    /// A stage starts with `total` items still to compute (cache hits are not counted).
    fn start(&self, stage: Stage, model: &str, dataset: &str, total: usize);
    fn advance(&self, n: usize);
    fn finish(&self);
}

/// Shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Stage, _: &str, _: &str, _: usize) {}
    fn advance(&self, _: usize) {}
    fn finish(&self) {}
}

/// An `indicatif` bar on stderr (hidden automatically when stderr is not a terminal).
#[derive(Debug, Default)]
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn start(&self, stage: Stage, model: &str, dataset: &str, total: usize) {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        let what = match stage {
            Stage::Images => "images",
            Stage::Texts => "texts",
        };
        bar.set_message(format!("{model} {dataset} {what}"));
        *self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bar);
    }
    fn advance(&self, n: usize) {
        if let Some(b) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            b.inc(n as u64);
        }
    }
    fn finish(&self) {
        if let Some(b) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            b.finish_and_clear();
        }
    }
}
