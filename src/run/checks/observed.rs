//! The attempts as the bench saw them, not as the DUT says: derived from the card side (each
//! slot's card sessions through the bridge), with the console's claims used only where the card
//! side cannot see (a pulled card is never touched) and cross-checked everywhere else.
//!
//! The rules (docs/method.md §7):
//! - A *card session* begins when the modem activates a slot's card (reset released with power
//!   on) after the DUT was told to start, or — for a slot already active then — at its first
//!   APDU. Another activation of the same slot, the card not powered down between, continues
//!   the attempt (a modem re-reads a card now and then) unless the console claims a second
//!   attempt of that slot right after the first (a retry); a silent retry shows in its length.
//! - A session ends when the modem powers the card down, or else when the next one begins.
//! - Sessions that begin after the oracle's next pass could start belong to a later pass and
//!   are left out.
//! - A seed whose card is pulled cannot be seen tried, and one whose contacts bounce cannot be
//!   told apart from the modem restarting it on its own: such an attempt comes from the
//!   console's `attempt` line (pass 1) where there is one, and says it rests on the console
//!   alone; else it is inferred between the attempts around it.

use std::time::Duration;

use super::Input;
use crate::bridge::{CardEventKind, Subject};
use crate::console::Event;
use crate::method::attempt::fmt_ms;
use crate::method::oracle::Outcome;
use crate::model::FaultKind;

/// Where a fact about an attempt comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The card side: card sessions and APDUs through the bridge.
    Card,
    /// The DUT's console alone.
    Console,
    /// Neither: a card out of its slot, never touched, whose attempt can only have run
    /// between the ones the bench saw around it.
    Inferred,
}

impl Source {
    /// The evidence source, as checks name it.
    pub fn short(self) -> &'static str {
        match self {
            Source::Card | Source::Inferred => "card side",
            Source::Console => "console",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Source::Card => "card side",
            Source::Console => "console alone",
            Source::Inferred => "inferred from the card side: its card is out of its slot",
        }
    }
}

/// One attempt as the bench saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenAttempt {
    pub slot: u8,
    pub began: Duration,
    /// When the DUT gave the seed up: its card powered down, or the next attempt began; or the
    /// console's `judged` line for an attempt only the console saw.
    pub ended: Option<Duration>,
    pub source: Source,
    /// The card's first successful AUTHENTICATE in this attempt, for quoting.
    pub authenticated: Option<Duration>,
}

/// What the bench saw of the attempts, and what the console claimed against it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub attempts: Vec<SeenAttempt>,
    /// Console claims the card side contradicts, each quoting both sides.
    pub contradictions: Vec<String>,
    /// Whether the bench has a card side at all (a bridge that traced).
    pub card_side: bool,
    /// Slots whose cards the card side cannot see tried (pulled).
    pub unseen_slots: Vec<u8>,
}

impl Observed {
    pub fn derive(i: &Input) -> Observed {
        let e = i.evidence;
        let card_side = !e.card_events.is_empty() || !e.apdus.is_empty();
        // Without a card side the console is the only witness: what it does not claim was not
        // tried. With one, only cards out of their slots are left to the console (or inferred).
        let unseen_slots: Vec<u8> = i
            .scenario
            .placements()
            .filter(|p| card_side && p.faults.iter().any(|f| may_be_out(&f.kind)))
            .map(|p| p.slot)
            .collect();
        let horizon = next_pass(i);
        // A card out of its slot now and then (bouncing) is read by the modem on its own when it
        // comes back in, whoever asked: its sessions cannot tell the DUT's attempts, so such a
        // slot is judged like a pulled one.
        let claims = i.console_attempts();
        let sessions: Vec<SeenAttempt> = card_sessions(i)
            .into_iter()
            .filter(|s| horizon.is_none_or(|h| s.began < h) && !unseen_slots.contains(&s.slot))
            .collect();
        let sessions = merge_rereads(sessions, &claims);
        // Console claims on slots the card side cannot see stand in for the card.
        let mut attempts = sessions.clone();
        let from_console = |slot: &u8| !card_side || unseen_slots.contains(slot);
        // The console's lines reach the rig later than the card side's words: a console-only
        // attempt keeps its place in the console's own order, before the card session of the
        // next attempt the console claims on a card the card side sees.
        let mut seen_claims_before = 0;
        for &(at, slot) in &claims {
            if !from_console(&slot) {
                seen_claims_before += 1;
                continue;
            }
            let began = match sessions.get(seen_claims_before) {
                Some(next) if card_side && at >= next.began => {
                    next.began.saturating_sub(Duration::from_micros(1))
                }
                _ => at,
            };
            attempts.push(SeenAttempt {
                slot,
                began,
                ended: None,
                source: Source::Console,
                authenticated: None,
            });
        }
        attempts.sort_by_key(|a| a.began);
        close_console_attempts(i, &mut attempts);
        let contradictions =
            if card_side { contradictions(i, &claims, &sessions, &unseen_slots) } else { Vec::new() };
        Observed { attempts, contradictions, card_side, unseen_slots }
    }

