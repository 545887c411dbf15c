//! The scenario runner: one scenario on a bench, from bring-up to verdict.
//!
//! Bring the bench up (cards verified over PC/SC, faults applied), start the firmware, collect
//! evidence on the rig's one clock until the outcome is in (or the scenario's deadline), evaluate
//! the named checks, and take the bench down whatever happened. A scenario ends as pass, fail
//! (the firmware did wrong) or error (the bench broke); errors are never passes or failures.

pub mod checks;
pub mod evidence;
pub mod timeline;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::bench::virtual_bench::FirmwareLaunch;
use crate::bench::{VirtualBench, VirtualBenchOptions};
use crate::firmware::console::Event;
use crate::method::oracle::{Expected, Outcome};
use crate::method::{ScenarioView, expect};
use crate::model::{Catalog, Rig, RigKind, Scenario};
use checks::{Check, Observed, evaluate};
use evidence::ConsoleReader;

/// How long (real) the firmware may take to boot and to answer `status`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(10);
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
/// Real-time slack on top of the scenario's own (scaled) deadline, for process start-up.
const DEADLINE_SLACK: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// The firmware did wrong: the failing checks say how.
    Fail,
    /// The bench broke: which part and how.
    Error(String),
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
    pub timeline: serde_json::Value,
}

impl ScenarioResult {
    fn error(scenario: &str, reason: String, wall: Duration) -> ScenarioResult {
        ScenarioResult {
            scenario: scenario.to_owned(),
            verdict: Verdict::Error(reason),
            checks: Vec::new(),
            nominal_ms: 0.0,
            wall,
            overhead: None,
            timing_error_ms: None,
            timeline: serde_json::Value::Null,
        }
    }

    /// One line per failing check, with expected and observed values.
    pub fn failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: expected {}, observed {}", c.name, c.expected, c.observed))
            .collect()
    }
}

pub struct RunOptions {
    pub firmware_binary: PathBuf,
    /// A deliberately wrong firmware behaviour (self-test).
    pub fault: Option<String>,
    /// Breaks the bench on purpose, for the rig's own tests of error handling.
    pub sabotage: Option<Sabotage>,
}

/// A way to break the bench mid-run.
#[derive(Debug, Clone, Copy)]
pub enum Sabotage {
    /// Kill pcscd this long (real time) after the firmware was started.
    KillPcscdAfter(Duration),
}

/// Runs one scenario on `rig`.
pub async fn run_scenario(
    catalog: &Catalog,
    scenario: &Scenario,
    rig: &Rig,
    options: &RunOptions,
) -> ScenarioResult {
    let wall = Instant::now();
    if !matches!(rig.kind, RigKind::Virtual) {
        let reason =
            format!("bench {}: driving lab benches is not built yet; run on a virtual bench", rig.name);
        return ScenarioResult::error(&scenario.id, reason, wall.elapsed());
    }
    let Some(view) = ScenarioView::from_catalog(catalog, scenario) else {
        return ScenarioResult::error(
            &scenario.id,
            "fixtures: the scenario's references do not resolve".into(),
            wall.elapsed(),
        );
    };
    let expected = expect(&view);
    let launch = FirmwareLaunch { binary: options.firmware_binary.clone(), fault: options.fault.clone() };
    let mut bench = match VirtualBench::up(
        catalog,
        scenario,
        rig,
        VirtualBenchOptions { firmware: Some(launch), watch_observer: true },
    )
    .await
    {
        Ok(b) => b,
        Err(e) => {
            return ScenarioResult::error(
                &scenario.id,
                format!("bench did not come up: {e}"),
                wall.elapsed(),
            );
        }
    };
    let outcome = drive(&mut bench, scenario, &expected, options.sabotage).await;
    let result = match outcome {
        Ok(run) => judge(catalog, scenario, &expected, &bench, run, wall),
        Err(reason) => ScenarioResult::error(&scenario.id, reason, wall.elapsed()),
    };
    bench.down().await;
    result
}

/// What driving the firmware produced.
struct Drive {
    console: ConsoleReader,
    started_at: Duration,
    finished_at: Duration,
    /// After the settle period (or the status probe): the end of the firmware's part.
    ended_at: Duration,
}

/// Starts the firmware and reads its console until the outcome is in, the deadline passes, or
/// the bench breaks (`Err` names the part).
async fn drive(
    bench: &mut VirtualBench,
    scenario: &Scenario,
    expected: &Expected,
    sabotage: Option<Sabotage>,
) -> Result<Drive, String> {
    let mut s = Session { bench, console: ConsoleReader::default(), sabotage, started: None };
    let booted = s.read_until(BOOT_TIMEOUT, |c| c.any(|e| matches!(e, Event::Boot { .. }))).await?;
    if !booted {
        return Err(format!("firmware: no `boot` on its console within {BOOT_TIMEOUT:?}"));
    }
    s.bench.console_command("start").await.map_err(|e| format!("firmware console: {e}"))?;
    let started_at = s.bench.clock.now();
    s.started = Some(tokio::time::Instant::now());
    let scale = s.bench.scale;
    let deadline = scale.ms(scenario.timeout_ms + scenario.settle_ms) + DEADLINE_SLACK;
    let stalled = matches!(expected.outcome, Outcome::Stalled { .. });
    let finished = if stalled {
        // Nothing ends a stall: watch for the scenario's whole timeout.
        s.read_until(scale.ms(scenario.timeout_ms), |_| false).await?;
        true
    } else {
        // The outcome is in at `connected` or `exhausted`; the settle period below still
        // collects what follows a win (the VSIM assignment, any switching).
        s.read_until(deadline, |c| c.any(|e| matches!(e, Event::Connected { .. } | Event::Exhausted { .. })))
            .await?
    };
    let finished_at = s.bench.clock.now();
    if finished && !stalled && s.console.any(|e| matches!(e, Event::Connected { .. })) {
        // Watch the settle period for switching.
        s.read_until(scale.ms(scenario.settle_ms), |_| false).await?;
    }
    if !finished && !s.answers_status().await? {
        return Err(format!("firmware hung: no outcome within {deadline:?} and no answer to `status`"));
    }
    let ended_at = s.bench.clock.now();
    Ok(Drive { console: s.console, started_at, finished_at, ended_at })
}

