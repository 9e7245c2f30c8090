/*!
RAG tab: for the selected query image (↑/↓), one column per `model · generator` with the generated
report (or why it failed), the ground-truth report and the retrieved snippets — in that order, so the
reports stay on screen — with the labeler's findings highlighted (positive findings bold yellow,
negated ones blue italic) so agreement and misses stand out.
*/
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::theme::Theme;
use super::{model_columns, placeholder};
use crate::tui::state::{AppState, FindingView, RagItemView};

/// Splits `text` into spans, styling the findings' byte ranges (out-of-range or overlapping spans
/// and spans not on character boundaries are ignored).
pub fn highlight<'a>(text: &'a str, findings: &[FindingView]) -> Vec<Span<'a>> {
    let mut f: Vec<&FindingView> = findings.iter().collect();
    f.sort_by_key(|x| x.span.0);
    let mut out = Vec::new();
    let mut at = 0;
    for x in f {
        let (a, b) = x.span;
        if a < at
            || b > text.len()
            || a >= b
            || !text.is_char_boundary(a)
            || !text.is_char_boundary(b)
        {
            continue;
        }
        if a > at {
            out.push(Span::raw(&text[at..a]));
        }
        let style = if x.negated {
            Theme::NEGATED
        } else {
            Theme::FINDING
        };
        out.push(Span::styled(&text[a..b], style));
        at = b;
    }
    if at < text.len() {
        out.push(Span::raw(&text[at..]));
    }
    out
}

fn labels(findings: &[FindingView]) -> String {
    let mut pos: Vec<&str> = findings
        .iter()
        .filter(|f| !f.negated)
        .map(|f| f.label.as_str())
        .collect();
    pos.sort_unstable();
    pos.dedup();
    if pos.is_empty() {
        "none".into()
    } else {
        pos.join(", ")
    }
}

fn draw_item(frame: &mut Frame<'_>, area: Rect, i: usize, model: &str, item: &RagItemView) {
    // Generated and ground truth first: long snippets must not push them off a small screen.
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "generated (findings: {}):",
            labels(&item.generated_findings)
        ),
        Theme::HEADER_ROW,
    ))];
    lines.push(match &item.error {
        Some(e) => Line::from(Span::styled(format!("not generated: {e}"), Theme::ERROR)),
        None => Line::from(highlight(&item.generated, &item.generated_findings)),
    });
    lines.push(Line::from(Span::styled(
        format!(
            "ground truth (findings: {}):",
            labels(&item.reference_findings)
        ),
        Theme::TRUTH,
    )));
    lines.push(Line::from(highlight(
        &item.reference,
        &item.reference_findings,
    )));
    lines.push(Line::from(Span::styled("retrieved:", Theme::HEADER_ROW)));
    for (k, s) in item.snippets.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::styled(format!("{}. ", k + 1), Theme::DIM),
            Span::styled(s.clone(), Theme::DIM),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(Theme::model(i))
                .title(Span::styled(format!(" {model} "), Theme::model(i))),
        ),
        area,
    );
}

/// The narrowest readable RAG column: narrower panes wrap reports into slivers.
const MIN_COL: u16 = 30;

