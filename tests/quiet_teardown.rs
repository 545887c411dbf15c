//! A normal run stops its bench quietly: stopping the modem, the bridges and pcscd is expected,
//! and what it causes (a URC with no port left to print it, a bridge gone) is no warning. With
//! `RUST_LOG` unset the rig logs at warn level, so a clean run's stderr is empty of them.

mod common;

#[test]
fn a_passing_run_ends_without_warnings() {
    let o = common::seedrig()
        .args(["run", "master-connects", "--exact"])
        .env_remove("RUST_LOG")
        .output()
        .expect("seedrig runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("PASS   master-connects"), "{stdout}");
    let loud: Vec<&str> = stderr.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    assert!(loud.is_empty(), "a normal stop logged:\n{}", loud.join("\n"));
}
