//! Tests of `replicates.rs`. Point values by hand (and numpy: `np.mean([0.75, 0.5, 1.0])` = 0.75,
//! `np.std([0.75, 0.5, 1.0], ddof=1)` = 0.25).
use super::*;
use crate::eval::stats::resampled;

/// Per-replicate correctness on 4 shared items: accuracies 0.75, 0.5, 1.0.
const CORRECT: [[f64; 4]; 3] = [[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0], [1.0; 4]];

fn acc(table: &[[f64; 4]]) -> impl Fn(usize, &[usize]) -> f64 + Sync + '_ {
    move |r, idx| idx.iter().map(|&i| table[r][i]).sum::<f64>() / idx.len() as f64
}

fn cfg() -> BootstrapConfig {
    BootstrapConfig::default()
}

#[test]
fn group_mean_and_between_sd_by_hand() {
    let g = group_bootstrap(3, 4, &cfg(), acc(&CORRECT)).unwrap();
    assert_eq!(g.per_replicate, vec![0.75, 0.5, 1.0]);
    assert_eq!(g.mean, 0.75);
    assert!((g.between_sd.unwrap() - 0.25).abs() < 1e-15);
    assert!(g.interval.low <= g.mean && g.mean <= g.interval.high);
    assert_eq!((g.replicates, g.n, g.interval.resamples), (3, 4, 1000));
    // Deterministic for a seed, different for another.
    assert_eq!(g, group_bootstrap(3, 4, &cfg(), acc(&CORRECT)).unwrap());
    // On a larger table another seed gives another interval.
    let big = |r: usize, idx: &[usize]| {
        idx.iter()
            .map(|&i| ((i * 7 + r * 3) % 5) as f64)
            .sum::<f64>()
            / idx.len() as f64
    };
    let g0 = group_bootstrap(3, 60, &cfg(), big).unwrap();
    let g9 = group_bootstrap(3, 60, &BootstrapConfig { seed: 9, ..cfg() }, big).unwrap();
    assert_eq!(g0.mean, g9.mean);
    assert_ne!(
        (g0.interval.low, g0.interval.high),
        (g9.interval.low, g9.interval.high)
    );
}

#[test]
fn replicate_stage_alone_mixes_replicate_values() {
    // A statistic that ignores the items: each round is the mean of 3 draws from {0.75, 0.5, 1.0},
    // so every round value is a multiple of 1/12 in [0.5, 1.0].
    let values = [0.75, 0.5, 1.0];
    let g = group_bootstrap(3, 10, &cfg(), |r, _| values[r]).unwrap();
    for bound in [g.interval.low, g.interval.high] {
        assert!((0.5..=1.0).contains(&bound));
    }
    assert!(
        g.interval.high - g.interval.low > 0.2,
        "seed spread reaches the interval"
    );
}

#[test]
fn one_replicate_is_the_item_bootstrap() {
    let data: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64).collect();
    let mean = |idx: &[usize]| idx.iter().map(|&i| data[i]).sum::<f64>() / idx.len() as f64;
    let g = group_bootstrap(1, 40, &cfg(), |_, idx| mean(idx)).unwrap();
    let items = resampled(40, &cfg(), mean);
    let want = bca_interval(g.mean, &items, &[], 0.95).unwrap();
    assert_eq!(g.interval, want);
    assert_eq!(g.between_sd, None);
}

#[test]
fn round_draws_share_items_with_stats() {
    let d = two_level_draw(3, 2, 25, 4, 17);
    assert_eq!(d.items, resample_indices(25, 4, 17));
    assert_eq!(d.replicates.len(), 3);
    assert_eq!(d.replicates_b.len(), 2);
    assert!(two_level_draw(3, 0, 25, 4, 17).replicates_b.is_empty());
}

#[test]
fn paired_delta_constant_shift() {
    // B = A + 0.25 on every item of every replicate: every round delta is exactly 0.25.
    let shifted: Vec<[f64; 4]> = CORRECT.iter().map(|r| r.map(|v| v + 0.25)).collect();
    let d = group_delta(
        Groups::Paired { replicates: 3 },
        4,
        &cfg(),
        acc(&CORRECT),
        acc(&shifted),
    )
    .unwrap();
    assert!((d.delta - 0.25).abs() < 1e-15);
    assert!((d.interval.low - 0.25).abs() < 1e-12 && (d.interval.high - 0.25).abs() < 1e-12);
    assert!(d.p_value.below_resolution());
    assert_eq!(d.sign, SignCheck::Agree);
    assert_eq!(d.pairing, Pairing::Paired);
}

#[test]
fn sign_disagreement_is_flagged() {
    // Replicate deltas by hand: +0.25, -0.25, 0 (B flips item 1 of replicate 0 and item 0 of
    // replicate 1): signs disagree.
    let b = [[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0], [1.0; 4]];
    let d = group_delta(
        Groups::Paired { replicates: 3 },
        4,
        &cfg(),
        acc(&CORRECT),
        acc(&b),
    )
    .unwrap();
    assert_eq!(d.replicate_deltas, vec![0.25, -0.25, 0.0]);
    assert_eq!(
        d.sign,
        SignCheck::Disagree {
            positive: 1,
            negative: 1
        }
    );
    assert!(d.sign.disagrees());
    assert_eq!(d.delta, 0.0);
    assert_eq!(SignCheck::of(&[0.1]), SignCheck::SingleReplicate);
    assert_eq!(SignCheck::of(&[0.1, 0.0, 0.3]), SignCheck::Agree);
}

#[test]
fn unpaired_delta_by_hand() {
    // A: accuracies 0.75, 0.5, 1.0 (mean 0.75); B: two replicates 1.0 and 0.75 (mean 0.875).
    let b = [[1.0; 4], [1.0, 1.0, 1.0, 0.0]];
    let d = group_delta(
        Groups::Unpaired {
            replicates_a: 3,
            replicates_b: 2,
        },
        4,
        &cfg(),
        acc(&CORRECT),
        acc(&b),
    )
    .unwrap();
    assert!((d.delta - 0.125).abs() < 1e-15);
    // Cross differences (A outer): 0.25, 0, 0.5, 0.25, 0, -0.25.
    assert_eq!(d.replicate_deltas, vec![0.25, 0.0, 0.5, 0.25, 0.0, -0.25]);
    assert!(d.sign.disagrees());
    assert_eq!((d.replicates_a, d.replicates_b), (3, 2));
    assert!(d.interval.low <= d.delta && d.delta <= d.interval.high);
    assert_eq!(
        d,
        group_delta(
            Groups::Unpaired {
                replicates_a: 3,
                replicates_b: 2
            },
            4,
            &cfg(),
            acc(&CORRECT),
            acc(&b)
        )
        .unwrap()
    );
}

#[test]
fn invalid_groups_are_errors() {
    assert!(matches!(
        group_bootstrap(0, 4, &cfg(), acc(&CORRECT)),
        Err(InferenceError::TooFew {
            unit: "replicates",
            ..
        })
    ));
    assert!(matches!(
        group_bootstrap(3, 0, &cfg(), acc(&CORRECT)),
        Err(InferenceError::TooFew { unit: "items", .. })
    ));
    assert!(matches!(
        group_bootstrap(2, 4, &cfg(), |r, _| if r == 1 { f64::NAN } else { 0.5 }),
        Err(InferenceError::NonFinite { index: 1, .. })
    ));
    assert_eq!(between_replicate_sd(&[0.3]), None);
}
