//! The scenario runner: one scenario on a bench, from bring-up to verdict.
//!
//! Decide whether the bench can run it at all (else: skipped, with the reason), bring the bench
//! up through its [`Station`], start the DUT over its console, collect evidence on the rig's one
//! clock until the outcome is in (or the scenario's deadline), evaluate the named checks, and
//! take the bench down whatever happened. A scenario ends as pass, fail (the firmware did
//! wrong), error (the bench broke) or skipped (the bench cannot run it); errors are never
//! passes or failures. The runner knows benches only through [`Bench`].

pub mod checks;
pub mod divergence;
pub mod lag;
pub mod partition;
pub mod ranking;
pub mod received;
pub mod repeat;
pub mod retry;
pub mod stop;
pub mod timeline;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench::error::Overload;
use crate::bench::evidence::{Evidence, StepKind};
use crate::bench::{Bench, BenchError, Station};
use crate::console::Event;
use crate::console::reader::ConsoleReader;
use crate::method::oracle::{Expected, Outcome};
use crate::method::{ScenarioView, expect, expect_ranked, near_tie_rankings};
use crate::model::{Catalog, Rig, Scenario};
use checks::{Check, Input, Status, evaluate};
use received::Received;

/// How long (real) the DUT may take to answer `status`.
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// Real-time slack on top of the scenario's own (scaled) deadline, for process start-up.
const DEADLINE_SLACK: Duration = Duration::from_secs(5);
/// Real-time slack after an expected exhaustion's last bound, for a console that does not say
/// `exhausted` (the bench decides then).
const EXHAUSTION_SLACK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// The firmware did wrong: the failing checks say how.
    Fail,
    /// The bench broke: which part and how.
    Error(String),
    /// The bench cannot run this scenario: why.
    Skipped(String),
}

/// One scenario's result; serializable whole, so that results of several processes (`--jobs`)
/// can be merged.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ScenarioResult {
    pub scenario: String,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    /// The run's length in nominal time.
    pub nominal_ms: f64,
    pub wall: Duration,
    /// Wall time minus the firmware's own run (start → outcome → settle period): the rig's
    /// overhead (bring-up, boot, checks, tear-down).
    pub overhead: Option<Duration>,
    /// The rig's measured time to winner minus the network's ground truth (ms, real).
    pub timing_error_ms: Option<f64>,
    /// How late the rig itself ran at worst during the firmware's run (ms, real).
    #[serde(default)]
    pub rig_lag_ms: Option<f64>,
    /// Over every run of the scenario, when it was repeated (`--repeat`).
    #[serde(default)]
    pub repeat: Option<repeat::RepeatStats>,
    pub timeline: serde_json::Value,
    /// The oracle's expected attempts (the expectation the checks were judged against), for
    /// the timeline pages; empty where the scenario never ran, and in older results.
    #[serde(default)]
    pub expected: Vec<ExpectedBar>,
    /// The attempts as the bench saw them (the card side; the console only where the card side
    /// cannot see), in order, for the timeline pages; empty where the scenario never ran.
    #[serde(default)]
    pub observed: Vec<ObservedBar>,
    /// Slots whose cards are out of their slots (pulled, or bouncing) in this scenario: the
    /// card side cannot see them tried, so the pages leave them out of what they compare.
    #[serde(default)]
    pub out_of_slot: Vec<u8>,
    /// Earlier tries of this run that ended in a bench ERROR and were run again
    /// (`--retry-errors`), oldest first; this result is the last try.
    #[serde(default)]
    pub retried: Vec<retry::RetriedTry>,
    /// The oracle's ranking table (as `explain` prints it) in the order the run was judged
    /// against, for the pages; empty where the scenario never ran.
    #[serde(default)]
    pub ranking: Vec<ranking::RankingRow>,
    /// Where the run first left the expected path, in one sentence ([`divergence::first`]).
    #[serde(default)]
    pub divergence: Option<String>,
    /// Where the verdict is an ERROR the bench gave: the part and its cause, named
    /// ([`BenchError::kind`]: `pcscd_died`, `dut_console`, `hook`, ...) for tools that sort
    /// errors; the verdict's reason is its message. `None` otherwise, and in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// That error itself, in the process that ran the scenario (not serialised).
    #[serde(skip)]
    pub error: Option<Arc<BenchError>>,
    /// What the bench received, as received, on the rig's clock (the card trace and the logs
    /// beside the page); `None` where the scenario never ran on a bench, and in older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Received>,
}

