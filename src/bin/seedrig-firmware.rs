//! `seedrig-firmware`: the reference seed-SIM failover firmware, the DUT of the virtual bench.
//! It talks AT to a modem port and JSON lines on a console, as docs/virtual-bench.md describes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use seedrig::firmware::{self, Config, FaultMode};

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
    match runtime.block_on(firmware::run(config, args.fault)) {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("seedrig-firmware: {e}");
            ExitCode::FAILURE
        }
    }
}
