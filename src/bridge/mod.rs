//! The APDU bridge: for each SIM slot, relays the modem's card exchanges (SIMtrace2 card
//! emulation, over USB or a socket) to a seed card behind PC/SC, and is where the rig pulls,
//! mutes and corrupts seeds. Every exchange goes into the [`Trace`], on the rig's clock.

pub mod fault;
pub mod link;
pub mod slot;
pub mod t0;
pub mod trace;

pub use fault::CardFault;
pub use link::{CardLink, InPlaceCard, LocalCard};
pub use slot::{BridgeError, FaultControl, RunningBridge, SlotBridge};
pub use trace::{ApduRecord, CardEvent, CardEventKind, Subject, Trace};
