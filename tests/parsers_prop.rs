//! Issue 13, property tests of the text parsers: the manifest CSV, `workbench.toml`,
//! `dataset.toml`, `prompts.json` and `model.json`, on arbitrary text and on mutated valid files.
//! Each parse returns a value or an error naming its file, and never panics; a parsed manifest's
//! line numbers lie inside the file. 64 cases per property keep it fast in a debug build.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use eclip_workbench::config::Config;
use eclip_workbench::data::Dataset;
use eclip_workbench::model::spec::ModelSpec;
use proptest::prelude::*;

const DATASET_TOML: &str = "name = \"t\"\nmanifest = \"manifest.csv\"\nprompts = \"prompts.json\"\nlabels = [\"edema\", \"nodule\"]\nzeroshot_classes = [\"edema\"]\n[splits]\ntrain = \"train\"\nval = \"val\"\ntest = \"test\"\n";
const PROMPTS: &str = r#"{"format_version": 1, "classes": {"edema": {"positive": ["edema"], "negative": ["no edema"]}}}"#;
const MANIFEST: &str = "image,report,split,patient,edema,nodule,heatmap\r\na.png,\"fine, ok\",train,p1,1,0,\na.png,r,test,p1,0,1,a.png\nb.png,r,val,,0,0,\n";
const WORKBENCH: &str = "[runtime]\ndevice = \"cpu\"\nthreads = 1\nmax_image_pixels = 1000\n[[models]]\nname = \"A\"\npath = \"a\"\n[[datasets]]\npath = \"d/dataset.toml\"\n[eval]\nseed = 1\nbootstrap = 10\n[rag]\nk = 2\n[saliency]\nmethod = \"occlusion\"\n";

fn model_json() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/models/clip/model.json"),
    )
    .unwrap()
}

/// A folder with a valid dataset whose three files can be replaced.
fn dataset_dir(toml: &str, prompts: &str, manifest: &[u8]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.png"), b"x").unwrap();
    std::fs::write(d.path().join("dataset.toml"), toml).unwrap();
    std::fs::write(d.path().join("prompts.json"), prompts).unwrap();
    std::fs::write(d.path().join("manifest.csv"), manifest).unwrap();
    d
}

/// Text with a few characters replaced, inserted or deleted.
fn mutated(valid: &'static str) -> impl Strategy<Value = String> {
    let chars: Vec<char> = valid.chars().collect();
    let n = chars.len();
    proptest::collection::vec((0..n, any::<char>(), 0..3u8), 1..6).prop_map(move |edits| {
        let mut c = chars.clone();
        for (i, ch, op) in edits {
            let i = i.min(c.len().saturating_sub(1));
            match op {
                0 if !c.is_empty() => c[i] = ch,
                1 => c.insert(i, ch),
                _ if !c.is_empty() => {
                    c.remove(i);
                }
                _ => {}
            }
        }
        c.into_iter().collect()
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Either a dataset whose every row's line is inside the file, or an error naming a file.
fn check_dataset(d: &tempfile::TempDir, manifest: &[u8]) -> Result<(), TestCaseError> {
    match Dataset::load(&d.path().join("dataset.toml")) {
        Ok(ds) => {
            // Lines end at `\n` or at a `\r` not followed by `\n`.
            let lines = (0..manifest.len())
                .filter(|&i| {
                    manifest[i] == b'\n'
                        || (manifest[i] == b'\r' && manifest.get(i + 1) != Some(&b'\n'))
                })
                .count()
                + 1;
            for r in &ds.rows {
                prop_assert!(
                    r.line >= 2 && r.line <= lines,
                    "row line {} of {lines}",
                    r.line
                );
            }
            for s in &ds.skipped {
                prop_assert!(
                    s.line >= 2 && s.line <= lines,
                    "skipped line {} of {lines}",
                    s.line
                );
            }
        }
        Err(e) => {
            // Names a file of the dataset (a mutated dataset.toml may rename the others).
            let e = e.to_string();
            prop_assert!(e.contains(d.path().to_str().unwrap()), "{e}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_manifests_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut m = b"image,report,split,edema,nodule\n".to_vec();
        m.extend_from_slice(&bytes);
        let d = dataset_dir(DATASET_TOML, PROMPTS, &m);
        check_dataset(&d, &m)?;
    }

    #[test]
    fn mutated_manifests_never_panic(text in mutated(MANIFEST)) {
        let d = dataset_dir(DATASET_TOML, PROMPTS, text.as_bytes());
        check_dataset(&d, text.as_bytes())?;
    }

    #[test]
    fn mutated_dataset_toml_and_prompts_never_panic(toml in mutated(DATASET_TOML), prompts in mutated(PROMPTS)) {
        let d = dataset_dir(&toml, PROMPTS, MANIFEST.as_bytes());
        check_dataset(&d, MANIFEST.as_bytes())?;
        let d = dataset_dir(DATASET_TOML, &prompts, MANIFEST.as_bytes());
        check_dataset(&d, MANIFEST.as_bytes())?;
    }

    #[test]
    fn arbitrary_and_mutated_workbench_toml_never_panic(text in mutated(WORKBENCH), junk in "\\PC{0,200}") {
        for t in [text.as_str(), junk.as_str()] {
            if let Err(e) = Config::parse(t, Path::new("/x/workbench.toml")) {
                prop_assert!(e.to_string().contains("workbench.toml"), "{e}");
            }
        }
        if let Ok(cfg) = Config::parse(&text, Path::new("/x/workbench.toml")) {
            // The typed sections too.
            let _ = eclip_workbench::run::Settings::resolve(&cfg);
        }
    }

    #[test]
    fn arbitrary_and_mutated_model_json_never_panic(junk in "\\PC{0,300}", edits in proptest::collection::vec((0..4000usize, any::<char>()), 1..6)) {
        let mut chars: Vec<char> = model_json().chars().collect();
        for (i, c) in edits {
            let i = i % chars.len();
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        let d = tempfile::tempdir().unwrap();
        for t in [text.as_str(), junk.as_str()] {
            std::fs::write(d.path().join("model.json"), t).unwrap();
            if let Err(e) = ModelSpec::load(d.path()) {
                prop_assert!(e.to_string().contains("model.json"), "{e}");
            }
        }
    }
}

#[test]
fn the_valid_seeds_parse() {
    let d = dataset_dir(DATASET_TOML, PROMPTS, MANIFEST.as_bytes());
    let ds = Dataset::load(&d.path().join("dataset.toml")).unwrap();
    assert_eq!(ds.rows.len(), 2, "{:?}", ds.skipped);
    assert_eq!(ds.skipped.len(), 1, "b.png is absent");
    assert_eq!(ds.skipped[0].line, 4);
    Config::parse(WORKBENCH, Path::new("/x/workbench.toml")).unwrap();
    let m = tempfile::tempdir().unwrap();
    std::fs::write(m.path().join("model.json"), model_json()).unwrap();
    ModelSpec::load(m.path()).unwrap();
}
