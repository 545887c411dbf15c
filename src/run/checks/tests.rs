//! Every check on hand-made evidence: what passes, and each way it can fail. The scenarios are
//! the starter fixtures; the evidence is written here, as a bench would have collected it.

use std::path::Path;
use std::time::Duration;

use super::{Check, Input, Status, evaluate};
use crate::backend::ReportRecord;
use crate::bench::evidence::{Evidence, NetworkStep, ReportImsi, StepKind};
use crate::bridge::{ApduRecord, Subject};
use crate::clock::TimeScale;
use crate::console::reader::ConsoleEvent;
use crate::console::{Event, Role};
use crate::method::{ScenarioView, expect};
use crate::model::Catalog;

fn catalog() -> Catalog {
    let loaded = crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("fixtures load");
    loaded.catalog
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Evidence builder, times in real ms at scale 1.
#[derive(Default)]
struct Seen(Evidence);

impl Seen {
    fn console(mut self, at: u64, event: Event) -> Seen {
        self.0.console.push(ConsoleEvent { at: ms(at), event });
        self
    }
    fn attempt(self, at: u64, slot: u8) -> Seen {
        let role = if slot == 0 { Role::Master } else { Role::Standby };
        self.console(at, Event::Attempt { slot, iccid: String::new(), role, index: None, pass: 1 })
    }
    fn judged(self, at: u64, slot: u8, explicit: bool) -> Seen {
        self.console(
            at,
            Event::Judged { slot, iccid: String::new(), ok: false, reason: "rejected".into(), explicit },
        )
    }
    fn connected(self, at: u64, slot: u8) -> Seen {
        self.console(
            at,
            Event::Connected { slot, iccid: String::new(), imsi: String::new(), plmn: None, rat: None },
        )
    }
    fn authenticated(mut self, at: u64, slot: u8) -> Seen {
        self.0.apdus.push(ApduRecord {
            at: ms(at),
            slot,
            cla: 0x00,
            ins: 0x88,
            subject: Subject::Authenticate,
            sw: Some(0x6135),
            latency: ms(1),
            fault: None,
            ..ApduRecord::default()
        });
        self
    }
    fn network(mut self, at: u64, imsi: &str, kind: StepKind) -> Seen {
        let network = self.0.network.get_or_insert_with(Vec::new);
        network.push(NetworkStep { at: ms(at), imsi: imsi.into(), kind, text: format!("{kind:?}") });
        self
    }
    fn report(mut self, at: u64, imsi: &str) -> Seen {
        self.0.reports.push(ReportRecord { at: ms(at), imsi: imsi.into(), report: serde_json::Value::Null });
        self
    }
    fn urc(mut self, at: u64, line: &str) -> Seen {
        self.0.urcs.push((ms(at), line.into()));
        self.0.observer_is_dut_modem = true;
        self
    }
}

fn judge(catalog: &Catalog, scenario: &str, seen: Seen) -> Vec<Check> {
    let scenario = &catalog.scenarios[scenario];
    let expected = expect(&ScenarioView::from_catalog(catalog, scenario).unwrap());
    let input = Input { catalog, scenario, expected: &expected, scale: TimeScale::REAL, evidence: &seen.0 };
    evaluate(&input)
}

fn check<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks.iter().find(|c| c.name == name).unwrap()
}

fn imsi(catalog: &Catalog, seed: &str) -> String {
    catalog.seeds[seed].imsi.to_string()
}

/// master-reject: o2-de-1 (slot 0) rejected in 1.15 s (bound 1.65 s); vodafone-uk-1 (slot 2)
/// wins at 2.7 s. This is a correct run as a virtual bench records it.
fn master_reject_right(c: &Catalog) -> Seen {
    let winner = imsi(c, "vodafone-uk-1");
    Seen::default()
        .attempt(0, 0)
        .authenticated(300, 0)
        .judged(1150, 0, true)
        .attempt(1160, 2)
        .authenticated(1460, 2)
        .network(2160, &winner, StepKind::Registered)
        .urc(2160, "+CEREG: 1,\"1A2B\",\"01A2B3C4\",0")
        .network(2700, &winner, StepKind::DataDelivered)
        .report(2650, &winner)
        .connected(2710, 2)
}

