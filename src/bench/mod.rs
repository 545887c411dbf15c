//! Benches: what a rig file describes, brought up as working drivers.
//!
//! - [`virtual_bench`]: the virtual bench for one scenario — virtual cards behind a private
//!   pcscd, one APDU bridge per SIM slot, the simulated network and modem, the backend stub,
//!   and the reference firmware as the device under test.
//! - [`firmware_config`]: the firmware's provisioning for a scenario.

pub mod firmware_config;
pub mod virtual_bench;

pub use virtual_bench::{BenchError, BenchPaths, VirtualBench, VirtualBenchOptions};
