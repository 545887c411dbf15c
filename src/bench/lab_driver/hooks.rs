//! Hooks: the bench's own commands (power the DUT, configure it, shape the test network), run
//! with a time limit. A hook that fails, cannot start or overruns is a bench error naming it and
//! quoting the end of its stderr.
//!
//! **Process groups.** Every hook runs in a process group of its own (it leads it), stdin closed,
//! stdout discarded, stderr read as it comes (its last lines are kept for messages, so they are
//! there on a timeout too). The whole group — the hook and whatever it started — is killed with
//! SIGKILL:
//!
//! - when the hook overruns its time, or exits non-zero;
//! - when it succeeded but left something running: at the end of the scenario it ran for (a hook
//!   run inside [`HookGroups::within`]: the lab bench kills its [`HookGroups`] when the scenario's
//!   bench comes down), else at once;
//! - when the rig gets SIGINT or SIGTERM (once [`stop_on_signals`] was called, as a lab bench
//!   does): every live hook group at once, and no hook starts after — except the hooks that put
//!   the bench back ([`run_to_restore`]: `network.clear`), which the bench's restore still runs,
//!   each to its end within its time, so a stopped run leaves the bench clean;
//! - after a SIGKILL of the rig, by the next run's start: every live group is recorded in a
//!   private temporary folder of its own (`seedrig-hook-<pid>-…/hook.pgid`), which
//!   [`crate::children::sweep_leftovers`] reads. The hook itself dies with the rig (a
//!   parent-death signal).
//!
//! A process that leaves the group on purpose (`setsid`, `setpgid`) is not followed.

use std::collections::VecDeque;
use std::future::Future;
use std::process::Stdio;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use rustix::process::{Pid, Signal};
use tokio::io::AsyncReadExt;
use tokio::process::{ChildStderr, Command};

use crate::children::signal_name;
use crate::model::Hook;

/// How many of the last lines of a hook's stderr an error quotes.
const TAIL_LINES: usize = 5;
/// Each quoted line is cut to this many characters.
const TAIL_LINE_CHARS: usize = 160;
/// Bytes of one line kept while reading (the rest of a longer line is dropped).
const LINE_BYTES: usize = 1024;
/// Once a hook has exited (or was killed), how long its stderr may take to reach its end: a
/// background process that still holds it open is not waited for longer.
const OUTPUT_GRACE: Duration = Duration::from_millis(200);
/// How long a killed hook may take to be reaped.
const REAP: Duration = Duration::from_secs(2);
/// The file in a hook's record folder naming its process group.
const RECORD_FILE: &str = "hook";

/// The process groups of hooks that are alive, for [`stop_on_signals`] to kill; whether each
/// puts the bench back (then it is let finish).
static LIVE: Mutex<Vec<(Pid, bool)>> = Mutex::new(Vec::new());
/// The signal the rig is stopping on (0: none).
static STOPPING: AtomicI32 = AtomicI32::new(0);

tokio::task_local! {
    /// Where a hook that succeeded leaves what it started running.
    static SCOPE: HookGroups;
}

/// Runs `hook` with its `{name}` placeholders filled from `values`, in a process group of its
/// own (see the module documentation for when that group is killed).
pub async fn run(hook: &Hook, values: &[(&str, String)]) -> Result<(), String> {
    run_hook(hook, values, false).await
}

/// [`run`] for a hook that puts the bench back (`network.clear`): it still starts, and runs to
/// its end within its time, when the rig is stopping on a signal — taking the bench down is
/// what the signal asks for.
pub async fn run_to_restore(hook: &Hook, values: &[(&str, String)]) -> Result<(), String> {
    run_hook(hook, values, true).await
}

