/*!
The evaluation suite: every configured task for every model on one dataset, as one [`EvalSummary`].

This module owns the *orchestration* — which split feeds which task, which items pair up across
models, which numbers get bootstrap intervals and comparison rows — and nothing else: the metrics are
the pure functions of [`crate::eval`], the writing is [`crate::report`]'s. The headless `--report`
run and the TUI both call [`evaluate`], so they show the same numbers.

Split roles (`docs/formats.md` §1): `single_positive` → argmax zero-shot and the single-label probe's
test set; `test` → posneg zero-shot, retrieval, geometry, gap shift and the multi-label probe's test
set; `train` / `val` → probe fitting / α choice.
*/
use std::path::PathBuf;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rayon::prelude::*;

use crate::config::ConfigError;
use crate::data::Dataset;
use crate::eval::config::EvalConfig;
use crate::eval::geometry::{self, UNIFORMITY_EXACT_MAX};
use crate::eval::probe::{self, FitSettings, Split};
use crate::eval::retrieval::{self, PairedRanks};
use crate::eval::stats::{self, BootstrapConfig};
use crate::eval::summary::{
    EvalSummary, GapShiftPoint, GroupCosine, ModelPlots, ProbeCurve, ProbePoint, Progress,
    comparison_name, definitions,
};
use crate::eval::{MetricRow, ModelEmbeddings, SplitEmbeddings, classify, zeroshot};
use crate::report::{ReportError, csv, inputs, plots, record, review, table};
use crate::workbench::{DatasetEmbeddings, Workbench};

/// Largest test split for which uniformity gets bootstrap intervals (each resample costs O(N²)).
pub const UNIFORMITY_CI_MAX: usize = 1000;
/// Unmatched pairs in the cosine histogram beyond which pairs are sampled.
const HISTOGRAM_MAX_PAIRS: usize = 200_000;

/// A metric over resampled items: `stat(model, idx)`.
type StatFn<'a> = Box<dyn Fn(usize, &[usize]) -> f64 + Sync + 'a>;
/// A point value that differs from `stat(model, all items)` (e.g. subsampled uniformity).
type FullFn<'a> = Box<dyn Fn(usize) -> f64 + Sync + 'a>;

/// One bootstrapped metric: rows for every model, comparison rows for every later model.
struct Spec<'a> {
    task: &'static str,
    setting: String,
    metric: String,
    n: usize,
    stat: StatFn<'a>,
    full: Option<FullFn<'a>>,
    /// Whether the items line up across models (same manifest rows), so deltas can be paired.
    paired: bool,
}

/// The task families in the order [`evaluate`] finishes them; each is the `stage` of the progress
/// step that carries the family's finished rows ([`Progress::rows`]).
pub const TASK_FAMILIES: [&str; 5] = [
    "zero-shot",
    "retrieval",
    "geometry",
    "gap shift",
    "linear probe",
];

