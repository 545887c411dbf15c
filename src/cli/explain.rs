//! `seedrig explain`: the ranking table and the expected outcome, as a person checks them.

use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

use seedrig::fixture::Refusal;
use seedrig::fixture::reader::suggest;
use seedrig::method::attempt::{AttemptResult, attempt, fmt_ms};
use seedrig::method::oracle::{Expected, Outcome, ranking};
use seedrig::method::{Judged, ScenarioView, SeedView, expect};
use seedrig::model::{Catalog, Scenario};

use super::{EXIT_CONFIG, load_scenarios, paths, table::Table, unused_mistakes_note};

/// Explains each named scenario the method can: one whose files have no error, or whose only
/// errors are the method's disagreements with its own file (its `[expect]`, its T or
/// timeout), which `check`'s help sends the engineer here to understand. Mistakes in other
/// files are printed and leave it be; a scenario that uses a file with an error is refused
/// (exit 2), after the others are explained.
pub fn run(fixtures: &Path, names: &[String], all: bool) -> ExitCode {
    let loaded = match load_scenarios(fixtures, false) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let catalog = &loaded.catalog;
    let names: Vec<String> =
        if all { loaded.scenario_ids().map(str::to_owned).collect() } else { names.to_vec() };
    let mut refused = false;
    let mut shown = Vec::new();
    let mut sound = Vec::new();
    for name in &names {
        match loaded.explainable(name) {
            Ok((scenario, disputed)) => {
                if disputed {
                    eprintln!(
                        "note: scenario {name} has mistakes (above) where the method disagrees with its file; \
                         below is what the method expects"
                    );
                } else {
                    sound.push(name.as_str());
                }
                shown.push(scenario);
            }
            Err(Refusal::Unknown) => {
                let hint = match suggest(name, loaded.scenario_ids()) {
                    Some(near) => format!("did you mean {near}? "),
                    None => String::new(),
                };
                eprintln!(
                    "error: no scenario \"{name}\" in {}; {hint}`seedrig list` shows them all",
                    fixtures.display()
                );
                refused = true;
            }
            Err(Refusal::Mistakes(files)) => {
                eprintln!(
                    "error: scenario {name} uses files with mistakes (above): {}; fix them (`seedrig check` \
                     lists them) to explain it",
                    paths(&loaded, &files)
                );
                refused = true;
            }
        }
    }
    if !sound.is_empty()
        && let Some(note) = unused_mistakes_note(&loaded, &sound)
    {
        eprintln!("{note}");
    }
    for (i, scenario) in shown.into_iter().enumerate() {
        let Some(view) = ScenarioView::from_catalog(catalog, scenario) else {
            eprintln!("error: scenario {} refers to fixtures that did not load", scenario.id);
            refused = true;
            continue;
        };
        if i > 0 {
            println!();
        }
        print!("{}", explain(catalog, scenario, &view));
    }
    if refused { ExitCode::from(EXIT_CONFIG) } else { ExitCode::SUCCESS }
}

/// The whole explanation of one scenario.
pub fn explain(catalog: &Catalog, scenario: &Scenario, view: &ScenarioView) -> String {
    let mut out = String::new();
    let site = &catalog.sites[&scenario.site];
    let w = view.weights;
    let _ = writeln!(out, "scenario   {} — {}", scenario.id, scenario.description);
    let _ = writeln!(out, "site       {} ({}, {} cells)", site.id, site.name, site.cells.len());
    let _ =
        writeln!(out, "weights    a = {} (signal), b = {} (tariff); index = a·A1 + b·B1", w.signal, w.tariff);
    let _ = writeln!(
        out,
        "judgement  {}, T = {}, tolerance {}, timeout {}",
        view.judgement.name(),
        fmt_ms(view.attempt_timeout_ms),
        fmt_ms(view.tolerance_ms),
        fmt_ms(view.timeout_ms)
    );
    out.push('\n');
    out.push_str(&ranking_table(scenario, view));
    out.push('\n');
    out.push_str(&outcome(view, &expect(view)));
    out
}

