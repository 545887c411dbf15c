//! What a run leaves behind for people and CI: JUnit XML (one testcase per scenario, checks and
//! measurements as properties, failures and errors told apart) and a JSON timeline per scenario,
//! with a page per scenario to look at and an index of the pages ([`html`]); beside each page,
//! the raw evidence in the tools of the trade: the card trace for Wireshark ([`pcap`]) and the
//! console's and observer's lines as text ([`logs`]), written from what the bench received
//! ([`crate::run::received`]).
//! A testcase's `time` is wall time, what the scenario cost the CI job; its length in nominal
//! time (the firmware's own clock, scaled up on a virtual bench) is the property `nominal_s`.

pub mod html;
pub mod identity;
pub mod logs;
pub mod pcap;

use std::path::Path;
use std::time::Duration;

pub mod merge;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

pub use identity::Identity;

use crate::run::checks::Status;
use crate::run::{ScenarioResult, Verdict};

/// The JUnit report of a run on `bench` (of one partition of the suite, if given), naming what
/// was tested (`identity`) in the suite's properties. A flaky scenario (mixed results over
/// `--repeat`) is a failure unless `allow_flaky`. Each testcase names its bench in a `bench`
/// property, which `junit merge` keeps.
pub fn junit(
    bench: &str,
    partition: Option<&str>,
    allow_flaky: bool,
    identity: &Identity,
    results: &[ScenarioResult],
) -> Result<String, String> {
    let mut suite = TestSuite::new(format!("seedrig ({bench})"));
    suite.add_property(("bench", bench));
    if let Some(p) = partition {
        suite.add_property(("partition", p));
    }
    for (name, value) in identity.properties() {
        suite.add_property((name, value.as_str()));
    }
    for r in results {
        let mut case = test_case(r, allow_flaky);
        case.add_property(("bench", bench));
        suite.add_test_case(case);
    }
    let wall: Duration = results.iter().map(|r| r.wall).sum();
    suite.set_time(wall);
    let mut report = Report::new("seedrig");
    report.set_time(wall);
    report.add_test_suite(suite);
    report.to_string().map_err(|e| e.to_string())
}

fn test_case(r: &ScenarioResult, allow_flaky: bool) -> TestCase {
    let flaky = r.repeat.as_ref().filter(|s| s.flaky());
    let status = match &r.verdict {
        _ if flaky.is_some() && allow_flaky => TestCaseStatus::success(),
        _ if let Some(s) = flaky => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!(
                "flaky: {} of {} runs passed, {} failed, {} errors",
                s.passes, s.runs, s.fails, s.errors
            ));
            status.set_description(r.failures().join("\n"));
            status
        }
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let failures = r.failures();
            s.set_message(failures.first().cloned().unwrap_or_default());
            s.set_description(failures.join("\n"));
            s
        }
        Verdict::Error(reason) => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(reason.clone());
            s
        }
        Verdict::Skipped(reason) => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(reason.clone());
            s
        }
    };
    let status = with_retried_tries(status, r);
    let mut case = TestCase::new(r.scenario.clone(), status);
    case.set_classname("seedrig.scenario");
    case.set_time(r.wall);
    // Whole nominal milliseconds, in seconds as short as they print: 31980 ms → "31.98".
    case.add_property(("nominal_s".to_owned(), (r.nominal_ms.max(0.0).round() / 1000.0).to_string()));
    if !r.retried.is_empty() {
        case.add_property(("retried".to_owned(), r.retried.len().to_string()));
    }
    if let Some(s) = &r.repeat {
        let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
        for (key, value) in [
            ("runs", s.runs.to_string()),
            ("passes", s.passes.to_string()),
            ("fails", s.fails.to_string()),
            ("errors", s.errors.to_string()),
            ("skips", s.skips.to_string()),
            ("success_rate", format!("{:.3}", s.success_rate)),
            ("time_to_winner_p50_ms", ms(s.time_to_winner_p50_ms)),
            ("time_to_winner_p95_ms", ms(s.time_to_winner_p95_ms)),
            ("flaky", s.flaky().to_string()),
        ] {
            case.add_property((format!("repeat.{key}"), value));
        }
    }
    for c in &r.checks {
        let status = match c.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::NotObservable => "not observable",
        };
        let value = match (c.measured_ms, c.limit_ms) {
            (Some(m), Some(l)) => {
                format!("{status} (measured {m:.0} ms, limit {l:.0} ms{})", c.rig_allowance_text())
            }
            _ => format!("{status}: expected {}; observed {}", c.expected, c.observed),
        };
        case.add_property((format!("check.{}", c.name), value));
        if let Some(a) = c.rig_allowance_ms {
            case.add_property((format!("check.{}.rig_allowance_ms", c.name), format!("{a:.3}")));
        }
        if !c.sources.is_empty() {
            case.add_property((format!("check.{}.sources", c.name), c.sources.join(", ")));
        }
    }
    case
}