/// Runs the suite; progress is reported through `progress`, and every task family's rows are
/// handed over with the step that finishes it (the same rows, in the same order, as in the summary).
pub fn evaluate(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    cfg: &EvalConfig,
    progress: &mut dyn FnMut(Progress),
) -> EvalSummary {
    let mut run = Run::new(dataset, models, cfg, progress);
    let mut plots: Vec<ModelPlots> = models
        .iter()
        .map(|m| ModelPlots {
            model: m.model.clone(),
            probe_curves: Vec::new(),
            cosine: None,
            group_cosine: None,
            pca: None,
            gap_shift: Vec::new(),
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
    let mut specs: Vec<Spec> = Vec::new();
    if let Some(a) = &argmax {
        a.push_specs(&mut specs);
    }
    if let Some(p) = &posneg {
        specs.extend(p.specs());
    }
    let rows = done.add(run.bootstrap_rows(specs));
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
    if let (Some(t), Some(s)) = (&test, &shift) {
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
    fn add(&mut self, (per_model, cmp): (Vec<Vec<MetricRow>>, Vec<MetricRow>)) -> Vec<MetricRow> {
        let mut family: Vec<MetricRow> = per_model.iter().flatten().cloned().collect();
        family.extend(cmp.iter().cloned());
        for (all, mut r) in self.per_model.iter_mut().zip(per_model) {
            all.append(&mut r);
        }
        self.cmp.extend(cmp);
        family
    }
}

/// What a headless report run writes (`eclip --report FILE [--plots DIR] [--review FILE] [--json FILE]`).
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    pub csv: Option<PathBuf>,
    pub plots: Option<PathBuf>,
    pub review: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// No progress lines on stderr.
    pub quiet: bool,
    /// The command line, for the record.
    pub command: Vec<String>,
}

impl ReportRequest {
    /// True when any report output was asked for.
    pub fn wanted(&self) -> bool {
        self.csv.is_some() || self.plots.is_some() || self.review.is_some() || self.json.is_some()
    }
}

/// Why a report run stopped.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    EvalSettings(String),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("no dataset could be evaluated: {0}")]
    Nothing(String),
}

/// Evaluate every dataset with every model that embedded it, print the summary table to stdout and
/// write the requested files. Returns `Ok(false)` when a model or dataset was left out.
pub fn report(
    wb: &Workbench,
    results: &[DatasetEmbeddings],
    req: &ReportRequest,
) -> Result<bool, HeadlessError> {
    let cfg: EvalConfig = wb.config.section("eval", &wb.config.eval)?;
    let problems = cfg.problems();
    if !problems.is_empty() {
        return Err(HeadlessError::EvalSettings(format!(
            "{}: {}",
            wb.config_path().display(),
            problems.join("; ")
        )));
    }
    let mut ok =
        wb.models.iter().all(|m| m.model.is_ok()) && wb.datasets.iter().all(|d| d.dataset.is_ok());
    let mut summaries = Vec::new();
    let mut left_out = Vec::new();
    for ds in results {
        for run in &ds.runs {
            if let Err(e) = &run.result {
                ok = false;
                left_out.push(format!("{} on {}: {e}", run.model, ds.name));
            }
        }
        let models: Vec<ModelEmbeddings> = ds.successful().into_iter().cloned().collect();
        if models.is_empty() {
            ok = false;
            left_out.push(format!("{}: no model produced embeddings", ds.name));
            continue;
        }
        let quiet = req.quiet;
        let start = std::time::Instant::now();
        let mut progress = |p: Progress| {
            if !quiet {
                let t = start.elapsed().as_secs_f64();
                eprintln!(
                    "[{t:>6.1}s] [{}/{}] {} {} {}",
                    p.done, p.total, p.dataset, p.model, p.stage
                );
            }
        };
        let mut summary = evaluate(&ds.dataset, &models, &cfg, &mut progress);
        if !rag_step(wb, &cfg, &ds.dataset, &models, &mut summary, quiet, start) {
            ok = false;
        }
        summaries.push(summary);
    }
    for l in &left_out {
        eprintln!("left out: {l}");
    }
    if summaries.is_empty() {
        return Err(HeadlessError::Nothing(left_out.join("; ")));
    }
    for s in &summaries {
        println!("{}", table::render(s));
    }
    let inputs = inputs::gather(wb, req.command.clone())?;
    if let Some(csv_path) = &req.csv {
        csv::write_csv_file(csv_path, &summaries)?;
        let rec = record::write_record(csv_path, &inputs, &summaries)?;
        eprintln!("wrote {} and {}", csv_path.display(), rec.display());
    }
    if let Some(json) = &req.json {
        record::write_json_report(json, &inputs, &summaries)?;
        eprintln!("wrote {}", json.display());
    }
    // A review always has its figures: beside it in <stem>_figures/ unless --plots says where.
    let plots_dir = req.plots.clone().or_else(|| {
        req.review.as_ref().map(|r| {
            let stem = r
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            r.with_file_name(format!("{stem}_figures"))
        })
    });
    let mut figures = Vec::new();
    if let Some(dir) = &plots_dir {
        figures = plots::write_plots(dir, &summaries, &inputs::provenance(wb))?;
        eprintln!("wrote {} figures under {}", figures.len(), dir.display());
    }
    if let Some(path) = &req.review {
        review::write_review(path, &inputs, &summaries, &figures)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ok)
}

/// The RAG task on one dataset, its rows and settings merged into `summary` (after
/// [`evaluate`], which stays free of I/O and LLM calls). Progress goes to stderr at most every tenth
/// of a stage. Returns false when `[rag]` was configured but could not run; the reason is printed
/// and kept in the summary's notes, and the rest of the report is written.
fn rag_step(
    wb: &Workbench,
    eval: &EvalConfig,
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    summary: &mut EvalSummary,
    quiet: bool,
    start: std::time::Instant,
) -> bool {
    let progress = |p: &crate::rag::RagProgress| {
        let every = (p.total / 10).max(1);
        if !quiet && (p.done == p.total || p.done % every == 0) {
            eprintln!(
                "[{:>6.1}s] [rag {}/{}] {} {} {}",
                start.elapsed().as_secs_f64(),
                p.done,
                p.total,
                dataset.name,
                p.model,
                p.stage
            );
        }
    };
    match crate::rag::setup::run_for(wb, eval, dataset, models, &progress) {
        Ok(Some((rag, record))) => {
            crate::rag::setup::merge(summary, rag, record);
            true
        }
        Ok(None) => true,
        Err(e) => {
            eprintln!("rag on {}: {e}", dataset.name);
            summary.notes.push(format!("rag: not run: {e}"));
            false
        }
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
    boot: BootstrapConfig,
    notes: Vec<String>,
    progress: &'p mut dyn FnMut(Progress),
    done: usize,
    total: usize,
    /// Label index in `Dataset::labels` of each zero-shot class (`None` when the name is unknown).
    class_labels: Vec<Option<usize>>,
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
            boot: cfg.bootstrap_config(),
            notes,
            progress,
            done: 0,
            total,
            class_labels,
        }
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

    /// Class embeddings (positive prompts) of every model; `None` if one cannot be formed.
    fn class_matrix(&mut self, m: usize) -> Option<Array2<f32>> {
        let model = &self.models[m];
        let mut rows = Vec::new();
        for p in &model.prompts {
            match zeroshot::class_embedding(p.positive.view()) {
                Some(e) => rows.push(e),
                None => {
                    self.notes.push(format!(
                        "{}: class {} has no usable positive prompt: argmax zero-shot skipped",
                        model.model, p.name
                    ));
                    return None;
                }
            }
        }
        let dim = rows.first()?.len();
        Some(zeroshot::stack(&rows, dim))
    }

    fn argmax_data(&mut self) -> Option<ArgmaxData<'a>> {
        let Some(split) = self.dataset.splits.single_positive.clone() else {
            self.notes.push(
                "the dataset names no single_positive split: argmax zero-shot skipped".into(),
            );
            return None;
        };
        let views = self.split_views(&split, "single_positive")?;
        let keep: Vec<usize> = (0..views.n())
            .filter(|&k| self.single_class(views.rows[k]).is_some())
            .collect();
        if keep.len() < views.n() {
            self.notes.push(format!(
                "split {split}: {} of {} items do not have exactly one positive zero-shot class and were left out of argmax zero-shot",
                views.n() - keep.len(),
                views.n()
            ));
        }
        if keep.is_empty() {
            return None;
        }
        let y_true: Vec<usize> = keep
            .iter()
            .filter_map(|&k| self.single_class(views.rows[k]))
            .collect();
        let mut classes = Vec::new();
        let mut preds = Vec::new();
        for m in 0..self.models.len() {
            let c = self.class_matrix(m)?;
            let img = views.image(m).select(Axis(0), &keep);
            preds.push(zeroshot::argmax_predictions(
                zeroshot::class_scores(img.view(), c.view()).view(),
            ));
            classes.push(c);
        }
        Some(ArgmaxData {
            names: self.dataset.zeroshot_classes.clone(),
            views,
            keep,
            y_true,
            preds,
            classes,
        })
    }

    fn posneg_data(&mut self, test: &SplitViews<'a>) -> Option<PosnegData> {
        let mut labels = Vec::new();
        let mut scores: Vec<Vec<Vec<f64>>> = vec![Vec::new(); self.models.len()];
        for (c, name) in self.dataset.zeroshot_classes.iter().enumerate() {
            let Some(l) = self.class_labels[c] else {
                continue;
            };
            let embeds: Option<Vec<(Array1<f32>, Array1<f32>)>> = self
                .models
                .iter()
                .map(|m| {
                    let p = m.prompts.get(c)?;
                    Some((
                        zeroshot::class_embedding(p.positive.view())?,
                        zeroshot::class_embedding(p.negative.view())?,
                    ))
                })
                .collect();
            let Some(embeds) = embeds else {
                self.notes.push(format!(
                    "class {name} has no negative prompts: no posneg AUROC for it"
                ));
                continue;
            };
            let truth: Vec<bool> = test
                .rows
                .iter()
                .map(|&r| self.dataset.rows[r].labels.get(l) == Some(&1))
                .collect();
            let n_pos = truth.iter().filter(|&&t| t).count();
            if n_pos == 0 || n_pos == truth.len() {
                self.notes.push(format!(
                    "auroc:{name} (posneg) is undefined on split {}: {} positives among {} items",
                    test.name,
                    n_pos,
                    truth.len()
                ));
            }
            for (m, (pos, neg)) in embeds.iter().enumerate() {
                scores[m].push(zeroshot::posneg_probabilities(test.image(m), pos, neg));
            }
            labels.push((name.clone(), truth));
        }
        (!labels.is_empty()).then_some(PosnegData {
            labels,
            scores,
            n: test.n(),
            paired: test.paired,
        })
    }

    fn chunk(&self, n: usize) -> usize {
        if self.cfg.retrieval_chunk > 0 {
            self.cfg.retrieval_chunk
        } else {
            retrieval::default_chunk(n)
        }
    }

    fn retrieval_data(&mut self, test: &SplitViews<'a>) -> RetrievalData {
        let reports: Vec<&str> = test
            .rows
            .iter()
            .map(|&r| self.dataset.rows[r].report.as_str())
            .collect();
        let gallery = retrieval::unique_gallery(&reports);
        let dupes = test.n() - gallery.gallery.len();
        if dupes > 0 {
            self.notes.push(format!(
                "split {}: {} of {} reports repeat an earlier report string; i2t/t2i count only the paired copy as a hit (ties by index), i2t_unique uses a gallery of {} unique strings",
                test.name,
                dupes,
                test.n(),
                gallery.gallery.len()
            ));
        }
        let chunk = self.chunk(test.n());
        let ranks: Vec<PairedRanks> = (0..self.models.len())
            .map(|m| retrieval::paired_ranks(test.image(m), test.text(m), chunk))
            .collect();
        let unique: Vec<Vec<usize>> = (0..self.models.len())
            .map(|m| retrieval::gallery_ranks(test.image(m), test.text(m), &gallery, chunk))
            .collect();
        RetrievalData { ranks, unique }
    }

    fn geometry_data(&mut self, test: &SplitViews<'a>) -> GeometryData {
        let n = test.n();
        let seed = self.cfg.seed;
        let uniformity: Vec<[geometry::Uniformity; 2]> = (0..self.models.len())
            .map(|m| {
                [
                    geometry::uniformity(test.image(m), UNIFORMITY_EXACT_MAX, seed),
                    geometry::uniformity(test.text(m), UNIFORMITY_EXACT_MAX, seed),
                ]
            })
            .collect();
        if n > UNIFORMITY_EXACT_MAX {
            self.notes.push(format!(
                "uniformity on split {} ({n} items) uses a seeded subsample of {UNIFORMITY_EXACT_MAX} items (seed {seed})",
                test.name
            ));
        }
        let kernels = if n <= UNIFORMITY_CI_MAX {
            (0..self.models.len())
                .map(|m| {
                    [
                        geometry::uniformity_kernel(test.image(m)),
                        geometry::uniformity_kernel(test.text(m)),
                    ]
                })
                .collect()
        } else {
            self.notes.push(format!(
                "uniformity on split {} has no bootstrap interval above {UNIFORMITY_CI_MAX} items (each resample is O(N²))",
                test.name
            ));
            Vec::new()
        };
        GeometryData {
            uniformity,
            kernels,
        }
    }

    fn gap_shift_data(&mut self, test: &SplitViews<'a>, argmax: Option<&ArgmaxData>) -> ShiftData {
        let chunk = self.chunk(test.n());
        let mut per_model = Vec::new();
        for m in 0..self.models.len() {
            let dir = geometry::gap_direction(test.image(m), test.text(m));
            let mut lambdas = Vec::new();
            for &lambda in &self.cfg.gap_shift {
                let x = geometry::shift_along(test.image(m), dir.view(), lambda, -1.0);
                let y = geometry::shift_along(test.text(m), dir.view(), lambda, 1.0);
                let i2t = retrieval::paired_ranks(x.view(), y.view(), chunk).i2t;
                let preds = argmax.map(|a| a.shifted_predictions(m, dir.view(), lambda));
                lambdas.push(ShiftedLambda { lambda, i2t, preds });
            }
            per_model.push(ShiftedModel { dir, lambdas });
        }
        ShiftData { per_model }
    }

    /// Histograms, group-cosine matrices, PCA and gap-shift curves.
    fn figures(
        &mut self,
        test: &SplitViews<'a>,
        argmax: Option<&ArgmaxData>,
        shift: &ShiftData,
        plots: &mut [ModelPlots],
    ) {
        let cfg = self.cfg;
        let n = test.n();
        let pca_pick: Vec<usize> = if n > cfg.pca_points {
            let mut rng = StdRng::seed_from_u64(cfg.seed);
            let mut p = sample(&mut rng, n, cfg.pca_points).into_vec();
            p.sort_unstable();
            self.notes.push(format!(
                "the PCA figure of split {} shows a seeded sample of {} of {n} pairs (components fitted on them)",
                test.name, cfg.pca_points
            ));
            p
        } else {
            (0..n).collect()
        };
        let mut sampled_hist = false;
        for (m, plot) in plots.iter_mut().enumerate() {
            let hist = geometry::cosine_histograms(
                test.image(m),
                test.text(m),
                cfg.histogram_bins,
                HISTOGRAM_MAX_PAIRS,
                cfg.seed,
            );
            sampled_hist |= hist.unmatched_sampled;
            plot.cosine = Some(hist);
            plot.pca = geometry::pca2(
                test.image(m).select(Axis(0), &pca_pick).view(),
                test.text(m).select(Axis(0), &pca_pick).view(),
            );
            plot.group_cosine = Some(self.group_cosine(m, test, argmax));
            plot.gap_shift = shift.per_model[m]
                .lambdas
                .iter()
                .map(|s| GapShiftPoint {
                    lambda: s.lambda,
                    modality_gap: geometry::shifted_gap_of(
                        test.image(m),
                        test.text(m),
                        shift.per_model[m].dir.view(),
                        s.lambda,
                        None,
                    ),
                    zeroshot_accuracy: s
                        .preds
                        .as_ref()
                        .and_then(|p| argmax.map(|a| classify::accuracy(&a.y_true, p, None))),
                    r_at_1: Some(retrieval::recall_at(&s.i2t, 1, None)),
                })
                .collect();
        }
        if sampled_hist {
            self.notes.push(format!(
                "unmatched-cosine histograms on split {} use a seeded sample of {HISTOGRAM_MAX_PAIRS} pairs",
                test.name
            ));
        }
    }

    /// Group-cosine matrices: on the single-positive split when there is one (each item in one
    /// group), otherwise on the test split with every item in each class it is positive for.
    fn group_cosine(
        &self,
        m: usize,
        test: &SplitViews<'a>,
        argmax: Option<&ArgmaxData>,
    ) -> GroupCosine {
        let classes = self.dataset.zeroshot_classes.clone();
        let (split, image, text, groups) = match argmax {
            Some(a) => {
                let groups: Vec<Vec<usize>> = (0..classes.len())
                    .map(|c| {
                        (0..a.keep.len())
                            .filter(|&k| a.y_true[k] == c)
                            .map(|k| a.keep[k])
                            .collect()
                    })
                    .collect();
                (
                    a.views.name.clone(),
                    a.views.image(m),
                    a.views.text(m),
                    groups,
                )
            }
            None => {
                let groups: Vec<Vec<usize>> = self
                    .class_labels
                    .iter()
                    .map(|l| {
                        (0..test.n())
                            .filter(|&k| {
                                l.is_some_and(|l| {
                                    self.dataset.rows[test.rows[k]].labels.get(l) == Some(&1)
                                })
                            })
                            .collect()
                    })
                    .collect();
                (test.name.clone(), test.image(m), test.text(m), groups)
            }
        };
        GroupCosine {
            split,
            counts: groups.iter().map(Vec::len).collect(),
            image: geometry::group_cosine_matrix(image, &groups),
            text: geometry::group_cosine_matrix(text, &groups),
            classes,
        }
    }

    /// Linear probes for every model, fraction and seed; returns per-model and comparison rows.
    fn probes(
        &mut self,
        test: &SplitViews<'a>,
        argmax: Option<&ArgmaxData<'a>>,
        plots: &mut [ModelPlots],
    ) -> Vec<MetricRow> {
        let train = self.split_views(&self.dataset.splits.train.clone(), "train");
        let val = self.split_views(&self.dataset.splits.val.clone(), "val");
        let Some(train) = train else {
            return Vec::new();
        };
        let setup = ProbeSetup::new(self, &train, val.as_ref(), test, argmax);
        let settings = FitSettings {
            max_iterations: self.cfg.probe_max_iterations,
            ..FitSettings::default()
        };
        // results[m][f] = per-seed outcomes
        let mut results: Vec<Vec<Vec<SeedOutcome>>> = Vec::new();
        let mut subset_notes: Vec<String> = Vec::new();
        let cfg = self.cfg;
        for (m, model) in self.models.iter().enumerate() {
            let mut per_fraction = Vec::new();
            for &fraction in &cfg.probe_fractions {
                // The whole training split is the same subset for every seed: fit once.
                let seeds: &[u64] = if fraction >= 1.0 {
                    &cfg.probe_seeds[..cfg.probe_seeds.len().min(1)]
                } else {
                    &cfg.probe_seeds
                };
                let mut outcomes: Vec<(SeedOutcome, Vec<String>)> = seeds
                    .par_iter()
                    .map(|&seed| setup.run(m, fraction, seed, &cfg.probe_alphas, settings))
                    .collect();
                if let Some(first) = outcomes.first().cloned() {
                    outcomes.resize(cfg.probe_seeds.len(), first);
                }
                for (_, notes) in &outcomes {
                    for n in notes {
                        if !subset_notes.contains(n) {
                            subset_notes.push(n.clone());
                        }
                    }
                }
                per_fraction.push(outcomes.into_iter().map(|(o, _)| o).collect());
                self.step(&model.model, &format!("linear_probe fraction={fraction}"));
            }
            results.push(per_fraction);
        }
        if cfg.probe_fractions.iter().any(|&f| f >= 1.0) && cfg.probe_seeds.len() > 1 {
            subset_notes.push(
                "linear_probe fraction=1 uses the whole training split, the same for every seed: it is fitted once, so it has no seed spread (empty ci and p cells)".into(),
            );
        }
        self.notes.extend(subset_notes);
        setup.rows_and_curves(self, &results, plots)
    }

    /// Bootstrap every spec for every model, and paired deltas for every later model. Each spec is
    /// resampled from the configured seed alone, so the result does not depend on which other specs
    /// are bootstrapped in the same call.
    fn bootstrap_rows(&mut self, specs: Vec<Spec>) -> (Vec<Vec<MetricRow>>, Vec<MetricRow>) {
        let names: Vec<String> = self.models.iter().map(|m| m.model.clone()).collect();
        let ds = self.dataset.name.clone();
        let mut per_model: Vec<Vec<MetricRow>> = vec![Vec::new(); names.len()];
        let mut cmp = Vec::new();
        let boot = self.boot;
        for spec in &specs {
            let values: Vec<stats::Estimate> = (0..names.len())
                .map(|m| {
                    let mut e = stats::bootstrap(spec.n, &boot, |idx| (spec.stat)(m, idx));
                    if let Some(full) = &spec.full {
                        e.value = full(m);
                    }
                    e
                })
                .collect();
            for (m, e) in values.iter().enumerate() {
                per_model[m].push(row(
                    &names[m], &ds, spec, e.value, e.ci_low, e.ci_high, None,
                ));
            }
            if !spec.paired {
                continue;
            }
            for b in 1..names.len() {
                let mut d = stats::paired_bootstrap(
                    spec.n,
                    &boot,
                    |idx| (spec.stat)(0, idx),
                    |idx| (spec.stat)(b, idx),
                );
                if spec.full.is_some() {
                    d.value = values[b].value - values[0].value;
                }
                cmp.push(row(
                    &comparison_name(&names[b], &names[0]),
                    &ds,
                    spec,
                    d.value,
                    d.ci_low,
                    d.ci_high,
                    Some(d.p_value),
                ));
            }
        }
        (per_model, cmp)
    }

    fn finish(
        mut self,
        per_model: Vec<Vec<MetricRow>>,
        cmp: Vec<MetricRow>,
        probe_rows: Vec<MetricRow>,
        plots: Vec<ModelPlots>,
    ) -> EvalSummary {
        let names: Vec<String> = self.models.iter().map(|m| m.model.clone()).collect();
        let mut rows: Vec<MetricRow> = Vec::new();
        for (m, mut r) in per_model.into_iter().enumerate() {
            rows.append(&mut r);
            rows.extend(probe_rows.iter().filter(|p| p.model == names[m]).cloned());
        }
        rows.extend(cmp);
        rows.extend(probe_rows.into_iter().filter(|p| !names.contains(&p.model)));
        self.done = self.total;
        EvalSummary {
            dataset: self.dataset.name.clone(),
            models: names,
            rows,
            plots,
            notes: std::mem::take(&mut self.notes),
            definitions: definitions(),
            config: self.cfg.clone(),
            rag: None,
        }
    }
}

