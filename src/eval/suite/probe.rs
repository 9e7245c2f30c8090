/*! Linear probes on frozen image embeddings: which items and labels each probe uses, one fit per
(model, fraction, seed) with [`crate::eval::probe`], and the rows (mean over seeds with
t-intervals, paired t-test deltas) and curves. */
use ndarray::{Array2, Axis};
use rayon::prelude::*;

use super::zeroshot::ArgmaxData;
use super::{Run, SplitViews};
use crate::eval::MetricRow;
use crate::eval::groups::ReplicateInfo;
use crate::eval::inference::replicates::{Pairing, SignCheck, between_replicate_sd};
use crate::eval::metrics::{Setting, Task};
use crate::eval::probe::{self, FitSettings, Split};
use crate::eval::rows::{Comparison, RowKey, Subject, row};
use crate::eval::summary::{ModelPlots, ProbeCurve, ProbePoint};

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
                let mut outcomes: Vec<(SeedOutcome, Vec<String>)> = seeds
                    .par_iter()
                    .map(|&seed| setup.run(m, fraction, seed, &cfg.probe_alphas, settings))
                    .collect();
                if let Some(first) = outcomes.first().cloned() {
                    outcomes.resize(cfg.probe_seeds.len(), first);
                }
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
                "linear_probe fraction=1 uses the whole training split, the same for every seed: it is fitted once, so it has no seed spread (empty ci and p cells)".into(),
            );
        }
        self.notes.extend(subset_notes);
        setup.rows_and_curves(self, &results, plots)
    }
}

