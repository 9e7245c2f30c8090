/*!
The `saliency` task as a step of a workbench run (after the suite, like RAG): on every test-split
item that has an expert heatmap, each model's saliency map ([`crate::saliency::compute_maps`],
cached, bounded by `[saliency] items` and `time_budget_s`) is scored against the heatmap
([`crate::eval::saliency::agreement`]; fixation points from the dataset's `gaze_fixations.csv`
when it has rows for the image, else the heatmap's local maxima), and the scores become rows
([`crate::eval::saliency_rows`]). Off unless the config has a `[saliency]` section.

Items: with `target = "class"` one item per image and positive zero-shot finding (the target is
that finding's zero-shot class embedding), interleaved finding by finding so that a small `items`
limit still covers every finding; with `target = "report"` one item per image (the target is the
embedding of the image's own report), counted under each of its positive zero-shot findings.
*/
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use ndarray::Array2;

use crate::data::Dataset;
use crate::eval::groups::ModelGroups;
use crate::eval::saliency::{Agreement, Pixel, agreement};
use crate::eval::saliency_rows::{ScoredItem, saliency_rows};
use crate::eval::stats::BootstrapConfig;
use crate::eval::summary::EvalSummary;
use crate::eval::{MetricRow, ModelEmbeddings, zeroshot};
use crate::saliency::grid::{fixation_on_grid, heatmap_on_grid, load_heatmap};
use crate::saliency::{SaliencyError, SaliencyItem, SaliencySettings, Target, compute_maps};
use crate::workbench::Workbench;

/// One evaluation item of the saliency task.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Manifest row index.
    pub row: usize,
    /// The finding whose class embedding is the target (`target = "class"`); `None` for the report.
    pub finding: Option<String>,
    /// The findings the item counts under.
    pub findings: Vec<String>,
}

impl Item {
    /// The item id of item records: the manifest image path, plus `#finding` for class targets.
    pub fn id(&self, dataset: &Dataset) -> String {
        let image = super::items::manifest_path(dataset, self.row);
        match &self.finding {
            Some(f) => format!("{image}#{f}"),
            None => image,
        }
    }
}

/// What the saliency step produced on one dataset.
#[derive(Debug, Clone, Default)]
pub struct SaliencyOutcome {
    /// `method:target`, the rows' setting.
    pub setting: String,
    pub items: Vec<Item>,
    /// `scores[model][item]`, models in the order of the embeddings.
    pub models: Vec<String>,
    pub scores: Vec<Vec<Option<Agreement>>>,
    /// A few items per finding with every model's map, for the figure: (item index, heatmap on
    /// the first model's grid, map per model).
    pub examples: Vec<SaliencyExample>,
    pub rows: Vec<MetricRow>,
    pub notes: Vec<String>,
    pub wall_s: f64,
}

/// One item's maps for the figure.
#[derive(Debug, Clone)]
pub struct SaliencyExample {
    pub item: usize,
    pub image: PathBuf,
    pub heatmap: Array2<f64>,
    /// Per model (order of [`SaliencyOutcome::models`]); `None` where the model has no map.
    pub maps: Vec<Option<Array2<f64>>>,
}

/// Examples kept per finding for the figure.
pub const EXAMPLES_PER_FINDING: usize = 2;

/// The definition of the saliency rows, stated in every report that has them.
pub fn definitions() -> Vec<(String, String)> {
    vec![(
        "saliency".to_owned(),
        "agreement of each model's saliency map (setting = method:target; occlusion = mean cosine drop over the patches covering a pixel, RISE = similarity-weighted mean of random masks; target class = the zero-shot class embedding of each positive finding, report = the image's own report) with the expert heatmap on test images that have one, on the model's input grid: nss = mean z-scored map at the fixations (recorded fixations, else the heatmap's local maxima), cc = Pearson correlation, kl = KL(heatmap || map) as densities (lower is better), sim = histogram intersection, auc_judd = ROC AUC of fixated vs other pixels (pysaliency 0.2.22 definitions, docs/saliency.md); <metric>:<finding> = over that finding's items; mean over items with 95% percentile bootstrap, paired B - A deltas on the items every model scored".to_owned(),
    )]
}

