//! APDU round-trip latency on the virtual bench's card path, printed as figures:
//!   (a) a direct PC/SC transmit to a virtual card (pcsc crate → private pcscd → vpcd → card);
//!   (b) the same card through the APDU bridge, from a socket card-emulation client (the
//!       simulated modem's side: SIMtrace2 frames → bridge → PC/SC → card).
//! Targets: (b)/(a) median ≤ 1.10 and (b) p99 < 1 ms, each printed beside its figure. The rounds alternate between the paths,
//! so drift in the machine's load falls on both alike. For reference it also times the async
//! PC/SC call alone (the card worker thread the bridge uses), to show where the difference
//! lies: in the hand-over between the runtime and the thread that may block, or in framing.
//!
//! Run: cargo bench --bench apdu_latency   (needs pcscd and vsmartcard-vpcd installed)

use std::path::Path;
use std::time::{Duration, Instant};

use seedrig::bridge::{SlotBridge, Trace};
use seedrig::clock::RigClock;
use seedrig::hw::pcsc::{CardWorker, Readers};
use seedrig::hw::simtrace::{SocketListener, SocketTransport};
use seedrig::sim::cardem_device::CardemDevice;
use seedrig::sim::pcscd::PrivatePcscd;
use seedrig::sim::usim::VirtualUsim;
use seedrig::sim::vpcd::VirtualCard;

const WARMUP: usize = 200;
const ROUNDS: usize = 3000;
/// SELECT EF_ICCID (no response data), then READ BINARY of its 10 bytes is the measured APDU.
const SELECT_ICCID: [u8; 7] = [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0xE2];
const READ_ICCID: [u8; 5] = [0x00, 0xB0, 0x00, 0x00, 0x0A];

struct Figures {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn figures(mut samples: Vec<Duration>) -> Figures {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Figures { p50: at(0.50), p99: at(0.99), max: at(1.0) }
}

fn us(d: Duration) -> String {
    format!("{:7.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let catalog =
        seedrig::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("fixtures").catalog;
    let seed = &catalog.seeds["telekom-de-1"];
    let card = VirtualUsim::from_seed(seed).expect("virtual card");
    let pcscd =
        match PrivatePcscd::start(vec![("telekom-de-1".into(), Box::new(card) as Box<dyn VirtualCard>)]) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot run the benchmark: {e}");
                std::process::exit(1);
            }
        };
    let reader = pcscd.readers()[0].name.clone();

    // One thread runs a virtual bench's async parts (modem side and bridge); PC/SC calls run on
    // the card worker's own thread.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (direct, worked, bridged) = runtime.block_on(async {
        let mut readers = Readers::new();
        let direct_card = readers.connect(&reader).expect("connect");
        direct_card.transmit(&SELECT_ICCID).expect("select");

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("slot.sock");
        let listener = SocketListener::bind(&path).expect("bind");
        let host = SocketTransport::connect(&path).await.expect("connect");
        let device = listener.accept().await.expect("accept");
        let worker = CardWorker::connect(&reader).await.expect("card worker");
        worker.transmit(&SELECT_ICCID, Duration::from_secs(2)).await.expect("select");
        let card = CardWorker::connect(&reader).await.expect("card worker");
        let (bridge, _faults) = SlotBridge::new(0, host, card, Trace::default(), RigClock::start());
        tokio::spawn(bridge.run());
        let mut modem = CardemDevice::new(device, Duration::from_secs(2));
        modem.wait_inserted(Duration::from_secs(2)).await.expect("card inserted");
        modem.command(&SELECT_ICCID).await.expect("select");

        // Rounds alternate between the two paths, so both see the same machine. The direct
        // call blocks this thread, which is fine here: nothing else needs it meanwhile.
        let (mut direct, mut worked, mut bridged) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..WARMUP + ROUNDS {
            let t = Instant::now();
            let r = direct_card.transmit(&READ_ICCID).expect("transmit");
            let a = t.elapsed();
            assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
            let t = Instant::now();
            let r = worker.transmit(&READ_ICCID, Duration::from_secs(2)).await.expect("worker");
            let w = t.elapsed();
            assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
            let t = Instant::now();
            let r = modem.command(&READ_ICCID).await.expect("command");
            let b = t.elapsed();
            assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
            if i >= WARMUP {
                direct.push(a);
                worked.push(w);
                bridged.push(b);
            }
        }
        (figures(direct), figures(worked), figures(bridged))
    });

    println!(
        "APDU round trip, READ BINARY (10 bytes) on a virtual USIM, {ROUNDS} rounds after {WARMUP} warm-up"
    );
    println!("                                  p50          p99          max");
    println!("(a) direct PC/SC transmit     {}   {}   {}", us(direct.p50), us(direct.p99), us(direct.max));
    println!("(b) through the APDU bridge   {}   {}   {}", us(bridged.p50), us(bridged.p99), us(bridged.max));
    println!("    for reference: the async PC/SC call alone (card worker thread, as the bridge makes it)");
    println!("                              {}   {}   {}", us(worked.p50), us(worked.p99), us(worked.max));
    let ratio = bridged.p50.as_secs_f64() / direct.p50.as_secs_f64();
    let met = |ok: bool| if ok { "met" } else { "NOT MET" };
    println!(
        "(b)/(a) median ratio: {ratio:.3}   (target ≤ 1.10: {})   (b) − (a) median: {}",
        met(ratio <= 1.10),
        us(bridged.p50.saturating_sub(direct.p50))
    );
    println!(
        "(b) p99: {}   (target < 1 ms: {})",
        us(bridged.p99),
        met(bridged.p99 < Duration::from_millis(1))
    );
}
