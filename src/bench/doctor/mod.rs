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
//!
//! Here: the rows, [`examine`], and the probes both kinds share; `lock.rs`: the lab bench's lock;
//! `packages.rs`: packages and the clock; `lab.rs`: a lab bench's parts; `virtual_world.rs`: the
//! virtual bring-up.

mod lab;
mod lock;
mod packages;
mod virtual_world;

pub use lock::{LockState, take_lock};
pub use virtual_world::small_scenario;

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_serial::SerialPortBuilderExt;

use crate::model::{Catalog, Rig, RigKind};

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

/// How long the observer may take to answer `AT`.
const AT_WITHIN: Duration = Duration::from_secs(2);
/// A PC/SC or USB call that takes longer is a wedged stack; the doctor moves on.
const BLOCKING_LIMIT: Duration = Duration::from_secs(8);

/// Examines every part `rig` names; `lock` is how the doctor found a lab bench's lock
/// ([`take_lock`]). `firmware` is the reference firmware, the virtual bench's DUT. Must run
/// within a multi-threaded tokio runtime.
pub async fn examine(catalog: &Catalog, rig: &Rig, firmware: &Path, lock: &LockState) -> Vec<Row> {
    let mut rows = packages::packages(rig);
    match &rig.kind {
        RigKind::Virtual { .. } => rows.extend(virtual_world::virtual_world(catalog, rig, firmware).await),
        RigKind::Lab(lab) => {
            rows.push(lock::bench_lock(lock));
            let busy = matches!(lock, LockState::Busy { .. });
            rows.extend(lab::lab_bench(catalog, lab, busy).await);
        }
    }
    rows.push(packages::clock(rig));
    rows
}

// ---------------------------------------------------------------------------------------
// Probes both kinds of bench use

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
}
