//! The virtual bench for one scenario, up and down.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::error::{BenchError, ChannelRef, PortCause, ReaderRef};
use super::firmware_config::{Wiring, firmware_config};
use super::observer::Observer;
use super::warm_cards::{self, WarmCards};
use super::{Bench, Sabotage};
use crate::backend::Backend;
use crate::bench::evidence::{Evidence, NetworkStep, ReportImsi, RigTime, StepKind};
use crate::bridge::{CardFault, FaultControl, InPlaceCard, RunningBridge, SlotBridge, Trace};
use crate::children::dut_process::DutProcess;
use crate::clock::{RigClock, TimeScale};
use crate::hw::pcsc::{CallWatch, Readers, read_identity};
use crate::hw::simtrace::SocketTransport;
use crate::method::attempt::CARD_WWT_MS;
use crate::model::{Catalog, ConsoleFormat, DutProgram, Rig, Scenario};
use crate::sim::modem::{Modem, ModemConfig};
use crate::sim::network::{Network, TruthKind};
use crate::sim::pcscd::PrivatePcscd;
use crate::sim::pty::Pty;

/// The backend's address as the firmware is told it; the simulated network routes it to the
/// stub (nothing listens anywhere).
pub const BACKEND_HOST: &str = "backend.seedrig.test";
pub const BACKEND_PORT: u16 = 7000;

pub struct VirtualBenchOptions {
    /// Start the reference firmware (else only print where to point one).
    pub firmware: Option<FirmwareLaunch>,
    /// The rig takes the observer AT port and records its URCs (the runner does; `sim up`
    /// leaves the port to people).
    pub watch_observer: bool,
}

/// The device under test a virtual bench starts for each scenario.
#[derive(Debug, Clone)]
pub enum FirmwareLaunch {
    /// The rig's reference firmware.
    Reference {
        binary: PathBuf,
        /// A deliberately wrong behaviour, for the rig's self-test.
        fault: Option<String>,
    },
    /// The firmware a rig file's `[dut]` names.
    Program(DutProgram),
}

impl FirmwareLaunch {
    /// The command line, with the configuration's path in it.
    pub fn argv(&self, config: &Path) -> Vec<String> {
        match self {
            FirmwareLaunch::Reference { binary, fault } => {
                let mut argv =
                    vec![binary.display().to_string(), "--config".into(), config.display().to_string()];
                if let Some(fault) = fault {
                    argv.extend(["--fault".into(), fault.clone()]);
                }
                argv
            }
            FirmwareLaunch::Program(p) => p.argv(config),
        }
    }

    pub fn console_format(&self) -> &ConsoleFormat {
        match self {
            FirmwareLaunch::Reference { .. } => &ConsoleFormat::Json,
            FirmwareLaunch::Program(p) => &p.events,
        }
    }

    pub fn boot_timeout(&self) -> Duration {
        match self {
            FirmwareLaunch::Reference { .. } => BOOT_TIMEOUT,
            FirmwareLaunch::Program(p) => Duration::from_millis(p.boot_timeout_ms),
        }
    }
}

/// What a person needs to talk to the bench.
#[derive(Debug, Clone, Serialize)]
pub struct BenchPaths {
    pub firmware_at_port: PathBuf,
    pub observer_at_port: PathBuf,
    pub console: PathBuf,
    pub pcsc_socket: PathBuf,
    pub firmware_config: PathBuf,
    pub slots: Vec<SlotPath>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlotPath {
    pub slot: u8,
    pub seed: String,
    pub reader: String,
    pub card_emulation_socket: PathBuf,
}

struct SlotRig {
    slot: u8,
    reader: String,
    /// The slot's PC/SC calls under way, watched for a pcscd that stopped answering.
    card_calls: CallWatch,
    faults: FaultControl,
    bridge: RunningBridge,
}

pub struct VirtualBench {
    pub clock: RigClock,
    pub scale: TimeScale,
    pub network: Network,
    pub backend: Backend,
    pub trace: Trace,
    /// The firmware's console, rig side (shared so a relay can read it too).
    pub console: std::sync::Arc<Pty>,
    paths: BenchPaths,
    slots: Vec<SlotRig>,
    modem: Option<Modem>,
    firmware: Option<DutProcess>,
    /// How the DUT's console reads and how long it may take to boot.
    console_format: ConsoleFormat,
    boot_timeout: Duration,
    pcscd: Option<PrivatePcscd>,
    /// The modem's observer port, watched by the rig (the runner's benches).
    observer: Option<Observer>,
    /// Where pcscd goes back at tear-down, on a station that keeps its cards warm.
    warm: Option<WarmCards>,
    /// Something broke or was broken on purpose: pcscd is not trusted with another scenario.
    tainted: bool,
    _dir: tempfile::TempDir,
}

impl VirtualBench {
    /// Brings the virtual world of `scenario` up, with its card faults applied: a pcscd of its
    /// own for the scenario's seeds, stopped at tear-down.
    pub async fn up(
        catalog: &Catalog,
        scenario: &Scenario,
        rig: &Rig,
        options: VirtualBenchOptions,
    ) -> Result<VirtualBench, BenchError> {
        VirtualBench::bring_up(catalog, scenario, rig, options, None).await
    }

