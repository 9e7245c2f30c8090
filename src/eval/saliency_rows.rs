/*!
The `saliency` task's rows: per model, the mean of each agreement score ([`Agreement::NAMES`]) over
the items every model has a map for, overall and per finding (`nss:<finding>`), with bootstrap
intervals over items and paired `B - A` deltas on the same items — all through the one row builder
([`super::rows::bootstrap_group_rows`]; between replicate groups when there are any). Pure: scores in, rows out; the maps are computed by the run
layer (`crate::run::saliency`).
*/
use super::MetricRow;
use super::groups::ModelGroups;
use super::metrics::{Setting, Task};
use super::rows::{Spec, bootstrap_group_rows};
use super::saliency::Agreement;
use super::stats::BootstrapConfig;

/// One scored item: the findings it counts under and each model's agreement (`None` = no map).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredItem {
    pub findings: Vec<String>,
    /// One per model, in the order of the model names.
    pub scores: Vec<Option<Agreement>>,
}

/// The rows of `items` (`setting` = `<method>:<target>`), per-model rows first (model by model),
/// then comparisons of the pairs `compared` holds. A metric's items are those where every model has a defined value, so deltas
/// pair up; a group with no such item gives undefined rows.
pub fn saliency_rows(
    dataset: &str,
    names: &[String],
    setting: &str,
    boot: &BootstrapConfig,
    findings: &[String],
    items: &[ScoredItem],
    compared: &ModelGroups,
) -> Vec<MetricRow> {
    let mut specs = Vec::new();
    let groups = std::iter::once(None).chain(findings.iter().map(Some));
    for group in groups {
        for (k, name) in Agreement::NAMES.iter().enumerate() {
            // values[m][j]: model m's score on the j-th usable item of this group.
            let usable: Vec<&ScoredItem> = items
                .iter()
                .filter(|it| group.is_none_or(|g| it.findings.contains(g)))
                .filter(|it| {
                    it.scores.len() == names.len()
                        && it
                            .scores
                            .iter()
                            .all(|s| s.and_then(|a| a.values()[k]).is_some())
                })
                .collect();
            let values: Vec<Vec<f64>> = (0..names.len())
                .map(|m| {
                    usable
                        .iter()
                        .filter_map(|it| it.scores[m].and_then(|a| a.values()[k]))
                        .collect()
                })
                .collect();
            let metric = match group {
                None => (*name).to_owned(),
                Some(g) => format!("{name}:{g}"),
            };
            let n = usable.len();
            specs.push(Spec::new(
                Task::Saliency,
                Setting::Saliency(setting.to_owned()),
                metric,
                n,
                true,
                move |m: usize, idx: &[usize]| {
                    if idx.is_empty() {
                        return f64::NAN;
                    }
                    idx.iter().map(|&i| values[m][i]).sum::<f64>() / idx.len() as f64
                },
            ));
        }
    }
    let (per_model, cmp) = bootstrap_group_rows(dataset, names, compared, boot, &specs);
    per_model.into_iter().flatten().chain(cmp).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: f64) -> Agreement {
        Agreement {
            nss: Some(v),
            cc: Some(v / 10.0),
            kl: Some(1.0 - v / 10.0),
            sim: Some(0.5),
            auc_judd: None,
        }
    }

    #[test]
    fn means_pair_over_items_every_model_scored_and_groups_by_finding() {
        let names = vec!["A".to_owned(), "B".to_owned()];
        let items = vec![
            ScoredItem {
                findings: vec!["edema".into()],
                scores: vec![Some(a(1.0)), Some(a(2.0))],
            },
            ScoredItem {
                findings: vec!["edema".into(), "nodule".into()],
                scores: vec![Some(a(3.0)), Some(a(5.0))],
            },
            // B has no map: left out of every metric.
            ScoredItem {
                findings: vec!["nodule".into()],
                scores: vec![Some(a(100.0)), None],
            },
        ];
        let boot = BootstrapConfig {
            resamples: 200,
            ..BootstrapConfig::default()
        };
        let f = vec!["edema".to_owned(), "nodule".to_owned()];
        let rows = saliency_rows(
            "d",
            &names,
            "occlusion:class",
            &boot,
            &f,
            &items,
            &ModelGroups::singletons(&names),
        );
        let get = |model: &str, metric: &str| {
            rows.iter()
                .find(|r| r.model == model && r.metric == metric)
                .unwrap_or_else(|| panic!("{model} {metric}"))
        };
        assert_eq!(get("A", "nss").value, Some(2.0));
        assert_eq!(get("A", "nss").n, 2);
        assert_eq!(get("B", "nss").value, Some(3.5));
        assert_eq!(get("B - A", "nss").value, Some(1.5));
        assert!(get("B - A", "nss").p_value.is_some());
        assert_eq!(get("A", "nss:nodule").value, Some(3.0));
        assert_eq!(get("A", "nss:nodule").n, 1);
        assert_eq!(get("A", "auc_judd").value, None, "undefined everywhere");
        assert_eq!(get("A", "auc_judd").n, 0);
        assert_eq!(get("A", "kl").task, Task::Saliency);
        assert_eq!(
            get("A", "kl").setting,
            Setting::Saliency("occlusion:class".into())
        );
        let ci = (
            get("A", "nss").ci_low.unwrap(),
            get("A", "nss").ci_high.unwrap(),
        );
        assert!(ci.0 >= 1.0 && ci.1 <= 3.0 && ci.0 < ci.1, "{ci:?}");
        // 2 models × 3 groups × 5 metrics + 3 × 5 comparisons.
        assert_eq!(rows.len(), 45);
    }
}
