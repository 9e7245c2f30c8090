//! Issue 13: bad settings, hostile images and failing services give a distinct exit code and a
//! message naming the culprit, and what was computed is kept (docs/limits.md, README "Exit codes").
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::path::Path;
use std::process::{Command, Output};

use core_support::{test_model_dir, write_config, write_dataset, write_images};
use eclip_workbench::data::Dataset;
use eclip_workbench::model::preprocess::decode_image;

fn eclip(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run eclip")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A dataset of 6 train + 4 test rows over distinct images, and a one-model config.
fn small_workbench(d: &Path, extra: &str) -> std::path::PathBuf {
    write_images(d, 10);
    let rows: Vec<String> = (0..10)
        .map(|i| {
            let split = if i < 6 { "train" } else { "test" };
            let report = if i % 2 == 0 {
                "clear lungs"
            } else {
                "pulmonary edema"
            };
            format!("img{i:03}.png,{report} {i},{split},{}", i % 2)
        })
        .collect();
    let rows: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes()).collect();
    let ds = write_dataset(d, &rows);
    let cfg = d.join("workbench.toml");
    write_config(&cfg, &[("M", &test_model_dir())], &ds);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(extra);
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn a_usage_error_exits_64_not_the_partial_code() {
    let tmp = tempfile::tempdir().unwrap();
    let o = eclip(tmp.path(), &["--no-such-flag"]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    assert!(stderr(&o).contains("--no-such-flag"));
    let o = eclip(tmp.path(), &["--help"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn too_many_threads_is_an_error_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = small_workbench(tmp.path(), "");
    let o = eclip(
        tmp.path(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--threads",
            "100000",
            "info",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("threads = 100000") && e.contains("[runtime] threads"),
        "{e}"
    );
}

#[test]
fn every_llm_call_failing_is_partial_and_the_rest_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Port 9 (discard) on localhost: connection refused at once.
    let cfg = small_workbench(
        d,
        "[eval]\nbootstrap = 20\nprobe_fractions = [1.0]\nprobe_seeds = [0]\ngap_shift = [0.0]\n\
         [rag]\nk = 1\nm = 2\ngenerators = [\"top1\", \"llm:x\"]\n\
         [rag.llm]\nurl = \"http://127.0.0.1:9/v1/chat/completions\"\nretries = 0\ntimeout_s = 2.0\n",
    );
    let o = eclip(
        d,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--quiet",
            "--report",
            "out.csv",
        ],
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("LLM call(s) failed"), "{e}");
    // Nothing computed is lost: the CSV has the other rows, the record counts the failures.
    let csv = std::fs::read_to_string(d.join("out.csv")).unwrap();
    assert!(csv.contains(",top1,"), "{csv}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.csv.record.json")).unwrap())
            .unwrap();
    let text = rec.to_string();
    assert!(text.contains("\"failed_llm_items\":4"), "{text}");
}

/// A PNG whose IHDR declares `w` x `h` (valid CRCs) followed by a tiny IDAT.
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn an_image_declaring_400_megapixels_is_refused_from_its_header() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("huge.png");
    std::fs::write(&p, png_declaring(20_000, 20_000)).unwrap();
    let start = std::time::Instant::now();
    let e = decode_image(&p, 3).expect_err("over the limit").to_string();
    assert!(
        start.elapsed().as_secs_f64() < 2.0,
        "decoded instead of refused"
    );
    assert!(e.contains("huge.png") && e.contains("20000x20000"), "{e}");
    assert!(e.contains("max_image_pixels"), "{e}");
}

fn jpeg_bytes() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

#[test]
fn a_truncated_jpeg_is_an_error_not_half_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let full = jpeg_bytes();
    let good = tmp.path().join("good.jpg");
    std::fs::write(&good, &full).unwrap();
    assert!(decode_image(&good, 3).is_ok());
    let cut = tmp.path().join("cut.jpg");
    std::fs::write(&cut, &full[..full.len() * 6 / 10]).unwrap();
    let e = decode_image(&cut, 3).expect_err("truncated").to_string();
    assert!(e.contains("cut.jpg") && e.contains("truncated"), "{e}");
}

