//! Ranking the standbys from the firmware's own measurement (DESIGN.md §1.2), with the
//! method's index (`crate::method::index`) doing the arithmetic.

use super::config::SeedConfig;
use super::console::RankEntry;
use super::measure::MeasuredCell;
use crate::method::index::{Candidate, NO_SIGNAL_DBM, rank, score};
use crate::model::Weights;

/// What the index needs of one standby: its strongest usable measured cell and the price there.
/// Usable: a RAT the seed works on, a PLMN it has a tariff for (home included). Equal signals:
/// the cell heard first, as the oracle does.
pub fn candidate(seed: &SeedConfig, cells: &[MeasuredCell]) -> Candidate {
    let mut best: Option<(&MeasuredCell, f64)> = None;
    for cell in cells {
        let Some(&tariff) = seed.tariffs.get(&cell.plmn) else { continue };
        if !seed.rats.contains(&cell.rat) || best.is_some_and(|(b, _)| b.dbm >= cell.dbm) {
            continue;
        }
        best = Some((cell, tariff));
    }
    match best {
        Some((cell, tariff)) => Candidate { slot: seed.slot, signal_dbm: cell.dbm, tariff: Some(tariff) },
        None => Candidate { slot: seed.slot, signal_dbm: NO_SIGNAL_DBM, tariff: None },
    }
}

/// The standbys in rank order (highest index first, ties by lower slot), with their scores.
pub fn rank_standbys(standbys: &[SeedConfig], cells: &[MeasuredCell], weights: Weights) -> Vec<RankEntry> {
    let candidates: Vec<Candidate> = standbys.iter().map(|s| candidate(s, cells)).collect();
    let scores = score(&candidates, weights);
    rank(&candidates, &scores, weights)
        .into_iter()
        .map(|i| RankEntry {
            slot: candidates[i].slot,
            iccid: standbys[i].iccid.clone(),
            signal_dbm: candidates[i].signal_dbm,
            tariff: candidates[i].tariff,
            a1: scores[i].a1,
            b1: scores[i].b1,
            index: scores[i].index,
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::firmware::config::Role;
    use crate::model::Rat;

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
