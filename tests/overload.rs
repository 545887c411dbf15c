//! An overloaded bench machine: the rig itself runs late, so it stamps what it sees late and a
//! timing check can fail on that alone. The rig measures its own lateness: the simulated
//! radio's waits that ended late are allowed beside each bound as the rig's own time, and a
//! check that still fails while the rig ran later than its tolerance makes the scenario an
//! error ("bench overloaded"), never a firmware failure.
//!
//! The load here is the harshest kind: the rig's process is stopped for 80 ms every 120 ms
//! (SIGSTOP / SIGCONT) while its firmware and pcscd run on.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use seedrig::run::{ScenarioResult, Verdict};

mod common;

#[test]
fn a_rig_that_runs_late_reports_errors_not_failures() {
    let out = tempfile::tempdir().unwrap();
    let results = out.path().join("results.json");
    let scenarios = [
        "master-reject",
        "master-expired",
        "master-corrupt-auth",
        "master-dial-fail",
        "seed-tariff-override",
    ];
    let run = common::seedrig()
        .args(["run", "--jobs", "1", "--exact", "--results-json"])
        .arg(&results)
        .args(scenarios)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = run.id().to_string();
    let done = Arc::new(AtomicBool::new(false));
    let stopper = {
        let done = done.clone();
        std::thread::spawn(move || {
            // The sleeps are the load itself: the rig runs 40 ms, then stands still 80 ms.
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(40));
                let _ = Command::new("kill").args(["-STOP", &pid]).status();
                std::thread::sleep(Duration::from_millis(80));
                let _ = Command::new("kill").args(["-CONT", &pid]).status();
            }
        })
    };
    let output = run.wait_with_output().unwrap();
    done.store(true, Ordering::Relaxed);
    stopper.join().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let parsed: Vec<ScenarioResult> =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    assert_eq!(parsed.len(), scenarios.len(), "{text}");
    for r in &parsed {
        assert_ne!(
            r.verdict,
            Verdict::Fail,
            "{}: a late rig blamed the firmware: {:?}\n{text}",
            r.scenario,
            r.failures()
        );
        assert!(
            r.rig_lag_ms.is_none_or(|lag| lag >= 40.0),
            "{}: lag {:?} not seen",
            r.scenario,
            r.rig_lag_ms
        );
    }
    // The lateness is accounted for, one way or the other: a check that failed on it made the
    // scenario a "bench overloaded" error, or a timing check passed only with the rig's own
    // measured lateness (radio waits that ended late while the rig was stopped) allowed.
    let accounted = |r: &&ScenarioResult| {
        let overloaded = matches!(&r.verdict, Verdict::Error(why) if why.starts_with("bench overloaded: the rig ran up to"));
        let allowed = r.checks.iter().any(|c| c.rig_allowance_ms.is_some_and(|ms| ms >= 20.0));
        overloaded || allowed
    };
    assert!(
        parsed.iter().filter(accounted).count() >= 1,
        "no scenario accounted for the rig's lateness: {text}\n{:#?}",
        parsed
            .iter()
            .map(|r| (&r.scenario, r.checks.iter().map(|c| c.rig_allowance_ms).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
}
