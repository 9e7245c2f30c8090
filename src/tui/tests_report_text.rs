//! The full-text overlay (`r`, issue 18) without a terminal: which text it opens on each tab,
//! scrolling and closing through `App::handle`, and insta snapshots at 80×24 and 120×40.
use crossterm::event::KeyCode;

use super::app::App;
use super::test_fixtures::*;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap(name: &str, app: &App) {
    let (w, h) = app.state.size;
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app));
}

fn headings(app: &App) -> Vec<String> {
    app.state
        .report_text
        .as_ref()
        .map(|t| t.panes.iter().map(|p| p.heading.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn r_opens_the_report_under_the_cursor_on_every_report_tab() {
    let mut app = loaded_app((80, 24));
    app.handle(key('r'));
    assert!(
        app.state.report_text.is_none(),
        "r is not bound on the Overview"
    );

    // Zero-shot: the selected hit's report, with its row and image.
    drive(&mut app, key('2'));
    drive(&mut app, key(']'));
    let hit = app.state.zeroshot.results[0].hits[0].item;
    app.handle(key('r'));
    let t = app.state.report_text.clone().expect("open");
    let item = &app.state.gallery.as_ref().expect("gallery").items[hit];
    assert_eq!(
        (t.row, t.image.clone()),
        (item.row, item.image.display().to_string())
    );
    assert_eq!(t.panes[0].text, item.report);
    app.handle(key('2'));
    assert_eq!(
        app.state.tab,
        super::state::Tab::ZeroShot,
        "keys go to the overlay"
    );
    app.handle(code(KeyCode::Esc));
    assert!(app.state.report_text.is_none());
    assert!(
        app.state.zeroshot.opened.is_none(),
        "Esc closed only the overlay"
    );

    // Retrieval, image → report: the image's own report, then the column's top-k in rank order.
    drive(&mut app, key('3'));
    drive(&mut app, key('j'));
    drive(&mut app, key('l'));
    app.handle(key('r'));
    let h = headings(&app);
    assert_eq!(h.len(), 1 + 6);
    assert!(h[1].starts_with("eCLIP #1 "), "{h:?}");
    assert_eq!(h.iter().filter(|x| x.contains("✓ own report")).count(), 1);
    app.handle(key('r'));
    assert!(app.state.report_text.is_none(), "r closes it again");

    // The opened item: the same texts, Esc closes the overlay and keeps the item.
    drive(&mut app, code(KeyCode::Enter));
    app.handle(key('r'));
    assert_eq!(headings(&app).len(), 7);
    app.handle(code(KeyCode::Esc));
    assert!(app.state.retrieval.opened.is_some());

    // RAG: the ground truth and every generator's report, side by side when wide.
    app.handle(code(KeyCode::Esc));
    app.handle(key('6'));
    app.handle(key('r'));
    let t = app.state.report_text.clone().expect("open");
    assert!(t.side_by_side);
    assert_eq!(t.panes.len(), 1 + app.state.rag.models.len());
    assert_eq!(t.panes[0].text, app.state.rag.items[0][0].reference);
    assert!(
        t.panes
            .iter()
            .any(|p| p.text.contains("not generated") && p.text.contains("503")),
        "a failed generation says why"
    );
}

#[test]
fn scrolling_stops_at_the_last_line() {
    let mut app = loaded_app((80, 24));
    drive(&mut app, key('3'));
    drive(&mut app, key('j'));
    app.handle(key('r'));
    let max = {
        let t = app.state.report_text.as_ref().expect("open");
        super::view::report_text::max_scroll(t, app.state.size)
    };
    assert!(max > 0, "seven reports overflow 80×24");
    app.handle(key('j'));
    assert_eq!(app.state.report_text.as_ref().map(|t| t.scroll), Some(1));
    for _ in 0..3 {
        app.handle(code(KeyCode::PageDown));
    }
    assert_eq!(app.state.report_text.as_ref().map(|t| t.scroll), Some(max));
    app.handle(code(KeyCode::PageUp));
    app.handle(key('k'));
    assert!(
        app.state
            .report_text
            .as_ref()
            .is_some_and(|t| t.scroll < max)
    );
    assert_eq!(
        app.state.retrieval.item, 1,
        "scrolling picks no other image"
    );
}

#[test]
fn snapshot_full_text() {
    for size in SIZES {
        let mut app = loaded_app(size);
        drive(&mut app, key('3'));
        drive(&mut app, key('j'));
        app.handle(key('r'));
        snap("report_text_retrieval", &app);
        app.handle(code(KeyCode::Esc));
        app.handle(key('6'));
        app.handle(key('r'));
        snap("report_text_rag", &app);
    }
}
