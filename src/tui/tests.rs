//! Tests of the whole TUI without a terminal: state-machine tests that feed events through
//! `App::handle`, and insta snapshots of every tab drawn into ratatui's `TestBackend` at 80×24 and
//! 120×40. The data is small and hand-made (two models, six gallery items, d = 3) so every number
//! on screen can be checked by eye; query answers come from the real `worker::answer`.
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::app::{Action, App, Event};
use super::state::*;
use super::worker::{self, QueryKind, QueryReply, Update};
use crate::eval::MetricRow;
use std::sync::Arc;

use super::test_fixtures::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap(name: &str, app: &App) {
    let (w, h) = app.state.size;
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app));
}

#[test]
fn rag_view_groups_generators_and_keeps_findings_and_errors() {
    let v = rag();
    assert_eq!(
        v.models,
        [
            "CLIP · top1",
            "eCLIP · top1",
            "CLIP · llm:mistral",
            "eCLIP · llm:mistral"
        ]
    );
    let failed = &v.items[2][0];
    assert!(failed.generated.is_empty());
    assert!(failed.error.as_deref().unwrap_or("").contains("503"));
    let top1 = &v.items[0][0];
    let neg: Vec<(&str, bool)> = top1
        .generated_findings
        .iter()
        .map(|f| (f.label.as_str(), f.negated))
        .collect();
    assert!(neg.contains(&("pleural_effusion", true)), "{neg:?}");
    assert!(neg.contains(&("cardiomegaly", false)), "{neg:?}");
    let (a, b) = top1.generated_findings[0].span;
    assert!(top1.generated.get(a..b).is_some_and(|t| !t.is_empty()));
}

#[test]
fn snapshot_every_tab_loaded() {
    for size in SIZES {
        let mut app = loaded_app(size);
        snap("overview", &app);
        drive(&mut app, key('2'));
        drive(&mut app, key(']'));
        snap("zeroshot_class", &app);
        drive(&mut app, key('/'));
        type_text(&mut app, "enlarged heart");
        drive(&mut app, code(KeyCode::Enter));
        snap("zeroshot_prompt", &app);
        drive(&mut app, code(KeyCode::Enter));
        snap("zeroshot_opened", &app);
        drive(&mut app, key('3'));
        drive(&mut app, key('j'));
        snap("retrieval_image", &app);
        drive(&mut app, key('/'));
        type_text(&mut app, "pleural effusion");
        drive(&mut app, code(KeyCode::Enter));
        snap("retrieval_query", &app);
        drive(&mut app, key('4'));
        snap("probe", &app);
        drive(&mut app, key('5'));
        snap("geometry", &app);
        drive(&mut app, key('6'));
        snap("rag", &app);
        drive(&mut app, key('?'));
        snap("help", &app);
    }
}

#[test]
fn snapshot_every_tab_while_loading() {
    for size in SIZES {
        let mut app = empty_app(size);
        app.handle(Event::JobQueued {
            job: "embed CLIP".into(),
        });
        app.handle(Event::Progress {
            job: "embed CLIP".into(),
            done: 40,
            total: 120,
        });
        let mut screens = String::new();
        for tab in ['1', '2', '3', '4', '5', '6'] {
            app.handle(key(tab));
            screens.push_str(&format!("{}\n", render(&app)));
        }
        let (w, h) = size;
        insta::assert_snapshot!(format!("loading_{w}x{h}"), screens);
    }
}

#[test]
fn tab_keys_cycle_and_digits_jump() {
    let mut app = empty_app((80, 24));
    assert_eq!(app.state.tab, Tab::Overview);
    app.handle(code(KeyCode::Tab));
    assert_eq!(app.state.tab, Tab::ZeroShot);
    app.handle(code(KeyCode::BackTab));
    app.handle(code(KeyCode::BackTab));
    assert_eq!(app.state.tab, Tab::Rag);
    app.handle(key('5'));
    assert_eq!(app.state.tab, Tab::Geometry);
}

#[test]
fn quit_by_q_and_ctrl_c_even_while_typing() {
    let mut app = loaded_app((80, 24));
    assert!(matches!(app.handle(key('q')), Action::Quit));
    assert!(!app.state.running);
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    app.handle(key('/'));
    assert!(
        matches!(app.handle(key('q')), Action::None),
        "q is text while typing"
    );
    assert_eq!(app.state.zeroshot.prompt, "q");
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(matches!(app.handle(ctrl_c), Action::Quit));
}

