//! The broken-fixture corpus: each case in tests/broken/<case>/ is the small valid tree in
//! tests/broken/_base/ with one mistake laid over it (as an engineer would make it). `seedrig
//! check` must exit 2, must not panic, must never print a secret, and must print exactly
//! what tests/broken/<case>/expected.txt holds. A case named `warn-*` is a likely mistake that
//! `check` warns about: it must exit 0 and print at least one warning and no error.
//!
//! Every case runs twice more, with a UTF-8 byte order mark put before every .toml file and with
//! CRLF line ends (as editors on Windows write them): neither may panic or change the exit code,
//! and the same errors must be reported at the same line and column (a BOM is not a column;
//! a CR is not part of the line).
//!
//! After changing a message on purpose: `SEEDRIG_BLESS=1 cargo test --test broken_fixtures`,
//! then read the diff of the expected.txt files before committing.

use std::path::{Path, PathBuf};

use common::{root, seedrig_in};
use libtest_mimic::{Arguments, Failed, Trial};

mod common;

fn corpus() -> PathBuf {
    root().join("tests/broken")
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

/// Every secret value written in the case's files (the base's and the overlay's, fixtures and
/// rig files alike), as it is written: the value of a key that names a secret — in any case,
/// dotted or in an inline table, quoted, bare, hex or an array — unless an `env:` or `file:`
/// reference, and every run of 32 or more hex digits anywhere (a key pasted into another field).
/// None may be printed, nor its first 8 characters. (Found here independently of how `check`
/// masks them.)
fn secrets_in(dir: &Path) -> Vec<String> {
    let secret_key = regex::Regex::new(
        r#"(?:^|[^a-z0-9_-])["']?(?:k|ki|op|opc|pin|pin1|pin2|puk|puk1|puk2|adm|adm1)["']?[ \t]*=[ \t]*("[^"]*"?|'[^']*'?|\[[^\]]*\]?|[^\s,}\]#]+)"#,
    )
    .unwrap();
    let hex_run = regex::Regex::new("[0-9A-Fa-f]{32,}").unwrap();
    let mut found = Vec::new();
    for path in toml_files(dir) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for line in text.lines() {
            // Key names in any case; the values as written (lowercasing ASCII moves no byte).
            let lowercase = line.to_ascii_lowercase();
            for range in secret_key.captures_iter(&lowercase).map(|c| c.get(1).unwrap().range()) {
                let value = line[range].trim_matches(|c| c == '"' || c == '\'');
                if value.len() >= 4 && !value.starts_with("env:") && !value.starts_with("file:") {
                    found.push(value.to_owned());
                }
            }
            found.extend(hex_run.find_iter(line).map(|m| m.as_str().to_owned()));
        }
    }
    found
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()) {
        if path.is_dir() {
            files.extend(toml_files(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files
}

/// How the case's .toml files are written to disk.
#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    /// As they are in the corpus.
    AsIs,
    /// A UTF-8 byte order mark before each file.
    Bom,
    /// Every line ended by CR LF.
    Crlf,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::AsIs => "as is",
            Encoding::Bom => "bom",
            Encoding::Crlf => "crlf",
        }
    }

    fn apply(self, text: &str) -> String {
        match self {
            Encoding::AsIs => text.to_owned(),
            Encoding::Bom if text.starts_with('\u{feff}') => text.to_owned(),
            Encoding::Bom => format!("\u{feff}{text}"),
            Encoding::Crlf => text.replace("\r\n", "\n").replace('\n', "\r\n"),
        }
    }
}

fn encode_tree(dir: &Path, encoding: Encoding) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            encode_tree(&path, encoding)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)?;
            std::fs::write(&path, encoding.apply(&text))?;
        }
    }
    Ok(())
}

/// `seedrig check` on the case laid over the base, its files written in `encoding`: what it
/// printed, after the checks every run must pass (no panic, exit 2, no secret shown).
fn check_case(case: &Path, encoding: Encoding) -> Result<String, Failed> {
    let work = tempfile::tempdir()?;
    copy_tree(&corpus().join("_base"), work.path())?;
    copy_tree(case, work.path())?;
    encode_tree(work.path(), encoding)?;
    let output = seedrig_in(work.path()).arg("check").output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = format!("--- stderr\n{stderr}--- stdout\n{stdout}");
    let encoded = if encoding == Encoding::AsIs { String::new() } else { format!(" ({})", encoding.name()) };
    if stderr.contains("panicked") {
        return Err(format!("seedrig panicked{encoded}:\n{shown}").into());
    }
    let warns = case.file_name().is_some_and(|n| n.to_string_lossy().starts_with("warn-"));
    let expected = if warns { 0 } else { 2 };
    if output.status.code() != Some(expected) {
        return Err(format!(
            "expected exit code {expected}{encoded}, got {:?}:\n{shown}",
            output.status.code()
        )
        .into());
    }
    if warns && (!stderr.contains("warning: ") || stderr.contains("error: ")) {
        return Err(format!("expected warnings and no error{encoded}:\n{shown}").into());
    }
    for secret in secrets_in(work.path()) {
        let start = secret.floor_char_boundary(secret.len().min(8));
        if shown.contains(&secret) || shown.contains(&secret[..start]) {
            return Err(format!("a secret value ({secret}) was printed{encoded}:\n{shown}").into());
        }
    }
    Ok(shown)
}

/// The error and warning lines (`error: file:line:col: key: message`) and the places they
/// point at (`--> file:line:col`), sorted, then the summary.
fn errors_and_summary(shown: &str) -> Vec<String> {
    let mut errors: Vec<String> = shown
        .lines()
        .filter(|l| {
            l.starts_with("error: ") || l.starts_with("warning: ") || l.trim_start().starts_with("--> ")
        })
        .map(|l| l.trim_start().to_owned())
        .collect();
    errors.sort();
    let summary = shown.split("--- stdout\n").nth(1).unwrap_or("");
    errors.extend(summary.lines().map(str::to_owned));
    errors
}

/// The case written with a BOM or CRLF line ends reports what it reports as written.
fn run_encoded(case: &Path, encoding: Encoding) -> Result<(), Failed> {
    let plain = errors_and_summary(&check_case(case, Encoding::AsIs)?);
    let shown = check_case(case, encoding)?;
    let encoded = errors_and_summary(&shown);
    if plain != encoded {
        return Err(format!(
            "written with {}, the case reports other errors\n--- as is\n{}\n--- {}\n{}\n--- full output\n{shown}",
            encoding.name(),
            plain.join("\n"),
            encoding.name(),
            encoded.join("\n"),
        )
        .into());
    }
    Ok(())
}

fn run_case(case: &Path) -> Result<(), Failed> {
    let shown = check_case(case, Encoding::AsIs)?;
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
    let output = seedrig_in(&corpus().join("_base")).arg("check").output()?;
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
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for encoding in [Encoding::Bom, Encoding::Crlf] {
            let case = case.clone();
            trials.push(Trial::test(format!("{}/{name}", encoding.name()), move || {
                run_encoded(&case, encoding)
            }));
        }
        trials.push(Trial::test(name, move || run_case(&case)));
    }
    libtest_mimic::run(&args, trials).exit();
}
