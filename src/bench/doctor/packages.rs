//! What every bench needs of this machine: the packages (pcscd, vsmartcard's vpcd) and a
//! fine enough monotonic clock.

use std::path::PathBuf;
use std::time::Duration;

use super::{Row, ms, on_path, secs};
use crate::model::{Rig, RigKind};

/// Where pcscd's program is looked for (as `sim::pcscd` does).
const PCSCD_PROGRAMS: &[&str] = &["/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd"];
/// Where vsmartcard's vpcd driver is looked for (as `sim::pcscd` does).
const VPCD_LIBS: &[&str] = &[
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib/x86_64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
];
/// An attempt timeout of this length is shown in real time under the bench's time scale.
const EXAMPLE_T_S: f64 = 30.0;

pub(super) fn packages(rig: &Rig) -> Vec<Row> {
    let lab = match &rig.kind {
        RigKind::Lab(lab) => Some(lab),
        RigKind::Virtual { .. } => None,
    };
    let mut rows = Vec::new();
    let pcscd = first_existing(PCSCD_PROGRAMS);
    rows.push(match (pcscd, lab.and_then(|l| l.pcsc_socket.as_ref())) {
        (Some(p), _) => Row::ok("package pcscd", format!("{} (looked for {})", p.display(), PCSCD_PROGRAMS.join(", "))),
        (None, Some(socket)) => Row::ok(
            "package pcscd",
            format!(
                "not installed here (looked for {}); not needed: the rig file's [pcsc] socket {} is a pcscd run elsewhere",
                PCSCD_PROGRAMS.join(", "),
                socket.display()
            ),
        ),
        (None, None) => Row::problem(
            "package pcscd",
            format!("not installed: looked for {}; install the Debian package pcscd", PCSCD_PROGRAMS.join(", ")),
        ),
    });
    let vpcd = first_existing(VPCD_LIBS);
    rows.push(match (vpcd, lab.is_some()) {
        (Some(p), false) => Row::ok("package vpcd", format!("vsmartcard's vpcd driver {} (looked for {})", p.display(), VPCD_LIBS.join(", "))),
        (None, false) => Row::problem(
            "package vpcd",
            format!(
                "vsmartcard's vpcd driver not installed: looked for {}; install the Debian package vsmartcard-vpcd",
                VPCD_LIBS.join(", ")
            ),
        ),
        (found, true) => Row::ok(
            "package vpcd",
            format!(
                "not needed on a lab bench (only virtual cards use it){}",
                found.map(|p| format!("; installed: {}", p.display())).unwrap_or_default()
            ),
        ),
    });
    let umockdev = on_path("umockdev-run");
    rows.push(Row::ok(
        "package umockdev",
        format!(
            "not needed to run a bench (only tests/usb_umockdev.rs replays USB with it); umockdev-run {}",
            match umockdev {
                Ok(p) => format!("is {}", p.display()),
                Err(_) => "is not on PATH".into(),
            }
        ),
    ));
    rows
}

pub(super) fn clock(rig: &Rig) -> Row {
    let res = rustix::time::clock_getres(rustix::time::ClockId::Monotonic);
    let scale = crate::clock::TimeScale::new(rig.time_scale);
    let t = Duration::from_secs_f64(EXAMPLE_T_S * scale.factor());
    let scaled = format!("time_scale {}: a {EXAMPLE_T_S} s T takes {} real", rig.time_scale, secs(t));
    let resolution = Duration::new(res.tv_sec as u64, res.tv_nsec as u32);
    let shown = match resolution.as_nanos() {
        n if n < 1_000 => format!("{n} ns"),
        n if n < 1_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        _ => ms(resolution),
    };
    let found = format!("CLOCK_MONOTONIC resolution {shown}; {scaled}");
    if resolution > Duration::from_millis(1) {
        Row::problem("clock", format!("{found}: coarser than 1 ms, too coarse for the timing checks"))
    } else {
        Row::ok("clock", found)
    }
}

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}
