//! The attempts the bench saw set against the oracle's, and where each failing check is drawn.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::run::checks::Check;
use crate::run::{ExpectedBar, ObservedBar, ScenarioResult};

/// One timeline item: when, from which source, the whole JSON object.
pub(super) struct Item<'a> {
    pub(super) t: f64,
    pub(super) source: &'a str,
    pub(super) v: &'a Value,
}

pub(super) fn items(timeline: &Value) -> Vec<Item<'_>> {
    let Some(all) = timeline.as_array() else { return Vec::new() };
    all.iter()
        .filter_map(|v| {
            Some(Item { t: v["t_ms"].as_f64()?, source: v["source"].as_str().unwrap_or("other"), v })
        })
        .collect()
}

/// What the page knows of the attempts the bench saw ([`ScenarioResult::observed`]), set
/// against the oracle's.
pub(super) struct Seen<'a> {
    pub(super) bars: &'a [ObservedBar],
    /// For each bar, the oracle's attempt it stands in the place of.
    pub(super) places: Vec<Place>,
    /// Seeds by slot, from the oracle's attempts and the bench's.
    pub(super) names: BTreeMap<u8, String>,
    /// Whether the bench has a card side (a bridge that traced anything).
    pub(super) card_side: bool,
    /// Slots whose cards are out of their slots (pulled, or bouncing in and out) at some
    /// point: the modem never touches such a card, so the card side cannot see it tried.
    pub(super) out_of_slot: Vec<u64>,
    /// Expected attempts that cannot be compared: their cards are out of their slots and no
    /// bar shows them tried.
    pub(super) unseen: Vec<usize>,
}

/// Where an observed attempt stands against the oracle's, compared in order as `attempt_order`
/// compares them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Place {
    /// The oracle's `n`th attempt, on the slot it expects.
    Due(usize),
    /// Where the oracle expects its `n`th attempt, on another slot.
    Instead(usize),
    /// After every attempt the oracle expects.
    Extra,
}

impl<'a> Seen<'a> {
    pub(super) fn new(r: &'a ScenarioResult, items: &[Item]) -> Seen<'a> {
        let bars = r.observed.as_slice();
        let bridge = || items.iter().filter(|i| i.source == "bridge");
        let card_side = bridge().next().is_some();
        let out_of_slot: Vec<u64> = r.out_of_slot.iter().map(|&slot| u64::from(slot)).collect();
        let unseen: Vec<usize> = r
            .expected
            .iter()
            .enumerate()
            .filter(|(_, e)| out_of_slot.contains(&e.slot.into()) && !bars.iter().any(|b| b.slot == e.slot))
            .map(|(n, _)| n)
            .collect();
        let compared: Vec<(usize, &ExpectedBar)> =
            r.expected.iter().enumerate().filter(|(n, _)| !unseen.contains(n)).collect();
        let places = bars
            .iter()
            .enumerate()
            .map(|(k, b)| match compared.get(k) {
                Some(&(n, e)) if e.slot == b.slot => Place::Due(n),
                Some(&(n, _)) => Place::Instead(n),
                None => Place::Extra,
            })
            .collect();
        let mut names: BTreeMap<u8, String> = BTreeMap::new();
        for b in bars.iter().filter(|b| !b.seed.is_empty()) {
            names.insert(b.slot, b.seed.clone());
        }
        for e in &r.expected {
            names.insert(e.slot, e.seed.clone());
        }
        Seen { bars, places, names, card_side, out_of_slot, unseen }
    }

    /// The bar that is the oracle's `n`th attempt, where the bench saw it where expected.
    pub(super) fn due(&self, n: usize) -> Option<&'a ObservedBar> {
        let k = self.places.iter().position(|p| *p == Place::Due(n))?;
        Some(&self.bars[k])
    }

    /// The first bar out of the oracle's order.
    pub(super) fn first_wrong(&self) -> Option<&'a ObservedBar> {
        let k = self.places.iter().position(|p| !matches!(p, Place::Due(_)))?;
        Some(&self.bars[k])
    }

    /// Where the last bar ended (or began, if it did not end).
    pub(super) fn last_end(&self) -> Option<f64> {
        self.bars.last().map(|b| b.ends_at_ms.unwrap_or(b.starts_at_ms))
    }

    /// What a bar's source means, for its tooltip, and the class that marks it.
    pub(super) fn source_text(&self, source: &str) -> (&'static str, String) {
        match source {
            "card side" => ("", "seen on the card side".to_owned()),
            "console" if self.card_side => {
                ("claimed", "the console's claim (card out of its slot)".to_owned())
            }
            "console" => ("claimed", "the console's claim (no card side on this bench)".to_owned()),
            "inferred" => ("inferred", "inferred: card out of its slot".to_owned()),
            other => ("claimed", format!("source: {other}")),
        }
    }
}

