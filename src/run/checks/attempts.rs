//! Checks of the attempts, on what the bench saw ([`Observed`]): the master first, the order of
//! the rest, when each failed attempt was given up, and the console's claims against the card
//! side.

use super::observed::{Observed, SeenAttempt, Source};
use super::{Finding, Input};
use crate::bench::evidence::Allowance;
use crate::method::attempt::fmt_ms;
use crate::method::oracle::ExpectedAttempt;
use crate::method::{Judged, JudgedHow};

pub fn master_first(i: &Input) -> Finding {
    let o = i.observed();
    let master = &i.scenario.master;
    let expected = format!("{} (slot {})", master.seed, master.slot);
    let master_unseen =
        o.unseen_slots.contains(&master.slot) && !o.attempts.iter().any(|a| a.slot == master.slot);
    match o.attempts.first() {
        _ if master_unseen => Finding::not_observable(
            expected,
            format!(
                "{}'s card is out of its slot (pulled or bouncing), so the card side cannot see it tried, and the console does not say",
                master.seed
            ),
        ),
        Some(first) => Finding::new(expected, o.describe(i, first), first.slot == master.slot)
            .from([first.source.short()]),
        None => Finding::new(expected, "no attempt", false).from(o.sources()),
    }
}

pub fn attempt_order(i: &Input) -> Finding {
    let o = i.observed();
    let observed: Vec<&SeenAttempt> = o.attempts.iter().collect();
    let seen_slots: Vec<u8> = observed.iter().map(|a| a.slot).collect();
    // A seed whose card is pulled and that the console does not mention cannot be compared:
    // leave it out of the expectation, and say so.
    let mut skipped = Vec::new();
    let expected: Vec<&ExpectedAttempt> = i
        .expected
        .attempts
        .iter()
        .filter(|a| {
            let invisible = o.unseen_slots.contains(&a.slot) && !seen_slots.contains(&a.slot);
            if invisible {
                skipped.push(a.seed.as_str());
            }
            !invisible
        })
        .collect();
    let passed =
        observed.len() == expected.len() && observed.iter().zip(&expected).all(|(o, e)| o.slot == e.slot);
    let mut expected_text = i.expected.attempt_order().join(", ");
    if !skipped.is_empty() {
        expected_text.push_str(&format!(
            " (not observable for {}: a card out of its slot is never touched and the console does not say)",
            skipped.join(", ")
        ));
    }
    let observed_text: Vec<String> = observed.iter().map(|a| o.describe(i, a)).collect();
    let observed_text = if observed_text.is_empty() { "no attempt".into() } else { observed_text.join(", ") };
    Finding::new(expected_text, observed_text, passed).from(o.sources())
}

/// The console's claims against the card side: every `attempt` line on a seed the card side
/// can see must be the card session it saw, in order.
pub fn console_claims(i: &Input) -> Finding {
    let o = i.observed();
    let claims = i.console_attempts().iter().filter(|(_, slot)| !o.unseen_slots.contains(slot)).count();
    let mut finding = console_claims_of(&o, claims).from(["console", "card side"]);
    // A line that is an event the rig knows but cannot be read is shown, never dropped.
    if let Some((_, first)) = i.evidence.console_malformed.first() {
        finding.observed.push_str(&format!(
            "; {} console line(s) the rig could not read as the events they name, the first: {first}",
            i.evidence.console_malformed.len()
        ));
    }
    finding
}

fn console_claims_of(o: &Observed, claims: usize) -> Finding {
    if !o.card_side {
        return Finding::not_observable(
            "the console's attempts match the card side",
            "no card side on this bench",
        );
    }
    match o.contradictions.first() {
        Some(c) => Finding::new("the console's attempts match the card side", c.clone(), false),
        None if claims == 0 => {
            Finding::new("the console's attempts match the card side", "the console claims no attempt", true)
        }
        None => Finding::new(
            "the console's attempts match the card side",
            format!("{claims} attempt(s) claimed, each seen on the card side"),
            true,
        ),
    }
}

