//! The AT layer byte by byte: echo, error formats, unknown commands, lines in pieces, long
//! lines, and the independence of the two ports.

use std::time::Duration;

use super::{Verdict, rig};

#[tokio::test]
async fn scripted_session_exact_bytes() {
    let rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("AT", "AT\r\r\nOK\r\n").await;
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    fw.at("AT", "\r\nOK\r\n").await;
    fw.at("AT+BOGUS", "\r\nERROR\r\n").await;
    fw.at("HELLO", "\r\nERROR\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: 10\r\n").await;
    fw.at("AT+CMEE=2", "\r\nOK\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: SIM not inserted\r\n").await;
    fw.at("AT+CMEE=0", "\r\nOK\r\n").await;
    fw.at("AT+CIMI", "\r\nERROR\r\n").await;
    fw.at("AT+CMEE?", "\r\n+CMEE: 0\r\n\r\nOK\r\n").await;
    fw.at("ATI", "\r\nQuectel\r\n\r\nEG25\r\n\r\nRevision: SEEDRIG-VIRTUAL-1\r\n\r\nOK\r\n").await;
    fw.at("AT+CFUN?", "\r\n+CFUN: 1\r\n\r\nOK\r\n").await;
    fw.at("AT+CSQ", "\r\n+CSQ: 99,99\r\n\r\nOK\r\n").await;
    fw.at("AT+COPS?", "\r\n+COPS: 0\r\n\r\nOK\r\n").await;
}

#[tokio::test]
async fn partial_chained_and_long_lines() {
    let rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    // A command written in pieces, chained, ended by CR LF (the LF belongs to the CR).
    fw.send(b"AT+CM").await;
    fw.silent(Duration::from_millis(50)).await;
    fw.send(b"EE=1;+CER").await;
    fw.send(b"EG=2\r").await;
    fw.send(b"\n").await;
    fw.expect("\r\nOK\r\n").await;
    fw.at("AT+CEREG?", "\r\n+CEREG: 2,0\r\n\r\nOK\r\n").await;
    // A chain stops at the first error.
    fw.at("AT+CEREG=1;+NOPE;+CEREG=0", "\r\nERROR\r\n").await;
    fw.at("AT+CEREG?;+CGREG?", "\r\n+CEREG: 1,0\r\n\r\n+CGREG: 0,0\r\n\r\nOK\r\n").await;
    // Far too long: ERROR, and the next line is clean. LF alone ends a line too.
    let long = format!("AT+{}\r", "X".repeat(5000));
    fw.send(long.as_bytes()).await;
    fw.expect("\r\nERROR\r\n").await;
    fw.send(b"AT\n").await;
    fw.expect("\r\nOK\r\n").await;
    // Two lines in one write are answered in order.
    fw.send(b"AT+CMEE?\rAT+CEREG=9\r").await;
    fw.expect("\r\n+CMEE: 1\r\n\r\nOK\r\n\r\n+CME ERROR: 50\r\n").await;
    fw.silent(Duration::from_millis(50)).await;
}

#[tokio::test]
async fn ports_keep_their_own_settings() {
    let rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CMEE=2;+CEREG=2", "ATE0;+CMEE=2;+CEREG=2\r\r\nOK\r\n").await;
    obs.at("AT", "AT\r\r\nOK\r\n").await;
    obs.at("AT+CEREG?", "AT+CEREG?\r\r\n+CEREG: 0,0\r\n\r\nOK\r\n").await;
    obs.at("AT+CPIN?", "AT+CPIN?\r\r\n+CME ERROR: 10\r\n").await;
    fw.at("AT+CPIN?", "\r\n+CME ERROR: SIM not inserted\r\n").await;
    // ATZ restores only this port.
    obs.at("ATZ", "ATZ\r\r\nOK\r\n").await;
    fw.at("AT+CMEE?", "\r\n+CMEE: 2\r\n\r\nOK\r\n").await;
}
