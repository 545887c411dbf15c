//! The lab bench: the rig drives real hardware.
//!
//! - the DUT's console and the observer port are serial devices by stable path
//!   (tokio-serial), reopened for every scenario, so a port that vanished comes back with the
//!   device;
//! - each DUT SIM slot is wired to a card-emulation channel of a SIMtrace2-class board (rusb),
//!   or to a Unix socket with the same framing (the emulated lab), and relayed by the APDU
//!   bridge to the seed's card;
//! - the seed cards sit in the readers of the bench's card inventory, reached through the
//!   system's pcscd (or the one the rig file names), and are identified by ICCID and IMSI
//!   before every scenario;
//! - hooks power, configure, reset and start the DUT (each when the rig file's `when` says:
//!   [`strategy`]) and shape the test network;
//! - the backend stub listens on the rig file's address for the DUT's report.
//!
//! After each scenario, whatever happened, every card is restored and the network's faults
//! are cleared.

pub mod hooks;
pub mod measure;
pub mod strategy;

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_serial::SerialStream;

use super::error::{BenchError, ChannelRef, Port, PortCause, ReaderRef};
use super::firmware_config::{Wiring, firmware_config};
use super::observer::Observer;
use super::{Bench, serial};
use crate::backend::Backend;
use crate::backend::tcp::TcpBackend;
use crate::bench::evidence::{Evidence, ReportImsi};
use crate::bridge::{CardFault, FaultControl, RunningBridge, SlotBridge, Trace};
use crate::clock::{RigClock, TimeScale};
use crate::hw::pcsc::{CallWatch, CardWorker, Readers, read_identity};
use crate::hw::simtrace::{SocketTransport, UsbTransport, boards};
use crate::model::{
    CardemChannel, Catalog, ConsoleFormat, FaultKind, LabBench, LabNetwork, ObserverKind, Placement, Rig,
    Scenario, When,
};

/// A real card answers a command within its work waiting time (about a second, a few for a
/// slow AUTHENTICATE); a PC/SC call that has not returned after this is the bench's fault.
const CARD_CALL_BOUND: Duration = Duration::from_secs(3);

/// A lab bench across a run: the backend stub keeps listening between scenarios, and the rig
/// keeps track of the DUT's state (which hooks the next scenario needs).
pub struct LabStation {
    rig: Rig,
    lab: LabBench,
    clock: RigClock,
    backend: Option<TcpBackend>,
    dut: strategy::Tracker,
}

impl LabStation {
    pub fn new(rig: &Rig, lab: &LabBench) -> LabStation {
        // A run: SIGINT and SIGTERM kill every hook's process group at once.
        hooks::stop_on_signals();
        LabStation {
            rig: rig.clone(),
            lab: lab.clone(),
            clock: RigClock::start(),
            backend: None,
            dut: strategy::Tracker::default(),
        }
    }

    /// How the last scenario ended: after an ERROR nothing is known of the DUT, and the next
    /// scenario brings it up from scratch (every DUT hook runs).
    pub fn scenario_ended(&mut self, error: bool) {
        self.dut.scenario_ended(error);
    }

    fn hotplug_wait(&self) -> Duration {
        Duration::from_millis(self.lab.hotplug_wait_ms)
    }

