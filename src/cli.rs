/*!
The command line: flags (clap derive), the dispatch on the mode, and the headless text output of
`info`, `summary` and `embed`. Binary-only (uses `anyhow`); everything it calls lives in the library.

Dispatch (in [`run`]): a subcommand runs that command; no subcommand shows the summary. The
report (`--report out.csv`, eval) and the terminal UI (no arguments on a terminal) plug in here as
further arms of the same `match`.
*/
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use eclip_workbench::cache::EmbeddingCache;
use eclip_workbench::config::Config;
use eclip_workbench::embed::{EmbedOptions, Shard, export, progress};
use eclip_workbench::interrupt::{Interrupted, Interrupts};
use eclip_workbench::items;
use eclip_workbench::report::headless;
use eclip_workbench::run::Settings;
use eclip_workbench::runtime::Device;
use eclip_workbench::workbench::{DatasetEmbeddings, ModelRunResult, Workbench, WorkbenchOptions};

/// Compare CLIP-style image–report embedding models (CLIP vs eCLIP) on chest X-ray data.
///
/// With no config, runs the bundled demo (fixtures/workbench.toml). ONNX Runtime is found via
/// ORT_DYLIB_PATH, then `[runtime] ort_dylib` / --ort-dylib, then the folder
/// ./scripts/install-onnxruntime.sh installs into.
#[derive(Debug, Parser)]
#[command(name = "eclip", version, about, long_about = None)]
pub struct Cli {
    /// Workbench config (workbench.toml); default: the bundled fixtures/workbench.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Execution provider: auto (CUDA if usable, else CPU, with the reason), cpu, or cuda (fail if unusable).
    #[arg(long, global = true, value_enum)]
    pub device: Option<Device>,
    /// ONNX Runtime intra-op threads per session (0 = ONNX Runtime's default).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Images/texts per ONNX Runtime call (default: config, else 32).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Option<u32>,
    /// Path to libonnxruntime.so.<version> (ORT_DYLIB_PATH takes precedence).
    #[arg(long, global = true, value_name = "FILE")]
    pub ort_dylib: Option<PathBuf>,
    /// Do not read or write the embedding cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Embedding cache folder (default: the user cache dir, ~/.cache/eclip-workbench on Linux).
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Refuse data that would make the comparison unsound instead of warning: a patient in more
    /// than one split (patient leakage) is an error (exit 1) naming the dataset and patients.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Headless report: evaluate every model on every dataset, print a summary table, and write a
    /// tidy CSV (columns model,dataset,task,setting,metric,value,ci_low,ci_high,n,p_value) plus
    /// FILE.record.json (hashes, prompts, seeds, definitions, runtime).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write SVG figures into DIR (cosine distributions, group cosines, PCA, probes, gap shift).
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Write a Markdown model-comparison review (figures beside it in <stem>_figures/ unless --plots).
    #[arg(long, value_name = "FILE")]
    pub review: Option<PathBuf>,
    /// Write every result, the figure data and the record as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write item-level records as JSON Lines (docs/items.md): per model × dataset × task × item
    /// the prediction, scores, rank, correctness, saliency scores and content hashes.
    #[arg(long, value_name = "FILE")]
    pub items: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Embed every dataset with every model and write .npz files: DIR/<dataset>/<model>/<split>.npz
    /// (arrays `image`, `text`, `row` = manifest record index, `line`) and prompts.npz.
    Embed {
        /// Output folder (optional with --shard: a shard run fills the cache for `cache merge`).
        #[arg(long, value_name = "DIR", required_unless_present = "shard")]
        out: Option<PathBuf>,
        /// Embed only shard I of N (0-based; by image content hash, see docs/scale.md).
        #[arg(long, value_name = "I/N")]
        shard: Option<Shard>,
    },
    /// Show the ONNX Runtime library, execution providers, models and datasets.
    Info,
    /// Embed (cache first) and print a text summary: rows, skipped rows, providers, throughput.
    Summary,
    /// Compare two --items files (JSON Lines, docs/items.md): the items where the models disagree
    /// most (prediction changes first, then rank changes).
    Diff {
        a: PathBuf,
        b: PathBuf,
        /// Disagreements to list.
        #[arg(long, default_value_t = 20)]
        top: usize,
    },
    /// Manage the embedding cache.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Delete every cached embedding.
    Clean,
    /// Check every cached chunk (checksums, headers) without changing anything; exit 2 if any fails.
    Verify,
    /// Copy the valid chunks of other cache folders (e.g. one per shard) into this cache.
    Merge {
        /// Cache folders to merge from (each holds a v1/ folder).
        #[arg(required = true, value_name = "DIR")]
        sources: Vec<PathBuf>,
    },
}

