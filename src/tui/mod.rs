/*!
The interactive workbench: a ratatui terminal UI that compares the configured models side by side.

It owns the terminal session and nothing about models or metrics: the caller (`src/main.rs`)
hands [`run`] a [`Launch`] — header facts, the background [`Job`]s that load, embed and evaluate
(they publish their results as [`Update`]s), and optionally a [`PromptEncoder`] for live typed
prompts. Information flows one way (gitui/bottom style):

```text
input thread ─┐
job thread  ──┼─ Event ─▶ App::handle ─▶ AppState ─▶ view::draw (pure) ─▶ frame
query thread ─┘                 └─▶ Action (query, export, quit) ─▶ run loop
```

- [`state`]: plain data and the view models built from evaluation output;
- [`app`]: `App::handle(Event) -> Action`, the only place the state changes;
- [`keys`]: the key table feeding dispatch, footer and help;
- [`view`]: pure drawing modules; [`tabs`]: per-tab modules (state, lines, drawing, export rows);
- [`worker`]: the job and query threads; [`search`]: cosine + top-k;
- [`saliency_job`]: the saliency thread (`v` on an opened image); [`compare_job`]: the compare
  thread (the chosen pair's rows when the run did not compare it); [`problems`]: load errors,
  skipped rows and cache rebuilds for the `!` panel and the quit summary;
- [`export`]: CSV of the current view; the table printed on quit is `run::table`'s, the
  `--report` one.

The terminal is restored on every exit path ([`restore_terminal`]: mouse capture off, alternate
screen left, cursor shown, raw mode off): a drop guard on normal return and errors, a panic hook on
panics, and a signal hook ([`crate::interrupt::watch`]) on SIGTERM, SIGHUP and SIGINT, which asks
the loop to quit (the guard then restores) and restores and exits itself if the loop has not ended
within [`SIGNAL_GRACE`]. After a signal the summary table is not printed; stderr says which signal
stopped it and the exit code is 128 + the signal number. On quit or a signal the background jobs
end cooperatively: the terminal is restored, the session's cancel token is set (embedding stops
after its batch, evaluation within a bootstrap spec, saliency within a map), and the job threads
are joined for at most [`JOIN_WAIT`]; only a job still running after that wait is ended with the
process (`_exit`, the fallback; finished cache chunks are whole: temp + rename). When
stdout is not a terminal ([`is_terminal`] is false) the binary prints its headless summary instead.
*/
pub mod app;
pub mod compare_job;
pub mod event;
pub mod export;
pub mod keys;
pub mod launch;
pub mod layout;
pub mod problems;
pub mod report_text;
pub mod saliency_job;
pub mod search;
pub mod state;
pub mod tabs;
pub mod view;
pub mod worker;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};
use ratatui_image::picker::Picker;

pub use app::{Action, App, Event};
pub use search::PromptEncoder;
pub use state::{AppState, Gallery, HeaderInfo, Tab};
pub use worker::{Job, JobContext, JobError, Update};

/// Errors of the terminal session.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("writing the export '{path}'")]
    Export {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error(transparent)]
    Interrupted(#[from] crate::interrupt::Interrupted),
}

/// What the TUI is started with.
pub struct Launch {
    pub header: HeaderInfo,
    /// Run in order on a background thread.
    pub jobs: Vec<Job>,
    /// Encodes typed prompts; without it only class queries and image queries work.
    pub encoder: Option<Box<dyn PromptEncoder>>,
    /// Computes the saliency view of an opened image (`v`); without it the view says so.
    pub saliency: Option<Box<dyn saliency_job::SaliencyEngine>>,
    /// Computes the comparison of a chosen pair the run did not compare; without it the Δ
    /// columns of such a pair stay empty and say why.
    pub compare: Option<Box<dyn compare_job::CompareEngine>>,
}

/// Whether stdout is a terminal (draw the TUI) or not (print the headless summary).
pub fn is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Puts the terminal back as the shell had it: mouse capture off, alternate screen left, cursor
/// shown, raw mode off. Idempotent; errors are ignored (the terminal may be gone, e.g. on SIGHUP).
pub fn restore_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = crossterm::terminal::disable_raw_mode();
}

/// How long the UI loop has after a signal to quit by itself before the signal thread restores
/// the terminal and exits.
pub const SIGNAL_GRACE: Duration = Duration::from_secs(2);

