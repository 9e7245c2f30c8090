/*! Linear probes on frozen image embeddings: which items and labels each probe uses, one fit per
(model, fraction, seed) with [`crate::eval::probe`], and the rows and curves: at every fraction the
mean over seeds with the two-level (seeds, then test items) bootstrap of
[`crate::eval::inference::probe`], `n` = test items, paired deltas with bootstrap p-values, the
chosen α (descriptive `alpha` / `alpha_multilabel` rows), and a warning for every fit that failed
or did not converge and for a larger fraction scoring below a smaller one. */
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::zeroshot::ArgmaxData;
use super::{Run, SplitViews};
use crate::eval::MetricRow;
use crate::eval::classify;
use crate::eval::groups::ReplicateInfo;
use crate::eval::inference::probe::{fraction_inversions, probe_fraction, probe_fraction_pairs};
use crate::eval::inference::replicates::GroupEstimate;
use crate::eval::inference::replicates::{Pairing, SignCheck, between_replicate_sd};
use crate::eval::metrics::{Setting, Task};
use crate::eval::probe::{self, FitSettings, Split, Standardizer};
use crate::eval::rows::{Comparison, RowKey, Subject, row};
use crate::eval::stats::quantile_sorted;
use crate::eval::summary::{ModelPlots, ProbeCurve, ProbePoint};

mod warnings;
use warnings::{fit_warnings, inversion_warning};

impl<'a> Run<'a, '_> {
    /// Linear probes for every model, fraction and seed; returns per-model and comparison rows.
    pub(super) fn probes(
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
                if self.cancelled() {
                    return Vec::new();
                }
                let outcomes: Vec<(SeedOutcome, Vec<String>)> = seeds
                    .par_iter()
                    .map(|&seed| setup.run(m, fraction, seed, &cfg.probe_alphas, settings))
                    .collect();
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
                "linear_probe fraction=1 uses the whole training split, the same for every seed: it is fitted once, so its interval and p-value are the bootstrap over test items alone (no seed stage)".into(),
            );
        }
        self.notes.extend(subset_notes);
        let warnings = fit_warnings(
            &self.dataset.name,
            &names_of(self),
            &cfg.probe_fractions,
            &results,
            &setup.label_names,
        );
        self.warnings.extend(warnings);
        if self.cancelled() {
            return Vec::new();
        }
        setup.rows_and_curves(self, &results, plots)
    }
}

/// One (model, fraction, seed) probe result.
#[derive(Debug, Clone, Default)]
pub(super) struct SeedOutcome {
    pub(super) seed: u64,
    /// `None` when the dataset has no single-label train/test items; `Err` when the probe could
    /// not be fitted.
    pub(super) single_fit: Option<Result<probe::SingleLabelScores, probe::FitFailure>>,
    pub(super) single: Option<probe::SingleLabelScores>,
    pub(super) multi: Option<probe::MultiLabelScores>,
    pub(super) n_train_single: usize,
    pub(super) n_train_multi: usize,
}

impl SeedOutcome {
    /// The α chosen on validation: of the multi-label probes when `multi`, else of the
    /// single-label probe; `None` when that probe was not fitted.
    fn alpha(&self, multi: bool) -> Option<f64> {
        if multi {
            self.multi.as_ref().map(|s| s.alpha)
        } else {
            self.single.as_ref().map(|s| s.alpha)
        }
    }
}

/// Which items and labels the probes use.
pub(super) struct ProbeSetup<'a> {
    pub(super) train: &'a SplitViews<'a>,
    pub(super) val: Option<&'a SplitViews<'a>>,
    pub(super) test: &'a SplitViews<'a>,
    pub(super) n_classes: usize,
    /// Single-label: split positions and class per split.
    pub(super) sl_train: (Vec<usize>, Vec<usize>),
    pub(super) sl_val: (Vec<usize>, Vec<usize>),
    /// Test items: (split views, positions, classes).
    pub(super) sl_test: Option<(&'a SplitViews<'a>, Vec<usize>, Vec<usize>)>,
    pub(super) class_names: Vec<String>,
    pub(super) label_names: Vec<String>,
    pub(super) ml_train: Vec<Vec<bool>>,
    pub(super) ml_val: Vec<Vec<bool>>,
    pub(super) ml_test: Vec<Vec<bool>>,
    /// `ml_test` by label (column `l`: label `l` of every test item), for the item bootstrap.
    pub(super) ml_test_columns: Vec<Vec<bool>>,
    /// `[eval] probe_standardize`: z-score the features with the training subset's statistics.
    pub(super) standardize: bool,
}

