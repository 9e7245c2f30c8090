/*!
The headless report run (`eclip --report FILE [--plots DIR] [--review FILE] [--json FILE]`):
evaluate every dataset with every model that embedded it ([`crate::run`]: the suite, then the RAG
step), print the summary table to stdout and write the requested files with the writers of this
module's siblings.
*/
use std::path::PathBuf;

use super::{ReportError, csv, inputs, plots, plots_saliency, record, review};
use crate::data::Dataset;
use crate::eval::ModelEmbeddings;
use crate::eval::summary::{EvalSummary, Progress};
use crate::rag::RagProgress;
use crate::run::table;
use crate::run::{self, Settings, SettingsError};
use crate::workbench::{DatasetEmbeddings, Workbench};

/// What a headless report run writes (`eclip --report FILE [--plots DIR] [--review FILE] [--json FILE]`).
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    pub csv: Option<PathBuf>,
    pub plots: Option<PathBuf>,
    pub review: Option<PathBuf>,
    pub json: Option<PathBuf>,
    /// Item-level records (JSON Lines, docs/items.md).
    pub items: Option<PathBuf>,
    /// No progress lines on stderr.
    pub quiet: bool,
    /// The command line, for the record.
    pub command: Vec<String>,
    /// SIGINT / SIGTERM / SIGHUP: checked between datasets and before the files are written.
    pub interrupts: crate::interrupt::Interrupts,
}

impl ReportRequest {
    /// True when any report output was asked for.
    pub fn wanted(&self) -> bool {
        self.csv.is_some()
            || self.plots.is_some()
            || self.review.is_some()
            || self.json.is_some()
            || self.items.is_some()
    }
}

/// Why a report run stopped.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Items(#[from] crate::items::ItemsError),
    #[error("no dataset could be evaluated: {0}")]
    Nothing(String),
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

/// Evaluate every dataset with every model that embedded it, print the summary table to stdout and
/// write the requested files. Returns `Ok(false)` when a model or dataset was left out.
///
/// A signal during the evaluation ([`ReportRequest::interrupts`]) stops it within about a second
/// (the suite, the RAG and saliency steps check the flag); the files are still written for the
/// datasets that were fully evaluated, the record names the ones that were not, and the run ends
/// with [`HeadlessError::Interrupted`] (exit 128 + the signal).
pub fn report(
    wb: &Workbench,
    settings: &Settings,
    results: &[DatasetEmbeddings],
    req: &ReportRequest,
) -> Result<bool, HeadlessError> {
    let mut ok =
        wb.models.iter().all(|m| m.model.is_ok()) && wb.datasets.iter().all(|d| d.dataset.is_ok());
    let mut items_out = match &req.items {
        Some(p) => Some(crate::items::ItemWriter::create(p)?),
        None => None,
    };
    req.interrupts.check()?;
    let mut left_out: Vec<String> = wb
        .datasets
        .iter()
        .filter_map(|d| d.dataset.as_ref().err())
        .cloned()
        .collect();
    let cache_warning = wb.cache.warning();
    print_run_warnings(wb, settings, cache_warning.as_deref());
    let mut done = Evaluated::default();
    let mut not_evaluated: Vec<String> = Vec::new();
    for (i, ds) in results.iter().enumerate() {
        print_dataset_warnings(ds);
        let step = evaluate_dataset(wb, settings, ds, req, items_out.as_mut(), &mut left_out)?;
        match step {
            Step::Done {
                mut summary,
                saliency,
                ok: dataset_ok,
            } => {
                ok &= dataset_ok;
                if let Some(w) = &cache_warning {
                    summary.notes.push(format!("cache: {w}"));
                }
                done.saliency_runs
                    .extend(saliency.map(|s| (ds.dataset.name.clone(), s)));
                done.summaries.push(*summary);
            }
            Step::NoModel => ok = false,
            Step::Interrupted => {
                not_evaluated = results[i..].iter().map(|d| d.name.clone()).collect();
                break;
            }
        }
        if req.interrupts.interrupted().is_some() {
            not_evaluated = results[i + 1..].iter().map(|d| d.name.clone()).collect();
            break;
        }
    }
    for l in &left_out {
        eprintln!("left out: {l}");
    }
    let interrupted = req.interrupts.interrupted();
    if done.summaries.is_empty() {
        if let Some(i) = interrupted {
            return Err(i.into());
        }
        return Err(HeadlessError::Nothing(left_out.join("; ")));
    }
    for s in &done.summaries {
        println!("{}", table::render(s));
    }
    let mut inputs = inputs::gather(wb, req.command.clone())?;
    inputs::add_run_facts(&mut inputs, results);
    if let Some(i) = interrupted {
        inputs.interrupted = Some(record::InterruptedRecord {
            signal: crate::interrupt::signal_name(i.signal),
            not_evaluated: not_evaluated.clone(),
        });
    }
    if let (Some(w), Some(p)) = (items_out, &req.items) {
        let n = w.finish()?;
        eprintln!("wrote {n} item records to {}", p.display());
    }
    write_outputs(wb, req, &inputs, &done)?;
    if let Some(i) = interrupted {
        if !not_evaluated.is_empty() {
            eprintln!(
                "not evaluated (interrupted by {}): {}; the files above hold the other datasets. Rerun the same command to resume (embeddings are cached)",
                crate::interrupt::signal_name(i.signal),
                not_evaluated.join(", ")
            );
        }
        return Err(i.into());
    }
    Ok(ok)
}

