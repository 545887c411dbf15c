//! `seedrig doctor`: one row per part of a bench, exit 0 ready, 1 with every problem named, 2
//! for a bad rig file. A lab bench another run holds is waited for (`--lock-timeout`), then
//! reported busy — no problem — with the parts that run uses left untouched.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Bench, Lab, root, seedrig_in};
use seedrig::bench::lock;

mod common;

fn doctor(rig: &Path) -> Output {
    doctor_command(rig, &[]).output().expect("seedrig runs")
}

fn doctor_command(rig: &Path, args: &[&str]) -> Command {
    let mut cmd = seedrig_in(root());
    cmd.arg("doctor").arg("--rig").arg(rig).args(args);
    cmd
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The table row whose part starts with `part`: its status and what was found (columns as the
/// header line places them).
fn row(out: &str, part: &str) -> Option<(String, String)> {
    let header = out.lines().find(|l| l.starts_with("part "))?;
    let status_at = header.find("status")?;
    let found_at = header.find("found")?;
    out.lines().skip_while(|l| *l != header).skip(1).take_while(|l| !l.is_empty()).find_map(|l| {
        let chars: Vec<char> = l.chars().collect();
        let col = |from: usize, to: usize| {
            chars[from.min(chars.len())..to.min(chars.len())].iter().collect::<String>()
        };
        (col(0, status_at).trim().starts_with(part))
            .then(|| (col(status_at, found_at).trim().to_owned(), col(found_at, chars.len())))
    })
}

/// The "not ready" list's entries.
fn problems(out: &str) -> Vec<&str> {
    out.lines().filter_map(|l| l.strip_prefix("  - ")).collect()
}

#[test]
fn the_virtual_bench_is_ready_with_a_row_per_part() {
    let o = doctor(Path::new("rig/virtual.toml"));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    for part in [
        "package pcscd",
        "package vpcd",
        "virtual world",
        "pcscd",
        "slot 0 reader \"Seedrig Virtual",
        "slot 1 reader \"Seedrig Virtual",
        "modem observer AT port",
        "firmware",
        "DUT console",
        "APDU bridges",
        "virtual world down",
        "clock",
    ] {
        let (status, found) = row(&out, part).unwrap_or_else(|| panic!("no row for {part}:\n{out}"));
        assert_eq!(status, "ok", "{part}: {found}\n{out}");
    }
    assert!(row(&out, "pcscd").unwrap().1.starts_with("private pcscd pid "), "{out}");
    assert!(row(&out, "modem observer AT port").unwrap().1.contains("answers AT with OK"), "{out}");
    assert!(row(&out, "firmware").unwrap().1.contains("printed `boot`"), "{out}");
    let master = row(&out, "slot 0 reader").unwrap().1;
    assert!(
        master.contains("holds china-mobile-1 (ICCID 8986000999000000716, IMSI 460009900000071)"),
        "{master}"
    );
    assert!(row(&out, "clock").unwrap().1.contains("time_scale 0.05: a 30 s T takes 1.50 s real"), "{out}");
    assert!(out.contains("ready: all "), "{out}");
    assert!(problems(&out).is_empty(), "{out}");
}

#[test]
fn the_example_lab_bench_names_every_missing_part() {
    let o = doctor(Path::new("rig/lab-example.toml"));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let problems = problems(&out);
    let named = |prefix: &str, needle: &str| {
        assert!(
            problems.iter().any(|p| p.starts_with(prefix) && p.contains(needle)),
            "no problem `{prefix}...{needle}` in:\n{out}"
        );
    };
    for (reader, seed) in [
        ("Identiv uTrust 4701 F Dual Interface Reader(1) 00 00", "vodafone-de-1"),
        ("Identiv uTrust 4701 F Dual Interface Reader(2) 01 00", "telekom-de-1"),
        ("HID Global OMNIKEY 3x21 Smart Card Reader [OMNIKEY 3x21 Smart Card Reader] 02 00", "o2-de-1"),
        ("HID Global OMNIKEY 3x21 Smart Card Reader [OMNIKEY 3x21 Smart Card Reader] 03 00", "vodafone-uk-1"),
    ] {
        named(&format!("reader \"{reader}\": "), &format!("should hold {seed} (ICCID "));
    }
    named("slot 0 channel: ", "board 8E2B4D1C (1d50:60e3, channel 0)");
    named("slot 1 channel: ", "board 3F01A7C2 (1d50:4004, channel 0)");
    named("slot 2 channel: ", "board 3F01A7C2 (1d50:4004, channel 1)");
    named("DUT console: ", "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K4Z2B-if00-port0: not there");
    named("observer port: ", "/dev/serial/by-id/usb-Quectel_EG25-G-if03-port0: not there");
    named("hook dut.reset: ", "/opt/bench/dut");
    named("hook network.clear: ", "/opt/bench/net");
    // What is there is still shown, and is no problem.
    assert_eq!(row(&out, "clock").map(|r| r.0).as_deref(), Some("ok"), "{out}");
    assert!(out.contains("not ready: "), "{out}");
}

#[test]
fn a_broken_rig_file_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("bench-9.toml");
    std::fs::write(&rig, "kind = \"lab\"\nname = \"bench-9\"\nslots = 2\nsignal_dmb = 3\n").unwrap();
    let o = doctor(&rig);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}\n{err}");
    assert!(err.contains("bench-9.toml"), "{err}");
    let o = doctor(&dir.path().join("missing.toml"));
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
}