    /// [`up`](Self::up), with the cards of `warm` (put back to the fixture's state) where given.
    async fn bring_up(
        catalog: &Catalog,
        scenario: &Scenario,
        rig: &Rig,
        options: VirtualBenchOptions,
        warm: Option<WarmCards>,
    ) -> Result<VirtualBench, BenchError> {
        let clock = RigClock::start();
        let scale = TimeScale::new(rig.time_scale);
        let dir = crate::children::private_temp_dir("bench").map_err(BenchError::BenchFolder)?;
        let warm = warm.filter(|_| warm_cards::can_keep_warm(catalog));
        let pcscd = match &warm {
            Some(cards) => cards.take(catalog, scenario).await?,
            None => warm_cards::start(warm_cards::scenario_seeds(catalog, scenario)?).await?,
        };
        let backend = Backend::new(clock);
        let network =
            Network::new(catalog, scenario, scale, clock, backend.clone()).map_err(BenchError::Network)?;
        let slot_count =
            scenario.placements().map(|p| p.slot).max().unwrap_or(0).max(rig.slots.saturating_sub(1)) + 1;
        let config = ModemConfig {
            slots: slot_count,
            slot_socket_dir: dir.path().to_owned(),
            scale,
            clock,
            wwt: scale.ms(CARD_WWT_MS),
        };
        let modem = Modem::start(config, network.clone()).await.map_err(BenchError::Modem)?;
        let trace = Trace::default();
        let mut slots = Vec::new();
        let mut slot_paths = Vec::new();
        for p in scenario.placements() {
            let reader = pcscd.reader(&p.seed).map(|r| r.name.clone()).unwrap_or_default();
            if warm.is_none() {
                // Warm cards were seated by the rig itself, from the seed files, a moment ago.
                check_card(&reader, p.slot, &catalog.seeds[&p.seed]).await?;
            }
            let card = InPlaceCard::connect(&reader)
                .await
                .map_err(|cause| BenchError::Reader { reader: ReaderRef::Slot(p.slot), cause })?;
            let card_calls = card.call_watch();
            let socket = modem.slot_socket(p.slot);
            let channel = SocketTransport::connect(&socket).await.map_err(|cause| {
                BenchError::CardChannel { slot: p.slot, channel: ChannelRef::Modem, cause }
            })?;
            let (bridge, faults) = SlotBridge::new(p.slot, channel, card, trace.clone(), clock);
            let bridge = bridge.with_null_interval(scale.ms(CARD_WWT_MS) / 4);
            for fault in p.faults.iter().filter_map(|f| CardFault::from_kind(&f.kind, scale.factor())) {
                faults.apply(fault);
            }
            slots.push(SlotRig {
                slot: p.slot,
                reader: reader.clone(),
                card_calls,
                faults,
                bridge: bridge.spawn(),
            });
            slot_paths.push(SlotPath {
                slot: p.slot,
                seed: p.seed.clone(),
                reader,
                card_emulation_socket: socket,
            });
        }
        // A bouncing card at slot 0 goes in and out the whole time: nothing to wait for.
        let bouncing = scenario.placements().any(|p| {
            p.slot == 0 && p.faults.iter().any(|f| matches!(f.kind, crate::model::FaultKind::Flaky { .. }))
        });
        if !bouncing {
            settle_active_slot(&trace).await;
        }
        let console = std::sync::Arc::new(
            Pty::open().map_err(|e| BenchError::DutConsole { port: None, cause: PortCause::Io(e) })?,
        );
        let config_path = dir.path().join("firmware.toml");
        let wiring = Wiring {
            at_port: Some(modem.firmware_port()),
            console: Some(console.path()),
            backend_host: BACKEND_HOST,
            backend_port: BACKEND_PORT,
        };
        std::fs::write(&config_path, firmware_config(catalog, scenario, scale, &wiring))
            .map_err(BenchError::BenchFolder)?;
        let paths = BenchPaths {
            firmware_at_port: modem.firmware_port().to_owned(),
            observer_at_port: modem.observer_port().to_owned(),
            console: console.path().to_owned(),
            pcsc_socket: pcscd.socket_path().to_owned(),
            firmware_config: config_path.clone(),
            slots: slot_paths,
        };
        let observer = match options.watch_observer {
            true => Some(
                Observer::watch(modem.observer_port(), 115_200, clock, Duration::ZERO, CALIBRATION_PINGS)
                    .await
                    .map_err(|e| BenchError::ModemObserver(Box::new(e)))?,
            ),
            false => None,
        };
        let (console_format, boot_timeout) = match &options.firmware {
            Some(launch) => (launch.console_format().clone(), launch.boot_timeout()),
            None => (ConsoleFormat::Json, BOOT_TIMEOUT),
        };
        let firmware = match &options.firmware {
            Some(launch) => Some(
                DutProcess::spawn(&launch.argv(&config_path), dir.path())
                    .map_err(BenchError::FirmwareNotStarted)?,
            ),
            None => None,
        };
        Ok(VirtualBench {
            clock,
            scale,
            network,
            backend,
            trace,
            console,
            paths,
            slots,
            modem: Some(modem),
            firmware,
            console_format,
            boot_timeout,
            pcscd: Some(pcscd),
            observer,
            warm,
            tainted: false,
            _dir: dir,
        })
    }

