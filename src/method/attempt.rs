//! One connection attempt: what the network and card do (`attempt`), and how the firmware
//! judges it under each judgement mode (`judge`, docs/method.md §3–4).

use super::view::SeedView;
use crate::model::{FaultKind, Judgement};

/// How long a modem waits for a SIM that does not answer before it reports a SIM failure
/// (nominal): the work waiting time of ISO 7816-3 with the default WI = 10 at 3.57 MHz is about
/// 1 s, and modems try once more before giving up.
pub const CARD_GIVE_UP_MS: u64 = 2_000;
/// The work waiting time itself (nominal).
pub const CARD_WWT_MS: u64 = 1_000;

/// What happens when the DUT tries a seed, before the firmware judges it. Times are nominal
/// milliseconds from the start of the attempt, and are upper bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// Authentication, registration, context and data all succeed.
    Connects { after_ms: u64 },
    /// The modem or network answers with a definite failure, at `after_ms` at the latest and
    /// not before `earliest_ms` (equal for a network's answer, whose latencies are known; a
    /// modem gives up on a silent card somewhere between the work waiting time and its
    /// give-up time; a card fault seen at once can be seen at any moment).
    Explicit { after_ms: u64, earliest_ms: u64, reason: String },
    /// Nothing ever answers.
    Silent { reason: String },
}

/// The firmware's verdict on one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judged {
    Connected {
        after_ms: u64,
    },
    Failed {
        after_ms: u64,
        /// The earliest a correct firmware can come to this verdict.
        earliest_ms: u64,
        explicit: bool,
        /// The explicit answer may come before T or after it (its window straddles T, under
        /// `both`): judged explicitly when it comes by T, else at T; either is right.
        either_way: bool,
        reason: String,
    },
    /// `result` judgement waiting for an answer that never comes.
    Stalled {
        reason: String,
    },
}

impl Judged {
    pub fn connected(&self) -> bool {
        matches!(self, Judged::Connected { .. })
    }

    /// How a failed attempt is judged; `None` for a connect or a stall.
    pub fn how(&self) -> Option<JudgedHow> {
        match self {
            Judged::Failed { either_way: true, .. } => Some(JudgedHow::Either),
            Judged::Failed { explicit: true, .. } => Some(JudgedHow::Explicit),
            Judged::Failed { .. } => Some(JudgedHow::AtT),
            _ => None,
        }
    }
}

/// How a correct firmware judges a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgedHow {
    /// On the network's or the modem's explicit answer.
    Explicit,
    /// At T, on its own timer.
    AtT,
    /// Either: the answer's window straddles T.
    Either,
}

impl JudgedHow {
    pub fn describe(self) -> &'static str {
        match self {
            JudgedHow::Explicit => "failed explicit",
            JudgedHow::AtT => "failed at T",
            JudgedHow::Either => "failed explicit or at T",
        }
    }

    /// Whether a judgement the DUT says was explicit (or not) is this kind.
    pub fn accepts(self, explicit: bool) -> bool {
        match self {
            JudgedHow::Explicit => explicit,
            JudgedHow::AtT => !explicit,
            JudgedHow::Either => true,
        }
    }
}

