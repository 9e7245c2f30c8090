//! End to end in a real terminal (tmux, 120×40): the chosen pair's comparison on demand (issue 18
//! item 1) in the real `eclip` binary.
//!
//! Config (written to a temp folder): three fixture models (CLIP, eCLIP, CLIP1) over a slice of the
//! demo data (`tests/subset`); `[eval] compare` is the default `"first"`, so the run compares eCLIP
//! and CLIP1 with CLIP only. After the jobs finish the test picks CLIP1 as the candidate (compared
//! by the run), then eCLIP as the baseline (not compared): the Overview says "computing Δ
//! CLIP1−eCLIP …" and then shows that pair's deltas; quitting prints the summary with the new
//! comparison's column. Needs `tmux` and ONNX Runtime, like `tests/tui_tmux.rs`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod subset;
mod tmux_support;

use std::time::Duration;

use tmux_support::Tmux;

#[test]
fn tmux_a_pair_the_run_did_not_compare_is_computed_on_demand() {
    let tmp = tempfile::tempdir().unwrap();
    let data = subset::write(
        &tmp.path().join("data"),
        subset::Counts {
            train: 30,
            val: 6,
            test_heatmap: 10,
            test_plain: 30,
            single_positive: 0,
        },
    );
    let cfg = subset::config(tmp.path(), &subset::three_models(), &[data], "");
    let dir = tmp.path().display().to_string();
    let script = format!(
        "cd '{dir}' && '{bin}' --config '{cfg}' --cache-dir '{dir}/cache'; echo EXIT=$?; sleep 600",
        bin = env!("CARGO_BIN_EXE_eclip"),
        cfg = cfg.display(),
    );
    let t = Tmux::start("eclip-compare-test", &script, (120, 40));
    let long = Duration::from_secs(400);
    let short = Duration::from_secs(20);

    t.wait_for("the jobs", long, |s| {
        s.contains("all jobs done") || s.contains("failed")
    });
    let s = t.screen();
    assert!(s.contains("all jobs done"), "no job failed:\n{s}");
    assert!(s.contains("Δ eCLIP−CLIP"), "the first comparison:\n{s}");

    // Candidate CLIP1: the run compared it with CLIP.
    t.keys(&["c"]);
    t.wait_text("candidate model (B)", short);
    t.keys(&["j", "Enter"]);
    let s = t.wait_text("Δ CLIP1−CLIP", short);
    assert!(!s.contains("computing"), "nothing to compute:\n{s}");
    // Baseline eCLIP: a pair the run did not compare.
    t.keys(&["b"]);
    t.wait_text("baseline model (A)", short);
    t.keys(&["j", "Enter"]);
    let s = t.wait_for("the pair's deltas", long, |s| {
        s.contains("Δ CLIP1−eCLIP") && !s.contains("computing Δ") && !s.contains("failed")
    });
    assert!(
        s.contains("comparison rows computed"),
        "the status line says what arrived:\n{s}"
    );

    t.keys(&["q"]);
    let s = t.wait_text("EXIT=", short);
    assert!(s.contains("EXIT=0"), "exit status:\n{s}");
}
