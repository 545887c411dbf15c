//! `seedrig check` on a file with very many mistakes: it takes time linear in the file, and
//! prints the first 200 errors of a file and one line for the rest (the summary counts all).

use std::time::{Duration, Instant};

use common::{corpus_base, seedrig_in};

mod common;

/// The corpus's valid tree with `unknown` unknown keys added to one seed file.
fn tree_with_unknown_keys(unknown: usize) -> tempfile::TempDir {
    let dir = corpus_base();
    let seed = dir.path().join("fixtures/seeds/tm-1.toml");
    let mut text = std::fs::read_to_string(&seed).unwrap();
    for i in 0..unknown {
        text.push_str(&format!("unknown_key_{i:05} = \"value {i}\"\n"));
    }
    std::fs::write(&seed, text).unwrap();
    dir
}

#[test]
fn sixteen_thousand_unknown_keys_are_checked_in_linear_time_and_capped() {
    let dir = tree_with_unknown_keys(16_000);
    let started = Instant::now();
    let output = seedrig_in(dir.path()).arg("check").output().unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    let shown = stderr.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(shown, 200, "the first 200 errors of the file are shown");
    assert!(
        stderr.contains("... and 15800 more errors in fixtures/seeds/tm-1.toml\n"),
        "{}",
        &stderr[stderr.len().saturating_sub(2000)..]
    );
    // The last error shown is the 200th unknown key, in file order.
    assert!(stderr.contains("`unknown_key_00199`"), "errors are shown in file order");
    assert!(!stderr.contains("`unknown_key_00200`"));
    assert!(stdout.contains("16000 errors in 1 file"), "{stdout}");
    assert!(stdout.contains("seeds        3 files  1 with errors"), "{stdout}");
    // About 0.3 s in a debug build; before rendering was made linear it took over a minute.
    assert!(took < Duration::from_secs(4), "check took {took:?}");
}

#[test]
fn the_cap_is_per_file() {
    let dir = tree_with_unknown_keys(201);
    let carrier = dir.path().join("fixtures/carriers/telekom-de.toml");
    let text = std::fs::read_to_string(&carrier).unwrap();
    std::fs::write(&carrier, format!("colour = \"magenta\"\n{text}")).unwrap();
    let output = seedrig_in(dir.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("... and 1 more error in fixtures/seeds/tm-1.toml\n"), "{stderr}");
    // The other file's error is shown in full.
    assert!(stderr.contains("`colour`: unknown key `colour` in carrier"), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error: ")).count(), 201);
    assert!(String::from_utf8_lossy(&output.stdout).contains("202 errors in 2 files"));
}