/// The tries that ended in ERROR before the last (`--retry-errors`), as reruns: flaky errors
/// of a testcase that then passed (`<flakyError>`), rerun errors of one that did not
/// (`<rerunError>`). A skipped last try keeps no reruns (JUnit has no place for them).
fn with_retried_tries(mut status: TestCaseStatus, r: &ScenarioResult) -> TestCaseStatus {
    let reruns = r.retried.iter().map(|t| {
        let mut rerun = TestRerun::new(NonSuccessKind::Error);
        rerun.set_message(t.reason.clone());
        rerun.set_time(t.wall);
        rerun
    });
    if !matches!(status, TestCaseStatus::Skipped { .. }) {
        status.add_reruns(reruns);
    }
    status
}

/// Writes each scenario's artefacts ([`write_scenario`]) and `<dir>/index.html` linking the
/// pages.
pub fn write_timelines(dir: &Path, identity: &Identity, results: &[ScenarioResult]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for r in results {
        write_scenario(dir, identity, r)?;
    }
    std::fs::write(dir.join("index.html"), html::index_page(results, identity))
}

/// Writes one scenario's artefacts into `dir`: its timeline as `<scenario>.json` (with the
/// oracle's expected attempts) and as a page, `<scenario>.html`; beside them its card trace,
/// `<scenario>.pcapng`, and its logs, `<scenario>.console.log` and `<scenario>.observer.log`.
/// A scenario that never ran on a bench gets them too, saying so.
pub fn write_scenario(dir: &Path, identity: &Identity, r: &ScenarioResult) -> std::io::Result<()> {
    let doc = serde_json::json!({ "scenario": r.scenario, "verdict": r.verdict, "checks": r.checks,
        "expected": r.expected, "observed": r.observed, "divergence": r.divergence, "ranking": r.ranking,
        "timeline": r.timeline });
    std::fs::write(
        dir.join(format!("{}.json", r.scenario)),
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    std::fs::write(dir.join(html::page_file(&r.scenario)), html::scenario_page(r, identity))?;
    std::fs::write(dir.join(pcap::file_name(&r.scenario)), pcap::card_trace(r, identity))?;
    std::fs::write(dir.join(logs::console_file(&r.scenario)), logs::console_log(r))?;
    std::fs::write(dir.join(logs::observer_file(&r.scenario)), logs::observer_log(r))
}

/// Writes each scenario's card trace alone, as `<dir>/<scenario>.pcapng` (`--pcap DIR`).
pub fn write_card_traces(dir: &Path, identity: &Identity, results: &[ScenarioResult]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for r in results {
        std::fs::write(dir.join(pcap::file_name(&r.scenario)), pcap::card_trace(r, identity))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::run::checks::Check;

    fn result(scenario: &str, verdict: Verdict, wall: Duration, nominal_ms: f64) -> ScenarioResult {
        let mut r = ScenarioResult::ended(scenario, verdict, wall);
        r.nominal_ms = nominal_ms;
        r
    }

    /// The `<testcase ...>` element of `scenario`, up to its end.
    fn case<'a>(xml: &'a str, scenario: &str) -> &'a str {
        let start = xml
            .find(&format!("<testcase name=\"{scenario}\""))
            .unwrap_or_else(|| panic!("no testcase {scenario} in {xml}"));
        let rest = &xml[start..];
        let end = rest.find("</testcase>").map_or(rest.len(), |n| n + "</testcase>".len());
        &rest[..end]
    }

    #[test]
    fn a_testcase_lasts_its_wall_time_and_keeps_its_nominal_length_as_a_property() {
        let mut r = result("m5-third-ranked-wins", Verdict::Pass, Duration::from_millis(1600), 31_980.0);
        r.checks.push(Check {
            name: "time_to_winner".into(),
            expected: "within 40 s".into(),
            observed: "31.9 s".into(),
            status: Status::Pass,
            measured_ms: Some(31_900.0),
            limit_ms: Some(40_000.0),
            rig_allowance_ms: None,
            sources: Vec::new(),
            rig_time_beyond_cap_ms: None,
        });
        let other = result("master-connects", Verdict::Pass, Duration::from_millis(700), 2_500.0);
        let xml = junit("virtual", None, false, &Identity::default(), &[r, other]).unwrap();
        let case = case(&xml, "m5-third-ranked-wins");
        assert!(case.contains("time=\"1.600\""), "{case}");
        assert!(case.contains("<property name=\"nominal_s\" value=\"31.98\"/>"), "{case}");
        assert!(
            case.contains(
                "<property name=\"check.time_to_winner\" value=\"pass (measured 31900 ms, limit 40000 ms)\"/>"
            ),
            "{case}"
        );
        assert!(!xml.contains("31.980"), "nominal time is no testcase's time: {xml}");
        // The suite (and the report) last the sum of the scenarios' wall times.
        let suite = xml.lines().find(|l| l.trim_start().starts_with("<testsuite ")).unwrap();
        assert!(suite.contains("time=\"2.300\""), "{suite}");
    }

    #[test]
    fn a_skipped_scenario_is_a_skipped_testcase_with_the_reason() {
        let r = result(
            "m5-third-ranked-wins",
            Verdict::Skipped("needs 5 SIM slots, the bench has 3".into()),
            Duration::ZERO,
            0.0,
        );
        let xml = junit("lab", None, false, &Identity::default(), &[r]).unwrap();
        let case = case(&xml, "m5-third-ranked-wins");
        assert!(case.contains("<skipped message=\"needs 5 SIM slots, the bench has 3\"/>"), "{case}");
        assert!(xml.contains("skipped=\"1\""), "{xml}");
        assert!(!case.contains("<failure") && !case.contains("<error"), "{case}");
    }
}