/// One attempt as the bench saw it, as the timeline pages draw it. Nominal ms from the DUT's
/// start.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ObservedBar {
    pub seed: String,
    pub slot: u8,
    pub starts_at_ms: f64,
    /// When the DUT gave it up; `None` while it still ran when the rig stopped watching.
    pub ends_at_ms: Option<f64>,
    /// `connected` (data went through it), `given up`, or `open`.
    pub ended: String,
    /// `card side`, `console` (a card out of its slot, as the console claims it) or `inferred`
    /// (a card out of its slot the console does not mention, between the attempts around it).
    pub source: String,
}

impl ObservedBar {
    pub fn all(i: &checks::Input, o: &checks::observed::Observed) -> Vec<ObservedBar> {
        use checks::observed::Source;
        let ms = |at: Duration| {
            (i.scale.nominal_ms(at.saturating_sub(i.evidence.started_at)) * 10.0).round() / 10.0
        };
        o.attempts
            .iter()
            .map(|a| {
                let ended = match a.ended {
                    _ if i.won_through(a.slot) => "connected",
                    Some(_) => "given up",
                    None => "open",
                };
                ObservedBar {
                    seed: i.seed_of_slot(a.slot),
                    slot: a.slot,
                    starts_at_ms: ms(a.began),
                    ends_at_ms: a.ended.map(ms),
                    ended: ended.to_owned(),
                    source: match a.source {
                        Source::Card => "card side",
                        Source::Console => "console",
                        Source::Inferred => "inferred",
                    }
                    .to_owned(),
                }
            })
            .collect()
    }
}

/// One attempt the oracle expects, as the timeline pages draw it. Nominal ms from the DUT's
/// start; `earliest_ms` and `bound_ms` count from `starts_at_ms`, as the oracle's do.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExpectedBar {
    pub seed: String,
    pub slot: u8,
    pub master: bool,
    pub starts_at_ms: u64,
    /// When it is judged (connected or failed); `None` for a stall, which never ends.
    pub ends_at_ms: Option<u64>,
    pub earliest_ms: Option<u64>,
    pub bound_ms: Option<u64>,
    /// `connected`, `failed explicit`, `failed at T` or `stalled`.
    pub judged: String,
    pub reason: String,
}

impl ExpectedBar {
    pub fn all(expected: &Expected) -> Vec<ExpectedBar> {
        use crate::method::{ExpectedAttempt, Judged};
        let bar = |a: &ExpectedAttempt| {
            let (ends, judged, reason) = match &a.judged {
                Judged::Connected { after_ms } => {
                    (Some(a.starts_at_ms + after_ms), "connected", String::new())
                }
                Judged::Failed { after_ms, reason, .. } => {
                    let how = a.judged.how().map_or("failed", |h| h.describe());
                    (Some(a.starts_at_ms + after_ms), how, reason.clone())
                }
                Judged::Stalled { reason } => (None, "stalled", reason.clone()),
            };
            ExpectedBar {
                seed: a.seed.clone(),
                slot: a.slot,
                master: a.is_master,
                starts_at_ms: a.starts_at_ms,
                ends_at_ms: ends,
                earliest_ms: a.earliest_ms,
                bound_ms: a.bound_ms,
                judged: judged.to_owned(),
                reason,
            }
        };
        expected.attempts.iter().map(bar).collect()
    }
}

