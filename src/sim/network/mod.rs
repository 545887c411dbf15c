//! The simulated network of the virtual bench (`docs/virtual-bench.md`): the cells heard at the
//! scenario's site, a subscriber database built from its seeds, Milenage authentication through
//! the modem's SIM, registration, data contexts, a data path to the backend stub, the
//! scenario's network faults, and ground truth of every step.
//!
//! The emulated lab builds it with [`Network::for_lab`] instead: a site, every seed of the
//! catalog, the network faults the rig asks for, and a data path forwarded over TCP to the rig's
//! backend stub ([`BackendRoute::Forward`]); a [`SwitchableNetwork`] lets one modem live through
//! a new network per scenario.
//!
//! Latencies are the visited carrier's `[network]` table, multiplied by the bench's time scale.
//! Silent failures (`no_coverage`, `silent`, `data_fail`) are futures that never complete, so
//! the modem's and firmware's own timers decide, as they do against a real network.

mod attach;
mod faults;
mod rng;
mod session;
mod subscribers;
mod switchable;
mod truth;
mod types;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use session::BackendRoute;
pub use subscribers::NetworkError;
pub use switchable::SwitchableNetwork;
pub use truth::{TruthEvent, TruthKind};
pub use types::{
    ActivationFailure, AttachFailure, AuthAnswer, CAUSE_ILLEGAL_UE, CAUSE_IMSI_UNKNOWN, Context, DataFailure,
    HeardCell, Registration, SimAuth,
};

use crate::backend::Backend;
use crate::clock::RigClock;
use crate::clock::TimeScale;
use crate::model::{Catalog, FaultKind, NetworkTiming, Scenario, Site};
use rng::Rng;
use session::Sessions;
use subscribers::Subscriber;
use truth::TruthLog;

/// The simulated network. Cheap to clone; every clone is the same network.
#[derive(Clone)]
pub struct Network {
    inner: Arc<Inner>,
}

struct Inner {
    scale: TimeScale,
    route: BackendRoute,
    /// Strongest first.
    cells: Vec<HeardCell>,
    /// Timing of the strongest cell's carrier: who answers a subscriber it does not know.
    strongest_timing: NetworkTiming,
    subscribers: HashMap<String, Subscriber>,
    sessions: Mutex<Sessions>,
    rng: Mutex<Rng>,
    truth: TruthLog,
    clock: RigClock,
    /// How much later than asked each radio wait ended (the machine's timers and scheduling,
    /// not radio time), with when it ended.
    late: Mutex<Vec<(Duration, Duration)>>,
    /// How late the last radio wait ended, and when: the next wait that follows soon after is
    /// that much shorter, so timer granularity does not add up along an attempt.
    debt: Mutex<Option<(std::time::Instant, Duration)>>,
}

/// Shows the shape of the network, never a key.
impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seeds: Vec<&str> = self.inner.subscribers.values().map(|s| s.seed.as_str()).collect();
        seeds.sort_unstable();
        f.debug_struct("Network")
            .field("cells", &self.inner.cells.len())
            .field("subscribers", &seeds)
            .field("route", &self.inner.route)
            .finish()
    }
}

impl Network {
    /// The network of `scenario`'s site, knowing `scenario`'s seeds, with its network faults;
    /// requests for the backend go to the in-process stub.
    pub fn new(
        catalog: &Catalog,
        scenario: &Scenario,
        scale: TimeScale,
        clock: RigClock,
        backend: Backend,
    ) -> Result<Network, NetworkError> {
        let site = catalog.sites.get(&scenario.site).ok_or_else(|| NetworkError::UnknownSite {
            scenario: scenario.id.clone(),
            site: scenario.site.clone(),
        })?;
        let subscribers = subscribers::for_scenario(catalog, scenario, site)?;
        Network::assemble(catalog, site, subscribers, scale, clock, BackendRoute::Stub(backend))
    }

    /// The emulated lab's network at `site`: every seed of the catalog is a subscriber (keys,
    /// home, tariffs and SQN from its fixture), with the network faults `faults` names for it
    /// (`(seed id, kind)`; several for one seed combine). A card fault kind in `faults` is an
    /// error ([`NetworkError::CardFault`]): it belongs to the SIM line, and the network cannot
    /// apply it. So is a seed the catalog lacks, and a [`BackendRoute::Forward`] to an address
    /// that is not loopback.
    pub fn for_lab(
        catalog: &Catalog,
        site: &str,
        faults: &[(String, FaultKind)],
        scale: TimeScale,
        clock: RigClock,
        route: BackendRoute,
    ) -> Result<Network, NetworkError> {
        let site =
            catalog.sites.get(site).ok_or_else(|| NetworkError::UnknownLabSite { site: site.to_owned() })?;
        let subscribers = subscribers::for_lab(catalog, site, faults)?;
        Network::assemble(catalog, site, subscribers, scale, clock, route)
    }

    /// Takes over every subscriber's SQN from `old` (a network this one replaces while the
    /// cards live on), so the first attach after a change needs no resynchronisation.
    pub fn continue_sqns_from(&self, old: &Network) {
        for (imsi, sub) in &self.inner.subscribers {
            if let Some(before) = old.inner.subscribers.get(imsi) {
                sub.continue_from(before.next_sqn());
            }
        }
    }