/// The `[saliency]` settings of a config section, `None` when the section is absent or empty
/// (the task is off).
pub fn settings(
    table: &toml::Table,
) -> Result<Option<SaliencySettings>, crate::saliency::SettingsError> {
    if table.is_empty() {
        return Ok(None);
    }
    SaliencySettings::from_table(table).map(Some)
}

/// The saliency items of `dataset` under `target` (module docs), in the order they are computed.
pub fn items(dataset: &Dataset, target: Target) -> Vec<Item> {
    let classes: Vec<(String, usize)> = dataset
        .zeroshot_classes
        .iter()
        .filter_map(|c| Some((c.clone(), dataset.labels.iter().position(|l| l == c)?)))
        .collect();
    let rows: Vec<usize> = dataset
        .split_rows(&dataset.splits.test)
        .into_iter()
        .filter(|&r| dataset.rows[r].heatmap.is_some())
        .collect();
    let positives = |r: usize| -> Vec<String> {
        classes
            .iter()
            .filter(|(_, i)| dataset.rows[r].labels.get(*i) == Some(&1))
            .map(|(c, _)| c.clone())
            .collect()
    };
    match target {
        Target::Report => rows
            .into_iter()
            .map(|row| Item {
                row,
                finding: None,
                findings: positives(row),
            })
            .collect(),
        Target::Class => {
            let mut per: Vec<Vec<Item>> = classes
                .iter()
                .map(|(c, _)| {
                    rows.iter()
                        .filter(|&&r| positives(r).contains(c))
                        .map(|&row| Item {
                            row,
                            finding: Some(c.clone()),
                            findings: vec![c.clone()],
                        })
                        .collect()
                })
                .collect();
            per.iter_mut().for_each(|v| v.reverse());
            let mut out = Vec::new();
            while per.iter().any(|v| !v.is_empty()) {
                for v in per.iter_mut() {
                    out.extend(v.pop());
                }
            }
            out
        }
    }
}

/// Fixation points (x, y in image pixels) by manifest image path.
pub type Fixations = HashMap<String, Vec<(f64, f64)>>;

/// Fixations of `gaze_fixations.csv` (docs/formats.md §1.3) by manifest image path; an absent file
/// gives none. Rows that do not parse are skipped and counted.
pub fn load_fixations(path: &Path) -> Result<(Fixations, usize), String> {
    let mut out = Fixations::new();
    if !path.exists() {
        return Ok((out, 0));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bad = 0;
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        match (
            f.first(),
            f.get(1).and_then(|x| x.trim().parse().ok()),
            f.get(2).and_then(|y| y.trim().parse().ok()),
        ) {
            (Some(img), Some(x), Some(y)) => {
                out.entry(img.trim().to_owned()).or_default().push((x, y))
            }
            _ => bad += 1,
        }
    }
    Ok((out, bad))
}

/// Recorded fixations (x, y in pixels of the image, whose heatmap is `heatmap_dim` = (height,
/// width) at image resolution) on a model grid of side `size`; points outside the crop are dropped.
pub fn grid_fixations(
    fixations: &[(f64, f64)],
    heatmap_dim: (usize, usize),
    size: u32,
) -> Vec<Pixel> {
    let (hh, hw) = heatmap_dim;
    fixations
        .iter()
        .filter_map(|&(x, y)| fixation_on_grid(x, y, hw, hh, size))
        .collect()
}

/// The fixations file of a dataset (docs/formats.md §1.3): `gaze_fixations.csv` in its root.
pub fn fixations_path(dataset: &Dataset) -> PathBuf {
    dataset.root.join(FIXATIONS_FILE)
}

/// File name of the recorded fixations in a dataset's root.
pub const FIXATIONS_FILE: &str = "gaze_fixations.csv";

/// The target embedding of `item` for one model: the class embedding of its finding or the
/// embedding of its own report; `None` when the model has neither.
fn target(emb: &ModelEmbeddings, dataset: &Dataset, item: &Item) -> Option<Vec<f32>> {
    match &item.finding {
        Some(f) => {
            let p = emb.prompts.iter().find(|p| &p.name == f)?;
            Some(zeroshot::class_embedding(p.positive.view())?.to_vec())
        }
        None => {
            let split = emb.splits.get(&dataset.splits.test)?;
            let pos = split.rows.iter().position(|&r| r == item.row)?;
            Some(split.text.row(pos).to_vec())
        }
    }
}

