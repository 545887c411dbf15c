//! `seedrig list`: scenario names, from the fixtures alone.

use std::path::Path;
use std::process::ExitCode;

use super::{load_clean, table::Table};

pub fn run(fixtures: &Path, long: bool) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let scenarios = loaded.catalog.scenarios.values();
    if !long {
        for s in scenarios {
            println!("{}", s.id);
        }
        return ExitCode::SUCCESS;
    }
    let mut t = Table::new(&["scenario", "M", "judgement", "master", "expect", "description"]);
    for s in scenarios {
        t.row(vec![
            s.id.clone(),
            s.standbys.len().to_string(),
            s.judgement.name().to_owned(),
            s.master.seed.clone(),
            s.expect.winner.to_string(),
            s.description.clone(),
        ]);
    }
    print!("{}", t.render());
    ExitCode::SUCCESS
}