async fn run_hook(hook: &Hook, values: &[(&str, String)], restoring: bool) -> Result<(), String> {
    let name = &hook.name;
    let argv: Vec<String> = hook.argv.iter().map(|a| fill(a, values)).collect();
    let Some((program, args)) = argv.split_first() else {
        return Err(format!("hook {name}: empty command; the rig file must give `run = [program, args...]`"));
    };
    if let Some(signal) = stopping().filter(|_| !restoring) {
        return Err(format!("hook {name}: not started: the rig is stopping ({})", signal_name(signal)));
    }
    let record = crate::children::private_temp_dir("hook").map_err(|e| {
        format!("hook {name}: cannot make its record folder in {}: {e}", std::env::temp_dir().display())
    })?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    // Spawned from a runtime worker (or the thread that runs the scenario), which lives as long
    // as the hook may.
    crate::children::die_with_parent(command.as_std_mut(), Signal::KILL);
    let mut child = command.spawn().map_err(|e| format!("hook {name}: cannot start `{program}`: {e}"))?;
    let Some(pgid) = child.id().and_then(|id| i32::try_from(id).ok()).and_then(Pid::from_raw) else {
        return Err(format!("hook {name}: `{program}` started, but has no process id"));
    };
    let mut group = Group::new(pgid, record, restoring);
    if stopping().is_some() && !restoring {
        // The signal came while it started: it goes with the rest.
        group.kill();
    }
    let tail = Tail::default();
    let mut reading = child.stderr.take().map(|stderr| tokio::spawn(keep_tail(stderr, tail.clone())));
    // Whatever becomes of the group, its stderr is read as long as it lives, and no longer.
    group.reader = reading.as_ref().map(tokio::task::JoinHandle::abort_handle);

    let limit = Duration::from_millis(hook.timeout_ms);
    let status = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(format!("hook {name}: `{program}` cannot be waited for: {e}")),
        Err(_) => {
            group.kill();
            let _ = tokio::time::timeout(REAP, child.wait()).await;
            settle(&mut reading).await;
            return Err(format!(
                "hook {name}: `{program}` did not finish within {limit:?}; killed with its process group{}",
                tail.quoted()
            ));
        }
    };
    if status.success() {
        settle(&mut reading).await;
        if !group.has_members() {
            group.empty = true;
        } else if let Ok(scope) = SCOPE.try_with(HookGroups::clone) {
            // What it left running lives until the scenario's end; its stderr is still read
            // (a reader that stopped would kill a writer with SIGPIPE).
            tracing::debug!(hook = %name, pgid = pgid.as_raw_nonzero().get(), "hook done; its process group lives until the scenario's end");
            scope.adopt(group);
            return Ok(());
        }
        // Nothing outside a scenario waits for what it left running: killed now (on drop).
        tracing::debug!(hook = %name, "hook done");
        return Ok(());
    }
    group.kill();
    settle(&mut reading).await;
    if let Some(signal) = stopping().filter(|_| !restoring) {
        return Err(format!(
            "hook {name}: `{program}` killed with its process group: the rig is stopping ({}){}",
            signal_name(signal),
            tail.quoted()
        ));
    }
    Err(format!("hook {name}: `{program}` failed ({status}){}", tail.quoted()))
}

/// The process groups a scenario's hooks left running (a hook that started a helper in the
/// background), killed together when [`HookGroups::kill`] is called or the last clone is
/// dropped. Cheap to clone.
#[derive(Clone, Default)]
pub struct HookGroups(Arc<Mutex<Vec<Group>>>);

impl HookGroups {
    pub fn new() -> HookGroups {
        HookGroups::default()
    }

    /// Runs `f`: whatever the hooks it runs leave behind belongs to these groups.
    pub async fn within<F: Future>(&self, f: F) -> F::Output {
        SCOPE.scope(self.clone(), f).await
    }

    /// Kills every group held (each whole process group, SIGKILL); how many there were.
    pub fn kill(&self) -> usize {
        let groups = self.0.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default();
        let n = groups.len();
        if n > 0 {
            tracing::debug!(groups = n, "killing what the scenario's hooks left running");
        }
        drop(groups);
        n
    }