/// The datasets evaluated so far and their saliency runs.
#[derive(Default)]
struct Evaluated {
    summaries: Vec<EvalSummary>,
    saliency_runs: Vec<(String, run::saliency::SaliencyOutcome)>,
}

/// How one dataset's evaluation ended.
enum Step {
    /// Evaluated; `ok` is false when its RAG step or an LLM call failed.
    Done {
        summary: Box<EvalSummary>,
        saliency: Option<run::saliency::SaliencyOutcome>,
        ok: bool,
    },
    /// No model produced embeddings for it (named in `left_out`).
    NoModel,
    /// A signal stopped it before it was finished; nothing of it is kept.
    Interrupted,
}

/// Warnings that concern the whole run: an unusable cache, protocols no dataset matches.
fn print_run_warnings(wb: &Workbench, settings: &Settings, cache_warning: Option<&str>) {
    if let Some(w) = cache_warning {
        eprintln!("warning: {w}");
    }
    let loaded = wb.datasets.iter().filter_map(|d| d.dataset.as_ref().ok());
    for w in settings
        .eval
        .unmatched_protocols(loaded.map(|d| d.name.as_str()))
    {
        eprintln!("warning: {w}");
    }
}

/// A dataset's loading warnings, patient leakage and skipped rows on stderr.
fn print_dataset_warnings(ds: &DatasetEmbeddings) {
    for w in &ds.dataset.warnings {
        eprintln!("warning: {}", w.reason);
    }
    if let Some(l) = ds.dataset.patient_leakage() {
        eprintln!(
            "warning: {} (--strict makes this an error)",
            l.describe(&ds.name)
        );
    }
    print_skipped(ds);
}

/// The suite, the RAG and the saliency steps on one dataset, and its item records.
fn evaluate_dataset(
    wb: &Workbench,
    settings: &Settings,
    ds: &DatasetEmbeddings,
    req: &ReportRequest,
    items_out: Option<&mut crate::items::ItemWriter>,
    left_out: &mut Vec<String>,
) -> Result<Step, HeadlessError> {
    let mut ok = true;
    for run in &ds.runs {
        if let Err(e) = &run.result {
            ok = false;
            left_out.push(format!("{} on {}: {e}", run.model, ds.name));
        }
    }
    let models: Vec<ModelEmbeddings> = ds.successful().into_iter().cloned().collect();
    if models.is_empty() {
        left_out.push(format!("{}: no model produced embeddings", ds.name));
        return Ok(Step::NoModel);
    }
    let quiet = req.quiet;
    let cancel = &*req.interrupts.cancel;
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
    let groups = run::model_groups(&wb.config);
    let Some(mut summary) = run::evaluate_groups_until(
        &ds.dataset,
        &models,
        &groups,
        &settings.eval,
        &mut progress,
        cancel,
    ) else {
        return Ok(Step::Interrupted);
    };
    let steps = Steps { quiet, start };
    ok &= rag_step(wb, settings, &ds.dataset, &models, &mut summary, steps);
    if req.interrupts.interrupted().is_some() {
        return Ok(Step::Interrupted);
    }
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    let failed = summary.rag.as_ref().map_or(0, |r| r.failed_llm_items);
    if failed > 0 {
        ok = false;
        left_out.push(format!(
            "{}: {failed} LLM call(s) failed (those items are left out of the RAG metrics; see the notes)",
            ds.name
        ));
    }
    let sal = saliency_step(
        wb,
        settings,
        &ds.dataset,
        &models,
        &mut summary,
        steps,
        cancel,
    );
    if req.interrupts.interrupted().is_some() {
        return Ok(Step::Interrupted);
    }
    if let Some(w) = items_out {
        let mut hashes = run::items::Hashes::default();
        let (records, notes) = run::items::records(&ds.dataset, &models, sal.as_ref(), &mut hashes);
        for r in &records {
            w.write(r)?;
        }
        summary
            .notes
            .extend(notes.into_iter().map(|n| format!("items: {n}")));
    }
    Ok(Step::Done {
        summary: Box::new(summary),
        saliency: sal,
        ok,
    })
}

