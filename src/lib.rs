//! seedrig: a hardware-in-the-loop test rig for seed-SIM failover firmware.
//!
//! - [`model`]: the validated domain (carriers, seeds, sites, scenarios, benches).
//! - [`fixture`]: reading and checking fixture and rig files, with diagnostics.
//! - [`method`]: the patented seed-selection method, as the test oracle.

pub mod fixture;
pub mod method;
pub mod model;
