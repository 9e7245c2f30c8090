/*!
The key table: every binding the TUI knows, as data.

[`BINDINGS`] is read by three things — [`command_for`] (which turns a key press into a
[`Command`] for [`crate::tui::app::App::handle`]), the footer hints and the `?` help overlay — so
what the screen says and what the keys do cannot drift apart.
*/
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::Tab;

/// What a key asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    NextTab,
    PrevTab,
    GoTab(usize),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Search,
    Open,
    Back,
    Help,
    Export,
    ToggleHeatmap,
    ToggleSaliency,
    ToggleProblems,
    PrevClass,
    NextClass,
    ToggleDirection,
}

/// One key as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

impl KeySpec {
    fn matches(&self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match *self {
            KeySpec::Char(c) => !ctrl && key.code == KeyCode::Char(c),
            KeySpec::Ctrl(c) => ctrl && key.code == KeyCode::Char(c),
            KeySpec::Code(code) => key.code == code,
        }
    }
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Tabs(&'static [Tab]),
}

impl Scope {
    pub fn covers(self, tab: Tab) -> bool {
        match self {
            Scope::Global => true,
            Scope::Tabs(tabs) => tabs.contains(&tab),
        }
    }
}

/// A row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [KeySpec],
    /// How the keys are written in hints ("1-6", "↑↓/jk").
    pub label: &'static str,
    pub help: &'static str,
    pub command: Command,
    pub scope: Scope,
    /// Footer hint, if the binding is shown there (the help overlay shows every row).
    pub hint: Option<&'static str>,
}

const SEARCH_TABS: &[Tab] = &[Tab::ZeroShot, Tab::Retrieval];
const COLUMN_TABS: &[Tab] = &[Tab::ZeroShot, Tab::Retrieval];

use KeySpec::{Char, Code, Ctrl};

/// Every binding, in help-overlay order.
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[Char('?')],
        label: "?",
        help: "show / hide this help",
        command: Command::Help,
        scope: Scope::Global,
        hint: Some("help"),
    },
    Binding {
        keys: &[Char('q'), Ctrl('c')],
        label: "q",
        help: "quit (prints a summary table)",
        command: Command::Quit,
        scope: Scope::Global,
        hint: Some("quit"),
    },
    Binding {
        keys: &[Code(KeyCode::Tab)],
        label: "Tab",
        help: "next tab",
        command: Command::NextTab,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[Code(KeyCode::BackTab)],
        label: "S-Tab",
        help: "previous tab",
        command: Command::PrevTab,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[
            Char('1'),
            Char('2'),
            Char('3'),
            Char('4'),
            Char('5'),
            Char('6'),
        ],
        label: "1-6",
        help: "go to tab 1-6",
        command: Command::GoTab(0),
        scope: Scope::Global,
        hint: Some("tabs"),
    },
    Binding {
        keys: &[Code(KeyCode::Up), Char('k')],
        label: "↑/k",
        help: "move up",
        command: Command::Up,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[Code(KeyCode::Down), Char('j')],
        label: "↓/j",
        help: "move down",
        command: Command::Down,
        scope: Scope::Global,
        hint: Some("move"),
    },
    Binding {
        keys: &[Code(KeyCode::Left), Char('h')],
        label: "←/h",
        help: "previous model column",
        command: Command::Left,
        scope: Scope::Tabs(COLUMN_TABS),
        hint: None,
    },
    Binding {
        keys: &[Code(KeyCode::Right), Char('l')],
        label: "→/l",
        help: "next model column",
        command: Command::Right,
        scope: Scope::Tabs(COLUMN_TABS),
        hint: None,
    },
    Binding {
        keys: &[Code(KeyCode::PageUp)],
        label: "PgUp",
        help: "page up",
        command: Command::PageUp,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[Code(KeyCode::PageDown)],
        label: "PgDn",
        help: "page down",
        command: Command::PageDown,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[Char('/')],
        label: "/",
        help: "type a prompt / query (Enter runs it, Esc cancels)",
        command: Command::Search,
        scope: Scope::Tabs(SEARCH_TABS),
        hint: Some("prompt"),
    },
    Binding {
        keys: &[Char('['), Char(']')],
        label: "[ ]",
        help: "previous / next class as the query",
        command: Command::NextClass,
        scope: Scope::Tabs(&[Tab::ZeroShot]),
        hint: Some("class"),
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        label: "Enter",
        help: "open the selected image (class probabilities of every model)",
        command: Command::Open,
        scope: Scope::Tabs(&[Tab::ZeroShot]),
        hint: Some("open"),
    },
    Binding {
        keys: &[Char('m')],
        label: "m",
        help: "toggle the expert heatmap overlay on an opened image",
        command: Command::ToggleHeatmap,
        scope: Scope::Tabs(&[Tab::ZeroShot]),
        hint: None,
    },
    Binding {
        keys: &[Char('s')],
        label: "s",
        help: "each model's saliency beside the expert heatmap, with scores",
        command: Command::ToggleSaliency,
        scope: Scope::Tabs(&[Tab::ZeroShot]),
        hint: None,
    },
    Binding {
        keys: &[Char('!')],
        label: "!",
        help: "problems: load errors, skipped rows, cache rebuilds",
        command: Command::ToggleProblems,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[Char('t')],
        label: "t",
        help: "switch image→report / query→image",
        command: Command::ToggleDirection,
        scope: Scope::Tabs(&[Tab::Retrieval]),
        hint: Some("direction"),
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        label: "Esc",
        help: "back (close image, help or prompt)",
        command: Command::Back,
        scope: Scope::Global,
        hint: None,
    },
    Binding {
        keys: &[Char('e')],
        label: "e",
        help: "export this view's data to CSV in the current folder",
        command: Command::Export,
        scope: Scope::Global,
        hint: Some("export CSV"),
    },
];

