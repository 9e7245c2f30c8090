/*!
Linear probes on frozen image embeddings, fitted with `linfa-logistic` (L-BFGS).

Definitions (recorded in every report):
- loss = Σ_i log-loss_i + α/2·||W||² (intercept not penalised), i.e. scikit-learn's
  `LogisticRegression(C = 1/α)`; single-label probes are multinomial (softmax), multi-label probes fit
  one binary model per label;
- α is chosen from a log-spaced grid by the validation score (accuracy for single-label, macro AUROC
  for multi-label; ties go to the larger α, the simpler model). The model fitted on the training
  subset with the chosen α is the final one (validation labels are not added, so a label fraction
  stays what it says). The grid is walked from the largest α down and every fit starts from the
  previous α's solution (warm start); each fit stops when the gradient of the mean loss is below
  `gradient_tolerance` (scikit-learn's `tol`, see [`FitSettings`]) or at `max_iterations`;
- label fractions: single-label subsets are stratified, `max(1, round(f · n_c))` items of every class
  `c` (the "at least one per class" rule is reported whenever it applied); multi-label subsets are a
  seeded sample of `max(1, round(f · n))` rows, plus one random positive for any label the sample
  missed (also reported);
- each (fraction, seed) draws its own subset; the runs return the test predictions (class per item,
  or P(positive) per label and item) so that the suite can bootstrap test items and seeds together
  ([`crate::eval::inference::probe`]);
- with `[eval] probe_standardize` every feature is z-scored with the training subset's mean and
  population sd before the fit, and the validation and test features with the same statistics
  ([`Standardizer`], scikit-learn's `StandardScaler`); off by default;
- a probe that cannot be fitted is a typed [`FitFailure`] (one class in the training subset, or the
  solver refusing every α), and every chosen fit carries a [`FitCheck`]: the gradient norm of the
  summed loss at the returned solution against the stopping tolerance, because linfa does not say
  whether L-BFGS converged or ran out of iterations.
*/
use linfa::Dataset as LinfaDataset;
use linfa::traits::{Fit, Predict};
use linfa_logistic::{LogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::classify;

mod standardize;
pub use standardize::Standardizer;

/// Default α grid: 10^-4 … 10^2 (C = 10^4 … 10^-2).
pub fn default_alphas() -> Vec<f64> {
    (-4..=2).map(|e| 10f64.powi(e)).collect()
}

/// L-BFGS settings shared by every fit.
///
/// `gradient_tolerance` is on the scale of the *mean* loss, like scikit-learn's `tol` (its lbfgs
/// minimises mean log-loss + ||W||²/(2·C·n) and stops when the largest gradient component is below
/// `tol`): linfa minimises the summed loss, whose gradient is n times larger, so the fit stops when
/// the L2 norm of the summed gradient is below `gradient_tolerance · n` (the L2 norm bounds the
/// largest component, so this is at least as strict as scikit-learn's rule).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitSettings {
    pub max_iterations: u64,
    pub gradient_tolerance: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            max_iterations: 100,
            gradient_tolerance: 1e-4,
        }
    }
}

/// A training subset and what had to be said about drawing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subset {
    pub indices: Vec<usize>,
    pub notes: Vec<String>,
}

/// Stratified subset: `max(1, round(f · n_c))` items of every class present, seeded.
pub fn stratified_subset(y: &[usize], class_names: &[String], fraction: f64, seed: u64) -> Subset {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut indices = Vec::new();
    let mut notes = Vec::new();
    for (c, name) in class_names.iter().enumerate() {
        let mut members: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
        if members.is_empty() {
            notes.push(format!(
                "class {name} has no training items: the probe cannot predict it"
            ));
            continue;
        }
        let want = fraction * members.len() as f64;
        let take = (want.round() as usize).clamp(1, members.len());
        if want < 0.5 {
            notes.push(format!(
                "fraction={fraction}: class {name} has {} training items, {want:.2} rounds to 0; \
                 took 1 (at least one per class)",
                members.len()
            ));
        }
        members.shuffle(&mut rng);
        indices.extend_from_slice(&members[..take]);
    }
    indices.sort_unstable();
    Subset { indices, notes }
}