impl ScenarioResult {
    pub fn ended(scenario: &str, verdict: Verdict, wall: Duration) -> ScenarioResult {
        ScenarioResult {
            scenario: scenario.to_owned(),
            verdict,
            checks: Vec::new(),
            nominal_ms: 0.0,
            wall,
            overhead: None,
            timing_error_ms: None,
            rig_lag_ms: None,
            repeat: None,
            timeline: serde_json::Value::Null,
            expected: Vec::new(),
            observed: Vec::new(),
            out_of_slot: Vec::new(),
            retried: Vec::new(),
            ranking: Vec::new(),
            divergence: None,
            error_kind: None,
            error: None,
            received: None,
        }
    }

    fn error(scenario: &str, error: BenchError, wall: Duration) -> ScenarioResult {
        let mut result = ScenarioResult::ended(scenario, Verdict::Error(error.to_string()), wall);
        result.error_kind = Some(error.kind().to_owned());
        result.error = Some(Arc::new(error));
        result
    }

    /// One line per failing check, with expected and observed values.
    pub fn failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.failed())
            .map(|c| format!("{}: expected {}, observed {}", c.name, c.expected, c.observed))
            .collect()
    }
}

pub struct RunOptions {
    /// The reference firmware (the virtual bench's DUT).
    pub firmware_binary: PathBuf,
    /// A deliberately wrong firmware behaviour (self-test).
    pub fault: Option<String>,
    /// Breaks the bench on purpose, for the rig's own tests of error handling.
    pub sabotage: Option<Sabotage>,
    /// Set by a signal handler: the scenario under way ends as an error, the bench comes down.
    pub stop: stop::Stop,
}

/// A way to break the bench mid-run.
#[derive(Debug, Clone, Copy)]
pub enum Sabotage {
    /// Kill pcscd this long (real time) after the firmware was started.
    KillPcscdAfter(Duration),
    /// Stop pcscd (SIGSTOP: it hangs, answering nothing) this long after the firmware started.
    FreezePcscdAfter(Duration),
}

/// Runs scenarios one after the other on one bench (a lab bench's ports and boards stay open
/// between scenarios).
pub struct Runner<'a> {
    catalog: &'a Catalog,
    rig: &'a Rig,
    options: &'a RunOptions,
    station: Station,
}