/// A metric value as a row; non-finite values become "undefined" (empty cells).
fn row(
    model: &str,
    dataset: &str,
    spec: &Spec,
    value: f64,
    lo: f64,
    hi: f64,
    p: Option<f64>,
) -> MetricRow {
    let fin = |v: f64| v.is_finite().then_some(v);
    let value = fin(value);
    MetricRow {
        model: model.to_string(),
        dataset: dataset.to_string(),
        task: spec.task.to_string(),
        setting: spec.setting.clone(),
        metric: spec.metric.clone(),
        value,
        ci_low: value.and(fin(lo)),
        ci_high: value.and(fin(hi)),
        n: spec.n,
        p_value: value.and(p.and_then(fin)),
    }
}

fn spec<'a>(
    task: &'static str,
    setting: impl Into<String>,
    metric: impl Into<String>,
    n: usize,
    paired: bool,
    stat: impl Fn(usize, &[usize]) -> f64 + Sync + 'a,
) -> Spec<'a> {
    Spec {
        task,
        setting: setting.into(),
        metric: metric.into(),
        n,
        stat: Box::new(stat),
        full: None,
        paired,
    }
}

/// Argmax zero-shot on the single-positive split.
struct ArgmaxData<'a> {
    names: Vec<String>,
    views: SplitViews<'a>,
    /// Positions (in the split) of the items with exactly one positive zero-shot class.
    keep: Vec<usize>,
    y_true: Vec<usize>,
    preds: Vec<Vec<usize>>,
    classes: Vec<Array2<f32>>,
}