/// What the saliency step reads besides the models: the recorded fixations and each item's expert
/// heatmap at image resolution (read once per row; the error where it could not be read).
struct Inputs {
    fix: Fixations,
    heatmaps: BTreeMap<usize, Result<Array2<f64>, String>>,
}

/// The fixations and heatmaps of `items`; `notes` say what could not be read.
fn read_inputs(dataset: &Dataset, items: &[Item], notes: &mut Vec<String>) -> Inputs {
    let (fix, bad) = load_fixations(&fixations_path(dataset)).unwrap_or_else(|e| {
        notes.push(format!(
            "fixations not read ({e}); local maxima of the heatmaps used"
        ));
        (HashMap::new(), 0)
    });
    if bad > 0 {
        notes.push(format!(
            "gaze_fixations.csv: {bad} rows that do not parse were skipped"
        ));
    }
    let mut heatmaps: BTreeMap<usize, Result<Array2<f64>, String>> = BTreeMap::new();
    for it in items {
        heatmaps.entry(it.row).or_insert_with(|| {
            let p = dataset
                .root
                .join(dataset.rows[it.row].heatmap.as_ref().expect("filtered"));
            load_heatmap(&p).map_err(|e| e.to_string())
        });
    }
    let bad_heat: Vec<&String> = heatmaps.values().filter_map(|h| h.as_ref().err()).collect();
    if !bad_heat.is_empty() {
        notes.push(format!(
            "{} heatmaps could not be read, first: {}",
            bad_heat.len(),
            bad_heat[0]
        ));
    }
    Inputs { fix, heatmaps }
}

/// What every model's pass shares.
struct Pass<'a> {
    wb: &'a Workbench,
    cfg: &'a SaliencySettings,
    dataset: &'a Dataset,
    items: &'a [Item],
    inputs: &'a Inputs,
    cancel: &'a AtomicBool,
}

/// One model's agreement and map per item (`None` where it has none).
type ModelPass = (Vec<Option<Agreement>>, Vec<Option<Array2<f64>>>);

/// Computes (or reads from the cache) one model's maps of the items it has a target for and
/// scores them against the heatmaps on its input grid (`grid_heat` keeps those per row and size).
fn score_model(
    p: &Pass<'_>,
    model: &crate::model::Model,
    emb: &ModelEmbeddings,
    grid_heat: &mut HashMap<(usize, u32), Array2<f64>>,
    notes: &mut Vec<String>,
) -> Result<ModelPass, SaliencyError> {
    let (dataset, items, heatmaps) = (p.dataset, p.items, &p.inputs.heatmaps);
    let size = model.preprocessor.size;
    let mut usable = Vec::new();
    let mut work = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if let (Some(t), Some(Ok(_))) = (target(emb, dataset, it), heatmaps.get(&it.row)) {
            usable.push(i);
            work.push(SaliencyItem {
                image: dataset.root.join(&dataset.rows[it.row].image),
                target: t,
            });
        }
    }
    let run = compute_maps(model, &work, p.cfg, &p.wb.cache, p.wb.batch_size, p.cancel)?;
    notes.push(format!(
        "model {}: {} maps ({} computed in {:.1}s, {} cached), {} over the items limit or time budget, {} skipped",
        emb.model,
        run.computed + run.cached,
        run.computed,
        run.compute_time.as_secs_f64(),
        run.cached,
        run.over_limit,
        run.skipped.len()
    ));
    for (_, m) in run.skipped.iter().take(3) {
        notes.push(format!("model {}: {m}", emb.model));
    }
    // Broken map-cache chunks were deleted and their maps recomputed: say so, like the
    // embedding cache's rebuilt chunks.
    for c in &run.cache_problems {
        notes.push(format!("model {}: saliency cache: {c}", emb.model));
    }
    let mut s = vec![None; items.len()];
    let mut maps = vec![None; items.len()];
    for (k, map) in usable.iter().zip(run.maps) {
        let Some(map) = map else { continue };
        let it = &items[*k];
        let Some(Ok(h)) = heatmaps.get(&it.row) else {
            continue;
        };
        let heat = grid_heat
            .entry((it.row, size))
            .or_insert_with(|| heatmap_on_grid(h, size));
        let image = super::items::manifest_path(dataset, it.row);
        let points = grid_fixations(
            p.inputs.fix.get(&image).map_or(&[][..], Vec::as_slice),
            h.dim(),
            size,
        );
        let map = map.mapv(f64::from);
        s[*k] = Some(agreement(map.view(), heat.view(), &points));
        maps[*k] = Some(map);
    }
    Ok((s, maps))
}