    /// Brings the bench to the scenario's starting state: cards verified, network shaped and
    /// faulted, DUT configured and (re)started, ports open, bridges relaying. On an error the
    /// parts already changed are restored before it is returned.
    pub async fn up(&mut self, catalog: &Catalog, scenario: &Scenario) -> Result<LabBenchUp, BenchError> {
        use_pcscd(self.lab.pcsc_socket.as_ref())?;
        let since = self.clock.now();
        let backend = self.backend().await?;
        verify_inventory(catalog, &self.lab, scenario).await?;
        let dir = crate::children::private_temp_dir("labrun").map_err(BenchError::BenchFolder)?;
        let mut up = LabBenchUp {
            lab: self.lab.clone(),
            clock: self.clock,
            scale: TimeScale::new(self.rig.time_scale),
            since,
            backend,
            trace: Trace::default(),
            slots: Vec::new(),
            console: None,
            observer: None,
            measured: None,
            hooks: hooks::HookGroups::new(),
            _dir: dir,
        };
        // What the hooks leave running belongs to this scenario's bench (killed in `restore`).
        let scope = up.hooks.clone();
        let wait = self.hotplug_wait();
        match scope.within(up.bring_up(catalog, scenario, wait, &self.rig, &mut self.dut)).await {
            Ok(()) => Ok(up),
            Err(e) => {
                up.restore().await;
                Err(e)
            }
        }
    }

    async fn backend(&mut self) -> Result<Backend, BenchError> {
        if self.backend.is_none() {
            let stub = TcpBackend::listen(self.lab.backend, Backend::new(self.clock))
                .await
                .map_err(|cause| BenchError::Backend { cause })?;
            self.backend = Some(stub);
        }
        Ok(self.backend.as_ref().map(|b| b.backend.clone()).unwrap_or_else(|| Backend::new(self.clock)))
    }
}

impl Drop for LabStation {
    /// The run's DUT hooks, counted (`RUST_LOG=seedrig::bench::lab_driver=info` shows it).
    fn drop(&mut self) {
        let c = self.dut.counts;
        if c.scenarios > 0 {
            tracing::info!(
                "DUT hooks over {} scenarios: dut.power ran {}, dut.configure {}, dut.reset {}, dut.start {}, console reset {}",
                c.scenarios,
                c.power,
                c.configure,
                c.reset,
                c.start,
                c.console_reset
            );
        }
    }
}

/// Points this process's PC/SC calls at the rig file's pcscd (libpcsclite reads
/// `PCSCLITE_CSOCK_NAME` once per process, so one run talks to one pcscd).
pub fn use_pcscd(socket: Option<&PathBuf>) -> Result<(), BenchError> {
    crate::hw::pcsc::choose_pcscd(socket.map(PathBuf::as_path)).map_err(|_| BenchError::AnotherPcscd)
}

/// Every seed of the scenario must be in its reader, and be that seed (ICCID and IMSI).
async fn verify_inventory(catalog: &Catalog, lab: &LabBench, scenario: &Scenario) -> Result<(), BenchError> {
    let mut wanted = Vec::new();
    for p in scenario.placements() {
        let reader =
            lab.reader_of(&p.seed).ok_or_else(|| BenchError::NotInInventory { seed: p.seed.clone() })?;
        let seed =
            catalog.seeds.get(&p.seed).ok_or_else(|| BenchError::UnknownSeed { seed: p.seed.clone() })?;
        wanted.push((reader.name.clone(), seed.id.clone(), seed.iccid.to_string(), seed.imsi.to_string()));
    }
    tokio::task::spawn_blocking(move || {
        let mut readers = Readers::new();
        for (reader, seed, iccid, imsi) in wanted {
            let error = |cause| BenchError::Reader {
                reader: ReaderRef::Holding { name: reader.clone(), seed: seed.clone() },
                cause,
            };
            let card = readers.connect(&reader).map_err(error)?;
            let found = read_identity(&card).map_err(error)?;
            if found.iccid != iccid || found.imsi != imsi {
                return Err(BenchError::CardMoved {
                    reader,
                    expected: format!("{seed} (ICCID {iccid}, IMSI {imsi})"),
                    found: format!("ICCID {}, IMSI {}", found.iccid, found.imsi),
                });
            }
        }
        Ok(())
    })
    .await
    .map_err(|cause| BenchError::Panicked { part: "card inventory check".into(), cause })?
}

struct LabSlot {
    slot: u8,
    reader: String,
    card_calls: CallWatch,
    faults: FaultControl,
    bridge: RunningBridge,
}

