/*!
The model-comparison review (`--review FILE`): one Markdown document a reviewer can read in a pull
request or paste into an appendix. It states what was compared (models with file hashes, data with
hashes and prompts, runtime, seeds, definitions), then per model pair a verdict table (one line per
family and setting: its primary metric, `Δ` with its BCa interval, raw and adjusted p, replicates,
verdict), the secondary metrics (shown, not voted), a "limits of this comparison" section that the
tool fills in from the rows, and shows the figures (PNG images relative to the review, SVG linked).

Verdict rule (stated in the document, [`Verdict::of_row`], the same function the TUI colours
with): a family's verdict is the verdict of its primary metric ([`metrics::family_verdicts`]):
better / worse for `B` when the paired 95% interval of `B − A` excludes 0 and the Holm-adjusted
p < 0.05, in the metric's good direction; "too few items" below 30 items (or 10 positives of the
class on a per-class row). Secondary metrics carry
Benjamini–Hochberg q-values and their own marks, but never decide a family.
*/
mod facts;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::record::RecordInputs;
use super::{ReportError, figure, fmt_ci, fmt_num};
use crate::eval::MetricRow;
use crate::eval::groups;
use crate::eval::inference::multiplicity::Adjustment;
use crate::eval::inference::replicates::SignCheck;
use crate::eval::metrics::{self, FamilyVerdict, Setting, Task, Verdict};
use crate::eval::protocol::{ProtocolUse, review_paragraph};
use crate::eval::rows::Comparison;
use crate::eval::summary::EvalSummary;
use facts::{
    groups_section, inputs_section, interrupted_section, leakage_section, rows_left_out_section,
};

/// Metric families with the tasks/settings they cover.
const FAMILIES: [(&str, Task, Option<Setting>); 8] = [
    (
        "Zero-shot classification (argmax, single-label)",
        Task::Zeroshot,
        Some(Setting::Argmax),
    ),
    (
        "Zero-shot classification (posneg, multi-label)",
        Task::Zeroshot,
        Some(Setting::Posneg),
    ),
    ("Linear probes", Task::LinearProbe, None),
    ("Retrieval", Task::Retrieval, None),
    ("Embedding geometry", Task::Geometry, None),
    ("Gap-shift sweep", Task::GapShift, None),
    ("RAG report generation", Task::Rag, None),
    ("Saliency agreement with expert gaze", Task::Saliency, None),
];

/// Whether `family` (a [`FAMILIES`] entry) covers rows of (`task`, `setting`).
fn covers(family: &(&str, Task, Option<Setting>), task: Task, setting: &Setting) -> bool {
    family.1 == task && family.2.as_ref().is_none_or(|x| x == setting)
}

/// The title of a family verdict's line (`FAMILIES` by task and setting).
fn family_title(task: Task, setting: &Setting) -> &'static str {
    FAMILIES
        .iter()
        .find(|f| covers(f, task, setting))
        .map_or("", |f| f.0)
}

/// A raw p-value cell (`< 1/B` below resolution) with its Monte Carlo standard error.
fn p_cell(r: &MetricRow) -> String {
    let p = metrics::p_text(r);
    match r.p_bootstrap {
        Some(b) if !p.is_empty() => format!("{p} (MC SE {})", fmt_num(Some(b.mc_se))),
        _ => p,
    }
}

/// The verdict table of one model pair.
fn verdict_table(o: &mut String, verdicts: &[&FamilyVerdict]) {
    let _ = writeln!(
        o,
        "#### Verdicts (primary metrics)\n\n| family | setting | primary metric | Δ B − A [95% CI] | p | adjusted p | n | replicates | verdict |\n|---|---|---|---|---|---|---|---|---|"
    );
    for v in verdicts {
        let r = v.row;
        let word = match v.verdict {
            Verdict::TooFewItems => metrics::sample_size(r)
                .reason()
                .unwrap_or_else(|| v.verdict.word().into()),
            Verdict::ReplicatesDisagree => disagreement(r),
            other => other.word().into(),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | **{word}** |",
            family_title(v.task, v.setting),
            v.setting,
            v.metric,
            fmt_ci(r.value, r.ci_low, r.ci_high),
            p_cell(r),
            metrics::p_adjusted_text(r),
            r.n,
            v.replicates,
        );
    }
    if verdicts.is_empty() {
        let _ = writeln!(
            o,
            "| - | - | - | - | - | - | - | - | no primary comparison |"
        );
    }
    let _ = writeln!(o);
}

