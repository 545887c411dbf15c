//! `seedrig run --jobs N`: several virtual benches side by side, each a worker process of its
//! own (a process talks to one pcscd), fed from one queue.
//!
//! The parent starts each worker as `seedrig --fixtures F run --rig R --jobs 1 --as-job
//! [--repeat N] [--until-fail] [--firmware-fault MODE] [--retry-errors N]` and talks to it over three pipes:
//!
//! - **stdin**, parent → worker: one scenario name a line. The parent writes the next one only
//!   when the worker has sent the result of the last, so a worker that is free takes the next
//!   scenario of the queue. Closing stdin ends the worker (after the scenario under way).
//! - **stdout**, worker → parent: one JSON object a line, nothing else — `{"started": ID}` as a
//!   run of the scenario begins (each of `--repeat`'s runs), `{"ran": {"scenario": ID, "wall":
//!   ...}}` when that run ended, `{"result": ScenarioResult}` when the scenario is done.
//! - **stderr**: the worker's logs, passed on by the parent line by line, each whole, between
//!   redraws of its progress line.
//!
//! The worker keeps its bench warm across the scenarios it takes (one runner, warmed up once).
//! The parent alone owns the terminal (`report.rs`): one progress line, results printed whole
//! as they come, the summary at the end; the results it returns are in queue order.
//!
//! A worker that dies loses only the scenario it was running: that one ends as an ERROR naming
//! the worker's exit status; every result it had sent stands. The parent reaps it, removes what
//! it left in the temporary folder (and kills its DUT's process group, as the next run would),
//! and starts a replacement worker for the rest of the queue (rather than leaving it to the
//! others: the run keeps its N benches). Each worker started takes one scenario at once, so
//! workers that cannot even start use the queue up as errors instead of being started forever.
//!
//! A SIGINT or SIGTERM (passed on to the workers by `run::watch_signals`) stops the handing
//! out: each worker ends its scenario as interrupted and reports it; a scenario handed out but
//! not yet begun did not run.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seedrig::model::{Catalog, Rig};
use seedrig::run::stop::Stop;
use seedrig::run::{RunOptions, ScenarioResult};

use super::report::{Reporter, Sink};
use super::run::{Repeat, RunArgs, errored, run_each};

/// The pids of `--jobs` worker processes, to pass a stop on to.
pub type JobChildren = Arc<Mutex<Vec<u32>>>;

/// Test hook, read by workers only: a worker that begins a run of the scenario named here kills
/// itself with SIGKILL, as a crash would (tests/parallel_jobs.rs).
const TEST_ABORT_ON: &str = "SEEDRIG_TEST_WORKER_ABORT_ON";

/// How long the parent waits for a dead worker's last log lines after reaping it.
const LOG_GRACE: Duration = Duration::from_secs(1);

/// What a worker tells its parent, one JSON object a line.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Report {
    Started(String),
    Ran { scenario: String, wall: Duration },
    Result(Box<ScenarioResult>),
}

// ---------------------------------------------------------------------------------------------
// The parent.

/// Runs the scenarios on `parallel` virtual benches side by side, one worker process each, fed
/// from one queue; results printed as they come, returned in `ids`' order.
#[allow(clippy::too_many_arguments)]
pub fn run_parallel(
    fixtures: &Path,
    catalog: &Catalog,
    rig: &Rig,
    args: &RunArgs,
    parallel: usize,
    ids: &[String],
    stop: &Stop,
    jobs: &JobChildren,
) -> Vec<ScenarioResult> {
    use std::io::IsTerminal;
    let reporter =
        Reporter::new(catalog, rig, ids, args.repeat.max(1), std::io::stderr().is_terminal(), parallel);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut pool = Pool {
        command: WorkerCommand::new(fixtures, args),
        queue: ids.iter().cloned().collect(),
        workers: Vec::new(),
        results: Vec::new(),
        reporter,
        stop: stop.clone(),
        jobs: jobs.clone(),
        tx,
        spawn_error: None,
    };
    // Spawned from this thread, which lives as long as the workers should (die_with_parent).
    for _ in 0..parallel {
        pool.start_worker();
    }
    pool.serve(&rx);
    // No worker is left to run what is still queued (none could start): those are errors.
    if pool.stop.requested().is_none() {
        let why = pool.spawn_error.clone().unwrap_or_else(|| "no worker was left to run it".into());
        while let Some(id) = pool.queue.pop_front() {
            let lost = errored(&id, format!("no parallel job could run it: {why}"));
            pool.reporter.result(&lost);
            pool.results.push(lost);
        }
    }
    pool.reporter.clear();
    let mut results = pool.results;
    results.sort_by_key(|r| ids.iter().position(|id| *id == r.scenario));
    results
}

