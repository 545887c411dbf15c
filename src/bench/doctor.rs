//! `seedrig doctor`'s probes: is every part a rig file names there, and does it answer?
//!
//! Each probe returns [`Row`]s — a part, what was found, and whether that is what the bench
//! needs — and never panics or hangs on a missing or wedged part: blocking calls (PC/SC, USB)
//! run on threads of their own with a time limit. Nothing is changed on the bench: no hook
//! runs, a socket is connected to and closed at once, the backend's address is bound and
//! released.
//!
//! A lab bench is examined under its lock, as a run drives it ([`take_lock`]: the doctor waits
//! up to `--lock-timeout` for a run that holds it, then holds it while it looks, so no run starts
//! in the middle). A bench another run still holds after the wait is **busy**, which is no
//! problem: the lock's row names the holder, and the parts that run uses (the cards, the
//! card-emulation sockets, the serial ports, the backend's address) are looked at without
//! being touched — each a `busy` row — so the run goes on undisturbed.
//!
//! - A **lab bench**: packages, the pcscd (the system's or the rig file's `[pcsc] socket`) and
//!   its readers, each `[[readers]]` entry's card against its seed fixture (ICCID and IMSI),
//!   each `[[channels]]` entry's board (product id and serial on USB, with its channel count) or
//!   socket, the DUT console and observer ports (symlinks resolved; the observer must answer
//!   `AT`), every hook's program, the backend's address, the clock.
//! - The **virtual bench**: packages, then its world brought up for one small scenario with the
//!   reference firmware and taken down again: the private pcscd, each virtual reader and its
//!   card, the modem's observer AT port, the firmware's `boot` on its console, the bridges, the
//!   clock.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_serial::SerialPortBuilderExt;

use super::lock::{BenchLock, Holder, LockError};
use super::virtual_bench::FirmwareLaunch;
use super::{VirtualBench, VirtualBenchOptions};
use crate::console::Event;
use crate::console::reader::ConsoleReader;
use crate::hw::pcsc::{PcscError, Readers, read_identity};
use crate::model::{CardemChannel, Catalog, Hook, LabBench, LabNetwork, Rig, RigKind, Scenario};

/// One line of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What was checked: `package pcscd`, `reader "..."`, `slot 1 channel`, `observer port`.
    pub part: String,
    /// What was found, or what is wrong and where to look.
    pub found: String,
    /// Whether the bench can use it as it is.
    pub ok: bool,
    /// Another run holds the bench: this is its lock, or a part that run uses, looked at
    /// without being touched. Never a problem.
    pub busy: bool,
}

impl Row {
    fn ok(part: impl Into<String>, found: impl Into<String>) -> Row {
        Row { part: part.into(), found: found.into(), ok: true, busy: false }
    }

    fn problem(part: impl Into<String>, found: impl Into<String>) -> Row {
        Row { part: part.into(), found: found.into(), ok: false, busy: false }
    }

    fn busy(part: impl Into<String>, found: impl Into<String>) -> Row {
        Row { part: part.into(), found: found.into(), ok: true, busy: true }
    }

    fn of(part: impl Into<String>, result: Result<String, String>) -> Row {
        match result {
            Ok(found) => Row::ok(part, found),
            Err(found) => Row::problem(part, found),
        }
    }
}

/// Where pcscd's program is looked for (as `sim::pcscd` does).
const PCSCD_PROGRAMS: &[&str] = &["/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd"];
/// Where vsmartcard's vpcd driver is looked for (as `sim::pcscd` does).
const VPCD_LIBS: &[&str] = &[
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib/x86_64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
];
/// libpcsclite's client socket when `PCSCLITE_CSOCK_NAME` does not say otherwise.
const SYSTEM_PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
/// SIMtrace2-class boards' card-emulation channels, by USB product id (as `seedrig check`
/// knows them; docs/fixtures.md).
const BOARD_CHANNELS: &[(u16, u8)] = &[(0x60e3, 1), (0x4001, 2), (0x4004, 2), (0x616d, 8), (0x616e, 1)];
/// The scenario the virtual bench is brought up for, when it fits.
const PREFERRED_SCENARIO: &str = "master-connects";
/// How long the observer may take to answer `AT`.
const AT_WITHIN: Duration = Duration::from_secs(2);
/// How long the reference firmware may take to print `boot`.
const BOOT_WITHIN: Duration = Duration::from_secs(10);
/// A PC/SC or USB call that takes longer is a wedged stack; the doctor moves on.
const BLOCKING_LIMIT: Duration = Duration::from_secs(8);
/// An attempt timeout of this length is shown in real time under the bench's time scale.
const EXAMPLE_T_S: f64 = 30.0;

