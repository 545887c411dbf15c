//! Property tests of the method (docs/method.md) on generated scenarios.
//!
//! "Can connect" is decided here by the test's own reading of the rules, not by the oracle's
//! attempt model, so the oracle is checked against an independent statement of them.

use proptest::prelude::*;
use seedrig::method::index::{normalize, rank, score, tie_key};
use seedrig::method::oracle::{Outcome, candidate, ranking};
use seedrig::method::{BestCell, Judged, ScenarioView, SeedView, expect};
use seedrig::model::{FaultKind, Judgement, NetworkTiming, Rat, Weights};

fn weights() -> impl Strategy<Value = Weights> {
    (0.0..10.0f64, 0.0..10.0f64)
        .prop_filter("not both 0", |(a, b)| *a > 0.0 || *b > 0.0)
        .prop_map(|(signal, tariff)| Weights { signal, tariff })
}

fn timing() -> impl Strategy<Value = NetworkTiming> {
    (0..2_000u64, 0..3_000u64, 0..2_000u64, 0..1_000u64).prop_map(
        |(auth_ms, register_ms, context_ms, data_ms)| NetworkTiming {
            auth_ms,
            register_ms,
            context_ms,
            data_ms,
        },
    )
}

fn cell() -> impl Strategy<Value = Option<BestCell>> {
    // Signals and tariffs on a coarse grid, so exact ties happen often.
    let some = (-28..=-6i32, 0..=20u32, timing()).prop_map(|(s, t, timing)| BestCell {
        carrier: "c".into(),
        rat: Rat::Lte,
        signal_dbm: f64::from(s * 5),
        tariff: f64::from(t) / 1000.0,
        label: None,
        timing,
    });
    prop_oneof![1 => Just(None), 5 => some.prop_map(Some)]
}

fn fault() -> impl Strategy<Value = FaultKind> {
    prop_oneof![
        Just(FaultKind::Pulled),
        Just(FaultKind::Mute),
        Just(FaultKind::CorruptAuth),
        Just(FaultKind::CorruptImsi),
        Just(FaultKind::BadAtr),
        Just(FaultKind::PinLocked),
        (0..5_000u64, any::<bool>())
            .prop_map(|(delay_ms, beyond_wwt)| FaultKind::Slow { delay_ms, beyond_wwt }),
        (1..500u64, 1..500u64).prop_map(|(up_ms, down_ms)| FaultKind::Flaky { up_ms, down_ms }),
        Just(FaultKind::NoCoverage),
        (1..=255u8).prop_map(|cause| FaultKind::Reject { cause }),
        Just(FaultKind::Silent),
        (0..40_000u64).prop_map(|delay_ms| FaultKind::SlowAttach { delay_ms }),
        (1..=255u8).prop_map(|cause| FaultKind::DialFail { cause }),
        Just(FaultKind::DataFail),
        Just(FaultKind::Expired),
    ]
}

fn seed(slot: u8) -> impl Strategy<Value = SeedView> {
    (cell(), prop::collection::vec(fault(), 0..2)).prop_map(move |(best, faults)| SeedView {
        id: format!("seed-{slot}"),
        slot,
        best,
        faults,
    })
}

fn judgement() -> impl Strategy<Value = Judgement> {
    prop_oneof![Just(Judgement::Result), Just(Judgement::Timeout), Just(Judgement::Both)]
}

fn scenario() -> impl Strategy<Value = ScenarioView> {
    (1..=6usize, weights(), judgement(), 1_000..60_000u64, any::<u64>()).prop_flat_map(
        |(m, weights, judgement, t, shuffle)| {
            // Slots 0..=m, master first; standbys get the other slots in a shuffled order so
            // that slot order and list order differ.
            let mut slots: Vec<u8> = (1..=m as u8).collect();
            let len = slots.len();
            slots.rotate_left((shuffle as usize) % len);
            let standbys: Vec<_> = slots.into_iter().map(seed).collect();
            (seed(0), standbys).prop_map(move |(master, standbys)| ScenarioView {
                weights,
                judgement,
                attempt_timeout_ms: t,
                timeout_ms: 3_600_000,
                tolerance_ms: 500,
                retry_backoff_ms: None,
                master,
                standbys,
            })
        },
    )
}

