//! `seedrig check`: validate fixture and rig files.

use std::path::PathBuf;
use std::process::ExitCode;

use seedrig::fixture::{self, Kind};

use super::{EXIT_CONFIG, styled};

pub fn run(fixtures: &std::path::Path, mut paths: Vec<PathBuf>) -> ExitCode {
    if paths.is_empty() {
        paths = vec![fixtures.to_owned(), PathBuf::from("rig")];
    }
    let loaded = match fixture::load(&paths) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    eprint!("{}", loaded.diagnostics.render(styled()));
    for kind in Kind::ALL {
        let (files, bad) = loaded.summary(kind);
        if files == 0 {
            continue;
        }
        let plural = if files == 1 { "" } else { "s" };
        let warned = loaded.warned(kind);
        let verdict = match (bad, warned) {
            (0, 0) => "ok".to_owned(),
            (0, w) => format!("ok, {w} with warnings"),
            (b, 0) => format!("{b} with errors"),
            (b, w) => format!("{b} with errors, {w} with warnings"),
        };
        println!("{:<10} {files:>3} file{plural:<1}  {verdict}", kind.folder());
    }
    let d = &loaded.diagnostics;
    let errors = count(d.errors.len(), "error", d.files_with_errors().len());
    let warnings = count(d.warnings.len(), "warning", d.files_with_warnings().len());
    match (d.errors.is_empty(), d.warnings.is_empty()) {
        (true, true) => println!("all valid"),
        (true, false) => println!("all valid; {warnings}"),
        (false, true) => println!("{errors}"),
        (false, false) => println!("{errors}; {warnings}"),
    }
    if d.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_CONFIG) }
}

/// `2 errors in 1 file`.
fn count(n: usize, what: &str, files: usize) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!("{n} {what}{} in {files} file{}", s(n), s(files))
}
