//! Checks of the attempts: the master first, how it was judged, the order of the rest.

use super::{Finding, Input};
use crate::console::Event;
use crate::method::Judged;
use crate::method::attempt::fmt_ms;

pub fn master_first(i: &Input) -> Finding {
    let master = &i.scenario.master;
    let first = i.attempts().first().map(|(_, slot)| i.seed_of_slot(*slot));
    let observed = first.clone().unwrap_or_else(|| "no attempt".into());
    Finding::new(
        format!("{} (slot {})", master.seed, master.slot),
        observed,
        first.as_deref() == Some(&master.seed),
    )
}

pub fn master_judgement(i: &Input) -> Finding {
    let expected = &i.expected.attempts[0];
    let started = i.attempts().first().map(|(at, _)| *at);
    let judged = i.evidence.console.iter().find_map(|e| match &e.event {
        Event::Judged { slot, explicit, reason, .. } if *slot == i.scenario.master.slot => {
            Some((e.at, *explicit, reason.clone()))
        }
        _ => None,
    });
    let never = "never judged (result mode, silence)";
    match (&expected.judged, judged, started) {
        (Judged::Connected { .. }, None, _) => {
            Finding::new("connected", "connected (not judged failed)", true)
        }
        (Judged::Connected { .. }, Some((_, _, reason)), _) => {
            Finding::new("connected", format!("judged failed: {reason}"), false)
        }
        (Judged::Stalled { .. }, None, _) => Finding::new(never, "never judged", true),
        (Judged::Stalled { .. }, Some((_, _, reason)), _) => {
            Finding::new(never, format!("judged failed: {reason}"), false)
        }
        (Judged::Failed { explicit, .. }, Some((at, seen_explicit, reason)), Some(start)) => {
            let took = i.nominal(at.saturating_sub(start));
            let bound = expected.bound_ms.unwrap_or(0) as f64;
            let earliest = expected.earliest_ms.unwrap_or(0) as f64;
            let kind = |e: bool| if e { "explicit" } else { "at T" };
            let window = if earliest > 0.0 {
                format!("between {} and {}", fmt_ms(earliest as u64), fmt_ms(bound as u64))
            } else {
                format!("within {}", fmt_ms(bound as u64))
            };
            // Sooner than a correct firmware can know is as wrong as too late: the firmware
            // judged on something else (a timer too short, a guess).
            let early = if took < earliest { " (sooner than a correct firmware can know)" } else { "" };
            // A judgement at T comes from the DUT's own timer, which the rig cannot delay.
            let allowance =
                if *explicit { i.rig_allowance(start, at) } else { i.evidence.console_allowance() };
            Finding::within(
                format!("failed {} {window}", kind(*explicit)),
                format!("failed {} after {}{early}: {reason}", kind(seen_explicit), fmt_ms(took as u64)),
                took,
                bound,
                allowance,
                i.scale,
                *explicit == seen_explicit && took >= earliest,
            )
        }
        (Judged::Failed { .. }, _, _) => Finding::new("judged failed", "not judged", false),
    }
}

pub fn attempt_order(i: &Input) -> Finding {
    let expected = i.expected.attempt_order();
    let observed: Vec<String> = i.attempts().iter().map(|(_, slot)| i.seed_of_slot(*slot)).collect();
    let passed = observed.iter().map(String::as_str).eq(expected.iter().copied());
    Finding::new(expected.join(", "), observed.join(", "), passed)
}
