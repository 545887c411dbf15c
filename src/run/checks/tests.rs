//! Every check on hand-made evidence: what passes, and each way it can fail. The scenarios are
//! the starter fixtures; the evidence is written here, as a virtual bench would have collected
//! it: the DUT's console, the card side (card sessions and APDUs through the bridge), the
//! network's record, the observer port and the backend.

use std::path::Path;
use std::time::Duration;

use super::{Check, Input, Status, evaluate};
use crate::backend::ReportRecord;
use crate::bench::evidence::{Evidence, NetworkStep, ReportImsi, StepKind};
use crate::bridge::{ApduRecord, CardEvent, CardEventKind, Subject};
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

/// What a seed card answers to a reset (its content does not matter to the checks).
const ATR: &[u8] = &[0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31, 0xA0, 0x73, 0xBE, 0x21];

/// Evidence builder, times in real ms at scale 1.
#[derive(Default)]
struct Seen(Evidence);

impl Seen {
    fn console(mut self, at: u64, event: Event) -> Seen {
        self.0.console.push(ConsoleEvent { at: ms(at), event });
        self
    }
    /// The console's claim that the DUT tries `slot` (pass 1).
    fn attempt(self, at: u64, slot: u8) -> Seen {
        let role = if slot == 0 { Role::Master } else { Role::Standby };
        self.console(at, Event::Attempt { slot, iccid: String::new(), role, index: None, pass: 1 })
    }
    /// The console's claim that the DUT judged `slot` failed.
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
    fn card(mut self, at: u64, slot: u8, kind: CardEventKind, what: &str) -> Seen {
        self.0.card_events.push(CardEvent { at: ms(at), slot, kind, what: what.into() });
        self
    }
    /// The modem reset the slot's card: a card session (an attempt, as the bench sees it)
    /// begins.
    fn activated(self, at: u64, slot: u8) -> Seen {
        self.card(at, slot, CardEventKind::Activated { atr: ATR.to_vec() }, "card reset by the modem")
    }
    /// The modem powered the slot's card down: the DUT gave the seed up.
    fn deactivated(self, at: u64, slot: u8) -> Seen {
        self.card(at, slot, CardEventKind::Deactivated, "card powered down by the modem")
    }
    /// The card went into its slot (as the bench brings its cards up, before the DUT starts).
    fn inserted(self, at: u64, slot: u8) -> Seen {
        self.card(at, slot, CardEventKind::Inserted, "card inserted")
    }
    /// The DUT's first attempt as a virtual bench records it: the console's `attempt` line, and
    /// the modem resetting the slot's card 4 ms later.
    fn tries_first(self, at: u64, slot: u8) -> Seen {
        self.attempt(at, slot).activated(at + 4, slot)
    }
    /// The DUT moves from `from` to `to` as a virtual bench records it: the console's `attempt`
    /// line; the modem powers the slot it leaves down 3 ms later and resets the new slot's card
    /// 4 ms later.
    fn switches(self, at: u64, from: u8, to: u8) -> Seen {
        self.attempt(at, to).deactivated(at + 3, from).activated(at + 4, to)
    }
    /// A successful AUTHENTICATE through the bridge (status word 61xx: the answer waits).
    fn authenticated(mut self, at: u64, slot: u8) -> Seen {
        self.0.apdus.push(ApduRecord {
            at: ms(at),
            slot,
            cla: 0x00,
            ins: 0x88,
            subject: Subject::Authenticate,
            sw: Some(0x6135),
            latency: ms(1),
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
    fn started(mut self, at: u64) -> Seen {
        self.0.started_at = ms(at);
        self
    }
    /// The same run with a console that printed nothing (the bench still saw everything else).
    fn without_console(mut self) -> Seen {
        self.0.console.clear();
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

fn checked(c: &Catalog, scenario: &str, seen: Seen, name: &str) -> Check {
    check(&judge(c, scenario, seen), name).clone()
}

fn imsi(catalog: &Catalog, seed: &str) -> String {
    catalog.seeds[seed].imsi.to_string()
}

fn assert_all_pass(checks: &[Check]) {
    for check in checks {
        assert_eq!(check.status, Status::Pass, "{check:?}");
    }
}

/// master-reject: o2-de-1 (slot 0) rejected after 1.15 s (judged between 650 ms and 1.65 s);
/// vodafone-uk-1 (slot 2) wins, data through it at `won_at`. This is a correct run as a virtual
/// bench records it: the master's card is reset at 4 ms and powered down at 1.163 s when the
/// DUT switches to slot 2, whose card is reset at 1.164 s.
fn master_reject_winning_at(c: &Catalog, won_at: u64) -> Seen {
    let winner = imsi(c, "vodafone-uk-1");
    Seen::default()
        .tries_first(0, 0)
        .authenticated(300, 0)
        .network(1150, &imsi(c, "o2-de-1"), StepKind::Other)
        .judged(1150, 0, true)
        .switches(1160, 0, 2)
        .authenticated(1460, 2)
        .network(2160, &winner, StepKind::Registered)
        .urc(2160, "+CEREG: 1,\"1A2B\",\"01A2B3C4\",0")
        .network(won_at - 10, &winner, StepKind::DataDelivered)
        .report(won_at, &winner)
        .connected(won_at + 10, 2)
}

fn master_reject_right(c: &Catalog) -> Seen {
    master_reject_winning_at(c, 2700)
}

/// all-exhausted as a virtual bench records it, the DUT giving ee-uk-1 (slot 3, card reset at
/// 9 ms, rejected by the network after 850 ms: judged between 350 ms and 1.35 s) up at
/// `ee_given_up_at`. The master's card is pulled: the modem finds no card to reset, so only
/// the console shows that attempt. telekom-de-2 (slot 2) is rejected 250 ms in; claro-br-1
/// (slot 1) hears no cell and is judged at T = 20 s on the console, its card left powered (the
/// DUT backs off on it).
fn all_exhausted(ee_given_up_at: u64) -> Seen {
    let t = ee_given_up_at;
    Seen::default()
        .attempt(0, 0)
        .judged(2, 0, true)
        .tries_first(5, 3)
        .authenticated(150, 3)
        .judged(t, 3, true)
        .switches(t + 5, 3, 2)
        .judged(t + 260, 2, true)
        .switches(t + 265, 2, 1)
        .judged(t + 269 + 20_000, 1, false)
        .console(t + 20_275, Event::Exhausted { pass: 1 })
}

#[test]
fn a_correct_run_passes_every_check() {
    let c = catalog();
    let checks = judge(&c, "master-reject", master_reject_right(&c));
    assert_all_pass(&checks);
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "master_first",
            "master_judgement",
            "attempt_order",
            "standby_judgements",
            "console_claims",
            "winner",
            "time_to_winner",
            "report",
            "settled"
        ]
    );
    // The attempts are the card sessions; the console's lines agree with them.
    assert_eq!(check(&checks, "attempt_order").observed, "o2-de-1 (card side), vodafone-uk-1 (card side)");
    let master = check(&checks, "master_judgement");
    assert_eq!(master.measured_ms, Some(1159.0), "from the master's reset to its power-down");
    assert_eq!(master.observed, "given up after 1.159 s (card side); console: explicit (rejected)");
    assert_eq!(check(&checks, "console_claims").observed, "2 attempt(s) claimed, each seen on the card side");
    let winner = check(&checks, "winner");
    assert!(winner.observed.contains("card authenticated in slot 2: yes"), "{}", winner.observed);
    assert!(winner.observed.contains("observer port: registered"), "{}", winner.observed);
}

#[test]
fn a_silent_console_passes_every_check_on_what_the_bench_saw() {
    // A firmware that is right and prints nothing: the card side, the network and the backend
    // decide every check; the console has no claim to contradict.
    let c = catalog();
    let checks = judge(&c, "master-reject", master_reject_right(&c).without_console());
    assert_all_pass(&checks);
    assert_eq!(check(&checks, "console_claims").observed, "the console claims no attempt");
    assert_eq!(check(&checks, "master_judgement").observed, "given up after 1.159 s (card side)");
    let winner = check(&checks, "winner");
    assert!(
        winner.observed.starts_with("firmware: no claim; card authenticated in slot 2: yes"),
        "{}",
        winner.observed
    );
    assert_eq!(check(&checks, "time_to_winner").observed, "2.7 s (backend)");
    // The reference firmware's silent console still says `connected`: that passes too.
    let connected_only = master_reject_right(&c).without_console().connected(2710, 2);
    assert_all_pass(&judge(&c, "master-reject", connected_only));
}

#[test]
fn master_first_fails_when_a_standby_goes_first_or_nothing_is_tried() {
    let c = catalog();
    let standby_first = Seen::default().tries_first(0, 2).authenticated(300, 2).connected(1500, 2);
    let first = checked(&c, "master-reject", standby_first, "master_first");
    assert_eq!((first.status, first.observed.as_str()), (Status::Fail, "vodafone-uk-1 (card side)"));
    // The console names the master first, but the card side saw slot 2 reset first: the card
    // side decides.
    let lying = Seen::default().attempt(0, 0).activated(4, 2).authenticated(300, 2);
    let first = checked(&c, "master-reject", lying, "master_first");
    assert_eq!((first.status, first.observed.as_str()), (Status::Fail, "vodafone-uk-1 (card side)"));
    // The cards went in as the bench came up, before the start; nothing was touched after it.
    let nothing = Seen::default().inserted(10, 0).inserted(11, 1).inserted(12, 2).started(100);
    let first = checked(&c, "master-reject", nothing, "master_first");
    assert_eq!((first.status, first.observed.as_str()), (Status::Fail, "no attempt"));
}

#[test]
fn a_pulled_master_on_a_silent_console_is_not_observable_first_and_the_rest_is_judged() {
    // master-pulled: telekom-de-1's card is out of slot 0, so the modem resets no card there;
    // the card side sees the DUT only once it reaches vodafone-uk-1 (slot 1).
    let c = catalog();
    let winner = imsi(&c, "vodafone-uk-1");
    let silent = |reaches_standby_at: u64| {
        Seen::default()
            .activated(reaches_standby_at, 1)
            .authenticated(reaches_standby_at + 300, 1)
            .network(reaches_standby_at + 1000, &winner, StepKind::Registered)
            .network(reaches_standby_at + 1540, &winner, StepKind::DataDelivered)
            .report(reaches_standby_at + 1550, &winner)
    };
    let checks = judge(&c, "master-pulled", silent(10));
    let first = check(&checks, "master_first");
    assert_eq!(first.status, Status::NotObservable);
    assert!(first.observed.contains("telekom-de-1's card is out of its slot"), "{}", first.observed);
    // The master's attempt can only have run from the start until slot 1's reset: timed so.
    let master = check(&checks, "master_judgement");
    assert_eq!((master.status, master.measured_ms, master.limit_ms), (Status::Pass, Some(10.0), Some(500.0)));
    assert!(master.observed.contains("inferred from the card side"), "{}", master.observed);
    let order = check(&checks, "attempt_order");
    assert_eq!(order.status, Status::Pass);
    assert!(order.expected.contains("not observable for telekom-de-1"), "{}", order.expected);
    assert_eq!(order.observed, "vodafone-uk-1 (card side)");
    for name in ["standby_judgements", "console_claims", "winner", "time_to_winner", "report", "settled"] {
        assert_eq!(check(&checks, name).status, Status::Pass, "{:?}", check(&checks, name));
    }
    // Reaching the standby only at 900 ms means the empty slot was held past its 500 ms bound.
    let master = checked(&c, "master-pulled", silent(900), "master_judgement");
    assert_eq!((master.status, master.measured_ms), (Status::Fail, Some(900.0)));
}

#[test]
fn master_judgement_fails_late_or_of_the_wrong_kind() {
    let c = catalog();
    // Given up after 1.704 s (reset at 4 ms, powered down at 1.708 s): beyond the 1.65 s bound.
    let late = Seen::default().tries_first(0, 0).judged(1700, 0, true).switches(1705, 0, 2);
    let j = checked(&c, "master-reject", late, "master_judgement");
    assert_eq!(j.status, Status::Fail);
    assert_eq!((j.measured_ms, j.limit_ms), (Some(1704.0), Some(1650.0)));
    // In time, but the console says it judged at T where the network answered explicitly.
    let at_t = Seen::default().tries_first(0, 0).judged(1200, 0, false).switches(1205, 0, 2);
    let j = checked(&c, "master-reject", at_t, "master_judgement");
    assert_eq!(j.status, Status::Fail);
    assert_eq!(j.observed, "given up after 1.204 s (card side); console: at T (rejected)");
    // The card side saw no end to the master's session, and the console says nothing: the
    // moment it was given up cannot be measured (and the attempt order fails on its own).
    let never = || Seen::default().tries_first(0, 0).authenticated(300, 0);
    let j = checked(&c, "master-reject", never(), "master_judgement");
    assert_eq!(j.status, Status::NotObservable, "{j:?}");
    assert_eq!(checked(&c, "master-reject", never(), "attempt_order").status, Status::Fail);
    // master-connects: a master given up is wrong, whatever the console says.
    let given_up = Seen::default().tries_first(0, 0).judged(900, 0, true).switches(905, 0, 2);
    let j = checked(&c, "master-connects", given_up, "master_judgement");
    assert_eq!((j.status, j.observed.as_str()), (Status::Fail, "given up after 904 ms (card side)"));
}

#[test]
fn master_judgement_fails_a_judgement_sooner_than_a_correct_firmware_can_know() {
    let c = catalog();
    // master-reject: the network answers after 1.15 s; a correct firmware cannot judge before
    // 1.15 s - 500 ms tolerance = 650 ms.
    let early = Seen::default().tries_first(0, 0).judged(400, 0, true).switches(405, 0, 2);
    let j = checked(&c, "master-reject", early, "master_judgement");
    assert_eq!(j.status, Status::Fail);
    assert_eq!(j.expected, "failed explicit between 650 ms and 1.65 s");
    assert!(
        j.observed.starts_with("given up after 404 ms (card side) (sooner than a correct firmware can know)"),
        "{}",
        j.observed
    );
    let in_window = Seen::default().tries_first(0, 0).judged(700, 0, true).switches(705, 0, 2);
    assert_eq!(checked(&c, "master-reject", in_window, "master_judgement").status, Status::Pass);
    // master-silent-timeout: silence is judged at T = 30 s, not before 29.5 s.
    let too_soon = Seen::default().tries_first(0, 0).judged(20_000, 0, false).switches(20_005, 0, 2);
    let j = checked(&c, "master-silent-timeout", too_soon, "master_judgement");
    assert_eq!(j.status, Status::Fail, "{j:?}");
    assert!(j.expected.starts_with("failed at T between 29.5 s and 30.5 s"), "{}", j.expected);
}

#[test]
fn attempt_order_compares_the_card_sides_attempts_with_the_oracle() {
    let c = catalog();
    let wrong =
        Seen::default().tries_first(0, 0).judged(1150, 0, true).switches(1160, 0, 1).connected(2700, 1);
    let o = checked(&c, "master-reject", wrong, "attempt_order");
    assert_eq!(o.status, Status::Fail);
    assert_eq!(o.expected, "o2-de-1, vodafone-uk-1");
    assert_eq!(o.observed, "o2-de-1 (card side), orange-fr-1 (card side)");
}

#[test]
fn a_console_that_contradicts_the_card_side_fails_console_claims_and_the_order_follows_the_card_side() {
    let c = catalog();
    // The console names the right standby while the card side saw the DUT reset orange-fr-1
    // (slot 1): the order is the card side's, and the claim fails quoting both.
    let lying = Seen::default()
        .tries_first(0, 0)
        .authenticated(300, 0)
        .judged(1150, 0, true)
        .attempt(1160, 2)
        .deactivated(1163, 0)
        .activated(1164, 1)
        .authenticated(1460, 1)
        .report(2700, &imsi(&c, "orange-fr-1"));
    let checks = judge(&c, "master-reject", lying);
    let order = check(&checks, "attempt_order");
    assert_eq!(
        (order.status, order.observed.as_str()),
        (Status::Fail, "o2-de-1 (card side), orange-fr-1 (card side)")
    );
    let claims = check(&checks, "console_claims");
    assert_eq!(claims.status, Status::Fail);
    assert_eq!(
        claims.observed,
        "console: attempt vodafone-uk-1 at 1.16 s; card side: slot 1 (orange-fr-1) reset at 1.164 s, AUTHENTICATE at 1.46 s"
    );
    // The other way round: the DUT did right and its console names the wrong standby. The
    // order passes on the card side; only the claim fails.
    let misreported = Seen::default()
        .tries_first(0, 0)
        .judged(1150, 0, true)
        .attempt(1160, 1)
        .deactivated(1163, 0)
        .activated(1164, 2);
    let checks = judge(&c, "master-reject", misreported);
    assert_eq!(check(&checks, "attempt_order").status, Status::Pass);
    let claims = check(&checks, "console_claims");
    assert_eq!(claims.status, Status::Fail);
    assert_eq!(
        claims.observed,
        "console: attempt orange-fr-1 at 1.16 s; card side: slot 2 (vodafone-uk-1) reset at 1.164 s"
    );
    // A console that claims an attempt the card side never saw.
    let invented = master_reject_right(&c).attempt(1300, 1);
    let claims = checked(&c, "master-reject", invented, "console_claims");
    assert_eq!(claims.status, Status::Fail);
    assert_eq!(claims.observed, "console: attempt orange-fr-1 at 1.3 s; card side: no further card session");
}

#[test]
fn a_bench_without_a_card_side_judges_on_the_console_and_cannot_cross_check_it() {
    let c = catalog();
    let console_only =
        Seen::default().attempt(0, 0).judged(1150, 0, true).attempt(1160, 2).connected(2700, 2);
    let checks = judge(&c, "master-reject", console_only);
    assert_eq!(check(&checks, "master_first").observed, "o2-de-1 (console alone)");
    let master = check(&checks, "master_judgement");
    assert_eq!((master.status, master.measured_ms), (Status::Pass, Some(1150.0)));
    assert!(master.observed.starts_with("given up after 1.15 s (console alone)"), "{}", master.observed);
    assert_eq!(check(&checks, "attempt_order").status, Status::Pass);
    let claims = check(&checks, "console_claims");
    assert_eq!(claims.status, Status::NotObservable);
    assert_eq!(claims.observed, "not observable on this bench: no card side on this bench");
}

#[test]
fn standby_judgements_time_every_failed_standby_against_its_window() {
    let c = catalog();
    // all-exhausted: ee-uk-1 (rejected after 850 ms), telekom-de-2 (after 250 ms) and
    // claro-br-1 (no cell: at T = 20 s) all fail.
    let right = checked(&c, "all-exhausted", all_exhausted(855), "standby_judgements");
    assert_eq!(right.status, Status::Pass, "{right:?}");
    assert_eq!(
        right.expected,
        "ee-uk-1: failed explicit between 350 ms and 1.35 s; telekom-de-2: failed explicit within 750 ms; \
         claro-br-1: failed at T between 19.5 s and 20.5 s"
    );
    // claro-br-1's card stays powered: its end is the console's judgement.
    assert!(right.observed.contains("claro-br-1: given up after 20 s (console alone)"), "{}", right.observed);
    // ee-uk-1 given up after 199 ms, before the network could have rejected it.
    let early = checked(&c, "all-exhausted", all_exhausted(200), "standby_judgements");
    assert_eq!(early.status, Status::Fail);
    assert_eq!((early.measured_ms, early.limit_ms), (Some(199.0), Some(1350.0)));
    assert!(
        early.observed.starts_with(
            "ee-uk-1: given up after 199 ms (card side) (sooner than a correct firmware can know)"
        ),
        "{}",
        early.observed
    );
    // ee-uk-1 held for 1.499 s: beyond its bound.
    let late = checked(&c, "all-exhausted", all_exhausted(1500), "standby_judgements");
    assert_eq!(late.status, Status::Fail);
    assert_eq!((late.measured_ms, late.limit_ms), (Some(1499.0), Some(1350.0)));
    // A scenario whose only standby connects has none to time.
    let none = checked(&c, "master-reject", master_reject_right(&c), "standby_judgements");
    assert_eq!((none.status, none.observed.as_str()), (Status::Pass, "none"));
}

#[test]
fn winner_fails_on_a_wrong_claim_and_on_any_source_pointing_elsewhere() {
    let c = catalog();
    // Data went through vodafone-uk-1, but the firmware claims orange-fr-1.
    let mut wrong_claim = master_reject_right(&c);
    wrong_claim.0.console.retain(|e| !matches!(e.event, Event::Connected { .. }));
    let w = checked(&c, "master-reject", wrong_claim.connected(2710, 1), "winner");
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.starts_with("firmware: orange-fr-1"), "{}", w.observed);
    // The right claim, but the card that authenticated last is slot 1's.
    let card = master_reject_right(&c).authenticated(2600, 1);
    let w = checked(&c, "master-reject", card, "winner");
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.contains("authenticated last in slot 1 (orange-fr-1) at 2.6 s"), "{}", w.observed);
    // The network registered somebody else last.
    let net = master_reject_right(&c).network(2600, &imsi(&c, "orange-fr-1"), StepKind::Registered);
    let w = checked(&c, "master-reject", net, "winner");
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.contains("network registered: orange-fr-1 (slot 1) at 2.6 s"), "{}", w.observed);
    // The backend got the report through another seed only.
    let mut other = master_reject_right(&c);
    other.0.reports.clear();
    let other = other.report(2700, &imsi(&c, "orange-fr-1"));
    assert_eq!(checked(&c, "master-reject", other, "winner").status, Status::Fail);
}

