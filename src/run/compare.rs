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
`tests/tui_compare.rs` checks the rows equal those of the full run over every model.
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
    #[error(
        "`{name}` is one replicate of `{group}`: pairs compare models or replicate groups, as \
         [eval] compare does; choose `{group}`"
    )]
    Replicate { name: String, group: String },
    #[error("cancelled")]
    Cancelled,
}

/// The comparison rows of `candidate - baseline` on `dataset` (names of models or of replicate
/// groups in `groups`), computed with `cfg`'s settings; only comparison rows are returned, with
/// their p-values adjusted over this pair's family (as in a report that compares only this pair).
pub fn pair_rows(
    dataset: &Dataset,
    models: &[&ModelEmbeddings],
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
        if let Some(g) = groups
            .iter()
            .find(|g| g.name != subject && g.replicates.iter().any(|r| r == subject))
        {
            return Err(PairError::Replicate {
                name: subject.to_string(),
                group: g.name.clone(),
            });
        }
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
    // Only the pair's embeddings are copied (the suite takes owned models).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::synthetic::{SyntheticSpec, synthetic};

    #[test]
    fn replicates_and_self_pairs_are_refused_with_what_to_choose() {
        let (dataset, owned) = synthetic(&SyntheticSpec::default());
        let models: Vec<&ModelEmbeddings> = owned.iter().collect();
        let names: Vec<String> = models.iter().map(|m| m.model.clone()).collect();
        let groups = [ModelGroup {
            name: "G".into(),
            replicates: names[1..].to_vec(),
        }];
        let no = AtomicBool::new(false);
        let cfg = EvalConfig::default();
        let e = pair_rows(&dataset, &models, &groups, &cfg, &names[0], &names[1], &no)
            .expect_err("a replicate");
        assert!(e.to_string().contains("choose `G`"), "{e}");
        let e =
            pair_rows(&dataset, &models, &[], &cfg, &names[0], &names[0], &no).expect_err("itself");
        assert_eq!(e, PairError::SameSubject(names[0].clone()));
        let e =
            pair_rows(&dataset, &models, &[], &cfg, &names[0], "nope", &no).expect_err("unknown");
        assert!(matches!(e, PairError::NoEmbeddings { .. }), "{e}");
    }
}
