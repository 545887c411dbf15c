//! Where a run first left the expected path, in one sentence for people: the first thing a
//! firmware engineer reads on a scenario's page.
//!
//! Derived from what a result holds — the oracle's expected attempts, the attempts the bench
//! saw, the checks, and the ranking's indices — walking the path in the order it is run:
//! - the attempts, one by one as `attempt_order` compares them (a card out of its slot that
//!   nobody saw tried is left out): the first that went to another seed than the oracle's (the
//!   first not to the master; one back to the master; a seed tried again), an attempt after
//!   the last one the oracle expects, an attempt that connected where the oracle expects it to
//!   fail, the winner given up, a stall given up, a judgement outside its window (only where
//!   the timing check of it failed: the checks allow the rig's own time), an attempt never
//!   given up;
//! - then attempts missing at the end: no attempt at all, the DUT stopping (or staying on a
//!   seed) after K where the oracle expects more; no outcome where the DUT sat on the winner
//!   and no data went through it;
//! - then the outcome's checks: the winner, the time to it, the report, settling, and any other
//!   failing check, quoted.
//!
//! A pass followed the path; an error names where the run was when the bench broke (or the
//! firmware hung), after any divergence before it; a skip has no path.

use super::{ExpectedBar, ObservedBar, ScenarioResult, Verdict};
use crate::method::attempt::fmt_ms;

/// The sentence of a run that passed.
pub const FOLLOWED: &str = "the run followed the expected path";