#[test]
fn winner_on_a_lab_rests_on_independent_sources_never_on_the_claim_alone() {
    let c = catalog();
    // A lab: no network record; the card and the claimed report agree.
    let mut lab = master_reject_right(&c);
    lab.0.network = None;
    lab.0.report_imsi = ReportImsi::Claimed;
    let w = checked(&c, "master-reject", lab, "winner");
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
    assert!(w.observed.contains("by the IMSI the report claims"), "{}", w.observed);
    // Nothing but the console: not observable, never a pass.
    let bare = Seen::default().attempt(0, 0).judged(1150, 0, true).attempt(1160, 2).connected(2700, 2);
    let w = checked(&c, "master-reject", bare, "winner");
    assert_eq!(w.status, Status::NotObservable);
    assert_eq!(
        w.observed,
        "not observable on this bench: no independent source names the winner (firmware: vodafone-uk-1)"
    );
}

#[test]
fn exhausted_passes_when_no_data_went_through_and_fails_on_delivered_data_or_a_claimed_win() {
    let c = catalog();
    let ee = imsi(&c, "ee-uk-1");
    assert_all_pass(&judge(&c, "all-exhausted", all_exhausted(855)));
    // A seed that registered but never had a data path did not connect.
    let registered_only = all_exhausted(855).network(1200, &ee, StepKind::Registered);
    let w = checked(&c, "all-exhausted", registered_only, "winner");
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
    let delivered = all_exhausted(855).network(1300, &ee, StepKind::DataDelivered);
    let w = checked(&c, "all-exhausted", delivered, "winner");
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.contains("network delivered data for ee-uk-1 (slot 3) at 1.3 s"), "{}", w.observed);
    // The console claims a win the bench never saw.
    let claimed = all_exhausted(855).connected(21_200, 1);
    let w = checked(&c, "all-exhausted", claimed, "winner");
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.starts_with("firmware connected claro-br-1 (slot 1) at 21.2 s"), "{}", w.observed);
    // A console that never says `exhausted` is no failure: the bench decides on the data.
    let w = checked(&c, "all-exhausted", all_exhausted(855).without_console(), "winner");
    assert_eq!(
        (w.status, w.observed.as_str()),
        (Status::Pass, "firmware: no claim; no data through any seed")
    );
}

