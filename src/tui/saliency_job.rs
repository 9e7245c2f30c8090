/*!
The saliency view of an opened image (issue 16, `v` on the Zero-shot tab): each model's saliency
map beside the expert heatmap, with the agreement scores of that image.

Saliency is expensive (an occlusion map is hundreds of encoder runs), so it follows the query
pattern: the app builds a [`SaliencyRequest`] from its state ([`request`], pure), marks the opened
image `Pending`, and the run loop hands the request to the **saliency thread**
([`spawn_saliency`]); the thread answers with an [`Event::Saliency`] carrying a
[`SaliencyView`] (pictures ready to draw, scores), which the app keeps if it is still the answer it
waits for. Nothing is computed while drawing.

The numbers are the report's: [`WorkbenchSaliency`] runs [`crate::run::saliency::image_maps`] — the
same `[saliency]` settings (validated at start-up by [`crate::run::Settings`]), the same saliency
cache (a map the report computed is read, one computed here is stored for the report), the same
heatmap grid and fixation rule. The target follows `[saliency] target`: `class` uses the query's
class when the last query was a class, else the image's first ground-truth zero-shot class, else
the first model's most probable class; `report` uses the image's own report.
*/
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use ndarray::Array2;

use super::event::{Event, SaliencyReply, SaliencyRequest, SaliencyTargets};
use super::state::{AppState, ModelSaliency, Panel, SaliencyView};
use crate::data::Dataset;
use crate::run::saliency::{
    Fixations, ImageInput, ImageMap, fixations_path, image_maps, load_fixations,
};
use crate::saliency::{Method, SaliencySettings, Target};
use crate::workbench::Workbench;

/// Computes the saliency view of one request (the real one is [`WorkbenchSaliency`]; tests can
/// use a closed-form encoder).
pub trait SaliencyEngine: Send {
    fn compute(
        &mut self,
        req: &SaliencyRequest,
        cancel: &AtomicBool,
    ) -> Result<SaliencyView, String>;
}

/// The request for the opened image of `state` (pure): which item, its heatmap, and every
/// gallery model's class and report embeddings. `Err` says why there is nothing to ask.
pub fn request(state: &AppState, id: u64) -> Result<SaliencyRequest, String> {
    let opened = state
        .zeroshot
        .opened
        .as_ref()
        .ok_or("open an image first (Enter)")?;
    let g = state
        .gallery
        .as_deref()
        .ok_or("the embeddings are not loaded yet")?;
    let item = g
        .items
        .get(opened.item)
        .ok_or_else(|| format!("no gallery image number {}", opened.item))?;
    let heatmap = item
        .heatmap
        .clone()
        .ok_or("this image has no expert heatmap to compare saliency with")?;
    if g.classes.is_empty() || g.models.is_empty() {
        return Err("no zero-shot classes or models loaded".into());
    }
    let top = opened.probs.first().and_then(|p| {
        p.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
    });
    let (class, why) = match (
        state.zeroshot.class.filter(|c| *c < g.classes.len()),
        g.classes.iter().position(|c| item.labels.contains(c)),
        top,
    ) {
        (Some(c), _, _) => (c, "the query".to_string()),
        (None, Some(c), _) => (c, "ground truth".to_string()),
        (None, None, Some(c)) => (c, format!("{}'s most probable class", g.models[0].model)),
        (None, None, None) => (0, "the first class".to_string()),
    };
    Ok(SaliencyRequest {
        id,
        item: opened.item,
        row: item.row,
        image: item.image.clone(),
        heatmap,
        class: format!("{} ({why})", g.classes[class]),
        targets: g
            .models
            .iter()
            .map(|m| SaliencyTargets {
                model: m.model.clone(),
                class: m.classes.row(class).to_vec(),
                report: m.text.row(opened.item).to_vec(),
            })
            .collect(),
    })
}

