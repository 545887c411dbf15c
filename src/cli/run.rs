//! `seedrig run`: every (filtered) scenario on a bench, as test cases.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use seedrig::model::{Catalog, Rig};
use seedrig::run::stop::{Stop, signal_name};
use seedrig::run::{RunOptions, Runner, ScenarioResult, Verdict};

use super::{EXIT_CONFIG, load_clean};

pub struct RunArgs {
    pub rig: PathBuf,
    pub filters: Vec<String>,
    pub exact: bool,
    pub junit: Option<PathBuf>,
    pub timelines: Option<PathBuf>,
    pub fault: Option<String>,
    /// Benches side by side (each a process of its own, with its own pcscd).
    pub jobs: usize,
    /// Write the results as JSON here (how parallel jobs hand theirs back).
    pub results_json: Option<PathBuf>,
}

pub fn run(fixtures: &Path, args: RunArgs) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rig = match super::load_rig_any(fixtures, &args.rig) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if args.jobs > 1 && matches!(rig.kind, seedrig::model::RigKind::Lab(_)) {
        eprintln!(
            "error: --jobs {}: bench {} is a lab bench, which runs one DUT at a time; run it with --jobs 1 \
             (several lab benches share a suite as separate runs)",
            args.jobs, rig.name
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let selected = select(&loaded.catalog, &args.filters, args.exact);
    if selected.is_empty() {
        eprintln!("error: no scenario matches {:?}; `seedrig list` shows them all", args.filters);
        return ExitCode::from(EXIT_CONFIG);
    }
    for leftover in seedrig::children::sweep_leftovers() {
        eprintln!("note: removed {}, left by a seedrig run that was killed", leftover.display());
    }
    let stop = Stop::default();
    let jobs = JobChildren::default();
    watch_signals(stop.clone(), jobs.clone());
    let results = if args.jobs > 1 {
        run_parallel(fixtures, &args, &selected, &stop, &jobs)
    } else {
        let options = RunOptions {
            firmware_binary: super::firmware_binary(),
            fault: args.fault.clone(),
            sabotage: None,
            stop: stop.clone(),
        };
        run_all(&loaded.catalog, &rig, &selected, &options)
    };
    if let Some(path) = &args.results_json {
        let json = serde_json::to_string(&results).unwrap_or_default();
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: cannot write {}: {e}", path.display());
        }
    }
    print_summary(&results);
    if let Some(path) = &args.junit {
        match seedrig::report::junit(&rig.name, &results) {
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
        && let Err(e) = seedrig::report::write_timelines(dir, &results)
    {
        eprintln!("error: cannot write timelines to {}: {e}", dir.display());
    }
    if let Some(signal) = stop.requested() {
        eprintln!("stopped by {}: {} of {} scenarios run", signal_name(signal), results.len(), selected.len());
        return ExitCode::from(128 + signal as u8);
    }
    let bad = results.iter().any(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error(_)));
    if bad { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// The pids of `--jobs` worker processes, to pass a stop on to.
type JobChildren = Arc<Mutex<Vec<u32>>>;

/// Listens for SIGINT and SIGTERM for the whole run, on a thread of its own: the first asks the
/// runner to stop (and passes SIGTERM on to job workers, which stop the same way); a second
/// SIGINT ends the process at once — its children die with it (parent-death signals).
fn watch_signals(stop: Stop, jobs: JobChildren) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    // Registered here, before the thread starts: from now on a signal is ours to handle.
    let handlers = runtime.block_on(async { Some((signal(SignalKind::interrupt()).ok()?, signal(SignalKind::terminate()).ok()?)) });
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
                eprintln!("\n{}: ending the scenario under way and taking the bench down", signal_name(signal));
                for pid in jobs.lock().map(|v| v.clone()).unwrap_or_default() {
                    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
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

/// Runs the scenarios on `jobs` virtual benches side by side: one child process each (a process
/// talks to one pcscd), scenarios dealt round-robin, results merged in scenario order.
fn run_parallel(fixtures: &Path, args: &RunArgs, ids: &[String], stop: &Stop, jobs: &JobChildren) -> Vec<ScenarioResult> {
    let dir = match seedrig::children::private_temp_dir("jobs") {
        Ok(d) => d,
        Err(e) => {
            return ids
                .iter()
                .map(|id| errored(id, format!("cannot make a folder for the jobs: {e}")))
                .collect();
        }
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("seedrig"));
    let mut children = Vec::new();
    for job in 0..args.jobs.min(ids.len()) {
        let share: Vec<&String> = ids.iter().skip(job).step_by(args.jobs).collect();
        let out = dir.path().join(format!("job{job}.json"));
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--fixtures").arg(fixtures).arg("run").arg("--rig").arg(&args.rig).arg("--exact");
        cmd.arg("--results-json").arg(&out).args(share.iter().map(|s| s.as_str()));
        if let Some(f) = &args.fault {
            cmd.arg("--firmware-fault").arg(f);
        }
        cmd.stdout(std::process::Stdio::null());
        // A worker dies with this process, however it ends; a stop reaches it as SIGTERM.
        seedrig::children::die_with_parent(&mut cmd, rustix::process::Signal::TERM);
        let child = cmd.spawn();
        if let (Ok(c), Ok(mut pids)) = (&child, jobs.lock()) {
            pids.push(c.id());
        }
        children.push((child, out, share));
    }
    let mut results = Vec::new();
    for (child, out, share) in children {
        let outcome = child.and_then(|mut c| c.wait()).map_err(|e| e.to_string());
        let parsed: Option<Vec<ScenarioResult>> =
            std::fs::read_to_string(&out).ok().and_then(|text| serde_json::from_str(&text).ok());
        match (outcome, parsed) {
            (_, Some(mut rs)) => results.append(&mut rs),
            // Stopped before it could say: its scenarios were not run.
            (_, None) if stop.requested().is_some() => {}
            (status, None) => {
                let why = format!("the parallel job running it ended without results ({status:?})");
                results.extend(share.iter().map(|id| errored(id, why.clone())));
            }
        }
    }
    results.sort_by_key(|r| ids.iter().position(|id| *id == r.scenario));
    results.iter().for_each(print_result);
    results
}

fn errored(id: &str, reason: String) -> ScenarioResult {
    ScenarioResult::ended(id, Verdict::Error(reason), std::time::Duration::ZERO)
}

/// Runs the scenarios one after the other on one bench; progress on a terminal only.
pub fn run_all(catalog: &Catalog, rig: &Rig, ids: &[String], options: &RunOptions) -> Vec<ScenarioResult> {
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("error: cannot start the async runtime");
        return Vec::new();
    };
    let progress = std::io::stderr().is_terminal();
    let mut results = Vec::new();
    let mut runner = Runner::new(catalog, rig, options);
    for (i, id) in ids.iter().enumerate() {
        if options.stop.requested().is_some() {
            break;
        }
        if progress {
            eprint!("\r[{}/{}] {id} ...\x1b[K", i + 1, ids.len());
        }
        let scenario = &catalog.scenarios[id];
        let span = tracing::info_span!("scenario", id = %id);
        let result = runtime
            .block_on(tracing::Instrument::instrument(runner.run(scenario), span));
        tracing::info!(scenario = %id, verdict = ?result.verdict, "scenario done");
        if progress {
            eprint!("\r\x1b[K");
        }
        print_result(&result);
        results.push(result);
    }
    results
}

fn print_result(r: &ScenarioResult) {
    let nominal = format!("{:.1} s nominal, {:.1} s wall", r.nominal_ms / 1000.0, r.wall.as_secs_f64());
    match &r.verdict {
        Verdict::Pass => println!("PASS   {}  ({nominal})", r.scenario),
        Verdict::Fail => {
            println!("FAIL   {}  ({nominal})", r.scenario);
            for f in r.failures() {
                println!("         {f}");
            }
        }
        Verdict::Error(reason) => println!("ERROR  {}: {reason}", r.scenario),
        Verdict::Skipped(reason) => println!("SKIP   {}: {reason}", r.scenario),
    }
}

fn print_summary(results: &[ScenarioResult]) {
    let count = |v: fn(&Verdict) -> bool| results.iter().filter(|r| v(&r.verdict)).count();
    let passed = count(|v| *v == Verdict::Pass);
    let failed = count(|v| *v == Verdict::Fail);
    let errors = count(|v| matches!(v, Verdict::Error(_)));
    let skipped = count(|v| matches!(v, Verdict::Skipped(_)));
    println!(
        "\n{} scenarios: {passed} passed, {failed} failed, {errors} errors, {skipped} skipped",
        results.len()
    );
}