/// A lab bench's lock as the doctor found it, before it examines the bench.
#[derive(Debug, Clone)]
pub enum LockState {
    /// A virtual bench: never locked.
    Unlocked,
    /// The doctor holds it while it examines the bench, after waiting this long for the run
    /// that held it (if any did).
    Held { path: PathBuf, waited: Duration, waited_for: Option<Holder> },
    /// Another run held it for the whole wait (`--lock-timeout`).
    Busy { holder: Holder, path: PathBuf, waited: Duration },
    /// The lock file could not be opened or locked.
    Broken(String),
}

/// Takes `rig`'s bench lock as a run does ([`super::lock::acquire`]), waiting up to `timeout`
/// for a run that holds it (`on_wait` is told who). The lock is held as long as the returned
/// [`BenchLock`] lives: keep it until the examination is over.
pub fn take_lock(rig: &Rig, timeout: Duration, on_wait: impl FnMut(&Holder)) -> (BenchLock, LockState) {
    let Some(path) = super::lock::lock_path(rig) else { return (BenchLock::none(), LockState::Unlocked) };
    let started = Instant::now();
    let mut waited_for = None;
    let mut on_wait = on_wait;
    let taken = super::lock::acquire(rig, timeout, |holder| {
        waited_for = Some(holder.clone());
        on_wait(holder);
    });
    let waited = started.elapsed();
    match taken {
        Ok(lock) => (lock, LockState::Held { path, waited, waited_for }),
        Err(LockError::Busy { holder }) => (BenchLock::none(), LockState::Busy { holder, path, waited }),
        Err(e) => (BenchLock::none(), LockState::Broken(e.to_string())),
    }
}

/// Examines every part `rig` names; `lock` is how the doctor found a lab bench's lock
/// ([`take_lock`]). `firmware` is the reference firmware, the virtual bench's DUT. Must run
/// within a multi-threaded tokio runtime.
pub async fn examine(catalog: &Catalog, rig: &Rig, firmware: &Path, lock: &LockState) -> Vec<Row> {
    let mut rows = packages(rig);
    match &rig.kind {
        RigKind::Virtual { .. } => rows.extend(virtual_world(catalog, rig, firmware).await),
        RigKind::Lab(lab) => {
            rows.push(bench_lock(lock));
            let busy = matches!(lock, LockState::Busy { .. });
            rows.extend(lab_bench(catalog, lab, busy).await);
        }
    }
    rows.push(clock(rig));
    rows
}

// ---------------------------------------------------------------------------------------
// Packages and the clock

fn packages(rig: &Rig) -> Vec<Row> {
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

fn clock(rig: &Rig) -> Row {
    let mut res = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_getres writes one timespec this function owns.
    let r = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC, &mut res) };
    let scale = crate::clock::TimeScale::new(rig.time_scale);
    let t = Duration::from_secs_f64(EXAMPLE_T_S * scale.factor());
    let scaled = format!("time_scale {}: a {EXAMPLE_T_S} s T takes {} real", rig.time_scale, secs(t));
    if r != 0 {
        return Row::problem(
            "clock",
            format!("CLOCK_MONOTONIC: {}; {scaled}", std::io::Error::last_os_error()),
        );
    }
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

// ---------------------------------------------------------------------------------------
// The lab bench

/// What a part another run uses says, looked at without being touched.
const IN_USE: &str = "in use by the run that holds the bench";

/// Every part of a lab bench; `busy`: another run holds it, so the parts it uses are only
/// looked at (there, the right kind of file), never opened, connected to or bound.
async fn lab_bench(catalog: &Catalog, lab: &LabBench, busy: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let (pcscd_row, readers) = pcscd(lab).await;
    rows.push(pcscd_row);
    rows.extend(card_inventory(catalog, lab, readers, busy).await);
    rows.extend(channels(lab, busy).await);
    let console = &lab.dut.console;
    rows.push(if busy {
        untouched("DUT console", resolved(&console.path), "not opened")
    } else {
        Row::of(
            "DUT console",
            serial_port(&console.path, console.baud).await.map(|found| {
                format!("{found}; DUT alive not checked: doctor runs no hooks, so the DUT was not started")
            }),
        )
    });
    let observer = &lab.observer.port;
    rows.push(if busy {
        untouched("observer port", resolved(&observer.path), "not opened, no AT sent")
    } else {
        Row::of("observer port", observer_port(&observer.path, observer.baud).await)
    });
    rows.extend(
        hooks(lab).into_iter().map(|(name, hook)| Row::of(format!("hook {name}"), hook_program(hook))),
    );
    rows.push(if busy {
        Row::busy("backend", format!("{}: not bound: {IN_USE}, which listens there", lab.backend))
    } else {
        Row::of("backend", backend(lab.backend))
    });
    rows
}

