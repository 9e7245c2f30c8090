//! Fixtures of the TUI tests: a gallery, metric rows, plot data, a RAG view and apps built from
//! them, plus key/render helpers.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ndarray::{Array2, array};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui_image::picker::Picker;

use super::app::{Action, App, Event};
use super::state::*;
use super::worker::{self, QueryReply, Update};
use crate::eval::MetricRow;

pub(super) fn norm(a: Array2<f32>) -> Array2<f32> {
    let mut a = a;
    for mut r in a.rows_mut() {
        let n = r.dot(&r).sqrt();
        r /= n;
    }
    a
}

pub(super) fn gallery() -> Gallery {
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
        dataset: "cxr-demo".into(),
        split: "test".into(),
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
                logit_scale: Some(14.28),
            },
            GalleryEmbeddings {
                model: "eCLIP".into(),
                image: b_img,
                text: b_txt,
                classes,
                logit_scale: Some(14.28),
            },
        ],
    }
}

pub(super) fn thumbs() -> Vec<Option<Thumb>> {
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

pub(super) fn metric(
    model: &str,
    task: Task,
    setting: Setting,
    metric: &str,
    v: f64,
    p: Option<f64>,
) -> MetricRow {
    MetricRow {
        model: model.into(),
        dataset: "cxr-demo".into(),
        task,
        setting,
        metric: metric.into(),
        value: Some(v),
        ci_low: Some(v - 0.05),
        ci_high: Some(v + 0.05),
        n: 200,
        p_value: p,
        p_adjusted: None,
        adjustment: None,
        p_bootstrap: None,
        positives: None,
        replicates: None,
        comparison: model
            .split_once(" - ")
            .map(|(b, a)| crate::eval::rows::Comparison::new(a, b)),
    }
}

pub(super) fn metrics() -> Vec<MetricRow> {
    let mut rows = Vec::new();
    let spec = [
        (Task::Zeroshot, Setting::Argmax, "accuracy", 0.41, 0.52),
        (Task::Zeroshot, Setting::Posneg, "auroc_macro", 0.66, 0.71),
        (Task::Retrieval, Setting::I2t, "R@1", 0.08, 0.11),
        (Task::Retrieval, Setting::T2i, "R@1", 0.07, 0.07),
        (
            Task::LinearProbe,
            Setting::Fraction(0.5),
            "accuracy",
            0.55,
            0.53,
        ),
        (Task::Geometry, Setting::None, "modality_gap", 0.82, 0.61),
        (Task::Geometry, Setting::None, "alignment", 1.21, 1.02),
        (
            Task::Geometry,
            Setting::None,
            "uniformity_image",
            -2.31,
            -2.52,
        ),
    ];
    for (task, setting, m, a, b) in spec {
        rows.push(metric("CLIP", task, setting.clone(), m, a, None));
        rows.push(metric("eCLIP", task, setting.clone(), m, b, None));
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

/// Linear-probe rows as the suite emits them (task `linear_probe`, setting `fraction=<f>`): the
/// Probe tab's table takes its intervals from them. Means match [`plots`]' curves.
pub(super) fn probe_rows() -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for (f, a, b) in [(0.01, 0.45, 0.5), (0.1, 0.55, 0.6), (1.0, 0.65, 0.7)] {
        let setting = Setting::Fraction(f);
        rows.push(metric(
            "CLIP",
            Task::LinearProbe,
            setting.clone(),
            "accuracy",
            a,
            None,
        ));
        rows.push(metric(
            "eCLIP",
            Task::LinearProbe,
            setting.clone(),
            "accuracy",
            b,
            None,
        ));
        let mut d = metric(
            "eCLIP - CLIP",
            Task::LinearProbe,
            setting.clone(),
            "accuracy",
            b - a,
            Some(0.03),
        );
        d.ci_low = Some(0.01);
        d.ci_high = Some(0.09);
        d.n = 3;
        rows.push(d);
    }
    rows
}

/// A second dataset: the same rows, gallery and plots under another name, with other values.
pub(super) fn second_dataset() -> (Vec<MetricRow>, Gallery, PlotData) {
    let name = "chexpert-5x200";
    let rows = metrics()
        .into_iter()
        .map(|mut r| {
            r.dataset = name.into();
            r.value = r.value.map(|v| v * 0.5);
            r.ci_low = r.ci_low.map(|v| v * 0.5);
            r.ci_high = r.ci_high.map(|v| v * 0.5);
            r
        })
        .collect();
    let mut g = gallery();
    g.dataset = name.into();
    g.items.truncate(4);
    for m in &mut g.models {
        m.image = m.image.slice(ndarray::s![..4, ..]).to_owned();
        m.text = m.text.slice(ndarray::s![..4, ..]).to_owned();
    }
    let mut p = plots();
    p.dataset = name.into();
    (rows, g, p)
}

pub(super) fn plots() -> PlotData {
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
        ci: Vec::new(),
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
        dataset: "cxr-demo".into(),
        probe: vec![curve("CLIP", 0.55), curve("eCLIP", 0.6)],
        histograms: vec![hist("CLIP", 0), hist("eCLIP", 1)],
        pca: vec![pca("CLIP", 0.8), pca("eCLIP", 0.5)],
        gap_shift: vec![shift("CLIP", 0.41), shift("eCLIP", 0.52)],
    }
}

/// RAG results as the RAG job publishes them: items with the real labeler's findings, turned into
/// the view by the real `launch::rag_view` (columns `model · generator`, an LLM failure as error).
pub(super) fn rag() -> RagView {
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
    super::launch::rag_view(
        "cxr-demo",
        &RagSummary {
            rows: Vec::new(),
            per_model,
            notes: Vec::new(),
        },
    )
}

pub(super) fn header() -> HeaderInfo {
    HeaderInfo {
        models: vec!["CLIP".into(), "eCLIP".into()],
        dataset: "cxr-demo".into(),
        split: "test".into(),
        provider: "CPU".into(),
        cache: "hit".into(),
    }
}

pub(super) fn empty_app(size: (u16, u16)) -> App {
    let mut s = AppState::new(header(), Picker::from_fontsize((10, 20)));
    s.size = size;
    App::new(s)
}

/// An app with every result loaded, as after all jobs finished.
pub(super) fn loaded_app(size: (u16, u16)) -> App {
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
        Event::Update(Update::Metrics(probe_rows())),
        Event::Update(Update::Plots(plots())),
        Event::Update(Update::Rag(rag())),
    ] {
        app.handle(ev);
    }
    app
}

pub(super) fn key(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub(super) fn code(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Feeds an event; a query action is answered synchronously by the real query code.
pub(super) fn drive(app: &mut App, ev: Event) -> Action {
    let action = app.handle(ev);
    if let Action::Query(req) = &action {
        let g = app.state.gallery.clone().expect("gallery loaded");
        let result = worker::answer(&g, req, Some(&mut TestEncoder));
        app.handle(Event::Reply(QueryReply { id: req.id, result }));
    }
    action
}

/// Encodes text by counting keywords: "heart"/"cardio" → axis 0, "effusion" → axis 1, else axis 2.
pub(super) struct TestEncoder;

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

pub(super) fn render(app: &App) -> TestBackend {
    let (w, h) = app.state.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| super::view::draw(f, &app.state)).expect("draw");
    t.backend().clone()
}

pub(super) fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        drive(app, key(c));
    }
}
