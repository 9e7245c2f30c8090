/*!
The review's sections of facts about the run (not about the metrics): what was compared, the
replicate groups, patient leakage, the rows left out and an interruption.
*/
use std::fmt::Write as _;

use super::code_list;
use crate::eval::summary::EvalSummary;
use crate::report::record::RecordInputs;

/// What was compared: models with file hashes and provenance, the runtime, the data and prompts.
pub(super) fn inputs_section(o: &mut String, inputs: &RecordInputs) {
    let _ = writeln!(
        o,
        "## What was compared\n\n| model | path | files (SHA-256) | provenance |\n|---|---|---|---|"
    );
    for m in &inputs.models {
        let files = m
            .files
            .iter()
            .map(|(f, h)| format!("`{f}` `{h}`"))
            .collect::<Vec<_>>()
            .join("<br>");
        let prov = serde_json::to_string(&m.provenance)
            .unwrap_or_default()
            .replace('|', "\\|");
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | `{}` |",
            m.name,
            m.path.display(),
            files,
            prov
        );
    }
    let _ = writeln!(
        o,
        "\nRuntime: ONNX Runtime {} ({} execution provider).\n",
        inputs.runtime.onnx_runtime_version, inputs.runtime.execution_provider
    );
    let _ = writeln!(
        o,
        "## Data\n\n| dataset | path | SHA-256 | rows | skipped |\n|---|---|---|---|---|"
    );
    for d in &inputs.datasets {
        let _ = writeln!(
            o,
            "| {} | `{}` | `{}` ({}) | {} | {} |",
            d.name,
            d.path.display(),
            d.sha256,
            d.sha256_of,
            d.rows,
            d.skipped_rows
        );
    }
    for d in &inputs.datasets {
        let _ = writeln!(o, "\n<details><summary>Prompts of {}</summary>\n", d.name);
        for p in &d.prompts {
            let _ = writeln!(
                o,
                "- **{}**: positive {}; negative {}",
                p.class,
                code_list(p.positive.clone()),
                if p.negative.is_empty() {
                    "none".into()
                } else {
                    code_list(p.negative.clone())
                }
            );
        }
        let _ = writeln!(o, "\n</details>");
    }
}

/// The replicate groups and their replicates (nothing without `replicates` in the config).
pub(super) fn groups_section(o: &mut String, summaries: &[EvalSummary]) {
    let Some(s) = summaries.iter().find(|s| !s.groups.is_empty()) else {
        return;
    };
    let _ = writeln!(
        o,
        "Replicates (training seeds, `[[models]] replicates`): {}. Each replicate has its own rows; \
         the group's rows are means over its replicates and comparisons are between group means \
         (replicate i of each group paired when the groups have as many).\n",
        s.groups
            .iter()
            .map(|g| format!("{} = {}", g.name, code_list(g.replicates.clone())))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

/// Patients found in more than one split (`DatasetRecord::patient_leakage`), when any are.
pub(super) fn leakage_section(o: &mut String, inputs: &RecordInputs) {
    let leaks: Vec<_> = inputs
        .datasets
        .iter()
        .filter_map(|d| Some((d.name.as_str(), d.patient_leakage.as_ref()?)))
        .collect();
    if leaks.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n## Patient leakage\n\nPatients whose images are in more than one split: a probe or retriever fitted on one split has seen them, so scores on the other may be optimistic (`--strict` refuses such a dataset).\n"
    );
    for (name, l) in leaks {
        let _ = writeln!(o, "- {}", l.describe(name));
    }
}

/// Rows a dataset lost before the metrics saw them (unreadable manifest rows, images that failed to
/// decode while embedding) and damaged cache chunks that were recomputed: counts per dataset and
/// model, then every left-out row with its file, line and reason (at most [`LISTED_PER_DATASET`]
/// per dataset; the record and the JSON report carry all of them).
pub(super) fn rows_left_out_section(o: &mut String, inputs: &RecordInputs) {
    let lines = rows_left_out(inputs);
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n## Rows left out\n\nEvery metric above is computed without these rows; each one is named with its file and manifest line below (and on stderr and in the TUI's `!` panel); the record and the JSON report list all of them (`skipped`, `skipped_while_embedding_rows`).\n"
    );
    for l in lines {
        let _ = writeln!(o, "{l}");
    }
}

/// At most this many left-out rows are listed per dataset in the review.
pub const LISTED_PER_DATASET: usize = 50;