/// Multi-label subset: seeded sample of `max(1, round(f · n))` rows, plus one random positive for
/// every label that has positives in the full set but none in the sample.
pub fn multilabel_subset(
    y: &[Vec<bool>],
    label_names: &[String],
    fraction: f64,
    seed: u64,
) -> Subset {
    let n = y.len();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let take = ((fraction * n as f64).round() as usize).clamp(n.min(1), n);
    let mut indices: Vec<usize> = order[..take].to_vec();
    let mut notes = Vec::new();
    for (l, name) in label_names.iter().enumerate() {
        if indices.iter().any(|&i| y[i][l]) {
            continue;
        }
        let positives: Vec<usize> = (0..n).filter(|&i| y[i][l]).collect();
        if let Some(&extra) = positives.choose(&mut rng) {
            indices.push(extra);
            notes.push(format!(
                "fraction={fraction}: the sample had no positive for {name}; added one"
            ));
        }
    }
    indices.sort_unstable();
    indices.dedup();
    Subset { indices, notes }
}

fn f64_rows(x: ArrayView2<f32>, idx: &[usize]) -> Array2<f64> {
    x.select(Axis(0), idx).mapv(f64::from)
}

/// Fit a linfa logistic model (`$params`: binary or multinomial) on rows `idx` of `x` with targets
/// `y[idx]`, starting from `$init` (parameters with the intercept as the last row) or zero; `Err`
/// with linfa's message when it refuses (one class only, no rows, a solver failure). A macro because linfa's parameter type is generic
/// over a private dimension parameter.
macro_rules! fit_rows {
    ($params:ident, $x:expr, $y:expr, $idx:expr, $alpha:expr, $s:expr, $init:expr) => {{
        let p = $params::default()
            .alpha($alpha)
            .max_iterations($s.max_iterations)
            .gradient_tolerance($s.gradient_tolerance * ($idx.len().max(1) as f64));
        let p = match $init {
            Some(init) => p.initial_params(init),
            None => p,
        };
        p.fit(&LinfaDataset::new(
            f64_rows($x, $idx),
            $idx.iter().map(|&i| $y[i]).collect::<Array1<_>>(),
        ))
        .map_err(|e| e.to_string())
    }};
}

/// A fitted single-label probe: predicts class indices of the original numbering.
pub struct MultinomialProbe {
    model: linfa_logistic::MultiFittedLogisticRegression<f64, usize>,
}

impl MultinomialProbe {
    /// Fit on rows `idx` of `x` with labels `y[idx]`. `None` when linfa refuses (e.g. no rows).
    pub fn fit(
        x: ArrayView2<f32>,
        y: &[usize],
        idx: &[usize],
        alpha: f64,
        s: FitSettings,
    ) -> Option<Self> {
        Self::fit_from(x, y, idx, alpha, s, None).ok()
    }

    /// [`fit`](Self::fit) starting from `warm`'s solution (fitted on the same rows, another α).
    pub fn fit_from(
        x: ArrayView2<f32>,
        y: &[usize],
        idx: &[usize],
        alpha: f64,
        s: FitSettings,
        warm: Option<&Self>,
    ) -> Result<Self, String> {
        let init = warm.map(|w| {
            let (p, b) = (w.model.params(), w.model.intercept());
            ndarray::concatenate(Axis(0), &[p.view(), b.view().insert_axis(Axis(0))])
                .expect("params and intercept share the class axis")
        });
        Ok(Self {
            model: fit_rows!(MultiLogisticRegression, x, y, idx, alpha, s, init)?,
        })
    }

    /// L2 norm of the gradient of linfa's summed loss at the fitted solution on rows `idx`
    /// (`Xᵀ(softmax(XW + b) − Y) + αW` and `Σ(softmax − Y)` for the intercept, as linfa's
    /// `multi_logistic_grad`): the number its stopping rule compares with the tolerance.
    pub fn gradient_norm(&self, x: ArrayView2<f32>, y: &[usize], idx: &[usize], alpha: f64) -> f64 {
        let (w, b) = (self.model.params(), self.model.intercept());
        let classes = self.model.classes();
        let xs = f64_rows(x, idx);
        let mut diff = xs.dot(w) + b;
        for (row, &i) in diff.rows_mut().into_iter().zip(idx) {
            let mut row = row;
            let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            row.mapv_inplace(|v| (v - max).exp());
            let sum = row.sum();
            row.mapv_inplace(|v| v / sum);
            if let Ok(k) = classes.binary_search(&y[i]) {
                row[k] -= 1.0;
            }
        }
        let gw = xs.t().dot(&diff) + &(w * alpha);
        let gb = diff.sum_axis(Axis(0));
        (gw.iter().chain(gb.iter()).map(|v| v * v).sum::<f64>()).sqrt()
    }

