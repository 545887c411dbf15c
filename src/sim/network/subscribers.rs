//! The subscriber database (HSS): one entry per seed of the scenario, keyed by IMSI, with its
//! Milenage keys, its SQN counter, the cell it attaches on and its network faults.

use std::collections::HashMap;
use std::sync::Mutex;

use super::faults::NetworkFaults;
use super::lock;
use crate::method::view::best_cell;
use crate::model::{Catalog, Id, NetworkTiming, Plmn, Rat, Scenario, Secret, Seed, Site};
use crate::sim::usim::Milenage;

/// SQN of a seed that does not state one (the virtual USIM's default, TS 33.102 Annex C with
/// SEQ = 1, IND = 0).
const DEFAULT_SQN: u64 = 0x20;
/// The network's SQN step: one SEQ increment with a 5-bit IND, so the card always finds it fresh.
const SQN_STEP: u64 = 32;
const SQN_MAX: u64 = (1 << 48) - 1;

/// Why the network cannot be built. Messages name seeds and where secrets come from, never a
/// secret's value.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("scenario {scenario}: site {site} is not in the catalog")]
    UnknownSite { scenario: Id, site: Id },
    #[error("scenario {scenario}: seed {seed} is not in the catalog")]
    UnknownSeed { scenario: Id, seed: Id },
    #[error("{owner}: carrier {carrier} is not in the catalog")]
    UnknownCarrier { owner: String, carrier: Id },
    #[error("seed {seed}: cannot use its {secret} from {origin}: {reason}")]
    Secret { seed: Id, secret: &'static str, origin: String, reason: String },
    #[error("seed {seed}: SQN {sqn:#x} leaves no room below 2^48 for the network's vectors")]
    Sqn { seed: Id, sqn: u64 },
    #[error("seeds {first} and {second} share the IMSI {imsi}")]
    DuplicateImsi { imsi: String, first: Id, second: Id },
}

/// The cell a subscriber attaches on: its best usable cell by the oracle's rule.
#[derive(Debug, Clone)]
pub(super) struct ServingCell {
    pub carrier: Id,
    pub plmn: Plmn,
    pub rat: Rat,
    pub label: Option<String>,
    pub timing: NetworkTiming,
}

pub(super) struct Subscriber {
    pub seed: Id,
    pub home: Id,
    pub milenage: Milenage,
    /// `None`: no usable cell at the site.
    pub cell: Option<ServingCell>,
    pub faults: NetworkFaults,
    /// The SQN of the next vector.
    next_sqn: Mutex<u64>,
}

impl Subscriber {
    /// The cell the attach reaches the network on, unless none is heard.
    pub fn reachable_cell(&self) -> Option<&ServingCell> {
        self.cell.as_ref().filter(|_| !self.faults.no_coverage)
    }

    /// The SQN for a new vector; the next one is a step higher.
    pub fn take_sqn(&self) -> u64 {
        let mut next = lock(&self.next_sqn);
        let sqn = *next;
        *next = (sqn + SQN_STEP) & SQN_MAX;
        sqn
    }

    /// After AUTS: continue a step above the card's SQN_MS.
    pub fn resync(&self, sqn_ms: u64) {
        *lock(&self.next_sqn) = (sqn_ms + SQN_STEP) & SQN_MAX;
    }

    /// The visited network's timing (the defaults if the subscriber has no cell, which only
    /// matters for a forged registration).
    pub fn timing(&self) -> NetworkTiming {
        self.cell.as_ref().map(|c| c.timing).unwrap_or_default()
    }
}

/// Every seed placed in the scenario, by IMSI. A seed placed twice is one subscriber.
pub(super) fn build(
    catalog: &Catalog,
    scenario: &Scenario,
    site: &Site,
) -> Result<HashMap<String, Subscriber>, NetworkError> {
    let mut out: HashMap<String, Subscriber> = HashMap::new();
    for placement in scenario.placements() {
        let seed = catalog.seeds.get(&placement.seed).ok_or_else(|| NetworkError::UnknownSeed {
            scenario: scenario.id.clone(),
            seed: placement.seed.clone(),
        })?;
        let imsi = seed.imsi.as_str();
        if let Some(existing) = out.get(imsi) {
            if existing.seed == seed.id {
                continue;
            }
            return Err(NetworkError::DuplicateImsi {
                imsi: imsi.to_owned(),
                first: existing.seed.clone(),
                second: seed.id.clone(),
            });
        }
        let mut subscriber = subscriber(catalog, seed, site)?;
        subscriber.faults = NetworkFaults::from_faults(&placement.faults);
        out.insert(imsi.to_owned(), subscriber);
    }
    Ok(out)
}

fn subscriber(catalog: &Catalog, seed: &Seed, site: &Site) -> Result<Subscriber, NetworkError> {
    let sqn = seed.sqn.unwrap_or(DEFAULT_SQN);
    if sqn > SQN_MAX - SQN_STEP {
        return Err(NetworkError::Sqn { seed: seed.id.clone(), sqn });
    }
    let milenage = Milenage::new(key(seed, "K", &seed.k)?, key(seed, "OPc", &seed.opc)?);
    Ok(Subscriber {
        seed: seed.id.clone(),
        home: seed.home.clone(),
        milenage,
        cell: serving_cell(catalog, seed, site)?,
        faults: NetworkFaults::default(),
        // The card has accepted `sqn`; the first vector must be above it.
        next_sqn: Mutex::new(sqn + SQN_STEP),
    })
}

/// The seed's best usable cell, by the oracle's own rule, with its carrier's PLMN.
fn serving_cell(catalog: &Catalog, seed: &Seed, site: &Site) -> Result<Option<ServingCell>, NetworkError> {
    let Some(best) = best_cell(catalog, seed, site) else {
        return Ok(None);
    };
    let carrier = catalog.carriers.get(&best.carrier).ok_or_else(|| NetworkError::UnknownCarrier {
        owner: format!("site {}", site.id),
        carrier: best.carrier.clone(),
    })?;
    Ok(Some(ServingCell {
        carrier: best.carrier,
        plmn: carrier.plmn.clone(),
        rat: best.rat,
        label: best.label,
        timing: best.timing,
    }))
}

/// A 128-bit key of `seed`, read through [`Secret::expose`].
fn key(seed: &Seed, name: &'static str, secret: &Secret) -> Result<[u8; 16], NetworkError> {
    let fail = |reason: String| NetworkError::Secret {
        seed: seed.id.clone(),
        secret: name,
        origin: secret.origin(),
        reason,
    };
    let value = secret.expose().map_err(|e| fail(e.to_string()))?;
    decode_hex16(&value).ok_or_else(|| fail("is not 32 hex digits".to_owned()))
}

fn decode_hex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