#[test]
fn stalled_passes_while_the_dut_stays_on_the_stalled_seed() {
    // result-no-cell-stalls: vodafone-de-1 (slot 0) rejected after 1 s; claro-br-1 (slot 1)
    // hears no cell and, under `result` judgement, is waited on forever.
    let c = catalog();
    let stalls =
        || Seen::default().tries_first(0, 0).authenticated(300, 0).judged(1000, 0, true).switches(1005, 0, 1);
    let w = checked(&c, "result-no-cell-stalls", stalls(), "winner");
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
    assert!(w.observed.ends_with("still on claro-br-1 (card side)"), "{}", w.observed);
    // Saying `exhausted` is wrong for a stall.
    let said = stalls().console(21_000, Event::Exhausted { pass: 1 });
    assert_eq!(checked(&c, "result-no-cell-stalls", said, "winner").status, Status::Fail);
    // So is giving the stalled seed up, as the card side sees it.
    let w = checked(&c, "result-no-cell-stalls", stalls().deactivated(21_000, 1), "winner");
    assert_eq!(w.status, Status::Fail);
    assert!(w.observed.ends_with("claro-br-1 given up (card side)"), "{}", w.observed);
}

#[test]
fn time_to_winner_is_measured_from_start_to_the_benchs_win() {
    let c = catalog();
    let t = checked(&c, "master-reject", master_reject_right(&c), "time_to_winner");
    assert_eq!((t.measured_ms, t.observed.as_str()), (Some(2700.0), "2.7 s (backend)"));
    let slow = checked(&c, "master-reject", master_reject_winning_at(&c, 61_000), "time_to_winner");
    assert_eq!(slow.status, Status::Fail);
    assert_eq!((slow.measured_ms, slow.limit_ms), (Some(61_000.0), Some(60_000.0)));
    // Without a backend report, the network's delivery; without either, the console's claim.
    let mut no_report = master_reject_right(&c);
    no_report.0.reports.clear();
    let t = checked(&c, "master-reject", no_report, "time_to_winner");
    assert_eq!((t.measured_ms, t.observed.as_str()), (Some(2690.0), "2.69 s (network)"));
    let console_only =
        Seen::default().attempt(0, 0).judged(1150, 0, true).attempt(1160, 2).connected(2710, 2);
    let t = checked(&c, "master-reject", console_only, "time_to_winner");
    assert_eq!((t.measured_ms, t.observed.as_str()), (Some(2710.0), "2.71 s (console alone)"));
    let started_late = master_reject_right(&c).started(100);
    assert_eq!(checked(&c, "master-reject", started_late, "time_to_winner").measured_ms, Some(2600.0));
    let never = Seen::default().tries_first(0, 0);
    assert_eq!(checked(&c, "master-reject", never, "time_to_winner").observed, "never connected");
}