    pub fn predict(&self, x: ArrayView2<f32>) -> Vec<usize> {
        self.model.predict(&x.mapv(f64::from)).to_vec()
    }
}

/// A fitted binary probe: scores P(label = true).
pub struct BinaryProbe {
    model: linfa_logistic::FittedLogisticRegression<f64, bool>,
}

impl BinaryProbe {
    /// Fit on rows `idx`; `None` when the training rows hold only one class.
    pub fn fit(
        x: ArrayView2<f32>,
        y: &[bool],
        idx: &[usize],
        alpha: f64,
        s: FitSettings,
    ) -> Option<Self> {
        Self::fit_from(x, y, idx, alpha, s, None).ok()
    }

    /// [`fit`](Self::fit) starting from `warm`'s solution (fitted on the same rows, another α).
    pub fn fit_from(
        x: ArrayView2<f32>,
        y: &[bool],
        idx: &[usize],
        alpha: f64,
        s: FitSettings,
        warm: Option<&Self>,
    ) -> Result<Self, String> {
        let init = warm.map(|w| {
            let mut v = w.model.params().to_vec();
            v.push(w.model.intercept());
            Array1::from(v)
        });
        Ok(Self {
            model: fit_rows!(LogisticRegression, x, y, idx, alpha, s, init)?,
        })
    }

    /// L2 norm of the gradient of linfa's summed loss at the fitted solution on rows `idx`
    /// (targets t = ±1, `g_i = (σ(t_i z_i) − 1) t_i`, `Xᵀg + αw` and `Σ g_i` for the intercept, as
    /// linfa's `logistic_grad`).
    pub fn gradient_norm(&self, x: ArrayView2<f32>, y: &[bool], idx: &[usize], alpha: f64) -> f64 {
        let (w, b) = (self.model.params(), self.model.intercept());
        let pos = self.model.labels().pos.class;
        let xs = f64_rows(x, idx);
        let z = xs.dot(w) + b;
        let g: Array1<f64> = z
            .iter()
            .zip(idx)
            .map(|(&z, &i)| {
                let t = if y[i] == pos { 1.0 } else { -1.0 };
                (1.0 / (1.0 + (-t * z).exp()) - 1.0) * t
            })
            .collect();
        let gw = xs.t().dot(&g) + &(w * alpha);
        (gw.iter().map(|v| v * v).sum::<f64>() + g.sum().powi(2)).sqrt()
    }

    /// P(true) for every row of `x`.
    pub fn score(&self, x: ArrayView2<f32>) -> Vec<f64> {
        let p = self.model.predict_probabilities(&x.mapv(f64::from));
        // `predict_probabilities` is P(labels().pos.class).
        let flip = !self.model.labels().pos.class;
        p.iter().map(|&v| if flip { 1.0 - v } else { v }).collect()
    }
}

/// Fit a binary probe on rows `idx` and return P(positive) for every row of `x_eval`; `None` when
/// the training rows hold only one class.
pub fn binary_scores(
    x: ArrayView2<f32>,
    y: &[bool],
    idx: &[usize],
    x_eval: ArrayView2<f32>,
    alpha: f64,
    s: FitSettings,
) -> Option<Vec<f64>> {
    Some(BinaryProbe::fit(x, y, idx, alpha, s)?.score(x_eval))
}

/// How a chosen fit ended: the L2 norm of the gradient of the summed loss at the returned solution
/// against the tolerance the solver was given ([`FitSettings::gradient_tolerance`] · rows). A fit
/// above it stopped at `max_iterations` (or on a stalled line search) before converging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitCheck {
    pub gradient_norm: f64,
    pub tolerance: f64,
}

impl FitCheck {
    /// Whether the gradient reached the tolerance.
    pub fn converged(&self) -> bool {
        self.gradient_norm <= self.tolerance
    }
}

/// Why a probe could not be fitted (never silent: the suite writes a note and a warning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FitFailure {
    /// The training subset holds one class only (or none): nothing to separate.
    OneClass { classes: usize },
    /// linfa refused every α (its message for the last one).
    Solver(String),
}

impl std::fmt::Display for FitFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitFailure::OneClass { classes } => write!(
                f,
                "the training subset holds {classes} class(es), a probe needs two"
            ),
            FitFailure::Solver(m) => write!(f, "the solver failed for every α ({m})"),
        }
    }
}

/// Scores of one single-label probe run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleLabelScores {
    pub alpha: f64,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Predicted class of every test item (for the item bootstrap).
    pub predictions: Vec<usize>,
    /// How the chosen fit ended.
    pub fit: FitCheck,
}

