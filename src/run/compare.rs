/*!
One pair's comparison on demand: the rows `candidate - baseline` of a dataset that the run did not
compare (the TUI's `b` / `c` choosers pick any two models or groups; `[eval] compare = "first"`
compares each with the first only).

The rows are the suite's own ([`crate::eval::suite::evaluate_groups_until`]) with
`[eval] compare = [[baseline, candidate]]` and the same settings and seed, so they are the rows
`eclip --report` writes for that config: the bootstrap resamples each spec with the same seed
whatever else is evaluated, the probe fits each model on its own, and the multiplicity adjustment
runs per (dataset, pair). Only the two subjects' models are evaluated (a replicate group's
replicates, or the one model), which is what makes it cheaper than a rerun of the whole suite;
`tests/compare_on_demand.rs` checks the rows equal those of the full run.
*/
use std::sync::atomic::AtomicBool;

use crate::data::Dataset;
use crate::eval::config::EvalConfig;
use crate::eval::groups::{Compare, ModelGroup, ModelGroups};
use crate::eval::{MetricRow, ModelEmbeddings};

/// Why a pair could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("`{0}` is compared with itself: choose two different models")]
    SameSubject(String),
    #[error(
        "`{name}` has no embeddings on dataset {dataset} (it failed to load or embed; ! lists why)"
    )]
    NoEmbeddings { name: String, dataset: String },
    #[error("cancelled")]
    Cancelled,
}

/// The comparison rows of `candidate - baseline` on `dataset` (names of models or of replicate
/// groups in `groups`), computed with `cfg`'s settings; only comparison rows are returned, with
/// their p-values adjusted over this pair's family (as in a report that compares only this pair).
pub fn pair_rows(
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    groups: &[ModelGroup],
    cfg: &EvalConfig,
    baseline: &str,
    candidate: &str,
    cancel: &AtomicBool,
) -> Result<Vec<MetricRow>, PairError> {
    if baseline == candidate {
        return Err(PairError::SameSubject(baseline.to_string()));
    }
    let names: Vec<String> = models.iter().map(|m| m.model.clone()).collect();
    let resolved = ModelGroups::resolve(groups, &names);
    let mut keep = Vec::new();
    for subject in [baseline, candidate] {
        let g = resolved
            .groups
            .iter()
            .position(|g| g.name == subject)
            .ok_or_else(|| PairError::NoEmbeddings {
                name: subject.to_string(),
                dataset: dataset.name.clone(),
            })?;
        keep.extend(resolved.members[g].iter().copied());
    }
    keep.sort_unstable();
    let chosen: Vec<ModelEmbeddings> = keep.iter().map(|&i| models[i].clone()).collect();
    let cfg = EvalConfig {
        compare: Compare::Pairs(vec![[baseline.to_string(), candidate.to_string()]]),
        ..cfg.clone()
    };
    let summary = crate::eval::suite::evaluate_groups_until(
        dataset,
        &chosen,
        groups,
        &cfg,
        &mut |_| {},
        cancel,
    )
    .ok_or(PairError::Cancelled)?;
    Ok(summary
        .rows
        .into_iter()
        .filter(MetricRow::is_comparison)
        .collect())
}