#[test]
fn a_truncated_jpeg_row_is_skipped_with_file_and_line_and_the_rest_embeds() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_images(d, 2);
    let full = jpeg_bytes();
    std::fs::write(d.join("cut.jpg"), &full[..full.len() / 2]).unwrap();
    let cfg = d.join("workbench.toml");
    let ds = write_dataset(
        d,
        &[
            b"img000.png,clear lungs,test,0",
            b"cut.jpg,edema,test,1",
            b"img001.png,mild edema,test,1",
        ],
    );
    write_config(&cfg, &[("M", &test_model_dir())], &ds);
    let o = eclip(
        d,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--quiet",
            "summary",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    assert!(
        out.contains("cut.jpg") && out.contains("truncated"),
        "{out}"
    );
    assert!(out.contains(":3"), "line 3 of the manifest is named: {out}");
}

/// The one-label dataset over two images with `manifest` as its manifest, loaded.
fn load_with_manifest(d: &Path, manifest: &str) -> Dataset {
    write_images(d, 2);
    let ds = write_dataset(d, &[]);
    std::fs::write(d.join("manifest.csv"), manifest).unwrap();
    Dataset::load(&ds).unwrap()
}

#[test]
fn a_missing_heatmap_keeps_its_row_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = load_with_manifest(
        tmp.path(),
        "image,report,split,edema,heatmap\nimg000.png,clear,test,0,img001.png\nimg001.png,edema,test,1,gone.png\n",
    );
    assert_eq!(ds.rows.len(), 2, "no row is dropped");
    assert!(ds.rows[0].heatmap.is_some() && ds.rows[1].heatmap.is_none());
    assert_eq!(ds.warnings.len(), 1);
    assert_eq!(ds.warnings[0].line, 3);
    let w = &ds.warnings[0].reason;
    assert!(
        w.contains("gone.png") && w.contains("manifest.csv:3"),
        "{w}"
    );
}

#[test]
fn an_unknown_key_in_dataset_toml_is_an_error_naming_key_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = write_dataset(tmp.path(), &[]);
    let text = std::fs::read_to_string(&ds).unwrap() + "single_positve = \"test\"\n";
    std::fs::write(&ds, text).unwrap();
    let e = Dataset::load(&ds).expect_err("typo").to_string();
    assert!(
        e.contains("single_positve") && e.contains("dataset.toml"),
        "{e}"
    );
    assert!(e.contains("single_positive"), "lists the known keys: {e}");
}

#[test]
fn the_same_dataset_listed_twice_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = small_workbench(tmp.path(), "");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let entry = text[text.find("[[datasets]]").unwrap()..].to_owned();
    std::fs::write(&cfg, format!("{text}{entry}")).unwrap();
    let o = eclip(tmp.path(), &["--config", cfg.to_str().unwrap(), "info"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("listed twice"), "{}", stderr(&o));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn unknown_keys_in_workbench_toml_say_did_you_mean() {
    let tmp = tempfile::tempdir().unwrap();
    // A typo in every kind of section: [runtime], [[models]], [eval], [rag], [saliency].
    for (extra, key, meant) in [
        ("[runtime]\nthread = 2\n", "thread", "threads"),
        ("[eval]\nbootstraps = 10\n", "bootstraps", "bootstrap"),
        ("[rag]\ngenerator = [\"top1\"]\n", "generator", "generators"),
        ("[saliency]\nmethd = \"occlusion\"\n", "methd", "method"),
    ] {
        let cfg = small_workbench(tmp.path(), "");
        let text = std::fs::read_to_string(&cfg).unwrap();
        // [runtime] already exists in the file: add the key to it instead of a second table.
        let text = if extra.starts_with("[runtime]") {
            text.replacen("[runtime]\n", extra, 1)
        } else {
            text + extra
        };
        std::fs::write(&cfg, text).unwrap();
        let o = eclip(
            tmp.path(),
            &["--config", cfg.to_str().unwrap(), "--report", "x.csv"],
        );
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{key}: {e}");
        assert!(
            e.contains(key) && e.contains(&format!("did you mean `{meant}`?")),
            "{key}: {e}"
        );
        assert!(e.contains("workbench.toml"), "names the file: {e}");
        assert!(!tmp.path().join("x.csv").exists());
    }
}

#[test]
fn an_unknown_key_in_model_json_fails_that_model_naming_key_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(d, "");
    let bad = d.join("bad_model");
    core_support::copy_model(&test_model_dir(), &bad);
    let json = std::fs::read_to_string(bad.join("model.json")).unwrap();
    std::fs::write(
        bad.join("model.json"),
        json.replacen("\"embed_dim\"", "\"embed_dims\": 1, \"embed_dim\"", 1),
    )
    .unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen(
        "[[datasets]]",
        &format!(
            "[[models]]\nname = \"Bad\"\npath = \"{}\"\n[[datasets]]",
            bad.display()
        ),
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    let o = eclip(
        d,
        &["--config", cfg.to_str().unwrap(), "--no-cache", "summary"],
    );
    let out = stdout(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "the other model still runs: {out}"
    );
    assert!(
        out.contains("embed_dims")
            && out.contains("did you mean `embed_dim`?")
            && out.contains("model.json"),
        "{out}"
    );
    assert!(out.contains("  M: ["), "model M embedded: {out}");
}

#[test]
fn dataset_toml_typos_say_did_you_mean_and_recipe_tables_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = write_dataset(tmp.path(), &[]);
    let base = std::fs::read_to_string(&ds).unwrap();
    std::fs::write(&ds, base.replace("test = \"test\"", "tset = \"test\"")).unwrap();
    let e = Dataset::load(&ds).expect_err("typo").to_string();
    assert!(e.contains("did you mean `test`?"), "{e}");
    // A dataset recipe's provenance table (docs/recipes.md) is not an unknown key.
    std::fs::write(&ds, format!("{base}[recipe]\nname = \"x\"\nseed = 0\n")).unwrap();
    Dataset::load(&ds).unwrap();
}