/// Walks the attach steps in the order a modem does them; the first step that fails decides.
pub fn attempt(seed: &SeedView) -> AttemptResult {
    let has = |pred: fn(&FaultKind) -> bool| seed.faults.iter().find(|f| pred(f));
    let explicit =
        |after_ms: u64, reason: String| AttemptResult::Explicit { after_ms, earliest_ms: after_ms, reason };
    let at_once = |after_ms: u64, reason: &str| AttemptResult::Explicit {
        after_ms,
        earliest_ms: 0,
        reason: reason.to_owned(),
    };
    // The modem waits at least the work waiting time for a silent card, and gives up by
    // CARD_GIVE_UP_MS.
    let card_gives_up = |before_ms: u64, reason: &str| AttemptResult::Explicit {
        after_ms: before_ms + CARD_GIVE_UP_MS,
        earliest_ms: before_ms + CARD_WWT_MS,
        reason: reason.to_owned(),
    };
    let silent = |reason: &str| AttemptResult::Silent { reason: reason.to_owned() };

    // The card, before anything reaches the network.
    if has(|f| matches!(f, FaultKind::Pulled)).is_some() {
        return at_once(0, "no card in the slot");
    }
    if has(|f| matches!(f, FaultKind::BadAtr)).is_some() {
        return at_once(0, "card answers reset with an unusable ATR");
    }
    if has(|f| matches!(f, FaultKind::PinLocked)).is_some() {
        return at_once(0, "card demands a PIN");
    }
    // The bounce may come at any moment of its rhythm, but no later than `up_ms`.
    if let Some(FaultKind::Flaky { up_ms, .. }) = has(|f| matches!(f, FaultKind::Flaky { .. })) {
        return at_once(*up_ms, "card contact bounced out");
    }
    // A card that does not answer is a SIM failure the modem reports (+CPIN: NOT READY).
    if has(|f| matches!(f, FaultKind::Mute)).is_some() {
        return card_gives_up(0, "card does not answer: SIM failure");
    }
    // The radio.
    let Some(cell) = &seed.best else {
        return silent("no usable cell");
    };
    if has(|f| matches!(f, FaultKind::Silent)).is_some() {
        return silent("network never answers");
    }
    if has(|f| matches!(f, FaultKind::NoCoverage)).is_some() {
        return silent("no coverage for this seed");
    }
    let timing = cell.timing;
    if has(|f| matches!(f, FaultKind::CorruptImsi)).is_some() {
        return explicit(timing.auth_ms, "network does not know the IMSI (EMM cause 2)".into());
    }
    let card_delay = match has(|f| matches!(f, FaultKind::Slow { .. })) {
        // Beyond the work waiting time the modem gives up on AUTHENTICATE: no RES, so the
        // network rejects the authentication.
        Some(FaultKind::Slow { beyond_wwt: true, .. }) => {
            return card_gives_up(timing.auth_ms, "card too slow to AUTHENTICATE: authentication fails");
        }
        Some(FaultKind::Slow { delay_ms, .. }) => *delay_ms,
        _ => 0,
    };
    let mut t = timing.auth_ms + card_delay;
    if has(|f| matches!(f, FaultKind::CorruptAuth)).is_some() {
        return explicit(t, "authentication rejected: wrong RES".into());
    }
    t += timing.register_ms;
    if let Some(FaultKind::SlowAttach { delay_ms }) = has(|f| matches!(f, FaultKind::SlowAttach { .. })) {
        t += delay_ms;
    }
    if let Some(FaultKind::Reject { cause }) = has(|f| matches!(f, FaultKind::Reject { .. })) {
        return explicit(t, format!("registration rejected, EMM cause {cause}"));
    }
    if has(|f| matches!(f, FaultKind::Expired)).is_some() {
        return explicit(
            t,
            format!("subscription expired: registration rejected, EMM cause {}", FaultKind::EXPIRED_CAUSE),
        );
    }
    t += timing.context_ms;
    if let Some(FaultKind::DialFail { cause }) = has(|f| matches!(f, FaultKind::DialFail { .. })) {
        return explicit(t, format!("context activation rejected, ESM cause {cause}"));
    }
    if has(|f| matches!(f, FaultKind::DataFail)).is_some() {
        return silent("no data reaches the backend");
    }
    AttemptResult::Connects { after_ms: t + timing.data_ms }
}

