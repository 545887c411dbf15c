//! The connect sequence an ordinary AT client library sends (python-gsmmodem's, say: reset,
//! echo off, functionality, error format, PIN state, the command list, manufacturer, operator
//! format, SMS mode, character set, indications, storages, then a look at the network), on
//! both ports, with the card registered, searching, missing, and asking for its PIN.

use std::time::Duration;

use super::{Client, Rig, Verdict, rig};
use crate::bridge::CardFault;
use crate::sim::modem::commands::COMMANDS;

/// What the state changes in the answers.
struct Expect {
    cpin: &'static str,
    csca: &'static str,
    cnum: &'static str,
    cops: &'static str,
    csq: &'static str,
    creg: &'static str,
}

const REGISTERED: Expect = Expect {
    cpin: "\r\n+CPIN: READY\r\n\r\nOK\r\n",
    csca: "\r\n+CSCA: \"+4900100000\",145\r\n\r\nOK\r\n",
    cnum: "\r\n+CNUM: \"\",\"+4909900000001\",145\r\n\r\nOK\r\n",
    cops: "\r\n+COPS: 0,0,\"Telekom Deutschland\",7\r\n\r\nOK\r\n",
    csq: "\r\n+CSQ: 31,99\r\n\r\nOK\r\n",
    creg: "\r\n+CREG: 0,1\r\n\r\nOK\r\n",
};

const SEARCHING: Expect = Expect {
    cops: "\r\n+COPS: 0\r\n\r\nOK\r\n",
    csq: "\r\n+CSQ: 99,99\r\n\r\nOK\r\n",
    creg: "\r\n+CREG: 0,2\r\n\r\nOK\r\n",
    ..REGISTERED
};

const NO_CARD: Expect = Expect {
    cpin: "\r\n+CME ERROR: 10\r\n",
    csca: "\r\n+CMS ERROR: 310\r\n",
    cnum: "\r\n+CME ERROR: 10\r\n",
    creg: "\r\n+CREG: 0,0\r\n\r\nOK\r\n",
    ..SEARCHING
};

const PIN: Expect = Expect {
    cpin: "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n",
    csca: "\r\n+CMS ERROR: 311\r\n",
    cnum: "\r\n+CME ERROR: 11\r\n",
    ..NO_CARD
};

async fn connect(c: &mut Client, want: &Expect) {
    // Whatever the port had: ATZ answers OK (echoed or not), then echo is on again.
    c.send(b"ATZ\r").await;
    let reset = c.until("OK\r\n").await;
    assert!(reset.ends_with("\r\nOK\r\n"), "{reset:?}");
    c.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    c.at("AT+CFUN?", "\r\n+CFUN: 1\r\n\r\nOK\r\n").await;
    c.at("AT+CMEE=1", "\r\nOK\r\n").await;
    c.at("AT+CPIN?", want.cpin).await;
    let (commands, end) = c.ask("AT+CLAC").await;
    assert_eq!(end, "OK");
    assert_eq!(commands, COMMANDS.iter().map(|c| c.name).collect::<Vec<_>>());
    c.at("AT+CGMI", "\r\nQuectel\r\n\r\nOK\r\n").await;
    c.at("AT+COPS=3,0", "\r\nOK\r\n").await;
    c.at("AT+CMGF=0", "\r\nOK\r\n").await;
    c.at("AT+CSCS=?", "\r\n+CSCS: (\"GSM\",\"IRA\",\"UCS2\")\r\n\r\nOK\r\n").await;
    c.at("AT+CSCS=\"GSM\"", "\r\nOK\r\n").await;
    c.at("AT+CNMI=2,1,0,2", "\r\nOK\r\n").await;
    c.at(
        "AT+CPMS=?",
        "\r\n+CPMS: (\"SM\",\"ME\",\"MT\"),(\"SM\",\"ME\",\"MT\"),(\"SM\",\"ME\",\"MT\")\r\n\r\nOK\r\n",
    )
    .await;
    c.at("AT+CPMS?", "\r\n+CPMS: \"ME\",0,255,\"ME\",0,255,\"ME\",0,255\r\n\r\nOK\r\n").await;
    c.at("AT+CSCA?", want.csca).await;
    c.at("AT+CNUM", want.cnum).await;
    c.at("AT+COPS?", want.cops).await;
    c.at("AT+CSQ", want.csq).await;
    c.at("AT+CREG?", want.creg).await;
    c.at("AT+CPAS", "\r\n+CPAS: 0\r\n\r\nOK\r\n").await;
}

/// Both ports, one after the other.
async fn connect_both(fw: &mut Client, obs: &mut Client, want: &Expect) {
    connect(fw, want).await;
    connect(obs, want).await;
    fw.silent(Duration::from_millis(30)).await;
}

/// Plugs telekom-de-1 and reads the `+CPIN: READY` both ports get.
async fn plugged(rig: &mut Rig, fw: &mut Client, obs: &mut Client) -> crate::bridge::FaultControl {
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;
    faults
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_sequence_registered() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    let _faults = plugged(&mut rig, &mut fw, &mut obs).await;
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    connect_both(&mut fw, &mut obs, &REGISTERED).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_sequence_searching() {
    let mut rig = rig(1, Verdict::Never).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    let _faults = plugged(&mut rig, &mut fw, &mut obs).await;
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n").await;
    connect_both(&mut fw, &mut obs, &SEARCHING).await;
}

#[tokio::test]
async fn connect_sequence_without_a_card() {
    let rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    connect_both(&mut fw, &mut obs, &NO_CARD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_sequence_with_a_pin_locked_card() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    let faults = plugged(&mut rig, &mut fw, &mut obs).await;
    faults.apply(CardFault::PinLocked);
    fw.at("AT+QUIMSLOT=1", "AT+QUIMSLOT=1\r\r\nOK\r\n\r\n+CPIN: SIM PIN\r\n").await;
    obs.expect("\r\n+CPIN: SIM PIN\r\n").await;
    connect_both(&mut fw, &mut obs, &PIN).await;
}
