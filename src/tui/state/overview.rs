/*!
The Overview's view model: the metric table (metrics × models plus the comparison columns), its
lines, estimates and deltas, and where a chosen (baseline, candidate) pair's comparison is.
Filled from `eval::MetricRow`s when rows arrive, never while drawing.
*/
use crate::eval::MetricRow;
pub use crate::eval::metrics::{Direction, Setting, Task, Verdict};

/// One value with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub n: usize,
}

/// A comparison `B - A` with its paired-bootstrap CI, p-value and verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delta {
    pub value: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub p_value: Option<f64>,
    /// The multiplicity-adjusted p-value (`crate::eval::metrics::adjust`).
    pub p_adjusted: Option<f64>,
    /// [`Verdict::of_row`] of the comparison row: the verdict the review shows.
    pub verdict: Verdict,
}

impl Delta {
    /// The delta of a comparison row.
    pub fn of_row(row: &MetricRow) -> Delta {
        Delta {
            value: row.value,
            ci: row.ci_low.zip(row.ci_high),
            p_value: row.p_value,
            p_adjusted: crate::eval::metrics::verdict_p(row),
            verdict: Verdict::of_row(row),
        }
    }

    /// The p-value verdicts use (adjusted where adjusted), for display.
    pub fn p_shown(&self) -> Option<f64> {
        self.p_adjusted.or(self.p_value)
    }
}

/// One line of the overview table: a (dataset, task, setting, metric) across models.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewLine {
    pub dataset: String,
    pub task: Task,
    pub setting: Setting,
    pub metric: String,
    pub direction: Direction,
    /// One entry per model, in [`OverviewTable::models`] order.
    pub values: Vec<Option<Estimate>>,
    /// One entry per comparison, in [`OverviewTable::comparisons`] order.
    pub deltas: Vec<Option<Delta>>,
    /// The same comparisons the other way round (`A - B`), judged by the same rule.
    pub reversed: Vec<Option<Delta>>,
}

impl OverviewLine {
    /// `task/setting metric`, the name the Overview lists and filters.
    pub fn name(&self) -> String {
        if self.setting == Setting::None {
            format!("{} {}", self.task, self.metric)
        } else {
            format!("{}/{} {}", self.task, self.setting, self.metric)
        }
    }

    /// The delta of a pair found by [`OverviewTable::pair`].
    pub fn delta(&self, pair: Option<PairIndex>) -> Option<Delta> {
        let p = pair?;
        let deltas = if p.reversed {
            &self.reversed
        } else {
            &self.deltas
        };
        *deltas.get(p.comparison)?
    }
}

/// Where the comparison of a chosen (baseline, candidate) pair is: its index in
/// [`OverviewTable::comparisons`] and whether it was computed the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairIndex {
    pub comparison: usize,
    pub reversed: bool,
}

/// The comparison row `A - B` of a row `B - A`: the same paired comparison with the sign flipped
/// (value negated, interval mirrored, same p-values and items), so that [`Delta::of_row`] judges
/// it by the one verdict rule. `None` for a row that is no comparison.
pub fn reversed_row(row: &MetricRow) -> Option<MetricRow> {
    let c = row.comparison.as_ref()?;
    let swapped = crate::eval::rows::Comparison::new(&c.candidate, &c.baseline);
    // `0.0 - v`, not `-v`: a zero delta stays +0 (no "-0.000").
    let neg = |v: f64| 0.0 - v;
    Some(MetricRow {
        model: swapped.label(),
        value: row.value.map(neg),
        ci_low: row.ci_high.map(neg),
        ci_high: row.ci_low.map(neg),
        comparison: Some(swapped),
        ..row.clone()
    })
}

/// The metric table: metrics × models plus `B - A` deltas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverviewTable {
    pub models: Vec<String>,
    /// Comparison names as they appear in the rows' `model` field ("eCLIP - CLIP").
    pub comparisons: Vec<String>,
    /// The typed comparisons, aligned with `comparisons`.
    pub pairs: Vec<crate::eval::rows::Comparison>,
    pub lines: Vec<OverviewLine>,
}