/// A lab bench, up for one scenario.
pub struct LabBenchUp {
    lab: LabBench,
    clock: RigClock,
    /// 1 on real hardware; an emulated lab's world may run scaled.
    scale: TimeScale,
    /// When this scenario's bring-up began (the backend's earlier reports are not its own).
    since: Duration,
    backend: Backend,
    trace: Trace,
    slots: Vec<LabSlot>,
    console: Option<(ReadHalf<SerialStream>, WriteHalf<SerialStream>)>,
    observer: Option<Observer>,
    /// The cells the observer heard before the scenario (`site = "measured"`).
    measured: Option<measure::Measured>,
    /// What this scenario's hooks left running (their process groups), killed in `restore`.
    hooks: hooks::HookGroups,
    _dir: tempfile::TempDir,
}

impl LabBenchUp {
    async fn bring_up(
        &mut self,
        catalog: &Catalog,
        scenario: &Scenario,
        wait: Duration,
        rig: &Rig,
        state: &mut strategy::Tracker,
    ) -> Result<(), BenchError> {
        self.shape_network(catalog, scenario).await?;
        for p in scenario.placements() {
            self.start_bridge(p).await?;
        }
        let dut = &self.lab.dut;
        let console = serial::open(Port::DutConsole, &dut.console.path, dut.console.baud, wait).await?;
        self.console = Some(tokio::io::split(console));
        let observer = &self.lab.observer.port;
        if let LabNetwork::Measured { .. } = self.lab.network {
            let measured =
                measure::scan(&observer.path, observer.baud, wait, catalog, &scenario.site).await?;
            for cell in &measured.unplaced {
                tracing::warn!(scenario = %scenario.id, "measured cell left out: {cell}");
            }
            self.measured = Some(measured);
        }
        self.observer = Some(Observer::watch(&observer.path, observer.baud, self.clock, wait, 0).await?);
        self.start_dut(catalog, scenario, rig, state).await
    }

    /// The test network: the scenario's site, then each network fault through its hook.
    async fn shape_network(&self, catalog: &Catalog, scenario: &Scenario) -> Result<(), BenchError> {
        let LabNetwork::Fixture(hooks) = &self.lab.network else {
            return Ok(());
        };
        let site = catalog
            .sites
            .get(&scenario.site)
            .ok_or_else(|| BenchError::UnknownSite { site: scenario.site.clone() })?;
        let cells = self._dir.path().join("cells.toml");
        std::fs::write(&cells, cells_file(catalog, site)).map_err(BenchError::BenchFolder)?;
        run_hook(&hooks.set_site, &[("site", site.id.clone()), ("cells", cells.display().to_string())])
            .await?;
        for p in scenario.placements() {
            for fault in p.faults.iter().filter(|f| !f.kind.is_card_fault()) {
                let name = fault.kind.name();
                let hook = hooks.fault(name).ok_or(BenchError::NoFaultHook { fault: name })?;
                run_hook(hook, &fault_values(catalog, p, &fault.kind)).await?;
            }
        }
        Ok(())
    }

