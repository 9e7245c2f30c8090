//! Tests of the whole TUI without a terminal: state-machine tests that feed events through
//! `App::handle`, and insta snapshots of every tab drawn into ratatui's `TestBackend` at 80×24 and
//! 120×40. The data is small and hand-made (two models, six gallery items, d = 3) so every number
//! on screen can be checked by eye; query answers come from the real `worker::answer`.
use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ndarray::{Array2, array};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_image::picker::Picker;

use super::app::{Action, App, Event};
use super::state::*;
use super::worker::{self, QueryKind, QueryReply, Update};
use crate::eval::MetricRow;

fn norm(a: Array2<f32>) -> Array2<f32> {
    let mut a = a;
    for mut r in a.rows_mut() {
        let n = r.dot(&r).sqrt();
        r /= n;
    }
    a
}

fn gallery() -> Gallery {
    let labels = [
        vec!["cardiomegaly"],
        vec!["pleural_effusion"],
        vec![],
        vec!["cardiomegaly", "edema"],
        vec!["pleural_effusion"],
        vec!["edema"],
    ];
    let reports = [
        "The heart is enlarged.",
        "Small left pleural effusion.",
        "No acute cardiopulmonary process.",
        "Cardiomegaly with mild edema.",
        "Right effusion, no pneumothorax.",
        "Interstitial edema.",
    ];
    let items = (0..6)
        .map(|i| GalleryItem {
            row: i,
            image: PathBuf::from(format!("images/img{i:03}.png")),
            heatmap: None,
            report: reports[i].to_string(),
            labels: labels[i].iter().map(|s| s.to_string()).collect(),
        })
        .collect();
    let a_img = norm(array![
        [1.0, 0.1, 0.0],
        [0.0, 1.0, 0.2],
        [0.3, 0.3, 0.3],
        [0.9, 0.0, 0.5],
        [0.1, 0.9, 0.0],
        [0.0, 0.2, 1.0]
    ]);
    let a_txt = norm(array![
        [0.9, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.3, 0.2, 0.4],
        [0.7, 0.1, 0.6],
        [0.0, 1.0, 0.1],
        [0.1, 0.1, 0.9]
    ]);
    let classes = norm(array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
    let b_img = norm(a_img.mapv(|v| v * v + 0.05));
    let b_txt = norm(a_txt.mapv(|v| v + 0.1));
    Gallery {
        items,
        classes: vec![
            "cardiomegaly".into(),
            "pleural_effusion".into(),
            "edema".into(),
        ],
        models: vec![
            GalleryEmbeddings {
                model: "CLIP".into(),
                image: a_img,
                text: a_txt,
                classes: classes.clone(),
            },
            GalleryEmbeddings {
                model: "eCLIP".into(),
                image: b_img,
                text: b_txt,
                classes,
            },
        ],
    }
}

fn thumbs() -> Vec<Option<Thumb>> {
    (0..6u8)
        .map(|i| {
            Some(Thumb {
                width: 6,
                height: 6,
                pixels: (0..36u8)
                    .map(|p| p.wrapping_mul(7).wrapping_add(i * 40))
                    .collect(),
            })
        })
        .collect()
}

fn metric(
    model: &str,
    task: &str,
    setting: &str,
    metric: &str,
    v: f64,
    p: Option<f64>,
) -> MetricRow {
    MetricRow {
        model: model.into(),
        dataset: "cxr-demo".into(),
        task: task.into(),
        setting: setting.into(),
        metric: metric.into(),
        value: Some(v),
        ci_low: Some(v - 0.05),
        ci_high: Some(v + 0.05),
        n: 200,
        p_value: p,
        comparison: model
            .split_once(" - ")
            .map(|(b, a)| crate::eval::rows::Comparison::new(a, b)),
    }
}

fn metrics() -> Vec<MetricRow> {
    let mut rows = Vec::new();
    let spec = [
        ("zeroshot", "argmax", "accuracy", 0.41, 0.52),
        ("zeroshot", "posneg", "auroc_macro", 0.66, 0.71),
        ("retrieval", "image_to_text", "R@1", 0.08, 0.11),
        ("retrieval", "text_to_image", "R@1", 0.07, 0.07),
        ("probe", "frac_0.1", "accuracy", 0.55, 0.53),
        ("geometry", "test", "modality_gap", 0.82, 0.61),
        ("geometry", "test", "alignment", 1.21, 1.02),
        ("geometry", "test", "uniformity_image", -2.31, -2.52),
    ];
    for (task, setting, m, a, b) in spec {
        rows.push(metric("CLIP", task, setting, m, a, None));
        rows.push(metric("eCLIP", task, setting, m, b, None));
        let d = b - a;
        let mut r = metric(
            "eCLIP - CLIP",
            task,
            setting,
            m,
            d,
            Some(if d.abs() > 0.06 { 0.004 } else { 0.41 }),
        );
        // CI excludes zero only for the larger differences.
        let half = if d.abs() > 0.06 { d.abs() / 2.0 } else { 0.05 };
        r.ci_low = Some(d - half);
        r.ci_high = Some(d + half);
        rows.push(r);
    }
    rows
}

fn plots() -> PlotData {
    let fr = vec![0.01, 0.1, 1.0];
    let curve = |m: &str, base: f64| ProbeCurve {
        model: m.into(),
        metric: "accuracy".into(),
        fractions: fr.clone(),
        mean: fr
            .iter()
            .map(|f| base + 0.1 * (f * 10.0f64).log10())
            .collect(),
        min: fr
            .iter()
            .map(|f| base - 0.03 + 0.1 * (f * 10.0f64).log10())
            .collect(),
        max: fr
            .iter()
            .map(|f| base + 0.03 + 0.1 * (f * 10.0f64).log10())
            .collect(),
    };
    let edges: Vec<f64> = (0..=10).map(|i| -0.2 + 0.1 * i as f64).collect();
    let hist = |m: &str, shift: usize| CosineHistogram {
        model: m.into(),
        edges: edges.clone(),
        matched: (0..10)
            .map(|i| if i == 6 + shift.min(3) { 0.5 } else { 0.05 })
            .collect(),
        unmatched: (0..10).map(|i| if i == 3 { 0.5 } else { 0.05 }).collect(),
    };
    let pca = |m: &str, gap: f64| PcaScatter {
        model: m.into(),
        image: (0..12)
            .map(|i| (-gap + 0.1 * (i % 4) as f64, 0.1 * (i / 4) as f64))
            .collect(),
        text: (0..12)
            .map(|i| (gap + 0.1 * (i % 4) as f64, 0.1 * (i / 4) as f64 - 0.1))
            .collect(),
        gap_from: (-gap + 0.15, 0.1),
        gap_to: (gap + 0.15, 0.0),
    };
    let shift = |m: &str, top: f64| GapShiftCurve {
        model: m.into(),
        metric: "zeroshot accuracy".into(),
        shifts: vec![-1.0, -0.5, 0.0, 0.5, 1.0],
        values: vec![top - 0.2, top - 0.05, top, top - 0.08, top - 0.25],
    };
    PlotData {
        probe: vec![curve("CLIP", 0.55), curve("eCLIP", 0.6)],
        histograms: vec![hist("CLIP", 0), hist("eCLIP", 1)],
        pca: vec![pca("CLIP", 0.8), pca("eCLIP", 0.5)],
        gap_shift: vec![shift("CLIP", 0.41), shift("eCLIP", 0.52)],
    }
}

/// RAG results as the RAG job publishes them: items with the real labeler's findings, turned into
/// the view by the real `launch::rag_view` (columns `model · generator`, an LLM failure as error).
fn rag() -> RagView {
    use crate::rag::{ModelRag, RagItem, RagSummary, labeler};
    let item = |row: usize, reference: &str, snippets: &[&str], generated: Result<&str, &str>| {
        let (generated, error) = match generated {
            Ok(g) => (g.to_string(), None),
            Err(e) => (String::new(), Some(e.to_string())),
        };
        RagItem {
            row,
            snippets: snippets.iter().map(|s| s.to_string()).collect(),
            generated_findings: labeler::find(&generated),
            reference_findings: labeler::find(reference),
            generated,
            reference: reference.into(),
            error,
        }
    };
    let r3 = "Cardiomegaly with mild edema.";
    let r4 = "Right effusion, no pneumothorax.";
    let clip3 = [
        "No pleural effusion. The heart is enlarged.",
        "Interstitial edema.",
    ];
    let eclip3 = ["Cardiomegaly with mild edema.", "The heart is enlarged."];
    let snip4 = ["Small left pleural effusion.", "No pneumothorax."];
    let per_model = vec![
        ModelRag {
            model: "CLIP".into(),
            generator: "top1".into(),
            items: vec![
                item(3, r3, &clip3, Ok(clip3[0])),
                item(4, r4, &snip4, Ok(snip4[0])),
            ],
        },
        ModelRag {
            model: "CLIP".into(),
            generator: "llm:mistral".into(),
            items: vec![
                item(
                    3,
                    r3,
                    &clip3,
                    Err("HTTP 503 from http://127.0.0.1:8080 after 3 retries"),
                ),
                item(
                    4,
                    r4,
                    &snip4,
                    Ok("Small pleural effusion. No pneumothorax."),
                ),
            ],
        },
        ModelRag {
            model: "eCLIP".into(),
            generator: "top1".into(),
            items: vec![
                item(3, r3, &eclip3, Ok(eclip3[0])),
                item(4, r4, &snip4, Ok(snip4[0])),
            ],
        },
        ModelRag {
            model: "eCLIP".into(),
            generator: "llm:mistral".into(),
            items: vec![
                item(
                    3,
                    r3,
                    &eclip3,
                    Ok("Enlarged heart. Mild edema, no effusion."),
                ),
                item(
                    4,
                    r4,
                    &snip4,
                    Ok("Right pleural effusion. No pneumothorax."),
                ),
            ],
        },
    ];
    super::launch::rag_view(&RagSummary {
        rows: Vec::new(),
        per_model,
        notes: Vec::new(),
    })
}

#[test]
fn rag_view_groups_generators_and_keeps_findings_and_errors() {
    let v = rag();
    assert_eq!(
        v.models,
        [
            "CLIP · top1",
            "eCLIP · top1",
            "CLIP · llm:mistral",
            "eCLIP · llm:mistral"
        ]
    );
    let failed = &v.items[2][0];
    assert!(failed.generated.is_empty());
    assert!(failed.error.as_deref().unwrap_or("").contains("503"));
    let top1 = &v.items[0][0];
    let neg: Vec<(&str, bool)> = top1
        .generated_findings
        .iter()
        .map(|f| (f.label.as_str(), f.negated))
        .collect();
    assert!(neg.contains(&("pleural_effusion", true)), "{neg:?}");
    assert!(neg.contains(&("cardiomegaly", false)), "{neg:?}");
    let (a, b) = top1.generated_findings[0].span;
    assert!(top1.generated.get(a..b).is_some_and(|t| !t.is_empty()));
}

fn header() -> HeaderInfo {
    HeaderInfo {
        models: vec!["CLIP".into(), "eCLIP".into()],
        dataset: "cxr-demo".into(),
        split: "test".into(),
        provider: "CPU".into(),
        cache: "hit".into(),
    }
}

fn empty_app(size: (u16, u16)) -> App {
    let mut s = AppState::new(header(), Picker::from_fontsize((10, 20)));
    s.size = size;
    App::new(s)
}

/// An app with every result loaded, as after all jobs finished.
fn loaded_app(size: (u16, u16)) -> App {
    let mut app = empty_app(size);
    let g = Arc::new(gallery());
    for ev in [
        Event::JobQueued {
            job: "embed".into(),
        },
        Event::JobFinished {
            job: "embed".into(),
            error: None,
        },
        Event::Update(Update::Gallery(g, thumbs())),
        Event::Update(Update::Metrics(metrics())),
        Event::Update(Update::Plots(plots())),
        Event::Update(Update::Rag(rag())),
    ] {
        app.handle(ev);
    }
    app
}

fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Feeds an event; a query action is answered synchronously by the real query code.
fn drive(app: &mut App, ev: Event) -> Action {
    let action = app.handle(ev);
    if let Action::Query(req) = &action {
        let g = app.state.gallery.clone().expect("gallery loaded");
        let result = worker::answer(&g, req, Some(&mut TestEncoder));
        app.handle(Event::Reply(QueryReply { id: req.id, result }));
    }
    action
}

/// Encodes text by counting keywords: "heart"/"cardio" → axis 0, "effusion" → axis 1, else axis 2.
struct TestEncoder;

impl super::search::PromptEncoder for TestEncoder {
    fn encode(
        &mut self,
        texts: &[String],
    ) -> Result<Vec<Array2<f32>>, Box<dyn std::error::Error + Send + Sync>> {
        let one = |t: &str| {
            let t = t.to_lowercase();
            let v = [
                (t.contains("heart") || t.contains("cardio")) as u8 as f32 + 0.01,
                t.contains("effusion") as u8 as f32 + 0.01,
                t.contains("edema") as u8 as f32 + 0.01,
            ];
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.map(|x| x / n)
        };
        let mut m = Array2::zeros((texts.len(), 3));
        for (i, t) in texts.iter().enumerate() {
            for (j, x) in one(t).iter().enumerate() {
                m[[i, j]] = *x;
            }
        }
        Ok(vec![m.clone(), m])
    }
}

fn render(app: &App) -> TestBackend {
    let (w, h) = app.state.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| super::view::draw(f, &app.state)).expect("draw");
    t.backend().clone()
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        drive(app, key(c));
    }
}

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn snap(name: &str, app: &App) {
    let (w, h) = app.state.size;
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(app));
}

