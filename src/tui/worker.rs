/*!
Work off the UI thread: background jobs and live queries.

Two kinds of threads feed the UI loop through one crossbeam channel of [`Event`]s, always with
owned data (bottom's collector pattern):
- the **job thread** runs the [`Job`]s given to [`crate::tui::run`] one after another (loading,
  embedding, evaluating, RAG). A job reports progress and publishes [`Update`]s as soon as it has
  them, so the Overview fills in task by task;
- the **query thread** answers live queries ([`QueryRequest`]) over the cached embeddings: encoding
  a typed prompt, cosine + top-k, opening an image. It has its own thread so typing stays responsive
  while probes run on the job thread. Every request carries an id; the app ignores answers to
  requests it has since replaced.

Neither thread touches the terminal or [`crate::tui::state::AppState`].
*/
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use image::DynamicImage;

use super::event::Event;
pub use super::event::{QueryAnswer, QueryKind, QueryReply, QueryRequest, Update};
use super::search::{self, PromptEncoder};
use super::state::{Gallery, ModelHits, Thumb};
use crate::model::preprocess;

/// Boxed error of a job, shown in the UI with the job's name.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// What a running job can tell the UI.
#[derive(Clone)]
pub struct JobContext {
    name: String,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
}

impl JobContext {
    /// The session's cancel token, set when the TUI quits or gets a signal: hand it to
    /// `EmbedOptions::cancel` and `run::evaluate_groups_until`, check it between steps.
    pub fn cancel(&self) -> &Arc<AtomicBool> {
        &self.cancel
    }

    /// Whether the session is ending (the job should return).
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Reports `done` of `total` steps.
    pub fn progress(&self, done: u64, total: u64) {
        let _ = self.tx.send(Event::Progress {
            job: self.name.clone(),
            done,
            total,
        });
    }

    /// Hands a result to the UI now.
    pub fn publish(&self, update: Update) {
        let _ = self.tx.send(Event::Update(update));
    }
}

/// The body of a job.
pub type JobFn = Box<dyn FnOnce(&JobContext) -> Result<(), JobError> + Send>;

/// A named unit of background work.
pub struct Job {
    pub name: String,
    pub run: JobFn,
}

impl Job {
    pub fn new(
        name: impl Into<String>,
        run: impl FnOnce(&JobContext) -> Result<(), JobError> + Send + 'static,
    ) -> Job {
        Job {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// Runs jobs in order on one thread. A failed job is reported and the next one still runs.
pub fn spawn_jobs(jobs: Vec<Job>, tx: Sender<Event>) -> std::io::Result<JoinHandle<()>> {
    spawn_jobs_until(jobs, tx, Arc::new(AtomicBool::new(false)))
}

/// [`spawn_jobs`] with a cancel token: once `cancel` is set the running job sees it through
/// [`JobContext::cancelled`] (embedding and evaluation stop within a batch or a bootstrap spec)
/// and the jobs not yet started are skipped, so the thread ends soon after.
pub fn spawn_jobs_until(
    jobs: Vec<Job>,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    for job in &jobs {
        let _ = tx.send(Event::JobQueued {
            job: job.name.clone(),
        });
    }
    std::thread::Builder::new()
        .name("eclip-jobs".into())
        .spawn(move || {
            for job in jobs {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                let ctx = JobContext {
                    name: job.name.clone(),
                    tx: tx.clone(),
                    cancel: cancel.clone(),
                };
                let result = (job.run)(&ctx);
                let sent = tx.send(Event::JobFinished {
                    job: job.name,
                    error: result.err().map(|e| error_chain(e.as_ref())),
                });
                if sent.is_err() {
                    return; // the UI is gone
                }
            }
        })
}

pub use crate::run::error_chain;

/// Starts a thread named `name` that answers requests from `rx` with `answer` and sends each
/// answer to `tx`; requests that a newer one replaced while it was answering are skipped (only the
/// last matters: the saliency of the opened image, the chosen pair). It ends when `rx`'s sender
/// is dropped or the app stops listening.
pub fn spawn_latest<R: Send + 'static>(
    name: &str,
    rx: Receiver<R>,
    tx: Sender<Event>,
    mut answer: impl FnMut(R) -> Event + Send + 'static,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while let Ok(mut req) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    req = newer;
                }
                if tx.send(answer(req)).is_err() {
                    return;
                }
            }
        })
}

/// Waits until every thread of `handles` has ended or `limit` has passed; true when all ended
/// (they are joined). The TUI's bounded wait for its jobs after setting the cancel token.
pub fn join_within(handles: Vec<JoinHandle<()>>, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while handles.iter().any(|h| !h.is_finished()) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for h in handles {
        let _ = h.join();
    }
    true
}

/// Messages to the query thread.
pub enum QueryMsg {
    SetGallery(Arc<Gallery>),
    Run(QueryRequest),
}

