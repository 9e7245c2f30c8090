/*!
The evaluation suite: every configured task for every model on one dataset, as one [`EvalSummary`].

This module owns the *orchestration* — which split feeds which task, which items pair up across
models, which numbers get bootstrap intervals and comparison rows — and nothing else: the metrics are
the pure functions of [`crate::eval`], the writing is the report's. The headless `--report`
run and the TUI both call [`evaluate`] (through `crate::run`), so they show the same numbers.
One module per task family: `zeroshot`, `retrieval`, `geometry`, `gap_shift`, `probe`, and
`figures` (the figures' data).

Split roles (`docs/formats.md` §1): `single_positive` → argmax zero-shot and the single-label probe's
test set; `test` → posneg zero-shot, retrieval, geometry, gap shift and the multi-label probe's test
set; `train` / `val` → probe fitting / α choice.
*/
mod figures;
mod gap_shift;
mod geometry;
mod probe;
mod retrieval;
mod zeroshot;

pub use geometry::UNIFORMITY_CI_MAX;

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::ArrayView2;

use crate::data::Dataset;
use crate::eval::config::EvalConfig;
use crate::eval::groups::{ModelGroup, ModelGroups};
use crate::eval::metrics::Task;
use crate::eval::protocol::ProtocolSettings;
use crate::eval::rows::{self, BootstrappedRows, Spec};
use crate::eval::stats::BootstrapConfig;
use crate::eval::summary::{EvalSummary, ModelPlots, Progress, definitions};
use crate::eval::{MetricRow, ModelEmbeddings, SplitEmbeddings};

/// The task families in the order [`evaluate`] finishes them; each is the `stage` of the progress
/// step that carries the family's finished rows ([`Progress::rows`]).
pub const TASK_FAMILIES: [&str; 5] = [
    Task::Zeroshot.stage(),
    Task::Retrieval.stage(),
    Task::Geometry.stage(),
    Task::GapShift.stage(),
    Task::LinearProbe.stage(),
];

/// Runs the suite; progress is reported through `progress`, and every task family's rows are
/// handed over with the step that finishes it (the same rows, in the same order, as in the summary).
/// Every model is its own group; [`evaluate_groups`] for training-seed replicates.
pub fn evaluate(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    cfg: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
) -> EvalSummary {
    evaluate_groups(dataset, models, &[], cfg, progress)
}

/// [`evaluate`] with replicate groups ([`crate::eval::groups`]): `groups` name the models that are
/// replicates of one recipe; they are resolved against `models` (models no group names are groups
/// of their own), comparisons are made between groups.
pub fn evaluate_groups(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    groups: &[ModelGroup],
    cfg: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
) -> EvalSummary {
    suite(dataset, models, groups, cfg, progress, &NEVER)
}

/// Never set: the cancel flag of an evaluation that cannot be cancelled.
static NEVER: AtomicBool = AtomicBool::new(false);