/// Starts the saliency thread; it ends when `rx`'s sender is dropped. Requests that a newer one
/// replaced while a map was being computed are skipped.
/// `cancel` (the session's token) stops a map being computed when the TUI quits.
pub fn spawn_saliency(
    mut engine: Option<Box<dyn SaliencyEngine>>,
    rx: Receiver<SaliencyRequest>,
    tx: Sender<Event>,
    cancel: std::sync::Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    super::worker::spawn_latest("eclip-saliency", rx, tx, move |req: SaliencyRequest| {
        let result = match engine.as_mut() {
            Some(e) => e.compute(&req, &cancel),
            None => Err("saliency needs the loaded models; none were given".to_string()),
        };
        Event::Saliency(SaliencyReply { id: req.id, result })
    })
}

/// The saliency engine of a workbench session: the first loaded dataset (the gallery's), the
/// loaded models, the cache and the `[saliency]` settings (`None`: the section is absent, the view
/// says how to turn it on).
pub struct WorkbenchSaliency {
    wb: Arc<Workbench>,
    settings: Option<SaliencySettings>,
    /// Recorded fixations of the dataset, read on the first request.
    fixations: Option<Result<Fixations, String>>,
}

impl WorkbenchSaliency {
    pub fn new(wb: Arc<Workbench>, settings: Option<SaliencySettings>) -> WorkbenchSaliency {
        WorkbenchSaliency {
            wb,
            settings,
            fixations: None,
        }
    }

    fn dataset(&self) -> Option<Arc<Dataset>> {
        self.wb
            .datasets
            .iter()
            .find_map(|d| d.dataset.as_ref().ok().cloned())
    }
}

impl SaliencyEngine for WorkbenchSaliency {
    fn compute(
        &mut self,
        req: &SaliencyRequest,
        cancel: &AtomicBool,
    ) -> Result<SaliencyView, String> {
        let Some(cfg) = &self.settings else {
            return Err(format!(
                "saliency is off: {} has no [saliency] section (add one, docs/saliency.md)",
                self.wb.config_path().display()
            ));
        };
        let dataset = self.dataset().ok_or("no dataset is loaded")?;
        let fix = self
            .fixations
            .get_or_insert_with(|| load_fixations(&fixations_path(&dataset)).map(|(f, _)| f));
        let image_id = crate::run::items::manifest_path(&dataset, req.row);
        let points: &[(f64, f64)] = match fix {
            Ok(f) => f.get(&image_id).map_or(&[], Vec::as_slice),
            Err(_) => &[],
        };
        let mut names = Vec::new();
        let mut pairs = Vec::new();
        let mut missing = Vec::new();
        for t in &req.targets {
            let target = match cfg.target {
                Target::Class => t.class.clone(),
                Target::Report => t.report.clone(),
            };
            match self
                .wb
                .models
                .iter()
                .find(|s| s.name == t.model)
                .and_then(|s| s.model.as_ref().ok())
            {
                Some(m) => {
                    names.push(t.model.clone());
                    pairs.push((m.as_ref(), target));
                }
                None => missing.push(t.model.clone()),
            }
        }
        let maps = image_maps(
            &pairs,
            ImageInput {
                image: &req.image,
                heatmap: &req.heatmap,
                fixations: points,
            },
            cfg,
            &self.wb.cache,
            self.wb.batch_size,
            cancel,
        )?;
        let mut models: Vec<(String, Result<ImageMap, String>)> =
            names.into_iter().zip(maps).collect();
        models.extend(
            missing
                .into_iter()
                .map(|m| (m, Err("model not loaded".to_string()))),
        );
        let target = match cfg.target {
            Target::Class => format!("class {}", req.class),
            Target::Report => "the image's own report".to_string(),
        };
        Ok(build_view(
            req.item,
            target,
            setting_label(cfg),
            gray_image(&req.image).as_ref(),
            models,
        ))
    }
}

