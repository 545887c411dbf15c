//! Ranking the standbys from the firmware's own measurement (docs/method.md §2).
//!
//! The arithmetic is the firmware's own, written from the method's description (docs/fixtures.md,
//! "How the method reads these files"), not borrowed from the rig's oracle (`crate::method`):
//! the rig checks the firmware's ranking against the oracle's, and a shared mistake would pass
//! that check unseen.

use std::cmp::Reverse;

use super::config::SeedConfig;
use super::console::RankEntry;
use super::measure::MeasuredCell;
use crate::model::Weights;

/// The signal of a standby that hears no usable cell.
pub const NO_SIGNAL_DBM: f64 = -140.0;

/// What the firmware knows of one standby after measuring: the signal of its strongest usable
/// cell and its price there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub slot: u8,
    /// Strongest usable cell, or [`NO_SIGNAL_DBM`].
    pub signal_dbm: f64,
    /// Price per MB on that cell's PLMN; `None` without a usable cell.
    pub tariff: Option<f64>,
}

/// The standby's strongest usable measured cell and the price there. Usable: a RAT the seed
/// works on, a PLMN it has a tariff for (home included). Equal signals: the cell heard first.
pub fn candidate(seed: &SeedConfig, cells: &[MeasuredCell]) -> Candidate {
    candidate_by(seed, cells, Rule::default())
}

fn candidate_by(seed: &SeedConfig, cells: &[MeasuredCell], rule: Rule) -> Candidate {
    let mut usable = cells
        .iter()
        .filter(|cell| seed.rats.contains(&cell.rat))
        .filter_map(|cell| seed.tariffs.get(&cell.plmn).map(|&tariff| (cell.dbm, tariff)));
    // Only a strictly stronger cell displaces the one heard before it.
    let strongest = if rule.first_usable_cell {
        usable.next()
    } else {
        usable.reduce(|kept, next| if next.0 > kept.0 { next } else { kept })
    };
    match strongest {
        Some((dbm, tariff)) => Candidate { slot: seed.slot, signal_dbm: dbm, tariff: Some(tariff) },
        None => Candidate { slot: seed.slot, signal_dbm: NO_SIGNAL_DBM, tariff: None },
    }
}

/// The lowest and highest of a set of values, for min–max normalization.
#[derive(Debug, Clone, Copy)]
struct Range {
    low: f64,
    high: f64,
}

impl Range {
    fn of(values: impl Iterator<Item = f64>) -> Option<Range> {
        let mut range: Option<Range> = None;
        for v in values {
            range = Some(match range {
                None => Range { low: v, high: v },
                Some(r) => Range { low: r.low.min(v), high: r.high.max(v) },
            });
        }
        range
    }

    /// 0 at the low end, 1 at the high end; 1 for everyone when all values are equal.
    fn higher_better(&self, v: f64) -> f64 {
        let width = self.high - self.low;
        if width > 0.0 { ((v - self.low) / width).clamp(0.0, 1.0) } else { 1.0 }
    }

    /// 1 at the low end, 0 at the high end; 1 for everyone when all values are equal.
    fn lower_better(&self, v: f64) -> f64 {
        let width = self.high - self.low;
        if width > 0.0 { ((self.high - v) / width).clamp(0.0, 1.0) } else { 1.0 }
    }
}

/// Indices this close (relative to the weights' sum) are equal: rounding noise in the sums is
/// not a preference, and equal standbys go by slot.
const EQUAL_WITHIN: f64 = 1e-9;

/// The index as a whole number of [`EQUAL_WITHIN`] steps of the weights' sum, for ordering.
fn index_steps(index: f64, weights: Weights) -> i64 {
    let sum = weights.signal + weights.tariff;
    let relative = if sum > 0.0 { index / sum } else { 0.0 };
    (relative / EQUAL_WITHIN).round() as i64
}

