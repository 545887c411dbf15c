//! What a bench is wired to (labgrid's "resources"): the rig file, validated.
//!
//! A rig file says what the bench *has* (readers holding seed cards, multiplexer channels wired
//! to the DUT's SIM slots, serial ports, hooks, a network); the `bench` module turns it into
//! drivers and decides which scenarios the bench can run (the others are skipped).

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Rig {
    pub id: String,
    pub path: PathBuf,
    pub name: String,
    /// SIM slots the DUT offers (on a lab bench: the slots wired to multiplexer channels).
    pub slots: u8,
    /// Multiplies every nominal duration; 1 on a lab bench.
    pub time_scale: f64,
    pub kind: RigKind,
}

#[derive(Debug, Clone)]
pub enum RigKind {
    /// Everything simulated but the software stacks; can do everything. `dut`: the firmware
    /// under test, where the rig file names one (else the reference firmware).
    Virtual {
        dut: Option<DutProgram>,
    },
    Lab(Box<LabBench>),
}

/// Everything a lab bench is wired to.
#[derive(Debug, Clone)]
pub struct LabBench {
    /// The PC/SC readers and the seed card each holds.
    pub readers: Vec<Reader>,
    /// The pcscd to talk to: `None` is the system's (the normal case on a lab); a socket path
    /// for a pcscd started elsewhere (the emulated lab's).
    pub pcsc_socket: Option<PathBuf>,
    /// Which multiplexer channel emulates the card of each DUT SIM slot, by slot.
    pub channels: Vec<SlotChannel>,
    pub dut: Dut,
    /// The port the rig watches for the modem's unsolicited results.
    pub observer: Observer,
    /// Where the rig's backend stub listens for the DUT's report.
    pub backend: SocketAddr,
    pub network: LabNetwork,
    /// How long (ms) a serial port that is not there is waited for (hot-plug) before the
    /// scenario is an error naming the device.
    pub hotplug_wait_ms: u64,
}

/// One PC/SC reader of the bench's card inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// The reader's exact PC/SC name, as `pcsc_scan` prints it.
    pub name: String,
    /// The seed the lab put in it. Bring-up reads the card's ICCID and IMSI and checks them
    /// against this seed; a different card is an error naming the reader and both cards.
    pub seed: String,
}

/// The multiplexer channel wired to one DUT SIM slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotChannel {
    pub slot: u8,
    pub channel: CardemChannel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardemChannel {
    /// A SIMtrace2-class board on USB, by product id and serial number, and the card-emulation
    /// channel on it (0 on single-channel boards).
    Usb { product_id: u16, serial: String, channel: u8 },
    /// A Unix socket carrying the same framing (the emulated lab's modem).
    Socket { path: PathBuf },
}

/// A serial port by a stable path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialPort {
    pub path: PathBuf,
    pub baud: u32,
}

/// A command the rig runs, with a time limit; a failure or overrun is a bench error naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// Which hook this is, for messages (`dut.reset`, `network.faults.reject`).
    pub name: String,
    /// Program and arguments; `{name}` placeholders are filled in per call (docs/lab-bench.md).
    pub argv: Vec<String>,
    pub timeout_ms: u64,
}

/// The device under test.
#[derive(Debug, Clone)]
pub struct Dut {
    pub console: SerialPort,
    /// Powers the DUT off and on (before a scenario, as `when.power` says).
    pub power: Option<Hook>,
    /// Resets the DUT (after `configure`, as `when.reset` says).
    pub reset: Option<Hook>,
    /// Starts the build under test (after `reset`, as `when.start` says).
    pub start: Option<Hook>,
    /// Puts the scenario's firmware configuration on the device; `{config}` is its path.
    pub configure: Option<Hook>,
    /// When each of the hooks above runs (every scenario, unless the rig file says otherwise).
    pub when: DutWhen,
    /// How the console's lines become events.
    pub events: ConsoleFormat,
    /// How long (ms) the DUT may take from the last hook to its `boot` event.
    pub boot_timeout_ms: u64,
}

/// When a DUT hook runs: the rig file's `when` key of `dut.power`, `dut.configure`,
/// `dut.reset`, `dut.start` (docs/lab-bench.md, "Which DUT hooks run when"). The rig takes the
/// DUT from the state it is in to the state a scenario needs (`bench::lab::strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum When {
    /// Before every scenario: the default, a full cycle each time.
    #[default]
    EveryScenario,
    /// `power`, `reset`, `start`: only when the DUT's state calls for it — nothing known of it
    /// (the run's first scenario, after a scenario that ended in ERROR or a DUT hook that
    /// failed), a scenario with `cold_start = true`, or a hook before it ran for this scenario.
    WhenNeeded,
    /// `configure`: only when the firmware configuration differs from the one the DUT last
    /// took, and whenever `power` ran or nothing is known of the DUT.
    WhenChanged,
}

impl When {
    pub fn name(self) -> &'static str {
        match self {
            When::EveryScenario => "every-scenario",
            When::WhenNeeded => "when-needed",
            When::WhenChanged => "when-changed",
        }
    }

    pub fn parse(s: &str) -> Option<When> {
        [When::EveryScenario, When::WhenNeeded, When::WhenChanged].into_iter().find(|w| w.name() == s)
    }

    /// The values a hook of the DUT takes: `configure` follows the configuration, the others
    /// the DUT's state.
    pub fn choices(hook: &str) -> &'static [When] {
        if hook == "configure" {
            &[When::EveryScenario, When::WhenChanged]
        } else {
            &[When::EveryScenario, When::WhenNeeded]
        }
    }
}

