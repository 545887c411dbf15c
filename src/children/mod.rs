//! Child processes die with the rig, and a rig that was killed leaves nothing behind for long.
//!
//! Every program the rig starts (the reference firmware, pcscd, `--jobs` workers, the emulated
//! lab's DUT, a lab's hooks) gets a parent-death signal, so a SIGKILL of the rig takes them along.
//! What those programs start in turn is reached through their process group: a DUT program's
//! and each hook's group is recorded (`<name>.pgid`) in a temporary folder of the run, and the
//! next run kills every group a killed run recorded. Every
//! temporary file or folder of a run carries the run's pid in its name (`seedrig-<kind>-<pid>-…`,
//! `seedrig-sockets-<pid>`), so the next run can tell a dead run's leftovers from a live run's
//! and remove them. Every folder is private to its owner (0700).

pub mod dut_process;

use std::path::{Path, PathBuf};

use rustix::process::Signal;

/// `command`'s process gets `signal` when the thread that spawned it ends — with the rig's
/// process, whatever killed it. Spawn from a thread that lives as long as the child should (the
/// main thread, or a runtime worker).
pub fn die_with_parent(command: &mut std::process::Command, signal: Signal) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only makes one async-signal-safe system call
    // (prctl) and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(signal))?;
            Ok(())
        });
    }
}

/// A temporary folder of this run for `kind`, readable by its owner only (0700): sockets and
/// configuration of a bench are nobody else's business. Removed when dropped.
pub fn private_temp_dir(kind: &str) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(&temp_prefix(kind))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

/// A folder of this run at a name known in advance (`seedrig-<kind>-<pid>`), made private
/// (0700). One that is already there must be this user's and private, else it is refused: a
/// predictable name in a shared folder must not be somebody else's.
pub fn private_fixed_dir(kind: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let path = std::env::temp_dir().join(format!("seedrig-{kind}-{}", std::process::id()));
    match std::fs::DirBuilder::new().mode(0o700).create(&path) {
        Ok(()) => {
            // The umask may have narrowed, never widened, the mode; say it outright.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
            Ok(path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(&path)?;
            let mine =
                meta.is_dir() && meta.uid() == rustix::process::getuid().as_raw() && meta.mode() & 0o077 == 0;
            if mine {
                Ok(path)
            } else {
                Err(std::io::Error::other(format!(
                    "{} exists and is not a private folder of this user; remove it",
                    path.display()
                )))
            }
        }
        Err(e) => Err(e),
    }
}

/// The prefix of this run's temporary names of `kind` (`seedrig-bench-4711-`).
pub fn temp_prefix(kind: &str) -> String {
    format!("seedrig-{kind}-{}-", std::process::id())
}

/// The file in a run's temporary folder that names a process group it started (a DUT's), for
/// the next run to kill when this one was killed before it could. Any `<name>.pgid` file in a
/// run's temporary folder does the same ([`record_group`]); this is the DUT's.
pub const PGID_FILE: &str = "dut.pgid";

/// The extension of a file naming a process group for the next run to kill.
const PGID_EXTENSION: &str = "pgid";

/// Records process group `pgid` as `<name>.pgid` in `dir`, a temporary folder of this run: if
/// this run is killed before it could kill the group, the next run's [`sweep_leftovers`] does.
/// Removing the file (or the folder) forgets it.
pub fn record_group(dir: &Path, name: &str, pgid: rustix::process::Pid) -> std::io::Result<()> {
    std::fs::write(dir.join(format!("{name}.{PGID_EXTENSION}")), pgid.as_raw_nonzero().to_string())
}

/// Kills every process group a dead run recorded in `dir` (its DUT and whatever that started,
/// its hooks and whatever they started).
fn kill_recorded_groups(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != PGID_EXTENSION) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Some(pgid) = text.trim().parse::<i32>().ok().and_then(rustix::process::Pid::from_raw) else {
            continue;
        };
        if rustix::process::kill_process_group(pgid, Signal::KILL).is_ok() {
            tracing::info!(
                pgid = pgid.as_raw_nonzero().get(),
                record = %path.display(),
                "killed a process group of a run that is gone"
            );
        }
    }
}

/// Removes the temporary files and folders of seedrig runs that are no longer alive; returns
/// what was removed. A live run's (another bench side by side) are left alone.
pub fn sweep_leftovers() -> Vec<PathBuf> {
    sweep_in(&std::env::temp_dir(), |pid| Path::new(&format!("/proc/{pid}")).exists())
}