impl<'a> ArgmaxData<'a> {
    fn push_specs<'s>(&'s self, specs: &mut Vec<Spec<'s>>) {
        let n = self.y_true.len();
        let k = self.names.len();
        let (t, p, paired) = (&self.y_true, &self.preds, self.views.paired);
        specs.push(spec(
            "zeroshot",
            "argmax",
            "accuracy",
            n,
            paired,
            move |m, i| classify::accuracy(t, &p[m], Some(i)),
        ));
        specs.push(spec(
            "zeroshot",
            "argmax",
            "balanced_accuracy",
            n,
            paired,
            move |m, i| classify::balanced_accuracy(t, &p[m], k, Some(i)),
        ));
        specs.push(spec(
            "zeroshot",
            "argmax",
            "macro_f1",
            n,
            paired,
            move |m, i| classify::macro_f1(t, &p[m], k, Some(i)),
        ));
        for (c, name) in self.names.iter().enumerate() {
            specs.push(spec(
                "zeroshot",
                "argmax",
                format!("f1:{name}"),
                n,
                paired,
                move |m, i| classify::per_class_f1(t, &p[m], k, Some(i))[c].unwrap_or(f64::NAN),
            ));
        }
    }

    /// Predictions after shifting images (−λ/2) and class embeddings (+λ/2) along `dir`.
    fn shifted_predictions(&self, m: usize, dir: ArrayView1<f64>, lambda: f64) -> Vec<usize> {
        let img = self.views.image(m).select(Axis(0), &self.keep);
        let x = geometry::shift_along(img.view(), dir, lambda, -1.0);
        let c = geometry::shift_along(self.classes[m].view(), dir, lambda, 1.0);
        zeroshot::argmax_predictions(zeroshot::class_scores(x.view(), c.view()).view())
    }
}

