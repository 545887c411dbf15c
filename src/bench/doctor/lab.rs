//! A lab bench's parts: the pcscd and its readers' cards, the card-emulation boards and
//! sockets, the serial ports, the hooks' programs, the backend's address. A part another run
//! uses (the bench is busy) is only looked at, never opened, connected to or bound.

use std::io::ErrorKind;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use tokio_serial::SerialPortBuilderExt;

use super::{BLOCKING_LIMIT, Row, at_probe, executable, io_reason, ms, off_thread, on_path, quoted};
use crate::hw::pcsc::{PcscError, Readers, read_identity};
use crate::hw::simtrace::boards::VENDOR_ID;
use crate::model::{CardemChannel, Catalog, Hook, LabBench, LabNetwork};

/// libpcsclite's client socket when `PCSCLITE_CSOCK_NAME` does not say otherwise.
const SYSTEM_PCSCD_SOCKET: &str = "/run/pcscd/pcscd.comm";
/// What a part another run uses says, looked at without being touched.
const IN_USE: &str = "in use by the run that holds the bench";

/// Every part of a lab bench; `busy`: another run holds it, so the parts it uses are only
/// looked at (there, the right kind of file), never opened, connected to or bound.
pub(super) async fn lab_bench(catalog: &Catalog, lab: &LabBench, busy: bool) -> Vec<Row> {
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

/// Points this process's PC/SC calls at the rig file's pcscd (as a run does); the socket it
/// talks to.
fn use_pcscd(socket: Option<&PathBuf>) -> Result<PathBuf, String> {
    crate::bench::lab_driver::use_pcscd(socket).map_err(|e| e.to_string())?;
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
    let count = crate::hw::simtrace::boards::board(product_id).map_or(1, |b| b.channels);
    let wanted = format!("board {serial} ({VENDOR_ID:04x}:{product_id:04x}, channel {channel})");
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

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
