//! Flags and subcommands (clap), turned into calls on the library. Rich output lives here;
//! the library returns data and diagnostics.

mod check;
mod doctor;
mod explain;
mod jobs;
mod junit;
mod list;
mod report;
mod run;
mod selftest;
mod sim;
mod sim_lab;
mod table;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use seedrig::fixture::{self, Loaded};
use seedrig::model::Rig;
use seedrig::run::partition::Partition;
use seedrig::sim::emulated_lab::control as lab_control;

/// Exit code for a configuration error (bad fixture, rig file or flag).
pub const EXIT_CONFIG: u8 = 2;

#[derive(Parser)]
#[command(
    name = "seedrig",
    version,
    about = "Hardware-in-the-loop test rig for seed-SIM failover firmware of mobile Wi-Fi hotspots",
    long_about = "Hardware-in-the-loop test rig for seed-SIM failover firmware of mobile Wi-Fi hotspots.\n\n\
        A hotspot tries its master seed SIM first; if that fails, it tries standby seeds in \
        descending order of an evaluation index (weighted, normalized signal and tariff) until one \
        connects. seedrig checks the fixtures that describe such scenarios, explains what a correct \
        firmware must do in each, and runs them against a bench."
)]
struct Cli {
    /// Folder holding carriers/, seeds/, sites/ and scenarios/
    #[arg(long, global = true, default_value = "fixtures", value_name = "DIR")]
    fixtures: PathBuf,