/// The first divergence of `r` from the oracle's path, as a sentence; `None` for a skipped
/// scenario or one that never ran.
pub fn first(r: &ScenarioResult) -> Option<String> {
    match &r.verdict {
        Verdict::Skipped(_) => None,
        Verdict::Pass => Some(FOLLOWED.to_owned()),
        Verdict::Error(_) if r.expected.is_empty() => None,
        Verdict::Error(reason) => Some(Path::of(r, true).error(reason)),
        Verdict::Fail => Some(Path::of(r, false).fail()),
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn ms(x: f64) -> String {
    fmt_ms(x.max(0.0).round() as u64)
}

fn attempts(n: usize) -> String {
    if n == 1 { "1 attempt".to_owned() } else { format!("{n} attempts") }
}

/// One result's path: the oracle's attempts that can be compared, against the bench's.
struct Path<'a> {
    r: &'a ScenarioResult,
    compared: Vec<&'a ExpectedBar>,
    bars: &'a [ObservedBar],
    /// An error: the run was cut short, and its checks (if any) are not to be trusted.
    cut_short: bool,
}

impl<'a> Path<'a> {
    fn of(r: &'a ScenarioResult, cut_short: bool) -> Path<'a> {
        let bars = r.observed.as_slice();
        let unseen =
            |e: &ExpectedBar| r.out_of_slot.contains(&e.slot) && !bars.iter().any(|b| b.slot == e.slot);
        Path { r, compared: r.expected.iter().filter(|e| !unseen(e)).collect(), bars, cut_short }
    }

    fn failed(&self, check: &str) -> bool {
        !self.cut_short && self.r.checks.iter().any(|c| c.name == check && c.failed())
    }

    /// The oracle's index of the standby in `slot`.
    fn index(&self, slot: u8) -> Option<f64> {
        self.r.ranking.iter().find(|row| row.slot == slot && !row.master).and_then(|row| row.index)
    }

    fn name(b: &ObservedBar) -> String {
        if b.seed.is_empty() { format!("slot {}", b.slot) } else { b.seed.clone() }
    }

    /// Where the `k`th bar went: `went to claro-br-1 (index 0.444)`, `went back to the master
    /// o2-de-1`, `went to telekom-de-1 again (index 1.000)`.
    fn went_to(&self, k: usize) -> String {
        let b = &self.bars[k];
        let name = Self::name(b);
        let master = self.r.expected.first().filter(|e| e.master && e.slot == b.slot);
        if k > 0 && master.is_some() {
            return format!("went back to the master {name}");
        }
        let index = self.index(b.slot).map(|i| format!(" (index {i:.3})")).unwrap_or_default();
        if self.bars[..k].iter().any(|p| p.slot == b.slot) {
            format!("went to {name} again{index}")
        } else {
            format!("went to {name}{index}")
        }
    }

    /// The seed the oracle expects: `the master o2-de-1`, `telstra-au-1 (0.761)`.
    fn expects(&self, e: &ExpectedBar) -> String {
        match self.index(e.slot) {
            _ if e.master => format!("the master {}", e.seed),
            Some(i) => format!("{} ({i:.3})", e.seed),
            None => e.seed.clone(),
        }
    }

    /// How the oracle's path ends: `docomo-jp-1 to win`.
    fn outcome(&self) -> String {
        match self.r.expected.last() {
            Some(e) if e.judged == "connected" => format!("{} to win", e.seed),
            Some(e) if e.judged == "stalled" => format!("the DUT to wait on {} for ever", e.seed),
            _ => "every seed to fail (exhausted)".to_owned(),
        }
    }

    /// The first divergence among the attempts, else how many matched.
    fn walk(&self) -> Result<usize, String> {
        for (k, b) in self.bars.iter().enumerate() {
            let nth = ordinal(k + 1);
            let Some(e) = self.compared.get(k) else {
                let after = match self.compared.last() {
                    Some(last) if last.judged == "connected" => format!(" after {} connects", last.seed),
                    Some(last) if last.judged == "stalled" => {
                        format!(": the DUT waits on {} for ever", last.seed)
                    }
                    Some(_) => ": every seed has failed (exhausted)".to_owned(),
                    None => String::new(),
                };
                return Err(format!("the {nth} attempt {}, the oracle expects none{after}", self.went_to(k)));
            };
            if b.slot != e.slot {
                if k == 0 && e.master {
                    return Err(format!(
                        "the 1st attempt {}, the oracle expects the master {} first",
                        self.went_to(k),
                        e.seed
                    ));
                }
                return Err(format!(
                    "the {nth} attempt {}, the oracle expects {}",
                    self.went_to(k),
                    self.expects(e)
                ));
            }
            if let Some(s) = self.course(k, b, e) {
                return Err(s);
            }
        }
        let k = self.bars.len();
        match self.compared.get(k) {
            Some(_) if self.cut_short => Ok(k),
            Some(e) if k == 0 => {
                Err(format!("the DUT made no attempt, the oracle expects a 1st on {}", self.expects(e)))
            }
            Some(e) if self.bars[k - 1].ends_at_ms.is_none() => Err(format!(
                "the DUT stayed on {} (the {} attempt) and made no {}, the oracle expects one on {}",
                Self::name(&self.bars[k - 1]),
                ordinal(k),
                ordinal(k + 1),
                self.expects(e)
            )),
            Some(e) => Err(format!(
                "the DUT stopped after {}, the oracle expects a {} on {}",
                attempts(k),
                ordinal(k + 1),
                self.expects(e)
            )),
            None => Ok(k),
        }
    }

    /// How the `k`th attempt, on the seed the oracle expects, went against the oracle's.
    fn course(&self, k: usize, b: &ObservedBar, e: &ExpectedBar) -> Option<String> {
        let (seed, nth) = (&e.seed, ordinal(k + 1));
        let took = b.ends_at_ms.map(|t| t - b.starts_at_ms);
        let expected_after = e.ends_at_ms.map(|t| t.saturating_sub(e.starts_at_ms) as f64);
        match (e.judged.as_str(), b.ended.as_str()) {
            ("connected", "connected") => None,
            ("connected", "given up") => Some(format!(
                "the DUT gave up on {seed} (the {nth} attempt) after {}, the oracle expects it to connect{}",
                took.map_or("a while".to_owned(), ms),
                expected_after.map(|t| format!(" after {}", ms(t))).unwrap_or_default()
            )),
            ("connected", _) if self.cut_short => None,
            ("connected", _) => Some(format!(
                "no outcome: the DUT was still on {seed} (the {nth} attempt) when the rig stopped watching and no \
                 data went through it, the oracle expects it to connect{}",
                expected_after.map(|t| format!(" after {}", ms(t))).unwrap_or_default()
            )),
            ("stalled", "given up") => Some(format!(
                "the DUT gave up on {seed} (the {nth} attempt) after {}, the oracle expects it to wait on it for ever: {}",
                took.map_or("a while".to_owned(), ms),
                e.reason
            )),
            ("stalled", "connected") => Some(format!(
                "data went through {seed} (the {nth} attempt), the oracle expects no answer from its network: {}",
                e.reason
            )),
            ("stalled", _) => None,
            (_, "connected") => Some(format!(
                "data went through {seed} (the {nth} attempt), the oracle expects it to fail: {}",
                e.reason
            )),
            _ => {
                let check = if e.master { "master_judgement" } else { "standby_judgements" };
                if !self.failed(check) {
                    return None;
                }
                let (lo, hi) = (e.earliest_ms? as f64, e.bound_ms? as f64);
                let window = format!("{} to {} after its start", ms(lo), ms(hi));
                match took {
                    Some(t) if t < lo => Some(format!(
                        "the DUT gave up on {seed} (the {nth} attempt) after {}, too early: the oracle expects it \
                         judged failed {window}",
                        ms(t)
                    )),
                    Some(t) if t > hi => Some(format!(
                        "the DUT gave up on {seed} (the {nth} attempt) after {}, too late: the oracle expects it \
                         judged failed {window}",
                        ms(t)
                    )),
                    Some(_) => None,
                    None => Some(format!(
                        "the DUT never gave up on {seed} (the {nth} attempt), the oracle expects it judged failed {window}"
                    )),
                }
            }
        }
    }

    fn fail(&self) -> String {
        if let (false, Err(s)) = (self.r.expected.is_empty(), self.walk()) {
            return s;
        }
        let failing = |name: &str| self.r.checks.iter().find(|c| c.name == name && c.failed());
        let first = ["winner", "time_to_winner", "report", "settled"]
            .into_iter()
            .find_map(failing)
            .or_else(|| self.r.checks.iter().find(|c| c.failed()));
        let Some(c) = first else {
            return "the attempts followed the expected path; no failing check says where the run failed"
                .to_owned();
        };
        match (c.name.as_str(), c.measured_ms, c.limit_ms) {
            ("winner", ..) => format!(
                "the attempts followed the expected path, but the winner is wrong: the oracle expects {}, observed {}",
                c.expected,
                c.observed.split(';').next().unwrap_or_default().trim()
            ),
            ("time_to_winner", Some(m), Some(l)) => format!(
                "the attempts followed the expected path, but the win came after {}, later than the {} the oracle allows",
                ms(m),
                ms(l)
            ),
            _ => format!(
                "the attempts followed the expected path, but {} failed: expected {}, observed {}",
                c.name, c.expected, c.observed
            ),
        }
    }

    fn error(&self, reason: &str) -> String {
        let k = match self.walk() {
            Err(s) => return s,
            Ok(k) => k,
        };
        let last = match self.bars[..k].last() {
            Some(b) if k == 1 => format!(" (on {})", Self::name(b)),
            Some(b) => format!(" (the last on {})", Self::name(b)),
            None => String::new(),
        };
        let outcome = self.outcome();
        match k {
            _ if reason.starts_with("firmware hung") => {
                let when = if k == 0 {
                    "before any attempt".to_owned()
                } else {
                    format!("after {} on the expected path{last}", attempts(k))
                };
                format!(
                    "no outcome: the DUT hung {when}, with no answer to `status`; the oracle expects {outcome}"
                )
            }
            0 => format!("the bench broke before any attempt; the oracle expects {outcome}"),
            _ => format!(
                "the run followed the expected path for {}{last} until the bench broke; the oracle expects {outcome}",
                attempts(k)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::run::checks::{Check, Status};
    use crate::run::ranking::RankingRow;

    fn bar(seed: &str, slot: u8, starts: u64, ends: Option<u64>, judged: &str) -> ExpectedBar {
        let failed = judged.starts_with("failed");
        ExpectedBar {
            seed: seed.into(),
            slot,
            master: slot == 0,
            starts_at_ms: starts,
            ends_at_ms: ends,
            earliest_ms: failed.then_some(650),
            bound_ms: failed.then_some(1650),
            judged: judged.into(),
            reason: match judged {
                "stalled" => "network never answers".into(),
                j if j.starts_with("failed") => "registration rejected, EMM cause 15".into(),
                _ => String::new(),
            },
        }
    }

    fn seen(seed: &str, slot: u8, starts: f64, ends: Option<f64>, ended: &str) -> ObservedBar {
        ObservedBar {
            seed: seed.into(),
            slot,
            starts_at_ms: starts,
            ends_at_ms: ends,
            ended: ended.into(),
            source: "card side".into(),
        }
    }

    fn row(slot: u8, seed: &str, index: Option<f64>) -> RankingRow {
        RankingRow {
            rank: index.map(|_| 1),
            master: index.is_none(),
            slot,
            seed: seed.into(),
            rat: Some("lte".into()),
            cell: Some("c".into()),
            signal_dbm: -80.0,
            tariff: Some(0.01),
            a1: index,
            b1: index,
            index,
            faults: Vec::new(),
        }
    }

    fn check(name: &str, status: Status, expected: &str, observed: &str) -> Check {
        Check {
            name: name.into(),
            expected: expected.into(),
            observed: observed.into(),
            status,
            measured_ms: None,
            limit_ms: None,
            rig_allowance_ms: None,
            rig_time_beyond_cap_ms: None,
            sources: Vec::new(),
        }
    }

    /// m5-third-ranked-wins as the oracle has it: the master fails, telekom-de-1 and
    /// telstra-au-1 fail, docomo-jp-1 wins; china-mobile-1 and claro-br-1 are not tried.
    fn m5(verdict: Verdict, observed: Vec<ObservedBar>) -> ScenarioResult {
        let mut r = ScenarioResult::ended("m5-third-ranked-wins", verdict, Duration::from_secs(2));
        r.expected = vec![
            bar("vodafone-uk-1", 0, 0, Some(1000), "failed explicit"),
            bar("telekom-de-1", 1, 1000, Some(1250), "failed explicit"),
            bar("telstra-au-1", 3, 1250, Some(2250), "failed explicit"),
            bar("docomo-jp-1", 2, 2250, Some(3800), "connected"),
        ];
        r.ranking = vec![
            row(0, "vodafone-uk-1", None),
            row(1, "telekom-de-1", Some(1.0)),
            row(3, "telstra-au-1", Some(0.7612)),
            row(2, "docomo-jp-1", Some(0.624)),
            row(5, "china-mobile-1", Some(0.4437)),
            row(4, "claro-br-1", Some(0.0)),
        ];
        r.observed = observed;
        r
    }

    fn fails(observed: Vec<ObservedBar>, checks: Vec<Check>) -> String {
        let mut r = m5(Verdict::Fail, observed);
        r.checks = checks;
        first(&r).unwrap()
    }

    fn master_given_up() -> ObservedBar {
        seen("vodafone-uk-1", 0, 40.0, Some(1040.0), "given up")
    }

    #[test]
    fn a_pass_followed_the_path_and_a_skip_has_none() {
        let r = m5(Verdict::Pass, Vec::new());
        assert_eq!(first(&r).as_deref(), Some("the run followed the expected path"));
        let skip = ScenarioResult::ended("x", Verdict::Skipped("needs 6 slots".into()), Duration::ZERO);
        assert_eq!(first(&skip), None);
        let never_ran = ScenarioResult::ended("x", Verdict::Error("no pcscd".into()), Duration::ZERO);
        assert_eq!(first(&never_ran), None);
    }

    #[test]
    fn a_first_attempt_on_a_standby_is_not_the_master() {
        let s = fails(vec![seen("claro-br-1", 4, 40.0, Some(30_040.0), "given up")], Vec::new());
        assert_eq!(
            s,
            "the 1st attempt went to claro-br-1 (index 0.000), the oracle expects the master vodafone-uk-1 first"
        );
    }

    #[test]
    fn a_wrong_standby_order_names_the_position_and_both_indices() {
        let s = fails(
            vec![
                master_given_up(),
                seen("telekom-de-1", 1, 1040.0, Some(1290.0), "given up"),
                seen("china-mobile-1", 5, 1290.0, None, "connected"),
            ],
            Vec::new(),
        );
        assert_eq!(
            s,
            "the 3rd attempt went to china-mobile-1 (index 0.444), the oracle expects telstra-au-1 (0.761)"
        );
        // Back to the master, and a standby tried again.
        let s = fails(
            vec![master_given_up(), seen("vodafone-uk-1", 0, 1040.0, Some(2040.0), "given up")],
            Vec::new(),
        );
        assert_eq!(
            s,
            "the 2nd attempt went back to the master vodafone-uk-1, the oracle expects telekom-de-1 (1.000)"
        );
        let s = fails(
            vec![
                master_given_up(),
                seen("telekom-de-1", 1, 1040.0, Some(1290.0), "given up"),
                seen("telekom-de-1", 1, 1290.0, Some(1540.0), "given up"),
            ],
            Vec::new(),
        );
        assert_eq!(
            s,
            "the 3rd attempt went to telekom-de-1 again (index 1.000), the oracle expects telstra-au-1 (0.761)"
        );
    }

    #[test]
    fn missing_attempts_say_where_the_dut_stopped() {
        let s = fails(vec![master_given_up()], Vec::new());
        assert_eq!(s, "the DUT stopped after 1 attempt, the oracle expects a 2nd on telekom-de-1 (1.000)");
        let s = fails(Vec::new(), Vec::new());
        assert_eq!(s, "the DUT made no attempt, the oracle expects a 1st on the master vodafone-uk-1");
        // Still on a failing standby at the end, its judgement not timed (no failing check).
        let s = fails(vec![master_given_up(), seen("telekom-de-1", 1, 1040.0, None, "open")], Vec::new());
        assert_eq!(
            s,
            "the DUT stayed on telekom-de-1 (the 2nd attempt) and made no 3rd, the oracle expects one on telstra-au-1 (0.761)"
        );
    }

    #[test]
    fn an_extra_attempt_comes_after_the_last_one_expected() {
        let mut r = m5(Verdict::Fail, Vec::new());
        r.expected.truncate(1);
        r.expected[0] = bar("vodafone-uk-1", 0, 0, Some(1550), "connected");
        r.observed = vec![
            seen("vodafone-uk-1", 0, 40.0, None, "connected"),
            seen("telekom-de-1", 1, 5000.0, Some(5250.0), "given up"),
        ];
        assert_eq!(
            first(&r).unwrap(),
            "the 2nd attempt went to telekom-de-1 (index 1.000), the oracle expects none after vodafone-uk-1 connects"
        );
        // After an exhaustion.
        r.expected[0] = bar("vodafone-uk-1", 0, 0, Some(1000), "failed explicit");
        r.observed[0] = master_given_up();
        assert_eq!(
            first(&r).unwrap(),
            "the 2nd attempt went to telekom-de-1 (index 1.000), the oracle expects none: every seed has failed (exhausted)"
        );
    }

    #[test]
    fn the_wrong_winner_given_up_or_connected_where_the_oracle_expects_a_failure() {
        let path = || {
            vec![
                master_given_up(),
                seen("telekom-de-1", 1, 1040.0, Some(1290.0), "given up"),
                seen("telstra-au-1", 3, 1290.0, Some(2290.0), "given up"),
            ]
        };
        let mut gave_up = path();
        gave_up.push(seen("docomo-jp-1", 2, 2290.0, Some(2790.0), "given up"));
        gave_up.push(seen("china-mobile-1", 5, 2790.0, None, "connected"));
        assert_eq!(
            fails(gave_up, Vec::new()),
            "the DUT gave up on docomo-jp-1 (the 4th attempt) after 500 ms, the oracle expects it to connect after 1.55 s"
        );
        let mut connected = path();
        connected[2] = seen("telstra-au-1", 3, 1290.0, None, "connected");
        assert_eq!(
            fails(connected, Vec::new()),
            "data went through telstra-au-1 (the 3rd attempt), the oracle expects it to fail: registration rejected, EMM cause 15"
        );
        // The attempts as expected, but a source points at another winner.
        let mut right = path();
        right.push(seen("docomo-jp-1", 2, 2290.0, None, "connected"));
        let winner = check(
            "winner",
            Status::Fail,
            "docomo-jp-1",
            "firmware: telstra-au-1; card authenticated last in slot 2 (docomo-jp-1) at 3.8 s",
        );
        assert_eq!(
            fails(right, vec![check("attempt_order", Status::Pass, "", ""), winner]),
            "the attempts followed the expected path, but the winner is wrong: the oracle expects docomo-jp-1, observed firmware: telstra-au-1"
        );
    }

    #[test]
    fn a_judgement_outside_its_window_is_too_early_or_too_late_where_its_check_failed() {
        let judgement = || vec![check("standby_judgements", Status::Fail, "", "")];
        // Window 650 ms to 1.65 s after the start (the helper's).
        let early = vec![master_given_up(), seen("telekom-de-1", 1, 1040.0, Some(1140.0), "given up")];
        assert_eq!(
            fails(early.clone(), judgement()),
            "the DUT gave up on telekom-de-1 (the 2nd attempt) after 100 ms, too early: the oracle expects it judged failed 650 ms to 1.65 s after its start"
        );
        // The same attempt with the check passing (the rig's own time allowed): no judgement
        // divergence; the missing attempt comes first.
        assert_eq!(
            fails(early, vec![check("standby_judgements", Status::Pass, "", "")]),
            "the DUT stopped after 2 attempts, the oracle expects a 3rd on telstra-au-1 (0.761)"
        );
        let late = vec![master_given_up(), seen("telekom-de-1", 1, 1040.0, Some(4040.0), "given up")];
        assert_eq!(
            fails(late, judgement()),
            "the DUT gave up on telekom-de-1 (the 2nd attempt) after 3 s, too late: the oracle expects it judged failed 650 ms to 1.65 s after its start"
        );
        let never = vec![master_given_up(), seen("telekom-de-1", 1, 1040.0, None, "open")];
        assert_eq!(
            fails(never, judgement()),
            "the DUT never gave up on telekom-de-1 (the 2nd attempt), the oracle expects it judged failed 650 ms to 1.65 s after its start"
        );
        let master_late = vec![seen("vodafone-uk-1", 0, 40.0, Some(2040.0), "given up")];
        assert_eq!(
            fails(master_late, vec![check("master_judgement", Status::Fail, "", "")]),
            "the DUT gave up on vodafone-uk-1 (the 1st attempt) after 2 s, too late: the oracle expects it judged failed 650 ms to 1.65 s after its start"
        );
    }

    #[test]
    fn no_outcome_on_the_winner_and_a_hung_firmware() {
        let mut on_winner = vec![
            master_given_up(),
            seen("telekom-de-1", 1, 1040.0, Some(1290.0), "given up"),
            seen("telstra-au-1", 3, 1290.0, Some(2290.0), "given up"),
        ];
        on_winner.push(seen("docomo-jp-1", 2, 2290.0, None, "open"));
        assert_eq!(
            fails(on_winner, Vec::new()),
            "no outcome: the DUT was still on docomo-jp-1 (the 4th attempt) when the rig stopped watching and no data went through it, the oracle expects it to connect after 1.55 s"
        );
        let hung = m5(
            Verdict::Error("firmware hung: no outcome within 65s, and no answer to `status`".into()),
            vec![master_given_up(), seen("telekom-de-1", 1, 1040.0, None, "open")],
        );
        assert_eq!(
            first(&hung).unwrap(),
            "no outcome: the DUT hung after 2 attempts on the expected path (the last on telekom-de-1), with no answer to `status`; the oracle expects docomo-jp-1 to win"
        );
        let broke = m5(Verdict::Error("pcscd (pid 7) died".into()), Vec::new());
        assert_eq!(
            first(&broke).unwrap(),
            "the bench broke before any attempt; the oracle expects docomo-jp-1 to win"
        );
        let broke = m5(Verdict::Error("pcscd (pid 7) died".into()), vec![master_given_up()]);
        assert_eq!(
            first(&broke).unwrap(),
            "the run followed the expected path for 1 attempt (on vodafone-uk-1) until the bench broke; the oracle expects docomo-jp-1 to win"
        );
        // An error after a divergence names the divergence.
        let wrong =
            m5(Verdict::Error("pcscd (pid 7) died".into()), vec![seen("claro-br-1", 4, 40.0, None, "open")]);
        assert_eq!(
            first(&wrong).unwrap(),
            "the 1st attempt went to claro-br-1 (index 0.000), the oracle expects the master vodafone-uk-1 first"
        );
    }

    #[test]
    fn a_stall_given_up_and_the_outcome_checks() {
        let mut r = m5(Verdict::Fail, vec![seen("vodafone-uk-1", 0, 40.0, Some(30_040.0), "given up")]);
        r.expected = vec![bar("vodafone-uk-1", 0, 0, None, "stalled")];
        assert_eq!(
            first(&r).unwrap(),
            "the DUT gave up on vodafone-uk-1 (the 1st attempt) after 30 s, the oracle expects it to wait on it for ever: network never answers"
        );
        let mut r = m5(Verdict::Fail, vec![seen("vodafone-uk-1", 0, 40.0, None, "connected")]);
        r.expected = vec![bar("vodafone-uk-1", 0, 0, Some(1550), "connected")];
        let mut late = check("time_to_winner", Status::Fail, "within 60 s", "65 s");
        (late.measured_ms, late.limit_ms) = (Some(65_000.0), Some(60_000.0));
        r.checks = vec![check("report", Status::Fail, "a report through vodafone-uk-1", "no report"), late];
        assert_eq!(
            first(&r).unwrap(),
            "the attempts followed the expected path, but the win came after 65 s, later than the 60 s the oracle allows"
        );
        r.checks.pop();
        assert_eq!(
            first(&r).unwrap(),
            "the attempts followed the expected path, but report failed: expected a report through vodafone-uk-1, observed no report"
        );
    }

    #[test]
    fn a_card_out_of_its_slot_nobody_saw_tried_is_left_out() {
        let mut r = m5(
            Verdict::Fail,
            vec![master_given_up(), seen("telstra-au-1", 3, 1040.0, Some(2040.0), "given up")],
        );
        r.out_of_slot = vec![1];
        assert_eq!(
            first(&r).unwrap(),
            "the DUT stopped after 2 attempts, the oracle expects a 3rd on docomo-jp-1 (0.624)"
        );
    }

    #[test]
    fn ordinals_read_as_english() {
        let words: Vec<String> =
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].into_iter().map(ordinal).collect();
        assert_eq!(
            words,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th"]
        );
    }
}
