//! A lab's hooks end to end: the emulated lab (`seedrig sim lab`) driven by `seedrig run` in a
//! process of its own, its `network.set_site` hook wrapped in a shell that leaves a `sleep` of
//! its own running. Each hook runs in a process group of its own, and the whole group is killed
//! at the scenario's end, when the run stops on SIGTERM (a hook under way at the signal is
//! killed at once), and — after a SIGKILL of the run — by the next run's start.
//!
//! The labs take turns, across test processes too (each is a whole world on a 2-core machine):
//! [`common::Lab`] holds the `emulated-lab` turn while it is up.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Bench, Lab, gone, run, seedrig, verdicts, wait_until};

mod common;

/// The lab's rig file as bench `<name>-<pid>` (its lock is this test's alone), its
/// `network.set_site` run as `sh -c script sh <the lab's own set_site command...>` (so
/// `exec "$@"` in the script does what the lab's hook does) with `timeout_s`.
fn rig_with_set_site(lab: &Lab, name: &str, script: &str, timeout_s: u64) -> Bench {
    let text = lab.text();
    let line = text.lines().find(|l| l.starts_with("set_site = { run = [")).expect("a set_site hook");
    let own = line.trim_start_matches("set_site = { run = [").trim_end_matches(" }").trim_end_matches(']');
    assert!(!script.contains('\''), "a TOML literal string: {script}");
    let wrapped = format!(
        "set_site = {{ run = [\"sh\", \"-c\", '{script}', \"sh\", {own}], timeout_s = {timeout_s} }}"
    );
    lab.renamed(name, |text| text.replace(line, &wrapped))
}

/// The pids a hook wrote into a file (`$$ $!`: the hook, its background `sleep`); each killed
/// when dropped, should a test fail before the rig did.
struct Pids {
    file: PathBuf,
    seen: Vec<u32>,
}

impl Pids {
    fn in_dir(dir: &Path) -> Pids {
        Pids { file: dir.join("pids"), seen: Vec::new() }
    }

    /// Waits for the hook to write them (a whole line).
    fn wait(&mut self, within: Duration) -> Vec<u32> {
        let mut text = String::new();
        wait_until(within, &format!("the hook never wrote {}", self.file.display()), || {
            text = std::fs::read_to_string(&self.file).unwrap_or_default();
            text.ends_with('\n')
        });
        self.seen = text.split_whitespace().map(|p| p.parse().unwrap()).collect();
        self.seen.clone()
    }
}

impl Drop for Pids {
    fn drop(&mut self) {
        for pid in &self.seen {
            if !gone(*pid) {
                let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            }
        }
    }
}

#[test]
fn what_a_hook_leaves_running_dies_at_the_scenarios_end() {
    let lab = Lab::up(&["--slots", "3"]);
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Pids::in_dir(dir.path());
    // The hook does its work and leaves a helper running (whose stdout and stderr it shares).
    let script = format!("sleep 300 & echo $$ $! > {}; exec \"$@\"", pids.file.display());
    let bench = rig_with_set_site(&lab, "hooks-scenario-end", &script, 30);
    let (out, results) = run(&bench.path, &["master-connects", "--exact"]);
    let background = pids.wait(Duration::from_secs(1))[1];
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        results.first().map(|r| r.1.as_str()),
        Some("pass"),
        "a helper left running does not hold the hook up: {results:?}\n{stdout}"
    );
    wait_until(Duration::from_secs(3), "the hook's background `sleep` outlived the scenario", || {
        gone(background)
    });
}

#[test]
fn a_hook_under_way_at_sigterm_is_killed_with_its_group() {
    let lab = Lab::up(&["--slots", "3"]);
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Pids::in_dir(dir.path());
    // A hook that hangs (well within its 120 s), with a helper of its own.
    let script = format!("sleep 300 & echo $$ $! > {}; exec sleep 299", pids.file.display());
    let bench = rig_with_set_site(&lab, "hooks-sigterm", &script, 120);
    let results = dir.path().join("results.json");
    let mut rig_run = seedrig()
        .args(["run", "--rig"])
        .arg(&bench.path)
        .arg("--results-json")
        .arg(&results)
        .args(["master-connects", "--exact"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let hook = pids.wait(Duration::from_secs(30));
    let signalled = Instant::now();
    let _ = Command::new("kill").arg("-TERM").arg(rig_run.id().to_string()).status();
    let status = rig_run.wait().unwrap();
    let took = signalled.elapsed();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut rig_run.stderr.take().unwrap(), &mut stderr);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(took < Duration::from_secs(5), "the run waited for its hook: {took:?}\n{stderr}");
    for pid in hook {
        wait_until(Duration::from_secs(3), &format!("{pid} of the hook's group outlived the run"), || {
            gone(pid)
        });
    }
    let results = verdicts(&results);
    let (_, verdict, reason) = results.first().cloned().unwrap_or_default();
    assert_eq!(verdict, "error", "{results:?}");
    assert!(
        reason.contains(
            "hook network.set_site: `sh` killed with its process group: the rig is stopping (SIGTERM)"
        ),
        "{reason}"
    );
}

#[test]
fn after_a_sigkill_of_the_rig_the_next_run_kills_what_its_hook_left() {
    let lab = Lab::up(&["--slots", "3"]);
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Pids::in_dir(dir.path());
    let script = format!("sleep 300 & echo $$ $! > {}; exec sleep 299", pids.file.display());
    let bench = rig_with_set_site(&lab, "hooks-sigkill", &script, 120);
    let mut rig_run = seedrig()
        .args(["run", "--rig"])
        .arg(&bench.path)
        .args(["master-connects", "--exact"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let hook = pids.wait(Duration::from_secs(30));
    let (leader, background) = (hook[0], hook[1]);
    rig_run.kill().unwrap();
    let _ = rig_run.wait();
    // The hook itself dies with the rig (a parent-death signal); its helper, reparented, is
    // only found through the group the killed run recorded.
    wait_until(Duration::from_secs(3), "the hook outlived a SIGKILL of the rig", || gone(leader));
    assert!(!gone(background), "the helper outlives a SIGKILL of the rig (only the next run can clean up)");
    // The next run's start sweeps the killed run's record of the hook's group.
    let plain = rig_with_set_site(&lab, "hooks-sigkill-next", "exec \"$@\"", 30);
    let _ = run(&plain.path, &["master-connects", "--exact"]);
    wait_until(Duration::from_secs(3), "the killed run's hook helper survived the next run's start", || {
        gone(background)
    });
}
