//! End to end: the real `eclip` binary in a real terminal (tmux), over real models and data.
//!
//! Starts `eclip --config <cfg>` in a detached tmux session of 120×40 (a private tmux server, so a
//! user's tmux is untouched), then drives it like a user: waits for the gallery, picks a zero-shot
//! class, types a prompt, opens an image, visits every tab, opens and closes help, waits for the
//! evaluation to finish and checks the Overview, sorts (`o`) and filters it (`/`, `f`), swaps the
//! baseline (`b`), switches the split (`s`) and opens a Retrieval item (`Enter`) and the full text of its reports (`r`), quits with `q`, and checks the exit status, the
//! summary table printed after the TUI closed, that the alternate screen was left and that the tty
//! is back in canonical mode with echo (`stty -a` run in the same pane afterwards).
//!
//! Config: `fixtures/workbench.toml` (the bundled demo, seed 0 of each model), or `ECLIP_TUI_TEST_CONFIG`; a fresh
//! embedding cache, or `ECLIP_TUI_TEST_CACHE`. Needs `tmux`
//! on PATH and ONNX Runtime where the binary finds it (ORT_DYLIB_PATH or the installer's folder).
mod tmux_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tmux_support::Tmux;

/// `ECLIP_TUI_TEST_CONFIG`, else the bundled demo with seed 0 of each model (the demo's three-seed
/// replicate groups as plain `path` entries, written to `dir`): the tabs show one column per model.
fn config(dir: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("ECLIP_TUI_TEST_CONFIG") {
        return PathBuf::from(p);
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let text = std::fs::read_to_string(fixtures.join("workbench.toml")).expect("bundled config");
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.strip_prefix("replicates = [") {
            // The first replicate (seed 0) of the group.
            Some(rest) => format!("path = {}", rest.split(',').next().expect("a replicate")),
            None => line.to_owned(),
        };
        out.push_str(&line.replace("\"models/", &format!("\"{}/models/", fixtures.display())));
        out.push('\n');
    }
    let out = out.replace(
        "\"data/dataset.toml\"",
        &format!("\"{}/data/dataset.toml\"", fixtures.display()),
    );
    assert!(!out.contains("replicates ="), "{out}");
    let p = dir.join("workbench.toml");
    std::fs::write(&p, out).expect("write config");
    p
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scripted end-to-end scenario: its steps share the running app and the state they build up"
)]
fn tui_in_tmux_switches_tabs_types_a_prompt_and_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path());
    assert!(
        cfg.exists(),
        "config {} is missing: the bundled fixtures (fixtures/workbench.toml with fixtures/models \
         and fixtures/data) are needed, or set ECLIP_TUI_TEST_CONFIG",
        cfg.display()
    );
    let done = dir.path().join("done");
    let bin = env!("CARGO_BIN_EXE_eclip");
    // A fresh cache by default (the embedding runs inside the TUI); ECLIP_TUI_TEST_CACHE reuses one.
    let cache = std::env::var("ECLIP_TUI_TEST_CACHE")
        .unwrap_or_else(|_| dir.path().join("cache").display().to_string());
    // After eclip exits: its status, then the tty modes, in the same pane.
    let script = format!(
        "cd '{dir}' && '{bin}' --config '{cfg}' --cache-dir '{cache}'; echo EXIT=$?; \
         stty -a > '{dir}/stty'; touch '{done}'; sleep 600",
        dir = dir.path().display(),
        cfg = cfg.display(),
        done = done.display(),
    );
    let t = Tmux::start("eclip-test", &script, (120, 40));
    let long = Duration::from_secs(600);
    let short = Duration::from_secs(20);

    let s = t.wait_text("1 Overview", Duration::from_secs(60));
    assert!(
        s.contains("CLIP") && s.contains("eCLIP"),
        "header names both models:\n{s}"
    );
    assert!(
        s.contains("EP CPU") || s.contains("EP CUDA"),
        "header shows the provider:\n{s}"
    );

    // Zero-shot: wait for the embeddings (gallery), then pick a class.
    t.keys(&["2"]);
    t.wait_text("press / to type", short);
    t.wait_for("the gallery", long, |s| {
        !s.contains("Embeddings are loading")
    });
    t.keys(&["]"]);
    // The query line names the query at once; the hits follow (no "searching…" left).
    let answered = |q: &'static str| move |s: &str| s.contains(q) && !s.contains("searching…");
    let s = t.wait_for(
        "class: cardiomegaly answered",
        short,
        answered("class: cardiomegaly"),
    );
    assert!(s.contains("▶ 1."), "a ranked, selected hit per model:\n{s}");

    // Type a prompt: it runs through both text towers on the query thread.
    t.keys(&["/"]);
    t.type_text("enlarged heart");
    t.wait_text("enlarged heart", short);
    t.keys(&["Enter"]);
    let s = t.wait_for(
        "the prompt answered",
        short,
        answered("prompt: enlarged heart"),
    );
    assert_eq!(s.matches("▶ 1.").count(), 1, "one selected hit:\n{s}");
    assert!(
        s.matches(" 2. ").count() >= 2,
        "hits in both model columns:\n{s}"
    );

    // Open the selected image: class probabilities of both models.
    t.keys(&["Enter"]);
    t.wait_text("class probabilities", short);
    t.keys(&["Escape"]);
    t.wait_text("prompt: enlarged heart", short);

    // Retrieval: move to the next image; both models list reports.
    t.keys(&["3"]);
    t.wait_text("image → report", short);
    t.keys(&["j"]);
    t.wait_text("image 2/", short);
    t.wait_for("retrieved reports", short, |s| {
        s.matches("own report").count() == 2
    });

    // The full text of the retrieved reports (`r`): header with the row and image, Esc closes.
    t.keys(&["r"]);
    let s = t.wait_text("PgDn · Esc closes", short);
    assert!(
        s.contains("┌ row ") && s.contains("report (") && s.contains("lines 1–"),
        "the full-text overlay with its header, the image's own report and the scroll position:\n{s}"
    );
    t.keys(&["Escape"]);
    t.wait_for("full text closed", short, |s| {
        !s.contains("PgDn · Esc closes") && s.contains("image → report")
    });

    // Help overlay lists the keys, Esc closes it.
    t.keys(&["?"]);
    t.wait_text("keys (? or Esc closes", short);
    t.keys(&["Escape"]);
    t.wait_for("help closed", short, |s| {
        !s.contains("keys (? or Esc closes")
    });

    // The evaluation finishes; Overview, Probe and Geometry show its results.
    t.keys(&["1"]);
    t.wait_for("the evaluation", long, |s| {
        s.contains("all jobs done") || s.contains("failed")
    });
    let s = t.screen();
    assert!(s.contains("all jobs done"), "no job failed:\n{s}");
    assert!(
        s.contains("metrics ·") && s.contains("Δ"),
        "metric table with deltas:\n{s}"
    );

    // Sorting and filtering the Overview.
    t.keys(&["o"]);
    t.wait_text("sort |Δ|", short);
    t.keys(&["o"]);
    t.wait_text("sort adj. p", short);
    t.keys(&["o"]);
    t.wait_text("sort family", short);
    t.keys(&["/"]);
    t.type_text("r@10");
    t.keys(&["Enter"]);
    let s = t.wait_text("· /r@10", short);
    assert!(
        s.contains("retrieval/i2t r@10") && !s.contains("zeroshot/argmax"),
        "only the r@10 lines:\n{s}"
    );
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", short, |s| {
        !s.contains("· /r@10") && s.contains("zeroshot/argmax")
    });
    t.keys(&["f"]);
    t.wait_text("significant only", short);
    t.keys(&["f"]);
    t.wait_for("all lines again", short, |s| {
        !s.contains("significant only")
    });

    // The baseline chooser: eCLIP as the baseline reverses the deltas; back again.
    t.keys(&["b"]);
    t.wait_text("baseline model (A)", short);
    t.keys(&["j", "Enter"]);
    t.wait_text("Δ CLIP−eCLIP", short);
    t.keys(&["b"]);
    t.wait_text("baseline model (A)", short);
    t.keys(&["k", "Enter"]);
    t.wait_text("Δ eCLIP−CLIP", short);

    // The split chooser: another split for the live queries, then Retrieval searches it.
    t.keys(&["s"]);
    let s = t.wait_text("split (live queries)", short);
    assert!(
        s.contains("▶ test"),
        "the current split is highlighted:\n{s}"
    );
    t.keys(&["j", "Enter"]);
    // The next split after `test` (the demo has a single-positive `test_5x200`, `train`, `val`).
    t.wait_for("another split in the header", short, |s| {
        !s.contains("split test │") && s.contains(" │ split ")
    });
    t.keys(&["3"]);
    t.keys(&["j"]);
    t.wait_for("retrieved reports of the new split", short, |s| {
        s.matches("own report").count() == 2
    });
    // Enter opens the item: its report and its rank per model; Esc closes it.
    t.keys(&["Enter"]);
    t.wait_text("its own report's rank", short);
    t.keys(&["Escape"]);
    t.wait_for("item closed", short, |s| {
        !s.contains("its own report's rank")
    });
    t.keys(&["s"]);
    t.wait_text("split (live queries)", short);
    t.keys(&["k", "Enter"]);
    t.wait_text("split test │", short);
    t.keys(&["1"]);
    t.keys(&["4"]);
    t.wait_text("linear probe", short);
    t.keys(&["5"]);
    t.wait_text("gap shift", short);
    t.keys(&["6"]);
    let s = t.wait_text("retrieved:", short);
    assert!(
        s.contains("CLIP · top1") && s.contains("eCLIP · centroid") && s.contains("ground truth"),
        "RAG tab shows each model · generator with its report:\n{s}"
    );

    // Quit: summary table on the normal screen, exit 0, terminal restored.
    t.keys(&["q"]);
    let s = t.wait_text("EXIT=", short);
    let start = Instant::now();
    while !done.exists() && start.elapsed() < short {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s.contains("EXIT=0"), "exit status 0:\n{s}");
    assert!(
        s.contains("significantly better/worse for the later model"),
        "summary table printed:\n{s}"
    );
    assert!(
        !s.contains("1 Overview │"),
        "the TUI is gone from the screen:\n{s}"
    );
    let alt = t.cmd(&["display-message", "-p", "-t", "eclip", "#{alternate_on}"]);
    assert_eq!(
        String::from_utf8_lossy(&alt.stdout).trim(),
        "0",
        "alternate screen left"
    );
    let stty = std::fs::read_to_string(dir.path().join("stty")).expect("stty output");
    let words: Vec<&str> = stty.split_whitespace().collect();
    assert!(
        words.contains(&"icanon") && words.contains(&"echo"),
        "tty back in cooked mode:\n{stty}"
    );
    let mouse = t.cmd(&["display-message", "-p", "-t", "eclip", "#{mouse_any_flag}"]);
    assert_eq!(
        String::from_utf8_lossy(&mouse.stdout).trim(),
        "0",
        "mouse capture released"
    );
}
