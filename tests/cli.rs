//! The `seedrig` binary as users meet it, on the starter fixtures.

use std::process::Output;

use common::{root, seedrig_in, stderr, stdout};

mod common;

/// `seedrig <args>` in the repository, on its starter fixtures.
fn seedrig(args: &[&str]) -> Output {
    seedrig_in(root()).args(args).output().expect("seedrig runs")
}

fn scenario_files() -> Vec<String> {
    let dir = root().join("fixtures/scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

#[test]
fn check_passes_on_the_starter_fixtures_with_a_summary_per_kind() {
    let o = seedrig(&["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for kind in ["carriers", "seeds", "sites", "scenarios", "rig"] {
        let line =
            out.lines().find(|l| l.starts_with(kind)).unwrap_or_else(|| panic!("no {kind} line in {out}"));
        assert!(line.ends_with("ok"), "{line}");
    }
    assert!(out.contains("all valid"));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn starter_suite_is_as_large_as_promised() {
    let count = |folder: &str| std::fs::read_dir(root().join(folder)).unwrap().count();
    assert!(count("fixtures/carriers") >= 8);
    assert!(count("fixtures/sites") >= 4);
    assert!(count("fixtures/seeds") >= 6);
    assert!(count("fixtures/scenarios") >= 16);
}

#[test]
fn check_accepts_single_files_and_folders() {
    let o = seedrig(&["check", "fixtures/scenarios/master-reject.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = seedrig(&["check", "rig/lab-example.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("rig          1 file   ok"), "{}", stdout(&o));
    let o = seedrig(&["--fixtures", "tests/broken/_base/fixtures", "check", "tests/broken/_base/fixtures"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("scenarios    1 file   ok"), "{}", stdout(&o));
}

#[test]
fn check_on_a_missing_path_is_a_clear_configuration_error() {
    let o = seedrig(&["check", "fixtures/nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "error: fixtures/nope: no such file or directory\n");
    let o = seedrig(&["check", "Cargo.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot tell what kind of file this is"), "{}", stderr(&o));
}

#[test]
fn list_names_every_scenario_and_nothing_else() {
    let o = seedrig(&["list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(listed, scenario_files());
}

#[test]
fn list_long_shows_judgement_and_expected_winner() {
    let o = seedrig(&["list", "--long"]);
    assert_eq!(o.status.code(), Some(0));
    let line = stdout(&o).lines().find(|l| l.starts_with("all-exhausted ")).unwrap().to_owned();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[1..5], &["3", "both", "vodafone-uk-1", "exhausted"], "{line}");
}

#[test]
fn explain_all_gives_every_scenario_an_outcome() {
    let o = seedrig(&["explain", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("expected outcome:").count(), scenario_files().len());
    for name in scenario_files() {
        assert!(out.contains(&format!("scenario   {name} — ")), "{name} missing");
    }
}

#[test]
fn explain_has_the_ranking_columns_a_lab_engineer_asked_for() {
    let o = seedrig(&["explain", "m5-third-ranked-wins"]);
    let out = stdout(&o);
    let header = out.lines().find(|l| l.starts_with("rank")).unwrap();
    for column in [
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
    ] {
        assert!(header.contains(column), "missing {column}: {header}");
    }
    // M = 5: five ranked standbys, ranks 1 to 5.
    let ranks: Vec<&str> = out
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("standby"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|r| r.parse::<usize>().is_ok())
        .collect();
    assert_eq!(ranks, ["1", "2", "3", "4", "5"], "{out}");
}

#[test]
fn explain_unknown_scenario_suggests_the_near_one() {
    let o = seedrig(&["explain", "master-rejct"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: no scenario \"master-rejct\" in fixtures; did you mean master-reject? `seedrig list` shows them all\n"
    );
}

#[test]
fn list_refuses_broken_fixtures_and_says_why() {
    let o = seedrig(&["--fixtures", "tests/broken/iccid-luhn", "list"]);
    assert_eq!(o.status.code(), Some(2));
    let o = seedrig(&["--fixtures", "tests/broken/_base/fixtures", "list"]);
    assert_eq!(stdout(&o), "basic\n");
}

#[test]
fn help_reads_well_for_every_command() {
    let o = seedrig(&["--help"]);
    let out = stdout(&o);
    assert!(out.contains("master seed SIM first"), "{out}");
    for cmd in ["check", "list", "explain"] {
        assert!(out.contains(cmd), "{cmd} not in top-level help");
        let o = seedrig(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).lines().next().is_some_and(|l| l.len() > 20), "{cmd}: {}", stdout(&o));
    }
    let o = seedrig(&["--version"]);
    assert_eq!(stdout(&o), format!("seedrig {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn no_secret_of_a_starter_seed_is_ever_printed() {
    let o = seedrig(&["explain", "--all"]);
    let shown = stdout(&o) + &stderr(&o);
    // 3GPP TS 35.207 set 1 K and OPc, used by telekom-de-1.
    assert!(!shown.contains("465b5ce8"));
    assert!(!shown.contains("cd63cb71"));
}

#[test]
fn check_knows_a_bench_file_outside_rig_by_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let root = root();
    for (name, from) in [("bench.toml", "rig/virtual.toml"), ("bench-3.toml", "rig/lab-example.toml")] {
        let path = dir.path().join(name);
        std::fs::copy(root.join(from), &path).unwrap();
        let o = seedrig(&["check", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        assert!(stdout(&o).starts_with("rig          1 file   ok"), "{name}: {}", stdout(&o));
    }
    std::fs::write(dir.path().join("notes.toml"), "title = \"not a bench\"\n").unwrap();
    let o = seedrig(&["check", dir.path().join("notes.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot tell what kind of file this is"), "{}", stderr(&o));
}

#[test]
fn list_and_explain_refuse_fixtures_with_a_bom_without_panicking() {
    for args in [&["list"][..], &["explain", "basic"], &["check"]] {
        let mut all = vec!["--fixtures", "tests/broken/bom-plus-error/fixtures"];
        all.extend(args);
        let o = seedrig(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("vf-1.toml:1:9: `iccid`: ICCID has 18 digits"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn run_skips_a_scenario_with_more_slots_than_its_virtual_bench_and_check_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("small.toml");
    std::fs::write(&rig, "kind = \"virtual\"\nname = \"small\"\nslots = 4\ntime_scale = 0.05\n").unwrap();
    // m5-third-ranked-wins puts standbys in slots 1-5.
    let o = seedrig(&["run", "--rig", rig.to_str().unwrap(), "--exact", "m5-third-ranked-wins"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o)
            .contains("SKIP   m5-third-ranked-wins: it uses SIM slot(s) 4, 5 but bench small has 4 slot(s)"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("0 passed, 0 failed, 0 errors, 1 skipped"), "{}", stdout(&o));
    let o = seedrig(&["check", "fixtures", rig.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("slot 5 is beyond bench small"), "{}", stderr(&o));
}
