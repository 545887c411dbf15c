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
        let verdict = if bad == 0 { "ok".to_owned() } else { format!("{bad} with errors") };
        println!("{:<10} {files:>3} file{plural:<1}  {verdict}", kind.folder());
    }
    let errors = loaded.diagnostics.errors.len();
    if errors == 0 {
        println!("all valid");
        ExitCode::SUCCESS
    } else {
        let files = {
            let mut f: Vec<usize> = loaded.diagnostics.errors.iter().map(|d| d.file).collect();
            f.sort();
            f.dedup();
            f.len()
        };
        println!(
            "{errors} error{} in {files} file{}",
            if errors == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" }
        );
        ExitCode::from(EXIT_CONFIG)
    }
}
