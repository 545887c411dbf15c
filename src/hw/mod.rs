//! Drivers for the bench's hardware, each behind a small interface that the virtual bench
//! implements too.
//!
//! - [`pcsc`]: PC/SC card readers (through pcscd), on lab and virtual benches alike.
//! - [`simtrace`]: the SIMtrace2 card-emulation protocol, over USB or a local socket.

pub mod pcsc;
pub mod simtrace;