#[test]
fn report_must_come_through_the_winner_and_none_when_exhausted() {
    let c = catalog();
    let mut none = master_reject_right(&c);
    none.0.reports.clear();
    let r = checked(&c, "master-reject", none, "report");
    assert_eq!((r.status, r.observed.as_str()), (Status::Fail, "no report"));
    let exhausted = all_exhausted(855).report(1300, &imsi(&c, "ee-uk-1"));
    let r = checked(&c, "all-exhausted", exhausted, "report");
    assert_eq!((r.status, r.observed.as_str()), (Status::Fail, "1 report(s)"));
}

#[test]
fn settled_fails_on_an_attempt_after_the_win() {
    let c = catalog();
    // The DUT moves on to orange-fr-1 after data went through vodafone-uk-1: the card side
    // sees slot 1 reset, the console says so too.
    let switching = master_reject_right(&c).switches(5000, 2, 1);
    let s = checked(&c, "master-reject", switching, "settled");
    assert_eq!(
        (s.status, s.observed.as_str()),
        (Status::Fail, "1 card session(s), 1 console attempt(s): slot 1 (orange-fr-1) reset at 5.004 s")
    );
    // The card side alone is enough.
    let quietly = master_reject_right(&c).without_console().deactivated(5003, 2).activated(5004, 1);
    let s = checked(&c, "master-reject", quietly, "settled");
    assert_eq!(s.status, Status::Fail);
    assert!(s.observed.starts_with("1 card session(s), 0 console attempt(s)"), "{}", s.observed);
    // No win when one was expected.
    let s = checked(&c, "master-reject", Seen::default(), "settled");
    assert_eq!(s.status, Status::Fail);
}

