//! The simulated modem of the virtual bench (`docs/virtual-bench.md`, "sim::modem"): a
//! Quectel-like module with two AT ports on pseudo-terminals (the firmware's and the rig's
//! observer port) and `slots` SIM slots, each a SIMtrace2 card-emulation socket the rig's
//! APDU bridge connects to. Radio work is the [`Network`]'s; the modem reads cards, runs
//! AUTHENTICATE for the network, and turns everything into AT responses and URCs.
//!
//! - `at`: the byte stream (lines, echo, the `AT+QISEND` payload), parsing, response bytes.
//! - `port`: one AT port: its reader (one command at a time) and writer.
//! - `commands`: the command table (dispatch, `AT+CLAC`), and the general commands.
//! - `registration`: `+COPS`, `+CREG`/`+CGREG`/`+CEREG`, signal, the attach task.
//! - `radio`: scan mode and bands (`+QCFG`), cell parameters, measurements, the camped cell;
//!   `netinfo`: Quectel's reports of them (`+QENG`, `+QNWINFO`, `+QCSQ`, `+QSPN`).
//! - `sms`: TS 27.005 (`+CMGF`, `+CSCA`, `+CPMS`, `+CMGS`, ...); `sim_files`: EFs read through
//!   the slot (`+CNUM`, `+CSCA`, `+QSPN`); `rtc`: `+CCLK`; `text`: character sets, SIM strings.
//! - `data`: contexts and the internal TCP/IP stack (`+CGACT`, `+QIOPEN`, `+QISEND`, ...).
//! - `sim_slot`, `card`: the slots' tasks and the APDUs; `sim_control`: insertion,
//!   removal and slot switching.
//! - `urc`: per-port settings and URC fan-out.
//!
//! Every task is in one `Tasks` set; [`Modem::stop`] ends and awaits all of them, which
//! closes the PTYs and removes the slot sockets.
//!
//! Behaviour chosen where the contract leaves room:
//! - **Lines.** CR, LF or CR LF end a line; empty lines are ignored; backspace edits; a line
//!   over 2048 bytes is answered `ERROR`. The echo is the whole line, sent when it
//!   is complete (so a URC never lands inside it); the `AT+QISEND` payload is not echoed, and
//!   an LF right after the command's CR is not payload.
//! - **Order.** A command's own result comes first, then the URCs it causes (`OK` then
//!   `+CEREG: 2`, `+QIOPEN:`, `+CGEV:`, `+CPIN:` after `AT+QUIMSLOT`). The detach that starts a
//!   slot switch is reported before its `OK`. In a chained line, an earlier command's URCs go
//!   out before the next command runs.
//! - **SIM.** Only the active slot is wired to the SIM interface: its insertions and removals
//!   give `+QSIMSTAT` (ports with `AT+QSIMSTAT=1`) and `+CPIN: READY | SIM PIN | NOT READY`
//!   (every port); other slots are read when selected. A new card (another ATR) is a new card:
//!   service on the old one ends. The card is reset before it is read; `AT+CPIN=<pin>` is
//!   supported. Insertion does not start a registration: the firmware sends `AT+COPS=0`.
//! - **Card failure during AUTHENTICATE** (mute beyond the WWT, pulled): a SIM failure, not a
//!   network verdict — `+CEREG: 0`, `+CPIN: NOT READY`, and `+CPIN?` answers `+CME ERROR: 13`
//!   until the card is re-inserted or the slot re-selected.
//! - **Registration.** One state for `+CREG`, `+CGREG` and `+CEREG`. TAC and cell id are made
//!   up from the serving cell, stable per cell. A network that never answers leaves stat 2
//!   until `AT+COPS=2`, `AT+CGATT=0`, `AT+CFUN=0|4`, a slot switch or a card change cancels it.
//! - **Data.** `+QIURC: "recv",<id>,<len>` is followed by the bytes and CR LF. A request the
//!   network refuses closes the socket (`+QIURC: "closed",<id>`); a context the network lost
//!   gives `+CGEV: NW PDN DEACT 1`, one the modem ends `+CGEV: ME PDN DEACT 1`. `AT+QPING`
//!   sends an empty request through the data path and reports a documentation-range address.

pub(crate) mod at_stream;
mod card;
mod commands;
mod data;
mod net;
mod netinfo;
mod port;
mod radio;
mod registration;
mod rtc;
mod sim_control;
mod sim_files;
mod sim_slot;
mod sms;
mod text;
mod urc;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};

use crate::clock::RigClock;
use crate::clock::TimeScale;
use crate::hw::simtrace::{SocketListener, TransportError};
use crate::sim::network::Network;
use crate::sim::pty::Pty;