impl<'a> Runner<'a> {
    pub fn new(catalog: &'a Catalog, rig: &'a Rig, options: &'a RunOptions) -> Runner<'a> {
        let station = Station::new(rig, options.firmware_binary.clone(), options.fault.clone());
        Runner { catalog, rig, options, station }
    }

    /// Brings up what the station keeps across scenarios (a virtual bench's pcscd with every
    /// seed's card) before the first one; a failure here shows again, as an error, in the
    /// first scenario that needs it.
    pub async fn warm_up(&mut self) -> Result<(), BenchError> {
        match &mut self.station {
            Station::Virtual(s) => s.warm_up(self.catalog).await,
            Station::Lab(_) => Ok(()),
        }
    }

    pub async fn run(&mut self, scenario: &Scenario) -> ScenarioResult {
        let wall = Instant::now();
        if let Some(why) = crate::bench::plan::cannot_run(self.catalog, self.rig, scenario) {
            return ScenarioResult::ended(&scenario.id, Verdict::Skipped(why), wall.elapsed());
        }
        let Some(view) = ScenarioView::from_catalog(self.catalog, scenario) else {
            return ScenarioResult::error(&scenario.id, BenchError::FixturesUnresolved, wall.elapsed());
        };
        let expected = expect(&view);
        let run = Run { catalog: self.catalog, scenario, expected: &expected, options: self.options, wall };
        match &mut self.station {
            Station::Virtual(s) => match s.up(self.catalog, scenario, self.rig).await {
                Ok(bench) => run.on(bench).await,
                Err(e) => run.error(BenchError::NotUp(Box::new(e))),
            },
            Station::Lab(s) => {
                let result = match s.up(self.catalog, scenario).await {
                    Ok(bench) => run.on(bench).await,
                    Err(e) => run.error(BenchError::NotUp(Box::new(e))),
                };
                // After an ERROR nothing is known of the DUT: the next scenario starts it cold.
                s.scenario_ended(matches!(result.verdict, Verdict::Error(_)));
                result
            }
        }
    }
}

/// Runs one scenario on a bench that is already up (any [`Bench`]: a fake one in tests), and
/// takes it down.
pub async fn run_on<B: Bench>(
    catalog: &Catalog,
    scenario: &Scenario,
    options: &RunOptions,
    bench: B,
) -> ScenarioResult {
    let wall = Instant::now();
    let Some(view) = ScenarioView::from_catalog(catalog, scenario) else {
        bench.down().await;
        return ScenarioResult::error(&scenario.id, BenchError::FixturesUnresolved, wall.elapsed());
    };
    let expected = expect(&view);
    Run { catalog, scenario, expected: &expected, options, wall }.on(bench).await
}

/// Runs one scenario on `rig` (a fresh [`Runner`]).
pub async fn run_scenario(
    catalog: &Catalog,
    scenario: &Scenario,
    rig: &Rig,
    options: &RunOptions,
) -> ScenarioResult {
    Runner::new(catalog, rig, options).run(scenario).await
}

/// One scenario's run on a bench that is up.
struct Run<'a> {
    catalog: &'a Catalog,
    scenario: &'a Scenario,
    expected: &'a Expected,
    options: &'a RunOptions,
    wall: Instant,
}