/// The command a key press means on `tab`, if any.
pub fn command_for(key: &KeyEvent, tab: Tab) -> Option<Command> {
    BINDINGS
        .iter()
        .filter(|b| b.scope.covers(tab))
        .find_map(|b| {
            let pos = b.keys.iter().position(|k| k.matches(key))?;
            Some(match b.command {
                Command::GoTab(_) => Command::GoTab(pos),
                Command::NextClass if b.keys[pos] == Char('[') => Command::PrevClass,
                c => c,
            })
        })
}

/// Footer hints for `tab`: (keys, hint).
pub fn footer_hints(tab: Tab) -> Vec<(&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.scope.covers(tab))
        .filter_map(|b| Some((b.label, b.hint?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn digits_map_to_tabs_and_ctrl_c_quits() {
        assert_eq!(
            command_for(&key(KeyCode::Char('4')), Tab::Overview),
            Some(Command::GoTab(3))
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(command_for(&ctrl_c, Tab::Rag), Some(Command::Quit));
        assert_eq!(
            command_for(&key(KeyCode::Char('[')), Tab::ZeroShot),
            Some(Command::PrevClass)
        );
    }

    #[test]
    fn scoped_keys_do_nothing_elsewhere() {
        assert_eq!(command_for(&key(KeyCode::Char('/')), Tab::Overview), None);
        assert_eq!(
            command_for(&key(KeyCode::Char('/')), Tab::Retrieval),
            Some(Command::Search)
        );
        assert_eq!(command_for(&key(KeyCode::Char('t')), Tab::ZeroShot), None);
    }

    #[test]
    fn every_key_is_bound_once_per_tab() {
        for tab in Tab::ALL {
            let mut seen = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.scope.covers(tab)) {
                for k in b.keys {
                    assert!(!seen.contains(k), "{k:?} bound twice on {tab:?}");
                    seen.push(*k);
                }
            }
        }
    }

    #[test]
    fn footer_hints_are_short() {
        let hints = footer_hints(Tab::ZeroShot);
        assert!(hints.contains(&("/", "prompt")));
        assert!(hints.iter().all(|(_, h)| h.len() <= 16), "{hints:?}");
    }
}
