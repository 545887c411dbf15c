//! The whole virtual world against the reference firmware: cards behind pcscd and the bridge,
//! the simulated network and modem, the firmware as a separate process. For one scenario of
//! each outcome kind, the firmware's console and the network's ground truth must show what the
//! oracle says; each `--fault` mode of the firmware must visibly change its behaviour.
//!
//! One private pcscd per process at a time (libpcsclite binds a process to one socket), so the
//! tests take turns (at the virtual bench: across test processes too).

use std::path::Path;
use std::time::Duration;

use common::{VIRTUAL_BENCH, firmware_binary, reference_firmware, seedrig, starter as fixtures, turn};

use seedrig::bench::virtual_bench::FirmwareLaunch;
use seedrig::bench::{VirtualBench, VirtualBenchOptions};
use seedrig::method::oracle::Outcome;
use seedrig::method::{ScenarioView, expect};
use seedrig::sim::network::TruthKind;
use serde_json::Value;

mod common;

/// What one run showed.
struct Run {
    events: Vec<Value>,
    truth: Vec<seedrig::sim::network::TruthEvent>,
    reports: Vec<seedrig::backend::ReportRecord>,
    /// Seed id by slot, for reading the console.
    seeds: Vec<(u8, String, String)>,
}

impl Run {
    fn of(&self, event: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == event).collect()
    }

    fn seed_of_slot(&self, slot: u64) -> String {
        self.seeds
            .iter()
            .find(|(s, _, _)| u64::from(*s) == slot)
            .map(|(_, id, _)| id.clone())
            .unwrap_or_default()
    }

    fn attempt_order(&self) -> Vec<String> {
        self.of("attempt").iter().map(|e| self.seed_of_slot(e["slot"].as_u64().unwrap())).collect()
    }

    fn imsi_of(&self, seed: &str) -> String {
        self.seeds.iter().find(|(_, id, _)| id == seed).map(|(_, _, imsi)| imsi.clone()).unwrap_or_default()
    }

    fn registered(&self) -> Vec<String> {
        self.truth
            .iter()
            .filter(|t| matches!(t.kind, TruthKind::Registered { .. }))
            .map(|t| t.imsi.clone())
            .collect()
    }
}

/// Runs `scenario` until the firmware says connected (and, then, vsim_assigned) or exhausted,
/// or until `wait` (real time) has passed.
fn run(scenario: &str, fault: Option<&str>, wait: Duration) -> Run {
    let (catalog, rig) = fixtures();
    let scenario = catalog.scenarios[scenario].clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let launch = FirmwareLaunch::Reference { binary: firmware_binary(), fault: fault.map(str::to_owned) };
        let bench = VirtualBench::up(
            &catalog,
            &scenario,
            &rig,
            VirtualBenchOptions { firmware: Some(launch), watch_observer: true },
        )
        .await
        .expect("bench up");
        let mut events = Vec::new();
        let mut pending = String::new();
        let deadline = tokio::time::Instant::now() + wait;
        let mut started = false;
        let mut buf = [0u8; 4096];
        loop {
            let Ok(read) = tokio::time::timeout_at(deadline, bench.console.read(&mut buf)).await else {
                break;
            };
            pending.push_str(&String::from_utf8_lossy(&buf[..read.expect("console read")]));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                let Ok(event) = serde_json::from_str::<Value>(line.trim()) else { continue };
                if event["event"] == "boot" && !started {
                    bench.console_command("start").await.unwrap();
                    started = true;
                }
                events.push(event);
            }
            let done = |name: &str| events.iter().any(|e| e["event"] == name);
            if done("vsim_assigned") || done("exhausted") || (fault == Some("no-report") && done("connected"))
            {
                // Let anything that would follow (a stray attempt) show up.
                tokio::time::sleep(Duration::from_millis(300)).await;
                break;
            }
        }
        let seeds = scenario
            .placements()
            .map(|p| (p.slot, p.seed.clone(), catalog.seeds[&p.seed].imsi.to_string()))
            .collect();
        let run =
            Run { events, truth: bench.network.ground_truth(), reports: bench.backend.reports(), seeds };
        bench.down().await;
        run
    })
}

fn oracle(scenario: &str) -> seedrig::method::Expected {
    let (catalog, _) = fixtures();
    expect(&ScenarioView::from_catalog(&catalog, &catalog.scenarios[scenario]).unwrap())
}