/// Posneg (CheXzero) zero-shot scores on the test split.
struct PosnegData {
    /// (class name, truth per test item)
    labels: Vec<(String, Vec<bool>)>,
    /// scores[model][label][item]
    scores: Vec<Vec<Vec<f64>>>,
    n: usize,
    paired: bool,
}

impl PosnegData {
    fn specs(&self) -> Vec<Spec<'_>> {
        let mut out = Vec::new();
        let macro_stat = move |m: usize, i: &[usize]| {
            let per: Vec<Option<f64>> = self
                .labels
                .iter()
                .enumerate()
                .map(|(l, (_, truth))| classify::auroc(truth, &self.scores[m][l], Some(i)))
                .collect();
            classify::mean_defined(&per).unwrap_or(f64::NAN)
        };
        out.push(spec(
            "zeroshot",
            "posneg",
            "macro_auroc",
            self.n,
            self.paired,
            macro_stat,
        ));
        for (l, (name, truth)) in self.labels.iter().enumerate() {
            out.push(spec(
                "zeroshot",
                "posneg",
                format!("auroc:{name}"),
                self.n,
                self.paired,
                move |m, i| classify::auroc(truth, &self.scores[m][l], Some(i)).unwrap_or(f64::NAN),
            ));
        }
        out
    }
}

