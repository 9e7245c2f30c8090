//! The TUI's real launch jobs on a temp config, driven without a terminal (issue 13 item 1, issue
//! 16 item 4): one model folder is broken and one dataset's manifest lacks a required column. The
//! problems panel (`!`) must name both, the footer must announce them, and everything that loaded
//! must keep working: the working model embeds, evaluates and answers class queries, and an opened
//! test image with a heatmap gets its real saliency map (fixture model, `[saliency]` settings,
//! the saliency cache) and agreement scores.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
mod subset;
mod tui_support;

use std::sync::atomic::AtomicBool;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use eclip_workbench::config::Config;
use eclip_workbench::run::Settings;
use eclip_workbench::tui::event::{QueryReply, SaliencyReply};
use eclip_workbench::tui::state::{ProblemKind, SaliencyPane};
use eclip_workbench::tui::{Action, App, AppState, Event, launch, worker};
use eclip_workbench::workbench::{Workbench, WorkbenchOptions};
use ratatui_image::picker::Picker;
use tui_support::{key, run_jobs, screen};

/// Feeds an event; a live query is answered by the real query code.
fn drive(app: &mut App, ev: Event) -> Action {
    let action = app.handle(ev);
    if let Action::Query(req) = &action {
        let g = app.state.gallery.clone().unwrap();
        let result = worker::answer(&g, req, None);
        app.handle(Event::Reply(QueryReply { id: req.id, result }));
    }
    action
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scripted end-to-end scenario: its steps share the running app and the state they build up"
)]
fn broken_model_and_bad_manifest_are_shown_and_the_rest_works() {
    let tmp = tempfile::tempdir().unwrap();
    let good = subset::write(
        &tmp.path().join("data"),
        subset::Counts {
            train: 30,
            val: 6,
            test_heatmap: 10,
            test_plain: 0,
            single_positive: 10,
        },
    );
    // A dataset whose manifest has no `report` column.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(
        good.with_file_name("dataset.toml"),
        bad.join("dataset.toml"),
    )
    .unwrap();
    std::fs::copy(
        good.with_file_name("prompts.json"),
        bad.join("prompts.json"),
    )
    .unwrap();
    std::fs::write(bad.join("manifest.csv"), "image,split\na.png,test\n").unwrap();
    // A model folder whose model.json is not JSON.
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("model.json"), "this is not json").unwrap();
    let models = vec![
        ("CLIP", subset::repo().join("fixtures/models/clip")),
        ("Broken", broken.clone()),
    ];
    let cfg = subset::config(
        tmp.path(),
        &models,
        &[bad.join("dataset.toml"), good],
        "\n[saliency]\npatch = 32\nstride = 32\nitems = 4\n",
    );
    let config = Config::load(&cfg).unwrap();
    let settings = Settings::resolve(&config).unwrap();
    let wb = Workbench::open(
        config,
        &WorkbenchOptions {
            cache_dir: Some(tmp.path().join("cache")),
            ..WorkbenchOptions::default()
        },
    )
    .unwrap();
    let mut l = launch::launch(wb, settings);
    let mut engine = l.saliency.take().expect("a saliency engine");
    let mut state = AppState::new(l.header.clone(), Picker::from_fontsize((10, 20)));
    state.size = (120, 40);
    let mut app = App::new(state);

    // Run the launch jobs as the TUI does, feeding their events to the app.
    run_jobs(&mut app, std::mem::take(&mut l.jobs));

    // Both problems are listed, each naming its culprit.
    let p = &app.state.problems.list;
    let model = p.iter().find(|p| p.kind == ProblemKind::Model).unwrap();
    assert_eq!(model.source, "Broken");
    assert!(
        model.message.contains(&broken.display().to_string()),
        "{model:?}"
    );
    let ds = p.iter().find(|p| p.kind == ProblemKind::Dataset).unwrap();
    assert!(
        ds.message.contains("report") && ds.message.contains("manifest.csv"),
        "{ds:?}"
    );
    // ... and nothing else failed: every job ran on what loaded.
    for j in &app.state.jobs {
        assert_eq!(
            j.state,
            eclip_workbench::tui::state::JobState::Done,
            "{j:?}"
        );
    }
    assert!(app.state.rows.iter().any(|r| r.model == "CLIP"));
    let s = screen(&app);
    assert!(s.contains(" ! 2 problems"), "footer announces them:\n{s}");
    app.handle(key('!'));
    let s = screen(&app);
    println!("{s}");
    assert!(
        s.contains("model Broken") && s.contains("model.json"),
        "{s}"
    );
    assert!(s.contains("required column \"report\" is missing"), "{s}");
    app.handle(key('!'));

    // Zero-shot works with the model that loaded: pick a class, open a test image (all have
    // heatmaps in this slice), ask for its saliency.
    drive(&mut app, key('2'));
    drive(&mut app, key(']'));
    assert_eq!(app.state.zeroshot.results.len(), 1, "one model column");
    drive(
        &mut app,
        Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(app.state.zeroshot.opened.is_some());
    let Action::Saliency(req) = drive(&mut app, key('v')) else {
        panic!("v asks for saliency: {:?}", app.state.status);
    };
    assert!(screen(&app).contains("computing…"));
    let no = AtomicBool::new(false);
    let result = engine.compute(&req, &no);
    app.handle(Event::Saliency(SaliencyReply { id: req.id, result }));
    let s = screen(&app);
    println!("{s}");
    let Some(SaliencyPane::Ready(v)) = app.state.zeroshot.opened.as_ref().map(|o| &o.saliency)
    else {
        panic!("saliency ready:\n{s}");
    };
    assert_eq!(v.models.len(), 1);
    let m = &v.models[0];
    let a = m.scores.expect("scores");
    for x in a.values() {
        assert!(x.is_some_and(f64::is_finite), "{a:?}");
    }
    assert!(m.note.starts_with("computed in"), "{}", m.note);
    assert_eq!(
        m.panel.as_ref().map(|p| p.side),
        Some(128),
        "the model's input grid"
    );
    assert!(
        v.setting.starts_with("occlusion, patch 32, stride 32"),
        "{}",
        v.setting
    );
    assert!(
        s.contains("NSS ↑") && s.contains(&format!("{:.3}", a.cc.unwrap())),
        "{s}"
    );
    // The map was cached: asking again reads it, with the same scores.
    let again = engine.compute(&req, &no).unwrap();
    assert_eq!(again.models[0].note, "cached");
    assert_eq!(again.models[0].scores, m.scores);
}
