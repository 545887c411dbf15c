//! The exclusive bench lock across processes: a second run waits for the first, is told who
//! holds the bench, gives up naming it, and gets the bench at once when the holder is killed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use seedrig::bench::lock::{self, Holder, LockError};
use seedrig::model::{Rig, RigKind};

const HELPER_DIR: &str = "SEEDRIG_TEST_LOCK_HELPER_DIR";

fn lab_rig() -> Rig {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded =
        seedrig::fixture::load_bench(&root.join("fixtures"), &root.join("rig/lab-example.toml")).unwrap();
    let rig = loaded.catalog.rigs.into_values().find(|r| matches!(r.kind, RigKind::Lab(_))).unwrap();
    assert_eq!(rig.name, "bench-3");
    rig
}

/// Not a test of its own: run by `a_killed_holder_frees_the_bench_at_once` in a child process
/// (this test binary, re-executed), it takes the bench and holds it until killed.
#[test]
fn lock_holder_helper() {
    let Some(dir) = std::env::var_os(HELPER_DIR) else { return };
    let _lock =
        lock::acquire_in(Path::new(&dir), &lab_rig(), Duration::ZERO, |h| panic!("held by {h}")).unwrap();
    // On a line of its own: libtest has printed "test lock_holder_helper ... " before it.
    println!("\nLOCKED {}", std::process::id());
    // Holding the bench is the point: the test kills this process (120 s bounds a lost helper).
    std::thread::sleep(Duration::from_secs(120));
}

#[test]
fn a_killed_holder_frees_the_bench_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let rig = lab_rig();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["lock_holder_helper", "--exact", "--nocapture", "--test-threads", "1"])
        .env(HELPER_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let locked = lines.by_ref().map_while(Result::ok).find(|l| l.starts_with("LOCKED "));
    assert_eq!(locked, Some(format!("LOCKED {}", child.id())), "the helper did not take the bench");

    // Held: the second acquirer is told who holds it, waits, and gives up naming it.
    let mut told: Vec<Holder> = Vec::new();
    let started = Instant::now();
    let err =
        lock::acquire_in(dir.path(), &rig, Duration::from_millis(600), |h| told.push(h.clone())).unwrap_err();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(600) && waited < Duration::from_secs(3), "{waited:?}");
    let LockError::Busy { holder } = &err else { panic!("{err}") };
    assert_eq!(holder.pid, child.id(), "{holder:?}");
    assert!(holder.command.contains("lock_holder_helper"), "{holder:?}");
    assert!(holder.since.ends_with('Z') && holder.since_unix > 0, "{holder:?}");
    assert!(err.to_string().contains(&format!("pid {}", child.id())), "{err}");
    assert_eq!(told, vec![holder.clone()], "on_wait is told the holder once");

    // SIGKILL: no chance to clean up, yet the kernel released the lock with the process.
    child.kill().unwrap();
    child.wait().unwrap();
    let started = Instant::now();
    let lock =
        lock::acquire_in(dir.path(), &rig, Duration::from_secs(10), |h| panic!("still held by {h}")).unwrap();
    assert!(started.elapsed() < Duration::from_millis(200), "{:?}", started.elapsed());
    assert!(lock.is_held());
    let path = lock.path().unwrap().to_owned();
    assert_eq!(lock::read_holder(&path).map(|h| h.pid), Some(std::process::id()), "this run wrote itself in");
    drop(lock);
    assert_eq!(lock::read_holder(&path), None, "released and emptied");
}

/// The helper dies with a failing test too.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_usual_lock_file_and_a_virtual_bench() {
    let mut rig = lab_rig();
    rig.name = format!("lock-test-{}", std::process::id());
    let path = lock::lock_path(&rig).unwrap();
    let dir = path.parent().unwrap();
    assert!(dir == Path::new(lock::SYSTEM_LOCK_DIR) || dir == std::env::temp_dir(), "{}", path.display());
    assert_eq!(path.file_name().unwrap().to_string_lossy(), format!("seedrig-lock-bench-{}.lock", rig.name));
    let held = lock::acquire(&rig, Duration::ZERO, |h| panic!("held by {h}")).unwrap();
    assert_eq!(held.path(), Some(path.as_path()));
    assert!(matches!(lock::acquire(&rig, Duration::ZERO, |_| {}), Err(LockError::Busy { .. })));
    let probed = lock::probe(&rig).unwrap().expect("held");
    assert_eq!(probed.pid, std::process::id());
    drop(held);
    assert_eq!(lock::probe(&rig).unwrap(), None, "free again");
    // Nobody else knows this bench's name; its lock file can go.
    std::fs::remove_file(&path).unwrap();

    let virt = Rig { kind: RigKind::Virtual { dut: None }, ..lab_rig() };
    assert_eq!(lock::lock_path(&virt), None);
    let a = lock::acquire(&virt, Duration::ZERO, |h| panic!("held by {h}")).unwrap();
    let b = lock::acquire(&virt, Duration::ZERO, |h| panic!("held by {h}")).unwrap();
    assert!(!a.is_held() && !b.is_held());
}
