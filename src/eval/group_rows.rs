/*!
The rows of replicate groups ([`super::groups`]), built for [`super::rows::bootstrap_group_rows`]:
a group's mean row and the comparison row of two groups, both through the two-level bootstrap of
[`super::inference::replicates`] (resample replicates, then items shared by every replicate of a
round). Like every row they go through [`super::rows::row`], so undefined values and intervals are
decided in one place.

When a spec has its own point value (`Spec::full`, e.g. subsampled uniformity), the group value is
the mean of the replicates' point values and the interval is widened to contain it.
*/
use super::MetricRow;
use super::groups::{ModelGroups, ReplicateInfo};
use super::inference::replicates::{self, Groups, Pairing, SignCheck};
use super::rows::{Comparison, RowKey, Spec, Subject, row};
use super::stats::{BootstrapConfig, Estimate, mean_sd};

/// Mean of `values[m].value` over `members` (NaN when any is undefined).
fn mean_of(members: &[usize], values: &[Estimate]) -> f64 {
    let v: Vec<f64> = members.iter().map(|&m| values[m].value).collect();
    if v.iter().any(|x| !x.is_finite()) {
        return f64::NAN;
    }
    mean_sd(&v).0
}

/// `(lo, hi)` widened to contain `value` (NaN bounds stay NaN).
fn widen((lo, hi): (f64, f64), value: f64) -> (f64, f64) {
    (lo.min(value), hi.max(value))
}

/// The row of group `name` (its replicates `members`, full-sample estimates `values`).
pub(crate) fn group_row(
    name: &str,
    key: RowKey,
    spec: &Spec,
    members: &[usize],
    values: &[Estimate],
    boot: &BootstrapConfig,
) -> MetricRow {
    let value = mean_of(members, values);
    let per_replicate: Vec<f64> = members.iter().map(|&m| values[m].value).collect();
    let bounds = if value.is_finite() && boot.resamples > 0 {
        replicates::group_bootstrap(members.len(), spec.n, boot, |r, idx| {
            (spec.stat)(members[r], idx)
        })
        .map_or((f64::NAN, f64::NAN), |g| {
            widen((g.interval.low, g.interval.high), value)
        })
    } else {
        (f64::NAN, f64::NAN)
    };
    let mut r = row(Subject::Model(name), key, value, bounds, spec.n, None);
    r.replicates = Some(ReplicateInfo::Group {
        replicates: members.len(),
        between_sd: replicates::between_replicate_sd(&per_replicate),
        per_replicate,
    });
    r
}

