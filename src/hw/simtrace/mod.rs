//! SIMtrace2 card emulation: the protocol between the rig and a SIM multiplexer slot.
//!
//! - [`boards`]: the SIMtrace2-class boards by USB product id (names, channel counts).
//! - [`codec`]: byte-exact messages ([`Frame`], [`Message`]) and the stream [`Decoder`].
//! - [`CardemTransport`]: what the APDU bridge uses, one per SIM slot.
//! - [`UsbTransport`]: a SIMtrace2-class board over USB (lab bench).
//! - [`SocketTransport`] / [`SocketListener`]: the same framing over a Unix socket (the
//!   virtual bench's simulated modem, and tests).

pub mod boards;
pub mod codec;
mod socket;
mod transport;
mod usb;

pub use codec::{CodecError, Decoder, Frame, Header, Message};
pub use socket::{SocketListener, SocketTransport};
pub use transport::{CardemTransport, TransportError};
pub use usb::{BoardInfo, UsbTransport, list_boards};
