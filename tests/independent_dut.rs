//! A firmware team's route in: a virtual rig file's `[dut]` names the device under test.
//!
//! - The independent failover daemon in examples/failover-dut (Python, written from the docs
//!   alone: its own log lines, its own ranking) passes the whole starter suite on the virtual
//!   bench, and through the lab driver in the emulated lab (`sim lab --rig`).
//! - A `[dut] command` that cannot start, exits, or never prints its boot line is an ERROR naming
//!   the command and the end of its output, and the next scenario still runs.
//! - The DUT's whole process group dies at the scenario's end.
//!
//! The tests take turns at the virtual bench, across test processes too: each runs whole suites
//! or worlds, and a 2-core machine running two at once is a loaded bench (its timing checks
//! would judge the load).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{Lab, VIRTUAL_BENCH, root, run, seedrig, turn, wait_until};

mod common;

fn all_pass(out: &Output, rows: &[(String, String, String)]) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(rows.len() >= 32, "the whole starter suite ran: {stdout}");
    let wrong: Vec<&(String, String, String)> = rows.iter().filter(|(_, v, _)| v != "pass").collect();
    assert!(wrong.is_empty(), "every scenario passes: {wrong:?}\n{stdout}");
}

#[test]
fn the_independent_firmware_passes_the_starter_suite_on_the_virtual_bench() {
    let _turn = turn(VIRTUAL_BENCH);
    // A bench error on a loaded machine is tried again, as a pipeline does; a failure never is.
    let (out, rows) = run(&root().join("examples/failover-dut/virtual.toml"), &["--retry-errors", "2"]);
    all_pass(&out, &rows);
}

#[test]
fn the_independent_firmware_passes_the_starter_suite_in_the_emulated_lab() {
    let _turn = turn(VIRTUAL_BENCH);
    let lab = Lab::up(&["--rig", "examples/failover-dut/virtual.toml"]);
    let text = lab.text();
    assert!(
        text.contains("format = \"patterns\""),
        "the lab's rig file reads the DUT's own log lines:\n{text}"
    );
    let (out, rows) = run(&lab.rig, &["--jobs", "1", "--retry-errors", "2"]);
    drop(lab);
    all_pass(&out, &rows);
}

/// A virtual rig file whose DUT is `command`.
fn rig_with(dir: &Path, command: &[&str], boot_timeout_s: u64) -> PathBuf {
    let quoted: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        "kind = \"virtual\"\nname = \"broken-dut\"\nslots = 6\ntime_scale = 0.05\n[dut]\ncommand = [{}]\nboot_timeout_s = {boot_timeout_s}\n",
        quoted.join(", ")
    );
    let path = dir.join("rig.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_dut_command_that_cannot_start_exits_or_never_boots_is_an_error_naming_it() {
    let _turn = turn(VIRTUAL_BENCH);
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["/nonexistent/failoverd", "{config}"], "cannot start `/nonexistent/failoverd"),
        (&["sh", "-c", "echo cannot open modem port >&2; exit 3", "{config}"], "cannot open modem port"),
        (&["sh", "-c", "echo starting up; exec sleep 60", "{config}"], "no `boot` on its console"),
    ];
    for (command, says) in cases {
        let rig = rig_with(dir.path(), command, 1);
        let (out, rows) = run(&rig, &["master-connects", "master-reject", "--exact", "--jobs", "1"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "bench errors only: {stdout}");
        assert_eq!(rows.len(), 2, "the next scenario still ran: {stdout}");
        for (name, verdict, reason) in &rows {
            assert_eq!(verdict, "error", "{name}: {reason}");
            assert!(reason.contains(says), "{name}: {reason:?} should say {says:?}");
        }
    }
    // The exit's and the silent boot's messages quote the command and what it printed.
    let rig = rig_with(dir.path(), &["sh", "-c", "echo cannot open modem port >&2; exit 3", "{config}"], 1);
    let (_, rows) = run(&rig, &["master-connects", "--exact"]);
    assert!(rows[0].2.contains("`sh -c"), "{:?}", rows[0]);
    assert!(rows[0].2.contains("exit status: 3"), "{:?}", rows[0]);
    // What it printed is quoted with its secrets masked, as in the console log.
    let leaky = "echo 'pin = 4711'; echo 'opc: 000102030405060708090a0b0c0d0e0f'; exit 3";
    let rig = rig_with(dir.path(), &["sh", "-c", leaky, "{config}"], 1);
    let (out, rows) = run(&rig, &["master-connects", "--exact"]);
    let everything =
        format!("{}{}{:?}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr), rows);
    assert!(rows[0].2.contains("pin = "), "{:?}", rows[0]);
    for secret in ["4711", "000102030405060708090a0b0c0d0e0f"] {
        assert!(!everything.contains(secret), "{secret} leaked: {everything}");
    }
}

#[test]
fn the_dut_process_group_dies_with_the_scenario() {
    let _turn = turn(VIRTUAL_BENCH);
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("seedrig-dut-child-{}", std::process::id());
    // A wrapper that leaves a child of its own running (a helper a real daemon might start),
    // then never boots.
    let script = format!("(exec -a {marker}-helper sleep 300) & exec -a {marker} sleep 301");
    let rig = rig_with(dir.path(), &["bash", "-c", &script, "{config}"], 1);
    let (_, rows) = run(&rig, &["master-connects", "--exact"]);
    assert_eq!(rows[0].1, "error", "{rows:?}");
    // The marker names both the wrapper and its helper.
    wait_until(Duration::from_secs(3), "the DUT's process group outlived its scenario", || !running(&marker));
}

/// Whether a process whose command line holds `marker` runs.
fn running(marker: &str) -> bool {
    Command::new("pgrep").args(["-f", marker]).output().unwrap().status.success()
}

/// After a SIGKILL of the rig, what its DUT started is killed by the next run's start (the
/// DUT itself dies with the rig; the rest of its process group is found from the record the
/// killed run left in its bench folder).
#[test]
fn after_a_sigkill_of_the_rig_the_next_run_kills_what_its_dut_left() {
    let _turn = turn(VIRTUAL_BENCH);
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("seedrig-dut-orphan-{}", std::process::id());
    let itself = format!("seedrig-dut-leader-{}", std::process::id());
    // A DUT that starts a helper of its own, then never boots (the rig waits for it).
    let script = format!("(exec -a {marker} sleep 300) & exec -a {itself} sleep 299");
    let rig = rig_with(dir.path(), &["bash", "-c", &script, "{config}"], 60);
    let mut rig_run = seedrig()
        .args(["run", "--rig"])
        .arg(&rig)
        .args(["master-connects", "--exact"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(Duration::from_secs(20), "the DUT's helper never started", || running(&marker));
    rig_run.kill().unwrap();
    let _ = rig_run.wait();
    // The DUT itself dies with the rig (a parent-death signal); its helper, reparented, is
    // only found through the group the killed run recorded.
    wait_until(Duration::from_secs(3), "the DUT outlived a SIGKILL of the rig", || !running(&itself));
    assert!(running(&marker), "the helper outlives a SIGKILL of the rig (only the next run can clean up)");
    // The next run's start sweeps the killed run's bench folder and its process group.
    let (_, rows) = run(&root().join("rig/virtual.toml"), &["master-connects", "--exact"]);
    assert_eq!(rows.len(), 1);
    wait_until(Duration::from_secs(3), "the killed run's DUT helper survived the next run's start", || {
        !running(&marker)
    });
}
