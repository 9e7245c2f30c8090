/*!
The result of evaluating one dataset under every model: all tidy [`MetricRow`]s (per-model rows and
`B - A` comparison rows) plus the data behind the figures (probe curves with their seed spread,
cosine histograms, group-cosine matrices, 2-D PCA with the gap vector, gap-shift curves).

The report writers (`src/report`) and the terminal UI read this one struct, so the CSV, the review,
the SVG figures and the TUI's charts always show the same numbers. It is plain data: serialisable
with serde for `--json`, no references into the embeddings.
*/
use serde::{Deserialize, Serialize};

use super::MetricRow;
use super::config::EvalConfig;
use super::geometry::{CosineHistograms, Pca2};
use super::metrics::{Setting, Task};
use super::protocol::ProtocolSettings;

/// Everything evaluated on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    pub dataset: String,
    /// Names of the evaluated models (replicates included) in config order; `plots` follow it.
    /// Without replicate groups the first is the reference `A` of every comparison row.
    pub models: Vec<String>,
    /// The replicate groups (`[[models]] replicates`), empty when every model is one trained
    /// model; comparisons are then between groups ([`EvalSummary::subjects`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<super::groups::ModelGroup>,
    /// Per-model rows first (model order), then comparison rows (`<B> - <A>`).
    pub rows: Vec<MetricRow>,
    /// Figure data, one entry per model, in `models` order.
    pub plots: Vec<ModelPlots>,
    /// What a reader must know: undefined metrics, subsamples, probe-subset rules that applied,
    /// tasks skipped for missing splits.
    pub notes: Vec<String>,
    /// What a reader must be warned about, each naming its dataset (and model, fraction, seed
    /// where it applies): probes that could not be fitted or did not converge, a larger label
    /// fraction scoring below a smaller one by more than its interval. Printed on stderr by
    /// `--report`, listed in the review's "limits of this comparison", kept in `--json`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `(name, definition)` of every metric and procedure used.
    pub definitions: Vec<(String, String)>,
    /// The settings the numbers were computed with.
    pub config: EvalConfig,
    /// The protocol preset of this dataset and the definitions it resolved to.
    #[serde(default)]
    pub protocol: ProtocolSettings,
    /// Settings of the RAG task when its rows are included (`run::rag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rag: Option<RagRecord>,
}

/// The settings a RAG run used, as written to the report's record, JSON and review. Never holds
/// the API key (only whether one is read, through `api_key_env`'s variable name). Plain data kept
/// here so that the summary does not depend on the `rag` module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RagRecord {
    pub k: usize,
    pub m: usize,
    /// `split:<name>` (the dataset's unique reports of that split) or `csv:<path>`.
    pub corpus: String,
    pub query_split: String,
    pub limit: Option<usize>,
    pub seed: u64,
    pub bootstrap: usize,
    pub generators: Vec<String>,
    /// The template file, or `built-in`.
    pub prompt_template: String,
    /// SHA-256 of the template text; `None` when the file is unreadable and no LLM ran.
    pub prompt_template_sha256: Option<String>,
    /// Endpoint settings, only when an LLM generator ran.
    pub llm: Option<LlmRecord>,
    pub export_dir: Option<std::path::PathBuf>,
    /// Items whose LLM call failed (left out of the metrics); any makes the run partial (exit 2).
    #[serde(default)]
    pub failed_llm_items: usize,
    /// `[rag] cluster_with`: `model` (the evaluated model's text embeddings) or `text_encoder`.
    #[serde(default = "default_cluster_with")]
    pub cluster_with: String,
    /// The separate text encoder of `[rag] text_encoder`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_encoder: Option<TextEncoderRecord>,
}

fn default_cluster_with() -> String {
    "model".into()
}

impl RagRecord {
    /// The name of the separate text encoder the KMeans ran on; `None` when it clustered the
    /// model's own text embeddings.
    pub fn clustered_on_text_encoder(&self) -> Option<&str> {
        match (&self.text_encoder, self.cluster_with.as_str()) {
            (Some(t), "text_encoder") => Some(t.name.as_str()),
            _ => None,
        }
    }
}

/// The text encoder of a RAG run (docs/formats.md §2.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextEncoderRecord {
    pub path: std::path::PathBuf,
    /// `text_encoder.json` `name` (e.g. `Bio_ClinicalBERT`).
    pub name: String,
    pub layer: usize,
    pub num_layers: usize,
    /// `mean` or `cls`.
    pub pooling: String,
    pub max_length: usize,
    pub graph_sha256: String,
    pub tokenizer_sha256: String,
}

/// The LLM endpoint as used (no key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmRecord {
    pub url: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    /// Name of the environment variable the key is read from, if any.
    pub api_key_env: Option<String>,
}

