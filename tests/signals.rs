//! Issue 13, signals: a headless `--report` stopped by SIGINT exits 130 with the cache intact and
//! says how to resume, and the rerun reuses the cached chunks and writes the same CSV as an
//! uninterrupted run; the TUI killed by SIGTERM or SIGHUP leaves the terminal as it found it
//! (alternate screen left, cursor shown, mouse released, cooked mode), in a real terminal (tmux).
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod core_support;
mod tmux_support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use core_support::{emb_files, test_model_dir, write_config, write_dataset, write_images};
use tmux_support::Tmux;

/// `n` images (a third test, the rest train) and a one-model config with a fast `[eval]`.
fn setup(dir: &Path, n: usize) -> PathBuf {
    let data = dir.join("data");
    let names = write_images(&data, n);
    let rows: Vec<Vec<u8>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let split = if i % 3 == 0 { "test" } else { "train" };
            format!("{name},report number {i},{split},{}", i % 2).into_bytes()
        })
        .collect();
    let rows: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
    let ds = write_dataset(&data, &rows);
    let cfg = dir.join("wb.toml");
    write_config(&cfg, &[("M", &test_model_dir())], &ds);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(
        "[eval]\nbootstrap = 20\nprobe_fractions = [1.0]\nprobe_seeds = [0]\ngap_shift = [0.0]\n",
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn report_args(cfg: &Path, cache: &Path, csv: &Path) -> Vec<String> {
    [
        "--config",
        cfg.to_str().unwrap(),
        "--cache-dir",
        cache.to_str().unwrap(),
        "--batch-size",
        "1",
        "--report",
        csv.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

fn run(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn sigint_during_a_report_stops_after_the_batch_and_the_rerun_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 300;
    let cfg = setup(tmp.path(), n);
    let cache = tmp.path().join("cache");
    let csv = tmp.path().join("out.csv");
    let args = report_args(&cfg, &cache, &csv);
    let child = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while emb_files(&cache).len() < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no cache chunk appeared"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted by SIGINT") && err.contains("Rerun the same command"),
        "{err}"
    );
    assert!(!csv.exists(), "no report from an interrupted run");
    let kept = emb_files(&cache);
    assert!(kept.len() < n, "the run finished before the signal");
    let inodes: Vec<(PathBuf, u64)> = kept
        .iter()
        .map(|p| (p.clone(), std::fs::metadata(p).unwrap().ino()))
        .collect();
    let temps: Vec<_> = std::fs::read_dir(kept[0].parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(temps.is_empty(), "a clean stop leaves no temporary file");

    // The rerun: the chunks of the interrupted run are read, not rewritten (same inodes).
    let o = run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (p, ino) in &inodes {
        assert_eq!(
            std::fs::metadata(p).unwrap().ino(),
            *ino,
            "{} was recomputed",
            p.display()
        );
    }
    let resumed = std::fs::read_to_string(&csv).unwrap();

    // An uninterrupted run in a fresh cache writes the same CSV.
    let fresh_csv = tmp.path().join("fresh.csv");
    let o = run(&report_args(&cfg, &tmp.path().join("cache2"), &fresh_csv));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(resumed, std::fs::read_to_string(&fresh_csv).unwrap());
}

/// Two datasets, `a` (`n_a` rows) then `b` (`n_b` rows), and a one-model config whose `[eval]`
/// makes every evaluation take seconds (many bootstrap resamples and probe seeds).
fn two_dataset_setup(dir: &Path, n_a: usize, n_b: usize) -> PathBuf {
    let mut tomls = Vec::new();
    for (name, n) in [("a", n_a), ("b", n_b)] {
        let data = dir.join(name);
        let images = write_images(&data, n);
        let rows: Vec<Vec<u8>> = images
            .iter()
            .enumerate()
            .map(|(i, img)| {
                let split = ["test", "train", "val"][i % 3];
                format!("{img},report {name} {i},{split},{}", i % 2).into_bytes()
            })
            .collect();
        let rows: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
        let toml = write_dataset(&data, &rows);
        let text = std::fs::read_to_string(&toml)
            .unwrap()
            .replace("name = \"t\"", &format!("name = \"{name}\""));
        std::fs::write(&toml, text).unwrap();
        tomls.push(toml);
    }
    let cfg = dir.join("wb.toml");
    write_config(&cfg, &[("M", &test_model_dir())], &tomls[0]);
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "[[datasets]]\npath = \"{}\"\n[eval]\nbootstrap = 4000\nprobe_fractions = [0.5, 1.0]\nprobe_seeds = [{}]\n",
        tomls[1].display(),
        (0..40).map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
    ));
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn sigint_during_the_evaluation_writes_the_finished_datasets_and_exits_130() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = two_dataset_setup(tmp.path(), 30, 240);
    let cache = tmp.path().join("cache");
    let csv = tmp.path().join("out.csv");
    let child = Command::new(env!("CARGO_BIN_EXE_eclip"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
            "--report",
            csv.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut child = child;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    // b's retrieval step is done: a is fully evaluated, b's bootstrap of geometry is under way
    // (seconds with 4000 resamples).
    let mut err = String::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no evaluation progress for b:\n{err}"));
        err.push_str(&line);
        err.push('\n');
        if line.ends_with("] b  retrieval") {
            break;
        }
    }
    let signalled = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let took = signalled.elapsed();
    reader.join().unwrap();
    err.extend(rx.try_iter().map(|l| l + "\n"));
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        took < Duration::from_secs(8),
        "stopped {took:?} after the signal:\n{err}"
    );
    assert!(
        err.contains("not evaluated (interrupted by SIGINT): b;")
            && err.contains("Rerun the same command to resume (embeddings are cached)")
            && err.contains("interrupted by SIGINT: stopped"),
        "{err}"
    );
    assert!(
        !err.lines().any(|l| l.contains("[7/7] b")),
        "b was evaluated to the end before the signal:\n{err}"
    );
    // a's outputs are written, complete; b has no row; the record says what happened.
    let text = std::fs::read_to_string(&csv).unwrap();
    let datasets: std::collections::BTreeSet<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert_eq!(datasets.into_iter().collect::<Vec<_>>(), ["a"], "{text}");
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("out.csv.record.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["interrupted"]["signal"], "SIGINT");
    assert_eq!(
        record["interrupted"]["not_evaluated"],
        serde_json::json!(["b"])
    );
    let temps = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .count();
    assert_eq!(temps, 0, "no temporary output file left");
}

/// Starts the TUI in tmux, sends `signal` once it is drawn, and checks the terminal afterwards.
fn tui_signal_restores_the_terminal(signal: &str, code: i32) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = setup(dir, 12);
    let bin = env!("CARGO_BIN_EXE_eclip");
    let pid = dir.join("pid");
    // The inner sh records its pid and execs eclip (same pid, in the foreground of the pane);
    // after it ends: the exit status and the tty modes.
    let script = format!(
        "cd '{d}' && sh -c 'echo $$ > {pid}; exec \"$0\" \"$@\"' '{bin}' --config '{cfg}' --cache-dir '{d}/cache'; \
         echo EXIT=$?; stty -a > '{d}/stty'; touch '{d}/done'; sleep 600",
        d = dir.display(),
        pid = pid.display(),
        cfg = cfg.display(),
    );
    let t = Tmux::start(&format!("eclip-sig-{signal}"), &script, (100, 30));
    t.wait_for("the TUI", Duration::from_secs(60), |s| {
        s.contains("1 Overview")
    });
    assert_eq!(
        t.flag("#{alternate_on}"),
        "1",
        "the TUI is on the alternate screen"
    );
    let pid = std::fs::read_to_string(&pid).unwrap().trim().to_string();
    let kill = Command::new("kill")
        .args([format!("-{signal}"), pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let s = t.wait_for("the exit status", Duration::from_secs(20), |s| {
        s.contains("EXIT=")
    });
    let start = Instant::now();
    while !dir.join("done").exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        s.contains(&format!("EXIT={code}")),
        "exit 128 + signal:\n{s}"
    );
    assert_eq!(t.flag("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(t.flag("#{mouse_any_flag}"), "0", "mouse capture released");
    assert_eq!(t.flag("#{cursor_flag}"), "1", "cursor shown");
    let stty = std::fs::read_to_string(dir.join("stty")).unwrap();
    let words: Vec<&str> = stty.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "tty back in cooked mode:\n{stty}"
    );
}

#[test]
fn sigterm_in_the_tui_restores_the_terminal() {
    tui_signal_restores_the_terminal("TERM", 143);
}

#[test]
fn sighup_in_the_tui_restores_the_terminal() {
    tui_signal_restores_the_terminal("HUP", 129);
}
