//! A lab's hooks end to end: the emulated lab (`seedrig sim lab`) driven by `seedrig run` in a
//! process of its own, its `network.set_site` hook wrapped in a shell that leaves a `sleep` of
//! its own running. Each hook runs in a process group of its own, and the whole group is killed
//! at the scenario's end, when the run stops on SIGTERM (a hook under way at the signal is
//! killed at once), and — after a SIGKILL of the run — by the next run's start.
//!
//! The labs take turns (each is a whole world on a 2-core machine).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static ONE_LAB_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    ONE_LAB_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn seedrig() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedrig"));
    cmd.arg("--fixtures").arg(root().join("fixtures")).current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// A running emulated lab; stopped (Ctrl-C) when dropped.
struct Lab {
    child: Child,
    rig: PathBuf,
    dir: tempfile::TempDir,
}

impl Lab {
    fn up() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let rig = dir.path().join("lab.toml");
        let mut child = seedrig()
            .args(["sim", "lab", "--slots", "3", "--rig-out"])
            .arg(&rig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        assert!(first.starts_with("rig file"), "the lab did not come up: {first:?}");
        Lab { child, rig, dir }
    }

    /// The lab's rig file as bench `<name>-<pid>` (its lock is this test's alone), its
    /// `network.set_site` run as `sh -c script sh <the lab's own set_site command...>` (so
    /// `exec "$@"` in the script does what the lab's hook does) with `timeout_s`.
    fn rig_with_set_site(&self, name: &str, script: &str, timeout_s: u64) -> Bench {
        let name = format!("{name}-{}", std::process::id());
        let text = std::fs::read_to_string(&self.rig).unwrap();
        let line = text.lines().find(|l| l.starts_with("set_site = { run = [")).expect("a set_site hook");
        let own =
            line.trim_start_matches("set_site = { run = [").trim_end_matches(" }").trim_end_matches(']');
        assert!(!script.contains('\''), "a TOML literal string: {script}");
        let wrapped = format!(
            "set_site = {{ run = [\"sh\", \"-c\", '{script}', \"sh\", {own}], timeout_s = {timeout_s} }}"
        );
        let text =
            text.replace(line, &wrapped).replace("name = \"emulated-lab\"", &format!("name = \"{name}\""));
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        let lock_file = seedrig::bench::lock::lock_dir().join(format!("seedrig-lock-bench-{name}.lock"));
        Bench { path, lock_file }
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

/// A rig file of the lab under a name of its own; its lock file goes when dropped (nobody
/// else knows the name).
struct Bench {
    path: PathBuf,
    lock_file: PathBuf,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock_file);
    }
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

    /// Waits for the hook to write them.
    fn wait(&mut self, within: Duration) -> Vec<u32> {
        let until = Instant::now() + within;
        loop {
            let text = std::fs::read_to_string(&self.file).unwrap_or_default();
            if text.ends_with('\n') {
                self.seen = text.split_whitespace().map(|p| p.parse().unwrap()).collect();
                return self.seen.clone();
            }
            assert!(Instant::now() < until, "the hook never wrote {}", self.file.display());
            std::thread::sleep(Duration::from_millis(20));
        }
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

/// Whether process `pid` is gone (a zombie nobody reaped yet counts as gone).
fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().next()) == Some("Z"))
        .unwrap_or(true)
}

/// Polls `done` until it holds, failing with `why` after `within`.
fn wait_until(within: Duration, why: &str, done: impl Fn() -> bool) {
    let until = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < until, "{why}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `args` on `rig`: the output and each scenario's (verdict, reason).
fn run(rig: &Path, args: &[&str]) -> (Output, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let out = seedrig()
        .args(["run", "--rig"])
        .arg(rig)
        .arg("--results-json")
        .arg(&results)
        .args(args)
        .output()
        .unwrap();
    (out, verdicts(&results))
}

fn verdicts(results: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(results).unwrap_or_else(|_| "[]".into());
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    parsed
        .iter()
        .map(|r| {
            (
                r["verdict"]["verdict"].as_str().unwrap_or_default().to_owned(),
                r["verdict"]["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn what_a_hook_leaves_running_dies_at_the_scenarios_end() {
    let _turn = turn();
    let lab = Lab::up();
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Pids::in_dir(dir.path());
    // The hook does its work and leaves a helper running (whose stdout and stderr it shares).
    let script = format!("sleep 300 & echo $$ $! > {}; exec \"$@\"", pids.file.display());
    let bench = lab.rig_with_set_site("hooks-scenario-end", &script, 30);
    let (out, results) = run(&bench.path, &["master-connects", "--exact"]);
    let background = pids.wait(Duration::from_secs(1))[1];
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        results.first().map(|r| r.0.as_str()),
        Some("pass"),
        "a helper left running does not hold the hook up: {results:?}\n{stdout}"
    );
    wait_until(Duration::from_secs(3), "the hook's background `sleep` outlived the scenario", || {
        gone(background)
    });
}

#[test]
fn a_hook_under_way_at_sigterm_is_killed_with_its_group() {
    let _turn = turn();
    let lab = Lab::up();
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Pids::in_dir(dir.path());
    // A hook that hangs (well within its 120 s), with a helper of its own.
    let script = format!("sleep 300 & echo $$ $! > {}; exec sleep 299", pids.file.display());
    let bench = lab.rig_with_set_site("hooks-sigterm", &script, 120);
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
    let (verdict, reason) = results.first().cloned().unwrap_or_default();
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
    let _turn = turn();
    let lab = Lab::up();
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Pids::in_dir(dir.path());
    let script = format!("sleep 300 & echo $$ $! > {}; exec sleep 299", pids.file.display());
    let bench = lab.rig_with_set_site("hooks-sigkill", &script, 120);
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
    let plain = lab.rig_with_set_site("hooks-sigkill-next", "exec \"$@\"", 30);
    let _ = run(&plain.path, &["master-connects", "--exact"]);
    wait_until(Duration::from_secs(3), "the killed run's hook helper survived the next run's start", || {
        gone(background)
    });
}
