/*!
Reading a dataset from disk: `dataset.toml` → manifest CSV → prompts JSON.

Fatal problems (unreadable files, missing required columns, zero-shot classes without prompts) are a
[`DataError`] naming the file. Problems with single rows (absent image, bad label, non-UTF-8 text)
put the row into [`Dataset::skipped`] with its CSV line and the reason, and loading goes on.
*/
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::strict::explain;

use super::{ClassPrompts, Dataset, LabelerSpec, Row, SkippedRow, SplitRoles};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn invalid(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetToml {
    name: String,
    manifest: String,
    prompts: String,
    labels: Vec<String>,
    zeroshot_classes: Vec<String>,
    splits: SplitsToml,
    #[serde(default)]
    labeler: LabelerSpec,
    /// A dataset recipe's provenance (docs/recipes.md): kept in the file, ignored here.
    #[serde(default, rename = "recipe")]
    _recipe: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SplitsToml {
    train: String,
    val: String,
    test: String,
    #[serde(default)]
    single_positive: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptsJson {
    format_version: u32,
    classes: BTreeMap<String, PromptSet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptSet {
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
}

fn read_text(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn absolute(p: PathBuf) -> PathBuf {
    std::path::absolute(&p).unwrap_or(p)
}

impl Dataset {
    /// Loads the dataset described by `dataset.toml` at `path`.
    pub fn load(path: &Path) -> Result<Dataset, DataError> {
        let path = absolute(path.to_path_buf());
        let meta: DatasetToml = toml::from_str(&read_text(&path)?)
            .map_err(|e| invalid(&path, explain(&e.to_string())))?;
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for c in &meta.zeroshot_classes {
            if !meta.labels.contains(c) {
                return Err(invalid(
                    &path,
                    format!(
                        "zero-shot class {c:?} is not one of labels {:?}",
                        meta.labels
                    ),
                ));
            }
        }
        check_labeler(&path, &meta.labeler, &meta.labels)?;
        let manifest = root.join(&meta.manifest);
        let prompts_path = root.join(&meta.prompts);
        let prompts = load_prompts(&prompts_path, &meta.zeroshot_classes)?;
        let (rows, skipped, warnings) = load_manifest(&manifest, &meta.labels)?;
        Ok(Dataset {
            name: meta.name,
            root,
            manifest,
            labels: meta.labels,
            zeroshot_classes: meta.zeroshot_classes,
            splits: SplitRoles {
                train: meta.splits.train,
                val: meta.splits.val,
                test: meta.splits.test,
                single_positive: meta.splits.single_positive,
            },
            rows,
            prompts,
            skipped,
            warnings,
            labeler: meta.labeler,
        })
    }

    /// Indices into `rows` of the rows in manifest split `split`, in manifest order.
    pub fn split_rows(&self, split: &str) -> Vec<usize> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.split == split)
            .map(|(i, _)| i)
            .collect()
    }

    /// Patients (the manifest's `patient` column) whose loaded rows are in more than one split;
    /// `None` when there is no such patient or no `patient` column.
    pub fn patient_leakage(&self) -> Option<super::PatientLeakage> {
        let mut by_patient: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
        for r in &self.rows {
            if let Some(p) = &r.patient {
                *by_patient
                    .entry(p.as_str())
                    .or_default()
                    .entry(r.split.clone())
                    .or_default() += 1;
            }
        }
        let leaked: Vec<(&str, BTreeMap<String, usize>)> = by_patient
            .into_iter()
            .filter(|(_, splits)| splits.len() > 1)
            .collect();
        if leaked.is_empty() {
            return None;
        }
        Some(super::PatientLeakage {
            patients: leaked.len(),
            rows: leaked.iter().flat_map(|(_, s)| s.values()).sum(),
            examples: leaked
                .into_iter()
                .take(super::LEAKAGE_EXAMPLES)
                .map(|(p, splits)| super::LeakedPatient {
                    patient: p.to_string(),
                    splits,
                })
                .collect(),
        })
    }

    /// Manifest split names in first-seen order.
    pub fn split_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.rows {
            if !names.contains(&r.split) {
                names.push(r.split.clone());
            }
        }
        names
    }
}

/// `[labeler]` names only dataset labels, gives each rule something to match, and its patterns
/// compile; errors name the key.
fn check_labeler(path: &Path, spec: &LabelerSpec, labels: &[String]) -> Result<(), DataError> {
    let no_finding = spec.no_finding_label();
    if let Some(l) = no_finding
        && spec.no_finding.is_some()
        && !labels.iter().any(|x| x == l)
    {
        return Err(invalid(
            path,
            format!("[labeler] no_finding = {l:?} is not one of labels {labels:?}"),
        ));
    }
    for (label, rule) in &spec.labels {
        let key = format!("[labeler.labels.{label}]");
        if !labels.contains(label) {
            return Err(invalid(
                path,
                format!("{key}: {label:?} is not one of labels {labels:?}"),
            ));
        }
        if Some(label.as_str()) == no_finding {
            return Err(invalid(
                path,
                format!(
                    "{key}: {label:?} is the derived no_finding label (positive when no other label is); give it no rules, or set [labeler] no_finding = \"\""
                ),
            ));
        }
        if rule.phrases.iter().all(|p| p.trim().is_empty()) && rule.patterns.is_empty() {
            return Err(invalid(
                path,
                format!("{key}: needs at least one of phrases or patterns"),
            ));
        }
        for p in &rule.patterns {
            if let Err(e) = regex::Regex::new(p) {
                return Err(invalid(path, format!("{key} patterns: {p:?}: {e}")));
            }
        }
    }
    Ok(())
}

fn load_prompts(path: &Path, classes: &[String]) -> Result<Vec<ClassPrompts>, DataError> {
    let parsed: PromptsJson = serde_json::from_str(&read_text(path)?)
        .map_err(|e| invalid(path, explain(&e.to_string())))?;
    if parsed.format_version != 1 {
        return Err(invalid(
            path,
            format!(
                "format_version {} is not supported (expected 1)",
                parsed.format_version
            ),
        ));
    }
    let mut classes_map = parsed.classes;
    classes
        .iter()
        .map(|c| {
            let set = classes_map
                .remove(c)
                .ok_or_else(|| invalid(path, format!("no prompts for zero-shot class {c:?}")))?;
            if set.positive.is_empty() {
                return Err(invalid(
                    path,
                    format!("class {c:?} has no positive prompts"),
                ));
            }
            Ok(ClassPrompts {
                name: c.clone(),
                positive: set.positive,
                negative: set.negative,
            })
        })
        .collect()
}

/// Column positions of the manifest header.
struct Columns {
    image: usize,
    report: usize,
    split: usize,
    patient: Option<usize>,
    heatmap: Option<usize>,
    labels: Vec<usize>,
}

/// Rows, skipped rows and warnings (rows kept without a missing heatmap).
type Manifest = (Vec<Row>, Vec<SkippedRow>, Vec<SkippedRow>);

fn load_manifest(path: &Path, labels: &[String]) -> Result<Manifest, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let header = reader
        .byte_headers()
        .map_err(|e| invalid(path, format!("cannot read header: {e}")))?
        .clone();
    let find = |name: &str| header.iter().position(|h| h == name.as_bytes());
    let need = |name: &str| {
        find(name).ok_or_else(|| invalid(path, format!("required column {name:?} is missing")))
    };
    let cols = Columns {
        image: need("image")?,
        report: need("report")?,
        split: need("split")?,
        patient: find("patient"),
        heatmap: find("heatmap"),
        labels: labels.iter().map(|l| need(l)).collect::<Result<_, _>>()?,
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (mut rows, mut skipped, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    let mut lines = LineCounter::new(&bytes);
    for (i, record) in reader.byte_records().enumerate() {
        // Header is line 1; without quoted newlines record i sits on line i + 2. The line is
        // counted from the record's byte offset: csv's own line number is one short after a
        // `\r\n` (the record starts at the `\n` of the previous line).
        let byte = match &record {
            Ok(r) => r.position().map(csv::Position::byte),
            Err(e) => e.position().map(csv::Position::byte),
        };
        let line = byte.map_or(i + 2, |b| lines.line_at(b as usize));
        let result = record
            .map_err(|e| format!("unreadable CSV record ({e})"))
            .and_then(|r| parse_row(&r, &cols, &base, line));
        match result {
            Ok((row, warning)) => {
                rows.push(row);
                if let Some(w) = warning {
                    warnings.push(SkippedRow {
                        line,
                        reason: format!("{}:{line}: {w}", path.display()),
                    });
                }
            }
            Err(reason) => skipped.push(SkippedRow {
                line,
                reason: format!("{}:{line}: {reason}", path.display()),
            }),
        }
    }
    Ok((rows, skipped, warnings))
}

/// 1-based line numbers of byte offsets, for offsets visited in increasing order (one pass).
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    newlines: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            newlines: 0,
        }
    }

    /// The line of the first byte at or after `byte` that is not a line end (where a record
    /// starting at `byte` really begins).
    fn line_at(&mut self, byte: usize) -> usize {
        let mut b = byte.min(self.bytes.len());
        while b < self.bytes.len() && matches!(self.bytes[b], b'\r' | b'\n') {
            b += 1;
        }
        if b < self.offset {
            // Out of order (never for csv's records): count from the start.
            self.offset = 0;
            self.newlines = 0;
        }
        // A line ends at `\n`, or at a `\r` not followed by `\n` (csv accepts both).
        let ends = |i: usize| {
            self.bytes[i] == b'\n'
                || (self.bytes[i] == b'\r' && self.bytes.get(i + 1) != Some(&b'\n'))
        };
        self.newlines += (self.offset..b).filter(|&i| ends(i)).count();
        self.offset = b;
        self.newlines + 1
    }
}

