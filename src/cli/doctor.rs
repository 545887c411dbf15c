//! `seedrig doctor [--rig FILE] [--lock-timeout SECONDS]`: is the bench ready? One row per part
//! the rig file names, with what was found; then every problem, named. A lab bench is examined
//! under its lock; one another run still holds after `--lock-timeout` is busy, which is no
//! problem (the parts that run uses are looked at, not touched).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use seedrig::bench::doctor::{LockState, Row, examine, take_lock};
use seedrig::model::RigKind;

use super::{load_clean, table::Table};

/// Exit code when any part is missing or does not answer.
const EXIT_NOT_READY: u8 = 1;

pub fn run(fixtures: &Path, rig_file: &Path, lock_timeout: Duration) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rig = match super::load_rig_any(fixtures, rig_file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_NOT_READY);
        }
    };
    let kind = match rig.kind {
        RigKind::Virtual { .. } => {
            "virtual bench: its world is brought up for one scenario and taken down again"
        }
        RigKind::Lab(_) => "lab bench: every part is looked at, nothing is changed and no hook runs",
    };
    // Like a run, the doctor waits for a lab bench another run holds; unlike a run, it does
    // not give up when the wait is over: a busy bench is not a broken one.
    let (_bench_lock, lock) = take_lock(&rig, lock_timeout, |holder| {
        if !lock_timeout.is_zero() {
            eprintln!("waiting for bench {}: held by {holder} (up to {lock_timeout:?})", rig.name);
        }
    });
    println!("bench {} ({}), a {kind}", rig.name, rig_file.display());
    println!();
    let rows = runtime.block_on(examine(&loaded.catalog, &rig, &super::firmware_binary(), &lock));
    // Probe threads stuck in a wedged PC/SC or USB call must not keep the doctor alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    print!("{}", render(&rows));
    let problems: Vec<&Row> = rows.iter().filter(|r| !r.ok).collect();
    println!();
    let busy = rows.iter().filter(|r| r.busy).count();
    if problems.is_empty() {
        match &lock {
            LockState::Busy { holder, .. } => println!(
                "busy, otherwise ready: bench {} is held by {holder}; {} part(s) answered, {} in use by its run were looked at, not touched",
                rig.name,
                rows.len() - busy,
                busy.saturating_sub(1)
            ),
            _ => println!("ready: all {} part(s) of bench {} answered", rows.len(), rig.name),
        }
        return ExitCode::SUCCESS;
    }
    println!("not ready: {} problem(s) on bench {}:", problems.len(), rig.name);
    for row in &problems {
        println!("  - {}: {}", row.part, row.found);
    }
    ExitCode::from(EXIT_NOT_READY)
}

/// The rows as an aligned table: part, ok or PROBLEM, what was found.
fn render(rows: &[Row]) -> String {
    let mut table = Table::new(&["part", "status", "found"]);
    for row in rows {
        let status = match (row.ok, row.busy) {
            (false, _) => "PROBLEM",
            (true, true) => "busy",
            (true, false) => "ok",
        };
        table.row(vec![row.part.clone(), status.into(), row.found.clone()]);
    }
    table.render()
}
