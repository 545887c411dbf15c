//! A normal run stops its bench quietly: stopping the modem, the bridges and pcscd is expected,
//! and what it causes (a URC with no port left to print it, a bridge gone) is no warning. With
//! `RUST_LOG` unset the rig logs at warn level, so a clean run's stderr is empty of them.

use std::process::Command;

#[test]
fn a_passing_run_ends_without_warnings() {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let o = Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .args(["--fixtures", &format!("{manifest}/fixtures"), "run", "master-connects", "--exact"])
        .current_dir(manifest)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .expect("seedrig runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("PASS   master-connects"), "{stdout}");
    let loud: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    assert!(loud.is_empty(), "a normal stop logged:\n{}", loud.join("\n"));
}
