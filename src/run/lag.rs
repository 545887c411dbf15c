//! How late the rig itself is: a thread that asks to sleep a few milliseconds at a time and
//! records how much longer it actually slept. On a loaded machine (or a rig that was stopped)
//! the rig stamps what it sees late, and a timing check can fail for that alone: the runner
//! then makes the scenario an error ("bench overloaded"), never a firmware failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the sampler wakes up.
const TICK: Duration = Duration::from_millis(5);

/// Samples while it lives; `worst()` is the largest lateness seen.
pub struct LagMeter {
    worst_us: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LagMeter {
    pub fn start() -> LagMeter {
        let worst_us = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (worst, stop) = (worst_us.clone(), done.clone());
        let thread = std::thread::Builder::new()
            .name("lag-meter".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let asked = Instant::now();
                    std::thread::sleep(TICK);
                    let late = asked.elapsed().saturating_sub(TICK);
                    worst.fetch_max(late.as_micros() as u64, Ordering::Relaxed);
                }
            })
            .ok();
        LagMeter { worst_us, done, thread }
    }

    /// The largest lateness since the meter started.
    pub fn worst(&self) -> Duration {
        Duration::from_micros(self.worst_us.load(Ordering::Relaxed))
    }
}

impl Drop for LagMeter {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_machine_is_punctual_and_a_busy_thread_is_not_the_meter() {
        let meter = LagMeter::start();
        // Busy work on this thread does not make the meter's own thread late on a machine
        // with a core to spare.
        let until = Instant::now() + Duration::from_millis(60);
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        assert!(meter.worst() < Duration::from_millis(50), "{:?}", meter.worst());
    }
}
