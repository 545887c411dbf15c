//! Quectel's network reports (`+QENG`, `+QNWINFO`, `+QCSQ`, `+QSPN`) next to `+CSQ`, `+CESQ`,
//! `+COPS?`, `+COPS=?` and `+QOPS`, in every state: registered (idle and with a context),
//! searching, denied (limited service), card pulled mid-session, radio off; and the scan mode
//! and bands of `+QCFG`, which decide what the modem camps on.

use std::time::Duration;

use super::{Client, TELEKOM_IMSI, Verdict, params, rig};
use crate::bridge::CardFault;
use crate::model::Rat;

/// The fake network's serving cell (Telekom LTE `fra-1`, −71 dBm) in `+QENG` form.
fn telekom_lte(state: &str) -> String {
    let p = params("262-01", Rat::Lte, Some("fra-1"));
    format!(
        "+QENG: \"servingcell\",\"{state}\",\"LTE\",\"FDD\",262,01,{:X},{},{},3,3,3,{:X},-71,-11,-43,22,-,-,69",
        p.ci, p.phys, p.channel, p.tac
    )
}

/// Telekom's GSM cell (−85 dBm) as a neighbour.
fn telekom_gsm_neighbour() -> String {
    let p = params("262-01", Rat::Gsm, None);
    format!("+QENG: \"neighbourcell\",\"GSM\",{},-,-,-,-,0,{},-85,25", p.channel, p.phys)
}

const ALL_CELLS: &str = "+COPS: (1,\"Telekom Deutschland\",\"Telekom\",\"26201\",7),(1,\"Vodafone Germany\",\
                         \"Vodafone\",\"26202\",7),(1,\"Telekom Deutschland\",\"Telekom\",\"26201\",0),,\
                         (0,1,2,3,4),(0,1,2)";
const NOTHING: [&str; 5] = [
    "+QENG: \"servingcell\",\"SEARCH\"",
    "+QNWINFO: No Service",
    "+QCSQ: \"NOSERVICE\"",
    "+CSQ: 99,99",
    "+CESQ: 99,99,255,255,255,255",
];

