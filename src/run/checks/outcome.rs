//! Checks of the outcome, on what the bench saw: who won (data through a seed, confirmed by
//! independent sources; the console's claim cross-checked), how fast, the report through the
//! winner, and no switching afterwards.

use std::time::Duration;

use super::observed::answered;
use super::{Finding, Input};
use crate::bench::evidence::{ReportImsi, StepKind};
use crate::bridge::Subject;
use crate::method::attempt::fmt_ms;
use crate::method::oracle::Outcome;

/// The winner is the seed data went through; every independent source the bench has (the
/// card's last AUTHENTICATE, the network's record, the observer port, the backend) must agree
/// and at least one must confirm it. The console's `connected` line is a claim: naming another
/// seed (or a win where the bench saw none) fails, saying nothing does not.
pub fn winner(i: &Input) -> Finding {
    match &i.expected.outcome {
        Outcome::Winner { seed, slot, .. } => seed_won(i, seed, *slot),
        Outcome::Exhausted { .. } => nobody_won(i, "exhausted", None),
        Outcome::Stalled { seed, .. } => nobody_won(i, &format!("stalled on {seed}"), Some(seed)),
    }
}

/// One source's say on the winner.
enum Say {
    Agrees(String),
    Disagrees(String),
    Silent(String),
}

fn seed_won(i: &Input, seed: &str, slot: u8) -> Finding {
    let until = i.win().map(|w| w.at).or(i.connected().map(|(at, _)| at)).unwrap_or(Duration::MAX);
    let sources = [
        console_says(i, seed),
        card_says(i, slot, until),
        network_says(i, seed),
        observer_says(i, slot, until),
        backend_says(i, seed),
    ];
    const NAMES: [&str; 5] = ["console", "card side", "network", "observer", "backend"];
    let mut observed = Vec::new();
    let mut used = Vec::new();
    let (mut agree, mut disagree) = (0, 0);
    for (n, say) in sources.into_iter().enumerate() {
        let Some(say) = say else { continue };
        used.push(NAMES[n]);
        let independent = n > 0;
        match say {
            Say::Agrees(s) => {
                agree += usize::from(independent);
                observed.push(s);
            }
            Say::Disagrees(s) => {
                disagree += 1;
                observed.push(s);
            }
            Say::Silent(s) => observed.push(s),
        }
    }
    if disagree == 0 && agree == 0 {
        return Finding::not_observable(
            seed,
            format!("no independent source names the winner ({})", observed.join("; ")),
        )
        .from(used);
    }
    Finding::new(seed, observed.join("; "), disagree == 0).from(used)
}