fn assert_as_oracle_says(name: &str, run: &Run) {
    let expected = oracle(name);
    let want: Vec<String> = expected.attempt_order().iter().map(|s| s.to_string()).collect();
    assert_eq!(run.attempt_order(), want, "{name}: attempt order; console: {:#?}", run.events);
    match &expected.outcome {
        Outcome::Winner { seed, .. } => {
            let connected = run.of("connected");
            assert_eq!(connected.len(), 1, "{name}: {:#?}", run.events);
            assert_eq!(run.seed_of_slot(connected[0]["slot"].as_u64().unwrap()), *seed);
            let imsi = run.imsi_of(seed);
            assert_eq!(
                run.registered().last(),
                Some(&imsi),
                "{name}: the network registered the winner last"
            );
            assert!(
                run.reports.iter().any(|r| r.imsi == imsi),
                "{name}: the backend got the report through the winner"
            );
            assert!(!run.of("vsim_assigned").is_empty());
        }
        Outcome::Exhausted { .. } => {
            assert!(!run.of("exhausted").is_empty(), "{name}: {:#?}", run.events);
            assert!(run.of("connected").is_empty());
            assert!(run.registered().is_empty(), "{name}: nobody registered: {:?}", run.truth);
        }
        Outcome::Stalled { .. } => unreachable!("not used here"),
    }
}

#[test]
fn master_wins() {
    let _turn = turn(VIRTUAL_BENCH);
    let run = run("master-connects", None, Duration::from_secs(20));
    assert_as_oracle_says("master-connects", &run);
}

#[test]
fn first_ranked_standby_wins_after_an_explicit_reject() {
    let _turn = turn(VIRTUAL_BENCH);
    let run = run("master-reject", None, Duration::from_secs(20));
    assert_as_oracle_says("master-reject", &run);
    let judged = run.of("judged");
    assert_eq!(judged[0]["explicit"], true, "{judged:?}");
}

#[test]
fn second_ranked_standby_wins_when_the_first_fails_authentication() {
    let _turn = turn(VIRTUAL_BENCH);
    let run = run("standby-faulted-second-wins", None, Duration::from_secs(20));
    assert_as_oracle_says("standby-faulted-second-wins", &run);
}

#[test]
fn third_ranked_standby_wins_after_timeouts() {
    let _turn = turn(VIRTUAL_BENCH);
    let run = run("timeout-third-ranked-wins", None, Duration::from_secs(30));
    assert_as_oracle_says("timeout-third-ranked-wins", &run);
}

#[test]
fn all_seeds_fail_and_the_firmware_says_exhausted() {
    let _turn = turn(VIRTUAL_BENCH);
    let run = run("all-exhausted", None, Duration::from_secs(20));
    assert_as_oracle_says("all-exhausted", &run);
}

#[test]
fn fault_stop_after_master_never_tries_a_standby() {
    let _turn = turn(VIRTUAL_BENCH);
    let good = run("master-reject", None, Duration::from_secs(20));
    let bad = run("master-reject", Some("stop-after-master"), Duration::from_secs(5));
    assert!(good.attempt_order().len() >= 2);
    assert_eq!(bad.attempt_order().len(), 1, "{:#?}", bad.events);
}

#[test]
fn fault_wrong_order_and_signal_only_change_the_attempt_order() {
    let _turn = turn(VIRTUAL_BENCH);
    let good = run("m5-third-ranked-wins", None, Duration::from_secs(30));
    let wrong = run("m5-third-ranked-wins", Some("wrong-order"), Duration::from_secs(30));
    assert_ne!(good.attempt_order(), wrong.attempt_order());
    let good = run("weights-tariff", None, Duration::from_secs(20));
    let signal_only = run("weights-tariff", Some("signal-only"), Duration::from_secs(20));
    assert_ne!(good.attempt_order(), signal_only.attempt_order());
}

#[test]
fn fault_ignore_timeout_hangs_on_a_silent_master() {
    let _turn = turn(VIRTUAL_BENCH);
    let good = run("master-silent-timeout", None, Duration::from_secs(20));
    assert!(good.attempt_order().len() >= 2);
    // T = 30 s nominal = 0.3 s real; give it ten times that.
    let bad = run("master-silent-timeout", Some("ignore-timeout"), Duration::from_secs(3));
    assert_eq!(bad.attempt_order().len(), 1, "{:#?}", bad.events);
}

#[test]
fn fault_no_report_connects_but_never_reports() {
    let _turn = turn(VIRTUAL_BENCH);
    let bad = run("master-connects", Some("no-report"), Duration::from_secs(20));
    assert_eq!(bad.of("connected").len(), 1, "{:#?}", bad.events);
    assert!(bad.reports.is_empty());
}

#[test]
fn nothing_is_left_behind_after_the_bench_goes_down() {
    let _turn = turn(VIRTUAL_BENCH);
    let (catalog, rig) = fixtures();
    let scenario = catalog.scenarios["master-connects"].clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (paths, firmware_pid, pcscd_pid) = runtime.block_on(async {
        let launch = FirmwareLaunch::Reference { binary: firmware_binary(), fault: None };
        let mut bench = VirtualBench::up(
            &catalog,
            &scenario,
            &rig,
            VirtualBenchOptions { firmware: Some(launch), watch_observer: true },
        )
        .await
        .unwrap();
        let paths = bench.paths().clone();
        let firmware_pid = bench.firmware_pid().unwrap();
        let pcscd_pid = bench.pcscd_mut().unwrap().pid();
        for s in &paths.slots {
            assert!(s.card_emulation_socket.exists());
        }
        bench.down().await;
        (paths, firmware_pid, pcscd_pid)
    });
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    assert!(!alive(firmware_pid), "firmware {firmware_pid} still running");
    assert!(!alive(pcscd_pid), "pcscd {pcscd_pid} still running");
    assert!(!paths.pcsc_socket.exists(), "PC/SC socket left behind");
    assert!(!paths.firmware_config.exists(), "bench folder left behind");
    for s in &paths.slots {
        assert!(
            !s.card_emulation_socket.exists(),
            "slot socket {} left behind",
            s.card_emulation_socket.display()
        );
    }
    for pty in [&paths.firmware_at_port, &paths.observer_at_port, &paths.console] {
        assert!(!pty.exists(), "pseudo-terminal {} left behind", pty.display());
    }
}

