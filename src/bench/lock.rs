//! One run per lab bench: an exclusive OS file lock on a per-bench lock file.
//!
//! A lab bench has one DUT, one set of cards and one multiplexer; two runs driving it at once
//! would each see the other's hooks, faults and console lines. [`acquire`] takes an exclusive
//! `flock(2)` on the bench's lock file, so the kernel releases it whatever ends the process
//! (exit, panic, SIGKILL, a crash): there is never a stale lock to clean up by hand. The
//! descriptor is close-on-exec, so hooks, the firmware and any other child never inherit it
//! and cannot keep the bench locked after the rig is gone.
//!
//! Virtual benches are never locked: each brings up its own private world, so any number of
//! runs share a machine ([`acquire`] returns a lock that holds nothing).
//!
//! **Where the lock file is.** `seedrig-lock-bench-<name>.lock`, `<name>` being the rig file's
//! `name` with every character other than `A-Z a-z 0-9 . _ -` replaced by `_`, in
//!
//! 1. `/run/lock/` when it is a folder this user may create files in (the system's place for
//!    lock files: shared by every user of the machine, emptied at boot); else
//! 2. the temporary folder (`$TMPDIR`, else `/tmp`).
//!
//! Two runs lock each other out only when they pick the same file, i.e. the same bench name
//! and the same folder: on a lab machine `/run/lock` is writable by everyone, so every user's
//! runs agree. A lock file is created readable and writable by every user (so whoever runs
//! next can record itself in it) and is never removed: removing a lock file while another
//! process waits on it would let two runs hold "the" lock. (The name is chosen so that the
//! clean-up of a killed run's temporary files, [`crate::children::sweep_leftovers`], never takes
//! it for one: no run's pid follows `seedrig-lock-`.)
//!
//! **Who holds it.** Right after locking, the holder writes one JSON line into the file: its
//! pid, host, command line and since when (RFC 3339, UTC, and seconds since the epoch). A second
//! acquirer that finds the bench locked reads that line and hands it to `on_wait` (so the
//! command line can say whom it waits for), polls until `timeout`, and then gives up with
//! [`LockError::Busy`] naming the holder. A holder that releases the lock empties the file
//! first.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::fs::FlockOperation;
use serde::{Deserialize, Serialize};

use crate::model::{Rig, RigKind};

/// The system's folder for lock files.
pub const SYSTEM_LOCK_DIR: &str = "/run/lock";

/// How often a waiting acquirer tries the lock again.
const POLL: Duration = Duration::from_millis(50);
/// A holder writes its line right after locking; a waiter that finds nothing readable (or a
/// line naming a process that is gone) waits this long before reporting an unknown holder.
const HOLDER_GRACE: Duration = Duration::from_millis(300);

/// Who holds a bench's lock, as it wrote itself into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The holder's process id; 0 when the lock file says nothing readable about it.
    pub pid: u32,
    /// The host name of the machine it runs on.
    pub host: String,
    /// Its command line, arguments joined by spaces.
    pub command: String,
    /// Since when it holds the lock, RFC 3339 in UTC (`2025-06-24T09:41:07Z`).
    pub since: String,
    /// The same instant in seconds since the Unix epoch.
    pub since_unix: u64,
}

impl Holder {
    /// This process, now.
    pub fn this_process() -> Holder {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let command: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
        Holder {
            pid: std::process::id(),
            host: host_name(),
            command: command.join(" "),
            since: crate::clock::utc_seconds(i64::try_from(now).unwrap_or(i64::MAX)),
            since_unix: now,
        }
    }

    /// A holder the lock file says nothing readable about (it was written by something else,
    /// or by a process that has gone since and left its line behind).
    pub fn unknown() -> Holder {
        Holder { pid: 0, host: String::new(), command: String::new(), since: String::new(), since_unix: 0 }
    }

