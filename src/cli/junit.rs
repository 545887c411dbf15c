//! `seedrig junit merge`: the reports of a suite's partitions as one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::EXIT_CONFIG;

pub fn merge(out: &Path, inputs: &[PathBuf], allow_missing: bool) -> ExitCode {
    let mut read = Vec::new();
    for path in inputs {
        match std::fs::read_to_string(path) {
            Ok(text) => read.push((path.display().to_string(), text)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(EXIT_CONFIG);
            }
        }
    }
    let merged = match seedrig::report::merge::merge(&read, allow_missing) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Err(e) = std::fs::write(out, &merged.xml) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return ExitCode::from(EXIT_CONFIG);
    }
    let passed = merged.tests - merged.failures - merged.errors - merged.skipped;
    println!(
        "merged {} reports into {}: {} scenarios: {passed} passed, {} failed, {} errors, {} skipped",
        inputs.len(),
        out.display(),
        merged.tests,
        merged.failures,
        merged.errors,
        merged.skipped
    );
    if !merged.missing.is_empty() {
        println!("INCOMPLETE: no report of partition {} (--allow-missing)", merged.missing.join(", "));
    }
    ExitCode::SUCCESS
}
