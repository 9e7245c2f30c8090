//! The saliency view (`v`, issue 16) and the problems panel (`!`, issue 13) without a terminal:
//! state-machine tests through `App::handle` and insta snapshots at 80×24 and 120×40.
//!
//! Saliency data is small and computed, not typed in: a 32×32 image and a heatmap with one blob
//! in the upper left are written to a temp folder; the saliency "models" are closed-form encoders
//! on a 16×16 grid (model A looks at the upper-left quadrant, model B at the lower-left one), run
//! through the real occlusion code (`crate::saliency::occlusion`), scored by the real
//! `eval::saliency::agreement` and turned into the view by the real `saliency_job::build_view`.
//! So model A must agree with the heatmap better than B (higher CC and SIM, lower KL).
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crossterm::event::KeyCode;
use ndarray::Array2;
use ratatui::style::Color;

use super::app::{Action, App, Event};
use super::event::{SaliencyReply, SaliencyRequest};
use super::saliency_job::{SaliencyEngine, build_view, gray_image};
use super::state::*;
use super::test_fixtures::*;
use crate::eval::saliency::{agreement, local_maxima};
use crate::model::ModelError;
use crate::run::saliency::ImageMap;
use crate::saliency::grid::{heatmap_on_grid, load_heatmap};
use crate::saliency::{ImageEncoder, occlusion};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];
const GRID: usize = 16;

/// Closed-form encoder on a 1 × 16 × 16 input: embedding = normalize([mean of its quadrant,
/// mean of the right half, 0.5]); quadrant 0 = upper left (model A), 1 = lower left (model B).
struct Quadrant(usize);

impl ImageEncoder for Quadrant {
    fn name(&self) -> &str {
        "quadrant"
    }
    fn input(&self) -> (usize, usize) {
        (1, GRID)
    }
    fn embed_dim(&self) -> usize {
        3
    }
    fn embed(&self, pixels: &[f32], n: usize) -> Result<Array2<f32>, ModelError> {
        let h = GRID / 2;
        let mut out = Array2::zeros((n, 3));
        for (i, img) in pixels.chunks(GRID * GRID).enumerate() {
            let mean = |ys: std::ops::Range<usize>, xs: std::ops::Range<usize>| {
                let n = (ys.len() * xs.len()) as f32;
                ys.flat_map(|y| xs.clone().map(move |x| (y, x)))
                    .map(|(y, x)| img[y * GRID + x])
                    .sum::<f32>()
                    / n
            };
            let q = if self.0 == 0 {
                mean(0..h, 0..h)
            } else {
                mean(h..GRID, 0..h)
            };
            let v = [q, mean(0..GRID, h..GRID), 0.5];
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            for j in 0..3 {
                out[[i, j]] = v[j] / norm;
            }
        }
        Ok(out)
    }
}

/// Saliency of a request with the closed-form encoders (model `m` of the request → `Quadrant(m)`).
struct ClosedForm;

impl SaliencyEngine for ClosedForm {
    fn compute(
        &mut self,
        req: &SaliencyRequest,
        cancel: &AtomicBool,
    ) -> Result<SaliencyView, String> {
        let gray = gray_image(&req.image).ok_or("image unreadable")?;
        let heat = load_heatmap(&req.heatmap).map_err(|e| e.to_string())?;
        let pixels: Vec<f32> = heatmap_on_grid(&gray, GRID as u32)
            .iter()
            .map(|v| *v as f32)
            .collect();
        let on_grid = heatmap_on_grid(&heat, GRID as u32);
        let models = req
            .targets
            .iter()
            .enumerate()
            .map(|(m, t)| {
                let map = occlusion(&Quadrant(m), &pixels, &t.class, 4, 2, 64, cancel)
                    .map(|a| a.mapv(f64::from))
                    .map_err(|e| e.to_string());
                let map = map.map(|map| ImageMap {
                    agreement: agreement(map.view(), on_grid.view(), &[]),
                    map,
                    heatmap: on_grid.clone(),
                    size: GRID as u32,
                    recorded_fixations: false,
                    points: local_maxima(on_grid.view()).len(),
                    cached: m == 0,
                    seconds: 0.0,
                });
                (t.model.clone(), map)
            })
            .collect();
        Ok(build_view(
            req.item,
            format!("class {}", req.class),
            "occlusion, patch 4, stride 2".into(),
            Some(&gray),
            models,
        ))
    }
}

