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

/// `2026-12-06T20:49:01Z`: seconds since the Unix epoch, in UTC (RFC 3339).
pub fn utc_seconds(unix_s: i64) -> String {
    let (days, rest) = (unix_s.div_euclid(86_400), unix_s.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// `2026-12-06T20:49:01.123456Z`: microseconds since the Unix epoch, in UTC (RFC 3339).
pub fn utc_micros(unix_us: i64) -> String {
    let secs = unix_us.div_euclid(1_000_000);
    let whole = utc_seconds(secs);
    format!("{}.{:06}Z", whole.trim_end_matches('Z'), unix_us.rem_euclid(1_000_000))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day count since 1970-01-01
/// (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
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

    #[test]
    fn utc_writes_civil_dates() {
        assert_eq!(utc_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_seconds(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_seconds(1_750_758_067), "2025-06-24T09:41:07Z");
        assert_eq!(utc_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(utc_micros(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(utc_micros(1_700_000_000_123_456), "2023-11-14T22:13:20.123456Z");
        assert_eq!(utc_micros(-1), "1969-12-31T23:59:59.999999Z");
    }
}
