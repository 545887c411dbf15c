//! The device under test as a process on the rig's machine: a virtual bench's firmware (the
//! reference firmware, or the program a rig file's `[dut] command` names).
//!
//! It runs in a process group of its own, so that the whole group — a wrapper script and what
//! it started — is killed at the scenario's end, when the rig stops on a signal (the bench is
//! taken down), and, after a SIGKILL of the rig, by the next run's start (the group is recorded
//! in the bench's temporary folder, which that run sweeps). What it prints on stdout and stderr
//! is kept, its last lines quoted when it exits or never boots.

use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::children::PGID_FILE;

/// How much of the DUT's output is kept for error messages.
const TAIL_LINES: usize = 12;
const TAIL_LINE_CHARS: usize = 300;

/// Why the DUT's process did not start.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("the DUT command is empty")]
    EmptyCommand,
    /// `command` as messages quote it (secrets masked).
    #[error("cannot start `{command}`: {cause}")]
    CannotStart {
        command: String,
        #[source]
        cause: std::io::Error,
    },
}

/// How the DUT's process ended; `command` as messages quote it (secrets masked).
#[derive(Debug, thiserror::Error)]
pub enum DutExit {
    /// It exited; `output_tail` is [`DutProcess::output_tail`].
    #[error("`{command}` exited ({status}){output_tail}")]
    Exited { command: String, status: std::process::ExitStatus, output_tail: String },
    #[error("`{command}` cannot be waited for: {cause}")]
    Unwaitable {
        command: String,
        #[source]
        cause: std::io::Error,
    },
}

pub struct DutProcess {
    child: Child,
    /// The process group (the child's pid: it leads its own group).
    pgid: Option<rustix::process::Pid>,
    /// The command as written, for messages.
    shown: String,
    tail: Arc<Mutex<VecDeque<String>>>,
    /// How many of its output streams have been read to their end.
    drained: Arc<std::sync::atomic::AtomicUsize>,
    streams: usize,
}

impl DutProcess {
    /// Starts `argv` (program first) in a process group of its own, recorded in `record_dir`.
    pub fn spawn(argv: &[String], record_dir: &Path) -> Result<DutProcess, SpawnError> {
        // As messages quote it: secrets a command line carries masked, as in the console log.
        let shown = crate::model::masking::mask_line(&shown(argv));
        let Some((program, args)) = argv.split_first() else {
            return Err(SpawnError::EmptyCommand);
        };
        let mut command = Command::new(program);
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.kill_on_drop(true).process_group(0);
        // Spawned from a runtime worker, which lives as long as the rig's runtime.
        crate::children::die_with_parent(command.as_std_mut(), rustix::process::Signal::KILL);
        let mut child =
            command.spawn().map_err(|cause| SpawnError::CannotStart { command: shown.clone(), cause })?;
        let pgid = child.id().and_then(|id| rustix::process::Pid::from_raw(id as i32));
        if let Some(pgid) = pgid {
            // Best effort: only a SIGKILL of the rig needs it, and then the next run reads it.
            let _ = std::fs::write(record_dir.join(PGID_FILE), pgid.as_raw_nonzero().to_string());
        }
        let tail: Arc<Mutex<VecDeque<String>>> = Arc::default();
        let drained: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let mut streams = 0;
        if let Some(out) = child.stdout.take() {
            keep_tail(out, Arc::clone(&tail), Arc::clone(&drained));
            streams += 1;
        }
        if let Some(err) = child.stderr.take() {
            keep_tail(err, Arc::clone(&tail), Arc::clone(&drained));
            streams += 1;
        }
        Ok(DutProcess { child, pgid, shown, tail, drained, streams })
    }

    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Why the process is gone, with the end of its output; `None` while it runs.
    pub fn exited(&mut self) -> Option<DutExit> {
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.wait_for_output();
                Some(DutExit::Exited { command: self.shown.clone(), status, output_tail: self.output_tail() })
            }
            Ok(None) => None,
            Err(cause) => Some(DutExit::Unwaitable { command: self.shown.clone(), cause }),
        }
    }

    /// Once the process is gone its output ends too; the readers get a moment to take in the
    /// last lines, which are the ones that say why.
    fn wait_for_output(&self) {
        let until = std::time::Instant::now() + Duration::from_millis(200);
        while self.drained.load(std::sync::atomic::Ordering::Acquire) < self.streams
            && std::time::Instant::now() < until
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// `; its last output: …` (the last lines it printed on stdout or stderr, secrets masked as
    /// in the console log), or nothing.
    pub fn output_tail(&self) -> String {
        let lines: Vec<String> = self
            .tail
            .lock()
            .map(|t| t.iter().map(|l| crate::model::masking::mask_line(l)).collect())
            .unwrap_or_default();
        if lines.is_empty() {
            "; it printed nothing on stdout or stderr".into()
        } else {
            format!("; its last output: {}", lines.join(" | "))
        }
    }

    /// The command, as written in messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Kills the whole process group and waits (a bounded time) for the process.
    pub async fn stop(mut self) {
        self.kill_group();
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(3), self.child.wait()).await;
    }

    fn kill_group(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
    }
}

impl Drop for DutProcess {
    fn drop(&mut self) {
        self.kill_group();
    }
}

fn shown(argv: &[String]) -> String {
    argv.iter()
        .map(|a| if a.contains(' ') || a.is_empty() { format!("{a:?}") } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads `stream` line by line to its end, keeping the last few lines.
fn keep_tail(
    stream: impl AsyncRead + Unpin + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
    drained: Arc<std::sync::atomic::AtomicUsize>,
) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        // Bytes, not text: a line that is not UTF-8 must not stop the reading (the DUT would
        // then block on a full pipe).
        while matches!(reader.read_until(b'\n', &mut buf).await, Ok(n) if n > 0) {
            let line: String =
                String::from_utf8_lossy(&buf).trim_end().chars().take(TAIL_LINE_CHARS).collect();
            buf.clear();
            if line.is_empty() {
                continue;
            }
            if let Ok(mut t) = tail.lock() {
                if t.len() == TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        }
        drained.fetch_add(1, std::sync::atomic::Ordering::Release);
    });
}