impl Run<'_> {
    fn error(&self, error: BenchError) -> ScenarioResult {
        ScenarioResult::error(&self.scenario.id, error, self.wall.elapsed())
    }

    async fn on<B: Bench>(self, mut bench: B) -> ScenarioResult {
        let result = match self.oracle_for(&bench) {
            Ok(oracle) => match ConsoleReader::new(bench.console_format()) {
                Ok(console) => {
                    let mut d = Driver {
                        bench: &mut bench,
                        console,
                        stop: self.options.stop.clone(),
                        sabotage: self.options.sabotage,
                        started: None,
                        started_at: None,
                        awaiting_outcome: false,
                        outcome_in: false,
                        broke: Vec::new(),
                    };
                    let lag = lag::LagMeter::start();
                    match d.drive(self.scenario, &oracle.expected[0]).await {
                        Ok(times) => {
                            let (console, broke) = (d.console, d.broke);
                            self.judge(&bench, &oracle, console, broke, times, lag.worst())
                        }
                        // The scenario is an error, but what the bench saw until then is kept:
                        // the timeline is the first thing to read about a broken run.
                        Err(error) => {
                            let started_at = d.started_at;
                            let (console, broke) = (d.console, d.broke);
                            self.error_with_timeline(&bench, &oracle, console, broke, started_at, error)
                        }
                    }
                }
                Err(cause) => self.error(BenchError::ConsolePattern { cause }),
            },
            Err(error) => self.error(error),
        };
        bench.down().await;
        result
    }

    /// An error, with the timeline of what the bench saw before it (times from the DUT's start,
    /// or from the bench's bring-up when the DUT never started).
    fn error_with_timeline<B: Bench>(
        &self,
        bench: &B,
        oracle: &Oracle,
        console: ConsoleReader,
        broke: Vec<(Duration, Arc<BenchError>)>,
        started_at: Option<Duration>,
        error: BenchError,
    ) -> ScenarioResult {
        let evidence = gathered(bench, &console, broke, started_at.unwrap_or_default(), None);
        let catalog = oracle.catalog.as_ref().unwrap_or(self.catalog);
        let input = Input {
            catalog,
            scenario: self.scenario,
            expected: &oracle.expected[0],
            scale: bench.scale(),
            evidence: &evidence,
        };
        let mut result = self.error(error);
        result.timeline = timeline::build(&input, &console.noise);
        result.expected = ExpectedBar::all(&oracle.expected[0]);
        let observed = checks::observed::Observed::derive(&input);
        result.observed = ObservedBar::all(&input, &observed);
        result.out_of_slot = observed.unseen_slots;
        result.received = Some(Received::gather(&input, &console, bench.clock(), started_at.is_some()));
        result.ranking = ranking::RankingRow::of(catalog, self.scenario, &oracle.expected[0].ranking);
        result.divergence = divergence::first(&result);
        result
    }

    /// What the oracle expects on this bench: from the fixture's site, or — on a bench that
    /// measured its network — from the cells it heard, with every order of near-tied standbys.
    fn oracle_for<B: Bench>(&self, bench: &B) -> Result<Oracle, BenchError> {
        let Some((site, margin)) = bench.measured_site() else {
            return Ok(Oracle { catalog: None, expected: vec![self.expected.clone()], margin: None });
        };
        let mut catalog = self.catalog.clone();
        catalog.sites.insert(site.id.clone(), site.clone());
        let view =
            ScenarioView::from_catalog(&catalog, self.scenario).ok_or(BenchError::MeasuredSiteUnresolved)?;
        let expected: Vec<Expected> = near_tie_rankings(&view, margin, MAX_NEAR_TIE_ORDERS)
            .into_iter()
            .map(|r| expect_ranked(&view, r))
            .collect();
        Ok(Oracle { catalog: Some(catalog), expected, margin: Some(margin) })
    }

    fn judge<B: Bench>(
        &self,
        bench: &B,
        oracle: &Oracle,
        console: ConsoleReader,
        broke: Vec<(Duration, Arc<BenchError>)>,
        times: Times,
        lag: Duration,
    ) -> ScenarioResult {
        let evidence = gathered(bench, &console, broke, times.started_at, Some(times.ended_at));
        let scale = bench.scale();
        let catalog = oracle.catalog.as_ref().unwrap_or(self.catalog);
        // The first expectation every check agrees with; else the oracle's own (the first).
        let judged: Vec<(usize, Vec<Check>)> = oracle
            .expected
            .iter()
            .enumerate()
            .map(|(n, expected)| {
                let input = Input { catalog, scenario: self.scenario, expected, scale, evidence: &evidence };
                (n, evaluate(&input))
            })
            .collect();
        let (chosen, mut checks) =
            judged.iter().find(|(_, c)| !c.iter().any(Check::failed)).unwrap_or(&judged[0]).clone();
        if oracle.expected.len() > 1
            && let (Some(margin), Some(order)) =
                (oracle.margin, checks.iter_mut().find(|c| c.name == "attempt_order"))
        {
            order.expected.push_str(&format!(
                " (measured ranking ambiguous: indices within {margin} count as tied; {} orders accepted)",
                oracle.expected.len()
            ));
        }
        let input = Input {
            catalog,
            scenario: self.scenario,
            expected: &oracle.expected[chosen],
            scale,
            evidence: &evidence,
        };
        let observed = checks::observed::Observed::derive(&input);
        let mut verdict = verdict(&checks, &evidence);
        let failed = matches!(verdict, Ok(Verdict::Fail));
        let failing = || checks.iter().filter(|c| c.failed()).map(|c| c.name.clone()).collect();
        // A timing check that failed only by less than the rig's own measured time (which the
        // cap at the tolerance did not allow in full) cannot blame the firmware: the rig ran late.
        // The checks' bounds allow the tolerance, scaled to real time; a rig later than that
        // may have failed a check on its own lateness.
        let tolerance = scale.ms(self.scenario.tolerance_ms);
        if failed && checks.iter().filter(|c| c.failed()).all(|c| rig_late(c, scale)) {
            verdict = Err(BenchError::Overloaded { failing: failing(), cause: Overload::RigTimeBeyondCap });
        } else if failed && lag > tolerance {
            verdict =
                Err(BenchError::Overloaded { failing: failing(), cause: Overload::Late { lag, tolerance } });
        }
        let (verdict, error) = match verdict {
            Ok(verdict) => (verdict, None),
            Err(e) => (Verdict::Error(e.to_string()), Some(e)),
        };
        let failover = times.finished_at.saturating_sub(times.started_at);
        let firmware_part = times.ended_at.saturating_sub(times.started_at);
        let elapsed = self.wall.elapsed();
        let mut result = ScenarioResult {
            scenario: self.scenario.id.clone(),
            verdict,
            nominal_ms: scale.nominal_ms(failover),
            timing_error_ms: timing_error(&evidence),
            rig_lag_ms: Some(lag.as_secs_f64() * 1000.0),
            repeat: None,
            // Bring-up, boot, checks and tear-down: everything but the firmware's own run (its
            // failover and the settle period the scenario asks to watch).
            overhead: Some(elapsed.saturating_sub(firmware_part)),
            wall: elapsed,
            timeline: timeline::build(&input, &console.noise),
            expected: ExpectedBar::all(&oracle.expected[chosen]),
            observed: ObservedBar::all(&input, &observed),
            out_of_slot: observed.unseen_slots.clone(),
            retried: Vec::new(),
            ranking: ranking::RankingRow::of(catalog, self.scenario, &oracle.expected[chosen].ranking),
            divergence: None,
            error_kind: error.as_ref().map(|e| e.kind().to_owned()),
            error: error.map(Arc::new),
            received: Some(Received::gather(&input, &console, bench.clock(), true)),
            checks,
        };
        result.divergence = divergence::first(&result);
        result
    }
}