/// The verdict word of a refused directional verdict: how the replicate pairs split.
fn disagreement(r: &MetricRow) -> String {
    match groups::sign_check(r) {
        Some(SignCheck::Disagree { positive, negative }) => {
            format!("replicates disagree ({positive} replicate pair(s) B > A, {negative} B < A)")
        }
        _ => Verdict::ReplicatesDisagree.word().into(),
    }
}

/// The replicate limits: single-replicate verdicts, how many seeds stand behind the others, and
/// the verdicts refused because replicates disagree in sign.
fn replicate_limits(limits: &mut Vec<String>, verdicts: &[&FamilyVerdict]) {
    let max_replicates = verdicts.iter().map(|v| v.replicates).max().unwrap_or(1);
    if max_replicates <= 1 {
        limits.push(
            "Single replicate: each model is one training run (one seed). The intervals cover the \
             resampling of evaluation items only, not training-seed variance, which can be as large \
             as the deltas; a verdict here is about these two trained models, not the training recipes."
                .into(),
        );
        return;
    }
    let single: Vec<String> = verdicts
        .iter()
        .filter(|v| v.replicates <= 1)
        .map(|v| format!("{} {} {}", v.task, v.setting, v.metric))
        .collect();
    if !single.is_empty() {
        limits.push(format!(
            "Single replicate: {} rest on one trained model on at least one side; their intervals \
             do not cover training-seed variance.",
            single.join(", ")
        ));
    }
    limits.push(format!(
        "Replicates: up to {max_replicates} training seeds per model. Group rows are means over the \
         seeds; intervals and p-values are two-level bootstraps (resample seeds, then items), so \
         they include seed variance only as far as {max_replicates} seeds can show it; linear-probe \
         rows pool replicate × probe seed."
    ));
    let disagree: Vec<String> = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::ReplicatesDisagree)
        .map(|v| format!("{} {} {}", v.task, v.setting, v.metric))
        .collect();
    if !disagree.is_empty() {
        limits.push(format!(
            "Disagreeing replicates: {} are significant for the group means, but the seeds do not \
             agree on the sign of the delta, so no better/worse verdict is drawn.",
            disagree.join(", ")
        ));
    }
}

/// "Limits of this comparison": what the rows themselves say about how far the verdicts carry.
fn limits_section(o: &mut String, s: &EvalSummary, verdicts: &[&FamilyVerdict]) {
    let mut limits: Vec<String> = Vec::new();
    replicate_limits(&mut limits, verdicts);
    let small: Vec<String> = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::TooFewItems)
        .map(|v| format!("{} {} {} (n = {})", v.task, v.setting, v.metric, v.row.n))
        .collect();
    if !small.is_empty() {
        limits.push(format!(
            "Small n: no verdict below {} items for {}.",
            metrics::MINIMUM_N.items,
            small.join(", ")
        ));
    }
    limits.extend(probe_limits(s));
    limits.extend(positives_limit(s));
    let retrieval: Vec<String> = s
        .rows
        .iter()
        .filter(|r| r.task == Task::Retrieval && r.metric == "r@10" && !r.is_comparison())
        .filter(|r| s.subjects().first() == Some(&r.model))
        .map(|r| format!("{} over {} queries", r.setting, r.n))
        .collect();
    if !retrieval.is_empty() {
        limits.push(format!(
            "Not comparable with published numbers: R@k depends on the gallery size and the split \
             ({}); zero-shot scores depend on the prompts listed above; papers use other prompt \
             sets, gallery sizes (e.g. 5×200 or the full MIMIC-CXR test split) and preprocessing.",
            retrieval.join(", ")
        ));
    }
    if s.rows.iter().any(|r| r.task == Task::GapShift) {
        limits.push(
            "Gap-shift rows re-measure the models after moving embeddings along the gap vector; \
             they are descriptive and never judged."
                .into(),
        );
    }
    if s.comparisons().next().is_some() {
        let holm = s
            .comparisons()
            .filter(|r| r.adjustment == Some(Adjustment::Holm))
            .count();
        let bh = s
            .comparisons()
            .filter(|r| r.adjustment == Some(Adjustment::BenjaminiHochberg))
            .count();
        limits.push(format!(
            "Multiplicity: {holm} primary comparisons (Holm, family-wise error 0.05) and {bh} \
             secondary ones (Benjamini–Hochberg, false discovery rate 0.05) per model pair; a \
             secondary metric's mark is exploratory."
        ));
        let near: Vec<String> = s
            .comparisons()
            .filter_map(|r| {
                let b = r.p_bootstrap?;
                let p = metrics::verdict_p(r)?;
                ((p - metrics::ALPHA).abs() < 2.0 * b.mc_se).then(|| {
                    format!(
                        "{} {} {} ({})",
                        r.task,
                        r.setting,
                        r.metric,
                        metrics::p_text(r)
                    )
                })
            })
            .collect();
        if !near.is_empty() {
            limits.push(format!(
                "Within two Monte Carlo standard errors of α = 0.05 (more resamples could change \
                 the verdict): {}.",
                near.join(", ")
            ));
        }
    }
    let _ = writeln!(o, "#### Limits of this comparison\n");
    for l in limits {
        let _ = writeln!(o, "- {l}");
    }
    let _ = writeln!(o);
}

