//! Issue 13, storage faults for real: a full disk (simulated with `RLIMIT_FSIZE`: with SIGXFSZ
//! ignored, a write past the limit fails with EFBIG, as on a full file system) and a read-only file
//! system (`/proc`; we may run as root, so permissions alone would not stop a write) as the cache.
//! Output paths on a read-only file system: `tests/bad_inputs.rs`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;

use std::path::Path;
use std::process::Output;

use core_support::{test_model_dir, write_config, write_dataset, write_images};

/// 6 train + 4 test rows and a one-model config with a fast `[eval]`.
fn workbench(d: &Path) -> std::path::PathBuf {
    write_images(d, 10);
    let rows: Vec<String> = (0..10)
        .map(|i| {
            let split = if i < 6 { "train" } else { "test" };
            format!("img{i:03}.png,report {i},{split},{}", i % 2)
        })
        .collect();
    let rows: Vec<&[u8]> = rows.iter().map(|r| r.as_bytes()).collect();
    let ds = write_dataset(d, &rows);
    let cfg = d.join("workbench.toml");
    write_config(&cfg, &[("M", &test_model_dir())], &ds);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("[eval]\nbootstrap = 20\nprobe_fractions = [1.0]\nprobe_seeds = [0]\n");
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// `eclip ARGS` with regular-file writes limited to `blocks` KiB (`ulimit -f`), SIGXFSZ ignored.
fn eclip_with_file_limit(cwd: &Path, blocks: u64, args: &[&str]) -> Output {
    let bin = env!("CARGO_BIN_EXE_eclip");
    std::process::Command::new("bash")
        .current_dir(cwd)
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
        ))
        .arg(bin)
        .args(args)
        .output()
        .unwrap()
}

fn eclip(cwd: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_eclip"))
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_files(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .filter(|n| n.starts_with(".tmp-") || n.contains("/.tmp-"))
        .collect()
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.to_string_lossy().into_owned());
        }
    }
    out
}

#[test]
fn a_report_onto_a_full_disk_names_the_file_and_leaves_the_old_one_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = workbench(d);
    let (cfg, cache) = (cfg.to_str().unwrap(), d.join("cache"));
    let cache = cache.to_str().unwrap();
    // Warm the cache, then put an earlier report in place.
    let o = eclip(
        d,
        &["--config", cfg, "--cache-dir", cache, "--quiet", "summary"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    let csv = out.join("report.csv");
    std::fs::write(&csv, "the earlier report\n").unwrap();
    let args = ["--config", cfg, "--cache-dir", cache, "--quiet"];
    let o = eclip_with_file_limit(
        d,
        0,
        &[&args[..], &["--report", csv.to_str().unwrap()]].concat(),
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("error:") && e.contains(csv.to_str().unwrap()),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "the earlier report\n",
        "the old file is intact"
    );
    assert_eq!(
        temp_files(&out),
        Vec::<String>::new(),
        "no temporary file left"
    );
    // Without an earlier report: none is left behind at all.
    std::fs::remove_file(&csv).unwrap();
    let o = eclip_with_file_limit(
        d,
        0,
        &[&args[..], &["--report", csv.to_str().unwrap()]].concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!csv.exists(), "no truncated CSV");
    assert_eq!(
        walk(&out),
        Vec::<String>::new(),
        "nothing left in the folder"
    );
}

#[test]
fn cache_writes_onto_a_full_disk_are_one_warning_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = workbench(d);
    let cache = d.join("cache");
    let o = eclip_with_file_limit(
        d,
        0,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--quiet",
            "summary",
        ],
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert_eq!(e.matches("continuing without the cache").count(), 1, "{e}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("10 computed"), "every image embedded: {out}");
    assert_eq!(
        temp_files(&cache),
        Vec::<String>::new(),
        "no temporary file left"
    );
}

#[test]
fn a_cache_on_a_read_only_file_system_is_one_warning_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cfg = workbench(d);
    let o = eclip(
        d,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--cache-dir",
            "/proc/eclip-test-cache",
            "--quiet",
            "summary",
        ],
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert_eq!(e.matches("continuing without the cache").count(), 1, "{e}");
    assert!(e.contains("/proc/eclip-test-cache"), "{e}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("10 computed"), "{out}");
}
