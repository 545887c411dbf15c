//! `+QENG`, `+CSQ`, `+CESQ`, `+COPS?`, `+COPS=?` (and `+QCSQ`, `+QNWINFO`) never disagree:
//! property tests over the signal of any cell of any RAT, and over random sessions (register,
//! reject, silence, deregister, pull and insert the card, scan mode, radio off, a context, new
//! signal levels) on the modem over its PTY.

use std::time::Duration;

use proptest::prelude::*;

use super::{Client, Verdict, cell, rig};
use crate::bridge::CardFault;
use crate::model::{Plmn, Rat};
use crate::sim::modem::netinfo::servingcell;
use crate::sim::modem::radio::{CampState, Camped, CellParams, Measures};

/// One report of each kind, taken together.
#[derive(Debug)]
struct Snapshot {
    qeng: String,
    csq: String,
    cesq: String,
    cops: String,
    scan: String,
    qcsq: String,
    qnwinfo: String,
}

fn fields(line: &str) -> Vec<&str> {
    line.split_once(": ").map_or(line, |(_, rest)| rest).split(',').map(|f| f.trim_matches('"')).collect()
}

fn num(s: &str) -> i32 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

/// `(value + offset) / step` rounded, within 0..=max, as 27.007 maps dBm to indices.
fn index(value: i32, offset: i32, step: i32, max: i32) -> i32 {
    (f64::from(value + offset) / f64::from(step)).round().clamp(0.0, f64::from(max)) as i32
}

/// The camped cell's measures and identity as `+QENG` shows them.
struct Shown {
    state: String,
    act: u8,
    plmn: String,
    /// (rssi, rsrp, rsrq, rscp, ecno) as far as the RAT shows them.
    rssi: Option<i32>,
    rsrp: Option<i32>,
    rsrq: Option<i32>,
    sinr: Option<i32>,
    rscp: Option<i32>,
    ecno: Option<i32>,
}

fn shown(qeng: &str) -> Option<Shown> {
    let f = fields(qeng);
    assert_eq!(f[0], "servingcell", "{qeng}");
    if f[1] == "SEARCH" {
        assert_eq!(f.len(), 2, "{qeng}");
        return None;
    }
    let opt = |i: usize| Some(num(f[i]));
    let base = |act, mcc: &str, mnc: &str| Shown {
        state: f[1].to_owned(),
        act,
        plmn: format!("{mcc}{mnc}"),
        rssi: None,
        rsrp: None,
        rsrq: None,
        sinr: None,
        rscp: None,
        ecno: None,
    };
    Some(match f[2] {
        "LTE" => {
            assert_eq!(f.len(), 20, "{qeng}");
            Shown { rsrp: opt(13), rsrq: opt(14), rssi: opt(15), sinr: opt(16), ..base(7, f[4], f[5]) }
        }
        "NR5G-SA" => {
            assert_eq!(f.len(), 17, "{qeng}");
            Shown { rsrp: opt(12), rsrq: opt(13), sinr: opt(14), ..base(11, f[4], f[5]) }
        }
        "WCDMA" => {
            assert_eq!(f.len(), 17, "{qeng}");
            Shown { rscp: opt(10), ecno: opt(11), ..base(2, f[3], f[4]) }
        }
        "GSM" => {
            assert_eq!(f.len(), 27, "{qeng}");
            Shown { rssi: opt(10), ..base(0, f[3], f[4]) }
        }
        other => panic!("RAT {other} in {qeng}"),
    })
}

/// The signal reports agree with `+QENG`'s measurements (or all say "nothing").
fn check_signal(s: &Shown, csq: &str, cesq: &str, qcsq: &str) {
    let (csq, cesq, qcsq) = (fields(csq), fields(cesq), fields(qcsq));
    let cesq: Vec<i32> = cesq.iter().map(|v| num(v)).collect();
    match s.act {
        7 | 11 => {
            let (rsrp, rsrq) = (s.rsrp.unwrap(), s.rsrq.unwrap());
            assert_eq!(cesq, [99, 99, 255, 255, index(2 * rsrq, 40, 1, 34), index(rsrp, 141, 1, 97)]);
            if s.act == 7 {
                let rssi = s.rssi.unwrap();
                assert_eq!(num(csq[0]), index(rssi, 113, 2, 31));
                let sinr = s.sinr.unwrap();
                assert_eq!(
                    qcsq,
                    [
                        "LTE",
                        &rssi.to_string(),
                        &rsrp.to_string(),
                        &index(5 * sinr, 100, 1, 250).to_string(),
                        &rsrq.to_string()
                    ]
                );
            } else {
                assert_ne!(csq[0], "99");
                assert_eq!(
                    qcsq,
                    ["NR5G", &rsrp.to_string(), &s.sinr.unwrap().to_string(), &rsrq.to_string()]
                );
            }
        }
        2 => {
            let (rscp, ecno) = (s.rscp.unwrap(), s.ecno.unwrap());
            assert_eq!(cesq, [99, 99, index(rscp, 121, 1, 96), index(2 * ecno, 49, 1, 49), 255, 255]);
            assert_eq!(num(csq[0]), index(rscp - ecno, 113, 2, 31));
            assert_eq!(qcsq, ["WCDMA", &(rscp - ecno).to_string(), &rscp.to_string(), &ecno.to_string()]);
        }
        _ => {
            let rssi = s.rssi.unwrap();
            assert_eq!(cesq, [index(rssi, 111, 1, 63), 99, 255, 255, 255, 255]);
            assert_eq!(num(csq[0]), index(rssi, 113, 2, 31));
            assert_eq!(qcsq, ["GSM", &rssi.to_string()]);
        }
    }
    assert_eq!(csq[1], "99");
}

