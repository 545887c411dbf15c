//! The APDU trace: every command the bridge relays (or refuses), stamped on the rig's clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a command was about, for people reading a trace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Subject {
    /// A file selected or read/written (FID of the file concerned).
    File(u16),
    /// AUTHENTICATE (3G or GSM context) or RUN GSM ALGORITHM.
    Authenticate,
    /// PIN verification.
    Pin,
    #[default]
    Other,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApduRecord {
    /// When the command header arrived, on the rig's clock.
    pub at: Duration,
    pub slot: u8,
    pub cla: u8,
    pub ins: u8,
    pub subject: Subject,
    /// The whole command as the modem sent it (header, then data), PIN values masked (each
    /// byte of a VERIFY, CHANGE, DISABLE, ENABLE or UNBLOCK PIN command's data is `FF`).
    pub command: Vec<u8>,
    /// The whole response the modem got (data, then the status word); empty when the card
    /// never answered.
    pub response: Vec<u8>,
    /// The status word the modem got; `None` when the card (as faulted) never answered.
    pub sw: Option<u16>,
    /// Header in to final status word out.
    pub latency: Duration,
    /// The fault that changed this exchange, if any.
    pub fault: Option<&'static str>,
}

/// A change of the card's state as the modem sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CardEvent {
    pub at: Duration,
    pub slot: u8,
    pub kind: CardEventKind,
    /// For people: what happened.
    pub what: String,
}

/// What the card side saw happen to a slot's card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardEventKind {
    /// The card went in (the card-detect line the modem sees).
    Inserted,
    /// The card went out.
    Pulled,
    /// The modem started a card session: power and clock on and the reset released (a cold
    /// or warm reset); the card answered with `atr`.
    Activated { atr: Vec<u8> },
    /// The modem powered the card down (VCC off).
    Deactivated,
    /// The rig put a card fault in force, or cleared them all.
    Fault,
}

/// PIN commands (VERIFY, CHANGE, DISABLE, ENABLE, UNBLOCK): their data is a PIN or PUK.
pub fn carries_pin(ins: u8) -> bool {
    matches!(ins, 0x20 | 0x24 | 0x26 | 0x28 | 0x2C)
}

/// The command as traced: header and data, a PIN command's data masked.
pub fn masked_command(header: &[u8; 5], data: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    if carries_pin(header[1]) {
        out.extend(std::iter::repeat_n(0xFF, data.len()));
    } else {
        out.extend_from_slice(data);
    }
    out
}

/// Shared, append-only record of what crossed the bridge.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    apdus: Arc<Mutex<Vec<ApduRecord>>>,
    events: Arc<Mutex<Vec<CardEvent>>>,
    /// Each card reset through the bridge: when it began, how long it took.
    resets: Arc<Mutex<Vec<(Duration, Duration)>>>,
}

impl Trace {
    pub fn push(&self, record: ApduRecord) {
        if let Ok(mut v) = self.apdus.lock() {
            v.push(record);
        }
    }

    pub fn event(&self, event: CardEvent) {
        if let Ok(mut v) = self.events.lock() {
            v.push(event);
        }
    }

    pub fn reset(&self, at: Duration, took: Duration) {
        if let Ok(mut v) = self.resets.lock() {
            v.push((at, took));
        }
    }

    pub fn resets(&self) -> Vec<(Duration, Duration)> {
        self.resets.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn apdus(&self) -> Vec<ApduRecord> {
        self.apdus.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn events(&self) -> Vec<CardEvent> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }
}
