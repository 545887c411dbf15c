//! The lab driver end to end, without hardware: `seedrig sim lab` brings the virtual world up
//! as a lab presents itself (serial devices, card-emulation sockets, a pcscd, hooks) in a
//! process of its own, and `seedrig run --rig <its rig file>` drives it through the lab driver
//! only, in another process — as on a real bench.
//!
//! The labs take turns (each is a whole world on a 2-core machine, and the runs are timed).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use seedrig::run::{ScenarioResult, Verdict};

static ONE_LAB_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    ONE_LAB_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn seedrig() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedrig"));
    cmd.arg("--fixtures").arg(root().join("fixtures"));
    cmd
}

/// A running emulated lab; stopped (Ctrl-C) when dropped.
struct Lab {
    child: Child,
    rig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn up(flags: &[&str]) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let rig = dir.path().join("lab.toml");
        let mut child = seedrig()
            .args(["sim", "lab", "--rig-out"])
            .arg(&rig)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // The lab prints the rig file's path once the file is complete; the rest of what it
        // prints is read (and dropped) on the side, as a terminal would.
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        assert!(first.starts_with("rig file"), "the lab did not come up: {first:?}");
        assert!(rig.is_file());
        Lab { child, rig, _dir: dir }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.rig).unwrap()
    }

    /// A path the rig file gives for `key` (the first `key = "..."` line).
    fn path_of(&self, key: &str) -> PathBuf {
        let text = self.text();
        let line = text.lines().find(|l| l.starts_with(&format!("{key} = \""))).unwrap();
        PathBuf::from(line.split('"').nth(1).unwrap())
    }

    /// `seedrig sim dut --control <socket> <args>`.
    fn dut(&self, args: &[&str]) {
        let control = self.control();
        let status = seedrig().args(["sim", "dut", "--control"]).arg(&control).args(args).status().unwrap();
        assert!(status.success(), "sim dut {args:?}");
    }

    fn control(&self) -> PathBuf {
        self.path_of("console").with_file_name("control.sock")
    }

    /// Runs scenarios on the lab: its output and the results.
    fn run(&self, args: &[&str]) -> (Output, Vec<ScenarioResult>, String) {
        let out = tempfile::tempdir().unwrap();
        let results = out.path().join("results.json");
        let junit = out.path().join("junit.xml");
        let output = seedrig()
            .args(["run", "--rig"])
            .arg(&self.rig)
            .arg("--results-json")
            .arg(&results)
            .arg("--junit")
            .arg(&junit)
            .args(args)
            .output()
            .unwrap();
        let parsed =
            serde_json::from_str(&std::fs::read_to_string(&results).unwrap_or_default()).unwrap_or_default();
        (output, parsed, std::fs::read_to_string(&junit).unwrap_or_default())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn verdicts(results: &[ScenarioResult]) -> Vec<(String, Verdict)> {
    results.iter().map(|r| (r.scenario.clone(), r.verdict.clone())).collect()
}

/// Every starter scenario passes on the virtual bench (tests/scenarios.rs); through the lab
/// driver each must get that same verdict.
#[test]
fn the_starter_suite_passes_through_the_lab_driver() {
    let _turn = turn();
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
    let _turn = turn();
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
    let _turn = turn();
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
    let _turn = turn();
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
    let _turn = turn();
    let lab = Lab::up(&["--time-scale", "0.2"]);
    let config = lab.path_of("console").with_file_name("firmware.toml");
    let rig = lab.rig.clone();
    let results = tempfile::tempdir().unwrap();
    let results_json = results.path().join("r.json");
    let run = seedrig()
        .args(["run", "--rig"])
        .arg(&rig)
        .arg("--results-json")
        .arg(&results_json)
        .args(["--exact", "all-exhausted", "master-connects"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // all-exhausted runs for about 4 s here; its bring-up writes the DUT's configuration.
    let until = Instant::now() + Duration::from_secs(20);
    while !config.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));
    lab.dut(&["unplug"]);
    std::thread::sleep(Duration::from_millis(300));
    lab.dut(&["replug"]);
    let output = run.wait_with_output().unwrap();
    let parsed: Vec<ScenarioResult> =
        serde_json::from_str(&std::fs::read_to_string(&results_json).unwrap()).unwrap();
    let text = stdout(&output);
    let Verdict::Error(why) = &parsed[0].verdict else { panic!("all-exhausted: {text}") };
    assert!(why.contains("DUT console") && why.contains("dut-console"), "{why}");
    assert_eq!(parsed[1].verdict, Verdict::Pass, "{text}");
    // A bench error and no failure: exit 3, the lab's to act on.
    assert_eq!(output.status.code(), Some(3));
}

/// A lab without a test network (`site = "measured"`): the rig scans the cells with the
/// observer and the oracle ranks on them; scenarios needing network faults are skipped.
#[test]
fn a_measured_network_is_scanned_and_ranked_on() {
    let _turn = turn();
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
