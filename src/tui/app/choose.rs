/*!
The popup choosers (`d` dataset, `s` split, `b` baseline, `c` candidate): opening one, its keys,
and applying a choice to the state.
*/
use crossterm::event::KeyEvent;

use super::{Action, App};
use crate::tui::compare_job::{self, PendingCompare};
use crate::tui::event::CompareReply;
use crate::tui::state::{AppState, Chooser, ChooserKind, OverviewTable};

impl App {
    /// Opens a chooser of `kind` with the current choice highlighted.
    pub(super) fn open_chooser(&mut self, kind: ChooserKind) {
        let s = &mut self.state;
        let (options, current): (Vec<String>, &str) = match kind {
            ChooserKind::Dataset => (s.datasets.clone(), &s.header.dataset),
            ChooserKind::Split => (
                s.galleries
                    .iter()
                    .filter(|e| e.gallery.dataset == s.header.dataset)
                    .map(|e| e.gallery.split.clone())
                    .collect(),
                &s.header.split,
            ),
            ChooserKind::Baseline => (s.overview.models.clone(), &s.baseline),
            ChooserKind::Candidate => (s.overview.models.clone(), &s.candidate),
        };
        if options.is_empty() {
            s.say(format!("no {} to choose yet", kind.title()));
            return;
        }
        let selected = options.iter().position(|o| o == current).unwrap_or(0);
        s.chooser = Some(Chooser {
            kind,
            options,
            selected,
        });
    }

    pub(super) fn on_chooser_key(&mut self, key: KeyEvent) -> Action {
        use crossterm::event::KeyCode;
        let Some(ch) = self.state.chooser.as_mut() else {
            return Action::None;
        };
        let n = ch.options.len();
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => ch.selected = ch.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => ch.selected = (ch.selected + 1).min(n - 1),
            KeyCode::Esc | KeyCode::Char('q') => self.state.chooser = None,
            KeyCode::Enter => {
                let (kind, choice) = (ch.kind, ch.options[ch.selected].clone());
                self.state.chooser = None;
                return self.choose(kind, choice);
            }
            _ => {}
        }
        Action::None
    }

    /// Applies a choice: the dataset or split shown, or one side of the compared pair (choosing
    /// the other side's model swaps the two).
    pub(super) fn choose(&mut self, kind: ChooserKind, choice: String) -> Action {
        let s = &mut self.state;
        match kind {
            ChooserKind::Dataset => {
                if s.header.dataset != choice {
                    s.header.dataset = choice;
                    s.overview_tab.pos.selected = 0;
                }
            }
            ChooserKind::Split => s.header.split = choice,
            ChooserKind::Baseline => {
                if s.candidate == choice {
                    s.candidate = s.baseline.clone();
                }
                s.baseline = choice;
            }
            ChooserKind::Candidate => {
                if s.baseline == choice {
                    s.baseline = s.candidate.clone();
                }
                s.candidate = choice;
            }
        }
        match self.reselect() {
            Action::None => self.ask_compare(),
            other => other,
        }
    }

    /// Asks the compare thread for the chosen pair's rows when the run has none
    /// ([`compare_job::request`]); says so on the status line.
    pub(super) fn ask_compare(&mut self) -> Action {
        let s = &mut self.state;
        let Some(req) = compare_job::request(s, s.next_query) else {
            return Action::None;
        };
        s.next_query += 1;
        let pending = PendingCompare {
            request: req.clone(),
            failed: None,
        };
        s.say(pending.describe());
        s.compare = Some(pending);
        Action::Compare(req)
    }

    /// The compare thread's answer: its rows join the run's (only if it answers the pending
    /// request; a newer choice dropped older ones), or the failure is kept and shown.
    pub(super) fn on_compared(&mut self, reply: CompareReply) -> Action {
        let s = &mut self.state;
        let Some(p) = s.compare.as_mut().filter(|p| p.request.id == reply.id) else {
            return Action::None;
        };
        match reply.result {
            Ok(rows) => {
                let label = format!("Δ {}−{}", p.request.candidate, p.request.baseline);
                s.compare = None;
                s.say(if rows.is_empty() {
                    format!("{label}: the suite gave no comparison rows for this pair")
                } else {
                    format!("{label}: {} comparison rows computed", rows.len())
                });
                super::merge_rows(&mut s.rows, rows);
                s.overview = OverviewTable::from_rows(&s.header.models, &s.rows);
                self.reselect()
            }
            Err(e) => {
                p.failed = Some(e);
                let line = p.describe();
                s.say(line);
                Action::None
            }
        }
    }
}

/// When the chosen pair has no comparison in the run but the run has comparisons (replicate groups:
/// the run compares the groups, e.g. `eCLIP - CLIP`, not `CLIP#1 - CLIP#0`), choose the run's first
/// comparison, so the first screen shows the verdicts the review shows.
pub(super) fn default_pair(s: &mut AppState) {
    if s.overview.pair(&s.baseline, &s.candidate).is_some() {
        return;
    }
    if let Some(c) = s.overview.pairs.first() {
        s.baseline = c.baseline.clone();
        s.candidate = c.candidate.clone();
    }
}
