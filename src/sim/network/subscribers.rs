//! The subscriber database (HSS): one entry per seed of the scenario (or, for the emulated lab,
//! of the whole catalog), keyed by IMSI, with its Milenage keys, its SQN counter, the cell it
//! attaches on and its network faults.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;

use super::faults::NetworkFaults;
use super::lock;
use crate::model::{Catalog, Cell, FaultKind, Id, NetworkTiming, Plmn, Rat, Scenario, Secret, Seed, Site};
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
    #[error("lab: site {site} is not in the catalog")]
    UnknownLabSite { site: Id },
    #[error("lab: a network fault names seed {seed}, which is not in the catalog")]
    UnknownFaultSeed { seed: Id },
    #[error("lab: seed {seed}: {kind} is a card fault; the network applies only network faults")]
    CardFault { seed: Id, kind: &'static str },
    #[error("backend route: {addr} is not a loopback address; requests are forwarded only to this host")]
    NotLoopback { addr: SocketAddr },
}

/// The cell a subscriber attaches on: the strongest cell at the site it may use.
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

    /// The SQN the next vector will carry.
    pub fn next_sqn(&self) -> u64 {
        *lock(&self.next_sqn)
    }

    /// Continues from `sqn`, if it is ahead (the subscriber's state taken over from a network
    /// this one replaces).
    pub fn continue_from(&self, sqn: u64) {
        let mut next = lock(&self.next_sqn);
        *next = (*next).max(sqn);
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

/// Every seed placed in the scenario, with its placement's network faults. A seed placed
/// twice is one subscriber (its first placement's faults).
pub(super) fn for_scenario(
    catalog: &Catalog,
    scenario: &Scenario,
    site: &Site,
) -> Result<HashMap<String, Subscriber>, NetworkError> {
    let mut seeds = Vec::new();
    for placement in scenario.placements() {
        let seed = catalog.seeds.get(&placement.seed).ok_or_else(|| NetworkError::UnknownSeed {
            scenario: scenario.id.clone(),
            seed: placement.seed.clone(),
        })?;
        seeds.push((seed, NetworkFaults::from_faults(&placement.faults)));
    }
    build(catalog, site, seeds)
}

/// Every seed of the catalog, with the network faults `faults` names for it (all of a seed's
/// entries combined). A card fault kind, or a seed the catalog does not have, is an error: the
/// lab's network cannot apply it, and a caller expecting it applied would be misled.
pub(super) fn for_lab(
    catalog: &Catalog,
    site: &Site,
    faults: &[(String, FaultKind)],
) -> Result<HashMap<String, Subscriber>, NetworkError> {
    let mut by_seed: BTreeMap<&str, Vec<FaultKind>> = BTreeMap::new();
    for (seed, kind) in faults {
        if !catalog.seeds.contains_key(seed.as_str()) {
            return Err(NetworkError::UnknownFaultSeed { seed: seed.clone() });
        }
        if kind.is_card_fault() {
            return Err(NetworkError::CardFault { seed: seed.clone(), kind: kind.name() });
        }
        by_seed.entry(seed.as_str()).or_default().push(*kind);
    }
    let seeds = catalog.seeds.values().map(|seed| {
        let kinds = by_seed.get(seed.id.as_str()).map(Vec::as_slice).unwrap_or_default();
        (seed, NetworkFaults::from_kinds(kinds.iter().copied()))
    });
    build(catalog, site, seeds)
}

/// The subscribers of `seeds` at `site`, by IMSI, each with its network faults. A seed listed
/// again is skipped (its first entry stands); two seeds with one IMSI are an error.
fn build<'a>(
    catalog: &Catalog,
    site: &Site,
    seeds: impl IntoIterator<Item = (&'a Seed, NetworkFaults)>,
) -> Result<HashMap<String, Subscriber>, NetworkError> {
    let mut out: HashMap<String, Subscriber> = HashMap::new();
    for (seed, faults) in seeds {
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
        subscriber.faults = faults;
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

/// The seed's serving cell: the strongest usable cell at the site, with its carrier's PLMN and
/// timing. The network picks it by its own reading of the rule (docs/fixtures.md), not with the
/// oracle's code, so that a mistake in either shows up as a disagreement between them.
fn serving_cell(catalog: &Catalog, seed: &Seed, site: &Site) -> Result<Option<ServingCell>, NetworkError> {
    let usable = |cell: &&Cell| seed.rats.contains(&cell.rat) && may_use(catalog, seed, &cell.carrier);
    // Only a strictly stronger cell displaces one listed before it.
    let strongest = site
        .cells
        .iter()
        .filter(usable)
        .reduce(|kept, next| if next.signal_dbm > kept.signal_dbm { next } else { kept });
    let Some(cell) = strongest else {
        return Ok(None);
    };
    let carrier = catalog.carriers.get(&cell.carrier).ok_or_else(|| NetworkError::UnknownCarrier {
        owner: format!("site {}", site.id),
        carrier: cell.carrier.clone(),
    })?;
    Ok(Some(ServingCell {
        carrier: cell.carrier.clone(),
        plmn: carrier.plmn.clone(),
        rat: cell.rat,
        label: cell.label.clone(),
        timing: carrier.network,
    }))
}

/// Whether the subscription lets the seed on `carrier`'s network: its home network, or one its
/// own plan or its home carrier's price list has a tariff for.
fn may_use(catalog: &Catalog, seed: &Seed, carrier: &str) -> bool {
    carrier == seed.home
        || seed.tariffs.contains_key(carrier)
        || catalog.carriers.get(&seed.home).is_some_and(|home| home.tariffs.contains_key(carrier))
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
    let key = crate::encoding::hex::decode(&value).and_then(|b| <[u8; 16]>::try_from(b).ok());
    key.ok_or_else(|| fail("is not 32 hex digits".to_owned()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::model::secret::SecretFormat;
    use crate::model::{Carrier, Iccid, Imsi};

    fn carrier(id: &str, plmn: &str, tariffs: &[(&str, f64)], register_ms: u64) -> Carrier {
        Carrier {
            id: id.into(),
            name: id.into(),
            country: "DE".into(),
            plmn: Plmn::parse(plmn).unwrap(),
            rats: vec![Rat::Gsm, Rat::Lte, Rat::Nr],
            apn: "internet".into(),
            tariffs: tariffs.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
            network: NetworkTiming { register_ms, ..NetworkTiming::default() },
        }
    }

    /// Home carrier `home` (price list: itself and `roam`); `other` and `plan` have no tariff
    /// there, `plan` is in the test seed's own plan.
    fn catalog() -> Catalog {
        let mut catalog = Catalog::default();
        for c in [
            carrier("home", "262-01", &[("home", 0.01), ("roam", 0.02)], 701),
            carrier("roam", "262-02", &[("roam", 0.01)], 702),
            carrier("other", "262-03", &[("other", 0.01)], 703),
            carrier("plan", "262-07", &[("plan", 0.01)], 707),
        ] {
            catalog.carriers.insert(c.id.clone(), c);
        }
        catalog
    }

    fn seed(rats: &[Rat]) -> Seed {
        let hex = |s: &str| Secret::parse(s, SecretFormat::Hex(32), Path::new(".")).unwrap();
        Seed {
            id: "test-seed".into(),
            description: String::new(),
            iccid: Iccid::parse("8988211000000430010").unwrap(),
            imsi: Imsi::parse("262011106487504", None).unwrap(),
            home: "home".into(),
            rats: rats.to_vec(),
            k: hex("465b5ce8b199b49faa5f0a2ee238a6bc"),
            opc: hex("cd63cb71954a9f4e48a5994e37a02baf"),
            sqn: None,
            pin: None,
            tariffs: BTreeMap::from([("plan".to_owned(), 0.05)]),
        }
    }

    fn site(cells: &[(&str, Rat, f64, &str)]) -> Site {
        Site {
            id: "test-site".into(),
            name: "test".into(),
            country: "DE".into(),
            cells: cells
                .iter()
                .map(|&(carrier, rat, signal_dbm, label)| Cell {
                    carrier: carrier.into(),
                    rat,
                    signal_dbm,
                    label: Some(label.into()),
                })
                .collect(),
        }
    }

    /// (carrier, RAT, label, register_ms) of the serving cell.
    fn serving(seed: &Seed, site: &Site) -> Option<(Id, Rat, String, u64)> {
        let cell = serving_cell(&catalog(), seed, site).unwrap()?;
        Some((cell.carrier, cell.rat, cell.label.unwrap(), cell.timing.register_ms))
    }

    #[test]
    fn strongest_cell_of_a_supported_rat_on_a_carrier_the_seed_may_use() {
        let s = seed(&[Rat::Lte, Rat::Nr]);
        let cells = [
            ("other", Rat::Lte, -50.0, "no tariff"),
            ("home", Rat::Gsm, -55.0, "unsupported rat"),
            ("roam", Rat::Lte, -70.0, "home price list"),
            ("plan", Rat::Nr, -70.0, "own plan, equal, later"),
            ("home", Rat::Lte, -90.0, "home, weak"),
        ];
        assert_eq!(
            serving(&s, &site(&cells)),
            Some(("roam".into(), Rat::Lte, "home price list".into(), 702))
        );

        // The own plan's carrier, once it is the strongest.
        let mut stronger = cells;
        stronger[3].2 = -69.5;
        assert_eq!(serving(&s, &site(&stronger)).map(|c| c.2), Some("own plan, equal, later".into()));

        // Only GSM supported: the home GSM cell; only UMTS: nothing.
        assert_eq!(
            serving(&seed(&[Rat::Gsm]), &site(&cells)).map(|c| (c.0, c.3)),
            Some(("home".into(), 701))
        );
        assert_eq!(serving(&seed(&[Rat::Umts]), &site(&cells)), None);
    }

    #[test]
    fn nothing_usable_at_the_site_is_no_cell() {
        let s = seed(&[Rat::Lte]);
        assert_eq!(serving(&s, &site(&[("other", Rat::Lte, -40.0, "no tariff")])), None);
        assert_eq!(serving(&s, &site(&[])), None);
    }

    #[test]
    fn a_seed_may_use_home_its_plan_and_its_home_price_list() {
        let (cat, s) = (catalog(), seed(&[Rat::Lte]));
        assert!(may_use(&cat, &s, "home") && may_use(&cat, &s, "roam") && may_use(&cat, &s, "plan"));
        assert!(!may_use(&cat, &s, "other") && !may_use(&cat, &s, "nowhere"));
    }
}
