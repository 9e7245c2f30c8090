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
    /// Zero-shot, opened image: each model's saliency beside the expert heatmap.
    ToggleSaliency,
    /// The problems panel (load errors, skipped rows, cache rebuilds, failed jobs).
    ToggleProblems,
    PrevClass,
    NextClass,
    ToggleDirection,
    /// Open a chooser: dataset, split (live queries), baseline or candidate model.
    ChooseDataset,
    ChooseSplit,
    ChooseBaseline,
    ChooseCandidate,
    /// Overview: next sort order (family → |Δ| → adjusted p).
    CycleSort,
    /// Overview: only significantly better/worse lines.
    ToggleSignificant,
    /// The full text of the report(s) under the cursor (Zero-shot, Retrieval, RAG).
    ReadReport,
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

const QUERY_TABS: &[Tab] = &[Tab::ZeroShot, Tab::Retrieval];
const COLUMN_TABS: &[Tab] = &[Tab::ZeroShot, Tab::Retrieval];
const OVERVIEW: &[Tab] = &[Tab::Overview];
const REPORT_TABS: &[Tab] = &[Tab::ZeroShot, Tab::Retrieval, Tab::Rag];

use KeySpec::{Char, Code, Ctrl};

const fn global(
    keys: &'static [KeySpec],
    label: &'static str,
    help: &'static str,
    command: Command,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        keys,
        label,
        help,
        command,
        scope: Scope::Global,
        hint,
    }
}

const fn on(
    tabs: &'static [Tab],
    keys: &'static [KeySpec],
    label: &'static str,
    help: &'static str,
    command: Command,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        keys,
        label,
        help,
        command,
        scope: Scope::Tabs(tabs),
        hint,
    }
}

