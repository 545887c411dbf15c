//! The emulated lab: the virtual world presented exactly as a lab bench presents itself, so a
//! rig in another process drives it through the lab driver alone (`seedrig sim lab`).
//!
//! - every seed's virtual USIM in a reader of a private pcscd (the lab's card inventory);
//! - the simulated modem: its SIM slots are card-emulation sockets with the SIMtrace2 framing
//!   (the lab's multiplexer channels), its observer AT port a serial device;
//! - the reference firmware as the DUT, its console a serial device (relayed, so that the
//!   firmware can be restarted under it), configured and restarted through hooks, and
//!   power-cycled through one that takes as long as the lab is told (`--power-delay-s`);
//! - the simulated network, shaped per scenario through hooks (`seedrig sim net ...`), sending
//!   the DUT's report to the rig's backend stub over TCP on 127.0.0.1;
//! - a `kind = "lab"` rig file describing exactly that.
//!
//! Serial devices are symlinks in the lab's folder (stable names, as /dev/serial/by-id gives a
//! real lab). Hooks reach the running world through a Unix control socket there.

pub mod control;
mod rig_file;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::children::dut_process::DutProcess;
use crate::clock::{RigClock, TimeScale};
use crate::model::{Catalog, FaultKind};
use crate::sim::modem::{Modem, ModemConfig};
use crate::sim::network::{BackendRoute, Network, SwitchableNetwork};
use crate::sim::pcscd::{LabelledCard, PrivatePcscd};
use crate::sim::pty::{Pty, pump};
use crate::sim::usim::VirtualUsim;
use control::Command;

/// The card's work waiting time the modem allows, nominal (as on the virtual bench).
const CARD_WWT_MS: u64 = crate::method::attempt::CARD_WWT_MS;

/// What the emulated lab looks like.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub slots: u8,
    pub time_scale: f64,
    /// The DUT prints plain log lines (the rig file then maps them with patterns).
    pub text_console: bool,
    /// Network fault kinds the lab declares it cannot make (their scenarios are skipped).
    pub without_faults: Vec<String>,
    /// The reference firmware binary.
    pub firmware: PathBuf,
    /// The DUT a virtual rig file names (`sim lab --rig FILE`), run instead of the reference
    /// firmware.
    pub program: Option<crate::model::DutProgram>,
    /// The seedrig binary the hooks call.
    pub seedrig: PathBuf,
    pub firmware_fault: Option<String>,
    /// The site the world starts at (default: the first site fixture).
    pub site: Option<String>,
    /// The rig file says `site = "measured"`: no network hooks; the rig scans the cells.
    pub measured: bool,
    /// A `power` hook whose power cycle takes this long (real time), as a real DUT's power
    /// cycle and boot do; `None`: no power hook.
    pub power_delay: Option<std::time::Duration>,
    /// When the rig file's DUT hooks run (their `when` keys).
    pub when: crate::model::DutWhen,
}

/// A running emulated lab.
pub struct EmulatedLab {
    dir: tempfile::TempDir,
    rig_file: String,
    modem: Option<Modem>,
    pcscd: Option<PrivatePcscd>,
    dut: Arc<Mutex<Dut>>,
    tasks: Vec<JoinHandle<()>>,
}