    pub fn paths(&self) -> &BenchPaths {
        &self.paths
    }

    /// A part that broke while running: a bridge that ended, or the firmware process.
    pub fn broken(&mut self) -> Option<BenchError> {
        let broken = self.find_broken();
        self.tainted |= broken.is_some();
        broken
    }

    fn find_broken(&mut self) -> Option<BenchError> {
        if let Some(pcscd) = self.pcscd.as_ref().filter(|p| !p.alive()) {
            let slots = self.slots.iter().map(|s| s.slot).collect();
            return Some(BenchError::PcscdDied { pid: pcscd.pid(), slots });
        }
        let pid = self.pcscd.as_ref().map_or(0, PrivatePcscd::pid);
        // The modem gives a card its work waiting time; a PC/SC call longer than that made a
        // healthy card look silent to it, through no fault of the card or the firmware.
        let bound = self.scale.ms(CARD_WWT_MS).min(CARD_CALL_BOUND);
        for s in &self.slots {
            if let Some(waited) = s.card_calls.pending_for().filter(|w| *w > bound) {
                let reader = s.reader.clone();
                return Some(BenchError::PcscdHung { pid: Some(pid), slot: s.slot, reader, waited, bound });
            }
            let took = s.card_calls.longest();
            if took > bound {
                return Some(BenchError::PcscdLate {
                    pid,
                    slot: s.slot,
                    reader: s.reader.clone(),
                    took,
                    bound,
                });
            }
        }
        for s in &self.slots {
            if let Some(cause) = s.bridge.stopped() {
                return Some(BenchError::BridgeStopped { slot: s.slot, reader: s.reader.clone(), cause });
            }
        }
        self.firmware.as_mut().and_then(DutProcess::exited).map(BenchError::FirmwareExited)
    }

    /// Sends one line to the firmware's console.
    pub async fn console_command(&self, line: &str) -> std::io::Result<()> {
        self.console.write_all(format!("{line}\n").as_bytes()).await
    }

    /// The firmware's process id, while it runs.
    pub fn firmware_pid(&self) -> Option<u32> {
        self.firmware.as_ref().and_then(|c| c.id())
    }