/// Features and class labels of one split.
#[derive(Debug)]
pub struct Split<'a, T> {
    pub x: ArrayView2<'a, f32>,
    pub y: &'a [T],
}

impl<T> Clone for Split<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Split<'_, T> {}

/// Choose α on `val` with models fit on `train[idx]`, then score the chosen model on `test`.
/// `Err` when the subset has fewer than two classes or no α produced a model.
pub fn single_label_run(
    train: Split<usize>,
    idx: &[usize],
    val: Split<usize>,
    test: Split<usize>,
    n_classes: usize,
    alphas: &[f64],
    s: FitSettings,
) -> Result<SingleLabelScores, FitFailure> {
    let mut present: Vec<usize> = idx.iter().map(|&i| train.y[i]).collect();
    present.sort_unstable();
    present.dedup();
    if present.len() < 2 {
        return Err(FitFailure::OneClass {
            classes: present.len(),
        });
    }
    let mut best: Option<(f64, f64, std::rc::Rc<MultinomialProbe>)> = None;
    let mut failure = String::new();
    // Largest α first so that ties keep the simpler model; each fit starts from the previous α's
    // solution (a regularisation path: the optimum moves little between neighbouring α).
    let mut grid = alphas.to_vec();
    grid.sort_by(|a, b| b.total_cmp(a));
    let mut warm: Option<std::rc::Rc<MultinomialProbe>> = None;
    for alpha in grid {
        let probe =
            match MultinomialProbe::fit_from(train.x, train.y, idx, alpha, s, warm.as_deref()) {
                Ok(p) => std::rc::Rc::new(p),
                Err(e) => {
                    failure = e;
                    continue;
                }
            };
        warm = Some(probe.clone());
        let score = if val.y.is_empty() {
            0.0
        } else {
            classify::accuracy(val.y, &probe.predict(val.x), None)
        };
        if best.as_ref().is_none_or(|b| score > b.1) {
            best = Some((alpha, score, probe));
        }
        if val.y.is_empty() {
            break;
        }
    }
    let (alpha, _, probe) = best.ok_or(FitFailure::Solver(failure))?;
    let pred = probe.predict(test.x);
    Ok(SingleLabelScores {
        alpha,
        accuracy: classify::accuracy(test.y, &pred, None),
        macro_f1: classify::macro_f1(test.y, &pred, n_classes, None),
        fit: FitCheck {
            gradient_norm: probe.gradient_norm(train.x, train.y, idx, alpha),
            tolerance: s.gradient_tolerance * idx.len().max(1) as f64,
        },
        predictions: pred,
    })
}

/// Scores of one multi-label probe run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelScores {
    pub alpha: f64,
    /// Per label; `None` where the training subset or the test split lacks one of the classes.
    pub auroc: Vec<Option<f64>>,
    pub macro_auroc: Option<f64>,
    /// P(positive) of every test item per label at the chosen α; `None` where the label's probe
    /// could not be fitted.
    pub scores: Vec<Option<Vec<f64>>>,
    /// Per label at the chosen α: `None` when fitted, else why not.
    pub failures: Vec<Option<FitFailure>>,
    /// Per label at the chosen α: how the fit ended (`None` where not fitted).
    pub fits: Vec<Option<FitCheck>>,
}

fn label_column(y: &[Vec<bool>], l: usize) -> Vec<bool> {
    y.iter().map(|r| r[l]).collect()
}