struct RetrievalData {
    ranks: Vec<PairedRanks>,
    unique: Vec<Vec<usize>>,
}

/// Retrieval metric names and their functions of the ranks.
type RankMetric = fn(&[usize], &[usize]) -> f64;

fn rank_metrics() -> [(&'static str, RankMetric); 5] {
    [
        ("r@1", |r, i| retrieval::recall_at(r, 1, Some(i))),
        ("r@5", |r, i| retrieval::recall_at(r, 5, Some(i))),
        ("r@10", |r, i| retrieval::recall_at(r, 10, Some(i))),
        ("median_rank", |r, i| retrieval::median_rank(r, Some(i))),
        ("mrr", |r, i| retrieval::mrr(r, Some(i))),
    ]
}

impl RetrievalData {
    fn specs<'s>(&'s self, test: &SplitViews) -> Vec<Spec<'s>> {
        let mut out = Vec::new();
        let n = test.n();
        for setting in ["i2t", "t2i", "i2t_unique"] {
            for (metric, f) in rank_metrics() {
                out.push(spec(
                    "retrieval",
                    setting,
                    metric,
                    n,
                    test.paired,
                    move |m, i| {
                        let ranks = match setting {
                            "i2t" => &self.ranks[m].i2t,
                            "t2i" => &self.ranks[m].t2i,
                            _ => &self.unique[m],
                        };
                        f(ranks, i)
                    },
                ));
            }
        }
        out
    }
}

struct GeometryData {
    /// [image, text] per model, on all items (or the stated subsample).
    uniformity: Vec<[geometry::Uniformity; 2]>,
    /// [image, text] kernels per model when small enough for bootstrap intervals.
    kernels: Vec<[Array2<f32>; 2]>,
}

impl GeometryData {
    fn specs<'s>(&'s self, test: &'s SplitViews<'s>) -> Vec<Spec<'s>> {
        let n = test.n();
        let p = test.paired;
        let mut out = vec![
            spec("geometry", "", "modality_gap", n, p, move |m, i| {
                geometry::modality_gap_of(test.image(m), test.text(m), Some(i))
            }),
            spec("geometry", "", "alignment", n, p, move |m, i| {
                geometry::alignment(test.image(m), test.text(m), Some(i))
            }),
        ];
        for (k, metric) in [(0usize, "uniformity_image"), (1, "uniformity_text")] {
            let mut s = spec("geometry", "", metric, n, p, move |m, i| {
                self.kernels
                    .get(m)
                    .map_or(f64::NAN, |kern| geometry::uniformity_of(&kern[k], Some(i)))
            });
            s.full = Some(Box::new(move |m| self.uniformity[m][k].value));
            out.push(s);
        }
        out.push(spec("geometry", "", "cone_image", n, p, move |m, i| {
            geometry::cone_of(test.image(m), Some(i))
        }));
        out.push(spec("geometry", "", "cone_text", n, p, move |m, i| {
            geometry::cone_of(test.text(m), Some(i))
        }));
        out.push(spec(
            "geometry",
            "",
            "mean_cos_matched",
            n,
            p,
            move |m, i| geometry::mean_cos_matched(test.image(m), test.text(m), Some(i)),
        ));
        out.push(spec(
            "geometry",
            "",
            "mean_cos_unmatched",
            n,
            p,
            move |m, i| geometry::mean_cos_unmatched_of(test.image(m), test.text(m), Some(i)),
        ));
        out
    }
}

struct ShiftedLambda {
    lambda: f64,
    i2t: Vec<usize>,
    preds: Option<Vec<usize>>,
}

struct ShiftedModel {
    dir: Array1<f64>,
    lambdas: Vec<ShiftedLambda>,
}

struct ShiftData {
    per_model: Vec<ShiftedModel>,
}

