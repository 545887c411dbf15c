//! Judging one attempt (docs/method.md §4) as a pure function of what happened when, so the
//! running firmware and the tests share one rule.

use crate::method::attempt::fmt_ms;
use crate::model::Judgement;

/// What the attempt's steps came to, at a nominal time since the attempt began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// Registered, context up, and (unless a fault skips it) the backend answered.
    Connected,
    /// A definite failure: a reject with a cause, an error result, a card report.
    Explicit(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Connected { at_ms: u64 },
    Failed { at_ms: u64, explicit: bool, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judge {
    pub mode: Judgement,
    /// T, nominal; `None` when nothing ends an attempt on time (the `ignore-timeout` fault).
    pub t_ms: Option<u64>,
}

impl Judge {
    /// When silence fails the attempt; `None` under `result` (figure 3 has no timer).
    pub fn deadline_ms(&self) -> Option<u64> {
        if self.mode == Judgement::Result { None } else { self.t_ms }
    }

    /// The verdict, once `events` and the clock (`now_ms`) decide it; `None`: keep waiting.
    /// `waiting_for` names the step a silent attempt was stuck in, for the reason.
    pub fn decide(&self, events: &[(u64, Observed)], now_ms: u64, waiting_for: &str) -> Option<Verdict> {
        let t = self.deadline_ms();
        let mut rejected: Option<&str> = None;
        // Nothing that happens after T counts: by then the attempt was judged.
        for (at, ev) in events.iter().filter(|(at, _)| t.is_none_or(|t| *at <= t)) {
            match ev {
                Observed::Connected => return Some(Verdict::Connected { at_ms: *at }),
                // Figure 4: under `timeout` only the clock fails an attempt.
                Observed::Explicit(r) if self.mode == Judgement::Timeout => rejected = Some(r),
                Observed::Explicit(r) => {
                    return Some(Verdict::Failed { at_ms: *at, explicit: true, reason: r.clone() });
                }
            }
        }
        let t = t.filter(|t| now_ms >= *t)?;
        let reason = match rejected {
            Some(r) => format!("{r}; judged at T"),
            None => format!("no answer within T ({}) while waiting for {waiting_for}", fmt_ms(t)),
        };
        Some(Verdict::Failed { at_ms: t, explicit: false, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Judgement::{Both, Result, Timeout};

    const T: u64 = 30_000;

    fn judge(mode: Judgement) -> Judge {
        Judge { mode, t_ms: Some(T) }
    }

    fn reject(at: u64) -> (u64, Observed) {
        (at, Observed::Explicit("registration rejected, EMM cause 15".into()))
    }

    fn failed(at_ms: u64, explicit: bool) -> impl Fn(&Option<Verdict>) -> bool {
        move |v| matches!(v, Some(Verdict::Failed { at_ms: a, explicit: e, .. }) if *a == at_ms && *e == explicit)
    }

    #[test]
    fn an_explicit_reject_ends_result_and_both_early() {
        for mode in [Result, Both] {
            let v = judge(mode).decide(&[reject(1000)], 1000, "registration");
            assert!(failed(1000, true)(&v), "{mode:?}: {v:?}");
        }
    }

    #[test]
    fn under_timeout_a_reject_waits_for_t_and_is_not_explicit() {
        let j = judge(Timeout);
        assert_eq!(j.decide(&[reject(1000)], 1000, "registration"), None);
        assert_eq!(j.decide(&[reject(1000)], T - 1, "registration"), None);
        let v = j.decide(&[reject(1000)], T, "registration");
        assert!(failed(T, false)(&v), "{v:?}");
        let Some(Verdict::Failed { reason, .. }) = v else { unreachable!() };
        assert_eq!(reason, "registration rejected, EMM cause 15; judged at T");
    }

    #[test]
    fn silence_fails_at_t_except_under_result() {
        for mode in [Timeout, Both] {
            assert_eq!(judge(mode).decide(&[], T - 1, "registration"), None);
            let v = judge(mode).decide(&[], T, "registration (+CEREG)");
            assert!(failed(T, false)(&v), "{mode:?}: {v:?}");
            let Some(Verdict::Failed { reason, .. }) = v else { unreachable!() };
            assert_eq!(reason, "no answer within T (30 s) while waiting for registration (+CEREG)");
        }
        assert_eq!(judge(Result).decide(&[], 10 * T, "registration"), None, "figure 3 waits forever");
    }

    #[test]
    fn success_counts_only_within_t_except_under_result() {
        let late = [(T + 500, Observed::Connected)];
        assert_eq!(judge(Result).decide(&late, T + 500, "x"), Some(Verdict::Connected { at_ms: T + 500 }));
        for mode in [Timeout, Both] {
            assert!(failed(T, false)(&judge(mode).decide(&late, T + 500, "x")));
            let on_time = [(1550, Observed::Connected)];
            assert_eq!(judge(mode).decide(&on_time, 1550, "x"), Some(Verdict::Connected { at_ms: 1550 }));
        }
    }

    /// The same boundary as the oracle's (`method::attempt::judge`): under `both` an answer
    /// exactly at T still ends the attempt on the answer; one after T is judged at T.
    #[test]
    fn under_both_an_answer_after_t_is_judged_at_t() {
        let j = judge(Both);
        assert!(failed(T, true)(&j.decide(&[reject(T)], T, "registration")));
        let late = j.decide(&[reject(T + 260)], T + 260, "registration");
        assert!(failed(T, false)(&late), "{late:?}");
        // The oracle agrees on both sides of the edge.
        use crate::method::attempt::{AttemptResult, judge as oracle};
        let answer =
            |after_ms| AttemptResult::Explicit { after_ms, earliest_ms: after_ms, reason: "r".into() };
        assert!(matches!(
            oracle(&answer(T), Both, T),
            crate::method::Judged::Failed { after_ms: T, explicit: true, .. }
        ));
        assert!(matches!(
            oracle(&answer(T + 260), Both, T),
            crate::method::Judged::Failed { after_ms: T, explicit: false, .. }
        ));
    }

    #[test]
    fn without_t_nothing_ends_on_time() {
        let j = Judge { mode: Both, t_ms: None };
        assert_eq!(j.deadline_ms(), None);
        assert_eq!(j.decide(&[], u64::MAX, "x"), None);
        assert!(failed(1000, true)(&j.decide(&[reject(1000)], 1000, "x")), "explicit still ends `both`");
        let j = Judge { mode: Timeout, t_ms: None };
        assert_eq!(j.decide(&[reject(1000)], u64::MAX, "x"), None, "and `timeout` waits forever");
    }
}