impl OverviewTable {
    /// Groups tidy rows into table lines. `models` fixes the column order; comparison rows
    /// ([`MetricRow::is_comparison`]) get delta columns, any other unknown model its own column.
    pub fn from_rows(models: &[String], rows: &[MetricRow]) -> OverviewTable {
        let mut table = OverviewTable {
            models: models.to_vec(),
            ..OverviewTable::default()
        };
        for row in rows {
            if !table.models.contains(&row.model) {
                if let Some(c) = &row.comparison {
                    if !table.comparisons.contains(&row.model) {
                        table.comparisons.push(row.model.clone());
                        table.pairs.push(c.clone());
                    }
                } else {
                    table.models.push(row.model.clone());
                }
            }
        }
        for row in rows {
            let idx = table.lines.iter().position(|l| {
                l.dataset == row.dataset
                    && l.task == row.task
                    && l.setting == row.setting
                    && l.metric == row.metric
            });
            let idx = match idx {
                Some(i) => i,
                None => {
                    table.lines.push(OverviewLine {
                        dataset: row.dataset.clone(),
                        task: row.task,
                        setting: row.setting.clone(),
                        metric: row.metric.clone(),
                        direction: crate::eval::metrics::direction(row.task, &row.metric),
                        values: vec![None; table.models.len()],
                        deltas: vec![None; table.comparisons.len()],
                        reversed: vec![None; table.comparisons.len()],
                    });
                    table.lines.len() - 1
                }
            };
            let ci = row.ci_low.zip(row.ci_high);
            let line = &mut table.lines[idx];
            if let Some(m) = table.models.iter().position(|m| *m == row.model) {
                line.values[m] = Some(Estimate {
                    value: row.value,
                    ci,
                    n: row.n,
                });
            } else if let Some(c) = table.comparisons.iter().position(|c| *c == row.model) {
                line.deltas[c] = Some(Delta::of_row(row));
                line.reversed[c] = reversed_row(row).map(|r| Delta::of_row(&r));
            }
        }
        table
    }

    /// The comparison `candidate - baseline`, or the reverse one the run computed; `None` when
    /// the run has no paired comparison of the two (it pairs every model with the first).
    pub fn pair(&self, baseline: &str, candidate: &str) -> Option<PairIndex> {
        self.pairs.iter().enumerate().find_map(|(i, c)| {
            if c.baseline == baseline && c.candidate == candidate {
                Some(PairIndex {
                    comparison: i,
                    reversed: false,
                })
            } else if c.baseline == candidate && c.candidate == baseline {
                Some(PairIndex {
                    comparison: i,
                    reversed: true,
                })
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, metric: &str, value: f64, ci: (f64, f64), p: Option<f64>) -> MetricRow {
        MetricRow {
            model: model.into(),
            dataset: "d".into(),
            task: Task::Zeroshot,
            setting: Setting::Argmax,
            metric: metric.into(),
            value: Some(value),
            ci_low: Some(ci.0),
            ci_high: Some(ci.1),
            n: 100,
            p_value: p,
            p_adjusted: None,
            adjustment: None,
            p_bootstrap: None,
            positives: None,
            replicates: None,
            comparison: model
                .split_once(" - ")
                .map(|(b, a)| crate::eval::rows::Comparison::new(a, b)),
        }
    }

    #[test]
    fn overview_groups_models_and_comparisons() {
        let models = vec!["CLIP".to_string(), "eCLIP".to_string()];
        let rows = vec![
            row("CLIP", "accuracy", 0.5, (0.4, 0.6), None),
            row("eCLIP", "accuracy", 0.7, (0.6, 0.8), None),
            row("eCLIP - CLIP", "accuracy", 0.2, (0.1, 0.3), Some(0.01)),
            row("CLIP", "mean_rank", 5.0, (4.0, 6.0), None),
        ];
        let t = OverviewTable::from_rows(&models, &rows);
        assert_eq!(t.comparisons, vec!["eCLIP - CLIP".to_string()]);
        assert_eq!(t.lines.len(), 2);
        assert_eq!(t.lines[0].values[1].and_then(|e| e.value), Some(0.7));
        let d = t.lines[0].deltas[0].expect("delta");
        assert_eq!(d.verdict, Verdict::Better);
        assert_eq!(t.lines[0].direction, Direction::HigherBetter);
        // A metric the registry does not know is shown, never judged.
        assert_eq!(t.lines[1].direction, Direction::Descriptive);
        assert!(t.lines[1].deltas[0].is_none());
    }

    #[test]
    fn delta_with_ci_spanning_zero_is_unclear() {
        let d = Delta::of_row(&row(
            "eCLIP - CLIP",
            "accuracy",
            0.1,
            (-0.05, 0.2),
            Some(0.01),
        ));
        assert_eq!(d.verdict, Verdict::NoDifference);
        let mut r = row("eCLIP - CLIP", "accuracy", -0.1, (-0.2, -0.05), Some(0.01));
        assert_eq!(Delta::of_row(&r).verdict, Verdict::Worse);
        r.n = 3;
        assert_eq!(Delta::of_row(&r).verdict, Verdict::TooFewItems);
    }
}
