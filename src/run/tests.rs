//! The runner on a fake bench: a scripted DUT console and hand-made evidence, so the way a run
//! turns into a verdict is tested without any simulated part.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::checks::{CHECKS, Status};
use super::{RunOptions, Verdict, run_on};
use crate::backend::ReportRecord;
use crate::bench::error::PortCause;
use crate::bench::evidence::Evidence;
use crate::bench::{Bench, BenchError};
use crate::bridge::{ApduRecord, CardEvent, CardEventKind, Subject};
use crate::clock::{RigClock, TimeScale};
use crate::model::{Catalog, ConsoleFormat};

/// A bench whose DUT prints `script` (one line per read after `start`), whose evidence is
/// given, and which breaks where told.
struct FakeBench {
    clock: RigClock,
    /// Printed before `start` (boot, and whatever an earlier run left).
    before_start: VecDeque<String>,
    script: VecDeque<String>,
    /// When `start` was sent, on the rig clock.
    started_at: Option<Duration>,
    /// What the card side, the network and the backend saw, stamped in time since `start`.
    evidence: Evidence,
    /// `broken()` reports this once the script is down to this many lines.
    breaks_with: Option<(usize, fn() -> BenchError)>,
    /// The console fails after the script is spent (a port that vanished).
    console_dies: bool,
    sent: Vec<String>,
}

impl FakeBench {
    fn new(before_start: &[&str], script: &[&str]) -> FakeBench {
        FakeBench {
            clock: RigClock::start(),
            before_start: before_start.iter().map(|s| (*s).to_owned()).collect(),
            script: script.iter().map(|s| (*s).to_owned()).collect(),
            started_at: None,
            evidence: Evidence::default(),
            breaks_with: None,
            console_dies: false,
            sent: Vec::new(),
        }
    }
}

impl Bench for FakeBench {
    fn clock(&self) -> RigClock {
        self.clock
    }
    fn scale(&self) -> TimeScale {
        TimeScale::REAL
    }
    fn boot_timeout(&self) -> Duration {
        Duration::from_millis(300)
    }
    fn console_format(&self) -> &ConsoleFormat {
        &ConsoleFormat::Json
    }
    async fn console_send(&mut self, line: &str) -> Result<(), BenchError> {
        self.sent.push(line.to_owned());
        if line == "start" && self.started_at.is_none() {
            self.started_at = Some(self.clock.now());
        }
        Ok(())
    }
    async fn console_read(&mut self, within: Duration) -> Result<Vec<u8>, BenchError> {
        let started = self.started_at.is_some();
        let next = if started { self.script.pop_front() } else { self.before_start.pop_front() };
        match next {
            Some(line) => Ok(format!("{line}\n").into_bytes()),
            None if started && self.console_dies => Err(BenchError::DutConsole {
                port: Some(FAKE_PORT.into()),
                cause: PortCause::ClosedUnderRead,
            }),
            None => {
                tokio::time::sleep(within.min(Duration::from_millis(5))).await;
                Ok(Vec::new())
            }
        }
    }
    fn broken(&mut self) -> Option<BenchError> {
        match &self.breaks_with {
            Some((left, what)) if self.started_at.is_some() && self.script.len() <= *left => Some(what()),
            _ => None,
        }
    }
    /// Nothing happens on the card side or the network before the DUT is started; what
    /// happened after comes in once the DUT has printed its script (so a console that speaks
    /// ends the run with its `connected`, and a silent one with the data the bench saw).
    fn evidence(&self) -> Evidence {
        match self.started_at {
            Some(start) if self.script.is_empty() => since(&self.evidence, start),
            _ => Evidence::default(),
        }
    }
    async fn down(self) {}
}

/// `e` stamped on the rig clock: its times count from `start`.
fn since(e: &Evidence, start: Duration) -> Evidence {
    let mut e = e.clone();
    e.apdus.iter_mut().for_each(|a| a.at += start);
    e.card_events.iter_mut().for_each(|c| c.at += start);
    e.reports.iter_mut().for_each(|r| r.at += start);
    e.urcs.iter_mut().for_each(|(at, _)| *at += start);
    e.network.iter_mut().flatten().for_each(|s| s.at += start);
    e
}

