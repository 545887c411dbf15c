//! The modem's real-time clock and `AT+CCLK`. At power-on it starts at 1980-01-06 00:00:00
//! (the GPS epoch, as a Quectel module without network time shows it); `AT+CCLK=` sets it; a
//! registration sets it to network time: the rig's clock read as UTC (the wall time of the
//! clock's epoch plus its reading), zone +00. It keeps running across detaches and card changes.

use crate::clock::{civil_from_days, days_from_civil};
use std::time::Duration;

use super::at_stream::{Cmd, Form, Reply};
use super::port::Port;

/// 1980-01-06 00:00:00 UTC in milliseconds since the Unix epoch.
const POWER_ON_MS: i64 = 315_964_800_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtc {
    /// Local time shown at `at`, in milliseconds since 1970-01-01 00:00:00.
    base_ms: i64,
    /// The rig clock's reading when `base_ms` was set.
    at: Duration,
    /// Offset of local time from UTC, in quarter hours.
    zone: i8,
    /// Whether the time came from the network.
    pub network: bool,
}

impl Rtc {
    pub fn power_on(at: Duration) -> Rtc {
        Rtc { base_ms: POWER_ON_MS, at, zone: 0, network: false }
    }

    /// Network time: `utc_ms` (since the Unix epoch) at the rig clock's `at`.
    pub fn set_network_time(&mut self, utc_ms: i64, at: Duration) {
        *self = Rtc { base_ms: utc_ms, at, zone: 0, network: true };
    }

    /// Local time in milliseconds since 1970-01-01 at the rig clock's `now`.
    pub fn local_ms(&self, now: Duration) -> i64 {
        self.base_ms + now.saturating_sub(self.at).as_millis() as i64
    }

    /// `"yy/MM/dd,hh:mm:ss±zz"` (TS 27.007 §8.15).
    pub fn show(&self, now: Duration) -> String {
        let secs = self.local_ms(now).div_euclid(1000);
        let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        let sign = if self.zone < 0 { '-' } else { '+' };
        format!(
            "{:02}/{m:02}/{d:02},{:02}:{:02}:{:02}{sign}{:02}",
            y.rem_euclid(100),
            rest / 3600,
            rest / 60 % 60,
            rest % 60,
            self.zone.unsigned_abs()
        )
    }

    /// Parses `"yy/MM/dd,hh:mm:ss±zz"` (years 70–99 are 19xx, 00–69 20xx).
    pub fn parse(text: &str) -> Option<(i64, i8)> {
        let b = text.as_bytes();
        if b.len() != 20 || b[2] != b'/' || b[5] != b'/' || b[8] != b',' || b[11] != b':' || b[14] != b':' {
            return None;
        }
        let num = |at: usize| text.get(at..at + 2)?.parse::<i64>().ok();
        let (yy, mo, d, h, mi, s, z) = (num(0)?, num(3)?, num(6)?, num(9)?, num(12)?, num(15)?, num(18)?);
        let sign = match b[17] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
        let valid = (1..=12).contains(&mo)
            && (1..=days_in_month(year, mo)).contains(&d)
            && h < 24
            && mi < 60
            && s < 60
            && z <= 96;
        valid.then(|| {
            ((days_from_civil(year, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000, (sign * z) as i8)
        })
    }
}

/// `AT+CCLK?` and `AT+CCLK="<time>"`.
pub fn cclk(port: &Port, cmd: &Cmd) -> Reply {
    let shared = &port.shared;
    match cmd.form {
        Form::Read => {
            let rtc = shared.core().rtc;
            Reply::line(format!("+CCLK: \"{}\"", rtc.show(shared.clock.now())))
        }
        Form::Set => match cmd.text(0).and_then(Rtc::parse) {
            Some((local_ms, zone)) => {
                shared.core().rtc = Rtc { base_ms: local_ms, at: shared.clock.now(), zone, network: false };
                Reply::ok()
            }
            None => Reply::cme(50),
        },
        Form::Test => Reply::ok(),
        Form::Exec => Reply::cme(4),
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_on_time_runs_and_shows_as_27007_says() {
        let rtc = Rtc::power_on(Duration::from_secs(5));
        assert_eq!(rtc.show(Duration::from_secs(5)), "80/01/06,00:00:00+00");
        assert_eq!(rtc.show(Duration::from_millis(3_725_999 + 5_000)), "80/01/06,01:02:05+00");
    }

    #[test]
    fn set_and_parse() {
        let (ms, zone) = Rtc::parse("24/02/29,23:59:58-08").unwrap();
        let rtc = Rtc { base_ms: ms, at: Duration::ZERO, zone, network: false };
        assert_eq!(rtc.show(Duration::from_secs(3)), "24/03/01,00:00:01-08");
        assert_eq!(Rtc::parse("23/02/29,00:00:00+00"), None, "no 29 February in 2023");
        assert_eq!(Rtc::parse("24/13/01,00:00:00+00"), None);
        assert_eq!(Rtc::parse("24/01/01 00:00:00+00"), None);
        let mut net = Rtc::power_on(Duration::ZERO);
        net.set_network_time(1_700_000_000_000, Duration::from_secs(1));
        assert_eq!(net.show(Duration::from_secs(2)), "23/11/14,22:13:21+00");
        assert!(net.network);
    }

    #[test]
    fn calendar_round_trip() {
        for days in [-1, 0, 59, 365 * 30 + 7, 19_782, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
