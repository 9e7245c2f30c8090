//! State-machine tests of navigation without a terminal: Overview sorting and filtering, the
//! compared pair, expiring status messages, the query line, Retrieval's opened item, and the
//! dataset and split choosers. Same hand-made data as `tests.rs`.
use crossterm::event::KeyCode;

use super::app::{Action, App, Event};
use super::state::*;
use super::worker::Update;
use std::sync::Arc;

use super::test_fixtures::*;

fn names(app: &App) -> Vec<String> {
    app.state
        .overview_tab
        .lines
        .iter()
        .map(|v| v.name.clone())
        .collect()
}

#[test]
fn overview_sorts_by_delta_and_p_and_filters_by_name_and_verdict() {
    let mut app = loaded_app((120, 40));
    let all = names(&app);
    assert_eq!(all.len(), 11);
    assert_eq!(all[0], "zeroshot/argmax accuracy", "report order first");
    app.handle(key('o'));
    let by_delta: Vec<f64> = app
        .state
        .overview_tab
        .lines
        .iter()
        .filter_map(|v| v.delta.and_then(|d| d.value).map(f64::abs))
        .collect();
    assert!(by_delta.windows(2).all(|w| w[0] >= w[1]), "{by_delta:?}");
    assert!((by_delta[0] - 0.21).abs() < 1e-9);
    app.handle(key('o'));
    let ps: Vec<f64> = app
        .state
        .overview_tab
        .lines
        .iter()
        .filter_map(|v| v.delta.and_then(|d| d.p_shown()))
        .collect();
    assert!(ps.windows(2).all(|w| w[0] <= w[1]), "{ps:?}");
    app.handle(key('o'));
    assert_eq!(names(&app), all, "back to report order");

    // `/` filters as it is typed; every word must match, case-insensitive.
    app.handle(key('/'));
    type_text(&mut app, "GEOMETRY u");
    assert_eq!(names(&app), ["geometry uniformity_image"]);
    app.handle(code(KeyCode::Enter));
    assert_eq!(app.state.mode, InputMode::Normal);
    assert_eq!(app.state.overview_tab.filter, "GEOMETRY u");
    app.handle(code(KeyCode::Esc));
    assert!(
        app.state.overview_tab.filter.is_empty(),
        "Esc clears the filter"
    );

    // Significant only: the lines whose delta the verdict rule calls better or worse.
    app.handle(key('f'));
    let shown = names(&app);
    for v in &app.state.overview_tab.lines {
        let d = v.delta.expect("a delta");
        assert!(
            matches!(d.verdict, Verdict::Better | Verdict::Worse),
            "{}",
            v.name
        );
    }
    assert!(shown.contains(&"zeroshot/argmax accuracy".to_string()));
    assert!(!shown.contains(&"retrieval/i2t R@1".to_string()));
    let screen = render(&app).to_string();
    assert!(screen.contains("significant only"), "{screen}");
}

