/*!
The application layer: "workbench + suite + RAG → results per dataset", shared by the two
front ends, the headless report ([`crate::report::headless`]) and the terminal UI ([`crate::tui`]),
which import nothing of each other.

It owns
- [`Settings`]: the `[eval]` and `[rag]` sections parsed, resolved and validated once, at start-up,
  before any embedding, with every problem named at once ([`SettingsError`]);
- [`evaluate`] (the suite of [`crate::eval::suite`]) and [`rag_step`] (the RAG task of
  [`rag::run_for`] merged into the summary), so both front ends run the same steps;
- [`compare`]: one pair's comparison rows on demand (the TUI's chosen pair that the run did not
  compare), the suite's rows for `[eval] compare = [[baseline, candidate]]`;
- [`rag`]: the wiring of `[rag]` to the workbench (paths, corpus CSV embedding, the settings record).
*/
pub mod compare;
pub mod items;
pub mod rag;
pub mod saliency;
pub mod table;

use std::path::PathBuf;

use crate::config::{Config, ConfigError};
use crate::data::Dataset;
use crate::eval::ModelEmbeddings;
use crate::eval::config::EvalConfig;
use crate::eval::summary::EvalSummary;
use crate::rag::{RagConfig, RagError, RagProgress};
use crate::workbench::Workbench;

pub use crate::eval::suite::{TASK_FAMILIES, evaluate, evaluate_groups, evaluate_groups_until};

/// The evaluation settings of a config, resolved and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub eval: EvalConfig,
    /// `[rag]` with paths resolved against the config file and `seed` / `bootstrap` from `[eval]`
    /// where unset.
    pub rag: RagConfig,
    /// Whether the config has a `[rag]` section. Without one, RAG runs with the defaults on the
    /// datasets that have a corpus and is skipped, with a note, on evaluation-only datasets.
    pub rag_explicit: bool,
    /// `[saliency]`; `None` (the task is off) when the section is absent or empty.
    pub saliency: Option<crate::saliency::SaliencySettings>,
}

/// Every problem of a config's `[eval]` and `[rag]` sections.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", path.display(), problems.join("; "))]
pub struct SettingsError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

impl Settings {
    /// Parse and check `[eval]` and `[rag]` of `config`; all problems are reported together.
    pub fn resolve(config: &Config) -> Result<Settings, SettingsError> {
        let mut problems = Vec::new();
        let mut note = |e: ConfigError| {
            problems.push(match e {
                ConfigError::Invalid { message, .. } => message,
                other => other.to_string(),
            })
        };
        let eval = match config.section::<EvalConfig>("eval", &config.eval) {
            Ok(eval) => eval,
            Err(e) => {
                note(e);
                EvalConfig::default()
            }
        };
        let rag = match rag::config(config, &eval) {
            Ok(rag) => Some(rag),
            Err(e) => {
                note(e);
                None
            }
        };
        let saliency = saliency::settings(&config.saliency).unwrap_or_else(|e| {
            problems.push(e.to_string());
            None
        });
        problems.extend(eval.problems());
        problems.extend(eval.compare.problems(&compared_names(config)));
        if let Some(rag) = &rag {
            problems.extend(crate::rag::problems(rag));
            problems.extend(rag::text_encoder_problems(rag));
        }
        match rag {
            Some(rag) if problems.is_empty() => Ok(Settings {
                eval,
                rag,
                rag_explicit: !config.rag.is_empty(),
                saliency,
            }),
            _ => Err(SettingsError {
                path: config.path.clone(),
                problems,
            }),
        }
    }
}