    /// Whether the lock file named the holder.
    pub fn is_known(&self) -> bool {
        self.pid != 0
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.is_known() {
            return write!(f, "an unknown process (its lock file names no live holder)");
        }
        write!(f, "pid {} on {}", self.pid, self.host)?;
        if !self.command.is_empty() {
            write!(f, " (`{}`)", self.command)?;
        }
        if !self.since.is_empty() {
            write!(f, " since {}", self.since)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process held the bench for the whole wait.
    #[error("the bench is in use by {holder}")]
    Busy { holder: Holder },
    /// The lock file could not be opened or locked at all.
    #[error("bench lock {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// A bench held by this process; dropping it releases the bench (the kernel does too, however
/// the process ends).
#[derive(Debug)]
pub struct BenchLock {
    held: Option<Held>,
}

#[derive(Debug)]
struct Held {
    file: File,
    path: PathBuf,
    /// Whether this process could write its line into the file (a file another user created
    /// with narrower permissions can only be locked, not written).
    writable: bool,
}

impl BenchLock {
    /// The lock a virtual bench gets: it holds nothing.
    pub fn none() -> BenchLock {
        BenchLock { held: None }
    }

    /// Whether a lock file is held (false for a virtual bench).
    pub fn is_held(&self) -> bool {
        self.held.is_some()
    }

    /// The lock file held, if any.
    pub fn path(&self) -> Option<&Path> {
        self.held.as_ref().map(|h| h.path.as_path())
    }

    /// Releases the bench now (dropping the lock does the same).
    pub fn release(self) {}
}

impl Drop for BenchLock {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            // Empty the file while still holding the lock, so nobody reads a holder that is
            // gone; closing the descriptor then releases the lock.
            if held.writable {
                let _ = held.file.set_len(0);
            }
            let _ = rustix::fs::flock(&held.file, FlockOperation::Unlock);
        }
    }
}

/// Takes `rig`'s bench for this process, waiting up to `timeout` for a run that holds it;
/// `on_wait` is told who holds it (again each time the holder changes). A virtual bench is
/// never locked. The lock file's place is described in the module documentation.
pub fn acquire(rig: &Rig, timeout: Duration, on_wait: impl FnMut(&Holder)) -> Result<BenchLock, LockError> {
    match &rig.kind {
        RigKind::Virtual { .. } => Ok(BenchLock::none()),
        RigKind::Lab(_) => acquire_in(&lock_dir(), rig, timeout, on_wait),
    }
}

/// [`acquire`], with the lock file in `dir` instead of the usual folder (tests; a machine
/// whose runs agree on another shared folder).
pub fn acquire_in(
    dir: &Path,
    rig: &Rig,
    timeout: Duration,
    mut on_wait: impl FnMut(&Holder),
) -> Result<BenchLock, LockError> {
    if matches!(rig.kind, RigKind::Virtual { .. }) {
        return Ok(BenchLock::none());
    }
    let path = dir.join(file_name(&rig.name));
    let (file, writable) = open(&path).map_err(|source| LockError::Io { path: path.clone(), source })?;
    let started = Instant::now();
    let mut told: Option<Holder> = None;
    loop {
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => break,
            Err(rustix::io::Errno::WOULDBLOCK) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(LockError::Io { path, source: e.into() }),
        }
        let waited = started.elapsed();
        let holder = read_holder(&path).filter(is_live);
        let holder = match holder {
            Some(h) => Some(h),
            // Just locked and not written yet, or a line left by a process that is gone:
            // give the holder a moment to write its own.
            None if waited >= HOLDER_GRACE || waited >= timeout => Some(Holder::unknown()),
            None => None,
        };
        if let Some(holder) = holder {
            if told.as_ref() != Some(&holder) {
                on_wait(&holder);
                told = Some(holder);
            }
            if waited >= timeout {
                return Err(LockError::Busy { holder: told.unwrap_or_else(Holder::unknown) });
            }
        }
        std::thread::sleep(POLL.min(timeout.saturating_sub(waited)).max(Duration::from_millis(1)));
    }
    if writable {
        let line = serde_json::to_string(&Holder::this_process()).unwrap_or_default() + "\n";
        let written = file.set_len(0).and_then(|()| file.write_all_at(line.as_bytes(), 0));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), "cannot record this run in the bench lock: {e}");
        }
    } else {
        tracing::warn!(path = %path.display(), "the bench lock is held, but its file is not writable: waiting runs cannot be told who holds it");
    }
    Ok(BenchLock { held: Some(Held { file, path, writable }) })
}

/// The folder lock files go in: `/run/lock` if this user may create files there, else the
/// temporary folder.
pub fn lock_dir() -> PathBuf {
    let system = Path::new(SYSTEM_LOCK_DIR);
    let usable = system.is_dir()
        && rustix::fs::access(system, rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK).is_ok();
    if usable { system.to_owned() } else { std::env::temp_dir() }
}

/// Where [`acquire`] locks `rig`'s bench; `None` for a virtual bench, which is never locked.
pub fn lock_path(rig: &Rig) -> Option<PathBuf> {
    match rig.kind {
        RigKind::Virtual { .. } => None,
        RigKind::Lab(_) => Some(lock_dir().join(file_name(&rig.name))),
    }
}

/// Whether `rig`'s bench is held right now, without taking it or creating its lock file:
/// `Ok(None)` when free (or a virtual bench), `Ok(Some(holder))` when a run holds it.
pub fn probe(rig: &Rig) -> Result<Option<Holder>, LockError> {
    let Some(path) = lock_path(rig) else { return Ok(None) };
    let file = match OpenOptions::new().read(true).custom_flags(NOFOLLOW).open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(LockError::Io { path, source }),
    };
    // A shared lock is refused while anybody holds the exclusive one; released at once.
    match rustix::fs::flock(&file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => Ok(None),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            Ok(Some(read_holder(&path).filter(is_live).unwrap_or_else(Holder::unknown)))
        }
        Err(e) => Err(LockError::Io { path, source: e.into() }),
    }
}