    /// A lab's pcscd is the system's: the rig cannot take it down to free a call that hangs,
    /// so the card is called from a worker thread of its own, with a time limit, rather than
    /// in place.
    async fn start_bridge(&mut self, p: &Placement) -> Result<(), BenchError> {
        let slot = p.slot;
        let reader = self
            .lab
            .reader_of(&p.seed)
            .map(|r| r.name.clone())
            .ok_or_else(|| BenchError::NoReader { seed: p.seed.clone() })?;
        let card = CardWorker::connect(&reader).await.map_err(|cause| BenchError::Reader {
            reader: ReaderRef::Relaying { name: reader.clone(), slot },
            cause,
        })?;
        let card_calls = card.call_watch();
        let channel = self.lab.channel(slot).cloned().ok_or(BenchError::NoChannel { slot })?;
        let (faults, bridge) = match channel {
            CardemChannel::Socket { path } => {
                let transport = SocketTransport::connect(&path).await.map_err(|cause| {
                    BenchError::CardChannel { slot, channel: ChannelRef::Socket(path.clone()), cause }
                })?;
                let (bridge, faults) =
                    SlotBridge::new(p.slot, transport, card, self.trace.clone(), self.clock);
                (faults, bridge.with_null_interval(self.null_interval()).spawn())
            }
            CardemChannel::Usb { product_id, serial, channel } => {
                let board = serial.clone();
                let transport = tokio::task::spawn_blocking(move || {
                    UsbTransport::open(boards::VENDOR_ID, product_id, Some(&board), channel)
                })
                .await
                .map_err(|cause| BenchError::Panicked { part: format!("SIM slot {slot}"), cause })?
                .map_err(|cause| BenchError::CardChannel {
                    slot,
                    channel: ChannelRef::Usb { board: serial, channel },
                    cause,
                })?;
                let (bridge, faults) =
                    SlotBridge::new(p.slot, transport, card, self.trace.clone(), self.clock);
                (faults, bridge.with_null_interval(self.null_interval()).spawn())
            }
        };
        // Fault delays are nominal: an emulated lab's world runs scaled (1 on real hardware).
        for fault in p.faults.iter().filter_map(|f| CardFault::from_kind(&f.kind, self.scale.factor())) {
            faults.apply(fault);
        }
        self.slots.push(LabSlot { slot: p.slot, reader, card_calls, faults, bridge });
        Ok(())
    }

    /// How often a slow card's NULL procedure bytes go out: well within the (scaled) work
    /// waiting time.
    fn null_interval(&self) -> Duration {
        (self.scale.ms(crate::method::attempt::CARD_WWT_MS) / 4).min(Duration::from_millis(100))
    }

    /// Takes the DUT from the state it is in to the scenario's start: power, configure, reset,
    /// start, each when the rig file has it and its `when` calls for it ([`strategy`]); if no
    /// hook restarts the firmware, `reset` on its console. Each hook that runs or is skipped is
    /// logged (info), with why.
    async fn start_dut(
        &mut self,
        catalog: &Catalog,
        scenario: &Scenario,
        rig: &Rig,
        state: &mut strategy::Tracker,
    ) -> Result<(), BenchError> {
        let dut = self.lab.dut.clone();
        let backend = self.lab.backend;
        let wiring = Wiring {
            at_port: None,
            console: None,
            backend_host: &backend.ip().to_string(),
            backend_port: backend.port(),
        };
        let config = firmware_config(catalog, scenario, TimeScale::new(rig.time_scale), &wiring);
        let plan = state.plan(&dut.when, strategy::Hooks::of(&dut), &config, scenario.cold_start);
        let had = state.begin(&plan);
        let steps = [
            (&dut.power, plan.power, dut.when.power),
            (&dut.configure, plan.configure, dut.when.configure),
            (&dut.reset, plan.reset, dut.when.reset),
            (&dut.start, plan.start, dut.when.start),
        ];
        for (hook, runs, when) in steps {
            let Some(hook) = hook else { continue };
            if !runs {
                tracing::info!(scenario = %scenario.id, "{} skipped (when = \"{}\")", hook.name, when.name());
                continue;
            }
            let mut values = Vec::new();
            if hook.argv.iter().any(|a| a.contains("{config}")) {
                let path = self._dir.path().join("firmware.toml");
                std::fs::write(&path, &config).map_err(BenchError::BenchFolder)?;
                values.push(("config", path.display().to_string()));
            }
            let began = std::time::Instant::now();
            run_hook(hook, &values).await?;
            let why = match (when, plan.cold) {
                (When::EveryScenario, _) => "every scenario",
                (_, Some(cold)) => cold,
                (When::WhenChanged, None) => "the configuration changed",
                (_, None) => "a DUT hook before it ran",
            };
            let secs = began.elapsed().as_secs_f64();
            tracing::info!(scenario = %scenario.id, "{} ran in {secs:.1} s ({why})", hook.name);
        }
        if plan.console_reset {
            tracing::info!(scenario = %scenario.id, "no DUT hook restarts the firmware: `reset` on its console");
            self.console_send("reset").await?;
        }
        state.ready(&plan, &config, had);
        Ok(())
    }

