//! `seedrig run --jobs N`: several virtual benches side by side, each a worker process of its
//! own (a process talks to one pcscd).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use seedrig::run::ScenarioResult;
use seedrig::run::stop::Stop;

use super::run::{RunArgs, errored, print_result};

/// The pids of `--jobs` worker processes, to pass a stop on to.
pub type JobChildren = Arc<Mutex<Vec<u32>>>;

/// Runs the scenarios on `jobs` virtual benches side by side: one child process each (a process
/// talks to one pcscd), scenarios dealt round-robin, results merged in scenario order.
pub fn run_parallel(
    fixtures: &Path,
    args: &RunArgs,
    parallel: usize,
    ids: &[String],
    stop: &Stop,
    jobs: &JobChildren,
) -> Vec<ScenarioResult> {
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
    for job in 0..parallel {
        let share: Vec<&String> = ids.iter().skip(job).step_by(parallel).collect();
        let out = dir.path().join(format!("job{job}.json"));
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--fixtures").arg(fixtures).arg("run").arg("--rig").arg(&args.rig).arg("--exact");
        cmd.arg("--jobs").arg("1").arg("--as-job");
        cmd.arg("--results-json").arg(&out).args(share.iter().map(|s| s.as_str()));
        if args.repeat > 1 {
            cmd.arg("--repeat").arg(args.repeat.to_string());
        }
        if args.until_fail {
            cmd.arg("--until-fail");
        }
        if let Some(f) = &args.fault {
            cmd.arg("--firmware-fault").arg(f);
        }
        // Each job prints its results as they come (one write each); they are passed on.
        cmd.stdout(std::process::Stdio::piped()).stdin(std::process::Stdio::null());
        // A job is not in the terminal's process group: a Ctrl-C reaches this process only,
        // which passes it on once (a second one would make the job quit without its results).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        // A worker dies with this process, however it ends.
        seedrig::children::die_with_parent(&mut cmd, rustix::process::Signal::TERM);
        let mut child = cmd.spawn();
        let mut printer = None;
        if let Ok(c) = &mut child {
            if let Ok(mut pids) = jobs.lock() {
                pids.push(c.id());
            }
            printer = c.stdout.take().map(|out| std::thread::spawn(move || pass_on(out)));
        }
        children.push((child, printer, out, share));
    }
    let mut results = Vec::new();
    for (child, printer, out, share) in children {
        let outcome = child.and_then(|mut c| c.wait()).map_err(|e| e.to_string());
        // Everything the job printed is out before the summary.
        let _ = printer.map(std::thread::JoinHandle::join);
        let parsed: Option<Vec<ScenarioResult>> =
            std::fs::read_to_string(&out).ok().and_then(|text| serde_json::from_str(&text).ok());
        match (outcome, parsed) {
            (_, Some(mut rs)) => results.append(&mut rs),
            // Stopped before it could say: its scenarios were not run.
            (_, None) if stop.requested().is_some() => {}
            (status, None) => {
                let why = format!("the parallel job running it ended without results ({status:?})");
                let lost: Vec<ScenarioResult> = share.iter().map(|id| errored(id, why.clone())).collect();
                lost.iter().for_each(print_result);
                results.extend(lost);
            }
        }
    }
    results.sort_by_key(|r| ids.iter().position(|id| *id == r.scenario));
    results
}

/// Copies a job's output to ours as it arrives, each read in one write.
fn pass_on(mut from: std::process::ChildStdout) {
    use std::io::{Read, Write};
    let mut buf = [0u8; 8192];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let _ = std::io::stdout().lock().write_all(&buf[..n]);
    }
}