pub use net::{NetFuture, RadioNetwork};
pub use sms::{SentSms, SmsFormat};

use card::SimState;
use data::DataState;
use radio::RadioConfig;
use registration::RegState;
use rtc::Rtc;
use sim_slot::SlotHandle;
use sms::SmsState;
use urc::{PortLink, UrcHub};

/// Port ids, as URC routing knows them.
const FIRMWARE: usize = 0;
const OBSERVER: usize = 1;

pub struct ModemConfig {
    /// SIM slots, 1..=255; slot N (0-based) is `AT+QUIMSLOT=N+1`.
    pub slots: u8,
    /// Where `slot<N>.sock` are created (the directory is created if missing).
    pub slot_socket_dir: PathBuf,
    pub scale: TimeScale,
    pub clock: RigClock,
    /// The SIM's work waiting time: how long the modem waits for a silent card.
    pub wwt: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ModemError {
    #[error("a modem needs at least one SIM slot")]
    NoSlots,
    #[error("cannot create the SIM slot socket directory {}: {source}", dir.display())]
    SocketDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("SIM slot {slot}: {source}")]
    Slot {
        slot: u8,
        #[source]
        source: TransportError,
    },
    #[error("cannot open a pseudo-terminal for the {port} AT port: {source}")]
    Pty {
        port: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The running modem. Its tasks run until [`Modem::stop`] (or until it is dropped, which
/// aborts them without waiting).
pub struct Modem {
    shared: Arc<Shared>,
    firmware_port: PathBuf,
    observer_port: PathBuf,
    slot_dir: PathBuf,
}

impl Modem {
    /// Starts the modem on `network`: opens both AT ports and listens on every slot socket.
    /// No card is known until a bridge connects to slot 0 (the active slot, `AT+QUIMSLOT=1`).
    pub async fn start(cfg: ModemConfig, network: Network) -> Result<Modem, ModemError> {
        Modem::start_with(cfg, Arc::new(network)).await
    }

    /// [`start`](Self::start) on any [`RadioNetwork`] (a fake one in tests).
    pub async fn start_with(cfg: ModemConfig, network: Arc<dyn RadioNetwork>) -> Result<Modem, ModemError> {
        if cfg.slots == 0 {
            return Err(ModemError::NoSlots);
        }
        let dir = cfg.slot_socket_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| ModemError::SocketDir { dir: dir.clone(), source })?;
        let listeners = (0..cfg.slots)
            .map(|n| {
                SocketListener::bind(socket_path(&dir, n))
                    .map_err(|source| ModemError::Slot { slot: n, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ptys = [open_pty("firmware")?, open_pty("observer")?];
        let (firmware_port, observer_port) = (ptys[0].path().to_owned(), ptys[1].path().to_owned());
        let shared = Shared::launch(cfg, network, listeners, ptys);
        Ok(Modem { shared, firmware_port, observer_port, slot_dir: dir })
    }

    /// The firmware's AT port (PTY slave path, e.g. `/dev/pts/7`).
    pub fn firmware_port(&self) -> &Path {
        &self.firmware_port
    }

    /// The rig's observer AT port.
    pub fn observer_port(&self) -> &Path {
        &self.observer_port
    }

    /// `<dir>/slot<N>.sock`, N = 0..slots-1.
    pub fn slot_socket(&self, slot: u8) -> PathBuf {
        socket_path(&self.slot_dir, slot)
    }

    /// When each command line reached the firmware's port, on the rig clock.
    pub fn firmware_commands(&self) -> Vec<Duration> {
        self.shared.firmware_commands.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Every short message `AT+CMGS` accepted, in order (none is delivered anywhere).
    pub fn sent_sms(&self) -> Vec<SentSms> {
        self.shared.core().sms.sent.clone()
    }

    /// Ends every task and waits for them: the PTYs close, the bridges see their channel
    /// close, the socket files are removed.
    pub async fn stop(self) {
        self.shared.tasks.shutdown().await;
    }
}

impl Drop for Modem {
    fn drop(&mut self) {
        // Without stop(): the tasks still end (and drop what they own) on their next poll.
        self.shared.tasks.abort_all();
    }
}

fn socket_path(dir: &Path, slot: u8) -> PathBuf {
    dir.join(format!("slot{slot}.sock"))
}

fn open_pty(port: &'static str) -> Result<Pty, ModemError> {
    Pty::open().map_err(|source| ModemError::Pty { port, source })
}

/// What every task of the modem shares.
pub(crate) struct Shared {
    net: Arc<dyn RadioNetwork>,
    scale: TimeScale,
    clock: RigClock,
    /// Milliseconds since the Unix epoch at the rig clock's epoch: the clock as wall time.
    wall_epoch_ms: i64,
    core: Mutex<Core>,
    slots: Vec<SlotHandle>,
    urcs: UrcHub,
    /// Serialises SIM transitions (slot switch, insertion, removal, PIN entry): each reads
    /// the card and must not see another's half-done state.
    sim_lock: Arc<tokio::sync::Mutex<()>>,
    tasks: Tasks,
    /// When each command line reached the firmware's port, on the rig clock.
    firmware_commands: Mutex<Vec<Duration>>,
}

/// The modem's state. Held only for short, await-free updates; URCs are queued under it so
/// their order follows the order of the changes.
pub(crate) struct Core {
    /// The active slot, 0-based.
    active: u8,
    sim: SimState,
    /// The card (ATR) `sim` was read from; None when no card is there.
    card_seen: Option<Vec<u8>>,
    cfun: u8,
    reg: RegState,
    data: DataState,
    /// Scan mode and bands (`AT+QCFG`).
    radio: RadioConfig,
    rtc: Rtc,
    sms: SmsState,
}

impl Shared {
    fn launch(
        cfg: ModemConfig,
        net: Arc<dyn RadioNetwork>,
        listeners: Vec<SocketListener>,
        ptys: [Pty; 2],
    ) -> Arc<Shared> {
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let (slots, actors): (Vec<_>, Vec<_>) = listeners
            .into_iter()
            .zip(0..)
            .map(|(listener, n)| sim_slot::slot(n, listener, cfg.wwt, event_tx.clone()))
            .unzip();
        let (links, outs): (Vec<_>, Vec<_>) = [FIRMWARE, OBSERVER]
            .into_iter()
            .map(|id| {
                let (tx, rx) = mpsc::channel(urc::PORT_QUEUE);
                (Arc::new(PortLink::new(id, tx)), rx)
            })
            .unzip();
        let wall_now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let shared = Arc::new(Shared {
            net,
            scale: cfg.scale,
            clock: cfg.clock,
            wall_epoch_ms: wall_now_ms - cfg.clock.now().as_millis() as i64,
            core: Mutex::new(Core::new(cfg.clock.now())),
            slots,
            urcs: UrcHub::new(links.clone()),
            sim_lock: Arc::new(tokio::sync::Mutex::new(())),
            tasks: Tasks::default(),
            firmware_commands: Mutex::default(),
        });
        for actor in actors {
            shared.spawn(actor.run());
        }
        shared.spawn(sim_control::supervise(shared.clone(), event_rx));
        for ((link, out), pty) in links.into_iter().zip(outs).zip(ptys) {
            port::launch(&shared, link, out, pty);
        }
        shared
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        // Every update under the lock is complete before anything that could panic.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> Option<AbortHandle> {
        self.tasks.spawn(task)
    }

    /// A command line arrived on port `id`: the firmware's are stamped (the rig's own time in
    /// each exchange is allowed for in the timing checks).
    fn heard_command(&self, id: usize) {
        if id == FIRMWARE {
            let now = self.clock.now();
            self.firmware_commands.lock().unwrap_or_else(|e| e.into_inner()).push(now);
        }
    }

    fn active_slot(&self) -> SlotHandle {
        self.slots[usize::from(self.core().active)].clone()
    }

    /// The rig clock as wall time: milliseconds since the Unix epoch.
    fn wall_now(&self) -> i64 {
        self.wall_epoch_ms + self.clock.now().as_millis() as i64
    }
}

impl Core {
    fn new(now: std::time::Duration) -> Core {
        Core {
            active: 0,
            sim: SimState::Absent,
            card_seen: None,
            cfun: 1,
            reg: RegState::default(),
            data: DataState::default(),
            radio: RadioConfig::default(),
            rtc: Rtc::power_on(now),
            sms: SmsState::default(),
        }
    }
}

/// Every task of one modem. Once shutting down, new tasks are not started.
#[derive(Default)]
struct Tasks {
    state: Mutex<TaskState>,
}

#[derive(Default)]
struct TaskState {
    set: JoinSet<()>,
    closed: bool,
}

impl Tasks {
    fn lock(&self) -> MutexGuard<'_, TaskState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> Option<AbortHandle> {
        let mut state = self.lock();
        if state.closed {
            return None;
        }
        // Reap finished tasks so a long session does not accumulate them.
        while let Some(done) = state.set.try_join_next() {
            if let Err(e) = done
                && e.is_panic()
            {
                tracing::error!("simulated modem task panicked: {e}");
            }
        }
        Some(state.set.spawn(task))
    }

    async fn shutdown(&self) {
        let mut set = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.set)
        };
        set.shutdown().await;
    }

    fn abort_all(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.set.abort_all();
    }
}