/// The linear-probe lines of "limits of this comparison": how the probe intervals were made and
/// every probe warning of the dataset (failed or non-converged fits, fraction inversions; the same
/// text `--report` prints on stderr).
fn probe_limits(s: &EvalSummary) -> Vec<String> {
    let mut out = Vec::new();
    if s.comparisons().any(|r| r.task == Task::LinearProbe) {
        out.push(format!(
            "Linear probes: `n` counts test items; below fraction 1 the interval and p-value \
             come from a two-level bootstrap (probe seeds {:?} resampled, then test items), so \
             they contain the label-subset and fit variation only as far as {} seed(s) show it \
             (resampling few seeds understates their spread and has no Student-t widening, so \
             these intervals can be narrower than a t-interval over seeds); \
             fraction 1 is one fit on the whole training split (no seed stage, test items only), \
             and nothing covers the choice of the training split itself.",
            s.config.probe_seeds,
            s.config.probe_seeds.len()
        ));
    }
    out.extend(s.warnings.iter().map(|w| format!("Warning: {w}")));
    out
}

/// The per-class comparison rows that get no mark because their class has fewer than 10 positives.
fn positives_limit(s: &EvalSummary) -> Option<String> {
    let few: Vec<String> = s
        .comparisons()
        .filter(|r| Verdict::of_row(r) == Verdict::TooFewItems)
        .filter_map(|r| {
            let p = r.positives?;
            (p < metrics::MINIMUM_N.positives)
                .then(|| format!("{} {} ({p} positives)", r.setting, r.metric))
        })
        .collect();
    (!few.is_empty()).then(|| {
        format!(
            "Few positives: no verdict below {} positives of the class for {}.",
            metrics::MINIMUM_N.positives,
            few.join(", ")
        )
    })
}