#[test]
fn baseline_choice_reverses_deltas_by_the_same_rule() {
    let mut app = loaded_app((120, 40));
    let first = app.state.overview_tab.lines[0].delta.expect("delta");
    assert_eq!(first.verdict, Verdict::Better);
    // b opens the chooser on the current baseline; j Enter picks eCLIP, which swaps the pair.
    app.handle(key('b'));
    let ch = app.state.chooser.clone().expect("chooser open");
    assert_eq!(ch.options, ["CLIP", "eCLIP"]);
    assert_eq!(ch.selected, 0);
    app.handle(key('3'));
    assert_eq!(app.state.tab, Tab::Overview, "the chooser takes the keys");
    app.handle(key('j'));
    app.handle(code(KeyCode::Enter));
    assert!(app.state.chooser.is_none());
    assert_eq!(
        (app.state.baseline.as_str(), app.state.candidate.as_str()),
        ("eCLIP", "CLIP")
    );
    let rev = app.state.overview_tab.lines[0].delta.expect("delta");
    assert_eq!(rev.value.map(|v| -v), first.value);
    assert_eq!(rev.ci, first.ci.map(|(lo, hi)| (-hi, -lo)));
    assert_eq!(rev.p_shown(), first.p_shown());
    assert_eq!(rev.verdict, Verdict::Worse, "CLIP is worse than eCLIP");
    // The same verdict as the rule gives the mirrored row directly.
    let row = app
        .state
        .rows
        .iter()
        .find(|r| r.is_comparison() && r.metric == "accuracy" && r.task == Task::Zeroshot)
        .expect("row");
    let mirrored = reversed_row(row).expect("comparison");
    assert_eq!(mirrored.model, "CLIP - eCLIP");
    assert_eq!(
        crate::eval::metrics::Verdict::of_row(&mirrored),
        Verdict::Worse
    );
    let screen = render(&app).to_string();
    assert!(screen.contains("Δ CLIP−eCLIP"), "{screen}");
    // c picks the candidate; choosing the baseline's model swaps back.
    app.handle(key('c'));
    app.handle(key('j'));
    app.handle(code(KeyCode::Enter));
    assert_eq!(
        (app.state.baseline.as_str(), app.state.candidate.as_str()),
        ("CLIP", "eCLIP")
    );
    // Esc closes a chooser without choosing.
    app.handle(key('b'));
    app.handle(key('j'));
    app.handle(code(KeyCode::Esc));
    assert_eq!(app.state.baseline, "CLIP");
}

#[test]
fn status_messages_expire_on_the_tick() {
    let t0 = std::time::Instant::now();
    let mut app = loaded_app((80, 24));
    app.handle(Event::Tick(t0));
    app.handle(Event::Exported(Ok("eclip-overview.csv".into())));
    assert!(
        render(&app)
            .to_string()
            .contains("exported eclip-overview.csv")
    );
    app.handle(Event::Tick(t0 + std::time::Duration::from_secs(3)));
    assert!(app.state.status.is_some(), "still shown after 3 s");
    app.handle(Event::Tick(t0 + STATUS_TTL));
    assert!(app.state.status.is_none(), "gone after {STATUS_TTL:?}");
    assert!(render(&app).to_string().contains("all jobs done"));
    // A message set before any tick is stamped by the first tick.
    let mut app = loaded_app((80, 24));
    app.handle(key('m'));
    app.handle(key('2'));
    app.handle(key('m'));
    assert_eq!(
        app.state.status.as_deref(),
        Some("open an image first (Enter)")
    );
    app.handle(Event::Tick(t0));
    app.handle(Event::Tick(t0 + std::time::Duration::from_secs(1)));
    assert!(app.state.status.is_some());
    app.handle(Event::Tick(t0 + std::time::Duration::from_secs(5)));
    assert!(app.state.status.is_none());
}

#[test]
fn the_query_line_shows_the_active_query_only() {
    let mut app = loaded_app((120, 40));
    app.handle(key('2'));
    drive(&mut app, key('/'));
    type_text(&mut app, "enlarged heart");
    drive(&mut app, code(KeyCode::Enter));
    let line = |app: &App| {
        render(app)
            .to_string()
            .lines()
            .nth(2)
            .unwrap_or("")
            .to_string()
    };
    assert!(
        line(&app).contains("prompt: enlarged heart"),
        "{}",
        line(&app)
    );
    drive(&mut app, key(']'));
    let l = line(&app);
    assert!(
        l.contains("class: cardiomegaly") && !l.contains("enlarged heart"),
        "{l}"
    );
}