    /// How many groups are held.
    pub fn len(&self) -> usize {
        self.0.lock().map(|g| g.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn adopt(&self, group: Group) {
        match self.0.lock() {
            Ok(mut groups) => groups.push(group),
            // A poisoned list cannot keep it: killed now (dropped).
            Err(_) => drop(group),
        }
    }
}

/// From now on SIGINT and SIGTERM kill every live hook group, and no hook starts after (a run
/// that stops takes the bench down; its hooks go first). Call it in a process that handles
/// these signals itself (`seedrig run`): the handlers stay for the process's life. Idempotent.
pub fn stop_on_signals() {
    static WATCHING: Once = Once::new();
    WATCHING.call_once(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        // Registered on the thread of its own, not here: this may be called from within a
        // runtime, where another runtime cannot be entered.
        let spawned = std::thread::Builder::new().name("hook-signals".into()).spawn(move || {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                let _ = ready_tx.send(false);
                return;
            };
            runtime.block_on(async move {
                let (Ok(mut int), Ok(mut term)) =
                    (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
                else {
                    let _ = ready_tx.send(false);
                    return;
                };
                let _ = ready_tx.send(true);
                loop {
                    let signal = tokio::select! {
                        _ = int.recv() => 2,
                        _ = term.recv() => 15,
                    };
                    stop_all(signal);
                }
            });
        });
        let watching = spawned.is_ok() && ready_rx.recv_timeout(Duration::from_secs(5)).unwrap_or(false);
        if !watching {
            tracing::warn!(
                "hooks: cannot watch SIGINT and SIGTERM; a hook under way at a signal runs to its end"
            );
        }
    });
}

/// The rig is stopping on `signal`: every live hook group is killed, no hook starts after.
fn stop_all(signal: i32) {
    let _ = STOPPING.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    let live: Vec<Pid> = LIVE
        .lock()
        .map(|l| l.iter().filter(|(_, restoring)| !restoring).map(|(pgid, _)| *pgid).collect())
        .unwrap_or_default();
    for pgid in &live {
        let _ = rustix::process::kill_process_group(*pgid, Signal::KILL);
    }
    if !live.is_empty() {
        tracing::info!(groups = live.len(), "{}: killed every hook's process group", signal_name(signal));
    }
}

/// The signal the rig is stopping on, if any.
fn stopping() -> Option<i32> {
    Some(STOPPING.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// A hook's live process group: recorded on disk and in [`LIVE`] while it lives; killed (the
/// whole group, SIGKILL) when dropped.
struct Group {
    pgid: Pid,
    /// Known to have no process left: nothing to kill (its id may be another's by now).
    empty: bool,
    /// Reads the stderr of what it left running.
    reader: Option<tokio::task::AbortHandle>,
    /// The folder naming the group for the next run, should this one be SIGKILLed.
    _record: tempfile::TempDir,
}

impl Group {
    fn new(pgid: Pid, record: tempfile::TempDir, restoring: bool) -> Group {
        // Best effort: only a SIGKILL of the rig needs it, and then the next run reads it.
        let _ = crate::children::record_group(record.path(), RECORD_FILE, pgid);
        if let Ok(mut live) = LIVE.lock() {
            live.push((pgid, restoring));
        }
        Group { pgid, empty: false, reader: None, _record: record }
    }

    fn kill(&self) {
        if !self.empty {
            let _ = rustix::process::kill_process_group(self.pgid, Signal::KILL);
        }
    }

    /// Whether any process of the group is left (the hook itself has been reaped).
    fn has_members(&self) -> bool {
        !matches!(rustix::process::test_kill_process_group(self.pgid), Err(rustix::io::Errno::SRCH))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
        if let Ok(mut live) = LIVE.lock()
            && let Some(at) = live.iter().position(|(p, _)| *p == self.pgid)
        {
            live.swap_remove(at);
        }
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

/// Waits (up to [`OUTPUT_GRACE`]) for the stderr reader to reach the end: once the hook is
/// gone, its last lines are the ones that say why.
async fn settle(reading: &mut Option<tokio::task::JoinHandle<()>>) {
    if let Some(handle) = reading {
        let _ = tokio::time::timeout(OUTPUT_GRACE, handle).await;
    }
}

/// The last lines of a hook's stderr.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        // Control characters (colours, carriage returns) would garble a terminal or a report.
        let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        // Secrets masked as in every output, before a long line is cut (a cut key is a key).
        let masked = crate::model::masking::mask_line(clean.trim());
        let line = masked.as_str();
        if line.is_empty() {
            return;
        }
        let line = if line.chars().count() > TAIL_LINE_CHARS {
            line.chars().take(TAIL_LINE_CHARS - 1).chain(['…']).collect()
        } else {
            line.to_owned()
        };
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == TAIL_LINES {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    /// `; the end of its stderr: a | b` — or that it printed nothing there.
    fn quoted(&self) -> String {
        let lines: Vec<String> = self.0.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default();
        if lines.is_empty() {
            "; it printed nothing on stderr".into()
        } else {
            format!("; the end of its stderr: {}", lines.join(" | "))
        }
    }
}

/// Reads `stderr` to its end, keeping the last lines in `tail`. Bytes, not text: a line that
/// is not UTF-8 must not stop the reading (the hook would block on a full pipe).
async fn keep_tail(mut stderr: ChildStderr, tail: Tail) {
    let mut buf = [0u8; 4096];
    let mut line = Vec::new();
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                for &b in &buf[..n] {
                    if b == b'\n' {
                        tail.push(&line);
                        line.clear();
                    } else if line.len() < LINE_BYTES {
                        line.push(b);
                    }
                }
            }
        }
    }
    tail.push(&line);
}

/// Replaces each `{name}` of `values` in `arg`.
fn fill(arg: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(arg.to_owned(), |acc, (name, value)| acc.replace(&format!("{{{name}}}"), value))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Instant;

    use super::*;

    fn hook(argv: &[&str], timeout_ms: u64) -> Hook {
        Hook { name: "dut.reset".into(), argv: argv.iter().map(|s| (*s).to_owned()).collect(), timeout_ms }
    }

    /// Whether process `pid` is gone (a zombie nobody reaped yet counts as gone).
    fn gone(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().next()) == Some("Z"))
            .unwrap_or(true)
    }

