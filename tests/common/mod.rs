//! What the integration tests share; each test file says `mod common;` and uses a part of it.
//!
//! - [`seedrig`], [`seedrig_in`]: the program under test as a command; [`stdout`], [`stderr`]
//!   and [`shown`] for what it printed; [`run`] and [`verdicts`] for a run's `--results-json`.
//! - [`turn`]: one test at a time at a resource tests share (an emulated lab, a virtual bench on
//!   a machine with few cores), across processes. `cargo test` runs a file's tests as threads of
//!   one process, `cargo nextest run` runs each test in a process of its own; the turn is an
//!   exclusive `flock(2)`, so it serialises the same tests under both. `.config/nextest.toml`
//!   puts those tests in test groups of the same names, so that nextest does not even start
//!   them side by side.
//! - [`Lab`]: an emulated lab (`seedrig sim lab`), which holds the `emulated-lab` turn while it
//!   is up and is stopped when dropped; [`Bench`], its rig file under a bench name of its own.
//! - [`wait_until`], [`poll_until`], [`wait_for_file`], [`wait_exit`], [`Lines`]: waits on an
//!   event (a condition, a file appearing, a process exiting, a line printed) with a deadline,
//!   in place of fixed sleeps; [`gone`] and [`live_processes`] to look for processes.
//! - [`copy_tree`], [`corpus_base`], [`made_once`], [`starter`], [`reference_firmware`]:
//!   fixture trees and folders to work in, the starter fixtures on the virtual bench, and the
//!   options of a run of the reference firmware.

// Each test file uses a part of this module; the rest is not dead code there.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use seedrig::model::{Catalog, Rig};
use seedrig::run::{RunOptions, Sabotage, ScenarioResult};

/// The repository (the package's root): the starter fixtures, rig files and examples.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The folder cargo gives integration tests for files of their own (`target/tmp`), shared by
/// every test binary of this target folder.
pub fn target_tmp() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

// ---------------------------------------------------------------------------------------------
// The programs under test

/// `seedrig --fixtures <the starter fixtures>`, run in the repository, without colour.
pub fn seedrig() -> Command {
    let mut cmd = seedrig_in(root());
    cmd.arg("--fixtures").arg(root().join("fixtures"));
    cmd
}