impl Cli {
    fn workbench_options(&self) -> WorkbenchOptions {
        WorkbenchOptions {
            device: self.device,
            threads: self.threads,
            ort_dylib: self.ort_dylib.clone(),
            batch_size: self.batch_size.map(|b| b as usize),
            cache_dir: self.cache_dir.clone(),
            no_cache: self.no_cache,
        }
    }

    /// Embedding options: progress (a bar on a terminal, plain lines otherwise, none with
    /// `--quiet`) and the cancel flag that SIGINT / SIGTERM / SIGHUP set.
    fn embed_options(&self, interrupts: &Interrupts) -> EmbedOptions {
        let mut o = EmbedOptions {
            cancel: interrupts.cancel.clone(),
            ..EmbedOptions::default()
        };
        if !self.quiet {
            o.progress = progress::for_stderr();
        }
        o
    }

    fn open(&self) -> Result<Workbench> {
        let config = Config::discover(self.config.as_deref())?;
        let wb = Workbench::open(config, &self.workbench_options())?;
        self.check_data(&wb)?;
        Ok(wb)
    }

    /// The workbench with its `[eval]` / `[rag]` settings, checked before anything is loaded or
    /// embedded.
    fn open_with_settings(&self) -> Result<(Workbench, Settings)> {
        let config = Config::discover(self.config.as_deref())?;
        let settings = Settings::resolve(&config)?;
        let wb = Workbench::open(config, &self.workbench_options())?;
        self.check_data(&wb)?;
        Ok((wb, settings))
    }

    /// `--strict`: patient leakage is an error, before anything is embedded.
    fn check_data(&self, wb: &Workbench) -> Result<()> {
        if !self.strict {
            return Ok(());
        }
        let leaks: Vec<String> = wb
            .datasets
            .iter()
            .filter_map(|d| d.dataset.as_ref().ok())
            .filter_map(|d| Some(d.patient_leakage()?.describe(&d.name)))
            .collect();
        anyhow::ensure!(
            leaks.is_empty(),
            "{}; --strict refuses it: give each patient's rows one split (or run without --strict to get a warning)",
            leaks.join("; ")
        );
        Ok(())
    }

    /// Every output path of the command, checked before anything is loaded or embedded (a typo
    /// must not cost a whole evaluation).
    fn check_outputs(&self) -> Result<()> {
        use eclip_workbench::output::{OutputKind, check_output};
        let mut paths: Vec<(&str, PathBuf, OutputKind)> = Vec::new();
        let mut file = |flag, p: &Option<PathBuf>| {
            if let Some(p) = p {
                paths.push((flag, p.clone(), OutputKind::File));
            }
        };
        file("--report", &self.report);
        file("--json", &self.json);
        file("--review", &self.review);
        file("--items", &self.items);
        if let Some(p) = &self.plots {
            paths.push(("--plots", p.clone(), OutputKind::Dir));
        }
        if let Some(Command::Embed { out: Some(p), .. }) = &self.command {
            paths.push(("embed --out", p.clone(), OutputKind::Dir));
        }
        for (flag, p, kind) in paths {
            check_output(flag, &p, kind)?;
        }
        Ok(())
    }
}

/// Exit code of a run that went through but left something out (a model, dataset or LLM call).
pub const EXIT_PARTIAL: u8 = 2;
/// Exit code of a command line clap rejects (BSD `EX_USAGE`), distinct from [`EXIT_PARTIAL`].
pub const EXIT_USAGE: u8 = 64;

