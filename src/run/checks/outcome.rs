//! Checks of the outcome: who won (on independent sources), how fast, the report through the
//! winner, and no switching afterwards.

use std::time::Duration;

use super::{Finding, Input};
use crate::bench::evidence::{ReportImsi, StepKind};
use crate::bridge::Subject;
use crate::console::Event;
use crate::method::attempt::fmt_ms;
use crate::method::oracle::Outcome;

/// The DUT's claim must match the oracle, no independent source may point elsewhere, and at
/// least one independent source must confirm it: the card's AUTHENTICATE through the bridge,
/// the network's record (where the bench has one), the observer port's registration after the
/// winner authenticated, the backend's report through the winner's IMSI.
pub fn winner(i: &Input) -> Finding {
    match &i.expected.outcome {
        Outcome::Winner { seed, slot, .. } => seed_won(i, seed, *slot),
        Outcome::Exhausted { .. } => nobody_won(i),
        Outcome::Stalled { seed, .. } => {
            let claim = i.connected().map(|(_, slot)| i.seed_of_slot(slot));
            let observed = match (&claim, i.said_exhausted()) {
                (Some(c), _) => format!("firmware connected {c}"),
                (None, true) => "firmware said exhausted".into(),
                (None, false) => "no winner".into(),
            };
            Finding::new(format!("stalled on {seed}"), observed, claim.is_none() && !i.said_exhausted())
        }
    }
}

/// One source's say on the winner.
enum Say {
    Agrees(String),
    Disagrees(String),
    Silent(String),
}

fn seed_won(i: &Input, seed: &str, slot: u8) -> Finding {
    let connected = i.connected();
    let claim = connected.map(|(_, s)| i.seed_of_slot(s));
    let firmware = match &claim {
        Some(c) => format!("firmware: {c}"),
        None if i.said_exhausted() => "firmware: exhausted".into(),
        None => "firmware: none".into(),
    };
    let until = connected.map_or(Duration::MAX, |(at, _)| at);
    let sources = [
        card_says(i, slot, until),
        network_says(i, seed),
        observer_says(i, slot, until),
        backend_says(i, seed),
    ];
    let mut observed = vec![firmware];
    let (mut agree, mut disagree) = (0, 0);
    for say in sources.into_iter().flatten() {
        match say {
            Say::Agrees(s) => {
                agree += 1;
                observed.push(s);
            }
            Say::Disagrees(s) => {
                disagree += 1;
                observed.push(s);
            }
            Say::Silent(s) => observed.push(s),
        }
    }
    let claim_right = claim.as_deref() == Some(seed);
    if claim_right && disagree == 0 && agree == 0 {
        return Finding::not_observable(
            seed,
            format!("only the firmware's own claim names the winner ({})", observed.join("; ")),
        );
    }
    Finding::new(seed, observed.join("; "), claim_right && disagree == 0)
}

/// The slot that last authenticated through the bridge before the win must be the winner's.
fn card_says(i: &Input, slot: u8, until: Duration) -> Option<Say> {
    if i.evidence.apdus.is_empty() {
        // No trace at all: this bench's bridge recorded nothing, so the card cannot speak.
        return None;
    }
    let last = i
        .evidence
        .apdus
        .iter()
        .filter(|a| a.at <= until && a.subject == Subject::Authenticate && a.sw.is_some_and(answered))
        .max_by_key(|a| a.at);
    Some(match last {
        Some(a) if a.slot == slot => Say::Agrees(format!("card authenticated in slot {slot}: yes")),
        Some(a) => Say::Disagrees(format!(
            "card authenticated last in slot {} ({}) at {}, not slot {slot}",
            a.slot,
            i.seed_of_slot(a.slot),
            fmt_ms(i.since_start(a.at) as u64)
        )),
        None => Say::Disagrees(format!("card authenticated in slot {slot}: no")),
    })
}

/// A status word that carries an answer (9000, 61xx, 9Fxx).
fn answered(sw: u16) -> bool {
    sw == 0x9000 || sw >> 8 == 0x61 || sw >> 8 == 0x9F
}

fn network_says(i: &Input, seed: &str) -> Option<Say> {
    let steps = i.evidence.network.as_ref()?;
    let imsi = i.imsi(seed);
    let registered = steps.iter().filter(|s| s.kind == StepKind::Registered).max_by_key(|s| s.at);
    Some(match registered {
        Some(s) if s.imsi == imsi => Say::Agrees(format!("network registered: {seed}")),
        Some(s) => Say::Disagrees(format!(
            "network registered: {} at {}",
            i.seed_and_slot(&s.imsi),
            fmt_ms(i.since_start(s.at) as u64)
        )),
        None => Say::Disagrees("network registered: nobody".into()),
    })
}

