//! Contexts and the internal TCP/IP stack on the scripted network (which echoes requests).

use std::time::Duration;

use super::{Verdict, rig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_socket_send_and_receive() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0;+CGEREP=2,1", "ATE0;+CGEREP=2,1\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;

    // Nothing flows before registration.
    fw.at("AT+CGACT=1,1", "\r\n+CME ERROR: 30\r\n").await;
    fw.at("AT+QIOPEN=1,1,\"TCP\",\"backend.seedrig.test\",7000,0,1", "\r\nOK\r\n\r\n+QIOPEN: 1,566\r\n")
        .await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;

    fw.at("AT+CGDCONT=1,\"IP\",\"internet.telekom\"", "\r\nOK\r\n").await;
    fw.at("AT+CGDCONT?", "\r\n+CGDCONT: 1,\"IP\",\"internet.telekom\",\"0.0.0.0\",0,0\r\n\r\nOK\r\n").await;
    fw.at("AT+CGEREP=2,1", "\r\nOK\r\n").await;
    fw.at("AT+QIACT=1", "\r\nOK\r\n\r\n+CGEV: ME PDN ACT 1\r\n").await;
    obs.expect("\r\n+CGEV: ME PDN ACT 1\r\n").await;
    fw.at("AT+CGACT?", "\r\n+CGACT: 1,1\r\n\r\nOK\r\n").await;
    fw.at("AT+CGPADDR=1", "\r\n+CGPADDR: 1,\"10.0.0.7\"\r\n\r\nOK\r\n").await;
    fw.at("AT+QIACT?", "\r\n+QIACT: 1,1,1,\"10.0.0.7\"\r\n\r\nOK\r\n").await;

    let open = "AT+QIOPEN=1,0,\"TCP\",\"backend.seedrig.test\",7000,0,1";
    fw.at(open, "\r\nOK\r\n\r\n+QIOPEN: 0,0\r\n").await;
    fw.at(open, "\r\nOK\r\n\r\n+QIOPEN: 0,563\r\n").await;
    // The payload is raw bytes (CR LF included), written in pieces.
    fw.at("AT+QISEND=0,12", "\r\n> ").await;
    fw.send(b"hello").await;
    fw.silent(Duration::from_millis(30)).await;
    fw.send(b"\r\nworld").await;
    fw.expect("\r\nSEND OK\r\n").await;
    fw.expect("\r\n+QIURC: \"recv\",0,12\r\nhello\r\nworld\r\n").await;
    obs.silent(Duration::from_millis(30)).await;
    fw.at("AT+QISEND=5,3", "\r\nERROR\r\n").await;

    fw.send(b"AT+QPING=1,\"backend.seedrig.test\"\r").await;
    fw.expect("\r\nOK\r\n").await;
    let ping = fw.until(",255\r\n").await;
    assert!(ping.starts_with("\r\n+QPING: 0,\"198.51.100."), "{ping:?}");

    // A request the network cannot route closes the socket.
    fw.at("AT+QIOPEN=1,2,\"TCP\",\"nowhere.test\",80,0,1", "\r\nOK\r\n\r\n+QIOPEN: 2,0\r\n").await;
    fw.at("AT+QISEND=2,1", "\r\n> ").await;
    fw.send(b"x").await;
    fw.expect("\r\nSEND OK\r\n\r\n+QIURC: \"closed\",2\r\n").await;

    fw.at("AT+QICLOSE=0", "\r\nOK\r\n").await;
    fw.at("AT+QISEND=0,1", "\r\nERROR\r\n").await;
    fw.at("AT+QIOPEN=1,3,\"UDP\",\"backend.seedrig.test\",7000", "\r\nOK\r\n\r\n+QIOPEN: 3,0\r\n").await;
    // Deregistering takes the context and the sockets with it.
    fw.at(
        "AT+COPS=2",
        "\r\nOK\r\n\r\n+CGEV: ME PDN DEACT 1\r\n\r\n+QIURC: \"closed\",3\r\n\r\n+CEREG: 0\r\n",
    )
    .await;
    obs.expect("\r\n+CGEV: ME PDN DEACT 1\r\n").await;
    fw.at("AT+CGPADDR=1", "\r\n+CGPADDR: 1,\"0.0.0.0\"\r\n\r\nOK\r\n").await;
}

#[tokio::test]
async fn rejected_activation_and_deactivation() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let mut fw = rig.firmware();
    fw.at("ATE0;+CEREG=1;+CGEREP=2", "ATE0;+CEREG=1;+CGEREP=2\r\r\nOK\r\n").await;
    let _faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    fw.at("AT+CGDCONT=1,\"IP\",\"dial-fail\"", "\r\nOK\r\n").await;
    fw.at("AT+CGACT=1,1", "\r\n+CME ERROR: 133\r\n").await;
    fw.at("AT+CGDCONT=1,\"IPV4V6\",\"web\"", "\r\nOK\r\n").await;
    fw.at("AT+CGACT=1,1", "\r\nOK\r\n\r\n+CGEV: ME PDN ACT 1\r\n").await;
    fw.at("AT+CGACT=0,1", "\r\nOK\r\n\r\n+CGEV: ME PDN DEACT 1\r\n").await;
    fw.at("AT+CGACT?", "\r\n+CGACT: 1,0\r\n\r\nOK\r\n").await;
    fw.at("AT+QIOPEN=1,0,\"TCP\",\"backend.seedrig.test\",7000,0,1", "\r\nOK\r\n\r\n+QIOPEN: 0,566\r\n")
        .await;
}
