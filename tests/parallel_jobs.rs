//! `seedrig run --jobs N` as a user sees it: the workers take the next scenario from one queue,
//! one reporter owns the terminal (one progress line; each result printed whole, once, as it
//! comes), and a worker that dies loses only the scenario it was running.
//!
//! The terminal is a real pseudo-terminal: the progress line is drawn on a terminal only. The
//! runs take turns at the virtual bench, across test processes too (each brings up two virtual
//! benches on a machine with few cores).

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

use common::{VIRTUAL_BENCH, live_processes, root, seedrig, turn};
use serde_json::Value;

mod common;

/// `seedrig run --jobs 2 --exact SCENARIO...` on the virtual bench.
fn command(scenarios: &[&str]) -> Command {
    let mut command = seedrig();
    command
        .arg("run")
        .arg("--rig")
        .arg(root().join("rig/virtual.toml"))
        .args(["--jobs", "2", "--exact"])
        .args(scenarios)
        .stdin(Stdio::null());
    command
}

const FOUR: [&str; 4] = ["master-connects", "master-reject", "tie-lower-slot", "weights-tariff"];

/// A pseudo-terminal 200 columns wide: (master, slave). Both close on exec: only the
/// descriptors a command is given reach it.
fn pty() -> (OwnedFd, OwnedFd) {
    use rustix::fs::{Mode, OFlags};
    use rustix::pty::OpenptFlags;
    let master = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("posix_openpt");
    rustix::pty::grantpt(&master).expect("grantpt");
    rustix::pty::unlockpt(&master).expect("unlockpt");
    let name = rustix::pty::ptsname(&master, Vec::new()).expect("ptsname");
    let slave =
        rustix::fs::open(name.as_c_str(), OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())
            .expect("open pty slave");
    let size = rustix::termios::Winsize { ws_row: 50, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0 };
    rustix::termios::tcsetwinsize(&master, size).expect("TIOCSWINSZ");
    (master, slave)
}

/// Runs `command` with stdout and stderr on one terminal, as a user at a shell sees it:
/// everything written to the terminal, raw, and how the run ended.
fn on_a_terminal(mut command: Command) -> (ExitStatus, String) {
    let (master, slave) = pty();
    command.stdout(slave.try_clone().unwrap()).stderr(slave);
    let mut child = command.spawn().unwrap();
    // Only the run holds the terminal now: reading ends when the last of its writers is gone.
    drop(command);
    let reader = std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux answers EIO once no process holds the slave side.
        while let Ok(n) = file.read(&mut buf) {
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        raw
    });
    let status = child.wait().unwrap();
    let raw = reader.join().unwrap();
    (status, String::from_utf8_lossy(&raw).into_owned())
}

/// The lines a terminal shows after `raw`: a carriage return goes back to the line's start,
/// ESC [ K clears to its end, other text overwrites what is under the cursor.
fn screen(raw: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line: Vec<char> = Vec::new();
    let mut col = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                lines.push(line.iter().collect::<String>());
                line.clear();
                col = 0;
            }
            '\x1b' => {
                assert_eq!(chars.next(), Some('['), "an escape sequence the test does not know in {raw:?}");
                let mut sequence = String::new();
                for c in chars.by_ref() {
                    sequence.push(c);
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
                assert_eq!(sequence, "K", "an escape sequence the test does not know in {raw:?}");
                line.truncate(col);
            }
            c => {
                if col < line.len() {
                    line[col] = c;
                } else {
                    line.push(c);
                }
                col += 1;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line.iter().collect());
    }
    lines
}

/// The progress lines drawn, as `(done, total)`.
fn progress_counts(raw: &str) -> Vec<(usize, usize)> {
    raw.split("\r[")
        .skip(1)
        .filter_map(|frame| {
            let (counts, _) = frame.split_once(']')?;
            let (done, total) = counts.split_once('/')?;
            Some((done.parse().ok()?, total.parse().ok()?))
        })
        .collect()
}

/// The scenario names of the verdict lines in `stdout`, in the order printed.
fn printed_order(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| ["PASS ", "FAIL ", "ERROR ", "SKIP "].iter().any(|v| l.starts_with(v)))
        .map(|l| l.split_whitespace().nth(1).unwrap().trim_end_matches(':').to_owned())
        .collect()
}