/// The firmware's verdict under `mode`, with attempt timeout `t_ms` (T). Whatever happens after
/// T does not count under `timeout` and `both`: by then the attempt was judged at T (a connect
/// or an explicit answer exactly at T still counts).
pub fn judge(result: &AttemptResult, mode: Judgement, t_ms: u64) -> Judged {
    let at_t = |reason: String| Judged::Failed {
        after_ms: t_ms,
        earliest_ms: t_ms,
        explicit: false,
        either_way: false,
        reason,
    };
    match (result, mode) {
        (AttemptResult::Connects { after_ms }, Judgement::Result) => {
            Judged::Connected { after_ms: *after_ms }
        }
        (AttemptResult::Connects { after_ms }, _) if *after_ms <= t_ms => {
            Judged::Connected { after_ms: *after_ms }
        }
        (AttemptResult::Connects { after_ms }, _) => {
            at_t(format!("would connect after {} but T is {}", fmt_ms(*after_ms), fmt_ms(t_ms)))
        }
        (AttemptResult::Explicit { after_ms, earliest_ms, reason }, Judgement::Result) => Judged::Failed {
            after_ms: *after_ms,
            earliest_ms: *earliest_ms,
            explicit: true,
            either_way: false,
            reason: reason.clone(),
        },
        // An answer that may come by T ends the attempt early; one that comes after T only
        // would be judged at T, like silence.
        (AttemptResult::Explicit { after_ms, earliest_ms, reason }, Judgement::Both) if *after_ms <= t_ms => {
            Judged::Failed {
                after_ms: *after_ms,
                earliest_ms: *earliest_ms,
                explicit: true,
                either_way: false,
                reason: reason.clone(),
            }
        }
        // The answer may come by T or after it: explicit when it comes by T, at T otherwise;
        // the latest is T.
        (AttemptResult::Explicit { after_ms, earliest_ms, reason }, Judgement::Both)
            if *earliest_ms < t_ms =>
        {
            Judged::Failed {
                after_ms: t_ms,
                earliest_ms: *earliest_ms,
                explicit: true,
                either_way: true,
                reason: format!(
                    "{reason} between {} and {}, T {} inside: explicit if by T, else at T",
                    fmt_ms(*earliest_ms),
                    fmt_ms(*after_ms),
                    fmt_ms(t_ms)
                ),
            }
        }
        (AttemptResult::Explicit { after_ms, reason, .. }, Judgement::Both) => {
            at_t(format!("{reason} after {}, beyond T; judged at T", fmt_ms(*after_ms)))
        }
        // Figure 4: only the clock decides, even when a reject came earlier.
        (AttemptResult::Explicit { reason, .. }, Judgement::Timeout) => {
            at_t(format!("{reason}; judged at T"))
        }
        (AttemptResult::Silent { reason }, Judgement::Result) => Judged::Stalled { reason: reason.clone() },
        (AttemptResult::Silent { reason }, _) => at_t(reason.clone()),
    }
}

