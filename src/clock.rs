//! The rig's one monotonic clock: every observation (faults, APDUs, console lines, URCs,
//! network ground truth) is stamped with the time since the clock's epoch.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct RigClock {
    epoch: Instant,
}

impl RigClock {
    pub fn start() -> RigClock {
        RigClock { epoch: Instant::now() }
    }

    /// Time since the epoch.
    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The stamp of an instant taken elsewhere (saturating at the epoch).
    pub fn stamp(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.epoch)
    }
}

impl Default for RigClock {
    fn default() -> Self {
        RigClock::start()
    }
}