#[cfg(test)]
mod repeat_tests {
    use super::*;
    use crate::run::repeat::RepeatStats;

    fn repeated(verdict: Verdict, passes: usize, fails: usize) -> ScenarioResult {
        let mut r = ScenarioResult::ended("master-reject", verdict, Duration::from_millis(700));
        r.repeat = Some(RepeatStats {
            runs: passes + fails,
            passes,
            fails,
            errors: 0,
            skips: 0,
            success_rate: passes as f64 / (passes + fails) as f64,
            time_to_winner_p50_ms: Some(2700.0),
            time_to_winner_p95_ms: Some(2900.0),
        });
        r
    }

    #[test]
    fn a_flaky_scenario_is_a_failure_with_its_counts_unless_allowed_and_the_partition_is_named() {
        let flaky = repeated(Verdict::Fail, 3, 2);
        let xml =
            junit("virtual", Some("hash:2/3"), false, &Identity::default(), std::slice::from_ref(&flaky))
                .unwrap();
        assert!(xml.contains(r#"<property name="partition" value="hash:2/3"/>"#), "{xml}");
        assert!(xml.contains(r#"<failure message="flaky: 3 of 5 runs passed, 2 failed, 0 errors""#), "{xml}");
        assert!(xml.contains(r#"<property name="repeat.flaky" value="true"/>"#), "{xml}");
        assert!(xml.contains(r#"<property name="repeat.time_to_winner_p95_ms" value="2900"/>"#), "{xml}");
        let allowed = junit("virtual", None, true, &Identity::default(), &[flaky]).unwrap();
        assert!(!allowed.contains("<failure"), "{allowed}");
        let steady =
            junit("virtual", None, false, &Identity::default(), &[repeated(Verdict::Pass, 4, 0)]).unwrap();
        assert!(
            steady.contains(r#"<property name="repeat.flaky" value="false"/>"#)
                && !steady.contains("<failure")
        );
    }
}
