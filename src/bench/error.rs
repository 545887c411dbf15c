//! What makes a scenario an ERROR: the part of the bench (or of the rig, or the DUT) that broke
//! or did not come up, and its cause — one enum across the [`Bench`](super::Bench) seam, kept by
//! the runner until it makes the verdict.
//!
//! Its `Display` is the message users read (the console, JUnit, the pages, the docs quote it):
//! a variant's wording is part of the interface, so tests match on the variant and leave the
//! wording to the one place here that writes it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::hw::pcsc::PcscError;
use crate::hw::simtrace::TransportError;
use crate::sim::modem::ModemError;
use crate::sim::network::NetworkError;
use crate::sim::pcscd::PcscdError;

pub use crate::children::dut_process::{DutExit, SpawnError};

/// Which part failed to come up or broke, and how.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The bench did not come up for the scenario (bring-up failed at the part inside).
    #[error("bench did not come up: {0}")]
    NotUp(#[source] Box<BenchError>),
    /// A part broke once the outcome was in (during the settle period): the checks are kept,
    /// the run is still an error.
    #[error("after the outcome was in: {0}")]
    AfterOutcome(#[source] Arc<BenchError>),

    // The fixtures as the bench meets them.
    #[error("fixtures: the scenario's references do not resolve")]
    FixturesUnresolved,
    #[error("the measured site does not resolve against the fixtures")]
    MeasuredSiteUnresolved,
    #[error("unknown seed {seed}")]
    UnknownSeed { seed: String },
    #[error("unknown site {site}")]
    UnknownSite { site: String },
    /// The DUT's console patterns (the rig file's) do not compile.
    #[error("{cause}")]
    ConsolePattern { cause: String },

    // Cards and readers.
    /// A virtual bench's card for a seed could not be made or seated.
    #[error("virtual card for seed {seed}: {cause}")]
    VirtualCard { seed: String, cause: String },
    /// A lab's card inventory has no reader for the seed.
    #[error("seed {seed} is not in the card inventory")]
    NotInInventory { seed: String },
    #[error("seed {seed} has no reader")]
    NoReader { seed: String },
    #[error("{reader}: {cause}")]
    Reader {
        reader: ReaderRef,
        #[source]
        cause: PcscError,
    },
    /// A virtual bench's reader holds another card than the seed the scenario places.
    #[error("reader for slot {slot} holds {found}, but the scenario puts {expected} there")]
    WrongCard { slot: u8, expected: String, found: String },
    /// A lab reader holds another card than the seed the card inventory puts there (`expected`:
    /// the seed with its ICCID and IMSI; `found`: the card's).
    #[error("reader \"{reader}\" should hold {expected} but holds {found}: was a card moved?")]
    CardMoved { reader: String, expected: String, found: String },

    // pcscd, the card stack.
    /// The virtual bench's private pcscd did not start.
    #[error(transparent)]
    Pcscd(PcscdError),
    #[error("this process already talks to another pcscd; one run uses one [pcsc] socket")]
    AnotherPcscd,
    #[error("pcscd (pid {pid}) died: the cards of slot(s) {} are gone with it", list(.slots))]
    PcscdDied { pid: u32, slots: Vec<u8> },
    /// A PC/SC call that has not returned within its bound: the card stack hung, not the card.
    /// `pid` is the bench's own pcscd (a virtual bench's); `None` for the system's (a lab's).
    #[error("{}", hung(*.pid, *.slot, .reader, *.waited, *.bound))]
    PcscdHung { pid: Option<u32>, slot: u8, reader: String, waited: Duration, bound: Duration },
    /// A PC/SC call that returned, but later than the card's work waiting time: the modem saw a
    /// silent card.
    #[error(
        "a PC/SC call for slot {slot} (reader \"{reader}\") took {} ms, longer than the card's work waiting time \
         ({} ms real): the modem saw a silent card because pcscd (pid {pid}) answered late — the machine is \
         overloaded or pcscd stalled",
        .took.as_millis(),
        .bound.as_millis()
    )]
    PcscdLate { pid: u32, slot: u8, reader: String, took: Duration, bound: Duration },

    // SIM slots: card-emulation channels and the bridges.
    #[error("slot {slot} has no channel wired")]
    NoChannel { slot: u8 },
    #[error("SIM slot {slot}{channel}: {cause}")]
    CardChannel {
        slot: u8,
        channel: ChannelRef,
        #[source]
        cause: TransportError,
    },
    #[error("the bridge of slot {slot} (reader \"{reader}\") stopped: {cause}")]
    BridgeStopped { slot: u8, reader: String, cause: String },

    // Serial ports.
    /// A lab's serial port, by its path.
    #[error("{port} {}: {cause}", .path.display())]
    SerialPort {
        port: Port,
        path: PathBuf,
        #[source]
        cause: PortCause,
    },
    /// The DUT's console as the runner talks to it: a lab's serial port (`port`) or a virtual
    /// bench's terminal (`None`).
    #[error("DUT console: {}{cause}", port_prefix(.port))]
    DutConsole {
        port: Option<PathBuf>,
        #[source]
        cause: PortCause,
    },

    // The simulated parts of a virtual bench.
    #[error("simulated network: {0}")]
    Network(#[source] NetworkError),
    #[error("simulated modem: {0}")]
    Modem(#[source] ModemError),
    /// The simulated modem's observer port, as the rig watches it.
    #[error("simulated modem: {0}")]
    ModemObserver(#[source] Box<BenchError>),

    // A lab's hooks and backend stub.
    /// A hook that failed, overran, or was stopped (hooks say why in words).
    #[error("hook {name}: {cause}")]
    Hook { name: String, cause: String },
    #[error("no [network.faults] hook for {fault}")]
    NoFaultHook { fault: &'static str },
    /// The backend stub could not listen (the message names the address).
    #[error("{cause}")]
    Backend { cause: String },

    // The DUT.
    /// The DUT's program (a virtual bench's firmware) could not start.
    #[error("firmware: {0}")]
    FirmwareNotStarted(#[source] SpawnError),
    /// The DUT's program exited mid-run (its command and the end of its output quoted).
    #[error("the firmware {0}")]
    FirmwareExited(#[source] DutExit),
    /// The DUT printed no boot line in time; `output` is its command and the end of its output,
    /// where the bench started it as a process.
    #[error("DUT: no `boot` on its console within {within:?}{}", .output.as_ref().map(|o| format!(" ({o})")).unwrap_or_default())]
    NoBoot { within: Duration, output: Option<String> },
    /// No outcome by the deadline, no answer to `status` (and, where an exhaustion was
    /// expected, no card traffic since the start).
    #[error(
        "firmware hung: no outcome within {deadline:?}{}, and no answer to `status`",
        if *.card_silent { ", no card traffic since the start" } else { "" }
    )]
    FirmwareHung { deadline: Duration, card_silent: bool },
    /// A winner no independent source confirms (`observed` says what was seen).
    #[error("the winner cannot be confirmed on this bench: {observed}")]
    WinnerUnconfirmed { observed: String },

    // The rig itself.
    /// The bench's temporary folder, or a file in it.
    #[error("bench folder: {0}")]
    BenchFolder(#[source] std::io::Error),
    /// A task of the rig's (a blocking call run off the runtime) panicked or was cancelled.
    #[error("{part}: {cause}")]
    Panicked {
        part: String,
        #[source]
        cause: tokio::task::JoinError,
    },
    /// The rig ran late enough that failing checks cannot be trusted: never a failure.
    #[error("bench overloaded: {}", overloaded(.cause, .failing))]
    Overloaded { failing: Vec<String>, cause: Overload },
    /// SIGINT or SIGTERM (`signal`) stopped the scenario under way.
    #[error(
        "interrupted by {}: the bench was taken down before the outcome was in",
        crate::children::signal_name(*.signal)
    )]
    Interrupted { signal: i32 },
}

impl BenchError {
    /// The part and its cause, as a name: the variant's, in snake case, except that a serial
    /// port is named by the port (`dut_console`, `observer_port`, however it failed), and a
    /// bring-up that failed, a part that broke after the outcome, or the simulated modem's
    /// observer by what is inside. For tools that count or sort errors, which the messages are
    /// not made for.
    pub fn kind(&self) -> &'static str {
        use BenchError::*;
        match self {
            NotUp(inner) => inner.kind(),
            AfterOutcome(inner) => inner.kind(),
            FixturesUnresolved => "fixtures_unresolved",
            MeasuredSiteUnresolved => "measured_site_unresolved",
            UnknownSeed { .. } => "unknown_seed",
            UnknownSite { .. } => "unknown_site",
            ConsolePattern { .. } => "console_pattern",
            VirtualCard { .. } => "virtual_card",
            NotInInventory { .. } => "not_in_inventory",
            NoReader { .. } => "no_reader",
            Reader { .. } => "reader",
            WrongCard { .. } => "wrong_card",
            CardMoved { .. } => "card_moved",
            Pcscd(_) => "pcscd",
            AnotherPcscd => "another_pcscd",
            PcscdDied { .. } => "pcscd_died",
            PcscdHung { .. } => "pcscd_hung",
            PcscdLate { .. } => "pcscd_late",
            NoChannel { .. } => "no_channel",
            CardChannel { .. } => "card_channel",
            BridgeStopped { .. } => "bridge_stopped",
            SerialPort { port: Port::DutConsole, .. } | DutConsole { .. } => "dut_console",
            SerialPort { port: Port::Observer, .. } => "observer_port",
            Network(_) => "network",
            Modem(_) => "modem",
            ModemObserver(inner) => inner.kind(),
            Hook { .. } => "hook",
            NoFaultHook { .. } => "no_fault_hook",
            Backend { .. } => "backend",
            FirmwareNotStarted(_) => "firmware_not_started",
            FirmwareExited(_) => "firmware_exited",
            NoBoot { .. } => "no_boot",
            FirmwareHung { .. } => "firmware_hung",
            WinnerUnconfirmed { .. } => "winner_unconfirmed",
            BenchFolder(_) => "bench_folder",
            Panicked { .. } => "panicked",
            Overloaded { .. } => "overloaded",
            Interrupted { .. } => "interrupted",
        }
    }
}

/// Which serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    DutConsole,
    Observer,
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Port::DutConsole => "DUT console",
            Port::Observer => "observer port",
        })
    }
}

