//! `seedrig junit merge`: the reports of a suite's partitions as one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::EXIT_CONFIG;

pub fn merge(out: &Path, inputs: &[PathBuf]) -> ExitCode {
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
    match seedrig::report::merge::merge(&read) {
        Ok(xml) => match std::fs::write(out, xml) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}
