//! A scenario run several times (`--repeat N`, `--until-fail`): how often it passed, failed
//! (the firmware) and errored (the bench), kept apart, with the spread of its time to winner. A
//! scenario with mixed results is *flaky*: it must never hide behind a lucky last run.

use super::{ScenarioResult, Verdict};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RepeatStats {
    pub runs: usize,
    pub passes: usize,
    pub fails: usize,
    pub errors: usize,
    pub skips: usize,
    /// Passes over the runs that were not skipped, 0-1.
    pub success_rate: f64,
    /// Time to winner over the runs that had one (nominal ms), nearest rank.
    pub time_to_winner_p50_ms: Option<f64>,
    pub time_to_winner_p95_ms: Option<f64>,
}

impl RepeatStats {
    /// Passed sometimes and not other times (skips do not count either way).
    pub fn flaky(&self) -> bool {
        self.passes > 0 && self.fails + self.errors > 0
    }
}

/// One result standing for all `runs` of a scenario: the first run that did not pass (what
/// needs looking at), else the last, carrying the statistics.
pub fn aggregate(runs: Vec<ScenarioResult>) -> Option<ScenarioResult> {
    let count = |v: fn(&Verdict) -> bool| runs.iter().filter(|r| v(&r.verdict)).count();
    let passes = count(|v| *v == Verdict::Pass);
    let fails = count(|v| *v == Verdict::Fail);
    let errors = count(|v| matches!(v, Verdict::Error(_)));
    let skips = count(|v| matches!(v, Verdict::Skipped(_)));
    let judged = runs.len() - skips;
    let mut times: Vec<f64> = runs.iter().filter_map(time_to_winner).collect();
    times.sort_by(f64::total_cmp);
    let stats = RepeatStats {
        runs: runs.len(),
        passes,
        fails,
        errors,
        skips,
        success_rate: if judged == 0 { 0.0 } else { passes as f64 / judged as f64 },
        time_to_winner_p50_ms: percentile(&times, 50.0),
        time_to_winner_p95_ms: percentile(&times, 95.0),
    };
    let pick = runs.iter().position(|r| r.verdict != Verdict::Pass).unwrap_or(runs.len().checked_sub(1)?);
    let mut chosen = runs.into_iter().nth(pick)?;
    chosen.repeat = Some(stats);
    Some(chosen)
}

fn time_to_winner(r: &ScenarioResult) -> Option<f64> {
    r.checks.iter().find(|c| c.name == "time_to_winner").and_then(|c| c.measured_ms)
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::checks::{Check, Status};
    use std::time::Duration;

    fn run(verdict: Verdict, ttw: Option<f64>) -> ScenarioResult {
        let mut r = ScenarioResult::ended("s", verdict, Duration::from_millis(10));
        if let Some(ms) = ttw {
            r.checks.push(Check {
                name: "time_to_winner".into(),
                expected: String::new(),
                observed: String::new(),
                status: Status::Pass,
                measured_ms: Some(ms),
                limit_ms: Some(60_000.0),
                rig_allowance_ms: None,
                sources: Vec::new(),
                rig_time_beyond_cap_ms: None,
            });
        }
        r
    }

    #[test]
    fn mixed_results_are_flaky_and_the_failing_run_stands_for_them() {
        let runs = vec![
            run(Verdict::Pass, Some(2700.0)),
            run(Verdict::Fail, Some(2900.0)),
            run(Verdict::Pass, Some(2800.0)),
            run(Verdict::Error("bench".into()), None),
        ];
        let r = aggregate(runs).unwrap();
        assert_eq!(r.verdict, Verdict::Fail);
        let s = r.repeat.unwrap();
        assert_eq!((s.runs, s.passes, s.fails, s.errors, s.skips), (4, 2, 1, 1, 0));
        assert!(s.flaky());
        assert_eq!(s.success_rate, 0.5);
        // Nearest rank over 2700, 2800, 2900: p50 = 2800, p95 = 2900.
        assert_eq!((s.time_to_winner_p50_ms, s.time_to_winner_p95_ms), (Some(2800.0), Some(2900.0)));
    }

    #[test]
    fn steady_results_are_not_flaky() {
        let s = aggregate(vec![run(Verdict::Pass, Some(1.0)); 3]).unwrap().repeat.unwrap();
        assert!(!s.flaky());
        assert_eq!(s.success_rate, 1.0);
        let s = aggregate(vec![run(Verdict::Fail, None); 2]).unwrap().repeat.unwrap();
        assert!(!s.flaky());
        assert_eq!(s.success_rate, 0.0);
        assert!(aggregate(Vec::new()).is_none());
    }
}
