//! The named checks of a scenario, as a table: one function per check over the [`Evidence`]
//! a bench collected, each name written once, in [`CHECKS`].
//!
//! A check passes, fails (the firmware did wrong: expected and observed say how), or is *not
//! observable* on this bench (its evidence does not exist there: it says which, and never
//! guesses). Times are nominal: real time divided by the bench's time scale.

mod attempts;
pub mod observed;
mod outcome;
#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::bench::evidence::{Allowance, Evidence, StepKind};
use crate::clock::TimeScale;
use crate::console::Event;
use crate::method::oracle::Expected;
use crate::model::{Catalog, Scenario};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The bench cannot see what the check needs; `observed` says what is missing.
    NotObservable,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    pub name: String,
    pub expected: String,
    pub observed: String,
    pub status: Status,
    /// A measurement in nominal milliseconds, where the check is one.
    pub measured_ms: Option<f64>,
    pub limit_ms: Option<f64>,
    /// Real milliseconds of the rig's own time allowed on top of `limit_ms` (nominal), where
    /// the bench measured it: a scaled bench's serial lines and card path are not radio time.
    #[serde(default)]
    pub rig_allowance_ms: Option<f64>,
    /// The rig's whole measured real time in the stretch (ms), where the cap cut the allowance
    /// short of it: a failure within it may be the rig's own lateness.
    #[serde(default)]
    pub rig_time_beyond_cap_ms: Option<f64>,
    /// Which of the bench's sources decided it (`card side`, `console`, `network`, `backend`,
    /// `observer`), in the order they were consulted.
    #[serde(default)]
    pub sources: Vec<String>,
}

impl Check {
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    /// ` + 0.84 ms real for the rig` beside a limit where the bench measured its own time,
    /// else nothing.
    pub fn rig_allowance_text(&self) -> String {
        self.rig_allowance_ms.map(|a| format!(" + {a:.2} ms real for the rig")).unwrap_or_default()
    }
}

/// What one check found, before it is named.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub expected: String,
    pub observed: String,
    pub status: Status,
    pub measured_ms: Option<f64>,
    pub limit_ms: Option<f64>,
    pub allowance: Option<Allowance>,
    /// The sources that decided it.
    pub sources: Vec<&'static str>,
}

impl Finding {
    /// Names the sources that decided the finding.
    fn from(mut self, sources: impl IntoIterator<Item = &'static str>) -> Finding {
        for s in sources {
            if !self.sources.contains(&s) {
                self.sources.push(s);
            }
        }
        self
    }

    fn new(expected: impl Into<String>, observed: impl Into<String>, passed: bool) -> Finding {
        Finding {
            expected: expected.into(),
            observed: observed.into(),
            status: if passed { Status::Pass } else { Status::Fail },
            measured_ms: None,
            limit_ms: None,
            allowance: None,
            sources: Vec::new(),
        }
    }

    fn not_observable(expected: impl Into<String>, why: impl Into<String>) -> Finding {
        Finding {
            expected: expected.into(),
            observed: format!("not observable on this bench: {}", why.into()),
            status: Status::NotObservable,
            measured_ms: None,
            limit_ms: None,
            allowance: None,
            sources: Vec::new(),
        }
    }

    fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    fn measured(mut self, measured_ms: f64, limit_ms: f64) -> Finding {
        self.measured_ms = Some(measured_ms);
        self.limit_ms = Some(limit_ms);
        self
    }

    /// A measurement within a nominal limit plus the rig's own real time, where the bench
    /// measured it: passes when `measured_ms` is within both, and says so beside the limit.
    fn within(
        expected: String,
        observed: String,
        measured_ms: f64,
        limit_ms: f64,
        allowance: Option<Allowance>,
        scale: TimeScale,
        also: bool,
    ) -> Finding {
        let extra = allowance.map_or(0.0, |a| scale.nominal_ms(a.real));
        let expected = match allowance {
            Some(a) => format!("{expected} {}", a.describe()),
            None => expected,
        };
        let mut f = Finding::new(expected, observed, also && measured_ms <= limit_ms + extra)
            .measured(measured_ms, limit_ms);
        f.allowance = allowance;
        f
    }
}

/// A check: its name and the function that decides it.
pub type CheckFn = fn(&Input) -> Finding;

