/*!
From an opened [`Workbench`] to a [`Launch`]: the glue between the core/evaluation code and the TUI.

It owns the translation of the workbench's types into the TUI's view models — each split of
every dataset becomes a live-query [`Gallery`] (its cached embeddings, class embeddings from
the prompt embeddings, half-block thumbnails), [`EvalSummary`] becomes [`PlotData`] and metric rows —
and the order of the background jobs: embed (cache first; the test galleries) → evaluate → RAG
([`crate::run`], on the same embeddings, every dataset in config order) → the other splits'
galleries (last, so that decoding their thumbnails delays no result). The evaluate job forwards each task family's rows as soon as
`evaluate` finishes it ([`Update::FamilyDone`], with the families still running), then the summary's
rows, which replace them. Nothing here draws or computes a metric; the numbers come from
[`crate::run::evaluate`], exactly as in the report, with the [`Settings`] checked at start-up.
*/
use std::sync::{Arc, Mutex};

use ndarray::Array2;

use super::compare_job::WorkbenchCompare;
use super::problems;
use super::saliency_job::WorkbenchSaliency;
use super::search::PromptEncoder;
use super::state::{
    CosineHistogram, FindingView, GalleryEmbeddings, GalleryItem, GapShiftCurve, HeaderInfo,
    PcaScatter, PlotData, ProbeCurve, RagItemView, RagView,
};
use super::worker::{Job, JobContext, JobError, Update, thumbnail};
use super::{Gallery, Launch};
use crate::data::Dataset;
use crate::embed::EmbedOptions;
use crate::embed::progress::{Progress, Stage};
use crate::eval::ModelEmbeddings;
use crate::eval::summary::EvalSummary;
use crate::eval::zeroshot;
use crate::model::Model;
use crate::rag::{RagProgress, RagSummary};
use crate::run::{self, Settings, TASK_FAMILIES};
use crate::workbench::{DatasetEmbeddings, Workbench};

/// Thumbnail side in pixels (drawn as 6×3 cells of half blocks).
const THUMB_PX: u32 = 12;
/// Thumbnails are decoded for at most this many gallery items (the rest show none).
const THUMB_MAX: usize = 5_000;

/// Live prompts through each loaded model's text tower.
pub struct ModelEncoder(pub Vec<Arc<Model>>);

impl PromptEncoder for ModelEncoder {
    fn encode(&mut self, texts: &[String]) -> Result<Vec<Array2<f32>>, JobError> {
        self.0
            .iter()
            .map(|m| m.encode_texts(texts).map_err(|e| Box::new(e) as JobError))
            .collect()
    }
}

/// Embedding progress as a job gauge.
struct Gauge {
    ctx: JobContext,
    done: std::sync::atomic::AtomicU64,
    total: std::sync::atomic::AtomicU64,
}

impl Progress for Gauge {
    fn start(&self, _stage: Stage, _model: &str, _dataset: &str, total: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.done.store(0, Relaxed);
        self.total.store(total as u64, Relaxed);
        self.ctx.progress(0, total as u64);
    }
    fn advance(&self, n: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let done = self.done.fetch_add(n as u64, Relaxed) + n as u64;
        self.ctx.progress(done, self.total.load(Relaxed));
    }
    fn finish(&self) {}
}

/// Header facts of a workbench before anything ran.
pub fn header(wb: &Workbench) -> HeaderInfo {
    let models = wb.models.iter().map(|m| m.name.clone()).collect();
    let dataset = wb
        .datasets
        .iter()
        .find_map(|d| d.dataset.as_ref().ok())
        .map(|d| (d.name.clone(), d.splits.test.clone()));
    let provider = wb
        .loaded_models()
        .first()
        .map(|m| short_provider(&m.image_provider.provider))
        .unwrap_or_else(|| "-".into());
    HeaderInfo {
        models,
        dataset: dataset.as_ref().map_or("-".into(), |d| d.0.clone()),
        split: dataset.map_or("-".into(), |d| d.1),
        provider,
        cache: if wb.cache.root().is_some() {
            "checking".into()
        } else {
            "off".into()
        },
    }
}

fn short_provider(p: &str) -> String {
    p.trim_end_matches("ExecutionProvider").to_string()
}

/// Every dataset's embeddings, handed from the embed job to the jobs after it (and to the
/// compare thread).
type Slot = super::compare_job::EmbeddingSlot;

