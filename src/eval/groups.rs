/*!
Training-seed replicate groups as an axis of every comparison (issue 12 §3).

A `[[models]]` entry with `replicates = [...]` is one *group*: the same recipe trained several
times (one folder per seed). Each replicate is embedded and evaluated like any model (its rows carry
the replicate's own name, `<group>#<i>`); the group itself gets rows under the group's name (the
mean over its replicates with a two-level bootstrap interval, [`crate::eval::inference::replicates`])
and the comparisons are made between groups: `B - A` is the group mean of `B` minus the group mean
of `A`. A single-path entry is a group of one whose only replicate carries the group's name, so its
rows are exactly those of a plain model.

[`ModelGroups`] resolves the configured groups against the models that actually produced
embeddings (a replicate that failed to load drops out of its group; a group with no replicate left
drops out entirely) into indices, which is what the row builders use.
*/
use serde::{Deserialize, Serialize};

use super::MetricRow;
use super::inference::replicates::{Pairing, SignCheck};

/// One configured group: its name and its replicates' model names, in config order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelGroup {
    pub name: String,
    pub replicates: Vec<String>,
}

impl ModelGroup {
    /// A plain model: a group of one whose replicate carries the group's name.
    pub fn single(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            replicates: vec![name.to_owned()],
        }
    }

    /// The model name of replicate `i` of group `group` (`<group>#<i>`, `i` from 0).
    pub fn replicate_name(group: &str, i: usize) -> String {
        format!("{group}#{i}")
    }

    /// Whether the group's rows are the rows of its one model (no group rows of its own).
    pub fn is_single(&self) -> bool {
        self.replicates.len() == 1 && self.replicates[0] == self.name
    }
}

/// `[eval] compare`: which (baseline, candidate) pairs of models or groups are compared.
/// `"first"` (the default): every later one against the first in config order; `"all"`: every
/// unordered pair, the earlier one in config order the baseline; or a list of
/// `["baseline", "candidate"]` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Compare {
    Rule(String),
    Pairs(Vec<[String; 2]>),
}

impl Default for Compare {
    fn default() -> Self {
        Compare::Rule("first".into())
    }
}

impl Compare {
    /// The default rule (the record leaves it out, so records of default runs are unchanged).
    pub fn is_first(&self) -> bool {
        matches!(self, Compare::Rule(r) if r == "first")
    }

    /// Problems of the key against the configured model and group names (`known`, config order):
    /// an unknown rule or name, a model paired with itself.
    pub fn problems(&self, known: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Compare::Rule(r) if r == "first" || r == "all" => {}
            Compare::Rule(r) => out.push(crate::strict::explain(&format!(
                "[eval] compare: unknown variant `{r}`, expected `first` or `all` or a list of \
                 [\"baseline\", \"candidate\"] pairs"
            ))),
            Compare::Pairs(pairs) => {
                for [a, b] in pairs {
                    for name in [a, b] {
                        if !known.contains(name) {
                            let hint =
                                crate::strict::closest(name, known.iter().map(String::as_str))
                                    .map(|k| format!("; did you mean `{k}`?"))
                                    .unwrap_or_default();
                            out.push(format!(
                                "[eval] compare names `{name}`, which is no model or group of the \
                                 config (known: {}){hint}",
                                known.join(", ")
                            ));
                        }
                    }
                    if a == b {
                        out.push(format!("[eval] compare pairs `{a}` with itself"));
                    }
                }
            }
        }
        out
    }

    /// The compared pairs as (baseline, candidate) indices into `names` (the evaluated groups, in
    /// config order), without duplicates. Names of a list that were not evaluated (a model that
    /// failed to load) are left out; an unknown rule compares like `"first"` (start-up rejects it).
    pub fn pairs(&self, names: &[String]) -> Vec<(usize, usize)> {
        let n = names.len();
        let mut out: Vec<(usize, usize)> = match self {
            Compare::Rule(r) if r == "all" => (0..n)
                .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
                .collect(),
            Compare::Rule(_) => (1..n).map(|b| (0, b)).collect(),
            Compare::Pairs(pairs) => {
                let at = |x: &String| names.iter().position(|n| n == x);
                pairs
                    .iter()
                    .filter_map(|[a, b]| Some((at(a)?, at(b)?)))
                    .filter(|(a, b)| a != b)
                    .collect()
            }
        };
        let mut seen = std::collections::HashSet::new();
        out.retain(|p| seen.insert(*p));
        out
    }
}

