//! `seedrig doctor [--rig FILE]`: is the bench ready? One row per part the rig file names, with
//! what was found; then every problem, named.

use std::path::Path;
use std::process::ExitCode;

use seedrig::bench::doctor::{Row, examine};
use seedrig::model::RigKind;

use super::{load_clean, table::Table};

/// Exit code when any part is missing or does not answer.
const EXIT_NOT_READY: u8 = 1;

pub fn run(fixtures: &Path, rig_file: &Path) -> ExitCode {
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
    println!("bench {} ({}), a {kind}", rig.name, rig_file.display());
    println!();
    let rows = runtime.block_on(examine(&loaded.catalog, &rig, &super::firmware_binary()));
    // Probe threads stuck in a wedged PC/SC or USB call must not keep the doctor alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    print!("{}", render(&rows));
    let problems: Vec<&Row> = rows.iter().filter(|r| !r.ok).collect();
    println!();
    if problems.is_empty() {
        println!("ready: all {} part(s) of bench {} answered", rows.len(), rig.name);
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
        table.row(vec![row.part.clone(), if row.ok { "ok" } else { "PROBLEM" }.into(), row.found.clone()]);
    }
    table.render()
}