/// Parses the command line, runs, and maps the outcome to an exit code (0 ok, 1 error, 2 partial:
/// some model, dataset or LLM call failed while the rest ran, 64 usage error; README "Exit codes").
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help / --version are not errors; clap prints them to stdout.
            let usage = e.use_stderr();
            let _ = e.print();
            return if usage {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_PARTIAL),
        Err(e) if interrupted(&e).is_some() => {
            let i = interrupted(&e).unwrap_or(Interrupted { signal: 2 });
            eprintln!("{i}");
            let _ = std::io::stdout().flush();
            // `_exit`: background threads (the TUI's jobs) may still be inside ONNX Runtime, whose
            // static destructors must not run under them.
            signal_hook::low_level::exit(i32::from(i.exit_code()))
        }
        Err(e) => {
            eprintln!("error: {}", eclip_workbench::run::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The signal that stopped the run, wherever in the error chain it is.
fn interrupted(e: &anyhow::Error) -> Option<Interrupted> {
    e.chain().find_map(|c| {
        c.downcast_ref::<Interrupted>().copied().or_else(|| {
            match c.downcast_ref::<headless::HeadlessError>() {
                Some(headless::HeadlessError::Interrupted(i)) => Some(*i),
                _ => None,
            }
        })
    })
}

/// Returns Ok(false) when it ran but something was left out.
pub fn run(cli: &Cli) -> Result<bool> {
    cli.check_outputs()?;
    match &cli.command {
        Some(Command::Cache {
            action: CacheAction::Clean,
        }) => cache_clean(cli),
        Some(Command::Cache {
            action: CacheAction::Verify,
        }) => cache_verify(cli),
        Some(Command::Cache {
            action: CacheAction::Merge { sources },
        }) => cache_merge(cli, sources),
        Some(Command::Info) => info(cli),
        Some(Command::Embed { out, shard }) => embed(cli, out.as_deref(), *shard),
        Some(Command::Diff { a, b, top }) => {
            let (a, b) = (items::read_items(a)?, items::read_items(b)?);
            print!("{}", items::format_diff(&items::diff(&a, &b), *top));
            Ok(true)
        }
        None if report_request(cli, &Interrupts::default()).wanted() => report(cli),
        None if eclip_workbench::tui::is_terminal() => tui(cli),
        Some(Command::Summary) | None => summary(cli),
    }
}

fn report_request(cli: &Cli, interrupts: &Interrupts) -> headless::ReportRequest {
    headless::ReportRequest {
        csv: cli.report.clone(),
        plots: cli.plots.clone(),
        review: cli.review.clone(),
        json: cli.json.clone(),
        items: cli.items.clone(),
        quiet: cli.quiet,
        command: std::env::args().collect(),
        interrupts: interrupts.clone(),
    }
}

/// SIGINT / SIGTERM / SIGHUP handling for a headless command (see `eclip_workbench::interrupt`).
fn interrupts() -> Result<Interrupts> {
    Interrupts::install().context("installing the signal handlers")
}

/// `--report` / `--plots` / `--review` / `--json`: embed (cache first), evaluate, write.
fn report(cli: &Cli) -> Result<bool> {
    let (wb, settings) = cli.open_with_settings()?;
    let interrupts = interrupts()?;
    let results = wb.embed_all(&cli.embed_options(&interrupts));
    interrupts.check()?;
    Ok(headless::report(
        &wb,
        &settings,
        &results,
        &report_request(cli, &interrupts),
    )?)
}

fn cache_clean(cli: &Cli) -> Result<bool> {
    let cache = EmbeddingCache::open(cli.cache_dir.as_deref())?;
    let n = cache.clean()?;
    let root = cache
        .root()
        .map_or_else(String::new, |p| p.display().to_string());
    println!("removed {n} cached embedding files from {root}");
    Ok(true)
}

fn cache_for_command(cli: &Cli) -> Result<EmbeddingCache> {
    anyhow::ensure!(
        !cli.no_cache,
        "--no-cache has no cache to verify or merge into"
    );
    Ok(EmbeddingCache::open(cli.cache_dir.as_deref())?)
}

fn print_cache_report(what: &str, r: &eclip_workbench::cache::CacheReport) -> bool {
    println!(
        "{what}: {} namespaces, {} chunks, {} embeddings{}",
        r.namespaces,
        r.chunks,
        r.entries,
        if r.already_present > 0 {
            format!(", {} chunks already present", r.already_present)
        } else {
            String::new()
        }
    );
    for p in &r.problems {
        println!("  bad chunk {}: {}", p.path.display(), p.reason);
    }
    r.problems.is_empty()
}

/// `eclip cache verify`.
fn cache_verify(cli: &Cli) -> Result<bool> {
    let cache = cache_for_command(cli)?;
    let root = cache.root().map(|p| p.display().to_string());
    let r = cache.verify();
    Ok(print_cache_report(
        &format!("verified {}", root.unwrap_or_default()),
        &r,
    ))
}

/// `eclip cache merge DIR...`.
fn cache_merge(cli: &Cli, sources: &[PathBuf]) -> Result<bool> {
    let cache = cache_for_command(cli)?;
    let mut ok = true;
    for src in sources {
        let r = cache
            .merge_from(src)
            .with_context(|| format!("merging {}", src.display()))?;
        ok &= print_cache_report(&format!("merged from {}", src.display()), &r);
    }
    Ok(ok)
}

fn info(cli: &Cli) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    let config = Config::discover(cli.config.as_deref())?;
    writeln!(out, "config: {}", config.path.display())?;
    let wb = Workbench::open(config, &cli.workbench_options())?;
    let rt = &wb.runtime;
    writeln!(
        out,
        "onnxruntime: {} ({}, found via {})",
        rt.version,
        rt.library.path.display(),
        rt.library.source
    )?;
    writeln!(
        out,
        "providers compiled in: {}",
        rt.available_providers().join(", ")
    )?;
    writeln!(
        out,
        "device: {} (threads {})",
        rt.options.device, rt.options.threads
    )?;
    match wb.cache.root() {
        Some(p) => writeln!(out, "cache: {}", p.display())?,
        None => writeln!(out, "cache: disabled (--no-cache)")?,
    }
    writeln!(out, "\nmodels:")?;
    let mut ok = true;
    for m in &wb.models {
        match &m.model {
            Ok(model) => {
                let s = &model.spec;
                writeln!(
                    out,
                    "  {} ({}): {} {}, embed_dim {}",
                    m.name,
                    m.path.display(),
                    s.name,
                    s.family,
                    s.embed_dim
                )?;
                writeln!(
                    out,
                    "    image {}x{}x{} mean {:?} std {:?}; text context {}",
                    s.image.channels,
                    s.image.size,
                    s.image.size,
                    s.image.mean,
                    s.image.std,
                    s.text.context_length
                )?;
                writeln!(
                    out,
                    "    image on {}; text on {}",
                    model.image_provider, model.text_provider
                )?;
            }
            Err(e) => {
                ok = false;
                writeln!(out, "  {}: FAILED: {e}", m.name)?;
            }
        }
    }
    writeln!(out, "\ndatasets:")?;
    for d in &wb.datasets {
        match &d.dataset {
            Ok(ds) => {
                let splits: Vec<String> = ds
                    .split_names()
                    .iter()
                    .map(|s| format!("{s} {}", ds.split_rows(s).len()))
                    .collect();
                writeln!(
                    out,
                    "  {} ({}): {} rows [{}], {} skipped",
                    ds.name,
                    d.path.display(),
                    ds.rows.len(),
                    splits.join(", "),
                    ds.skipped.len()
                )?;
            }
            Err(e) => {
                ok = false;
                writeln!(out, "  {}: FAILED: {e}", d.path.display())?;
            }
        }
    }
    Ok(ok)
}

fn embed(cli: &Cli, out_dir: Option<&Path>, shard: Option<Shard>) -> Result<bool> {
    let wb = cli.open()?;
    let interrupts = interrupts()?;
    let opts = EmbedOptions {
        shard,
        ..cli.embed_options(&interrupts)
    };
    let results = wb.embed_all(&opts);
    interrupts.check()?;
    let Some(out_dir) = out_dir else {
        return print_summary(&wb, &results);
    };
    let mut written = 0;
    for ds in &results {
        for run in &ds.runs {
            if let Ok(r) = &run.result {
                let files = export::write_npz(out_dir, &ds.dataset, &r.embeddings)
                    .with_context(|| format!("exporting {} / {}", ds.name, run.model))?;
                written += files.len();
            }
        }
    }
    let ok = print_summary(&wb, &results)?;
    println!("wrote {written} .npz files under {}", out_dir.display());
    Ok(ok)
}

fn tui(cli: &Cli) -> Result<bool> {
    let (wb, settings) = cli.open_with_settings()?;
    match eclip_workbench::tui::run(eclip_workbench::tui::launch::launch(wb, settings)) {
        Err(eclip_workbench::tui::Error::Interrupted(i)) => Err(i.into()),
        other => other.map(|()| true).map_err(Into::into),
    }
}

fn summary(cli: &Cli) -> Result<bool> {
    let wb = cli.open()?;
    let interrupts = interrupts()?;
    let results = wb.embed_all(&cli.embed_options(&interrupts));
    interrupts.check()?;
    print_summary(&wb, &results)
}

fn rate(n: usize, d: Duration) -> String {
    if n == 0 || d.is_zero() {
        "-".into()
    } else {
        format!("{:.1}/s", n as f64 / d.as_secs_f64())
    }
}

fn share(part: Duration, whole: Duration) -> String {
    if whole.is_zero() {
        "-".into()
    } else {
        format!("{:.0}%", 100.0 * part.as_secs_f64() / whole.as_secs_f64())
    }
}

/// The headless summary; returns false if any model or dataset failed.
fn print_summary(wb: &Workbench, results: &[DatasetEmbeddings]) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    let mut ok = print_loaded(&mut out, wb)?;
    for ds in results {
        print_dataset_notes(&mut out, ds)?;
        for run in &ds.runs {
            ok &= print_run(&mut out, run)?;
        }
    }
    if wb.runtime.options.device == Device::Auto {
        writeln!(
            out,
            "\n(--device auto; use --device cuda to require the GPU, --device cpu to skip the CUDA probe)"
        )?;
    }
    Ok(ok)
}