    /// The attempt the bench saw for each of the oracle's attempts, in order, until the first
    /// that went elsewhere (`None` from there on). An expected attempt on a card out of its
    /// slot that neither the card side nor the console shows is *inferred*: it can only have
    /// run between the attempt before it (or the start) and the next one the bench saw.
    pub fn aligned(&self, i: &Input) -> Vec<Option<SeenAttempt>> {
        let mut out = Vec::new();
        let mut k = 0;
        let mut lost = false;
        for expected in &i.expected.attempts {
            if lost {
                out.push(None);
                continue;
            }
            let invisible = self.unseen_slots.contains(&expected.slot)
                && !self.attempts.iter().any(|a| a.slot == expected.slot);
            match self.attempts.get(k) {
                Some(seen) if seen.slot == expected.slot => {
                    out.push(Some(seen.clone()));
                    k += 1;
                }
                _ if invisible => {
                    let began = match out.last() {
                        Some(Some(prev)) => prev.ended.unwrap_or(prev.began),
                        _ => i.evidence.started_at,
                    };
                    let ended = self.attempts.get(k).map(|a| a.began);
                    out.push(Some(SeenAttempt {
                        slot: expected.slot,
                        began,
                        ended,
                        source: Source::Inferred,
                        authenticated: None,
                    }));
                }
                _ => {
                    lost = true;
                    out.push(None);
                }
            }
        }
        out
    }

    /// The sources the attempts came from.
    pub fn sources(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for a in &self.attempts {
            if !out.contains(&a.source.short()) {
                out.push(a.source.short());
            }
        }
        out
    }

    /// `seed (slot N)`, as the card side or the console saw it.
    pub fn describe(&self, i: &Input, a: &SeenAttempt) -> String {
        format!("{} ({})", i.seed_of_slot(a.slot), a.source.name())
    }
}

/// A card that is (or may be, when its contacts bounce) out of its slot when the DUT tries it:
/// the modem never powers a slot without a card, so the card side may not see the attempt.
fn may_be_out(kind: &FaultKind) -> bool {
    matches!(kind, FaultKind::Pulled | FaultKind::Flaky { .. })
}

/// The moment a later pass may begin, on the rig clock, if the oracle expects one.
fn next_pass(i: &Input) -> Option<Duration> {
    match i.expected.outcome {
        Outcome::Exhausted { next_pass_at_ms: Some(at), .. } => {
            let nominal = at.saturating_sub(i.scenario.tolerance_ms);
            Some(i.evidence.started_at + i.scale.ms(nominal))
        }
        _ => None,
    }
}

/// Card sessions after the start, in order (see the module's rules).
fn card_sessions(i: &Input) -> Vec<SeenAttempt> {
    let e = i.evidence;
    let after = |at: Duration| at >= e.started_at;
    // Every touch of a card: (when, slot, an activation?).
    let mut touches: Vec<(Duration, u8, Touch)> = Vec::new();
    for c in e.card_events.iter().filter(|c| after(c.at)) {
        let touch = match c.kind {
            CardEventKind::Activated { .. } => Touch::Activated,
            CardEventKind::Deactivated => Touch::Deactivated,
            CardEventKind::Inserted => Touch::Reinserted,
            _ => continue,
        };
        touches.push((c.at, c.slot, touch));
    }
    for a in e.apdus.iter().filter(|a| after(a.at)) {
        let touch = if a.subject == Subject::Authenticate && a.sw.is_some_and(answered) {
            Touch::Authenticated
        } else {
            Touch::Apdu
        };
        touches.push((a.at, a.slot, touch));
    }
    touches.sort_by_key(|(at, _, _)| *at);
    let mut sessions: Vec<SeenAttempt> = Vec::new();
    // Slots whose card came back in since their last activation: the modem restarts such a
    // card on its own, which is no attempt of the DUT's.
    let mut came_back: Vec<u8> = Vec::new();
    for (at, slot, touch) in touches {
        let current = sessions.last_mut().filter(|s| s.slot == slot && s.ended.is_none());
        match (touch, current) {
            (Touch::Reinserted, _) => came_back.push(slot),
            (Touch::Deactivated, Some(s)) => s.ended = Some(at),
            (Touch::Deactivated, None) => {}
            (Touch::Activated, current) if came_back.contains(&slot) => {
                came_back.retain(|s| *s != slot);
                // Within the slot's session it continues it; outside one it is the modem's
                // own doing, not the DUT's.
                let _ = current;
            }
            (Touch::Apdu | Touch::Authenticated, Some(s)) => {
                if touch == Touch::Authenticated && s.authenticated.is_none() {
                    s.authenticated = Some(at);
                }
            }
            (touch, _) => {
                came_back.retain(|s| *s != slot);
                if let Some(last) = sessions.last_mut()
                    && last.ended.is_none()
                {
                    last.ended = Some(at);
                }
                let authenticated = (touch == Touch::Authenticated).then_some(at);
                sessions.push(SeenAttempt {
                    slot,
                    began: at,
                    ended: None,
                    source: Source::Card,
                    authenticated,
                });
            }
        }
    }
    sessions
}