fn ranking_table(scenario: &Scenario, view: &ScenarioView) -> String {
    let mut t = Table::new(&[
        "rank",
        "role",
        "slot",
        "seed",
        "RAT",
        "best cell",
        "signal dBm",
        "A1",
        "tariff/MB",
        "B1",
        "a·A1 + b·B1",
        "index",
        "fault",
        "connects?",
    ]);
    let faults = |seed: &SeedView| {
        let f: Vec<String> = scenario
            .placements()
            .find(|p| p.seed == seed.id)
            .map(|p| p.faults.iter().map(|f| f.to_string()).collect())
            .unwrap_or_default();
        if f.is_empty() { "-".to_owned() } else { f.join(", ") }
    };
    let mut row = |rank: String, role: &str, seed: &SeedView, score: Option<seedrig::method::Score>| {
        let (rat, cell, signal, tariff) = match &seed.best {
            Some(c) => (
                c.rat.to_string(),
                c.label.clone().map_or(c.carrier.clone(), |l| format!("{} {l}", c.carrier)),
                format!("{:.0}", c.signal_dbm),
                format!("{:.4}", c.tariff),
            ),
            None => ("-".into(), "none usable".into(), "-140".into(), "-".into()),
        };
        let (a1, b1, weighted, index) = match score {
            Some(s) => (
                format!("{:.3}", s.a1),
                format!("{:.3}", s.b1),
                format!("{}·{:.3} + {}·{:.3}", view.weights.signal, s.a1, view.weights.tariff, s.b1),
                format!("{:.3}", s.index),
            ),
            None => ("-".into(), "-".into(), "(master: not ranked)".into(), "-".into()),
        };
        t.row(vec![
            rank,
            role.into(),
            seed.slot.to_string(),
            seed.id.clone(),
            rat,
            cell,
            signal,
            a1,
            tariff,
            b1,
            weighted,
            index,
            faults(seed),
            connects(seed),
        ]);
    };
    row("-".into(), "master", &view.master, None);
    for r in ranking(view) {
        row(r.rank.to_string(), "standby", &view.standbys[r.standby], Some(r.score));
    }
    t.render()
}

/// Whether the seed can connect at all, before the firmware's judgement.
fn connects(seed: &SeedView) -> String {
    match attempt(seed) {
        AttemptResult::Connects { after_ms } => format!("yes, in {}", fmt_ms(after_ms)),
        AttemptResult::Explicit { after_ms, earliest_ms, reason } if earliest_ms != after_ms => {
            format!("no: {reason} ({}-{})", fmt_ms(earliest_ms), fmt_ms(after_ms))
        }
        AttemptResult::Explicit { after_ms, reason, .. } => format!("no: {reason} ({})", fmt_ms(after_ms)),
        AttemptResult::Silent { reason } => format!("no: {reason} (silent)"),
    }
}

/// When a failed attempt may be judged: `within B`, or `between A and B` where a correct
/// firmware cannot know sooner than A.
fn window(a: &seedrig::method::ExpectedAttempt, after_ms: u64) -> String {
    let bound = fmt_ms(a.bound_ms.unwrap_or(after_ms));
    match a.earliest_ms {
        Some(earliest) if earliest > 0 => format!("between {} and {bound}", fmt_ms(earliest)),
        _ => format!("within {bound}"),
    }
}

fn outcome(view: &ScenarioView, expected: &Expected) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "expected attempts:");
    for (i, a) in expected.attempts.iter().enumerate() {
        let role = if a.is_master { "master " } else { "standby" };
        let verdict = match &a.judged {
            Judged::Connected { after_ms } => {
                format!("connects after {} (at {})", fmt_ms(*after_ms), fmt_ms(a.starts_at_ms + after_ms))
            }
            Judged::Failed { after_ms, either_way: true, reason, .. } => format!(
                "fails on an explicit answer that may come before or after T = {}: judged explicitly when it comes by T, else at T; either way judged {}: {reason}",
                fmt_ms(*after_ms),
                window(a, *after_ms)
            ),
            Judged::Failed { after_ms, explicit: true, reason, .. } => format!(
                "fails on an explicit answer after {}, judged {}: {reason}",
                fmt_ms(*after_ms),
                window(a, *after_ms)
            ),
            Judged::Failed { after_ms, explicit: false, reason, .. } => {
                format!("fails at T = {}, judged {}: {reason}", fmt_ms(*after_ms), window(a, *after_ms))
            }
            Judged::Stalled { reason } => {
                format!("never answered ({reason}); the firmware waits for a result forever")
            }
        };
        let _ = writeln!(
            out,
            "  {}. {role} {} (slot {}) at {}: {verdict}",
            i + 1,
            a.seed,
            a.slot,
            fmt_ms(a.starts_at_ms)
        );
    }
    let line = match &expected.outcome {
        Outcome::Winner { seed, slot, connected_at_ms } => {
            let limit = view.timeout_ms;
            format!(
                "expected outcome: {seed} (slot {slot}) wins, connected at about {} after DUT start by the network's timings (not a bound); time_to_winner: within {} (the timeout)",
                fmt_ms(*connected_at_ms),
                fmt_ms(limit)
            )
        }
        Outcome::Exhausted { at_ms, next_pass_at_ms } => {
            let next = next_pass_at_ms
                .map_or("no new pass stated".to_owned(), |n| format!("next pass starts at {}", fmt_ms(n)));
            format!(
                "expected outcome: exhausted — every seed failed by {} (+ {} tolerance); {next}",
                fmt_ms(*at_ms),
                fmt_ms(view.tolerance_ms)
            )
        }
        Outcome::Stalled { seed, since_ms } => format!(
            "expected outcome: stalled — under `result` judgement the firmware waits on {seed} from {} on; no winner within {}",
            fmt_ms(*since_ms),
            fmt_ms(view.timeout_ms)
        ),
    };
    let _ = writeln!(out, "{line}");
    out
}
