//! What the bench received during one scenario, as received, on the rig's clock: each slot's
//! card traffic (ATRs, whole APDUs, the card's other events) and the lines of the DUT's console
//! and of the observer port. The artefacts beside a scenario's page are written from it: the
//! card trace for Wireshark ([`crate::report::pcap`]) and the two logs ([`crate::report::logs`]).
//!
//! Times are real (not nominal) microseconds on the rig's monotonic clock, counted from the
//! moment the rig told the DUT to start (negative before it); `start_unix_us` anchors that
//! moment to UTC wall-clock time, read once when the scenario's evidence was gathered. Secrets
//! never get in: PIN values are masked in the bridge's trace already, and every line is masked
//! here ([`crate::model::masking::mask_line`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::checks::Input;
use crate::bridge::CardEventKind;
use crate::clock::RigClock;
use crate::console::reader::ConsoleReader;
use crate::encoding::hex;
use crate::model::masking::mask_line;

/// One scenario's received evidence (see the module's documentation for its clock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// UTC wall-clock time of the zero of every `at_us`, in microseconds since the Unix epoch.
    pub start_unix_us: i64,
    /// Whether the zero is the DUT's start; `false`: the DUT never started, and times count
    /// from the bench's bring-up.
    pub dut_started: bool,
    /// The bench's time scale: nominal = real / scale.
    pub time_scale: f64,
    /// The scenario's slots: which seed each holds, master first.
    pub slots: Vec<SlotSeed>,
    pub cards: Vec<CardItem>,
    pub console: Vec<Line>,
    pub observer: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotSeed {
    pub slot: u8,
    pub seed: String,
    /// `master` or `standby`.
    pub role: String,
}

/// One line as received, masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub at_us: i64,
    pub text: String,
}

/// One thing that happened on a slot's card line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardItem {
    pub at_us: i64,
    pub slot: u8,
    pub what: CardWhat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CardWhat {
    /// The modem reset the card (a cold or warm reset) and it answered with this ATR.
    Atr { atr: Hex, what: String },
    /// One exchange: the command as the modem sent it (header, then data; PIN values masked)
    /// and the response it got (data, then the status word; empty when the card never answered).
    Apdu {
        command: Hex,
        response: Hex,
        /// Header in to final status word out (real time).
        latency_us: u64,
        /// The card fault that changed this exchange, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
    },
    /// Any other event of the card's: inserted, pulled, powered down, a fault put in force.
    Event { what: String },
}

/// Bytes, written as upper-case hex in JSON (results travel between `--jobs` processes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hex(pub Vec<u8>);

impl Serialize for Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hex, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom("hex of odd length"));
        }
        hex::decode(&text).map(Hex).ok_or_else(|| serde::de::Error::custom("not hex"))
    }
}

impl Received {
    /// Gathers what `input`'s evidence and the console received, with `clock` (the bench's)
    /// read now to anchor the rig's clock to wall-clock time. `dut_started`: whether
    /// `input.evidence.started_at` is the DUT's start (else the bench's bring-up).
    pub fn gather(input: &Input, console: &ConsoleReader, clock: RigClock, dut_started: bool) -> Received {
        let e = input.evidence;
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let epoch_unix_us = micros(since_epoch) - micros(clock.now());
        let start = micros(e.started_at);
        let at = |d: Duration| micros(d) - start;
        let mut cards: Vec<CardItem> = Vec::with_capacity(e.apdus.len() + e.card_events.len());
        for a in &e.apdus {
            cards.push(CardItem {
                at_us: at(a.at),
                slot: a.slot,
                what: CardWhat::Apdu {
                    command: Hex(a.command.clone()),
                    response: Hex(a.response.clone()),
                    latency_us: a.latency.as_micros() as u64,
                    fault: a.fault.map(str::to_owned),
                },
            });
        }
        for c in &e.card_events {
            let what = match &c.kind {
                CardEventKind::Activated { atr } => {
                    CardWhat::Atr { atr: Hex(atr.clone()), what: c.what.clone() }
                }
                _ => CardWhat::Event { what: c.what.clone() },
            };
            cards.push(CardItem { at_us: at(c.at), slot: c.slot, what });
        }
        // By time; at one instant, an ATR before the APDUs, the card's other events after them.
        cards.sort_by_key(|c| {
            let rank = match c.what {
                CardWhat::Atr { .. } => 0,
                CardWhat::Apdu { .. } => 1,
                CardWhat::Event { .. } => 2,
            };
            (c.at_us, rank)
        });
        let line = |(t, text): &(Duration, String)| Line { at_us: at(*t), text: mask_line(text) };
        let mut console_lines: Vec<Line> = console.lines.iter().map(line).collect();
        if let Some((t, rest)) = console.unterminated() {
            console_lines.push(Line { at_us: at(t), text: format!("{} (no line end)", mask_line(rest)) });
        }
        Received {
            start_unix_us: epoch_unix_us + start,
            dut_started,
            time_scale: input.scale.factor(),
            slots: input
                .scenario
                .placements()
                .enumerate()
                .map(|(n, p)| SlotSeed {
                    slot: p.slot,
                    seed: p.seed.clone(),
                    role: if n == 0 { "master" } else { "standby" }.to_owned(),
                })
                .collect(),
            cards,
            console: console_lines,
            observer: e.urcs.iter().map(line).collect(),
        }
    }

    /// The seed in `slot`, if the scenario put one there.
    pub fn seed_of(&self, slot: u8) -> Option<&SlotSeed> {
        self.slots.iter().find(|s| s.slot == slot)
    }

    /// The nominal milliseconds of a real time on this bench.
    pub fn nominal_ms(&self, at_us: i64) -> f64 {
        at_us as f64 / 1000.0 / if self.time_scale > 0.0 { self.time_scale } else { 1.0 }
    }

    /// What the zero of the times is, for people: `the DUT's start` or `the bench's bring-up`.
    pub fn zero(&self) -> &'static str {
        if self.dut_started { "the DUT's start" } else { "the bench's bring-up (the DUT never started)" }
    }
}

/// A duration in whole microseconds (rounded), as a signed count.
fn micros(d: Duration) -> i64 {
    i64::try_from((d.as_nanos() + 500) / 1000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_travel_as_hex() {
        let item = CardWhat::Apdu {
            command: Hex(vec![0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00]),
            response: Hex(vec![0x90, 0x00]),
            latency_us: 120,
            fault: None,
        };
        let json = serde_json::to_string(&item).unwrap();
        assert_eq!(json, r#"{"kind":"apdu","command":"00A4000C023F00","response":"9000","latency_us":120}"#);
        assert_eq!(serde_json::from_str::<CardWhat>(&json).unwrap(), item);
        assert!(serde_json::from_str::<Hex>("\"ABC\"").is_err());
    }
}
