//! Registration through `AT+COPS=0`: URCs on both ports, per-port forms, rejects, a network
//! that never answers, and cancellation.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{TELEKOM_IMSI, Verdict, fake_location, rig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_urcs_reach_both_ports() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=2", "ATE0;+CEREG=2\r\r\nOK\r\n").await;
    obs.at("ATE0;+CEREG=1;+CGREG=1", "ATE0;+CEREG=1;+CGREG=1\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;

    let loc = fake_location();
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect(&format!("\r\n+CEREG: 1,{loc},7\r\n")).await;
    obs.expect("\r\n+CGREG: 2\r\n\r\n+CEREG: 2\r\n\r\n+CGREG: 1\r\n\r\n+CEREG: 1\r\n").await;

    fw.at("AT+CEREG?", &format!("\r\n+CEREG: 2,1,{loc},7\r\n\r\nOK\r\n")).await;
    fw.at("AT+COPS?", "\r\n+COPS: 0,2,\"26201\",7\r\n\r\nOK\r\n").await;
    fw.at("AT+CGATT?", "\r\n+CGATT: 1\r\n\r\nOK\r\n").await;
    fw.at("AT+CSQ", "\r\n+CSQ: 31,99\r\n\r\nOK\r\n").await;
    fw.at("AT+CESQ", "\r\n+CESQ: 99,99,255,255,18,70\r\n\r\nOK\r\n").await;
    fw.at(
        "AT+COPS=?",
        "\r\n+COPS: (2,\"Telekom Deutschland\",\"Telekom\",\"26201\",7),(1,\"Vodafone Germany\",\"Vodafone\",\
         \"26202\",7),(1,\"Telekom Deutschland\",\"Telekom\",\"26201\",0),,(0,1,2,3,4),(0,1,2)\r\n\r\nOK\r\n",
    )
    .await;
    fw.send(b"AT+QOPS\r").await;
    let qops = fw.until("\r\nOK\r\n").await;
    let lines: Vec<&str> = qops.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "+QOPS: \"Telekom Deutschland\",\"Telekom\",\"26201\"");
    assert!(lines[1].starts_with("1,\"LTE\",") && lines[1].ends_with(",-71"), "{qops}");
    assert!(lines[2].starts_with("2,\"GSM\",") && lines[2].ends_with(",-85"), "{qops}");
    assert_eq!(lines[3], "+QOPS: \"Vodafone Germany\",\"Vodafone\",\"26202\"");
    assert!(lines[4].starts_with("1,\"LTE\",") && lines[4].ends_with(",-80"), "{qops}");
    assert_eq!(lines[5..], ["OK"]);

    // Registered already: nothing new.
    fw.at("AT+COPS=0", "\r\nOK\r\n").await;
    fw.silent(Duration::from_millis(50)).await;
    fw.at("AT+COPS=2", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    obs.expect("\r\n+CGREG: 0\r\n\r\n+CEREG: 0\r\n").await;
    assert_eq!(rig.net.detached(), vec![TELEKOM_IMSI.to_owned()]);
    fw.at("AT+COPS?", "\r\n+COPS: 2\r\n\r\nOK\r\n").await;
}

#[tokio::test]
async fn roaming_reject_and_silence() {
    let mut rig = rig(1, Verdict::Accept { roaming: true }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0;+CEREG=3", "ATE0;+CEREG=3\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    let loc = fake_location();
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect(&format!("\r\n+CEREG: 5,{loc},7\r\n")).await;

    rig.net.set_verdict(super::Verdict::Reject(15));
    fw.at("AT+COPS=2", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 3,,,,0,15\r\n").await;
    fw.at("AT+CEREG?", "\r\n+CEREG: 3,3,,,,0,15\r\n\r\nOK\r\n").await;
    fw.at("AT+CEREG=1", "\r\nOK\r\n").await;
    fw.at("AT+CEREG?", "\r\n+CEREG: 1,3\r\n\r\nOK\r\n").await;

    // Denied: COPS=0 tries again. The network never answers: searching until cancelled.
    rig.net.set_verdict(Verdict::Never);
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.silent(Duration::from_millis(200)).await;
    fw.at("AT+CEREG?", "\r\n+CEREG: 1,2\r\n\r\nOK\r\n").await;
    assert_eq!(rig.net.abandoned.load(Ordering::SeqCst), 0);
    fw.at("AT+COPS=2", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rig.net.abandoned.load(Ordering::SeqCst), 1, "the attach was cancelled");

    // A slot switch cancels a pending attach too.
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.at("AT+QUIMSLOT=1", "\r\n+CEREG: 0\r\n\r\nOK\r\n\r\n+CPIN: READY\r\n").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rig.net.abandoned.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn radio_off_deregisters() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+CGATT=1", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    fw.at("AT+CFUN=4", "\r\nOK\r\n\r\n+CEREG: 0\r\n").await;
    fw.at("AT+CFUN?", "\r\n+CFUN: 4\r\n\r\nOK\r\n").await;
    fw.at("AT+COPS=0", "\r\n+CME ERROR: 3\r\n").await;
    fw.at("AT+CFUN=1", "\r\nOK\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
}