/// Two sessions of one slot in a row, the card never powered down between them, are one attempt
/// during which the card was read again (a modem re-reads a card on its own now and then) —
/// unless the console claims two attempts of that slot in a row: a retry. A retry the console
/// does not claim shows in the attempt's length.
fn merge_rereads(sessions: Vec<SeenAttempt>, claims: &[(Duration, u8)]) -> Vec<SeenAttempt> {
    let retried = |slot: u8| claims.windows(2).any(|w| w[0].1 == slot && w[1].1 == slot);
    let mut out: Vec<SeenAttempt> = Vec::new();
    for s in sessions {
        match out.last_mut() {
            Some(last) if last.slot == s.slot && last.ended == Some(s.began) && !retried(s.slot) => {
                last.ended = s.ended;
                last.authenticated = last.authenticated.or(s.authenticated);
            }
            _ => out.push(s),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Touch {
    Activated,
    Deactivated,
    Reinserted,
    Apdu,
    Authenticated,
}

/// A status word that carries an answer (9000, 61xx, 9Fxx).
pub fn answered(sw: u16) -> bool {
    sw == 0x9000 || sw >> 8 == 0x61 || sw >> 8 == 0x9F
}

/// An attempt only the console saw ends at its `judged` line, else when the next one began.
fn close_console_attempts(i: &Input, attempts: &mut [SeenAttempt]) {
    for n in 0..attempts.len() {
        if attempts[n].source != Source::Console {
            continue;
        }
        let (slot, began) = (attempts[n].slot, attempts[n].began);
        let judged = i.console_judgement(slot, began).map(|(at, _, _)| at);
        let next = attempts.get(n + 1).map(|a| a.began);
        attempts[n].ended = judged.or(next);
    }
    // A card session that ran on while a console-only attempt began (it cannot: one slot at
    // a time) ends there.
    for n in 1..attempts.len() {
        let next_began = attempts[n].began;
        if let Some(prev) = attempts.get_mut(n - 1)
            && prev.ended.is_none_or(|end| end > next_began)
        {
            prev.ended = Some(next_began);
        }
    }
}

/// The console's pass-1 attempts on seen slots must be the card side's sessions, in order.
fn contradictions(
    i: &Input,
    claims: &[(Duration, u8)],
    sessions: &[SeenAttempt],
    unseen: &[u8],
) -> Vec<String> {
    let claimed: Vec<&(Duration, u8)> = claims.iter().filter(|(_, slot)| !unseen.contains(slot)).collect();
    if claimed.is_empty() {
        return Vec::new();
    }
    // A card out of its slot now and then (bouncing) may be read by the modem on its own when
    // it comes back in: its sessions are not the DUT's to claim.
    let sessions: Vec<&SeenAttempt> = sessions.iter().filter(|s| !unseen.contains(&s.slot)).collect();
    let mut out = Vec::new();
    for n in 0..claimed.len().max(sessions.len()) {
        let claim = claimed.get(n);
        let session = sessions.get(n).copied();
        if let (Some((_, slot)), Some(s)) = (claim, session)
            && *slot == s.slot
        {
            continue;
        }
        let console = match claim {
            Some((at, slot)) => {
                format!("attempt {} at {}", i.seed_of_slot(*slot), fmt_ms(i.since_start(*at) as u64))
            }
            None => "no further attempt".into(),
        };
        let card = match session {
            Some(s) => session_text(i, s),
            None => "no further card session".into(),
        };
        out.push(format!("console: {console}; card side: {card}"));
        // One divergence is the story; what follows it is out of step anyway.
        break;
    }
    out
}

/// `slot 3 (claro-br-1) reset at 2.1 s, AUTHENTICATE at 2.4 s`
pub fn session_text(i: &Input, s: &SeenAttempt) -> String {
    let mut text = format!(
        "slot {} ({}) reset at {}",
        s.slot,
        i.seed_of_slot(s.slot),
        fmt_ms(i.since_start(s.began) as u64)
    );
    if let Some(auth) = s.authenticated {
        text.push_str(&format!(", AUTHENTICATE at {}", fmt_ms(i.since_start(auth) as u64)));
    }
    text
}

impl Input<'_> {
    /// The console's first-pass `attempt` lines: (when, slot).
    pub(super) fn console_attempts(&self) -> Vec<(Duration, u8)> {
        self.evidence
            .console
            .iter()
            .filter_map(|e| match &e.event {
                Event::Attempt { slot, pass: 1, .. } => Some((e.at, *slot)),
                _ => None,
            })
            .collect()
    }

    /// The console's `judged` line for `slot` after `since`: (when, explicit, reason).
    pub(super) fn console_judgement(&self, slot: u8, since: Duration) -> Option<(Duration, bool, String)> {
        self.evidence.console.iter().find_map(|e| match &e.event {
            Event::Judged { slot: s, explicit, reason, .. } if *s == slot && e.at >= since => {
                Some((e.at, *explicit, reason.clone()))
            }
            _ => None,
        })
    }
}