#[test]
fn typing_edits_the_prompt_and_enter_queries() {
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    app.handle(key('/'));
    assert_eq!(app.state.mode, InputMode::Editing);
    for c in "hearts".chars() {
        app.handle(key(c));
    }
    app.handle(code(KeyCode::Backspace));
    assert_eq!(app.state.zeroshot.prompt, "heart");
    let Action::Query(req) = drive(&mut app, code(KeyCode::Enter)) else {
        panic!("Enter must query");
    };
    assert_eq!(req.kind, QueryKind::PromptToImages("heart".into()));
    assert_eq!(app.state.mode, InputMode::Normal);
    // Both models rank the two cardiomegaly images (0 and 3) first.
    for m in &app.state.zeroshot.results {
        let mut top: Vec<usize> = m.hits[..2].iter().map(|h| h.item).collect();
        top.sort_unstable();
        assert_eq!(top, vec![0, 3], "{}", m.model);
    }
}

#[test]
fn stale_replies_are_ignored() {
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    let Action::Query(first) = app.handle(key(']')) else {
        panic!("class query")
    };
    let Action::Query(second) = app.handle(key(']')) else {
        panic!("class query")
    };
    let g = app.state.gallery.clone().expect("gallery");
    let old = worker::answer(&g, &first, None);
    app.handle(Event::Reply(QueryReply {
        id: first.id,
        result: old,
    }));
    assert!(
        app.state.zeroshot.results.is_empty(),
        "stale answer dropped"
    );
    let new = worker::answer(&g, &second, None);
    app.handle(Event::Reply(QueryReply {
        id: second.id,
        result: new,
    }));
    assert_eq!(app.state.zeroshot.results.len(), 2);
    assert_eq!(app.state.zeroshot.query_label, "class: pleural_effusion");
}

#[test]
fn open_shows_probabilities_and_esc_closes() {
    let mut app = loaded_app((120, 40));
    app.handle(key('2'));
    drive(&mut app, key(']')); // cardiomegaly
    drive(&mut app, code(KeyCode::Enter));
    let opened = app.state.zeroshot.opened.as_ref().expect("opened");
    assert_eq!(opened.probs.len(), 2);
    // image 0 is [1, .1, 0]: cardiomegaly is the most likely class for the first model.
    let p = &opened.probs[0];
    assert!(p[0] > p[1] && p[0] > p[2], "{p:?}");
    app.handle(key('m'));
    assert_eq!(
        app.state.status.as_deref(),
        Some("this image has no heatmap")
    );
    app.handle(code(KeyCode::Esc));
    assert!(app.state.zeroshot.opened.is_none());
}

