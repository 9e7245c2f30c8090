//! Latency benchmark of the TUI (a measurement, not a test).
//!
//! 1. Live query latency: cosine + top-k of one query against N cached image embeddings of
//!    dimension d, for both models of a two-model gallery (what one keystroke-triggered query costs
//!    on the query thread), at N = 10k and 100k, d = 128 and 512.
//! 2. Input-to-frame latency: `App::handle(key)` plus a full `view::draw` of a 120×40 frame into
//!    ratatui's `TestBackend` (terminal I/O excluded), over a 100k-item gallery with every tab's
//!    data loaded, for tab switches, cursor moves and typing.
//!
//! The embeddings are seeded random unit vectors: latency does not depend on their values.
//! Run: `cargo run --release --example tui_latency` (prints a table; nothing is written).
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use eclip_workbench::tui::app::{App, Event};
use eclip_workbench::tui::state::{AppState, Gallery, GalleryEmbeddings, GalleryItem, HeaderInfo};
use eclip_workbench::tui::view;
use eclip_workbench::tui::worker::{self, QueryKind, QueryRequest, Update};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_image::picker::Picker;

fn unit_rows(n: usize, d: usize, rng: &mut rand::rngs::StdRng) -> Array2<f32> {
    let mut a = Array2::from_shape_fn((n, d), |_| rng.gen_range(-1.0f32..1.0));
    for mut r in a.rows_mut() {
        let norm = r.dot(&r).sqrt();
        r /= norm;
    }
    a
}

fn gallery(n: usize, d: usize) -> Gallery {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let items = (0..n)
        .map(|i| GalleryItem {
            row: i,
            image: PathBuf::from(format!("img{i:06}.png")),
            heatmap: None,
            report: format!("report {i}"),
            labels: vec!["edema".into()],
        })
        .collect();
    let classes: Vec<String> = (0..5).map(|c| format!("class{c}")).collect();
    let models = ["A", "B"]
        .iter()
        .map(|m| GalleryEmbeddings {
            model: m.to_string(),
            image: unit_rows(n, d, &mut rng),
            text: unit_rows(n, d, &mut rng),
            classes: unit_rows(classes.len(), d, &mut rng),
            logit_scale: Some(14.28),
        })
        .collect();
    Gallery {
        dataset: "synthetic".into(),
        split: "test".into(),
        items,
        classes,
        models,
    }
}

fn stats(mut t: Vec<Duration>) -> (f64, f64) {
    t.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (
        ms(t[t.len() / 2]),
        ms(t[(t.len() * 95 / 100).min(t.len() - 1)]),
    )
}

fn main() {
    println!("live query: cosine + top-10 over N image embeddings, both models (ms)");
    println!("{:>8} {:>5} {:>10} {:>10}", "N", "d", "median", "p95");
    for n in [10_000, 100_000] {
        for d in [128, 512] {
            let g = gallery(n, d);
            let mut times = Vec::new();
            for i in 0..30 {
                let req = QueryRequest {
                    id: i,
                    kind: QueryKind::ClassToImages(i as usize % 5),
                    k: 10,
                };
                let t = Instant::now();
                let r = worker::answer(&g, &req, None);
                times.push(t.elapsed());
                assert!(r.is_ok());
            }
            let (med, p95) = stats(times);
            println!("{n:>8} {d:>5} {med:>10.2} {p95:>10.2}");
        }
    }

    println!(
        "\ninput-to-frame: App::handle + full draw of 120x40 into TestBackend, 100k gallery (ms)"
    );
    let g = Arc::new(gallery(100_000, 512));
    let mut state = AppState::new(HeaderInfo::default(), Picker::from_fontsize((10, 20)));
    state.size = (120, 40);
    let mut app = App::new(state);
    app.handle(Event::Update(Update::Gallery(
        g.clone(),
        vec![None; 100_000],
    )));
    // Fill the zero-shot and retrieval results once.
    for (tab, k) in [('2', ']'), ('3', 'j')] {
        app.handle(key(tab));
        if let eclip_workbench::tui::Action::Query(req) = app.handle(key(k)) {
            let result = worker::answer(&g, &req, None);
            app.handle(Event::Reply(worker::QueryReply { id: req.id, result }));
        }
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("backend");
    println!("{:<28} {:>10} {:>10}", "input", "median", "p95");
    let cases: [(&str, Vec<Event>); 4] = [
        (
            "tab switch (1..6)",
            "123456".chars().cycle().take(60).map(key).collect(),
        ),
        ("retrieval: move down (j)", {
            let mut v = vec![key('3')];
            v.extend((0..59).map(|_| key('j')));
            v
        }),
        ("zero-shot: next class (])", {
            let mut v = vec![key('2')];
            v.extend((0..59).map(|_| key(']')));
            v
        }),
        ("zero-shot: typing a prompt", {
            let mut v = vec![key('2'), key('/')];
            v.extend(
                "enlarged cardiac silhouette with small effusions on both sides "
                    .chars()
                    .take(58)
                    .map(key),
            );
            v
        }),
    ];
    for (name, events) in cases {
        let mut times = Vec::new();
        for ev in events {
            let t = Instant::now();
            let _ = app.handle(ev);
            terminal.draw(|f| view::draw(f, &app.state)).expect("draw");
            times.push(t.elapsed());
        }
        let (med, p95) = stats(times);
        println!("{name:<28} {med:>10.2} {p95:>10.2}");
        app.handle(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    }
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}
