/*!
Colours and styles in one place: one colour per model (the same in every tab), better/worse
colours for deltas, and the chrome styles.
*/
use ratatui::style::{Color, Modifier, Style};

use crate::tui::state::Verdict;

pub struct Theme;

impl Theme {
    pub const TITLE: Style = Style::new().fg(Color::Black).bg(Color::Cyan);
    pub const DIM: Style = Style::new().fg(Color::DarkGray);
    pub const KEY: Style = Style::new().fg(Color::Black).bg(Color::Gray);
    pub const SELECTED_TAB: Style = Style::new()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
        .add_modifier(Modifier::REVERSED);
    pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
    pub const GAUGE: Style = Style::new().fg(Color::Cyan);
    pub const HEADER_ROW: Style = Style::new().add_modifier(Modifier::BOLD);
    pub const TRUTH: Style = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
    pub const FINDING: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    pub const NEGATED: Style = Style::new().fg(Color::Blue).add_modifier(Modifier::ITALIC);
    /// A failed item (e.g. an LLM call that gave no report).
    pub const ERROR: Style = Style::new().fg(Color::Red);
    /// Image-side points / series in plots.
    pub const IMAGE: Color = Color::Cyan;
    /// Text-side points / series in plots.
    pub const TEXT: Color = Color::Magenta;

    const MODELS: [Color; 4] = [Color::Cyan, Color::Magenta, Color::Yellow, Color::Green];

    /// The colour of model `i`.
    pub fn model_color(i: usize) -> Color {
        Self::MODELS[i % Self::MODELS.len()]
    }

    pub fn model(i: usize) -> Style {
        Style::new().fg(Self::model_color(i))
    }

    pub fn verdict(v: Verdict) -> Style {
        match v {
            Verdict::Better => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            Verdict::Worse => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Verdict::TooFewItems | Verdict::ReplicatesDisagree => {
                Style::new().add_modifier(Modifier::DIM)
            }
            Verdict::NoDifference | Verdict::NotJudged => Style::new(),
        }
    }
}