/// [`evaluate_groups`] that stops early when `cancel` is set (a signal, the TUI quitting): the
/// flag is checked between task families, between bootstrap specs and between probe fits, so it
/// returns within about one spec's or one fit's time. `None` when it was cancelled: a partly
/// evaluated dataset is not a result.
pub fn evaluate_groups_until(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    groups: &[ModelGroup],
    cfg: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Option<EvalSummary> {
    let summary = suite(dataset, models, groups, cfg, progress, cancel);
    (!cancel.load(Ordering::Relaxed)).then_some(summary)
}

fn suite(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    groups: &[ModelGroup],
    cfg: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> EvalSummary {
    let mut run = Run::new(dataset, models, cfg, progress);
    run.cancel = cancel;
    let names: Vec<String> = models.iter().map(|m| m.model.clone()).collect();
    run.groups = ModelGroups::resolve(groups, &names).with_compare(&cfg.compare);
    let mut plots: Vec<ModelPlots> = models
        .iter()
        .map(|m| ModelPlots {
            model: m.model.clone(),
            probe_curves: Vec::new(),
            cosine: None,
            group_cosine: None,
            pca: None,
            gap_shift: Vec::new(),
            reliability: Vec::new(),
            roc: Vec::new(),
        })
        .collect();

    // Each family is bootstrapped as soon as its data exist and its rows travel with the step that
    // finishes it, so a viewer can show them early. Every spec is resampled with the same seed
    // whatever its position, and rows are appended in the same family order as before, so the
    // summary does not depend on this interleaving.
    let mut done = Bootstrapped::new(models.len());
    let argmax = run.argmax_data();
    let test = run.split_views(&dataset.splits.test, "test");
    let posneg = test.as_ref().and_then(|t| run.posneg_data(t));
    zeroshot::calibration_figures(argmax.as_ref(), posneg.as_ref(), &mut plots);
    let mut specs: Vec<Spec> = Vec::new();
    if let Some(a) = &argmax {
        a.push_specs(&mut specs);
    }
    if let Some(p) = &posneg {
        specs.extend(p.specs());
    }
    let mut zeroshot_rows = run.bootstrap_rows(specs);
    if posneg.is_some() && run.groups.has_replicates() {
        run.notes.push(
            "zero-shot posneg: no DeLong rows (DeLong's test compares two single models; the replicate groups' AUROC deltas are the two-level bootstrap rows)".into(),
        );
    } else if let Some(p) = &posneg {
        let names: Vec<String> = models.iter().map(|m| m.model.clone()).collect();
        let delong = p.delong_rows(
            &dataset.name,
            &names,
            &run.groups.pairs,
            cfg.confidence,
            &mut run.notes,
        );
        zeroshot_rows.1.extend(delong);
    }
    zeroshot::mark_positives(
        zeroshot_rows
            .0
            .iter_mut()
            .flatten()
            .chain(&mut zeroshot_rows.1),
        argmax.as_ref(),
        posneg.as_ref(),
    );
    let rows = done.add(zeroshot_rows);
    run.step_with_rows("", TASK_FAMILIES[0], rows);
    let retrieval = test.as_ref().map(|t| run.retrieval_data(t));
    let specs = match (&test, &retrieval) {
        (Some(t), Some(r)) => r.specs(t),
        _ => Vec::new(),
    };
    let rows = done.add(run.bootstrap_rows(specs));
    run.step_with_rows("", TASK_FAMILIES[1], rows);
    let geometry = test.as_ref().map(|t| run.geometry_data(t));
    let specs = match (&test, &geometry) {
        (Some(t), Some(g)) => g.specs(t),
        _ => Vec::new(),
    };
    let rows = done.add(run.bootstrap_rows(specs));
    run.step_with_rows("", TASK_FAMILIES[2], rows);
    let shift = test
        .as_ref()
        .map(|t| run.gap_shift_data(t, argmax.as_ref()));
    let specs = match (&test, &shift) {
        (Some(t), Some(s)) => s.specs(t, argmax.as_ref()),
        _ => Vec::new(),
    };
    let rows = done.add(run.bootstrap_rows(specs));
    run.step_with_rows("", TASK_FAMILIES[3], rows);
    let mut probe_rows = Vec::new();
    if let (Some(t), Some(s), false) = (&test, &shift, run.cancelled()) {
        run.figures(t, argmax.as_ref(), s, &mut plots);
        probe_rows = run.probes(t, argmax.as_ref(), &mut plots);
    }
    run.step_with_rows("", TASK_FAMILIES[4], probe_rows.clone());
    run.finish(done.per_model, done.cmp, probe_rows, plots)
}

/// Bootstrapped rows gathered family by family, in the order the summary lists them.
struct Bootstrapped {
    per_model: Vec<Vec<MetricRow>>,
    cmp: Vec<MetricRow>,
}

impl Bootstrapped {
    fn new(models: usize) -> Self {
        Self {
            per_model: vec![Vec::new(); models],
            cmp: Vec::new(),
        }
    }

    /// Appends one family's rows; returns them (per-model rows, then comparison rows) for progress.
    fn add(&mut self, (per_model, cmp): BootstrappedRows) -> Vec<MetricRow> {
        let mut family: Vec<MetricRow> = per_model.iter().flatten().cloned().collect();
        family.extend(cmp.iter().cloned());
        for (all, mut r) in self.per_model.iter_mut().zip(per_model) {
            all.append(&mut r);
        }
        self.cmp.extend(cmp);
        family
    }
}

/// The embeddings of one split under every model, and whether they pair up.
struct SplitViews<'a> {
    name: String,
    per_model: Vec<&'a SplitEmbeddings>,
    /// Manifest rows (from the first model).
    rows: &'a [usize],
    paired: bool,
}

impl SplitViews<'_> {
    fn image(&self, m: usize) -> ArrayView2<'_, f32> {
        self.per_model[m].image.view()
    }
    fn text(&self, m: usize) -> ArrayView2<'_, f32> {
        self.per_model[m].text.view()
    }
    fn n(&self) -> usize {
        self.rows.len()
    }
}

