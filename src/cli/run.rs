//! `seedrig run`: every (filtered) scenario on a bench, as test cases.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seedrig::model::{Catalog, Rig};
use seedrig::run::partition::Partition;
use seedrig::run::stop::{Stop, signal_name};
use seedrig::run::{RunOptions, Runner, ScenarioResult, Verdict};

use super::EXIT_CONFIG;
use super::jobs::{JobChildren, run_parallel};
use super::report::{Reporter, Sink};

pub struct RunArgs {
    pub rig: PathBuf,
    pub filters: Vec<String>,
    pub exact: bool,
    pub junit: Option<PathBuf>,
    pub timelines: Option<PathBuf>,
    /// Write each scenario's card trace (pcapng) here.
    pub pcap: Option<PathBuf>,
    pub fault: Option<String>,
    /// Benches side by side (each a process of its own, with its own pcscd); `None`: as many
    /// as the machine has cores on a virtual bench, one on a lab bench.
    pub jobs: Option<usize>,
    /// Write the results as JSON here (how parallel jobs hand theirs back).
    pub results_json: Option<PathBuf>,
    /// One job of a parallel run: no summary (the parent sums all jobs up).
    pub as_job: bool,
    /// Run only this share of the selected scenarios.
    pub partition: Option<Partition>,
    /// Run each scenario this many times.
    pub repeat: u32,
    /// Stop repeating a scenario at its first run that does not pass.
    pub until_fail: bool,
    /// A flaky scenario does not fail the run.
    pub allow_flaky: bool,
    /// How long to wait for a lab bench another run holds.
    pub lock_timeout: std::time::Duration,
    /// Run a scenario that ended in ERROR again, up to this many times.
    pub retry_errors: u32,
    /// The firmware under test, as the pipeline names it.
    pub firmware_id: Option<String>,
    /// The firmware image under test (its sha256 is reported).
    pub firmware_image: Option<PathBuf>,
}

/// `run`'s exit code when no scenario failed but the bench broke in at least one.
pub const EXIT_BENCH_ERROR: u8 = 3;