fn embeddings(slot: &Slot) -> Result<Vec<Arc<DatasetEmbeddings>>, JobError> {
    let all = slot.lock().map_err(|_| "embedding results lost")?.clone();
    if all.is_empty() {
        return Err("nothing to evaluate: embedding did not finish".into());
    }
    Ok(all)
}

/// The gallery of `split` with its thumbnails, published to the UI; `false` when there is none.
fn publish_gallery(ctx: &JobContext, emb: &DatasetEmbeddings, split: &str) -> bool {
    let models: Vec<&ModelEmbeddings> = emb.successful();
    let Some(g) = gallery(&emb.dataset, &models, split) else {
        return false;
    };
    let thumbs = g
        .items
        .iter()
        .take(THUMB_MAX)
        .map(|i| thumbnail(&i.image, THUMB_PX))
        .collect();
    ctx.publish(Update::Gallery(Arc::new(g), thumbs));
    true
}

/// The TUI session of a workbench: embed, then evaluate every loaded dataset.
pub fn launch(wb: Workbench, settings: Settings) -> Launch {
    let head = header(&wb);
    let wb = Arc::new(wb);
    let settings = Arc::new(settings);
    let encoder = ModelEncoder(wb.loaded_models());
    let slot: Slot = Arc::new(Mutex::new(Vec::new()));
    let groups = run::model_groups(&wb.config);
    let compare = WorkbenchCompare {
        embeddings: slot.clone(),
        groups: groups.clone(),
        settings: settings.clone(),
    };
    let saliency = WorkbenchSaliency::new(wb.clone(), settings.saliency.clone());
    Launch {
        jobs: vec![
            embed_job(wb.clone(), slot.clone(), head.clone()),
            eval_job(settings.clone(), slot.clone(), groups),
            rag_job(wb, settings, slot.clone()),
            galleries_job(slot),
        ],
        header: head,
        encoder: Some(Box::new(encoder)),
        saliency: Some(Box::new(saliency)),
        compare: Some(Box::new(compare)),
    }
}

/// Embeds every dataset (cache first), publishes the problems, the header's cache state and the
/// test galleries, and leaves the embeddings in `slot` for the jobs after it.
fn embed_job(wb: Arc<Workbench>, slot: Slot, head: HeaderInfo) -> Job {
    Job::new("embed", move |ctx: &JobContext| {
        let gauge = Arc::new(Gauge {
            ctx: ctx.clone(),
            done: 0.into(),
            total: 0.into(),
        });
        let opts = EmbedOptions {
            cancel: ctx.cancel().clone(),
            progress: gauge,
            ..EmbedOptions::default()
        };
        ctx.publish(Update::Problems(problems::load_problems(&wb)));
        let all = wb.embed_all(&opts);
        if ctx.cancelled() {
            return Ok(()); // quitting: the finished batches are in the cache
        }
        ctx.publish(Update::Problems(problems::embed_problems(&wb, &all)));
        if all.is_empty() {
            return Err("no dataset could be loaded (! lists why)".into());
        }
        let runs: Vec<_> = all
            .iter()
            .flat_map(|d| &d.runs)
            .filter_map(|r| r.result.as_ref().ok())
            .collect();
        let computed: usize = runs
            .iter()
            .map(|r| r.stats.images_computed + r.stats.texts_computed)
            .sum();
        let total: usize = runs
            .iter()
            .map(|r| r.stats.images_total + r.stats.texts_total)
            .sum();
        let mut h = head;
        h.cache = match (wb.cache.root().is_some(), computed) {
            (false, _) => "off".into(),
            (true, 0) => "hit".into(),
            (true, c) => format!("{c}/{total} computed"),
        };
        ctx.publish(Update::Header(h));
        for d in &all {
            publish_gallery(ctx, d, &d.dataset.splits.test);
        }
        // Models that failed are in the problems; the job fails only when none embedded.
        let none = !all.iter().any(|d| d.runs.iter().any(|r| r.result.is_ok()));
        *slot.lock().map_err(|_| "embedding results lost")? =
            all.into_iter().map(Arc::new).collect();
        if none {
            Err("no model produced embeddings (! lists why)".into())
        } else {
            Ok(())
        }
    })
}