#[test]
fn winner_orders_the_trace_by_when_commands_arrived_not_when_they_were_recorded() {
    // A slow card's AUTHENTICATE is recorded when its late answer comes, after the winner's.
    let c = catalog();
    let slow_master_recorded_late = master_reject_right(&c).authenticated(450, 0);
    let w = checked(&c, "master-reject", slow_master_recorded_late, "winner");
    assert_eq!(w.status, Status::Pass, "{}", w.observed);
}

#[test]
fn a_reference_modems_registrations_are_not_the_duts() {
    let c = catalog();
    let mut seen = master_reject_right(&c);
    seen.0.observer_is_dut_modem = false;
    let w = checked(&c, "master-reject", seen, "winner");
    assert_eq!(w.status, Status::Pass);
    assert!(!w.observed.contains("observer port"), "{}", w.observed);
}

#[test]
fn the_rigs_own_measured_time_is_allowed_in_real_time_beside_a_nominal_bound_and_no_more() {
    let c = catalog();
    let scenario = &c.scenarios["master-reject"];
    let expected = expect(&ScenarioView::from_catalog(&c, scenario).unwrap());
    // master-reject's bound is 1.65 s nominal; at scale 0.01 that is 16.5 ms real. The card
    // side saw the master's card reset at 0 and powered down after 17.5 ms real (1.75 s
    // nominal): 1 ms late on radio time alone.
    let scale = TimeScale::new(0.01);
    let seen = |commands: usize| {
        let mut e = Seen::default().attempt(0, 0).activated(0, 0).judged(17, 0, true).deactivated(0, 0).0;
        e.card_events[1].at = Duration::from_micros(17_500);
        // Ten exchanges of 100 µs each, plus the console line that reported the result.
        e.rig_time = Some(crate::bench::evidence::RigTime {
            at_exchange: Duration::from_micros(100),
            dut_commands: (1..=commands as u64).map(|n| Duration::from_micros(n * 1000)).collect(),
            late_waits: Vec::new(),
            card_resets: Vec::new(),
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
    assert_eq!(j.measured_ms, Some(1750.0));
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