/// A part another run uses: `Ok(found)` (it is there) makes a busy row saying what was not
/// done to it; `Err` is a problem as usual.
fn untouched(part: &str, found: Result<String, String>, not_done: &str) -> Row {
    match found {
        Ok(found) => Row::busy(part, format!("{found}: there; {not_done}: {IN_USE}")),
        Err(why) => Row::problem(part, why),
    }
}

/// The lock's row: held by the doctor, or busy (another run holds it: no problem).
fn bench_lock(lock: &LockState) -> Row {
    match lock {
        LockState::Unlocked => Row::ok("bench lock", "a virtual bench is never locked"),
        LockState::Held { path, waited, waited_for } => {
            let after = match waited_for {
                Some(holder) => format!(", after waiting {} for {holder}", secs(*waited)),
                None => String::new(),
            };
            Row::ok(
                "bench lock",
                format!("free{after}; held by this doctor while it looks ({})", path.display()),
            )
        }
        LockState::Busy { holder, path, waited } => Row::busy(
            "bench lock",
            format!(
                "busy: held by {holder} ({}), still after {} (--lock-timeout); the parts its run uses were looked at, not touched",
                path.display(),
                secs(*waited)
            ),
        ),
        LockState::Broken(e) => Row::problem("bench lock", e.clone()),
    }
}

