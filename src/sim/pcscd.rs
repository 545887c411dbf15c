//! A private pcscd for the virtual bench: its own reader configuration, its own client socket
//! (handed over systemd-style), virtual cards behind vpcd in reversed mode on 127.0.0.1 only.
//!
//! It does not disturb a system pcscd: where the machine allows a mount namespace (root, or
//! unprivileged user namespaces), pcscd runs in one with a private /run/pcscd (for its pid
//! file) and an empty USB driver folder (so it never claims the lab's real readers). Without a
//! namespace it still uses its own socket and readers; only the pid file is shared.
//!
//! libpcsclite reads `PCSCLITE_CSOCK_NAME` once per process, so every private pcscd of one
//! process uses the same socket path ([`socket_path`]) — one at a time — and a restarted
//! instance is found by clients that re-establish their context.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::vpcd::{CardServer, CardSlot, SpareCard, VirtualCard, bind_port_pair};

/// Debian packages that provide what this module runs.
pub const PACKAGES: &str = "pcscd vsmartcard-vpcd";

#[derive(Debug, thiserror::Error)]
pub enum PcscdError {
    #[error("{what} is not installed; install the Debian packages {PACKAGES} (ci/setup-debian.sh does)")]
    NotInstalled { what: &'static str },
    #[error("cannot prepare the private pcscd in {dir}: {source}")]
    Setup { dir: PathBuf, source: io::Error },
    #[error("pcscd exited during start-up ({status}); its log {log} ends with:\n{tail}")]
    Exited { status: String, log: PathBuf, tail: String },
    #[error("pcscd did not show its {expected} virtual readers within {waited:?}; its log is {log}")]
    NotReady { expected: usize, waited: Duration, log: PathBuf },
}

const VPCD_LIBS: &[&str] = &[
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib/x86_64-linux-gnu/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
];
const HOTPLUG_DRIVERS: &str = "/usr/lib/pcsc/drivers";
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The client socket path of this process's private pcscd, in a folder only this user can
/// enter (`seedrig-sockets-<pid>/pcscd.comm`); exported as `PCSCLITE_CSOCK_NAME` on first use,
/// before this process makes any PC/SC call.
pub fn socket_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = socket_folder().join("pcscd.comm");
        if let Err(other) = crate::hw::pcsc::choose_pcscd(Some(&path)) {
            tracing::error!("this process already talks to another pcscd ({other:?}), not its own");
        }
        path
    })
}

fn socket_folder() -> PathBuf {
    std::env::temp_dir().join(format!("seedrig-sockets-{}", std::process::id()))
}

/// A card to serve, with what the caller calls it (a seed id).
pub type LabelledCard = (String, Box<dyn VirtualCard>);

/// One virtual reader: its PC/SC name and the card slot behind it.
#[derive(Clone)]
pub struct VirtualReader {
    pub name: String,
    /// What the caller called the card (a seed id).
    pub label: String,
    pub slot: CardSlot,
}

pub struct PrivatePcscd {
    dir: tempfile::TempDir,
    pid: u32,
    reaper: Option<JoinHandle<()>>,
    readers: Vec<VirtualReader>,
    /// Readers holding the spare card that pads an odd count (see [`SpareCard`]).
    spares: Vec<String>,
    _servers: Vec<CardServer>,
    isolated: bool,
}

struct Programs {
    pcscd: PathBuf,
    vpcd_lib: PathBuf,
}