#[test]
fn snapshot_every_tab_loaded() {
    for size in SIZES {
        let mut app = loaded_app(size);
        snap("overview", &app);
        drive(&mut app, key('2'));
        drive(&mut app, key(']'));
        snap("zeroshot_class", &app);
        drive(&mut app, key('/'));
        type_text(&mut app, "enlarged heart");
        drive(&mut app, code(KeyCode::Enter));
        snap("zeroshot_prompt", &app);
        drive(&mut app, code(KeyCode::Enter));
        snap("zeroshot_opened", &app);
        drive(&mut app, key('3'));
        drive(&mut app, key('j'));
        snap("retrieval_image", &app);
        drive(&mut app, key('/'));
        type_text(&mut app, "pleural effusion");
        drive(&mut app, code(KeyCode::Enter));
        snap("retrieval_query", &app);
        drive(&mut app, key('4'));
        snap("probe", &app);
        drive(&mut app, key('5'));
        snap("geometry", &app);
        drive(&mut app, key('6'));
        snap("rag", &app);
        drive(&mut app, key('?'));
        snap("help", &app);
    }
}

#[test]
fn snapshot_every_tab_while_loading() {
    for size in SIZES {
        let mut app = empty_app(size);
        app.handle(Event::JobQueued {
            job: "embed CLIP".into(),
        });
        app.handle(Event::Progress {
            job: "embed CLIP".into(),
            done: 40,
            total: 120,
        });
        let mut screens = String::new();
        for tab in ['1', '2', '3', '4', '5', '6'] {
            app.handle(key(tab));
            screens.push_str(&format!("{}\n", render(&app)));
        }
        let (w, h) = size;
        insta::assert_snapshot!(format!("loading_{w}x{h}"), screens);
    }
}