/// Evaluates every embedded dataset with the suite ([`run::evaluate_groups_until`]), forwarding
/// each task family's rows as it finishes, then the summary's rows and plot data.
fn eval_job(
    settings: Arc<Settings>,
    slot: Slot,
    groups: Vec<crate::eval::groups::ModelGroup>,
) -> Job {
    Job::new("evaluate", move |ctx: &JobContext| {
        for emb in embeddings(&slot)? {
            let models: Vec<ModelEmbeddings> = emb.successful().into_iter().cloned().collect();
            if models.is_empty() {
                continue;
            }
            let mut finished = 0;
            let summary = run::evaluate_groups_until(
                &emb.dataset,
                &models,
                &groups,
                &settings.eval,
                &mut |p| {
                    ctx.progress(p.done as u64, p.total as u64);
                    if let Some(i) = TASK_FAMILIES.iter().position(|f| *f == p.stage) {
                        finished = finished.max(i + 1);
                        ctx.publish(Update::FamilyDone {
                            rows: p.rows,
                            running: TASK_FAMILIES[finished..]
                                .iter()
                                .map(|f| f.to_string())
                                .collect(),
                        });
                    }
                },
                ctx.cancel(),
            );
            let Some(summary) = summary else {
                return Ok(()); // quitting: a half-evaluated dataset is not shown
            };
            ctx.publish(Update::Metrics(summary.rows.clone()));
            ctx.publish(Update::Plots(plots(&summary)));
        }
        Ok(())
    })
}

/// The RAG task on every embedded dataset, on the same embeddings.
fn rag_job(wb: Arc<Workbench>, settings: Arc<Settings>, slot: Slot) -> Job {
    Job::new("rag", move |ctx: &JobContext| {
        for emb in embeddings(&slot)? {
            if ctx.cancelled() {
                return Ok(());
            }
            let models: Vec<ModelEmbeddings> = emb.successful().into_iter().cloned().collect();
            if models.is_empty() {
                continue;
            }
            let progress = |p: &RagProgress| ctx.progress(p.done as u64, p.total as u64);
            if let Some((summary, _)) =
                run::rag::run_for(&wb, &settings.rag, &emb.dataset, &models, &progress)?
            {
                ctx.publish(Update::Metrics(summary.rows.clone()));
                ctx.publish(Update::Rag(rag_view(&emb.dataset.name, &summary)));
            }
        }
        Ok(())
    })
}

/// The other splits' galleries (train, val, a single-positive split) for the split chooser; the
/// last job, so that decoding their thumbnails delays no result.
fn galleries_job(slot: Slot) -> Job {
    Job::new("galleries", move |ctx: &JobContext| {
        for emb in embeddings(&slot)? {
            if ctx.cancelled() {
                return Ok(());
            }
            let first = emb.successful();
            let Some(m) = first.first() else {
                continue;
            };
            let splits: Vec<String> = m
                .splits
                .keys()
                .filter(|s| **s != emb.dataset.splits.test)
                .cloned()
                .collect();
            for split in splits {
                publish_gallery(ctx, &emb, &split);
            }
        }
        Ok(())
    })
}

/// The split `split` of `dataset` under every model, with class embeddings; `None` when a model
/// has no such split or the models embedded different rows.
pub fn gallery(dataset: &Dataset, models: &[&ModelEmbeddings], split: &str) -> Option<Gallery> {
    let first = models.first()?.splits.get(split)?;
    let mut out = Vec::new();
    for m in models {
        let s = m.splits.get(split)?;
        if s.rows != first.rows {
            return None;
        }
        let class_rows: Vec<_> = m
            .prompts
            .iter()
            .map(|p| zeroshot::class_embedding(p.positive.view()))
            .collect::<Option<_>>()?;
        let dim = s.image.ncols();
        out.push(GalleryEmbeddings {
            model: m.model.clone(),
            image: s.image.clone(),
            text: s.text.clone(),
            classes: zeroshot::stack(&class_rows, dim),
            logit_scale: m.logit_scale,
        });
    }
    let items = first
        .rows
        .iter()
        .filter_map(|&r| {
            let row = dataset.rows.get(r)?;
            Some(GalleryItem {
                row: r,
                image: row.image.clone(),
                heatmap: row.heatmap.clone(),
                report: row.report.clone(),
                labels: dataset
                    .labels
                    .iter()
                    .zip(&row.labels)
                    .filter(|(_, v)| **v == 1)
                    .map(|(l, _)| l.clone())
                    .collect(),
            })
        })
        .collect::<Vec<_>>();
    (items.len() == first.rows.len()).then(|| Gallery {
        dataset: dataset.name.clone(),
        split: split.to_string(),
        items,
        classes: models[0].prompts.iter().map(|p| p.name.clone()).collect(),
        models: out,
    })
}