/// What the bench saw, with what the runner saw of the console and the settle period.
fn gathered<B: Bench>(
    bench: &B,
    console: &ConsoleReader,
    broke: Vec<(Duration, Arc<BenchError>)>,
    started_at: Duration,
    until: Option<Duration>,
) -> Evidence {
    let mut evidence = bench.evidence();
    evidence.broke.extend(broke);
    evidence.started_at = started_at;
    evidence.observed_until = until;
    evidence.console_malformed = console.malformed.clone();
    evidence.console = console.events.clone();
    evidence
}

/// A failed timing check that the rig's whole measured time, had the cap not cut it, would have
/// passed: the lateness is the rig's, not the firmware's.
fn rig_late(c: &Check, scale: crate::clock::TimeScale) -> bool {
    match (c.measured_ms, c.limit_ms, c.rig_time_beyond_cap_ms) {
        (Some(measured), Some(limit), Some(wanted)) => {
            measured <= limit + scale.nominal_ms(Duration::from_secs_f64(wanted / 1000.0))
        }
        _ => false,
    }
}

/// Near-tied standbys on a measured site: at most this many orders are accepted.
const MAX_NEAR_TIE_ORDERS: usize = 24;

/// The oracle's expectations for one run on one bench.
struct Oracle {
    /// The fixtures with the scenario's site as measured, where the bench measured it.
    catalog: Option<Catalog>,
    /// The oracle's own expectation first, then those of other accepted orders.
    expected: Vec<Expected>,
    margin: Option<f64>,
}

/// Fail if any check failed, else pass; a bench part that broke during the settle period, or a
/// winner the bench could not confirm from a second source, is an error: nothing unproven
/// passes.
fn verdict(checks: &[Check], evidence: &Evidence) -> Result<Verdict, BenchError> {
    if let Some((_, what)) = evidence.broke.first() {
        return Err(BenchError::AfterOutcome(what.clone()));
    }
    if checks.iter().any(Check::failed) {
        return Ok(Verdict::Fail);
    }
    match checks.iter().find(|c| c.name == "winner" && c.status == Status::NotObservable) {
        Some(c) => Err(BenchError::WinnerUnconfirmed { observed: c.observed.clone() }),
        None => Ok(Verdict::Pass),
    }
}

