//! TS 27.005: message format, service centre (the card's EF_SMSP, through the slot), new
//! message indications, storages, reading and deleting over the empty store, and sending
//! (recorded, not delivered), with the `+CMS ERROR`s of each state.

use super::{Verdict, rig};
use crate::bridge::CardFault;
use crate::sim::modem::SmsFormat;

/// The service centre of telekom-de-1's card (EF_SMSP): +49 0 01 00000.
const CARD_SMSC: &str = "+CSCA: \"+4900100000\",145";
/// SMS-SUBMIT without SMSC to +4915112345678, "hi" (17 bytes of TPDU).
const PDU: &str = "0011000D91945111325476F80000AA02E834";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_service_centre() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;

    fw.at("AT+CSMS?", "\r\n+CSMS: 0,1,1,1\r\n\r\nOK\r\n").await;
    fw.at("AT+CSMS=0", "\r\n+CSMS: 1,1,1\r\n\r\nOK\r\n").await;
    fw.at("AT+CSMS=?", "\r\n+CSMS: (0,1)\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGF?", "\r\n+CMGF: 0\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGF=?", "\r\n+CMGF: (0,1)\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGF=2", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CMGF=1;+CMGF?", "\r\n+CMGF: 1\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGF=2", "\r\n+CMS ERROR: 305\r\n").await;
    obs.at("AT+CMGF?", "\r\n+CMGF: 0\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGF=", "\r\nOK\r\n").await;
    fw.at("AT+CMGF?", "\r\n+CMGF: 0\r\n\r\nOK\r\n").await;

    fw.at("AT+CNMI?", "\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CNMI=?", "\r\n+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)\r\n\r\nOK\r\n").await;
    fw.at("AT+CNMI=2,1,0,2;+CNMI?", "\r\n+CNMI: 2,1,0,2,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CNMI=3", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CNMI=1,1,1", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CSMP?", "\r\n+CSMP: 17,167,0,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CSMP=49,,0,8;+CSMP?", "\r\n+CSMP: 49,167,0,8\r\n\r\nOK\r\n").await;

    // The service centre lives on the card.
    fw.at("AT+CSCA?", "\r\n+CMS ERROR: 310\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+CSCA?", &format!("\r\n{CARD_SMSC}\r\n\r\nOK\r\n")).await;
    fw.at("AT+CSCA=?", "\r\nOK\r\n").await;
    fw.at("AT+CSCA=\"+491710760000\",145", "\r\nOK\r\n").await;
    obs.at("AT+CSCA?", "\r\n+CSCA: \"+491710760000\",145\r\n\r\nOK\r\n").await;
    // Written to EF_SMSP record 1 (6F42), where AT+CRSM reads it too.
    let (lines, _) = obs.ask("AT+CRSM=178,28482,1,4,40").await;
    assert!(lines[0].contains("079194710167000"), "{lines:?}");
    fw.at("AT+CSCA=\"0171\"", "\r\nOK\r\n").await;
    fw.at("AT+CSCA?", "\r\n+CSCA: \"0171\",129\r\n\r\nOK\r\n").await;
    fw.at("AT+CSCA=\"+49x\"", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CSCS=\"UCS2\";+CSCA=\"002B00340039003100370031\"", "\r\nOK\r\n").await;
    fw.at("AT+CSCA?", "\r\n+CSCA: \"002B00340039003100370031\",145\r\n\r\nOK\r\n").await;
    obs.at("AT+CSCA?", "\r\n+CSCA: \"+49171\",145\r\n\r\nOK\r\n").await;

    // PIN-locked and pulled cards.
    faults.apply(CardFault::PinLocked);
    obs.at("AT+QUIMSLOT=1", "\r\nOK\r\n\r\n+CPIN: SIM PIN\r\n").await;
    fw.expect("\r\n+CPIN: SIM PIN\r\n").await;
    fw.at("AT+CSCA?", "\r\n+CMS ERROR: 311\r\n").await;
    faults.apply(CardFault::Pulled);
    fw.expect("\r\n+CPIN: NOT READY\r\n").await;
    fw.at("AT+CMEE=2;+CSCA?", "\r\n+CMS ERROR: (U)SIM not inserted\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storages_over_an_empty_store() {
    let mut rig = rig(1, Verdict::Never).await;
    let mut fw = rig.firmware();
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let me = "+CPMS: \"ME\",0,255,\"ME\",0,255,\"ME\",0,255";
    // The modem's own storage needs no card.
    fw.at("AT+CPMS?", &format!("\r\n{me}\r\n\r\nOK\r\n")).await;
    fw.at(
        "AT+CPMS=?",
        "\r\n+CPMS: (\"SM\",\"ME\",\"MT\"),(\"SM\",\"ME\",\"MT\"),(\"SM\",\"ME\",\"MT\")\r\n\r\nOK\r\n",
    )
    .await;
    fw.at("AT+CPMS=\"SM\"", "\r\n+CMS ERROR: 310\r\n").await;
    fw.at("AT+CPMS=\"ME\",\"ME\",\"ME\"", "\r\n+CPMS: 0,255,0,255,0,255\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGL=4", "\r\nOK\r\n").await;
    fw.at("AT+CMGL", "\r\nOK\r\n").await;
    fw.at("AT+CMGL=\"ALL\"", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CMGL=?", "\r\n+CMGL: (0-4)\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGR=0", "\r\n+CMS ERROR: 321\r\n").await;
    fw.at("AT+CMGR", "\r\n+CMS ERROR: 303\r\n").await;
    fw.at("AT+CMGD=0", "\r\nOK\r\n").await;
    fw.at("AT+CMGD=254", "\r\nOK\r\n").await;
    fw.at("AT+CMGD=255", "\r\n+CMS ERROR: 321\r\n").await;
    fw.at("AT+CMGD=255,4", "\r\nOK\r\n").await;
    fw.at("AT+CMGD=0,5", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CMGD=?", "\r\n+CMGD: (),(0-4)\r\n\r\nOK\r\n").await;

    // Text mode lists by name.
    fw.at("AT+CMGF=1", "\r\nOK\r\n").await;
    fw.at("AT+CMGL=\"ALL\"", "\r\nOK\r\n").await;
    fw.at("AT+CMGL=\"REC UNREAD\"", "\r\nOK\r\n").await;
    fw.at("AT+CMGL=4", "\r\n+CMS ERROR: 305\r\n").await;
    fw.at(
        "AT+CMGL=?",
        "\r\n+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")\r\n\r\nOK\r\n",
    )
    .await;

    // The card's storage: the virtual USIM has no EF_SMS, so it holds nothing.
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+CPMS=\"SM\",\"SM\",\"SM\"", "\r\n+CPMS: 0,0,0,0,0,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CPMS?", "\r\n+CPMS: \"SM\",0,0,\"SM\",0,0,\"SM\",0,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CMGD=0", "\r\n+CMS ERROR: 321\r\n").await;
    fw.at("AT+CMGL=\"ALL\"", "\r\nOK\r\n").await;
    fw.at("AT+CPMS=\"MT\"", "\r\n+CPMS: 0,255,0,0,0,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CPMS=\"BM\"", "\r\n+CMS ERROR: 303\r\n").await;
    fw.at("AT+CPMS=\"SM\"", "\r\n+CPMS: 0,0,0,0,0,0\r\n\r\nOK\r\n").await;
    // The card goes: its storage with it.
    faults.apply(CardFault::Pulled);
    fw.expect("\r\n+CPIN: NOT READY\r\n").await;
    fw.at("AT+CPMS?", "\r\n+CMS ERROR: 310\r\n").await;
    fw.at("AT+CMGL=\"ALL\"", "\r\n+CMS ERROR: 310\r\n").await;
    fw.at("AT+CMGR=0", "\r\n+CMS ERROR: 310\r\n").await;
    fw.at("AT+CPMS=\"ME\"", "\r\n+CMS ERROR: 310\r\n").await;
    fw.at("AT+CPMS=\"ME\",\"ME\",\"ME\"", "\r\n+CPMS: 0,255,0,255,0,255\r\n\r\nOK\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_is_accepted_and_recorded() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;

    fw.at("AT+CMGS=17", "\r\n+CMS ERROR: 310\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;

    // Not registered: the message is taken, then refused.
    fw.at("AT+CMGS=17", "\r\n> ").await;
    fw.send(format!("{PDU}\x1a").as_bytes()).await;
    fw.expect("\r\n+CMS ERROR: 331\r\n").await;

    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    // PDU mode, the card's service centre.
    fw.at("AT+CMGS=17", "\r\n> ").await;
    fw.send(PDU.as_bytes()).await;
    fw.send(b"\x1a").await;
    fw.expect("\r\n+CMGS: 0\r\n\r\nOK\r\n").await;
    // A PDU that names its own service centre.
    fw.at("AT+CMGS=17", "\r\n> ").await;
    fw.send(b"0691940001000011000D91945111325476F80000AA02E834\x1a").await;
    fw.expect("\r\n+CMGS: 1\r\n\r\nOK\r\n").await;
    // Cancelled with ESC: nothing sent.
    fw.at("AT+CMGS=17", "\r\n> ").await;
    fw.send(b"00\x1b").await;
    fw.expect("\r\nOK\r\n").await;
    // Wrong length, not a SUBMIT.
    fw.at("AT+CMGS=16", "\r\n> ").await;
    fw.send(format!("{PDU}\x1a").as_bytes()).await;
    fw.expect("\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CMGS=0", "\r\n+CMS ERROR: 304\r\n").await;
    fw.at("AT+CMGS=\"+4915112345678\"", "\r\n+CMS ERROR: 304\r\n").await;

    // Text mode on the observer port, lines in the message.
    obs.at("AT+CMGF=1", "\r\nOK\r\n").await;
    obs.at("AT+CMGS=\"+4915112345678\",145", "\r\n> ").await;
    obs.send(b"hello\rworld\x1a").await;
    obs.expect("\r\n+CMGS: 2\r\n\r\nOK\r\n").await;
    obs.at("AT+CMGS=\"x\"", "\r\n+CMS ERROR: 305\r\n").await;
    obs.at("AT+CSCS=\"UCS2\";+CMGS=\"0030003100370031\"", "\r\n> ").await;
    obs.send(b"00480069\x1a").await;
    obs.expect("\r\n+CMGS: 3\r\n\r\nOK\r\n").await;

    let sent = rig.modem.sent_sms();
    assert_eq!(sent.len(), 4, "{sent:#?}");
    let first = &sent[0];
    assert_eq!((first.port, first.slot, first.format), ("firmware", 0, SmsFormat::Pdu));
    assert_eq!((first.smsc.as_str(), first.destination.as_str()), ("+4900100000", "+4915112345678"));
    assert_eq!((first.body.as_str(), first.reference), (PDU, 0));
    assert_eq!(first.imsi, super::TELEKOM_IMSI);
    assert_eq!(first.iccid, super::TELEKOM_ICCID);
    assert_eq!(sent[1].smsc, "+4900100000");
    assert_eq!(
        (sent[2].port, sent[2].format, sent[2].body.as_str()),
        ("observer", SmsFormat::Text, "hello\rworld")
    );
    assert_eq!((sent[3].destination.as_str(), sent[3].body.as_str()), ("0171", "Hi"));
    assert!(sent.windows(2).all(|w| w[0].at <= w[1].at));

    // No service centre on the card: 330.
    let no_smsc = format!("{}E3{}{}0000A7", "FF".repeat(12), "FF".repeat(12), "FF".repeat(12));
    obs.at(
        &format!("AT+CSCS=\"GSM\";+CRSM=220,28482,1,4,40,\"{no_smsc}\""),
        "\r\n+CRSM: 144,0\r\n\r\nOK\r\n",
    )
    .await;
    obs.at("AT+CSCA?", "\r\n+CSCA: \"\",129\r\n\r\nOK\r\n").await;
    obs.at("AT+CMGS=\"0171\"", "\r\n> ").await;
    obs.send(b"x\x1a").await;
    obs.expect("\r\n+CMS ERROR: 330\r\n").await;

    // A card that wants its PIN, then none.
    faults.apply(CardFault::PinLocked);
    fw.at("AT+QUIMSLOT=1", "\r\n+CEREG: 0\r\n\r\nOK\r\n\r\n+CPIN: SIM PIN\r\n").await;
    fw.at("AT+CMGS=17", "\r\n+CMS ERROR: 311\r\n").await;
    faults.apply(CardFault::Pulled);
    fw.expect("\r\n+CPIN: NOT READY\r\n").await;
    fw.at("AT+CMGS=17", "\r\n+CMS ERROR: 310\r\n").await;
    assert_eq!(rig.modem.sent_sms().len(), 4);
}
