//! The rig's one monotonic clock: every observation (faults, APDUs, console lines, URCs,
//! network ground truth) is stamped with the time since the clock's epoch; and the bench's
//! time scale, which turns nominal (radio) durations into real ones and back.

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

/// The bench's time scale: every nominal duration (network latencies, fault delays, firmware
/// timeouts) is multiplied by it, so minutes of radio time run in seconds on a virtual bench.
/// A lab bench runs at 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(f64);

impl TimeScale {
    /// Real time (a lab bench).
    pub const REAL: TimeScale = TimeScale(1.0);

    /// A scale in (0, 1]; anything else is clamped into that range.
    pub fn new(scale: f64) -> TimeScale {
        if scale.is_finite() && scale > 0.0 { TimeScale(scale.min(1.0)) } else { TimeScale::REAL }
    }

    pub fn factor(self) -> f64 {
        self.0
    }

    /// The real duration of `ms` nominal milliseconds.
    pub fn ms(self, ms: u64) -> Duration {
        Duration::from_secs_f64(ms as f64 / 1000.0 * self.0)
    }

    /// The nominal length of a real duration, in milliseconds.
    pub fn nominal_ms(self, real: Duration) -> f64 {
        real.as_secs_f64() * 1000.0 / self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_both_ways() {
        let s = TimeScale::new(0.01);
        assert_eq!(s.ms(30_000), Duration::from_millis(300));
        assert!((s.nominal_ms(Duration::from_millis(300)) - 30_000.0).abs() < 1e-6);
        assert_eq!(TimeScale::new(0.0), TimeScale::REAL);
    }
}
