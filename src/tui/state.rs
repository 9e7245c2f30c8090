/*!
The TUI's state: plain data, nothing else.

[`AppState`] holds everything a frame shows — which tab is open, what each tab has selected, the
results that came back from worker threads and the view models built from evaluation output.
It owns no threads, terminal or file handles, so it can be built in a test, driven through
[`crate::tui::app::App::handle`] and drawn into a `TestBackend`.

The view models here (`OverviewTable`, `ProbeCurve`, `GeometryPlots`, `RagView`, ...) are the
shapes the views draw. They are filled from the evaluation's own types (`eval::MetricRow`,
`eval::summary::EvalSummary`, `rag::RagSummary`) by the `from_*` constructors, once, when a result
arrives — never while drawing.
*/
mod overview;

use std::path::PathBuf;

use ndarray::Array2;
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;

use crate::eval::MetricRow;

/// The tabs, in the order of their number keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Overview,
    ZeroShot,
    Retrieval,
    Probe,
    Geometry,
    Rag,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Overview,
        Tab::ZeroShot,
        Tab::Retrieval,
        Tab::Probe,
        Tab::Geometry,
        Tab::Rag,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::ZeroShot => "Zero-shot",
            Tab::Retrieval => "Retrieval",
            Tab::Probe => "Linear probe",
            Tab::Geometry => "Geometry",
            Tab::Rag => "RAG",
        }
    }

    /// Short name used in export file names.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::ZeroShot => "zeroshot",
            Tab::Retrieval => "retrieval",
            Tab::Probe => "probe",
            Tab::Geometry => "geometry",
            Tab::Rag => "rag",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }

    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

/// What the header line says about the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderInfo {
    pub models: Vec<String>,
    pub dataset: String,
    pub split: String,
    /// The execution provider ONNX Runtime actually uses ("CPU", "CUDA").
    pub provider: String,
    /// Embedding cache state ("hit", "miss: embedding", "off", ...).
    pub cache: String,
}

/// A long-running job and how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub name: String,
    pub done: u64,
    pub total: u64,
    pub state: JobState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Running,
    Done,
    Failed(String),
}

impl JobStatus {
    pub fn ratio(&self) -> f64 {
        match self.state {
            JobState::Done => 1.0,
            _ if self.total == 0 => 0.0,
            _ => (self.done as f64 / self.total as f64).clamp(0.0, 1.0),
        }
    }
}

/// Whether keys go to the app or into the text box.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InputMode {
    #[default]
    Normal,
    /// Typing a prompt/search; the buffer lives in the tab's state.
    Editing,
}

pub use overview::{
    Delta, Direction, Estimate, OverviewLine, OverviewTable, PairIndex, Setting, Task, Verdict,
    reversed_row,
};

/// Display data of one gallery row (an image–report pair of the split the TUI explores).
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryItem {
    /// Index into `Dataset::rows`.
    pub row: usize,
    pub image: PathBuf,
    pub heatmap: Option<PathBuf>,
    pub report: String,
    /// Names of the positive labels.
    pub labels: Vec<String>,
}

/// Cached embeddings of one model over the gallery, rows aligned with [`Gallery::items`].
#[derive(Debug, Clone)]
pub struct GalleryEmbeddings {
    pub model: String,
    pub image: Array2<f32>,
    pub text: Array2<f32>,
    /// One L2-normalised class embedding per zero-shot class, in [`Gallery::classes`] order.
    pub classes: Array2<f32>,
    /// The model's `logit_scale` (model.json): class probabilities are `softmax(logit_scale · cos)`.
    pub logit_scale: Option<f64>,
}

/// What live queries search: the split's items and each model's cached embeddings.
#[derive(Debug, Clone)]
pub struct Gallery {
    /// The dataset and split the items come from (the header's `data` and `split`).
    pub dataset: String,
    pub split: String,
    pub items: Vec<GalleryItem>,
    pub classes: Vec<String>,
    pub models: Vec<GalleryEmbeddings>,
}