/// The runtime, each model's providers and what failed to load; false if anything did.
fn print_loaded(out: &mut impl Write, wb: &Workbench) -> std::io::Result<bool> {
    let rt = &wb.runtime;
    writeln!(
        out,
        "eclip-workbench — config {}",
        wb.config_path().display()
    )?;
    writeln!(
        out,
        "onnxruntime {} from {} ({})",
        rt.version,
        rt.library.path.display(),
        rt.library.source
    )?;
    let mut ok = true;
    for m in &wb.models {
        match &m.model {
            Ok(model) => writeln!(
                out,
                "model {}: image on {}, text on {}",
                m.name, model.image_provider, model.text_provider
            )?,
            Err(e) => {
                ok = false;
                writeln!(out, "model {}: NOT LOADED: {e}", m.name)?;
            }
        }
    }
    for d in &wb.datasets {
        if let Err(e) = &d.dataset {
            ok = false;
            writeln!(out, "dataset {}: NOT LOADED: {e}", d.path.display())?;
        }
    }
    if let Some(w) = wb.cache.warning() {
        writeln!(out, "warning: {w}")?;
        eprintln!("warning: {w}");
    }
    Ok(ok)
}

/// A dataset's rows, the first skipped rows and warnings, patient leakage.
fn print_dataset_notes(out: &mut impl Write, ds: &DatasetEmbeddings) -> std::io::Result<()> {
    let data = &ds.dataset;
    writeln!(
        out,
        "\ndataset {}: {} rows loaded, {} skipped while loading",
        ds.name,
        data.rows.len(),
        data.skipped.len()
    )?;
    for s in data.skipped.iter().take(5) {
        writeln!(out, "  skipped: {}", s.reason)?;
    }
    if data.skipped.len() > 5 {
        writeln!(out, "  ... and {} more", data.skipped.len() - 5)?;
    }
    for w in data.warnings.iter().take(5) {
        writeln!(out, "  warning: {}", w.reason)?;
    }
    if data.warnings.len() > 5 {
        writeln!(out, "  ... and {} more warnings", data.warnings.len() - 5)?;
    }
    if let Some(l) = data.patient_leakage() {
        writeln!(
            out,
            "  warning: {} (--strict makes this an error)",
            l.describe(&ds.name)
        )?;
    }
    Ok(())
}

