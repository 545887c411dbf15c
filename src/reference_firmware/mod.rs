//! The reference failover firmware: the DUT of the virtual bench (docs/virtual-bench.md,
//! "The firmware"), and a working example of the method of docs/method.md for firmware teams.
//!
//! It talks to a modem over AT exactly as it would on a hotspot: measure the site with
//! `AT+QOPS`, rank the standby seeds by the comprehensive evaluation index, try the master and
//! then the standbys in rank order (slot switch, registration, context, report to the backend),
//! judge each attempt by result, timeout or both, and stay on the winner.
//!
//! - [`config`]: the TOML file the rig writes, validated.
//! - [`at`]: the AT client (commands, URC routing, the `QISEND` prompt); [`urc`]: line parsing.
//! - [`console`]: events as JSON lines or plain log lines (with their patterns), console commands.
//! - [`measure`], [`rank`]: measured cells and the ranking built from them.
//! - [`attempt`]: one attempt; [`judge`]: its verdict; [`report`]: the backend exchange's JSON.
//! - [`run`]: boot, passes, console handling; [`faults`]: the `--fault` self-test modes.

pub mod at_client;
pub mod attempt;
pub mod config;
pub mod console;
pub mod faults;
pub mod judge;
pub mod measure;
pub mod nominal_clock;
pub mod rank;
pub mod report;
pub mod run;
pub mod urc;

pub use config::{Config, ConfigError};
pub use console::{Command, Event, OutputFormat, text_patterns};
pub use faults::FaultMode;
pub use run::{FirmwareError, run};

#[cfg(test)]
mod tests;