/// One ranked hit of a live query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into [`Gallery::items`].
    pub item: usize,
    pub score: f32,
}

/// The per-model answer to one query.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelHits {
    pub model: String,
    pub hits: Vec<Hit>,
}

/// An opened image: per-class probabilities for every model, pixels ready to draw.
pub struct OpenedImage {
    pub item: usize,
    /// `probs[m][c]`: model `m`, class `c` (`softmax(logit_scale · cos)` to the class embeddings; empty when the model has no logit_scale).
    pub probs: Vec<Vec<f32>>,
    /// Decoded pixels, kept to rebuild `image`/`overlay` when the terminal is resized.
    pub source: Option<image::DynamicImage>,
    pub overlay_source: Option<image::DynamicImage>,
    pub image: Option<Protocol>,
    pub overlay: Option<Protocol>,
    pub show_heatmap: bool,
    /// The saliency view (`v`): each model's map beside the expert heatmap.
    pub show_saliency: bool,
    pub saliency: SaliencyPane,
}

impl std::fmt::Debug for OpenedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedImage")
            .field("item", &self.item)
            .field("probs", &self.probs)
            .field("image", &self.image.is_some())
            .field("overlay", &self.overlay.is_some())
            .field("show_heatmap", &self.show_heatmap)
            .field("show_saliency", &self.show_saliency)
            .field("saliency", &self.saliency)
            .finish()
    }
}

// ---- Saliency beside the expert heatmap (issue 16; computed by `tui::saliency_job`) ----

/// A square RGB picture (`side × side`, row-major), drawn with coloured half blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    pub side: usize,
    pub rgb: Vec<[u8; 3]>,
}

/// One model's saliency of the opened image.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSaliency {
    pub model: String,
    /// The map over the image (`None` when there is no map; `note` says why).
    pub panel: Option<Panel>,
    /// Agreement with the expert heatmap (`crate::eval::saliency::agreement`).
    pub scores: Option<crate::eval::saliency::Agreement>,
    /// "cached", "computed in 0.21 s", or why there is no map.
    pub note: String,
}

/// The saliency view of one opened image: the expert heatmap and every model's map.
#[derive(Debug, Clone, PartialEq)]
pub struct SaliencyView {
    /// Gallery item.
    pub item: usize,
    /// What the maps explain, e.g. "class cardiomegaly (ground truth)".
    pub target: String,
    /// The method and its settings, e.g. "occlusion patch 32 stride 16".
    pub setting: String,
    /// Which points NSS and AUC-Judd used, e.g. "12 recorded fixations".
    pub points: String,
    pub heatmap: Option<Panel>,
    pub models: Vec<ModelSaliency>,
}

/// Where the saliency of an opened image stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SaliencyPane {
    #[default]
    NotAsked,
    /// Asked with this request id; being computed off the UI thread.
    Pending(u64),
    Ready(Box<SaliencyView>),
    Failed(String),
}

// ---- Problems: what did not load, what was left out (issue 13) ----

/// What a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A model that failed to load or to embed.
    Model,
    /// A dataset that failed to load.
    Dataset,
    /// A manifest row left out (file and line in the message).
    SkippedRow,
    /// A row kept with something left out (e.g. a missing heatmap).
    Warning,
    /// A damaged cache file that was deleted and rebuilt.
    Cache,
    /// A background job that failed (taken from the job list when shown).
    Job,
}

impl ProblemKind {
    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::Model => "model",
            ProblemKind::Dataset => "dataset",
            ProblemKind::SkippedRow => "skipped row",
            ProblemKind::Warning => "warning",
            ProblemKind::Cache => "cache rebuilt",
            ProblemKind::Job => "job failed",
        }
    }
}

/// One problem: its kind, what it concerns (a model or dataset name) and the full message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Problem {
    pub kind: ProblemKind,
    pub source: String,
    pub message: String,
}