fn check(snap: &Snapshot) {
    let scan_entries: Vec<(String, String, u8)> = snap
        .scan
        .trim_start_matches("+COPS: ")
        .split(",,")
        .next()
        .unwrap()
        .split("),(")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let f: Vec<&str> = e.trim_matches(|c| c == '(' || c == ')').split(',').collect();
            (f[0].to_owned(), f[3].trim_matches('"').to_owned(), f[4].parse().unwrap())
        })
        .collect();
    let current: Vec<_> = scan_entries.iter().filter(|e| e.0 == "2").collect();
    let cops = fields(&snap.cops);
    match shown(&snap.qeng) {
        None => {
            assert_eq!(
                (snap.csq.as_str(), snap.cesq.as_str()),
                ("+CSQ: 99,99", "+CESQ: 99,99,255,255,255,255")
            );
            assert_eq!(snap.qcsq, "+QCSQ: \"NOSERVICE\"");
            assert_eq!(snap.qnwinfo, "+QNWINFO: No Service");
            assert_eq!(cops.len(), 1, "searching, yet {}", snap.cops);
            assert!(current.is_empty(), "searching, yet {}", snap.scan);
        }
        Some(s) => {
            check_signal(&s, &snap.csq, &snap.cesq, &snap.qcsq);
            assert!(
                scan_entries.iter().any(|e| e.1 == s.plmn && e.2 == s.act),
                "camped on {}/{} which +COPS=? does not list: {}",
                s.plmn,
                s.act,
                snap.scan
            );
            if s.state == "LIMSRV" {
                assert_eq!(cops.len(), 1, "limited service, yet {}", snap.cops);
                assert!(current.is_empty(), "limited service, yet {}", snap.scan);
                assert_eq!(snap.qnwinfo, "+QNWINFO: No Service");
            } else {
                assert!(s.state == "NOCONN" || s.state == "CONNECT", "{}", snap.qeng);
                assert_eq!(cops.len(), 4, "{}", snap.cops);
                assert_eq!((cops[1], cops[2], num(cops[3])), ("2", s.plmn.as_str(), i32::from(s.act)));
                assert_eq!(current.len(), 1, "{}", snap.scan);
                assert_eq!((current[0].1.as_str(), current[0].2), (s.plmn.as_str(), s.act));
                assert!(snap.qnwinfo.contains(&format!("\"{}\"", s.plmn)), "{}", snap.qnwinfo);
            }
        }
    }
}

fn rat_strategy() -> impl Strategy<Value = Rat> {
    prop_oneof![Just(Rat::Gsm), Just(Rat::Umts), Just(Rat::Lte), Just(Rat::Nr)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any cell, any signal, any state: what `+QENG` shows is what `+CSQ`, `+CESQ` and `+QCSQ`
    /// are made from.
    #[test]
    fn reports_of_one_cell_agree(rat in rat_strategy(), dbm in -160.0f64..-20.0, state in 0u8..3) {
        let plmn = Plmn::parse("262-01").unwrap();
        let measures = Measures::of(rat, dbm);
        let camped = Camped {
            params: CellParams::of(&plmn, rat, None),
            plmn,
            rat,
            label: None,
            measures: Some(measures),
            state: [CampState::Idle, CampState::Connected, CampState::Limited][usize::from(state)],
        };
        let qeng = servingcell(Some(&camped));
        let s = shown(&qeng).unwrap();
        prop_assert_eq!(s.plmn.as_str(), "26201");
        let csq = format!("+CSQ: {},99", measures.csq());
        let cesq = format!("+CESQ: {}", measures.cesq());
        let qcsq = match rat {
            Rat::Gsm => format!("+QCSQ: \"GSM\",{}", measures.rssi),
            Rat::Umts => format!("+QCSQ: \"WCDMA\",{},{},{}", measures.rssi, measures.rscp, measures.ecno),
            Rat::Lte => format!("+QCSQ: \"LTE\",{},{},{},{}", measures.rssi, measures.rsrp, measures.sinr_index(), measures.rsrq),
            Rat::Nr => format!("+QCSQ: \"NR5G\",{},{},{}", measures.rsrp, measures.sinr, measures.rsrq),
        };
        check_signal(&s, &csq, &cesq, &qcsq);
    }
}

/// Something done to the modem, its card or its network.
#[derive(Debug, Clone)]
enum Op {
    Register {
        roaming: bool,
    },
    Reject(u8),
    Silent,
    Deregister,
    Pull,
    Insert,
    ScanMode(u8),
    Radio(bool),
    Context,
    /// New signal levels for the site's five cells.
    Signal([i16; 5]),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<bool>().prop_map(|roaming| Op::Register { roaming }),
        1 => prop_oneof![Just(11u8), Just(15u8)].prop_map(Op::Reject),
        1 => Just(Op::Silent),
        1 => Just(Op::Deregister),
        1 => Just(Op::Pull),
        2 => Just(Op::Insert),
        2 => (0u8..4).prop_map(Op::ScanMode),
        1 => any::<bool>().prop_map(Op::Radio),
        1 => Just(Op::Context),
        2 => proptest::array::uniform5(-125i16..-45).prop_map(Op::Signal),
    ]
}

