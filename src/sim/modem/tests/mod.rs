//! The modem driven as the firmware drives it: AT over its PTY opened by path with
//! tokio-serial, real virtual USIMs behind real APDU bridges on the slot sockets, and a
//! scripted network (or the real one) behind [`RadioNetwork`].

mod at_session;
mod client;
mod consistency;
mod data;
mod end_to_end;
mod housekeeping;
mod lifecycle;
mod netinfo;
mod registration;
mod sim;
mod sms;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_serial::{SerialPortBuilderExt, SerialStream};

use super::net::NetFuture;
use super::{Modem, ModemConfig, RadioNetwork};
use crate::bridge::{BridgeError, FaultControl, LocalCard, SlotBridge, Trace};
use crate::clock::RigClock;
use crate::clock::TimeScale;
use crate::hw::simtrace::SocketTransport;
use crate::model::{Plmn, Rat};
use crate::sim::network::{
    ActivationFailure, AttachFailure, AuthAnswer, Context, DataFailure, HeardCell, Registration, SimAuth,
};
use crate::sim::usim::{Milenage, VirtualUsim, generate_vector, resync_sqn};

pub const WWT: Duration = Duration::from_millis(200);
/// How long a test waits for bytes it expects.
const PATIENCE: Duration = Duration::from_secs(5);

pub const TELEKOM_IMSI: &str = "262019900000001";
pub const TELEKOM_ICCID: &str = "8949010999000000019";
pub const VODAFONE_IMSI: &str = "262029900000011";

pub fn catalog() -> crate::model::Catalog {
    crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap().catalog
}

/// What the scripted network does with an attach once the card has authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept {
        roaming: bool,
    },
    Reject(u8),
    /// Never answers (no coverage, silence).
    Never,
}

struct Subscriber {
    milenage: Milenage,
    sqn: u64,
}

/// A network that authenticates the cards for real (Milenage with the seeds' keys) and then
/// does what the test says; requests are echoed back.
pub struct FakeNet {
    verdict: Mutex<Verdict>,
    cells: Mutex<Vec<HeardCell>>,
    subscribers: Mutex<HashMap<String, Subscriber>>,
    pub detached: Mutex<Vec<String>>,
    /// Attaches whose future was dropped before it completed.
    pub abandoned: AtomicUsize,
}

impl FakeNet {
    pub fn new(verdict: Verdict) -> Arc<FakeNet> {
        let catalog = catalog();
        let key = |s: &crate::model::Secret| -> [u8; 16] {
            crate::encoding::hex::bytes(&s.expose().unwrap()).try_into().unwrap()
        };
        let subscribers = catalog
            .seeds
            .values()
            .map(|seed| {
                let sub = Subscriber {
                    milenage: Milenage::new(key(&seed.k), key(&seed.opc)),
                    sqn: seed.sqn.unwrap_or(0x20) + 32,
                };
                (seed.imsi.as_str().to_owned(), sub)
            })
            .collect();
        Arc::new(FakeNet {
            verdict: Mutex::new(verdict),
            cells: Mutex::new(default_cells()),
            subscribers: Mutex::new(subscribers),
            detached: Mutex::new(Vec::new()),
            abandoned: AtomicUsize::new(0),
        })
    }

    pub fn set_verdict(&self, verdict: Verdict) {
        *self.verdict.lock().unwrap() = verdict;
    }

    /// What the modem hears from now on (strongest first, as the network lists them).
    pub fn set_cells(&self, cells: Vec<HeardCell>) {
        *self.cells.lock().unwrap() = cells;
    }

    pub fn detached(&self) -> Vec<String> {
        self.detached.lock().unwrap().clone()
    }

    /// AKA as a network does it, with one resynchronisation.
    async fn authenticate(&self, imsi: &str, sim: &mut dyn SimAuth) -> bool {
        for round in 0..2u8 {
            let (rand, vector) = {
                let mut subs = self.subscribers.lock().unwrap();
                let Some(sub) = subs.get_mut(imsi) else { return false };
                sub.sqn += 32;
                let rand = [round.wrapping_add(sub.sqn as u8); 16];
                (rand, generate_vector(&sub.milenage, rand, &u48_bytes(sub.sqn), &[0x80, 0]))
            };
            match sim.authenticate(rand, vector.autn).await {
                AuthAnswer::Res { res, .. } => return res == vector.xres,
                AuthAnswer::Resync { auts } => {
                    let mut subs = self.subscribers.lock().unwrap();
                    let sub = subs.get_mut(imsi).unwrap();
                    let Some(sqn_ms) = resync_sqn(&sub.milenage, &rand, &auts) else { return false };
                    sub.sqn = sqn_ms.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b));
                }
                _ => return false,
            }
        }
        false
    }
}