/// The problems panel (`!`): the list and whether it is open, with its scroll offset in lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemsState {
    pub list: Vec<Problem>,
    pub open: bool,
    pub scroll: usize,
}

/// Half-block thumbnails, one per gallery item (`None` where the image could not be read).
#[derive(Default)]
pub struct Thumbs(pub Vec<Option<Protocol>>);

impl std::fmt::Debug for Thumbs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Thumbs({})", self.0.len())
    }
}

/// A small grayscale thumbnail (values 0–255), drawn with half blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// Zero-shot tab: prompt or class → top-k images per model.
#[derive(Debug, Default)]
pub struct ZeroShotState {
    pub prompt: String,
    /// Class picked with `[`/`]`, if the last query came from a class.
    pub class: Option<usize>,
    /// What the current results answer ("prompt: ..." / "class: ...").
    pub query_label: String,
    pub results: Vec<ModelHits>,
    /// Selected model column and rank.
    pub column: usize,
    pub rank: usize,
    pub opened: Option<OpenedImage>,
    pub pending: Option<u64>,
}

/// Direction of the Retrieval tab's live search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetrievalMode {
    #[default]
    ImageToText,
    TextToImage,
}

/// Retrieval tab: an image → top-k reports, or a typed query → top-k images.
#[derive(Debug, Default)]
pub struct RetrievalState {
    pub mode: RetrievalMode,
    /// Selected gallery item (image → text).
    pub item: usize,
    pub query: String,
    pub results: Vec<ModelHits>,
    /// The gallery item whose own report counts as ground truth, for image → text.
    pub truth: Option<usize>,
    pub column: usize,
    pub rank: usize,
    pub pending: Option<u64>,
    /// The item opened with `Enter`: its image, full report and rank per model.
    pub opened: Option<ItemView>,
}

/// One retrieved report of an opened item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrievedReport {
    /// 1-based rank.
    pub rank: usize,
    pub score: f32,
    /// The gallery item whose report it is.
    pub item: usize,
    /// Whether it is the query image's own report.
    pub own: bool,
}

/// A gallery item opened in the Retrieval tab, with what the view shows about it, filled when it
/// is opened (never while drawing).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub item: usize,
    /// What the ranks answer ("image test_00001.png → reports", "query: ...").
    pub query: String,
    /// Per model: the item's 1-based rank in that model's top-k, `None` when not in it.
    pub ranks: Vec<(String, Option<usize>)>,
    /// Image → report: each model's retrieved reports, shown in full.
    pub retrieved: Vec<(String, Vec<RetrievedReport>)>,
    /// First line shown of the scrolled text.
    pub scroll: u16,
}

/// Probe accuracy vs label fraction for one model, with the spread across seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeCurve {
    pub model: String,
    pub metric: String,
    /// Label fractions, ascending.
    pub fractions: Vec<f64>,
    pub mean: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    /// The interval of the mean per fraction, from the probe's metric rows (the t-interval over
    /// seeds the tables and the review show); `None` where the run has no row.
    pub ci: Vec<Option<(f64, f64)>>,
}

/// Matched vs unmatched cosine histograms of one model (shared bin edges).
#[derive(Debug, Clone, PartialEq)]
pub struct CosineHistogram {
    pub model: String,
    /// `bins + 1` edges.
    pub edges: Vec<f64>,
    /// Densities (each sums to 1 over bins).
    pub matched: Vec<f64>,
    pub unmatched: Vec<f64>,
}

/// 2-D PCA of both modalities of one model and its gap vector (image centroid → text centroid).
#[derive(Debug, Clone, PartialEq)]
pub struct PcaScatter {
    pub model: String,
    pub image: Vec<(f64, f64)>,
    pub text: Vec<(f64, f64)>,
    pub gap_from: (f64, f64),
    pub gap_to: (f64, f64),
}

