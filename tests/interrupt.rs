//! Stopping `seedrig run` the ways CI does: SIGINT or SIGTERM end the scenario under way as an
//! error, take the bench down, write the reports of what ran and exit 130 / 143 within 2 s; a
//! second SIGINT exits at once; `--jobs` workers stop with their parent; after a SIGKILL nothing
//! of the run is left running and the next run removes its temporary files.
//!
//! The runs take turns at the virtual bench, across test processes too: each looks for its own
//! processes among all of the machine's, and must stop within its time.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Lines, VIRTUAL_BENCH, live_processes, poll_until, root, seedrig, turn, wait_exit, wait_until};

mod common;

fn start(args: &[&str], out: &Path) -> Child {
    command(args, out).spawn().unwrap()
}

/// `seedrig run` on the virtual bench with `args`, its JUnit report in `out`.
fn command(args: &[&str], out: &Path) -> Command {
    let mut command = seedrig();
    command
        .arg("run")
        .arg("--rig")
        .arg(root().join("rig/virtual.toml"))
        .arg("--junit")
        .arg(out.join("junit.xml"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn signal(child: &Child, name: &str) {
    assert!(Command::new("kill").args(["-s", name, &child.id().to_string()]).status().unwrap().success());
}

/// Waits until the run has finished at least one scenario and is in the next (its stdout has a
/// verdict line); returns what it printed so far.
fn wait_for_first_verdict(child: &mut Child) -> String {
    // The rest of stdout is read (and dropped) on the side.
    Lines::of(child.stdout.take().unwrap()).next_within(Duration::from_secs(30)).expect("a first verdict")
}

/// Processes whose command line mentions one of this run's temporary names.
fn processes_of(pid: u32) -> Vec<String> {
    let marks =
        [format!("seedrig-bench-{pid}-"), format!("seedrig-pcscd-{pid}-"), format!("seedrig-jobs-{pid}-")];
    live_processes(|cmdline| marks.iter().any(|m| cmdline.contains(m.as_str())))
}

fn temp_files_of(pid: u32) -> Vec<PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("seedrig-")
                && (name.contains(&format!("-{pid}-")) || name.contains(&format!("-{pid}.")))
        })
        .collect()
}

#[test]
fn sigint_ends_the_scenario_as_an_error_writes_the_reports_and_exits_130_within_2_s() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let mut run = start(&["--jobs", "1"], out.path());
    let pid = run.id();
    let first = wait_for_first_verdict(&mut run);
    assert!(first.starts_with("PASS"), "{first}");
    signal(&run, "INT");
    let sent = Instant::now();
    let status = wait_exit(&mut run, Duration::from_secs(5)).expect("the run exits");
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(status.code(), Some(130));
    let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    assert!(junit.matches("<testcase").count() >= 2, "{junit}");
    assert!(junit.contains("interrupted by SIGINT"), "{junit}");
    assert!(processes_of(pid).is_empty(), "{:?}", processes_of(pid));
    assert!(temp_files_of(pid).is_empty(), "{:?}", temp_files_of(pid));
}

#[test]
fn sigterm_exits_143_and_a_second_sigint_exits_at_once() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let mut run = start(&["all-exhausted", "master-reject", "--exact", "--jobs", "1"], out.path());
    wait_for_first_verdict(&mut run);
    signal(&run, "TERM");
    assert_eq!(wait_exit(&mut run, Duration::from_secs(5)).and_then(|s| s.code()), Some(143));

    let mut run = start(&["--jobs", "1"], out.path());
    let pid = run.id();
    wait_for_first_verdict(&mut run);
    signal(&run, "INT");
    signal(&run, "INT");
    assert_eq!(wait_exit(&mut run, Duration::from_secs(2)).and_then(|s| s.code()), Some(130));
    // Its children die with it (parent-death signals), within 2 s.
    poll_until(Duration::from_secs(2), || processes_of(pid).is_empty());
    assert!(processes_of(pid).is_empty(), "{:?}", processes_of(pid));
}

#[test]
fn job_workers_stop_with_their_parent() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let mut run = start(&["--jobs", "2"], out.path());
    let pid = run.id();
    // Both jobs in their scenarios: one has handed back its first.
    wait_for_first_verdict(&mut run);
    signal(&run, "TERM");
    let status = wait_exit(&mut run, Duration::from_secs(5)).expect("the run exits");
    assert_eq!(status.code(), Some(143));
    // The jobs got the same signal and handed back what they had run.
    let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    assert!(junit.contains("interrupted by SIGTERM"), "{junit}");
    poll_until(Duration::from_secs(2), || processes_of(pid).is_empty());
    assert!(processes_of(pid).is_empty(), "{:?}", processes_of(pid));
}

/// A terminal's Ctrl-C goes to the whole foreground process group. A parallel run (the default
/// on a multi-core machine) passes it on to its jobs once: they end their scenarios as
/// interrupted and hand back what they ran, instead of quitting at a second SIGINT.
#[test]
fn ctrl_c_to_the_process_group_of_a_parallel_run_keeps_every_jobs_results() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let mut run = command(&["--jobs", "2"], out.path()).process_group(0).spawn().unwrap();
    let pid = run.id();
    wait_for_first_verdict(&mut run);
    let group = format!("-{pid}");
    assert!(Command::new("kill").args(["-s", "INT", "--", &group]).status().unwrap().success());
    let status = wait_exit(&mut run, Duration::from_secs(5)).expect("the run exits");
    assert_eq!(status.code(), Some(130));
    let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    // Both jobs were in a scenario: each ends it as interrupted, and the finished ones stay.
    assert_eq!(junit.matches("interrupted by SIGINT").count(), 2, "{junit}");
    assert!(junit.matches("<testcase").count() >= 3, "{junit}");
    poll_until(Duration::from_secs(2), || processes_of(pid).is_empty());
    assert!(processes_of(pid).is_empty(), "{:?}", processes_of(pid));
}

#[test]
fn after_a_sigkill_nothing_runs_on_and_the_next_run_removes_the_leftovers() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let mut run = start(&["--jobs", "1"], out.path());
    let pid = run.id();
    wait_for_first_verdict(&mut run);
    wait_until(Duration::from_secs(10), "the run has no temporary file to leave behind", || {
        !temp_files_of(pid).is_empty()
    });
    run.kill().unwrap();
    run.wait().unwrap();
    poll_until(Duration::from_secs(2), || processes_of(pid).is_empty());
    assert!(processes_of(pid).is_empty(), "still running: {:?}", processes_of(pid));
    // A killed run cannot clean up after itself; the next one does.
    assert!(!temp_files_of(pid).is_empty(), "the killed run's bench left nothing to clean up: kill it later");
    let mut next = start(&["master-connects", "--exact"], out.path());
    let status = wait_exit(&mut next, Duration::from_secs(60)).expect("the next run ends");
    assert!(status.success());
    assert!(temp_files_of(pid).is_empty(), "{:?}", temp_files_of(pid));
}