/// A loaded app whose gallery item 0 (cardiomegaly) has a real image and heatmap in `dir`.
fn app_with_heatmap(size: (u16, u16), dir: &std::path::Path) -> App {
    let image = dir.join("img000.png");
    let heatmap = dir.join("heat000.png");
    image::GrayImage::from_fn(32, 32, |x, y| image::Luma([(60 + 4 * x + 2 * y) as u8]))
        .save(&image)
        .expect("write image");
    image::GrayImage::from_fn(32, 32, |x, y| {
        let d2 = (x as f64 - 8.0).powi(2) + (y as f64 - 8.0).powi(2);
        image::Luma([(255.0 * (-d2 / 18.0).exp()).round() as u8])
    })
    .save(&heatmap)
    .expect("write heatmap");
    let mut app = loaded_app(size);
    let mut g = gallery();
    g.items[0].image = image;
    g.items[0].heatmap = Some(heatmap);
    app.handle(Event::Update(super::worker::Update::Gallery(
        Arc::new(g),
        thumbs(),
    )));
    app
}

/// Zero-shot tab, class cardiomegaly, select item 0 in model A's column and open it.
fn open_item0(app: &mut App) {
    drive(app, key('2'));
    while app.state.zeroshot.class != Some(0) {
        drive(app, key(']'));
    }
    let rank = app.state.zeroshot.results[0]
        .hits
        .iter()
        .position(|h| h.item == 0)
        .expect("item 0 among the hits");
    for _ in 0..rank {
        drive(app, key('j'));
    }
    drive(app, code(KeyCode::Enter));
    assert_eq!(app.state.zeroshot.opened.as_ref().map(|o| o.item), Some(0));
}

/// Feeds an event; a saliency request is answered by `engine` (the saliency thread's work).
fn drive_saliency(app: &mut App, ev: Event, engine: Option<&mut dyn SaliencyEngine>) -> Action {
    let action = drive(app, ev);
    if let Action::Saliency(req) = &action {
        let result = match engine {
            Some(e) => e.compute(req, &AtomicBool::new(false)),
            None => Err("saliency needs the loaded models; none were given".into()),
        };
        app.handle(Event::Saliency(SaliencyReply { id: req.id, result }));
    }
    action
}

fn screen(app: &App) -> String {
    render(app).to_string()
}

#[test]
fn saliency_view_snapshots_and_scores() {
    for size in SIZES {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut app = app_with_heatmap(size, dir.path());
        open_item0(&mut app);
        let s = screen(&app);
        assert!(
            s.contains("v saliency"),
            "the image view names the key:\n{s}"
        );
        // `s` asks the saliency thread; until it answers, the panels say so.
        let Action::Saliency(req) = drive(&mut app, key('v')) else {
            panic!("s must ask for saliency");
        };
        assert_eq!((req.item, req.targets.len()), (0, 2));
        assert!(
            req.class.starts_with("cardiomegaly (the query)"),
            "{}",
            req.class
        );
        let (w, h) = size;
        let pending = screen(&app);
        assert!(pending.contains("computing…"), "{pending}");
        insta::assert_snapshot!(format!("saliency_pending_{w}x{h}"), render(&app));
        let result = ClosedForm.compute(&req, &AtomicBool::new(false));
        app.handle(Event::Saliency(SaliencyReply { id: req.id, result }));
        let Some(SaliencyPane::Ready(v)) = app.state.zeroshot.opened.as_ref().map(|o| &o.saliency)
        else {
            panic!("saliency ready");
        };
        // Model A looks where the heatmap is, model B below it.
        let (a, b) = (
            v.models[0].scores.expect("A scored"),
            v.models[1].scores.expect("B scored"),
        );
        let (ca, cb) = (a.cc.expect("cc"), b.cc.expect("cc"));
        assert!(ca > 0.5 && ca > cb, "CC {ca} vs {cb}");
        assert!(a.kl.expect("kl") < b.kl.expect("kl"), "{a:?} {b:?}");
        assert!(a.sim.expect("sim") > b.sim.expect("sim"), "{a:?} {b:?}");
        let s = screen(&app);
        for want in [
            "expert heatmap",
            "NSS ↑",
            "KL ↓",
            "AUC-Judd ↑",
            "Δ eCLIP - CLIP",
            "cached",
        ] {
            assert!(s.contains(want), "{want}:\n{s}");
        }
        assert!(s.contains(&format!("{ca:.3}")), "A's CC shown:\n{s}");
        insta::assert_snapshot!(format!("saliency_{w}x{h}"), render(&app));
        // Esc leaves the saliency view first, then the image.
        drive(&mut app, code(KeyCode::Esc));
        let o = app.state.zeroshot.opened.as_ref().expect("still open");
        assert!(!o.show_saliency);
        // Showing it again needs no new computation.
        assert!(matches!(drive(&mut app, key('v')), Action::None));
        drive(&mut app, code(KeyCode::Esc));
        drive(&mut app, code(KeyCode::Esc));
        assert!(app.state.zeroshot.opened.is_none());
    }
}

