//! `seedrig doctor`: one row per part of a bench, exit 0 ready, 1 with every problem named, 2
//! for a bad rig file.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doctor(rig: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .arg("doctor")
        .arg("--rig")
        .arg(rig)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("seedrig runs")
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

/// A running emulated lab (`seedrig sim lab`), stopped with Ctrl-C when dropped.
struct Lab {
    child: Child,
    rig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn up() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let rig = dir.path().join("lab.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_seedrig"))
            .args(["sim", "lab", "--slots", "3", "--rig-out"])
            .arg(&rig)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        assert!(first.starts_with("rig file"), "the lab did not come up: {first:?}");
        Lab { child, rig, _dir: dir }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_emulated_lab_is_ready_and_still_runs_after_the_doctor() {
    let lab = Lab::up();
    let o = doctor(&lab.rig);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(row(&out, "pcscd").unwrap().1.starts_with("the rig file's pcscd answers at "), "{out}");
    assert!(row(&out, "slot 2 channel").unwrap().1.contains("accepts a connection"), "{out}");
    let observer = row(&out, "observer port").unwrap().1;
    assert!(observer.contains(" -> /dev/pts/") && observer.contains("answers AT with OK"), "{observer}");
    let console = row(&out, "DUT console").unwrap().1;
    assert!(console.contains("doctor runs no hooks"), "{console}");
    assert!(row(&out, "backend").unwrap().1.contains("free to listen on"), "{out}");
    // The doctor touched nothing: a scenario still passes on the lab.
    let run = Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .args(["run", "--exact", "master-connects", "--rig"])
        .arg(&lab.rig)
        .current_dir(root())
        .output()
        .unwrap();
    let (out, err) = text(&run);
    assert_eq!(run.status.code(), Some(0), "{out}\n{err}");
}