/// A metric as the modalities are shifted along the gap vector.
#[derive(Debug, Clone, PartialEq)]
pub struct GapShiftCurve {
    pub model: String,
    pub metric: String,
    pub shifts: Vec<f64>,
    pub values: Vec<f64>,
}

/// Everything the Geometry and Probe tabs plot, per model, for one dataset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlotData {
    pub dataset: String,
    pub probe: Vec<ProbeCurve>,
    pub histograms: Vec<CosineHistogram>,
    pub pca: Vec<PcaScatter>,
    pub gap_shift: Vec<GapShiftCurve>,
}

/// A labeler finding in a report: `span` is a byte range of the report text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingView {
    pub label: String,
    pub negated: bool,
    pub span: (usize, usize),
}

/// One RAG query of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct RagItemView {
    /// Gallery/dataset row of the query image.
    pub row: usize,
    pub snippets: Vec<String>,
    pub generated: String,
    pub reference: String,
    pub generated_findings: Vec<FindingView>,
    pub reference_findings: Vec<FindingView>,
    /// Why nothing was generated (LLM failure); `generated` is empty then.
    pub error: Option<String>,
}

/// RAG results per model of one dataset, items aligned across models by position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RagView {
    pub dataset: String,
    pub models: Vec<String>,
    pub items: Vec<Vec<RagItemView>>,
}

/// Selection of a scrolling list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListPos {
    pub selected: usize,
}

/// A gallery that arrived from the embed job, with its thumbnails.
#[derive(Debug, Clone)]
pub struct GalleryEntry {
    pub gallery: std::sync::Arc<Gallery>,
    pub thumbs: std::sync::Arc<Thumbs>,
}

/// What a popup chooser picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChooserKind {
    Dataset,
    Split,
    Baseline,
    Candidate,
}

impl ChooserKind {
    pub fn title(self) -> &'static str {
        match self {
            ChooserKind::Dataset => "dataset",
            ChooserKind::Split => "split (live queries)",
            ChooserKind::Baseline => "baseline model (A)",
            ChooserKind::Candidate => "candidate model (B)",
        }
    }
}

/// An open popup chooser: its options and the highlighted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chooser {
    pub kind: ChooserKind,
    pub options: Vec<String>,
    pub selected: usize,
}

/// How long a status message stays on screen.
pub const STATUS_TTL: std::time::Duration = std::time::Duration::from_secs(4);

/// The whole TUI state.
#[derive(Debug)]
pub struct AppState {
    pub tab: Tab,
    pub header: HeaderInfo,
    pub jobs: Vec<JobStatus>,
    pub mode: InputMode,
    pub help: bool,
    pub running: bool,
    /// Last message for the status line (export done, query failed, ...); set with
    /// [`AppState::say`], cleared by the tick after [`STATUS_TTL`].
    pub status: Option<String>,
    /// The tick time at which `status` was set (`None` until the first tick after it).
    pub status_at: Option<std::time::Instant>,
    /// The time of the last tick event.
    pub clock: Option<std::time::Instant>,
    /// Terminal size (columns, rows), for mouse hit-testing and image sizing.
    pub size: (u16, u16),
    pub rows: Vec<MetricRow>,
    /// Task families of the running evaluation whose rows have not arrived yet (shown beside its
    /// gauge); empty when none is running.
    pub families_running: Vec<String>,
    pub overview: OverviewTable,
    /// The Overview tab: sorting, filter, the visible lines of the chosen dataset and pair.
    pub overview_tab: crate::tui::tabs::overview::OverviewState,
    /// Lines and numbers of the other tabs for the chosen dataset and pair.
    pub derived: crate::tui::tabs::Derived,
    /// Every dataset with results or a gallery, in arrival order; `header.dataset` is the chosen one.
    pub datasets: Vec<String>,
    /// The chosen pair: deltas are `candidate - baseline`.
    pub baseline: String,
    pub candidate: String,
    /// The on-demand comparison of a chosen pair the run did not compare, while it is computed
    /// (or after it failed); `None` when none was asked or its rows arrived.
    pub compare: Option<crate::tui::compare_job::PendingCompare>,
    pub chooser: Option<Chooser>,
    /// Every gallery (dataset × split) that arrived; `gallery` is the chosen one.
    pub galleries: Vec<GalleryEntry>,
    pub gallery: Option<std::sync::Arc<Gallery>>,
    pub thumbs: std::sync::Arc<Thumbs>,
    pub zeroshot: ZeroShotState,
    pub retrieval: RetrievalState,
    /// Plot data of every dataset; `plots` is the chosen dataset's.
    pub plots_all: Vec<PlotData>,
    pub plots: PlotData,
    pub geometry_model: usize,
    /// RAG results of every dataset; `rag` is the chosen dataset's.
    pub rag_all: Vec<RagView>,
    pub rag: RagView,
    pub rag_pos: ListPos,
    /// Load errors, skipped rows, cache rebuilds (the `!` panel; failed jobs are added from `jobs`).
    pub problems: ProblemsState,
    /// The full-text overlay (`r`), when open.
    pub report_text: Option<crate::tui::report_text::ReportText>,
    /// How images are drawn: half blocks unless the terminal answered a graphics query.
    pub picker: Picker,
    /// Top-k of live queries.
    pub k: usize,
    pub next_query: u64,
}