const FAKE_PORT: &str = "/dev/serial/by-id/fake";

fn bridge_stopped() -> BenchError {
    BenchError::BridgeStopped { slot: 0, reader: "fake".into(), cause: "ended".into() }
}

fn pcscd_died() -> BenchError {
    BenchError::PcscdDied { pid: 42, slots: vec![0] }
}

/// The result's error, which must be there with its message as the verdict's reason.
fn error_of(result: &super::ScenarioResult) -> &BenchError {
    let error = result.error.as_deref().unwrap_or_else(|| panic!("not an error: {:?}", result.verdict));
    assert_eq!(result.verdict, Verdict::Error(error.to_string()));
    assert_eq!(result.error_kind.as_deref(), Some(error.kind()));
    error
}

fn catalog() -> Catalog {
    crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap().catalog
}

fn options() -> RunOptions {
    RunOptions {
        firmware_binary: "/nonexistent".into(),
        fault: None,
        sabotage: None,
        stop: Default::default(),
    }
}

const BOOT: &str = r#"{"t_ms":0,"event":"boot"}"#;

/// master-connects: china-mobile-1 in slot 0 connects; no standby is tried.
const MASTER_WINS: &[&str] = &[
    r#"{"t_ms":1,"event":"attempt","slot":0,"iccid":"x","role":"master","index":null,"pass":1}"#,
    r#"{"t_ms":2,"event":"connected","slot":0,"iccid":"x","imsi":"y","plmn":null,"rat":null}"#,
];

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The modem reset the slot's card: a card session begins.
fn activated(at_ms: u64, slot: u8) -> CardEvent {
    let kind = CardEventKind::Activated { atr: vec![0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7] };
    CardEvent { at: ms(at_ms), slot, kind, what: "card reset by the modem".into() }
}

/// The modem powered the slot's card down: the DUT left it.
fn deactivated(at_ms: u64, slot: u8) -> CardEvent {
    CardEvent {
        at: ms(at_ms),
        slot,
        kind: CardEventKind::Deactivated,
        what: "card powered down by the modem".into(),
    }
}

fn authenticated(at_ms: u64, slot: u8) -> ApduRecord {
    ApduRecord {
        at: ms(at_ms),
        slot,
        cla: 0,
        ins: 0x88,
        subject: Subject::Authenticate,
        sw: Some(0x9000),
        latency: ms(1),
        ..ApduRecord::default()
    }
}

fn report(c: &Catalog, seed: &str, at_ms: u64) -> ReportRecord {
    ReportRecord { at: ms(at_ms), imsi: c.seeds[seed].imsi.to_string(), report: serde_json::Value::Null }
}

/// master-connects done right, as the card side and the backend see it: the modem resets the
/// master's card, it authenticates, and data reaches the backend through it at about the
/// oracle's 2.15 s.
fn master_connects_seen(c: &Catalog) -> Evidence {
    Evidence {
        card_events: vec![activated(5, 0)],
        apdus: vec![authenticated(300, 0)],
        reports: vec![report(c, "china-mobile-1", 2150)],
        ..Evidence::default()
    }
}

/// all-exhausted done right, as the card side sees it: the master's card is pulled (the modem
/// resets nothing there); ee-uk-1 (slot 3), telekom-de-2 (slot 2) and claro-br-1 (slot 1) are
/// reset in turn, each given up in its window but the last, whose card stays powered while the
/// DUT backs off; no data goes anywhere.
fn all_exhausted_seen() -> Evidence {
    Evidence {
        card_events: vec![
            activated(9, 3),
            deactivated(863, 3),
            activated(864, 2),
            deactivated(1123, 2),
            activated(1124, 1),
        ],
        apdus: vec![authenticated(150, 3)],
        ..Evidence::default()
    }
}