#[test]
fn a_correct_run_passes_every_check() {
    let c = catalog();
    let checks = judge(&c, "master-reject", master_reject_right(&c));
    for check in &checks {
        assert_eq!(check.status, Status::Pass, "{check:?}");
    }
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "master_first",
            "master_judgement",
            "attempt_order",
            "winner",
            "time_to_winner",
            "report",
            "settled"
        ]
    );
    let winner = check(&checks, "winner");
    assert!(winner.observed.contains("card authenticated in slot 2: yes"), "{}", winner.observed);
    assert!(winner.observed.contains("observer port: registered"), "{}", winner.observed);
}

#[test]
fn master_first_fails_when_a_standby_goes_first_or_nothing_is_tried() {
    let c = catalog();
    let checks = judge(&c, "master-reject", Seen::default().attempt(0, 2).connected(1500, 2));
    let first = check(&checks, "master_first");
    assert_eq!((first.status, first.observed.as_str()), (Status::Fail, "vodafone-uk-1"));
    let checks = judge(&c, "master-reject", Seen::default());
    assert_eq!(check(&checks, "master_first").observed, "no attempt");
    assert_eq!(check(&checks, "master_first").status, Status::Fail);
}

#[test]
fn master_judgement_fails_late_or_of_the_wrong_kind_or_missing() {
    let c = catalog();
    let late = Seen::default().attempt(0, 0).judged(1700, 0, true);
    let j = check(&judge(&c, "master-reject", late), "master_judgement").clone();
    assert_eq!(j.status, Status::Fail);
    assert_eq!((j.measured_ms, j.limit_ms), (Some(1700.0), Some(1650.0)));
    let at_t = Seen::default().attempt(0, 0).judged(1200, 0, false);
    let j = check(&judge(&c, "master-reject", at_t), "master_judgement").clone();
    assert_eq!(j.status, Status::Fail);
    assert!(j.observed.starts_with("failed at T"), "{}", j.observed);
    let never = Seen::default().attempt(0, 0);
    assert_eq!(check(&judge(&c, "master-reject", never), "master_judgement").observed, "not judged");
    // master-connects: a master judged failed is wrong.
    let judged = Seen::default().attempt(0, 0).judged(900, 0, true);
    assert_eq!(check(&judge(&c, "master-connects", judged), "master_judgement").status, Status::Fail);
}

#[test]
fn attempt_order_compares_first_pass_attempts_with_the_oracle() {
    let c = catalog();
    let wrong = Seen::default().attempt(0, 0).judged(1150, 0, true).attempt(1160, 1).connected(2700, 1);
    let o = check(&judge(&c, "master-reject", wrong), "attempt_order").clone();
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.expected, "o2-de-1, vodafone-uk-1");
    assert_eq!(o.observed, "o2-de-1, orange-fr-1");
}

#[test]
fn winner_fails_on_a_wrong_claim_and_on_any_source_pointing_elsewhere() {
    let c = catalog();
    // The firmware claims orange-fr-1.
    let wrong_claim = Seen::default().attempt(0, 0).authenticated(100, 1).connected(2700, 1);
    assert_eq!(check(&judge(&c, "master-reject", wrong_claim), "winner").status, Status::Fail);
    // The right claim, but the card that authenticated last is slot 1's.
    let card = master_reject_right(&c).authenticated(2600, 1);
    let w = check(&judge(&c, "master-reject", card), "winner").clone();
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.contains("authenticated last in slot 1 (orange-fr-1) at 2.6 s"), "{}", w.observed);
    // The network registered somebody else last.
    let net = master_reject_right(&c).network(2600, &imsi(&c, "orange-fr-1"), StepKind::Registered);
    let w = check(&judge(&c, "master-reject", net), "winner").clone();
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.contains("network registered: orange-fr-1 (slot 1) at 2.6 s"), "{}", w.observed);
    // The backend got the report through another seed only.
    let mut other = master_reject_right(&c);
    other.0.reports.clear();
    let other = other.report(2650, &imsi(&c, "orange-fr-1"));
    assert_eq!(check(&judge(&c, "master-reject", other), "winner").status, Status::Fail);
}

