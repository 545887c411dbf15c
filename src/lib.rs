//! seedrig: a hardware-in-the-loop test rig for seed-SIM failover firmware.
//!
//! - [`model`]: the validated domain (carriers, seeds, sites, scenarios, benches).
//! - [`fixture`]: reading and checking fixture and rig files, with diagnostics.
//! - [`method`]: the patented seed-selection method, as the test oracle.
//! - [`hw`]: drivers for the bench's hardware (PC/SC readers, SIMtrace2 card emulation).
//! - [`sim`]: the virtual bench's simulated parts (virtual USIMs, private pcscd).
//! - [`bench`]: benches brought up from rig files (the virtual bench for a scenario).
//! - [`bridge`]: the APDU bridge between the modem's SIM slots and the seed cards, with faults.
//! - [`clock`]: the rig's one monotonic clock and the bench's time scale.
//! - [`encoding`]: hex, BCD and TLV, shared by every layer.
//! - [`console`]: the DUT console protocol (JSON events), shared by the runner and the firmware.
//! - [`backend`]: the backend stub that receives the DUT's report through the winning seed.
//! - [`run`]: the scenario runner: evidence, checks, verdicts.
//! - [`report`]: JUnit XML and timelines.
//! - [`firmware`]: the reference failover firmware (the DUT of the virtual bench).

pub mod apdu;
pub mod backend;
pub mod bench;
pub mod bridge;
pub mod children;
pub mod clock;
pub mod console;
pub mod encoding;
pub mod fixture;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod hw;
pub mod method;
pub mod model;
pub mod reference_firmware;
pub mod report;
pub mod run;
pub mod sim;
