//! The oracle: from a scenario, the attempts a correct firmware makes, how each is judged and
//! by when, and who wins (DESIGN.md §1.5).

use super::attempt::{Judged, attempt, judge};
use super::index::{Candidate, NO_SIGNAL_DBM, Score, rank, score};
use super::view::{ScenarioView, SeedView};
use crate::model::Id;

/// One attempt a correct firmware makes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedAttempt {
    pub seed: Id,
    pub slot: u8,
    pub is_master: bool,
    /// Nominal ms from DUT start to the start of this attempt.
    pub starts_at_ms: u64,
    pub judged: Judged,
    /// The latest a failed attempt may be judged, counted from its start (duration plus
    /// tolerance); `None` for a connect or a stall.
    pub bound_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Winner {
        seed: Id,
        slot: u8,
        connected_at_ms: u64,
    },
    /// Every seed failed; a new pass may start after the scenario's back-off.
    Exhausted {
        at_ms: u64,
        next_pass_at_ms: Option<u64>,
    },
    /// `result` judgement waits forever on this seed.
    Stalled {
        seed: Id,
        since_ms: u64,
    },
}

/// The standbys' scores and rank, for `explain`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Index into `ScenarioView::standbys`.
    pub standby: usize,
    pub rank: usize,
    pub score: Score,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Standbys in rank order.
    pub ranking: Vec<Ranked>,
    pub attempts: Vec<ExpectedAttempt>,
    pub outcome: Outcome,
}

impl Expected {
    /// Seed ids in the order they are tried.
    pub fn attempt_order(&self) -> Vec<&str> {
        self.attempts.iter().map(|a| a.seed.as_str()).collect()
    }

    /// When the winner is connected, nominal ms from DUT start.
    pub fn time_to_winner_ms(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Winner { connected_at_ms, .. } => Some(connected_at_ms),
            _ => None,
        }
    }
}

/// The candidate the index sees for one standby.
pub fn candidate(seed: &SeedView) -> Candidate {
    Candidate {
        slot: seed.slot,
        signal_dbm: seed.best.as_ref().map_or(NO_SIGNAL_DBM, |c| c.signal_dbm),
        tariff: seed.best.as_ref().map(|c| c.tariff),
    }
}

/// Ranks the standbys.
pub fn ranking(view: &ScenarioView) -> Vec<Ranked> {
    let candidates: Vec<Candidate> = view.standbys.iter().map(candidate).collect();
    let scores = score(&candidates, view.weights);
    rank(&candidates, &scores, view.weights)
        .into_iter()
        .enumerate()
        .map(|(rank, standby)| Ranked { standby, rank: rank + 1, score: scores[standby] })
        .collect()
}

/// What a correct firmware does in this scenario.
pub fn expect(view: &ScenarioView) -> Expected {
    let ranking = ranking(view);
    let order = std::iter::once((&view.master, true))
        .chain(ranking.iter().map(|r| (&view.standbys[r.standby], false)));
    let mut attempts = Vec::new();
    let mut clock = 0;
    for (seed, is_master) in order {
        let judged = judge(&attempt(seed), view.judgement, view.attempt_timeout_ms);
        let bound_ms = match &judged {
            Judged::Failed { after_ms, .. } => Some(after_ms + view.tolerance_ms),
            _ => None,
        };
        attempts.push(ExpectedAttempt {
            seed: seed.id.clone(),
            slot: seed.slot,
            is_master,
            starts_at_ms: clock,
            judged: judged.clone(),
            bound_ms,
        });
        match judged {
            Judged::Connected { after_ms } => {
                let outcome = Outcome::Winner {
                    seed: seed.id.clone(),
                    slot: seed.slot,
                    connected_at_ms: clock + after_ms,
                };
                return Expected { ranking, attempts, outcome };
            }
            Judged::Stalled { .. } => {
                let outcome = Outcome::Stalled { seed: seed.id.clone(), since_ms: clock };
                return Expected { ranking, attempts, outcome };
            }
            Judged::Failed { after_ms, .. } => clock += after_ms,
        }
    }
    let outcome =
        Outcome::Exhausted { at_ms: clock, next_pass_at_ms: view.retry_backoff_ms.map(|b| clock + b) };
    Expected { ranking, attempts, outcome }
}
