/*!
Seeded synthetic datasets and embeddings with known structure, for tests, benchmarks and UI work
before (or without) real models.

Each class has a random unit centre; an image embedding is `normalize(centre + noise·z + gap_img)`,
a text embedding `normalize(centre + noise·z' + gap_txt)`, with fixed random offsets whose size sets
the modality gap. Lower `noise` gives a "better" model. No file is read or written: the dataset's
paths are placeholders.
*/
use std::collections::BTreeMap;
use std::path::PathBuf;

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::{ClassPromptEmbeddings, ModelEmbeddings, SplitEmbeddings};
use crate::data::{ClassPrompts, Dataset, Row, SplitRoles};

/// One synthetic model.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticModel {
    pub name: String,
    /// Per-coordinate noise added to the class centre (relative to a unit centre).
    pub noise: f32,
    /// Length of each modality's offset (the gap grows with it).
    pub gap: f32,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    pub classes: usize,
    pub dim: usize,
    /// Items per class in train / val / test / test_5x200.
    pub per_class: [usize; 4],
    /// Probability that an item carries a second (multi-label) positive.
    pub second_label: f64,
    /// Fraction of reports that are the boilerplate "no acute cardiopulmonary process." (duplicates).
    pub duplicate_reports: f64,
    pub seed: u64,
    pub models: Vec<SyntheticModel>,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            classes: 5,
            dim: 32,
            per_class: [60, 20, 40, 20],
            second_label: 0.2,
            duplicate_reports: 0.05,
            seed: 0,
            models: vec![
                SyntheticModel {
                    name: "CLIP".into(),
                    noise: 0.35,
                    gap: 0.8,
                },
                SyntheticModel {
                    name: "eCLIP".into(),
                    noise: 0.25,
                    gap: 0.4,
                },
            ],
        }
    }
}

const SPLITS: [&str; 4] = ["train", "val", "test", "test_5x200"];

fn unit(v: Array1<f32>) -> Array1<f32> {
    let n = v.mapv(|x| x * x).sum().sqrt();
    if n > 0.0 { v / n } else { v }
}

fn gaussian(rng: &mut StdRng, dim: usize) -> Array1<f32> {
    (0..dim)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect()
}

/// The dataset and one [`ModelEmbeddings`] per model.
#[expect(
    clippy::too_many_lines,
    reason = "a test-data generator written as one readable recipe (rows, labels, images, reports, embeddings) in generation order"
)]
pub fn synthetic(spec: &SyntheticSpec) -> (Dataset, Vec<ModelEmbeddings>) {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let class_names: Vec<String> = (0..spec.classes).map(|c| format!("finding_{c}")).collect();
    let mut labels = class_names.clone();
    labels.push("no_finding".into());
    let mut rows = Vec::new();
    // (split, primary class, secondary class)
    let mut items: Vec<(usize, usize, Option<usize>)> = Vec::new();
    for (s, split) in SPLITS.iter().enumerate() {
        for c in 0..spec.classes {
            for _ in 0..spec.per_class[s] {
                let second = (s != 3 && spec.classes > 1 && rng.gen_bool(spec.second_label))
                    .then(|| (c + rng.gen_range(1..spec.classes)) % spec.classes);
                let mut l = vec![0u8; labels.len()];
                l[c] = 1;
                if let Some(d) = second {
                    l[d] = 1;
                }
                let report = if rng.gen_bool(spec.duplicate_reports) {
                    "no acute cardiopulmonary process.".to_string()
                } else {
                    format!(
                        "{} seen. item {}.",
                        class_names[c].replace('_', " "),
                        rows.len()
                    )
                };
                rows.push(Row {
                    line: rows.len() + 2,
                    image: PathBuf::from(format!("synthetic/{}.png", rows.len())),
                    report,
                    split: split.to_string(),
                    patient: None,
                    labels: l,
                    heatmap: None,
                });
                items.push((s, c, second));
            }
        }
    }
    let centres: Vec<Array1<f32>> = (0..spec.classes)
        .map(|_| unit(gaussian(&mut rng, spec.dim)))
        .collect();
    let prompts: Vec<ClassPrompts> = class_names
        .iter()
        .map(|c| ClassPrompts {
            name: c.clone(),
            positive: vec![c.replace('_', " "), format!("signs of {c}")],
            negative: vec![format!("no {c}")],
        })
        .collect();
    let models = spec
        .models
        .iter()
        .map(|m| {
            let gap_img = unit(gaussian(&mut rng, spec.dim)) * m.gap;
            let gap_txt = unit(gaussian(&mut rng, spec.dim)) * m.gap;
            let embed = |centre: &Array1<f32>, offset: &Array1<f32>, rng: &mut StdRng| {
                unit(centre + &(gaussian(rng, spec.dim) * m.noise) + offset)
            };
            let mut splits = BTreeMap::new();
            for (s, split) in SPLITS.iter().enumerate() {
                let members: Vec<usize> = (0..items.len()).filter(|&i| items[i].0 == s).collect();
                let mut image = Array2::<f32>::zeros((members.len(), spec.dim));
                let mut text = Array2::<f32>::zeros((members.len(), spec.dim));
                for (k, &i) in members.iter().enumerate() {
                    let (_, c, second) = items[i];
                    let centre = match second {
                        Some(d) => unit(&centres[c] + &(&centres[d] * 0.5)),
                        None => centres[c].clone(),
                    };
                    image.row_mut(k).assign(&embed(&centre, &gap_img, &mut rng));
                    text.row_mut(k).assign(&embed(&centre, &gap_txt, &mut rng));
                }
                splits.insert(
                    split.to_string(),
                    SplitEmbeddings {
                        rows: members,
                        image,
                        text,
                    },
                );
            }
            let prompts = (0..spec.classes)
                .map(|c| {
                    let mut positive = Array2::<f32>::zeros((2, spec.dim));
                    for mut r in positive.rows_mut() {
                        r.assign(&embed(&centres[c], &gap_txt, &mut rng));
                    }
                    let mut negative = Array2::<f32>::zeros((1, spec.dim));
                    negative
                        .row_mut(0)
                        .assign(&embed(&(&centres[c] * -0.3), &gap_txt, &mut rng));
                    ClassPromptEmbeddings {
                        name: class_names[c].clone(),
                        positive,
                        negative,
                    }
                })
                .collect();
            ModelEmbeddings {
                model: m.name.clone(),
                splits,
                prompts,
                // The fixture models' learned scale (model.json: 14.28), so calibration runs.
                logit_scale: Some(14.28),
            }
        })
        .collect();
    let dataset = Dataset {
        name: "synthetic".into(),
        root: PathBuf::from("synthetic"),
        manifest: PathBuf::from("synthetic/manifest.csv"),
        labels,
        zeroshot_classes: class_names,
        splits: SplitRoles {
            train: "train".into(),
            val: "val".into(),
            test: "test".into(),
            single_positive: Some("test_5x200".into()),
        },
        rows,
        prompts,
        skipped: Vec::new(),
        warnings: Vec::new(),
        labeler: Default::default(),
    };
    (dataset, models)
}