struct Run<'a, 'p> {
    dataset: &'a Dataset,
    models: &'a [ModelEmbeddings],
    cfg: &'a EvalConfig,
    /// The dataset's protocol preset, resolved once from `cfg`.
    protocol: ProtocolSettings,
    boot: BootstrapConfig,
    notes: Vec<String>,
    /// What a reader must be warned about ([`EvalSummary::warnings`]).
    warnings: Vec<String>,
    progress: &'p mut dyn FnMut(Progress),
    done: usize,
    total: usize,
    /// Label index in `Dataset::labels` of each zero-shot class (`None` when the name is unknown).
    class_labels: Vec<Option<usize>>,
    /// The replicate groups over `models` (every model its own group unless configured).
    groups: ModelGroups,
    /// Set to stop early ([`evaluate_groups_until`]); the rest of the work is skipped.
    cancel: &'a AtomicBool,
}

impl<'a, 'p> Run<'a, 'p> {
    fn new(
        dataset: &'a Dataset,
        models: &'a [ModelEmbeddings],
        cfg: &'a EvalConfig,
        progress: &'p mut dyn FnMut(Progress),
    ) -> Self {
        let class_labels: Vec<Option<usize>> = dataset
            .zeroshot_classes
            .iter()
            .map(|c| dataset.labels.iter().position(|l| l == c))
            .collect();
        let mut notes = Vec::new();
        for (c, l) in dataset.zeroshot_classes.iter().zip(&class_labels) {
            if l.is_none() {
                notes.push(format!(
                    "zero-shot class {c} is not one of the dataset's labels: left out of zero-shot and probes"
                ));
            }
        }
        // Fixed steps: zero-shot, retrieval, geometry, gap shift, probes per fraction, probe rows.
        let total = 5 + cfg.probe_fractions.len() * models.len();
        Self {
            dataset,
            models,
            cfg,
            protocol: cfg.protocol_for(&dataset.name),
            boot: cfg.bootstrap_config(),
            notes,
            warnings: Vec::new(),
            progress,
            done: 0,
            total,
            class_labels,
            groups: ModelGroups::singletons(
                &models.iter().map(|m| m.model.clone()).collect::<Vec<_>>(),
            )
            .with_compare(&cfg.compare),
            cancel: &NEVER,
        }
    }

    /// Whether the evaluation was asked to stop.
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn step(&mut self, model: &str, stage: &str) {
        self.step_with_rows(model, stage, Vec::new());
    }

    /// A finished step that also hands over the rows it completed.
    fn step_with_rows(&mut self, model: &str, stage: &str, rows: Vec<MetricRow>) {
        self.done = (self.done + 1).min(self.total);
        (self.progress)(Progress {
            dataset: self.dataset.name.clone(),
            model: model.to_string(),
            stage: stage.to_string(),
            done: self.done,
            total: self.total,
            rows,
        });
    }