/// Per-label binary probes: one shared α chosen by validation macro AUROC, scored on `test`.
/// `None` only for an empty α grid.
pub fn multi_label_run(
    train: Split<Vec<bool>>,
    idx: &[usize],
    val: Split<Vec<bool>>,
    test: Split<Vec<bool>>,
    n_labels: usize,
    alphas: &[f64],
    s: FitSettings,
) -> Option<MultiLabelScores> {
    let mut grid = alphas.to_vec();
    grid.sort_by(|a, b| b.total_cmp(a));
    let columns =
        |y: &[Vec<bool>]| -> Vec<Vec<bool>> { (0..n_labels).map(|l| label_column(y, l)).collect() };
    let (ytr, yval, yte) = (columns(train.y), columns(val.y), columns(test.y));
    let tolerance = s.gradient_tolerance * idx.len().max(1) as f64;
    // Labels whose training subset holds one class only: never fitted.
    let one_class: Vec<Option<FitFailure>> = ytr
        .iter()
        .map(|y| {
            let pos = idx.iter().filter(|&&i| y[i]).count();
            let classes = usize::from(pos > 0) + usize::from(pos < idx.len());
            (classes < 2).then_some(FitFailure::OneClass { classes })
        })
        .collect();
    /// One α's outcome: validation score and the test scores, failures and fit checks per label.
    type Outcome = (
        f64,
        f64,
        Vec<Option<Vec<f64>>>,
        Vec<Option<FitFailure>>,
        Vec<Option<FitCheck>>,
    );
    let mut best: Option<Outcome> = None;
    // Per label, each α starts from the previous (larger) α's solution.
    let mut warm: Vec<Option<BinaryProbe>> = (0..n_labels).map(|_| None).collect();
    for &alpha in &grid {
        let mut val_auc = Vec::with_capacity(n_labels);
        let mut test_scores = Vec::with_capacity(n_labels);
        let mut failures = Vec::with_capacity(n_labels);
        let mut fits = Vec::with_capacity(n_labels);
        for l in 0..n_labels {
            let probe = match &one_class[l] {
                Some(f) => Err(f.clone()),
                None => BinaryProbe::fit_from(train.x, &ytr[l], idx, alpha, s, warm[l].as_ref())
                    .map_err(FitFailure::Solver),
            };
            val_auc.push(match (&probe, val.y.is_empty()) {
                (Ok(p), false) => classify::auroc(&yval[l], &p.score(val.x), None),
                _ => None,
            });
            test_scores.push(probe.as_ref().ok().map(|p| p.score(test.x)));
            fits.push(probe.as_ref().ok().map(|p| FitCheck {
                gradient_norm: p.gradient_norm(train.x, &ytr[l], idx, alpha),
                tolerance,
            }));
            match probe {
                Ok(p) => {
                    failures.push(None);
                    warm[l] = Some(p);
                }
                Err(e) => failures.push(Some(e)),
            }
        }
        let score = classify::mean_defined(&val_auc).unwrap_or(f64::NEG_INFINITY);
        if best.as_ref().is_none_or(|b| score > b.1) {
            best = Some((alpha, score, test_scores, failures, fits));
        }
        if val.y.is_empty() {
            break;
        }
    }
    let (alpha, _, scores, failures, fits) = best?;
    let auroc: Vec<Option<f64>> = scores
        .iter()
        .zip(&yte)
        .map(|(sc, y)| sc.as_ref().and_then(|sc| classify::auroc(y, sc, None)))
        .collect();
    Some(MultiLabelScores {
        alpha,
        macro_auroc: classify::mean_defined(&auroc),
        auroc,
        scores,
        failures,
        fits,
    })
}