impl EmulatedLab {
    pub async fn up(catalog: Arc<Catalog>, options: LabOptions) -> Result<EmulatedLab, String> {
        let dir = crate::children::private_temp_dir("lab").map_err(|e| format!("lab folder: {e}"))?;
        let clock = RigClock::start();
        let scale = TimeScale::new(options.time_scale);
        let pcscd = start_cards(&catalog).await?;
        let backend = free_loopback_port()?;
        let first_site = match &options.site {
            Some(site) if catalog.sites.contains_key(site) => site.clone(),
            Some(site) => {
                return Err(format!(
                    "no site \"{site}\"; `seedrig list --long` shows the sites scenarios use"
                ));
            }
            None => catalog.sites.keys().next().cloned().ok_or("the fixtures have no site")?,
        };
        let network =
            Network::for_lab(&catalog, &first_site, &[], scale, clock, BackendRoute::Forward(backend))
                .map_err(|e| format!("simulated network: {e}"))?;
        let network = Arc::new(SwitchableNetwork::new(network));
        let config = ModemConfig {
            slots: options.slots,
            slot_socket_dir: dir.path().to_owned(),
            scale,
            clock,
            wwt: scale.ms(CARD_WWT_MS),
        };
        let modem =
            Modem::start_with(config, network.clone()).await.map_err(|e| format!("simulated modem: {e}"))?;
        let firmware_console = Arc::new(Pty::open().map_err(|e| format!("console pseudo-terminal: {e}"))?);
        let rig_console = Arc::new(Pty::open().map_err(|e| format!("console pseudo-terminal: {e}"))?);
        let console_link = dir.path().join("dut-console");
        let observer_link = dir.path().join("observer");
        symlink(rig_console.path(), &console_link)?;
        let console_link_for_dut = console_link.clone();
        symlink(modem.observer_port(), &observer_link)?;
        let tasks = Vec::new();
        let relay = relay(firmware_console.clone(), rig_console.clone());
        let dut = Arc::new(Mutex::new(Dut {
            firmware: options.firmware.clone(),
            program: options.program.clone(),
            record_dir: dir.path().to_owned(),
            fault: options.firmware_fault.clone(),
            text_console: options.text_console,
            at_port: modem.firmware_port().to_owned(),
            console: firmware_console,
            rig_console: Some(rig_console),
            console_link: console_link_for_dut,
            relay: Some(relay),
            config: dir.path().join("firmware.toml"),
            child: None,
            power_delay: options.power_delay.unwrap_or_default(),
            power_cycles: 0,
        }));
        let mut tasks = tasks;
        let control_path = dir.path().join("control.sock");
        let listener = tokio::net::UnixListener::bind(&control_path)
            .map_err(|e| format!("control socket {}: {e}", control_path.display()))?;
        let world = World {
            catalog: catalog.clone(),
            scale,
            clock,
            backend,
            network,
            site: first_site,
            faults: Vec::new(),
        };
        tasks.push(serve_control(listener, world, dut.clone()));
        let rig_file = rig_file::write(&rig_file::Layout {
            options: &options,
            pcsc_socket: pcscd.socket_path(),
            readers: pcscd.readers().iter().map(|r| (r.name.clone(), r.label.clone())).collect(),
            slot_sockets: (0..options.slots).map(|n| modem.slot_socket(n)).collect(),
            console: &console_link,
            observer: &observer_link,
            control: &control_path,
            backend,
        });
        Ok(EmulatedLab { dir, rig_file, modem: Some(modem), pcscd: Some(pcscd), dut, tasks })
    }

    /// The `kind = "lab"` rig file that describes this lab.
    pub fn rig_file(&self) -> &str {
        &self.rig_file
    }

    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// How many times the DUT was power-cycled (its `power` hook ran) so far.
    pub async fn power_cycles(&self) -> u32 {
        self.dut.lock().await.power_cycles
    }

    /// Stops the DUT, the modem and pcscd, and removes the lab's folder.
    pub async fn down(mut self) {
        self.dut.lock().await.stop().await;
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(modem) = self.modem.take() {
            modem.stop().await;
        }
        if let Some(pcscd) = self.pcscd.take() {
            let _ = tokio::task::spawn_blocking(move || drop(pcscd)).await;
        }
    }
}

/// The network's shape: the site and the faults in force, rebuilt on every change.
struct World {
    catalog: Arc<Catalog>,
    scale: TimeScale,
    clock: RigClock,
    backend: SocketAddr,
    network: Arc<SwitchableNetwork>,
    site: String,
    faults: Vec<(String, FaultKind)>,
}

