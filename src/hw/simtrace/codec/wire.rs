//! Bounds-checked little-endian reading and writing of one payload.

use super::generic::BOARD_STR_LEN;
use super::{CodecError, MAX_FRAME_LEN};

/// Bounds-checked little-endian reader over one payload; errors name the message type.
pub(super) struct Reader<'a> {
    pub(super) what: &'static str,
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let need = self.pos + n;
        if need > self.buf.len() {
            return Err(CodecError::Truncated { what: self.what, need, have: self.buf.len() });
        }
        let bytes = &self.buf[self.pos..need];
        self.pos = need;
        Ok(bytes)
    }

    pub(super) fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn opt_u8(&mut self) -> Option<u8> {
        self.u8().ok()
    }

    pub(super) fn u16(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(super) fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn array6(&mut self) -> Result<[u8; 6], CodecError> {
        let mut a = [0; 6];
        a.copy_from_slice(self.take(6)?);
        Ok(a)
    }

    pub(super) fn rest_bytes(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }

    /// A length-prefixed field that ends the payload; its length must match exactly.
    pub(super) fn var(&mut self, declared: usize) -> Result<Vec<u8>, CodecError> {
        let available = self.buf.len() - self.pos;
        if declared != available {
            return Err(CodecError::Inconsistent { what: self.what, declared, available });
        }
        Ok(self.rest_bytes().to_vec())
    }

    pub(super) fn var_u8(&mut self) -> Result<Vec<u8>, CodecError> {
        let declared = self.u8()?;
        self.var(usize::from(declared))
    }

    pub(super) fn var_u16(&mut self) -> Result<Vec<u8>, CodecError> {
        let declared = self.u16()?;
        self.var(usize::from(declared))
    }
}

/// Little-endian writer that cuts oversized parts to fit and remembers the first cut, so
/// `encode` can stay infallible while `try_encode` reports the problem.
#[derive(Default)]
pub(super) struct Writer {
    pub(super) out: Vec<u8>,
    pub(super) overflow: Option<CodecError>,
}

impl Writer {
    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    pub(super) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    pub(super) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    /// `b` cut to `max` bytes, noting the cut.
    fn fit<'b>(&mut self, what: &'static str, b: &'b [u8], max: usize) -> &'b [u8] {
        if b.len() > max && self.overflow.is_none() {
            self.overflow = Some(CodecError::TooLong { what, len: b.len(), max });
        }
        &b[..b.len().min(max)]
    }

    /// Room left in the frame after `reserve` more bytes.
    fn room(&self, reserve: usize) -> usize {
        MAX_FRAME_LEN.saturating_sub(self.out.len() + reserve)
    }

    pub(super) fn fit_u8<'b>(&mut self, what: &'static str, b: &'b [u8]) -> &'b [u8] {
        self.fit(what, b, usize::from(u8::MAX))
    }

    /// A u8 length then the bytes; the field ends the payload.
    pub(super) fn var_u8(&mut self, what: &'static str, b: &[u8]) {
        let max = self.room(1).min(usize::from(u8::MAX));
        let b = self.fit(what, b, max);
        self.bytes(&[b.len() as u8]);
        self.bytes(b);
    }

    /// A u16 length then the bytes; the field ends the payload.
    pub(super) fn var_u16(&mut self, what: &'static str, b: &[u8]) {
        let max = self.room(2);
        let b = self.fit(what, b, max);
        self.u16(b.len() as u16);
        self.bytes(b);
    }

    /// Unprefixed bytes that end the payload.
    pub(super) fn rest(&mut self, what: &'static str, b: &[u8]) {
        let max = self.room(0);
        let b = self.fit(what, b, max);
        self.bytes(b);
    }

    /// A NUL-padded `char[32]`.
    pub(super) fn fixed_str(&mut self, what: &'static str, s: &str) {
        let b = self.fit(what, s.as_bytes(), BOARD_STR_LEN);
        let mut field = [0u8; BOARD_STR_LEN];
        field[..b.len()].copy_from_slice(b);
        self.bytes(&field);
    }
}