#[test]
fn tab_keys_cycle_and_digits_jump() {
    let mut app = empty_app((80, 24));
    assert_eq!(app.state.tab, Tab::Overview);
    app.handle(code(KeyCode::Tab));
    assert_eq!(app.state.tab, Tab::ZeroShot);
    app.handle(code(KeyCode::BackTab));
    app.handle(code(KeyCode::BackTab));
    assert_eq!(app.state.tab, Tab::Rag);
    app.handle(key('5'));
    assert_eq!(app.state.tab, Tab::Geometry);
}

#[test]
fn quit_by_q_and_ctrl_c_even_while_typing() {
    let mut app = loaded_app((80, 24));
    assert!(matches!(app.handle(key('q')), Action::Quit));
    assert!(!app.state.running);
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    app.handle(key('/'));
    assert!(
        matches!(app.handle(key('q')), Action::None),
        "q is text while typing"
    );
    assert_eq!(app.state.zeroshot.prompt, "q");
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(matches!(app.handle(ctrl_c), Action::Quit));
}

#[test]
fn typing_edits_the_prompt_and_enter_queries() {
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    app.handle(key('/'));
    assert_eq!(app.state.mode, InputMode::Editing);
    for c in "hearts".chars() {
        app.handle(key(c));
    }
    app.handle(code(KeyCode::Backspace));
    assert_eq!(app.state.zeroshot.prompt, "heart");
    let Action::Query(req) = drive(&mut app, code(KeyCode::Enter)) else {
        panic!("Enter must query");
    };
    assert_eq!(req.kind, QueryKind::PromptToImages("heart".into()));
    assert_eq!(app.state.mode, InputMode::Normal);
    // Both models rank the two cardiomegaly images (0 and 3) first.
    for m in &app.state.zeroshot.results {
        let mut top: Vec<usize> = m.hits[..2].iter().map(|h| h.item).collect();
        top.sort_unstable();
        assert_eq!(top, vec![0, 3], "{}", m.model);
    }
}