/// The standbys in rank order (highest index first, ties by lower slot), with their scores.
/// A1 and B1 are min–max normalized over all standbys: signal including the -140 dBm of a
/// standby that hears nothing, tariff over the standbys that have one (cheaper scores higher);
/// a standby without a tariff gets B1 = 0.
pub fn rank_standbys(standbys: &[SeedConfig], cells: &[MeasuredCell], weights: Weights) -> Vec<RankEntry> {
    rank_standbys_by(standbys, cells, weights, Rule::default())
}

/// Departures from the method, for the self-test's wrong firmware.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rule {
    /// Equal indices go to the higher slot first.
    pub ties_to_higher_slot: bool,
    /// A standby's signal is the first usable cell listed, not the strongest.
    pub first_usable_cell: bool,
}

/// [`rank_standbys`] under `rule`.
pub fn rank_standbys_by(
    standbys: &[SeedConfig],
    cells: &[MeasuredCell],
    weights: Weights,
    rule: Rule,
) -> Vec<RankEntry> {
    let heard: Vec<Candidate> = standbys.iter().map(|s| candidate_by(s, cells, rule)).collect();
    let signals = Range::of(heard.iter().map(|c| c.signal_dbm));
    let prices = Range::of(heard.iter().filter_map(|c| c.tariff));
    let mut entries: Vec<RankEntry> = standbys
        .iter()
        .zip(&heard)
        .map(|(seed, c)| {
            let a1 = signals.map_or(1.0, |r| r.higher_better(c.signal_dbm));
            let b1 = match (c.tariff, prices) {
                (Some(t), Some(r)) => r.lower_better(t),
                _ => 0.0,
            };
            RankEntry {
                slot: c.slot,
                iccid: seed.iccid.clone(),
                signal_dbm: c.signal_dbm,
                tariff: c.tariff,
                a1,
                b1,
                index: weights.signal * a1 + weights.tariff * b1,
            }
        })
        .collect();
    if rule.ties_to_higher_slot {
        entries.sort_by_key(|e| (Reverse(index_steps(e.index, weights)), Reverse(e.slot)));
    } else {
        entries.sort_by_key(|e| (Reverse(index_steps(e.index, weights)), e.slot));
    }
    entries
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::Rat;
    use crate::reference_firmware::config::Role;

    pub(crate) fn standby(slot: u8, rats: &[Rat], tariffs: &[(&str, f64)]) -> SeedConfig {
        SeedConfig {
            slot,
            role: Role::Standby,
            iccid: format!("89490000000000000{slot}"),
            rats: rats.to_vec(),
            apn: "internet".into(),
            tariffs: tariffs.iter().map(|(p, t)| (p.to_string(), *t)).collect(),
        }
    }

    fn cell(plmn: &str, rat: Rat, dbm: f64) -> MeasuredCell {
        MeasuredCell { plmn: plmn.into(), rat, dbm }
    }

    fn slots(order: &[RankEntry]) -> Vec<u8> {
        order.iter().map(|e| e.slot).collect()
    }

    const W: Weights = Weights { signal: 0.5, tariff: 0.5 };

    #[test]
    fn signal_is_the_strongest_cell_of_an_allowed_plmn_and_rat() {
        let cells =
            [cell("26201", Rat::Nr, -60.0), cell("26202", Rat::Lte, -80.0), cell("26203", Rat::Lte, -70.0)];
        // 26201 only on NR, which the seed lacks; 26203 has no tariff.
        let s = standby(1, &[Rat::Lte], &[("26201", 0.01), ("26202", 0.02)]);
        assert_eq!(candidate(&s, &cells), Candidate { slot: 1, signal_dbm: -80.0, tariff: Some(0.02) });
        let none = standby(2, &[Rat::Gsm], &[("26202", 0.02)]);
        assert_eq!(candidate(&none, &cells), Candidate { slot: 2, signal_dbm: NO_SIGNAL_DBM, tariff: None });
    }

    #[test]
    fn ranks_by_index_from_measured_cells() {
        let cells = [cell("26201", Rat::Lte, -70.0), cell("26202", Rat::Lte, -90.0)];
        let standbys = [
            standby(1, &[Rat::Lte], &[("26202", 0.001)]), // weaker, cheapest: 0.5·50/70 + 0.5·1 ≈ 0.857
            standby(2, &[Rat::Lte], &[("26201", 0.05)]),  // strongest, dearest: 0.5·1 + 0.5·0 = 0.5
            standby(3, &[Rat::Gsm], &[("26201", 0.001)]), // hears nothing usable: -140 dBm, 0
            standby(4, &[Rat::Lte], &[("26201", 0.01)]),  // strongest, fairly cheap: 0.5 + 0.5·40/49 ≈ 0.908
        ];
        let order = rank_standbys(&standbys, &cells, W);
        assert_eq!(slots(&order), vec![4, 1, 2, 3]);
        assert_eq!(order[3].signal_dbm, NO_SIGNAL_DBM);
        assert_eq!(order[3].tariff, None);
        assert!(order[0].index > order[1].index);
    }

    /// (slot, A1, B1, index) of each entry, in rank order.
    fn scores(order: &[RankEntry]) -> Vec<(u8, f64, f64, f64)> {
        order.iter().map(|e| (e.slot, e.a1, e.b1, e.index)).collect()
    }

    fn assert_scores(order: &[RankEntry], expected: &[(u8, f64, f64, f64)]) {
        let got = scores(order);
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for (g, e) in got.iter().zip(expected) {
            let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
            assert!(
                g.0 == e.0 && close(g.1, e.1) && close(g.2, e.2) && close(g.3, e.3),
                "{got:?} vs {expected:?}"
            );
        }
    }

    /// Three standbys, each on its own PLMN:
    /// signal -65 / -85 / -105 dBm → A1 = 1, 20/40, 0;
    /// tariff 0.04 / 0.02 / 0.01 → B1 = 0, 0.02/0.03, 1.
    fn three() -> ([MeasuredCell; 3], [SeedConfig; 3]) {
        let cells =
            [cell("26201", Rat::Lte, -65.0), cell("26202", Rat::Lte, -85.0), cell("26203", Rat::Lte, -105.0)];
        let standbys = [
            standby(1, &[Rat::Lte], &[("26201", 0.04)]),
            standby(2, &[Rat::Lte], &[("26202", 0.02)]),
            standby(3, &[Rat::Lte], &[("26203", 0.01)]),
        ];
        (cells, standbys)
    }

    #[test]
    fn hand_computed_ranking_of_three_standbys() {
        let (cells, standbys) = three();
        // a = 0.6, b = 0.4: 0.6, 0.3 + 0.4·2/3 = 0.5667, 0.4.
        let order = rank_standbys(&standbys, &cells, Weights { signal: 0.6, tariff: 0.4 });
        assert_scores(
            &order,
            &[(1, 1.0, 0.0, 0.6), (2, 0.5, 2.0 / 3.0, 0.3 + 0.8 / 3.0), (3, 0.0, 1.0, 0.4)],
        );
        // a = 0.2, b = 0.8: 0.2, 0.1 + 0.8·2/3 = 0.6333, 0.8.
        let order = rank_standbys(&standbys, &cells, Weights { signal: 0.2, tariff: 0.8 });
        assert_scores(
            &order,
            &[(3, 0.0, 1.0, 0.8), (2, 0.5, 2.0 / 3.0, 0.1 + 1.6 / 3.0), (1, 1.0, 0.0, 0.2)],
        );
        assert_eq!((order[0].signal_dbm, order[0].tariff), (-105.0, Some(0.01)));
        assert_eq!(order[0].iccid, standbys[2].iccid);
    }

    #[test]
    fn no_usable_cell_counts_as_minus_140_and_gets_no_tariff_score() {
        // -70 / -105 / nothing (-140): A1 = 1, 35/70, 0. Tariffs 0.01 / 0.02: B1 = 1, 0, 0.
        let cells =
            [cell("26201", Rat::Lte, -70.0), cell("26202", Rat::Lte, -105.0), cell("26203", Rat::Nr, -50.0)];
        let standbys = [
            standby(7, &[Rat::Lte], &[("26203", 0.001)]), // 26203 only on NR: nothing usable
            standby(8, &[Rat::Lte], &[("26202", 0.02)]),
            standby(9, &[Rat::Lte], &[("26201", 0.01)]),
        ];
        let order = rank_standbys(&standbys, &cells, W);
        assert_scores(&order, &[(9, 1.0, 1.0, 1.0), (8, 0.5, 0.0, 0.25), (7, 0.0, 0.0, 0.0)]);
        assert_eq!((order[2].signal_dbm, order[2].tariff), (-140.0, None));
    }

    #[test]
    fn equal_values_normalize_to_one() {
        let cells = [cell("26201", Rat::Lte, -90.0), cell("26202", Rat::Lte, -90.0)];
        let standbys =
            [standby(4, &[Rat::Lte], &[("26201", 0.03)]), standby(1, &[Rat::Lte], &[("26202", 0.03)])];
        let w = Weights { signal: 0.3, tariff: 0.9 };
        assert_scores(&rank_standbys(&standbys, &cells, w), &[(1, 1.0, 1.0, 1.2), (4, 1.0, 1.0, 1.2)]);
        let alone = rank_standbys(&standbys[..1], &cells, w);
        assert_scores(&alone, &[(4, 1.0, 1.0, 1.2)]);
        // Nobody hears anything: all at -140 dBm (A1 = 1), no tariff (B1 = 0).
        let deaf = rank_standbys(&standbys, &[], w);
        assert_scores(&deaf, &[(1, 1.0, 0.0, 0.3), (4, 1.0, 0.0, 0.3)]);
    }

    #[test]
    fn indices_equal_but_for_rounding_are_a_tie() {
        // a = 0.1, b = 0.2. Slot 1: -60 dBm, 0.01 → 0.1 + 0.2 = 0.3. Slot 2: -60 dBm, 0.05 →
        // 0.1·1 + 0.2·0 = 0.1. Slot 3: -70 dBm, 0.03 → 0.1·0 + 0.2·0.5 = 0.1, which in floating
        // point comes out a hair above slot 2's. A tie: slot 2 before slot 3.
        let cells =
            [cell("26201", Rat::Lte, -60.0), cell("26202", Rat::Lte, -60.0), cell("26203", Rat::Lte, -70.0)];
        let standbys = [
            standby(3, &[Rat::Lte], &[("26203", 0.03)]),
            standby(2, &[Rat::Lte], &[("26202", 0.05)]),
            standby(1, &[Rat::Lte], &[("26201", 0.01)]),
        ];
        let order = rank_standbys(&standbys, &cells, Weights { signal: 0.1, tariff: 0.2 });
        assert_eq!(slots(&order), vec![1, 2, 3]);
        assert!(order[2].index > order[1].index, "the case needs the rounding noise");
    }

    #[test]
    fn equal_signals_take_the_cell_heard_first() {
        let cells = [cell("26201", Rat::Lte, -75.0), cell("26202", Rat::Lte, -75.0)];
        let s = standby(1, &[Rat::Lte], &[("26201", 0.03), ("26202", 0.01)]);
        assert_eq!(candidate(&s, &cells).tariff, Some(0.03));
        let stronger_later = [cells[0].clone(), cell("26202", Rat::Lte, -74.0)];
        assert_eq!(candidate(&s, &stronger_later).tariff, Some(0.01));
    }

    #[test]
    fn a_tie_goes_to_the_lower_slot() {
        let cells = [cell("26201", Rat::Lte, -80.0)];
        let standbys = [
            standby(5, &[Rat::Lte], &[("26201", 0.01)]),
            standby(2, &[Rat::Lte, Rat::Nr], &[("26201", 0.01)]),
        ];
        let order = rank_standbys(&standbys, &cells, W);
        assert_eq!(slots(&order), vec![2, 5]);
        assert_eq!(order[0].index, order[1].index);
    }
}
