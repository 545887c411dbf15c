//! The interface the APDU bridge talks to: one card-emulation channel (one SIM slot).

use std::future::Future;

use super::codec::{CodecError, Frame};

/// A card-emulation channel carrying SIMtrace2 frames: a real board over USB
/// ([`super::UsbTransport`]) or the simulated modem over a Unix socket
/// ([`super::SocketTransport`]).
pub trait CardemTransport: Send {
    /// Sends one frame. Not cancel-safe: dropping the future may leave part of a frame sent.
    fn send(&mut self, frame: &Frame) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// The next frame from the device (bulk IN and interrupt IN merged, in arrival order).
    /// Cancel-safe: dropping the future loses no received bytes.
    ///
    /// [`TransportError::Codec`] reports one malformed message and the channel stays usable;
    /// every other error means the channel is gone (see [`TransportError::is_fatal`]).
    fn recv(&mut self) -> impl Future<Output = Result<Frame, TransportError>> + Send;
}

/// Why a card-emulation channel failed. `device` names the board (vendor:product, bus,
/// address, interface) or the socket path; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(
        "{device}: closed by the other side (board unplugged or reset, or the simulator stopped); reopen it"
    )]
    Closed { device: String },
    #[error("{device}: I/O error: {source}")]
    Io {
        device: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{device}: bad SIMtrace2 message: {source}")]
    Codec {
        device: String,
        #[source]
        source: CodecError,
    },
    #[error("{device}: USB: {reason}")]
    Usb { device: String, reason: String },
    #[error("{device}: not found; {hint}")]
    NotFound { device: String, hint: String },
    #[error("{device}: permission denied; {hint}")]
    Permission { device: String, hint: String },
    #[error("{device}: {boards} match; set the board's serial number in the rig file to pick one")]
    Ambiguous { device: String, boards: String },
}

impl TransportError {
    /// Whether the channel is unusable after this error (everything but a malformed message).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, TransportError::Codec { .. })
    }
}