fn u48_bytes(v: u64) -> [u8; 6] {
    let b = v.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

pub fn cell(plmn: &str, long: &str, short: &str, rat: Rat, dbm: f64, label: Option<&str>) -> HeardCell {
    HeardCell {
        plmn: Plmn::parse(plmn).unwrap(),
        carrier_name: long.to_owned(),
        short_name: short.to_owned(),
        rat,
        dbm,
        label: label.map(str::to_owned),
    }
}

/// Counts an attach future dropped before it finished.
struct Abandoned<'a>(&'a AtomicUsize);

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The site of the scripted network: the registration's cell (Telekom LTE `fra-1`), a
/// Vodafone LTE cell, a Telekom GSM cell.
pub fn default_cells() -> Vec<HeardCell> {
    vec![
        cell("262-01", "Telekom Deutschland", "Telekom", Rat::Lte, -71.0, Some("fra-1")),
        cell("262-02", "Vodafone Germany", "Vodafone", Rat::Lte, -80.4, None),
        cell("262-01", "Telekom Deutschland", "Telekom", Rat::Gsm, -85.0, None),
    ]
}

impl RadioNetwork for FakeNet {
    fn cells(&self) -> Vec<HeardCell> {
        self.cells.lock().unwrap().clone()
    }

    fn attach<'a>(
        &'a self,
        imsi: &'a str,
        sim: &'a mut dyn SimAuth,
    ) -> NetFuture<'a, Result<Registration, AttachFailure>> {
        Box::pin(async move {
            let verdict = *self.verdict.lock().unwrap();
            if verdict == Verdict::Never {
                let _count = Abandoned(&self.abandoned);
                return std::future::pending().await;
            }
            if !self.authenticate(imsi, sim).await {
                return Err(AttachFailure::Rejected { cause: 3 });
            }
            match verdict {
                Verdict::Accept { roaming } => Ok(Registration {
                    imsi: imsi.to_owned(),
                    plmn: Plmn::parse("262-01").unwrap(),
                    rat: Rat::Lte,
                    roaming,
                    cell_label: Some("fra-1".to_owned()),
                    id: 1,
                }),
                Verdict::Reject(cause) => Err(AttachFailure::Rejected { cause }),
                Verdict::Never => unreachable!(),
            }
        })
    }

    fn activate<'a>(
        &'a self,
        reg: &'a Registration,
        apn: &'a str,
    ) -> NetFuture<'a, Result<Context, ActivationFailure>> {
        Box::pin(async move {
            if apn == "dial-fail" {
                return Err(ActivationFailure::Rejected { cause: 33 });
            }
            let (imsi, plmn) = (reg.imsi.clone(), reg.plmn.clone());
            Ok(Context { id: 1, ip: "10.0.0.7".to_owned(), apn: apn.to_owned(), imsi, plmn })
        })
    }

    fn deactivate(&self, _ctx: &Context) {}

    fn request<'a>(
        &'a self,
        _ctx: &'a Context,
        host: &'a str,
        _port: u16,
        payload: &'a [u8],
    ) -> NetFuture<'a, Result<Vec<u8>, DataFailure>> {
        Box::pin(async move {
            if host == "nowhere.test" {
                return Err(DataFailure::UnknownHost);
            }
            Ok(payload.to_vec())
        })
    }

    fn detach(&self, reg: &Registration) {
        self.detached.lock().unwrap().push(reg.imsi.clone());
    }
}

/// A modem with `slots` slots on a fake network, its bridges, and a directory for it all.
pub struct Rig {
    pub modem: Modem,
    pub net: Arc<FakeNet>,
    pub bridges: Vec<JoinHandle<Result<(), BridgeError>>>,
    pub dir: tempfile::TempDir,
}

pub async fn rig(slots: u8, verdict: Verdict) -> Rig {
    let net = FakeNet::new(verdict);
    let dir = tempfile::tempdir().unwrap();
    let modem = Modem::start_with(config(slots, dir.path()), net.clone()).await.unwrap();
    Rig { modem, net, bridges: Vec::new(), dir }
}

pub fn config(slots: u8, dir: &Path) -> ModemConfig {
    ModemConfig {
        slots,
        slot_socket_dir: dir.join("slots"),
        scale: TimeScale::new(0.01),
        clock: RigClock::start(),
        wwt: WWT,
    }
}

impl Rig {
    /// Connects a bridge with `seed`'s card to slot `slot`, as the rig does.
    pub async fn plug(&mut self, slot: u8, seed: &str) -> FaultControl {
        plug(&self.modem, &mut self.bridges, slot, seed).await
    }

    pub fn firmware(&self) -> Client {
        Client::open(self.modem.firmware_port())
    }

    pub fn observer(&self) -> Client {
        Client::open(self.modem.observer_port())
    }
}

