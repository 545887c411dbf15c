//! A scenario as the method sees it: each seed reduced to its best usable cell and its faults.

use crate::model::{Catalog, FaultKind, Id, Judgement, NetworkTiming, Rat, Scenario, Seed, Site, Weights};

/// The strongest cell a seed may use at the site.
#[derive(Debug, Clone, PartialEq)]
pub struct BestCell {
    pub carrier: Id,
    pub rat: Rat,
    pub signal_dbm: f64,
    /// The seed's price per MB on that carrier.
    pub tariff: f64,
    pub label: Option<String>,
    /// How that carrier's network answers.
    pub timing: NetworkTiming,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeedView {
    pub id: Id,
    pub slot: u8,
    /// `None`: no usable cell. (A `no_coverage` fault does not hide the cells the modem hears
    /// at the site; the seed's network just never answers it.)
    pub best: Option<BestCell>,
    pub faults: Vec<FaultKind>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioView {
    pub weights: Weights,
    pub judgement: Judgement,
    pub attempt_timeout_ms: u64,
    pub timeout_ms: u64,
    pub tolerance_ms: u64,
    pub retry_backoff_ms: Option<u64>,
    pub master: SeedView,
    pub standbys: Vec<SeedView>,
}

impl ScenarioView {
    /// Reads a validated scenario; `None` if a reference does not resolve (the fixture loader
    /// reports those before anyone gets here).
    pub fn from_catalog(catalog: &Catalog, scenario: &Scenario) -> Option<ScenarioView> {
        let site = catalog.sites.get(&scenario.site)?;
        let seed_view = |p: &crate::model::Placement| -> Option<SeedView> {
            let seed = catalog.seeds.get(&p.seed)?;
            let faults: Vec<FaultKind> = p.faults.iter().map(|f| f.kind).collect();
            Some(SeedView { id: p.seed.clone(), slot: p.slot, best: best_cell(catalog, seed, site), faults })
        };
        Some(ScenarioView {
            weights: scenario.weights,
            judgement: scenario.judgement,
            attempt_timeout_ms: scenario.attempt_timeout_ms,
            timeout_ms: scenario.timeout_ms,
            tolerance_ms: scenario.tolerance_ms,
            retry_backoff_ms: scenario.retry_backoff_ms,
            master: seed_view(&scenario.master)?,
            standbys: scenario.standbys.iter().map(seed_view).collect::<Option<_>>()?,
        })
    }
}

/// The strongest cell whose RAT the seed supports and whose carrier it may use (its home
/// carrier or one it has a tariff for). Equal signals: the cell listed first.
pub fn best_cell(catalog: &Catalog, seed: &Seed, site: &Site) -> Option<BestCell> {
    let mut best: Option<BestCell> = None;
    for cell in &site.cells {
        if !seed.rats.contains(&cell.rat) {
            continue;
        }
        let Some(tariff) = catalog.tariff(seed, &cell.carrier) else {
            continue;
        };
        if best.as_ref().is_some_and(|b| b.signal_dbm >= cell.signal_dbm) {
            continue;
        }
        let timing = catalog.carriers.get(&cell.carrier).map(|c| c.network).unwrap_or_default();
        best = Some(BestCell {
            carrier: cell.carrier.clone(),
            rat: cell.rat,
            signal_dbm: cell.signal_dbm,
            tariff,
            label: cell.label.clone(),
            timing,
        });
    }
    best
}