/// The RAG tab's view of a run: one column per `model · generator`, grouped by generator so each
/// generator's models sit side by side; items in query order.
pub fn rag_view(dataset: &str, s: &RagSummary) -> RagView {
    let mut generators: Vec<&str> = Vec::new();
    for m in &s.per_model {
        if !generators.contains(&m.generator.as_str()) {
            generators.push(&m.generator);
        }
    }
    let findings = |f: &[crate::rag::Finding]| {
        f.iter()
            .map(|x| FindingView {
                label: x.label.clone(),
                negated: x.negated,
                span: x.span,
            })
            .collect()
    };
    let mut view = RagView {
        dataset: dataset.to_string(),
        ..RagView::default()
    };
    for g in generators {
        for m in s.per_model.iter().filter(|m| m.generator == g) {
            view.models.push(format!("{} · {}", m.model, m.generator));
            view.items.push(
                m.items
                    .iter()
                    .map(|i| RagItemView {
                        row: i.row,
                        snippets: i.snippets.clone(),
                        generated: i.generated.clone(),
                        reference: i.reference.clone(),
                        generated_findings: findings(&i.generated_findings),
                        reference_findings: findings(&i.reference_findings),
                        error: i.error.clone(),
                    })
                    .collect(),
            );
        }
    }
    view
}

/// The figure data of an evaluation, as the Probe and Geometry tabs draw it.
pub fn plots(s: &EvalSummary) -> PlotData {
    let mut p = PlotData {
        dataset: s.dataset.clone(),
        ..PlotData::default()
    };
    for mp in &s.plots {
        let curve = mp
            .probe_curves
            .iter()
            .find(|c| c.metric == "accuracy")
            .or_else(|| mp.probe_curves.first());
        if let Some(c) = curve {
            let spread = |f: fn(f64, f64) -> f64, pt: &crate::eval::summary::ProbePoint| {
                pt.per_seed.iter().copied().reduce(f).unwrap_or(pt.mean)
            };
            p.probe.push(ProbeCurve {
                model: mp.model.clone(),
                metric: c.metric.clone(),
                fractions: c.points.iter().map(|x| x.fraction).collect(),
                mean: c.points.iter().map(|x| x.mean).collect(),
                min: c.points.iter().map(|x| spread(f64::min, x)).collect(),
                max: c.points.iter().map(|x| spread(f64::max, x)).collect(),
                // Filled from the metric rows when they are shown (`tabs::refresh`).
                ci: Vec::new(),
            });
        }
        if let Some(h) = &mp.cosine {
            p.histograms.push(CosineHistogram {
                model: mp.model.clone(),
                edges: h.matched.edges.clone(),
                matched: h.matched.density(),
                unmatched: h.unmatched.density(),
            });
        }
        if let Some(pca) = &mp.pca {
            let pts = |v: &[[f64; 2]]| v.iter().map(|x| (x[0], x[1])).collect();
            p.pca.push(PcaScatter {
                model: mp.model.clone(),
                image: pts(&pca.image),
                text: pts(&pca.text),
                gap_from: (pca.text_mean[0], pca.text_mean[1]),
                gap_to: (pca.image_mean[0], pca.image_mean[1]),
            });
        }
        if !mp.gap_shift.is_empty() {
            let zs = mp.gap_shift.iter().all(|g| g.zeroshot_accuracy.is_some());
            let (metric, values) = if zs {
                (
                    "zero-shot accuracy",
                    mp.gap_shift
                        .iter()
                        .filter_map(|g| g.zeroshot_accuracy)
                        .collect(),
                )
            } else if mp.gap_shift.iter().all(|g| g.r_at_1.is_some()) {
                (
                    "image→text R@1",
                    mp.gap_shift.iter().filter_map(|g| g.r_at_1).collect(),
                )
            } else {
                (
                    "modality gap",
                    mp.gap_shift.iter().map(|g| g.modality_gap).collect(),
                )
            };
            p.gap_shift.push(GapShiftCurve {
                model: mp.model.clone(),
                metric: metric.into(),
                shifts: mp.gap_shift.iter().map(|g| g.lambda).collect(),
                values,
            });
        }
    }
    p
}