/// The runner's side of one run: the bench, what the console said, and a pending sabotage.
struct Session<'b> {
    bench: &'b mut VirtualBench,
    console: ConsoleReader,
    sabotage: Option<Sabotage>,
    /// When the firmware was told to start (sabotage times count from here).
    started: Option<tokio::time::Instant>,
}

impl Session<'_> {
    /// Reads console lines until `done`, or `within` passes (Ok(false)), or the bench breaks.
    async fn read_until(
        &mut self,
        within: Duration,
        done: impl Fn(&ConsoleReader) -> bool,
    ) -> Result<bool, String> {
        let until = tokio::time::Instant::now() + within;
        let mut buf = [0u8; 4096];
        loop {
            if done(&self.console) {
                return Ok(true);
            }
            self.sabotage_if_due();
            if let Some(broken) = self.bench.broken() {
                return Err(broken);
            }
            let poll =
                Duration::from_millis(200).min(until.saturating_duration_since(tokio::time::Instant::now()));
            if poll.is_zero() {
                return Ok(false);
            }
            match tokio::time::timeout(poll, self.bench.console.read(&mut buf)).await {
                Ok(Ok(n)) => self.console.push(self.bench.clock.now(), &buf[..n]),
                Ok(Err(e)) => return Err(format!("firmware console: {e}")),
                Err(_) => {}
            }
        }
    }

    /// Carries out a due sabotage (once).
    fn sabotage_if_due(&mut self) {
        let (Some(Sabotage::KillPcscdAfter(after)), Some(started)) = (self.sabotage, self.started) else {
            return;
        };
        if started.elapsed() >= after {
            self.sabotage = None;
            if let Some(pcscd) = self.bench.pcscd_mut() {
                tracing::warn!("sabotage: killing pcscd");
                pcscd.kill();
            }
        }
    }

    async fn answers_status(&mut self) -> Result<bool, String> {
        let before = self.console.events.len();
        self.bench.console_command("status").await.map_err(|e| format!("firmware console: {e}"))?;
        self.read_until(STATUS_TIMEOUT, |c| {
            c.events[before..].iter().any(|e| matches!(e.event, Event::Status(_)))
        })
        .await
    }
}

fn judge(
    catalog: &Catalog,
    scenario: &Scenario,
    expected: &Expected,
    bench: &VirtualBench,
    run: Drive,
    wall: Instant,
) -> ScenarioResult {
    let apdus = bench.trace.apdus();
    let truth = bench.network.ground_truth();
    let reports = bench.backend.reports();
    let observed = Observed {
        catalog,
        scenario,
        expected,
        scale: bench.scale,
        started_at: run.started_at,
        console: &run.console.events,
        apdus: &apdus,
        truth: &truth,
        reports: &reports,
    };
    let checks = evaluate(&observed);
    let verdict = if checks.iter().all(|c| c.passed) { Verdict::Pass } else { Verdict::Fail };
    let failover = run.finished_at.saturating_sub(run.started_at);
    let firmware_part = run.ended_at.saturating_sub(run.started_at);
    let elapsed = wall.elapsed();
    ScenarioResult {
        scenario: scenario.id.clone(),
        verdict,
        nominal_ms: bench.scale.nominal_ms(failover),
        timing_error_ms: timing_error(&observed),
        // Bring-up, boot, checks and tear-down: everything but the firmware's own run (its
        // failover and the settle period the scenario asks to watch).
        overhead: Some(elapsed.saturating_sub(firmware_part)),
        wall: elapsed,
        timeline: timeline::build(
            &observed,
            &bench.trace.events(),
            &bench.observer.lock().map(|v| v.clone()).unwrap_or_default(),
        ),
        checks,
    }
}

/// How late the rig saw the win: its stamp of the firmware's `connected` line minus the
/// network's ground truth of the last data delivered before it (both on the rig clock), in ms.
fn timing_error(o: &Observed) -> Option<f64> {
    let connected =
        o.console.iter().find_map(|e| matches!(e.event, Event::Connected { .. }).then_some(e.at))?;
    let truth = o
        .truth
        .iter()
        .filter(|t| {
            matches!(t.kind, crate::sim::network::TruthKind::DataDelivered { .. }) && t.at <= connected
        })
        .map(|t| t.at)
        .max()?;
    Some((connected.as_secs_f64() - truth.as_secs_f64()) * 1000.0)
}