/// Milliseconds as people read them: `850 ms`, `1.2 s`, `30 s`.
pub fn fmt_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        let s = format!("{:.3}", ms as f64 / 1000.0);
        format!("{} s", s.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::view::BestCell;
    use crate::model::{NetworkTiming, Rat};

    fn seed(faults: Vec<FaultKind>) -> SeedView {
        SeedView {
            id: "s".into(),
            slot: 0,
            best: Some(BestCell {
                carrier: "c".into(),
                rat: Rat::Lte,
                signal_dbm: -90.0,
                tariff: 0.01,
                label: None,
                timing: NetworkTiming { auth_ms: 300, register_ms: 700, context_ms: 400, data_ms: 150 },
            }),
            faults,
        }
    }

    #[test]
    fn healthy_seed_connects_after_all_four_steps() {
        assert_eq!(attempt(&seed(vec![])), AttemptResult::Connects { after_ms: 1550 });
    }

    #[test]
    fn reject_is_explicit_after_registration() {
        let r = attempt(&seed(vec![FaultKind::Reject { cause: 15 }]));
        assert_eq!(
            r,
            AttemptResult::Explicit {
                after_ms: 1000,
                earliest_ms: 1000,
                reason: "registration rejected, EMM cause 15".into()
            }
        );
        assert!(matches!(
            judge(&r, Judgement::Both, 30_000),
            Judged::Failed { after_ms: 1000, explicit: true, .. }
        ));
        assert!(matches!(judge(&r, Judgement::Timeout, 30_000), Judged::Failed { after_ms: 30_000, .. }));
    }

    #[test]
    fn silence_stalls_result_mode_and_fails_at_t_otherwise() {
        let r = attempt(&seed(vec![FaultKind::Silent]));
        assert!(matches!(judge(&r, Judgement::Result, 30_000), Judged::Stalled { .. }));
        assert!(matches!(
            judge(&r, Judgement::Both, 30_000),
            Judged::Failed { after_ms: 30_000, explicit: false, .. }
        ));
    }

    #[test]
    fn slow_attach_beyond_t_fails_under_timeout_but_connects_under_result() {
        let r = attempt(&seed(vec![FaultKind::SlowAttach { delay_ms: 40_000 }]));
        assert_eq!(r, AttemptResult::Connects { after_ms: 41_550 });
        assert!(judge(&r, Judgement::Result, 30_000).connected());
        assert!(!judge(&r, Judgement::Both, 30_000).connected());
    }

    #[test]
    fn under_both_an_answer_after_t_is_judged_at_t_and_one_at_t_still_counts() {
        // Reject after auth 300 + register 700 + slow_attach: at 2.26 s with T = 2 s.
        let late =
            attempt(&seed(vec![FaultKind::SlowAttach { delay_ms: 1260 }, FaultKind::Reject { cause: 15 }]));
        let j = judge(&late, Judgement::Both, 2000);
        assert!(
            matches!(&j, Judged::Failed { after_ms: 2000, earliest_ms: 2000, explicit: false, reason, .. }
            if reason == "registration rejected, EMM cause 15 after 2.26 s, beyond T; judged at T"),
            "{j:?}"
        );
        // The same answer exactly at T ends the attempt on the answer.
        let on_time =
            attempt(&seed(vec![FaultKind::SlowAttach { delay_ms: 1000 }, FaultKind::Reject { cause: 15 }]));
        assert!(matches!(
            judge(&on_time, Judgement::Both, 2000),
            Judged::Failed { after_ms: 2000, explicit: true, .. }
        ));
        // `result` waits for the late answer.
        assert!(matches!(
            judge(&late, Judgement::Result, 2000),
            Judged::Failed { after_ms: 2260, explicit: true, .. }
        ));
    }

    #[test]
    fn an_answer_whose_window_straddles_t_may_be_judged_either_way() {
        // A card too slow for AUTHENTICATE: the modem gives up between auth + 1 s and auth + 2 s
        // (1.3 s and 2.3 s); with T = 2 s inside that window the answer may come before T
        // (explicit) or after it (judged at T). Either is right, from 1.3 s until T.
        let slow = attempt(&seed(vec![FaultKind::Slow { delay_ms: 5000, beyond_wwt: true }]));
        let j = judge(&slow, Judgement::Both, 2000);
        assert!(
            matches!(&j, Judged::Failed { after_ms: 2000, earliest_ms: 1300, either_way: true, .. }),
            "{j:?}"
        );
        assert_eq!(j.how(), Some(JudgedHow::Either));
        assert!(JudgedHow::Either.accepts(true) && JudgedHow::Either.accepts(false));
        // With T beyond the window, the answer always comes first: explicit only.
        let j = judge(&slow, Judgement::Both, 30_000);
        assert_eq!(j.how(), Some(JudgedHow::Explicit));
        // With T before the window, it never does: at T only.
        let j = judge(&slow, Judgement::Both, 1000);
        assert_eq!(j.how(), Some(JudgedHow::AtT));
    }

    #[test]
    fn a_silent_card_is_given_up_on_between_the_wwt_and_the_give_up_time() {
        let mute = attempt(&seed(vec![FaultKind::Mute]));
        assert!(
            matches!(mute, AttemptResult::Explicit { after_ms: 2000, earliest_ms: 1000, .. }),
            "{mute:?}"
        );
        let slow = attempt(&seed(vec![FaultKind::Slow { delay_ms: 5000, beyond_wwt: true }]));
        assert!(
            matches!(slow, AttemptResult::Explicit { after_ms: 2300, earliest_ms: 1300, .. }),
            "{slow:?}"
        );
        let pulled = attempt(&seed(vec![FaultKind::Pulled]));
        assert!(matches!(pulled, AttemptResult::Explicit { after_ms: 0, earliest_ms: 0, .. }));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_ms(850), "850 ms");
        assert_eq!(fmt_ms(1550), "1.55 s");
        assert_eq!(fmt_ms(30_000), "30 s");
    }
}
