//! Helpers of the tests that drive the TUI's `App` without a terminal (`tests/tui_harness.rs`,
//! `tests/tui_compare.rs`): keys, the screen as text, and running the real launch jobs into the app.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(dead_code)] // each test binary uses its own helpers

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use eclip_workbench::tui::{App, Event, Job, worker};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn enter() -> Event {
    Event::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

/// The app drawn at its size into ratatui's `TestBackend`, as text.
pub fn screen(app: &App) -> String {
    let (w, h) = app.state.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| eclip_workbench::tui::view::draw(f, &app.state))
        .unwrap();
    t.backend().to_string()
}

/// Runs `jobs` on the job thread as the TUI does and feeds every event to `app` until all have
/// finished (at most 15 minutes).
pub fn run_jobs(app: &mut App, jobs: Vec<Job>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let n_jobs = jobs.len();
    worker::spawn_jobs(jobs, tx).unwrap();
    let start = Instant::now();
    let mut finished = 0;
    while finished < n_jobs {
        let ev = rx.recv_timeout(Duration::from_secs(600)).unwrap();
        if matches!(ev, Event::JobFinished { .. }) {
            finished += 1;
        }
        app.handle(ev);
        assert!(start.elapsed() < Duration::from_secs(900), "jobs too slow");
    }
}