/// The console's claim: `connected` through the winner agrees (but confirms nothing by itself).
fn console_says(i: &Input, seed: &str) -> Option<Say> {
    let claim = i.connected().map(|(_, slot)| i.seed_of_slot(slot));
    Some(match claim {
        Some(c) if c == seed => Say::Agrees(format!("firmware: {c}")),
        Some(c) => Say::Disagrees(format!("firmware: {c}")),
        None if i.said_exhausted() => Say::Disagrees("firmware: exhausted".into()),
        None => Say::Silent("firmware: no claim".into()),
    })
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
        .filter(|a| a.at >= i.evidence.started_at && a.at <= until)
        .filter(|a| a.subject == Subject::Authenticate && a.sw.is_some_and(answered))
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
        .filter(|a| a.slot == slot && a.subject == Subject::Authenticate)
        .filter(|a| a.at >= i.evidence.started_at && a.at <= until)
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

/// Exhausted or stalled: no seed got data to the backend (a seed that registered but never
/// had a data path did not connect), and the console claims no win. A stall also means the
/// DUT never gave its stalled seed up, and never said exhausted.
fn nobody_won(i: &Input, expected: &str, stalled_on: Option<&str>) -> Finding {
    let mut observed = Vec::new();
    let mut wrong = false;
    match i.connected() {
        Some((at, slot)) => {
            wrong = true;
            observed.push(format!(
                "firmware connected {} (slot {slot}) at {}",
                i.seed_of_slot(slot),
                fmt_ms(i.since_start(at) as u64)
            ));
        }
        None if i.said_exhausted() => {
            wrong |= stalled_on.is_some();
            observed.push("firmware: exhausted".into());
        }
        None => observed.push("firmware: no claim".into()),
    }
    if let Some(steps) = &i.evidence.network {
        for s in steps.iter().filter(|s| s.kind == StepKind::DataDelivered) {
            wrong = true;
            observed.push(format!(
                "network delivered data for {} at {}",
                i.seed_and_slot(&s.imsi),
                fmt_ms(i.since_start(s.at) as u64)
            ));
        }
    }
    for r in &i.evidence.reports {
        wrong = true;
        observed.push(format!(
            "backend got a report through {} at {}",
            i.seed_and_slot(&r.imsi),
            fmt_ms(i.since_start(r.at) as u64)
        ));
    }
    if let Some(seed) = stalled_on {
        let o = i.observed();
        match o.attempts.last() {
            Some(last) if i.seed_of_slot(last.slot) == seed && last.ended.is_none() => {
                observed.push(format!("still on {seed} ({})", last.source.name()))
            }
            Some(last) => {
                wrong = true;
                let state = if last.ended.is_some() { "given up" } else { "last tried" };
                observed.push(format!("{} {state} ({})", i.seed_of_slot(last.slot), last.source.name()));
            }
            None => observed.push("no attempt seen".into()),
        }
    } else {
        observed.push("no data through any seed".into());
    }
    let mut used = vec!["console"];
    if i.evidence.network.is_some() {
        used.push("network");
    }
    used.push("backend");
    if stalled_on.is_some() {
        used.push("card side");
    }
    Finding::new(expected, observed.join("; "), !wrong).from(used)
}

pub fn time_to_winner(i: &Input) -> Finding {
    let limit = i.scenario.timeout_ms as f64;
    let won = i.win().map(|w| (w.at, w.source)).or(i.connected().map(|(at, _)| (at, "console")));
    match (&i.expected.outcome, won) {
        (Outcome::Winner { connected_at_ms, .. }, Some((at, source))) => {
            let took = i.since_start(at);
            Finding::within(
                format!(
                    "≤ {} (a correct firmware: about {} by the network's timings)",
                    fmt_ms(limit as u64),
                    fmt_ms(*connected_at_ms)
                ),
                format!(
                    "{} ({})",
                    fmt_ms(took as u64),
                    if source == "console" { "console alone" } else { source }
                ),
                took,
                limit,
                i.rig_allowance(i.evidence.started_at, at),
                i.scale,
                true,
            )
            .from([source])
        }
        (Outcome::Winner { .. }, None) => {
            Finding::new(format!("≤ {}", fmt_ms(limit as u64)), "never connected", false)
        }
        (_, None) => Finding::new("no winner", "no winner", true),
        (_, Some((_, source))) => Finding::new("no winner", format!("connected ({source})"), false),
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
                .from(["backend"])
        }
        _ => Finding::new("no report", format!("{} report(s)", reports.len()), reports.is_empty())
            .from(["backend"]),
    }
}

/// No switching once connected: no new card session (the card side) and no `attempt` line
/// after the win, within the settle period.
pub fn settled(i: &Input) -> Finding {
    let won = i.win().map(|w| w.at).or(i.connected().map(|(at, _)| at));
    let Some(at) = won else {
        let won = matches!(i.expected.outcome, Outcome::Winner { .. });
        return Finding::new("no switching after a win", "no win", !won);
    };
    let o = i.observed();
    let card_later: Vec<String> = o
        .attempts
        .iter()
        .filter(|a| a.began > at && a.source == super::observed::Source::Card)
        .map(|a| super::observed::session_text(i, a))
        .collect();
    let console_later = i
        .evidence
        .console
        .iter()
        .filter(|e| e.at > at && matches!(e.event, crate::console::Event::Attempt { .. }))
        .count();
    let mut observed = format!("{} card session(s), {console_later} console attempt(s)", card_later.len());
    if !card_later.is_empty() {
        observed.push_str(&format!(": {}", card_later.join("; ")));
    }
    Finding::new(
        format!("no attempt for {} after connecting", fmt_ms(i.scenario.settle_ms)),
        observed,
        card_later.is_empty() && console_later == 0,
    )
    .from(["card side", "console"])
}
