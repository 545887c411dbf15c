//! Replays the fuzz targets' corpora and regression inputs (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the same target bodies the fuzzer runs
//! (`seedrig::fuzz_targets`), on stable and without a fuzz engine: none may panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use seedrig::fuzz_targets::TARGETS;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.map(|e| e.expect("a corpus entry").path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(kind);
    let mut failed = Vec::new();
    let mut count = 0;
    for dir in subdirs(&root) {
        let name = dir.file_name().expect("a named folder").to_string_lossy().into_owned();
        let Some((_, target)) = TARGETS.iter().find(|(t, _)| *t == name) else {
            panic!("{}: no fuzz target named {name}", dir.display());
        };
        for file in files(&dir) {
            let data = std::fs::read(&file).expect("a readable corpus file");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failed.push(file.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "fuzz inputs that panic:\n{}", failed.join("\n"));
    count
}

fn subdirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> =
        entries.map(|e| e.expect("an entry").path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

#[test]
fn every_corpus_input_runs_without_panic() {
    for (name, _) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(name);
        assert!(!files(&dir).is_empty(), "{}: no corpus for target {name}", dir.display());
    }
    assert!(replay("corpus") > 0);
}

#[test]
fn every_regression_input_runs_without_panic() {
    replay("regressions");
}
