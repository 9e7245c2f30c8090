/*!
Progress reporting for the embedding pipeline, decoupled from how it is shown: headless runs draw an
`indicatif` bar on stderr when it is a terminal ([`Bar`]) and plain lines otherwise ([`Lines`]:
pipelines and CI logs, at most one line per [`LINE_EVERY`] or per tenth of a stage), the TUI
implements [`Progress`] itself, tests use [`NoProgress`]. [`for_stderr`] picks the headless one.
*/
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Which half of a model is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Images,
    Texts,
}

/// Receives progress from [`super::embed_dataset`] (from the thread that runs ONNX Runtime).
pub trait Progress: Send + Sync {
    /// A stage starts with `total` items still to compute (cache hits are not counted).
    fn start(&self, stage: Stage, model: &str, dataset: &str, total: usize);
    fn advance(&self, n: usize);
    fn finish(&self);
}

/// Shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Stage, _: &str, _: &str, _: usize) {}
    fn advance(&self, _: usize) {}
    fn finish(&self) {}
}

/// A plain progress line at most this often (besides one per tenth of a stage).
pub const LINE_EVERY: Duration = Duration::from_secs(10);

/// The headless progress display: a bar when stderr is a terminal, else plain [`Lines`].
pub fn for_stderr() -> std::sync::Arc<dyn Progress> {
    if std::io::stderr().is_terminal() {
        std::sync::Arc::new(Bar::default())
    } else {
        std::sync::Arc::new(Lines::new(Box::new(std::io::stderr())))
    }
}

/// Plain progress lines (`embed M D images: 320/1000 (32%), 41.2/s, ETA 17s`) for a stderr that is
/// not a terminal: one at the start, one whenever another tenth is done or [`LINE_EVERY`] has
/// passed, and one at the end; never more than 12 per stage plus one per 10 s.
pub struct Lines {
    out: Mutex<Box<dyn Write + Send>>,
    stage: Mutex<Option<LineStage>>,
    every: Duration,
}

struct LineStage {
    label: String,
    total: usize,
    done: usize,
    start: Instant,
    last: Instant,
    tenths: usize,
}

impl Lines {
    pub fn new(out: Box<dyn Write + Send>) -> Lines {
        Lines {
            out: Mutex::new(out),
            stage: Mutex::new(None),
            every: LINE_EVERY,
        }
    }

    fn line(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// `12s`, `3m05s`, `1h02m`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn status(st: &LineStage) -> String {
    let secs = st.start.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        st.done as f64 / secs
    } else {
        0.0
    };
    let pct = 100 * st.done / st.total.max(1);
    let eta = if rate > 0.0 && st.done < st.total {
        human(Duration::from_secs_f64((st.total - st.done) as f64 / rate))
    } else {
        "-".into()
    };
    format!(
        "{}: {}/{} ({pct}%), {rate:.1}/s, ETA {eta}",
        st.label, st.done, st.total
    )
}

impl Progress for Lines {
    fn start(&self, stage: Stage, model: &str, dataset: &str, total: usize) {
        let what = match stage {
            Stage::Images => "images",
            Stage::Texts => "texts",
        };
        let now = Instant::now();
        let st = LineStage {
            label: format!("embed {model} {dataset} {what}"),
            total,
            done: 0,
            start: now,
            last: now,
            tenths: 0,
        };
        if total > 0 {
            self.line(&format!("{}: {total} to compute", st.label));
        }
        *self
            .stage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(st);
    }
    fn advance(&self, n: usize) {
        let mut guard = self
            .stage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(st) = guard.as_mut() else { return };
        st.done += n;
        let tenths = 10 * st.done / st.total.max(1);
        if st.done < st.total && (tenths > st.tenths || st.last.elapsed() >= self.every) {
            st.tenths = tenths;
            st.last = Instant::now();
            let text = status(st);
            drop(guard);
            self.line(&text);
        }
    }
    fn finish(&self) {
        let st = self
            .stage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(st) = st.filter(|s| s.total > 0) {
            self.line(&format!(
                "{} done in {}",
                status(&st),
                human(st.start.elapsed())
            ));
        }
    }
}

/// An `indicatif` bar on stderr (hidden automatically when stderr is not a terminal).
#[derive(Debug, Default)]
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bar {
    fn start(&self, stage: Stage, model: &str, dataset: &str, total: usize) {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{msg:>28} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        let what = match stage {
            Stage::Images => "images",
            Stage::Texts => "texts",
        };
        bar.set_message(format!("{model} {dataset} {what}"));
        *self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bar);
    }
    fn advance(&self, n: usize) {
        if let Some(b) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            b.inc(n as u64);
        }
    }
    fn finish(&self) {
        if let Some(b) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_come_once_per_tenth_with_counts_rate_and_eta() {
        let buf = Shared::default();
        let p = Lines::new(Box::new(buf.clone()));
        p.start(Stage::Images, "CLIP", "demo", 1000);
        for _ in 0..1000 {
            p.advance(1);
        }
        p.finish();
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // start, 9 tenths (10%..90%), the final line.
        assert_eq!(lines.len(), 11, "{text}");
        assert_eq!(lines[0], "embed CLIP demo images: 1000 to compute");
        assert!(
            lines[1].starts_with("embed CLIP demo images: 100/1000 (10%), "),
            "{text}"
        );
        assert!(lines[1].contains("/s, ETA "), "{text}");
        assert!(
            lines[10].contains("1000/1000 (100%)") && lines[10].contains("done in"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_stage_prints_nothing() {
        let buf = Shared::default();
        let p = Lines::new(Box::new(buf.clone()));
        p.start(Stage::Texts, "M", "D", 0);
        p.finish();
        assert!(buf.0.lock().unwrap().is_empty());
        assert_eq!(human(Duration::from_secs(185)), "3m05s");
    }
}