/// The comparison row of groups `(a, b)` of `groups`: `mean(B) - mean(A)` with the two-level
/// bootstrap interval and p-value, paired by replicate position when the groups have as many
/// replicates ([`ModelGroups::pairing`]), and the replicates' sign check.
pub(crate) fn group_delta_row(
    cmp: &Comparison,
    key: RowKey,
    spec: &Spec,
    groups: &ModelGroups,
    (a, b): (usize, usize),
    values: &[Estimate],
    boot: &BootstrapConfig,
) -> MetricRow {
    let (ma, mb) = (&groups.members[a], &groups.members[b]);
    let pairing = groups.pairing(a, b);
    let value = mean_of(mb, values) - mean_of(ma, values);
    let va: Vec<f64> = ma.iter().map(|&m| values[m].value).collect();
    let vb: Vec<f64> = mb.iter().map(|&m| values[m].value).collect();
    let replicate_deltas = replicates::replicate_deltas(&va, &vb, pairing);
    let shape = match pairing {
        Pairing::Paired => Groups::Paired {
            replicates: ma.len(),
        },
        Pairing::Unpaired => Groups::Unpaired {
            replicates_a: ma.len(),
            replicates_b: mb.len(),
        },
    };
    let d = (value.is_finite() && boot.resamples > 0)
        .then(|| {
            replicates::group_delta(
                shape,
                spec.n,
                boot,
                |r, idx| (spec.stat)(ma[r], idx),
                |r, idx| (spec.stat)(mb[r], idx),
            )
            .ok()
        })
        .flatten();
    let bounds = d.as_ref().map_or((f64::NAN, f64::NAN), |d| {
        widen((d.interval.low, d.interval.high), value)
    });
    let p = d.as_ref().map(|d| d.p_value);
    let mut r = row(
        Subject::Comparison(cmp),
        key,
        value,
        bounds,
        spec.n,
        p.map(|p| p.p),
    );
    r.p_bootstrap = r.p_value.and(p);
    r.replicates = Some(ReplicateInfo::Comparison {
        baseline: ma.len(),
        candidate: mb.len(),
        pairing,
        sign: SignCheck::of(&replicate_deltas),
        replicate_deltas,
    });
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::groups::ModelGroup;
    use crate::eval::metrics::{Setting, Task};
    use crate::eval::rows::bootstrap_group_rows;

    /// Four models (A#0, A#1, B#0, B#1) on 40 items: per-item scores `base + shift`.
    fn spec<'a>(shift: [f64; 4]) -> Spec<'a> {
        Spec::new(
            Task::Zeroshot,
            Setting::Argmax,
            "accuracy",
            40,
            true,
            move |m, idx| {
                idx.iter()
                    .map(|&i| ((i * 7) % 5) as f64 / 4.0 + shift[m])
                    .sum::<f64>()
                    / idx.len() as f64
            },
        )
    }

    fn groups(names: &[String]) -> ModelGroups {
        let g = |n: &str| ModelGroup {
            name: n.into(),
            replicates: vec![format!("{n}#0"), format!("{n}#1")],
        };
        ModelGroups::resolve(&[g("A"), g("B")], names)
    }

    #[test]
    fn group_rows_are_replicate_means_and_deltas_are_mean_differences() {
        let names: Vec<String> = ["A#0", "A#1", "B#0", "B#1"].map(String::from).to_vec();
        let boot = BootstrapConfig {
            resamples: 200,
            ..BootstrapConfig::default()
        };
        let s = spec([0.0, 0.02, 0.1, 0.06]);
        let (per_model, cmp) = bootstrap_group_rows("d", &names, &groups(&names), &boot, &[s]);
        // Replicate rows under their own names, the group row after its last replicate.
        assert_eq!(per_model[1][1].model, "A");
        assert_eq!(per_model[3][1].model, "B");
        let a = &per_model[1][1];
        let a0 = per_model[0][0].value.unwrap();
        let a1 = per_model[1][0].value.unwrap();
        assert!((a.value.unwrap() - (a0 + a1) / 2.0).abs() < 1e-12);
        assert!(a.ci_low.unwrap() <= a.value.unwrap() && a.value <= a.ci_high);
        // Between-replicate SD of two values: |a1 - a0| / sqrt(2).
        let sd = crate::eval::groups::replicate_sd(a).unwrap();
        assert!((sd - 0.02 / 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(crate::eval::groups::replicates_cell(a), 2);
        assert_eq!(cmp.len(), 1);
        let d = &cmp[0];
        assert_eq!(d.model, "B - A");
        // (0.1 + 0.06) / 2 - (0 + 0.02) / 2 = 0.07; per-replicate deltas 0.1 and 0.04 agree.
        assert!((d.value.unwrap() - 0.07).abs() < 1e-12);
        assert!(d.p_value.is_some() && d.ci_low.unwrap() <= 0.07);
        assert_eq!(crate::eval::groups::sign_check(d), Some(SignCheck::Agree));
    }

    #[test]
    fn plain_models_keep_the_paired_item_bootstrap() {
        let names: Vec<String> = ["A", "B"].map(String::from).to_vec();
        let boot = BootstrapConfig {
            resamples: 100,
            ..BootstrapConfig::default()
        };
        let s = spec([0.0, 0.05, 0.0, 0.0]);
        let (_, cmp) =
            bootstrap_group_rows("d", &names, &ModelGroups::singletons(&names), &boot, &[s]);
        let s = spec([0.0, 0.05, 0.0, 0.0]);
        let d = crate::eval::rows::paired(
            40,
            &boot,
            None,
            |idx| (s.stat)(0, idx),
            |idx| (s.stat)(1, idx),
        );
        let want = crate::eval::rows::delta_row(&Comparison::new("A", "B"), s.key("d"), &d);
        assert_eq!(cmp, vec![want]);
        assert!(cmp[0].replicates.is_none());
    }
}
