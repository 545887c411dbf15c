//! The runner on a fake bench: a scripted DUT console and hand-made evidence, so the way a run
//! turns into a verdict is tested without any simulated part.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use super::checks::Status;
use super::{RunOptions, Verdict, run_on};
use crate::bench::Bench;
use crate::bench::evidence::Evidence;
use crate::bridge::{ApduRecord, CardFault, Subject};
use crate::clock::{RigClock, TimeScale};
use crate::model::{Catalog, ConsoleFormat};

/// A bench whose DUT prints `script` (one line per read after `start`), whose evidence is
/// given, and which breaks where told.
struct FakeBench {
    clock: RigClock,
    /// Printed before `start` (boot, and whatever an earlier run left).
    before_start: VecDeque<String>,
    script: VecDeque<String>,
    started: bool,
    evidence: Evidence,
    /// `broken()` reports this once the script is down to this many lines.
    breaks_with: Option<(usize, String)>,
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
            started: false,
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
    async fn console_send(&mut self, line: &str) -> Result<(), String> {
        self.sent.push(line.to_owned());
        self.started |= line == "start";
        Ok(())
    }
    async fn console_read(&mut self, within: Duration) -> Result<Vec<u8>, String> {
        let next = if self.started { self.script.pop_front() } else { self.before_start.pop_front() };
        match next {
            Some(line) => Ok(format!("{line}\n").into_bytes()),
            None if self.started && self.console_dies => {
                Err("/dev/serial/by-id/fake: the port closed".into())
            }
            None => {
                tokio::time::sleep(within.min(Duration::from_millis(5))).await;
                Ok(Vec::new())
            }
        }
    }
    fn broken(&mut self) -> Option<String> {
        match &self.breaks_with {
            Some((left, what)) if self.started && self.script.len() <= *left => Some(what.clone()),
            _ => None,
        }
    }
    fn set_card_fault(&mut self, _slot: u8, _fault: Option<CardFault>) -> Result<(), String> {
        Ok(())
    }
    fn evidence(&self) -> Evidence {
        self.evidence.clone()
    }
    async fn down(self) {}
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

fn authenticated(slot: u8) -> ApduRecord {
    ApduRecord {
        at: Duration::ZERO,
        slot,
        cla: 0,
        ins: 0x88,
        subject: Subject::Authenticate,
        sw: Some(0x9000),
        latency: Duration::from_millis(1),
        fault: None,
            ..ApduRecord::default()
    }
}

async fn run(bench: FakeBench) -> super::ScenarioResult {
    let c = catalog();
    let scenario = c.scenarios["master-connects"].clone();
    run_on(&c, &scenario, &options(), bench).await
}

fn with_report(mut bench: FakeBench, c: &Catalog) -> FakeBench {
    let imsi = c.seeds["china-mobile-1"].imsi.to_string();
    bench.evidence.reports.push(crate::backend::ReportRecord {
        at: Duration::ZERO,
        imsi,
        report: serde_json::Value::Null,
    });
    bench
}

#[tokio::test(start_paused = true)]
async fn a_correct_run_with_card_evidence_passes_and_start_is_sent_after_boot() {
    let mut bench = with_report(FakeBench::new(&[BOOT], MASTER_WINS), &catalog());
    bench.evidence.apdus.push(authenticated(0));
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.failures());
}

