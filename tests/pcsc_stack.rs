//! The card path on a real pcscd: virtual USIMs served through vsmartcard's vpcd to a private
//! pcscd, checked with an independent PC/SC client (scriptor, Debian pcsc-tools) and with the
//! rig's own reader driver and bridge. Needs the Debian packages pcscd, vsmartcard-vpcd and
//! pcsc-tools (ci/setup-debian.sh installs them).
//!
//! libpcsclite binds a process to one pcscd socket path, so these tests take turns (at the
//! virtual bench: across test processes too).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{VIRTUAL_BENCH, root, seedrig, turn};

use seedrig::bridge::{InPlaceCard, SlotBridge, Trace};
use seedrig::clock::RigClock;
use seedrig::hw::pcsc::{CardWorker, PcscError, ReaderEvent, Readers, read_identity};
use seedrig::hw::simtrace::{SocketListener, SocketTransport};
use seedrig::model::Catalog;
use seedrig::sim::cardem_device::CardemDevice;
use seedrig::sim::pcscd::PrivatePcscd;
use seedrig::sim::usim::VirtualUsim;
use seedrig::sim::vpcd::VirtualCard;

mod common;

fn catalog() -> Catalog {
    seedrig::fixture::load_default(root()).unwrap().catalog
}

fn start(seeds: &[&str]) -> (PrivatePcscd, Catalog) {
    let catalog = catalog();
    let cards = seeds
        .iter()
        .map(|id| {
            let seed = &catalog.seeds[*id];
            let card = VirtualUsim::from_catalog(&catalog, seed).unwrap();
            (id.to_string(), Box::new(card) as Box<dyn VirtualCard>)
        })
        .collect();
    (PrivatePcscd::start(cards).expect("private pcscd starts"), catalog)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// Runs scriptor on `reader` with `script`; returns each response line's bytes.
fn scriptor(pcscd: &PrivatePcscd, reader: &str, script: &str) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script");
    std::fs::write(&file, script).unwrap();
    let out = Command::new("scriptor")
        .args(["-r", reader])
        .arg(&file)
        .env("PCSCLITE_CSOCK_NAME", pcscd.socket_path())
        .output()
        .expect("scriptor (Debian pcsc-tools) is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "scriptor failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    // A response starts with "< " and, when long, wraps every 16 bytes; it ends with
    // " : <status word meaning>".
    let mut responses = Vec::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("< ") {
            current = Some(String::new());
            current.as_mut().unwrap().push_str(rest);
        } else if let Some(c) = current.as_mut() {
            c.push(' ');
            c.push_str(line);
        }
        if let Some(c) = current.take_if(|c| c.contains(" : ")) {
            responses.push(hex(c.split(" : ").next().unwrap_or("")));
        }
    }
    responses
}

fn bcd_swapped(digits: &str) -> Vec<u8> {
    let mut nibbles: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    if nibbles.len() % 2 == 1 {
        nibbles.push(0xF);
    }
    nibbles.chunks(2).map(|p| p[0] | (p[1] << 4)).collect()
}

#[test]
fn scriptor_reads_iccid_and_imsi_through_the_private_pcscd() {
    let _turn = turn(VIRTUAL_BENCH);
    let (pcscd, catalog) = start(&["vodafone-de-1", "tmobile-us-1", "docomo-jp-1"]);
    for reader in pcscd.readers() {
        let seed = &catalog.seeds[&reader.label];
        let responses = scriptor(
            &pcscd,
            &reader.name,
            "00 A4 00 0C 02 3F 00\n00 A4 00 0C 02 2F E2\n00 B0 00 00 0A\n\
             00 A4 04 0C 07 A0 00 00 00 87 10 02\n00 A4 00 0C 02 6F 07\n00 B0 00 00 09\n",
        );
        assert_eq!(responses.len(), 6, "{responses:02X?}");
        let iccid = &responses[2];
        assert_eq!(&iccid[10..], &[0x90, 0x00]);
        let mut want = bcd_swapped(seed.iccid.as_str());
        want.resize(10, 0xFF);
        assert_eq!(iccid[..10], want[..], "ICCID of {}", reader.label);
        let imsi = &responses[5];
        assert_eq!(seedrig::hw::pcsc::decode_imsi(&imsi[..9]).as_deref(), Some(seed.imsi.as_str()));
    }
}