/// Points this process's PC/SC calls at the rig file's pcscd (as a run does); the socket it
/// talks to.
fn use_pcscd(socket: Option<&PathBuf>) -> Result<PathBuf, String> {
    super::lab_driver::use_pcscd(socket)?;
    Ok(std::env::var_os("PCSCLITE_CSOCK_NAME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SYSTEM_PCSCD_SOCKET)))
}

/// The pcscd row, and the readers it lists when it answers.
async fn pcscd(lab: &LabBench) -> (Row, Option<Vec<String>>) {
    let whose = if lab.pcsc_socket.is_some() { "the rig file's pcscd" } else { "the system's pcscd" };
    let socket = match use_pcscd(lab.pcsc_socket.as_ref()) {
        Ok(s) => s,
        Err(e) => return (Row::problem("pcscd", e), None),
    };
    if !socket.exists() {
        let hint = if lab.pcsc_socket.is_some() {
            "is the program that serves it (e.g. `seedrig sim lab`) running?"
        } else {
            "pcscd is not running: `systemctl start pcscd.socket` (package pcscd)"
        };
        return (Row::problem("pcscd", format!("{whose}: no socket at {}: {hint}", socket.display())), None);
    }
    match off_thread(BLOCKING_LIMIT, || Readers::new().list()).await {
        None => (
            Row::problem(
                "pcscd",
                format!("{whose} at {}: no answer within {BLOCKING_LIMIT:?}", socket.display()),
            ),
            None,
        ),
        Some(Err(e)) => (Row::problem("pcscd", format!("{whose} at {}: {e}", socket.display())), None),
        Some(Ok(names)) => {
            let listed = if names.is_empty() { "none".to_owned() } else { quoted(&names) };
            (
                Row::ok(
                    "pcscd",
                    format!("{whose} answers at {}; {} reader(s): {listed}", socket.display(), names.len()),
                ),
                Some(names),
            )
        }
    }
}

/// Each `[[readers]]` entry: there, a card in it, and that card the seed it should hold.
async fn card_inventory(
    catalog: &Catalog,
    lab: &LabBench,
    listed: Option<Vec<String>>,
    busy: bool,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for reader in &lab.readers {
        let part = format!("reader \"{}\"", reader.name);
        let Some(seed) = catalog.seeds.get(&reader.seed) else {
            rows.push(Row::problem(part, format!("should hold {}, which is no seed fixture", reader.seed)));
            continue;
        };
        let wanted = format!("{} (ICCID {}, IMSI {})", seed.id, seed.iccid, seed.imsi);
        let Some(names) = &listed else {
            rows.push(Row::problem(
                part,
                format!("not checked: pcscd does not answer; should hold {wanted}"),
            ));
            continue;
        };
        if !names.contains(&reader.name) {
            let present = if names.is_empty() { "none".to_owned() } else { quoted(names) };
            rows.push(Row::problem(
                part,
                format!("not present (readers pcscd lists: {present}); should hold {wanted}"),
            ));
            continue;
        }
        if busy {
            rows.push(Row::busy(part, format!("present; its card not read: {IN_USE}; should hold {wanted}")));
            continue;
        }
        let name = reader.name.clone();
        let identity = off_thread(BLOCKING_LIMIT, move || {
            let mut readers = Readers::new();
            readers.connect(&name).and_then(|card| read_identity(&card))
        })
        .await;
        rows.push(match identity {
            None => Row::problem(part, format!("no answer within {BLOCKING_LIMIT:?}; should hold {wanted}")),
            Some(Err(PcscError::NoCard { .. })) => {
                Row::problem(part, format!("present, but no card in it; should hold {wanted}"))
            }
            Some(Err(e)) => Row::problem(
                part,
                format!("cannot read the card's ICCID and IMSI: {e}; should hold {wanted}"),
            ),
            Some(Ok(id)) if id.iccid == seed.iccid.as_str() && id.imsi == seed.imsi.as_str() => {
                Row::ok(part, format!("holds {wanted}"))
            }
            Some(Ok(id)) => {
                let other = catalog
                    .seeds
                    .values()
                    .find(|s| s.iccid.as_str() == id.iccid)
                    .map(|s| format!(" (that is seed {})", s.id))
                    .unwrap_or_default();
                Row::problem(
                    part,
                    format!(
                        "holds ICCID {}, IMSI {}{other}, but should hold {wanted}: was a card moved?",
                        id.iccid, id.imsi
                    ),
                )
            }
        });
    }
    rows
}

/// Each `[[channels]]` entry: its board on USB (with its channel count) or its socket.
async fn channels(lab: &LabBench, busy: bool) -> Vec<Row> {
    let needs_usb = lab.channels.iter().any(|c| matches!(c.channel, CardemChannel::Usb { .. }));
    let boards = match needs_usb {
        true => Some(match off_thread(BLOCKING_LIMIT, crate::hw::simtrace::list_boards).await {
            Some(listed) => listed.map_err(|e| e.to_string()),
            None => Err(format!("no answer from libusb within {BLOCKING_LIMIT:?}")),
        }),
        false => None,
    };
    let mut rows = Vec::new();
    for wired in &lab.channels {
        let part = format!("slot {} channel", wired.slot);
        rows.push(match &wired.channel {
            CardemChannel::Usb { product_id, serial, channel } => {
                let boards = boards.as_ref().expect("listed above");
                Row::of(part, usb_board(boards, *product_id, serial, *channel))
            }
            CardemChannel::Socket { path } if busy => untouched(&part, socket_file(path), "not connected to"),
            CardemChannel::Socket { path } => Row::of(part, socket(path)),
        });
    }
    rows
}

fn usb_board(
    boards: &Result<Vec<crate::hw::simtrace::BoardInfo>, String>,
    product_id: u16,
    serial: &str,
    channel: u8,
) -> Result<String, String> {
    let count = BOARD_CHANNELS.iter().find(|(p, _)| *p == product_id).map_or(1, |(_, n)| *n);
    let wanted = format!("board {serial} (1d50:{product_id:04x}, channel {channel})");
    let boards = boards.as_ref().map_err(|e| format!("{wanted}: cannot list USB devices: {e}"))?;
    let Some(board) =
        boards.iter().find(|b| b.product_id == product_id && b.serial.as_deref() == Some(serial))
    else {
        let unreadable = boards.iter().filter(|b| b.serial.is_none()).count();
        let present: Vec<String> = boards.iter().map(ToString::to_string).collect();
        let mut why = format!(
            "{wanted} not found on USB; SIMtrace2-class boards present: {}",
            if present.is_empty() { "none".to_owned() } else { present.join("; ") }
        );
        if unreadable > 0 {
            why.push_str(&format!(
                " ({unreadable} without a readable serial number: no permission to open them? a udev rule for 1d50:* fixes that)"
            ));
        }
        return Err(why);
    };
    let found = format!("{board}: {count} card-emulation channel(s)");
    if channel >= count {
        return Err(format!("{found}, but the rig file wires channel {channel}"));
    }
    Ok(format!("{found}; channel {channel} wired"))
}

/// A card-emulation socket: there, a socket, and accepting a connection (closed at once).
fn socket(path: &Path) -> Result<String, String> {
    socket_file(path)?;
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(stream) => {
            drop(stream);
            Ok(format!("socket {} accepts a connection (closed again at once)", path.display()))
        }
        Err(e) => Err(format!("socket {}: refuses a connection: {e} (nothing serves it?)", path.display())),
    }
}

/// `socket <path>` when a socket is there.
fn socket_file(path: &Path) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("socket {}: {}", path.display(), io_reason(&e)))?;
    if !meta.file_type().is_socket() {
        return Err(format!("{}: not a socket", path.display()));
    }
    Ok(format!("socket {}", path.display()))
}