/// Every report of a modem camped on nothing.
async fn expect_nothing(c: &mut Client) {
    for (cmd, want) in
        ["AT+QENG=\"servingcell\"", "AT+QNWINFO", "AT+QCSQ", "AT+CSQ", "AT+CESQ"].into_iter().zip(NOTHING)
    {
        assert_eq!(c.one(cmd).await, want, "{cmd}");
    }
    // The mode only (0 automatic, 2 after a deregistration): no operator.
    let cops = c.one("AT+COPS?").await;
    assert!(cops == "+COPS: 0" || cops == "+COPS: 2", "{cops}");
    assert_eq!(c.ask("AT+QENG=\"neighbourcell\"").await, (vec![], "OK".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_cell_reports_while_registered_on_both_ports() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;

    // A card, no registration yet.
    expect_nothing(&mut fw).await;
    fw.at("AT+QSPN", "\r\n+CME ERROR: 30\r\n").await;
    fw.at("AT+COPS=?", &format!("\r\n{ALL_CELLS}\r\n\r\nOK\r\n")).await;

    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    let lte = params("262-01", Rat::Lte, Some("fra-1"));
    for c in [&mut fw, &mut obs] {
        assert_eq!(c.one("AT+QENG=\"servingcell\"").await, telekom_lte("NOCONN"));
        assert_eq!(
            c.one("AT+QNWINFO").await,
            format!("+QNWINFO: \"FDD LTE\",\"26201\",\"LTE BAND 3\",{}", lte.channel)
        );
        assert_eq!(c.one("AT+QCSQ").await, "+QCSQ: \"LTE\",-43,-71,210,-11");
        assert_eq!(c.one("AT+CSQ").await, "+CSQ: 31,99");
        assert_eq!(c.one("AT+CESQ").await, "+CESQ: 99,99,255,255,18,70");
        assert_eq!(
            c.one("AT+QSPN").await,
            "+QSPN: \"Telekom Deutschland\",\"Telekom\",\"telekom-de\",0,\"26201\""
        );
        assert_eq!(c.one("AT+QENG=\"neighbourcell\"").await, telekom_gsm_neighbour());
        assert_eq!(c.one("AT+COPS?").await, "+COPS: 0,2,\"26201\",7");
    }
    // `+QOPS` shows the same channel and PCI as `+QENG`.
    let (qops, _) = fw.ask("AT+QOPS").await;
    assert_eq!(qops[1], format!("1,\"LTE\",{},{},-71", lte.channel, lte.phys));

    // A context makes the cell's state CONNECT.
    fw.at("AT+CGDCONT=1,\"IP\",\"internet\";+CGACT=1,1", "\r\nOK\r\n").await;
    assert_eq!(fw.one("AT+QENG=\"servingcell\"").await, telekom_lte("CONNECT"));
    assert_eq!(obs.one("AT+QENG=\"servingcell\"").await, telekom_lte("CONNECT"));

    // The operator's name per port, as `+COPS=3,<format>` says.
    fw.at("AT+COPS=3,0", "\r\nOK\r\n").await;
    fw.at("AT+COPS?", "\r\n+COPS: 0,0,\"Telekom Deutschland\",7\r\n\r\nOK\r\n").await;
    fw.at("AT+COPS=3,1;+COPS?", "\r\n+COPS: 0,1,\"Telekom\",7\r\n\r\nOK\r\n").await;
    obs.at("AT+COPS?", "\r\n+COPS: 0,2,\"26201\",7\r\n\r\nOK\r\n").await;
    fw.at("AT+COPS=3", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+COPS=3,2;+COPS?", "\r\n+COPS: 0,2,\"26201\",7\r\n\r\nOK\r\n").await;

    // Names in UCS2 when the port says so.
    fw.at("AT+CSCS=\"UCS2\"", "\r\nOK\r\n").await;
    let (lines, _) = fw.ask("AT+QSPN").await;
    assert_eq!(
        lines,
        ["+QSPN: \"00540065006C0065006B006F006D00200044006500750074007300630068006C0061006E0064\",\
                        \"00540065006C0065006B006F006D\",\"00740065006C0065006B006F006D002D00640065\",1,\"26201\""]
    );

    fw.at("AT+QENG=\"cells\"", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QENG?", "\r\n+CME ERROR: 4\r\n").await;
    fw.at("AT+QENG=?", "\r\n+QENG: (\"servingcell\",\"neighbourcell\")\r\n\r\nOK\r\n").await;
    fw.at("AT+QNWINFO=?", "\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_when_searching_denied_pulled_and_radio_off() {
    let mut rig = rig(1, Verdict::Never).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;

    // No card at all.
    expect_nothing(&mut obs).await;
    obs.at("AT+QSPN", "\r\n+CME ERROR: 10\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;

    // Searching: the network never answers.
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    expect_nothing(&mut obs).await;
    obs.at("AT+COPS=?", &format!("\r\n{ALL_CELLS}\r\n\r\nOK\r\n")).await;
    obs.at("AT+QSPN", "\r\n+CME ERROR: 30\r\n").await;

    // Denied: limited service on the strongest cell, not registered. (The verdict changes once
    // the silent attach is cancelled: one not yet under way would take the new one.)
    fw.at("AT+COPS=2", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    rig.net.set_verdict(Verdict::Reject(15));
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 3\r\n").await;
    for c in [&mut fw, &mut obs] {
        assert_eq!(c.one("AT+QENG=\"servingcell\"").await, telekom_lte("LIMSRV"));
        assert_eq!(c.one("AT+CSQ").await, "+CSQ: 31,99");
        assert_eq!(c.one("AT+CESQ").await, "+CESQ: 99,99,255,255,18,70");
        assert_eq!(c.one("AT+QCSQ").await, "+QCSQ: \"LTE\",-43,-71,210,-11");
        assert_eq!(c.one("AT+COPS?").await, "+COPS: 0");
        assert_eq!(c.one("AT+QNWINFO").await, "+QNWINFO: No Service");
        assert_eq!(c.one("AT+QENG=\"neighbourcell\"").await, telekom_gsm_neighbour());
    }
    obs.at("AT+COPS=?", &format!("\r\n{ALL_CELLS}\r\n\r\nOK\r\n")).await;
    obs.at("AT+QSPN", "\r\n+CME ERROR: 30\r\n").await;

    // Registered, then the card is pulled mid-session.
    rig.net.set_verdict(Verdict::Accept { roaming: true });
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 5\r\n").await;
    assert_eq!(obs.one("AT+QENG=\"servingcell\"").await, telekom_lte("NOCONN"));
    faults.apply(CardFault::Pulled);
    fw.expect("\r\n+CEREG: 0\r\n\r\n+CPIN: NOT READY\r\n").await;
    obs.expect("\r\n+CPIN: NOT READY\r\n").await;
    expect_nothing(&mut obs).await;
    obs.at("AT+COPS=?", &format!("\r\n{ALL_CELLS}\r\n\r\nOK\r\n")).await;
    obs.at("AT+QSPN", "\r\n+CME ERROR: 10\r\n").await;

    // Radio off: nothing heard at all.
    faults.insert();
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 5\r\n").await;
    fw.at("AT+CFUN=4", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    expect_nothing(&mut obs).await;
    obs.at("AT+COPS=?", "\r\n+COPS: ,,(0,1,2,3,4),(0,1,2)\r\n\r\nOK\r\n").await;
    obs.at("AT+QOPS", "\r\nOK\r\n").await;
    fw.at("AT+CFUN=1", "\r\nOK\r\n").await;
    obs.at("AT+COPS=?", &format!("\r\n{ALL_CELLS}\r\n\r\nOK\r\n")).await;
}

/// Waits until the network has taken back `n` registrations the modem would not camp on.
async fn detached(rig: &super::Rig, n: usize) {
    for _ in 0..200 {
        if rig.net.detached().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("detached: {:?}", rig.net.detached());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_mode_and_bands_restrict_where_the_modem_camps() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;

    let lte_mask = format!("{:x}", super::super::radio::lte_supported());
    fw.at("AT+QCFG=\"nwscanmode\"", "\r\n+QCFG: \"nwscanmode\",0\r\n\r\nOK\r\n").await;
    fw.at("AT+QCFG=\"band\"", &format!("\r\n+QCFG: \"band\",0x3ff,0x{lte_mask},0x0\r\n\r\nOK\r\n")).await;
    fw.at(
        "AT+QCFG=?",
        &format!(
            "\r\n+QCFG: \"nwscanmode\",(0-3),(0,1)\r\n\r\n+QCFG: \"band\",(0-3ff),(0-{lte_mask}),(0-0),(0,1)\r\n\r\nOK\r\n"
        ),
    )
    .await;

    // GSM only: only the GSM cell is heard; the network's LTE registration is given back and
    // the modem keeps searching.
    fw.at("AT+QCFG=\"nwscanmode\",1", "\r\nOK\r\n").await;
    fw.at("AT+QCFG=\"nwscanmode\"", "\r\n+QCFG: \"nwscanmode\",1\r\n\r\nOK\r\n").await;
    let gsm_only = "+COPS: (1,\"Telekom Deutschland\",\"Telekom\",\"26201\",0),,(0,1,2,3,4),(0,1,2)";
    obs.at("AT+COPS=?", &format!("\r\n{gsm_only}\r\n\r\nOK\r\n")).await;
    let (qops, _) = obs.ask("AT+QOPS").await;
    assert_eq!(qops.len(), 2, "{qops:?}");
    assert!(qops[1].starts_with("1,\"GSM\","), "{qops:?}");
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    detached(&rig, 1).await;
    fw.silent(Duration::from_millis(50)).await;
    expect_nothing(&mut obs).await;

    // LTE only: the search goes on with the new setting and ends on LTE.
    fw.at("AT+QCFG=\"nwscanmode\",3", "\r\nOK\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    assert_eq!(obs.one("AT+QENG=\"servingcell\"").await, telekom_lte("NOCONN"));
    obs.at(
        "AT+COPS=?",
        "\r\n+COPS: (2,\"Telekom Deutschland\",\"Telekom\",\"26201\",7),(1,\"Vodafone Germany\",\"Vodafone\",\
         \"26202\",7),,(0,1,2,3,4),(0,1,2)\r\n\r\nOK\r\n",
    )
    .await;

    // Back to GSM only while registered on LTE: the modem leaves the cell and searches.
    fw.at("AT+QCFG=\"nwscanmode\",1", "\r\nOK\r\n\r\n+CEREG: 0\r\n\r\n+CEREG: 2\r\n").await;
    detached(&rig, 3).await;
    expect_nothing(&mut obs).await;

    // Bands: B3 only with every RAT allowed camps on LTE; B20 only leaves it.
    fw.at("AT+QCFG=\"nwscanmode\",0", "\r\nOK\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    fw.at("AT+QCFG=\"band\",0,0x4,0", "\r\nOK\r\n").await;
    fw.at("AT+QCFG=\"band\"", "\r\n+QCFG: \"band\",0x3ff,0x4,0x0\r\n\r\nOK\r\n").await;
    fw.silent(Duration::from_millis(50)).await;
    fw.at("AT+QCFG=\"band\",0,80000,0", "\r\nOK\r\n\r\n+CEREG: 0\r\n\r\n+CEREG: 2\r\n").await;
    obs.at("AT+COPS=?", &format!("\r\n{gsm_only}\r\n\r\nOK\r\n")).await;
    fw.at("AT+QCFG=\"band\",2,80000,0", "\r\nOK\r\n").await;
    obs.at("AT+COPS=?", "\r\n+COPS: ,,(0,1,2,3,4),(0,1,2)\r\n\r\nOK\r\n").await;
    fw.at("AT+QCFG=\"band\",3ff,4,0", "\r\nOK\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;

    // Written "after a reboot" (effect 0): takes effect with AT+CFUN=1,1.
    fw.at("AT+QCFG=\"nwscanmode\",1,0", "\r\nOK\r\n").await;
    fw.at("AT+QCFG=\"nwscanmode\"", "\r\n+QCFG: \"nwscanmode\",0\r\n\r\nOK\r\n").await;
    fw.at("AT+CFUN=1,1", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    fw.at("AT+QCFG=\"nwscanmode\"", "\r\n+QCFG: \"nwscanmode\",1\r\n\r\nOK\r\n").await;
    obs.at("AT+COPS=?", &format!("\r\n{gsm_only}\r\n\r\nOK\r\n")).await;

    // Refused settings.
    fw.at("AT+QCFG=\"nwscanmode\",7", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QCFG=\"nwscanmode\",1,2", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QCFG=\"band\",0,0,1", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QCFG=\"band\",zz,0,0", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QCFG=\"usbnet\"", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QCFG?", "\r\n+CME ERROR: 4\r\n").await;
    assert!(rig.net.detached().iter().all(|i| i == TELEKOM_IMSI));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_with_a_pin_locked_card() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    // The card comes back from a restart of the SIM interface wanting its PIN.
    faults.apply(CardFault::PinLocked);
    fw.at("AT+QUIMSLOT=1", "\r\n+CEREG: 0\r\n\r\nOK\r\n\r\n+CPIN: SIM PIN\r\n").await;
    obs.expect("\r\n+CPIN: SIM PIN\r\n").await;
    for c in [&mut fw, &mut obs] {
        expect_nothing(c).await;
        c.at("AT+QSPN", "\r\n+CME ERROR: 11\r\n").await;
        c.at("AT+COPS=0", "\r\n+CME ERROR: 11\r\n").await;
        c.at("AT+COPS=?", &format!("\r\n{ALL_CELLS}\r\n\r\nOK\r\n")).await;
    }
}