fn find_programs() -> Result<Programs, PcscdError> {
    let pcscd = ["/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or(PcscdError::NotInstalled { what: "pcscd" })?;
    let vpcd_lib = VPCD_LIBS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or(PcscdError::NotInstalled { what: "vpcd (libifdvpcd.so)" })?;
    Ok(Programs { pcscd, vpcd_lib })
}

/// How to enter a private mount namespace on this machine, if at all (probed once).
fn namespace_args() -> Option<&'static [&'static str]> {
    static ARGS: OnceLock<Option<&'static [&'static str]>> = OnceLock::new();
    *ARGS.get_or_init(|| {
        let root = rustix::process::geteuid().is_root();
        let args: &'static [&'static str] = if root {
            &["-m", "--propagation", "private"]
        } else {
            &["-U", "-r", "-m", "--propagation", "private"]
        };
        let probe = Command::new("unshare")
            .args(args)
            .args([
                "sh",
                "-c",
                "mount -t tmpfs seedrig-probe /mnt 2>/dev/null || mount -t tmpfs seedrig-probe /tmp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        probe.is_ok_and(|s| s.success()).then_some(args)
    })
}

/// Inside the namespace: a private /run/pcscd and an empty hotplug driver folder; then become
/// pcscd, keeping the pid that LISTEN_PID names. The listening socket arrives as standard input
/// and moves to descriptor 3, where LISTEN_FDS=1 says it is.
const ISOLATED_START: &str = r#"set -e
exec 3<&0 </dev/null
dir="$1"; pcscd="$3"
mkdir -p /run/pcscd
mount -t tmpfs -o size=1m seedrig-run /run/pcscd
mount -t tmpfs -o size=1m seedrig-drivers /usr/lib/pcsc/drivers
export LISTEN_PID=$$ LISTEN_FDS=1
exec "$pcscd" --foreground --config "$dir/reader.conf.d" $SEEDRIG_PCSCD_FLAGS
"#;

const PLAIN_START: &str = r#"exec 3<&0 </dev/null || exit 1
dir="$1"; pcscd="$3"
export LISTEN_PID=$$ LISTEN_FDS=1
exec "$pcscd" --foreground --config "$dir/reader.conf.d" $SEEDRIG_PCSCD_FLAGS
"#;

impl PrivatePcscd {
    /// Starts pcscd with one virtual reader per card (labelled, e.g. by seed id), all inserted,
    /// and waits until every reader shows its card.
    pub fn start(cards: Vec<LabelledCard>) -> Result<PrivatePcscd, PcscdError> {
        let programs = find_programs()?;
        let socket = socket_path().to_owned();
        crate::children::private_fixed_dir("sockets")
            .map_err(|source| PcscdError::Setup { dir: socket_folder(), source })?;
        let dir = crate::children::private_temp_dir("pcscd")
            .map_err(|source| PcscdError::Setup { dir: std::env::temp_dir(), source })?;
        let setup = |source| PcscdError::Setup { dir: dir.path().to_owned(), source };
        let isolated = namespace_args().is_some() && Path::new(HOTPLUG_DRIVERS).is_dir();
        let (servers, readers) = serve_cards(dir.path(), &programs.vpcd_lib, cards).map_err(setup)?;
        let listener = bind_socket(&socket).map_err(setup)?;
        let log = dir.path().join("pcscd.log");
        let (pid, reaper) = spawn(&programs, dir.path(), &listener, &log, isolated).map_err(setup)?;
        // Our copy of the listening socket must go: a client must never be queued on a socket
        // nobody will accept from once pcscd is gone.
        drop(listener);
        let mut pcscd = PrivatePcscd {
            dir,
            pid,
            reaper: Some(reaper),
            readers,
            spares: Vec::new(),
            _servers: servers,
            isolated,
        };
        pcscd.wait_ready()?;
        Ok(pcscd)
    }

    pub fn socket_path(&self) -> &Path {
        socket_path()
    }

    pub fn readers(&self) -> &[VirtualReader] {
        &self.readers
    }

    /// Readers that hold only the spare card vpcd needs beside an odd card.
    pub fn spare_readers(&self) -> &[String] {
        &self.spares
    }