/// The α chosen on validation per model, fraction and seed (the `alpha` rows give the median).
fn probe_alpha_section(o: &mut String, s: &EvalSummary) {
    let mut lines = Vec::new();
    for p in &s.plots {
        for c in p
            .probe_curves
            .iter()
            .filter(|c| c.metric == "macro_f1" || c.metric == "macro_auroc")
        {
            let probe = if c.metric == "macro_f1" {
                "single-label"
            } else {
                "multi-label"
            };
            let per: Vec<String> = c
                .points
                .iter()
                .map(|pt| format!("fraction={}: {:?}", pt.fraction, pt.alphas))
                .collect();
            lines.push(format!("- {} ({probe}): {}", p.model, per.join("; ")));
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(
            o,
            "#### Chosen regularisation (α per probe seed, validation-selected)\n\n{}\n",
            lines.join("\n")
        );
    }
}

pub(super) fn code_list(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Render the review. `figures` are paths of figure files, linked relative to `review_dir`.
pub fn render(
    inputs: &RecordInputs,
    summaries: &[EvalSummary],
    figures: &[PathBuf],
    review_dir: &Path,
) -> String {
    let mut o = String::new();
    // The compared names: replicate groups where the config has them, else the models.
    let models: Vec<String> = match summaries.first() {
        Some(s) if !s.groups.is_empty() => s.subjects(),
        _ => inputs.models.iter().map(|m| m.name.clone()).collect(),
    };
    let _ = writeln!(o, "# Model comparison: {}\n", models.join(" vs "));
    let _ = writeln!(
        o,
        "Generated by `{} {}` with `{}`. Every later model `B` is compared with the first model `A` \
         (`{}`) on the same items: deltas are `B − A`.\n",
        inputs.tool,
        inputs.tool_version,
        inputs.command.join(" "),
        models.first().cloned().unwrap_or_default()
    );

    inputs_section(&mut o, inputs);
    groups_section(&mut o, summaries);
    leakage_section(&mut o, inputs);
    rows_left_out_section(&mut o, inputs);
    interrupted_section(&mut o, inputs);
    settings_section(&mut o, summaries);
    results_section(&mut o, summaries);
    figures_section(&mut o, figures, review_dir);
    o
}

/// Seeds, resamples, grids, the RAG settings and every definition, with the verdict rule.
fn settings_section(o: &mut String, summaries: &[EvalSummary]) {
    if let Some(s) = summaries.first() {
        let c = &s.config;
        let _ = writeln!(
            o,
            "\n## Settings and definitions\n\nSeed {}; {} bootstrap resamples, {:.0}% intervals; probe fractions {:?}, probe seeds {:?}, α grid {:?}; gap-shift λ {:?}.\n",
            c.seed,
            c.bootstrap,
            c.confidence * 100.0,
            c.probe_fractions,
            c.probe_seeds,
            c.probe_alphas,
            c.gap_shift
        );
        for r in summaries
            .iter()
            .filter_map(|s| s.rag.as_ref().map(|r| (&s.dataset, r)))
        {
            let (ds, r) = r;
            let _ = writeln!(
                o,
                "RAG on {ds}: k = {}, m = {}, corpus `{}`, queries `{}`{}, seed {}, {} bootstrap resamples, generators {}; prompt template `{}` (SHA-256 `{}`){}.\n",
                r.k,
                r.m,
                r.corpus,
                r.query_split,
                r.limit.map(|l| format!(" (first {l})")).unwrap_or_default(),
                r.seed,
                r.bootstrap,
                code_list(r.generators.clone()),
                r.prompt_template,
                r.prompt_template_sha256.as_deref().unwrap_or("unread"),
                r.llm
                    .as_ref()
                    .map(|l| format!(
                        "; LLM `{}` at `{}`, temperature {}, max tokens {}",
                        l.model, l.url, l.temperature, l.max_tokens
                    ))
                    .unwrap_or_default()
            );
        }
        let uses: Vec<ProtocolUse> = summaries
            .iter()
            .map(|s| ProtocolUse {
                dataset: &s.dataset,
                settings: &s.protocol,
                rag_candidates: s.rag.as_ref().map(|r| r.k * r.m),
                rag_text_encoder: s.rag.as_ref().and_then(|r| r.clustered_on_text_encoder()),
            })
            .collect();
        let _ = writeln!(o, "{}", review_paragraph(&uses));
        for (k, v) in &s.definitions {
            let _ = writeln!(o, "- **{k}**: {v}");
        }
        let _ = writeln!(
            o,
            "- **verdict**: a family's verdict is its primary metric's (zero-shot argmax macro-F1, zero-shot pos/neg macro AUROC, retrieval R@10 per direction, probe macro-F1 per label fraction, RAG micro label F1 per generator, geometry modality gap): better/worse for B when the 95% BCa interval of B − A excludes 0 and the adjusted p < 0.05 in the metric's good direction (lower is better for median_rank, alignment, uniformity, modality_gap; cone, unmatched cosine and gap-shift rows are not judged); no verdict (\"too few items\") below 30 items or, on a per-class row, below 10 positives of the class; for replicate groups no better/worse verdict (\"replicates disagree\") when the replicate pairs' deltas on all items have opposite signs. Secondary metrics are shown with their own marks, never voted.\n- **multiplicity**: per dataset and model pair, Holm's step-down adjustment over the primary comparisons (family-wise error) and Benjamini–Hochberg q-values over all other comparison rows (false discovery rate); the CSV's `p_adjusted` and `adjustment` columns.\n- **p-values**: two-sided paired-bootstrap p = min(1, 2·min((#{{d*≤0}}+1)/(B+1), (#{{d*≥0}}+1)/(B+1))), shown with its Monte Carlo standard error sqrt(p(1−p)/B) and as `< 1/B` when no resample crosses zero."
        );
    }
}

/// The comparison tables of every dataset, family by family, each with its verdict.
fn results_section(o: &mut String, summaries: &[EvalSummary]) {
    for s in summaries {
        let _ = writeln!(
            o,
            "\n## Results on {} (protocol `{}`)\n",
            s.dataset,
            s.protocol.protocol.name()
        );
        let subjects = s.subjects();
        let a = subjects.first().cloned().unwrap_or_default();
        for b in subjects.iter().skip(1) {
            let cmp = Comparison::new(&a, b).label();
            let _ = writeln!(o, "### {b} vs {a}\n");
            let all_verdicts = metrics::family_verdicts(&s.rows);
            let verdicts: Vec<&FamilyVerdict> = all_verdicts
                .iter()
                .filter(|v| v.comparison == cmp)
                .collect();
            verdict_table(o, &verdicts);
            let _ = writeln!(
                o,
                "#### Secondary metrics (shown, not voted)\n\nPrimary metrics are in **bold**; `+`/`−`: the row alone is significantly better/worse for {b} (adjusted p), `?`: too few items.\n"
            );
            for family in &FAMILIES {
                let title = family.0;
                let keys: Vec<(Task, Setting, String)> = s
                    .metric_keys()
                    .into_iter()
                    .filter(|(t, st, _)| covers(family, *t, st))
                    .collect();
                if keys.is_empty() {
                    continue;
                }
                let _ = writeln!(o, "##### {title}\n");
                let _ = writeln!(
                    o,
                    "| setting | metric | {a} | {b} | {b} − {a} | p | adjusted p |\n|---|---|---|---|---|---|---|"
                );
                for (t, st, m) in &keys {
                    let cell = |model: &str| {
                        s.row(model, *t, st, m)
                            .map(|r| fmt_ci(r.value, r.ci_low, r.ci_high))
                            .unwrap_or_else(|| "-".into())
                    };
                    let d = s.row(&cmp, *t, st, m);
                    let mark = d.map_or("", |r| match Verdict::of_row(r) {
                        Verdict::Better => " +",
                        Verdict::Worse => " −",
                        Verdict::TooFewItems => " ?",
                        Verdict::ReplicatesDisagree => " ~",
                        Verdict::NoDifference | Verdict::NotJudged => "",
                    });
                    let metric = if metrics::is_primary(*t, st, m) {
                        format!("**{m}**")
                    } else {
                        m.clone()
                    };
                    let _ = writeln!(
                        o,
                        "| {st} | {metric} | {} | {} | {}{mark} | {} | {} |",
                        cell(&a),
                        cell(b),
                        d.map(|r| fmt_ci(r.value, r.ci_low, r.ci_high))
                            .unwrap_or_else(|| "-".into()),
                        d.map(p_cell).unwrap_or_default(),
                        d.map(metrics::p_adjusted_text).unwrap_or_default()
                    );
                }
                let _ = writeln!(o);
            }
            probe_alpha_section(o, s);
            limits_section(o, s, &verdicts);
        }
        if subjects.len() == 1 {
            let _ = writeln!(o, "Only one model: no comparison.\n");
            for r in &s.rows {
                let _ = writeln!(
                    o,
                    "- {} {} {}: {}",
                    r.task,
                    r.setting,
                    r.metric,
                    fmt_num(r.value)
                );
            }
        }
        if !s.notes.is_empty() {
            let _ = writeln!(o, "#### Notes\n");
            for n in &s.notes {
                let _ = writeln!(o, "- {n}");
            }
        }
    }
}

/// The figures, shown in the review: each PNG as a Markdown image relative to the review's folder
/// (so it renders on GitHub and in a pull request), with a link to its SVG beside it.
fn figures_section(o: &mut String, figures: &[PathBuf], review_dir: &Path) {
    let _ = writeln!(o, "\n## Figures\n");
    let pngs: Vec<&PathBuf> = figures
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .collect();
    if pngs.is_empty() {
        let _ = writeln!(
            o,
            "No figures were written with this review: run `eclip --review FILE --plots DIR` (or \
             `--review` alone, which writes them into `<review stem>_figures/` beside it).\n"
        );
        return;
    }
    for f in pngs {
        let name = f
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let svg = f.with_extension("svg");
        let svg_link = if figures.contains(&svg) {
            format!(
                " ([SVG]({}))",
                figure::markdown_path(&figure::relative_to(review_dir, &svg))
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "**{name}**{svg_link}\n\n![{name}]({})\n",
            figure::markdown_path(&figure::relative_to(review_dir, f))
        );
    }
}

/// Write the review to `path`.
pub fn write_review(
    path: &Path,
    inputs: &RecordInputs,
    summaries: &[EvalSummary],
    figures: &[PathBuf],
) -> Result<(), ReportError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::output::write_bytes(path, render(inputs, summaries, figures, dir).as_bytes())
        .map_err(|e| ReportError::io(path, e))
}