#[test]
fn retrieval_moves_query_and_mark_ground_truth() {
    let mut app = loaded_app((80, 24));
    app.handle(key('3'));
    drive(&mut app, key('j'));
    assert_eq!(app.state.retrieval.item, 1);
    assert_eq!(app.state.retrieval.truth, Some(1));
    // Item 1's own report is among each model's two best matches in this data, scores descend.
    for m in &app.state.retrieval.results {
        assert!(m.hits[..2].iter().any(|h| h.item == 1), "{}", m.model);
        assert!(m.hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
    drive(&mut app, code(KeyCode::PageDown));
    assert_eq!(app.state.retrieval.item, 5);
    app.handle(key('t'));
    assert_eq!(app.state.retrieval.mode, RetrievalMode::TextToImage);
}

#[test]
fn help_swallows_navigation_until_closed() {
    let mut app = loaded_app((80, 24));
    app.handle(key('?'));
    assert!(app.state.help);
    app.handle(key('3'));
    assert_eq!(app.state.tab, Tab::Overview);
    app.handle(code(KeyCode::Esc));
    assert!(!app.state.help);
}

#[test]
fn overview_refreshes_as_rows_arrive_and_selection_clamps() {
    let mut app = empty_app((80, 24));
    assert!(app.state.overview.lines.is_empty());
    let rows = metrics();
    app.handle(Event::Update(Update::Metrics(rows[..3].to_vec())));
    assert_eq!(app.state.overview.lines.len(), 1);
    app.handle(Event::Update(Update::Metrics(rows[3..].to_vec())));
    assert_eq!(app.state.overview.lines.len(), 8);
    for _ in 0..20 {
        app.handle(key('j'));
    }
    assert_eq!(app.state.overview_tab.pos.selected, 7);
    app.handle(code(KeyCode::PageUp));
    assert_eq!(app.state.overview_tab.pos.selected, 0);
}

#[test]
fn mouse_clicks_tabs_and_rows_and_wheel_scrolls() {
    let mut app = loaded_app((120, 40));
    let click = |x, y| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Tab bar is row 1: " 1 Overview " is 12 wide plus a divider, then " 2 Zero-shot ".
    app.handle(click(16, 1));
    assert_eq!(app.state.tab, Tab::ZeroShot);
    app.handle(click(2, 1));
    assert_eq!(app.state.tab, Tab::Overview);
    // Body starts on row 2; border row 2, table header row 3, first line row 4.
    app.handle(click(10, 6));
    assert_eq!(app.state.overview_tab.pos.selected, 2);
    app.handle(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.state.overview_tab.pos.selected, 3);
}

#[test]
fn jobs_report_progress_and_failures() {
    let mut app = empty_app((80, 24));
    app.handle(Event::JobQueued {
        job: "probe".into(),
    });
    app.handle(Event::Progress {
        job: "probe".into(),
        done: 3,
        total: 4,
    });
    assert!((app.state.jobs[0].ratio() - 0.75).abs() < 1e-9);
    app.handle(Event::JobFinished {
        job: "probe".into(),
        error: Some("model 'eCLIP': boom".into()),
    });
    assert_eq!(
        app.state.jobs[0].state,
        JobState::Failed("model 'eCLIP': boom".into())
    );
    assert!(
        app.state
            .status
            .as_deref()
            .is_some_and(|s| s.contains("probe failed"))
    );
}

#[test]
fn export_tables_hold_what_the_view_shows() {
    let mut app = loaded_app((80, 24));
    let (h, rows) = super::export::view_table(&app.state, Tab::Overview);
    assert_eq!(h[0], "model");
    assert_eq!(rows.len(), metrics().len() + probe_rows().len());
    // The export follows the Overview's filter.
    app.handle(key('/'));
    type_text(&mut app, "R@1");
    app.handle(code(KeyCode::Enter));
    let (_, rows) = super::export::view_table(&app.state, Tab::Overview);
    assert_eq!(
        rows.len(),
        6,
        "two retrieval lines × (two models + one comparison)"
    );
    app.handle(code(KeyCode::Esc));
    app.handle(key('2'));
    drive(&mut app, key(']'));
    let (h, rows) = super::export::view_table(&app.state, Tab::ZeroShot);
    assert_eq!(h[5], "image");
    assert_eq!(
        rows.len(),
        2 * 6,
        "two models × six hits (k = 10 > 6 items)"
    );
    assert!(matches!(
        app.handle(key('e')),
        Action::Export(Tab::ZeroShot)
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let path =
        super::export::write_csv(dir.path(), Tab::ZeroShot, &(h, rows.clone())).expect("csv");
    let text = std::fs::read_to_string(path).expect("read back");
    assert!(text.starts_with("query,model,rank,score,item,image,ground_truth\n"));
    assert_eq!(text.lines().count(), 13);
    // A class query: ground truth is whether the hit carries the class (issue 12: every row was
    // `false`, positives included).
    let g = app.state.gallery.as_ref().expect("gallery");
    let class = &g.classes[app.state.zeroshot.class.expect("class query")];
    for r in &rows {
        let item: usize = r[4].parse().expect("item index");
        let positive = g.items[item].labels.contains(class);
        assert_eq!(r[6], positive.to_string(), "item {item} for {class}");
    }
    assert!(
        rows.iter().any(|r| r[6] == "true"),
        "the class has positives among the hits"
    );
    let (_, probe) = super::export::view_table(&app.state, Tab::Probe);
    assert_eq!(probe.len(), 6);
}

#[test]
fn summary_lists_every_metric_with_deltas() {
    let app = loaded_app((80, 24));
    let text = crate::run::table::render_rows(&app.state.header.models, &app.state.rows);
    insta::assert_snapshot!("summary", text);
}

#[test]
fn resize_rebuilds_the_opened_image() {
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    drive(&mut app, key(']'));
    // No real file behind the fixture paths: the image cannot be read and the view says so.
    drive(&mut app, code(KeyCode::Enter));
    assert!(
        app.state
            .zeroshot
            .opened
            .as_ref()
            .is_some_and(|o| o.image.is_none())
    );
    app.handle(Event::Resize(120, 40));
    assert_eq!(app.state.size, (120, 40));
    let screen = render(&app).to_string();
    assert!(screen.contains("image could not be read"));
}

#[test]
fn overview_fills_in_as_families_finish_and_the_summary_replaces_them() {
    let mut app = empty_app((120, 40));
    app.handle(Event::JobQueued {
        job: "evaluate".into(),
    });
    app.handle(Event::Progress {
        job: "evaluate".into(),
        done: 1,
        total: 11,
    });
    let family = |tasks: &[Task]| -> Vec<MetricRow> {
        metrics()
            .into_iter()
            .filter(|r| tasks.contains(&r.task))
            .collect()
    };
    let running = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Zero-shot first, with a value the final summary will correct.
    let mut zeroshot = family(&[Task::Zeroshot]);
    zeroshot[0].value = Some(0.99);
    app.handle(Event::Update(Update::FamilyDone {
        rows: zeroshot,
        running: running(&["retrieval", "geometry"]),
    }));
    assert_eq!(app.state.overview.lines.len(), 2);
    let screen = render(&app).to_string();
    assert!(screen.contains("0.990"), "{screen}");
    assert!(
        screen.contains("still running: retrieval, geometry"),
        "{screen}"
    );
    assert!(!screen.contains("R@1"), "{screen}");

    app.handle(Event::Update(Update::FamilyDone {
        rows: family(&[Task::Retrieval]),
        running: running(&["geometry"]),
    }));
    assert_eq!(app.state.overview.lines.len(), 4);
    let screen = render(&app).to_string();
    assert!(screen.contains("R@1"), "{screen}");
    assert!(screen.contains("still running: geometry"), "{screen}");

    // The final summary: every row once, in its order, the corrected value shown.
    app.handle(Event::Update(Update::Metrics(metrics())));
    // ... multiplicity-adjusted over the whole summary, as the review's rows are.
    let mut want = metrics();
    crate::eval::metrics::adjust(&mut want);
    assert_eq!(app.state.rows, want);
    assert_eq!(app.state.overview.lines.len(), 8);
    assert!(app.state.families_running.is_empty());
    let acc = &app.state.overview.lines[0];
    assert_eq!(
        (acc.task, acc.metric.as_str()),
        (Task::Zeroshot, "accuracy")
    );
    assert_eq!(acc.values[0].and_then(|e| e.value), Some(0.41));
    let screen = render(&app).to_string();
    assert!(!screen.contains("still running"), "{screen}");
    assert!(!screen.contains("0.990"), "{screen}");

    // Later rows (RAG) are added, not merged away.
    let rag = metric(
        "CLIP",
        Task::Rag,
        Setting::Generator("k=3".into()),
        "bleu",
        0.2,
        None,
    );
    app.handle(Event::Update(Update::Metrics(vec![rag.clone()])));
    assert_eq!(app.state.rows.len(), metrics().len() + 1);
    assert_eq!(app.state.rows.last(), Some(&rag));
}

#[test]
fn snapshot_navigation_states() {
    for size in SIZES {
        let mut app = loaded_app(size);
        app.handle(key('o'));
        snap("overview_sorted_delta", &app);
        app.handle(key('o'));
        app.handle(key('f'));
        snap("overview_significant_by_p", &app);
        app.handle(key('f'));
        app.handle(key('o'));
        app.handle(key('/'));
        type_text(&mut app, "geometry");
        snap("overview_filter_typing", &app);
        app.handle(code(KeyCode::Enter));
        app.handle(code(KeyCode::Esc));
        app.handle(key('b'));
        snap("chooser_baseline", &app);
        app.handle(key('j'));
        app.handle(code(KeyCode::Enter));
        snap("overview_reversed_pair", &app);
        app.handle(key('3'));
        snap("retrieval_image_reversed_pair", &app);
        app.handle(key('b'));
        app.handle(key('k'));
        app.handle(code(KeyCode::Enter));
        drive(&mut app, key('j'));
        drive(&mut app, code(KeyCode::Enter));
        snap("retrieval_item", &app);
        app.handle(code(KeyCode::Esc));
        drive(&mut app, key('/'));
        type_text(&mut app, "pleural effusion");
        drive(&mut app, code(KeyCode::Enter));
        drive(&mut app, code(KeyCode::Enter));
        snap("retrieval_item_query", &app);
        let (rows, g2, p2) = second_dataset();
        app.handle(Event::Update(Update::Metrics(rows)));
        app.handle(Event::Update(Update::Plots(p2)));
        app.handle(Event::Update(Update::Gallery(Arc::new(g2), thumbs())));
        app.handle(key('1'));
        app.handle(key('d'));
        snap("chooser_dataset", &app);
        app.handle(key('j'));
        app.handle(code(KeyCode::Enter));
        snap("overview_second_dataset", &app);
        app.handle(Event::Exported(Ok("eclip-overview.csv".into())));
        app.handle(key('4'));
        snap("probe_second_dataset_with_status", &app);
    }
}