/// Figure examples: the first items of each finding that every model has a map for, on the first
/// model's grid.
fn pick_examples(
    p: &Pass<'_>,
    models: &[ModelEmbeddings],
    maps_by_model: &[Vec<Option<Array2<f64>>>],
    grid_heat: &HashMap<(usize, u32), Array2<f64>>,
) -> Vec<SaliencyExample> {
    let (wb, dataset) = (p.wb, p.dataset);
    let mut examples = Vec::new();
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for (i, it) in p.items.iter().enumerate() {
        let key = it.findings.first().cloned().unwrap_or_default();
        let n = per.entry(key).or_default();
        if *n >= EXAMPLES_PER_FINDING || maps_by_model.iter().any(|m| m[i].is_none()) {
            continue;
        }
        let Some(size) = models.first().and_then(|e| {
            wb.models
                .iter()
                .find(|s| s.name == e.model)?
                .model
                .as_ref()
                .ok()
                .map(|m| m.preprocessor.size)
        }) else {
            break;
        };
        let Some(heat) = grid_heat.get(&(it.row, size)) else {
            continue;
        };
        *n += 1;
        examples.push(SaliencyExample {
            item: i,
            image: dataset.root.join(&dataset.rows[it.row].image),
            heatmap: heat.clone(),
            maps: maps_by_model.iter().map(|m| m[i].clone()).collect(),
        });
    }
    examples
}

/// Run the saliency task on `dataset` with the loaded models among `models`.
pub fn run(
    wb: &Workbench,
    cfg: &SaliencySettings,
    boot: &BootstrapConfig,
    compare: &crate::eval::groups::Compare,
    dataset: &Dataset,
    models: &[ModelEmbeddings],
    cancel: &AtomicBool,
) -> Result<SaliencyOutcome, SaliencyError> {
    let started = Instant::now();
    let setting = format!(
        "{}:{}",
        cfg.method.as_str(),
        match cfg.target {
            Target::Class => "class",
            Target::Report => "report",
        }
    );
    let items = items(dataset, cfg.target);
    let mut notes = Vec::new();
    let inputs = read_inputs(dataset, &items, &mut notes);
    let pass = Pass {
        wb,
        cfg,
        dataset,
        items: &items,
        inputs: &inputs,
        cancel,
    };
    let mut names = Vec::new();
    let mut scores = Vec::new();
    let mut maps_by_model: Vec<Vec<Option<Array2<f64>>>> = Vec::new();
    let mut grid_heat: HashMap<(usize, u32), Array2<f64>> = HashMap::new();
    for emb in models {
        let Some(model) = wb
            .models
            .iter()
            .find(|s| s.name == emb.model)
            .and_then(|s| s.model.as_ref().ok())
        else {
            notes.push(format!(
                "model {} is not loaded; no saliency maps",
                emb.model
            ));
            continue;
        };
        let (s, maps) = score_model(&pass, model, emb, &mut grid_heat, &mut notes)?;
        names.push(emb.model.clone());
        scores.push(s);
        maps_by_model.push(maps);
    }
    let findings: Vec<String> = dataset
        .zeroshot_classes
        .iter()
        .filter(|c| items.iter().any(|i| i.findings.contains(c)))
        .cloned()
        .collect();
    let scored: Vec<ScoredItem> = items
        .iter()
        .enumerate()
        .map(|(i, it)| ScoredItem {
            findings: it.findings.clone(),
            scores: scores.iter().map(|s| s[i]).collect(),
        })
        .collect();
    let groups =
        ModelGroups::resolve(&super::model_groups(&wb.config), &names).with_compare(compare);
    let rows = saliency_rows(
        &dataset.name,
        &names,
        &setting,
        boot,
        &findings,
        &scored,
        &groups,
    );
    let examples = pick_examples(&pass, models, &maps_by_model, &grid_heat);
    Ok(SaliencyOutcome {
        setting,
        items,
        models: names,
        scores,
        examples,
        rows,
        notes,
        wall_s: started.elapsed().as_secs_f64(),
    })
}