impl<'a> ProbeSetup<'a> {
    pub(super) fn new(
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
            ml_test_columns: (0..run.dataset.labels.len())
                .map(|l| multi(test).iter().map(|r| r[l]).collect())
                .collect(),
            standardize: run.cfg.probe_standardize,
        }
    }

    pub(super) fn run(
        &self,
        m: usize,
        fraction: f64,
        seed: u64,
        alphas: &[f64],
        s: FitSettings,
    ) -> (SeedOutcome, Vec<String>) {
        let mut out = SeedOutcome {
            seed,
            ..SeedOutcome::default()
        };
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
            let [xtr, xval, xte] = self
                .features(&sub.indices, [xtr.view(), xval.view(), xte.view()])
                .unwrap_or([xtr, xval, xte]);
            out.n_train_single = sub.indices.len();
            let fit = probe::single_label_run(
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
            out.single = fit.as_ref().ok().cloned();
            out.single_fit = Some(fit);
        }
        let sub = probe::multilabel_subset(&self.ml_train, &self.label_names, fraction, seed);
        notes.extend(sub.notes.iter().map(|n| format!("multi-label probe: {n}")));
        out.n_train_multi = sub.indices.len();
        let xval = self.val.map_or(empty.view(), |v| v.image(m));
        let views = [self.train.image(m), xval, self.test.image(m)];
        let scaled = self.features(&sub.indices, views);
        let [xtr, xval, xte] = match &scaled {
            Some(owned) => [owned[0].view(), owned[1].view(), owned[2].view()],
            None => views,
        };
        out.multi = probe::multi_label_run(
            Split {
                x: xtr,
                y: &self.ml_train,
            },
            &sub.indices,
            Split {
                x: xval,
                y: &self.ml_val,
            },
            Split {
                x: xte,
                y: &self.ml_test,
            },
            self.label_names.len(),
            alphas,
            s,
        );
        (out, notes)
    }

    /// Training, validation and test features of one run z-scored with the statistics of the
    /// training rows `idx` under `[eval] probe_standardize`; `None` (use them as they are) when off.
    fn features(&self, idx: &[usize], x: [ArrayView2<f32>; 3]) -> Option<[Array2<f32>; 3]> {
        self.standardize.then(|| {
            let s = Standardizer::fit(x[0], idx);
            x.map(|a| s.apply(a))
        })
    }

    /// Test items and true labels of the single-label probe, and of the multi-label probe.
    fn n_test(&self, multi: bool) -> usize {
        if multi {
            self.ml_test.len()
        } else {
            self.sl_test.as_ref().map_or(0, |t| t.2.len())
        }
    }

    /// Model `m`'s statistic `metric` of one seed's outcome on test items `idx` (NaN when
    /// undefined), from the seed's test predictions.
    fn stat(&self, metric: ProbeMetric, o: &SeedOutcome, idx: &[usize]) -> f64 {
        match metric {
            ProbeMetric::Accuracy | ProbeMetric::MacroF1 => {
                let (Some(s), Some((_, _, y))) = (&o.single, &self.sl_test) else {
                    return f64::NAN;
                };
                if metric == ProbeMetric::Accuracy {
                    classify::accuracy(y, &s.predictions, Some(idx))
                } else {
                    classify::macro_f1(y, &s.predictions, self.n_classes, Some(idx))
                }
            }
            ProbeMetric::MacroAuroc => {
                let Some(ml) = &o.multi else {
                    return f64::NAN;
                };
                let per_label: Vec<Option<f64>> = ml
                    .scores
                    .iter()
                    .enumerate()
                    .map(|(l, sc)| {
                        classify::auroc(&self.ml_test_columns[l], sc.as_ref()?, Some(idx))
                    })
                    .collect();
                classify::mean_defined(&per_label).unwrap_or(f64::NAN)
            }
        }
    }

    /// Rows (mean over seeds with the two-level bootstrap interval, `n` = test items; paired
    /// bootstrap deltas; the chosen α), the probe curves, and the fraction-inversion warnings.
    #[expect(
        clippy::too_many_lines,
        reason = "one pass over fractions x seeds that builds the rows, the curves and the inversion warnings from the same fits; split, each piece would re-walk the fits"
    )]
    pub(super) fn rows_and_curves(
        &self,
        run: &mut Run,
        results: &[Vec<Vec<SeedOutcome>>],
        plots: &mut [ModelPlots],
    ) -> Vec<MetricRow> {
        let cfg = run.cfg;
        let names: Vec<String> = run.models.iter().map(|m| m.model.clone()).collect();
        let paired = self.train.paired && self.test.paired;
        let has_replicates = run.groups.has_replicates();
        let mut rows = Vec::new();
        let mut cmp = Vec::new();
        let mut warnings = Vec::new();
        for metric in ProbeMetric::ALL {
            let n = self.n_test(metric == ProbeMetric::MacroAuroc);
            // estimates[m] = (fraction, estimate) of model m.
            let mut estimates: Vec<Vec<(f64, GroupEstimate)>> = vec![Vec::new(); names.len()];
            for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
                let all: Vec<usize> = (0..n).collect();
                let defined = |o: &SeedOutcome| self.stat(metric, o, &all).is_finite();
                // Seeds with a value: shared by every model when the items pair up (deltas are
                // paired over seeds), each model's own otherwise.
                let groups: Vec<(Vec<usize>, Vec<Vec<&SeedOutcome>>)> = if paired {
                    let common: Vec<&u64> = results[0][f]
                        .iter()
                        .filter(|o| {
                            results
                                .iter()
                                .all(|r| r[f].iter().any(|p| p.seed == o.seed && defined(p)))
                        })
                        .map(|o| &o.seed)
                        .collect();
                    let per_model = results
                        .iter()
                        .map(|r| r[f].iter().filter(|o| common.contains(&&o.seed)).collect())
                        .collect();
                    vec![((0..names.len()).collect(), per_model)]
                } else {
                    (0..names.len())
                        .map(|m| {
                            (
                                vec![m],
                                vec![results[m][f].iter().filter(|o| defined(o)).collect()],
                            )
                        })
                        .collect()
                };
                for (members, outcomes) in groups {
                    let seeds = outcomes.first().map_or(0, Vec::len);
                    if seeds == 0 || n == 0 {
                        continue;
                    }
                    // Deltas only when every model is in the one paired block (then `members`
                    // are the model indices and the pairs index them directly).
                    let pairs: &[(usize, usize)] = if members.len() == names.len() {
                        &run.groups.pairs
                    } else {
                        &[]
                    };
                    let got = probe_fraction_pairs(
                        fraction,
                        members.len(),
                        pairs,
                        seeds,
                        n,
                        &run.boot,
                        |m, s, idx| self.stat(metric, outcomes[m][s], idx),
                    );
                    let est = match got {
                        Ok(e) => e,
                        Err(e) => {
                            warnings.push(format!(
                                "{}: linear_probe fraction={fraction} {}: no interval ({e})",
                                run.dataset.name,
                                metric.name()
                            ));
                            continue;
                        }
                    };
                    let setting = Setting::Fraction(fraction);
                    let key = probe_key(run, &setting, metric.name());
                    for (k, &m) in members.iter().enumerate() {
                        let e = &est.models[k];
                        rows.push(row(
                            Subject::Model(&names[m]),
                            key,
                            e.mean,
                            (e.interval.low, e.interval.high),
                            n,
                            None,
                        ));
                        plots[m]
                            .probe_curves
                            .push(curve_point(metric, fraction, e, &outcomes[k]));
                        estimates[m].push((fraction, e.clone()));
                    }
                    for (k, d) in est.deltas.iter().enumerate() {
                        if has_replicates {
                            break; // replicate groups are compared as groups, below
                        }
                        let (a, b) = (members[pairs[k].0], members[pairs[k].1]);
                        let mut r = row(
                            Subject::Comparison(&Comparison::new(&names[a], &names[b])),
                            key,
                            d.delta,
                            (d.interval.low, d.interval.high),
                            n,
                            Some(d.p_value.p),
                        );
                        r.p_bootstrap = r.p_value.and(Some(d.p_value));
                        cmp.push(r);
                    }
                }
            }
            if has_replicates {
                let (g_rows, g_cmp) = self.group_rows(run, results, metric, n, paired);
                rows.extend(g_rows);
                cmp.extend(g_cmp);
            }
            for (m, points) in estimates.iter().enumerate() {
                let refs: Vec<(f64, &GroupEstimate)> =
                    points.iter().map(|(f, e)| (*f, e)).collect();
                for inv in fraction_inversions(&refs) {
                    warnings.push(inversion_warning(
                        &run.dataset.name,
                        &names[m],
                        metric.name(),
                        &inv,
                    ));
                }
            }
        }
        rows.extend(alpha_rows(run, &names, results));
        merge_curves(plots);
        run.warnings.extend(warnings);
        rows.extend(cmp);
        rows
    }

    /// Replicate groups (`[[models]] replicates`): each group's rows over its pooled
    /// (replicate, probe seed) fits with the two-level bootstrap of [`probe_fraction`] (units, then
    /// test items), the between-replicate SD of the replicates' seed means; and the paired group
    /// deltas (group 0 against each later group of the same size: replicate r with replicate r,
    /// probe seed with probe seed), whose replicate deltas feed the sign check.
    fn group_rows(
        &self,
        run: &Run,
        results: &[Vec<Vec<SeedOutcome>>],
        metric: ProbeMetric,
        n: usize,
        paired: bool,
    ) -> (Vec<MetricRow>, Vec<MetricRow>) {
        let cfg = run.cfg;
        let groups = &run.groups;
        let gnames = groups.names();
        let all: Vec<usize> = (0..n).collect();
        let full = |o: &SeedOutcome| self.stat(metric, o, &all);
        let seed_mean = |m: usize, f: usize| -> Option<f64> {
            let v: Vec<f64> = results[m][f]
                .iter()
                .map(full)
                .filter(|x| x.is_finite())
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let (mut rows, mut cmp) = (Vec::new(), Vec::new());
        if n == 0 {
            return (rows, cmp);
        }
        for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
            let setting = Setting::Fraction(fraction);
            let key = probe_key(run, &setting, metric.name());
            for (g, members) in groups.members.iter().enumerate() {
                if groups.is_single(g) {
                    continue;
                }
                let units: Vec<&SeedOutcome> = members
                    .iter()
                    .flat_map(|&m| results[m][f].iter().filter(|o| full(o).is_finite()))
                    .collect();
                let Ok(est) =
                    probe_fraction(fraction, 1, units.len(), n, &run.boot, |_, u, idx| {
                        self.stat(metric, units[u], idx)
                    })
                else {
                    continue;
                };
                let e = &est.models[0];
                let per_replicate: Vec<f64> =
                    members.iter().filter_map(|&m| seed_mean(m, f)).collect();
                let mut r = row(
                    Subject::Model(&gnames[g]),
                    key,
                    e.mean,
                    (e.interval.low, e.interval.high),
                    n,
                    None,
                );
                r.replicates = Some(ReplicateInfo::Group {
                    replicates: members.len(),
                    between_sd: between_replicate_sd(&per_replicate),
                    per_replicate,
                });
                rows.push(r);
            }
            if !paired {
                continue;
            }
            for &(a, b) in &groups.pairs {
                if groups.pairing(a, b) != Pairing::Paired {
                    continue; // groups of different sizes: no paired probe comparison
                }
                let pairs: Vec<(usize, usize)> = groups.members[a]
                    .iter()
                    .copied()
                    .zip(groups.members[b].iter().copied())
                    .collect();
                // Units: (replicate pair, probe seed) where both fits have a value.
                let mut units: Vec<(&SeedOutcome, &SeedOutcome)> = Vec::new();
                let mut replicate_deltas = Vec::new();
                for &(ma, mb) in &pairs {
                    let both: Vec<(&SeedOutcome, &SeedOutcome)> = results[ma][f]
                        .iter()
                        .filter_map(|oa| {
                            let ob = results[mb][f].iter().find(|ob| ob.seed == oa.seed)?;
                            (full(oa).is_finite() && full(ob).is_finite()).then_some((oa, ob))
                        })
                        .collect();
                    if !both.is_empty() {
                        replicate_deltas.push(
                            both.iter().map(|(a, b)| full(b) - full(a)).sum::<f64>()
                                / both.len() as f64,
                        );
                    }
                    units.extend(both);
                }
                let Ok(est) =
                    probe_fraction(fraction, 2, units.len(), n, &run.boot, |m, u, idx| {
                        let (oa, ob) = units[u];
                        self.stat(metric, if m == 0 { oa } else { ob }, idx)
                    })
                else {
                    continue;
                };
                let d = &est.deltas[0];
                let mut r = row(
                    Subject::Comparison(&Comparison::new(&gnames[a], &gnames[b])),
                    key,
                    d.delta,
                    (d.interval.low, d.interval.high),
                    n,
                    Some(d.p_value.p),
                );
                r.p_bootstrap = r.p_value.and(Some(d.p_value));
                r.replicates = Some(ReplicateInfo::Comparison {
                    baseline: groups.members[a].len(),
                    candidate: groups.members[b].len(),
                    pairing: Pairing::Paired,
                    sign: SignCheck::of(&replicate_deltas),
                    replicate_deltas,
                });
                cmp.push(r);
            }
        }
        (rows, cmp)
    }
}

