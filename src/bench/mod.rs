//! Benches: what a rig file describes, brought up as working drivers, behind one seam.
//!
//! The runner drives any bench through [`Bench`]: the rig clock and time scale, the DUT's
//! console, what broke, and the evidence collected. How a bench comes up for a scenario is its
//! own business ([`Station`] picks the kind):
//!
//! - [`virtual_bench`]: the virtual world for one scenario — virtual cards behind a private
//!   pcscd, one APDU bridge per SIM slot, the simulated network and modem, the backend stub,
//!   and the reference firmware as the device under test.
//! - [`lab_driver`]: real hardware — the DUT's console and the observer on serial ports,
//!   SIMtrace2-class boards (or sockets with the same framing) for the SIM slots, the system's
//!   pcscd for the readers of the card inventory, hooks for the DUT and the test network.
//! - [`evidence`]: what a bench saw, in terms every bench can give.
//! - [`error`]: what broke, or did not come up — the part and its cause ([`BenchError`]), the
//!   one error type across the seam; its messages are what users read.
//! - [`plan`]: which scenarios a bench can run at all (the others are skipped, with the reason).
//! - [`observer`]: the observer AT port, watched for URCs; [`serial`]: serial ports by path.
//! - [`firmware_config`]: the firmware's provisioning for a scenario.
//! - [`doctor`]: `seedrig doctor`'s probes: every part a rig file names, found or not, one row
//!   each.
//! - [`lock`]: one run per lab bench at a time (an OS file lock, released by the kernel).

pub mod doctor;
pub mod error;
pub mod evidence;
pub mod firmware_config;
pub mod lab_driver;
pub mod lock;
pub mod observer;
pub mod plan;
pub mod serial;
pub mod virtual_bench;
pub mod warm_cards;

use std::time::Duration;

pub use error::BenchError;
pub use virtual_bench::{BenchPaths, VirtualBench, VirtualBenchOptions};

use crate::bench::evidence::Evidence;
use crate::clock::{RigClock, TimeScale};
use crate::model::ConsoleFormat;

/// One bench, up for one scenario. Evidence is stamped on [`Bench::clock`].
#[allow(async_fn_in_trait)]
pub trait Bench {
    fn clock(&self) -> RigClock;
    fn scale(&self) -> TimeScale;
    /// How long the DUT may take to print `boot` after bring-up.
    fn boot_timeout(&self) -> Duration;
    /// How the DUT's console lines become events.
    fn console_format(&self) -> &ConsoleFormat;
    /// Sends one line to the DUT's console.
    async fn console_send(&mut self, line: &str) -> Result<(), BenchError>;
    /// Reads what the console printed, waiting at most `within`: `Ok(empty)` when nothing came.
    async fn console_read(&mut self, within: Duration) -> Result<Vec<u8>, BenchError>;
    /// A part that broke since bring-up, and how; `None` while all is well.
    fn broken(&mut self) -> Option<BenchError>;
    /// Everything collected so far, with `started_at` left for the runner to fill in.
    fn evidence(&self) -> Evidence;
    /// On a bench that measures its network instead of shaping it (a lab with
    /// `site = "measured"`): the site as measured before this scenario, and how close two
    /// standbys' indices may be to count as tied.
    fn measured_site(&self) -> Option<(&crate::model::Site, f64)> {
        None
    }
    /// Breaks a part on purpose, for the rig's own tests of error handling; `false` if this
    /// bench cannot.
    fn sabotage(&mut self, _what: Sabotage) -> bool {
        false
    }
    /// Whether data reached the backend through any seed since `since` (a connection, as the
    /// bench sees it).
    fn data_delivered(&self, since: Duration) -> bool {
        self.evidence().reports.iter().any(|r| r.at >= since)
    }
    /// The DUT's command and the end of its output, where the bench started it as a process
    /// (for an error that the DUT never booted).
    fn dut_output(&self) -> Option<String> {
        None
    }
    /// Restores the bench (cards in, faults cleared) and releases what the scenario used,
    /// whatever happened.
    async fn down(self);
}

/// A way to break a bench mid-run, for tests of the rig's error handling.
#[derive(Debug, Clone, Copy)]
pub enum Sabotage {
    /// Kill the bench's pcscd.
    KillPcscd,
    /// Stop the bench's pcscd (SIGSTOP): it hangs, every PC/SC call waits.
    FreezePcscd,
}

/// What a rig file turns into for a run: per scenario, a bench comes up from it.
pub enum Station {
    Virtual(virtual_bench::VirtualStation),
    Lab(lab_driver::LabStation),
}

impl Station {
    /// A virtual bench's DUT is the program its rig file names, else the reference firmware
    /// (`firmware`, with `fault`).
    pub fn new(rig: &crate::model::Rig, firmware: std::path::PathBuf, fault: Option<String>) -> Station {
        use virtual_bench::FirmwareLaunch;
        match &rig.kind {
            crate::model::RigKind::Virtual { dut } => {
                let launch = match dut {
                    Some(program) => FirmwareLaunch::Program(program.clone()),
                    None => FirmwareLaunch::Reference { binary: firmware, fault },
                };
                Station::Virtual(virtual_bench::VirtualStation::new(launch))
            }
            crate::model::RigKind::Lab(lab) => Station::Lab(lab_driver::LabStation::new(rig, lab)),
        }
    }
}