    /// Every card back in, the network's faults cleared. Errors are logged: the next
    /// scenario's bring-up checks the bench again.
    async fn restore(&mut self) {
        self.hooks.kill();
        for s in &self.slots {
            s.faults.insert();
        }
        for s in self.slots.drain(..) {
            s.bridge.stop(CARD_CALL_BOUND).await;
            // The disconnect resets the card: it must be done before the next scenario
            // connects to the same reader.
            if !s.card_calls.closed_within(CARD_CALL_BOUND).await {
                tracing::warn!(slot = s.slot, reader = %s.reader, "the PC/SC connection did not close");
            }
        }
        if let LabNetwork::Fixture(hooks) = &self.lab.network
            && let Err(e) = hooks::run_to_restore(&hooks.clear, &[]).await
        {
            tracing::error!("restoring the bench: {e}");
        }
        self.console = None;
        self.observer = None;
    }
}

/// Runs a hook; its error (which names the hook) as the bench's.
async fn run_hook(hook: &crate::model::Hook, values: &[(&str, String)]) -> Result<(), BenchError> {
    hooks::run(hook, values).await.map_err(|message| {
        // Every message of `hooks::run` begins with `hook <name>: `.
        let prefix = format!("hook {}: ", hook.name);
        let cause = message.strip_prefix(&prefix).map(str::to_owned).unwrap_or(message);
        BenchError::Hook { name: hook.name.clone(), cause }
    })
}

/// The site's cells as the `set_site` hook gets them (`{cells}`): TOML, one `[[cells]]` table
/// per cell with the carrier's PLMN.
fn cells_file(catalog: &Catalog, site: &crate::model::Site) -> String {
    let mut out = format!("site = \"{}\"\n", site.id);
    for c in &site.cells {
        let plmn = catalog.carriers.get(&c.carrier).map(|k| k.plmn.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "\n[[cells]]\ncarrier = \"{}\"\nplmn = \"{plmn}\"\nrat = \"{}\"\nsignal_dbm = {}\n",
            c.carrier,
            c.rat.name(),
            c.signal_dbm
        ));
    }
    out
}

/// What a fault hook's placeholders stand for.
fn fault_values(catalog: &Catalog, p: &Placement, kind: &FaultKind) -> Vec<(&'static str, String)> {
    let imsi = catalog.seeds.get(&p.seed).map(|s| s.imsi.to_string()).unwrap_or_default();
    let (cause, delay) = match *kind {
        FaultKind::Reject { cause } | FaultKind::DialFail { cause } => (cause.to_string(), String::new()),
        FaultKind::Expired => (FaultKind::EXPIRED_CAUSE.to_string(), String::new()),
        FaultKind::SlowAttach { delay_ms } => (String::new(), delay_ms.to_string()),
        _ => (String::new(), String::new()),
    };
    vec![
        ("seed", p.seed.clone()),
        ("imsi", imsi),
        ("slot", p.slot.to_string()),
        ("cause", cause),
        ("delay_ms", delay),
    ]
}

impl Bench for LabBenchUp {
    fn clock(&self) -> RigClock {
        self.clock
    }

    fn scale(&self) -> TimeScale {
        self.scale
    }

    fn boot_timeout(&self) -> Duration {
        Duration::from_millis(self.lab.dut.boot_timeout_ms)
    }

    fn console_format(&self) -> &ConsoleFormat {
        &self.lab.dut.events
    }