impl ShiftData {
    fn specs<'s>(
        &'s self,
        test: &'s SplitViews<'s>,
        argmax: Option<&'s ArgmaxData>,
    ) -> Vec<Spec<'s>> {
        let mut out = Vec::new();
        let n = test.n();
        let lambdas = self.per_model.first().map_or(0, |s| s.lambdas.len());
        for l in 0..lambdas {
            let setting = format!("lambda={}", self.per_model[0].lambdas[l].lambda);
            out.push(spec(
                "gap_shift",
                setting.clone(),
                "modality_gap",
                n,
                test.paired,
                move |m, i| {
                    let s = &self.per_model[m];
                    geometry::shifted_gap_of(
                        test.image(m),
                        test.text(m),
                        s.dir.view(),
                        s.lambdas[l].lambda,
                        Some(i),
                    )
                },
            ));
            out.push(spec(
                "gap_shift",
                setting.clone(),
                "r@1",
                n,
                test.paired,
                move |m, i| retrieval::recall_at(&self.per_model[m].lambdas[l].i2t, 1, Some(i)),
            ));
            if let Some(a) = argmax {
                out.push(spec(
                    "gap_shift",
                    setting,
                    "zeroshot_accuracy",
                    a.y_true.len(),
                    a.views.paired,
                    move |m, i| {
                        self.per_model[m].lambdas[l]
                            .preds
                            .as_ref()
                            .map_or(f64::NAN, |p| classify::accuracy(&a.y_true, p, Some(i)))
                    },
                ));
            }
        }
        out
    }
}

/// One (model, fraction, seed) probe result.
#[derive(Debug, Clone, Default)]
struct SeedOutcome {
    single: Option<probe::SingleLabelScores>,
    multi: Option<probe::MultiLabelScores>,
    n_train_single: usize,
    n_train_multi: usize,
}

/// Which items and labels the probes use.
struct ProbeSetup<'a> {
    train: &'a SplitViews<'a>,
    val: Option<&'a SplitViews<'a>>,
    test: &'a SplitViews<'a>,
    n_classes: usize,
    /// Single-label: split positions and class per split.
    sl_train: (Vec<usize>, Vec<usize>),
    sl_val: (Vec<usize>, Vec<usize>),
    /// Test items: (split views, positions, classes).
    sl_test: Option<(&'a SplitViews<'a>, Vec<usize>, Vec<usize>)>,
    class_names: Vec<String>,
    label_names: Vec<String>,
    ml_train: Vec<Vec<bool>>,
    ml_val: Vec<Vec<bool>>,
    ml_test: Vec<Vec<bool>>,
}

impl<'a> ProbeSetup<'a> {
    fn new(
        run: &Run,
        train: &'a SplitViews<'a>,
        val: Option<&'a SplitViews<'a>>,
        test: &'a SplitViews<'a>,
        argmax: Option<&'a ArgmaxData<'a>>,
    ) -> Self {
        let single = |v: &SplitViews| -> (Vec<usize>, Vec<usize>) {
            (0..v.n())
                .filter_map(|k| run.single_class(v.rows[k]).map(|c| (k, c)))
                .unzip()
        };
        let multi = |v: &SplitViews| -> Vec<Vec<bool>> {
            v.rows
                .iter()
                .map(|&r| run.dataset.rows[r].labels.iter().map(|&x| x == 1).collect())
                .collect()
        };
        let sl_test = match argmax {
            Some(a) => Some((&a.views, a.keep.clone(), a.y_true.clone())),
            None => {
                let (k, c) = single(test);
                (!k.is_empty()).then_some((test, k, c))
            }
        };
        Self {
            train,
            val,
            test,
            n_classes: run.dataset.zeroshot_classes.len(),
            sl_train: single(train),
            sl_val: val.map(single).unwrap_or_default(),
            sl_test,
            class_names: run.dataset.zeroshot_classes.clone(),
            label_names: run.dataset.labels.clone(),
            ml_train: multi(train),
            ml_val: val.map(multi).unwrap_or_default(),
            ml_test: multi(test),
        }
    }

    fn run(
        &self,
        m: usize,
        fraction: f64,
        seed: u64,
        alphas: &[f64],
        s: FitSettings,
    ) -> (SeedOutcome, Vec<String>) {
        let mut out = SeedOutcome::default();
        let mut notes = Vec::new();
        let empty = Array2::<f32>::zeros((0, self.train.image(m).ncols()));
        if let Some((tv, tk, ty)) = &self.sl_test
            && !self.sl_train.0.is_empty()
        {
            let xtr = self.train.image(m).select(Axis(0), &self.sl_train.0);
            let sub = probe::stratified_subset(&self.sl_train.1, &self.class_names, fraction, seed);
            notes.extend(sub.notes.iter().map(|n| format!("single-label probe: {n}")));
            let xval = match self.val {
                Some(v) => v.image(m).select(Axis(0), &self.sl_val.0),
                None => empty.clone(),
            };
            let xte = tv.image(m).select(Axis(0), tk);
            out.n_train_single = sub.indices.len();
            out.single = probe::single_label_run(
                Split {
                    x: xtr.view(),
                    y: &self.sl_train.1,
                },
                &sub.indices,
                Split {
                    x: xval.view(),
                    y: &self.sl_val.1,
                },
                Split {
                    x: xte.view(),
                    y: ty,
                },
                self.n_classes,
                alphas,
                s,
            );
        }
        let sub = probe::multilabel_subset(&self.ml_train, &self.label_names, fraction, seed);
        notes.extend(sub.notes.iter().map(|n| format!("multi-label probe: {n}")));
        out.n_train_multi = sub.indices.len();
        let xval = self.val.map_or(empty.view(), |v| v.image(m));
        out.multi = probe::multi_label_run(
            Split {
                x: self.train.image(m),
                y: &self.ml_train,
            },
            &sub.indices,
            Split {
                x: xval,
                y: &self.ml_val,
            },
            Split {
                x: self.test.image(m),
                y: &self.ml_test,
            },
            self.label_names.len(),
            alphas,
            s,
        );
        (out, notes)
    }