/// Starts the query thread. It ends when `rx`'s sender is dropped.
pub fn spawn_queries(
    mut encoder: Option<Box<dyn PromptEncoder>>,
    rx: Receiver<QueryMsg>,
    tx: Sender<Event>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("eclip-queries".into())
        .spawn(move || {
            let mut gallery: Option<Arc<Gallery>> = None;
            while let Ok(msg) = rx.recv() {
                let req = match msg {
                    QueryMsg::SetGallery(g) => {
                        gallery = Some(g);
                        continue;
                    }
                    QueryMsg::Run(req) => latest(req, &rx, &mut gallery),
                };
                let result = match &gallery {
                    None => Err("the embeddings are not loaded yet".to_string()),
                    Some(g) => answer(g, &req, encoder.as_deref_mut()),
                };
                if tx
                    .send(Event::Reply(QueryReply { id: req.id, result }))
                    .is_err()
                {
                    return;
                }
            }
        })
}

/// Skips requests that a newer one already replaced (fast typing), keeping gallery updates.
fn latest(
    mut req: QueryRequest,
    rx: &Receiver<QueryMsg>,
    gallery: &mut Option<Arc<Gallery>>,
) -> QueryRequest {
    while let Ok(msg) = rx.try_recv() {
        match msg {
            QueryMsg::SetGallery(g) => *gallery = Some(g),
            QueryMsg::Run(newer) => req = newer,
        }
    }
    req
}

/// Answers one query (pure apart from reading image files for [`QueryKind::Open`]).
pub fn answer(
    gallery: &Gallery,
    req: &QueryRequest,
    encoder: Option<&mut (dyn PromptEncoder + '_)>,
) -> Result<QueryAnswer, String> {
    // Models are searched in parallel: each scan is memory-bound over its own matrix.
    let per_model = |f: &(dyn Fn(usize) -> Vec<super::state::Hit> + Sync)| {
        use rayon::prelude::*;
        gallery
            .models
            .par_iter()
            .enumerate()
            .map(|(m, e)| ModelHits {
                model: e.model.clone(),
                hits: f(m),
            })
            .collect::<Vec<_>>()
    };
    match &req.kind {
        QueryKind::PromptToImages(text) => {
            let Some(encoder) = encoder else {
                return Err("typed prompts need a text encoder; none was given".into());
            };
            let encoded = encoder
                .encode(std::slice::from_ref(text))
                .map_err(|e| format!("encoding '{text}': {}", error_chain(e.as_ref())))?;
            if encoded.len() != gallery.models.len() {
                return Err(format!(
                    "the encoder returned {} models, the gallery has {}",
                    encoded.len(),
                    gallery.models.len()
                ));
            }
            for (e, g) in encoded.iter().zip(&gallery.models) {
                if e.nrows() != 1 || e.ncols() != g.image.ncols() {
                    return Err(format!(
                        "model '{}': prompt embedding is {:?}, images have dimension {}",
                        g.model,
                        e.shape(),
                        g.image.ncols()
                    ));
                }
            }
            Ok(QueryAnswer::Hits(per_model(&|m| {
                search::search(gallery.models[m].image.view(), encoded[m].row(0), req.k)
            })))
        }
        QueryKind::ClassToImages(c) => {
            if *c >= gallery.classes.len() {
                return Err(format!("no zero-shot class number {c}"));
            }
            Ok(QueryAnswer::Hits(per_model(&|m| {
                let e = &gallery.models[m];
                search::search(e.image.view(), e.classes.row(*c), req.k)
            })))
        }
        QueryKind::ImageToTexts(i) => {
            check_item(gallery, *i)?;
            Ok(QueryAnswer::Hits(per_model(&|m| {
                let e = &gallery.models[m];
                search::search(e.text.view(), e.image.row(*i), req.k)
            })))
        }
        QueryKind::Open(i) => {
            check_item(gallery, *i)?;
            let probs = gallery
                .models
                .iter()
                .map(|e| {
                    search::class_probabilities(e.classes.view(), e.image.row(*i), e.logit_scale)
                })
                .collect();
            let item = &gallery.items[*i];
            let image = open_image(&item.image);
            let overlay = match (&image, &item.heatmap) {
                (Some(img), Some(h)) => load_heatmap(h).map(|h| overlay_heatmap(img, &h)),
                _ => None,
            };
            Ok(QueryAnswer::Opened {
                item: *i,
                probs,
                image,
                overlay,
            })
        }
    }
}

fn check_item(gallery: &Gallery, i: usize) -> Result<(), String> {
    if i < gallery.items.len() {
        Ok(())
    } else {
        Err(format!(
            "no gallery image number {i} (there are {})",
            gallery.items.len()
        ))
    }
}

/// Reads a heatmap as floats in [0, 1]: 8/16-bit PNG or float32 `.npy`.
/// A heatmap as the saliency task reads it (`saliency::grid::load_heatmap`: 8/16-bit PNG or f32
/// `.npy`), clamped to [0, 1] for the overlay; `None` when unreadable.
fn load_heatmap(path: &Path) -> Option<image::ImageBuffer<image::Luma<f32>, Vec<f32>>> {
    let a = crate::saliency::grid::load_heatmap(path).ok()?;
    let (h, w) = a.dim();
    let data: Vec<f32> = a.iter().map(|v| v.clamp(0.0, 1.0) as f32).collect();
    image::ImageBuffer::from_raw(u32::try_from(w).ok()?, u32::try_from(h).ok()?, data)
}

/// Blends a heatmap over the image in red (alpha = heat × 0.6).
pub fn overlay_heatmap(
    img: &DynamicImage,
    heat: &image::ImageBuffer<image::Luma<f32>, Vec<f32>>,
) -> DynamicImage {
    let base = img.to_rgb8();
    let heat = image::imageops::resize(
        heat,
        base.width(),
        base.height(),
        image::imageops::FilterType::Triangle,
    );
    let mut out = base.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let a = heat.get_pixel(x, y).0[0].clamp(0.0, 1.0) * 0.6;
        let [r, g, b] = base.get_pixel(x, y).0;
        p.0 = [
            (r as f32 * (1.0 - a) + 255.0 * a) as u8,
            (g as f32 * (1.0 - a)) as u8,
            (b as f32 * (1.0 - a)) as u8,
        ];
    }
    DynamicImage::ImageRgb8(out)
}

