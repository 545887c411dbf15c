//! The named checks of a scenario (DESIGN.md §2.2), each with expected and observed values.
//! Times are nominal (real time divided by the bench's time scale).

use std::time::Duration;

use super::evidence::ConsoleEvent;
use crate::bridge::{ApduRecord, Subject};
use crate::firmware::console::Event;
use crate::method::Judged;
use crate::method::attempt::fmt_ms;
use crate::method::oracle::{Expected, Outcome};
use crate::model::{Catalog, Scenario};
use crate::sim::backend::ReportRecord;
use crate::sim::network::{TruthEvent, TruthKind};
use crate::sim::time::TimeScale;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    pub name: String,
    pub expected: String,
    pub observed: String,
    pub passed: bool,
    /// A measurement in nominal milliseconds, where the check is one.
    pub measured_ms: Option<f64>,
    pub limit_ms: Option<f64>,
}

impl Check {
    fn new(
        name: &'static str,
        expected: impl Into<String>,
        observed: impl Into<String>,
        passed: bool,
    ) -> Check {
        Check {
            name: name.to_owned(),
            expected: expected.into(),
            observed: observed.into(),
            passed,
            measured_ms: None,
            limit_ms: None,
        }
    }
}

/// Everything the checks look at.
pub struct Observed<'a> {
    pub catalog: &'a Catalog,
    pub scenario: &'a Scenario,
    pub expected: &'a Expected,
    pub scale: TimeScale,
    /// When the rig told the firmware to start.
    pub started_at: Duration,
    pub console: &'a [ConsoleEvent],
    pub apdus: &'a [ApduRecord],
    pub truth: &'a [TruthEvent],
    pub reports: &'a [ReportRecord],
}

impl Observed<'_> {
    fn seed_of_slot(&self, slot: u8) -> String {
        self.scenario.placements().find(|p| p.slot == slot).map_or(format!("slot {slot}"), |p| p.seed.clone())
    }

    fn imsi(&self, seed: &str) -> String {
        self.catalog.seeds.get(seed).map(|s| s.imsi.to_string()).unwrap_or_default()
    }

    fn nominal(&self, real: Duration) -> f64 {
        self.scale.nominal_ms(real)
    }

    fn attempts(&self) -> Vec<(Duration, u8)> {
        self.console
            .iter()
            .filter_map(|e| match &e.event {
                Event::Attempt { slot, pass: 1, .. } => Some((e.at, *slot)),
                _ => None,
            })
            .collect()
    }

    fn connected(&self) -> Option<(Duration, u8)> {
        self.console.iter().find_map(|e| match &e.event {
            Event::Connected { slot, .. } => Some((e.at, *slot)),
            _ => None,
        })
    }
}

pub fn evaluate(o: &Observed) -> Vec<Check> {
    vec![
        master_first(o),
        master_judgement(o),
        attempt_order(o),
        winner(o),
        time_to_winner(o),
        report(o),
        settled(o),
    ]
}

fn master_first(o: &Observed) -> Check {
    let master = &o.scenario.master;
    let first = o.attempts().first().map(|(_, slot)| o.seed_of_slot(*slot));
    let observed = first.clone().unwrap_or_else(|| "no attempt".into());
    Check::new(
        "master_first",
        format!("{} (slot {})", master.seed, master.slot),
        observed,
        first.as_deref() == Some(&master.seed),
    )
}

fn master_judgement(o: &Observed) -> Check {
    let expected = &o.expected.attempts[0];
    let attempts = o.attempts();
    let started = attempts.first().map(|(at, _)| *at);
    let judged = o.console.iter().find_map(|e| match &e.event {
        Event::Judged { slot, explicit, reason, .. } if *slot == o.scenario.master.slot => {
            Some((e.at, *explicit, reason.clone()))
        }
        _ => None,
    });
    match (&expected.judged, judged, started) {
        (Judged::Connected { .. }, None, _) => {
            Check::new("master_judgement", "connected", "connected (not judged failed)", true)
        }
        (Judged::Connected { .. }, Some((_, _, reason)), _) => {
            Check::new("master_judgement", "connected", format!("judged failed: {reason}"), false)
        }
        (Judged::Stalled { .. }, None, _) => {
            Check::new("master_judgement", "never judged (result mode, silence)", "never judged", true)
        }
        (Judged::Stalled { .. }, Some((_, _, reason)), _) => Check::new(
            "master_judgement",
            "never judged (result mode, silence)",
            format!("judged failed: {reason}"),
            false,
        ),
        (Judged::Failed { explicit, .. }, Some((at, seen_explicit, reason)), Some(start)) => {
            let took = o.nominal(at.saturating_sub(start));
            let bound = expected.bound_ms.unwrap_or(0) as f64;
            let kind = |e: bool| if e { "explicit" } else { "at T" };
            let mut c = Check::new(
                "master_judgement",
                format!("failed {} within {}", kind(*explicit), fmt_ms(bound as u64)),
                format!("failed {} after {}: {reason}", kind(seen_explicit), fmt_ms(took as u64)),
                *explicit == seen_explicit && took <= bound,
            );
            c.measured_ms = Some(took);
            c.limit_ms = Some(bound);
            c
        }
        (Judged::Failed { .. }, _, _) => Check::new("master_judgement", "judged failed", "not judged", false),
    }
}

