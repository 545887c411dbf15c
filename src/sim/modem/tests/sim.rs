//! Cards over the slot sockets: identity, pass-through commands, hot-plug, slot switching,
//! and faulty cards.

use std::time::Duration;

use super::{TELEKOM_ICCID, TELEKOM_IMSI, VODAFONE_IMSI, Verdict, rig};
use crate::bridge::CardFault;

#[tokio::test]
async fn card_identity_and_sim_commands() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n").await;
    fw.at("AT+CIMI", &format!("\r\n{TELEKOM_IMSI}\r\n\r\nOK\r\n")).await;
    fw.at("AT+QCCID", &format!("\r\n+QCCID: {TELEKOM_ICCID}\r\n\r\nOK\r\n")).await;
    fw.at("AT+CRSM=176,28423,0,0,9", "\r\n+CRSM: 144,0,\"082926109900000010\"\r\n\r\nOK\r\n").await;
    fw.at("AT+CRSM=176,12258,0,0,10", "\r\n+CRSM: 144,0,\"989410909900000010F9\"\r\n\r\nOK\r\n").await;
    // A file that is not there (6F01): the card's status word, no data. EF_ECC (6FB7) holds
    // records, not bytes.
    fw.at("AT+CRSM=176,28417,0,0,1", "\r\n+CRSM: 106,130\r\n\r\nOK\r\n").await;
    fw.at("AT+CRSM=176,28599,0,0,1", "\r\n+CRSM: 105,129\r\n\r\nOK\r\n").await;
    fw.at("AT+CSIM=10,\"0020000100\"", "\r\n+CSIM: 4,\"9000\"\r\n\r\nOK\r\n").await;
    fw.at("AT+CSIM=12,\"0020000100\"", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QSIMSTAT?", "\r\n+QSIMSTAT: 0,1\r\n\r\nOK\r\n").await;
    fw.at("AT+QUIMSLOT?", "\r\n+QUIMSLOT: 1\r\n\r\nOK\r\n").await;
}

#[tokio::test]
async fn slot_switch_reads_the_new_card() {
    let mut rig = rig(3, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0;+QSIMSTAT=1;+CEREG=1", "ATE0;+QSIMSTAT=1;+CEREG=1\r\r\nOK\r\n").await;
    let _master = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: READY\r\n").await;
    // Slot 1's card arrives while slot 0 is active: no URC, it is not wired to the modem.
    let _standby = rig.plug(1, "vodafone-de-1").await;
    fw.silent(Duration::from_millis(100)).await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;

    // Switching detaches first, then reads the new card.
    fw.at("AT+QUIMSLOT=2", "\r\n+CEREG: 0\r\n\r\nOK\r\n\r\n+CPIN: READY\r\n\r\n+QSIMSTAT: 1,1\r\n").await;
    assert_eq!(rig.net.detached(), vec![TELEKOM_IMSI.to_owned()]);
    fw.at("AT+QUIMSLOT?", "\r\n+QUIMSLOT: 2\r\n\r\nOK\r\n").await;
    fw.at("AT+CIMI", &format!("\r\n{VODAFONE_IMSI}\r\n\r\nOK\r\n")).await;
    fw.at("AT+QCCID", "\r\n+QCCID: 8949020999000000116\r\n\r\nOK\r\n").await;
    fw.at("AT+COPS?", "\r\n+COPS: 0\r\n\r\nOK\r\n").await;

    // An empty slot.
    fw.at("AT+QUIMSLOT=3", "\r\nOK\r\n\r\n+CPIN: NOT READY\r\n\r\n+QSIMSTAT: 1,0\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: 10\r\n").await;
    fw.at("AT+COPS=0", "\r\n+CME ERROR: 10\r\n").await;
    fw.at("AT+QUIMSLOT=4", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+QUIMSLOT=1", "\r\nOK\r\n\r\n+CPIN: READY\r\n\r\n+QSIMSTAT: 1,1\r\n").await;
    fw.at("AT+CIMI", &format!("\r\n{TELEKOM_IMSI}\r\n\r\nOK\r\n")).await;
    // Chained switches: each one's URCs go out before the next runs (no waiting on itself).
    fw.at(
        "AT+QUIMSLOT=2;+QUIMSLOT=1;+CIMI",
        &format!(
            "\r\n+CPIN: READY\r\n\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: READY\r\n\r\n+QSIMSTAT: 1,1\r\n\
             \r\n{TELEKOM_IMSI}\r\n\r\nOK\r\n"
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pulled_card_and_bad_atr() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0;+QSIMSTAT=1", "ATE0;+QSIMSTAT=1\r\r\nOK\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: READY\r\n").await;

    faults.apply(CardFault::Pulled);
    fw.expect("\r\n+QSIMSTAT: 1,0\r\n\r\n+CPIN: NOT READY\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: 10\r\n").await;
    fw.at("AT+CIMI", "\r\n+CME ERROR: 10\r\n").await;
    fw.at("AT+QSIMSTAT?", "\r\n+QSIMSTAT: 1,0\r\n\r\nOK\r\n").await;
    faults.insert();
    fw.expect("\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: READY\r\n").await;

    // The bridge re-seats the card with an ATR whose TS is neither 3B nor 3F. Whether the
    // modem sees the card leave in between depends on timing; it ends as a SIM failure.
    faults.apply(CardFault::BadAtr);
    fw.until("\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: NOT READY\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: 13\r\n").await;
    faults.insert();
    fw.until("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CPIN: READY\r\n\r\nOK\r\n").await;
}

#[tokio::test]
async fn pin_locked_card_wants_a_pin() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    // The fault does not touch the card-insert line: the modem learns of it on its next read.
    faults.apply(CardFault::PinLocked);
    fw.at("AT+QUIMSLOT=1", "\r\nOK\r\n\r\n+CPIN: SIM PIN\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n").await;
    fw.at("AT+CIMI", "\r\n+CME ERROR: 11\r\n").await;
    fw.at("AT+COPS=0", "\r\n+CME ERROR: 11\r\n").await;
    fw.at("AT+CPIN=\"1234\"", "\r\n+CME ERROR: 16\r\n").await;
    faults.insert();
    fw.at("AT+QUIMSLOT=1", "\r\nOK\r\n\r\n+CPIN: READY\r\n").await;
}

#[tokio::test]
async fn mute_card_during_authentication_is_a_sim_failure() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;
    faults.apply(CardFault::Mute);
    let started = std::time::Instant::now();
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 0\r\n\r\n+CPIN: NOT READY\r\n").await;
    assert!(started.elapsed() >= super::WWT, "gave up after {:?}", started.elapsed());
    obs.expect("\r\n+CEREG: 2\r\n\r\n+CEREG: 0\r\n\r\n+CPIN: NOT READY\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: 13\r\n").await;
    fw.at("AT+CEREG?", "\r\n+CEREG: 1,0\r\n\r\nOK\r\n").await;
    // A healthy card again after the SIM interface restarts.
    faults.insert();
    fw.at("AT+QUIMSLOT=1", "\r\nOK\r\n\r\n+CPIN: READY\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
}