fn field<'a>(r: &'a csv::ByteRecord, idx: usize, name: &str) -> Result<&'a str, String> {
    let bytes = r
        .get(idx)
        .ok_or_else(|| format!("column {name:?} is missing in this row"))?;
    std::str::from_utf8(bytes).map_err(|e| {
        format!("column {name:?} is not valid UTF-8 ({e}); re-save the manifest as UTF-8")
    })
}

/// One manifest row, and a warning when it is kept with its heatmap left out.
fn parse_row(
    r: &csv::ByteRecord,
    cols: &Columns,
    base: &Path,
    line: usize,
) -> Result<(Row, Option<String>), String> {
    let image_rel = field(r, cols.image, "image")?;
    if image_rel.trim().is_empty() {
        return Err("empty image path".into());
    }
    let image = absolute(base.join(image_rel));
    if !image.is_file() {
        return Err(format!("image file {} not found", image.display()));
    }
    let report = field(r, cols.report, "report")?.to_string();
    let split = field(r, cols.split, "split")?.trim().to_string();
    if split.is_empty() {
        return Err("empty split".into());
    }
    let optional = |idx: Option<usize>, name: &str| -> Result<Option<String>, String> {
        match idx {
            None => Ok(None),
            Some(i) => {
                field(r, i, name).map(|v| Some(v.trim().to_string()).filter(|v| !v.is_empty()))
            }
        }
    };
    let patient = optional(cols.patient, "patient")?;
    let mut warning = None;
    let heatmap = match optional(cols.heatmap, "heatmap")? {
        None => None,
        Some(rel) => {
            let p = absolute(base.join(rel));
            if p.is_file() {
                Some(p)
            } else {
                warning = Some(format!(
                    "heatmap file {} not found; row kept without heatmap",
                    p.display()
                ));
                None
            }
        }
    };
    let labels = cols
        .labels
        .iter()
        .map(|&i| {
            let v = field(r, i, "label")?.trim();
            match v {
                "1" | "1.0" => Ok(1),
                "0" | "0.0" => Ok(0),
                other => Err(format!(
                    "label column {} has value {other:?}, expected 0 or 1",
                    i + 1
                )),
            }
        })
        .collect::<Result<Vec<u8>, String>>()?;
    Ok((
        Row {
            line,
            image,
            report,
            split,
            patient,
            labels,
            heatmap,
        },
        warning,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_dataset(dir: &Path, manifest: &[u8]) -> PathBuf {
        std::fs::write(dir.join("a.png"), b"x").unwrap();
        std::fs::write(dir.join("manifest.csv"), manifest).unwrap();
        std::fs::write(
            dir.join("prompts.json"),
            r#"{"format_version": 1, "classes": {"edema": {"positive": ["edema"], "negative": ["no edema"]}}}"#,
        )
        .unwrap();
        let toml = "name = \"t\"\nmanifest = \"manifest.csv\"\nprompts = \"prompts.json\"\nlabels = [\"edema\", \"nodule\"]\nzeroshot_classes = [\"edema\"]\n[splits]\ntrain = \"train\"\nval = \"val\"\ntest = \"test\"\n";
        std::fs::write(dir.join("dataset.toml"), toml).unwrap();
        dir.join("dataset.toml")
    }

    #[test]
    fn good_rows_load_and_bad_rows_are_skipped_with_line_and_reason() {
        let d = tempfile::tempdir().unwrap();
        let mut csv = b"image,report,split,edema,nodule,extra\n".to_vec();
        csv.extend_from_slice(b"a.png,\"fine, ok\",train,1,0,x\n");
        csv.extend_from_slice(b"missing.png,r,test,0,0,x\n");
        csv.extend_from_slice(b"a.png,r,test,2,0,x\n");
        csv.extend_from_slice(b"a.png,bad \xff text,test,0,1,x\n");
        let ds = Dataset::load(&write_dataset(d.path(), &csv)).unwrap();
        assert_eq!(ds.rows.len(), 1);
        assert_eq!(ds.rows[0].report, "fine, ok");
        assert_eq!(ds.rows[0].labels, vec![1, 0]);
        assert_eq!(ds.rows[0].line, 2);
        assert!(ds.rows[0].image.is_absolute());
        let lines: Vec<usize> = ds.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(
            ds.skipped[0].reason.contains("missing.png")
                && ds.skipped[0].reason.contains("not found")
        );
        assert!(ds.skipped[1].reason.contains("expected 0 or 1"));
        assert!(ds.skipped[2].reason.contains("UTF-8"));
        assert_eq!(ds.prompts[0].negative, vec!["no edema".to_string()]);
    }

    #[test]
    fn crlf_manifests_give_the_same_line_numbers() {
        let d = tempfile::tempdir().unwrap();
        let csv = b"image,report,split,edema,nodule\r\na.png,ok,train,1,0\r\na.png,\"two\r\nlines\",train,1,0\r\na.png,r,test,2,0\r\na.png,r,test\r\nmissing.png,r,test,0,0\r\n";
        let ds = Dataset::load(&write_dataset(d.path(), csv)).unwrap();
        let kept: Vec<usize> = ds.rows.iter().map(|r| r.line).collect();
        assert_eq!(kept, vec![2, 3]);
        let lines: Vec<usize> = ds.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![5, 6, 7], "{:?}", ds.skipped);
        assert!(
            ds.skipped[0].reason.contains("manifest.csv:5"),
            "{:?}",
            ds.skipped
        );
    }

    #[test]
    fn patients_in_two_splits_are_counted_with_examples() {
        let d = tempfile::tempdir().unwrap();
        let mut csv = b"image,report,split,patient,edema,nodule\n".to_vec();
        for (split, patient) in [
            ("train", "p1"),
            ("train", "p1"),
            ("test", "p1"),
            ("train", "p2"),
            ("val", "p3"),
            ("test", "p3"),
            ("test", ""),
            ("train", ""),
        ] {
            csv.extend_from_slice(format!("a.png,r,{split},{patient},0,0\n").as_bytes());
        }
        let ds = Dataset::load(&write_dataset(d.path(), &csv)).unwrap();
        let l = ds.patient_leakage().expect("p1 and p3 leak");
        assert_eq!((l.patients, l.rows), (2, 5));
        assert_eq!(l.examples[0].patient, "p1");
        assert_eq!(l.examples[0].splits["train"], 2);
        let line = l.describe("t");
        assert!(
            line.contains("p1 (test 1, train 2)") && line.contains("p3"),
            "{line}"
        );
        // Without a patient column there is nothing to report.
        let plain = b"image,report,split,edema,nodule\na.png,r,train,0,0\na.png,r,test,0,0\n";
        assert!(
            Dataset::load(&write_dataset(d.path(), plain))
                .unwrap()
                .patient_leakage()
                .is_none()
        );
    }

    #[test]
    fn missing_label_column_is_fatal_and_named() {
        let d = tempfile::tempdir().unwrap();
        let err = Dataset::load(&write_dataset(d.path(), b"image,report,split,edema\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"nodule\"") && err.contains("manifest.csv"),
            "{err}"
        );
    }

    #[test]
    fn labeler_table_loads_and_bad_rules_name_the_key() {
        let d = tempfile::tempdir().unwrap();
        let path = write_dataset(
            d.path(),
            b"image,report,split,edema,nodule
",
        );
        let base = std::fs::read_to_string(&path).unwrap();
        let ds = Dataset::load(&path).unwrap();
        assert_eq!(ds.labeler, LabelerSpec::default());
        let with = |extra: &str| {
            std::fs::write(&path, format!("{base}{extra}")).unwrap();
            Dataset::load(&path)
        };
        let ds = with("[labeler]\nbuiltin = \"none\"\n[labeler.labels.nodule]\nphrases = [\"nodule\", \"mass\"]\n").unwrap();
        assert_eq!(ds.labeler.builtin, super::super::BuiltinRules::None);
        assert_eq!(ds.labeler.labels["nodule"].phrases, ["nodule", "mass"]);
        for (extra, want) in [
            (
                "[labeler.labels.atelectasis]\nphrases = [\"x\"]\n",
                "[labeler.labels.atelectasis]",
            ),
            ("[labeler.labels.nodule]\npatterns = [\"(\"]\n", "patterns"),
            (
                "[labeler.labels.nodule]\nnegation_cues = [\"no\"]\n",
                "phrases or patterns",
            ),
            ("[labeler]\nno_finding = \"normal\"\n", "no_finding"),
            ("[labeler.labels.nodule]\nphrase = [\"x\"]\n", "phrase"),
        ] {
            let e = with(extra).unwrap_err().to_string();
            assert!(
                e.contains(want) && e.contains("dataset.toml"),
                "{extra}: {e}"
            );
        }
    }
}