    fn assemble(
        catalog: &Catalog,
        site: &Site,
        subscribers: HashMap<String, Subscriber>,
        scale: TimeScale,
        clock: RigClock,
        route: BackendRoute,
    ) -> Result<Network, NetworkError> {
        route.check()?;
        // A new RAND stream per network; the clock's reading is as good a seed as any.
        let rng_seed = clock.now().as_nanos() as u64 ^ 0x5EED_1E55_0000_0000;
        let inner = Inner {
            scale,
            route,
            cells: heard_cells(catalog, site)?,
            strongest_timing: strongest_timing(catalog, site),
            subscribers,
            sessions: Mutex::new(Sessions::new()),
            rng: Mutex::new(Rng::seeded(rng_seed)),
            truth: TruthLog::new(clock),
            clock,
            late: Mutex::default(),
            debt: Mutex::default(),
        };
        Ok(Network { inner: Arc::new(inner) })
    }

    /// Where requests for the backend go.
    pub fn route(&self) -> &BackendRoute {
        &self.inner.route
    }

    /// What a modem hears at the site: every cell, strongest first (equal signals in site-file
    /// order).
    pub fn cells(&self) -> Vec<HeardCell> {
        self.inner.cells.clone()
    }

    /// Every step so far, in time order, stamped on the rig's clock.
    pub fn ground_truth(&self) -> Vec<TruthEvent> {
        self.inner.truth.events()
    }

    fn record(&self, imsi: &str, kind: TruthKind) {
        self.inner.truth.record(imsi, kind);
    }

    /// Waits `ms` nominal milliseconds, scaled, and notes how late the wait ended. A wait that
    /// follows the last one closely is shortened by how late that one ended (the timer's
    /// granularity), so an attempt's steps keep their nominal times instead of each adding its
    /// own lateness; what is noted is how much later than asked the wait ended all the same.
    async fn pause(&self, ms: u64) {
        if ms > 0 {
            let asked = self.inner.scale.ms(ms);
            let from = std::time::Instant::now();
            let owed = match self.inner.debt.lock().map(|d| *d) {
                Ok(Some((ended, late))) if from.duration_since(ended) < DEBT_FOR => late.min(asked),
                _ => Duration::ZERO,
            };
            tokio::time::sleep(asked - owed).await;
            let ended = std::time::Instant::now();
            let took = ended.duration_since(from);
            if let Ok(mut d) = self.inner.debt.lock() {
                *d = Some((ended, took.saturating_sub(asked - owed)));
            }
            if let Ok(mut v) = self.inner.late.lock() {
                v.push((self.inner.clock.now(), took.saturating_sub(asked)));
            }
        }
    }

    /// How much later than asked each radio wait ended, with when it ended (rig clock).
    pub fn late_waits(&self) -> Vec<(Duration, Duration)> {
        self.inner.late.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// How soon after a late radio wait the next one pays it back (real time): the steps of one
/// attempt follow each other within the modem's handling, well inside this.
const DEBT_FOR: Duration = Duration::from_millis(5);

fn heard_cells(catalog: &Catalog, site: &Site) -> Result<Vec<HeardCell>, NetworkError> {
    let mut cells = Vec::with_capacity(site.cells.len());
    for cell in &site.cells {
        let carrier = catalog.carriers.get(&cell.carrier).ok_or_else(|| NetworkError::UnknownCarrier {
            owner: format!("site {}", site.id),
            carrier: cell.carrier.clone(),
        })?;
        cells.push(HeardCell {
            plmn: carrier.plmn.clone(),
            carrier_name: carrier.name.clone(),
            short_name: short_name(&carrier.name),
            rat: cell.rat,
            dbm: cell.signal_dbm,
            label: cell.label.clone(),
        });
    }
    // Stable: equal signals keep the site file's order, as the oracle does.
    cells.sort_by(|a, b| b.dbm.total_cmp(&a.dbm));
    Ok(cells)
}

/// The strongest cell's carrier timing (the first listed on equal signals).
fn strongest_timing(catalog: &Catalog, site: &Site) -> NetworkTiming {
    let strongest = site.cells.iter().reduce(|best, c| if c.signal_dbm > best.signal_dbm { c } else { best });
    strongest.and_then(|c| catalog.carriers.get(&c.carrier)).map(|c| c.network).unwrap_or_default()
}

/// A carrier's short operator name: its long name without a trailing country or business word
/// ("Vodafone Germany" → "Vodafone", "AT&T Mobility" → "AT&T"), which is how networks
/// broadcast it; names without such a word stay whole ("China Mobile", "NTT docomo").
fn short_name(long: &str) -> String {
    const SUFFIXES: &[&str] = &[
        "Germany",
        "Deutschland",
        "France",
        "UK",
        "US",
        "USA",
        "Brasil",
        "Brazil",
        "Japan",
        "Australia",
        "Mobility",
    ];
    match long.rsplit_once(' ') {
        Some((head, last)) if SUFFIXES.contains(&last) && !head.is_empty() => head.to_owned(),
        _ => long.to_owned(),
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (every critical
/// section here is a single update).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