/// How a worker is started: the options of the run it passes through.
struct WorkerCommand {
    exe: PathBuf,
    args: Vec<std::ffi::OsString>,
}

impl WorkerCommand {
    fn new(fixtures: &Path, args: &RunArgs) -> WorkerCommand {
        // This very program, even when its file has been replaced meanwhile (a rebuild, an
        // upgrade): /proc/self/exe names the running one.
        let exe = Some(PathBuf::from("/proc/self/exe"))
            .filter(|p| p.exists())
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| PathBuf::from("seedrig"));
        let mut a: Vec<std::ffi::OsString> = Vec::new();
        a.extend([
            "--fixtures".into(),
            fixtures.into(),
            "run".into(),
            "--rig".into(),
            args.rig.clone().into(),
        ]);
        a.extend(["--jobs".into(), "1".into(), "--as-job".into()]);
        if args.repeat > 1 {
            a.extend(["--repeat".into(), args.repeat.to_string().into()]);
        }
        if args.until_fail {
            a.push("--until-fail".into());
        }
        if let Some(f) = &args.fault {
            a.extend(["--firmware-fault".into(), f.into()]);
        }
        if args.retry_errors > 0 {
            a.extend(["--retry-errors".into(), args.retry_errors.to_string().into()]);
        }
        // Not --firmware-id nor --firmware-image: the parent names what was tested, in the
        // summary and the reports; a worker only runs scenarios.
        WorkerCommand { exe, args: a }
    }
}

/// The workers of a parallel run and what they have sent.
struct Pool {
    command: WorkerCommand,
    queue: VecDeque<String>,
    workers: Vec<Worker>,
    results: Vec<ScenarioResult>,
    reporter: Reporter,
    stop: Stop,
    jobs: JobChildren,
    tx: Sender<Event>,
    /// Why the last worker could not be started.
    spawn_error: Option<String>,
}

struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The scenario handed to it whose result has not come.
    assigned: Option<Assigned>,
    /// The last lines of its log, quoted when it dies.
    tail: VecDeque<String>,
    log_open: bool,
    /// Reaped: how it ended, and when.
    exited: Option<(ExitStatus, Instant)>,
    finished: bool,
}

struct Assigned {
    id: String,
    /// The worker said it began a run of it.
    began: bool,
}

/// What the threads reading the workers' pipes pass on, tagged with the worker's index.
enum Event {
    Report(usize, Report),
    /// A line on a worker's stdout that is no report.
    Output(String),
    /// A line of a worker's log.
    Log(usize, String),
    StdoutClosed(usize),
    LogClosed(usize),
}