#[test]
fn stale_replies_are_ignored() {
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    let Action::Query(first) = app.handle(key(']')) else {
        panic!("class query")
    };
    let Action::Query(second) = app.handle(key(']')) else {
        panic!("class query")
    };
    let g = app.state.gallery.clone().expect("gallery");
    let old = worker::answer(&g, &first, None);
    app.handle(Event::Reply(QueryReply {
        id: first.id,
        result: old,
    }));
    assert!(
        app.state.zeroshot.results.is_empty(),
        "stale answer dropped"
    );
    let new = worker::answer(&g, &second, None);
    app.handle(Event::Reply(QueryReply {
        id: second.id,
        result: new,
    }));
    assert_eq!(app.state.zeroshot.results.len(), 2);
    assert_eq!(app.state.zeroshot.query_label, "class: pleural_effusion");
}

#[test]
fn open_shows_probabilities_and_esc_closes() {
    let mut app = loaded_app((120, 40));
    app.handle(key('2'));
    drive(&mut app, key(']')); // cardiomegaly
    drive(&mut app, code(KeyCode::Enter));
    let opened = app.state.zeroshot.opened.as_ref().expect("opened");
    assert_eq!(opened.probs.len(), 2);
    // image 0 is [1, .1, 0]: cardiomegaly is the most likely class for the first model.
    let p = &opened.probs[0];
    assert!(p[0] > p[1] && p[0] > p[2], "{p:?}");
    app.handle(key('m'));
    assert_eq!(
        app.state.status.as_deref(),
        Some("this image has no heatmap")
    );
    app.handle(code(KeyCode::Esc));
    assert!(app.state.zeroshot.opened.is_none());
}

