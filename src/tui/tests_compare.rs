//! The chosen pair's comparison on demand (issue 18 item 1), as a state machine and on screen:
//! three models, the run compared each with the first; choosing a pair it did not compare asks
//! the compare thread (one request, "computing Δ …" until the reply), a stale reply is dropped,
//! the right one fills the Δ columns, a failure is shown and a new choice asks again. Snapshots at
//! 80×24 and 120×40 of the pending state.
use ratatui_image::picker::Picker;

use super::app::{Action, App, Event};
use super::event::CompareReply;
use super::state::*;
use super::test_fixtures::*;
use super::worker::Update;
use crate::eval::MetricRow;

/// `metrics()` plus a third model, CLIP1, compared with CLIP only (as `compare = "first"` does).
fn three_models(size: (u16, u16)) -> App {
    let mut h = header();
    h.models.push("CLIP1".into());
    let mut s = AppState::new(h, Picker::from_fontsize((10, 20)));
    s.size = size;
    let mut app = App::new(s);
    let mut rows = metrics();
    for r in metrics().into_iter().filter(|r| r.model == "CLIP") {
        rows.push(MetricRow {
            model: "CLIP1".into(),
            value: r.value.map(|v| v + 0.01),
            ..r.clone()
        });
        rows.push(metric(
            "CLIP1 - CLIP",
            r.task,
            r.setting.clone(),
            &r.metric,
            0.01,
            Some(0.6),
        ));
    }
    app.handle(Event::Update(Update::Metrics(rows)));
    app
}

/// The chooser `which` (`b` / `c`) set to option `n`.
fn choose(app: &mut App, which: char, n: usize) -> Action {
    app.handle(key(which));
    for _ in 0..3 {
        app.handle(key('k'));
    }
    for _ in 0..n {
        app.handle(key('j'));
    }
    app.handle(code(crossterm::event::KeyCode::Enter))
}

/// The comparison rows `CLIP1 - eCLIP` the thread would send.
fn pair_rows() -> Vec<MetricRow> {
    metrics()
        .into_iter()
        .filter(|r| r.model == "CLIP")
        .map(|r| {
            let mut c = metric(
                "CLIP1 - eCLIP",
                r.task,
                r.setting.clone(),
                &r.metric,
                -0.02,
                Some(0.3),
            );
            c.ci_low = Some(-0.07);
            c.ci_high = Some(0.03);
            c
        })
        .collect()
}

#[test]
fn an_uncompared_pair_is_asked_once_and_filled_by_its_reply() {
    let mut app = three_models((120, 40));
    // CLIP vs CLIP1: the run compared them, nothing is asked.
    assert!(matches!(choose(&mut app, 'c', 2), Action::None));
    assert!(app.state.pair().is_some() && app.state.compare.is_none());
    // eCLIP vs CLIP1: not compared; the request names the pair.
    let Action::Compare(req) = choose(&mut app, 'b', 1) else {
        panic!("asks: {:?}", app.state.status);
    };
    assert_eq!(
        (
            req.dataset.as_str(),
            req.baseline.as_str(),
            req.candidate.as_str()
        ),
        ("cxr-demo", "eCLIP", "CLIP1")
    );
    assert!(app.state.pair().is_none());
    let screen = render(&app).to_string();
    assert!(screen.contains("computing Δ CLIP1−eCLIP …"), "{screen}");
    // Choosing the same pair again while it is computed asks nothing more.
    assert!(matches!(choose(&mut app, 'b', 1), Action::None));

    // A reply to an older request is dropped.
    app.handle(Event::Compared(CompareReply {
        id: req.id + 100,
        result: Ok(pair_rows()),
    }));
    assert!(app.state.compare.is_some() && app.state.pair().is_none());

    app.handle(Event::Compared(CompareReply {
        id: req.id,
        result: Ok(pair_rows()),
    }));
    assert!(app.state.compare.is_none());
    let pair = app.state.pair().expect("the pair is compared now");
    assert!(!pair.reversed);
    let first = app.state.overview_tab.lines[0].delta.expect("a delta");
    assert_eq!(first.value, Some(-0.02));
    let screen = render(&app).to_string();
    assert!(
        screen.contains("Δ CLIP1−eCLIP") && !screen.contains("computing"),
        "{screen}"
    );
    // The other pairs' rows are untouched.
    assert_eq!(
        app.state
            .rows
            .iter()
            .filter(|r| r.model == "CLIP1 - CLIP")
            .count(),
        8
    );
    // The reversed pair reads the same rows, mirrored: nothing to ask.
    assert!(matches!(choose(&mut app, 'b', 2), Action::None));
    assert_eq!(
        (app.state.baseline.as_str(), app.state.candidate.as_str()),
        ("CLIP1", "eCLIP")
    );
    assert!(app.state.pair().expect("mirrored").reversed);
}

#[test]
fn a_failed_comparison_is_shown_and_asked_again_on_the_next_choice() {
    let mut app = three_models((120, 40));
    choose(&mut app, 'c', 2);
    let Action::Compare(req) = choose(&mut app, 'b', 1) else {
        panic!("asks");
    };
    app.handle(Event::Compared(CompareReply {
        id: req.id,
        result: Err("dataset cxr-demo has no embeddings".into()),
    }));
    let screen = render(&app).to_string();
    assert!(screen.contains("failed: dataset cxr-demo"), "{screen}");
    let Action::Compare(again) = choose(&mut app, 'b', 1) else {
        panic!("a failed pair is asked again");
    };
    assert!(again.id > req.id);
}

#[test]
fn no_request_while_the_dataset_is_still_evaluated() {
    let mut app = three_models((120, 40));
    app.state.families_running = vec!["linear_probe".into()];
    choose(&mut app, 'c', 2);
    assert!(matches!(choose(&mut app, 'b', 1), Action::None));
    let screen = render(&app).to_string();
    assert!(screen.contains("not compared by the run"), "{screen}");
}

#[test]
fn pending_comparison_snapshots() {
    for size in [(80, 24), (120, 40)] {
        let mut app = three_models(size);
        choose(&mut app, 'c', 2);
        assert!(matches!(choose(&mut app, 'b', 1), Action::Compare(_)));
        let (w, h) = size;
        insta::assert_snapshot!(format!("compare_pending_{w}x{h}"), render(&app));
    }
}