#[test]
fn scriptor_runs_authenticate_with_test_set_1() {
    let _turn = turn(VIRTUAL_BENCH);
    // telekom-de-1 carries TS 35.207 set 1: K 465b5ce8..., OPc cd63cb71...
    let (pcscd, _) = start(&["telekom-de-1"]);
    let reader = &pcscd.readers()[0].name;
    let script = "00 A4 04 0C 07 A0 00 00 00 87 10 02\n\
                  00 88 00 81 22 10 23553cbe9637a89d218ae64dae47bf35 10 55f328b43577b9b94a9ffac354dfafb3\n\
                  00 C0 00 00 35\n";
    let script =
        script.replace("23553cbe9637a89d218ae64dae47bf35", &spaced("23553cbe9637a89d218ae64dae47bf35"));
    let script =
        script.replace("55f328b43577b9b94a9ffac354dfafb3", &spaced("55f328b43577b9b94a9ffac354dfafb3"));
    let responses = scriptor(&pcscd, reader, &script);
    assert_eq!(responses[1], vec![0x61, 0x35]);
    let answer = &responses[2];
    assert_eq!(&answer[answer.len() - 2..], &[0x90, 0x00]);
    assert_eq!(answer[..2], [0xDB, 0x08]);
    assert_eq!(answer[2..10], hex("a54211d5e3ba50bf")[..], "RES");
    assert_eq!(answer[10], 0x10);
    assert_eq!(answer[11..27], hex("b40ba9a3c58b2a05bbf0d987b21bf8cb")[..], "CK");
    assert_eq!(answer[27], 0x10);
    assert_eq!(answer[28..44], hex("f769bcd751044604127672711c6d3441")[..], "IK");
}

fn spaced(hex: &str) -> String {
    (0..hex.len()).step_by(2).map(|i| &hex[i..i + 2]).collect::<Vec<_>>().join(" ")
}

#[test]
fn reader_driver_reads_identity_and_sees_cards_arrive() {
    let _turn = turn(VIRTUAL_BENCH);
    let (pcscd, catalog) = start(&["ee-uk-1", "claro-br-1"]);
    let mut readers = Readers::new();
    let listed = readers.list().unwrap();
    for reader in pcscd.readers() {
        assert!(listed.contains(&reader.name), "{listed:?}");
        let identity = read_identity(&readers.connect(&reader.name).unwrap()).unwrap();
        let seed = &catalog.seeds[&reader.label];
        assert_eq!(
            (identity.iccid.as_str(), identity.imsi.as_str()),
            (seed.iccid.as_str(), seed.imsi.as_str())
        );
    }
    // Starting from "empty", the watch reports every card as inserted, with its ATR.
    let known: Vec<(String, bool)> = pcscd.readers().iter().map(|r| (r.name.clone(), false)).collect();
    let events = readers.wait_change(&known, Duration::from_secs(2)).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| matches!(e, ReaderEvent::CardInserted { atr, .. } if atr[0] == 0x3B)));
    let missing = readers.connect("No Such Reader 00 00").err().unwrap();
    assert!(matches!(missing, PcscError::ReaderNotFound { .. }), "{missing}");
    assert!(missing.to_string().contains("Seedrig Virtual"), "lists the readers present: {missing}");
}