#[test]
fn retrieval_moves_query_and_mark_ground_truth() {
    let mut app = loaded_app((80, 24));
    app.handle(key('3'));
    drive(&mut app, key('j'));
    assert_eq!(app.state.retrieval.item, 1);
    assert_eq!(app.state.retrieval.truth, Some(1));
    // Item 1's own report is among each model's two best matches in this data, scores descend.
    for m in &app.state.retrieval.results {
        assert!(m.hits[..2].iter().any(|h| h.item == 1), "{}", m.model);
        assert!(m.hits.windows(2).all(|w| w[0].score >= w[1].score));
    }
    drive(&mut app, code(KeyCode::PageDown));
    assert_eq!(app.state.retrieval.item, 5);
    app.handle(key('t'));
    assert_eq!(app.state.retrieval.mode, RetrievalMode::TextToImage);
}

#[test]
fn help_swallows_navigation_until_closed() {
    let mut app = loaded_app((80, 24));
    app.handle(key('?'));
    assert!(app.state.help);
    app.handle(key('3'));
    assert_eq!(app.state.tab, Tab::Overview);
    app.handle(code(KeyCode::Esc));
    assert!(!app.state.help);
}

#[test]
fn overview_refreshes_as_rows_arrive_and_selection_clamps() {
    let mut app = empty_app((80, 24));
    assert!(app.state.overview.lines.is_empty());
    let rows = metrics();
    app.handle(Event::Update(Update::Metrics(rows[..3].to_vec())));
    assert_eq!(app.state.overview.lines.len(), 1);
    app.handle(Event::Update(Update::Metrics(rows[3..].to_vec())));
    assert_eq!(app.state.overview.lines.len(), 8);
    for _ in 0..20 {
        app.handle(key('j'));
    }
    assert_eq!(app.state.overview_pos.selected, 7);
    app.handle(code(KeyCode::PageUp));
    assert_eq!(app.state.overview_pos.selected, 0);
}