/// `seedrig` run in `dir` (it finds fixtures/ and rig/ there), without colour.
pub fn seedrig_in(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedrig"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

/// The reference firmware's program.
pub fn firmware_binary() -> PathBuf {
    env!("CARGO_BIN_EXE_seedrig-firmware").into()
}

/// Run options for the reference firmware, with a `fault` of its own and the bench broken by
/// `sabotage` if asked.
pub fn reference_firmware(fault: Option<&str>, sabotage: Option<Sabotage>) -> RunOptions {
    RunOptions {
        firmware_binary: firmware_binary(),
        fault: fault.map(str::to_owned),
        sabotage,
        stop: Default::default(),
    }
}

/// The starter fixtures (which must have no mistake) and their virtual bench.
pub fn starter() -> (Catalog, Rig) {
    let loaded = seedrig::fixture::load_default(root()).unwrap();
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.diagnostics.render(false));
    let rig = loaded.catalog.rigs["virtual"].clone();
    (loaded.catalog, rig)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Both streams, labelled: for an assertion's message.
pub fn shown(o: &Output) -> String {
    format!("--- stdout\n{}--- stderr\n{}", stdout(o), stderr(o))
}

/// `seedrig run --rig <rig> <args>` on the starter fixtures: its output and each scenario's
/// (scenario, verdict, reason) from its `--results-json`.
pub fn run(rig: &Path, args: &[&str]) -> (Output, Vec<(String, String, String)>) {
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

/// Each scenario's (scenario, verdict, reason) in a `--results-json` file (none if there is no
/// file): `pass`, `fail`, `error` or `skipped`, and the reason of an error or a skip.
pub fn verdicts(results: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(results).unwrap_or_else(|_| "[]".into());
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    parsed
        .iter()
        .map(|r| (field(&r["scenario"]), field(&r["verdict"]["verdict"]), field(&r["verdict"]["reason"])))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Turns at what tests share

/// A `seedrig sim lab` at a time: each is a whole world on a machine with few cores, its runs
/// are timed, and its rig file names bench `emulated-lab`, whose lock file in /run/lock every
/// run on it takes. [`Lab`] holds this turn while it is up.
pub const EMULATED_LAB: &str = "emulated-lab";
/// A virtual bench (a private pcscd and its cards, the simulated network, the firmware) at a
/// time: a loaded machine is a loaded bench, and its timing checks would judge the load.
pub const VIRTUAL_BENCH: &str = "virtual-bench";

/// A turn at `resource`, held until dropped: an exclusive `flock(2)` on
/// `<target>/tmp/turn-<resource>.lock`. It serialises the tests that take it whether they are
/// threads of one process (`cargo test`) or processes of their own (`cargo nextest run`): two
/// opens of one file conflict even within a process. The kernel releases it however the holder
/// ends (a panic, a kill), so there is never a stale turn.
pub fn turn(resource: &str) -> Turn {
    let path = target_tmp().join(format!("turn-{resource}.lock"));
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if file.try_lock().is_err() {
        eprintln!("waiting for the turn at {resource} ({})", path.display());
        file.lock().unwrap_or_else(|e| panic!("flock {}: {e}", path.display()));
    }
    Turn { _file: file }
}

/// A turn at a resource; see [`turn`].
#[must_use = "the turn ends when it is dropped"]
pub struct Turn {
    _file: File,
}

/// The folder `<target>/tmp/<name>`, filled by `make` once per test run and shared by every test
/// of the run that asks for it: threads of one process under `cargo test`, processes of one
/// `cargo nextest run` (`NEXTEST_RUN_ID`). It is made under a turn of its own, so no test reads
/// it half made, and made again by the next run.
pub fn made_once(name: &str, make: impl FnOnce(&Path)) -> PathBuf {
    let _turn = turn(name);
    let dir = target_tmp().join(name);
    let stamp = target_tmp().join(format!("{name}.made-by"));
    let this_run = std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| format!("pid {}", std::process::id()));
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(this_run.as_str()) {
        let _ = std::fs::remove_file(&stamp);
        std::fs::create_dir_all(&dir).unwrap();
        make(&dir);
        std::fs::write(&stamp, &this_run).unwrap();
    }
    dir
}

// ---------------------------------------------------------------------------------------------
// Waits on events

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(20);

/// Whether `done` came to hold within `within` (looked at every 20 ms).
pub fn poll_until(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until `done` holds; fails the test with `what` once `within` has passed.
pub fn wait_until(within: Duration, what: &str, done: impl FnMut() -> bool) {
    assert!(poll_until(within, done), "{what} (waited {within:?})");
}

/// Waits until `path` exists; fails the test once `within` has passed.
pub fn wait_for_file(path: &Path, within: Duration) {
    wait_until(within, &format!("{} never appeared", path.display()), || path.exists());
}

/// How `child` exited, if it did within `within`; `None` while it still runs.
pub fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let mut status = None;
    poll_until(within, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status
}

/// What a child writes on a pipe, line by line, read on a thread of its own: a test waits for
/// the line it needs with a deadline (a hung child fails the test instead of hanging it), and
/// the child never blocks on a full pipe (what nobody waits for is read and kept, or dropped
/// once the `Lines` is).
pub struct Lines {
    rx: Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    pub fn of(pipe: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                // Nobody listens any more: read on, so that the child can write.
                let _ = tx.send(line);
            }
        });
        Lines { rx, seen: Vec::new() }
    }

    /// The next line; `None` if none came within `within` or the pipe closed.
    pub fn next_within(&mut self, within: Duration) -> Option<String> {
        let line = self.rx.recv_timeout(within).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// The first line, from here on, for which `wanted` holds; `None` if none came within
    /// `within` or the pipe closed first.
    pub fn wait_for(&mut self, within: Duration, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let until = Instant::now() + within;
        loop {
            let line = match self.rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            };
            self.seen.push(line.clone());
            if wanted(&line) {
                return Some(line);
            }
        }
    }

    /// Everything written, up to the pipe's end (each line with its newline).
    pub fn rest(mut self) -> String {
        self.seen.extend(self.rx.iter());
        self.seen.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// Whether process `pid` is gone (a zombie nobody reaped yet counts as gone).
pub fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().next()) == Some("Z"))
        .unwrap_or(true)
}

