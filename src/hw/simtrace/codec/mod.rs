//! Byte-exact encoding and decoding of SIMtrace2 USB protocol messages.
//!
//! Every message is an 8-byte little-endian header (class, type, sequence number, slot,
//! reserved u16, `msg_len` u16 = whole message including the header) followed by a packed
//! payload whose layout depends on class and type. The layouts follow osmocom's
//! `simtrace_prot.h`; [`Message`] has one variant per GENERIC, CARDEM and MODEM message.
//!
//! Decoding never panics. Messages this module does not know (the SNIFF class, vendor
//! classes, future types) decode to [`Message::Unknown`] so a newer firmware cannot break the
//! rig. Fixed-size payloads may be longer than the struct (firmware has grown structs before:
//! `BD_CEMU_CONFIG`); the extra bytes are ignored. Length fields inside a payload must agree
//! with the header, since a disagreement means corruption.
//!
//! [`Decoder`] turns a byte stream (64-byte USB packets, a Unix socket) into frames.
//!
//! Here: the header, [`Frame`] and the constants; `message.rs`: [`Message`] and the table of
//! known types; `generic.rs`, `cardem.rs`, `modem.rs`: each class's payloads; `wire.rs`: the
//! bounds-checked reader and writer; `decoder.rs`: the stream [`Decoder`].

mod cardem;
mod decoder;
mod generic;
mod message;
mod modem;
#[cfg(test)]
mod tests;
mod wire;

pub use cardem::{CemuConfig, CemuStatus, PtsInfo, data_flags, features, pres_pol, status_flags};
pub use decoder::Decoder;
pub use generic::{BoardDescription, ErrorReport};
pub use message::{Message, Query};
pub use modem::{ModemStatus, modem_reset, modem_status_bits};

use thiserror::Error;
use wire::Writer;

/// Size of the message header.
pub const HEADER_LEN: usize = 8;
/// Largest message the rig accepts: the osmocom host tool reads into 4 KiB buffers, and a
/// larger `msg_len` means the stream has lost sync.
pub const MAX_FRAME_LEN: usize = 4096;

/// Message classes (`enum simtrace_msg_class`).
pub mod class {
    pub const GENERIC: u8 = 0;
    pub const CARDEM: u8 = 1;
    pub const MODEM: u8 = 2;
    /// Sniffer messages; not used by card emulation, decoded as [`super::Message::Unknown`].
    pub const SNIFF: u8 = 3;
}

/// Message types, per class. Prefixes follow upstream: DT = host to device, DO = device to
/// host, BD = both directions (an empty BD payload is a request).
pub mod msg_type {
    // GENERIC
    pub const DO_ERROR: u8 = 0;
    pub const BD_BOARD_INFO: u8 = 1;
    // CARDEM
    pub const DT_CEMU_TX_DATA: u8 = 1;
    pub const DT_CEMU_SET_ATR: u8 = 2;
    pub const BD_CEMU_STATS: u8 = 3;
    pub const BD_CEMU_STATUS: u8 = 4;
    pub const DT_CEMU_CARDINSERT: u8 = 5;
    pub const DO_CEMU_RX_DATA: u8 = 6;
    pub const DO_CEMU_PTS: u8 = 7;
    pub const BD_CEMU_CONFIG: u8 = 8;
    // MODEM
    pub const DT_MODEM_RESET: u8 = 1;
    pub const DT_MODEM_SIM_SELECT: u8 = 2;
    pub const BD_MODEM_STATUS: u8 = 3;
}

/// Why bytes are not a valid SIMtrace2 message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("{have} bytes are shorter than the 8-byte SIMtrace2 header")]
    ShortHeader { have: usize },
    #[error("header msg_len {msg_len} is outside 8..=4096: not a SIMtrace2 message (stream out of sync?)")]
    BadLength { msg_len: usize },
    #[error("header msg_len {msg_len} does not match the {actual} bytes given")]
    LengthMismatch { msg_len: usize, actual: usize },
    #[error("{what}: payload truncated: needs {need} bytes, has {have}")]
    Truncated { what: &'static str, need: usize, have: usize },
    #[error("{what}: length field says {declared} bytes but {available} follow")]
    Inconsistent { what: &'static str, declared: usize, available: usize },
    #[error("{what}: {len} bytes do not fit (at most {max})")]
    TooLong { what: &'static str, len: usize, max: usize },
}

/// The routing part of the message header; `reserved` is always written as 0 and `msg_len`
/// is derived from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub class: u8,
    pub msg_type: u8,
    pub seq_nr: u8,
    pub slot_nr: u8,
}

impl Header {
    /// Reads the header at the start of `bytes`, returning it with the whole message length
    /// (`msg_len`, checked to lie in `8..=MAX_FRAME_LEN`).
    pub fn decode(bytes: &[u8]) -> Result<(Header, usize), CodecError> {
        if bytes.len() < HEADER_LEN {
            return Err(CodecError::ShortHeader { have: bytes.len() });
        }
        let msg_len = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
        if !(HEADER_LEN..=MAX_FRAME_LEN).contains(&msg_len) {
            return Err(CodecError::BadLength { msg_len });
        }
        let header = Header { class: bytes[0], msg_type: bytes[1], seq_nr: bytes[2], slot_nr: bytes[3] };
        Ok((header, msg_len))
    }
}

/// A message with its header's sequence and slot numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub seq_nr: u8,
    pub slot_nr: u8,
    pub msg: Message,
}

impl Frame {
    /// A frame for `slot_nr` with sequence number 0 (the firmware does not check it).
    pub fn new(slot_nr: u8, msg: Message) -> Frame {
        Frame { seq_nr: 0, slot_nr, msg }
    }

    /// The header this frame is sent with.
    pub fn header(&self) -> Header {
        let (class, msg_type) = self.msg.class_and_type();
        Header { class, msg_type, seq_nr: self.seq_nr, slot_nr: self.slot_nr }
    }

    /// The wire bytes. Never panics: a variable part too long for its length field or for
    /// [`MAX_FRAME_LEN`] is cut to fit, so the result always decodes. Transports use
    /// [`Frame::try_encode`], which refuses such frames instead.
    pub fn encode(&self) -> Vec<u8> {
        self.build().0
    }

    /// The wire bytes, or [`CodecError::TooLong`] if a part does not fit its length field.
    pub fn try_encode(&self) -> Result<Vec<u8>, CodecError> {
        match self.build() {
            (bytes, None) => Ok(bytes),
            (_, Some(err)) => Err(err),
        }
    }

    /// Decodes exactly one message; `bytes.len()` must equal the header's `msg_len`.
    pub fn decode(bytes: &[u8]) -> Result<Frame, CodecError> {
        let (header, msg_len) = Header::decode(bytes)?;
        if msg_len != bytes.len() {
            return Err(CodecError::LengthMismatch { msg_len, actual: bytes.len() });
        }
        let msg = Message::decode(header.class, header.msg_type, &bytes[HEADER_LEN..])?;
        Ok(Frame { seq_nr: header.seq_nr, slot_nr: header.slot_nr, msg })
    }

    fn build(&self) -> (Vec<u8>, Option<CodecError>) {
        let h = self.header();
        let mut w = Writer::default();
        w.bytes(&[h.class, h.msg_type, h.seq_nr, h.slot_nr, 0, 0, 0, 0]);
        self.msg.write_payload(&mut w);
        // Always <= MAX_FRAME_LEN: every variable part was cut to the room left.
        let len = w.out.len() as u16;
        w.out[6..8].copy_from_slice(&len.to_le_bytes());
        (w.out, w.overflow)
    }
}
