//! The APDU bridge with each card fault: a modem-side card-emulation device (over a Unix
//! socket, as the simulated modem uses it) talks through the bridge to a virtual USIM, and
//! every fault is shown to change what the modem side receives.

use std::path::Path;
use std::time::Duration;

use seedrig::bridge::fault::BAD_ATR;
use seedrig::bridge::{CardFault, FaultControl, LocalCard, SlotBridge, Subject, Trace};
use seedrig::clock::RigClock;
use seedrig::hw::simtrace::{SocketListener, SocketTransport};
use seedrig::sim::cardem_device::{CardemDevice, DeviceError};
use seedrig::sim::usim::VirtualUsim;

const WWT: Duration = Duration::from_millis(300);
/// 3GPP TS 35.207 test set 1 (telekom-de-1 carries its K and OPc).
const RAND: &str = "23553cbe9637a89d218ae64dae47bf35";
const AUTN: &str = "55f328b43577b9b94a9ffac354dfafb3";
const RES: &str = "a54211d5e3ba50bf";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn card(seed: &str) -> VirtualUsim {
    let loaded = seedrig::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    VirtualUsim::from_seed(&loaded.catalog.seeds[seed]).unwrap()
}

struct Bench {
    modem: CardemDevice<SocketTransport>,
    faults: FaultControl,
    trace: Trace,
    _dir: tempfile::TempDir,
}

async fn bench(seed: &str) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slot0.sock");
    let listener = SocketListener::bind(&path).unwrap();
    let host = SocketTransport::connect(&path).await.unwrap();
    let device = listener.accept().await.unwrap();
    let trace = Trace::default();
    let (bridge, faults) = SlotBridge::new(0, host, LocalCard(card(seed)), trace.clone(), RigClock::start());
    tokio::spawn(bridge.run());
    let mut modem = CardemDevice::new(device, WWT);
    modem.wait_inserted(Duration::from_secs(2)).await.unwrap();
    Bench { modem, faults, trace, _dir: dir }
}

impl Bench {
    async fn apdu(&mut self, tpdu: &[u8]) -> Result<Vec<u8>, DeviceError> {
        self.modem.command(tpdu).await
    }

    /// SELECT by FID then READ BINARY, following 61xx; returns the data.
    async fn read(&mut self, path: &[u16], len: u8) -> Result<Vec<u8>, DeviceError> {
        for fid in path {
            let [hi, lo] = fid.to_be_bytes();
            let r = self.apdu(&[0x00, 0xA4, 0x00, 0x0C, 0x02, hi, lo]).await?;
            assert_eq!(&r[r.len() - 2..], &[0x90, 0x00], "select {fid:04X}: {r:02X?}");
        }
        let r = self.apdu(&[0x00, 0xB0, 0x00, 0x00, len]).await?;
        Ok(r)
    }

    async fn select_usim(&mut self) {
        let aid = [0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02];
        let r = self.apdu(&[&[0x00, 0xA4, 0x04, 0x0C, aid.len() as u8][..], &aid].concat()).await.unwrap();
        assert_eq!(&r[r.len() - 2..], &[0x90, 0x00], "select ADF.USIM: {r:02X?}");
    }

    /// AUTHENTICATE (3G context) with test set 1, then GET RESPONSE; returns the answer data.
    async fn authenticate(&mut self) -> Result<Vec<u8>, DeviceError> {
        self.select_usim().await;
        let mut cmd = vec![0x00, 0x88, 0x00, 0x81, 0x22, 0x10];
        cmd.extend(hex(RAND));
        cmd.push(0x10);
        cmd.extend(hex(AUTN));
        let r = self.apdu(&cmd).await?;
        assert_eq!(r.len(), 2, "{r:02X?}");
        assert_eq!(r[0], 0x61, "{r:02X?}");
        let got = self.apdu(&[0x00, 0xC0, 0x00, 0x00, r[1]]).await?;
        Ok(got[..got.len() - 2].to_vec())
    }
}

fn res_of(answer: &[u8]) -> Vec<u8> {
    assert_eq!(answer[0], 0xDB, "{answer:02X?}");
    answer[2..2 + usize::from(answer[1])].to_vec()
}