#[test]
fn sim_up_prints_the_paths_and_runs_until_ctrl_c() {
    let _turn = turn(VIRTUAL_BENCH);
    use std::io::{BufRead, BufReader, Write};
    let mut child = seedrig()
        .args(["sim", "up", "master-reject", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let paths: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    for key in ["firmware_at_port", "observer_at_port", "console", "pcsc_socket"] {
        assert!(paths[key].as_str().is_some_and(|p| Path::new(p).exists()), "{key}: {paths}");
    }
    // Start the firmware through its console and watch it connect.
    let console = paths["console"].as_str().unwrap();
    let mut tty = std::fs::OpenOptions::new().read(true).write(true).open(console).unwrap();
    tty.write_all(b"start\n").unwrap();
    let mut reader = BufReader::new(tty.try_clone().unwrap());
    let mut connected = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut line = String::new();
    while std::time::Instant::now() < deadline && !connected {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        connected = line.contains("\"vsim_assigned\"");
    }
    drop(reader);
    drop(tty);
    // Our own child, which has not been waited for.
    let pid = rustix::process::Pid::from_child(&child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
    let status = child.wait().unwrap();
    assert!(connected, "the firmware never got its VSIM");
    assert!(status.success(), "{status}");
    assert!(!Path::new(paths["pcsc_socket"].as_str().unwrap()).exists());
}

#[test]
fn a_scenario_whose_pcscd_is_killed_is_an_error_and_the_next_one_passes() {
    use seedrig::run::{Sabotage, Verdict, run_scenario};
    let _turn = turn(VIRTUAL_BENCH);
    let (catalog, rig) = fixtures();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sabotaged = reference_firmware(None, Some(Sabotage::KillPcscdAfter(Duration::ZERO)));
    let broken =
        runtime.block_on(run_scenario(&catalog, &catalog.scenarios["master-reject"], &rig, &sabotaged));
    assert!(
        matches!(&broken.verdict, Verdict::Error(reason) if reason.starts_with("pcscd (pid ") && reason.contains(" died")),
        "{:?}",
        broken.verdict
    );
    let healthy = reference_firmware(None, None);
    let next =
        runtime.block_on(run_scenario(&catalog, &catalog.scenarios["master-connects"], &rig, &healthy));
    assert_eq!(next.verdict, Verdict::Pass, "{:?}", next.failures());
}

/// A hung pcscd (SIGSTOP) makes the card look mute to the modem, and the firmware would carry
/// on as with a broken card; the rig sees its own PC/SC call not return and makes it an error
/// naming pcscd, never a firmware failure.
#[test]
fn a_hung_pcscd_is_an_error_naming_pcscd_not_a_firmware_failure() {
    use seedrig::run::{Sabotage, Verdict, run_scenario};
    let _turn = turn(VIRTUAL_BENCH);
    let (catalog, rig) = fixtures();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = reference_firmware(None, Some(Sabotage::FreezePcscdAfter(Duration::ZERO)));
    let started = std::time::Instant::now();
    let result =
        runtime.block_on(run_scenario(&catalog, &catalog.scenarios["m5-third-ranked-wins"], &rig, &options));
    let Verdict::Error(reason) = &result.verdict else {
        panic!("{:?} {:?}", result.verdict, result.failures())
    };
    assert!(reason.contains("pcscd (pid ") && reason.contains("has not answered a PC/SC call"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    let healthy = reference_firmware(None, None);
    let next =
        runtime.block_on(run_scenario(&catalog, &catalog.scenarios["master-connects"], &rig, &healthy));
    assert_eq!(next.verdict, Verdict::Pass, "{:?}", next.failures());
}

#[test]
fn a_faulty_firmware_fails_with_the_check_and_expected_vs_observed() {
    use seedrig::run::{Verdict, run_scenario};
    let _turn = turn(VIRTUAL_BENCH);
    let (catalog, rig) = fixtures();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = reference_firmware(Some("wrong-order"), None);
    let result =
        runtime.block_on(run_scenario(&catalog, &catalog.scenarios["m5-third-ranked-wins"], &rig, &options));
    assert_eq!(result.verdict, Verdict::Fail);
    let failures = result.failures();
    assert!(
        failures.iter().any(|f| f.starts_with("attempt_order: expected ") && f.contains(", observed ")),
        "{failures:?}"
    );
}
