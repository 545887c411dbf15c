//! The oracle: from a scenario, the attempts a correct firmware makes, how each is judged and
//! by when, and who wins (docs/method.md §5).

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
    /// The earliest it may be judged (the earliest a correct firmware can know, less the
    /// tolerance); `None` for a connect or a stall, `Some(0)` where any moment is possible.
    pub earliest_ms: Option<u64>,
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
    expect_ranked(view, ranking(view))
}

/// Every ranking a correct firmware may use when standbys whose indices differ by less than
/// `margin` count as tied (a measured site, where signal readings wobble): the oracle's own
/// first, then each other order of the near-tied runs. At most `limit` rankings.
pub fn near_tie_rankings(view: &ScenarioView, margin: f64, limit: usize) -> Vec<Vec<Ranked>> {
    let ranked = ranking(view);
    // Runs of consecutive standbys each within `margin` of the one before.
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    for i in 1..=ranked.len() {
        let breaks = i == ranked.len() || (ranked[i - 1].score.index - ranked[i].score.index).abs() >= margin;
        if breaks {
            runs.push(start..i);
            start = i;
        }
    }
    let mut out = vec![ranked.clone()];
    for run in runs.into_iter().filter(|r| r.len() > 1) {
        let mut grown = Vec::new();
        for base in &out {
            for perm in permutations(&base[run.clone()]) {
                let mut r = base.clone();
                r.splice(run.clone(), perm);
                if !grown.contains(&r) && grown.len() < limit {
                    grown.push(r);
                }
            }
        }
        out = grown;
    }
    for r in &mut out {
        for (i, e) in r.iter_mut().enumerate() {
            e.rank = i + 1;
        }
    }
    // The oracle's own order first.
    if let Some(pos) =
        out.iter().position(|r| r.iter().map(|e| e.standby).eq(ranked.iter().map(|e| e.standby)))
    {
        out.swap(0, pos);
    }
    out.truncate(limit.max(1));
    out
}

fn permutations(items: &[Ranked]) -> Vec<Vec<Ranked>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            out.push(tail);
        }
    }
    out
}

/// What a correct firmware does when it tries the standbys in `ranking`'s order.
pub fn expect_ranked(view: &ScenarioView, ranking: Vec<Ranked>) -> Expected {
    let order = std::iter::once((&view.master, true))
        .chain(ranking.iter().map(|r| (&view.standbys[r.standby], false)));
    let mut attempts = Vec::new();
    let mut clock = 0;
    for (seed, is_master) in order {
        let judged = judge(&attempt(seed), view.judgement, view.attempt_timeout_ms);
        let (bound_ms, earliest_ms) = match &judged {
            Judged::Failed { after_ms, earliest_ms, .. } => {
                (Some(after_ms + view.tolerance_ms), Some(earliest_ms.saturating_sub(view.tolerance_ms)))
            }
            _ => (None, None),
        };
        attempts.push(ExpectedAttempt {
            seed: seed.id.clone(),
            slot: seed.slot,
            is_master,
            starts_at_ms: clock,
            judged: judged.clone(),
            bound_ms,
            earliest_ms,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::view::{BestCell, SeedView};
    use crate::model::{Judgement, NetworkTiming, Rat, Weights};

    fn seed(id: &str, slot: u8, dbm: f64, tariff: f64) -> SeedView {
        let best = BestCell {
            carrier: "c".into(),
            rat: Rat::Lte,
            signal_dbm: dbm,
            tariff,
            label: None,
            timing: NetworkTiming::default(),
        };
        SeedView { id: id.into(), slot, best: Some(best), faults: Vec::new() }
    }

    /// Signal only: -70 → A1 1.0, -71 → 0.9, -80 → 0.0 (min–max over -80..-70).
    fn view() -> ScenarioView {
        ScenarioView {
            weights: Weights { signal: 1.0, tariff: 0.0 },
            judgement: Judgement::Both,
            attempt_timeout_ms: 30_000,
            timeout_ms: 120_000,
            tolerance_ms: 500,
            retry_backoff_ms: None,
            master: seed("m", 0, -60.0, 0.01),
            standbys: vec![seed("a", 1, -80.0, 0.01), seed("b", 2, -71.0, 0.01), seed("c", 3, -70.0, 0.01)],
        }
    }

    fn ids(view: &ScenarioView, r: &[Ranked]) -> Vec<String> {
        r.iter().map(|e| view.standbys[e.standby].id.clone()).collect()
    }

    #[test]
    fn near_ties_within_the_margin_may_come_in_either_order_the_oracles_first() {
        let v = view();
        let all = near_tie_rankings(&v, 0.15, 24);
        let orders: Vec<Vec<String>> = all.iter().map(|r| ids(&v, r)).collect();
        assert_eq!(orders, vec![vec!["c", "b", "a"], vec!["b", "c", "a"]]);
        assert_eq!(all[1].iter().map(|e| e.rank).collect::<Vec<_>>(), [1, 2, 3]);
        // 0.1 apart is not within a margin of 0.05.
        assert_eq!(near_tie_rankings(&v, 0.05, 24).len(), 1);
        // A margin that ties everything: all 6 orders, capped by the limit.
        assert_eq!(near_tie_rankings(&v, 1.5, 24).len(), 6);
        assert_eq!(near_tie_rankings(&v, 1.5, 4).len(), 4);
    }

    #[test]
    fn expect_ranked_tries_the_standbys_in_the_given_order() {
        let v = view();
        let swapped = near_tie_rankings(&v, 0.15, 24).remove(1);
        let e = expect_ranked(&v, swapped);
        // The master connects here, so only it is tried; the ranking is still the given one.
        assert_eq!(e.attempt_order(), ["m"]);
        assert_eq!(ids(&v, &e.ranking), ["b", "c", "a"]);
    }
}

/// How long a correct firmware takes in `scenario`, nominal ms: to the win plus the settle
/// period watched after it, to `exhausted`, or the whole timeout of a stall. A scenario the
/// oracle cannot read (its site or a seed missing) counts as its timeout.
pub fn expected_duration_ms(catalog: &crate::model::Catalog, scenario: &crate::model::Scenario) -> u64 {
    let Some(view) = super::ScenarioView::from_catalog(catalog, scenario) else {
        return scenario.timeout_ms;
    };
    match expect(&view).outcome {
        Outcome::Winner { connected_at_ms, .. } => connected_at_ms + scenario.settle_ms,
        Outcome::Exhausted { at_ms, .. } => at_ms,
        Outcome::Stalled { .. } => scenario.timeout_ms,
    }
}