#[tokio::test]
async fn healthy_card_is_relayed_faithfully() {
    let mut b = bench("telekom-de-1").await;
    let iccid = b.read(&[0x3F00, 0x2FE2], 10).await.unwrap();
    assert_eq!(&iccid[10..], &[0x90, 0x00]);
    assert_eq!(res_of(&b.authenticate().await.unwrap()), hex(RES));
    let trace = b.trace.apdus();
    assert!(trace.iter().any(|r| r.subject == Subject::Authenticate && r.sw == Some(0x6135)));
    assert!(trace.iter().all(|r| r.fault.is_none() && r.slot == 0));
    assert!(trace.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test]
async fn pulled_card_disappears_and_insert_restores_it() {
    let mut b = bench("telekom-de-1").await;
    b.faults.apply(CardFault::Pulled);
    let state = b.modem.settle(Duration::from_millis(100)).await.unwrap();
    assert!(!state.inserted);
    assert!(matches!(b.apdu(&[0x00, 0xF2, 0x00, 0x00, 0x00]).await, Err(DeviceError::NoCard)));
    b.faults.insert();
    b.modem.wait_inserted(Duration::from_secs(1)).await.unwrap();
    assert!(b.read(&[0x3F00, 0x2FE2], 10).await.is_ok());
    let events: Vec<String> = b.trace.events().into_iter().map(|e| e.what).collect();
    assert!(
        events.contains(&"card pulled".to_owned()) && events.contains(&"card inserted".to_owned()),
        "{events:?}"
    );
}

#[tokio::test]
async fn mute_card_never_answers() {
    let mut b = bench("telekom-de-1").await;
    b.faults.apply(CardFault::Mute);
    b.modem.settle(Duration::from_millis(50)).await.unwrap();
    assert!(matches!(b.apdu(&[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00]).await, Err(DeviceError::Mute(_))));
    let last = b.trace.apdus().pop().unwrap();
    assert_eq!((last.sw, last.fault), (None, Some("mute")));
}

#[tokio::test]
async fn corrupt_auth_changes_res_only() {
    let mut b = bench("telekom-de-1").await;
    let good = b.authenticate().await.unwrap();
    // The first card's SQN has moved on (a replay would get a resync), so a fresh card.
    let mut b = bench("telekom-de-1").await;
    b.faults.apply(CardFault::CorruptAuth);
    b.modem.settle(Duration::from_millis(50)).await.unwrap();
    let bad = b.authenticate().await.unwrap();
    assert_ne!(res_of(&bad), hex(RES));
    assert_eq!(&bad[10..], &good[10..], "CK, IK and Kc pass unchanged");
    assert!(b.trace.apdus().iter().any(|r| r.fault == Some("corrupt_auth")));
}

#[tokio::test]
async fn corrupt_imsi_garbles_the_subscriber_number() {
    let mut b = bench("telekom-de-1").await;
    b.select_usim().await;
    let good = b.read(&[0x6F07], 9).await.unwrap();
    b.faults.apply(CardFault::CorruptImsi);
    b.modem.settle(Duration::from_millis(50)).await.unwrap();
    b.select_usim().await;
    let bad = b.read(&[0x6F07], 9).await.unwrap();
    let (good, bad) =
        (seedrig::hw::pcsc::decode_imsi(&good).unwrap(), seedrig::hw::pcsc::decode_imsi(&bad).unwrap());
    assert_eq!(good[..6], bad[..6], "MCC and MNC kept");
    assert_ne!(good[6..], bad[6..]);
}

#[tokio::test]
async fn bad_atr_replaces_the_atr_until_insert() {
    let mut b = bench("telekom-de-1").await;
    let real = b.modem.state().atr.clone();
    b.faults.apply(CardFault::BadAtr);
    let state = b.modem.settle(Duration::from_millis(100)).await.unwrap().clone();
    assert_eq!(state.atr, BAD_ATR.to_vec());
    b.faults.insert();
    let state = b.modem.settle(Duration::from_millis(100)).await.unwrap();
    assert_eq!(state.atr, real);
    assert!(state.inserted);
}

#[tokio::test]
async fn pin_locked_card_demands_a_pin() {
    let mut b = bench("telekom-de-1").await;
    b.faults.apply(CardFault::PinLocked);
    b.modem.settle(Duration::from_millis(50)).await.unwrap();
    assert_eq!(b.apdu(&[0x00, 0x20, 0x00, 0x01, 0x00]).await.unwrap(), vec![0x63, 0xC3]);
    b.select_usim().await;
    assert_eq!(b.read(&[0x6F07], 9).await.unwrap(), vec![0x69, 0x82]);
}

#[tokio::test]
async fn slow_card_within_wwt_keeps_the_modem_waiting() {
    let mut b = bench("telekom-de-1").await;
    let delay = WWT * 3;
    b.faults.apply(CardFault::Slow { delay, beyond_wwt: false });
    b.modem.settle(Duration::from_millis(50)).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(res_of(&b.authenticate().await.unwrap()), hex(RES));
    assert!(started.elapsed() >= delay, "answered after {:?}", started.elapsed());
}

#[tokio::test]
async fn slow_card_beyond_wwt_looks_mute_to_the_modem() {
    let mut b = bench("telekom-de-1").await;
    b.faults.apply(CardFault::Slow { delay: WWT * 3, beyond_wwt: true });
    b.modem.settle(Duration::from_millis(50)).await.unwrap();
    assert!(matches!(b.authenticate().await, Err(DeviceError::Mute(_))));
}

#[tokio::test]
async fn flaky_contact_bounces_at_its_rhythm() {
    let mut b = bench("telekom-de-1").await;
    b.faults.apply(CardFault::Flaky { up: Duration::from_millis(40), down: Duration::from_millis(40) });
    b.modem.follow(Duration::from_millis(300)).await.unwrap();
    let bounces = b.trace.events().iter().filter(|e| e.what == "card pulled").count();
    assert!((2..=5).contains(&bounces), "{bounces} bounces in 300 ms at 40/40 ms");
    b.faults.insert();
    b.modem.wait_inserted(Duration::from_secs(1)).await.unwrap();
    b.modem.settle(Duration::from_millis(100)).await.unwrap();
    assert!(b.modem.state().inserted);
}
