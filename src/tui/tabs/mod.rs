/*!
Per-tab modules (issue 11 item 7): a tab's state, the lines it shows for the chosen dataset and
model pair, its drawing and its export rows together. [`overview`] is the first; the other tabs
still draw from `tui::view` and keep their state in `tui::state`.

This module also owns the two state updates every tab depends on — both run on events (keys,
results arriving), never while drawing:
- [`select`]: the chosen dataset and split pick the gallery, plot data and RAG results shown;
- [`refresh`]: the chosen dataset and pair pick the lines and numbers shown ([`Derived`], the
  Overview's lines, the probe intervals).
*/
pub mod overview;

use std::sync::Arc;

use super::state::{AppState, Gallery, PairIndex, PlotData};
use crate::eval::metrics::{Setting, Task};

/// What the Retrieval, Probe and Geometry tabs show of the metric rows, for the chosen dataset and
/// pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Retrieval lines (indices into `OverviewTable::lines`) with the pair's delta.
    pub retrieval: Vec<overview::ViewLine>,
    /// Per model of the Geometry tab's PCA panels: its geometry numbers ("gap 0.812",
    /// "alignment 1.204", ...), in row order.
    pub geometry: Vec<(String, Vec<String>)>,
}

/// Applies the chosen dataset and split: the gallery, plots and RAG results shown. Returns the
/// gallery to hand to the query thread when it changed.
pub fn select(state: &mut AppState) -> Option<Arc<Gallery>> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if !n.is_empty() && !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    };
    state.galleries.iter().for_each(|g| add(&g.gallery.dataset));
    state.rows.iter().for_each(|r| add(&r.dataset));
    state.plots_all.iter().for_each(|p| add(&p.dataset));
    state.rag_all.iter().for_each(|r| add(&r.dataset));
    state.datasets = names;
    if !state.datasets.contains(&state.header.dataset)
        && let Some(first) = state.datasets.first()
    {
        state.header.dataset = first.clone();
    }
    let dataset = state.header.dataset.clone();
    state.plots = state
        .plots_all
        .iter()
        .find(|p| p.dataset == dataset)
        .cloned()
        .unwrap_or_default();
    let rag = state
        .rag_all
        .iter()
        .find(|r| r.dataset == dataset)
        .cloned()
        .unwrap_or_default();
    if rag != state.rag {
        state.rag = rag;
        state.rag_pos.selected = 0;
    }
    // The chosen split if this dataset has its gallery, else the dataset's first gallery.
    let entry = state
        .galleries
        .iter()
        .find(|g| g.gallery.dataset == dataset && g.gallery.split == state.header.split)
        .or_else(|| {
            state
                .galleries
                .iter()
                .find(|g| g.gallery.dataset == dataset)
        })
        .cloned();
    let entry = entry?;
    let same = state
        .gallery
        .as_ref()
        .is_some_and(|g| Arc::ptr_eq(g, &entry.gallery));
    if same {
        return None;
    }
    state.header.split = entry.gallery.split.clone();
    state.gallery = Some(entry.gallery.clone());
    state.thumbs = entry.thumbs.clone();
    // Results of the old gallery index other items: start afresh.
    state.zeroshot.results.clear();
    state.zeroshot.opened = None;
    state.zeroshot.rank = 0;
    state.retrieval.results.clear();
    state.retrieval.opened = None;
    state.retrieval.item = 0;
    state.retrieval.rank = 0;
    state.retrieval.truth = None;
    Some(entry.gallery)
}

/// Rebuilds the lines every tab shows for the chosen dataset and pair.
pub fn refresh(state: &mut AppState) {
    let pair = state.pair();
    let dataset = state.header.dataset.clone();
    state.overview_tab.refresh(&state.overview, &dataset, pair);
    state.derived = derive(state, &dataset, pair);
    let mut plots = std::mem::take(&mut state.plots);
    probe_intervals(&mut plots, state, &dataset);
    state.plots = plots;
}

fn derive(state: &AppState, dataset: &str, pair: Option<PairIndex>) -> Derived {
    let t = &state.overview;
    let retrieval = t
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.dataset == dataset && l.task == Task::Retrieval)
        .map(|(i, l)| overview::ViewLine {
            line: i,
            name: format!("{} {}", l.setting, l.metric),
            delta: l.delta(pair),
        })
        .collect();
    let geometry = state
        .plots
        .pca
        .iter()
        .map(|p| {
            let text = t
                .models
                .iter()
                .position(|m| *m == p.model)
                .map_or(Vec::new(), |m| {
                    t.lines
                        .iter()
                        .filter(|l| l.dataset == dataset && l.task == Task::Geometry)
                        .filter_map(|l| {
                            let v = l.values.get(m)?.as_ref()?.value?;
                            let name = match l.metric.as_str() {
                                "modality_gap" => "gap",
                                other => other,
                            };
                            Some(format!("{name} {v:.3}"))
                        })
                        .collect()
                });
            (p.model.clone(), text)
        })
        .collect();
    Derived {
        retrieval,
        geometry,
    }
}

/// Fills each probe curve's interval per fraction from the probe's metric rows of the model.
fn probe_intervals(plots: &mut PlotData, state: &AppState, dataset: &str) {
    let t = &state.overview;
    let mut curves = std::mem::take(&mut plots.probe);
    for c in &mut curves {
        let m = t.models.iter().position(|x| *x == c.model);
        c.ci = c
            .fractions
            .iter()
            .map(|&f| {
                let setting = Setting::Fraction(f);
                let line = t.lines.iter().find(|l| {
                    l.dataset == dataset
                        && l.task == Task::LinearProbe
                        && l.metric == c.metric
                        && l.setting == setting
                })?;
                line.values.get(m?)?.as_ref()?.ci
            })
            .collect();
    }
    plots.probe = curves;
}