/// Every check, in report order.
pub const CHECKS: &[(&str, CheckFn)] = &[
    ("master_first", attempts::master_first),
    ("master_judgement", attempts::master_judgement),
    ("attempt_order", attempts::attempt_order),
    ("standby_judgements", attempts::standby_judgements),
    ("console_claims", attempts::console_claims),
    ("winner", outcome::winner),
    ("time_to_winner", outcome::time_to_winner),
    ("report", outcome::report),
    ("settled", outcome::settled),
];

/// Data through a seed, as the bench saw it.
struct Win {
    at: Duration,
    imsi: String,
    /// Which part of the bench saw it: `backend` or `network`.
    source: &'static str,
}

/// Everything the checks look at: the scenario, what the oracle expects, and the evidence.
pub struct Input<'a> {
    pub catalog: &'a Catalog,
    pub scenario: &'a Scenario,
    pub expected: &'a Expected,
    pub scale: TimeScale,
    pub evidence: &'a Evidence,
}

pub fn evaluate(input: &Input) -> Vec<Check> {
    CHECKS
        .iter()
        .map(|(name, check)| {
            let f = check(input);
            Check {
                name: (*name).to_owned(),
                expected: f.expected,
                observed: f.observed,
                status: f.status,
                measured_ms: f.measured_ms,
                limit_ms: f.limit_ms,
                rig_allowance_ms: f.allowance.map(|a| a.real.as_secs_f64() * 1000.0),
                sources: f.sources.iter().map(|s| (*s).to_owned()).collect(),
                rig_time_beyond_cap_ms: f
                    .allowance
                    .filter(|a| a.capped)
                    .map(|a| a.wanted.as_secs_f64() * 1000.0),
            }
        })
        .collect()
}

impl Input<'_> {
    /// The seed the scenario puts in `slot` (`slot N` if none).
    pub fn seed_of_slot(&self, slot: u8) -> String {
        self.scenario.placements().find(|p| p.slot == slot).map_or(format!("slot {slot}"), |p| p.seed.clone())
    }

    fn imsi(&self, seed: &str) -> String {
        self.catalog.seeds.get(seed).map(|s| s.imsi.to_string()).unwrap_or_default()
    }

    fn seed_by_imsi(&self, imsi: &str) -> String {
        self.scenario
            .placements()
            .find(|p| self.imsi(&p.seed) == imsi)
            .map_or(format!("IMSI {imsi}"), |p| p.seed.clone())
    }

    /// `seed (slot N)` for an IMSI of the scenario, else `IMSI ...`.
    fn seed_and_slot(&self, imsi: &str) -> String {
        match self.scenario.placements().find(|p| self.imsi(&p.seed) == imsi) {
            Some(p) => format!("{} (slot {})", p.seed, p.slot),
            None => format!("IMSI {imsi}"),
        }
    }

    /// Nominal ms since the DUT was told to start.
    fn since_start(&self, at: Duration) -> f64 {
        self.scale.nominal_ms(at.saturating_sub(self.evidence.started_at))
    }

    /// The rig's own time in `(from, to]`, at most the scenario's tolerance in real time.
    fn rig_allowance(&self, from: Duration, to: Duration) -> Option<Allowance> {
        self.evidence.rig_allowance(from, to, self.scale.ms(self.scenario.tolerance_ms))
    }

    fn nominal(&self, real: Duration) -> f64 {
        self.scale.nominal_ms(real)
    }

    /// When data first went through a seed, as the bench saw it: the backend's first report
    /// (on every bench), else the network's first delivery (where the bench has a network).
    fn win(&self) -> Option<Win> {
        let report =
            self.evidence.reports.first().map(|r| Win { at: r.at, imsi: r.imsi.clone(), source: "backend" });
        let network = || {
            let steps = self.evidence.network.as_ref()?;
            let s = steps.iter().filter(|s| s.kind == StepKind::DataDelivered).min_by_key(|s| s.at)?;
            Some(Win { at: s.at, imsi: s.imsi.clone(), source: "network" })
        };
        report.or_else(network)
    }

    /// Whether the bench saw data go through the seed in `slot`.
    pub fn won_through(&self, slot: u8) -> bool {
        let seed = self.seed_of_slot(slot);
        self.win().is_some_and(|w| self.imsi(&seed) == w.imsi)
    }

    /// The console's claim of a connection: (when, slot).
    fn connected(&self) -> Option<(Duration, u8)> {
        self.evidence.console.iter().find_map(|e| match &e.event {
            Event::Connected { slot, .. } => Some((e.at, *slot)),
            _ => None,
        })
    }

    fn said_exhausted(&self) -> bool {
        self.evidence.console.iter().any(|e| matches!(e.event, Event::Exhausted { .. }))
    }
}