#[test]
fn mouse_clicks_tabs_and_rows_and_wheel_scrolls() {
    let mut app = loaded_app((120, 40));
    let click = |x, y| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Tab bar is row 1: " 1 Overview " is 12 wide plus a divider, then " 2 Zero-shot ".
    app.handle(click(16, 1));
    assert_eq!(app.state.tab, Tab::ZeroShot);
    app.handle(click(2, 1));
    assert_eq!(app.state.tab, Tab::Overview);
    // Body starts on row 2; border row 2, table header row 3, first line row 4.
    app.handle(click(10, 6));
    assert_eq!(app.state.overview_pos.selected, 2);
    app.handle(Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.state.overview_pos.selected, 3);
}

#[test]
fn jobs_report_progress_and_failures() {
    let mut app = empty_app((80, 24));
    app.handle(Event::JobQueued {
        job: "probe".into(),
    });
    app.handle(Event::Progress {
        job: "probe".into(),
        done: 3,
        total: 4,
    });
    assert!((app.state.jobs[0].ratio() - 0.75).abs() < 1e-9);
    app.handle(Event::JobFinished {
        job: "probe".into(),
        error: Some("model 'eCLIP': boom".into()),
    });
    assert_eq!(
        app.state.jobs[0].state,
        JobState::Failed("model 'eCLIP': boom".into())
    );
    assert!(
        app.state
            .status
            .as_deref()
            .is_some_and(|s| s.contains("probe failed"))
    );
}

