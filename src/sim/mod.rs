//! The simulated parts of the virtual bench. Only the radio side is simulated: the software
//! stacks between them (pcscd, SIMtrace2 framing, the bridge) are the lab's.
//!
//! - [`usim`]: virtual USIM cards built from seed fixtures (file system, APDUs, Milenage).
//! - [`vpcd`]: serves a card to pcscd's vpcd driver (reversed mode, loopback only).
//! - [`pcscd`]: a private pcscd instance with its own readers and client socket.
//! - [`network`]: the simulated radio network (cells, subscribers, Milenage, faults).
//! - [`modem`]: the simulated AT modem on pseudo-terminals, SIM slots over card emulation.
//! - [`pty`]: pseudo-terminals.
//! - [`lab`]: the emulated lab: the virtual world presented as a lab bench, for the lab driver.

pub mod cardem_device;
pub mod emulated_lab;
pub mod modem;
pub mod network;
pub mod pcscd;
pub mod pty;
pub mod usim;
pub mod vpcd;