impl Pool {
    /// Starts a worker and hands it the next scenario (says why not in `spawn_error`).
    fn start_worker(&mut self) {
        let n = self.workers.len();
        let mut cmd = std::process::Command::new(&self.command.exe);
        cmd.args(&self.command.args);
        // Named after this run, as its temporary files are (`seedrig-jobs-<pid>-<n>`): `ps`
        // tells whose worker it is, and a test can find the run's processes.
        std::os::unix::process::CommandExt::arg0(
            &mut cmd,
            format!("{}{}", seedrig::children::temp_prefix("jobs"), n + 1),
        );
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // A job is not in the terminal's process group: a Ctrl-C reaches this process only,
        // which passes it on once (a second one would make the job quit without its results).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        // A worker dies with this process, however it ends.
        seedrig::children::die_with_parent(&mut cmd, rustix::process::Signal::TERM);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                self.spawn_error =
                    Some(format!("cannot start a worker ({}): {e}", self.command.exe.display()));
                return;
            }
        };
        if let Ok(mut pids) = self.jobs.lock() {
            pids.push(child.id());
        }
        if let Some(out) = child.stdout.take() {
            let tx = self.tx.clone();
            std::thread::spawn(move || read_reports(n, out, tx));
        }
        if let Some(err) = child.stderr.take() {
            let tx = self.tx.clone();
            std::thread::spawn(move || read_log(n, err, tx));
        }
        let stdin = child.stdin.take();
        self.workers.push(Worker {
            child,
            stdin,
            assigned: None,
            tail: VecDeque::new(),
            log_open: true,
            exited: None,
            finished: false,
        });
        self.hand_out(n);
    }

    /// Gives worker `n` the next scenario, or ends it (closes its stdin) when there is none or
    /// the run is stopping.
    fn hand_out(&mut self, n: usize) {
        let next = if self.stop.requested().is_some() { None } else { self.queue.pop_front() };
        let worker = &mut self.workers[n];
        let Some(id) = next else {
            worker.stdin = None;
            return;
        };
        // A worker that is gone is found out when its stdout closes; the scenario is its.
        if let Some(stdin) = worker.stdin.as_mut() {
            let _ = stdin.write_all(format!("{id}\n").as_bytes()).and_then(|()| stdin.flush());
        }
        worker.assigned = Some(Assigned { id, began: false });
    }

    /// Handles what the workers send until every one has ended.
    fn serve(&mut self, rx: &Receiver<Event>) {
        while self.workers.iter().any(|w| !w.finished) {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(event) => self.handle(event),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            for n in 0..self.workers.len() {
                let w = &self.workers[n];
                if !w.finished
                    && let Some((_, at)) = w.exited
                    && (!w.log_open || at.elapsed() > LOG_GRACE)
                {
                    self.finish(n);
                }
            }
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Report(n, Report::Started(id)) => {
                if let Some(a) = self.workers[n].assigned.as_mut().filter(|a| a.id == id) {
                    a.began = true;
                }
                self.reporter.show(&id);
            }
            Event::Report(_, Report::Ran { scenario, wall }) => self.reporter.done(&scenario, wall),
            Event::Report(n, Report::Result(result)) => {
                self.reporter.result(&result);
                let worker = &mut self.workers[n];
                if worker.assigned.as_ref().is_some_and(|a| a.id == result.scenario) {
                    worker.assigned = None;
                }
                self.results.push(*result);
                if self.workers[n].assigned.is_none() {
                    self.hand_out(n);
                }
            }
            Event::Output(line) => self.reporter.output(&line),
            // Blank lines (a worker's messages start on a fresh line of their own) are not
            // passed on: the reporter puts each line on one of its own anyway.
            Event::Log(_, line) if line.trim().is_empty() => {}
            Event::Log(n, line) => {
                let tail = &mut self.workers[n].tail;
                tail.push_back(line.clone());
                if tail.len() > 3 {
                    tail.pop_front();
                }
                self.reporter.log(&line);
            }
            Event::StdoutClosed(n) => {
                let worker = &mut self.workers[n];
                let pid = worker.child.id();
                // Out of the list before it is reaped: its pid must not be signalled once free.
                if let Ok(mut pids) = self.jobs.lock() {
                    pids.retain(|p| *p != pid);
                }
                worker.stdin = None;
                if let Ok(status) = worker.child.wait() {
                    worker.exited = Some((status, Instant::now()));
                } else {
                    worker.finished = true;
                }
            }
            Event::LogClosed(n) => self.workers[n].log_open = false,
        }
    }

    /// A worker has ended: the scenario it was running is lost (an error, unless the run was
    /// stopped before it began); a replacement takes the rest of the queue.
    fn finish(&mut self, n: usize) {
        use std::os::unix::process::ExitStatusExt;
        let worker = &mut self.workers[n];
        worker.finished = true;
        let Some((status, _)) = worker.exited else { return };
        let lost = worker.assigned.take();
        let stopping = self.stop.requested().is_some();
        if let Some(lost) = &lost
            && (lost.began || !stopping)
        {
            let how = exit_text(status);
            let mut why = if lost.began {
                let died = if status.signal().is_some() { "died" } else { "exited before its result" };
                format!("the parallel job running it {died} ({how})")
            } else {
                format!("the parallel job it was handed to ended before beginning it ({how})")
            };
            if !worker.tail.is_empty() {
                let tail: Vec<&str> = worker.tail.iter().map(String::as_str).collect();
                why.push_str(&format!("; the end of its log: {}", tail.join(" | ")));
            }
            let result = errored(&lost.id, why);
            self.reporter.result(&result);
            self.results.push(result);
        }
        if lost.is_none() && status.signal().is_none() {
            return;
        }
        // It did not end as asked: what it left in the temporary folder (its bench's, its
        // pcscd's) goes, and its DUT's process group is killed, as the next run would do.
        for removed in seedrig::children::sweep_leftovers() {
            tracing::info!(path = %removed.display(), "removed what a dead parallel job left");
        }
        if !stopping && !self.queue.is_empty() {
            self.start_worker();
        }
    }
}