impl World {
    fn reshape(&mut self) -> Result<(), String> {
        let network = Network::for_lab(
            &self.catalog,
            &self.site,
            &self.faults,
            self.scale,
            self.clock,
            BackendRoute::Forward(self.backend),
        )
        .map_err(|e| e.to_string())?;
        network.continue_sqns_from(&self.network.current());
        self.network.set(network);
        Ok(())
    }

    fn fault(&mut self, seed: &str, kind: &str, arg: Option<u64>) -> Result<(), String> {
        if !self.catalog.seeds.contains_key(seed) {
            return Err(format!("no seed \"{seed}\""));
        }
        let kind = network_fault(kind, arg)?;
        self.faults.push((seed.to_owned(), kind));
        self.reshape()
    }
}

/// A network fault kind with its parameter.
fn network_fault(name: &str, arg: Option<u64>) -> Result<FaultKind, String> {
    let kind = FaultKind::from_name(name).ok_or_else(|| format!("no fault kind \"{name}\""))?;
    if kind.is_card_fault() {
        return Err(format!("{name} is a card fault: the rig's bridge applies it, not the network"));
    }
    let cause = |default: u8| {
        arg.map_or(Ok(default), |a| u8::try_from(a).map_err(|_| format!("cause {a} is not 0-255")))
    };
    Ok(match kind {
        FaultKind::Reject { .. } => FaultKind::Reject { cause: cause(15)? },
        FaultKind::DialFail { .. } => FaultKind::DialFail { cause: cause(FaultKind::DEFAULT_DIAL_CAUSE)? },
        FaultKind::SlowAttach { .. } => {
            FaultKind::SlowAttach { delay_ms: arg.ok_or("slow_attach needs its delay in ms")? }
        }
        other => other,
    })
}

fn serve_control(listener: tokio::net::UnixListener, world: World, dut: Arc<Mutex<Dut>>) -> JoinHandle<()> {
    let world = Arc::new(Mutex::new(world));
    tokio::spawn(control::serve(listener, move |cmd| {
        let (world, dut) = (world.clone(), dut.clone());
        async move {
            match cmd {
                Command::Site(site) => {
                    let mut w = world.lock().await;
                    if !w.catalog.sites.contains_key(&site) {
                        return Err(format!("no site \"{site}\""));
                    }
                    w.site = site;
                    w.reshape()
                }
                Command::Fault { seed, kind, arg } => world.lock().await.fault(&seed, &kind, arg),
                Command::Clear => {
                    let mut w = world.lock().await;
                    w.faults.clear();
                    w.reshape()
                }
                Command::Configure(path) => dut.lock().await.configure(&path),
                Command::Restart => dut.lock().await.restart().await,
                Command::PowerCycle => dut.lock().await.power_cycle().await,
                Command::FaultMode(mode) => {
                    dut.lock().await.fault = mode;
                    Ok(())
                }
                Command::Unplug => {
                    dut.lock().await.unplug();
                    Ok(())
                }
                Command::Replug => dut.lock().await.replug(),
            }
        }
    }))
}

/// The DUT: the reference firmware (or a rig file's program), restarted under a console that
/// stays.
struct Dut {
    firmware: PathBuf,
    program: Option<crate::model::DutProgram>,
    /// Where the DUT's process group is recorded, for a run after a SIGKILL to find.
    record_dir: PathBuf,
    fault: Option<String>,
    text_console: bool,
    at_port: PathBuf,
    /// The firmware's end of the console.
    console: Arc<Pty>,
    /// The rig's end (what the rig file names); `None` while unplugged.
    rig_console: Option<Arc<Pty>>,
    /// The stable name of the rig's end.
    console_link: PathBuf,
    relay: Option<JoinHandle<()>>,
    config: PathBuf,
    child: Option<DutProcess>,
    /// How long a power cycle takes (real time).
    power_delay: std::time::Duration,
    power_cycles: u32,
}

