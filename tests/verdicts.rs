//! Issue 12 part A on a synthetic two-model evaluation: multiplicity-adjusted p-values on every
//! comparison row, BCa intervals that contain their estimates, the minimum-n rule, and the review's
//! verdict table agreeing with the TUI's verdicts (both read `eval::metrics`).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod common;

use eclip_workbench::eval::config::EvalConfig;
use eclip_workbench::eval::groups::{self, ModelGroup};
use eclip_workbench::eval::inference::multiplicity::Adjustment;
use eclip_workbench::eval::metrics::{self, Setting, Task, Verdict};
use eclip_workbench::eval::summary::EvalSummary;
use eclip_workbench::eval::synthetic::{SyntheticModel, SyntheticSpec, synthetic};
use eclip_workbench::report::review;
use eclip_workbench::run::{evaluate, evaluate_groups};
use eclip_workbench::tui::state::OverviewTable;

fn summary(classes: usize, per_class: [usize; 4]) -> EvalSummary {
    let spec = SyntheticSpec {
        classes,
        per_class,
        ..SyntheticSpec::default()
    };
    let (ds, embeds) = synthetic(&spec);
    evaluate(&ds, &embeds, &eval_cfg(), &mut |_| {})
}

/// 200 resamples, probe fractions 0.1 and 1.
fn eval_cfg() -> EvalConfig {
    EvalConfig {
        bootstrap: 200,
        probe_fractions: vec![0.1, 1.0],
        ..EvalConfig::default()
    }
}

#[test]
fn every_comparison_row_is_adjusted_and_no_interval_excludes_its_estimate() {
    let s = summary(5, SyntheticSpec::default().per_class);
    let mut holm = 0;
    for r in s.comparisons() {
        match (r.p_value, r.p_adjusted, r.adjustment) {
            (Some(p), Some(q), Some(a)) => {
                assert!(
                    q >= p && q <= 1.0,
                    "{} {} {}: {q} < {p}",
                    r.task,
                    r.setting,
                    r.metric
                );
                let primary = metrics::is_primary(r.task, &r.setting, &r.metric);
                assert_eq!(a == Adjustment::Holm, primary, "{} {}", r.task, r.metric);
                holm += usize::from(primary);
            }
            (None, None, None) => {}
            other => panic!("{} {} {}: {other:?}", r.task, r.setting, r.metric),
        }
        if let (Some(b), Some(p)) = (r.p_bootstrap, r.p_value) {
            assert_eq!(b.p, p);
            assert!(b.mc_se >= 0.0 && b.resamples <= 200);
        }
    }
    // zero-shot argmax macro-F1, pos/neg macro AUROC, R@10 i2t and t2i, geometry modality gap,
    // probe macro-F1 at both fractions (0.1 and 1: every fraction has a bootstrap p).
    assert_eq!(holm, 7, "primary comparisons");
    for r in &s.rows {
        if let (Some(v), Some(lo), Some(hi)) = (r.value, r.ci_low, r.ci_high) {
            assert!(
                lo <= v && v <= hi,
                "{} {} {} {}: {v} outside [{lo}, {hi}]",
                r.model,
                r.task,
                r.setting,
                r.metric
            );
        }
    }
    assert!(
        s.rows
            .iter()
            .any(|r| r.task == Task::GapShift && r.ci_low.is_some())
    );
}

/// The TUI's overview table and the review's verdict table agree on every family verdict of `s`;
/// the review's replicates column shows `replicates`.
fn assert_tui_matches_review(s: &EvalSummary, replicates: usize) {
    let table = OverviewTable::from_rows(&s.models, &s.rows);
    let verdicts = metrics::family_verdicts(&s.rows);
    assert!(!verdicts.is_empty());
    let md = review::render(
        &common::inputs(s),
        std::slice::from_ref(s),
        &[],
        std::path::Path::new("."),
    );
    for v in &verdicts {
        let line = table
            .lines
            .iter()
            .find(|l| {
                l.dataset == v.dataset
                    && l.task == v.task
                    && l.setting == *v.setting
                    && l.metric == v.metric
            })
            .unwrap();
        let c = table
            .comparisons
            .iter()
            .position(|c| c == v.comparison)
            .unwrap();
        assert_eq!(
            line.deltas[c].unwrap().verdict,
            v.verdict,
            "{} {}",
            v.task,
            v.metric
        );
        let row = md
            .lines()
            .find(|l| {
                l.starts_with("| ") && l.contains(&format!("| {} | {} |", v.setting, v.metric))
            })
            .unwrap();
        let word = match v.verdict {
            Verdict::TooFewItems => "**too few items (".to_string(),
            Verdict::ReplicatesDisagree => "**replicates disagree (".to_string(),
            other => format!("**{}** |", other.word()),
        };
        assert!(row.contains(&word), "{row}");
        assert!(
            row.contains(&format!(" | {replicates} | **")),
            "replicates column of {row}"
        );
        assert_eq!(v.replicates, replicates);
    }
}

#[test]
fn the_review_and_the_tui_show_the_same_verdicts() {
    let s = summary(5, SyntheticSpec::default().per_class);
    assert_tui_matches_review(&s, 1);
}

