//! A mistake in one fixture file stops only the scenarios that use it: `explain`, `list` and
//! `run` work for a scenario whose own files (the scenario, its site, its seeds and their
//! carriers) are valid, and print the mistakes elsewhere as `check` does; a run of the whole
//! suite still refuses. Warnings refuse nothing.

use std::process::Output;

use common::{copy_tree, root, seedrig_in, shown, stderr as err, stdout as out};

mod common;

/// The starter fixtures copied into a temporary folder, each `(file, from, to)` edited there.
fn starter_with(edits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["carriers", "seeds", "sites", "scenarios"] {
        copy_tree(&root().join("fixtures").join(kind), &dir.path().join("fixtures").join(kind));
    }
    for (file, from, to) in edits {
        let path = dir.path().join("fixtures").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    dir
}

/// `seedrig --fixtures <the copy's fixtures> <args>`, in the repository.
fn seedrig(fixtures: &tempfile::TempDir, args: &[&str]) -> Output {
    seedrig_in(root())
        .arg("--fixtures")
        .arg(fixtures.path().join("fixtures"))
        .args(args)
        .output()
        .expect("seedrig runs")
}

/// claro-br (a carrier master-connects does not use) with a PLMN without a dash, weights-tariff
/// with a misspelt key, and master-reject expecting the wrong winner (a mistake `explain` is
/// there to explain).
fn broken_elsewhere() -> tempfile::TempDir {
    starter_with(&[
        ("carriers/claro-br.toml", "plmn = \"724-05\"", "plmn = \"72405\""),
        ("scenarios/weights-tariff.toml", "description =", "descripton ="),
        ("scenarios/master-reject.toml", "winner = \"vodafone-uk-1\"", "winner = \"orange-fr-1\""),
    ])
}

const CLARO_MISTAKE: &str = "claro-br.toml:4:8: `plmn`: PLMN \"72405\" has no dash";

#[test]
fn explain_and_list_work_for_scenarios_whose_own_files_are_valid() {
    let dir = broken_elsewhere();
    let o = seedrig(&dir, &["explain", "master-connects"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(out(&o).contains("scenario   master-connects — "), "{}", shown(&o));
    assert!(out(&o).contains("expected outcome: china-mobile-1 (slot 0) wins"), "{}", shown(&o));
    // The mistakes are printed as `check` prints them, and said to be elsewhere.
    assert!(err(&o).contains(CLARO_MISTAKE), "{}", shown(&o));
    assert!(err(&o).contains("unknown key `descripton` in scenario"), "{}", shown(&o));
    assert!(
        err(&o).contains("have mistakes (above); scenario master-connects does not use them"),
        "{}",
        shown(&o)
    );

    let o = seedrig(&dir, &["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let stdout = out(&o);
    let listed: Vec<&str> = stdout.lines().collect();
    assert!(listed.contains(&"master-connects") && listed.contains(&"weights-signal"), "{}", shown(&o));
    // Left out: the broken scenario, the one the method disagrees with, and those whose seeds
    // price claro-br (all-exhausted's seeds do, through their home carriers).
    for gone in ["weights-tariff", "master-reject", "all-exhausted"] {
        assert!(!listed.contains(&gone), "{gone} listed: {}", shown(&o));
    }
    assert!(err(&o).contains("scenarios left out: they use files with mistakes (above)"), "{}", shown(&o));
    assert!(
        err(&o).contains("\n  weights-tariff: ") && err(&o).contains("weights-tariff.toml\n"),
        "{}",
        shown(&o)
    );
    assert!(err(&o).contains("\n  all-exhausted: ") && err(&o).contains(CLARO_MISTAKE), "{}", shown(&o));

    // A scenario that uses a file with a mistake is refused, naming the file.
    let o = seedrig(&dir, &["explain", "weights-tariff"]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        err(&o).contains("error: scenario weights-tariff uses files with mistakes (above): "),
        "{}",
        shown(&o)
    );
    assert!(out(&o).is_empty(), "{}", shown(&o));
    let o = seedrig(&dir, &["explain", "all-exhausted"]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        err(&o).contains("all-exhausted uses files with mistakes (above): ")
            && err(&o).contains("claro-br.toml; fix")
    );
}

#[test]
fn check_sends_an_expect_mistake_to_explain_which_explains_it() {
    let dir = broken_elsewhere();
    let o = seedrig_in(root()).arg("check").arg(dir.path().join("fixtures")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("run `seedrig explain master-reject` for the ranking"), "{}", shown(&o));
    let o = seedrig(&dir, &["explain", "master-reject"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(out(&o).contains("expected outcome: vodafone-uk-1 (slot 2) wins"), "{}", shown(&o));
    assert!(err(&o).contains("the method expects vodafone-uk-1, not orange-fr-1"), "{}", shown(&o));
    assert!(err(&o).contains("note: scenario master-reject has mistakes (above) where the method disagrees"));
    // It is explained, never run.
    let o = seedrig(&dir, &["run", "--exact", "master-reject"]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        err(&o).contains("error: scenario master-reject uses files with mistakes (above)"),
        "{}",
        shown(&o)
    );
}

#[test]
fn run_runs_a_scenario_whose_files_are_valid_but_never_the_whole_suite_from_broken_fixtures() {
    let dir = broken_elsewhere();
    let o = seedrig(&dir, &["run"]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(err(&o).contains(CLARO_MISTAKE), "{}", shown(&o));
    assert!(
        err(&o).contains("error: the fixtures have 3 errors in 3 files (above): the whole suite runs only"),
        "{}",
        shown(&o)
    );
    assert!(!out(&o).contains("PASS"), "{}", shown(&o));
    // A filter that selects a scenario using a broken file refuses the run, naming it.
    let o = seedrig(&dir, &["run", "weights"]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        err(&o).contains("error: scenario weights-tariff uses files with mistakes (above): ")
            && err(&o).contains("weights-tariff.toml; fix them, or leave it out of the run"),
        "{}",
        shown(&o)
    );
    let o = seedrig(&dir, &["run", "--rig", "rig/virtual.toml", "--exact", "master-connects"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(out(&o).contains("PASS   master-connects"), "{}", shown(&o));
    assert!(err(&o).contains(CLARO_MISTAKE), "{}", shown(&o));
    assert!(err(&o).contains("scenario master-connects does not use them"), "{}", shown(&o));
}

#[test]
fn warnings_are_printed_and_refuse_nothing() {
    // A carrier whose country is not its MCC's (Argentina for Brazil's 724).
    let dir = starter_with(&[("carriers/claro-br.toml", "country = \"BR\"", "country = \"AR\"")]);
    let warning = "warning: ";
    let o = seedrig_in(root()).arg("check").arg(dir.path().join("fixtures")).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(
        err(&o).contains("claro-br.toml:4:8: `plmn`: MCC 724 belongs to Brazil (BR), but `country` is AR")
    );
    assert!(out(&o).contains("carriers    14 files  ok, 1 with warnings\n"), "{}", shown(&o));
    assert!(out(&o).ends_with("all valid; 1 warning in 1 file\n"), "{}", shown(&o));
    let o = seedrig(&dir, &["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert_eq!(out(&o).lines().count(), 32, "{}", shown(&o));
    assert!(err(&o).starts_with(warning), "{}", shown(&o));
    let o = seedrig(&dir, &["explain", "all-exhausted"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    let o = seedrig(&dir, &["run", "--rig", "rig/virtual.toml", "--exact", "master-connects"]);
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(err(&o).starts_with(warning), "{}", shown(&o));
}

#[test]
fn the_starter_carriers_check_without_a_warning() {
    let o = seedrig_in(root()).args(["check", "fixtures"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", shown(&o));
    assert!(err(&o).is_empty(), "{}", shown(&o));
    assert!(out(&o).ends_with("all valid\n"), "{}", shown(&o));
}