pub fn run(fixtures: &Path, args: RunArgs) -> ExitCode {
    // Mistakes in files the selected scenarios do not use are printed and leave them be.
    let loaded = match super::load_for_run(fixtures, &args.filters, args.exact, args.as_job) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rig = match super::load_rig_any(fixtures, &args.rig) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let lab = matches!(rig.kind, seedrig::model::RigKind::Lab(_));
    if let Some(jobs) = args.jobs.filter(|j| *j > 1 && lab) {
        eprintln!(
            "error: --jobs {jobs}: bench {} is a lab bench, which runs one DUT at a time; run it with --jobs 1 \
             (several lab benches share a suite as separate runs)",
            rig.name
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    // Workers of a parallel run report to their parent, which names what was tested.
    let identity = if args.as_job {
        seedrig::report::Identity::default()
    } else {
        match seedrig::report::Identity::gather(
            args.firmware_id.as_deref(),
            args.firmware_image.as_deref(),
            fixtures,
        ) {
            Ok(identity) => identity,
            Err(e) => {
                eprintln!("error: {e}; give the path of the firmware image under test");
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    };
    let mut selected = select(&loaded.catalog, &args.filters, args.exact);
    if selected.is_empty() {
        eprintln!("error: no scenario matches {:?}; `seedrig list` shows them all", args.filters);
        return ExitCode::from(EXIT_CONFIG);
    }
    if let Some(partition) = &args.partition {
        let all = selected.len();
        let catalog = &loaded.catalog;
        selected = partition
            .select(&selected, |id| seedrig::method::expected_duration_ms(catalog, &catalog.scenarios[id]));
        println!("partition {partition}: {} of {all} scenarios", selected.len());
    }
    // One run per lab bench: wait for the bench while another run holds it (never for a
    // virtual bench). The kernel releases the lock however this process ends.
    let _bench_lock = match seedrig::bench::lock::acquire(&rig, args.lock_timeout, |holder| {
        eprintln!("waiting for bench {}: held by {holder} (up to {:?})", rig.name, args.lock_timeout);
    }) {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("error: {e}; --lock-timeout sets how long to wait");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for leftover in seedrig::children::sweep_leftovers() {
        eprintln!("note: removed {}, left by a seedrig run that was killed", leftover.display());
    }
    let stop = Stop::default();
    let jobs = JobChildren::default();
    watch_signals(stop.clone(), jobs.clone());
    let parallel = args.jobs.unwrap_or(if lab { 1 } else { machine_cores() }).min(selected.len());
    let results = if parallel > 1 {
        run_parallel(fixtures, &loaded.catalog, &rig, &args, parallel, &selected, &stop, &jobs)
    } else {
        let options = RunOptions {
            firmware_binary: super::firmware_binary(),
            fault: args.fault.clone(),
            sabotage: None,
            stop: stop.clone(),
        };
        let repeat = Repeat {
            times: args.repeat.max(1),
            until_fail: args.until_fail,
            retry_errors: args.retry_errors,
        };
        if args.as_job {
            // A worker of a parallel run: scenarios from its parent, reports to it (jobs.rs).
            return super::jobs::work(&loaded.catalog, &rig, &options, repeat);
        }
        run_all(&loaded.catalog, &rig, &selected, &options, repeat)
    };
    if let Some(path) = &args.results_json {
        let json = serde_json::to_string(&results).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: cannot write {}: {e}", path.display());
        }
    }
    // A job of a parallel run hands its results back; the parent sums them all up.
    if !args.as_job {
        print_summary(&results, args.repeat > 1, &identity);
    }
    if let Some(path) = &args.junit {
        let partition = args.partition.map(|p| p.to_string());
        match seedrig::report::junit(&rig.name, partition.as_deref(), args.allow_flaky, &identity, &results) {
            Ok(xml) => {
                if let Err(e) = std::fs::write(path, xml) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
            Err(e) => eprintln!("error: JUnit report: {e}"),
        }
    }
    if let Some(dir) = &args.timelines
        && let Err(e) = seedrig::report::write_timelines(dir, &identity, &results)
    {
        eprintln!("error: cannot write timelines to {}: {e}", dir.display());
    }
    if let Some(dir) = args.pcap.as_ref().filter(|d| args.timelines.as_ref() != Some(*d))
        && let Err(e) = seedrig::report::write_card_traces(dir, &identity, &results)
    {
        eprintln!("error: cannot write card traces to {}: {e}", dir.display());
    }
    if let Some(signal) = stop.requested() {
        eprintln!(
            "stopped by {}: {} of {} scenarios run",
            signal_name(signal),
            results.len(),
            selected.len()
        );
        return ExitCode::from(128 + signal as u8);
    }
    ExitCode::from(exit_code(&results, args.allow_flaky))
}

/// 1 when the firmware failed anywhere (a flaky scenario with a failing run too, unless
/// allowed), else 3 when the bench broke anywhere (a flaky scenario whose bad runs were all
/// bench errors too, unless allowed), else 0.
pub fn exit_code(results: &[ScenarioResult], allow_flaky: bool) -> u8 {
    let (mut failed, mut errored) = (false, false);
    for r in results {
        match r.repeat.as_ref().filter(|s| s.flaky()) {
            Some(_) if allow_flaky => {}
            Some(stats) => {
                failed |= stats.fails > 0;
                errored |= stats.errors > 0;
            }
            None => {
                failed |= r.verdict == Verdict::Fail;
                errored |= matches!(r.verdict, Verdict::Error(_));
            }
        }
    }
    if failed {
        1
    } else if errored {
        EXIT_BENCH_ERROR
    } else {
        0
    }
}

/// Listens for SIGINT and SIGTERM for the whole run, on a thread of its own: the first asks the
/// runner to stop (and passes the same signal on to job workers, which stop the same way); a second
/// SIGINT ends the process at once — its children die with it (parent-death signals).
fn watch_signals(stop: Stop, jobs: JobChildren) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    // Registered here, before the thread starts: from now on a signal is ours to handle.
    let handlers = runtime.block_on(async {
        Some((signal(SignalKind::interrupt()).ok()?, signal(SignalKind::terminate()).ok()?))
    });
    let Some((mut int, mut term)) = handlers else { return };
    std::thread::spawn(move || {
        runtime.block_on(async move {
            loop {
                let signal = tokio::select! {
                    _ = int.recv() => 2,
                    _ = term.recv() => 15,
                };
                if signal == 2 && stop.requested().is_some() {
                    eprintln!("\nsecond SIGINT: stopping at once");
                    std::process::exit(130);
                }
                stop.request(signal);
                eprintln!(
                    "\n{}: ending the scenario under way and taking the bench down",
                    signal_name(signal)
                );
                // The same signal, so each job's reports name the one the run got.
                let pass =
                    if signal == 2 { rustix::process::Signal::INT } else { rustix::process::Signal::TERM };
                for pid in jobs.lock().map(|v| v.clone()).unwrap_or_default() {
                    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                        let _ = rustix::process::kill_process(pid, pass);
                    }
                }
            }
        });
    });
}

/// Scenario ids matching any filter (substring, or whole name with `exact`); all without filters.
pub fn select(catalog: &Catalog, filters: &[String], exact: bool) -> Vec<String> {
    catalog
        .scenarios
        .keys()
        .filter(|id| {
            filters.is_empty()
                || filters.iter().any(|f| if exact { *id == f } else { id.contains(f.as_str()) })
        })
        .cloned()
        .collect()
}

/// The default number of virtual benches side by side: one per core.
fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn errored(id: &str, reason: String) -> ScenarioResult {
    ScenarioResult::ended(id, Verdict::Error(reason), std::time::Duration::ZERO)
}

/// How often each scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    pub times: u32,
    pub until_fail: bool,
    /// Each run that ends in a bench ERROR runs again, up to this many times.
    pub retry_errors: u32,
}

/// Runs the scenarios one after the other on one bench (each `repeat.times` times); a live
/// progress line with an estimate of the time left on a terminal only.
pub fn run_all(
    catalog: &Catalog,
    rig: &Rig,
    ids: &[String],
    options: &RunOptions,
    repeat: Repeat,
) -> Vec<ScenarioResult> {
    let mut progress = Reporter::new(catalog, rig, ids, repeat.times, std::io::stderr().is_terminal(), 1);
    let results = run_each(catalog, rig, ids.iter().cloned(), options, repeat, &mut progress);
    progress.clear();
    results
}

/// Runs the scenarios as they come (a `--jobs` worker gets them from its parent) one after the
/// other on one bench, warmed up once, telling `progress` as it goes.
pub fn run_each(
    catalog: &Catalog,
    rig: &Rig,
    ids: impl IntoIterator<Item = String>,
    options: &RunOptions,
    repeat: Repeat,
    progress: &mut dyn Sink,
) -> Vec<ScenarioResult> {
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("error: cannot start the async runtime");
        return Vec::new();
    };
    let mut results = Vec::new();
    let mut runner = Runner::new(catalog, rig, options);
    if let Err(e) = runtime.block_on(runner.warm_up()) {
        tracing::warn!("bench warm-up: {e}");
    }
    for id in ids {
        let id = &id;
        let scenario = &catalog.scenarios[id];
        let mut runs = Vec::new();
        for _ in 0..repeat.times {
            if options.stop.requested().is_some() {
                break;
            }
            progress.show(id);
            let span = tracing::info_span!("scenario", id = %id);
            let result = seedrig::run::retry::with_retries(repeat.retry_errors, &options.stop, || {
                let span = span.clone();
                runtime.block_on(tracing::Instrument::instrument(runner.run(scenario), span))
            });
            tracing::info!(scenario = %id, verdict = ?result.verdict, "scenario done");
            progress.done(id, result.wall);
            let stop_here = repeat.until_fail && result.verdict != Verdict::Pass;
            runs.push(result);
            if stop_here {
                break;
            }
        }
        let result = if repeat.times > 1 { seedrig::run::repeat::aggregate(runs) } else { runs.pop() };
        if let Some(result) = result {
            progress.result(&result);
            results.push(result);
        }
        if options.stop.requested().is_some() {
            break;
        }
    }
    results
}

/// One scenario's result, printed in one write: lines of parallel jobs never interleave.
pub fn print_result(r: &ScenarioResult) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(result_text(r).as_bytes());
}