    async fn console_send(&mut self, line: &str) -> Result<(), BenchError> {
        let port = &self.lab.dut.console.path;
        let error = |cause| BenchError::DutConsole { port: Some(port.clone()), cause };
        let (_, wr) = self.console.as_mut().ok_or_else(|| error(PortCause::NotOpen))?;
        wr.write_all(format!("{line}\n").as_bytes()).await.map_err(|e| error(PortCause::Io(e)))?;
        wr.flush().await.map_err(|e| error(PortCause::Io(e)))
    }

    async fn console_read(&mut self, within: Duration) -> Result<Vec<u8>, BenchError> {
        let port = &self.lab.dut.console.path;
        let error = |cause| BenchError::DutConsole { port: Some(port.clone()), cause };
        let (rd, _) = self.console.as_mut().ok_or_else(|| error(PortCause::NotOpen))?;
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(within, rd.read(&mut buf)).await {
            Ok(Ok(0)) => Err(error(PortCause::ClosedUnderRead)),
            Ok(Ok(n)) => Ok(buf[..n].to_vec()),
            Ok(Err(e)) => Err(error(PortCause::ReadFailed(e))),
            Err(_) => Ok(Vec::new()),
        }
    }

    fn broken(&mut self) -> Option<BenchError> {
        for s in &self.slots {
            if let Some(waited) = s.card_calls.pending_for().filter(|w| *w > CARD_CALL_BOUND) {
                let (slot, reader) = (s.slot, s.reader.clone());
                return Some(BenchError::PcscdHung {
                    pid: None,
                    slot,
                    reader,
                    waited,
                    bound: CARD_CALL_BOUND,
                });
            }
        }
        if let Some((s, cause)) = self.slots.iter().find_map(|s| Some((s, s.bridge.stopped()?))) {
            return Some(BenchError::BridgeStopped { slot: s.slot, reader: s.reader.clone(), cause });
        }
        if self.observer.as_ref().is_some_and(Observer::ended) {
            let path = self.lab.observer.port.path.clone();
            return Some(BenchError::SerialPort { port: Port::Observer, path, cause: PortCause::Closed });
        }
        if !self.lab.dut.console.path.exists() {
            let path = self.lab.dut.console.path.clone();
            return Some(BenchError::SerialPort {
                port: Port::DutConsole,
                path,
                cause: PortCause::DeviceGone,
            });
        }
        None
    }

    fn measured_site(&self) -> Option<(&crate::model::Site, f64)> {
        match (&self.measured, &self.lab.network) {
            (Some(m), LabNetwork::Measured { ambiguity_margin }) => Some((&m.site, *ambiguity_margin)),
            _ => None,
        }
    }

    fn evidence(&self) -> Evidence {
        Evidence {
            apdus: self.trace.apdus(),
            card_events: self.trace.events(),
            urcs: self.observer.as_ref().map(Observer::lines).unwrap_or_default(),
            observer_is_dut_modem: self.lab.observer.kind == ObserverKind::ModemPort,
            reports: self.backend.reports().into_iter().filter(|r| r.at >= self.since).collect(),
            report_imsi: ReportImsi::Claimed,
            network: None,
            ..Evidence::default()
        }
    }

    async fn down(mut self) {
        self.restore().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_hook_is_a_bench_error_naming_the_hook_with_its_own_message() {
        let argv = ["sh", "-c", "echo relay board 2: no answer >&2; exit 3"];
        let hook = crate::model::Hook {
            name: "dut.power".into(),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
            timeout_ms: 5000,
        };
        let error = run_hook(&hook, &[]).await.unwrap_err();
        assert!(
            matches!(&error, BenchError::Hook { name, cause } if name == "dut.power" && !cause.starts_with("hook ")),
            "{error:?}"
        );
        let said = hooks::run(&hook, &[]).await.unwrap_err();
        assert_eq!(error.to_string(), said, "the hook's message, unchanged");
    }
}
