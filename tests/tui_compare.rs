//! The TUI's on-demand pair comparison on the real launch jobs (issue 18 item 1): three fixture
//! models, the run compares each with the first (`[eval] compare = "first"`), the user picks the
//! pair eCLIP vs CLIP1 with the choosers; the app asks the compare thread, and the rows it merges
//! must equal the suite's rows for `[eval] compare = [["eCLIP", "CLIP1"]]` over all three models
//! (the headless path, `run::evaluate_groups`), value for value, including adjusted p-values.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod subset;
mod tui_support;

use std::sync::atomic::AtomicBool;

use eclip_workbench::config::Config;
use eclip_workbench::eval::config::EvalConfig;
use eclip_workbench::eval::groups::Compare;
use eclip_workbench::run::{self, Settings};
use eclip_workbench::tui::event::CompareReply;
use eclip_workbench::tui::{Action, App, AppState, Event, launch};
use eclip_workbench::workbench::{Workbench, WorkbenchOptions};
use eclip_workbench::{EmbedOptions, MetricRow, ModelEmbeddings};
use ratatui_image::picker::Picker;
use tui_support::{enter, key, run_jobs, screen};

/// Opens chooser `which` (`b` or `c`) and picks option `n` (0-based, config order).
fn choose(app: &mut App, which: char, n: usize) -> Action {
    app.handle(key(which));
    for _ in 0..3 {
        app.handle(key('k'));
    }
    for _ in 0..n {
        app.handle(key('j'));
    }
    app.handle(enter())
}

fn pair_rows<'a>(rows: &'a [MetricRow], label: &str) -> Vec<&'a MetricRow> {
    let mut out: Vec<&MetricRow> = rows.iter().filter(|r| r.model == label).collect();
    out.sort_by_key(|r| format!("{:?} {:?} {}", r.task, r.setting, r.metric));
    out
}

#[test]
fn a_pair_the_run_did_not_compare_is_computed_with_the_headless_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let data = subset::write(
        &tmp.path().join("data"),
        subset::Counts {
            train: 40,
            val: 8,
            test_heatmap: 20,
            test_plain: 20,
            single_positive: 0,
        },
    );
    let cfg = subset::config(tmp.path(), &subset::three_models(), &[data], "");
    let opts = WorkbenchOptions {
        cache_dir: Some(tmp.path().join("cache")),
        ..WorkbenchOptions::default()
    };
    let config = Config::load(&cfg).unwrap();
    let settings = Settings::resolve(&config).unwrap();
    let eval: EvalConfig = settings.eval.clone();
    assert!(eval.compare.is_first());
    let wb = Workbench::open(config, &opts).unwrap();
    let mut l = launch::launch(wb, settings);
    let mut engine = l.compare.take().expect("a compare engine");
    let mut state = AppState::new(l.header.clone(), Picker::from_fontsize((10, 20)));
    state.size = (120, 40);
    let mut app = App::new(state);

    run_jobs(&mut app, std::mem::take(&mut l.jobs));
    assert!(
        !app.state.rows.iter().any(|r| r.model == "CLIP1 - eCLIP"),
        "the run compares with the first model only"
    );

    // Candidate CLIP1 (compared with CLIP by the run: nothing to ask), then baseline eCLIP.
    assert!(matches!(choose(&mut app, 'c', 2), Action::None));
    let Action::Compare(req) = choose(&mut app, 'b', 1) else {
        panic!("choosing eCLIP asks for the pair: {:?}", app.state.status);
    };
    assert_eq!(
        (req.baseline.as_str(), req.candidate.as_str()),
        ("eCLIP", "CLIP1")
    );
    let s = screen(&app);
    assert!(s.contains("computing Δ CLIP1−eCLIP"), "{s}");
    let no = AtomicBool::new(false);
    let result = engine.compute(&req, &no);
    app.handle(Event::Compared(CompareReply { id: req.id, result }));
    assert!(app.state.compare.is_none(), "{:?}", app.state.compare);
    assert!(app.state.pair().is_some());
    let s = screen(&app);
    println!("{s}");
    assert!(
        s.contains("Δ CLIP1−eCLIP") && !s.contains("computing"),
        "{s}"
    );

    // The headless suite over all three models with the pair listed.
    let config = Config::load(&cfg).unwrap();
    let wb = Workbench::open(config.clone(), &opts).unwrap();
    let all = wb.embed_all(&EmbedOptions::default());
    let emb = &all[0];
    let models: Vec<ModelEmbeddings> = emb.successful().into_iter().cloned().collect();
    assert_eq!(models.len(), 3);
    let listed = EvalConfig {
        compare: Compare::Pairs(vec![["eCLIP".into(), "CLIP1".into()]]),
        ..eval
    };
    let summary = run::evaluate_groups(
        &emb.dataset,
        &models,
        &run::model_groups(&config),
        &listed,
        &mut |_| {},
    );
    let want = pair_rows(&summary.rows, "CLIP1 - eCLIP");
    let got = pair_rows(&app.state.rows, "CLIP1 - eCLIP");
    assert!(want.len() > 20, "{} rows", want.len());
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "TUI row differs from the headless one");
    }
}
