//! End to end in a real terminal (tmux, 120×40): the saliency view (issue 16 item 4) and the
//! problems panel (issue 13 item 1) of the real `eclip` binary.
//!
//! Config (written to a temp folder): the two fixture models plus a model folder whose
//! `model.json` is broken, over a slice of the demo data whose test images all have an expert
//! heatmap (`tests/subset`), with a small `[saliency]` section. The test checks that the footer
//! announces the broken model and `!` shows its error, opens a zero-shot hit, toggles the heatmap
//! overlay (`m`), toggles the saliency view (`v`) and waits for both models' maps and scores,
//! goes back with Esc, quits, and checks the exit status and that the quit summary lists the
//! problem. Needs `tmux` and ONNX Runtime, like `tests/tui_tmux.rs`.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod subset;
mod tmux_support;

use std::time::Duration;

use tmux_support::Tmux;

#[test]
fn tmux_saliency_view_beside_the_heatmap_and_the_problems_panel() {
    let tmp = tempfile::tempdir().unwrap();
    let data = subset::write(
        &tmp.path().join("data"),
        subset::Counts {
            train: 30,
            val: 6,
            test_heatmap: 12,
            test_plain: 0,
            single_positive: 10,
        },
    );
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("model.json"), "{").unwrap();
    let mut models = subset::fixture_models();
    models.push(("Broken", broken));
    let cfg = subset::config(
        tmp.path(),
        &models,
        &[data],
        "\n[saliency]\npatch = 32\nstride = 16\nitems = 10\n",
    );
    let dir = tmp.path().display().to_string();
    let script = format!(
        "cd '{dir}' && '{bin}' --config '{cfg}' --cache-dir '{dir}/cache'; echo EXIT=$?; sleep 600",
        bin = env!("CARGO_BIN_EXE_eclip"),
        cfg = cfg.display(),
    );
    let t = Tmux::start("eclip-saliency-test", &script, (120, 40));
    let long = Duration::from_secs(300);
    let short = Duration::from_secs(20);

    // The broken model is announced and explained; the others load.
    let s = t.wait_text("1 problem", long);
    assert!(s.contains(" ! "), "footer key:\n{s}");
    t.keys(&["!"]);
    let s = t.wait_text("model Broken", short);
    assert!(s.contains("model.json"), "the error names the file:\n{s}");
    t.keys(&["!"]);
    t.wait_for("panel closed", short, |s| !s.contains("model Broken"));

    // Zero-shot: a class query, open the first hit (every test image here has a heatmap).
    t.keys(&["2"]);
    t.wait_for("the gallery", long, |s| {
        !s.contains("Embeddings are loading") && s.contains("press / to type")
    });
    t.keys(&["]"]);
    t.wait_text("class: cardiomegaly", short);
    t.keys(&["Enter"]);
    let s = t.wait_text("class probabilities", short);
    assert!(s.contains("m heatmap · v saliency"), "keys named:\n{s}");
    t.keys(&["m"]);
    t.wait_text("+heatmap", short);

    // The saliency view: both models' maps beside the expert heatmap, with scores.
    t.keys(&["v"]);
    let s = t.wait_for("both maps and scores", long, |s| {
        s.contains("agreement with the expert heatmap")
            && !s.contains("computing…")
            && s.matches("computed in").count() + s.matches("cached").count() >= 2
    });
    println!("{s}");
    assert!(
        s.contains("expert heatmap") && s.contains("target: class cardiomegaly"),
        "{s}"
    );
    let nss = s
        .lines()
        .find(|l| l.contains("NSS ↑"))
        .unwrap_or_else(|| panic!("NSS row:\n{s}"));
    let numbers = nss
        .split_whitespace()
        .filter(|w| w.trim_start_matches(['+', '-']).parse::<f64>().is_ok())
        .count();
    assert_eq!(numbers, 3, "CLIP, eCLIP and the difference: {nss}");
    assert!(s.contains("▀"), "maps drawn with half blocks:\n{s}");

    // Esc: back to the image, then to the hits.
    t.keys(&["Escape"]);
    t.wait_text("class probabilities", short);
    t.keys(&["Escape"]);
    t.wait_for("hits", short, |s| !s.contains("class probabilities"));

    t.keys(&["q"]);
    let s = t.wait_text("EXIT=", short);
    // 0, or 2 where a failed model marks the session partial.
    assert!(
        s.contains("EXIT=0") || s.contains("EXIT=2"),
        "exit status:\n{s}"
    );
    assert!(
        s.contains("problems (1):") && s.contains("model Broken"),
        "the quit summary lists the problem:\n{s}"
    );
}