/// How long quitting waits for the background jobs after setting the cancel token.
pub const JOIN_WAIT: Duration = Duration::from_secs(2);

/// Set once the UI loop has ended: the signal thread then leaves the exit to the main thread
/// (which is joining the jobs) and only ends the process itself after [`JOIN_WAIT`] more.
static LOOP_ENDED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The signal that ended the session (0: none).
static SIGNALLED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

fn signalled() -> Option<crate::interrupt::Interrupted> {
    match SIGNALLED.load(std::sync::atomic::Ordering::SeqCst) {
        0 => None,
        signal => Some(crate::interrupt::Interrupted { signal }),
    }
}

/// On SIGTERM / SIGHUP / SIGINT: remember it, wake the loop with a quit key (Ctrl-C quits in
/// every mode), and after [`SIGNAL_GRACE`] restore the terminal and exit if still running.
fn install_signal_hook(tx: Sender<Event>) -> std::io::Result<()> {
    crate::interrupt::watch(move |sig| {
        SIGNALLED.store(sig, std::sync::atomic::Ordering::SeqCst);
        let quit = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('c'),
            crossterm::event::KeyModifiers::CONTROL,
        );
        let _ = tx.send(Event::Key(quit));
        std::thread::sleep(SIGNAL_GRACE);
        if LOOP_ENDED.load(std::sync::atomic::Ordering::SeqCst) {
            // The main thread restored the terminal and is joining the jobs (bounded); this is
            // only the last resort if that itself hangs.
            std::thread::sleep(JOIN_WAIT + Duration::from_secs(1));
        }
        restore_terminal();
        signal_hook::low_level::exit(128 + sig);
    })
}

/// Restores the terminal when dropped, whatever way `run` is left.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// How images are drawn. The terminal is asked for a graphics protocol (kitty, sixel, iTerm2) only
/// when its environment says it has one (kitty, WezTerm, iTerm2, Ghostty, foot, mlterm, or
/// `ECLIP_IMAGES=query`): a terminal that never answers the query would leave a reader on stdin
/// that swallows keys. Everything else, tmux included, gets half blocks (`ECLIP_IMAGES=halfblocks`
/// forces them).
fn picker() -> Picker {
    let halfblocks = || Picker::from_fontsize((10, 20));
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let choice = env("ECLIP_IMAGES");
    let graphics_terminal = ["kitty", "WezTerm", "iTerm.app", "ghostty", "mlterm"]
        .contains(&env("TERM_PROGRAM").as_str())
        || ["xterm-kitty", "foot", "xterm-ghostty", "mlterm"].contains(&env("TERM").as_str())
        || !env("KITTY_WINDOW_ID").is_empty();
    let in_tmux = !env("TMUX").is_empty();
    if choice == "halfblocks" || (choice != "query" && (in_tmux || !graphics_terminal)) {
        return halfblocks();
    }
    Picker::from_query_stdio().unwrap_or_else(|_| halfblocks())
}

/// Runs the TUI until the user quits; then prints the summary table to stdout.
///
/// # Errors
/// When the terminal cannot be set up or drawn to, or a thread cannot be started.
pub fn run(launch: Launch) -> Result<(), Error> {
    let mut terminal = ratatui::try_init()?;
    let guard = TerminalGuard;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        hook(info);
    }));
    crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
    let picker = picker();
    let size = terminal.size()?;
    let mut state = AppState::new(launch.header, picker);
    state.size = (size.width, size.height);
    let mut app = App::new(state);

    let (tx, rx) = unbounded::<Event>();
    let (qtx, qrx) = unbounded::<worker::QueryMsg>();
    install_signal_hook(tx.clone())?;
    spawn_input(tx.clone())?;
    spawn_ticks(tx.clone())?;
    worker::spawn_queries(launch.encoder, qrx, tx.clone())?;
    let (stx, srx) = unbounded::<event::SaliencyRequest>();
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let saliency = saliency_job::spawn_saliency(launch.saliency, srx, tx.clone(), cancel.clone())?;
    let (ctx, crx) = unbounded::<event::CompareRequest>();
    let compare = compare_job::spawn_compare(launch.compare, crx, tx.clone(), cancel.clone())?;
    let jobs = worker::spawn_jobs_until(launch.jobs, tx.clone(), cancel.clone())?;

    let senders = Senders {
        queries: qtx,
        saliency: stx,
        compare: ctx,
        events: tx,
    };
    let result = event_loop(&mut terminal, &mut app, &rx, &senders);
    LOOP_ENDED.store(true, std::sync::atomic::Ordering::SeqCst);
    drop(guard);
    // Cooperative end: cancel, let the saliency and compare threads' channels close, wait a
    // bounded time.
    cancel.store(true, std::sync::atomic::Ordering::SeqCst);
    drop(senders);
    let joined = worker::join_within(vec![jobs, saliency, compare], JOIN_WAIT);
    if let Some(i) = signalled() {
        if !joined {
            eprintln!(
                "background jobs still running after {}s: ending them with the process",
                JOIN_WAIT.as_secs()
            );
        }
        return Err(i.into());
    }
    result?;
    print!(
        "{}",
        crate::run::table::render_rows(&app.state.header.models, &app.state.rows)
    );
    print!("{}", problems::quit_text(&app.state));
    std::io::stdout().flush()?;
    if !joined {
        // The fallback after the bounded wait: a job still inside ONNX Runtime must not see its
        // static destructors run under it, so the process ends without them (`_exit`).
        signal_hook::low_level::exit(0);
    }
    Ok(())
}