#[test]
fn winner_on_a_lab_rests_on_the_claim_plus_one_independent_source() {
    let c = catalog();
    // A lab: no network record; the card and the claimed report agree.
    let mut lab = master_reject_right(&c);
    lab.0.network = None;
    lab.0.report_imsi = ReportImsi::Claimed;
    let w = check(&judge(&c, "master-reject", lab), "winner").clone();
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
    assert!(w.observed.contains("by the IMSI the report claims"), "{}", w.observed);
    // Nothing but the claim: not observable, never a pass.
    let bare = Seen::default().attempt(0, 0).judged(1150, 0, true).attempt(1160, 2).connected(2700, 2);
    let w = check(&judge(&c, "master-reject", bare), "winner").clone();
    assert_eq!(w.status, Status::NotObservable);
    assert!(
        w.observed.starts_with("not observable on this bench: only the firmware's own claim"),
        "{}",
        w.observed
    );
}

#[test]
fn exhausted_passes_when_a_seed_registered_without_data_and_fails_on_delivered_data() {
    let c = catalog();
    let ee = imsi(&c, "ee-uk-1");
    let base = || {
        Seen::default()
            .attempt(0, 0)
            .attempt(900, 3)
            .attempt(1500, 2)
            .attempt(2000, 1)
            .console(22_000, Event::Exhausted { pass: 1 })
    };
    let registered_only = base().network(1200, &ee, StepKind::Registered);
    let w = check(&judge(&c, "all-exhausted", registered_only), "winner").clone();
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
    let delivered = base().network(1300, &ee, StepKind::DataDelivered);
    let w = check(&judge(&c, "all-exhausted", delivered), "winner").clone();
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.contains("network delivered data for ee-uk-1 (slot 3) at 1.3 s"), "{}", w.observed);
    let never = Seen::default().attempt(0, 0);
    assert_eq!(check(&judge(&c, "all-exhausted", never), "winner").observed, "firmware never said exhausted");
}

#[test]
fn time_to_winner_is_measured_from_start_against_the_timeout() {
    let c = catalog();
    let mut slow = master_reject_right(&c).connected(0, 2);
    slow.0.console.retain(|e| !matches!(e.event, Event::Connected { .. }));
    let slow = slow.connected(61_000, 2);
    let t = check(&judge(&c, "master-reject", slow), "time_to_winner").clone();
    assert_eq!(t.status, Status::Fail);
    assert_eq!((t.measured_ms, t.limit_ms), (Some(61_000.0), Some(60_000.0)));
    let mut started_late = master_reject_right(&c);
    started_late.0.started_at = ms(100);
    let t = check(&judge(&c, "master-reject", started_late), "time_to_winner").clone();
    assert_eq!(t.measured_ms, Some(2610.0));
    let never = Seen::default().attempt(0, 0);
    assert_eq!(check(&judge(&c, "master-reject", never), "time_to_winner").observed, "never connected");
}

#[test]
fn report_must_come_through_the_winner_and_none_when_exhausted() {
    let c = catalog();
    let mut none = master_reject_right(&c);
    none.0.reports.clear();
    let r = check(&judge(&c, "master-reject", none), "report").clone();
    assert_eq!((r.status, r.observed.as_str()), (Status::Fail, "no report"));
    let exhausted =
        Seen::default().console(100, Event::Exhausted { pass: 1 }).report(50, &imsi(&c, "ee-uk-1"));
    let r = check(&judge(&c, "all-exhausted", exhausted), "report").clone();
    assert_eq!((r.status, r.observed.as_str()), (Status::Fail, "1 report(s)"));
}

#[test]
fn settled_fails_on_an_attempt_after_the_win() {
    let c = catalog();
    let switching = master_reject_right(&c).attempt(5000, 1);
    let s = check(&judge(&c, "master-reject", switching), "settled").clone();
    assert_eq!((s.status, s.observed.as_str()), (Status::Fail, "1 attempt(s)"));
    // No win when one was expected.
    let s = check(&judge(&c, "master-reject", Seen::default()), "settled").clone();
    assert_eq!(s.status, Status::Fail);
}

#[test]
fn winner_orders_the_trace_by_when_commands_arrived_not_when_they_were_recorded() {
    // A slow card's AUTHENTICATE is recorded when its late answer comes, after the winner's.
    let c = catalog();
    let slow_master_recorded_late = master_reject_right(&c).authenticated(450, 0);
    let w = check(&judge(&c, "master-reject", slow_master_recorded_late), "winner").clone();
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
}