#[test]
fn an_emulated_lab_is_ready_and_still_runs_after_the_doctor() {
    let lab = Lab::up(&["--slots", "3"]);
    let bench = lab.renamed("doctor-ready", |t| t);
    let o = doctor(&bench.path);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let lock = row(&out, "bench lock").unwrap();
    assert_eq!(lock.0, "ok", "{out}");
    assert!(lock.1.starts_with("free; held by this doctor while it looks ("), "{out}");
    assert!(row(&out, "pcscd").unwrap().1.starts_with("the rig file's pcscd answers at "), "{out}");
    assert!(row(&out, "slot 2 channel").unwrap().1.contains("accepts a connection"), "{out}");
    let observer = row(&out, "observer port").unwrap().1;
    assert!(observer.contains(" -> /dev/pts/") && observer.contains("answers AT with OK"), "{observer}");
    let console = row(&out, "DUT console").unwrap().1;
    assert!(console.contains("doctor runs no hooks"), "{console}");
    assert!(row(&out, "backend").unwrap().1.contains("free to listen on"), "{out}");
    // The doctor touched nothing: a scenario still passes on the lab.
    let run = seedrig_in(root())
        .args(["run", "--exact", "master-connects", "--rig"])
        .arg(&bench.path)
        .output()
        .unwrap();
    let (out, err) = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}\n{err}");
}

/// Holds `bench` as a run would.
fn hold(bench: &Bench) -> lock::BenchLock {
    lock::acquire(&bench.rig(), Duration::ZERO, |h| panic!("held by {h}")).unwrap()
}

#[test]
fn a_bench_another_run_holds_is_busy_not_broken() {
    let lab = Lab::up(&["--slots", "3"]);
    let bench = lab.renamed("doctor-busy", |t| t);
    let held = hold(&bench);
    let started = Instant::now();
    let o = doctor_command(&bench.path, &["--lock-timeout", "1"]).output().unwrap();
    let waited = started.elapsed();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "busy is no problem:\n{out}\n{err}");
    assert!(waited >= Duration::from_secs(1), "it waited --lock-timeout first: {waited:?}");
    let (status, found) = row(&out, "bench lock").unwrap();
    assert_eq!(status, "busy", "{out}");
    assert!(found.starts_with(&format!("busy: held by pid {} on ", std::process::id())), "{found}");
    assert!(err.contains("waiting for bench doctor-busy-"), "it said whom it waited for: {err}");
    // The parts the holder's run uses are looked at, not touched.
    for part in ["reader \"", "slot 0 channel", "slot 2 channel", "DUT console", "observer port", "backend"] {
        let (status, found) = row(&out, part).unwrap_or_else(|| panic!("no row for {part}:\n{out}"));
        assert_eq!(status, "busy", "{part}: {found}\n{out}");
        assert!(found.contains("in use by the run that holds the bench"), "{part}: {found}");
    }
    assert!(row(&out, "observer port").unwrap().1.contains("no AT sent"), "{out}");
    // The rest is examined as usual.
    assert!(row(&out, "pcscd").unwrap().1.starts_with("the rig file's pcscd answers at "), "{out}");
    assert_eq!(row(&out, "hook dut.configure").map(|r| r.0).as_deref(), Some("ok"), "{out}");
    assert!(problems(&out).is_empty(), "{out}");
    assert!(out.contains("busy, otherwise ready: bench doctor-busy-"), "{out}");
    assert!(lock::read_holder(held.path().unwrap()).is_some_and(|h| h.pid == std::process::id()));
}

#[test]
fn a_bench_released_during_the_wait_is_taken_and_examined() {
    let lab = Lab::up(&["--slots", "3"]);
    let bench = lab.renamed("doctor-wait", |t| t);
    let held = hold(&bench);
    let mut child = doctor_command(&bench.path, &["--lock-timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    stderr.read_line(&mut said).unwrap();
    assert!(said.starts_with("waiting for bench doctor-wait-"), "{said}");
    assert!(said.contains(&format!("held by pid {}", std::process::id())), "{said}");
    let lock_file = held.path().unwrap().to_owned();
    drop(held);
    let o = child.wait_with_output().unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let (status, found) = row(&out, "bench lock").unwrap();
    assert_eq!(status, "ok", "{out}");
    assert!(
        found.contains("free, after waiting ") && found.contains("held by this doctor while it looks"),
        "{found}"
    );
    // Taken: every part probed as usual.
    assert!(row(&out, "observer port").unwrap().1.contains("answers AT with OK"), "{out}");
    assert!(row(&out, "slot 2 channel").unwrap().1.contains("accepts a connection"), "{out}");
    assert!(out.contains("ready: all "), "{out}");
    assert_eq!(lock::read_holder(&lock_file), None, "the doctor released the bench");
}