#[tokio::test(start_paused = true)]
async fn no_boot_is_an_error_naming_the_dut() {
    let result = run(FakeBench::new(&[], MASTER_WINS)).await;
    let Verdict::Error(why) = result.verdict else { panic!("{:?}", result.verdict) };
    assert!(why.starts_with("DUT: no `boot` on its console within"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn an_earlier_runs_output_before_boot_is_not_evidence() {
    // A stale `connected` of slot 3 from before this boot must not count.
    let stale = r#"{"t_ms":9,"event":"connected","slot":3,"iccid":"x","imsi":"y","plmn":null,"rat":null}"#;
    let mut bench = with_report(FakeBench::new(&[stale, BOOT], MASTER_WINS), &catalog());
    bench.evidence.apdus.push(authenticated(0));
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Pass, "{:?}", result.failures());
}

#[tokio::test(start_paused = true)]
async fn a_part_that_breaks_mid_run_is_an_error_not_a_failure() {
    let mut bench = FakeBench::new(&[BOOT], MASTER_WINS);
    bench.breaks_with = Some((1, "the bridge of slot 0 stopped".into()));
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Error("the bridge of slot 0 stopped".into()));
}

#[tokio::test(start_paused = true)]
async fn a_console_that_vanishes_is_an_error_naming_the_port() {
    let mut bench = FakeBench::new(&[BOOT], &MASTER_WINS[..1]);
    bench.console_dies = true;
    let result = run(bench).await;
    let Verdict::Error(why) = result.verdict else { panic!("{:?}", result.verdict) };
    assert!(why.contains("DUT console: /dev/serial/by-id/fake: the port closed"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn a_dut_with_no_outcome_and_no_status_answer_is_hung() {
    let bench = FakeBench::new(&[BOOT], &MASTER_WINS[..1]);
    let result = run(bench).await;
    let Verdict::Error(why) = result.verdict else { panic!("{:?}", result.verdict) };
    assert!(why.starts_with("firmware hung: no outcome within"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn a_winner_only_the_dut_claims_is_not_observable_and_never_passes() {
    // No APDU trace, no network record, no observer, no report: nothing confirms the claim.
    let result = run(FakeBench::new(&[BOOT], MASTER_WINS)).await;
    let winner = result.checks.iter().find(|c| c.name == "winner").unwrap();
    assert_eq!(winner.status, Status::NotObservable, "{winner:?}");
    // Here the missing report is the firmware's failure in its own right.
    assert_eq!(result.verdict, Verdict::Fail);
    // With every other check passing, an unconfirmed winner makes the scenario an error.
    let mut checks = result.checks.clone();
    checks.retain(|c| c.name != "report");
    let Verdict::Error(why) = super::verdict(&checks, &Evidence::default()) else { panic!() };
    assert!(why.starts_with("the winner cannot be confirmed on this bench: not observable on this bench: only the firmware's own claim"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn a_part_that_breaks_in_the_settle_period_is_an_error_that_keeps_the_checks() {
    let mut bench = with_report(FakeBench::new(&[BOOT], MASTER_WINS), &catalog());
    bench.evidence.apdus.push(authenticated(0));
    bench.breaks_with = Some((0, "pcscd (pid 42) died".into()));
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Error("after the outcome was in: pcscd (pid 42) died".into()));
    assert_eq!(result.checks.len(), 7);
    assert!(serde_json::to_string(&result.timeline).unwrap().contains("\"broke\":\"pcscd (pid 42) died\""));
}

#[test]
fn a_part_that_broke_after_the_outcome_makes_the_run_an_error() {
    let evidence = Evidence {
        broke: vec![(Duration::from_secs(3), "pcscd (pid 42) died".into())],
        ..Evidence::default()
    };
    assert_eq!(
        super::verdict(&[], &evidence),
        Verdict::Error("after the outcome was in: pcscd (pid 42) died".into())
    );
}

#[tokio::test(start_paused = true)]
async fn a_wrong_winner_is_a_failure_with_expected_and_observed() {
    let lines = &[
        MASTER_WINS[0],
        r#"{"t_ms":2,"event":"connected","slot":1,"iccid":"x","imsi":"y","plmn":null,"rat":null}"#,
    ];
    let mut bench = FakeBench::new(&[BOOT], lines);
    bench.evidence.apdus.push(authenticated(1));
    let result = run(bench).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result
            .failures()
            .iter()
            .any(|f| f.starts_with("winner: expected china-mobile-1, observed firmware: ")),
        "{:?}",
        result.failures()
    );
}
