//! `--retry-errors N`: a scenario whose run ended in a bench ERROR runs again, up to N more
//! times; one that FAILed never does (the firmware's fault is not retried away). Every try is
//! kept: the earlier ones in [`ScenarioResult::retried`], the reports show them as reruns.

use std::time::Duration;

use super::stop::Stop;
use super::{ScenarioResult, Verdict};

/// One try that ended in ERROR and was run again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RetriedTry {
    /// The bench error it ended with.
    pub reason: String,
    pub wall: Duration,
}

/// Runs `once` and, while it ends in ERROR, again — at most `retries` more times, and not once
/// a stop was asked for. The last try's result, with the earlier tries in `retried`.
pub fn with_retries(retries: u32, stop: &Stop, mut once: impl FnMut() -> ScenarioResult) -> ScenarioResult {
    let mut earlier = Vec::new();
    loop {
        let mut result = once();
        let again = earlier.len() < retries as usize && stop.requested().is_none();
        match &result.verdict {
            Verdict::Error(reason) if again => {
                tracing::warn!(scenario = %result.scenario, "bench error, trying again: {reason}");
                earlier.push(RetriedTry { reason: reason.clone(), wall: result.wall });
            }
            _ => {
                result.retried = earlier;
                return result;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tries(verdicts: Vec<Verdict>, retries: u32) -> (ScenarioResult, usize) {
        let mut left = verdicts.into_iter();
        let mut ran = 0;
        let result = with_retries(retries, &Stop::default(), || {
            ran += 1;
            ScenarioResult::ended("s", left.next().unwrap(), Duration::from_millis(5))
        });
        (result, ran)
    }

    #[test]
    fn an_error_runs_again_until_it_does_not_error_or_the_retries_are_spent() {
        let error = || Verdict::Error("reader vanished".into());
        let (r, ran) = tries(vec![error(), Verdict::Pass], 2);
        assert_eq!((r.verdict, ran, r.retried.len()), (Verdict::Pass, 2, 1));
        assert_eq!(r.retried[0].reason, "reader vanished");
        let (r, ran) = tries(vec![error(), error(), error(), Verdict::Pass], 2);
        assert_eq!((ran, r.retried.len()), (3, 2));
        assert!(matches!(r.verdict, Verdict::Error(_)));
        let (r, ran) = tries(vec![error()], 0);
        assert_eq!((ran, r.retried.len()), (1, 0));
    }

    #[test]
    fn a_failure_is_never_retried() {
        let (r, ran) = tries(vec![Verdict::Fail, Verdict::Pass], 3);
        assert_eq!((r.verdict, ran), (Verdict::Fail, 1));
        let (r, ran) = tries(vec![Verdict::Error("pcscd hung".into()), Verdict::Fail, Verdict::Pass], 3);
        assert_eq!((r.verdict, ran, r.retried.len()), (Verdict::Fail, 2, 1));
    }

    #[test]
    fn a_stop_ends_the_retries() {
        let stop = Stop::default();
        let mut ran = 0;
        let r = with_retries(5, &stop, || {
            ran += 1;
            stop.request(15);
            ScenarioResult::ended("s", Verdict::Error("stopped".into()), Duration::ZERO)
        });
        assert_eq!((ran, r.retried.len()), (1, 0));
    }
}
