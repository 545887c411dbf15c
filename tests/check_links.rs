//! Fixture trees that are not all there: a symbolic link to nothing, a loop of links, an empty
//! fixtures folder, a tree with no scenario. Each is an error naming the path (exit 2), never
//! a silent skip, a pile of misleading errors, or "all valid" followed by a run of nothing.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Output;

use common::{corpus_base as base, seedrig_in, stderr};

mod common;

/// `seedrig <args>` in `dir`.
fn seedrig(dir: &Path, args: &[&str]) -> Output {
    seedrig_in(dir).args(args).output().unwrap()
}

fn errors(o: &Output) -> Vec<String> {
    stderr(o).lines().filter(|l| l.starts_with("error: ")).map(str::to_owned).collect()
}

#[test]
fn a_dangling_link_is_named_with_where_it_points() {
    let dir = base();
    symlink("../../spare/tm-2.toml", dir.path().join("fixtures/seeds/tm-2.toml")).unwrap();
    let o = seedrig(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        errors(&o),
        ["error: fixtures/seeds/tm-2.toml: points to ../../spare/tm-2.toml, which does not exist"]
    );
}

#[test]
fn a_link_loop_is_named() {
    let dir = base();
    symlink("b.toml", dir.path().join("fixtures/seeds/a.toml")).unwrap();
    symlink("a.toml", dir.path().join("fixtures/seeds/b.toml")).unwrap();
    let o = seedrig(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    let errors = errors(&o);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with(
            ".toml: is a link loop (its symbolic links lead back to themselves); point it at a file or folder"
        ),
        "{errors:?}"
    );
    assert!(errors[0].starts_with("error: fixtures/seeds/"), "{errors:?}");
}

#[test]
fn a_looping_sites_link_is_one_error_not_one_per_reference() {
    let dir = base();
    std::fs::remove_dir_all(dir.path().join("fixtures/sites")).unwrap();
    symlink("sites", dir.path().join("fixtures/sites")).unwrap();
    for args in [&["check"][..], &["list"], &["run"]] {
        let o = seedrig(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(
            errors(&o),
            [
                "error: fixtures/sites: is a link loop (its symbolic links lead back to themselves); point it at a file or folder"
            ],
            "{args:?}"
        );
    }
    // A dangling one likewise.
    std::fs::remove_file(dir.path().join("fixtures/sites")).unwrap();
    symlink("/mnt/lab-share/sites", dir.path().join("fixtures/sites")).unwrap();
    let o = seedrig(dir.path(), &["check"]);
    assert_eq!(errors(&o), ["error: fixtures/sites: points to /mnt/lab-share/sites, which does not exist"]);
}

#[test]
fn an_empty_fixtures_folder_says_what_a_fixture_tree_holds() {
    let dir = base();
    std::fs::remove_dir_all(dir.path().join("fixtures")).unwrap();
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    let o = seedrig(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    let errors = errors(&o);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("error: fixtures: has no carriers/, seeds/, sites/ or scenarios/ folder: "),
        "{errors:?}"
    );
    assert!(!stderr(&o).contains("cannot tell what kind of file"));
}

#[test]
fn empty_fixture_folders_have_no_scenario_for_check_or_run() {
    let dir = base();
    for kind in ["carriers", "seeds", "sites", "scenarios"] {
        let folder = dir.path().join("fixtures").join(kind);
        std::fs::remove_dir_all(&folder).unwrap();
        std::fs::create_dir(&folder).unwrap();
    }
    let expected = "error: no scenario in fixtures/scenarios/: add one (a .toml file per test case, see docs/fixtures.md); without one there is nothing to run";
    let o = seedrig(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(errors(&o), [expected]);
    let o = seedrig(dir.path(), &["run"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(errors(&o), [expected]);
    assert!(!stderr(&o).contains("no scenario matches"));
}

#[test]
fn fixtures_without_a_scenario_are_checked_and_the_missing_scenario_reported() {
    let dir = base();
    std::fs::remove_file(dir.path().join("fixtures/scenarios/basic.toml")).unwrap();
    let expected = "error: no scenario in fixtures/scenarios/: add one (a .toml file per test case, see docs/fixtures.md); without one there is nothing to run";
    let o = seedrig(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(errors(&o), [expected]);
    // The carriers, seeds and sites are still checked and summed up.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("carriers     3 files  ok\nseeds        3 files  ok\nsites        1 file   ok\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 error in 1 file\n"), "{stdout}");
    // Along with the mistakes in them.
    std::fs::write(dir.path().join("fixtures/sites/berlin.toml"), "name = \"Berlin\"\n").unwrap();
    let o = seedrig(dir.path(), &["check"]);
    let errors = errors(&o);
    assert_eq!(errors.last().map(String::as_str), Some(expected), "{errors:?}");
    assert!(errors.len() > 1, "{errors:?}");
    // `run` refuses it with the same message.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken/_base/fixtures/sites/berlin.toml"),
        dir.path().join("fixtures/sites/berlin.toml"),
    )
    .unwrap();
    let o = seedrig(dir.path(), &["run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(expected), "{}", stderr(&o));
    assert!(!stderr(&o).contains("no scenario matches"));
}