async fn run(bench: FakeBench) -> super::ScenarioResult {
    run_scenario("master-connects", bench).await
}

async fn run_scenario(id: &str, bench: FakeBench) -> super::ScenarioResult {
    let c = catalog();
    let scenario = c.scenarios[id].clone();
    run_on(&c, &scenario, &options(), bench).await
}

/// The DUT connecting its master as a bench with a card side records it.
fn master_wins_seen(before_start: &[&str]) -> FakeBench {
    let mut bench = FakeBench::new(before_start, MASTER_WINS);
    bench.evidence = master_connects_seen(&catalog());
    bench
}

#[tokio::test(start_paused = true)]
async fn a_correct_run_with_card_evidence_passes_and_start_is_sent_after_boot() {
    let result = run(master_wins_seen(&[BOOT])).await;
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.failures());
}

#[tokio::test(start_paused = true)]
async fn no_boot_is_an_error_naming_the_dut() {
    let result = run(FakeBench::new(&[], MASTER_WINS)).await;
    let error = error_of(&result);
    assert!(matches!(error, BenchError::NoBoot { within, output: None } if *within == ms(300)), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn an_earlier_runs_output_before_boot_is_not_evidence() {
    // A stale `connected` of slot 3 from before this boot must not count.
    let stale = r#"{"t_ms":9,"event":"connected","slot":3,"iccid":"x","imsi":"y","plmn":null,"rat":null}"#;
    let result = run(master_wins_seen(&[stale, BOOT])).await;
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.failures());
}

#[tokio::test(start_paused = true)]
async fn a_part_that_breaks_mid_run_is_an_error_not_a_failure() {
    let mut bench = FakeBench::new(&[BOOT], MASTER_WINS);
    bench.breaks_with = Some((1, bridge_stopped));
    let result = run(bench).await;
    assert!(matches!(error_of(&result), BenchError::BridgeStopped { slot: 0, .. }), "{:?}", result.verdict);
}

#[tokio::test(start_paused = true)]
async fn a_console_that_vanishes_is_an_error_naming_the_port() {
    let mut bench = FakeBench::new(&[BOOT], &MASTER_WINS[..1]);
    bench.console_dies = true;
    let result = run(bench).await;
    let error = error_of(&result);
    assert!(
        matches!(error, BenchError::DutConsole { port: Some(port), cause: PortCause::ClosedUnderRead }
            if port.as_path() == Path::new(FAKE_PORT)),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_ends_the_scenario_as_interrupted_by_its_signal() {
    let c = catalog();
    let scenario = c.scenarios["master-connects"].clone();
    let options = options();
    options.stop.request(15);
    let result = run_on(&c, &scenario, &options, master_wins_seen(&[BOOT])).await;
    let error = error_of(&result);
    assert!(matches!(error, BenchError::Interrupted { signal: 15 }), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_dut_with_no_outcome_and_no_status_answer_is_hung() {
    let bench = FakeBench::new(&[BOOT], &MASTER_WINS[..1]);
    let result = run(bench).await;
    let error = error_of(&result);
    assert!(matches!(error, BenchError::FirmwareHung { card_silent: false, .. }), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_console_run_ends_on_data_through_a_seed_and_passes() {
    // The DUT prints nothing after `boot`; the bench sees the master's card authenticate and
    // data reach the backend through it. That is the outcome: no `status` probe, no hang.
    let mut bench = FakeBench::new(&[BOOT], &[]);
    bench.evidence = master_connects_seen(&catalog());
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.failures());
    let time = result.checks.iter().find(|c| c.name == "time_to_winner").unwrap();
    assert!(time.observed.ends_with("(backend)"), "{time:?}");
}

#[tokio::test(start_paused = true)]
async fn an_expected_exhaustion_on_a_silent_console_is_decided_by_the_bench() {
    // all-exhausted, and the DUT prints nothing after `boot`: once the oracle's exhaustion time
    // and the settle period are past, the card side's traffic shows it alive, and the checks
    // decide on what the bench saw.
    let mut bench = FakeBench::new(&[BOOT], &[]);
    bench.evidence = all_exhausted_seen();
    let result = run_scenario("all-exhausted", bench).await;
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.failures());
    let winner = result.checks.iter().find(|c| c.name == "winner").unwrap();
    assert_eq!(winner.observed, "firmware: no claim; no data through any seed");
}

#[tokio::test(start_paused = true)]
async fn an_expected_exhaustion_with_no_card_traffic_and_no_status_answer_is_hung() {
    let result = run_scenario("all-exhausted", FakeBench::new(&[BOOT], &[])).await;
    let error = error_of(&result);
    assert!(matches!(error, BenchError::FirmwareHung { card_silent: true, .. }), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_winner_only_the_dut_claims_is_not_observable_and_never_passes() {
    // No card trace, no network record, no observer, no report: nothing confirms the claim.
    let result = run(FakeBench::new(&[BOOT], MASTER_WINS)).await;
    let winner = result.checks.iter().find(|c| c.name == "winner").unwrap();
    assert_eq!(winner.status, Status::NotObservable, "{winner:?}");
    // Here the missing report is the firmware's failure in its own right.
    assert_eq!(result.verdict, Verdict::Fail);
    // With every other check passing, an unconfirmed winner makes the scenario an error.
    let mut checks = result.checks.clone();
    checks.retain(|c| c.name != "report");
    assert_eq!(
        winner.observed,
        "not observable on this bench: no independent source names the winner (firmware: china-mobile-1)"
    );
    let error = super::verdict(&checks, &Evidence::default()).unwrap_err();
    assert!(
        matches!(&error, BenchError::WinnerUnconfirmed { observed } if *observed == winner.observed),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_part_that_breaks_in_the_settle_period_is_an_error_that_keeps_the_checks() {
    let mut bench = master_wins_seen(&[BOOT]);
    bench.breaks_with = Some((0, pcscd_died));
    let result = run(bench).await;
    let error = error_of(&result);
    assert!(
        matches!(error, BenchError::AfterOutcome(broke) if matches!(**broke, BenchError::PcscdDied { pid: 42, .. })),
        "{error:?}"
    );
    assert_eq!(result.checks.len(), CHECKS.len());
    let broke = pcscd_died().to_string();
    assert!(serde_json::to_string(&result.timeline).unwrap().contains(&format!("\"broke\":\"{broke}\"")));
}

#[test]
fn a_part_that_broke_after_the_outcome_makes_the_run_an_error() {
    let evidence =
        Evidence { broke: vec![(Duration::from_secs(3), Arc::new(pcscd_died()))], ..Evidence::default() };
    let error = super::verdict(&[], &evidence).unwrap_err();
    assert!(
        matches!(&error, BenchError::AfterOutcome(broke) if matches!(**broke, BenchError::PcscdDied { pid: 42, .. })),
        "{error:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_wrong_winner_is_a_failure_with_expected_and_observed() {
    // The DUT leaves its master for docomo-jp-1 (slot 1), which data then goes through.
    let lines = &[
        MASTER_WINS[0],
        r#"{"t_ms":2,"event":"connected","slot":1,"iccid":"x","imsi":"y","plmn":null,"rat":null}"#,
    ];
    let c = catalog();
    let mut bench = FakeBench::new(&[BOOT], lines);
    bench.evidence = Evidence {
        card_events: vec![activated(5, 0), deactivated(1000, 0), activated(1001, 1)],
        apdus: vec![authenticated(1300, 1)],
        reports: vec![report(&c, "docomo-jp-1", 2700)],
        ..Evidence::default()
    };
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result
            .failures()
            .iter()
            .any(|f| f.starts_with("winner: expected china-mobile-1, observed firmware: docomo-jp-1; ")),
        "{:?}",
        result.failures()
    );
}
