//! `seedrig selftest`: the suite against each deliberately wrong firmware, to show the rig's
//! checks catch every kind of mistake.

use std::path::Path;
use std::process::ExitCode;

use seedrig::reference_firmware::faults::FaultMode;
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
    // The fault modes are the reference firmware's own: a bench that runs another DUT (a lab,
    // or a virtual rig file's [dut]) cannot be given them, and every mode would look uncaught.
    let refusal = match &rig.kind {
        seedrig::model::RigKind::Lab(_) => {
            Some("a lab bench runs its own DUT, which cannot be given the reference firmware's fault modes")
        }
        seedrig::model::RigKind::Virtual { dut: Some(_) } => Some(
            "this rig file's [dut] names its own firmware, which cannot be given the reference firmware's fault modes",
        ),
        seedrig::model::RigKind::Virtual { dut: None } => None,
    };
    if let Some(why) = refusal {
        eprintln!(
            "error: {}: {why}; run selftest on a virtual rig file without [dut] (the default rig/virtual.toml)",
            rig_file.display()
        );
        return ExitCode::from(super::EXIT_CONFIG);
    }
    let ids: Vec<String> = loaded.catalog.scenarios.keys().cloned().collect();
    let mut rows = Vec::new();
    for mode in FaultMode::ALL {
        println!("== firmware --fault {}", mode.name());
        let options = RunOptions {
            firmware_binary: super::firmware_binary(),
            fault: Some(mode.name().to_owned()),
            sabotage: None,
            stop: Default::default(),
        };
        let results = run::run_all(
            &loaded.catalog,
            &rig,
            &ids,
            &options,
            run::Repeat { times: 1, until_fail: false, retry_errors: 0 },
        );
        let caught: Vec<String> =
            results.iter().filter(|r| r.verdict == Verdict::Fail).map(|r| r.scenario.clone()).collect();
        let errors = results.iter().filter(|r| matches!(r.verdict, Verdict::Error(_))).count();
        rows.push((*mode, caught, errors));
    }
    println!("\nfault mode              caught by (of {} scenarios)", ids.len());
    let mut all_caught = true;
    for (mode, caught, errors) in &rows {
        let errors = if *errors > 0 { format!("  [{errors} bench errors]") } else { String::new() };
        let row = if mode.is_correct_behaviour() {
            // A firmware that is right and only says less must pass everywhere.
            all_caught &= caught.is_empty() && errors.is_empty();
            if caught.is_empty() {
                "passes every scenario (correct behaviour, as it must)".to_owned()
            } else {
                format!("WRONGLY FAILED by {}", caught.join(", "))
            }
        } else {
            all_caught &= !caught.is_empty();
            if caught.is_empty() { "NOT CAUGHT".to_owned() } else { caught.join(", ") }
        };
        println!("{:<23} {:>2}: {row}{errors}", mode.name(), caught.len());
    }
    if all_caught {
        println!(
            "every wrong firmware was caught by at least one scenario, and the silent correct one passed"
        );
        ExitCode::SUCCESS
    } else {
        println!("a fault mode went uncaught: add a scenario that catches it");
        ExitCode::from(1)
    }
}