/// Paired t-test over seeds: mean of `b − a`, its 95% t-interval and the two-sided p-value.
/// `None` for fewer than two pairs. Identical deltas on every seed (no spread) give a NaN interval
/// and p-value: the test has nothing to estimate the noise from.
pub fn paired_t_test(a: &[f64], b: &[f64], confidence: f64) -> Option<(f64, f64, f64, f64)> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let k = d.len();
    if k < 2 {
        return None;
    }
    let (mean, sd) = super::stats::mean_sd(&d);
    let se = sd / (k as f64).sqrt();
    let dist = StudentsT::new(0.0, 1.0, (k - 1) as f64).ok()?;
    let tq = dist.inverse_cdf(0.5 + confidence / 2.0);
    if se == 0.0 {
        return Some((mean, f64::NAN, f64::NAN, f64::NAN));
    }
    let t = mean / se;
    let p = 2.0 * (1.0 - dist.cdf(t.abs()));
    Some((mean, mean - tq * se, mean + tq * se, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    /// Three separable-ish classes in 4-D, 60 items: x = one-hot(class) * 2 + a fixed pattern.
    fn toy() -> (Array2<f32>, Vec<usize>) {
        let y: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let x = Array2::from_shape_fn((60, 4), |(i, j)| {
            let base = if j == y[i] { 2.0 } else { 0.0 };
            base + (((i * 7 + j * 13) % 11) as f32 - 5.0) * 0.3
        });
        (x, y)
    }

    #[test]
    fn gradient_norm_is_zero_at_the_optimum_and_large_after_one_step() {
        let (x, y) = toy();
        let all: Vec<usize> = (0..60).collect();
        let tight = FitSettings {
            max_iterations: 2000,
            gradient_tolerance: 1e-9,
        };
        let short = FitSettings {
            max_iterations: 1,
            gradient_tolerance: 1e-9,
        };
        let m = MultinomialProbe::fit(x.view(), &y, &all, 0.5, tight).unwrap();
        let at_opt = m.gradient_norm(x.view(), &y, &all, 0.5);
        let m1 = MultinomialProbe::fit(x.view(), &y, &all, 0.5, short).unwrap();
        let early = m1.gradient_norm(x.view(), &y, &all, 0.5);
        assert!(at_opt < 1e-5, "{at_opt}");
        assert!(early > 1e3 * at_opt.max(1e-9) && early > 0.1, "{early}");
        let yb: Vec<bool> = y.iter().map(|&c| c == 0).collect();
        let b = BinaryProbe::fit(x.view(), &yb, &all, 0.5, tight).unwrap();
        let b1 = BinaryProbe::fit(x.view(), &yb, &all, 0.5, short).unwrap();
        let (opt, one) = (
            b.gradient_norm(x.view(), &yb, &all, 0.5),
            b1.gradient_norm(x.view(), &yb, &all, 0.5),
        );
        assert!(opt < 1e-5 && one > 0.1, "{opt} {one}");
    }

    #[test]
    fn a_one_class_subset_is_a_typed_failure_and_short_fits_are_flagged() {
        let (x, y) = toy();
        let split = Split { x: x.view(), y: &y };
        let none = Split {
            x: x.slice(ndarray::s![0..0, ..]),
            y: &[],
        };
        let s = FitSettings::default();
        // Items 0, 3, 6, ... are all class 0.
        let one: Vec<usize> = (0..60).step_by(3).collect();
        assert_eq!(
            single_label_run(split, &one, none, split, 3, &[1.0], s),
            Err(FitFailure::OneClass { classes: 1 })
        );
        let all: Vec<usize> = (0..60).collect();
        let ok = single_label_run(split, &all, none, split, 3, &[1.0], s).unwrap();
        assert_eq!(ok.predictions.len(), 60);
        assert!(ok.fit.converged(), "{:?}", ok.fit);
        let short = FitSettings {
            max_iterations: 1,
            ..s
        };
        let early = single_label_run(split, &all, none, split, 3, &[1.0], short).unwrap();
        assert!(!early.fit.converged(), "{:?}", early.fit);
        // Multi-label: a label without positives in the subset is never fitted, and says why.
        let ym: Vec<Vec<bool>> = y.iter().map(|&c| vec![c == 0, false]).collect();
        let ms = Split {
            x: x.view(),
            y: &ym,
        };
        let mnone = Split {
            x: x.slice(ndarray::s![0..0, ..]),
            y: &[],
        };
        let r = multi_label_run(ms, &all, mnone, ms, 2, &[1.0], s).unwrap();
        assert_eq!(r.failures[1], Some(FitFailure::OneClass { classes: 1 }));
        assert!(r.failures[0].is_none() && r.scores[0].is_some() && r.scores[1].is_none());
        assert_eq!(r.macro_auroc, r.auroc[0]);
    }

    #[test]
    fn stratified_keeps_one_per_class_and_says_so() {
        let y: Vec<usize> = [vec![0; 150], vec![1; 20], vec![2; 0]].concat();
        let s = stratified_subset(&y, &names(3), 0.01, 0);
        let per: Vec<usize> = (0..3)
            .map(|c| s.indices.iter().filter(|&&i| y[i] == c).count())
            .collect();
        assert_eq!(per, vec![2, 1, 0]);
        assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
        assert_eq!(stratified_subset(&y, &names(3), 0.01, 0), s);
        assert_ne!(stratified_subset(&y, &names(3), 0.01, 1).indices, s.indices);
    }

    #[test]
    fn multilabel_subset_adds_missing_positives() {
        let mut y = vec![vec![false, false]; 100];
        y[7][1] = true;
        let s = multilabel_subset(&y, &names(2), 0.05, 3);
        assert!(s.indices.contains(&7));
        assert_eq!(s.notes.len(), 1);
    }

    #[test]
    fn paired_t_matches_scipy() {
        // scipy.stats.ttest_rel([0.55, 0.62, 0.78], [0.5, 0.6, 0.7]) -> t=2.88675, p=0.1019735
        let (m, _, _, p) = paired_t_test(&[0.5, 0.6, 0.7], &[0.55, 0.62, 0.78], 0.95).unwrap();
        assert!((m - 0.05).abs() < 1e-12);
        assert!((p - 0.101_973_489_866_125_48).abs() < 1e-9, "{p}");
        assert!(paired_t_test(&[0.5], &[0.6], 0.95).is_none());
    }
}