fn result_text(r: &ScenarioResult) -> String {
    if let Some(stats) = &r.repeat {
        return repeated_text(r, stats);
    }
    let nominal = format!("{:.1} s nominal, {:.1} s wall", r.nominal_ms / 1000.0, r.wall.as_secs_f64());
    match &r.verdict {
        Verdict::Pass => format!("PASS   {}  ({nominal})\n", r.scenario),
        Verdict::Fail => {
            let mut text = format!("FAIL   {}  ({nominal})\n", r.scenario);
            for f in r.failures() {
                text.push_str(&format!("         {f}\n"));
            }
            text
        }
        Verdict::Error(reason) => format!("ERROR  {}: {reason}\n", r.scenario),
        Verdict::Skipped(reason) => format!("SKIP   {}: {reason}\n", r.scenario),
    }
}

/// A repeated scenario: its runs counted apart, flaky when they disagree.
fn repeated_text(r: &ScenarioResult, s: &seedrig::run::repeat::RepeatStats) -> String {
    let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.2} s", v / 1000.0));
    let spread = format!(
        "{} runs: {} passed, {} failed, {} errors, {} skipped; success {:.0} %; time to winner p50 {}, p95 {}",
        s.runs,
        s.passes,
        s.fails,
        s.errors,
        s.skips,
        s.success_rate * 100.0,
        ms(s.time_to_winner_p50_ms),
        ms(s.time_to_winner_p95_ms)
    );
    let word = if s.flaky() {
        "FLAKY "
    } else {
        match r.verdict {
            Verdict::Pass => "PASS  ",
            Verdict::Fail => "FAIL  ",
            Verdict::Error(_) => "ERROR ",
            Verdict::Skipped(_) => "SKIP  ",
        }
    };
    let mut text = format!("{word} {}  ({spread})\n", r.scenario);
    match &r.verdict {
        Verdict::Fail => r.failures().iter().for_each(|f| text.push_str(&format!("         {f}\n"))),
        Verdict::Error(reason) | Verdict::Skipped(reason) => text.push_str(&format!("         {reason}\n")),
        Verdict::Pass => {}
    }
    text
}

