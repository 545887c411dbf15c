//! GENERIC class payloads: the device's error reports and its board description.

use super::CodecError;
use super::wire::{Reader, Writer};

/// `DO_ERROR` (`struct cardemu_usb_msg_error`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorReport {
    pub severity: u8,
    pub subsystem: u8,
    pub code: u16,
    /// Human-readable text as sent (at most 255 bytes; not guaranteed to be UTF-8).
    pub message: Vec<u8>,
}

/// `BD_BOARD_INFO` answer (`struct simtrace_board_info`). Strings are NUL-padded `char[32]`
/// on the wire: decoding stops at the first NUL, encoding pads (and cuts at 32 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BoardDescription {
    pub hw_manufacturer: String,
    pub hw_model: String,
    pub hw_version: String,
    pub sw_provider: String,
    pub sw_name: String,
    pub sw_version: String,
    pub sw_buildhost: String,
    /// CRC-32 over the software image.
    pub sw_crc: u32,
    pub max_baud_rate: u32,
    /// Generic capability bit mask (`enum simtrace_capability_generic`).
    pub cap_generic: Vec<u8>,
    /// Vendor capability bit mask.
    pub cap_vendor: Vec<u8>,
    /// Bytes after the capability masks, kept so that a newer struct survives a round trip.
    pub tail: Vec<u8>,
}

pub(super) fn read_error(r: &mut Reader) -> Result<ErrorReport, CodecError> {
    let (severity, subsystem, code) = (r.u8()?, r.u8()?, r.u16()?);
    Ok(ErrorReport { severity, subsystem, code, message: r.var_u8()? })
}

pub(super) const BOARD_STR_LEN: usize = 32;
/// `struct simtrace_board_info` up to its capability masks: 7 strings, crc, baud rate, and
/// the two mask lengths.
pub(super) const BOARD_INFO_LEN: usize = 7 * BOARD_STR_LEN + 4 + 4 + 2;

pub(super) fn read_board_info(r: &mut Reader) -> Result<BoardDescription, CodecError> {
    let mut s = || r.take(BOARD_STR_LEN).map(c_string);
    let (hw_manufacturer, hw_model, hw_version) = (s()?, s()?, s()?);
    let (sw_provider, sw_name, sw_version, sw_buildhost) = (s()?, s()?, s()?, s()?);
    let (sw_crc, max_baud_rate) = (r.u32()?, r.u32()?);
    let (generic_len, vendor_len) = (r.u8()?, r.u8()?);
    let cap_generic = r.take(usize::from(generic_len))?.to_vec();
    let cap_vendor = r.take(usize::from(vendor_len))?.to_vec();
    Ok(BoardDescription {
        hw_manufacturer,
        hw_model,
        hw_version,
        sw_provider,
        sw_name,
        sw_version,
        sw_buildhost,
        sw_crc,
        max_baud_rate,
        cap_generic,
        cap_vendor,
        tail: r.rest_bytes().to_vec(),
    })
}

pub(super) fn write_board_info(w: &mut Writer, b: &BoardDescription) {
    for s in [&b.hw_manufacturer, &b.hw_model, &b.hw_version] {
        w.fixed_str("BD_BOARD_INFO hardware string", s);
    }
    for s in [&b.sw_provider, &b.sw_name, &b.sw_version, &b.sw_buildhost] {
        w.fixed_str("BD_BOARD_INFO software string", s);
    }
    w.u32(b.sw_crc);
    w.u32(b.max_baud_rate);
    let generic = w.fit_u8("BD_BOARD_INFO cap_generic", &b.cap_generic);
    let vendor = w.fit_u8("BD_BOARD_INFO cap_vendor", &b.cap_vendor);
    w.bytes(&[generic.len() as u8, vendor.len() as u8]);
    w.bytes(generic);
    w.bytes(vendor);
    w.rest("BD_BOARD_INFO tail", &b.tail);
}

/// A NUL-padded C string field, read up to its first NUL.
fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}
