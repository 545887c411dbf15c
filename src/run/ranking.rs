//! The oracle's ranking table of one scenario, as `seedrig explain` prints it: the master, then
//! each standby in the order the oracle tries them, with its best usable cell, signal, tariff,
//! A1, B1 and index. A result carries it so that its page can set the firmware's own ranking
//! and the order the bench saw beside it.

use crate::method::oracle::Ranked;
use crate::method::{ScenarioView, SeedView};

/// One row of the ranking table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RankingRow {
    /// 1 for the standby tried first; `None` for the master, which is not ranked.
    pub rank: Option<usize>,
    pub master: bool,
    pub slot: u8,
    pub seed: String,
    /// The RAT of the best usable cell; `None` where the seed may use no cell at the site.
    pub rat: Option<String>,
    /// The best usable cell: its carrier and, where the site names it, the cell's label.
    pub cell: Option<String>,
    /// The best usable cell's signal; -140 dBm where there is none (docs/method.md §2).
    pub signal_dbm: f64,
    /// Price per MB on that cell's carrier; `None` without a usable cell.
    pub tariff: Option<f64>,
    /// Normalized signal, normalized tariff and the index; `None` for the master.
    pub a1: Option<f64>,
    pub b1: Option<f64>,
    pub index: Option<f64>,
    /// The scenario's faults on this seed, as `explain` names them (`reject(15)`).
    #[serde(default)]
    pub faults: Vec<String>,
}

impl RankingRow {
    /// The master's row, then one per standby in `ranking`'s order (the oracle's, or the order
    /// of near-tied standbys the run was judged against).
    pub fn all(view: &ScenarioView, ranking: &[Ranked]) -> Vec<RankingRow> {
        let row = |seed: &SeedView, ranked: Option<&Ranked>| {
            let best = seed.best.as_ref();
            RankingRow {
                rank: ranked.map(|r| r.rank),
                master: ranked.is_none(),
                slot: seed.slot,
                seed: seed.id.clone(),
                rat: best.map(|c| c.rat.to_string()),
                cell: best
                    .map(|c| c.label.as_ref().map_or(c.carrier.clone(), |l| format!("{} {l}", c.carrier))),
                signal_dbm: best.map_or(crate::method::index::NO_SIGNAL_DBM, |c| c.signal_dbm),
                tariff: best.map(|c| c.tariff),
                a1: ranked.map(|r| r.score.a1),
                b1: ranked.map(|r| r.score.b1),
                index: ranked.map(|r| r.score.index),
                faults: seed.faults.iter().map(ToString::to_string).collect(),
            }
        };
        std::iter::once(row(&view.master, None))
            .chain(ranking.iter().filter_map(|r| Some(row(view.standbys.get(r.standby)?, Some(r)))))
            .collect()
    }

    /// The rows of `scenario` on `catalog` in `ranking`'s order; none where the scenario's
    /// references do not resolve.
    pub fn of(
        catalog: &crate::model::Catalog,
        scenario: &crate::model::Scenario,
        ranking: &[Ranked],
    ) -> Vec<RankingRow> {
        ScenarioView::from_catalog(catalog, scenario)
            .map_or_else(Vec::new, |view| RankingRow::all(&view, ranking))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::method::expect;

    fn rows(scenario: &str) -> Vec<RankingRow> {
        let catalog = crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap().catalog;
        let s = &catalog.scenarios[scenario];
        let view = ScenarioView::from_catalog(&catalog, s).unwrap();
        RankingRow::of(&catalog, s, &expect(&view).ranking)
    }

    /// (rank, slot, seed, carrier of the cell, signal, tariff, A1, B1, index), numbers as
    /// `explain` prints them.
    fn printed(r: &RankingRow) -> (String, u8, &str, String, String, String, String, String, String) {
        let opt = |v: Option<f64>, places: usize| v.map_or("-".to_owned(), |v| format!("{v:.places$}"));
        (
            r.rank.map_or("-".to_owned(), |n| n.to_string()),
            r.slot,
            r.seed.as_str(),
            r.cell.clone().unwrap_or_default(),
            format!("{:.0}", r.signal_dbm),
            opt(r.tariff, 4),
            opt(r.a1, 3),
            opt(r.b1, 3),
            opt(r.index, 3),
        )
    }

    #[test]
    fn master_reject_rows_are_the_hand_computed_ones() {
        // By hand (tests/explain_by_hand.rs, master-reject): the master o2-de-1 (slot 0) hears
        // o2-de gsm -85 at its domestic 0.0015 and is not ranked. Standbys orange-fr-1 (slot 1)
        // and vodafone-uk-1 (slot 2) both end up on vodafone-de gsm -76: equal signals, A1 = 1.0
        // for both. Tariffs on vodafone-de: orange-fr-1 0.006, vodafone-uk-1 0.004 → B1 0 and 1.
        // a = b = 0.5: vodafone-uk-1 1.000 ranks first, orange-fr-1 0.500 second.
        let rows = rows("master-reject");
        let p = |s: &str| s.to_owned();
        assert_eq!(
            rows.iter().map(printed).collect::<Vec<_>>(),
            vec![
                (
                    p("-"),
                    0,
                    "o2-de-1",
                    rows[0].cell.clone().unwrap(),
                    p("-85"),
                    p("0.0015"),
                    p("-"),
                    p("-"),
                    p("-")
                ),
                (
                    p("1"),
                    2,
                    "vodafone-uk-1",
                    rows[1].cell.clone().unwrap(),
                    p("-76"),
                    p("0.0040"),
                    p("1.000"),
                    p("1.000"),
                    p("1.000")
                ),
                (
                    p("2"),
                    1,
                    "orange-fr-1",
                    rows[2].cell.clone().unwrap(),
                    p("-76"),
                    p("0.0060"),
                    p("1.000"),
                    p("0.000"),
                    p("0.500")
                ),
            ]
        );
        assert!(rows[0].cell.as_deref().unwrap().starts_with("o2-de"), "{:?}", rows[0].cell);
        assert!(rows[1].cell.as_deref().unwrap().starts_with("vodafone-de"), "{:?}", rows[1].cell);
        assert!(rows[2].cell.as_deref().unwrap().starts_with("vodafone-de"), "{:?}", rows[2].cell);
        assert_eq!(rows.iter().map(|r| r.rat.as_deref()).collect::<Vec<_>>(), [Some("gsm"); 3]);
        assert!(rows[0].master && !rows[1].master);
        assert_eq!(rows[0].faults, ["reject(15)"]);
        assert!(rows[1].faults.is_empty());
    }

    #[test]
    fn a_standby_without_a_usable_cell_is_at_minus_140_with_no_tariff() {
        // all-exhausted (by hand): claro-br-1 has no UK partner: -140 dBm, no tariff, A1 0,
        // B1 0, index 0.000, ranked last; ee-uk-1 1.000 first, telekom-de-2 0.600 second.
        let rows = rows("all-exhausted");
        let claro = rows.iter().find(|r| r.seed == "claro-br-1").unwrap();
        assert_eq!((claro.rank, claro.rat.as_deref(), claro.cell.as_deref()), (Some(3), None, None));
        assert_eq!((claro.signal_dbm, claro.tariff, claro.index), (-140.0, None, Some(0.0)));
        let order: Vec<(&str, String)> =
            rows[1..].iter().map(|r| (r.seed.as_str(), format!("{:.3}", r.index.unwrap()))).collect();
        assert_eq!(
            order,
            [
                ("ee-uk-1", "1.000".to_owned()),
                ("telekom-de-2", "0.600".to_owned()),
                ("claro-br-1", "0.000".to_owned())
            ]
        );
    }
}