/// Groups resolved against the evaluated models: `members[g]` are indices into the model list;
/// `pairs` the compared (baseline, candidate) group indices ([`Compare::pairs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelGroups {
    pub groups: Vec<ModelGroup>,
    pub members: Vec<Vec<usize>>,
    pub pairs: Vec<(usize, usize)>,
}

impl ModelGroups {
    /// Every model its own group (no replicates configured).
    pub fn singletons(names: &[String]) -> Self {
        Self {
            groups: names.iter().map(|n| ModelGroup::single(n)).collect(),
            members: (0..names.len()).map(|i| vec![i]).collect(),
            pairs: Compare::default().pairs(names),
        }
    }

    /// The same groups compared as `compare` says.
    pub fn with_compare(mut self, compare: &Compare) -> Self {
        self.pairs = compare.pairs(&self.names());
        self
    }

    /// `configured` resolved against the model names that were evaluated (`names`, in model order).
    /// Models no group names become groups of their own; replicates without embeddings drop out,
    /// and groups left empty are dropped. An empty `configured` gives [`Self::singletons`].
    pub fn resolve(configured: &[ModelGroup], names: &[String]) -> Self {
        let mut groups = Vec::new();
        let mut members = Vec::new();
        let mut claimed = vec![false; names.len()];
        for g in configured {
            let idx: Vec<usize> = g
                .replicates
                .iter()
                .filter_map(|r| names.iter().position(|n| n == r))
                .collect();
            if idx.is_empty() {
                continue;
            }
            for &i in &idx {
                claimed[i] = true;
            }
            groups.push(ModelGroup {
                name: g.name.clone(),
                replicates: idx.iter().map(|&i| names[i].clone()).collect(),
            });
            members.push(idx);
        }
        for (i, n) in names.iter().enumerate() {
            if !claimed[i] {
                // Keep model order: insert before the first group whose first member comes later.
                let at = members
                    .iter()
                    .position(|m| m[0] > i)
                    .unwrap_or(members.len());
                groups.insert(at, ModelGroup::single(n));
                members.insert(at, vec![i]);
            }
        }
        let pairs = (1..groups.len()).map(|b| (0, b)).collect();
        Self {
            groups,
            members,
            pairs,
        }
    }

    /// Whether group `g` is a plain model (its rows are its one model's rows).
    pub fn is_single(&self, g: usize) -> bool {
        self.groups[g].is_single()
    }

    /// Group names in order; the first is the baseline `A` of every comparison.
    pub fn names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.name.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Whether any group has more than one replicate (or is named apart from its one replicate).
    pub fn has_replicates(&self) -> bool {
        (0..self.len()).any(|g| !self.is_single(g))
    }

    /// How the replicates of groups `a` and `b` pair: by position when both have the same number
    /// (replicate `i` of every group is trained with the same seed: list them in seed order),
    /// unpaired otherwise.
    pub fn pairing(&self, a: usize, b: usize) -> Pairing {
        if self.members[a].len() == self.members[b].len() {
            Pairing::Paired
        } else {
            Pairing::Unpaired
        }
    }
}

/// What stands behind a group row or a group comparison row (JSON; the CSV's `replicates` and
/// `replicate_sd` columns, [`replicates_cell`] and [`replicate_sd`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReplicateInfo {
    /// A group's mean over its replicates.
    Group {
        replicates: usize,
        /// The statistic of each replicate on all items, in replicate order.
        per_replicate: Vec<f64>,
        /// Sample SD (ddof 1) of `per_replicate`; `None` for one replicate.
        between_sd: Option<f64>,
    },
    /// A comparison of two groups.
    Comparison {
        baseline: usize,
        candidate: usize,
        pairing: Pairing,
        /// Per replicate pair (paired) or every cross pair (unpaired), on all items.
        replicate_deltas: Vec<f64>,
        sign: SignCheck,
    },
}

/// The CSV's `replicates` cell: a group row's replicates, the fewer of the two groups' replicates
/// on a comparison row, 1 for a plain model or a comparison of two plain models.
pub fn replicates_cell(r: &MetricRow) -> usize {
    match &r.replicates {
        None => 1,
        Some(ReplicateInfo::Group { replicates, .. }) => *replicates,
        Some(ReplicateInfo::Comparison {
            baseline,
            candidate,
            ..
        }) => (*baseline).min(*candidate),
    }
}