impl AppState {
    pub fn new(header: HeaderInfo, picker: Picker) -> AppState {
        let overview = OverviewTable::from_rows(&header.models, &[]);
        let model = |i: usize| header.models.get(i).cloned().unwrap_or_default();
        let (baseline, candidate) = (model(0), model(1));
        AppState {
            tab: Tab::Overview,
            jobs: Vec::new(),
            mode: InputMode::Normal,
            help: false,
            running: true,
            status: None,
            status_at: None,
            clock: None,
            size: (80, 24),
            rows: Vec::new(),
            families_running: Vec::new(),
            overview,
            overview_tab: Default::default(),
            derived: Default::default(),
            datasets: Vec::new(),
            baseline,
            candidate,
            compare: None,
            chooser: None,
            galleries: Vec::new(),
            gallery: None,
            thumbs: Default::default(),
            zeroshot: ZeroShotState::default(),
            retrieval: RetrievalState::default(),
            plots_all: Vec::new(),
            plots: PlotData::default(),
            geometry_model: 0,
            rag_all: Vec::new(),
            rag: RagView::default(),
            rag_pos: ListPos::default(),
            problems: ProblemsState::default(),
            report_text: None,
            picker,
            k: 10,
            next_query: 1,
            header,
        }
    }

    pub fn model_count(&self) -> usize {
        self.header.models.len().max(1)
    }

    /// Shows `message` on the status line until [`STATUS_TTL`] after the current tick.
    pub fn say(&mut self, message: impl Into<String>) {
        self.status = Some(message.into());
        self.status_at = self.clock;
    }

    /// The tick: stamps a new message, clears one older than [`STATUS_TTL`].
    pub fn tick(&mut self, now: std::time::Instant) {
        self.clock = Some(now);
        if self.status.is_none() {
            return;
        }
        match self.status_at {
            None => self.status_at = Some(now),
            Some(at) if now.saturating_duration_since(at) >= STATUS_TTL => {
                self.status = None;
                self.status_at = None;
            }
            Some(_) => {}
        }
    }

    /// The chosen pair's place among the run's comparisons.
    pub fn pair(&self) -> Option<PairIndex> {
        self.overview.pair(&self.baseline, &self.candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_cycle() {
        assert_eq!(Tab::Rag.next(), Tab::Overview);
        assert_eq!(Tab::Overview.prev(), Tab::Rag);
        assert_eq!(Tab::Geometry.index(), 4);
    }
}
