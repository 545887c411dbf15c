//! A request to stop a run (SIGINT, SIGTERM), seen by the runner between two console reads:
//! the scenario under way ends as an error naming the signal
//! ([`BenchError::Interrupted`](crate::bench::BenchError::Interrupted)), its bench is taken
//! down as usual, and no further scenario starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

/// Shared between whoever receives the signal and the runner. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicI32>);

impl Stop {
    /// Records `signal` (its number); the first request wins.
    pub fn request(&self, signal: i32) {
        let _ = self.0.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The signal asked for, if any.
    pub fn requested(&self) -> Option<i32> {
        Some(self.0.load(Ordering::SeqCst)).filter(|s| *s != 0)
    }
}

pub use crate::children::signal_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_is_the_one_reported() {
        let stop = Stop::default();
        assert_eq!(stop.requested(), None);
        stop.clone().request(15);
        stop.request(2);
        assert_eq!(stop.requested(), Some(15));
    }
}