#[test]
fn saliency_panels_are_coloured_half_blocks_where_the_maps_are_hot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_heatmap((120, 40), dir.path());
    open_item0(&mut app);
    let mut engine = ClosedForm;
    drive_saliency(&mut app, key('v'), Some(&mut engine));
    let buf = render(&app);
    let buf = buf.buffer();
    // Each panel's picture: the cells holding `▀` inside its column, a square of 2h × h cells.
    let red = |c: Color| match c {
        Color::Rgb(r, g, b) => i32::from(r) - (i32::from(g) + i32::from(b)) / 2,
        _ => panic!("half blocks carry RGB colours, got {c:?}"),
    };
    let pictures: Vec<Vec<(u16, u16)>> = (0..3u16)
        .map(|k| {
            let (x0, x1) = (k * 40, k * 40 + 40);
            (0..40u16)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| buf[(x, y)].symbol() == "▀")
                .collect()
        })
        .collect();
    let corner = |cells: &[(u16, u16)], upper: bool| {
        let (xs, ys): (Vec<u16>, Vec<u16>) = cells.iter().copied().unzip();
        let (x0, x1) = (
            *xs.iter().min().expect("cells"),
            *xs.iter().max().expect("cells"),
        );
        let (y0, y1) = (
            *ys.iter().min().expect("cells"),
            *ys.iter().max().expect("cells"),
        );
        let y = if upper {
            y0 + (y1 - y0) / 4
        } else {
            y1 - (y1 - y0) / 4
        };
        let x = x0 + (x1 - x0) / 4;
        red(buf[(x, y)].fg)
    };
    for (k, cells) in pictures.iter().enumerate() {
        assert!(cells.len() > 100, "panel {k} drawn: {} cells", cells.len());
    }
    // Expert heatmap and model A: red in the upper left; model B: red in the lower left.
    assert!(corner(&pictures[0], true) > corner(&pictures[0], false) + 50);
    assert!(corner(&pictures[1], true) > corner(&pictures[1], false) + 50);
    assert!(corner(&pictures[2], false) > corner(&pictures[2], true) + 50);
}

#[test]
fn saliency_needs_an_opened_image_with_a_heatmap_and_drops_stale_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_heatmap((80, 24), dir.path());
    drive(&mut app, key('2'));
    assert!(matches!(drive(&mut app, key('v')), Action::None));
    assert_eq!(
        app.state.status.as_deref(),
        Some("open an image first (Enter)")
    );
    // An image without a heatmap (item 1): nothing to compare with.
    drive(&mut app, key(']'));
    drive(&mut app, key(']'));
    let first = &app.state.zeroshot.results[0].hits[0];
    assert_ne!(first.item, 0);
    drive(&mut app, code(KeyCode::Enter));
    assert!(matches!(drive(&mut app, key('v')), Action::None));
    assert!(
        app.state
            .status
            .as_deref()
            .is_some_and(|s| s.contains("no expert heatmap")),
        "{:?}",
        app.state.status
    );
    drive(&mut app, code(KeyCode::Esc));
    // Item 0: ask, then an answer to another id is dropped; the engine's error is shown.
    open_item0(&mut app);
    let Action::Saliency(req) = drive(&mut app, key('v')) else {
        panic!("asks");
    };
    app.handle(Event::Saliency(SaliencyReply {
        id: req.id + 100,
        result: Err("stale".into()),
    }));
    let pane = |app: &App| {
        app.state
            .zeroshot
            .opened
            .as_ref()
            .map(|o| o.saliency.clone())
    };
    assert_eq!(pane(&app), Some(SaliencyPane::Pending(req.id)));
    app.handle(Event::Saliency(SaliencyReply {
        id: req.id,
        result: Err("saliency is off: workbench.toml has no [saliency] section".into()),
    }));
    let s = screen(&app);
    assert!(s.contains("no saliency: saliency is off"), "{s}");
    // After a failure `s` asks again.
    assert!(matches!(
        drive_saliency(&mut app, key('v'), None),
        Action::Saliency(_)
    ));
}