/// The site with these levels: Telekom LTE `fra-1` (where the scripted network registers),
/// Vodafone LTE, Telekom GSM, Vodafone UMTS, Telekom NR; strongest first, as a network lists.
fn site(dbm: [i16; 5]) -> Vec<crate::sim::network::HeardCell> {
    let mut cells = vec![
        cell("262-01", "Telekom Deutschland", "Telekom", Rat::Lte, f64::from(dbm[0]) + 0.3, Some("fra-1")),
        cell("262-02", "Vodafone Germany", "Vodafone", Rat::Lte, f64::from(dbm[1]), None),
        cell("262-01", "Telekom Deutschland", "Telekom", Rat::Gsm, f64::from(dbm[2]), None),
        cell("262-02", "Vodafone Germany", "Vodafone", Rat::Umts, f64::from(dbm[3]), None),
        cell("262-01", "Telekom Deutschland", "Telekom", Rat::Nr, f64::from(dbm[4]) - 0.4, Some("fra-nr")),
    ];
    cells.sort_by(|a, b| b.dbm.total_cmp(&a.dbm));
    cells
}

/// What decides whether a snapshot was taken in one state: the registration and the card.
async fn state(c: &mut Client) -> (Vec<String>, String, Vec<String>, String) {
    let (reg, reg_end) = c.ask("AT+CREG?").await;
    let (imsi, imsi_end) = c.ask("AT+CIMI").await;
    (reg, reg_end, imsi, imsi_end)
}

/// Takes the reports until they were all taken in one state, and checks them.
async fn check_now(c: &mut Client) {
    for _ in 0..100 {
        let before = state(c).await;
        let snap = Snapshot {
            qeng: c.one("AT+QENG=\"servingcell\"").await,
            csq: c.one("AT+CSQ").await,
            cesq: c.one("AT+CESQ").await,
            cops: c.one("AT+COPS?").await,
            scan: c.one("AT+COPS=?").await,
            qcsq: c.one("AT+QCSQ").await,
            qnwinfo: c.one("AT+QNWINFO").await,
        };
        if state(c).await == before {
            return check(&snap);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the modem never held still");
}

async fn session(ops: Vec<Op>) {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    rig.net.set_cells(site([-71, -80, -85, -90, -95]));
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    obs.at("ATE0;+COPS=3,2", "ATE0;+COPS=3,2\r\r\nOK\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    obs.until("+CPIN: READY\r\n").await;
    check_now(&mut obs).await;
    for op in ops {
        match op {
            Op::Register { roaming } => {
                rig.net.set_verdict(Verdict::Accept { roaming });
                fw.ask("AT+COPS=0").await;
            }
            Op::Reject(cause) => {
                rig.net.set_verdict(Verdict::Reject(cause));
                fw.ask("AT+COPS=2;+COPS=0").await;
            }
            Op::Silent => {
                rig.net.set_verdict(Verdict::Never);
                fw.ask("AT+COPS=2;+COPS=0").await;
            }
            Op::Deregister => drop(fw.ask("AT+COPS=2").await),
            Op::Pull => faults.apply(CardFault::Pulled),
            Op::Insert => faults.insert(),
            Op::ScanMode(mode) => drop(fw.ask(&format!("AT+QCFG=\"nwscanmode\",{mode}")).await),
            Op::Radio(on) => drop(fw.ask(if on { "AT+CFUN=1" } else { "AT+CFUN=4" }).await),
            Op::Context => drop(fw.ask("AT+CGACT=1,1").await),
            Op::Signal(dbm) => rig.net.set_cells(site(dbm)),
        }
        // Some changes take a moment (the card's line, an attach); any moment must agree.
        tokio::time::sleep(Duration::from_millis(5)).await;
        check_now(&mut obs).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        check_now(&mut obs).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 16, ..ProptestConfig::default() })]

    /// Random sessions on the modem over its PTY: after every step the reports agree.
    #[test]
    fn reports_never_disagree_in_a_session(ops in proptest::collection::vec(op_strategy(), 1..10)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(session(ops));
    }
}
