//! What a run leaves behind for people and CI: JUnit XML (one testcase per scenario, checks and
//! measurements as properties, failures and errors told apart, durations in nominal time) and a
//! JSON timeline per scenario.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::run::checks::Status;
use crate::run::{ScenarioResult, Verdict};

/// The JUnit report of a run on `bench`.
pub fn junit(bench: &str, results: &[ScenarioResult]) -> Result<String, String> {
    let mut suite = TestSuite::new(format!("seedrig ({bench})"));
    suite.add_property(("bench", bench));
    for r in results {
        suite.add_test_case(test_case(r));
    }
    let mut report = Report::new("seedrig");
    report.add_test_suite(suite);
    report.to_string().map_err(|e| e.to_string())
}

fn test_case(r: &ScenarioResult) -> TestCase {
    let status = match &r.verdict {
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
    let mut case = TestCase::new(r.scenario.clone(), status);
    case.set_classname("seedrig.scenario");
    case.set_time(Duration::from_secs_f64(r.nominal_ms.max(0.0) / 1000.0));
    for c in &r.checks {
        let status = match c.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::NotObservable => "not observable",
        };
        let value = match (c.measured_ms, c.limit_ms) {
            (Some(m), Some(l)) => format!("{status} (measured {m:.0} ms, limit {l:.0} ms)"),
            _ => format!("{status}: expected {}; observed {}", c.expected, c.observed),
        };
        case.add_property((format!("check.{}", c.name), value));
    }
    case
}

/// Writes each scenario's timeline as `<dir>/<scenario>.json`.
pub fn write_timelines(dir: &Path, results: &[ScenarioResult]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for r in results {
        let doc = serde_json::json!({ "scenario": r.scenario, "verdict": r.verdict, "checks": r.checks, "timeline": r.timeline });
        std::fs::write(
            dir.join(format!("{}.json", r.scenario)),
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
        )?;
    }
    Ok(())
}
