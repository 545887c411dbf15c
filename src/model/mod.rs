//! The validated domain model: what fixtures and rig files mean once checked; and how every
//! output masks secrets ([`masking`]).
//!
//! Nothing here parses TOML (masking finds `key = value` in any text, parsed or not); `fixture`
//! builds these types, `method` and the rest of the rig consume them.

mod fault;
mod ident;
pub mod masking;
mod rig;
pub mod secret;

pub use fault::{CardFaultKind, Fault, FaultKind, FaultTarget, NetworkFaultKind};
pub use ident::{Iccid, Imsi, Plmn, Rat, luhn_check_digit};
pub use rig::{
    CardemChannel, ConsoleFormat, Dut, DutProgram, DutWhen, EventPattern, Hook, LabBench, LabNetwork,
    NetworkHooks, Observer, ObserverKind, PatternEvent, Reader, Rig, RigKind, SerialPort, SlotChannel, When,
};
pub use secret::{Secret, SecretError};

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A fixture's id: its file name without `.toml`.
pub type Id = String;

/// Nominal answer times of a carrier's network, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkTiming {
    pub auth_ms: u64,
    pub register_ms: u64,
    pub context_ms: u64,
    pub data_ms: u64,
}

impl Default for NetworkTiming {
    fn default() -> Self {
        NetworkTiming { auth_ms: 300, register_ms: 700, context_ms: 400, data_ms: 150 }
    }
}

impl NetworkTiming {
    /// Time from attach request to data reaching the backend, when every step succeeds.
    pub fn connect_ms(&self) -> u64 {
        self.auth_ms + self.register_ms + self.context_ms + self.data_ms
    }
}

#[derive(Debug, Clone)]
pub struct Carrier {
    pub id: Id,
    pub name: String,
    pub country: String,
    pub plmn: Plmn,
    pub rats: Vec<Rat>,
    pub apn: String,
    /// Cost per MB for this carrier's seeds, by visited carrier id (includes itself).
    pub tariffs: BTreeMap<Id, f64>,
    pub network: NetworkTiming,
}

#[derive(Debug, Clone)]
pub struct Seed {
    pub id: Id,
    pub description: String,
    pub iccid: Iccid,
    pub imsi: Imsi,
    pub home: Id,
    pub rats: Vec<Rat>,
    pub k: Secret,
    pub opc: Secret,
    pub sqn: Option<u64>,
    pub pin: Option<Secret>,
    /// The seed's own plan; overrides and extends its home carrier's price list.
    pub tariffs: BTreeMap<Id, f64>,
}

#[derive(Debug, Clone)]
pub struct Cell {
    pub carrier: Id,
    pub rat: Rat,
    pub signal_dbm: f64,
    pub label: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub id: Id,
    pub name: String,
    pub country: String,
    pub cells: Vec<Cell>,
}

/// How the firmware decides that an attempt failed (docs/method.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Waits for the network's explicit answer (patent figure 3).
    Result,
    /// Success only within the attempt timeout T (figure 4).
    Timeout,
    /// An explicit reject ends the attempt early; silence fails at T.
    Both,
}

impl Judgement {
    pub const NAMES: &'static [&'static str] = &["result", "timeout", "both"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "result" => Some(Judgement::Result),
            "timeout" => Some(Judgement::Timeout),
            "both" => Some(Judgement::Both),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Judgement::Result => "result",
            Judgement::Timeout => "timeout",
            Judgement::Both => "both",
        }
    }
}

/// Weight `a` for signal and `b` for tariff; both ≥ 0, not both 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub signal: f64,
    pub tariff: f64,
}

/// One seed placed in one SIM slot of the DUT, with the faults applied to it.
#[derive(Debug, Clone)]
pub struct Placement {
    pub seed: Id,
    pub slot: u8,
    pub faults: Vec<Fault>,
}

/// What the engineer expects the winner to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Winner {
    Seed(Id),
    /// Every seed was tried and none connected.
    Exhausted,
    /// The firmware waits for an answer that never comes (`result` judgement and silence).
    Stalled,
}

impl std::fmt::Display for Winner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Winner::Seed(id) => f.write_str(id),
            Winner::Exhausted => f.write_str("exhausted"),
            Winner::Stalled => f.write_str("stalled"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub winner: Winner,
    pub attempts: Option<Vec<Id>>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: Id,
    pub path: PathBuf,
    pub description: String,
    pub site: Id,
    pub judgement: Judgement,
    pub attempt_timeout_ms: u64,
    pub timeout_ms: u64,
    pub tolerance_ms: u64,
    pub settle_ms: u64,
    pub retry_backoff_ms: Option<u64>,
    /// The DUT must start from a power cycle, whatever state the bench left it in (a lab whose
    /// hooks run `when-needed` powers it; every scenario starts cold on the virtual bench).
    pub cold_start: bool,
    pub weights: Weights,
    pub master: Placement,
    pub standbys: Vec<Placement>,
    pub expect: Expectation,
}

impl Scenario {
    /// Master first, then standbys in file order.
    pub fn placements(&self) -> impl Iterator<Item = &Placement> {
        std::iter::once(&self.master).chain(self.standbys.iter())
    }
}

/// Every validated fixture, with references resolved.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub carriers: BTreeMap<Id, Carrier>,
    pub seeds: BTreeMap<Id, Seed>,
    pub sites: BTreeMap<Id, Site>,
    pub scenarios: BTreeMap<Id, Scenario>,
    pub rigs: BTreeMap<Id, Rig>,
}

impl Catalog {
    /// The seed's price on `carrier`, if it may use that carrier at all.
    pub fn tariff(&self, seed: &Seed, carrier: &str) -> Option<f64> {
        seed.tariffs.get(carrier).or_else(|| self.carriers.get(&seed.home)?.tariffs.get(carrier)).copied()
    }
}
