/*! The probe warnings: every fit that failed or did not converge, and a larger label fraction
scoring below a smaller one by more than its interval (the text `--report` prints on stderr and the
review lists). */
use super::SeedOutcome;
use crate::eval::inference::probe::FractionInversion;

/// The warning for a larger fraction scoring below a smaller one by more than its interval.
pub(super) fn inversion_warning(
    dataset: &str,
    model: &str,
    metric: &str,
    inv: &FractionInversion,
) -> String {
    format!(
        "{dataset}: linear_probe {metric} of {model} is lower at fraction={} ({:.4}, interval up to {:.4}) than at fraction={} ({:.4}): the larger label fraction scores lower by more than its interval",
        inv.larger, inv.larger_value, inv.larger_ci_high, inv.smaller, inv.smaller_value
    )
}

/// Warnings for every probe that could not be fitted or did not converge, naming dataset, model,
/// fraction, seed (and label for the multi-label probes): never a silent absence.
pub(super) fn fit_warnings(
    dataset: &str,
    names: &[String],
    fractions: &[f64],
    results: &[Vec<Vec<SeedOutcome>>],
    labels: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    for (m, name) in names.iter().enumerate() {
        for (f, &fraction) in fractions.iter().enumerate() {
            let at = |seed: u64| {
                format!("{dataset}: linear_probe {name} fraction={fraction} seed {seed}")
            };
            for o in &results[m][f] {
                match &o.single_fit {
                    Some(Err(e)) => out.push(format!(
                        "{}: the single-label probe could not be fitted: {e}; its accuracy and macro_f1 leave this seed out",
                        at(o.seed)
                    )),
                    Some(Ok(s)) if !s.fit.converged() => out.push(format!(
                        "{}: the single-label probe (α = {}) did not converge: gradient norm {:.3e} above the tolerance {:.3e} after at most probe_max_iterations iterations",
                        at(o.seed),
                        s.alpha,
                        s.fit.gradient_norm,
                        s.fit.tolerance
                    )),
                    _ => {}
                }
                let Some(ml) = &o.multi else {
                    continue;
                };
                for (l, label) in labels.iter().enumerate() {
                    if let Some(Some(e)) = ml.failures.get(l) {
                        out.push(format!(
                            "{}: the multi-label probe of {label} could not be fitted: {e}; macro_auroc averages the other labels",
                            at(o.seed)
                        ));
                    }
                }
                let slow: Vec<&str> = labels
                    .iter()
                    .zip(&ml.fits)
                    .filter(|(_, c)| c.is_some_and(|c| !c.converged()))
                    .map(|(l, _)| l.as_str())
                    .collect();
                if !slow.is_empty() {
                    out.push(format!(
                        "{}: the multi-label probes (α = {}) of {} did not converge (gradient norm above the tolerance after at most probe_max_iterations iterations)",
                        at(o.seed),
                        ml.alpha,
                        slow.join(", ")
                    ));
                }
            }
        }
    }
    out
}