impl Dut {
    /// Takes the rig's configuration and adds the device's own wiring (its AT port, console).
    fn configure(&mut self, from: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(from).map_err(|e| format!("{}: {e}", from.display()))?;
        let mut table: toml::Table = text.parse().map_err(|e| format!("{}: {e}", from.display()))?;
        table.insert("at_port".into(), self.at_port.display().to_string().into());
        table.insert("console".into(), self.console.path().display().to_string().into());
        let out = toml::to_string(&table).map_err(|e| e.to_string())?;
        std::fs::write(&self.config, out).map_err(|e| format!("{}: {e}", self.config.display()))
    }

    async fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            child.stop().await;
        }
    }

    /// A power cycle: the DUT goes off (its firmware and unread output with it), stays off for
    /// the lab's power delay, and boots on its last configuration (if it has one yet).
    async fn power_cycle(&mut self) -> Result<(), String> {
        self.power_cycles += 1;
        self.stop().await;
        if let Some(console) = &self.rig_console {
            console.discard_pending();
        }
        tokio::time::sleep(self.power_delay).await;
        if self.config.exists() { self.restart().await } else { Ok(()) }
    }

    /// Restarts the DUT's firmware: the old one goes, its unread output with it, a new one
    /// boots on the last configuration.
    async fn restart(&mut self) -> Result<(), String> {
        self.stop().await;
        if !self.config.exists() {
            return Err("not configured yet: run the configure hook first".into());
        }
        if let Some(console) = &self.rig_console {
            console.discard_pending();
        }
        let argv = match &self.program {
            Some(program) => program.argv(&self.config),
            None => {
                let mut argv = vec![
                    self.firmware.display().to_string(),
                    "--config".into(),
                    self.config.display().to_string(),
                ];
                if let Some(fault) = &self.fault {
                    argv.extend(["--fault".into(), fault.clone()]);
                }
                if self.text_console {
                    argv.extend(["--console-format".into(), "text".into()]);
                }
                argv
            }
        };
        let child = DutProcess::spawn(&argv, &self.record_dir).map_err(|e| e.to_string())?;
        self.child = Some(child);
        Ok(())
    }
}

impl Dut {
    /// The console device vanishes: its name goes and its terminal closes under the rig.
    fn unplug(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.abort();
        }
        let _ = std::fs::remove_file(&self.console_link);
        self.rig_console = None;
    }

    /// A new console device appears under the same name.
    fn replug(&mut self) -> Result<(), String> {
        if self.rig_console.is_some() {
            return Ok(());
        }
        let console = Arc::new(Pty::open().map_err(|e| format!("console pseudo-terminal: {e}"))?);
        let _ = std::fs::remove_file(&self.console_link);
        symlink(console.path(), &self.console_link)?;
        self.relay = Some(relay(self.console.clone(), console.clone()));
        self.rig_console = Some(console);
        Ok(())
    }
}

fn relay(a: Arc<Pty>, b: Arc<Pty>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (a2, b2) = (a.clone(), b.clone());
        let back = tokio::spawn(async move { pump(&b2, &a2).await });
        pump(&a, &b).await;
        back.abort();
    })
}

fn symlink(target: &Path, link: &Path) -> Result<(), String> {
    std::os::unix::fs::symlink(target, link).map_err(|e| format!("{}: {e}", link.display()))
}

/// A loopback port nobody listens on now, for the rig's backend stub.
fn free_loopback_port() -> Result<SocketAddr, String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no loopback port: {e}"))?;
    probe.local_addr().map_err(|e| e.to_string())
}

/// Every seed's card, each in a reader of a private pcscd.
async fn start_cards(catalog: &Catalog) -> Result<PrivatePcscd, String> {
    let mut cards: Vec<LabelledCard> = Vec::new();
    for seed in catalog.seeds.values() {
        let card =
            VirtualUsim::from_catalog(catalog, seed).map_err(|e| format!("virtual card {}: {e}", seed.id))?;
        cards.push((seed.id.clone(), Box::new(card)));
    }
    tokio::task::spawn_blocking(move || PrivatePcscd::start(cards))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}