/// When the DUT's run started and ended, on the rig clock.
struct Times {
    started_at: Duration,
    finished_at: Duration,
    /// After the settle period (or the status probe): the end of the firmware's part.
    ended_at: Duration,
}

/// The runner's side of one run: the bench, what the console said, and a pending sabotage.
struct Driver<'b, B: Bench> {
    bench: &'b mut B,
    console: ConsoleReader,
    stop: stop::Stop,
    sabotage: Option<Sabotage>,
    /// When the firmware was told to start (sabotage times count from here).
    started: Option<tokio::time::Instant>,
    /// The same moment on the rig clock.
    started_at: Option<Duration>,
    /// The outcome is being waited for: data through a seed ends the wait too.
    awaiting_outcome: bool,
    /// Set once `connected` or `exhausted` is in: a part breaking later is recorded (the run
    /// still ends as an error) so the checks and the timeline keep what was seen.
    outcome_in: bool,
    broke: Vec<(Duration, Arc<BenchError>)>,
}

impl<B: Bench> Driver<'_, B> {
    /// Starts the DUT and reads its console until the outcome is in, the deadline passes, or
    /// the bench breaks (`Err` names the part).
    async fn drive(&mut self, scenario: &Scenario, expected: &Expected) -> Result<Times, BenchError> {
        let boot = self.bench.boot_timeout();
        let booted = self.read_until(boot, |c| c.any(|e| matches!(e, Event::Boot { .. }))).await?;
        if !booted {
            return Err(BenchError::NoBoot { within: boot, output: self.bench.dut_output() });
        }
        // The run starts at the DUT's boot: anything before it is an earlier run's.
        if let Some(boot) = self.console.events.iter().rposition(|e| matches!(e.event, Event::Boot { .. })) {
            self.console.events.drain(..boot);
        }
        self.bench.console_send("start").await?;
        let started_at = self.bench.clock().now();
        self.started = Some(tokio::time::Instant::now());
        self.started_at = Some(started_at);
        let scale = self.bench.scale();
        // Without an outcome on the console the bench decides: data through a seed is a
        // connection; an expected exhaustion is over once its last judgement's bound and the
        // settle period have passed.
        let deadline = match expected.outcome {
            Outcome::Exhausted { at_ms, .. } => {
                scale.ms(at_ms + scenario.tolerance_ms + scenario.settle_ms) + EXHAUSTION_SLACK
            }
            _ => scale.ms(scenario.timeout_ms + scenario.settle_ms) + DEADLINE_SLACK,
        };
        let stalled = matches!(expected.outcome, Outcome::Stalled { .. });
        self.awaiting_outcome = true;
        let finished = if stalled {
            // Nothing ends a stall: watch for the scenario's whole timeout.
            self.read_until(scale.ms(scenario.timeout_ms), |_| false).await?;
            true
        } else {
            // The outcome is in at `connected` or `exhausted`, or when data went through a
            // seed; the settle period below still collects what follows a win (the VSIM
            // assignment, any switching).
            self.read_until(deadline, |c| {
                c.any(|e| matches!(e, Event::Connected { .. } | Event::Exhausted { .. }))
            })
            .await?
        };
        self.awaiting_outcome = false;
        let finished_at = self.bench.clock().now();
        self.outcome_in = finished;
        let won = self.console.any(|e| matches!(e, Event::Connected { .. }))
            || self.bench.data_delivered(started_at);
        if finished && !stalled && won {
            // Watch the settle period for switching.
            self.read_until(scale.ms(scenario.settle_ms), |_| false).await?;
        }
        let exhausted = matches!(expected.outcome, Outcome::Exhausted { .. });
        if !finished && !(exhausted && self.card_side_active(started_at)) && !self.answers_status().await? {
            return Err(BenchError::FirmwareHung { deadline, card_silent: exhausted });
        }
        // A part that broke since the last look (a card call that never returned while the
        // firmware carried on without the card, say) decides before any check does.
        if let Some(broken) = self.bench.broken() {
            if !self.outcome_in {
                return Err(broken);
            }
            self.broke.push((self.bench.clock().now(), Arc::new(broken)));
        }
        let ended_at = self.bench.clock().now();
        Ok(Times { started_at, finished_at, ended_at })
    }

    /// While the outcome is awaited (after `start`, before it is in): whether data went through
    /// a seed since the start — a connection, as the bench sees it.
    fn data_since_start(&self) -> bool {
        match (self.awaiting_outcome, self.started_at) {
            (true, Some(start)) => self.bench.data_delivered(start),
            _ => false,
        }
    }

    /// Whether the DUT touched a card after the start (it is alive, whatever its console says).
    fn card_side_active(&self, since: Duration) -> bool {
        let e = self.bench.evidence();
        e.card_events.iter().any(|c| c.at >= since) || e.apdus.iter().any(|a| a.at >= since)
    }

    /// Reads console lines until `done` (or data went through a seed), or `within` passes
    /// (Ok(false)), or the bench breaks.
    async fn read_until(
        &mut self,
        within: Duration,
        done: impl Fn(&ConsoleReader) -> bool,
    ) -> Result<bool, BenchError> {
        let until = tokio::time::Instant::now() + within;
        loop {
            if done(&self.console) || self.data_since_start() {
                return Ok(true);
            }
            if let Some(signal) = self.stop.requested() {
                return Err(BenchError::Interrupted { signal });
            }
            self.sabotage_if_due();
            if let Some(broken) = self.bench.broken() {
                if self.outcome_in {
                    self.broke.push((self.bench.clock().now(), Arc::new(broken)));
                    return Ok(false);
                }
                return Err(broken);
            }
            let poll =
                Duration::from_millis(200).min(until.saturating_duration_since(tokio::time::Instant::now()));
            if poll.is_zero() {
                return Ok(false);
            }
            let bytes = self.bench.console_read(poll).await?;
            if !bytes.is_empty() {
                self.console.push(self.bench.clock().now(), &bytes);
            }
        }
    }

    /// Carries out a due sabotage (once).
    fn sabotage_if_due(&mut self) {
        let (Some(sabotage), Some(started)) = (self.sabotage, self.started) else {
            return;
        };
        let (after, what) = match sabotage {
            Sabotage::KillPcscdAfter(after) => (after, crate::bench::Sabotage::KillPcscd),
            Sabotage::FreezePcscdAfter(after) => (after, crate::bench::Sabotage::FreezePcscd),
        };
        if started.elapsed() >= after {
            self.sabotage = None;
            tracing::warn!(?what, "sabotage");
            self.bench.sabotage(what);
        }
    }

    async fn answers_status(&mut self) -> Result<bool, BenchError> {
        let before = self.console.events.len();
        self.bench.console_send("status").await?;
        self.read_until(STATUS_TIMEOUT, |c| {
            c.events[before..].iter().any(|e| matches!(e.event, Event::Status(_)))
        })
        .await
    }
}

/// How late the rig saw the win: its stamp of the firmware's `connected` line minus the
/// network's ground truth of the last data delivered before it (both on the rig clock), in ms.
fn timing_error(e: &Evidence) -> Option<f64> {
    let connected =
        e.console.iter().find_map(|c| matches!(c.event, Event::Connected { .. }).then_some(c.at))?;
    let truth = e
        .network
        .as_ref()?
        .iter()
        .filter(|t| t.kind == StepKind::DataDelivered && t.at <= connected)
        .map(|t| t.at)
        .max()?;
    Some((connected.as_secs_f64() - truth.as_secs_f64()) * 1000.0)
}