    /// Log format on stderr: human, or json (one object per line) for machines. The level
    /// comes from RUST_LOG (default: warn).
    #[arg(long, global = true, default_value = "human", value_parser = ["human", "json"], value_name = "FORMAT")]
    log_format: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate fixtures and rig files, reporting every mistake with file, line and key
    ///
    /// Exits 0 when everything is valid and 2 when anything is not.
    Check {
        /// Files or folders to check [default: the --fixtures folder and rig/]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the scenarios by name (reads fixtures only; never touches hardware)
    List {
        /// Also show each scenario's seeds, judgement and description
        #[arg(short, long)]
        long: bool,
    },
    /// Show how the method ranks a scenario's standbys and what a correct firmware must do
    Explain {
        /// Scenario names (see `seedrig list`)
        #[arg(value_name = "SCENARIO", required_unless_present = "all")]
        scenarios: Vec<String>,
        /// Explain every scenario
        #[arg(long, conflicts_with = "scenarios")]
        all: bool,
    },
    /// Run scenarios on a bench, each as a test case with named checks
    ///
    /// Exits 0 when every scenario passed or was skipped (a pass on a retry of a bench error
    /// included); 1 when any failed (the firmware did wrong; a flaky scenario with a failing run
    /// too, unless --allow-flaky); 3 when none failed but any ended in a bench ERROR (the bench
    /// broke); 2 on a configuration or usage error, or when the bench lock was not had within
    /// --lock-timeout; 128+N when stopped by signal N.
    Run {
        /// Bench file
        #[arg(long, default_value = "rig/virtual.toml", value_name = "FILE")]
        rig: PathBuf,
        /// Run only scenarios whose name contains one of these
        #[arg(value_name = "FILTER")]
        filters: Vec<String>,
        /// Filters must match whole names
        #[arg(long)]
        exact: bool,
        /// Write a JUnit XML report here
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write each scenario's timeline into this folder: <scenario>.json and .html (with
        /// index.html), and beside them its card trace for Wireshark (<scenario>.pcapng) and its
        /// console's and observer's lines (<scenario>.console.log, <scenario>.observer.log)
        #[arg(long, value_name = "DIR")]
        timelines: Option<PathBuf>,
        /// Write each scenario's card trace into this folder as <scenario>.pcapng: every slot's
        /// ATRs and APDUs as GSMTAP SIM over UDP, for Wireshark (--timelines writes them too)
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
        /// Run the firmware with a deliberate fault (self-test)
        #[arg(long, hide = true, value_name = "MODE")]
        firmware_fault: Option<String>,
        /// Run this many virtual benches side by side, each its own process and pcscd
        /// [default: the machine's cores on a virtual bench; a lab bench runs one]
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: Option<u16>,
        /// Write the results as JSON (for tests and tools)
        #[arg(long, hide = true, value_name = "FILE")]
        results_json: Option<PathBuf>,
        /// This run is one worker of a parallel run: scenario names on stdin, reports on stdout
        /// (src/cli/jobs.rs); its parent prints the results and the summary
        #[arg(long, hide = true)]
        as_job: bool,
        /// Run one share of the scenarios: count:M/N (every Nth in name order, from the Mth),
        /// hash:M/N (by a hash of the name, as cargo-nextest does) or time:M/N (balanced by the
        /// oracle's expected duration; adding a scenario may move others)
        #[arg(long, value_name = "SCHEME:M/N", value_parser = Partition::parse)]
        partition: Option<Partition>,
        /// Run each scenario N times; mixed results make it flaky
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
        repeat: u32,
        /// Stop repeating a scenario at its first run that does not pass (with --repeat N as
        /// the most runs; 100 without it)
        #[arg(long)]
        until_fail: bool,
        /// Flaky scenarios do not fail the run (they are still reported as flaky)
        #[arg(long)]
        allow_flaky: bool,
        /// Seconds to wait for a lab bench another run holds (then exit 2); virtual benches
        /// are never locked
        #[arg(long, default_value_t = 0, value_name = "SECONDS")]
        lock_timeout: u64,
        /// Run a scenario that ended in a bench ERROR again, up to N more times (never one that
        /// FAILed); every try stays in the JUnit report and the summary names what was retried
        #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
        retry_errors: u32,
        /// The firmware build under test as your pipeline names it (a tag, a build number): in
        /// the summary, the JUnit properties and the pages
        #[arg(long, env = "SEEDRIG_FIRMWARE_ID", value_name = "ID")]
        firmware_id: Option<String>,
        /// The firmware image under test: its sha256 goes in the summary, the JUnit properties
        /// and the pages
        #[arg(long, env = "SEEDRIG_FIRMWARE_IMAGE", value_name = "FILE")]
        firmware_image: Option<PathBuf>,
    },
    /// Run the suite against each deliberately wrong firmware and show which scenarios catch it
    Selftest {
        /// Bench file (a virtual bench)
        #[arg(long, default_value = "rig/virtual.toml", value_name = "FILE")]
        rig: PathBuf,
    },
    /// Check that every part a bench file names is there and answers, one row per part
    ///
    /// A lab bench's pcscd, readers and cards, multiplexer boards or sockets, serial ports,
    /// hooks and backend address; the virtual bench's world, brought up for one scenario and
    /// taken down. Runs no hooks.
    ///
    /// A lab bench is examined under its lock, as `run` takes it: a bench another run holds is
    /// waited for up to --lock-timeout; if still held, it is reported busy, naming the holder,
    /// and the parts that run uses are looked at without being touched. Busy is not a problem.
    ///
    /// Exits 0 when the bench is ready (busy or not), 1 naming every problem, 2 for a bad rig
    /// file.
    Doctor {
        /// Bench file
        #[arg(long, default_value = "rig/virtual.toml", value_name = "FILE")]
        rig: PathBuf,
        /// Seconds to wait for a lab bench another run holds (then it is reported busy, not a
        /// problem); virtual benches are never locked
        #[arg(long, default_value_t = 0, value_name = "SECONDS")]
        lock_timeout: u64,
    },
    /// Bring parts of the virtual bench up by hand
    #[command(subcommand)]
    Sim(SimCommand),
    /// Work with JUnit reports
    #[command(subcommand)]
    Junit(JunitCommand),
}

#[derive(Subcommand)]
enum JunitCommand {
    /// Merge the JUnit reports of a suite's partitions into one: testcases sorted by name
    /// (each keeping its bench, reruns and properties), counts summed, the partitions named
    ///
    /// Refuses overlapping partitions, partitions of mixed schemes or N, reports of different
    /// firmware or fixture revisions, and a set missing a partition (naming each missing M/N)
    /// unless --allow-missing. Exits 0 when merged, 2 when refused or on an unreadable input.
    Merge {
        /// Where the merged report goes
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
        /// Merge even when partitions are missing: the report is marked incomplete (property
        /// complete=false, missing=...) and the summary says so
        #[arg(long)]
        allow_missing: bool,
        /// The partitions' reports
        #[arg(value_name = "REPORT", required = true)]
        reports: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SimCommand {
    /// Serve seeds' virtual USIMs through a private pcscd until Ctrl-C
    ///
    /// Prints the PCSCLITE_CSOCK_NAME=... line to export first, then which reader holds which
    /// seed, so that pcsc_scan, scriptor or any PC/SC tool can talk to the cards.
    Cards {
        /// Seed ids [default: every seed]
        #[arg(value_name = "SEED")]
        seeds: Vec<String>,
    },
    /// Bring a scenario's virtual world up (cards, network, modem, firmware) until Ctrl-C
    ///
    /// Prints the firmware's AT port, the observer AT port, the console and the PC/SC socket,
    /// so a work-in-progress firmware can be pointed at the virtual bench.
    Up {
        /// Scenario name (see `seedrig list`)
        scenario: String,
        /// Bench file (must describe a virtual bench)
        #[arg(long, default_value = "rig/virtual.toml", value_name = "FILE")]
        rig: PathBuf,
        /// Print the paths as one JSON object
        #[arg(long)]
        json: bool,
        /// Do not start the reference firmware (point your own at the printed ports)
        #[arg(long)]
        no_firmware: bool,
    },
    /// Bring the virtual world up as a lab bench presents itself, until Ctrl-C
    ///
    /// Every seed's card in a reader of a private pcscd, the modem's SIM slots as card-emulation
    /// sockets, its observer port and the reference firmware's console as serial devices, the
    /// network shaped through hooks, the DUT configured and restarted through hooks. Writes a
    /// `kind = "lab"` rig file describing exactly that, for `seedrig run --rig FILE`.
    Lab {
        /// Write the rig file here [default: lab.toml in the lab's folder, printed]
        #[arg(long, value_name = "FILE")]
        rig_out: Option<PathBuf>,
        /// SIM slots of the emulated DUT
        #[arg(long, default_value_t = 6, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=16))]
        slots: u8,
        /// Time scale of the emulated world (a real lab runs at 1) [default: the --rig file's,
        /// else 0.05]
        #[arg(long, value_name = "SCALE")]
        time_scale: Option<f64>,
        /// A virtual rig file whose `[dut]` names the device under test to run (instead of the
        /// reference firmware), with its console patterns
        #[arg(long, value_name = "FILE")]
        rig: Option<PathBuf>,
        /// The DUT prints plain log lines; the rig file maps them to events with patterns
        #[arg(long)]
        text_console: bool,
        /// Declare a network fault kind the lab cannot make (its scenarios are skipped)
        #[arg(long, value_name = "KIND")]
        without_fault: Vec<String>,
        /// Run the DUT with a deliberate fault (self-test)
        #[arg(long, hide = true, value_name = "MODE")]
        firmware_fault: Option<String>,
        /// The site the emulated world starts at [default: the first site fixture]
        #[arg(long, value_name = "SITE")]
        site: Option<String>,
        /// Describe the network as measured (no network hooks): the rig scans the cells with
        /// the observer before each scenario and ranks on them
        #[arg(long)]
        measured: bool,
        /// Give the DUT a `power` hook whose power cycle takes this long (real seconds, 0-600),
        /// as a real DUT's power cycle and boot do [default: no power hook]
        #[arg(long, value_name = "SECONDS")]
        power_delay_s: Option<f64>,
        /// When the rig file's DUT hooks run: `every-scenario` (every hook before every
        /// scenario) or `when-needed` (power only when needed, configure only when the
        /// configuration changed, reset every scenario)
        #[arg(long, default_value = "every-scenario", value_name = "STRATEGY",
              value_parser = ["every-scenario", "when-needed"])]
        strategy: String,
    },
    /// Shape a running emulated lab's network (its rig file's network hooks call this)
    Net {
        /// The emulated lab's control socket (in its rig file)
        #[arg(long, value_name = "SOCKET")]
        control: PathBuf,
        #[command(subcommand)]
        action: NetAction,
    },
    /// Configure or restart a running emulated lab's DUT (its rig file's DUT hooks call this)
    Dut {
        /// The emulated lab's control socket (in its rig file)
        #[arg(long, value_name = "SOCKET")]
        control: PathBuf,
        #[command(subcommand)]
        action: DutAction,
    },
}

#[derive(Subcommand)]
enum NetAction {
    /// Cells of this site (a site fixture id)
    Site { site: String },
    /// A network fault on one seed's subscription: KIND is a network fault kind; ARG its
    /// cause (reject, dial_fail) or delay in ms (slow_attach)
    Fault { seed: String, kind: String, arg: Option<u64> },
    /// Clear every network fault
    Clear,
}

#[derive(Subcommand)]
enum DutAction {
    /// Take this firmware configuration (the rig writes it)
    Configure { config: PathBuf },
    /// Restart the firmware on its last configuration
    Restart,
    /// Power-cycle the DUT: off, the lab's power delay, then it boots on its last configuration
    PowerCycle,
    /// Run the firmware with a deliberate fault from its next restart on ("none" to stop)
    #[command(hide = true)]
    FaultMode { mode: String },
    /// Make the DUT's console device vanish, as a pulled USB serial adapter does
    Unplug,
    /// Bring the console device back under the same name
    Replug,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli.log_format);
    match cli.command {
        Command::Check { paths } => check::run(&cli.fixtures, paths),
        Command::List { long } => list::run(&cli.fixtures, long),
        Command::Explain { scenarios, all } => explain::run(&cli.fixtures, &scenarios, all),
        Command::Run {
            rig,
            filters,
            exact,
            junit,
            timelines,
            pcap,
            firmware_fault,
            jobs,
            results_json,
            as_job,
            partition,
            repeat,
            until_fail,
            allow_flaky,
            lock_timeout,
            retry_errors,
            firmware_id,
            firmware_image,
        } => {
            // --until-fail alone repeats up to 100 times.
            let repeat = if until_fail && repeat == 1 { 100 } else { repeat };
            let args = run::RunArgs {
                rig,
                filters,
                exact,
                junit,
                timelines,
                pcap,
                fault: firmware_fault,
                jobs: jobs.map(usize::from),
                results_json,
                as_job,
                partition,
                repeat,
                until_fail,
                allow_flaky,
                lock_timeout: std::time::Duration::from_secs(lock_timeout),
                retry_errors,
                firmware_id,
                firmware_image,
            };
            run::run(&cli.fixtures, args)
        }
        Command::Selftest { rig } => selftest::selftest(&cli.fixtures, &rig),
        Command::Doctor { rig, lock_timeout } => {
            doctor::run(&cli.fixtures, &rig, std::time::Duration::from_secs(lock_timeout))
        }
        Command::Junit(JunitCommand::Merge { out, reports, allow_missing }) => {
            junit::merge(&out, &reports, allow_missing)
        }
        Command::Sim(SimCommand::Cards { seeds }) => sim::cards(&cli.fixtures, &seeds),
        Command::Sim(SimCommand::Up { scenario, rig, json, no_firmware }) => {
            sim::up(&cli.fixtures, &rig, &scenario, json, !no_firmware)
        }
        Command::Sim(SimCommand::Lab {
            rig_out,
            slots,
            time_scale,
            rig,
            text_console,
            without_fault,
            firmware_fault,
            site,
            measured,
            power_delay_s,
            strategy,
        }) => {
            let args = sim_lab::LabArgs {
                rig,
                site,
                measured,
                power_delay_s,
                when_needed: strategy == "when-needed",
                rig_out,
                slots,
                time_scale,
                text_console,
                without_faults: without_fault,
                firmware_fault,
            };
            sim_lab::lab(&cli.fixtures, args)
        }
        Command::Sim(SimCommand::Net { control, action }) => sim_lab::send(
            &control,
            match action {
                NetAction::Site { site } => lab_control::Command::Site(site),
                NetAction::Fault { seed, kind, arg } => lab_control::Command::Fault { seed, kind, arg },
                NetAction::Clear => lab_control::Command::Clear,
            },
        ),
        Command::Sim(SimCommand::Dut { control, action }) => sim_lab::send(
            &control,
            match action {
                DutAction::Configure { config } => lab_control::Command::Configure(config),
                DutAction::Restart => lab_control::Command::Restart,
                DutAction::PowerCycle => lab_control::Command::PowerCycle,
                DutAction::FaultMode { mode } => {
                    lab_control::Command::FaultMode(if mode == "none" { None } else { Some(mode) })
                }
                DutAction::Unplug => lab_control::Command::Unplug,
                DutAction::Replug => lab_control::Command::Replug,
            },
        ),
    }
}

