//! The `eclip` binary end to end: help, `embed` → .npz, cache resume after a kill, a corrupt cache
//! file detected and rebuilt, `cache clean`, and `--device cuda` failing clearly without a GPU.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use core_support::{emb_files, test_model_dir, write_config, write_dataset, write_images};

fn eclip<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(args)
        .output()
        .expect("run eclip")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A config with the test model and `n` distinct images (two splits).
fn setup(tmp: &Path, n: usize) -> PathBuf {
    let data = tmp.join("data");
    let names = write_images(&data, n);
    let rows: Vec<Vec<u8>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "{name},report number {i},{},{}",
                if i % 3 == 0 { "test" } else { "train" },
                i % 2
            )
            .into_bytes()
        })
        .collect();
    let rows: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
    let ds = write_dataset(&data, &rows);
    let cfg = tmp.join("wb.toml");
    write_config(&cfg, &[("M", &test_model_dir())], &ds);
    cfg
}

/// "(computed, cached)" from the summary line `images: X computed, Y from cache, ...`.
fn image_counts(summary: &str) -> (usize, usize) {
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("images:"))
        .unwrap_or_else(|| panic!("{summary}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .take(2)
        .collect();
    (nums[0], nums[1])
}

/// `--config CFG --cache-dir CACHE --batch-size N --quiet summary`.
fn cached_summary_args(cfg: &Path, cache: &Path, batch: &str) -> Vec<String> {
    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--batch-size",
        batch,
        "--quiet",
        "summary",
    ];
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn help_documents_every_command_and_flag() {
    let o = eclip(&["--help"]);
    assert!(o.status.success());
    let t = text(&o);
    for needle in [
        "embed",
        "info",
        "summary",
        "cache",
        "--config",
        "--device",
        "--threads",
        "--no-cache",
        "--cache-dir",
        "--quiet",
        "--batch-size",
        "--ort-dylib",
    ] {
        assert!(t.contains(needle), "--help lacks {needle}:\n{t}");
    }
    let t = text(&eclip(&["embed", "--help"]));
    assert!(t.contains("--out") && t.contains(".npz"), "{t}");
}

#[test]
fn embed_writes_npz_readable_arrays() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path(), 7);
    let out = tmp.path().join("out");
    let o = eclip(&[
        "--config",
        cfg.to_str().unwrap(),
        "--no-cache",
        "--quiet",
        "embed",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let mut npz =
        ndarray_npy::NpzReader::new(std::fs::File::open(out.join("t/M/train.npz")).unwrap())
            .unwrap();
    let image: ndarray::Array2<f32> = npz.by_name("image").unwrap();
    let txt: ndarray::Array2<f32> = npz.by_name("text").unwrap();
    let row: ndarray::Array1<i64> = npz.by_name("row").unwrap();
    // Rows 1, 2, 4, 5 of the manifest are train (i % 3 != 0).
    assert_eq!(row.to_vec(), vec![1, 2, 4, 5]);
    assert_eq!(image.dim(), (4, 128));
    assert_eq!(txt.dim(), (4, 128));
    for r in image.rows().into_iter().chain(txt.rows()) {
        assert!((r.dot(&r) - 1.0).abs() < 1e-4);
    }
    assert!(out.join("t/M/test.npz").is_file() && out.join("t/M/prompts.npz").is_file());
}

#[test]
fn killed_run_resumes_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 300;
    let cfg = setup(tmp.path(), n);
    let cache = tmp.path().join("cache");
    let args = cached_summary_args(&cfg, &cache, "1");
    let mut child = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while emb_files(&cache).len() < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no cache chunk appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = emb_files(&cache).len();
    assert!(
        kept < n,
        "the run finished before it was killed; make it longer"
    );

    let o = eclip(&args);
    assert!(o.status.success(), "{}", text(&o));
    let (computed, cached) = image_counts(&text(&o));
    assert!(
        cached >= kept.min(n) && cached > 0,
        "resume used {cached} cached images, {kept} chunks were on disk"
    );
    assert_eq!(computed + cached, n);
    assert!(
        !text(&o).contains("cache file"),
        "no chunk should be broken after a kill:\n{}",
        text(&o)
    );

    let (computed, cached) = image_counts(&text(&eclip(&args)));
    assert_eq!((computed, cached), (0, n));
}

#[test]
fn corrupt_cache_file_is_reported_and_rebuilt_and_clean_removes_all() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path(), 6);
    let cache = tmp.path().join("cache");
    let args = cached_summary_args(&cfg, &cache, "2");
    assert!(eclip(&args).status.success());
    let victim = emb_files(&cache)[0].clone();
    let mut bytes = std::fs::read(&victim).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();

    let o = eclip(&args);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("checksum mismatch")
            && t.contains(victim.file_name().unwrap().to_str().unwrap()),
        "{t}"
    );
    let (computed, _) = image_counts(&t);
    let third = text(&eclip(&args));
    assert!(
        !third.contains("checksum"),
        "rebuilt cache should be clean:\n{third}"
    );
    // The damaged chunk held image or text entries; either way they were recomputed once.
    assert!(computed <= 2);

    let o = eclip(&["--cache-dir", cache.to_str().unwrap(), "cache", "clean"]);
    assert!(
        o.status.success() && text(&o).contains("removed"),
        "{}",
        text(&o)
    );
    assert!(emb_files(&cache).is_empty());
}

#[test]
fn device_cuda_fails_clearly_without_a_usable_gpu() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path(), 2);
    let o = eclip(&[
        "--config",
        cfg.to_str().unwrap(),
        "--device",
        "cuda",
        "--no-cache",
        "--quiet",
        "summary",
    ]);
    if o.status.success() {
        // A machine with a working CUDA provider: then the summary must say it ran there.
        assert!(text(&o).contains("CUDAExecutionProvider"), "{}", text(&o));
        return;
    }
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("--device cuda") && t.contains("CUDA") && t.contains("--device cpu"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn missing_onnx_runtime_prints_the_install_command() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = setup(tmp.path(), 1);
    let o = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(["--config", cfg.to_str().unwrap(), "info"])
        .env(
            "ORT_DYLIB_PATH",
            tmp.path().join("nope/libonnxruntime.so.1.31.1"),
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("./scripts/install-onnxruntime.sh") && t.contains("ORT_DYLIB_PATH"),
        "{t}"
    );
}