fn spawn_input(tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("eclip-input".into())
        .spawn(move || {
            loop {
                let ev = match crossterm::event::read() {
                    Ok(crossterm::event::Event::Key(k)) => Event::Key(k),
                    Ok(crossterm::event::Event::Mouse(m)) => Event::Mouse(m),
                    Ok(crossterm::event::Event::Resize(w, h)) => Event::Resize(w, h),
                    Ok(_) => continue,
                    Err(_) => return,
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

/// How often the clock ticks (status messages expire on ticks).
const TICK: Duration = Duration::from_millis(500);

fn spawn_ticks(tx: Sender<Event>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("eclip-ticks".into())
        .spawn(move || {
            while tx.send(Event::Tick(std::time::Instant::now())).is_ok() {
                std::thread::sleep(TICK);
            }
        })?;
    Ok(())
}

/// Where the run loop sends what an [`Action`] asks for.
struct Senders {
    queries: Sender<worker::QueryMsg>,
    saliency: Sender<event::SaliencyRequest>,
    compare: Sender<event::CompareRequest>,
    events: Sender<Event>,
}

/// Draw, wait for events, apply them all, carry out their actions; until quit.
fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: &Receiver<Event>,
    senders: &Senders,
) -> Result<(), Error> {
    while app.state.running && signalled().is_none() {
        terminal.draw(|f| view::draw(f, &app.state))?;
        let Ok(first) = rx.recv() else {
            return Ok(());
        };
        let mut pending = vec![first];
        // Apply everything already queued before the next frame (progress bursts, fast typing),
        // but never hold a frame back by more than ~30 ms.
        let deadline = std::time::Instant::now() + Duration::from_millis(30);
        while let Ok(ev) = rx.try_recv() {
            pending.push(ev);
            if std::time::Instant::now() > deadline {
                break;
            }
        }
        for ev in pending {
            let action = app.handle(ev);
            perform(action, app, senders);
        }
    }
    Ok(())
}

fn perform(action: Action, app: &App, senders: &Senders) {
    let (queries, tx) = (&senders.queries, &senders.events);
    match action {
        Action::None | Action::Quit => {}
        Action::Query(q) => {
            let _ = queries.send(worker::QueryMsg::Run(q));
        }
        Action::Saliency(r) => {
            let _ = senders.saliency.send(r);
        }
        Action::Compare(r) => {
            let _ = senders.compare.send(r);
        }
        Action::ShareGallery(g) => {
            let _ = queries.send(worker::QueryMsg::SetGallery(g));
        }
        Action::Export(tab) => {
            let table = export::view_table(&app.state, tab);
            let result = std::env::current_dir()
                .map_err(Error::from)
                .and_then(|d| export::write_csv(&d, tab, &table))
                .map_err(|e| worker::error_chain(&e));
            let _ = tx.send(Event::Exported(result));
        }
    }
}

#[cfg(test)]
mod test_fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compare;
#[cfg(test)]
mod tests_navigation;
#[cfg(test)]
mod tests_report_text;
#[cfg(test)]
mod tests_saliency;