#[test]
fn a_crlf_manifest_names_the_right_line_of_a_bad_row() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = load_with_manifest(
        tmp.path(),
        "image,report,split,edema\r\nimg000.png,clear,test,0\r\nimg001.png,edema,test,7\r\nimg001.png,edema,test\r\n",
    );
    let lines: Vec<usize> = ds.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![3, 4], "{:?}", ds.skipped);
    assert!(ds.skipped[0].reason.contains("manifest.csv:3"));
    assert_eq!(ds.rows.len(), 1, "the good row is kept");
}

#[test]
fn a_missing_required_column_is_named_in_the_report_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(d, "");
    std::fs::write(
        d.join("manifest.csv"),
        "image,split,edema\nimg000.png,test,0\n",
    )
    .unwrap();
    let o = eclip(
        d,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--report",
            "x.csv",
        ],
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("no dataset could be evaluated: ")
            && e.contains("\"report\"")
            && e.contains("manifest.csv"),
        "the reason follows the colon: {e}"
    );
}

/// The small workbench with a `patient` column; patient `p1` is in train and test.
fn leaky_workbench(d: &Path) -> std::path::PathBuf {
    let cfg = small_workbench(
        d,
        "[eval]\nbootstrap = 20\nprobe_fractions = [1.0]\nprobe_seeds = [0]\ngap_shift = [0.0]\n",
    );
    let text = std::fs::read_to_string(d.join("manifest.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let patient = match i {
            0 => "patient".to_string(),
            1 | 9 => "p1".to_string(),
            _ => format!("q{i}"),
        };
        out.push_str(&format!("{line},{patient}\n"));
    }
    std::fs::write(d.join("manifest.csv"), out).unwrap();
    cfg
}

#[test]
fn patient_leakage_is_reported_and_strict_refuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = leaky_workbench(d);
    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "--no-cache",
        "--quiet",
        "--report",
        "out.csv",
        "--review",
        "review.md",
    ];
    let o = eclip(d, &args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "a warning, not an error: {e}");
    assert!(
        e.contains("1 patient(s) with 2 rows appear in more than one split")
            && e.contains("p1 (test 1, train 1)"),
        "{e}"
    );
    let rec = std::fs::read_to_string(d.join("out.csv.record.json")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&rec).unwrap();
    let leak = &rec["datasets"][0]["patient_leakage"];
    assert_eq!(leak["patients"], 1, "{leak}");
    assert_eq!(leak["examples"][0]["patient"], "p1");
    let review = std::fs::read_to_string(d.join("review.md")).unwrap();
    assert!(review.contains("## Patient leakage") && review.contains("p1 (test 1, train 1)"));

    let mut strict = args.to_vec();
    strict.push("--strict");
    std::fs::remove_file(d.join("out.csv")).unwrap();
    let o = eclip(d, &strict);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("dataset t") && e.contains("p1") && e.contains("--strict"),
        "{e}"
    );
    assert!(!d.join("out.csv").exists(), "refused before anything ran");
}

