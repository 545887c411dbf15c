//! Runner figures over the whole starter suite on the virtual bench, printed beside targets:
//!   (a) harness overhead per scenario on one warm bench: wall time minus the firmware's own
//!       run (from `start` to its outcome and settle period), i.e. bring-up, checks, tear-down;
//!   (b) timing accuracy: when the rig stamped the firmware's `connected` line minus when the
//!       network's ground truth delivered the winner's data (both on the rig's clock);
//!   (c) wall time of the whole suite on one bench at time scale 0.05 and at 0.01;
//!   (d) `seedrig run --jobs 1/2/4` over the same scenarios at 0.01: wall time, speed-up over
//!       one job, and any scenario that did not pass (a late bench must be an error, never a
//!       failure);
//!   (e) how long writing one scenario's artefacts takes (`--timelines`: its JSON, its page,
//!       its card trace and its two logs), over the results of (a)'s run, five times each.
//!
//! Run: cargo bench --bench suite   (needs the Debian packages of ci/setup-debian.sh)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seedrig::model::{Catalog, Rig};
use seedrig::run::{RunOptions, Runner, ScenarioResult, Verdict};

fn pct(mut v: Vec<f64>, q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

/// One bench, every scenario in turn, on one warm [`Runner`].
struct SuiteRun {
    /// Once per run: the pcscd with every seed's card.
    warm_up: Duration,
    wall: Duration,
    overheads_ms: Vec<f64>,
    errors_ms: Vec<f64>,
    passed: usize,
    failed: usize,
    errored: usize,
    results: Vec<ScenarioResult>,
}

fn run_suite(catalog: &Catalog, rig: &Rig, firmware: &Path) -> SuiteRun {
    let options = RunOptions {
        firmware_binary: firmware.to_owned(),
        fault: None,
        sabotage: None,
        stop: Default::default(),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut runner = Runner::new(catalog, rig, &options);
    let started = Instant::now();
    runtime.block_on(runner.warm_up()).expect("bench warm-up");
    let warm_up = started.elapsed();
    let mut run = SuiteRun {
        warm_up,
        wall: Duration::ZERO,
        overheads_ms: Vec::new(),
        errors_ms: Vec::new(),
        passed: 0,
        failed: 0,
        errored: 0,
        results: Vec::new(),
    };
    for scenario in catalog.scenarios.values() {
        let r = runtime.block_on(runner.run(scenario));
        match r.verdict {
            Verdict::Pass => run.passed += 1,
            Verdict::Fail => run.failed += 1,
            Verdict::Error(_) | Verdict::Skipped(_) => run.errored += 1,
        }
        run.overheads_ms.extend(r.overhead.map(|d: Duration| d.as_secs_f64() * 1000.0));
        run.errors_ms.extend(r.timing_error_ms);
        run.results.push(r);
    }
    run.wall = started.elapsed();
    run
}

/// `seedrig run --jobs N` on `rig_file`: wall time and the summary line.
fn run_jobs(jobs: usize, rig_file: &Path) -> (Duration, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .arg("--fixtures")
        .arg(root.join("fixtures"))
        .args(["run", "--jobs", &jobs.to_string(), "--rig"])
        .arg(rig_file)
        .output()
        .expect("seedrig run");
    let wall = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary = match text.lines().rfind(|l| l.contains(" scenarios: ")) {
        Some(line) => line.to_owned(),
        None => format!("(no summary: {})", String::from_utf8_lossy(&out.stderr).trim()),
    };
    (wall, summary)
}

/// Writes each result's artefacts `rounds` times into a scratch folder: the time of each whole
/// write (JSON, page, card trace, logs) and of the card trace and logs alone (encoded, not
/// written), in ms, and the card traces' sizes in bytes.
fn artefact_times(results: &[ScenarioResult], rounds: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let dir = tempfile::Builder::new()
        .prefix("suite-artefacts-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("dir");
    let identity = seedrig::report::Identity::default();
    let (mut whole, mut evidence, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        for r in results {
            let started = Instant::now();
            seedrig::report::write_scenario(dir.path(), &identity, r).expect("artefacts written");
            whole.push(started.elapsed().as_secs_f64() * 1000.0);
            let started = Instant::now();
            let pcap = seedrig::report::pcap::card_trace(r, &identity);
            let logs =
                seedrig::report::logs::console_log(r).len() + seedrig::report::logs::observer_log(r).len();
            evidence.push(started.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(logs);
            sizes.push(pcap.len() as f64);
        }
    }
    (whole, evidence, sizes)
}

fn firmware_binary(root: &Path) -> PathBuf {
    let release = root.join("target/release/seedrig-firmware");
    if release.exists() { release } else { root.join("target/debug/seedrig-firmware") }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = seedrig::fixture::load_default(root).expect("fixtures").catalog;
    let firmware = firmware_binary(root);
    let rig = catalog.rigs["virtual"].clone();
    let fast = Rig { time_scale: 0.01, name: "virtual@0.01".into(), ..rig.clone() };
    let n = catalog.scenarios.len();

    let normal = run_suite(&catalog, &rig, &firmware);
    println!(
        "starter suite, one warm virtual bench at time_scale {}: {n} scenarios, {} passed, {} failed, {} errors",
        rig.time_scale, normal.passed, normal.failed, normal.errored
    );
    let (p50, p99) = (pct(normal.overheads_ms.clone(), 0.5), pct(normal.overheads_ms.clone(), 0.99));
    println!(
        "(a) harness overhead per scenario   p50 {p50:6.1} ms (target ≤ 10 ms: {})   p99 {p99:6.1} ms (target ≤ 30 ms: {})   max {:6.1} ms",
        met(p50 <= 10.0),
        met(p99 <= 30.0),
        pct(normal.overheads_ms.clone(), 1.0)
    );
    println!(
        "    once per run, before the first scenario: pcscd with every seed's card, {:.1} ms",
        normal.warm_up.as_secs_f64() * 1000.0
    );
    let e99 = pct(normal.errors_ms.clone(), 0.99);
    println!(
        "(b) timing accuracy (rig − truth)  p50 {:6.2} ms   p99 {e99:6.2} ms (target ≤ 1 ms: {})   max {:6.2} ms   over {} winners",
        pct(normal.errors_ms.clone(), 0.5),
        met(e99 <= 1.0),
        pct(normal.errors_ms.clone(), 1.0),
        normal.errors_ms.len()
    );
    println!(
        "(c) suite wall time, one bench, time_scale {}:  {:5.1} s   (target < 60 s: {})",
        rig.time_scale,
        normal.wall.as_secs_f64(),
        met(normal.wall < Duration::from_secs(60) && normal.passed == n)
    );
    let quick = run_suite(&catalog, &fast, &firmware);
    println!(
        "    suite wall time, one bench, time_scale 0.01:  {:5.1} s   (target < 15 s, every scenario passing: {}) — {} passed, {} failed, {} errors",
        quick.wall.as_secs_f64(),
        met(quick.wall < Duration::from_secs(15) && quick.passed == n),
        quick.passed,
        quick.failed,
        quick.errored
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let rig_file = dir.path().join("virtual-fast.toml");
    std::fs::write(&rig_file, "kind = \"virtual\"\nname = \"virtual-fast\"\nslots = 6\ntime_scale = 0.01\n")
        .expect("rig file");
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("(d) seedrig run --jobs N at time_scale 0.01, {n} scenarios, {cores} cores:");
    let mut one = None;
    for jobs in [1, 2, 4] {
        let (wall, summary) = run_jobs(jobs, &rig_file);
        let base = *one.get_or_insert(wall);
        // The reference firmware is correct: any failure is a false one. A late bench may
        // give errors, never failures.
        println!(
            "    --jobs {jobs}: {:5.1} s   speed-up ×{:.2}   {summary}   (no false failure: {})",
            wall.as_secs_f64(),
            base.as_secs_f64() / wall.as_secs_f64(),
            met(summary.contains(" 0 failed,"))
        );
    }
    let (whole, evidence, sizes) = artefact_times(&normal.results, 5);
    let w50 = pct(whole.clone(), 0.5);
    println!(
        "(e) writing a scenario's artefacts (json, page, pcapng, console and observer logs), {n} scenarios × 5:   p50 {w50:6.2} ms (target ≤ 10 ms: {})   p99 {:6.2} ms   max {:6.2} ms",
        met(w50 <= 10.0),
        pct(whole.clone(), 0.99),
        pct(whole, 1.0)
    );
    println!(
        "    of which the card trace and the logs (encoding alone):   p50 {:6.2} ms   p99 {:6.2} ms;   card trace p50 {:.1} KB, max {:.1} KB",
        pct(evidence.clone(), 0.5),
        pct(evidence, 0.99),
        pct(sizes.clone(), 0.5) / 1024.0,
        pct(sizes, 1.0) / 1024.0
    );
}