fn attempt_order(o: &Observed) -> Check {
    let expected: Vec<&str> = o.expected.attempt_order();
    let observed: Vec<String> = o.attempts().iter().map(|(_, slot)| o.seed_of_slot(*slot)).collect();
    let passed = observed.iter().map(String::as_str).eq(expected.iter().copied());
    Check::new("attempt_order", expected.join(", "), observed.join(", "), passed)
}

/// The firmware's claim and the hardware evidence (who authenticated through the bridge, who
/// the network registered) must both match the oracle.
fn winner(o: &Observed) -> Check {
    let claim = o.connected().map(|(_, slot)| o.seed_of_slot(slot));
    let exhausted = o.console.iter().any(|e| matches!(e.event, Event::Exhausted { .. }));
    let registered: Vec<&str> = o
        .truth
        .iter()
        .filter(|t| matches!(t.kind, TruthKind::Registered { .. }))
        .map(|t| t.imsi.as_str())
        .collect();
    let expected = match &o.expected.outcome {
        Outcome::Winner { seed, .. } => seed.clone(),
        Outcome::Exhausted { .. } => "exhausted".into(),
        Outcome::Stalled { seed, .. } => format!("stalled on {seed}"),
    };
    let (observed, passed) = match &o.expected.outcome {
        Outcome::Winner { seed, slot, .. } => {
            let imsi = o.imsi(seed);
            let authenticated = o
                .apdus
                .iter()
                .any(|a| a.slot == *slot && a.subject == Subject::Authenticate && a.sw.is_some());
            let network = registered.last().copied() == Some(imsi.as_str());
            let firmware = claim.as_deref() == Some(seed.as_str());
            let observed = format!(
                "firmware: {}; network registered: {}; card authenticated in slot {slot}: {}",
                claim.clone().unwrap_or_else(|| if exhausted { "exhausted".into() } else { "none".into() }),
                registered.last().map_or("nobody".to_owned(), |i| o.seed_by_imsi(i)),
                if authenticated { "yes" } else { "no" }
            );
            (observed, firmware && network && authenticated)
        }
        Outcome::Exhausted { .. } => {
            let observed = match (&claim, exhausted) {
                (Some(c), _) => format!("firmware connected {c}"),
                (None, true) => format!("exhausted; network registered: {}", registered.len()),
                (None, false) => "firmware never said exhausted".into(),
            };
            (observed, claim.is_none() && exhausted && registered.is_empty())
        }
        Outcome::Stalled { .. } => {
            let observed =
                claim.clone().map_or("no winner".to_owned(), |c| format!("firmware connected {c}"));
            (observed, claim.is_none() && !exhausted)
        }
    };
    Check::new("winner", expected, observed, passed)
}

fn time_to_winner(o: &Observed) -> Check {
    let limit = o.scenario.timeout_ms as f64;
    match (&o.expected.outcome, o.connected()) {
        (Outcome::Winner { connected_at_ms, .. }, Some((at, _))) => {
            let took = o.nominal(at.saturating_sub(o.started_at));
            let mut c = Check::new(
                "time_to_winner",
                format!(
                    "≤ {} (the oracle's {} plus overheads)",
                    fmt_ms(limit as u64),
                    fmt_ms(*connected_at_ms)
                ),
                fmt_ms(took as u64),
                took <= limit,
            );
            c.measured_ms = Some(took);
            c.limit_ms = Some(limit);
            c
        }
        (Outcome::Winner { .. }, None) => {
            Check::new("time_to_winner", format!("≤ {}", fmt_ms(limit as u64)), "never connected", false)
        }
        (_, None) => Check::new("time_to_winner", "no winner", "no winner", true),
        (_, Some(_)) => Check::new("time_to_winner", "no winner", "connected", false),
    }
}

fn report(o: &Observed) -> Check {
    match &o.expected.outcome {
        Outcome::Winner { seed, .. } => {
            let imsi = o.imsi(seed);
            let through: Vec<String> = o.reports.iter().map(|r| o.seed_by_imsi(&r.imsi)).collect();
            let passed = o.reports.iter().any(|r| r.imsi == imsi);
            Check::new(
                "report",
                format!("a report through {seed}"),
                if through.is_empty() {
                    "no report".into()
                } else {
                    format!("reports through {}", through.join(", "))
                },
                passed,
            )
        }
        _ => {
            Check::new("report", "no report", format!("{} report(s)", o.reports.len()), o.reports.is_empty())
        }
    }
}

/// No switching once connected: no attempt after the connect, within the settle period.
fn settled(o: &Observed) -> Check {
    let Some((at, _)) = o.connected() else {
        return Check::new(
            "settled",
            "no switching after a win",
            "no win",
            !matches!(o.expected.outcome, Outcome::Winner { .. }),
        );
    };
    let later = o.console.iter().filter(|e| e.at > at && matches!(e.event, Event::Attempt { .. })).count();
    Check::new(
        "settled",
        format!("no attempt for {} after connecting", fmt_ms(o.scenario.settle_ms)),
        format!("{later} attempt(s)"),
        later == 0,
    )
}

impl Observed<'_> {
    fn seed_by_imsi(&self, imsi: &str) -> String {
        self.scenario
            .placements()
            .find(|p| self.imsi(&p.seed) == imsi)
            .map_or(format!("IMSI {imsi}"), |p| p.seed.clone())
    }
}