/// `exit status 101`, `signal 9, SIGKILL`.
fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let Some(signal) = status.signal() else { return status.to_string() };
    let name = match signal {
        1 => ", SIGHUP",
        2 => ", SIGINT",
        4 => ", SIGILL",
        6 => ", SIGABRT",
        7 => ", SIGBUS",
        9 => ", SIGKILL",
        11 => ", SIGSEGV",
        13 => ", SIGPIPE",
        15 => ", SIGTERM",
        _ => "",
    };
    let core = if status.core_dumped() { ", core dumped" } else { "" };
    format!("signal {signal}{name}{core}")
}

/// Passes on a worker's reports, each line as it comes.
fn read_reports(n: usize, out: std::process::ChildStdout, tx: Sender<Event>) {
    for_each_line(out, |text| {
        let event = match serde_json::from_str::<Report>(text) {
            Ok(report) => Event::Report(n, report),
            // A report cut short (the worker died while writing it) is not passed on raw.
            Err(_) if text.starts_with("{\"") => {
                Event::Log(n, format!("a parallel job's report was cut short ({} bytes)", text.len()))
            }
            Err(_) => Event::Output(text.to_owned()),
        };
        tx.send(event).is_ok()
    });
    let _ = tx.send(Event::StdoutClosed(n));
}

/// Passes on a worker's log, line by line.
fn read_log(n: usize, err: std::process::ChildStderr, tx: Sender<Event>) {
    for_each_line(err, |text| tx.send(Event::Log(n, text.to_owned())).is_ok());
    let _ = tx.send(Event::LogClosed(n));
}

/// Calls `each` with every line of `from` (its line end cut, bytes that are not UTF-8
/// replaced) until the stream ends or `each` returns false.
fn for_each_line(from: impl std::io::Read, mut each: impl FnMut(&str) -> bool) {
    let mut reader = std::io::BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !each(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r'])) {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The worker.

/// A worker of a parallel run (`run --as-job`): runs the scenarios its parent names on stdin,
/// one after the other on one warm bench, and reports on stdout; ends when stdin closes or the
/// run is stopped.
pub fn work(catalog: &Catalog, rig: &Rig, options: &RunOptions, repeat: Repeat) -> ExitCode {
    let from_parent = FromParent { lines: std::io::stdin().lock().lines(), catalog };
    let mut to_parent = ToParent { abort_on: std::env::var(TEST_ABORT_ON).ok() };
    run_each(catalog, rig, from_parent, options, repeat, &mut to_parent);
    match options.stop.requested() {
        Some(signal) => ExitCode::from(128 + signal as u8),
        None => ExitCode::SUCCESS,
    }
}

/// The scenario names the parent sends, one a line, until it closes stdin.
struct FromParent<'a> {
    lines: std::io::Lines<std::io::StdinLock<'static>>,
    catalog: &'a Catalog,
}

impl Iterator for FromParent<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            let line = self.lines.next()?.ok()?;
            let id = line.trim();
            if id.is_empty() {
                continue;
            }
            if self.catalog.scenarios.contains_key(id) {
                return Some(id.to_owned());
            }
            // The fixtures changed under the run: the parent named a scenario this worker's
            // fixtures do not hold.
            let missing = errored(id, format!("the parallel job's fixtures have no scenario {id}"));
            send(&Report::Result(Box::new(missing)));
        }
    }
}

/// Reports to the parent on stdout.
struct ToParent {
    abort_on: Option<String>,
}

impl Sink for ToParent {
    fn show(&mut self, id: &str) {
        send(&Report::Started(id.to_owned()));
        if self.abort_on.as_deref() == Some(id) {
            let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        }
    }

    fn done(&mut self, id: &str, wall: Duration) {
        send(&Report::Ran { scenario: id.to_owned(), wall });
    }

    fn result(&mut self, result: &ScenarioResult) {
        send(&Report::Result(Box::new(result.clone())));
    }
}

/// One report, one line, in one write. A parent that is gone is not an error here: its death
/// signal stops this worker.
fn send(report: &Report) {
    let Ok(mut line) = serde_json::to_string(report) else { return };
    line.push('\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
}