/// Every binding, in help-overlay order. Help texts stay short: the overlay shows them in two
/// columns on an 80×24 terminal.
pub const BINDINGS: &[Binding] = &[
    global(
        &[Char('?')],
        "?",
        "show / hide this help",
        Command::Help,
        Some("help"),
    ),
    global(
        &[Char('q'), Ctrl('c')],
        "q",
        "quit (prints the summary table)",
        Command::Quit,
        Some("quit"),
    ),
    global(
        &[Code(KeyCode::Tab)],
        "Tab",
        "next tab",
        Command::NextTab,
        None,
    ),
    global(
        &[Code(KeyCode::BackTab)],
        "S-Tab",
        "previous tab",
        Command::PrevTab,
        None,
    ),
    global(
        &[
            Char('1'),
            Char('2'),
            Char('3'),
            Char('4'),
            Char('5'),
            Char('6'),
        ],
        "1-6",
        "go to tab 1-6",
        Command::GoTab(0),
        Some("tabs"),
    ),
    global(
        &[Code(KeyCode::Up), Char('k')],
        "↑/k",
        "move up",
        Command::Up,
        None,
    ),
    global(
        &[Code(KeyCode::Down), Char('j')],
        "↓/j",
        "move down / scroll",
        Command::Down,
        None,
    ),
    on(
        COLUMN_TABS,
        &[Code(KeyCode::Left), Char('h')],
        "←/h",
        "previous model column",
        Command::Left,
        None,
    ),
    on(
        COLUMN_TABS,
        &[Code(KeyCode::Right), Char('l')],
        "→/l",
        "next model column",
        Command::Right,
        None,
    ),
    global(
        &[Code(KeyCode::PageUp)],
        "PgUp",
        "page up",
        Command::PageUp,
        None,
    ),
    global(
        &[Code(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Command::PageDown,
        None,
    ),
    global(
        &[Char('d')],
        "d",
        "choose the dataset",
        Command::ChooseDataset,
        Some("data"),
    ),
    global(
        &[Char('s')],
        "s",
        "choose the split of live queries",
        Command::ChooseSplit,
        None,
    ),
    global(
        &[Char('b')],
        "b",
        "choose the baseline model (A)",
        Command::ChooseBaseline,
        Some("base"),
    ),
    global(
        &[Char('c')],
        "c",
        "choose the candidate model (B)",
        Command::ChooseCandidate,
        None,
    ),
    on(
        OVERVIEW,
        &[Char('/')],
        "/",
        "filter metric names, Enter keeps",
        Command::Search,
        Some("filter"),
    ),
    on(
        OVERVIEW,
        &[Char('o')],
        "o",
        "sort: family, |Δ|, adjusted p",
        Command::CycleSort,
        Some("sort"),
    ),
    on(
        OVERVIEW,
        &[Char('f')],
        "f",
        "significant lines only / all",
        Command::ToggleSignificant,
        Some("signif."),
    ),
    on(
        QUERY_TABS,
        &[Char('/')],
        "/",
        "type a prompt / query, Enter runs",
        Command::Search,
        Some("query"),
    ),
    on(
        &[Tab::ZeroShot],
        &[Char('['), Char(']')],
        "[ ]",
        "previous / next class as query",
        Command::NextClass,
        Some("class"),
    ),
    on(
        &[Tab::ZeroShot],
        &[Code(KeyCode::Enter)],
        "Enter",
        "open image: class probabilities",
        Command::Open,
        Some("open"),
    ),
    on(
        &[Tab::Retrieval],
        &[Code(KeyCode::Enter)],
        "Enter",
        "open item: report, rank per model",
        Command::Open,
        Some("open"),
    ),
    on(
        &[Tab::ZeroShot],
        &[Char('m')],
        "m",
        "heatmap overlay (opened image)",
        Command::ToggleHeatmap,
        None,
    ),
    on(
        &[Tab::ZeroShot],
        &[Char('v')],
        "v",
        "saliency vs expert (opened image)",
        Command::ToggleSaliency,
        None,
    ),
    on(
        REPORT_TABS,
        &[Char('r')],
        "r",
        "full text of the report(s)",
        Command::ReadReport,
        Some("full text"),
    ),
    global(
        &[Char('!')],
        "!",
        "problems: errors, skipped rows",
        Command::ToggleProblems,
        None,
    ),
    on(
        &[Tab::Retrieval],
        &[Char('t')],
        "t",
        "image→report / query→image",
        Command::ToggleDirection,
        Some("direction"),
    ),
    global(
        &[Code(KeyCode::Esc)],
        "Esc",
        "back: close item, help, chooser",
        Command::Back,
        None,
    ),
    global(
        &[Char('e')],
        "e",
        "export this view's data to CSV",
        Command::Export,
        Some("export"),
    ),
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

/// Footer hints for `tab`, most useful first: help, then the tab's own keys, then the other
/// global ones (the footer drops hints from the end when the terminal is narrow).
pub fn footer_hints(tab: Tab) -> Vec<(&'static str, &'static str)> {
    let hinted = |b: &&Binding| b.scope.covers(tab) && b.hint.is_some();
    let help = BINDINGS.iter().filter(|b| b.command == Command::Help);
    let own = BINDINGS
        .iter()
        .filter(|b| matches!(b.scope, Scope::Tabs(_)));
    let rest = BINDINGS
        .iter()
        .filter(|b| b.scope == Scope::Global && b.command != Command::Help);
    help.chain(own)
        .chain(rest)
        .filter(hinted)
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
        assert_eq!(command_for(&key(KeyCode::Char('/')), Tab::Rag), None);
        assert_eq!(command_for(&key(KeyCode::Char('o')), Tab::ZeroShot), None);
        assert_eq!(
            command_for(&key(KeyCode::Char('o')), Tab::Overview),
            Some(Command::CycleSort)
        );
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
        assert!(hints.contains(&("/", "query")));
        assert_eq!(hints[0], ("?", "help"));
        assert_eq!(hints[1], ("/", "query"), "the tab's own keys come next");
        assert!(
            BINDINGS.iter().all(|b| b.help.chars().count() <= 33),
            "help texts fit the two-column overlay at 80 columns"
        );
        assert!(hints.iter().all(|(_, h)| h.len() <= 16), "{hints:?}");
    }
}