/// The CSV's `replicate_sd` cell: the between-replicate SD of a group row, the SD of the
/// per-replicate deltas of a paired group comparison; `None` otherwise.
pub fn replicate_sd(r: &MetricRow) -> Option<f64> {
    match &r.replicates {
        Some(ReplicateInfo::Group { between_sd, .. }) => *between_sd,
        Some(ReplicateInfo::Comparison {
            pairing: Pairing::Paired,
            replicate_deltas,
            ..
        }) => super::inference::replicates::between_replicate_sd(replicate_deltas),
        _ => None,
    }
}

/// The replicates' sign check of a comparison row (`None` for rows without replicates).
pub fn sign_check(r: &MetricRow) -> Option<SignCheck> {
    match &r.replicates {
        Some(ReplicateInfo::Comparison { sign, .. }) => Some(*sign),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn compare_resolves_first_all_and_listed_pairs() {
        let n = names(&["A", "B", "C"]);
        assert_eq!(Compare::default().pairs(&n), [(0, 1), (0, 2)]);
        assert!(Compare::default().is_first());
        let all = Compare::Rule("all".into());
        assert_eq!(all.pairs(&n), [(0, 1), (0, 2), (1, 2)]);
        assert!(!all.is_first());
        let list = Compare::Pairs(vec![
            ["C".into(), "B".into()],
            ["C".into(), "B".into()],
            ["A".into(), "Gone".into()],
            ["A".into(), "A".into()],
        ]);
        // Duplicates once, a name that was not evaluated and a self-pair left out.
        assert_eq!(list.pairs(&n), [(2, 1)]);
        assert!(Compare::Rule("all".into()).pairs(&names(&["A"])).is_empty());
        let g = ModelGroups::singletons(&n).with_compare(&all);
        assert_eq!(g.pairs, [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(ModelGroups::resolve(&[], &n).pairs, [(0, 1), (0, 2)]);
    }

    #[test]
    fn compare_problems_name_the_key_and_the_close_name() {
        let known = names(&["CLIP", "eCLIP"]);
        assert!(Compare::default().problems(&known).is_empty());
        assert!(Compare::Rule("all".into()).problems(&known).is_empty());
        let p = Compare::Rule("al".into()).problems(&known);
        assert!(
            p[0].contains("[eval] compare") && p[0].contains("`al`"),
            "{p:?}"
        );
        let p = Compare::Pairs(vec![["CLIP".into(), "eclp".into()]]).problems(&known);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("[eval] compare") && p[0].contains("`eclp`"),
            "{p:?}"
        );
        assert!(p[0].contains("did you mean `eCLIP`?"), "{p:?}");
        let p = Compare::Pairs(vec![["CLIP".into(), "CLIP".into()]]).problems(&known);
        assert!(p[0].contains("with itself"), "{p:?}");
    }

    #[test]
    fn groups_resolve_against_the_evaluated_models() {
        let configured = vec![
            ModelGroup {
                name: "CLIP".into(),
                replicates: names(&["CLIP#0", "CLIP#1"]),
            },
            ModelGroup::single("X"),
            ModelGroup {
                name: "eCLIP".into(),
                replicates: names(&["eCLIP#0", "eCLIP#1"]),
            },
        ];
        // eCLIP#1 failed to load; "Y" is not in any group.
        let g = ModelGroups::resolve(
            &configured,
            &names(&["CLIP#0", "CLIP#1", "X", "eCLIP#0", "Y"]),
        );
        assert_eq!(g.names(), names(&["CLIP", "X", "eCLIP", "Y"]));
        assert_eq!(g.members, vec![vec![0, 1], vec![2], vec![3], vec![4]]);
        assert!(g.is_single(1) && !g.is_single(2) && g.has_replicates());
        assert_eq!(g.pairing(0, 2), Pairing::Unpaired);
        assert_eq!(g.pairing(1, 2), Pairing::Paired);
        let plain = ModelGroups::resolve(&[], &names(&["A", "B"]));
        assert_eq!(plain, ModelGroups::singletons(&names(&["A", "B"])));
        assert!(!plain.has_replicates());
    }
}