/// Three synthetic replicates per model: CLIP#i (noise 0.35) and eCLIP#i (noise 0.25 + 0.1·i for
/// eCLIP#2, so one seed pair may go the other way).
fn group_summary() -> EvalSummary {
    let mut models = Vec::new();
    let mut groups = Vec::new();
    for (name, noise) in [("CLIP", [0.35, 0.34, 0.36]), ("eCLIP", [0.25, 0.27, 0.45])] {
        let reps: Vec<String> = (0..3).map(|i| format!("{name}#{i}")).collect();
        for (r, n) in reps.iter().zip(noise) {
            models.push(SyntheticModel {
                name: r.clone(),
                noise: n,
                gap: 0.8,
            });
        }
        groups.push(ModelGroup {
            name: name.into(),
            replicates: reps,
        });
    }
    let spec = SyntheticSpec {
        models,
        ..SyntheticSpec::default()
    };
    let (ds, embeds) = synthetic(&spec);
    evaluate_groups(&ds, &embeds, &groups, &eval_cfg(), &mut |_| {})
}

#[test]
fn replicate_groups_the_review_and_the_tui_show_the_same_verdicts() {
    let s = group_summary();
    assert_eq!(s.subjects(), ["CLIP", "eCLIP"]);
    // Group comparisons only, every one adjusted; group rows carry their replicates.
    assert!(s.comparisons().all(|r| r.model == "eCLIP - CLIP"));
    assert!(
        s.comparisons()
            .all(|r| r.p_value.is_none() || r.p_adjusted >= r.p_value)
    );
    let g = s
        .row("eCLIP", Task::Zeroshot, &Setting::Argmax, "macro_f1")
        .unwrap();
    assert_eq!(groups::replicates_cell(g), 3);
    assert!(groups::replicate_sd(g).is_some());
    assert_tui_matches_review(&s, 3);
    let md = review::render(
        &common::inputs(&s),
        std::slice::from_ref(&s),
        &[],
        std::path::Path::new("."),
    );
    assert!(
        md.contains("Replicates: up to 3 training seeds per model"),
        "{md}"
    );
}

#[test]
fn three_items_give_too_few_items_instead_of_verdicts() {
    // 3 classes × 1 test item: a 3-item test split; every comparison is below the 30-item rule.
    let s = summary(3, [12, 2, 1, 1]);
    let judged: Vec<_> = s
        .comparisons()
        .map(Verdict::of_row)
        .filter(|v| *v != Verdict::NotJudged)
        .collect();
    assert!(!judged.is_empty());
    assert!(
        judged.iter().all(|v| *v == Verdict::TooFewItems),
        "{judged:?}"
    );
    let md = review::render(
        &common::inputs(&s),
        std::slice::from_ref(&s),
        &[],
        std::path::Path::new("."),
    );
    assert!(md.contains("too few items ("), "{md}");
    assert!(md.contains("Small n: no verdict below 30 items"));
}

#[test]
fn every_probe_row_has_an_interval_around_its_estimate_over_the_test_items() {
    let s = summary(5, SyntheticSpec::default().per_class);
    // The probes predict the zero-shot splits' items: argmax items for the single-label metrics,
    // the test split for the multi-label one.
    let n_of = |setting: Setting, metric: &str| {
        s.row("CLIP", Task::Zeroshot, &setting, metric)
            .map(|r| r.n)
            .unwrap()
    };
    let (single, multi) = (
        n_of(Setting::Argmax, "accuracy"),
        n_of(Setting::Posneg, "macro_auroc"),
    );
    let probes: Vec<_> = s
        .rows
        .iter()
        .filter(|r| r.task == Task::LinearProbe && !r.metric.starts_with("alpha"))
        .collect();
    // 2 models + 1 comparison, 3 metrics, 2 fractions.
    assert_eq!(probes.len(), 18);
    for r in probes {
        let (v, lo, hi) = (r.value.unwrap(), r.ci_low.unwrap(), r.ci_high.unwrap());
        assert!(
            lo <= v && v <= hi,
            "{} {} {}: {v} outside [{lo}, {hi}]",
            r.model,
            r.setting,
            r.metric
        );
        let want = if r.metric == "macro_auroc" {
            multi
        } else {
            single
        };
        assert_eq!(r.n, want, "{} {} {}", r.model, r.setting, r.metric);
        assert_eq!(
            r.p_value.is_some(),
            r.is_comparison(),
            "{} {}",
            r.model,
            r.setting
        );
        if r.is_comparison() {
            assert!(r.p_bootstrap.is_some() && r.adjustment.is_some());
        }
    }
    // Regularisation rows: descriptive, one per model, fraction and probe kind.
    let alphas = s
        .rows
        .iter()
        .filter(|r| r.task == Task::LinearProbe && r.metric.starts_with("alpha"))
        .count();
    assert_eq!(alphas, 2 * 2 * 2);
}

#[test]
fn per_class_rows_carry_their_positives_for_the_minimum_n_rule() {
    let s = summary(5, SyntheticSpec::default().per_class);
    let per_class: Vec<_> = s
        .rows
        .iter()
        .filter(|r| r.metric.starts_with("f1:") || r.metric.starts_with("auroc"))
        .filter(|r| r.metric != "macro_auroc")
        .collect();
    assert!(!per_class.is_empty());
    for r in per_class {
        let p = r
            .positives
            .unwrap_or_else(|| panic!("{} {}", r.model, r.metric));
        assert!(p > 0 && p <= r.n, "{} {p}", r.metric);
    }
    assert!(
        s.rows
            .iter()
            .filter(|r| r.metric == "macro_f1")
            .all(|r| r.positives.is_none())
    );
}