    /// Rows (mean over seeds with t-intervals; paired t-test deltas) and the probe curves.
    fn rows_and_curves(
        &self,
        run: &Run,
        results: &[Vec<Vec<SeedOutcome>>],
        plots: &mut [ModelPlots],
    ) -> Vec<MetricRow> {
        let cfg = run.cfg;
        let names: Vec<String> = run.models.iter().map(|m| m.model.clone()).collect();
        type Getter = fn(&SeedOutcome) -> Option<(f64, f64, usize)>;
        let metrics: [(&str, Getter); 3] = [
            ("accuracy", |o| {
                o.single.map(|s| (s.accuracy, s.alpha, o.n_train_single))
            }),
            ("macro_f1", |o| {
                o.single
                    .filter(|s| s.macro_f1.is_finite())
                    .map(|s| (s.macro_f1, s.alpha, o.n_train_single))
            }),
            ("macro_auroc", |o| {
                o.multi
                    .as_ref()
                    .and_then(|s| s.macro_auroc.map(|v| (v, s.alpha, o.n_train_multi)))
            }),
        ];
        let mut rows = Vec::new();
        let mut cmp = Vec::new();
        for (metric, get) in metrics {
            for (m, name) in names.iter().enumerate() {
                let mut curve = ProbeCurve {
                    metric: metric.to_string(),
                    points: Vec::new(),
                };
                for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
                    let got: Vec<(f64, f64, usize)> =
                        results[m][f].iter().filter_map(get).collect();
                    let vals: Vec<f64> = got.iter().map(|g| g.0).collect();
                    let Some((mean, lo, hi, sd)) = probe::seed_interval(&vals, cfg.confidence)
                    else {
                        continue;
                    };
                    rows.push(probe_row(
                        name,
                        run,
                        fraction,
                        metric,
                        Some(mean),
                        lo,
                        hi,
                        vals.len(),
                        None,
                    ));
                    curve.points.push(ProbePoint {
                        fraction,
                        mean,
                        sd,
                        per_seed: vals,
                        alphas: got.iter().map(|g| g.1).collect(),
                        n_train: got.iter().map(|g| g.2).collect(),
                    });
                }
                if !curve.points.is_empty() {
                    plots[m].probe_curves.push(curve);
                }
            }
            if !self.train.paired || !self.test.paired {
                continue;
            }
            for b in 1..names.len() {
                for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
                    // Pair seeds where both models produced a value.
                    let (a, bv): (Vec<f64>, Vec<f64>) = results[0][f]
                        .iter()
                        .zip(&results[b][f])
                        .filter_map(|(oa, ob)| Some((get(oa)?.0, get(ob)?.0)))
                        .unzip();
                    if let Some((d, lo, hi, p)) = probe::paired_t_test(&a, &bv, cfg.confidence) {
                        cmp.push(probe_row(
                            &comparison_name(&names[b], &names[0]),
                            run,
                            fraction,
                            metric,
                            Some(d),
                            lo,
                            hi,
                            a.len(),
                            Some(p),
                        ));
                    }
                }
            }
        }
        rows.extend(cmp);
        rows
    }
}

#[allow(clippy::too_many_arguments)]
fn probe_row(
    model: &str,
    run: &Run,
    fraction: f64,
    metric: &str,
    value: Option<f64>,
    lo: f64,
    hi: f64,
    n: usize,
    p: Option<f64>,
) -> MetricRow {
    let fin = |v: f64| v.is_finite().then_some(v);
    MetricRow {
        model: model.to_string(),
        dataset: run.dataset.name.clone(),
        task: "linear_probe".into(),
        setting: format!("fraction={fraction}"),
        metric: metric.into(),
        value,
        ci_low: fin(lo),
        ci_high: fin(hi),
        n,
        p_value: p.and_then(fin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::synthetic::{SyntheticSpec, synthetic};

    fn small_cfg() -> EvalConfig {
        EvalConfig {
            bootstrap: 100,
            probe_seeds: vec![0, 1],
            ..EvalConfig::default()
        }
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
            &["zeroshot"][..],
            &["retrieval"],
            &["geometry"],
            &["gap_shift"],
            &["linear_probe"],
        ]) {
            let mut expected: Vec<&MetricRow> = s
                .rows
                .iter()
                .filter(|r| tasks.contains(&r.task.as_str()))
                .collect();
            let mut got: Vec<&MetricRow> = p.rows.iter().collect();
            let key = |r: &&MetricRow| (r.model.contains(" - "), r.model.clone());
            expected.sort_by_key(key);
            got.sort_by_key(key);
            assert_eq!(got, expected, "family {}", p.stage);
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
            ("zeroshot", "argmax", "accuracy"),
            ("zeroshot", "argmax", "f1:finding_0"),
            ("zeroshot", "posneg", "macro_auroc"),
            ("retrieval", "i2t", "r@1"),
            ("retrieval", "t2i", "mrr"),
            ("retrieval", "i2t_unique", "r@10"),
            ("geometry", "", "uniformity_text"),
            ("gap_shift", "lambda=0.5", "r@1"),
            ("linear_probe", "fraction=0.1", "accuracy"),
            ("linear_probe", "fraction=0.1", "macro_auroc"),
        ] {
            for model in ["CLIP", "eCLIP", "eCLIP - CLIP"] {
                let r = s.row(model, task, setting, metric);
                assert!(
                    r.is_some_and(|r| r.value.is_some()),
                    "{model} {task} {setting} {metric}"
                );
            }
            let c = s.row("eCLIP - CLIP", task, setting, metric).unwrap();
            assert!(c.p_value.is_some());
        }
        let gap = |m| {
            s.row(m, "geometry", "", "modality_gap")
                .unwrap()
                .value
                .unwrap()
        };
        assert!(gap("eCLIP") < gap("CLIP"));
        let acc = s.row("eCLIP", "zeroshot", "argmax", "accuracy").unwrap();
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