/// Which `model · generator` columns fit in `width`: all of them when they do, else the chosen
/// pair's first (the baseline's and candidate's alternately, replicates `name#i` included), then
/// the others in order, as many as fit; returned in column order.
pub fn shown_columns(models: &[String], baseline: &str, candidate: &str, width: u16) -> Vec<usize> {
    let fit = usize::from((width / MIN_COL).max(1));
    if models.len() <= fit {
        return (0..models.len()).collect();
    }
    let of = |subject: &str, m: &str| {
        let name = m.split(" · ").next().unwrap_or(m);
        name == subject
            || name
                .strip_prefix(subject)
                .is_some_and(|rest| rest.starts_with('#'))
    };
    let a: Vec<usize> = (0..models.len())
        .filter(|&i| of(baseline, &models[i]))
        .collect();
    let b: Vec<usize> = (0..models.len())
        .filter(|&i| of(candidate, &models[i]) && !a.contains(&i))
        .collect();
    // Baseline and candidate alternate, so both sides of the pair are on screen.
    let mut shown: Vec<usize> = Vec::new();
    for k in 0..a.len().max(b.len()) {
        shown.extend(a.get(k));
        shown.extend(b.get(k));
    }
    shown.extend((0..models.len()).filter(|i| !a.contains(i) && !b.contains(i)));
    shown.truncate(fit);
    shown.sort_unstable();
    shown
}

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &AppState) {
    let rag = &state.rag;
    let n = rag.items.first().map_or(0, Vec::len);
    if n == 0 {
        placeholder(
            frame,
            area,
            &crate::tui::problems::placeholder_text(
                state,
                "rag",
                "No RAG results yet: retrieval-augmented reports appear when the RAG job finishes.",
            ),
        );
        return;
    }
    let sel = state.rag_pos.selected.min(n - 1);
    let [top, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let row = rag.items[0][sel].row;
    let shown = shown_columns(&rag.models, &state.baseline, &state.candidate, body.width);
    let mut header = vec![
        Span::styled(format!(" query {}/{n} ", sel + 1), Theme::KEY),
        Span::styled(format!(" dataset row {row} · ↑↓ next query",), Theme::DIM),
        Span::styled("  finding", Theme::FINDING),
        Span::raw(" "),
        Span::styled("negated", Theme::NEGATED),
    ];
    if shown.len() < rag.models.len() {
        // Short enough for 80 columns; the help names the pair keys.
        header.push(Span::styled(
            format!("  {}/{} cols: b/c pair", shown.len(), rag.models.len()),
            Theme::DIM,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(header)).style(Style::new()), top);
    for (col, &i) in model_columns(body, shown.len()).into_iter().zip(&shown) {
        if let Some(item) = rag.items[i].get(sel) {
            draw_item(frame, col, i, &rag.models[i], item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_screens_show_the_chosen_pairs_columns_first() {
        let models: Vec<String> = ["CLIP", "eCLIP#0", "eCLIP#1", "CLIP1"]
            .iter()
            .flat_map(|m| ["top1", "llm"].map(|g| format!("{m} · {g}")))
            .collect();
        // 100 columns hold three; the pair CLIP vs eCLIP alternates: CLIP top1, eCLIP#0 top1,
        // CLIP llm.
        assert_eq!(shown_columns(&models, "CLIP", "eCLIP", 100), [0, 1, 2]);
        assert_eq!(shown_columns(&models, "CLIP1", "eCLIP", 100), [2, 6, 7]);
        // Replicate groups on both sides: one replicate of each before the second of either.
        let reps: Vec<String> = ["A#0", "A#1", "B#0", "B#1"]
            .iter()
            .map(|m| format!("{m} · top1"))
            .collect();
        assert_eq!(shown_columns(&reps, "A", "B", 60), [0, 2]);
        assert_eq!(
            shown_columns(&models, "CLIP1", "eCLIP", 260),
            (0..8).collect::<Vec<_>>()
        );
        assert_eq!(shown_columns(&models, "X", "Y", 20), [0], "at least one");
    }

    #[test]
    fn highlight_splits_on_findings_and_skips_bad_spans() {
        let f = |a, b, neg| FindingView {
            label: "x".into(),
            negated: neg,
            span: (a, b),
        };
        let text = "no effusion. cardiomegaly.";
        let spans = highlight(text, &[f(13, 25, false), f(3, 11, true), f(20, 99, false)]);
        let parts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(parts, vec!["no ", "effusion", ". ", "cardiomegaly", "."]);
        assert_eq!(spans[1].style, Theme::NEGATED);
        assert_eq!(spans[3].style, Theme::FINDING);
    }
}