/// Logs on stderr, with a span per scenario; `json` for machines.
fn init_logs(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
}

/// Whether to colour diagnostics.
fn styled() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads the fixture tree; a tree that cannot be read at all (missing, a link to nothing, no
/// fixture folder) is refused.
fn load_tree(fixtures: &Path) -> Result<Loaded, ExitCode> {
    fixture::load(&[fixtures.to_owned()]).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Loads the fixture tree and insists it has no error: commands that work from the whole tree
/// (`doctor`, `selftest`, `sim`) refuse broken fixtures, and say why. Warnings are printed
/// and refuse nothing.
fn load_clean(fixtures: &std::path::Path) -> Result<Loaded, ExitCode> {
    let loaded = load_tree(fixtures)?;
    eprint!("{}", loaded.diagnostics.render(styled()));
    if !loaded.diagnostics.is_empty() {
        eprintln!(
            "error: the fixtures have {} mistake(s); `seedrig check` lists them",
            loaded.diagnostics.errors.len()
        );
        return Err(ExitCode::from(EXIT_CONFIG));
    }
    Ok(loaded)
}

/// Loads the fixture tree for a command that works on some of its scenarios (`list`,
/// `explain`, `run`): every mistake is printed as `check` prints it (unless `quiet`), and only
/// a scenario that uses a file with an error is refused (`Loaded::usable`); the command says
/// which.
fn load_scenarios(fixtures: &Path, quiet: bool) -> Result<Loaded, ExitCode> {
    let loaded = load_tree(fixtures)?;
    if !quiet {
        eprint!("{}", loaded.diagnostics.render(styled()));
    }
    Ok(loaded)
}

/// The paths of `files`, joined.
fn paths(loaded: &Loaded, files: &[usize]) -> String {
    files.iter().map(|f| loaded.path(*f).display().to_string()).collect::<Vec<_>>().join(", ")
}

/// `a` or `a, b`, named as scenarios.
fn scenarios_named(ids: &[&str]) -> String {
    let s = if ids.len() == 1 { "" } else { "s" };
    format!("scenario{s} {}", ids.join(", "))
}

/// The note for scenarios that are used while other files have errors: which files, and that
/// these scenarios do not use them. `None` when no file has an error.
fn unused_mistakes_note(loaded: &Loaded, ids: &[&str]) -> Option<String> {
    let bad = loaded.diagnostics.files_with_errors();
    if bad.is_empty() {
        return None;
    }
    let (has, them) = if bad.len() == 1 { ("has", "it") } else { ("have", "them") };
    let files = paths(loaded, &bad);
    Some(match ids {
        [] => format!("note: {files} {has} mistakes (above); no scenario uses {them}"),
        [_] => format!("note: {files} {has} mistakes (above); {} does not use {them}", scenarios_named(ids)),
        _ if ids.len() > 5 => {
            format!("note: {files} {has} mistakes (above); these {} scenarios do not use {them}", ids.len())
        }
        _ => format!("note: {files} {has} mistakes (above); {} do not use {them}", scenarios_named(ids)),
    })
}

/// `run`'s fixtures. The scenarios the filters select must all be usable, and a run of the
/// whole suite (no filter) needs fixtures without errors; otherwise mistakes in files the
/// selected scenarios do not use are printed and the run goes on. Only usable scenarios are
/// left in the catalog. A worker of a parallel run (`job`) prints and refuses nothing: its
/// parent has done both.
pub fn load_for_run(fixtures: &Path, filters: &[String], exact: bool, job: bool) -> Result<Loaded, ExitCode> {
    let mut loaded = load_scenarios(fixtures, job)?;
    if !job && !loaded.diagnostics.is_empty() {
        let refuse = |message: String| {
            eprintln!("error: {message}");
            Err(ExitCode::from(EXIT_CONFIG))
        };
        let errors = loaded.diagnostics.errors.len();
        let files = loaded.diagnostics.files_with_errors().len();
        let counted = format!(
            "{errors} error{} in {files} file{}",
            if errors == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" }
        );
        if filters.is_empty() {
            return refuse(format!(
                "the fixtures have {counted} (above): the whole suite runs only from fixtures without \
                 errors; fix them (`seedrig check` lists them), or run scenarios that use none of those \
                 files by name (`seedrig list` shows them)"
            ));
        }
        // As `run::select` picks them, among every scenario file, usable or not.
        let picked = |id: &str| filters.iter().any(|f| if exact { id == f } else { id.contains(f.as_str()) });
        let selected: Vec<&str> = loaded.scenario_ids().filter(|id| picked(id)).collect();
        let broken: Vec<(&str, Vec<usize>)> =
            loaded.left_out().into_iter().filter(|(id, _)| picked(id)).collect();
        if let [(id, files)] = broken.as_slice() {
            return refuse(format!(
                "scenario {id} uses files with mistakes (above): {}; fix them, or leave it out of the run",
                paths(&loaded, files)
            ));
        }
        if !broken.is_empty() {
            let each: Vec<String> =
                broken.iter().map(|(id, files)| format!("{id}: {}", paths(&loaded, files))).collect();
            return refuse(format!(
                "{} use files with mistakes (above): {}; fix them, or leave them out of the run",
                scenarios_named(&broken.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
                each.join("; "),
            ));
        }
        if let Some(note) = unused_mistakes_note(&loaded, &selected) {
            eprintln!("{note}");
        }
    }
    loaded.keep_usable();
    Ok(loaded)
}

/// The bench a rig file describes, checked together with the fixtures (a lab's card inventory
/// names seed fixtures). Only the rig file's own mistakes refuse it: the fixtures' are for the
/// command that loaded them to print and judge.
pub fn load_rig_any(fixtures: &Path, path: &Path) -> Result<Rig, ExitCode> {
    let loaded = seedrig::fixture::load_bench(fixtures, path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    let rig_files: Vec<usize> =
        loaded.files.iter().filter(|(kind, _)| *kind == fixture::Kind::Rig).map(|(_, f)| *f).collect();
    eprint!("{}", loaded.diagnostics.render_files(styled(), |f| rig_files.contains(&f)));
    if loaded.diagnostics.errors.iter().any(|d| rig_files.contains(&d.file)) {
        return Err(ExitCode::from(EXIT_CONFIG));
    }
    let wanted = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let same = |r: &Rig| r.path.canonicalize().unwrap_or_else(|_| r.path.clone()) == wanted;
    loaded.catalog.rigs.into_values().find(same).ok_or_else(|| {
        eprintln!("error: {} holds no bench", path.display());
        ExitCode::from(EXIT_CONFIG)
    })
}

/// The firmware binary built beside this one.
pub fn firmware_binary() -> PathBuf {
    std::env::current_exe()
        .map(|exe| exe.with_file_name("seedrig-firmware"))
        .unwrap_or_else(|_| PathBuf::from("seedrig-firmware"))
}