/// How a bar ended, from [`ObservedBar::ended`]: its class, its mark, and in words.
pub(super) fn ended_style(ended: &str) -> (&'static str, &'static str, String) {
    match ended {
        "connected" => ("ok", "✔", "connected: data went through it".to_owned()),
        "given up" => ("failed", "✘", "given up".to_owned()),
        "open" => ("open", "…", "still on it when the rig stopped watching".to_owned()),
        other => ("open", "?", other.to_owned()),
    }
}

/// Where a failing check is drawn: its lane and moment, or `None` for the checks panel only.
pub(super) fn fail_at(
    c: &Check,
    seen: &Seen,
    items: &[Item],
    expected: &[ExpectedBar],
) -> Option<(&'static str, f64)> {
    let console_events = || items.iter().filter(|i| i.source == "console");
    let console = |kind: &str| console_events().find(|i| i.v["event"]["event"] == kind).map(|i| i.t);
    let backend = || items.iter().find(|i| i.source == "backend").map(|i| i.t);
    let first = seen.bars.first();
    match c.name.as_str() {
        "master_first" => first.map(|b| ("observed", b.starts_at_ms)),
        "master_judgement" => {
            let b = seen.due(0).or(first)?;
            match c.measured_ms {
                Some(took) => Some(("observed", b.starts_at_ms + took)),
                None => Some(("observed", b.ends_at_ms.unwrap_or(b.starts_at_ms))),
            }
        }
        "attempt_order" => match seen.first_wrong() {
            Some(b) => Some(("observed", b.starts_at_ms)),
            // Fewer attempts than expected: where the last one ended.
            None => seen.last_end().map(|t| ("observed", t)),
        },
        "standby_judgements" => {
            let failed = expected.iter().enumerate().skip(1).filter(|(_, e)| e.judged.starts_with("failed"));
            for (n, e) in failed.filter(|(n, _)| !seen.unseen.contains(n)) {
                let Some(b) = seen.due(n) else {
                    // The attempts went elsewhere before this standby: where they did.
                    return match seen.first_wrong() {
                        Some(w) => Some(("observed", w.starts_at_ms)),
                        None => seen.last_end().map(|t| ("observed", t)),
                    };
                };
                let earliest = e.earliest_ms.unwrap_or(0) as f64;
                match (b.ends_at_ms, e.bound_ms) {
                    (Some(end), bound) => {
                        let took = end - b.starts_at_ms;
                        if took < earliest || bound.is_some_and(|hi| took > hi as f64) {
                            return Some(("observed", end));
                        }
                    }
                    // Never given up: wrong from its bound on.
                    (None, Some(hi)) => return Some(("observed", b.starts_at_ms + hi as f64)),
                    (None, None) => {}
                }
            }
            // In its window, but judged the wrong way (the console's claim): the one measured.
            let m = c.measured_ms?;
            let b = (1..expected.len())
                .filter_map(|n| seen.due(n))
                .find(|b| b.ends_at_ms.is_some_and(|end| (end - b.starts_at_ms - m).abs() < 1.0))?;
            Some(("observed", b.starts_at_ms + m))
        }
        "console_claims" => {
            // The console's first-pass `attempt` lines on cards the card side can see, against
            // the card side's attempts, in order: the first that differ.
            let visible = |slot: u64| !seen.out_of_slot.contains(&slot);
            let card: Vec<&ObservedBar> =
                seen.bars.iter().filter(|b| b.source == "card side" && visible(b.slot.into())).collect();
            let claims: Vec<(f64, u64)> = console_events()
                .filter(|i| {
                    i.v["event"]["event"] == "attempt" && i.v["event"]["pass"].as_u64().unwrap_or(1) == 1
                })
                .filter_map(|i| Some((i.t, i.v["event"]["slot"].as_u64()?)))
                .filter(|&(_, slot)| visible(slot))
                .collect();
            (0..claims.len().max(card.len())).find_map(|n| match (claims.get(n), card.get(n)) {
                (Some((_, slot)), Some(b)) if *slot == u64::from(b.slot) => None,
                (Some((t, _)), _) => Some(("console", *t)),
                (None, Some(b)) => Some(("observed", b.starts_at_ms)),
                (None, None) => None,
            })
        }
        "winner" => {
            console("connected").map(|t| ("console", t)).or_else(|| backend().map(|t| ("backend", t)))
        }
        "time_to_winner" => {
            let by = |s: &str| c.sources.iter().any(|x| x == s);
            let has_network = items.iter().any(|i| i.source == "network");
            let lane = if by("backend") {
                "backend"
            } else if by("network") && has_network {
                "network"
            } else {
                "console"
            };
            c.measured_ms.or_else(|| console("connected")).map(|t| (lane, t))
        }
        "report" => backend().map(|t| ("backend", t)),
        "settled" => {
            let won = backend().or_else(|| console("connected"))?;
            match seen.bars.iter().find(|b| b.starts_at_ms > won) {
                Some(b) => Some(("observed", b.starts_at_ms)),
                None => console_events()
                    .find(|i| i.t > won && i.v["event"]["event"] == "attempt")
                    .map(|i| ("console", i.t)),
            }
        }
        _ => None,
    }
}