/// When each DUT hook runs. The default is every hook before every scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DutWhen {
    pub power: When,
    pub configure: When,
    pub reset: When,
    pub start: When,
}

impl DutWhen {
    /// Power only when needed, configure only when changed, reset and start every scenario:
    /// what suits a DUT whose power cycle is slow and whose restart is cheap.
    pub const WHEN_NEEDED: DutWhen = DutWhen {
        power: When::WhenNeeded,
        configure: When::WhenChanged,
        reset: When::EveryScenario,
        start: When::EveryScenario,
    };
}

/// A virtual bench's device under test: a program the rig starts per scenario (`[dut]`).
#[derive(Debug, Clone)]
pub struct DutProgram {
    /// The program and its arguments; `{config}` in an argument is the firmware
    /// configuration's path.
    pub command: Vec<String>,
    /// How the console's lines become events.
    pub events: ConsoleFormat,
    /// How long (ms) the program may take from its start to its `boot` event.
    pub boot_timeout_ms: u64,
}

impl DutProgram {
    /// The command with `{config}` replaced by `config`.
    pub fn argv(&self, config: &std::path::Path) -> Vec<String> {
        let path = config.display().to_string();
        self.command.iter().map(|a| a.replace("{config}", &path)).collect()
    }
}

#[derive(Debug, Clone)]
pub enum ConsoleFormat {
    /// One JSON object per line (the protocol of `crate::console`), the default.
    Json,
    /// The firmware's own log lines, mapped to events by regular expressions.
    Patterns(Vec<EventPattern>),
}

/// Which console event a log pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternEvent {
    Boot,
    Attempt,
    Judged,
    Connected,
    Exhausted,
    Vsim,
    Status,
}

impl PatternEvent {
    pub const NAMES: &'static [&'static str] =
        &["boot", "attempt", "judged", "connected", "exhausted", "vsim", "status"];

    pub fn parse(s: &str) -> Option<PatternEvent> {
        Some(match s {
            "boot" => PatternEvent::Boot,
            "attempt" => PatternEvent::Attempt,
            "judged" => PatternEvent::Judged,
            "connected" => PatternEvent::Connected,
            "exhausted" => PatternEvent::Exhausted,
            "vsim" => PatternEvent::Vsim,
            "status" => PatternEvent::Status,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            PatternEvent::Boot => "boot",
            PatternEvent::Attempt => "attempt",
            PatternEvent::Judged => "judged",
            PatternEvent::Connected => "connected",
            PatternEvent::Exhausted => "exhausted",
            PatternEvent::Vsim => "vsim",
            PatternEvent::Status => "status",
        }
    }

    /// The named capture groups a pattern for this event must have.
    pub fn required_groups(self) -> &'static [&'static str] {
        match self {
            PatternEvent::Boot | PatternEvent::Exhausted | PatternEvent::Status => &[],
            PatternEvent::Attempt | PatternEvent::Connected | PatternEvent::Vsim => &["slot"],
            PatternEvent::Judged => &["slot", "reason"],
        }
    }
}

/// `event = "attempt"`, `regex = 'trying slot (?P<slot>\d+)'`. Validated at load (it compiles
/// and has the event's required capture groups).
#[derive(Debug, Clone)]
pub struct EventPattern {
    pub event: PatternEvent,
    pub regex: String,
    /// For `judged`: whether a match is an explicit answer (`explicit = true`) or a judgement
    /// at T; a capture group `explicit` matching `true`/`false` overrides it.
    pub explicit: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Observer {
    pub port: SerialPort,
    pub kind: ObserverKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObserverKind {
    /// The DUT modem's second AT port: it sees the DUT's own registrations.
    ModemPort,
    /// A separate reference modem of the bench: it sees the cells, not the DUT's state.
    ReferenceModem,
}

#[derive(Debug, Clone)]
pub enum LabNetwork {
    /// A test network shaped like the scenario's site, driven by hooks.
    Fixture(NetworkHooks),
    /// The real network around the bench, scanned by the observer before each scenario; the
    /// oracle ranks on that measurement. Standbys whose indices differ by less than
    /// `ambiguity_margin` may be tried in either order.
    Measured { ambiguity_margin: f64 },
}

#[derive(Debug, Clone)]
pub struct NetworkHooks {
    /// Shapes the test network like a site: `{site}` is its id, `{cells}` a path to its cells.
    pub set_site: Hook,
    /// Clears every network fault (run after each scenario, whatever happened).
    pub clear: Hook,
    /// One hook per network fault kind the bench can apply (`reject`, `silent`, ...), by name;
    /// a scenario needing another kind is skipped.
    pub faults: Vec<(String, Hook)>,
}

impl NetworkHooks {
    pub fn fault(&self, kind: &str) -> Option<&Hook> {
        self.faults.iter().find(|(k, _)| k == kind).map(|(_, h)| h)
    }
}

impl LabBench {
    pub fn channel(&self, slot: u8) -> Option<&CardemChannel> {
        self.channels.iter().find(|c| c.slot == slot).map(|c| &c.channel)
    }

    pub fn reader_of(&self, seed: &str) -> Option<&Reader> {
        self.readers.iter().find(|r| r.seed == seed)
    }
}
