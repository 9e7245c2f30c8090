/*!
Signals: SIGINT, SIGTERM and SIGHUP stop a run cleanly instead of killing it mid-write
(docs/limits.md "Signals").

- Headless (`--report`, `embed`, `summary`): [`Interrupts::install`] makes the first signal set the
  embedding pipeline's cancel flag, so the run stops after the batch in flight (every finished batch
  is already a whole cache chunk), and the evaluation polls the same flag (the report keeps the
  datasets fully evaluated); the binary then prints how to resume (rerun the same command) and
  exits with [`Interrupted::exit_code`], 128 + the signal number (130 for SIGINT, 143 for SIGTERM,
  129 for SIGHUP). A second signal of the same kind kills at once (the default action).
- The TUI ([`watch`]) gets the signal on a thread of its own, which asks the UI loop to quit (the
  loop then cancels and joins its jobs) and restores the terminal itself if the loop has not ended
  within a grace period.

Built on `signal-hook` (no unsafe code here). This module imports no other crate module.
*/
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signals that stop a run.
pub(crate) const SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// A run stopped by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "interrupted by {}: stopped after the batch in flight; every finished batch is in the embedding cache. Rerun the same command to resume (cached embeddings are reused, nothing finished is computed again)",
    signal_name(*signal)
)]
pub struct Interrupted {
    pub signal: i32,
}

impl Interrupted {
    /// 128 + the signal number, the shell's convention (130 for SIGINT).
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(u8::MAX)
    }
}

/// `SIGINT`, `SIGTERM`, `SIGHUP` or `signal N`.
pub(crate) fn signal_name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

/// Headless signal handling: the cancel flag the embedding pipeline polls, and which signal set it.
#[derive(Debug, Clone, Default)]
pub struct Interrupts {
    /// Set by the first signal; hand it to `EmbedOptions::cancel` and the report run.
    pub cancel: Arc<AtomicBool>,
    received: Arc<AtomicUsize>,
}

impl Interrupts {
    /// Registers SIGINT, SIGTERM and SIGHUP: the first sets [`Interrupts::cancel`], a second one
    /// while it is set takes the default action (the process ends at once).
    pub fn install() -> std::io::Result<Interrupts> {
        let me = Interrupts::default();
        for sig in SIGNALS {
            signal_hook::flag::register_conditional_default(sig, me.cancel.clone())?;
            signal_hook::flag::register_usize(sig, me.received.clone(), sig as usize)?;
            signal_hook::flag::register(sig, me.cancel.clone())?;
        }
        Ok(me)
    }

    /// The signal that stopped the run, if one did.
    pub(crate) fn interrupted(&self) -> Option<Interrupted> {
        if !self.cancel.load(Ordering::Relaxed) {
            return None;
        }
        let signal = match self.received.load(Ordering::Relaxed) {
            0 => SIGINT,
            n => i32::try_from(n).unwrap_or(SIGINT),
        };
        Some(Interrupted { signal })
    }

    /// `Err` when a signal arrived: for the checkpoints of a run.
    pub fn check(&self) -> Result<(), Interrupted> {
        self.interrupted().map_or(Ok(()), Err)
    }
}

/// Calls `on_signal` on a background thread for every SIGINT, SIGTERM or SIGHUP (the TUI's hook).
pub(crate) fn watch(on_signal: impl Fn(i32) + Send + 'static) -> std::io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new(SIGNALS)?;
    std::thread::Builder::new()
        .name("eclip-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                on_signal(sig);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Interrupted { signal: SIGINT }.exit_code(), 130);
        assert_eq!(Interrupted { signal: SIGTERM }.exit_code(), 143);
        assert_eq!(Interrupted { signal: SIGHUP }.exit_code(), 129);
        let m = Interrupted { signal: SIGTERM }.to_string();
        assert!(
            m.contains("SIGTERM") && m.contains("Rerun the same command"),
            "{m}"
        );
    }

    #[test]
    fn no_signal_no_interruption() {
        let i = Interrupts::default();
        assert_eq!(i.interrupted(), None);
        i.cancel.store(true, Ordering::Relaxed);
        assert_eq!(i.check(), Err(Interrupted { signal: SIGINT }));
    }
}