#[test]
fn retrieval_enter_opens_the_item_with_its_rank_per_model() {
    let mut app = loaded_app((120, 40));
    app.handle(key('3'));
    drive(&mut app, key('j'));
    drive(&mut app, code(KeyCode::Enter));
    let o = app.state.retrieval.opened.clone().expect("opened");
    assert_eq!(o.item, 1);
    // Item 1's own report is second for both models (see retrieval_image snapshot).
    assert_eq!(
        o.ranks,
        [("CLIP".into(), Some(2)), ("eCLIP".into(), Some(2))]
    );
    assert_eq!(o.retrieved.len(), 2);
    assert_eq!(o.retrieved[0].1.len(), 6);
    assert!(o.retrieved[0].1[1].own);
    let screen = render(&app).to_string();
    assert!(screen.contains("Small left pleural effusion."), "{screen}");
    assert!(screen.contains("rank CLIP 2 · eCLIP 2"), "{screen}");
    drive(&mut app, key('j'));
    assert_eq!(
        app.state.retrieval.opened.as_ref().map(|o| o.scroll),
        Some(1)
    );
    assert_eq!(
        app.state.retrieval.item, 1,
        "↓ scrolls the item, it picks no image"
    );
    app.handle(code(KeyCode::Esc));
    assert!(app.state.retrieval.opened.is_none());

    // Query → image: the selected hit, ranked in each model's list.
    drive(&mut app, key('/'));
    type_text(&mut app, "pleural effusion");
    drive(&mut app, code(KeyCode::Enter));
    drive(&mut app, code(KeyCode::Enter));
    let o = app.state.retrieval.opened.clone().expect("opened");
    let top = app.state.retrieval.results[0].hits[0].item;
    assert_eq!(o.item, top);
    assert_eq!(o.ranks[0], ("CLIP".into(), Some(1)));
    assert!(o.retrieved.is_empty());
}

#[test]
fn datasets_and_splits_are_chosen_and_every_tab_follows() {
    let mut app = loaded_app((120, 40));
    let (rows, g2, p2) = second_dataset();
    app.handle(Event::Update(Update::Metrics(rows)));
    app.handle(Event::Update(Update::Plots(p2)));
    app.handle(Event::Update(Update::Gallery(Arc::new(g2), thumbs())));
    let mut val = gallery();
    val.split = "val".into();
    app.handle(Event::Update(Update::Gallery(Arc::new(val), thumbs())));
    assert_eq!(app.state.datasets, ["cxr-demo", "chexpert-5x200"]);
    assert_eq!(
        app.state.header.dataset, "cxr-demo",
        "arrivals do not switch the dataset"
    );
    assert_eq!(app.state.overview_tab.lines.len(), 11);

    app.handle(key('d'));
    app.handle(key('j'));
    let Action::ShareGallery(g) = app.handle(code(KeyCode::Enter)) else {
        panic!("a new gallery goes to the query thread");
    };
    assert_eq!((g.dataset.as_str(), g.items.len()), ("chexpert-5x200", 4));
    assert_eq!(app.state.header.dataset, "chexpert-5x200");
    assert_eq!(
        app.state.overview_tab.lines.len(),
        8,
        "no probe rows on the second dataset"
    );
    let acc = &app.state.overview.lines[app.state.overview_tab.lines[0].line];
    assert_eq!(acc.dataset, "chexpert-5x200");
    assert_eq!(acc.values[0].and_then(|e| e.value), Some(0.41 * 0.5));
    assert_eq!(app.state.plots.dataset, "chexpert-5x200");
    assert!(app.state.rag.items.is_empty(), "no RAG results for it");

    // Back to the first dataset, then its val split: the live queries search it.
    app.handle(key('d'));
    app.handle(code(KeyCode::Enter));
    assert_eq!(
        app.state.header.dataset, "chexpert-5x200",
        "Enter on the current one"
    );
    app.handle(key('d'));
    app.handle(key('k'));
    app.handle(code(KeyCode::Enter));
    app.handle(key('s'));
    let ch = app.state.chooser.clone().expect("split chooser");
    assert_eq!(ch.options, ["test", "val"]);
    app.handle(key('j'));
    let Action::ShareGallery(g) = app.handle(code(KeyCode::Enter)) else {
        panic!("the val gallery goes to the query thread");
    };
    assert_eq!((g.dataset.as_str(), g.split.as_str()), ("cxr-demo", "val"));
    assert_eq!(app.state.header.split, "val");
    assert!(render(&app).to_string().contains("split val"));
}
