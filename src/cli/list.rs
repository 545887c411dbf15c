//! `seedrig list`: scenario names, from the fixtures alone.
//!
//! Mistakes in the fixtures are printed as `check` prints them; the scenarios that use a file
//! with an error are left out of the list, and named on stderr with the files.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_CONFIG, load_scenarios, paths, table::Table, unused_mistakes_note};

pub fn run(fixtures: &Path, long: bool) -> ExitCode {
    let loaded = match load_scenarios(fixtures, false) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let scenarios: Vec<_> = loaded.scenario_ids().filter_map(|id| loaded.usable(id).ok()).collect();
    let left_out = loaded.left_out();
    if !left_out.is_empty() {
        let n = left_out.len();
        let s = if n == 1 { "" } else { "s" };
        let mut note = format!(
            "note: {n} scenario{s} left out: {} files with mistakes (above)",
            if n == 1 { "it uses" } else { "they use" }
        );
        for (id, files) in &left_out {
            note.push_str(&format!("\n  {id}: {}", paths(&loaded, files)));
        }
        eprintln!("{note}");
    } else if loaded.scenario_ids().next().is_some()
        && let Some(note) = unused_mistakes_note(&loaded, &[])
    {
        eprintln!("{note}");
    }
    if scenarios.is_empty() {
        if !left_out.is_empty() {
            eprintln!(
                "error: no scenario to list: every one uses files with mistakes; `seedrig check` lists them"
            );
        }
        return ExitCode::from(EXIT_CONFIG);
    }
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