fn print_summary(results: &[ScenarioResult], repeated: bool, identity: &seedrig::report::Identity) {
    let flaky = |r: &ScenarioResult| r.repeat.as_ref().is_some_and(|s| s.flaky());
    let count = |v: fn(&Verdict) -> bool| results.iter().filter(|r| !flaky(r) && v(&r.verdict)).count();
    let passed = count(|v| *v == Verdict::Pass);
    let failed = count(|v| *v == Verdict::Fail);
    let errors = count(|v| matches!(v, Verdict::Error(_)));
    let skipped = count(|v| matches!(v, Verdict::Skipped(_)));
    let flaky = if repeated {
        format!(", {} flaky", results.iter().filter(|r| flaky(r)).count())
    } else {
        String::new()
    };
    println!(
        "\n{} scenarios: {passed} passed, {failed} failed, {errors} errors, {skipped} skipped{flaky}",
        results.len()
    );
    let retried: Vec<String> = results.iter().filter(|r| !r.retried.is_empty()).map(retried_text).collect();
    if !retried.is_empty() {
        println!("retried after a bench error: {}", retried.join("; "));
    }
    println!("tested: {}", identity.line());
}

/// `master-reject (1 retry after "reader vanished"; passed)`.
fn retried_text(r: &ScenarioResult) -> String {
    let n = r.retried.len();
    let last = match &r.verdict {
        Verdict::Pass => "passed".to_owned(),
        Verdict::Fail => "then FAILED".to_owned(),
        Verdict::Error(_) => "still an ERROR".to_owned(),
        Verdict::Skipped(_) => "then skipped".to_owned(),
    };
    let first = r.retried.first().map(|t| t.reason.as_str()).unwrap_or_default();
    format!("{} ({n} {} after \"{first}\"; {last})", r.scenario, if n == 1 { "retry" } else { "retries" })
}
