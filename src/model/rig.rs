//! What a bench is wired to (labgrid's "resources"): the rig file, validated.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Rig {
    pub id: String,
    pub path: PathBuf,
    pub name: String,
    /// SIM slots the modem offers (master + standbys must fit).
    pub slots: u8,
    /// Multiplies every nominal duration; 1 on a lab bench.
    pub time_scale: f64,
    pub kind: RigKind,
    pub capabilities: Capabilities,
}

#[derive(Debug, Clone)]
pub enum RigKind {
    /// Everything simulated but the software stacks.
    Virtual,
    Lab(LabWiring),
}

/// The physical wiring of a lab bench.
#[derive(Debug, Clone)]
pub struct LabWiring {
    pub firmware_port: PathBuf,
    pub observer_port: PathBuf,
    pub baud: u32,
    pub simtrace: SimtraceBoard,
    /// PC/SC reader name per SIM slot, index = slot.
    pub readers: Vec<(u8, String)>,
    pub console_port: PathBuf,
    pub console_baud: u32,
    pub reset_command: Option<Vec<String>>,
    pub start_command: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimtraceBoard {
    pub vendor_id: u16,
    pub product_id: u16,
    pub serial: Option<String>,
}

/// What the bench can do; a scenario needing more is skipped with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Network faults can be injected (simulated network, or a controllable test network).
    pub network_control: bool,
    /// The SIM multiplexer drives the card-presence line (a pull is a real pull).
    pub card_presence: bool,
    /// RF attenuators can change signal levels.
    pub rf_attenuators: bool,
}