/// A reader, as a message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderRef {
    /// A virtual bench's reader, by the SIM slot it serves.
    Slot(u8),
    /// A lab reader, by name, relaying a SIM slot.
    Relaying { name: String, slot: u8 },
    /// A lab reader, by name, with the seed the card inventory puts in it.
    Holding { name: String, seed: String },
}

impl std::fmt::Display for ReaderRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReaderRef::Slot(slot) => write!(f, "reader for slot {slot}"),
            ReaderRef::Relaying { name, slot } => write!(f, "reader \"{name}\" (slot {slot})"),
            ReaderRef::Holding { name, seed } => write!(f, "reader \"{name}\" (holding {seed})"),
        }
    }
}

/// A SIM slot's card-emulation channel, as a message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelRef {
    /// The simulated modem's slot socket (a virtual bench): the slot says it all.
    Modem,
    /// A Unix socket with the SIMtrace2 framing (the emulated lab).
    Socket(PathBuf),
    /// A channel of a SIMtrace2-class board, by the board's serial number.
    Usb { board: String, channel: u8 },
}

impl std::fmt::Display for ChannelRef {
    /// What follows `SIM slot N` in a message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChannelRef::Modem => Ok(()),
            ChannelRef::Socket(path) => write!(f, " channel {}", path.display()),
            ChannelRef::Usb { board, channel } => write!(f, " (board {board}, channel {channel})"),
        }
    }
}

