//! The lab driver end to end, without hardware: `seedrig sim lab` brings the virtual world up
//! as a lab presents itself (serial devices, card-emulation sockets, a pcscd, hooks) in a
//! process of its own, and `seedrig run --rig <its rig file>` drives it through the lab driver
//! only, in another process — as on a real bench.
//!
//! The labs take turns, across test processes too (each is a whole world on a 2-core machine,
//! and the runs are timed): [`common::Lab`] holds the `emulated-lab` turn while it is up.

use std::process::Stdio;
use std::time::Duration;

use common::{Lab, Lines, root, seedrig, stdout};
use seedrig::run::{ScenarioResult, Verdict};

mod common;

fn verdicts(results: &[ScenarioResult]) -> Vec<(String, Verdict)> {
    results.iter().map(|r| (r.scenario.clone(), r.verdict.clone())).collect()
}

/// Every starter scenario passes on the virtual bench (tests/scenarios.rs); through the lab
/// driver each must get that same verdict.
#[test]
fn the_starter_suite_passes_through_the_lab_driver() {
    let lab = Lab::up(&[]);
    assert!(lab.text().contains("kind = \"lab\""));
    // A bench error (a loaded CI machine: "bench overloaded") is tried again, as a lab's
    // pipeline does; a failure never is.
    let (output, results, junit) = lab.run(&["--retry-errors", "2"]);
    let catalog = seedrig::fixture::load_default(root()).unwrap().catalog;
    assert_eq!(
        results.len(),
        catalog.scenarios.len(),
        "{}\n{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    let wrong: Vec<_> = verdicts(&results).into_iter().filter(|(_, v)| *v != Verdict::Pass).collect();
    assert!(wrong.is_empty(), "not passed through the lab: {wrong:?}\n{}", stdout(&output));
    assert!(output.status.success());
    assert_eq!(junit.matches("<testcase").count(), catalog.scenarios.len());
    // The lab has no network record: the winner rests on the card's authentication, the
    // observer's registration and the backend's report, never on ground truth.
    let winner = results[0].checks.iter().find(|c| c.name == "winner").unwrap();
    assert!(!winner.observed.contains("network registered"), "{}", winner.observed);
}

/// A firmware that prints its own log lines instead of JSON, read through the rig file's
/// event patterns.
#[test]
fn log_line_firmware_is_read_through_event_patterns() {
    let lab = Lab::up(&["--text-console"]);
    assert!(lab.text().contains("format = \"patterns\""));
    let scenarios = [
        "master-connects",
        "master-reject",
        "all-exhausted",
        "result-silent-stalls",
        "timeout-third-ranked-wins",
        "m5-third-ranked-wins",
    ];
    let mut args = vec!["--retry-errors", "2", "--exact"];
    args.extend(scenarios);
    let (output, results, _) = lab.run(&args);
    let wrong: Vec<_> = verdicts(&results).into_iter().filter(|(_, v)| *v != Verdict::Pass).collect();
    assert_eq!(results.len(), scenarios.len(), "{}", stdout(&output));
    assert!(wrong.is_empty(), "{wrong:?}\n{}", stdout(&output));
}

/// Each deliberate firmware fault is caught through the lab path, as a failure (not an error).
#[test]
fn each_firmware_fault_is_caught_through_the_lab() {
    let lab = Lab::up(&[]);
    let catches = [
        ("wrong-order", "m5-third-ranked-wins", "attempt_order"),
        ("stop-after-master", "master-reject", "winner"),
        ("no-report", "master-connects", "report"),
        ("signal-only", "weights-tariff", "attempt_order"),
        ("ignore-timeout", "master-silent-timeout", "master_judgement"),
    ];
    for (mode, scenario, check) in catches {
        lab.dut(&["fault-mode", mode]);
        let (output, results, _) = lab.run(&["--retry-errors", "2", "--exact", scenario]);
        assert_eq!(results.len(), 1, "{mode}: {}", stdout(&output));
        assert_eq!(results[0].verdict, Verdict::Fail, "{mode} on {scenario}: {}", stdout(&output));
        assert!(
            results[0].failures().iter().any(|f| f.starts_with(check)),
            "{mode}: {:?}",
            results[0].failures()
        );
    }
    lab.dut(&["fault-mode", "none"]);
    let (output, results, _) = lab.run(&["--exact", "master-reject"]);
    assert_eq!(results[0].verdict, Verdict::Pass, "{}", stdout(&output));
}

/// A network fault the lab declares it cannot make: the scenario is skipped, with the reason
/// in the summary and in JUnit, and the run still succeeds.
#[test]
fn a_scenario_needing_a_missing_capability_is_skipped_with_its_reason() {
    let lab = Lab::up(&["--without-fault", "silent"]);
    let (output, results, junit) = lab.run(&["--exact", "master-silent-timeout", "master-connects"]);
    let text = stdout(&output);
    let skipped = results.iter().find(|r| r.scenario == "master-silent-timeout").unwrap();
    let Verdict::Skipped(why) = &skipped.verdict else { panic!("{text}") };
    assert!(why.contains("no [network.faults] hook for network fault(s) silent"), "{why}");
    assert!(text.contains("SKIP   master-silent-timeout: "), "{text}");
    assert!(text.contains("1 passed, 0 failed, 0 errors, 1 skipped"), "{text}");
    assert!(junit.contains("<skipped message=\""), "{junit}");
    assert!(output.status.success());
}

/// The DUT's console device vanishes mid-scenario: that scenario is an error naming the port,
/// and the next one (the device back) passes.
#[test]
fn a_console_port_lost_mid_run_is_an_error_and_the_next_scenario_passes() {
    let lab = Lab::up(&["--time-scale", "0.2"]);
    let config = lab.path_of("console").with_file_name("firmware.toml");
    let rig = lab.rig.clone();
    let results = tempfile::tempdir().unwrap();
    let results_json = results.path().join("r.json");
    let mut run = seedrig()
        .args(["run", "--rig"])
        .arg(&rig)
        .arg("--results-json")
        .arg(&results_json)
        .args(["--exact", "all-exhausted", "master-connects"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut printed = Lines::of(run.stdout.take().unwrap());
    // all-exhausted runs for about 4 s here; its bring-up writes the DUT's configuration.
    common::wait_for_file(&config, Duration::from_secs(20));
    // On purpose, a time and not an event: the DUT restarts on that configuration and the
    // scenario gets under way, which nothing tells a test; 0.8 s lands inside it.
    std::thread::sleep(Duration::from_millis(800));
    lab.dut(&["unplug"]);
    // The device is back once the rig has ended the scenario under way (its verdict line).
    let verdict = |l: &str| ["PASS ", "FAIL ", "ERROR ", "SKIP "].iter().any(|v| l.starts_with(v));
    let ended = printed.wait_for(Duration::from_secs(30), verdict);
    lab.dut(&["replug"]);
    let status = run.wait().unwrap();
    let text = printed.rest();
    assert!(ended.is_some(), "the rig never ended all-exhausted:\n{text}");
    let parsed: Vec<ScenarioResult> =
        serde_json::from_str(&std::fs::read_to_string(&results_json).unwrap()).unwrap();
    let Verdict::Error(why) = &parsed[0].verdict else { panic!("all-exhausted: {text}") };
    assert!(why.contains("DUT console") && why.contains("dut-console"), "{why}");
    assert_eq!(parsed[1].verdict, Verdict::Pass, "{text}");
    // A bench error and no failure: exit 3, the lab's to act on.
    assert_eq!(status.code(), Some(3), "{text}");
}

/// A lab without a test network (`site = "measured"`): the rig scans the cells with the
/// observer and the oracle ranks on them; scenarios needing network faults are skipped.
#[test]
fn a_measured_network_is_scanned_and_ranked_on() {
    let lab = Lab::up(&["--measured", "--site", "paris-cdg"]);
    assert!(lab.text().contains("site = \"measured\""));
    let (output, results, _) =
        lab.run(&["--retry-errors", "2", "--exact", "weights-signal", "weights-tariff", "master-reject"]);
    let text = stdout(&output);
    let by_name = |n: &str| results.iter().find(|r| r.scenario == n).unwrap();
    assert_eq!(by_name("weights-signal").verdict, Verdict::Pass, "{text}");
    assert_eq!(by_name("weights-tariff").verdict, Verdict::Pass, "{text}");
    let Verdict::Skipped(why) = &by_name("master-reject").verdict else { panic!("{text}") };
    assert!(why.contains("measures a real network and cannot make network fault(s) reject"), "{why}");
    // The expectation came from the cells heard in Paris, not from the scenario's own site
    // (London Heathrow), where the oracle orders the standbys otherwise.
    let catalog = seedrig::fixture::load_default(root()).unwrap().catalog;
    let scenario = &catalog.scenarios["weights-signal"];
    let at_fixture_site =
        seedrig::method::expect(&seedrig::method::ScenarioView::from_catalog(&catalog, scenario).unwrap());
    assert_eq!(at_fixture_site.attempt_order(), ["telekom-de-2", "ee-uk-1"]);
    let order = by_name("weights-signal").checks.iter().find(|c| c.name == "attempt_order").unwrap();
    assert!(order.expected.starts_with("telekom-de-2, o2-de-1"), "{}", order.expected);
}
