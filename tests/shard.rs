//! `eclip embed --shard I/N` + `eclip cache merge`: three shard runs into three caches, merged,
//! give byte-identical `.npz` embeddings to one run on one machine, and the final run computes
//! nothing (docs/scale.md).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use core_support::{test_model_dir, write_config, write_dataset, write_images};

fn eclip<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(args)
        .output()
        .expect("run eclip")
}

fn ok(o: Output) -> String {
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "eclip failed: {t}");
    t
}

/// Images computed in a summary (`images: X computed, ...`).
fn computed(summary: &str) -> usize {
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("images:"))
        .unwrap_or_else(|| panic!("{summary}"));
    line.split(|c: char| !c.is_ascii_digit())
        .find_map(|t| t.parse().ok())
        .unwrap()
}

fn npz_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for ds in std::fs::read_dir(dir).unwrap().flatten() {
        for m in std::fs::read_dir(ds.path()).unwrap().flatten() {
            for f in std::fs::read_dir(m.path()).unwrap().flatten() {
                out.push(f.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn three_shards_merged_equal_one_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let names = write_images(&data, 14);
    // 14 distinct images in 16 rows: two rows repeat an image (same content, same shard).
    let rows: Vec<Vec<u8>> = names
        .iter()
        .chain(names.iter().take(2))
        .enumerate()
        .map(|(i, n)| {
            let split = ["train", "val", "test"][i % 3];
            format!("{n},report number {i},{split},{}", i % 2).into_bytes()
        })
        .collect();
    let rows: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
    let ds = write_dataset(&data, &rows);
    let cfg = tmp.path().join("wb.toml");
    write_config(&cfg, &[("M", &test_model_dir())], &ds);
    let cfg = cfg.to_str().unwrap().to_string();
    let path = |p: &str| tmp.path().join(p).to_str().unwrap().to_string();

    // One run, one machine.
    ok(eclip(&[
        "--config",
        &cfg,
        "--cache-dir",
        &path("single-cache"),
        "--quiet",
        "embed",
        "--out",
        &path("single"),
    ]));

    // Three shards into three caches; together they compute each distinct image exactly once.
    let mut total = 0;
    for i in 0..3 {
        let out = ok(eclip(&[
            "--config",
            &cfg,
            "--cache-dir",
            &path(&format!("cache-{i}")),
            "--quiet",
            "embed",
            "--shard",
            &format!("{i}/3"),
        ]));
        total += computed(&out);
    }
    assert_eq!(total, 14);

    let merged = path("merged");
    let m = ok(eclip(&[
        "--cache-dir",
        &merged,
        "cache",
        "merge",
        &path("cache-0"),
        &path("cache-1"),
        &path("cache-2"),
    ]));
    assert!(m.contains("merged from"), "{m}");
    let v = ok(eclip(&["--cache-dir", &merged, "cache", "verify"]));
    assert!(!v.contains("bad chunk"), "{v}");

    let out = ok(eclip(&[
        "--config",
        &cfg,
        "--cache-dir",
        &merged,
        "--quiet",
        "embed",
        "--out",
        &path("sharded"),
    ]));
    assert_eq!(
        computed(&out),
        0,
        "the merged cache should hold every image: {out}"
    );

    let files = npz_files(&tmp.path().join("single"));
    assert!(files.len() >= 4, "{files:?}");
    assert_eq!(files, npz_files(&tmp.path().join("sharded")));
    for f in files {
        let a = std::fs::read(tmp.path().join("single").join(&f)).unwrap();
        let b = std::fs::read(tmp.path().join("sharded").join(&f)).unwrap();
        assert!(a == b, "{} differs", f.display());
    }
}

#[test]
fn verify_flags_a_damaged_chunk_and_bad_shard_specs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c");
    let ns = cache.join("v1").join("00".repeat(32));
    std::fs::create_dir_all(&ns).unwrap();
    std::fs::write(ns.join("broken.emb"), b"ECLIPEMB not really").unwrap();
    let o = eclip(&["--cache-dir", cache.to_str().unwrap(), "cache", "verify"]);
    let t = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("broken.emb"), "{t}");
    assert!(ns.join("broken.emb").exists(), "verify must not delete");

    let o = eclip(&["embed", "--shard", "3/3"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("I/N"));
}
