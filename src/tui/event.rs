/*!
The messages of the TUI: [`Event`]s into [`crate::tui::App::handle`] (keys, mouse, job progress,
job [`Update`]s, query replies), the [`Action`]s it hands back to the run loop, and the query
types of the live-query thread. Their own module, so that the worker threads and the views need not
import the app.
*/
use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};
use image::DynamicImage;

use super::state::{
    Gallery, HeaderInfo, ModelHits, PlotData, Problem, RagView, SaliencyView, Tab, Thumb,
};
use crate::eval::MetricRow;

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// The clock, a few times a second: expires status messages.
    Tick(std::time::Instant),
    JobQueued {
        job: String,
    },
    Progress {
        job: String,
        done: u64,
        total: u64,
    },
    JobFinished {
        job: String,
        error: Option<String>,
    },
    Update(Update),
    Reply(QueryReply),
    Exported(Result<PathBuf, String>),
    /// The saliency of an opened image (`tui::saliency_job`).
    Saliency(SaliencyReply),
    /// The comparison rows of a chosen pair the run did not compare (`tui::compare_job`).
    Compared(CompareReply),
}

/// A side effect for the run loop.
#[derive(Debug, Clone)]
pub enum Action {
    None,
    Quit,
    Query(QueryRequest),
    /// Hand the gallery to the query thread.
    ShareGallery(Arc<Gallery>),
    Export(Tab),
    /// Compute the saliency view of an opened image on the saliency thread.
    Saliency(SaliencyRequest),
    /// Compute the chosen pair's comparison rows on the compare thread.
    Compare(CompareRequest),
}

/// A result a job publishes for the UI.
#[derive(Debug, Clone)]
pub enum Update {
    /// Header facts learnt while loading (the execution provider actually used, cache state).
    Header(HeaderInfo),
    /// A split the live queries can search (the gallery names its dataset and split), with
    /// thumbnails per item (`None` where unreadable).
    Gallery(Arc<Gallery>, Vec<Option<Thumb>>),
    /// Finished metric rows; a row replaces an earlier one with the same (dataset, model, task,
    /// setting, metric), any other is appended.
    Metrics(Vec<MetricRow>),
    /// One task family of a running evaluation finished: its rows (merged as for
    /// [`Update::Metrics`], so the final summary replaces them) and the families still running.
    FamilyDone {
        rows: Vec<MetricRow>,
        running: Vec<String>,
    },
    /// Plot data of the Probe and Geometry tabs, for the dataset it names (replaces earlier data
    /// of that dataset).
    Plots(PlotData),
    /// RAG results of the dataset it names.
    Rag(RagView),
    /// Problems found while loading or embedding (added to the `!` panel; repeats are dropped).
    Problems(Vec<Problem>),
}

/// What a live query asks.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryKind {
    /// Typed text → top-k gallery images per model.
    PromptToImages(String),
    /// A zero-shot class embedding → top-k gallery images per model.
    ClassToImages(usize),
    /// A gallery image → top-k gallery reports per model.
    ImageToTexts(usize),
    /// A gallery image → class probabilities per model, plus pixels (and heatmap overlay).
    Open(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub id: u64,
    pub kind: QueryKind,
    pub k: usize,
}

/// The answer to a query.
#[derive(Debug, Clone)]
pub enum QueryAnswer {
    Hits(Vec<ModelHits>),
    Opened {
        item: usize,
        probs: Vec<Vec<f32>>,
        image: Option<DynamicImage>,
        overlay: Option<DynamicImage>,
    },
}

#[derive(Debug, Clone)]
pub struct QueryReply {
    pub id: u64,
    pub result: Result<QueryAnswer, String>,
}

/// One model's candidate target embeddings for an opened image (L2-normalised): the chosen
/// zero-shot class and the image's own report; the saliency thread uses the one `[saliency]
/// target` names.
#[derive(Debug, Clone, PartialEq)]
pub struct SaliencyTargets {
    pub model: String,
    pub class: Vec<f32>,
    pub report: Vec<f32>,
}

/// Asks for the saliency view of an opened gallery image.
#[derive(Debug, Clone, PartialEq)]
pub struct SaliencyRequest {
    pub id: u64,
    /// Gallery item.
    pub item: usize,
    /// Dataset row of the item.
    pub row: usize,
    pub image: PathBuf,
    pub heatmap: PathBuf,
    /// The zero-shot class used with `target = "class"` and why it was chosen, e.g.
    /// "cardiomegaly (ground truth)".
    pub class: String,
    pub targets: Vec<SaliencyTargets>,
}

#[derive(Debug, Clone)]
pub struct SaliencyReply {
    pub id: u64,
    pub result: Result<SaliencyView, String>,
}

/// Asks for the comparison rows `candidate - baseline` of one dataset (names of models or
/// replicate groups), computed as `[eval] compare = [[baseline, candidate]]` would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareRequest {
    pub id: u64,
    pub dataset: String,
    pub baseline: String,
    pub candidate: String,
}

#[derive(Debug, Clone)]
pub struct CompareReply {
    pub id: u64,
    pub result: Result<Vec<MetricRow>, String>,
}