fn problems() -> Vec<Problem> {
    let p = |kind, source: &str, message: &str| Problem {
        kind,
        source: source.into(),
        message: message.into(),
    };
    let mut v = vec![
        p(
            ProblemKind::Model,
            "broken",
            "model broken (/data/models/broken): model.json: expected value at line 1 column 1 — \
             the file must be the JSON of docs/formats.md §2; re-export the model",
        ),
        p(
            ProblemKind::Dataset,
            "/data/bad/dataset.toml",
            "/data/bad/manifest.csv: the header has no column `report` (required: image, report, split)",
        ),
        p(
            ProblemKind::Cache,
            "CLIP",
            "cache file /cache/ab/cd.chunk was truncated; deleted, its embeddings will be recomputed",
        ),
    ];
    for line in 2..16 {
        v.push(p(
            ProblemKind::SkippedRow,
            "cxr-demo",
            &format!("/data/cxr/manifest.csv:{line}: image images/missing_{line}.png: not found"),
        ));
    }
    v
}

#[test]
fn problems_panel_lists_everything_wrapped_and_scrolls() {
    for size in SIZES {
        let mut app = loaded_app(size);
        app.handle(Event::Update(super::worker::Update::Problems(problems())));
        // Repeats are dropped.
        app.handle(Event::Update(super::worker::Update::Problems(problems())));
        app.handle(Event::JobQueued { job: "rag".into() });
        app.handle(Event::JobFinished {
            job: "rag".into(),
            error: Some("no model produced embeddings (! lists why)".into()),
        });
        assert_eq!(super::problems::count(&app.state), problems().len() + 1);
        let s = screen(&app);
        assert!(s.contains(" ! 18 problems"), "footer announces them:\n{s}");
        drive(&mut app, key('!'));
        let (w, h) = size;
        let s = screen(&app);
        // Whole messages, wrapped (the model error's last words are on screen).
        assert!(s.contains("§2; re-export the"), "{s}");
        assert!(s.contains("(required: image,"), "{s}");
        insta::assert_snapshot!(format!("problems_{w}x{h}"), render(&app));
        for _ in 0..200 {
            drive(&mut app, key('j'));
        }
        let max = super::view::problems::max_scroll(&app.state);
        assert_eq!(app.state.problems.scroll, max);
        assert!(max > 0);
        let s = screen(&app);
        assert!(s.contains("missing_15.png"), "scrolled to the end:\n{s}");
        // Navigation keys scroll the panel, not the tab behind it.
        assert_eq!(app.state.tab, Tab::Overview);
        assert_eq!(app.state.overview_tab.pos.selected, 0);
        drive(&mut app, code(KeyCode::PageUp));
        assert_eq!(
            app.state.problems.scroll,
            max.saturating_sub(h as usize - 8)
        );
        drive(&mut app, code(KeyCode::Esc));
        assert!(!app.state.problems.open);
    }
    let mut app = loaded_app((80, 24));
    app.handle(Event::Update(super::worker::Update::Problems(problems())));
    insta::assert_snapshot!("problems_quit", super::problems::quit_text(&app.state));
}

#[test]
fn tabs_say_why_they_are_empty_when_a_job_failed() {
    let mut app = empty_app((160, 24));
    for job in ["embed", "evaluate", "rag"] {
        app.handle(Event::JobQueued { job: job.into() });
    }
    drive(&mut app, key('2'));
    assert!(screen(&app).contains("Embeddings are loading"));
    app.handle(Event::Update(super::worker::Update::Problems(
        problems()[..2].to_vec(),
    )));
    app.handle(Event::JobFinished {
        job: "embed".into(),
        error: Some("no model produced embeddings (! lists why)".into()),
    });
    let s = screen(&app);
    assert!(
        s.contains("Nothing to show: embed failed: no model produced embeddings"),
        "{s}"
    );
    assert!(s.contains("Press ! to see 3 problems"), "{s}");
    drive(&mut app, key('1'));
    app.handle(Event::JobFinished {
        job: "evaluate".into(),
        error: Some("nothing to evaluate: embedding did not finish".into()),
    });
    let s = screen(&app);
    assert!(s.contains("evaluate failed: nothing to evaluate"), "{s}");
    // The quit summary says what went wrong, not only that nothing was computed.
    let q = super::problems::quit_text(&app.state);
    assert!(
        q.contains("model broken") && q.contains("job failed evaluate"),
        "{q}"
    );
}