pub fn master_judgement(i: &Input) -> Finding {
    judgement(i, 0)
}

/// Every failed standby attempt, timed like the master's: none before the earliest a correct
/// firmware can know, none after its bound.
pub fn standby_judgements(i: &Input) -> Finding {
    let failed: Vec<usize> = (1..i.expected.attempts.len())
        .filter(|&n| matches!(i.expected.attempts[n].judged, Judged::Failed { .. }))
        .collect();
    if failed.is_empty() {
        return Finding::new("no failed standby to time", "none", true);
    }
    let findings: Vec<(usize, Finding)> = failed.iter().map(|&n| (n, judgement(i, n))).collect();
    let seed = |n: usize| i.expected.attempts[n].seed.as_str();
    let expected: Vec<String> =
        findings.iter().map(|(n, f)| format!("{}: {}", seed(*n), f.expected)).collect();
    let observed: Vec<String> =
        findings.iter().map(|(n, f)| format!("{}: {}", seed(*n), f.observed)).collect();
    let mut out = Finding::new(expected.join("; "), observed.join("; "), true);
    // One standby the bench cannot time is enough to say so: a pass would claim too much.
    if findings.iter().any(|(_, f)| f.failed()) {
        out.status = super::Status::Fail;
    } else if findings.iter().any(|(_, f)| f.status == super::Status::NotObservable) {
        out.status = super::Status::NotObservable;
    }
    out = out.from(findings.iter().flat_map(|(_, f)| f.sources.clone()));
    // The first failing (else the last) standby's measurement stands for the check.
    let shown = findings.iter().find(|(_, f)| f.failed()).or(findings.last()).map(|(_, f)| f);
    if let Some(f) = shown {
        out.measured_ms = f.measured_ms;
        out.limit_ms = f.limit_ms;
        out.allowance = f.allowance;
    }
    out
}

/// The `n`th expected attempt's judgement against the `n`th attempt the bench saw.
fn judgement(i: &Input, n: usize) -> Finding {
    let o = i.observed();
    let expected = &i.expected.attempts[n];
    let aligned = o.aligned(i);
    let never = "never judged (result mode, silence)";
    let Some(Some(seen)) = aligned.get(n) else {
        let diverged = aligned.iter().position(Option::is_none).unwrap_or(n);
        let what = if diverged < n {
            format!("the attempts left the expected order at attempt {}", diverged + 1)
        } else {
            let seen_before = aligned[..n].iter().flatten().filter(|a| a.source != Source::Inferred).count();
            match o.attempts.get(seen_before) {
                Some(other) => format!("attempt {} went to {}", n + 1, o.describe(i, other)),
                None => "not tried".into(),
            }
        };
        return match &expected.judged {
            Judged::Connected { .. } => Finding::new("connected", what, false),
            _ => Finding::new(format!("{} judged failed", expected.seed), what, false),
        };
    };
    match &expected.judged {
        Judged::Connected { .. } => match seen.ended.filter(|_| !i.won_through(seen.slot)) {
            Some(end) => Finding::new(
                "connected",
                format!(
                    "given up after {} ({})",
                    fmt_ms(i.nominal(end.saturating_sub(seen.began)) as u64),
                    seen.source.name()
                ),
                false,
            ),
            None => Finding::new("connected", "connected (not given up)", true),
        },
        Judged::Stalled { .. } => match seen.ended {
            Some(end) => Finding::new(
                never,
                format!(
                    "given up after {} ({})",
                    fmt_ms(i.nominal(end.saturating_sub(seen.began)) as u64),
                    seen.source.name()
                ),
                false,
            ),
            None => Finding::new(never, "never given up", true),
        },
        Judged::Failed { .. } => {
            let how = expected.judged.how().unwrap_or(JudgedHow::Explicit);
            // The console's `judged` line of this attempt is the first after the one before.
            let since = match n.checked_sub(1).and_then(|p| aligned.get(p).cloned().flatten()) {
                Some(prev) => prev.began,
                None => i.evidence.started_at,
            };
            failed_in_window(i, n, expected, seen, how, since)
        }
    }
}

