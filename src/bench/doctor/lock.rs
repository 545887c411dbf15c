//! A lab bench's lock, as the doctor takes it and reports it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Row, secs};
use crate::bench::lock::{BenchLock, Holder, LockError};
use crate::model::Rig;

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

/// Takes `rig`'s bench lock as a run does ([`crate::bench::lock::acquire`]), waiting up to
/// `timeout` for a run that holds it (`on_wait` is told who). The lock is held as long as the
/// returned [`BenchLock`] lives: keep it until the examination is over.
pub fn take_lock(rig: &Rig, timeout: Duration, on_wait: impl FnMut(&Holder)) -> (BenchLock, LockState) {
    let Some(path) = crate::bench::lock::lock_path(rig) else {
        return (BenchLock::none(), LockState::Unlocked);
    };
    let started = Instant::now();
    let mut waited_for = None;
    let mut on_wait = on_wait;
    let taken = crate::bench::lock::acquire(rig, timeout, |holder| {
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

/// The lock's row: held by the doctor, or busy (another run holds it: no problem).
pub(super) fn bench_lock(lock: &LockState) -> Row {
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