    fn split_views(&mut self, split: &str, role: &str) -> Option<SplitViews<'a>> {
        let per_model: Option<Vec<&SplitEmbeddings>> =
            self.models.iter().map(|m| m.splits.get(split)).collect();
        let Some(per_model) = per_model else {
            self.notes.push(format!(
                "split {split} ({role}) has no embeddings for every model: its tasks were skipped"
            ));
            return None;
        };
        let first = per_model.first()?;
        if first.rows.is_empty() {
            self.notes.push(format!(
                "split {split} ({role}) is empty: its tasks were skipped"
            ));
            return None;
        }
        let paired = per_model.iter().all(|s| s.rows == first.rows);
        if !paired {
            self.notes.push(format!(
                "split {split}: the models embedded different rows, so model differences on it are not paired (no comparison rows)"
            ));
        }
        Some(SplitViews {
            name: split.to_string(),
            rows: &first.rows,
            per_model,
            paired,
        })
    }

    /// The zero-shot class of a manifest row when exactly one zero-shot class is positive.
    fn single_class(&self, row: usize) -> Option<usize> {
        let labels = &self.dataset.rows[row].labels;
        let mut hit = None;
        for (c, l) in self.class_labels.iter().enumerate() {
            if let Some(l) = l
                && labels.get(*l) == Some(&1)
            {
                if hit.is_some() {
                    return None;
                }
                hit = Some(c);
            }
        }
        hit
    }

    /// Bootstrap every spec for every model, and paired deltas for every later model
    /// ([`rows::bootstrap_rows`]).
    fn bootstrap_rows(&self, specs: Vec<Spec>) -> BootstrappedRows {
        let names: Vec<String> = self.models.iter().map(|m| m.model.clone()).collect();
        rows::bootstrap_group_rows_until(
            &self.dataset.name,
            &names,
            &self.groups,
            &self.boot,
            &specs,
            self.cancel,
        )
    }

    fn finish(
        mut self,
        per_model: Vec<Vec<MetricRow>>,
        cmp: Vec<MetricRow>,
        probe_rows: Vec<MetricRow>,
        plots: Vec<ModelPlots>,
    ) -> EvalSummary {
        let names: Vec<String> = self.models.iter().map(|m| m.model.clone()).collect();
        let gnames = self.groups.names();
        let mut rows: Vec<MetricRow> = Vec::new();
        for (m, mut r) in per_model.into_iter().enumerate() {
            rows.append(&mut r);
            rows.extend(probe_rows.iter().filter(|p| p.model == names[m]).cloned());
            // A replicate group's probe rows after its last replicate's (like its other rows).
            for (g, members) in self.groups.members.iter().enumerate() {
                if members.last() == Some(&m) && !self.groups.is_single(g) {
                    rows.extend(probe_rows.iter().filter(|p| p.model == gnames[g]).cloned());
                }
            }
        }
        rows.extend(cmp);
        rows.extend(
            probe_rows
                .into_iter()
                .filter(|p| !names.contains(&p.model) && !gnames.contains(&p.model)),
        );
        crate::eval::metrics::adjust(&mut rows);
        self.done = self.total;
        EvalSummary {
            dataset: self.dataset.name.clone(),
            models: names,
            groups: if self.groups.has_replicates() {
                self.groups.groups.clone()
            } else {
                Vec::new()
            },
            rows,
            plots,
            notes: std::mem::take(&mut self.notes),
            warnings: std::mem::take(&mut self.warnings),
            definitions: definitions(),
            config: self.cfg.clone(),
            protocol: self.protocol,
            rag: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::Setting;
    use crate::eval::synthetic::{SyntheticSpec, synthetic};

    fn small_cfg() -> EvalConfig {
        EvalConfig {
            bootstrap: 100,
            probe_seeds: vec![0, 1],
            ..EvalConfig::default()
        }
    }

    #[test]
    fn a_cancelled_evaluation_stops_early_and_returns_nothing() {
        let (ds, models) = synthetic(&SyntheticSpec::default());
        let cfg = small_cfg();
        let cancel = AtomicBool::new(false);
        let mut steps = 0;
        let s = evaluate_groups_until(&ds, &models, &[], &cfg, &mut |_| steps += 1, &cancel);
        assert!(s.is_some_and(|s| !s.rows.is_empty()));
        // Set after the first family: the remaining families are skipped, nothing is returned.
        let cancel = AtomicBool::new(false);
        let mut stages = Vec::new();
        let s = evaluate_groups_until(
            &ds,
            &models,
            &[],
            &cfg,
            &mut |p| {
                stages.push(p.rows.len());
                cancel.store(true, Ordering::Relaxed);
            },
            &cancel,
        );
        assert!(s.is_none());
        assert!(stages[0] > 0, "the first family ran");
        assert!(stages[1..].iter().all(|&n| n == 0), "{stages:?}");
        assert!(stages.len() < steps, "probe steps were skipped: {stages:?}");
    }

    #[test]
    fn progress_hands_over_each_family_once_with_the_summary_rows() {
        let (ds, models) = synthetic(&SyntheticSpec::default());
        let mut steps: Vec<Progress> = Vec::new();
        let s = evaluate(&ds, &models, &small_cfg(), &mut |p| steps.push(p));
        let with_rows: Vec<&Progress> = steps.iter().filter(|p| !p.rows.is_empty()).collect();
        let families: Vec<&str> = with_rows.iter().map(|p| p.stage.as_str()).collect();
        assert_eq!(families, TASK_FAMILIES);
        // Each family's rows are exactly the summary's rows of its tasks, in summary order.
        for (p, tasks) in with_rows.iter().zip([
            &[Task::Zeroshot][..],
            &[Task::Retrieval],
            &[Task::Geometry],
            &[Task::GapShift],
            &[Task::LinearProbe],
        ]) {
            let mut expected: Vec<&MetricRow> =
                s.rows.iter().filter(|r| tasks.contains(&r.task)).collect();
            let mut got: Vec<&MetricRow> = p.rows.iter().collect();
            let key = |r: &&MetricRow| (r.is_comparison(), r.model.clone());
            expected.sort_by_key(key);
            got.sort_by_key(key);
            // Multiplicity is adjusted once all families are in (the summary); the rows handed
            // over per family carry the raw p only.
            let unadjusted = |rows: Vec<&MetricRow>| -> Vec<MetricRow> {
                rows.into_iter()
                    .map(|r| MetricRow {
                        p_adjusted: None,
                        adjustment: None,
                        ..r.clone()
                    })
                    .collect()
            };
            assert_eq!(unadjusted(got), unadjusted(expected), "family {}", p.stage);
        }
        let handed: usize = with_rows.iter().map(|p| p.rows.len()).sum();
        assert_eq!(handed, s.rows.len());
    }

    #[test]
    fn bootstrapping_specs_in_parts_matches_one_call() {
        // evaluate bootstraps each family on its own; before, all specs went through one call.
        let (ds, models) = synthetic(&SyntheticSpec::default());
        let cfg = small_cfg();
        let mut sink = |_: Progress| {};
        let mut run = Run::new(&ds, &models, &cfg, &mut sink);
        let argmax = run.argmax_data();
        let test = run.split_views(&ds.splits.test, "test").unwrap();
        let retrieval = run.retrieval_data(&test);
        let geometry = run.geometry_data(&test);
        let specs = |part: usize| -> Vec<Spec> {
            let mut v = Vec::new();
            if part != 2 {
                argmax.as_ref().unwrap().push_specs(&mut v);
            }
            if part != 1 {
                v.extend(retrieval.specs(&test));
                v.extend(geometry.specs(&test));
            }
            v
        };
        let whole = run.bootstrap_rows(specs(0));
        let mut parts = Bootstrapped::new(models.len());
        let first = parts.add(run.bootstrap_rows(specs(1)));
        let second = parts.add(run.bootstrap_rows(specs(2)));
        assert!(!first.is_empty() && !second.is_empty());
        assert_eq!((parts.per_model, parts.cmp), whole);
    }

    #[test]
    fn suite_covers_every_task_with_comparisons() {
        let (ds, models) = synthetic(&SyntheticSpec::default());
        let cfg = EvalConfig {
            bootstrap: 100,
            probe_seeds: vec![0, 1, 2],
            ..EvalConfig::default()
        };
        let mut steps = Vec::new();
        let s = evaluate(&ds, &models, &cfg, &mut |p| steps.push(p));
        assert_eq!(steps.last().map(|p| p.done), steps.last().map(|p| p.total));
        for (task, setting, metric) in [
            (Task::Zeroshot, Setting::Argmax, "accuracy"),
            (Task::Zeroshot, Setting::Argmax, "f1:finding_0"),
            (Task::Zeroshot, Setting::Posneg, "macro_auroc"),
            (Task::Retrieval, Setting::I2t, "r@1"),
            (Task::Retrieval, Setting::T2i, "mrr"),
            (Task::Retrieval, Setting::I2tUnique, "r@10"),
            (Task::Geometry, Setting::None, "uniformity_text"),
            (Task::GapShift, Setting::Lambda(0.5), "r@1"),
            (Task::LinearProbe, Setting::Fraction(0.1), "accuracy"),
            (Task::LinearProbe, Setting::Fraction(0.1), "macro_auroc"),
        ] {
            for model in ["CLIP", "eCLIP", "eCLIP - CLIP"] {
                let r = s.row(model, task, &setting, metric);
                assert!(
                    r.is_some_and(|r| r.value.is_some()),
                    "{model} {task} {setting} {metric}"
                );
            }
            let c = s.row("eCLIP - CLIP", task, &setting, metric).unwrap();
            assert!(c.p_value.is_some());
        }
        // Calibration rows (lower is better) for every model and their paired deltas.
        for metric in ["ece", "brier"] {
            for model in ["CLIP", "eCLIP", "eCLIP - CLIP"] {
                let r = s
                    .row(model, Task::Zeroshot, &Setting::Argmax, metric)
                    .unwrap();
                assert!(r.value.is_some() && r.ci_low.is_some(), "{model} {metric}");
            }
        }
        let brier = s
            .row("CLIP", Task::Zeroshot, &Setting::Argmax, "brier")
            .unwrap();
        assert!((0.0..=2.0).contains(&brier.value.unwrap()));
        // DeLong rows sit next to the bootstrap rows, comparisons only, with their own p.
        let d = s
            .row(
                "eCLIP - CLIP",
                Task::Zeroshot,
                &Setting::Posneg,
                "auroc_delong:finding_0",
            )
            .unwrap();
        let b = s
            .row(
                "eCLIP - CLIP",
                Task::Zeroshot,
                &Setting::Posneg,
                "auroc:finding_0",
            )
            .unwrap();
        assert!((d.value.unwrap() - b.value.unwrap()).abs() < 1e-12);
        assert!(d.p_value.is_some_and(|p| (0.0..=1.0).contains(&p)));
        assert!(d.ci_low.unwrap() <= d.value.unwrap() && d.value <= d.ci_high);
        assert!(
            s.row(
                "CLIP",
                Task::Zeroshot,
                &Setting::Posneg,
                "auroc_delong:finding_0"
            )
            .is_none()
        );
        assert_eq!(s.plots[0].reliability.len(), 15);
        assert!(!s.plots[1].roc.is_empty());
        let gap = |m| {
            s.row(m, Task::Geometry, &Setting::None, "modality_gap")
                .unwrap()
                .value
                .unwrap()
        };
        assert!(gap("eCLIP") < gap("CLIP"));
        let acc = s
            .row("eCLIP", Task::Zeroshot, &Setting::Argmax, "accuracy")
            .unwrap();
        assert!(acc.ci_low.unwrap() <= acc.value.unwrap() && acc.value <= acc.ci_high);
        assert_eq!(s.plots.len(), 2);
        assert!(s.plots[0].group_cosine.is_some() && s.plots[0].pca.is_some());
        assert_eq!(s.plots[1].gap_shift.len(), 5);
        assert!(!s.plots[0].probe_curves.is_empty());
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("repeat an earlier report")),
            "{:?}",
            s.notes
        );
    }
}
