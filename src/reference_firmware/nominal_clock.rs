//! The firmware's own monotonic clock. Everything it says and decides is in nominal time
//! (real time divided by the time scale), so its console reads the same on any bench.

use std::time::{Duration, Instant};

use crate::clock::TimeScale;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch: Instant,
    scale: TimeScale,
}

impl Clock {
    pub fn start(scale: TimeScale) -> Clock {
        Clock { epoch: Instant::now(), scale }
    }

    /// Nominal milliseconds since boot.
    pub fn now_ms(&self) -> u64 {
        self.since_ms(self.epoch)
    }

    /// Nominal milliseconds since `start`, rounded: a deadline that fired reads as reached.
    pub fn since_ms(&self, start: Instant) -> u64 {
        self.scale.nominal_ms(start.elapsed()).round() as u64
    }

    /// The real duration of `ms` nominal milliseconds.
    pub fn real(&self, ms: u64) -> Duration {
        self.scale.ms(ms)
    }
}