#[test]
fn unwritable_output_paths_fail_before_anything_is_embedded() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(d, "");
    std::fs::write(d.join("afile"), "x").unwrap();
    for (flag, value) in [
        ("--report", "afile/out.csv"),
        ("--json", "afile/x/out.json"),
        ("--review", "."),
        ("--plots", "afile"),
        ("--items", "afile/items.jsonl"),
        // A read-only file system (we may be root: permissions alone would not stop a write).
        ("--report", "/proc/eclip-test/out.csv"),
        ("--json", "/proc/eclip-test.json"),
        ("--plots", "/proc/eclip-test-figures"),
    ] {
        let cache = d.join("cache");
        let start = std::time::Instant::now();
        let o = eclip(
            d,
            &[
                "--config",
                cfg.to_str().unwrap(),
                "--cache-dir",
                cache.to_str().unwrap(),
                flag,
                value,
            ],
        );
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{flag}: {e}");
        assert!(e.contains(flag) && e.contains(value), "{flag}: {e}");
        assert!(!cache.exists(), "{flag}: nothing was embedded");
        assert!(start.elapsed().as_secs() < 30);
    }
}

/// `eclip summary` with the cache in `d/cache`.
fn summary_with_cache(d: &Path, cfg: &Path) -> Output {
    let cache = d.join("cache");
    eclip(
        d,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--quiet",
            "summary",
        ],
    )
}

#[test]
fn an_unusable_cache_is_one_warning_and_the_run_goes_on_uncached() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(d, "");
    // A file where the cache folder should be: it cannot be created (works as root too).
    std::fs::write(d.join("cache"), "not a folder").unwrap();
    let o = summary_with_cache(d, &cfg);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert_eq!(e.matches("continuing without the cache").count(), 1, "{e}");
    assert!(e.contains("cache"), "{e}");
    let out = stdout(&o);
    assert!(out.contains("10 computed"), "every image embedded: {out}");
}

#[test]
fn stale_cache_temp_files_are_removed_and_fresh_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(d, "");
    let ns = d.join("cache").join("v1").join("ab".repeat(32));
    std::fs::create_dir_all(&ns).unwrap();
    let (old, fresh) = (ns.join(".tmp-1-0-old"), ns.join(".tmp-2-0-fresh"));
    std::fs::write(&old, "x").unwrap();
    std::fs::write(&fresh, "x").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .unwrap();
    let o = summary_with_cache(d, &cfg);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!old.exists(), "an hour-old temporary file is abandoned");
    assert!(
        fresh.exists(),
        "a fresh one may belong to a concurrent writer"
    );
}

#[test]
fn progress_is_plain_lines_when_stderr_is_not_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(d, "");
    let o = eclip(
        d,
        &["--config", cfg.to_str().unwrap(), "--no-cache", "summary"],
    );
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(e.contains("embed M t images: 10 to compute"), "{e}");
    assert!(
        e.contains("embed M t images: 10/10 (100%)")
            && e.contains("/s, ETA")
            && e.contains("done in"),
        "{e}"
    );
    assert!(
        !e.contains('\r') && !e.contains('\u{1b}'),
        "no bar drawing codes: {e:?}"
    );
}

#[test]
fn the_review_and_the_json_list_every_row_left_out_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = small_workbench(
        d,
        "[eval]\nbootstrap = 20\nprobe_fractions = [1.0]\nprobe_seeds = [0]\n",
    );
    let full = jpeg_bytes();
    std::fs::write(d.join("cut.jpg"), &full[..full.len() / 2]).unwrap();
    let manifest = d.join("manifest.csv");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    // Lines 12 and 13 (after the header and ten rows).
    text.push_str("nope.png,report gone,test,0\ncut.jpg,report cut,test,1\n");
    std::fs::write(&manifest, text).unwrap();
    let o = eclip(
        d,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--no-cache",
            "--quiet",
            "--report",
            "out.csv",
            "--review",
            "review.md",
            "--json",
            "out.json",
        ],
    );
    assert!(o.status.code() == Some(0), "{}", stderr(&o));
    let review = std::fs::read_to_string(d.join("review.md")).unwrap();
    let section = review
        .split("## Rows left out")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_else(|| panic!("no Rows left out section:\n{review}"));
    let listed: Vec<&str> = section.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(listed.len(), 2, "{section}");
    assert!(
        listed
            .iter()
            .any(|l| l.contains("nope.png") && l.contains(":12"))
            && listed
                .iter()
                .any(|l| l.contains("cut.jpg") && l.contains(":13")),
        "{section}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    let ds = &json["record"]["datasets"][0];
    let mut all: Vec<String> = ds["skipped"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            ds["skipped_while_embedding_rows"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .flat_map(|v| v.as_array().into_iter().flatten()),
        )
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    all.sort();
    assert_eq!(all.len(), 2, "{ds}");
    assert!(all.iter().any(|r| r.contains("nope.png")), "{all:?}");
    assert!(all.iter().any(|r| r.contains("cut.jpg")), "{all:?}");
}
