//! `seedrig sim lab`, `sim net`, `sim dut`: the emulated lab and the hooks that drive it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use seedrig::sim::emulated_lab::control::{self, Command};
use seedrig::sim::emulated_lab::{EmulatedLab, LabOptions};

use super::{EXIT_CONFIG, load_clean};

/// Exit code when the lab cannot come up.
const EXIT_BENCH: u8 = 1;

pub struct LabArgs {
    pub rig_out: Option<PathBuf>,
    pub slots: u8,
    pub time_scale: Option<f64>,
    /// A virtual rig file whose `[dut]` is the device to run.
    pub rig: Option<PathBuf>,
    pub text_console: bool,
    pub without_faults: Vec<String>,
    pub firmware_fault: Option<String>,
    pub site: Option<String>,
    pub measured: bool,
    /// A `power` hook that takes this long (seconds).
    pub power_delay_s: Option<f64>,
    /// `--strategy when-needed`: power when needed, configure when changed.
    pub when_needed: bool,
}

pub fn lab(fixtures: &Path, args: LabArgs) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rig = match &args.rig {
        Some(path) => match super::load_rig_any(fixtures, path) {
            Ok(rig) => Some(rig),
            Err(code) => return code,
        },
        None => None,
    };
    let program = match rig.as_ref().map(|r| &r.kind) {
        None => None,
        Some(seedrig::model::RigKind::Virtual { dut }) => dut.clone(),
        Some(seedrig::model::RigKind::Lab(_)) => {
            eprintln!(
                "error: {} describes a lab bench; `sim lab --rig` takes the device under test from a virtual rig file's [dut]",
                args.rig.as_deref().unwrap_or(Path::new("")).display()
            );
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let time_scale = args.time_scale.or(rig.as_ref().map(|r| r.time_scale)).unwrap_or(0.05);
    if !(time_scale > 0.0 && time_scale <= 1.0) {
        eprintln!("error: --time-scale {time_scale} is out of range; it is above 0 and at most 1");
        return ExitCode::from(EXIT_CONFIG);
    }
    let power_delay = match args.power_delay_s {
        Some(s) if (0.0..=600.0).contains(&s) => Some(std::time::Duration::from_secs_f64(s)),
        Some(s) => {
            eprintln!("error: --power-delay-s {s} is out of range; it is 0 to 600 seconds");
            return ExitCode::from(EXIT_CONFIG);
        }
        None => None,
    };
    let when = if args.when_needed { seedrig::model::DutWhen::WHEN_NEEDED } else { Default::default() };
    let seedrig = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("seedrig"));
    let options = LabOptions {
        slots: args.slots,
        time_scale,
        text_console: args.text_console,
        without_faults: args.without_faults,
        firmware: super::firmware_binary(),
        program,
        seedrig,
        firmware_fault: args.firmware_fault,
        site: args.site,
        measured: args.measured,
        power_delay,
        when,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_BENCH);
        }
    };
    runtime.block_on(async {
        let lab = match EmulatedLab::up(Arc::new(loaded.catalog), options).await {
            Ok(lab) => lab,
            Err(e) => {
                eprintln!("error: the emulated lab did not come up: {e}");
                return ExitCode::from(EXIT_BENCH);
            }
        };
        let written = match &args.rig_out {
            Some(path) => write_atomically(path, lab.rig_file()).map(|()| path.clone()),
            None => {
                let path = lab.folder().join("lab.toml");
                std::fs::write(&path, lab.rig_file()).map(|()| path)
            }
        };
        match written {
            Ok(path) => {
                // Whoever started the lab may stop reading once it has the path: a closed
                // stdout must not take the lab down.
                use std::io::Write;
                let text = format!(
                    "rig file   {}\nrun it     seedrig run --rig {}\nCtrl-C stops the lab\n",
                    path.display(),
                    path.display()
                );
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            }
            Err(e) => {
                eprintln!("error: cannot write the rig file: {e}");
                lab.down().await;
                return ExitCode::from(EXIT_BENCH);
            }
        }
        super::sim::wait_for_signal().await;
        let cycles = lab.power_cycles().await;
        lab.down().await;
        if let Some(path) = &args.rig_out {
            let _ = std::fs::remove_file(path);
        }
        let power =
            if power_delay.is_some() { format!(" after {cycles} power cycle(s)") } else { String::new() };
        eprintln!("stopped{power}; the emulated lab is down");
        ExitCode::SUCCESS
    })
}

/// Written whole or not at all, so a reader polling for the file never sees half of it.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("toml.part");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Sends one control command (a hook of the emulated lab's rig file).
pub fn send(socket: &Path, cmd: Command) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_BENCH);
        }
    };
    match runtime.block_on(control::send(socket, &cmd)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}: {e}", cmd.line());
            ExitCode::from(EXIT_BENCH)
        }
    }
}