#[test]
fn a_reference_modems_registrations_are_not_the_duts() {
    let c = catalog();
    let mut seen = master_reject_right(&c);
    seen.0.observer_is_dut_modem = false;
    let w = check(&judge(&c, "master-reject", seen), "winner").clone();
    assert_eq!(w.status, Status::Pass);
    assert!(!w.observed.contains("observer port"), "{}", w.observed);
}

#[test]
fn master_judgement_fails_a_judgement_sooner_than_a_correct_firmware_can_know() {
    let c = catalog();
    // master-reject: the network answers after 1.15 s; a correct firmware cannot judge before
    // 1.15 s - 500 ms tolerance = 650 ms.
    let early = Seen::default().attempt(0, 0).judged(400, 0, true);
    let j = check(&judge(&c, "master-reject", early), "master_judgement").clone();
    assert_eq!(j.status, Status::Fail);
    assert_eq!(j.expected, "failed explicit between 650 ms and 1.65 s");
    assert!(
        j.observed.starts_with("failed explicit after 400 ms (sooner than a correct firmware can know)"),
        "{}",
        j.observed
    );
    let in_window = Seen::default().attempt(0, 0).judged(700, 0, true);
    assert_eq!(check(&judge(&c, "master-reject", in_window), "master_judgement").status, Status::Pass);
    // master-silent-timeout: silence is judged at T = 30 s, not before 29.5 s.
    let too_soon = Seen::default().attempt(0, 0).judged(20_000, 0, false);
    let j = check(&judge(&c, "master-silent-timeout", too_soon), "master_judgement").clone();
    assert_eq!(j.status, Status::Fail, "{j:?}");
    assert!(j.expected.starts_with("failed at T between 29.5 s and 30.5 s"), "{}", j.expected);
}

#[test]
fn the_rigs_own_measured_time_is_allowed_in_real_time_beside_a_nominal_bound_and_no_more() {
    let c = catalog();
    let scenario = &c.scenarios["master-reject"];
    let expected = expect(&ScenarioView::from_catalog(&c, scenario).unwrap());
    // master-reject's bound is 1.65 s nominal; at scale 0.01 that is 16.5 ms real. The DUT
    // judged after 17.5 ms real (1.75 s nominal): 1 ms late on radio time alone.
    let scale = TimeScale::new(0.01);
    let seen = |commands: usize| {
        let mut e = Seen::default().attempt(0, 0).judged(0, 0, true).0;
        e.console[1].at = Duration::from_micros(17_500);
        // Ten exchanges of 100 µs each, plus the console line that reported the result.
        e.rig_time = Some(crate::bench::evidence::RigTime {
            at_exchange: Duration::from_micros(100),
            dut_commands: (1..=commands as u64).map(|n| Duration::from_micros(n * 1000)).collect(),
            late_waits: Vec::new(),
        });
        e
    };
    let judged = |evidence: &Evidence| {
        let input = Input { catalog: &c, scenario, expected: &expected, scale, evidence };
        evaluate(&input).into_iter().find(|c| c.name == "master_judgement").unwrap()
    };
    // 10 commands + the report line: 1.1 ms real for the rig covers the 1 ms.
    let j = judged(&seen(10));
    assert_eq!(j.status, Status::Pass, "{j:?}");
    assert_eq!(j.rig_allowance_ms.map(|a| (a * 1000.0).round()), Some(1100.0));
    assert_eq!(j.limit_ms, Some(1650.0), "the nominal bound is not loosened");
    assert!(
        j.expected
            .ends_with("+ 1.10 ms real for the rig (11 AT exchanges, 0 APDUs, radio waits 0.00 ms late)"),
        "{}",
        j.expected
    );
    // 5 commands: 0.6 ms real does not.
    assert_eq!(judged(&seen(5)).status, Status::Fail);
    // A bench that does not measure its own time allows nothing.
    let mut unmeasured = seen(10);
    unmeasured.rig_time = None;
    let j = judged(&unmeasured);
    assert_eq!((j.status, j.rig_allowance_ms), (Status::Fail, None));
}
