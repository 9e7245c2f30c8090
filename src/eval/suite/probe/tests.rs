use super::*;
use crate::eval::config::EvalConfig;
use crate::eval::inference::replicates::group_bootstrap;
use crate::eval::stats::BootstrapConfig;
use crate::eval::suite::evaluate;
use crate::eval::synthetic::{SyntheticSpec, synthetic};

#[test]
fn alpha_rows_are_the_median_of_the_chosen_alphas_and_never_judged() {
    let (ds, models) = synthetic(&SyntheticSpec::default());
    let cfg = EvalConfig {
        bootstrap: 50,
        probe_seeds: vec![0, 1, 2],
        probe_fractions: vec![0.1, 1.0],
        ..EvalConfig::default()
    };
    let s = evaluate(&ds, &models, &cfg, &mut |_| {});
    for (m, model) in s.models.iter().enumerate() {
        for (metric, curve) in [("alpha", "macro_f1"), ("alpha_multilabel", "macro_auroc")] {
            let c = s.plots[m]
                .probe_curves
                .iter()
                .find(|c| c.metric == curve)
                .unwrap();
            for pt in &c.points {
                let setting = Setting::Fraction(pt.fraction);
                let r = s.row(model, Task::LinearProbe, &setting, metric).unwrap();
                let mut a = pt.alphas.clone();
                a.sort_by(f64::total_cmp);
                assert_eq!(r.value, Some(a[a.len() / 2]), "{model} {setting} {metric}");
                assert_eq!(r.n, a.len());
                assert_eq!(a.len(), if pt.fraction < 1.0 { 3 } else { 1 });
                assert!(r.ci_low.is_none() && r.p_value.is_none());
                assert!(cfg.probe_alphas.contains(&r.value.unwrap()));
            }
        }
    }
    assert!(
        s.comparisons().all(|r| !r.metric.starts_with("alpha")),
        "α rows are per model only"
    );
    assert_eq!(
        crate::eval::metrics::direction(Task::LinearProbe, "alpha"),
        crate::eval::metrics::Direction::Descriptive
    );
}

fn outcome(
    seed: u64,
    single: Option<Result<probe::SingleLabelScores, probe::FitFailure>>,
) -> SeedOutcome {
    SeedOutcome {
        seed,
        single: single.clone().and_then(Result::ok),
        single_fit: single,
        ..SeedOutcome::default()
    }
}

#[test]
fn unfittable_and_non_converged_probes_are_named_in_warnings() {
    let names = vec!["CLIP".to_string(), "eCLIP".to_string()];
    let slow = probe::SingleLabelScores {
        alpha: 0.01,
        accuracy: 0.5,
        macro_f1: 0.5,
        predictions: vec![0, 1],
        fit: probe::FitCheck {
            gradient_norm: 3.0,
            tolerance: 0.1,
        },
    };
    let fine = probe::SingleLabelScores {
        fit: probe::FitCheck {
            gradient_norm: 0.01,
            tolerance: 0.1,
        },
        ..slow.clone()
    };
    let multi = probe::MultiLabelScores {
        alpha: 1.0,
        auroc: vec![Some(0.7), None],
        macro_auroc: Some(0.7),
        scores: vec![Some(vec![0.2, 0.8]), None],
        failures: vec![None, Some(probe::FitFailure::OneClass { classes: 1 })],
        fits: vec![
            Some(probe::FitCheck {
                gradient_norm: 0.0,
                tolerance: 0.1,
            }),
            None,
        ],
    };
    let mut one_class = outcome(7, Some(Err(probe::FitFailure::OneClass { classes: 1 })));
    one_class.multi = Some(multi);
    let results = vec![
        vec![vec![outcome(0, Some(Ok(fine.clone()))), one_class]],
        vec![vec![outcome(0, Some(Ok(slow))), outcome(7, Some(Ok(fine)))]],
    ];
    let labels = vec!["edema".to_string(), "nodule".to_string()];
    let w = fit_warnings("demo", &names, &[0.1], &results, &labels);
    assert_eq!(w.len(), 3, "{w:#?}");
    assert!(w[0].starts_with("demo: linear_probe CLIP fraction=0.1 seed 7: the single-label probe could not be fitted: the training subset holds 1 class(es)"), "{}", w[0]);
    assert!(
        w[1].contains(
            "CLIP fraction=0.1 seed 7: the multi-label probe of nodule could not be fitted"
        ),
        "{}",
        w[1]
    );
    assert!(
        w[2].contains(
            "eCLIP fraction=0.1 seed 0: the single-label probe (α = 0.01) did not converge"
        ),
        "{}",
        w[2]
    );
}

#[test]
fn a_larger_fraction_below_a_smaller_one_is_a_warning() {
    let cfg = BootstrapConfig::default();
    let at = |v: f64| group_bootstrap(2, 40, &cfg, move |s, _| v + 0.001 * s as f64).unwrap();
    let (small, full) = (at(0.493), at(0.40));
    let inv = fraction_inversions(&[(0.01, &small), (1.0, &full)]);
    assert_eq!(inv.len(), 1);
    let w = inversion_warning("demo", "CLIP", "macro_f1", &inv[0]);
    assert!(
        w.starts_with("demo: linear_probe macro_f1 of CLIP is lower at fraction=1 (0.4005"),
        "{w}"
    );
    assert!(w.contains("than at fraction=0.01 (0.4935)"), "{w}");
}