/// The section's Markdown lines: a count line per dataset and model, each followed by its rows.
fn rows_left_out(inputs: &RecordInputs) -> Vec<String> {
    let mut out = Vec::new();
    for d in &inputs.datasets {
        let mut listed = 0;
        let mut unlisted = 0;
        let mut list = |out: &mut Vec<String>, rows: &[String]| {
            for r in rows {
                if listed < LISTED_PER_DATASET {
                    out.push(format!("  - {r}"));
                    listed += 1;
                } else {
                    unlisted += 1;
                }
            }
        };
        if d.skipped_rows > 0 {
            out.push(format!(
                "- {}: {} manifest row(s) skipped while loading (of {})",
                d.name,
                d.skipped_rows,
                d.rows + d.skipped_rows
            ));
            list(&mut out, &d.skipped);
        }
        for (model, n) in d.skipped_while_embedding.iter().filter(|(_, n)| **n > 0) {
            out.push(format!(
                "- {}: {n} row(s) left out while embedding with {model} (image could not be decoded)",
                d.name
            ));
            let rows = d.skipped_while_embedding_rows.get(model);
            list(&mut out, rows.map_or(&[][..], Vec::as_slice));
        }
        if unlisted > 0 {
            out.push(format!(
                "  - and {unlisted} more: all listed in the record and the JSON report"
            ));
        }
        for (model, n) in d.rebuilt_cache_chunks.iter().filter(|(_, n)| **n > 0) {
            out.push(format!(
                "- {}: {n} damaged cache chunk(s) of {model} deleted and recomputed",
                d.name
            ));
        }
    }
    out
}

/// A run stopped by a signal during the evaluation: which datasets this review lacks.
pub(super) fn interrupted_section(o: &mut String, inputs: &RecordInputs) {
    let Some(i) = &inputs.interrupted else {
        return;
    };
    let _ = writeln!(
        o,
        "\n## Interrupted\n\nThis run was stopped by {} during the evaluation: the review covers the datasets evaluated before it. Not evaluated: {}. Rerun the same command to complete it (the embeddings are cached).",
        i.signal,
        if i.not_evaluated.is_empty() {
            "none".to_string()
        } else {
            i.not_evaluated.join(", ")
        }
    );
}

#[cfg(test)]
mod tests {
    use crate::report::record::{DatasetRecord, InterruptedRecord, RecordInputs, RuntimeRecord};

    #[test]
    fn rows_left_out_are_listed_per_dataset_and_model() {
        let mut d = DatasetRecord {
            name: "demo".into(),
            rows: 98,
            skipped_rows: 2,
            skipped: vec![
                "m.csv:3: image a.png not found".into(),
                "m.csv:7: label \"x\" is not 0 or 1".into(),
            ],
            ..DatasetRecord::default()
        };
        d.skipped_while_embedding.insert("CLIP".into(), 1);
        d.skipped_while_embedding.insert("eCLIP".into(), 0);
        d.skipped_while_embedding_rows
            .insert("CLIP".into(), vec!["m.csv:9: b.png: truncated JPEG".into()]);
        d.rebuilt_cache_chunks.insert("eCLIP".into(), 3);
        let inputs = RecordInputs {
            tool: "eclip".into(),
            tool_version: "0".into(),
            command: vec![],
            runtime: RuntimeRecord {
                onnx_runtime_version: "1".into(),
                execution_provider: "cpu".into(),
            },
            models: vec![],
            datasets: vec![d.clone()],
            interrupted: None,
        };
        assert_eq!(
            super::rows_left_out(&inputs),
            [
                "- demo: 2 manifest row(s) skipped while loading (of 100)",
                "  - m.csv:3: image a.png not found",
                "  - m.csv:7: label \"x\" is not 0 or 1",
                "- demo: 1 row(s) left out while embedding with CLIP (image could not be decoded)",
                "  - m.csv:9: b.png: truncated JPEG",
                "- demo: 3 damaged cache chunk(s) of eCLIP deleted and recomputed",
            ]
        );
        let mut o = String::new();
        super::rows_left_out_section(&mut o, &inputs);
        assert!(o.contains("## Rows left out"), "{o}");
        // More rows than the cap: the first LISTED_PER_DATASET, then how many more and where.
        let many = DatasetRecord {
            skipped_rows: 60,
            skipped: (0..60).map(|i| format!("m.csv:{}: bad", i + 2)).collect(),
            ..d
        };
        let lines = super::rows_left_out(&RecordInputs {
            datasets: vec![many],
            ..inputs.clone()
        });
        let listed = lines.iter().filter(|l| l.starts_with("  - m.csv:")).count();
        assert_eq!(listed, super::LISTED_PER_DATASET);
        assert!(
            lines.contains(&"  - and 11 more: all listed in the record and the JSON report".into()),
            "{lines:?}"
        );
        let clean = RecordInputs {
            datasets: vec![DatasetRecord::default()],
            interrupted: Some(InterruptedRecord {
                signal: "SIGTERM".into(),
                not_evaluated: vec!["b".into()],
            }),
            ..inputs
        };
        let mut o = String::new();
        super::rows_left_out_section(&mut o, &clean);
        assert!(o.is_empty(), "{o}");
        super::interrupted_section(&mut o, &clean);
        assert!(
            o.contains("stopped by SIGTERM") && o.contains("Not evaluated: b."),
            "{o}"
        );
    }
}