/// The test's own statement of "this seed connects under this judgement".
fn connects(seed: &SeedView, mode: Judgement, t_ms: u64) -> bool {
    let Some(cell) = &seed.best else { return false };
    let mut extra = 0;
    for f in &seed.faults {
        match f {
            FaultKind::Slow { beyond_wwt: true, .. } => return false,
            FaultKind::Slow { delay_ms, .. } | FaultKind::SlowAttach { delay_ms } => extra += delay_ms,
            _ => return false,
        }
    }
    let total =
        cell.timing.auth_ms + cell.timing.register_ms + cell.timing.context_ms + cell.timing.data_ms + extra;
    mode == Judgement::Result || total <= t_ms
}

/// Failures nobody answers, which a `result` firmware waits on forever. Steps in the order a
/// modem takes them: the card (a card that does not answer is a SIM failure the modem
/// reports), the radio, then the network's answers.
fn silent(seed: &SeedView) -> bool {
    let has = |pred: fn(&FaultKind) -> bool| seed.faults.iter().any(pred);
    if has(|f| {
        matches!(
            f,
            FaultKind::Pulled
                | FaultKind::BadAtr
                | FaultKind::PinLocked
                | FaultKind::Flaky { .. }
                | FaultKind::Mute
        )
    }) {
        return false;
    }
    if seed.best.is_none() || has(|f| matches!(f, FaultKind::Silent | FaultKind::NoCoverage)) {
        return true;
    }
    let explicit_net = has(|f| {
        matches!(
            f,
            FaultKind::CorruptImsi
                | FaultKind::CorruptAuth
                | FaultKind::Slow { beyond_wwt: true, .. }
                | FaultKind::Reject { .. }
                | FaultKind::Expired
                | FaultKind::DialFail { .. }
        )
    });
    !explicit_net && has(|f| matches!(f, FaultKind::DataFail))
}

