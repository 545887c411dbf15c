//! APDU round-trip latency on the virtual bench's card path, printed beside the targets:
//!   (a) a direct PC/SC transmit to a virtual card (pcsc crate → private pcscd → vpcd → card);
//!   (b) the same card through the APDU bridge as the benches run it, from a socket
//!       card-emulation client (the simulated modem's side: SIMtrace2 frames → bridge → PC/SC →
//!       card), the bridge calling the card in place ([`InPlaceCard`]);
//!   for reference, the bridge handing each call to a card worker thread ([`CardWorker`]), the
//!   design it replaced.
//! Targets: (b)/(a) median ≤ 1.10 and (b) p99 < 1 ms. Everything runs on a multi-thread runtime
//! with two workers, as `seedrig run` does; each round runs every path once, in an order that
//! rotates from round to round, so drift in the machine's load and whatever ran just before
//! fall on all paths alike.
//!
//! Run: cargo bench --bench apdu_latency   (needs pcscd and vsmartcard-vpcd installed)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seedrig::bridge::{CardLink, FaultControl, InPlaceCard, SlotBridge, Trace};
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

fn row(name: &str, f: &Figures) {
    println!("{name:<34}{}   {}   {}", us(f.p50), us(f.p99), us(f.max));
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

/// A bridge over `card` on its own socket, and the modem side of it, ready for READ BINARY;
/// the bridge runs while its fault control lives.
async fn bridged<C: CardLink + 'static>(
    dir: &Path,
    name: &str,
    card: C,
) -> (CardemDevice<SocketTransport>, FaultControl) {
    let path: PathBuf = dir.join(name);
    let listener = SocketListener::bind(&path).expect("bind");
    let host = SocketTransport::connect(&path).await.expect("connect");
    let device = listener.accept().await.expect("accept");
    let (bridge, faults) = SlotBridge::new(0, host, card, Trace::default(), RigClock::start());
    let _running = bridge.spawn();
    let mut modem = CardemDevice::new(device, Duration::from_secs(2));
    modem.wait_inserted(Duration::from_secs(2)).await.expect("card inserted");
    modem.command(&SELECT_ICCID).await.expect("select");
    (modem, faults)
}

async fn timed(modem: &mut CardemDevice<SocketTransport>) -> Duration {
    let t = Instant::now();
    let r = modem.command(&READ_ICCID).await.expect("command");
    let took = t.elapsed();
    assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
    took
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

    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let measure = async move {
        let mut readers = Readers::new();
        let direct_card = readers.connect(&reader).expect("connect");
        direct_card.transmit(&SELECT_ICCID).expect("select");
        let dir = tempfile::tempdir().expect("tempdir");
        let in_place = InPlaceCard::connect(&reader).await.expect("card in place");
        let (mut modem, _in_place_faults) = bridged(dir.path(), "in-place.sock", in_place).await;
        let worker = CardWorker::connect(&reader).await.expect("card worker");
        let (mut modem_via_worker, _worker_faults) = bridged(dir.path(), "worker.sock", worker).await;

        let (mut direct, mut through, mut via_worker) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..WARMUP + ROUNDS {
            // Each path goes first, second and third in turn: what ran just before (a thread
            // woken on the other core, a cold cache) falls on every path alike.
            let (mut a, mut b, mut w) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
            for step in 0..3 {
                match (i + step) % 3 {
                    0 => {
                        // Blocks this worker, which is fine here: the other one is free.
                        let t = Instant::now();
                        let r = direct_card.transmit(&READ_ICCID).expect("transmit");
                        a = t.elapsed();
                        assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
                    }
                    1 => b = timed(&mut modem).await,
                    _ => w = timed(&mut modem_via_worker).await,
                }
            }
            if i >= WARMUP {
                direct.push(a);
                through.push(b);
                via_worker.push(w);
            }
        }
        (figures(direct), figures(through), figures(via_worker))
    };
    let (direct, through, via_worker) =
        runtime.block_on(async { tokio::spawn(measure).await.expect("measurement") });

    println!(
        "APDU round trip, READ BINARY (10 bytes) on a virtual USIM, {ROUNDS} alternating rounds after {WARMUP} warm-up"
    );
    println!("                                      p50          p99          max");
    row("(a) direct PC/SC transmit", &direct);
    row("(b) through the APDU bridge", &through);
    println!("    for reference: the bridge handing each call to a card worker thread");
    row("", &via_worker);
    let ratio = through.p50.as_secs_f64() / direct.p50.as_secs_f64();
    println!(
        "(b)/(a) median ratio: {ratio:.3}   (target ≤ 1.10: {})   (b) − (a) median: {}",
        met(ratio <= 1.10),
        us(through.p50.saturating_sub(direct.p50))
    );
    println!(
        "(b) p99: {}   (target < 1 ms: {})",
        us(through.p99),
        met(through.p99 < Duration::from_millis(1))
    );
    println!(
        "card worker thread instead: median ratio {:.3}",
        via_worker.p50.as_secs_f64() / direct.p50.as_secs_f64()
    );
}