fn sweep_in(dir: &Path, alive: impl Fn(u32) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner_pid(&name) else { continue };
        if pid == std::process::id() || alive(pid) {
            continue;
        }
        let path = entry.path();
        let gone = match entry.file_type() {
            Ok(t) if t.is_dir() => {
                kill_recorded_groups(&path);
                std::fs::remove_dir_all(&path)
            }
            _ => std::fs::remove_file(&path),
        };
        if gone.is_ok() {
            tracing::info!(path = %path.display(), pid, "removed a leftover of a run that is gone");
            removed.push(path);
        }
    }
    removed
}

/// The pid in `seedrig-<kind>-<pid>-…` or `seedrig-<kind>-<pid>.<ext>`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("seedrig-")?;
    let (_, after_kind) = rest.split_once('-')?;
    let digits: String = after_kind.chars().take_while(char::is_ascii_digit).collect();
    let next = after_kind[digits.len()..].chars().next();
    (!digits.is_empty() && matches!(next, None | Some('-' | '.'))).then(|| digits.parse().ok()).flatten()
}

/// How a signal is named in messages: `SIGINT`, `SIGTERM`, else `signal N`.
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_runs_pid() {
        assert_eq!(owner_pid("seedrig-bench-4711-aB3xQz"), Some(4711));
        assert_eq!(owner_pid("seedrig-pcscd-4711.comm"), Some(4711));
        assert_eq!(owner_pid("seedrig-lab-12-x"), Some(12));
        assert_eq!(owner_pid("seedrig-sockets-4711"), Some(4711));
        assert_eq!(owner_pid("seedrig-bench-aB3xQz"), None, "an old unnamed folder is not guessed at");
        assert_eq!(owner_pid("seedrig-bench-47x"), None);
        assert_eq!(owner_pid("other-1-2"), None);
    }

    #[test]
    fn only_dead_runs_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join("seedrig-bench-999999-abc");
        let live = dir.path().join("seedrig-bench-1-abc");
        let socket = dir.path().join("seedrig-pcscd-999999.comm");
        let stranger = dir.path().join("unrelated-999999-x");
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join("firmware.toml"), "x").unwrap();
        std::fs::create_dir(&live).unwrap();
        std::fs::write(&socket, "").unwrap();
        std::fs::write(&stranger, "").unwrap();
        let mut removed = sweep_in(dir.path(), |pid| pid == 1);
        removed.sort();
        assert_eq!(removed, vec![dead.clone(), socket.clone()]);
        assert!(!dead.exists() && !socket.exists());
        assert!(live.exists() && stranger.exists());
    }

    #[test]
    fn every_group_a_dead_run_recorded_is_killed() {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join("seedrig-hook-999999-abc");
        std::fs::create_dir(&dead).unwrap();
        let mut children = Vec::new();
        for name in ["dut", "hook", "hook-2"] {
            let child = std::process::Command::new("sleep").arg("30").process_group(0).spawn().unwrap();
            let pgid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
            record_group(&dead, name, pgid).unwrap();
            children.push(child);
        }
        assert!(dead.join(PGID_FILE).is_file(), "the DUT's record keeps its name");
        // Not a record: left alone.
        std::fs::write(dead.join("firmware.toml"), "1").unwrap();
        assert_eq!(sweep_in(dir.path(), |_| false), vec![dead.clone()]);
        for mut child in children {
            let status = child.wait().unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "sleep {} was not killed", child.id());
        }
    }

    #[test]
    fn a_child_dies_with_the_thread_that_spawned_it() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut cmd = std::process::Command::new("sleep");
            cmd.arg("30");
            die_with_parent(&mut cmd, Signal::KILL);
            let child = cmd.spawn().unwrap();
            tx.send(child.id()).unwrap();
            // The thread ends here, without waiting: the kernel sends the child SIGKILL.
        });
        let pid = rx.recv().unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3);
        // A killed child stays a zombie until reaped; its state in /proc says so.
        let dead = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.split_whitespace().nth(2) == Some("Z"))
                .unwrap_or(true)
        };
        while !dead() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(dead(), "sleep {pid} outlived the thread that started it");
    }
}

#[cfg(test)]
mod private_tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn bench_folders_are_private() {
        let dir = super::private_temp_dir("test").unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        let fixed = super::private_fixed_dir("testfixed").unwrap();
        assert_eq!(std::fs::metadata(&fixed).unwrap().permissions().mode() & 0o777, 0o700);
        // Already there and private: fine; made public behind our back: refused.
        assert_eq!(super::private_fixed_dir("testfixed").unwrap(), fixed);
        std::fs::set_permissions(&fixed, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(super::private_fixed_dir("testfixed").is_err());
        std::fs::remove_dir(&fixed).unwrap();
    }
}