/// A serial port: where its path leads, and that it opens.
async fn serial_port(path: &Path, baud: u32) -> Result<String, String> {
    let shown = resolved(path)?;
    let port = tokio_serial::new(path.to_string_lossy(), baud)
        .open_native_async()
        .map_err(|e| format!("{shown}: cannot open: {e}"))?;
    drop(port);
    Ok(format!("{shown}: opens at {baud} baud"))
}

/// `path`, and where its symlinks lead; an error naming the path when it is not there.
fn resolved(path: &Path) -> Result<String, String> {
    let link = std::fs::symlink_metadata(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => {
            format!("{}: not there (unplugged? `ls -l /dev/serial/by-id/` lists the ports)", path.display())
        }
        _ => format!("{}: {e}", path.display()),
    })?;
    if !link.file_type().is_symlink() {
        return Ok(path.display().to_string());
    }
    match std::fs::canonicalize(path) {
        Ok(target) => Ok(format!("{} -> {}", path.display(), target.display())),
        Err(_) => {
            let target = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
            Err(format!("{} -> {target}, which is not there (device unplugged?)", path.display()))
        }
    }
}

/// The observer port: opens, and answers `AT` with `OK` within 2 s.
async fn observer_port(path: &Path, baud: u32) -> Result<String, String> {
    let shown = resolved(path)?;
    let answered = at_probe(path, baud).await.map_err(|e| format!("{shown}: {e}"))?;
    Ok(format!("{shown}: opens at {baud} baud, answers AT with OK in {}", ms(answered)))
}

/// Sends `AT` and waits for `OK`.
async fn at_probe(path: &Path, baud: u32) -> Result<Duration, String> {
    let port = tokio_serial::new(path.to_string_lossy(), baud)
        .open_native_async()
        .map_err(|e| format!("cannot open: {e}"))?;
    let (rd, mut wr) = tokio::io::split(port);
    let started = Instant::now();
    wr.write_all(b"AT\r").await.map_err(|e| format!("cannot write AT: {e}"))?;
    let mut lines = BufReader::new(rd).lines();
    let mut said = Vec::new();
    let answer = tokio::time::timeout(AT_WITHIN, async {
        while let Ok(Some(line)) = lines.next_line().await {
            let line = line.trim().to_owned();
            match line.as_str() {
                "OK" => return Ok(started.elapsed()),
                "ERROR" => return Err("answers AT with ERROR".to_owned()),
                "" | "AT" => {}
                _ => said.push(line),
            }
        }
        Err("the port closed before answering AT".to_owned())
    })
    .await;
    match answer {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no OK to AT within {AT_WITHIN:?}{}",
            if said.is_empty() { String::new() } else { format!(" (it said: {})", said.join(" / ")) }
        )),
    }
}

/// Every hook of the rig file, by name.
fn hooks(lab: &LabBench) -> Vec<(String, &Hook)> {
    let dut = &lab.dut;
    let mut all: Vec<(String, &Hook)> = [
        ("dut.power", &dut.power),
        ("dut.configure", &dut.configure),
        ("dut.reset", &dut.reset),
        ("dut.start", &dut.start),
    ]
    .into_iter()
    .filter_map(|(name, hook)| hook.as_ref().map(|h| (name.to_owned(), h)))
    .collect();
    if let LabNetwork::Fixture(net) = &lab.network {
        all.push(("network.set_site".into(), &net.set_site));
        all.push(("network.clear".into(), &net.clear));
        all.extend(net.faults.iter().map(|(kind, h)| (format!("network.faults.{kind}"), h)));
    }
    all
}

/// A hook's program: an executable file by absolute path, or found on PATH.
fn hook_program(hook: &Hook) -> Result<String, String> {
    let Some(program) = hook.argv.first() else {
        return Err("empty command".into());
    };
    if program.contains('/') {
        let path = Path::new(program);
        if !path.is_absolute() {
            return Err(format!(
                "`{program}` is a relative path; hooks run from wherever the rig runs: give an absolute path"
            ));
        }
        return executable(path)
            .map(|()| format!("{program} (executable)"))
            .map_err(|e| format!("{program}: {e}"));
    }
    on_path(program)
        .map(|p| format!("`{program}` is {}", p.display()))
        .map_err(|searched| format!("`{program}` not found on PATH ({searched})"))
}

fn executable(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err("not a file".into());
    }
    if rustix::fs::access(path, rustix::fs::Access::EXEC_OK).is_err() {
        return Err(format!("not executable (mode {:o})", meta.permissions().mode() & 0o7777));
    }
    Ok(())
}

/// `program` as PATH finds it; the PATH searched when it does not.
fn on_path(program: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate).is_ok())
        .ok_or_else(|| path.to_string_lossy().into_owned())
}