proptest! {
    #[test]
    fn ranking_is_a_permutation_sorted_by_index(view in scenario()) {
        let ranked = ranking(&view);
        let mut seen: Vec<usize> = ranked.iter().map(|r| r.standby).collect();
        seen.sort();
        prop_assert_eq!(seen, (0..view.standbys.len()).collect::<Vec<_>>());
        for pair in ranked.windows(2) {
            let (hi, lo) = (&pair[0], &pair[1]);
            let (k_hi, k_lo) = (tie_key(hi.score.index, view.weights), tie_key(lo.score.index, view.weights));
            prop_assert!(k_hi >= k_lo, "index must not increase down the ranking");
            if k_hi == k_lo {
                prop_assert!(view.standbys[hi.standby].slot < view.standbys[lo.standby].slot, "ties keep slot order");
            }
        }
    }

    #[test]
    fn scaling_both_weights_keeps_the_order(view in scenario(), exp in -20..20i32, k in 0.001..1000.0f64) {
        let cands: Vec<_> = view.standbys.iter().map(candidate).collect();
        let base = rank(&cands, &score(&cands, view.weights), view.weights);
        // Powers of two scale exactly: the order must be identical.
        let p = 2f64.powi(exp);
        let w2 = Weights { signal: view.weights.signal * p, tariff: view.weights.tariff * p };
        prop_assert_eq!(&base, &rank(&cands, &score(&cands, w2), w2));
        // Any factor: identical too, unless two indices sit within rounding of a tie boundary.
        let wk = Weights { signal: view.weights.signal * k, tariff: view.weights.tariff * k };
        let scores = score(&cands, view.weights);
        let total = view.weights.signal + view.weights.tariff;
        let near_boundary = scores.iter().any(|s| {
            let r = s.index / total * 1e9;
            (r - r.floor() - 0.5).abs() < 1e-3
        });
        prop_assume!(!near_boundary);
        prop_assert_eq!(&base, &rank(&cands, &score(&cands, wk), wk));
    }

    #[test]
    fn normalized_values_are_in_unit_interval(view in scenario(), v in -200.0..0.0f64, lo in -200.0..0.0f64, span in 0.0..100.0f64) {
        for s in score(&view.standbys.iter().map(candidate).collect::<Vec<_>>(), view.weights) {
            prop_assert!((0.0..=1.0).contains(&s.a1) && (0.0..=1.0).contains(&s.b1));
        }
        for better in [true, false] {
            let x = normalize(v.clamp(lo, lo + span), lo, lo + span, better);
            prop_assert!((0.0..=1.0).contains(&x));
        }
        prop_assert_eq!(normalize(v, v, v, true), 1.0);
    }

    #[test]
    fn a_seed_that_cannot_connect_never_wins(view in scenario()) {
        if let Outcome::Winner { seed, .. } = expect(&view).outcome {
            let winner = std::iter::once(&view.master).chain(&view.standbys).find(|s| s.id == seed).unwrap();
            prop_assert!(connects(winner, view.judgement, view.attempt_timeout_ms));
        }
    }

    #[test]
    fn winner_is_first_connectable_standby_in_rank_order(view in scenario()) {
        prop_assume!(!connects(&view.master, view.judgement, view.attempt_timeout_ms));
        let expected = expect(&view);
        let result_mode = view.judgement == Judgement::Result;
        let mut want = Outcome::Exhausted { at_ms: 0, next_pass_at_ms: None };
        let ranked = ranking(&view);
        let order = std::iter::once(&view.master).chain(ranked.iter().map(|r| &view.standbys[r.standby]));
        for s in order {
            if connects(s, view.judgement, view.attempt_timeout_ms) {
                want = Outcome::Winner { seed: s.id.clone(), slot: s.slot, connected_at_ms: 0 };
                break;
            }
            if result_mode && silent(s) {
                want = Outcome::Stalled { seed: s.id.clone(), since_ms: 0 };
                break;
            }
        }
        let same = match (&want, &expected.outcome) {
            (Outcome::Winner { seed: a, .. }, Outcome::Winner { seed: b, .. }) => a == b,
            (Outcome::Stalled { seed: a, .. }, Outcome::Stalled { seed: b, .. }) => a == b,
            (Outcome::Exhausted { .. }, Outcome::Exhausted { .. }) => true,
            _ => false,
        };
        prop_assert!(same, "want {:?}, oracle says {:?}", want, expected.outcome);
        // Every standby tried before the winner was judged failed.
        let n = expected.attempts.len();
        for a in &expected.attempts[..n - 1] {
            let failed = matches!(a.judged, Judged::Failed { .. });
            prop_assert!(failed);
        }
    }

    #[test]
    fn connectable_master_means_no_standby_is_tried(view in scenario()) {
        prop_assume!(connects(&view.master, view.judgement, view.attempt_timeout_ms));
        let expected = expect(&view);
        prop_assert_eq!(expected.attempts.len(), 1);
        prop_assert!(expected.attempts[0].is_master);
        let master_won = matches!(expected.outcome, Outcome::Winner { slot: 0, .. });
        prop_assert!(master_won);
    }

    #[test]
    fn judgement_bounds_follow_the_mode(view in scenario()) {
        let expected = expect(&view);
        for a in &expected.attempts {
            if let Judged::Failed { after_ms, earliest_ms, explicit, .. } = a.judged {
                prop_assert_eq!(a.bound_ms, Some(after_ms + view.tolerance_ms));
                prop_assert_eq!(a.earliest_ms, Some(earliest_ms.saturating_sub(view.tolerance_ms)));
                prop_assert!(earliest_ms <= after_ms);
                match view.judgement {
                    Judgement::Timeout => prop_assert_eq!(after_ms, view.attempt_timeout_ms),
                    Judgement::Both if !explicit => {
                        prop_assert_eq!(after_ms, view.attempt_timeout_ms);
                        prop_assert_eq!(earliest_ms, view.attempt_timeout_ms);
                    }
                    Judgement::Result => prop_assert!(explicit),
                    // An explicit answer under `both` ends the attempt only if it comes by T.
                    Judgement::Both => prop_assert!(after_ms <= view.attempt_timeout_ms),
                }
            }
        }
    }
}