/// The method and its settings in words, e.g. "occlusion, patch 32, stride 16".
pub fn setting_label(cfg: &SaliencySettings) -> String {
    match cfg.method {
        Method::Occlusion => format!("occlusion, patch {}, stride {}", cfg.patch, cfg.stride),
        Method::Rise => format!(
            "RISE, {} masks, grid {}, keep {}, seed {}",
            cfg.masks, cfg.grid, cfg.keep, cfg.seed
        ),
    }
}

/// The image as gray values in [0, 1] at image resolution, decoded as the display decodes it.
pub fn gray_image(path: &Path) -> Option<Array2<f64>> {
    let img = super::worker::open_image(path)?.to_luma8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Array2::from_shape_vec(
        (h, w),
        img.into_raw()
            .into_iter()
            .map(|v| f64::from(v) / 255.0)
            .collect(),
    )
    .ok()
}

/// A map scaled to [0, 1] over its own range (a flat map becomes 0).
fn unit_range(map: &Array2<f64>) -> Array2<f64> {
    let (lo, hi) = map
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    if hi > lo {
        map.mapv(|v| {
            if v.is_finite() {
                (v - lo) / (hi - lo)
            } else {
                0.0
            }
        })
    } else {
        map.mapv(|_| 0.0)
    }
}

/// `map` (any range) blended in red over the image put on the same grid, exactly as the heatmap
/// overlay (`m`) blends ([`super::worker::overlay_heatmap`]); the map is scaled to its own range.
pub fn panel(gray: Option<&Array2<f64>>, map: &Array2<f64>) -> Panel {
    let side = map.nrows().min(map.ncols());
    let base = match gray {
        Some(g) => crate::saliency::grid::heatmap_on_grid(g, side as u32),
        None => Array2::zeros((side, side)),
    };
    let bytes: Vec<u8> = base
        .iter()
        .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
        .collect();
    let unit = unit_range(map);
    let heat: Vec<f32> = unit.iter().map(|v| *v as f32).collect();
    let (Some(img), Some(heat)) = (
        image::GrayImage::from_raw(side as u32, side as u32, bytes),
        image::ImageBuffer::<image::Luma<f32>, _>::from_raw(side as u32, side as u32, heat),
    ) else {
        return Panel {
            side: 0,
            rgb: Vec::new(),
        };
    };
    let out = super::worker::overlay_heatmap(&image::DynamicImage::ImageLuma8(img), &heat);
    Panel {
        side,
        rgb: out.to_rgb8().pixels().map(|p| p.0).collect(),
    }
}

/// The view of one image from its maps (pure): the expert heatmap panel (on the first model's
/// grid), a panel, scores and a note per model.
pub fn build_view(
    item: usize,
    target: String,
    setting: String,
    gray: Option<&Array2<f64>>,
    models: Vec<(String, Result<ImageMap, String>)>,
) -> SaliencyView {
    let first = models.iter().find_map(|(_, m)| m.as_ref().ok());
    let heatmap = first.map(|m| panel(gray, &m.heatmap));
    let points = first.map_or(String::new(), |m| {
        let plural = |one: &str, many: &str| if m.points == 1 { one } else { many }.to_string();
        if m.recorded_fixations {
            format!("{} recorded {}", m.points, plural("fixation", "fixations"))
        } else {
            format!(
                "{} local {} of the heatmap",
                m.points,
                plural("maximum", "maxima")
            )
        }
    });
    SaliencyView {
        item,
        target,
        setting,
        points,
        heatmap,
        models: models
            .into_iter()
            .map(|(model, m)| match m {
                Ok(m) => ModelSaliency {
                    model,
                    panel: Some(panel(gray, &m.map)),
                    scores: Some(m.agreement),
                    note: if m.cached {
                        "cached".to_string()
                    } else {
                        format!("computed in {:.2} s", m.seconds)
                    },
                },
                Err(e) => ModelSaliency {
                    model,
                    panel: None,
                    scores: None,
                    note: e,
                },
            })
            .collect(),
    }
}