/// Who the lock file at `path` says holds it; `None` when it says nothing readable (nobody
/// holds it, or the holder has not written its line yet).
pub fn read_holder(path: &Path) -> Option<Holder> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.lines().next()?.trim()).ok()
}

/// The lock file's name for a bench.
fn file_name(bench: &str) -> String {
    let safe: String = bench
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    format!("seedrig-lock-bench-{}.lock", if safe.is_empty() { "_" } else { &safe })
}

/// Opens (creating it if needed) the lock file; whether it could be opened for writing.
fn open(path: &Path) -> std::io::Result<(File, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let options = |write: bool, create: bool| {
        let mut o = OpenOptions::new();
        o.read(true).write(write).create_new(create).mode(0o666).custom_flags(NOFOLLOW);
        o
    };
    match options(true, true).open(path) {
        Ok(file) => {
            // Whoever runs next, under any user, may record itself (the umask narrowed it).
            let _ = file.set_permissions(std::fs::Permissions::from_mode(0o666));
            return Ok((file, true));
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    match options(true, false).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            Ok((options(false, false).open(path)?, false))
        }
        Err(e) => Err(e),
    }
}

/// Whether a holder read from the file still runs (a line on another host is believed).
fn is_live(holder: &Holder) -> bool {
    if holder.pid == 0 {
        return false;
    }
    if holder.host != host_name() {
        return true;
    }
    let Some(pid) = i32::try_from(holder.pid).ok().and_then(rustix::process::Pid::from_raw) else {
        return false;
    };
    // EPERM: it runs, as another user.
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

/// `O_NOFOLLOW` for `OpenOptionsExt::custom_flags`: a lock file that is a symbolic link is refused.
const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

/// The host name (what gethostname(2) returns: the node name uname(2) reports).
fn host_name() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rig(name: &str, kind: RigKind) -> Rig {
        Rig {
            id: name.into(),
            path: PathBuf::from("rig/x.toml"),
            name: name.into(),
            slots: 3,
            time_scale: 1.0,
            kind,
        }
    }

    #[test]
    fn a_virtual_bench_is_never_locked() {
        let dir = tempfile::tempdir().unwrap();
        let virt = rig("virtual", RigKind::Virtual { dut: None });
        let a = acquire(&virt, Duration::ZERO, |_| panic!("nobody holds a virtual bench")).unwrap();
        let b = acquire_in(dir.path(), &virt, Duration::ZERO, |_| panic!("nobody holds a virtual bench"))
            .unwrap();
        assert!(!a.is_held() && !b.is_held() && a.path().is_none());
        assert_eq!(lock_path(&virt), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no lock file for a virtual bench");
    }

    #[test]
    fn lock_file_names_are_safe_and_never_a_runs_leftover() {
        assert_eq!(file_name("bench-3"), "seedrig-lock-bench-bench-3.lock");
        assert_eq!(file_name("../etc/passwd x"), "seedrig-lock-bench-.._etc_passwd_x.lock");
        assert_eq!(file_name(""), "seedrig-lock-bench-_.lock");
        // A run's leftovers are `seedrig-<kind>-<pid>...`: here <kind> is `lock` and what
        // follows starts with a letter, whatever the bench is called.
        assert!(file_name("42").starts_with("seedrig-lock-bench-"));
    }

    #[test]
    fn the_holder_is_recorded_and_cleared_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let lab =
            crate::fixture::load_bench(Path::new("fixtures"), Path::new("rig/lab-example.toml")).unwrap();
        let lab = lab.catalog.rigs.into_values().next().expect("the example lab bench");
        let lock = acquire_in(dir.path(), &lab, Duration::ZERO, |_| panic!("free")).unwrap();
        let path = lock.path().unwrap().to_owned();
        let holder = read_holder(&path).expect("the holder's line");
        assert_eq!(holder.pid, std::process::id());
        assert_eq!(holder.host, host_name());
        assert!(holder.since.ends_with('Z') && holder.since_unix > 0, "{holder:?}");
        // Another open file description of the same process is refused, too (flock).
        let mut seen = Vec::new();
        let err =
            acquire_in(dir.path(), &lab, Duration::from_millis(120), |h| seen.push(h.clone())).unwrap_err();
        assert!(matches!(&err, LockError::Busy { holder: h } if h.pid == std::process::id()), "{err}");
        assert_eq!(seen.len(), 1, "told once about one holder: {seen:?}");
        assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
        drop(lock);
        assert_eq!(read_holder(&path), None, "emptied on release");
        let again = acquire_in(dir.path(), &lab, Duration::ZERO, |_| panic!("free again")).unwrap();
        assert!(again.is_held());
    }
}
