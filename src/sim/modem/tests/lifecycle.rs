//! Start and stop: every task ends, the sockets go, the bridges and the port see it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Rig, Verdict, rig};
use crate::bridge::BridgeError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_every_task_and_removes_the_sockets() {
    let mut rig = rig(2, Verdict::Never).await;
    let mut fw = rig.firmware();
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let _a = rig.plug(0, "telekom-de-1").await;
    let _b = rig.plug(1, "vodafone-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    // Something in flight when the modem stops: an attach the network never answers.
    fw.at("AT+COPS=0", "\r\nOK\r\n").await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let Rig { modem, net, bridges, dir: _dir } = rig;
    let shared = Arc::downgrade(&modem.shared);
    let sockets = [modem.slot_socket(0), modem.slot_socket(1)];
    assert!(sockets.iter().all(|s| s.exists()));
    modem.stop().await;
    assert!(shared.upgrade().is_none(), "a task still holds the modem");
    assert!(sockets.iter().all(|s| !s.exists()), "socket files left behind");
    assert_eq!(net.abandoned.load(Ordering::SeqCst), 1, "the attach was cancelled");
    for bridge in bridges {
        let ended = tokio::time::timeout(Duration::from_secs(5), bridge).await.unwrap().unwrap();
        assert!(matches!(ended, Err(BridgeError::Channel { .. })), "{ended:?}");
    }
    assert!(fw.closed().await, "the AT port stays open");
}

#[tokio::test]
async fn dropping_the_modem_ends_its_tasks_too() {
    let rig = rig(1, Verdict::Never).await;
    let Rig { modem, .. } = rig;
    let shared = Arc::downgrade(&modem.shared);
    let socket = modem.slot_socket(0);
    drop(modem);
    for _ in 0..100 {
        if shared.upgrade().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(shared.upgrade().is_none(), "a task still holds the modem");
    assert!(!socket.exists());
}

#[tokio::test]
async fn a_live_socket_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let net = super::FakeNet::new(Verdict::Never);
    let first = super::super::Modem::start_with(super::config(1, dir.path()), net.clone()).await.unwrap();
    let second = super::super::Modem::start_with(super::config(1, dir.path()), net.clone()).await;
    assert!(matches!(second, Err(super::super::ModemError::Slot { slot: 0, .. })), "{:?}", second.err());
    let none = super::super::Modem::start_with(super::config(0, dir.path()), net).await;
    assert!(matches!(none, Err(super::super::ModemError::NoSlots)));
    first.stop().await;
}