pub async fn plug(
    modem: &Modem,
    bridges: &mut Vec<JoinHandle<Result<(), BridgeError>>>,
    slot: u8,
    seed: &str,
) -> FaultControl {
    let card = VirtualUsim::from_seed(&catalog().seeds[seed]).unwrap();
    let host = SocketTransport::connect(modem.slot_socket(slot)).await.unwrap();
    let (bridge, faults) = SlotBridge::new(slot, host, LocalCard(card), Trace::default(), RigClock::start());
    bridges.push(tokio::spawn(bridge.run()));
    faults
}

/// The firmware's (or the rig's) end of an AT port.
pub struct Client {
    io: SerialStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn open(path: &Path) -> Client {
        let io = tokio_serial::new(path.to_string_lossy(), 115_200).open_native_async().unwrap();
        Client { io, buf: Vec::new() }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    /// The next bytes on the wire are exactly `want`.
    pub async fn expect(&mut self, want: &str) {
        self.fill(want.len()).await;
        let got: Vec<u8> = self.buf.drain(..want.len()).collect();
        assert_eq!(String::from_utf8_lossy(&got), want, "(then: {:?})", String::from_utf8_lossy(&self.buf));
    }

    /// Sends `line` with `\r` and expects exactly `want` back.
    pub async fn at(&mut self, line: &str, want: &str) {
        self.send(format!("{line}\r").as_bytes()).await;
        self.expect(want).await;
    }

    /// Reads until `pattern` has arrived; returns everything up to and including it.
    pub async fn until(&mut self, pattern: &str) -> String {
        loop {
            if let Some(at) = find(&self.buf, pattern.as_bytes()) {
                let got: Vec<u8> = self.buf.drain(..at + pattern.len()).collect();
                return String::from_utf8_lossy(&got).into_owned();
            }
            self.read_more(pattern).await;
        }
    }

    /// Nothing arrives for `quiet`.
    pub async fn silent(&mut self, quiet: Duration) {
        let mut more = [0u8; 256];
        if let Ok(n) = tokio::time::timeout(quiet, self.io.read(&mut more)).await {
            self.buf.extend_from_slice(&more[..n.unwrap()]);
        }
        assert!(self.buf.is_empty(), "unexpected output: {:?}", String::from_utf8_lossy(&self.buf));
    }

    async fn fill(&mut self, n: usize) {
        while self.buf.len() < n {
            self.read_more(&format!("{n} bytes")).await;
        }
    }

    async fn read_more(&mut self, waiting_for: &str) {
        let mut more = [0u8; 1024];
        match tokio::time::timeout(PATIENCE, self.io.read(&mut more)).await {
            Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&more[..n]),
            other => panic!(
                "waiting for {waiting_for:?}: {other:?}; have {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Sends `line` (echo off) and returns its information lines and final result, leaving out
    /// the URCs that may arrive meanwhile (`+CPIN:`, `+QSIMSTAT:`, `+CGEV:`, `+QIURC:`; so
    /// `AT+CPIN?` is not for this).
    pub async fn ask(&mut self, line: &str) -> (Vec<String>, String) {
        self.send(format!("{line}\r").as_bytes()).await;
        let mut lines = Vec::new();
        loop {
            let got = self.until("\r\n").await;
            let text = got.trim_end_matches("\r\n").trim_start_matches("\r\n");
            if got == "\r\n" || text.is_empty() {
                continue;
            }
            if ["+CPIN:", "+QSIMSTAT:", "+CGEV:", "+QIURC:"].iter().any(|p| text.starts_with(p)) {
                continue;
            }
            if is_final(text) {
                return (lines, text.to_owned());
            }
            lines.push(text.to_owned());
        }
    }

    /// [`ask`](Self::ask) for one information line and OK.
    pub async fn one(&mut self, line: &str) -> String {
        let (lines, end) = self.ask(line).await;
        assert_eq!((lines.len(), end.as_str()), (1, "OK"), "{line}: {lines:?}");
        lines.into_iter().next().unwrap()
    }

    /// Reads to the end of the stream (the modem closed the port).
    pub async fn closed(&mut self) -> bool {
        let mut more = [0u8; 1024];
        loop {
            match tokio::time::timeout(PATIENCE, self.io.read(&mut more)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }
}

pub fn is_final(line: &str) -> bool {
    line == "OK" || line == "ERROR" || line.starts_with("+CME ERROR:") || line.starts_with("+CMS ERROR:")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The made-up parameters of a cell of the fake network, as the modem derives them.
pub fn params(plmn: &str, rat: Rat, label: Option<&str>) -> super::radio::CellParams {
    super::radio::CellParams::of(&Plmn::parse(plmn).unwrap(), rat, label)
}

/// The `+CEREG` location of the fake network's serving cell, as the modem derives it.
pub fn fake_location() -> String {
    let h = super::registration::fnv1a(b"26201/lte/fra-1");
    format!("\"{:04X}\",\"{:08X}\"", ((h >> 48) as u16).max(1), (h as u32 & 0x0FFF_FFFF).max(1))
}
