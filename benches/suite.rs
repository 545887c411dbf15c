//! Runner figures over the whole starter suite on the virtual bench, printed:
//!   (a) harness overhead per scenario: wall time minus the firmware's own failover time
//!       (from `start` to its outcome), i.e. bench bring-up, checks and tear-down;
//!   (b) timing accuracy: when the rig stamped the firmware's `connected` line minus when the
//!       network's ground truth delivered the winner's data (both on the rig's clock);
//!   (c) wall time of the whole suite at the default time scale, one bench at a time.
//! Targets: overhead ≤ 30 ms per scenario, accuracy within 1 ms at p99, suite < 60 s.
//!
//! Run: cargo bench --bench suite   (needs the Debian packages of ci/setup-debian.sh)

use std::path::Path;
use std::time::{Duration, Instant};

use seedrig::run::{RunOptions, Verdict, run_scenario};

fn pct(mut v: Vec<f64>, q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = seedrig::fixture::load_default(root).expect("fixtures").catalog;
    let rig = catalog.rigs["virtual"].clone();
    let firmware = root.join("target/release/seedrig-firmware");
    let firmware = if firmware.exists() { firmware } else { root.join("target/debug/seedrig-firmware") };
    let options =
        RunOptions { firmware_binary: firmware, fault: None, sabotage: None, stop: Default::default() };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let suite = Instant::now();
    let mut overheads = Vec::new();
    let mut errors_ms = Vec::new();
    let mut verdicts = (0, 0, 0);
    for scenario in catalog.scenarios.values() {
        let r = runtime.block_on(run_scenario(&catalog, scenario, &rig, &options));
        match r.verdict {
            Verdict::Pass => verdicts.0 += 1,
            Verdict::Fail => verdicts.1 += 1,
            Verdict::Error(_) | Verdict::Skipped(_) => verdicts.2 += 1,
        }
        overheads.extend(r.overhead.map(|d: Duration| d.as_secs_f64() * 1000.0));
        errors_ms.extend(r.timing_error_ms);
    }
    let wall = suite.elapsed();
    println!(
        "starter suite on the virtual bench (time_scale {}), {} scenarios: {} passed, {} failed, {} errors",
        rig.time_scale,
        catalog.scenarios.len(),
        verdicts.0,
        verdicts.1,
        verdicts.2
    );
    println!(
        "(a) harness overhead per scenario   p50 {:6.1} ms   p99 {:6.1} ms   max {:6.1} ms   (target ≤ 30 ms)",
        pct(overheads.clone(), 0.5),
        pct(overheads.clone(), 0.99),
        pct(overheads, 1.0)
    );
    println!(
        "(b) timing accuracy (rig − truth)  p50 {:6.2} ms   p99 {:6.2} ms   max {:6.2} ms   over {} winners (target ≤ 1 ms at p99)",
        pct(errors_ms.clone(), 0.5),
        pct(errors_ms.clone(), 0.99),
        pct(errors_ms.clone(), 1.0),
        errors_ms.len()
    );
    println!("(c) suite wall time, one bench:     {:.1} s   (target < 60 s)", wall.as_secs_f64());
}