    async fn wait_gone(pid: u32, within: Duration) -> bool {
        let until = Instant::now() + within;
        while !gone(pid) && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        gone(pid)
    }

    /// The pid a hook wrote into `file`, waited for.
    async fn pid_in(file: &Path) -> u32 {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(pid) = std::fs::read_to_string(file).ok().and_then(|t| t.trim().parse().ok()) {
                return pid;
            }
            assert!(Instant::now() < until, "nothing written to {}", file.display());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// This process's hook record folders that name `pgid`.
    fn records_of(pgid: u32) -> Vec<std::path::PathBuf> {
        let prefix = crate::children::temp_prefix("hook");
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .filter(|dir| {
                std::fs::read_to_string(dir.join("hook.pgid")).is_ok_and(|t| t.trim() == pgid.to_string())
            })
            .collect()
    }

    #[tokio::test]
    async fn placeholders_are_filled_and_success_is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let h = hook(&["sh", "-c", "echo \"$0\" > \"$1\"", "{site}", "{config}"], 5000);
        run(&h, &[("site", "paris-cdg".into()), ("config", out.display().to_string())]).await.unwrap();
        assert_eq!(std::fs::read_to_string(out).unwrap().trim(), "paris-cdg");
    }

    #[tokio::test]
    async fn a_hooks_quoted_stderr_has_its_secrets_masked() {
        let script =
            "echo 'flashing with pin = 4711' >&2; echo 'k 000102030405060708090a0b0c0d0e0f' >&2; exit 3";
        let err = run(&hook(&["sh", "-c", script], 5000), &[]).await.unwrap_err();
        assert!(err.contains("flashing with pin = ****"), "{err}");
        assert!(!err.contains("4711") && !err.contains("000102030405060708090a0b0c0d0e0f"), "{err}");
    }

    #[tokio::test]
    async fn a_failing_hook_is_named_with_the_end_of_its_stderr() {
        let script = "for i in 1 2 3 4 5 6 7; do echo line $i >&2; done; echo no hub here >&2; exit 3";
        let err = run(&hook(&["sh", "-c", script], 5000), &[]).await.unwrap_err();
        assert!(err.starts_with("hook dut.reset: `sh` failed (exit status: 3)"), "{err}");
        assert!(
            err.ends_with("; the end of its stderr: line 4 | line 5 | line 6 | line 7 | no hub here"),
            "the last lines only: {err}"
        );
        let quiet = run(&hook(&["sh", "-c", "exit 1"], 5000), &[]).await.unwrap_err();
        assert!(quiet.ends_with("; it printed nothing on stderr"), "{quiet}");
    }