/// What went wrong with a serial port (or a virtual bench's console terminal).
#[derive(Debug, thiserror::Error)]
pub enum PortCause {
    #[error("not there after waiting {waited:?} (unplugged? `ls -l /dev/serial/by-id/` lists the ports)")]
    NotThere { waited: Duration },
    #[error("cannot open: {0}")]
    CannotOpen(#[source] tokio_serial::Error),
    #[error("not open")]
    NotOpen,
    /// A read or write failed.
    #[error("{0}")]
    Io(#[source] std::io::Error),
    /// A read on a device failed: it is likely gone.
    #[error("{0} (device gone?)")]
    ReadFailed(#[source] std::io::Error),
    /// A read on a device found its end.
    #[error("the port closed (device gone?)")]
    ClosedUnderRead,
    /// The rig's watch of the port ended: it closed or failed.
    #[error("the port closed")]
    Closed,
    #[error("the port closed during {command}")]
    ClosedDuring { command: &'static str },
    /// The device's path is gone.
    #[error("the device is gone")]
    DeviceGone,
    #[error("no answer to {command} within {within:?}")]
    NoAnswer { command: &'static str, within: Duration },
    /// `+CME ERROR` and the like.
    #[error("{command} answered {answer}")]
    Refused { command: &'static str, answer: String },
    /// `ERROR` to the operator scan: not a Quectel-class observer.
    #[error("{command} answered ERROR (the observer must be a Quectel-class modem that knows AT+QOPS)")]
    NoOperatorScan { command: &'static str },
}

/// Why a failing run is the rig's lateness, not the firmware's.
#[derive(Debug, Clone, PartialEq)]
pub enum Overload {
    /// Each failing timing check failed by less than the rig's own measured time, which the
    /// cap at the tolerance did not allow in full.
    RigTimeBeyondCap,
    /// The rig ran up to `lag` late, more than the real `tolerance` its timing checks allow.
    Late { lag: Duration, tolerance: Duration },
}

fn overloaded(cause: &Overload, failing: &[String]) -> String {
    let failing = failing.join(", ");
    match cause {
        Overload::RigTimeBeyondCap => format!(
            "the rig's own time in {failing} was more than the tolerance lets it allow, and the failure is within \
             it; the failing checks cannot be trusted"
        ),
        Overload::Late { lag, tolerance } => format!(
            "the rig ran up to {:.0} ms late, more than the {:.0} ms real tolerance its timing checks allow; the \
             failing checks ({failing}) cannot be trusted",
            lag.as_secs_f64() * 1000.0,
            tolerance.as_secs_f64() * 1000.0,
        ),
    }
}

fn hung(pid: Option<u32>, slot: u8, reader: &str, waited: Duration, bound: Duration) -> String {
    match pid {
        Some(pid) => format!(
            "pcscd (pid {pid}) has not answered a PC/SC call for slot {slot} (reader \"{reader}\") for {} ms \
             (bound {} ms): the bench's card stack hung, not the card",
            waited.as_millis(),
            bound.as_millis()
        ),
        None => format!(
            "pcscd has not answered a PC/SC call for slot {slot} (reader \"{reader}\") within {} ms: the bench's \
             card stack (pcscd or the reader's driver) hung, not the card",
            bound.as_millis()
        ),
    }
}

fn list(slots: &[u8]) -> String {
    slots.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

fn port_prefix(port: &Option<PathBuf>) -> String {
    port.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! The messages as they were written before the errors had types: users, JUnit, the pages
    //! and the docs quote them, so each variant must keep its wording.

    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn says(e: BenchError, text: &str) {
        assert_eq!(e.to_string(), text, "{e:?}");
    }

    #[test]
    fn card_stack_errors_say_which_pcscd_slot_and_reader() {
        says(
            BenchError::PcscdDied { pid: 7, slots: vec![0, 2] },
            "pcscd (pid 7) died: the cards of slot(s) 0, 2 are gone with it",
        );
        says(
            BenchError::PcscdHung {
                pid: Some(7),
                slot: 1,
                reader: "r".into(),
                waited: ms(300),
                bound: ms(250),
            },
            "pcscd (pid 7) has not answered a PC/SC call for slot 1 (reader \"r\") for 300 ms (bound 250 ms): the \
             bench's card stack hung, not the card",
        );
        says(
            BenchError::PcscdHung {
                pid: None,
                slot: 1,
                reader: "r".into(),
                waited: ms(4000),
                bound: ms(3000),
            },
            "pcscd has not answered a PC/SC call for slot 1 (reader \"r\") within 3000 ms: the bench's card stack \
             (pcscd or the reader's driver) hung, not the card",
        );
        says(
            BenchError::PcscdLate { pid: 7, slot: 1, reader: "r".into(), took: ms(400), bound: ms(250) },
            "a PC/SC call for slot 1 (reader \"r\") took 400 ms, longer than the card's work waiting time (250 ms \
             real): the modem saw a silent card because pcscd (pid 7) answered late — the machine is overloaded or \
             pcscd stalled",
        );
        says(
            BenchError::AnotherPcscd,
            "this process already talks to another pcscd; one run uses one [pcsc] socket",
        );
    }

    #[test]
    fn readers_and_channels_are_named_as_each_bench_knows_them() {
        let no_card = || PcscError::NoCard { reader: "r".into() };
        says(
            BenchError::Reader { reader: ReaderRef::Slot(2), cause: no_card() },
            "reader for slot 2: reader \"r\" has no card in it",
        );
        says(
            BenchError::Reader {
                reader: ReaderRef::Relaying { name: "r".into(), slot: 2 },
                cause: no_card(),
            },
            "reader \"r\" (slot 2): reader \"r\" has no card in it",
        );
        says(
            BenchError::Reader {
                reader: ReaderRef::Holding { name: "r".into(), seed: "s".into() },
                cause: no_card(),
            },
            "reader \"r\" (holding s): reader \"r\" has no card in it",
        );
        says(
            BenchError::CardMoved {
                reader: "r".into(),
                expected: "s (ICCID 1, IMSI 2)".into(),
                found: "ICCID 3, IMSI 4".into(),
            },
            "reader \"r\" should hold s (ICCID 1, IMSI 2) but holds ICCID 3, IMSI 4: was a card moved?",
        );
        let closed = || TransportError::Closed { device: "d".into() };
        let tail =
            "d: closed by the other side (board unplugged or reset, or the simulator stopped); reopen it";
        says(
            BenchError::CardChannel { slot: 1, channel: ChannelRef::Modem, cause: closed() },
            &format!("SIM slot 1: {tail}"),
        );
        says(
            BenchError::CardChannel { slot: 1, channel: ChannelRef::Socket("/s".into()), cause: closed() },
            &format!("SIM slot 1 channel /s: {tail}"),
        );
        says(
            BenchError::CardChannel {
                slot: 1,
                channel: ChannelRef::Usb { board: "b".into(), channel: 0 },
                cause: closed(),
            },
            &format!("SIM slot 1 (board b, channel 0): {tail}"),
        );
        says(
            BenchError::BridgeStopped { slot: 1, reader: "r".into(), cause: "ended".into() },
            "the bridge of slot 1 (reader \"r\") stopped: ended",
        );
    }

    #[test]
    fn ports_are_named_with_their_path() {
        let port = |port, cause| BenchError::SerialPort { port, path: "/dev/x".into(), cause };
        says(
            port(Port::DutConsole, PortCause::NotThere { waited: ms(2000) }),
            "DUT console /dev/x: not there after waiting 2s (unplugged? `ls -l /dev/serial/by-id/` lists the ports)",
        );
        says(port(Port::Observer, PortCause::Closed), "observer port /dev/x: the port closed");
        says(port(Port::DutConsole, PortCause::DeviceGone), "DUT console /dev/x: the device is gone");
        says(
            port(Port::Observer, PortCause::NoAnswer { command: "AT+CEREG=2", within: ms(2000) }),
            "observer port /dev/x: no answer to AT+CEREG=2 within 2s",
        );
        says(
            port(Port::Observer, PortCause::NoOperatorScan { command: "AT+QOPS" }),
            "observer port /dev/x: AT+QOPS answered ERROR (the observer must be a Quectel-class modem that knows \
             AT+QOPS)",
        );
        let console =
            |port: Option<&str>, cause| BenchError::DutConsole { port: port.map(PathBuf::from), cause };
        says(
            console(Some("/dev/x"), PortCause::ClosedUnderRead),
            "DUT console: /dev/x: the port closed (device gone?)",
        );
        says(
            console(Some("/dev/x"), PortCause::ReadFailed(std::io::Error::other("EIO"))),
            "DUT console: /dev/x: EIO (device gone?)",
        );
        says(console(Some("/dev/x"), PortCause::NotOpen), "DUT console: /dev/x: not open");
        says(console(None, PortCause::Io(std::io::Error::other("EIO"))), "DUT console: EIO");
        // However it failed, a port is named by what it is.
        assert_eq!(port(Port::DutConsole, PortCause::DeviceGone).kind(), "dut_console");
        assert_eq!(console(None, PortCause::NotOpen).kind(), "dut_console");
        assert_eq!(port(Port::Observer, PortCause::Closed).kind(), "observer_port");
    }

    #[test]
    fn the_dut_is_quoted_with_its_command_and_output() {
        says(
            BenchError::FirmwareNotStarted(SpawnError::CannotStart {
                command: "fw --config c".into(),
                cause: std::io::Error::other("ENOENT"),
            }),
            "firmware: cannot start `fw --config c`: ENOENT",
        );
        says(
            BenchError::FirmwareExited(DutExit::Exited {
                command: "fw".into(),
                status: std::process::ExitStatus::from_raw(3 << 8),
                output_tail: "; it printed nothing on stdout or stderr".into(),
            }),
            "the firmware `fw` exited (exit status: 3); it printed nothing on stdout or stderr",
        );
        says(
            BenchError::NoBoot { within: ms(300), output: None },
            "DUT: no `boot` on its console within 300ms",
        );
        says(
            BenchError::NoBoot { within: ms(300), output: Some("`fw`; its last output: x".into()) },
            "DUT: no `boot` on its console within 300ms (`fw`; its last output: x)",
        );
        says(
            BenchError::FirmwareHung { deadline: ms(6000), card_silent: false },
            "firmware hung: no outcome within 6s, and no answer to `status`",
        );
        says(
            BenchError::FirmwareHung { deadline: ms(6000), card_silent: true },
            "firmware hung: no outcome within 6s, no card traffic since the start, and no answer to `status`",
        );
    }

    #[test]
    fn the_runner_s_errors_keep_their_words() {
        let failing = vec!["time_to_winner".to_owned(), "attempt_order".to_owned()];
        says(
            BenchError::Overloaded { failing: failing.clone(), cause: Overload::RigTimeBeyondCap },
            "bench overloaded: the rig's own time in time_to_winner, attempt_order was more than the tolerance lets \
             it allow, and the failure is within it; the failing checks cannot be trusted",
        );
        says(
            BenchError::Overloaded { failing, cause: Overload::Late { lag: ms(412), tolerance: ms(150) } },
            "bench overloaded: the rig ran up to 412 ms late, more than the 150 ms real tolerance its timing checks \
             allow; the failing checks (time_to_winner, attempt_order) cannot be trusted",
        );
        says(
            BenchError::Interrupted { signal: 2 },
            "interrupted by SIGINT: the bench was taken down before the outcome was in",
        );
        says(
            BenchError::Interrupted { signal: 15 },
            "interrupted by SIGTERM: the bench was taken down before the outcome was in",
        );
        let hook = BenchError::Hook { name: "dut.power".into(), cause: "`p` failed (exit status: 1)".into() };
        assert_eq!(hook.kind(), "hook");
        let not_up = BenchError::NotUp(Box::new(hook));
        assert_eq!(not_up.kind(), "hook", "a bring-up is named by the part that failed");
        says(not_up, "bench did not come up: hook dut.power: `p` failed (exit status: 1)");
        let after = BenchError::AfterOutcome(Arc::new(BenchError::PcscdDied { pid: 7, slots: vec![0] }));
        assert_eq!(after.kind(), "pcscd_died");
        says(after, "after the outcome was in: pcscd (pid 7) died: the cards of slot(s) 0 are gone with it");
        says(BenchError::FixturesUnresolved, "fixtures: the scenario's references do not resolve");
    }
}