#[test]
fn killed_pcscd_is_an_error_not_a_hang_and_a_fresh_instance_serves_again() {
    let _turn = turn(VIRTUAL_BENCH);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut pcscd, _) = start(&["vodafone-de-1"]);
    let reader = pcscd.readers()[0].name.clone();
    let mut readers = Readers::new();
    assert!(!readers.list().unwrap().is_empty());
    let worker = runtime.block_on(CardWorker::connect(&reader)).unwrap();
    let status = [0x80, 0xF2, 0x00, 0x00, 0x00];
    assert!(runtime.block_on(worker.transmit(&status, Duration::from_secs(5))).is_ok());

    pcscd.kill();
    let started = Instant::now();
    let err = runtime.block_on(worker.transmit(&status, Duration::from_secs(5))).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(6), "took {:?}", started.elapsed());
    assert!(!matches!(err, PcscError::Status { .. }), "a bench error, not a card answer: {err}");
    let err = readers.list().unwrap_err();
    assert!(err.is_service_lost(), "{err}");
    drop(pcscd);

    let (fresh, _) = start(&["vodafone-de-1"]);
    let listed = readers.list().expect("the driver re-establishes its context");
    assert!(listed.contains(&fresh.readers()[0].name));
    let card = readers.connect(&fresh.readers()[0].name).unwrap();
    assert!(read_identity(&card).is_ok());
}

/// A bridge calling the card in `reader` in place, and the modem side of its channel with the
/// card inserted; the fault control and the folder of the socket live as long as the bridge.
struct Bridged {
    modem: CardemDevice<SocketTransport>,
    bridge: seedrig::bridge::RunningBridge,
    calls: seedrig::hw::pcsc::CallWatch,
    trace: Trace,
    _faults: seedrig::bridge::FaultControl,
    _dir: tempfile::TempDir,
}

async fn bridge_to(reader: &str) -> Bridged {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slot.sock");
    let listener = SocketListener::bind(&path).unwrap();
    let host = SocketTransport::connect(&path).await.unwrap();
    let device = listener.accept().await.unwrap();
    let card = InPlaceCard::connect(reader).await.unwrap();
    let calls = card.call_watch();
    let trace = Trace::default();
    let (bridge, faults) = SlotBridge::new(0, host, card, trace.clone(), RigClock::start());
    let bridge = bridge.spawn();
    let mut modem = CardemDevice::new(device, Duration::from_secs(1));
    modem.wait_inserted(Duration::from_secs(2)).await.unwrap();
    Bridged { modem, bridge, calls, trace, _faults: faults, _dir: dir }
}

#[test]
fn bridge_relays_a_modem_to_a_card_behind_pcscd() {
    let _turn = turn(VIRTUAL_BENCH);
    let (pcscd, _) = start(&["telekom-de-1"]);
    let reader = pcscd.readers()[0].name.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut bridged = bridge_to(&reader).await;
        let modem = &mut bridged.modem;
        assert_eq!(modem.state().atr[0], 0x3B);
        let aid = [0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02];
        assert_eq!(modem.command(&aid).await.unwrap(), vec![0x90, 0x00]);
        let mut auth = vec![0x00, 0x88, 0x00, 0x81, 0x22, 0x10];
        auth.extend(hex("23553cbe9637a89d218ae64dae47bf35"));
        auth.push(0x10);
        auth.extend(hex("55f328b43577b9b94a9ffac354dfafb3"));
        assert_eq!(modem.command(&auth).await.unwrap(), vec![0x61, 0x35]);
        let answer = modem.command(&[0x00, 0xC0, 0x00, 0x00, 0x35]).await.unwrap();
        assert_eq!(answer[2..10], hex("a54211d5e3ba50bf")[..]);
        assert_eq!(bridged.trace.apdus().len(), 3);
        assert!(!bridged.bridge.is_finished());
    });
}

