/*!
The chosen pair's comparison on demand (`b` / `c` on any tab): when the run did not compare the
two models the choosers picked (`[eval] compare = "first"` pairs every model with the first only),
the app asks the **compare thread** for that pair's rows instead of showing empty Δ columns.

It follows the saliency pattern (gitui's asyncgit: request → pending → reply): the app builds a
[`CompareRequest`] ([`request`], pure), remembers it as pending ([`PendingCompare`]) and shows
"computing Δ …"; the run loop hands the request to the thread ([`spawn_compare`]), which answers
with an [`Event::Compared`]; the app merges the rows only if they answer the request it still
waits for (a newer choice drops older answers). Nothing is computed while drawing.

The numbers are the report's: [`WorkbenchCompare`] calls [`crate::run::compare::pair_rows`] on the
session's cached embeddings with the `[eval]` settings validated at start-up, i.e. the rows
`eclip --report` writes with `[eval] compare = [[baseline, candidate]]`.
*/
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::event::{CompareReply, CompareRequest, Event};
use super::state::AppState;
use crate::eval::MetricRow;
use crate::eval::groups::ModelGroup;
use crate::run::Settings;
use crate::workbench::DatasetEmbeddings;

/// Computes one pair's comparison rows (the real one is [`WorkbenchCompare`]; tests can use the
/// suite on synthetic embeddings).
pub trait CompareEngine: Send {
    fn compute(
        &mut self,
        req: &CompareRequest,
        cancel: &AtomicBool,
    ) -> Result<Vec<MetricRow>, String>;
}

/// The request the app waits for, and its failure once answered with one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCompare {
    pub request: CompareRequest,
    /// `Some` after the thread answered with an error (shown instead of "computing").
    pub failed: Option<String>,
}

impl PendingCompare {
    /// Whether this is the pair `candidate - baseline` of `dataset`.
    pub fn is_for(&self, dataset: &str, baseline: &str, candidate: &str) -> bool {
        let r = &self.request;
        r.dataset == dataset && r.baseline == baseline && r.candidate == candidate
    }

    /// The line shown beside the Δ column while it waits or after it failed.
    pub fn describe(&self) -> String {
        let r = &self.request;
        match &self.failed {
            None => format!("computing Δ {}−{} …", r.candidate, r.baseline),
            Some(e) => format!("Δ {}−{} failed: {e}", r.candidate, r.baseline),
        }
    }
}

/// The pending (or failed) comparison of the chosen dataset and pair, if it is the one asked.
pub fn pending_for_choice(state: &AppState) -> Option<&PendingCompare> {
    state
        .compare
        .as_ref()
        .filter(|p| p.is_for(&state.header.dataset, &state.baseline, &state.candidate))
}

/// The request for the chosen pair, or `None` when it needs none now (the run compared it, the
/// dataset is still being evaluated, it is already asked). Pure: reads the chosen dataset and
/// pair, the run's rows and what is pending.
pub fn request(state: &AppState, id: u64) -> Option<CompareRequest> {
    let (dataset, baseline, candidate) = (&state.header.dataset, &state.baseline, &state.candidate);
    if baseline == candidate || baseline.is_empty() || candidate.is_empty() {
        return None;
    }
    if state.pair().is_some() {
        return None; // the run (or an earlier request) compared them
    }
    // Only once the dataset's evaluation is complete: its summary's rows are what the pair's
    // rows are compared with, and a running evaluation still uses the cores.
    if !state.families_running.is_empty() || !evaluated(state, dataset) {
        return None;
    }
    if pending_for_choice(state).is_some_and(|p| p.failed.is_none()) {
        return None; // already asked
    }
    Some(CompareRequest {
        id,
        dataset: dataset.clone(),
        baseline: baseline.clone(),
        candidate: candidate.clone(),
    })
}

/// Whether both chosen subjects have rows of `dataset` (the evaluation reached it).
fn evaluated(state: &AppState, dataset: &str) -> bool {
    [&state.baseline, &state.candidate].iter().all(|m| {
        state
            .rows
            .iter()
            .any(|r| r.dataset == dataset && &r.model == *m)
    })
}

/// Starts the compare thread; it ends when `rx`'s sender is dropped. A request that a newer one
/// replaced while rows were being computed is skipped. `cancel` (the session's token) stops a
/// running comparison when the TUI quits.
pub fn spawn_compare(
    mut engine: Option<Box<dyn CompareEngine>>,
    rx: Receiver<CompareRequest>,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    super::worker::spawn_latest("eclip-compare", rx, tx, move |req: CompareRequest| {
        let result = match engine.as_mut() {
            Some(e) => e.compute(&req, &cancel),
            None => Err("comparing needs the session's embeddings; none were given".to_string()),
        };
        Event::Compared(CompareReply { id: req.id, result })
    })
}

/// Every dataset's embeddings of a session, filled by the embed job.
pub type EmbeddingSlot = Arc<Mutex<Vec<Arc<DatasetEmbeddings>>>>;

/// The compare engine of a workbench session: the embed job's embeddings, the replicate groups of
/// the config and the validated settings.
pub struct WorkbenchCompare {
    pub embeddings: EmbeddingSlot,
    pub groups: Vec<ModelGroup>,
    pub settings: Arc<Settings>,
}

impl CompareEngine for WorkbenchCompare {
    fn compute(
        &mut self,
        req: &CompareRequest,
        cancel: &AtomicBool,
    ) -> Result<Vec<MetricRow>, String> {
        let all = self
            .embeddings
            .lock()
            .map_err(|_| "embedding results lost")?
            .clone();
        let emb = all
            .iter()
            .find(|d| d.dataset.name == req.dataset)
            .ok_or_else(|| {
                format!(
                    "dataset {} has no embeddings (it failed to load or embed; ! lists why)",
                    req.dataset
                )
            })?;
        crate::run::compare::pair_rows(
            &emb.dataset,
            &emb.successful(),
            &self.groups,
            &self.settings.eval,
            &req.baseline,
            &req.candidate,
            cancel,
        )
        .map_err(|e| e.to_string())
    }
}
