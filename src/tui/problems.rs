/*!
Problems the TUI shows (issue 13): models and datasets that failed to load, manifest rows left
out (file and line), rows kept with something missing, damaged cache files that were rebuilt,
and failed background jobs. The launch jobs collect them from the workbench
([`load_problems`]) and from each embedding run ([`embed_problems`]) and publish them as
[`crate::tui::Update::Problems`]; the `!` panel (`view::problems`) lists them wrapped and
scrollable, the footer announces them, and the summary printed on quit ends with them
([`quit_text`]). Everything that did load keeps working.
*/
use std::fmt::Write;

use super::state::{AppState, JobState, Problem, ProblemKind};
use crate::workbench::{DatasetEmbeddings, Workbench};

fn problem(kind: ProblemKind, source: &str, message: impl Into<String>) -> Problem {
    Problem {
        kind,
        source: source.to_string(),
        message: message.into(),
    }
}

/// Models and datasets that did not load, and each loaded dataset's skipped rows and warnings.
pub fn load_problems(wb: &Workbench) -> Vec<Problem> {
    let mut out = Vec::new();
    for m in &wb.models {
        if let Err(e) = &m.model {
            out.push(problem(ProblemKind::Model, &m.name, e.clone()));
        }
    }
    for d in &wb.datasets {
        match &d.dataset {
            Err(e) => out.push(problem(
                ProblemKind::Dataset,
                &d.path.display().to_string(),
                e.clone(),
            )),
            Ok(ds) => {
                out.extend(
                    ds.skipped
                        .iter()
                        .map(|s| problem(ProblemKind::SkippedRow, &ds.name, s.reason.clone())),
                );
                out.extend(
                    ds.warnings
                        .iter()
                        .map(|s| problem(ProblemKind::Warning, &ds.name, s.reason.clone())),
                );
            }
        }
    }
    out
}

/// What embedding found: models that failed on a dataset, rows whose image could not be read
/// (once per row, not per model) and cache files that were rebuilt.
pub fn embed_problems(wb: &Workbench, results: &[DatasetEmbeddings]) -> Vec<Problem> {
    let not_loaded = |model: &str| {
        wb.models
            .iter()
            .any(|m| m.name == model && m.model.is_err())
    };
    let mut out: Vec<Problem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |p: Problem| {
        if seen.insert(p.clone()) {
            out.push(p);
        }
    };
    for ds in results {
        for run in &ds.runs {
            match &run.result {
                // A model that did not load already has its load error.
                Err(_) if not_loaded(&run.model) => {}
                Err(e) => push(problem(
                    ProblemKind::Model,
                    &run.model,
                    format!("embedding dataset {}: {e}", ds.name),
                )),
                Ok(r) => {
                    for s in &r.stats.skipped {
                        push(problem(ProblemKind::SkippedRow, &ds.name, s.reason.clone()));
                    }
                    for c in &r.stats.cache_problems {
                        push(problem(ProblemKind::Cache, &run.model, c.to_string()));
                    }
                }
            }
        }
    }
    out
}

/// Every problem to show: the collected ones, then the failed jobs; load errors first.
pub fn all(state: &AppState) -> Vec<Problem> {
    let mut out: Vec<Problem> = state.problems.list.clone();
    out.extend(state.jobs.iter().filter_map(|j| match &j.state {
        JobState::Failed(e) => Some(problem(ProblemKind::Job, &j.name, e.clone())),
        _ => None,
    }));
    let rank = |k: ProblemKind| match k {
        ProblemKind::Model | ProblemKind::Dataset => 0,
        ProblemKind::Job => 1,
        ProblemKind::SkippedRow => 2,
        ProblemKind::Warning => 3,
        ProblemKind::Cache => 4,
    };
    out.sort_by_key(|p| rank(p.kind));
    out
}

/// How many problems there are (what the footer announces).
pub fn count(state: &AppState) -> usize {
    state.problems.list.len()
        + state
            .jobs
            .iter()
            .filter(|j| matches!(j.state, JobState::Failed(_)))
            .count()
}

/// What a tab shows while its data is absent: `waiting` while `job` runs or is queued, why it
/// is absent once `job` failed or finished without it, and a pointer to `!` when there are
/// problems.
pub fn placeholder_text(state: &AppState, job: &str, waiting: &str) -> String {
    let n = count(state);
    let more = if n > 0 {
        format!(
            " Press ! to see {n} problem{}.",
            if n == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    match state.jobs.iter().find(|j| j.name == job).map(|j| &j.state) {
        Some(JobState::Failed(e)) => format!("Nothing to show: {job} failed: {e}.{more}"),
        Some(JobState::Done) => {
            format!("Nothing to show: {job} finished without results for this tab.{more}")
        }
        _ => format!("{waiting}{more}"),
    }
}

/// Skipped rows and warnings listed per dataset in [`quit_text`]; the rest are counted.
const QUIT_ROWS: usize = 10;

/// The problems section of the summary printed on quit (empty when there are none).
pub fn quit_text(state: &AppState) -> String {
    let list = all(state);
    if list.is_empty() {
        return String::new();
    }
    let mut out = format!("\nproblems ({}):\n", list.len());
    let mut shown: std::collections::BTreeMap<(String, &str), usize> = Default::default();
    for p in &list {
        let per_row = matches!(p.kind, ProblemKind::SkippedRow | ProblemKind::Warning);
        let n = shown.entry((p.source.clone(), p.kind.label())).or_default();
        *n += 1;
        if per_row && *n > QUIT_ROWS {
            continue;
        }
        let _ = writeln!(out, "  {} {}: {}", p.kind.label(), p.source, p.message);
    }
    for ((source, kind), n) in &shown {
        if *n > QUIT_ROWS {
            let _ = writeln!(out, "  ... and {} more {kind}s in {source}", n - QUIT_ROWS);
        }
    }
    out
}