/// An image file decoded as the embedding path decodes it ([`preprocess::decode_for_display`]: PNG,
/// JPEG and DICOM with its modality LUT and window to [0, 1]), as 8-bit gray or RGB for display;
/// `None` when unreadable.
pub fn open_image(path: &Path) -> Option<DynamicImage> {
    let img = preprocess::decode_for_display(path).ok()?;
    let (w, h) = (
        u32::try_from(img.width).ok()?,
        u32::try_from(img.height).ok()?,
    );
    let byte = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    if let [r, g, b] = img.planes.as_slice() {
        let rgb: Vec<u8> = (0..r.len())
            .flat_map(|i| [byte(r[i]), byte(g[i]), byte(b[i])])
            .collect();
        image::RgbImage::from_raw(w, h, rgb).map(DynamicImage::ImageRgb8)
    } else {
        let gray: Vec<u8> = img.planes.first()?.iter().map(|&v| byte(v)).collect();
        image::GrayImage::from_raw(w, h, gray).map(DynamicImage::ImageLuma8)
    }
}

/// A square grayscale thumbnail of an image file, `side` pixels; `None` when unreadable.
pub fn thumbnail(path: &Path, side: u32) -> Option<Thumb> {
    let img = open_image(path)?;
    let small = img
        .resize_to_fill(side, side, image::imageops::FilterType::Triangle)
        .to_luma8();
    Some(Thumb {
        width: small.width(),
        height: small.height(),
        pixels: small.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_sees_the_cancel_and_returns_and_later_jobs_are_skipped() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let cancel = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let seen = started.clone();
        let jobs = vec![
            Job::new("long", move |ctx: &JobContext| {
                seen.store(true, Ordering::SeqCst);
                while !ctx.cancelled() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            }),
            Job::new("never", |_: &JobContext| Err("must not run".into())),
        ];
        let handle = spawn_jobs_until(jobs, tx, cancel.clone()).unwrap();
        while !started.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!handle.is_finished(), "the job runs until cancelled");
        cancel.store(true, Ordering::SeqCst);
        assert!(join_within(vec![handle], Duration::from_secs(2)));
        let finished: Vec<String> = rx
            .try_iter()
            .filter_map(|e| match e {
                Event::JobFinished { job, error } => Some(format!("{job}:{error:?}")),
                _ => None,
            })
            .collect();
        assert_eq!(finished, ["long:None"]);
    }

    #[test]
    fn join_within_gives_up_on_a_thread_that_does_not_end() {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let h = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let t = Instant::now();
        assert!(!join_within(vec![h], Duration::from_millis(100)));
        assert!(t.elapsed() < Duration::from_secs(2));
        stop.store(true, Ordering::SeqCst);
    }

    #[test]
    fn dicom_images_get_thumbnails_like_pngs() {
        let dcm =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parity/gen_mono1_rescaled.dcm");
        let t = thumbnail(&dcm, 12).expect("a DICOM thumbnail");
        assert_eq!((t.width, t.height, t.pixels.len()), (12, 12, 144));
        // Windowed to the full range: not a flat image.
        let (lo, hi) = t
            .pixels
            .iter()
            .fold((255u8, 0u8), |(l, h), &p| (l.min(p), h.max(p)));
        assert!(hi > lo, "{lo}..{hi}");
        let dir = tempfile::tempdir().expect("tempdir");
        let png = dir.path().join("g.png");
        let img = image::GrayImage::from_fn(4, 2, |x, y| image::Luma([(x * 60 + y * 7) as u8]));
        img.save(&png).expect("write png");
        let back = open_image(&png).expect("decodes").to_luma8();
        assert_eq!(back, img, "8-bit PNGs round-trip exactly");
        assert!(thumbnail(&dir.path().join("missing.png"), 12).is_none());
    }
}
