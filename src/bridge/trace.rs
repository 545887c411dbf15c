//! The APDU trace: every command the bridge relays (or refuses), stamped on the rig's clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a command was about, for people reading a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A file selected or read/written (FID of the file concerned).
    File(u16),
    /// AUTHENTICATE (3G or GSM context) or RUN GSM ALGORITHM.
    Authenticate,
    /// PIN verification.
    Pin,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApduRecord {
    /// When the command header arrived, on the rig's clock.
    pub at: Duration,
    pub slot: u8,
    pub cla: u8,
    pub ins: u8,
    pub subject: Subject,
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
    pub what: String,
}

/// Shared, append-only record of what crossed the bridge.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    apdus: Arc<Mutex<Vec<ApduRecord>>>,
    events: Arc<Mutex<Vec<CardEvent>>>,
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

    pub fn apdus(&self) -> Vec<ApduRecord> {
        self.apdus.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn events(&self) -> Vec<CardEvent> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }
}
