//! The broken-fixture corpus: each case in tests/broken/<case>/ is the small valid tree in
//! tests/broken/_base/ with one mistake laid over it (as an engineer would make it). `seedrig
//! check` must exit 2, must not panic, must never print a secret, and must print exactly
//! what tests/broken/<case>/expected.txt holds.
//!
//! After changing a message on purpose: `SEEDRIG_BLESS=1 cargo test --test broken_fixtures`,
//! then read the diff of the expected.txt files before committing.

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if entry.file_name() != "mistake.txt" && entry.file_name() != "expected.txt" {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Hex runs of 16 or more digits in the overlay's secret lines: they must never be printed.
fn secrets_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(walk) = std::fs::read_dir(dir.join("fixtures/seeds")) else {
        return found;
    };
    for entry in walk.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            if ["k", "opc", "pin"].contains(&key)
                && let Some(value) = line.split('"').nth(1)
                && value.len() >= 4
                && !value.starts_with("env:")
                && !value.starts_with("file:")
            {
                found.push(value.to_owned());
            }
        }
    }
    found
}

fn run_case(case: &Path) -> Result<(), Failed> {
    let work = tempfile::tempdir()?;
    copy_tree(&corpus().join("_base"), work.path())?;
    copy_tree(case, work.path())?;
    let output = Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .arg("check")
        .current_dir(work.path())
        .env("NO_COLOR", "1")
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = format!("--- stderr\n{stderr}--- stdout\n{stdout}");
    if stderr.contains("panicked") {
        return Err(format!("seedrig panicked:\n{shown}").into());
    }
    if output.status.code() != Some(2) {
        return Err(format!("expected exit code 2, got {:?}:\n{shown}", output.status.code()).into());
    }
    for secret in secrets_in(work.path()) {
        if shown.contains(&secret) || shown.contains(&secret[..secret.len().min(8)]) {
            return Err(format!("a secret value was printed:\n{shown}").into());
        }
    }
    let expected_file = case.join("expected.txt");
    if std::env::var_os("SEEDRIG_BLESS").is_some() {
        std::fs::write(&expected_file, &shown)?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&expected_file).map_err(|_| {
        format!("{} is missing; run with SEEDRIG_BLESS=1 and review it", expected_file.display())
    })?;
    if expected != shown {
        return Err(format!(
            "output differs from {}\n--- expected\n{expected}--- got\n{shown}",
            expected_file.display()
        )
        .into());
    }
    Ok(())
}

fn base_is_clean() -> Result<(), Failed> {
    let output = Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .arg("check")
        .current_dir(corpus().join("_base"))
        .output()?;
    if !output.status.success() {
        return Err(
            format!("the base tree must be valid:\n{}", String::from_utf8_lossy(&output.stderr)).into()
        );
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("tests/broken exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "_base"))
        .collect();
    cases.sort();
    let mut trials = vec![Trial::test("base_is_clean", base_is_clean)];
    trials.extend(cases.into_iter().map(|case| {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        Trial::test(name, move || run_case(&case))
    }));
    libtest_mimic::run(&args, trials).exit();
}
