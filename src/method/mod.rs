//! The patented method (docs/method.md) as small pure functions: the test oracle.
//!
//! `index` ranks standbys by the comprehensive evaluation index; `attempt` says what one
//! connection attempt does and how the firmware judges it; `oracle` puts them together into
//! the expected outcome of a scenario; `view` reads a scenario out of the fixture catalog.

pub mod attempt;
pub mod index;
pub mod oracle;
pub mod view;

pub use attempt::{AttemptResult, Judged, JudgedHow, judge};
pub use index::{Candidate, Score, rank, score};
pub use oracle::{
    Expected, ExpectedAttempt, Outcome, expect, expect_ranked, expected_duration_ms, near_tie_rankings,
};
pub use view::{BestCell, ScenarioView, SeedView};