fn results_json(path: &Path) -> Vec<Value> {
    serde_json::from_str::<Value>(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Temporary files of seedrig runs that are gone (the pid in their name is not alive).
fn dead_runs_leftovers() -> Vec<PathBuf> {
    let owner = |name: &str| -> Option<u32> {
        let rest = name.strip_prefix("seedrig-")?;
        let (_, after_kind) = rest.split_once('-')?;
        let digits: String = after_kind.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            owner(&name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(|e| e.path())
        .collect()
}

/// Live processes started as workers of the run `pid` (named `seedrig-jobs-<pid>-<n>`).
fn workers_of(pid: u32) -> Vec<String> {
    let mark = format!("seedrig-jobs-{pid}-");
    live_processes(|cmdline| cmdline.starts_with(&mark))
}

#[test]
fn one_progress_line_for_the_whole_run_and_every_result_printed_whole_once() {
    let _turn = turn(VIRTUAL_BENCH);
    let (status, raw) = on_a_terminal(command(&FOUR));
    let shown = screen(&raw);
    assert!(status.success(), "{status:?}\n{}", shown.join("\n"));
    // Every result on a line of its own, whole, exactly once: nothing of a progress line
    // before or after it on that line.
    for id in FOUR {
        let lines: Vec<&String> = shown.iter().filter(|l| l.contains(&format!(" {id} "))).collect();
        assert_eq!(lines.len(), 1, "{id} printed {} times:\n{}", lines.len(), shown.join("\n"));
        let line = lines[0];
        assert!(
            line.starts_with(&format!("PASS   {id}  (")) && line.ends_with(" s wall)"),
            "{id}'s result is not a line of its own: {line:?}\nraw: {raw:?}"
        );
    }
    // Drawn, and only ever the one line of the whole run: four scenarios, not two per job.
    let counts = progress_counts(&raw);
    assert!(!counts.is_empty(), "no progress line was drawn: {raw:?}");
    assert!(counts.iter().all(|(done, total)| *total == 4 && *done <= 4), "{counts:?}\nraw: {raw:?}");
    assert!(counts.windows(2).all(|w| w[0].0 <= w[1].0), "the count of runs done went back: {counts:?}");
    // Gone at the end: nothing of it stays on the screen.
    assert!(!shown.iter().any(|l| l.contains("s left")), "{}", shown.join("\n"));
    assert!(
        shown.iter().any(|l| l == "4 scenarios: 4 passed, 0 failed, 0 errors, 0 skipped"),
        "{}",
        shown.join("\n")
    );
}

#[test]
fn a_free_worker_takes_the_next_scenario_from_the_queue() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("results.json");
    // In name order: the first two go to the two workers at once; result-silent-stalls (a
    // stall: its whole 60 s timeout, 3 s at the bench's time scale) holds one worker while the
    // other runs every short one. Dealt round-robin, weights-tariff would wait behind it.
    let scenarios =
        ["master-connects", "master-reject", "result-silent-stalls", "tie-lower-slot", "weights-tariff"];
    let Output { status, stdout, stderr } =
        command(&scenarios).arg("--results-json").arg(&json).output().unwrap();
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(status.success(), "{status:?}\n{stdout}\n{}", String::from_utf8_lossy(&stderr));
    let printed = printed_order(&stdout);
    assert_eq!(printed.len(), 5, "{stdout}");
    assert_eq!(printed.last().map(String::as_str), Some("result-silent-stalls"), "{stdout}");
    // The results end in queue order (JUnit, timelines, --results-json).
    let names: Vec<String> =
        results_json(&json).iter().map(|r| r["scenario"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, scenarios, "{names:?}");
}

#[test]
fn a_worker_that_dies_loses_only_the_scenario_it_was_running() {
    let _turn = turn(VIRTUAL_BENCH);
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("results.json");
    let before = dead_runs_leftovers();
    // The test hook makes the worker that begins tie-lower-slot kill itself (SIGKILL). The queue
    // hands it to whichever worker is free first: one that has already passed a scenario.
    let child = command(&FOUR)
        .arg("--results-json")
        .arg(&json)
        .env("SEEDRIG_TEST_WORKER_ABORT_ON", "tie-lower-slot")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    // No firmware failed; the bench broke in one scenario.
    assert_eq!(status.code(), Some(3), "{stdout}\n{stderr}");
    let results = results_json(&json);
    assert_eq!(results.len(), 4, "{results:#?}");
    for r in &results {
        let id = r["scenario"].as_str().unwrap();
        if id == "tie-lower-slot" {
            assert_eq!(r["verdict"]["verdict"], "error", "{r:#}");
            let reason = r["verdict"]["reason"].as_str().unwrap();
            assert!(reason.contains("died (signal 9, SIGKILL)"), "{reason}");
        } else {
            assert_eq!(r["verdict"]["verdict"], "pass", "{id}: {:#}\n{stdout}\n{stderr}", r["verdict"]);
        }
    }
    let mut printed = printed_order(&stdout);
    printed.sort();
    assert_eq!(printed, FOUR, "each result printed once:\n{stdout}");
    assert!(
        stdout.contains("ERROR  tie-lower-slot: the parallel job running it died (signal 9, SIGKILL)"),
        "{stdout}"
    );
    // Nothing of the dead worker is left: no process, no temporary file.
    assert!(workers_of(pid).is_empty(), "{:?}", workers_of(pid));
    let left: Vec<PathBuf> = dead_runs_leftovers().into_iter().filter(|p| !before.contains(p)).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