/// A registration on the observer port after the winner's last AUTHENTICATE.
fn observer_says(i: &Input, slot: u8, until: Duration) -> Option<Say> {
    if i.evidence.urcs.is_empty() || !i.evidence.observer_is_dut_modem {
        // No observer, or a reference modem: its registrations are not the DUT's.
        return None;
    }
    let registrations = i.evidence.observer_registrations();
    let authenticated = i
        .evidence
        .apdus
        .iter()
        .filter(|a| a.slot == slot && a.subject == Subject::Authenticate && a.at <= until)
        .map(|a| a.at)
        .max()?;
    Some(match registrations.iter().find(|at| **at >= authenticated) {
        Some(_) => Say::Agrees("observer port: registered after it authenticated".into()),
        None => Say::Silent("observer port: no registration after it authenticated".into()),
    })
}

fn backend_says(i: &Input, seed: &str) -> Option<Say> {
    let imsi = i.imsi(seed);
    let first = i.evidence.reports.first()?;
    let how = match i.evidence.report_imsi {
        ReportImsi::Context => "",
        ReportImsi::Claimed => " (by the IMSI the report claims)",
    };
    Some(if i.evidence.reports.iter().any(|r| r.imsi == imsi) {
        Say::Agrees(format!("backend got a report through {seed}{how}"))
    } else {
        Say::Disagrees(format!(
            "backend got a report through {}{how} at {}",
            i.seed_and_slot(&first.imsi),
            fmt_ms(i.since_start(first.at) as u64)
        ))
    })
}

/// Exhausted: the firmware says so, claims no winner, and no seed got data to the backend.
/// (A seed that registered but never had a data path did not connect.)
fn nobody_won(i: &Input) -> Finding {
    let claim = i.connected();
    let mut observed = match (&claim, i.said_exhausted()) {
        (Some((at, slot)), _) => vec![format!(
            "firmware connected {} (slot {slot}) at {}",
            i.seed_of_slot(*slot),
            fmt_ms(i.since_start(*at) as u64)
        )],
        (None, true) => vec!["firmware: exhausted".into()],
        (None, false) => vec!["firmware never said exhausted".into()],
    };
    let mut contradicted = false;
    if let Some(steps) = &i.evidence.network {
        for s in steps.iter().filter(|s| s.kind == StepKind::DataDelivered) {
            contradicted = true;
            observed.push(format!(
                "network delivered data for {} at {}",
                i.seed_and_slot(&s.imsi),
                fmt_ms(i.since_start(s.at) as u64)
            ));
        }
    }
    for r in &i.evidence.reports {
        contradicted = true;
        observed.push(format!(
            "backend got a report through {} at {}",
            i.seed_and_slot(&r.imsi),
            fmt_ms(i.since_start(r.at) as u64)
        ));
    }
    Finding::new("exhausted", observed.join("; "), claim.is_none() && i.said_exhausted() && !contradicted)
}

pub fn time_to_winner(i: &Input) -> Finding {
    let limit = i.scenario.timeout_ms as f64;
    match (&i.expected.outcome, i.connected()) {
        (Outcome::Winner { connected_at_ms, .. }, Some((at, _))) => {
            let took = i.since_start(at);
            Finding::within(
                format!(
                    "≤ {} (the oracle's {} plus overheads)",
                    fmt_ms(limit as u64),
                    fmt_ms(*connected_at_ms)
                ),
                fmt_ms(took as u64),
                took,
                limit,
                i.rig_allowance(i.evidence.started_at, at),
                i.scale,
                true,
            )
        }
        (Outcome::Winner { .. }, None) => {
            Finding::new(format!("≤ {}", fmt_ms(limit as u64)), "never connected", false)
        }
        (_, None) => Finding::new("no winner", "no winner", true),
        (_, Some(_)) => Finding::new("no winner", "connected", false),
    }
}

pub fn report(i: &Input) -> Finding {
    let reports = &i.evidence.reports;
    match &i.expected.outcome {
        Outcome::Winner { seed, .. } => {
            let imsi = i.imsi(seed);
            let through: Vec<String> = reports.iter().map(|r| i.seed_by_imsi(&r.imsi)).collect();
            let observed = if through.is_empty() {
                "no report".into()
            } else {
                format!("reports through {}", through.join(", "))
            };
            Finding::new(format!("a report through {seed}"), observed, reports.iter().any(|r| r.imsi == imsi))
        }
        _ => Finding::new("no report", format!("{} report(s)", reports.len()), reports.is_empty()),
    }
}

/// No switching once connected: no attempt after the connect, within the settle period.
pub fn settled(i: &Input) -> Finding {
    let Some((at, _)) = i.connected() else {
        let won = matches!(i.expected.outcome, Outcome::Winner { .. });
        return Finding::new("no switching after a win", "no win", !won);
    };
    let later =
        i.evidence.console.iter().filter(|e| e.at > at && matches!(e.event, Event::Attempt { .. })).count();
    Finding::new(
        format!("no attempt for {} after connecting", fmt_ms(i.scenario.settle_ms)),
        format!("{later} attempt(s)"),
        later == 0,
    )
}