/// Figure data of one model on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPlots {
    pub model: String,
    /// Linear-probe metric vs label fraction (one curve per metric).
    pub probe_curves: Vec<ProbeCurve>,
    /// Matched vs unmatched image–text cosines on the test split.
    pub cosine: Option<CosineHistograms>,
    /// Mean cosine between abnormality groups (the eCLIP paper's motivating figure).
    pub group_cosine: Option<GroupCosine>,
    /// 2-D PCA of image and text embeddings with the gap vector.
    pub pca: Option<Pca2>,
    /// Gap-shift sweep, one point per λ.
    pub gap_shift: Vec<GapShiftPoint>,
    /// Top-label reliability bins (15 equal-width) of the argmax zero-shot probabilities
    /// `softmax(logit_scale · cos)`; empty when the model has no `logit_scale`.
    #[serde(default)]
    pub reliability: Vec<crate::eval::inference::calibration::ReliabilityBin>,
    /// ROC curve of the posneg zero-shot score per class with positives and negatives.
    #[serde(default)]
    pub roc: Vec<ClassRoc>,
}

/// The posneg zero-shot ROC curve of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassRoc {
    pub class: String,
    pub curve: crate::eval::inference::delong::RocCurve,
}

/// One linear-probe metric as a function of the label fraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeCurve {
    /// `accuracy`, `macro_f1` or `macro_auroc`.
    pub metric: String,
    pub points: Vec<ProbePoint>,
}

/// Probe result at one fraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbePoint {
    pub fraction: f64,
    /// Mean over seeds.
    pub mean: f64,
    /// Sample standard deviation over seeds (0 for a single seed).
    pub sd: f64,
    /// The value of each seed, in `EvalConfig::probe_seeds` order (seeds whose probe could not be
    /// fitted are left out).
    pub per_seed: Vec<f64>,
    /// The L2 strength α chosen on validation for each seed.
    pub alphas: Vec<f64>,
    /// Training items used, per seed.
    pub n_train: Vec<usize>,
}

/// Mean cosine between groups (classes): within images, within texts and image–text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCosine {
    /// The split the groups were taken from.
    pub split: String,
    pub classes: Vec<String>,
    /// Items per class.
    pub counts: Vec<usize>,
    /// `image[a][b]`: mean image–image cosine between classes a and b; `None` when undefined.
    pub image: Vec<Vec<Option<f64>>>,
    /// Same for report (text) embeddings.
    pub text: Vec<Vec<Option<f64>>>,
    /// `image_text[a][b]`: mean cosine between the images of class a and the reports of class b,
    /// an item's own report left out ([`crate::eval::geometry::group_cross_cosine_matrix`]).
    #[serde(default)]
    pub image_text: Vec<Vec<Option<f64>>>,
}

/// Re-measured quantities after shifting both modalities by λ along the gap direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapShiftPoint {
    pub lambda: f64,
    pub modality_gap: f64,
    /// Argmax zero-shot accuracy on the single-positive split (`None` without one).
    pub zeroshot_accuracy: Option<f64>,
    /// Image→text R@1 on the test split.
    pub r_at_1: Option<f64>,
}

/// Progress of a running evaluation, for the TUI's gauges and stderr lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub dataset: String,
    /// Model being evaluated, or empty for cross-model work (comparisons).
    pub model: String,
    /// What is running, e.g. "retrieval" or "linear_probe fraction=0.1 seed=2".
    pub stage: String,
    /// Steps finished out of `total` for this dataset.
    pub done: usize,
    pub total: usize,
    /// Rows finished by this step (a whole task family: per-model rows, then comparison rows),
    /// exactly as they appear in the final [`EvalSummary::rows`]; empty for steps that finish none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<MetricRow>,
}

impl EvalSummary {
    /// The row of `model` for (task, setting, metric), if any.
    pub fn row(
        &self,
        model: &str,
        task: Task,
        setting: &Setting,
        metric: &str,
    ) -> Option<&MetricRow> {
        self.rows.iter().find(|r| {
            r.model == model && r.task == task && r.setting == *setting && r.metric == metric
        })
    }

    /// The names that are compared, in order (the first is `A`): the groups' when there are replicate
    /// groups, else the models'.
    pub fn subjects(&self) -> Vec<String> {
        if self.groups.is_empty() {
            self.models.clone()
        } else {
            self.groups.iter().map(|g| g.name.clone()).collect()
        }
    }

    /// The replicates behind subject `name` (1 for a plain model).
    pub fn replicates_of(&self, name: &str) -> usize {
        self.groups
            .iter()
            .find(|g| g.name == name)
            .map_or(1, |g| g.replicates.len())
    }