/// The command lines (arguments joined by spaces) of the processes that are not [`gone`] for
/// which `wanted` holds.
pub fn live_processes(wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if wanted(&cmdline) && !gone(pid) {
            found.push(cmdline);
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The emulated lab

/// A running emulated lab (`seedrig sim lab`), which holds the [`EMULATED_LAB`] turn while it
/// is up; stopped (Ctrl-C) when dropped.
pub struct Lab {
    child: Child,
    /// The rig file the lab wrote (`<dir>/lab.toml`).
    pub rig: PathBuf,
    /// A folder of the test's, the rig file's.
    pub dir: tempfile::TempDir,
    _turn: Turn,
}

impl Lab {
    /// `seedrig sim lab <flags>` on the starter fixtures.
    pub fn up(flags: &[&str]) -> Lab {
        Lab::up_in(tempfile::tempdir().unwrap(), &root().join("fixtures"), flags)
    }

    /// `seedrig --fixtures <fixtures> sim lab --rig-out <dir>/lab.toml <flags>`, once the lab
    /// says its rig file is complete.
    pub fn up_in(dir: tempfile::TempDir, fixtures: &Path, flags: &[&str]) -> Lab {
        let turn = turn(EMULATED_LAB);
        let rig = dir.path().join("lab.toml");
        let mut child = seedrig_in(root())
            .arg("--fixtures")
            .arg(fixtures)
            .args(["sim", "lab", "--rig-out"])
            .arg(&rig)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // The lab prints the rig file's path once the file is complete; the rest of what it
        // prints is read (and dropped) on the side, as a terminal would.
        let first = Lines::of(child.stdout.take().unwrap()).next_within(Duration::from_secs(120));
        let lab = Lab { child, rig, dir, _turn: turn };
        assert!(
            first.as_deref().is_some_and(|l| l.starts_with("rig file")),
            "the lab did not come up: {first:?}"
        );
        assert!(lab.rig.is_file());
        lab
    }

    /// The rig file the lab wrote.
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.rig).unwrap()
    }

    /// A path the rig file gives for `key` (the first `key = "..."` line).
    pub fn path_of(&self, key: &str) -> PathBuf {
        let text = self.text();
        let line = text.lines().find(|l| l.starts_with(&format!("{key} = \""))).unwrap();
        PathBuf::from(line.split('"').nth(1).unwrap())
    }

    /// The lab's control socket (beside its DUT's console).
    pub fn control(&self) -> PathBuf {
        self.path_of("console").with_file_name("control.sock")
    }

    /// `seedrig sim dut --control <socket> <args>`.
    pub fn dut(&self, args: &[&str]) {
        let status =
            seedrig().args(["sim", "dut", "--control"]).arg(self.control()).args(args).status().unwrap();
        assert!(status.success(), "sim dut {args:?}");
    }

    /// Runs scenarios on the lab: the output, the results and the JUnit report.
    pub fn run(&self, args: &[&str]) -> (Output, Vec<ScenarioResult>, String) {
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

    /// The lab's rig file as bench `<name>-<this test process's pid>` (so its bench lock is
    /// this test's alone), `edit`ed, written beside it.
    pub fn renamed(&self, name: &str, edit: impl FnOnce(String) -> String) -> Bench {
        let name = format!("{name}-{}", std::process::id());
        let text = self.text();
        assert!(text.contains("name = \"emulated-lab\""), "{text}");
        let path = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, edit(text).replace("name = \"emulated-lab\"", &format!("name = \"{name}\"")))
            .unwrap();
        Bench { path, name }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        if wait_exit(&mut self.child, Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A lab's rig file under a bench name nobody else knows; its lock file goes when dropped.
pub struct Bench {
    pub path: PathBuf,
    pub name: String,
}

impl Bench {
    /// The rig file, loaded on the starter fixtures.
    pub fn rig(&self) -> Rig {
        let loaded = seedrig::fixture::load_bench(&root().join("fixtures"), &self.path).unwrap();
        loaded.catalog.rigs.into_values().find(|r| r.name == self.name).unwrap()
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let lock_file =
            seedrig::bench::lock::lock_dir().join(format!("seedrig-lock-bench-{}.lock", self.name));
        let _ = std::fs::remove_file(lock_file);
    }
}

// ---------------------------------------------------------------------------------------------
// Folders

/// Copies the tree at `from` into `to` (made if need be).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The broken-fixture corpus's small valid tree (fixtures/ and rig/) in a folder of its own.
pub fn corpus_base() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("tests/broken/_base"), dir.path());
    dir
}