fn failed_in_window(
    i: &Input,
    n: usize,
    expected: &ExpectedAttempt,
    seen: &SeenAttempt,
    how: JudgedHow,
    since: std::time::Duration,
) -> Finding {
    let bound = expected.bound_ms.unwrap_or(0) as f64;
    let earliest = expected.earliest_ms.unwrap_or(0) as f64;
    let window = if earliest > 0.0 {
        format!("between {} and {}", fmt_ms(earliest as u64), fmt_ms(bound as u64))
    } else {
        format!("within {}", fmt_ms(bound as u64))
    };
    let expected_text = format!("{} {}", how.describe(), window);
    // The console's judgement of this attempt, if it printed one: its kind is a claim.
    let claim = i.console_judgement(seen.slot, since);
    let (end, from) = match (seen.ended, &claim, seen.source) {
        (Some(end), _, source) => (end, source),
        (None, Some((at, _, _)), _) => (*at, Source::Console),
        (None, None, _) => return never_given_up(i, n, expected, seen, expected_text, bound),
    };
    let took = i.nominal(end.saturating_sub(seen.began));
    let early = if took < earliest { " (sooner than a correct firmware can know)" } else { "" };
    let kind_ok = match &claim {
        Some((_, explicit, _)) => how.accepts(*explicit),
        None => true,
    };
    let claimed = match &claim {
        Some((_, explicit, reason)) => {
            format!("; console: {} ({reason})", if *explicit { "explicit" } else { "at T" })
        }
        None => String::new(),
    };
    let allowance = allowance(i, how, seen.began, end, from);
    let sources = if claim.is_some() { vec![from.short(), "console"] } else { vec![from.short()] };
    Finding::within(
        expected_text,
        format!("given up after {} ({}){early}{claimed}", fmt_ms(took as u64), from.name()),
        took,
        bound,
        allowance,
        i.scale,
        kind_ok && took >= earliest,
    )
    .from(sources)
}

/// An attempt the bench never saw end. Where a correct firmware goes on to another seed, still
/// being on it past its bound is a failure the bench sees; the last attempt of an exhaustion
/// may rightly stay on its card, so there the end cannot be seen.
fn never_given_up(
    i: &Input,
    n: usize,
    expected: &ExpectedAttempt,
    seen: &SeenAttempt,
    expected_text: String,
    bound: f64,
) -> Finding {
    let more_expected = n + 1 < i.expected.attempts.len();
    let watched = i.evidence.observed_until.map(|until| i.nominal(until.saturating_sub(seen.began)));
    match watched {
        Some(watched) if more_expected && watched > bound => Finding::new(
            expected_text,
            format!(
                "not given up: still on {} after {} ({})",
                expected.seed,
                fmt_ms(watched as u64),
                seen.source.name()
            ),
            false,
        )
        .measured(watched, bound)
        .from([seen.source.short()]),
        _ => Finding::not_observable(
            expected_text,
            format!("the bench did not see the DUT give {} up, and the console does not say", expected.seed),
        ),
    }
}

/// The rig's own time in a judgement: an explicit answer goes through the rig's machinery; a
/// judgement at T comes from the DUT's own timer, which the rig cannot delay — only the line
/// that reports it (the console's, or the slot switch the card side sees) is the rig's.
fn allowance(
    i: &Input,
    how: JudgedHow,
    began: std::time::Duration,
    end: std::time::Duration,
    from: Source,
) -> Option<Allowance> {
    match how {
        JudgedHow::AtT => i.evidence.timer_allowance(if from == Source::Console { 1 } else { 2 }),
        _ => i.rig_allowance(began, end),
    }
}

impl Input<'_> {
    /// What the bench saw of the attempts (derived once per check; it is cheap).
    pub(super) fn observed(&self) -> Observed {
        Observed::derive(self)
    }
}
