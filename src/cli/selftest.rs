//! `seedrig selftest`: the suite against each deliberately wrong firmware, to show the rig's
//! checks catch every kind of mistake.

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use seedrig::firmware::faults::FaultMode;
use seedrig::run::{RunOptions, Verdict};

use super::{load_clean, run};

pub fn selftest(fixtures: &Path, rig_file: &Path) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rig = match super::load_rig_any(fixtures, rig_file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let ids: Vec<String> = loaded.catalog.scenarios.keys().cloned().collect();
    let mut rows = Vec::new();
    for mode in FaultMode::value_variants() {
        println!("== firmware --fault {}", mode.name());
        let options = RunOptions {
            firmware_binary: super::firmware_binary(),
            fault: Some(mode.name().to_owned()),
            sabotage: None,
            stop: Default::default(),
        };
        let results =
            run::run_all(&loaded.catalog, &rig, &ids, &options, run::Repeat { times: 1, until_fail: false });
        let caught: Vec<String> =
            results.iter().filter(|r| r.verdict == Verdict::Fail).map(|r| r.scenario.clone()).collect();
        let errors = results.iter().filter(|r| matches!(r.verdict, Verdict::Error(_))).count();
        rows.push((mode.name(), caught, errors));
    }
    println!("\nfault mode          caught by (of {} scenarios)", ids.len());
    let mut all_caught = true;
    for (mode, caught, errors) in &rows {
        all_caught &= !caught.is_empty();
        let errors = if *errors > 0 { format!("  [{errors} bench errors]") } else { String::new() };
        println!(
            "{mode:<19} {:>2}: {}{errors}",
            caught.len(),
            if caught.is_empty() { "NOT CAUGHT".to_owned() } else { caught.join(", ") }
        );
    }
    if all_caught {
        println!("every fault mode was caught by at least one scenario");
        ExitCode::SUCCESS
    } else {
        println!("a fault mode went uncaught: add a scenario that catches it");
        ExitCode::from(1)
    }
}
