//! Ground truth: every step the network took, stamped on the rig's clock, so the rig can check
//! the firmware's claims against what really happened.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use super::lock;
use crate::clock::RigClock;
use crate::model::{Plmn, Rat};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthEvent {
    /// On the rig's clock (real time, not nominal).
    pub at: Duration,
    pub imsi: String,
    pub kind: TruthKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TruthKind {
    /// The network received an attach request on this cell.
    AttachStart {
        plmn: Plmn,
        rat: Rat,
    },
    AuthOk,
    AuthFailed,
    /// The card answered AUTS; the network took its SQN and retries.
    Resync,
    Registered {
        plmn: Plmn,
        rat: Rat,
    },
    Rejected {
        cause: u8,
    },
    ContextUp {
        apn: String,
        ip: String,
    },
    ContextRejected {
        cause: u8,
    },
    /// A request reached the backend and its answer went back.
    DataDelivered {
        bytes: usize,
    },
    /// A request was lost (`data_fail`, or its context went away in flight).
    DataLost,
    Detached,
}

impl fmt::Display for TruthKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TruthKind::AttachStart { plmn, rat } => write!(f, "attach on {plmn} {rat}"),
            TruthKind::AuthOk => f.write_str("authenticated"),
            TruthKind::AuthFailed => f.write_str("authentication failed"),
            TruthKind::Resync => f.write_str("SQN resynchronised"),
            TruthKind::Registered { plmn, rat } => write!(f, "registered on {plmn} {rat}"),
            TruthKind::Rejected { cause } => write!(f, "rejected (EMM cause {cause})"),
            TruthKind::ContextUp { apn, ip } => write!(f, "context up ({apn}, {ip})"),
            TruthKind::ContextRejected { cause } => write!(f, "context rejected (ESM cause {cause})"),
            TruthKind::DataDelivered { bytes } => write!(f, "data delivered ({bytes} bytes)"),
            TruthKind::DataLost => f.write_str("data lost"),
            TruthKind::Detached => f.write_str("detached"),
        }
    }
}

pub(super) struct TruthLog {
    clock: RigClock,
    events: Mutex<Vec<TruthEvent>>,
}

impl TruthLog {
    pub fn new(clock: RigClock) -> TruthLog {
        TruthLog { clock, events: Mutex::new(Vec::new()) }
    }

    pub fn record(&self, imsi: &str, kind: TruthKind) {
        tracing::debug!(imsi, event = %kind, "network");
        let mut events = lock(&self.events);
        // Stamped under the lock, so the log's order is its time order.
        let at = self.clock.now();
        events.push(TruthEvent { at, imsi: imsi.to_owned(), kind });
    }

    pub fn events(&self) -> Vec<TruthEvent> {
        lock(&self.events).clone()
    }
}