    /// The private pcscd, e.g. to kill it in a test.
    pub fn pcscd_mut(&mut self) -> Option<&mut PrivatePcscd> {
        self.pcscd.as_mut()
    }

    /// URCs seen on the observer port so far.
    pub fn observer_lines(&self) -> Vec<(Duration, String)> {
        self.observer.as_ref().map(Observer::lines).unwrap_or_default()
    }

    /// The rig's own time in the DUT's exchanges: the observer's `AT` round trip at bring-up,
    /// when each of the firmware's commands reached the modem, and how late the simulated
    /// radio's waits ended.
    fn rig_time(&self) -> Option<RigTime> {
        let at_exchange = self.observer.as_ref()?.at_exchange?;
        let dut_commands = self.modem.as_ref()?.firmware_commands();
        Some(RigTime {
            at_exchange,
            dut_commands,
            late_waits: self.network.late_waits(),
            card_resets: self.trace.resets(),
        })
    }

    /// Restores every card, stops the firmware, the bridges, the modem and pcscd.
    pub async fn down(mut self) {
        // A part that broke after the runner last asked counts too (asked before the tear-down
        // itself stops the firmware and the bridges).
        self.tainted |= self.find_broken().is_some();
        for s in &self.slots {
            s.faults.insert();
        }
        if let Some(firmware) = self.firmware.take() {
            firmware.stop().await;
        }
        drop(self.observer.take());
        for s in self.slots.drain(..) {
            s.bridge.stop(CARD_CALL_BOUND).await;
            // A card call still under way, or a disconnect (which resets the card), could reach
            // the card the next scenario is given.
            self.tainted |= !s.card_calls.closed_within(CARD_CALL_BOUND).await;
        }
        if let Some(modem) = self.modem.take() {
            modem.stop().await;
        }
        let Some(pcscd) = self.pcscd.take() else { return };
        match &self.warm {
            Some(warm) if !self.tainted && pcscd.alive() => warm.give_back(pcscd),
            _ => {
                let _ = tokio::task::spawn_blocking(move || drop(pcscd)).await;
            }
        }
    }
}

/// The modem reads the card of its active slot (slot 0 on a new modem) on its own whenever one
/// goes in — at bring-up once, or twice when a card fault re-seats it. The DUT starts only once
/// those reads are done, so that none is taken for the DUT's first attempt on the card side.
async fn settle_active_slot(trace: &Trace) {
    use crate::bridge::CardEventKind;
    let deadline = tokio::time::Instant::now() + MODEM_OWN_READS;
    loop {
        // Done once the card's last change (in, or out) is out, or followed by an activation:
        // the modem reads a card that went in once, whatever went before.
        let events = trace.events();
        let last_change = events
            .iter()
            .rposition(|e| e.slot == 0 && matches!(e.kind, CardEventKind::Inserted | CardEventKind::Pulled));
        let settled = match last_change {
            None => true,
            Some(n) if matches!(events[n].kind, CardEventKind::Pulled) => true,
            Some(n) => {
                events[n..].iter().any(|e| e.slot == 0 && matches!(e.kind, CardEventKind::Activated { .. }))
            }
        };
        if settled || tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// How long the modem may take to read an inserted card on its own (real time).
const MODEM_OWN_READS: Duration = Duration::from_millis(500);

/// The reader must hold the seed the scenario names (ICCID and IMSI over PC/SC).
async fn check_card(reader: &str, slot: u8, seed: &crate::model::Seed) -> Result<(), BenchError> {
    let name = reader.to_owned();
    let identity = tokio::task::spawn_blocking(move || {
        let mut readers = Readers::new();
        readers.connect(&name).and_then(|card| read_identity(&card))
    })
    .await
    .map_err(|cause| BenchError::Panicked { part: format!("the card check of slot {slot}"), cause })?
    .map_err(|cause| BenchError::Reader { reader: ReaderRef::Slot(slot), cause })?;
    if identity.iccid != seed.iccid.as_str() || identity.imsi != seed.imsi.as_str() {
        return Err(BenchError::WrongCard {
            slot,
            expected: format!("{} (ICCID {}, IMSI {})", seed.id, seed.iccid, seed.imsi),
            found: format!("ICCID {}, IMSI {}", identity.iccid, identity.imsi),
        });
    }
    Ok(())
}

/// The virtual bench as the runner sees it: the cards of every seed stay warm in one pcscd
/// across scenarios; the rest (modem, network, backend, bridges, firmware) is made anew for
/// each, in about a millisecond, so no state of theirs can carry over.
pub struct VirtualStation {
    firmware: FirmwareLaunch,
    cards: WarmCards,
}

impl VirtualStation {
    pub fn new(firmware: FirmwareLaunch) -> VirtualStation {
        VirtualStation { firmware, cards: WarmCards::default() }
    }

    /// Starts the pcscd with every seed's card now, so the first scenario does not wait.
    pub async fn warm_up(&self, catalog: &Catalog) -> Result<(), BenchError> {
        self.cards.warm_up(catalog).await
    }

    pub async fn up(
        &mut self,
        catalog: &Catalog,
        scenario: &Scenario,
        rig: &Rig,
    ) -> Result<VirtualBench, BenchError> {
        let options = VirtualBenchOptions { firmware: Some(self.firmware.clone()), watch_observer: true };
        VirtualBench::bring_up(catalog, scenario, rig, options, Some(self.cards.clone())).await
    }
}

/// A PC/SC call to a virtual card returns in well under a millisecond (p99 0.2 ms, see the
/// card-path benchmark); one that has not returned after this means pcscd (or its driver)
/// stopped answering. It is real time, whatever the time scale.
const CARD_CALL_BOUND: Duration = Duration::from_millis(250);

/// `AT` round trips timed on the observer port at bring-up: the rig's cost of one exchange.
const CALIBRATION_PINGS: usize = 9;

/// How long the reference firmware may take to boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(10);

impl Bench for VirtualBench {
    fn clock(&self) -> RigClock {
        self.clock
    }

    fn scale(&self) -> TimeScale {
        self.scale
    }

    fn boot_timeout(&self) -> Duration {
        self.boot_timeout
    }

    fn console_format(&self) -> &ConsoleFormat {
        &self.console_format
    }

    fn dut_output(&self) -> Option<String> {
        self.firmware.as_ref().map(|f| format!("`{}`{}", f.shown(), f.output_tail()))
    }

    async fn console_send(&mut self, line: &str) -> Result<(), BenchError> {
        self.console_command(line)
            .await
            .map_err(|e| BenchError::DutConsole { port: None, cause: PortCause::Io(e) })
    }

    async fn console_read(&mut self, within: Duration) -> Result<Vec<u8>, BenchError> {
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(within, self.console.read(&mut buf)).await {
            Ok(Ok(n)) => Ok(buf[..n].to_vec()),
            Ok(Err(e)) => Err(BenchError::DutConsole { port: None, cause: PortCause::Io(e) }),
            Err(_) => Ok(Vec::new()),
        }
    }

    fn broken(&mut self) -> Option<BenchError> {
        VirtualBench::broken(self)
    }

    fn evidence(&self) -> Evidence {
        Evidence {
            apdus: self.trace.apdus(),
            card_events: self.trace.events(),
            urcs: self.observer_lines(),
            observer_is_dut_modem: true,
            reports: self.backend.reports(),
            report_imsi: ReportImsi::Context,
            network: Some(self.network.ground_truth().into_iter().map(network_step).collect()),
            rig_time: self.rig_time(),
            ..Evidence::default()
        }
    }

    fn sabotage(&mut self, what: Sabotage) -> bool {
        let Some(pcscd) = self.pcscd.as_mut() else { return false };
        self.tainted = true;
        match what {
            Sabotage::KillPcscd => pcscd.kill(),
            Sabotage::FreezePcscd => pcscd.freeze(),
        }
        true
    }

    async fn down(self) {
        VirtualBench::down(self).await
    }
}

fn network_step(t: crate::sim::network::TruthEvent) -> NetworkStep {
    let kind = match t.kind {
        TruthKind::Registered { .. } => StepKind::Registered,
        TruthKind::DataDelivered { .. } => StepKind::DataDelivered,
        _ => StepKind::Other,
    };
    NetworkStep { at: t.at, imsi: t.imsi, kind, text: t.kind.to_string() }
}