/// The RAG task on one dataset, its rows and settings merged into `summary` (after [`evaluate`],
/// which stays free of I/O and LLM calls). `Ok(false)` when no generator is configured.
pub fn rag_step(
    wb: &Workbench,
    settings: &Settings,
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    summary: &mut EvalSummary,
    progress: &(dyn Fn(&RagProgress) + Sync),
) -> Result<bool, RagError> {
    if !settings.rag_explicit && settings.rag.corpus_csv.is_none() {
        let corpus = settings
            .rag
            .corpus_split
            .as_deref()
            .unwrap_or(&dataset.splits.train);
        if dataset.split_rows(corpus).is_empty() {
            summary.notes.push(format!(
                "rag: not run on {}: its corpus split {corpus:?} has no rows (an evaluation-only \
                 dataset, e.g. a 5x200 recipe); add a [rag] section with corpus_csv (or \
                 corpus_split) to run it",
                dataset.name
            ));
            return Ok(false);
        }
    }
    match rag::run_for(wb, &settings.rag, dataset, models, progress)? {
        Some((result, mut record)) => {
            record.failed_llm_items = result
                .per_model
                .iter()
                .flat_map(|m| &m.items)
                .filter(|i| i.error.is_some())
                .count();
            rag::merge(summary, result, record);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The names `[eval] compare` may pair, in config order: every `[[models]]` entry's name (a
/// replicate group's, not its replicates').
pub fn compared_names(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &config.models {
        let name = m.group.as_ref().unwrap_or(&m.name);
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// The replicate groups of a config's `[[models]]` entries with `replicates`, for
/// [`evaluate_groups`], the RAG and the saliency steps (empty when there are none).
pub fn model_groups(config: &Config) -> Vec<crate::eval::groups::ModelGroup> {
    config
        .groups
        .iter()
        .map(|g| crate::eval::groups::ModelGroup {
            name: g.name.clone(),
            replicates: g.replicates.clone(),
        })
        .collect()
}

/// Add a step's rows to a summary: each model's rows after its own, comparison rows after the
/// others (the RAG and saliency steps).
pub(crate) fn merge_rows(summary: &mut EvalSummary, extra: &[crate::eval::MetricRow]) {
    let rows = std::mem::take(&mut summary.rows);
    // Models, then replicate groups (their rows are not comparisons either).
    let mut subjects = summary.models.clone();
    subjects.extend(summary.groups.iter().map(|g| g.name.clone()));
    let is_model = |r: &crate::eval::MetricRow| subjects.contains(&r.model);
    let mut merged = Vec::with_capacity(rows.len() + extra.len());
    for m in &subjects {
        merged.extend(rows.iter().filter(|r| &r.model == m).cloned());
        merged.extend(extra.iter().filter(|r| &r.model == m).cloned());
    }
    merged.extend(rows.iter().filter(|r| !is_model(r)).cloned());
    merged.extend(extra.iter().filter(|r| !is_model(r)).cloned());
    summary.rows = merged;
    // The extra rows (RAG, saliency) join their dataset's multiplicity families.
    crate::eval::metrics::adjust(&mut summary.rows);
}

/// An error and its sources as one line, `outer: inner: ...`, for the front ends (the binary's
/// `error:` line, the TUI's job and query errors). A source whose text the line already holds (a
/// message that also embeds its `{source}`) is not repeated.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chains_do_not_repeat_embedded_sources() {
        let io = std::io::Error::other("disk full");
        let e = ConfigError::Io {
            path: PathBuf::from("/x.toml"),
            source: io,
        };
        assert_eq!(error_chain(&e), "cannot read config /x.toml: disk full");
        let e = RagError::UnknownGenerator("x".into());
        assert_eq!(
            error_chain(&e),
            "unknown RAG generator \"x\" (use top1, centroid, llm or llm:<model>)"
        );
    }

    fn config(text: &str) -> Config {
        let text = format!(
            "[[models]]\nname = \"A\"\npath = \"a\"\n[[datasets]]\npath = \"d.toml\"\n{text}"
        );
        Config::parse(&text, std::path::Path::new("/cfg/workbench.toml")).expect("parses")
    }

    #[test]
    fn every_problem_of_both_sections_is_reported_at_once() {
        let c = config(
            "[eval]\nconfidence = 2.0\nprobe_fractions = [0.0]\n[rag]\ngenerators = [\"nope\"]\n",
        );
        let e = Settings::resolve(&c).expect_err("invalid");
        assert_eq!(e.problems.len(), 3, "{:?}", e.problems);
        assert!(e.to_string().starts_with("/cfg/workbench.toml: "), "{e}");
        assert!(e.to_string().contains("nope"), "{e}");
        let e = Settings::resolve(&config("[eval]\nsed = 1\n[rag]\nkk = 1\n")).expect_err("keys");
        assert_eq!(e.problems.len(), 2, "{:?}", e.problems);
        assert!(e.problems[0].contains("[eval]") && e.problems[1].contains("[rag]"));
    }

    #[test]
    fn compare_is_checked_against_the_model_entries() {
        let two = |eval: &str| {
            // Replicate folders are checked when the config is read: the fixture models.
            let m = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/models");
            let text = format!(
                "[[models]]\nname = \"CLIP\"\npath = \"a\"\n[[models]]\nname = \"eCLIP\"\n\
                 replicates = [\"{m}/eclip\", \"{m}/eclip-s1\"]\n[[datasets]]\npath = \"d.toml\"\n\
                 [eval]\n{eval}\n"
            );
            Config::parse(&text, std::path::Path::new("/cfg/workbench.toml")).expect("parses")
        };
        assert_eq!(compared_names(&two("")), ["CLIP", "eCLIP"]);
        let s = Settings::resolve(&two("compare = [[\"eCLIP\", \"CLIP\"]]")).expect("valid");
        assert!(!s.eval.compare.is_first());
        assert!(Settings::resolve(&two("compare = \"all\"")).is_ok());
        // A replicate's own name is no compared subject: the group is.
        let e = Settings::resolve(&two("compare = [[\"CLIP\", \"eCLIP#0\"]]")).expect_err("name");
        assert!(e.to_string().contains("[eval] compare") && e.to_string().contains("eCLIP#0"));
        assert!(e.to_string().contains("did you mean `eCLIP`?"), "{e}");
    }

    #[test]
    fn text_encoder_problems_name_the_key() {
        let e = Settings::resolve(&config("[rag]\ncluster_with = \"text_encoder\"\n"))
            .expect_err("no encoder");
        assert!(
            e.problems.len() == 1 && e.problems[0].contains("[rag] text_encoder"),
            "{:?}",
            e.problems
        );
        let e = Settings::resolve(&config("[rag]\ncluster_with = \"bert\"\n")).expect_err("value");
        assert!(e.problems[0].contains("cluster_with"), "{:?}", e.problems);
        let e = Settings::resolve(&config("[rag]\ntext_encoder = \"no/such/dir\"\n"))
            .expect_err("missing folder");
        assert!(
            e.problems[0].contains("[rag] text_encoder")
                && e.problems[0].contains("/cfg/no/such/dir/text_encoder.json"),
            "{:?}",
            e.problems
        );
    }

    #[test]
    fn probe_standardize_is_a_checked_bool() {
        let e = Settings::resolve(&config("[eval]\nprobe_standardize = \"yes\"\n"))
            .expect_err("not a bool");
        assert!(
            e.problems.len() == 1 && e.problems[0].contains("probe_standardize"),
            "{:?}",
            e.problems
        );
        let on = Settings::resolve(&config("[eval]\nprobe_standardize = true\n")).expect("valid");
        assert!(on.eval.probe_standardize);
        let off = Settings::resolve(&config("")).expect("valid");
        assert!(!off.eval.probe_standardize, "off by default");
    }

    #[test]
    fn a_valid_config_resolves_rag_against_eval() {
        let s = Settings::resolve(&config("[eval]\nseed = 7\n[rag]\nexport_dir = \"x\"\n"))
            .expect("valid");
        assert_eq!(s.rag.seed, 7);
        assert_eq!(s.rag.export_dir, Some(PathBuf::from("/cfg/x")));
    }
}