/// One (model, fraction, seed) probe result.
#[derive(Debug, Clone, Default)]
pub(super) struct SeedOutcome {
    pub(super) single: Option<probe::SingleLabelScores>,
    pub(super) multi: Option<probe::MultiLabelScores>,
    pub(super) n_train_single: usize,
    pub(super) n_train_multi: usize,
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
        let mut out = SeedOutcome::default();
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
            out.n_train_single = sub.indices.len();
            out.single = probe::single_label_run(
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
        }
        let sub = probe::multilabel_subset(&self.ml_train, &self.label_names, fraction, seed);
        notes.extend(sub.notes.iter().map(|n| format!("multi-label probe: {n}")));
        out.n_train_multi = sub.indices.len();
        let xval = self.val.map_or(empty.view(), |v| v.image(m));
        out.multi = probe::multi_label_run(
            Split {
                x: self.train.image(m),
                y: &self.ml_train,
            },
            &sub.indices,
            Split {
                x: xval,
                y: &self.ml_val,
            },
            Split {
                x: self.test.image(m),
                y: &self.ml_test,
            },
            self.label_names.len(),
            alphas,
            s,
        );
        (out, notes)
    }

    /// Rows (mean over seeds with t-intervals; paired t-test deltas) and the probe curves.
    pub(super) fn rows_and_curves(
        &self,
        run: &Run,
        results: &[Vec<Vec<SeedOutcome>>],
        plots: &mut [ModelPlots],
    ) -> Vec<MetricRow> {
        let cfg = run.cfg;
        let names: Vec<String> = run.models.iter().map(|m| m.model.clone()).collect();
        type Getter = fn(&SeedOutcome) -> Option<(f64, f64, usize)>;
        let metrics: [(&str, Getter); 3] = [
            ("accuracy", |o| {
                o.single.map(|s| (s.accuracy, s.alpha, o.n_train_single))
            }),
            ("macro_f1", |o| {
                o.single
                    .filter(|s| s.macro_f1.is_finite())
                    .map(|s| (s.macro_f1, s.alpha, o.n_train_single))
            }),
            ("macro_auroc", |o| {
                o.multi
                    .as_ref()
                    .and_then(|s| s.macro_auroc.map(|v| (v, s.alpha, o.n_train_multi)))
            }),
        ];
        let mut rows = Vec::new();
        let mut cmp = Vec::new();
        for (metric, get) in metrics {
            for (m, name) in names.iter().enumerate() {
                let mut curve = ProbeCurve {
                    metric: metric.to_string(),
                    points: Vec::new(),
                };
                for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
                    let got: Vec<(f64, f64, usize)> =
                        results[m][f].iter().filter_map(get).collect();
                    let vals: Vec<f64> = got.iter().map(|g| g.0).collect();
                    let Some((mean, lo, hi, sd)) = probe::seed_interval(&vals, cfg.confidence)
                    else {
                        continue;
                    };
                    let setting = Setting::Fraction(fraction);
                    rows.push(row(
                        Subject::Model(name),
                        probe_key(run, &setting, metric),
                        mean,
                        (lo, hi),
                        vals.len(),
                        None,
                    ));
                    curve.points.push(ProbePoint {
                        fraction,
                        mean,
                        sd,
                        per_seed: vals,
                        alphas: got.iter().map(|g| g.1).collect(),
                        n_train: got.iter().map(|g| g.2).collect(),
                    });
                }
                if !curve.points.is_empty() {
                    plots[m].probe_curves.push(curve);
                }
            }
            // Replicate groups: the pooled (replicate, seed) values, their t-interval and the
            // between-replicate SD of the replicates' seed means.
            let groups = &run.groups;
            let gnames = groups.names();
            for (g, members) in groups.members.iter().enumerate() {
                if groups.is_single(g) {
                    continue;
                }
                for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
                    let per: Vec<Vec<f64>> = members
                        .iter()
                        .map(|&m| results[m][f].iter().filter_map(get).map(|g| g.0).collect())
                        .collect();
                    let vals: Vec<f64> = per.iter().flatten().copied().collect();
                    let Some((mean, lo, hi, _)) = probe::seed_interval(&vals, cfg.confidence)
                    else {
                        continue;
                    };
                    let per_replicate: Vec<f64> = per
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
                        .collect();
                    let setting = Setting::Fraction(fraction);
                    let mut r = row(
                        Subject::Model(&gnames[g]),
                        probe_key(run, &setting, metric),
                        mean,
                        (lo, hi),
                        vals.len(),
                        None,
                    );
                    r.replicates = Some(ReplicateInfo::Group {
                        replicates: members.len(),
                        between_sd: between_replicate_sd(&per_replicate),
                        per_replicate,
                    });
                    rows.push(r);
                }
            }
            if !self.train.paired || !self.test.paired {
                continue;
            }
            for b in 1..groups.len() {
                // Replicate groups pair by position (same seed), then by probe seed; groups of
                // different sizes are not compared here.
                if groups.pairing(0, b) != Pairing::Paired {
                    continue;
                }
                let pairs: Vec<(usize, usize)> = groups.members[0]
                    .iter()
                    .copied()
                    .zip(groups.members[b].iter().copied())
                    .collect();
                for (f, &fraction) in cfg.probe_fractions.iter().enumerate() {
                    // Pair seeds where both models produced a value.
                    let per_pair: Vec<(Vec<f64>, Vec<f64>)> = pairs
                        .iter()
                        .map(|&(ma, mb)| {
                            results[ma][f]
                                .iter()
                                .zip(&results[mb][f])
                                .filter_map(|(oa, ob)| Some((get(oa)?.0, get(ob)?.0)))
                                .unzip()
                        })
                        .collect();
                    let a: Vec<f64> = per_pair.iter().flat_map(|p| p.0.clone()).collect();
                    let bv: Vec<f64> = per_pair.iter().flat_map(|p| p.1.clone()).collect();
                    if let Some((d, lo, hi, p)) = probe::paired_t_test(&a, &bv, cfg.confidence) {
                        let setting = Setting::Fraction(fraction);
                        let mut r = row(
                            Subject::Comparison(&Comparison::new(&gnames[0], &gnames[b])),
                            probe_key(run, &setting, metric),
                            d,
                            (lo, hi),
                            a.len(),
                            Some(p),
                        );
                        if !(groups.is_single(0) && groups.is_single(b)) {
                            let replicate_deltas: Vec<f64> = per_pair
                                .iter()
                                .filter(|p| !p.0.is_empty())
                                .map(|(pa, pb)| {
                                    pb.iter().zip(pa).map(|(b, a)| b - a).sum::<f64>()
                                        / pa.len() as f64
                                })
                                .collect();
                            r.replicates = Some(ReplicateInfo::Comparison {
                                baseline: pairs.len(),
                                candidate: pairs.len(),
                                pairing: Pairing::Paired,
                                sign: SignCheck::of(&replicate_deltas),
                                replicate_deltas,
                            });
                        }
                        cmp.push(r);
                    }
                }
            }
        }
        rows.extend(cmp);
        rows
    }
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
