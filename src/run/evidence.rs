//! Evidence of one scenario run, every item stamped on the rig's clock: the firmware's console
//! events, and (read at the end) the bridge's APDU trace and the network's ground truth.

use std::time::Duration;

use crate::firmware::console::{Event, Stamped};

/// One console event as the rig received it.
#[derive(Debug, Clone)]
pub struct ConsoleEvent {
    /// Rig clock when the line arrived.
    pub at: Duration,
    pub event: Event,
}

/// Splits console bytes into events; lines that are not events are kept as noise.
#[derive(Default)]
pub struct ConsoleReader {
    pending: String,
    pub events: Vec<ConsoleEvent>,
    pub noise: Vec<String>,
}

impl ConsoleReader {
    pub fn push(&mut self, at: Duration, bytes: &[u8]) {
        self.pending.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Stamped>(line) {
                Ok(stamped) => self.events.push(ConsoleEvent { at, event: stamped.event }),
                Err(_) => self.noise.push(line.to_owned()),
            }
        }
    }

    pub fn any(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|e| pred(&e.event))
    }
}
