//! The virtual bench's cards kept warm across scenarios: one pcscd serving a virtual USIM for
//! every seed of the fixtures, started with the first scenario and kept while it stays healthy.
//!
//! Before each scenario the cards it places are put back to the fixture's state — each one a
//! fresh card made from its seed file (SQN, PIN and its tries, files), seated in the same
//! reader — so nothing a scenario did to a card (an advanced SQN, a blocked PIN, a selected
//! file) can reach the next one. A bench that broke, was sabotaged, or whose PC/SC connections
//! did not close when it came down does not hand its pcscd back: the next scenario starts a new
//! one.

use std::sync::{Arc, Mutex};

use super::error::BenchError;
use crate::model::{Catalog, Scenario};
use crate::sim::pcscd::{LabelledCard, PrivatePcscd};
use crate::sim::usim::VirtualUsim;

/// pcsc-lite serves at most this many readers (`PCSCLITE_MAX_READERS_CONTEXTS`); vpcd makes
/// them in pairs, one card each.
pub const MAX_READERS: usize = 16;

/// Whether one pcscd can hold a card for every seed of the fixtures; else each scenario gets a
/// pcscd of its own, with just its cards.
pub fn can_keep_warm(catalog: &Catalog) -> bool {
    catalog.seeds.len().next_multiple_of(2) <= MAX_READERS
}

/// A station's warm pcscd between scenarios: a bench takes it when it comes up and gives it
/// back when it comes down healthy.
#[derive(Clone, Default)]
pub struct WarmCards(Arc<Mutex<Option<PrivatePcscd>>>);

impl WarmCards {
    /// The warm pcscd with the scenario's cards put back to the fixture's state; a new one,
    /// serving every seed, when there is none or the last one died.
    pub async fn take(&self, catalog: &Catalog, scenario: &Scenario) -> Result<PrivatePcscd, BenchError> {
        let parked = self.0.lock().ok().and_then(|mut p| p.take()).filter(PrivatePcscd::alive);
        let pcscd = match parked {
            Some(pcscd) => pcscd,
            None => start(every_seed(catalog)).await?,
        };
        match reseat(&pcscd, catalog, scenario) {
            Ok(()) => Ok(pcscd),
            Err(e) => {
                // The cards are re-seated again before the next scenario anyway.
                self.give_back(pcscd);
                Err(e)
            }
        }
    }

    /// Starts the pcscd of every seed now, so the first scenario does not wait for it.
    pub async fn warm_up(&self, catalog: &Catalog) -> Result<(), BenchError> {
        if self.is_warm() || !can_keep_warm(catalog) {
            return Ok(());
        }
        let pcscd = start(every_seed(catalog)).await?;
        self.give_back(pcscd);
        Ok(())
    }

    /// Keeps `pcscd` for the next scenario.
    pub fn give_back(&self, pcscd: PrivatePcscd) {
        if let Ok(mut parked) = self.0.lock() {
            *parked = Some(pcscd);
        }
    }

    /// Whether a pcscd is parked here.
    fn is_warm(&self) -> bool {
        self.0.lock().is_ok_and(|p| p.is_some())
    }
}

/// A pcscd serving `cards`, started off the runtime (it waits for its readers).
pub async fn start(cards: Vec<LabelledCard>) -> Result<PrivatePcscd, BenchError> {
    let started = tokio::task::spawn_blocking(move || PrivatePcscd::start(cards)).await;
    let started = started.map_err(|cause| BenchError::Panicked { part: "pcscd start-up".into(), cause })?;
    started.map_err(BenchError::Pcscd)
}

/// The scenario's cards, each labelled with its seed id.
pub fn scenario_seeds(catalog: &Catalog, scenario: &Scenario) -> Result<Vec<LabelledCard>, BenchError> {
    scenario.placements().map(|p| fresh_card(catalog, &p.seed)).collect()
}

/// A card for every seed that makes one; a seed that cannot is left out here and reported by
/// the scenarios that place it (re-seating makes its card again and names the reason).
fn every_seed(catalog: &Catalog) -> Vec<LabelledCard> {
    catalog.seeds.keys().filter_map(|seed| fresh_card(catalog, seed).ok()).collect()
}

fn fresh_card(catalog: &Catalog, seed: &str) -> Result<LabelledCard, BenchError> {
    let file = catalog
        .seeds
        .get(seed)
        .ok_or_else(|| BenchError::VirtualCard { seed: seed.to_owned(), cause: "no such seed".into() })?;
    let card = VirtualUsim::from_catalog(catalog, file)
        .map_err(|e| BenchError::VirtualCard { seed: seed.to_owned(), cause: e.to_string() })?;
    Ok((seed.to_owned(), Box::new(card)))
}

/// Puts a fresh card, as the fixture describes it, into the reader of each seed the scenario
/// places.
fn reseat(pcscd: &PrivatePcscd, catalog: &Catalog, scenario: &Scenario) -> Result<(), BenchError> {
    for p in scenario.placements() {
        let (_, card) = fresh_card(catalog, &p.seed)?;
        let reader = pcscd.reader(&p.seed).ok_or_else(|| BenchError::VirtualCard {
            seed: p.seed.clone(),
            cause: "the warm pcscd serves no card for it (the fixtures changed under the run)".into(),
        })?;
        reader.slot.replace(card);
    }
    Ok(())
}
