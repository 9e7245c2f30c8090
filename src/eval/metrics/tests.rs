use super::*;

#[test]
fn settings_round_trip_through_their_labels() {
    for (task, s) in [
        (Task::Geometry, Setting::None),
        (Task::Zeroshot, Setting::Argmax),
        (Task::Retrieval, Setting::I2tUnique),
        (Task::GapShift, Setting::Lambda(-0.5)),
        (Task::LinearProbe, Setting::Fraction(1.0)),
        (Task::Rag, Setting::Generator("llm:mistral".into())),
        (Task::Saliency, Setting::Saliency("occlusion:class".into())),
    ] {
        assert_eq!(Setting::parse(task, &s.label()), Some(s));
    }
    assert_eq!(Setting::Fraction(1.0).label(), "fraction=1");
    assert_eq!(Setting::Lambda(0.5).label(), "lambda=0.5");
    assert_eq!(Setting::parse(Task::Zeroshot, "nonsense"), None);
}

#[test]
fn registry_covers_prefixes_and_each_family_has_a_primary() {
    assert_eq!(direction(Task::Zeroshot, "f1:edema"), HigherBetter);
    assert_eq!(direction(Task::Geometry, "modality_gap"), LowerBetter);
    assert_eq!(direction(Task::GapShift, "modality_gap"), Descriptive);
    assert_eq!(direction(Task::Geometry, "cone_text"), Descriptive);
    assert_eq!(direction(Task::Retrieval, "median_rank"), LowerBetter);
    assert_eq!(direction(Task::Saliency, "kl"), LowerBetter);
    assert_eq!(direction(Task::Saliency, "kl:edema"), LowerBetter);
    assert_eq!(direction(Task::Saliency, "nss:edema"), HigherBetter);
    assert_eq!(direction(Task::Geometry, "accuracy"), Descriptive);
    for task in Task::ALL {
        if task != Task::GapShift {
            assert!(
                REGISTRY.iter().any(|i| i.task == task && i.primary),
                "{task}"
            );
        }
    }
    for (i, a) in REGISTRY.iter().enumerate() {
        assert!(
            !REGISTRY[..i]
                .iter()
                .any(|b| b.task == a.task && b.name == a.name),
            "{} {} twice",
            a.task,
            a.name
        );
    }
}

#[test]
fn verdict_needs_interval_and_p_and_follows_the_direction() {
    let v = |d, value: f64, ci, p| Verdict::of(d, Some(value), ci, p);
    assert_eq!(
        v(HigherBetter, 0.1, Some((0.05, 0.2)), Some(0.01)),
        Verdict::Better
    );
    assert_eq!(
        v(LowerBetter, 0.1, Some((0.05, 0.2)), Some(0.01)),
        Verdict::Worse
    );
    assert_eq!(
        v(LowerBetter, -0.1, Some((-0.2, -0.05)), Some(0.01)),
        Verdict::Better
    );
    // Interval excludes 0 but p is not small: no difference.
    assert_eq!(
        v(HigherBetter, 0.1, Some((0.01, 0.2)), Some(0.06)),
        Verdict::NoDifference
    );
    // Interval covers 0: no difference.
    assert_eq!(
        v(HigherBetter, 0.1, Some((-0.01, 0.2)), Some(0.01)),
        Verdict::NoDifference
    );
    // Only a p-value (no interval): p decides.
    assert_eq!(v(HigherBetter, 0.1, None, Some(0.01)), Verdict::Better);
    assert_eq!(v(HigherBetter, 0.1, None, None), Verdict::NotJudged);
    assert_eq!(
        v(Descriptive, 0.1, Some((0.05, 0.2)), Some(0.01)),
        Verdict::NotJudged
    );
    assert_eq!(
        Verdict::of(HigherBetter, None, None, Some(0.01)),
        Verdict::NotJudged
    );
}

fn cmp_row(task: Task, setting: Setting, metric: &str, p: Option<f64>, n: usize) -> MetricRow {
    MetricRow {
        model: "B - A".into(),
        dataset: "d".into(),
        task,
        setting,
        metric: metric.into(),
        value: Some(0.1),
        ci_low: Some(0.05),
        ci_high: Some(0.2),
        n,
        p_value: p,
        p_adjusted: None,
        adjustment: None,
        p_bootstrap: None,
        positives: None,
        replicates: None,
        comparison: Some(super::super::rows::Comparison::new("A", "B")),
    }
}

#[test]
fn primaries_follow_the_settings() {
    assert!(is_primary(Task::Zeroshot, &Setting::Argmax, "macro_f1"));
    assert!(!is_primary(Task::Zeroshot, &Setting::Posneg, "macro_f1"));
    assert!(is_primary(Task::Zeroshot, &Setting::Posneg, "macro_auroc"));
    assert!(!is_primary(Task::Zeroshot, &Setting::Argmax, "accuracy"));
    assert!(is_primary(Task::Retrieval, &Setting::T2i, "r@10"));
    assert!(!is_primary(Task::Retrieval, &Setting::I2tUnique, "r@10"));
    assert!(is_primary(
        Task::LinearProbe,
        &Setting::Fraction(0.1),
        "macro_f1"
    ));
    assert!(is_primary(
        Task::Rag,
        &Setting::Generator("top1".into()),
        "label_f1_micro"
    ));
    assert!(!is_primary(
        Task::GapShift,
        &Setting::Lambda(0.5),
        "modality_gap"
    ));
}