/// A card called in place whose pcscd hangs: the call shows in its watch, the bridge does not
/// stop within its bound (the call cannot be cancelled), the runtime keeps running, and once
/// pcscd is gone the call returns and the connection closes.
#[test]
fn a_bridge_stuck_on_a_hung_pcscd_shows_in_its_call_watch_and_ends_once_pcscd_is_gone() {
    let _turn = turn(VIRTUAL_BENCH);
    let (mut pcscd, _) = start(&["telekom-de-1"]);
    let reader = pcscd.readers()[0].name.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut bridged = bridge_to(&reader).await;
        let (modem, calls) = (&mut bridged.modem, bridged.calls.clone());
        pcscd.freeze();
        // The modem gives up on the silent card; the bridge is still inside its PC/SC call.
        let _ = modem.command(&[0x00, 0xB0, 0x00, 0x00, 0x0A]).await;
        let waited = calls.pending_for().expect("a call under way");
        assert!(waited >= Duration::from_millis(500), "{waited:?}");
        let started = Instant::now();
        assert!(!bridged.bridge.stop(Duration::from_millis(200)).await, "a hung call cannot be cancelled");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!calls.closed());
        pcscd.kill();
        assert!(
            calls.closed_within(Duration::from_secs(5)).await,
            "the connection closes once pcscd is gone"
        );
        assert!(calls.pending_for().is_none());
    });
}

#[test]
fn stopping_leaves_no_process_or_socket_behind() {
    let _turn = turn(VIRTUAL_BENCH);
    let (pcscd, _) = start(&["vodafone-de-1"]);
    let pid = pcscd.pid();
    let socket = pcscd.socket_path().to_owned();
    assert!(socket.exists());
    drop(pcscd);
    assert!(!socket.exists(), "socket {} left behind", socket.display());
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "pcscd {pid} still running");
}

#[test]
fn a_panic_still_stops_pcscd_and_removes_its_socket() {
    let _turn = turn(VIRTUAL_BENCH);
    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let (pcscd, _) = start(&["vodafone-de-1"]);
        pid_tx.send((pcscd.pid(), pcscd.socket_path().to_owned())).unwrap();
        panic!("a test failing while pcscd runs");
    })
    .join();
    assert!(outcome.is_err());
    let (pid, socket) = pid_rx.recv().unwrap();
    assert!(!socket.exists(), "socket left behind");
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "pcscd {pid} still running");
}

#[test]
fn sim_cards_serves_seeds_to_other_pc_sc_clients_until_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let mut child = seedrig()
        .args(["sim", "cards", "tmobile-us-1", "ee-uk-2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let socket =
        first.strip_prefix("PCSCLITE_CSOCK_NAME=").expect("first line is the export line").to_owned();
    let table: Vec<String> = lines.by_ref().take(3).map(|l| l.unwrap()).collect();
    assert!(table[1].contains("tmobile-us-1") && table[1].contains("310260990000061"), "{table:?}");
    assert!(table[2].contains("ee-uk-2"), "{table:?}");
    // An independent client, pointed at the printed socket, sees the readers.
    let scan = Command::new("scriptor")
        .args(["-r", "Seedrig Virtual 0 00 00"])
        .env("PCSCLITE_CSOCK_NAME", &socket)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"00 A4 00 0C 02 3F 00\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        String::from_utf8_lossy(&scan.stdout).contains("< 90 00"),
        "{}",
        String::from_utf8_lossy(&scan.stdout)
    );
    // Our own child, which has not been waited for.
    let pid = rustix::process::Pid::from_child(&child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!Path::new(&socket).exists(), "socket left behind");
}

#[test]
fn a_system_pcscd_is_left_alone() {
    let _turn = turn(VIRTUAL_BENCH);
    let pid_file = Path::new("/run/pcscd/pcscd.pid");
    let system_socket = Path::new("/run/pcscd/pcscd.comm");
    let before = std::fs::read_to_string(pid_file).ok();
    let system_socket_before = system_socket.exists();
    let (pcscd, _) = start(&["vodafone-de-1"]);
    assert_ne!(pcscd.socket_path(), system_socket);
    if !pcscd.isolated() {
        eprintln!("no mount namespace on this machine: pcscd shares /run/pcscd/pcscd.pid");
        return;
    }
    assert_eq!(std::fs::read_to_string(pid_file).ok(), before, "the system pcscd's pid file changed");
    drop(pcscd);
    assert_eq!(std::fs::read_to_string(pid_file).ok(), before, "the system pcscd's pid file changed");
    assert_eq!(system_socket.exists(), system_socket_before);
}
