//! The logs beside a scenario's page: `<scenario>.console.log` (every line the DUT's console
//! printed, events and the rest alike) and `<scenario>.observer.log` (every line the observer
//! port printed once the rig had set its reports up), as received, one per line, each stamped
//! on the rig's clock:
//!
//! ```text
//! [    1.341210 s |   26824.2 ms] {"event":"attempt","slot":2,...}
//! ```
//!
//! The first column is real time in seconds since the DUT was told to start (negative before
//! it; the bench's bring-up where the DUT never started), the second the same moment in
//! nominal milliseconds, as the timeline page and `<scenario>.json` give it (`t_ms`). Lines
//! starting with `#` head the file: the scenario, the start's UTC wall-clock time (the card
//! trace's timestamps are the same clock: UTC time = start + real seconds) and the time scale.
//! Secrets come masked, as in every other output ([`crate::model::masking::mask_line`]).

use std::fmt::Write as _;

use crate::clock::utc_micros as utc;
use crate::run::ScenarioResult;
use crate::run::received::{Line, Received};

/// `<scenario>.console.log`.
pub fn console_file(scenario: &str) -> String {
    format!("{scenario}.console.log")
}

/// `<scenario>.observer.log`.
pub fn observer_file(scenario: &str) -> String {
    format!("{scenario}.observer.log")
}

/// The console's log of `r`.
pub fn console_log(r: &ScenarioResult) -> String {
    log(r, "console", "the DUT's console printed", |x| &x.console)
}

/// The observer port's log of `r`.
pub fn observer_log(r: &ScenarioResult) -> String {
    log(
        r,
        "observer",
        "the observer AT port printed once the rig had set its reports up (its answers to the rig's set-up commands are not in it)",
        |x| &x.observer,
    )
}

fn log(r: &ScenarioResult, name: &str, source: &str, lines: impl Fn(&Received) -> &Vec<Line>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# seedrig {name} log: scenario {}; every line {source}, as received", r.scenario);
    let Some(x) = &r.received else {
        let why = match &r.verdict {
            crate::run::Verdict::Skipped(why) => format!("skipped: {why}"),
            crate::run::Verdict::Error(why) => format!("error: {why}"),
            _ => "no evidence kept".to_owned(),
        };
        let _ = writeln!(out, "# nothing received: the scenario did not run on a bench ({why})");
        return out;
    };
    let _ = writeln!(
        out,
        "# [real s | nominal ms]: the rig's clock since {} at {} UTC (negative before it); nominal = real / time_scale {}",
        x.zero(),
        utc(x.start_unix_us),
        x.time_scale
    );
    let _ = writeln!(out, "# secrets (K, OPc, PINs) masked");
    let lines = lines(x);
    out.reserve(lines.iter().map(|l| l.text.len() + 32).sum());
    for l in lines {
        let _ = writeln!(out, "[{} | {:>10.1} ms] {}", seconds(l.at_us), x.nominal_ms(l.at_us), l.text);
    }
    out
}

/// `   12.345678 s`: signed microseconds as seconds, right-aligned.
fn seconds(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let abs = us.unsigned_abs();
    format!("{:>12} s", format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::run::Verdict;

    fn received() -> Received {
        Received {
            start_unix_us: 1_700_000_000_000_000,
            dut_started: true,
            time_scale: 0.05,
            console: vec![
                Line { at_us: -2_500, text: r#"{"event":"boot"}"#.into() },
                Line { at_us: 1_341_210, text: "trying slot 2".into() },
            ],
            observer: vec![Line { at_us: 66_000, text: "+CEREG: 3".into() }],
            ..Received::default()
        }
    }

    #[test]
    fn logs_stamp_each_line_with_real_seconds_and_nominal_milliseconds() {
        let mut r = ScenarioResult::ended("master-reject", Verdict::Pass, Duration::ZERO);
        r.received = Some(received());
        let log = console_log(&r);
        let lines: Vec<&str> = log.lines().collect();
        assert!(lines[0].starts_with("# seedrig console log: scenario master-reject;"), "{log}");
        assert!(lines[1].contains("since the DUT's start at 2023-11-14T22:13:20.000000Z UTC"), "{log}");
        assert!(lines[1].contains("time_scale 0.05"), "{log}");
        assert_eq!(lines[3], r#"[   -0.002500 s |      -50.0 ms] {"event":"boot"}"#);
        assert_eq!(lines[4], "[    1.341210 s |    26824.2 ms] trying slot 2");
        assert_eq!(lines.len(), 5);
        let observer = observer_log(&r);
        assert!(observer.ends_with("[    0.066000 s |     1320.0 ms] +CEREG: 3\n"), "{observer}");
    }

    #[test]
    fn a_scenario_that_never_ran_says_so() {
        let r = ScenarioResult::ended("m5", Verdict::Skipped("needs 5 SIM slots".into()), Duration::ZERO);
        let log = observer_log(&r);
        assert!(
            log.contains(
                "nothing received: the scenario did not run on a bench (skipped: needs 5 SIM slots)"
            ),
            "{log}"
        );
    }
}