#[test]
fn export_tables_hold_what_the_view_shows() {
    let mut app = loaded_app((80, 24));
    let (h, rows) = super::export::view_table(&app.state, Tab::Overview);
    assert_eq!(h[0], "model");
    assert_eq!(rows.len(), metrics().len());
    app.handle(key('2'));
    drive(&mut app, key(']'));
    let (h, rows) = super::export::view_table(&app.state, Tab::ZeroShot);
    assert_eq!(h[5], "image");
    assert_eq!(
        rows.len(),
        2 * 6,
        "two models × six hits (k = 10 > 6 items)"
    );
    assert!(matches!(
        app.handle(key('e')),
        Action::Export(Tab::ZeroShot)
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = super::export::write_csv(dir.path(), Tab::ZeroShot, &(h, rows)).expect("csv");
    let text = std::fs::read_to_string(path).expect("read back");
    assert!(text.starts_with("query,model,rank,score,item,image,ground_truth\n"));
    assert_eq!(text.lines().count(), 13);
    let (_, probe) = super::export::view_table(&app.state, Tab::Probe);
    assert_eq!(probe.len(), 6);
}

#[test]
fn summary_lists_every_metric_with_deltas() {
    let app = loaded_app((80, 24));
    let text = super::summary::render(&app.state.overview);
    insta::assert_snapshot!("summary", text);
}

#[test]
fn resize_rebuilds_the_opened_image() {
    let mut app = loaded_app((80, 24));
    app.handle(key('2'));
    drive(&mut app, key(']'));
    // No real file behind the fixture paths: the image cannot be read and the view says so.
    drive(&mut app, code(KeyCode::Enter));
    assert!(
        app.state
            .zeroshot
            .opened
            .as_ref()
            .is_some_and(|o| o.image.is_none())
    );
    app.handle(Event::Resize(120, 40));
    assert_eq!(app.state.size, (120, 40));
    let screen = render(&app).to_string();
    assert!(screen.contains("image could not be read"));
}

#[test]
fn overview_fills_in_as_families_finish_and_the_summary_replaces_them() {
    let mut app = empty_app((120, 40));
    app.handle(Event::JobQueued {
        job: "evaluate".into(),
    });
    app.handle(Event::Progress {
        job: "evaluate".into(),
        done: 1,
        total: 11,
    });
    let family = |tasks: &[&str]| -> Vec<MetricRow> {
        metrics()
            .into_iter()
            .filter(|r| tasks.contains(&r.task.as_str()))
            .collect()
    };
    let running = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Zero-shot first, with a value the final summary will correct.
    let mut zeroshot = family(&["zeroshot"]);
    zeroshot[0].value = Some(0.99);
    app.handle(Event::Update(Update::FamilyDone {
        rows: zeroshot,
        running: running(&["retrieval", "geometry"]),
    }));
    assert_eq!(app.state.overview.lines.len(), 2);
    let screen = render(&app).to_string();
    assert!(screen.contains("0.990"), "{screen}");
    assert!(
        screen.contains("still running: retrieval, geometry"),
        "{screen}"
    );
    assert!(!screen.contains("R@1"), "{screen}");

    app.handle(Event::Update(Update::FamilyDone {
        rows: family(&["retrieval"]),
        running: running(&["geometry"]),
    }));
    assert_eq!(app.state.overview.lines.len(), 4);
    let screen = render(&app).to_string();
    assert!(screen.contains("R@1"), "{screen}");
    assert!(screen.contains("still running: geometry"), "{screen}");

    // The final summary: every row once, in its order, the corrected value shown.
    app.handle(Event::Update(Update::Metrics(metrics())));
    assert_eq!(app.state.rows, metrics());
    assert_eq!(app.state.overview.lines.len(), 8);
    assert!(app.state.families_running.is_empty());
    let acc = &app.state.overview.lines[0];
    assert_eq!(
        (acc.task.as_str(), acc.metric.as_str()),
        ("zeroshot", "accuracy")
    );
    assert_eq!(acc.values[0].and_then(|e| e.value), Some(0.41));
    let screen = render(&app).to_string();
    assert!(!screen.contains("still running"), "{screen}");
    assert!(!screen.contains("0.990"), "{screen}");

    // Later rows (RAG) are added, not merged away.
    let rag = metric("CLIP", "rag", "k=3", "bleu", 0.2, None);
    app.handle(Event::Update(Update::Metrics(vec![rag.clone()])));
    assert_eq!(app.state.rows.len(), metrics().len() + 1);
    assert_eq!(app.state.rows.last(), Some(&rag));
}