#[test]
fn holm_over_primaries_bh_over_the_rest_per_pair() {
    // Primaries p = [0.01, 0.04, 0.03]: statsmodels multipletests(method="holm") gives
    // [0.03, 0.06, 0.06]; secondaries [0.01, 0.04, 0.03, None] with method="fdr_bh" give
    // [0.03, 0.04, 0.04] (the procedures themselves are checked against statsmodels in
    // inference::multiplicity).
    let mut rows = vec![
        cmp_row(Task::Zeroshot, Setting::Argmax, "macro_f1", Some(0.01), 100),
        cmp_row(Task::Retrieval, Setting::I2t, "r@10", Some(0.04), 100),
        cmp_row(Task::Retrieval, Setting::T2i, "r@10", Some(0.03), 100),
        cmp_row(Task::Zeroshot, Setting::Argmax, "accuracy", Some(0.01), 100),
        cmp_row(Task::Retrieval, Setting::I2t, "r@1", Some(0.04), 100),
        cmp_row(Task::Retrieval, Setting::T2i, "r@1", Some(0.03), 100),
        cmp_row(Task::Retrieval, Setting::T2i, "mrr", None, 100),
    ];
    let mut other_pair = cmp_row(Task::Retrieval, Setting::T2i, "r@1", Some(0.03), 100);
    other_pair.model = "C - A".into();
    rows.push(other_pair);
    adjust(&mut rows);
    let want = [
        (Some(0.03), Some(Adjustment::Holm)),
        (Some(0.06), Some(Adjustment::Holm)),
        (Some(0.06), Some(Adjustment::Holm)),
        (Some(0.03), Some(Adjustment::BenjaminiHochberg)),
        (Some(0.04), Some(Adjustment::BenjaminiHochberg)),
        (Some(0.04), Some(Adjustment::BenjaminiHochberg)),
        (None, None),
        // Alone in its family: unchanged.
        (Some(0.03), Some(Adjustment::BenjaminiHochberg)),
    ];
    for (r, (q, a)) in rows.iter().zip(want) {
        assert_eq!(r.adjustment, a, "{}", r.metric);
        match (r.p_adjusted, q) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{} {g} vs {w}", r.metric),
            (g, w) => assert_eq!(g, w),
        }
        if let (Some(p), Some(q)) = (r.p_value, r.p_adjusted) {
            assert!(q >= p);
        }
    }
    // The verdict uses the adjusted p: i2t R@10 raw 0.04 < 0.05, adjusted 0.06.
    assert_eq!(Verdict::of_row(&rows[1]), Verdict::NoDifference);
    assert_eq!(Verdict::of_row(&rows[0]), Verdict::Better);
    // Idempotent.
    let again = rows.clone();
    adjust(&mut rows);
    assert_eq!(rows, again);
}

#[test]
fn minimum_n_gives_too_few_items() {
    let r = cmp_row(Task::Zeroshot, Setting::Argmax, "macro_f1", Some(0.002), 3);
    assert_eq!(Verdict::of_row(&r), Verdict::TooFewItems);
    let r = cmp_row(Task::Zeroshot, Setting::Argmax, "macro_f1", Some(0.002), 30);
    assert_eq!(Verdict::of_row(&r), Verdict::Better);
    // A per-class row needs 10 positives of its class as well.
    let mut r = cmp_row(
        Task::Zeroshot,
        Setting::Posneg,
        "auroc:edema",
        Some(0.002),
        500,
    );
    r.positives = Some(9);
    assert_eq!(Verdict::of_row(&r), Verdict::TooFewItems);
    assert_eq!(
        sample_size(&r).reason().unwrap(),
        "too few positives (9 < 10)"
    );
    r.positives = Some(10);
    assert_eq!(Verdict::of_row(&r), Verdict::Better);
    // Descriptive rows stay unjudged whatever their n.
    let r = cmp_row(
        Task::GapShift,
        Setting::Lambda(0.5),
        "modality_gap",
        Some(0.002),
        3,
    );
    assert_eq!(Verdict::of_row(&r), Verdict::NotJudged);
}

#[test]
fn replicates_that_disagree_in_sign_refuse_a_directional_verdict() {
    use crate::eval::groups::ReplicateInfo;
    use crate::eval::inference::replicates::{Pairing, SignCheck};
    let with = |deltas: Vec<f64>, p: f64| {
        let mut r = cmp_row(Task::Zeroshot, Setting::Argmax, "macro_f1", Some(p), 1000);
        r.replicates = Some(ReplicateInfo::Comparison {
            baseline: 3,
            candidate: 3,
            pairing: Pairing::Paired,
            sign: SignCheck::of(&deltas),
            replicate_deltas: deltas,
        });
        r
    };
    // Group mean +0.1 with a significant interval, but one seed pair goes the other way.
    let r = with(vec![0.2, 0.15, -0.05], 0.001);
    assert_eq!(Verdict::of_row(&r), Verdict::ReplicatesDisagree);
    let fv = family_verdicts(std::slice::from_ref(&r));
    assert_eq!(
        (fv[0].replicates, fv[0].verdict),
        (3, Verdict::ReplicatesDisagree)
    );
    // All seed pairs agree: the verdict stands; not significant: nothing to refuse.
    assert_eq!(
        Verdict::of_row(&with(vec![0.2, 0.15, 0.05], 0.001)),
        Verdict::Better
    );
    assert_eq!(
        Verdict::of_row(&with(vec![0.2, 0.15, -0.05], 0.2)),
        Verdict::NoDifference
    );
    // Too few items wins over the sign check.
    let mut small = with(vec![0.2, -0.1, 0.3], 0.001);
    small.n = 10;
    assert_eq!(Verdict::of_row(&small), Verdict::TooFewItems);
    // A plain comparison (no replicates) counts one replicate.
    let plain = cmp_row(
        Task::Zeroshot,
        Setting::Argmax,
        "macro_f1",
        Some(0.001),
        1000,
    );
    assert_eq!(
        family_verdicts(std::slice::from_ref(&plain))[0].replicates,
        1
    );
}