/// The backend stub's address: free to listen on (bound and released at once).
fn backend(addr: std::net::SocketAddr) -> Result<String, String> {
    match std::net::TcpListener::bind(addr) {
        Ok(listener) => {
            drop(listener);
            Ok(format!("{addr}: free to listen on (bound and released)"))
        }
        Err(e) => Err(match e.kind() {
            ErrorKind::AddrNotAvailable => {
                format!("{addr}: cannot listen: {e}: no network interface of this machine has {}", addr.ip())
            }
            ErrorKind::AddrInUse => format!(
                "{addr}: cannot listen: {e}: something else listens there (`ss -ltnp 'sport = :{}'` names it)",
                addr.port()
            ),
            _ => format!("{addr}: cannot listen: {e}"),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// The virtual bench

/// The scenario the virtual world is brought up for: `master-connects` if the bench's slots
/// fit it, else the first scenario that fits.
pub fn small_scenario<'c>(catalog: &'c Catalog, rig: &Rig) -> Option<&'c Scenario> {
    let fits = |s: &&Scenario| s.placements().all(|p| p.slot < rig.slots);
    catalog.scenarios.get(PREFERRED_SCENARIO).filter(fits).or_else(|| catalog.scenarios.values().find(fits))
}

async fn virtual_world(catalog: &Catalog, rig: &Rig, firmware: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    // The rig file's own device under test, where it names one; else the reference firmware.
    let launch = match &rig.kind {
        crate::model::RigKind::Virtual { dut: Some(program) } => FirmwareLaunch::Program(program.clone()),
        _ => {
            let firmware_row = executable(firmware)
                .map(|()| firmware.display().to_string())
                .map_err(|e| format!("{}: {e}", firmware.display()));
            if let Err(e) = &firmware_row {
                rows.push(Row::problem("firmware", format!("{e} (build it: cargo build)")));
                return rows;
            }
            FirmwareLaunch::Reference { binary: firmware.to_owned(), fault: None }
        }
    };
    let Some(scenario) = small_scenario(catalog, rig) else {
        rows.push(Row::problem(
            "virtual world",
            format!("no scenario fits the bench's {} slot(s)", rig.slots),
        ));
        return rows;
    };
    let options = VirtualBenchOptions { firmware: Some(launch), watch_observer: false };
    let started = Instant::now();
    let up = tokio::time::timeout(Duration::from_secs(60), VirtualBench::up(catalog, scenario, rig, options))
        .await;
    let mut bench = match up {
        Ok(Ok(bench)) => bench,
        Ok(Err(e)) => {
            rows.push(Row::problem(
                "virtual world",
                format!("scenario {} did not come up: {e}", scenario.id),
            ));
            return rows;
        }
        Err(_) => {
            rows.push(Row::problem(
                "virtual world",
                format!("scenario {} did not come up within 60 s", scenario.id),
            ));
            return rows;
        }
    };
    let booted = wait_for_boot(&bench).await;
    rows.push(Row::ok(
        "virtual world",
        format!(
            "scenario {} up in {}: {} card(s) behind the bridges, the simulated network and modem, the reference firmware",
            scenario.id,
            ms(started.elapsed()),
            scenario.placements().count()
        ),
    ));
    let paths = bench.paths().clone();
    let (pcscd_pid, isolated, spares) = match bench.pcscd_mut() {
        Some(p) => (Some(p.pid()), p.isolated(), p.spare_readers().to_vec()),
        None => (None, false, Vec::new()),
    };
    let pid = pcscd_pid.unwrap_or(0);
    let listed = off_thread(BLOCKING_LIMIT, || Readers::new().list()).await;
    let isolation = if isolated {
        "in its own mount namespace (a system pcscd and its readers are untouched)"
    } else {
        "not isolated (this machine allows no mount namespace): its own socket and readers, the pid file shared with a system pcscd"
    };
    rows.push(match listed {
        Some(Ok(names)) => Row::ok(
            "pcscd",
            format!(
                "private pcscd pid {pid}, {isolation}; socket {}; {} reader(s): {}",
                paths.pcsc_socket.display(),
                names.len(),
                quoted(&names)
            ),
        ),
        Some(Err(e)) => Row::problem("pcscd", format!("private pcscd pid {pid}: {e}")),
        None => {
            Row::problem("pcscd", format!("private pcscd pid {pid}: no answer within {BLOCKING_LIMIT:?}"))
        }
    });
    for slot in &paths.slots {
        let part = format!("slot {} reader \"{}\"", slot.slot, slot.reader);
        let Some(seed) = catalog.seeds.get(&slot.seed) else { continue };
        let role = if slot.slot == scenario.master.slot { "the master" } else { "a standby" };
        rows.push(match read_card(&slot.reader).await {
            Ok(id) if id.iccid == seed.iccid.as_str() && id.imsi == seed.imsi.as_str() => Row::ok(
                part,
                format!("virtual card holds {} (ICCID {}, IMSI {}), {role}", seed.id, id.iccid, id.imsi),
            ),
            Ok(id) => Row::problem(
                part,
                format!(
                    "virtual card holds ICCID {}, IMSI {}, but should hold {} (ICCID {}, IMSI {})",
                    id.iccid, id.imsi, seed.id, seed.iccid, seed.imsi
                ),
            ),
            Err(e) => Row::problem(part, format!("should hold {}: {e}", seed.id)),
        });
    }
    for spare in spares {
        rows.push(Row::ok(format!("reader \"{spare}\""), "a spare card (vpcd serves cards in pairs)"));
    }
    rows.push(Row::of(
        "modem observer AT port",
        at_probe(&paths.observer_at_port, 115_200)
            .await
            .map(|t| format!("{}: answers AT with OK in {}", paths.observer_at_port.display(), ms(t)))
            .map_err(|e| format!("{}: {e}", paths.observer_at_port.display())),
    ));
    rows.push(Row::ok(
        "modem firmware AT port",
        format!("{}: held by the firmware (not probed)", paths.firmware_at_port.display()),
    ));
    let fw_pid = bench.firmware_pid().map(|p| format!(" (pid {p})")).unwrap_or_default();
    let console = paths.console.display();
    // The rig file's own DUT is named by its command, the reference firmware by its path.
    let shown = crate::bench::Bench::dut_output(&bench)
        .and_then(|o| o.split('`').nth(1).map(|c| format!("`{c}`")))
        .unwrap_or_else(|| firmware.display().to_string());
    rows.push(Row::of(
        "firmware",
        booted
            .clone()
            .map(|t| {
                format!("{shown}{fw_pid} booted: printed `boot` on its console {} after bring-up", ms(t))
            })
            .map_err(|e| format!("{shown}{fw_pid}: {e}")),
    ));
    rows.push(Row::of(
        "DUT console",
        match &booted {
            Ok(_) => Ok(format!("{console}: the firmware's console; its `boot` line read there")),
            Err(_) => Err(format!("{console}: no `boot` read there (see the firmware row)")),
        },
    ));
    rows.push(Row::of(
        "APDU bridges",
        match bench.broken() {
            None => {
                Ok(format!("{} slot(s) relayed to their cards; nothing broke meanwhile", paths.slots.len()))
            }
            Some(broken) => Err(broken),
        },
    ));
    rows.push(Row::ok(
        "backend",
        "in-process stub: the simulated network delivers the firmware's report to it; nothing listens",
    ));
    let stopping = Instant::now();
    bench.down().await;
    let stopped = ms(stopping.elapsed());
    rows.push(match pcscd_pid {
        Some(p) if alive(p) => Row::problem(
            "virtual world down",
            format!("stopped in {stopped}, but pcscd (pid {p}) still runs"),
        ),
        Some(p) => Row::ok(
            "virtual world down",
            format!("firmware, bridges, modem and pcscd (pid {p}, gone) stopped in {stopped}"),
        ),
        None => Row::ok("virtual world down", format!("firmware, bridges and modem stopped in {stopped}")),
    });
    rows
}

/// Reads the console until the firmware prints `boot`; how long that took.
async fn wait_for_boot(bench: &VirtualBench) -> Result<Duration, String> {
    let started = Instant::now();
    // The DUT's own console format (a rig file's patterns), and its own boot time.
    let mut reader =
        ConsoleReader::new(crate::bench::Bench::console_format(bench)).map_err(|e| e.to_string())?;
    let within = crate::bench::Bench::boot_timeout(bench).max(BOOT_WITHIN);
    let mut buf = [0u8; 4096];
    while started.elapsed() < within {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, bench.console.read(&mut buf)).await {
            Ok(Ok(n)) => reader.push(started.elapsed(), &buf[..n]),
            Ok(Err(e)) => return Err(format!("the console failed: {e}")),
            Err(_) => break,
        }
        if reader.any(|e| matches!(e, Event::Boot { .. })) {
            return Ok(started.elapsed());
        }
    }
    let said: Vec<&str> = reader.noise.iter().map(|(_, l)| l.as_str()).take(3).collect();
    Err(format!(
        "did not print `boot` within {within:?}{}",
        if said.is_empty() { String::new() } else { format!("; it printed: {}", said.join(" / ")) }
    ))
}

/// A virtual card's ICCID and IMSI over PC/SC. The modem may reset the card it reads meanwhile
/// (a shared connection then sees "reset"): tried again.
async fn read_card(reader: &str) -> Result<crate::hw::pcsc::CardIdentity, String> {
    let mut last = String::new();
    for _ in 0..3 {
        let name = reader.to_owned();
        let read = off_thread(BLOCKING_LIMIT, move || {
            let mut readers = Readers::new();
            readers.connect(&name).and_then(|card| read_identity(&card))
        })
        .await;
        match read {
            Some(Ok(id)) => return Ok(id),
            Some(Err(e)) => last = e.to_string(),
            None => return Err(format!("no answer within {BLOCKING_LIMIT:?}")),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Runs a blocking call on a thread of its own; `None` when it has not returned within
/// `limit` (the thread is left to finish or die with the process).
async fn off_thread<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name("doctor-probe".into()).spawn(move || {
        let _ = tx.send(f());
    });
    if spawned.is_err() {
        return None;
    }
    tokio::time::timeout(limit, rx).await.ok().and_then(Result::ok)
}

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}

fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::NotFound => "not there".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

fn ms(d: Duration) -> String {
    match d {
        d if d < Duration::from_millis(10) => format!("{:.1} ms", d.as_secs_f64() * 1e3),
        d if d < Duration::from_secs(1) => format!("{} ms", d.as_millis()),
        d => secs(d),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if (s - s.round()).abs() < 1e-9 {
        format!("{} s", s.round())
    } else {
        format!("{s:.2} s").replace(".00 s", " s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_read_well() {
        assert_eq!(secs(Duration::from_secs(30)), "30 s");
        assert_eq!(secs(Duration::from_millis(1500)), "1.50 s");
        assert_eq!(ms(Duration::from_millis(12)), "12 ms");
        assert_eq!(ms(Duration::from_micros(340)), "0.3 ms");
    }

    #[test]
    fn hook_programs_by_path_and_on_path() {
        let hook = |argv: &[&str]| Hook {
            name: "dut.reset".into(),
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            timeout_ms: 1000,
        };
        assert!(hook_program(&hook(&["sh", "-c", "true"])).unwrap().contains("`sh` is /"));
        let missing = hook_program(&hook(&["/nonexistent/flash.sh"])).unwrap_err();
        assert!(missing.contains("/nonexistent/flash.sh: not there"), "{missing}");
        let unknown = hook_program(&hook(&["no-such-program-here"])).unwrap_err();
        assert!(unknown.contains("not found on PATH"), "{unknown}");
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("script.sh");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        let program = plain.display().to_string();
        let err = hook_program(&hook(&[&program])).unwrap_err();
        // root may execute nothing without an x bit either.
        assert!(err.contains("not executable (mode 644)"), "{err}");
        assert!(hook_program(&hook(&["bin/x"])).unwrap_err().contains("relative path"));
    }

    #[test]
    fn a_socket_that_nobody_serves_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slot0.sock");
        assert!(socket(&path).unwrap_err().contains("not there"));
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert!(socket(&path).unwrap().contains("accepts a connection"));
        drop(listener);
        assert!(socket(&path).unwrap_err().contains("refuses a connection"));
    }

    #[test]
    fn a_dangling_symlink_names_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("dut-console");
        std::os::unix::fs::symlink("/dev/ttyUSB-nonexistent", &link).unwrap();
        let err = resolved(&link).unwrap_err();
        assert!(err.contains("-> /dev/ttyUSB-nonexistent, which is not there"), "{err}");
        assert!(resolved(&dir.path().join("nothing")).unwrap_err().contains("not there"));
    }

    #[test]
    fn usb_boards_by_product_and_serial() {
        let board = crate::hw::simtrace::BoardInfo {
            bus: 1,
            address: 5,
            vendor_id: 0x1d50,
            product_id: 0x4004,
            product: "QMOD".into(),
            serial: Some("3F01A7C2".into()),
        };
        let boards = Ok(vec![board]);
        assert!(
            usb_board(&boards, 0x4004, "3F01A7C2", 1)
                .unwrap()
                .contains("2 card-emulation channel(s); channel 1 wired")
        );
        assert!(usb_board(&boards, 0x4004, "3F01A7C2", 2).unwrap_err().contains("wires channel 2"));
        let missing = usb_board(&boards, 0x60e3, "8E2B4D1C", 0).unwrap_err();
        assert!(missing.contains("board 8E2B4D1C") && missing.contains("QMOD"), "{missing}");
        assert!(usb_board(&Ok(vec![]), 0x60e3, "8E2B4D1C", 0).unwrap_err().contains("present: none"));
    }
}