    #[tokio::test]
    async fn long_and_binary_stderr_lines_are_trimmed() {
        let script =
            "head -c 100000 /dev/zero | tr '\\0' x >&2; printf '\\n\\033[31mred\\377\\n' >&2; exit 1";
        let err = run(&hook(&["sh", "-c", script], 5000), &[]).await.unwrap_err();
        assert!(err.len() < 1000, "{} bytes: {err}", err.len());
        let long = "x".repeat(TAIL_LINE_CHARS - 1) + "…";
        assert!(err.contains(&format!(": {long} | ")), "{err}");
        assert!(err.ends_with(" [31mred\u{fffd}"), "{err}");
    }

    #[tokio::test]
    async fn an_overrunning_hook_is_killed_with_its_whole_group_and_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // The hook leaves a grandchild of its own running, says why it waits, then hangs.
        let script = "sleep 30 & echo $! > \"$0\"; echo waiting for the relay board >&2; sleep 30";
        let started = Instant::now();
        let err = run(&hook(&["sh", "-c", script, "{pids}"], 300), &[("pids", pids.display().to_string())])
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert!(err.contains("`sh` did not finish within 300ms; killed with its process group"), "{err}");
        assert!(err.ends_with("; the end of its stderr: waiting for the relay board"), "{err}");
        let grandchild = pid_in(&pids).await;
        assert!(
            wait_gone(grandchild, Duration::from_secs(3)).await,
            "the hook's `sleep` {grandchild} outlived it"
        );
    }

    #[tokio::test]
    async fn what_a_hook_leaves_running_lives_until_the_scenario_ends() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = "sleep 30 & echo $$ $! > \"$0\"";
        let h = hook(&["sh", "-c", script, "{pids}"], 5000);
        let values = [("pids", pids.display().to_string())];
        let groups = HookGroups::new();
        groups.within(run(&h, &values)).await.unwrap();
        let text = std::fs::read_to_string(&pids).unwrap();
        let (leader, background) = text.trim().split_once(' ').unwrap();
        let (leader, background): (u32, u32) = (leader.parse().unwrap(), background.parse().unwrap());
        assert_eq!(groups.len(), 1);
        assert!(!gone(background), "the hook's background `sleep` runs on during the scenario");
        assert_eq!(records_of(leader).len(), 1, "the live group is recorded for the next run");
        // The scenario's end: whoever holds the groups drops them.
        drop(groups);
        assert!(
            wait_gone(background, Duration::from_secs(3)).await,
            "`sleep` {background} outlived the scenario"
        );
        assert!(records_of(leader).is_empty(), "the record goes with the group");
    }

    #[tokio::test]
    async fn outside_a_scenario_what_a_hook_leaves_running_dies_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let h = hook(&["sh", "-c", "sleep 30 & echo $! > \"$0\"", "{pids}"], 5000);
        run(&h, &[("pids", pids.display().to_string())]).await.unwrap();
        let background = pid_in(&pids).await;
        assert!(
            wait_gone(background, Duration::from_secs(3)).await,
            "`sleep` {background} outlived its hook"
        );
    }

    #[tokio::test]
    async fn killing_the_groups_kills_each_and_a_finished_hook_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let groups = HookGroups::new();
        let mut background = Vec::new();
        for i in 0..2 {
            let pids = dir.path().join(format!("pids{i}"));
            let h = hook(&["sh", "-c", "sleep 30 2>/dev/null & echo $! > \"$0\"", "{pids}"], 5000);
            groups.within(run(&h, &[("pids", pids.display().to_string())])).await.unwrap();
            background.push(pid_in(&pids).await);
        }
        // A hook that leaves nothing behind is not kept.
        groups.within(run(&hook(&["true"], 5000), &[])).await.unwrap();
        assert_eq!(groups.len(), 2);
        let keep = groups.clone();
        assert_eq!(groups.kill(), 2);
        assert!(keep.is_empty());
        for pid in background {
            assert!(wait_gone(pid, Duration::from_secs(3)).await, "`sleep` {pid} outlived the kill");
        }
    }

    #[tokio::test]
    async fn a_missing_program_is_named() {
        let err = run(&hook(&["/nonexistent/flash.sh"], 1000), &[]).await.unwrap_err();
        assert!(err.contains("cannot start `/nonexistent/flash.sh`"), "{err}");
        let err = run(&hook(&[], 1000), &[]).await.unwrap_err();
        assert!(err.contains("hook dut.reset: empty command"), "{err}");
    }
}