/// The probe metrics, in row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeMetric {
    Accuracy,
    MacroF1,
    MacroAuroc,
}

impl ProbeMetric {
    const ALL: [ProbeMetric; 3] = [
        ProbeMetric::Accuracy,
        ProbeMetric::MacroF1,
        ProbeMetric::MacroAuroc,
    ];

    fn name(self) -> &'static str {
        match self {
            ProbeMetric::Accuracy => "accuracy",
            ProbeMetric::MacroF1 => "macro_f1",
            ProbeMetric::MacroAuroc => "macro_auroc",
        }
    }
}

/// One curve point (a one-point curve; [`merge_curves`] joins a model's points per metric).
fn curve_point(
    metric: ProbeMetric,
    fraction: f64,
    e: &GroupEstimate,
    outcomes: &[&SeedOutcome],
) -> ProbeCurve {
    let multi = metric == ProbeMetric::MacroAuroc;
    ProbeCurve {
        metric: metric.name().to_string(),
        points: vec![ProbePoint {
            fraction,
            mean: e.mean,
            sd: e.between_sd.unwrap_or(0.0),
            per_seed: e.per_replicate.clone(),
            alphas: outcomes.iter().filter_map(|o| o.alpha(multi)).collect(),
            n_train: outcomes
                .iter()
                .map(|o| {
                    if multi {
                        o.n_train_multi
                    } else {
                        o.n_train_single
                    }
                })
                .collect(),
        }],
    }
}

