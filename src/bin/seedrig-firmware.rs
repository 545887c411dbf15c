//! `seedrig-firmware`: the reference seed-SIM failover firmware, the DUT of the virtual bench.
//! It talks AT to a modem port and JSON lines on a console, as docs/virtual-bench.md describes
//! (or plain log lines, with `--console-format text`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use seedrig::reference_firmware::{self, Config, FaultMode, OutputFormat};

#[derive(Parser)]
#[command(
    name = "seedrig-firmware",
    version,
    about = "Reference seed-SIM failover firmware (the virtual bench's DUT)"
)]
struct Args {
    /// The firmware's TOML configuration (written by the rig).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Misbehave on purpose, to show that the rig's checks catch it (self-test only).
    #[arg(long, value_name = "MODE", value_enum)]
    fault: Option<FaultMode>,
    /// How events go out on the console: JSON lines (the rig's protocol) or plain log lines
    /// like a real daemon's, for exercising a lab bench's console patterns.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Json)]
    console_format: OutputFormat,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("seedrig-firmware: bad config: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("seedrig-firmware: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(reference_firmware::run(config, args.fault, args.console_format)) {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("seedrig-firmware: {e}");
            ExitCode::FAILURE
        }
    }
}