/// One model's map of one image ([`image_maps`]), on the model's input grid.
#[derive(Debug, Clone)]
pub struct ImageMap {
    pub map: Array2<f64>,
    /// The expert heatmap on the same grid.
    pub heatmap: Array2<f64>,
    pub agreement: Agreement,
    /// Side of the model's input grid.
    pub size: u32,
    /// The points NSS and AUC-Judd used: recorded fixations (`true`) or the heatmap's local maxima.
    pub recorded_fixations: bool,
    pub points: usize,
    /// Read from the cache rather than computed.
    pub cached: bool,
    pub seconds: f64,
}

/// One image to explain ([`image_maps`]): its file, its expert heatmap and its recorded fixations
/// (image pixels; empty when there are none).
#[derive(Debug, Clone, Copy)]
pub struct ImageInput<'a> {
    pub image: &'a Path,
    pub heatmap: &'a Path,
    pub fixations: &'a [(f64, f64)],
}

/// Saliency maps of one image for a few models, scored against its expert heatmap exactly as
/// [`run`] scores an item (the same cache, settings and fixation rule), for front ends that show
/// one image at a time (the TUI). `models` pairs each model with its L2-normalised target
/// embedding.
/// Per model: the map, or why there is none (`[saliency] items = 0`, an unreadable image, a
/// model error).
pub fn image_maps(
    models: &[(&crate::model::Model, Vec<f32>)],
    input: ImageInput<'_>,
    cfg: &SaliencySettings,
    cache: &crate::cache::EmbeddingCache,
    batch: usize,
    cancel: &AtomicBool,
) -> Result<Vec<Result<ImageMap, String>>, String> {
    let ImageInput {
        image,
        heatmap,
        fixations,
    } = input;
    let heat = load_heatmap(heatmap).map_err(|e| e.to_string())?;
    Ok(models
        .iter()
        .map(|(model, target)| {
            let item = SaliencyItem {
                image: image.to_path_buf(),
                target: target.clone(),
            };
            let t0 = Instant::now();
            let run = compute_maps(model, &[item], cfg, cache, batch, cancel)
                .map_err(|e| super::error_chain(&e))?;
            let map = match (run.maps.into_iter().next().flatten(), run.skipped.first()) {
                (Some(m), _) => m.mapv(f64::from),
                (None, Some((_, why))) => return Err(why.clone()),
                (None, None) if cfg.items == 0 => {
                    return Err("[saliency] items = 0: no maps are computed".to_owned());
                }
                (None, None) => return Err("no map (over the [saliency] limits)".to_owned()),
            };
            let size = model.preprocessor.size;
            let on_grid = heatmap_on_grid(&heat, size);
            let points = grid_fixations(fixations, heat.dim(), size);
            let recorded = !points.is_empty();
            let n = if recorded {
                points.len()
            } else {
                crate::eval::saliency::local_maxima(on_grid.view()).len()
            };
            Ok(ImageMap {
                agreement: agreement(map.view(), on_grid.view(), &points),
                map,
                heatmap: on_grid,
                size,
                recorded_fixations: recorded,
                points: n,
                cached: run.cached > 0,
                seconds: t0.elapsed().as_secs_f64(),
            })
        })
        .collect())
}

/// Add a saliency run to an evaluation: each model's rows after its own, comparison rows last,
/// notes prefixed `saliency:` and the definition.
pub fn merge(summary: &mut EvalSummary, outcome: &SaliencyOutcome) {
    super::merge_rows(summary, &outcome.rows);
    summary
        .notes
        .extend(outcome.notes.iter().map(|n| format!("saliency: {n}")));
    summary.definitions.extend(definitions());
}