/// Joins the one-point curves of each model into one curve per metric, in push order.
fn merge_curves(plots: &mut [ModelPlots]) {
    for p in plots {
        let mut merged: Vec<ProbeCurve> = Vec::new();
        for c in p.probe_curves.drain(..) {
            match merged.iter_mut().find(|m| m.metric == c.metric) {
                Some(m) => m.points.extend(c.points),
                None => merged.push(c),
            }
        }
        p.probe_curves = merged;
    }
}

/// The descriptive regularisation rows: per model and fraction, the median over the fitted seeds
/// of the α chosen on validation (`alpha`: the single-label probe of `accuracy` / `macro_f1`;
/// `alpha_multilabel`: the shared α of the per-label probes of `macro_auroc`), `n` = fits. The
/// per-seed values are in the probe curves (`alphas`).
fn alpha_rows(run: &Run, names: &[String], results: &[Vec<Vec<SeedOutcome>>]) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for (metric, multi) in [("alpha", false), ("alpha_multilabel", true)] {
        for (m, name) in names.iter().enumerate() {
            for (f, &fraction) in run.cfg.probe_fractions.iter().enumerate() {
                let mut alphas: Vec<f64> = results[m][f]
                    .iter()
                    .filter_map(|o| o.alpha(multi))
                    .collect();
                if alphas.is_empty() {
                    continue;
                }
                alphas.sort_by(f64::total_cmp);
                let setting = Setting::Fraction(fraction);
                rows.push(row(
                    Subject::Model(name),
                    probe_key(run, &setting, metric),
                    quantile_sorted(&alphas, 0.5),
                    (f64::NAN, f64::NAN),
                    alphas.len(),
                    None,
                ));
            }
        }
    }
    rows
}

/// The model names of a run.
fn names_of(run: &Run) -> Vec<String> {
    run.models.iter().map(|m| m.model.clone()).collect()
}

/// The key of a probe row.
fn probe_key<'k>(run: &'k Run, setting: &'k Setting, metric: &'k str) -> RowKey<'k> {
    RowKey {
        dataset: &run.dataset.name,
        task: Task::LinearProbe,
        setting,
        metric,
    }
}

#[cfg(test)]
mod tests;
