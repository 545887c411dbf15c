//! [`Decoder`]: frames from a byte stream, resynchronising after garbage.

use super::message::{kind, query_for};
use super::{CodecError, Frame, HEADER_LEN, Header};

/// Reassembles frames from a byte stream: push whatever arrived (a USB transfer, a socket
/// read), then pop frames until `None`.
///
/// A header whose `msg_len` is outside `8..=MAX_FRAME_LEN` cannot be a message boundary. The
/// decoder reports it once, then skips bytes until a plausible header (a message type this
/// codec knows, with a length upstream would send, inner length fields that agree and the
/// reserved field 0) and carries on
/// from there; no further errors are reported while it skips. Unknown message types are
/// therefore only decoded while the stream is in sync. A frame whose header is sane but whose
/// payload is not is consumed and reported; that does not disturb the framing.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    resyncing: bool,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame (or the reason the next bytes are not one); `None` until more
    /// bytes are needed.
    pub fn pop(&mut self) -> Option<Result<Frame, CodecError>> {
        if self.resyncing && !self.skip_to_plausible_header() {
            return None;
        }
        let msg_len = match Header::decode(&self.buf) {
            Ok((_, msg_len)) => msg_len,
            Err(CodecError::ShortHeader { .. }) => return None,
            Err(err) => {
                self.resyncing = true;
                self.buf.drain(..1);
                return Some(Err(err));
            }
        };
        if self.buf.len() < msg_len {
            return None;
        }
        self.resyncing = false;
        let result = Frame::decode(&self.buf[..msg_len]);
        self.buf.drain(..msg_len);
        Some(result)
    }

    /// Drops bytes up to the next plausible header; `false` while none is confirmed yet.
    fn skip_to_plausible_header(&mut self) -> bool {
        let mut skip = self.buf.len().saturating_sub(HEADER_LEN - 1);
        let mut found = false;
        for start in 0..self.buf.len().saturating_sub(HEADER_LEN - 1) {
            match judge_candidate(&self.buf[start..]) {
                Candidate::No => continue,
                Candidate::Yes => found = true,
                Candidate::NeedMore => {}
            }
            skip = start;
            break;
        }
        self.buf.drain(..skip);
        found
    }
}

enum Candidate {
    No,
    Yes,
    /// Plausible so far; its inner length field has not arrived yet.
    NeedMore,
}

/// Whether `b` starts with a header worth resynchronising on: reserved 0 as the firmware
/// writes it, a message this codec knows, a length upstream would send, and an inner length
/// field that agrees.
fn judge_candidate(b: &[u8]) -> Candidate {
    let reserved = u16::from_le_bytes([b[4], b[5]]);
    let msg_len = usize::from(u16::from_le_bytes([b[6], b[7]]));
    let Some(kind) = kind(b[0], b[1]) else { return Candidate::No };
    let payload = msg_len.wrapping_sub(HEADER_LEN);
    let query = payload == 0 && query_for(b[0], b[1]).is_some();
    let sized = (kind.payload.0..=kind.payload.1).contains(&payload) || query;
    if reserved != 0 || msg_len < HEADER_LEN || !sized {
        return Candidate::No;
    }
    let Some((offset, width)) = kind.len_field else { return Candidate::Yes };
    let Some(field) = b.get(HEADER_LEN + offset..HEADER_LEN + offset + width) else {
        return Candidate::NeedMore;
    };
    let declared = field.iter().rev().fold(0usize, |acc, &byte| acc << 8 | usize::from(byte));
    if offset + width + declared == payload { Candidate::Yes } else { Candidate::No }
}