/// One model's embedding of a dataset: splits, rates, cache problems, skipped rows; false if it
/// failed.
fn print_run(out: &mut impl Write, run: &ModelRunResult) -> std::io::Result<bool> {
    let r = match &run.result {
        Err(e) => {
            writeln!(out, "  {}: FAILED: {e}", run.model)?;
            return Ok(false);
        }
        Ok(r) => r,
    };
    let st = &r.stats;
    let splits: Vec<String> = r
        .embeddings
        .splits
        .iter()
        .map(|(k, v)| format!("{k} {}", v.rows.len()))
        .collect();
    writeln!(
        out,
        "  {}: [{}], {} prompt classes",
        run.model,
        splits.join(", "),
        r.embeddings.prompts.len()
    )?;
    writeln!(
        out,
        "    images: {} computed, {} from cache, {} ({} in ONNX Runtime, {} of wall)",
        st.images_computed,
        st.images_total
            .saturating_sub(st.images_computed + st.skipped.len()),
        rate(st.images_computed, st.image_wall),
        rate(st.images_computed, st.image_ort),
        share(st.image_ort, st.image_wall),
    )?;
    writeln!(
        out,
        "    texts: {} computed of {}, {} ({} in ONNX Runtime, {} of wall)",
        st.texts_computed,
        st.texts_total,
        rate(st.texts_computed, st.text_wall),
        rate(st.texts_computed, st.text_ort),
        share(st.text_ort, st.text_wall),
    )?;
    for p in &st.cache_problems {
        writeln!(out, "    cache: {p}")?;
    }
    if !st.skipped.is_empty() {
        writeln!(
            out,
            "    {} rows skipped (image unreadable):",
            st.skipped.len()
        )?;
        for s in st.skipped.iter().take(5) {
            writeln!(out, "      {}", s.reason)?;
        }
    }
    Ok(true)
}