    /// The reader holding the card labelled `label`.
    pub fn reader(&self, label: &str) -> Option<&VirtualReader> {
        self.readers.iter().find(|r| r.label == label)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether pcscd is still running (its reaper thread has not seen it exit).
    pub fn alive(&self) -> bool {
        self.reaper.as_ref().is_some_and(|r| !r.is_finished())
    }

    /// Whether pcscd runs in its own mount namespace (see the module docs).
    pub fn isolated(&self) -> bool {
        self.isolated
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("pcscd.log")
    }

    /// Stops pcscd (SIGSTOP), as a hung daemon: clients' calls wait. Dropping continues it
    /// before stopping it.
    pub fn freeze(&mut self) {
        signal(self.pid, Signal::STOP);
    }

    /// Kills pcscd at once, as a crash would; clients see their calls fail.
    pub fn kill(&mut self) {
        signal(self.pid, Signal::KILL);
        if let Some(reaper) = self.reaper.take() {
            let _ = reaper.join();
        }
    }

    fn wait_ready(&mut self) -> Result<(), PcscdError> {
        let expected = self.readers.len();
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if self.reaper.as_ref().is_some_and(|r| r.is_finished()) {
                let log = self.log_path();
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(40).collect();
                let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
                return Err(PcscdError::Exited { status: "see log".into(), log, tail });
            }
            if let Some(names) = ready_readers(expected) {
                self.name_readers(&names);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(PcscdError::NotReady { expected, waited: START_TIMEOUT, log: self.log_path() })
    }

    /// Replaces the configured friendly names by the names pcscd gave the readers.
    fn name_readers(&mut self, listed: &[String]) {
        for reader in &mut self.readers {
            if let Some(full) = listed.iter().find(|n| n.starts_with(&reader.name)) {
                reader.name = full.clone();
            }
        }
        self.spares =
            listed.iter().filter(|n| !self.readers.iter().any(|r| &r.name == *n)).cloned().collect();
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        // A pcscd that already exited (Ctrl-C reaches its process group too) is not signalled:
        // its pid may be reused by now.
        if self.reaper.as_ref().is_some_and(|r| !r.is_finished()) {
            // A frozen pcscd (SIGSTOP) handles SIGTERM only once continued.
            signal(self.pid, Signal::CONT);
            signal(self.pid, Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while self.reaper.as_ref().is_some_and(|r| !r.is_finished()) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if self.reaper.as_ref().is_some_and(|r| !r.is_finished()) {
                signal(self.pid, Signal::KILL);
            }
            if let Some(reaper) = self.reaper.take() {
                let _ = reaper.join();
            }
        }
        let _ = std::fs::remove_file(socket_path());
        // The folder goes with its last socket (a later pcscd of this run makes it again).
        let _ = std::fs::remove_dir(socket_folder());
    }
}

/// Sends `sig` to the pid of a child this process spawned and has not reaped.
fn signal(pid: u32, sig: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// Starts a card server per card (two per vpcd reader entry, an odd count padded with a spare
/// card) and writes the reader configuration.
///
/// vpcd keeps its connections in static per-slot state, so two reader entries sharing one
/// loaded driver would talk to each other's cards. Each entry therefore gets its own copy of
/// the driver file: the dynamic loader tells libraries apart by file, so each copy is loaded
/// with its own state.
fn serve_cards(
    dir: &Path,
    vpcd_lib: &Path,
    cards: Vec<LabelledCard>,
) -> io::Result<(Vec<CardServer>, Vec<VirtualReader>)> {
    let conf = dir.join("reader.conf.d");
    let drivers = dir.join("drivers");
    std::fs::create_dir_all(&conf)?;
    std::fs::create_dir_all(&drivers)?;
    let mut servers = Vec::new();
    let mut readers = Vec::new();
    let mut cards = cards.into_iter().peekable();
    let mut entry = 0;
    while cards.peek().is_some() {
        let (first, second) = bind_port_pair()?;
        let port = first.local_addr()?.port();
        let friendly = format!("Seedrig Virtual {entry}");
        for (listener, index) in [(first, 0), (second, 1)] {
            let slot = match cards.next() {
                Some((label, card)) => {
                    let slot = CardSlot::new(card);
                    let name = format!("{friendly} 00 0{index}");
                    readers.push(VirtualReader { name, label, slot: slot.clone() });
                    slot
                }
                None => CardSlot::new(Box::new(SpareCard)),
            };
            servers.push(CardServer::start(listener, slot)?);
        }
        let driver = drivers.join(format!("libifdvpcd-{entry}.so"));
        std::fs::copy(vpcd_lib, &driver)?;
        let text = format!(
            "FRIENDLYNAME \"{friendly}\"\nDEVICENAME   127.0.0.1:0x{port:04X}\nLIBPATH      {}\nCHANNELID    0x{port:04X}\n",
            driver.display()
        );
        std::fs::write(conf.join(format!("seedrig-{entry}")), text)?;
        entry += 1;
    }
    Ok((servers, readers))
}

fn bind_socket(path: &Path) -> io::Result<UnixListener> {
    // A socket file left by an instance that died with its process is stale: replace it.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    UnixListener::bind(path)
}

/// Spawns pcscd from a thread that lives as long as pcscd does: with PR_SET_PDEATHSIG, pcscd
/// gets SIGTERM when that thread ends — also when this process is killed or panics. The
/// listening socket is handed over as standard input (the start script moves it to descriptor
/// 3); the command, which holds that copy, is dropped as soon as pcscd is spawned.
fn spawn(
    programs: &Programs,
    dir: &Path,
    listener: &UnixListener,
    log: &Path,
    isolated: bool,
) -> io::Result<(u32, JoinHandle<()>)> {
    let socket = OwnedFd::from(listener.try_clone()?);
    let log_file = std::fs::File::create(log)?;
    let mut command = match namespace_args().filter(|_| isolated) {
        Some(args) => {
            let mut c = Command::new("unshare");
            c.args(args).args(["sh", "-c", ISOLATED_START]);
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", PLAIN_START]);
            c
        }
    };
    command
        .arg("seedrig-pcscd")
        .arg(dir)
        .arg("-")
        .arg(&programs.pcscd)
        .stdin(Stdio::from(socket))
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        // Its own process group: a Ctrl-C meant for the rig reaches the rig, which then stops
        // pcscd in order.
        .process_group(0);
    crate::children::die_with_parent(&mut command, Signal::TERM);
    let (tx, rx) = mpsc::channel();
    let reaper = std::thread::Builder::new().name("pcscd-reaper".into()).spawn(move || {
        let spawned = command.spawn();
        // Our copy of the listening socket goes with the command (see PrivatePcscd::start).
        drop(command);
        match spawned {
            Ok(mut child) => {
                let _ = tx.send(Ok(child.id()));
                let _ = child.wait();
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        }
    })?;
    let pid = rx.recv().map_err(|_| io::Error::other("pcscd spawner thread ended"))??;
    Ok((pid, reaper))
}

/// The names of the readers pcscd shows, once all `expected` virtual readers have a card.
fn ready_readers(expected: usize) -> Option<Vec<String>> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).ok()?;
    let names: Vec<String> = ctx
        .list_readers_owned()
        .ok()?
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.starts_with("Seedrig Virtual "))
        .collect();
    if names.len() < expected {
        return None;
    }
    let mut states: Vec<pcsc::ReaderState> = names
        .iter()
        .filter_map(|n| std::ffi::CString::new(n.as_str()).ok())
        .map(|n| pcsc::ReaderState::new(n, pcsc::State::UNAWARE))
        .collect();
    ctx.get_status_change(Duration::from_millis(200), &mut states).ok()?;
    let present = states.iter().filter(|s| s.event_state().contains(pcsc::State::PRESENT)).count();
    (present >= expected).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_package_is_named() {
        let e = PcscdError::NotInstalled { what: "pcscd" };
        assert_eq!(
            e.to_string(),
            "pcscd is not installed; install the Debian packages pcscd vsmartcard-vpcd (ci/setup-debian.sh does)"
        );
    }
}