    /// Comparison rows (`B - A`).
    pub fn comparisons(&self) -> impl Iterator<Item = &MetricRow> {
        self.rows.iter().filter(|r| r.is_comparison())
    }

    /// Distinct (task, setting, metric) keys in first-seen order.
    pub fn metric_keys(&self) -> Vec<(Task, Setting, String)> {
        let mut keys: Vec<(Task, Setting, String)> = Vec::new();
        for r in &self.rows {
            let k = (r.task, r.setting.clone(), r.metric.clone());
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }
}

/// Definitions stated in every report (CSV record, JSON, review).
pub fn definitions() -> Vec<(String, String)> {
    [
        ("class embedding", "normalize(mean of the L2-normalised prompt embeddings of the class)"),
        ("zeroshot argmax", "single-positive split; predicted class = argmax cosine to the class embeddings (first class wins a tie); accuracy, balanced_accuracy (mean recall over classes present), f1:<label>, macro_f1 (mean over classes present or predicted; scikit-learn's convention)"),
        ("zeroshot posneg", "test split, multi-label; p = softmax(cos(x, positive class emb.), cos(x, negative class emb.))[0] on raw cosines (CheXzero); auroc:<label> (Mann-Whitney, ties count 1/2; empty = undefined: no positives or no negatives), macro_auroc = mean over defined labels"),
        ("linear_probe", "L2-regularised logistic regression on frozen image embeddings (linfa-logistic L-BFGS; loss = sum log-loss + alpha/2 ||W||^2, alpha = 1/C of scikit-learn); multinomial over the zero-shot classes on single-positive items (accuracy, macro_f1 on the single-positive split), one binary model per label on the test split (macro_auroc); alpha chosen on the validation split from a log-spaced grid; label fractions stratified with at least one item per class; value = mean over probe seeds, n = test items; ci and comparison p from a two-level bootstrap (each resample draws the probe seeds with replacement, then the test items, shared by both models and all drawn seeds; value = mean over the drawn seeds; BC interval, never excluding the estimate); fraction 1 is one fit (the whole training split), so its bootstrap is over test items only; alpha / alpha_multilabel rows: the median over seeds of the alpha chosen on validation (descriptive; per-seed values in the probe curves of --json)"),
        ("retrieval", "test split; rank of the paired item among all candidates, ties broken by index (rank = #greater + #equal at a smaller index, 0-based); r@k = fraction of queries with rank < k; median_rank is 1-based; mrr = mean 1/(rank+1); i2t_unique: gallery of unique report strings, hit = the query's exact report string"),
        ("modality_gap", "||mean_i x_i - mean_i y_i||_2 over test pairs (x image, y text, L2-normalised)"),
        ("alignment", "mean_i ||x_i - y_i||^2 (lower is better)"),
        ("uniformity", "log mean_{i<j} exp(-2 ||u_i - u_j||^2) per modality (lower is better); exact up to 5,000 items, else on a seeded subsample of 5,000"),
        ("cone", "mean cosine over distinct pairs within one modality"),
        ("mean_cos_matched / unmatched", "mean cos(x_i, y_i) / mean over i != j of cos(x_i, y_j)"),
        ("gap_shift", "x' = normalize(x - lambda/2 dir), y' = normalize(y + lambda/2 dir), dir = unit gap direction of the test split; prompts shift as text; re-measured: modality_gap, zeroshot_accuracy (argmax), r@1 (i2t)"),
        ("zeroshot calibration", "argmax split; p = softmax(logit_scale * cos(x, class emb.)) with the model's logit_scale from model.json; ece = sum_b (n_b/N) |acc_b - conf_b| over 15 equal-width bins of the top-label confidence (sklearn calibration_curve binning); brier = mean_i sum_k (p_ik - [y_i = k])^2 (multiclass, in [0, 2]); both lower is better"),
        ("auroc_delong:<label>", "comparison rows only, posneg setting: DeLong's paired test of AUROC_B - AUROC_A on the same test items (fast DeLong, Sun & Xu 2014); value = the delta, ci = delta +/- z * sqrt(DeLong variance), p = two-sided normal p; no macro row (the macro AUROC's variance needs cross-class covariances)"),
        ("bootstrap", "percentile bootstrap over evaluation items (queries, images), resamples and seed in the record; resamples where a metric is undefined are dropped; within-modality pair metrics count distinct items of the resample only"),
        ("comparison rows", "model '<B> - <A>' for every later model B against the first model A; value = B - A on the same items; paired bootstrap CI; two-sided p = min(1, 2 min((#{d*<=0}+1)/(B+1), (#{d*>=0}+1)/(B+1)))"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