/// The CSV and its record, the JSON document, the figures and the review, as asked.
fn write_outputs(
    wb: &Workbench,
    req: &ReportRequest,
    inputs: &record::RecordInputs,
    done: &Evaluated,
) -> Result<(), HeadlessError> {
    let summaries = &done.summaries;
    if let Some(csv_path) = &req.csv {
        csv::write_csv_file(csv_path, summaries)?;
        let rec = record::write_record(csv_path, inputs, summaries)?;
        eprintln!("wrote {} and {}", csv_path.display(), rec.display());
    }
    if let Some(json) = &req.json {
        record::write_json_report(json, inputs, summaries)?;
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
        figures = plots::write_plots(dir, summaries, &inputs::provenance(wb))?;
        figures.extend(plots_saliency::write(dir, &done.saliency_runs)?);
        eprintln!(
            "wrote {} figure files (SVG and PNG) under {}",
            figures.len(),
            dir.display()
        );
    }
    if let Some(path) = &req.review {
        review::write_review(path, inputs, summaries, &figures)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// What the RAG and saliency steps print progress with.
#[derive(Clone, Copy)]
struct Steps {
    quiet: bool,
    start: std::time::Instant,
}

/// Rows left out while loading and embedding, and rebuilt cache chunks, on stderr (at most five
/// lines of each per dataset or model, with the count).
fn print_skipped(ds: &DatasetEmbeddings) {
    let list = |what: &str, reasons: Vec<&str>| {
        if reasons.is_empty() {
            return;
        }
        eprintln!("{what}: {} row(s) skipped", reasons.len());
        for r in reasons.iter().take(5) {
            eprintln!("  skipped: {r}");
        }
        if reasons.len() > 5 {
            eprintln!("  ... and {} more", reasons.len() - 5);
        }
    };
    let data = &ds.dataset;
    list(
        &format!("{} (loading)", ds.name),
        data.skipped.iter().map(|s| s.reason.as_str()).collect(),
    );
    for run in &ds.runs {
        let Ok(r) = &run.result else { continue };
        list(
            &format!("{} / {} (embedding)", ds.name, run.model),
            r.stats.skipped.iter().map(|s| s.reason.as_str()).collect(),
        );
        for p in &r.stats.cache_problems {
            eprintln!("warning: {} / {}: {p}", ds.name, run.model);
        }
    }
}

/// The RAG task on one dataset, its rows and settings merged into `summary` (after
/// [`run::evaluate`], which stays free of I/O and LLM calls). Progress goes to stderr at most every tenth
/// of a stage. Returns false when `[rag]` was configured but could not run; the reason is printed
/// and kept in the summary's notes, and the rest of the report is written.
fn rag_step(
    wb: &Workbench,
    settings: &Settings,
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    summary: &mut EvalSummary,
    Steps { quiet, start }: Steps,
) -> bool {
    let progress = |p: &RagProgress| {
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
    match run::rag_step(wb, settings, dataset, models, summary, &progress) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("rag on {}: {e}", dataset.name);
            summary.notes.push(format!("rag: not run: {e}"));
            false
        }
    }
}

/// The saliency task on one dataset when `[saliency]` is set, its rows merged into `summary`.
/// A failure is printed and kept in the notes; the rest of the report is written.
fn saliency_step(
    wb: &Workbench,
    settings: &Settings,
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    summary: &mut EvalSummary,
    Steps { quiet, start }: Steps,
    cancel: &std::sync::atomic::AtomicBool,
) -> Option<run::saliency::SaliencyOutcome> {
    let cfg = settings.saliency.as_ref()?;
    let boot = settings.eval.bootstrap_config();
    match run::saliency::run(
        wb,
        cfg,
        &boot,
        &settings.eval.compare,
        dataset,
        models,
        cancel,
    ) {
        Ok(out) => {
            if !quiet {
                eprintln!(
                    "[{:>6.1}s] saliency {} on {}: {} items, {:.1}s",
                    start.elapsed().as_secs_f64(),
                    out.setting,
                    dataset.name,
                    out.items.len(),
                    out.wall_s
                );
            }
            run::saliency::merge(summary, &out);
            Some(out)
        }
        Err(e) => {
            eprintln!("saliency on {}: {e}", dataset.name);
            summary.notes.push(format!("saliency: not run: {e}"));
            None
        }
    }
}
