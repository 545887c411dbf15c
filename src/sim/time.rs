//! The virtual bench's time scale: every nominal duration (network latencies, fault delays,
//! firmware timeouts) is multiplied by it, so minutes of radio time run in seconds.

use std::time::Duration;

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
