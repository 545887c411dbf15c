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

use thiserror::Error;

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

/// Flags of `DT_CEMU_TX_DATA` and `DO_CEMU_RX_DATA` (`CEMU_DATA_F_*`).
pub mod data_flags {
    /// The data starts with a 5-byte TPDU header.
    pub const TPDU_HDR: u32 = 0x1;
    /// Last part of the transmission in this direction.
    pub const FINAL: u32 = 0x2;
    /// Data starts with a procedure byte; the device keeps transmitting.
    pub const PB_AND_TX: u32 = 0x4;
    /// Data is a procedure byte; the device then receives the command data.
    pub const PB_AND_RX: u32 = 0x8;
}

/// Flags of `BD_CEMU_STATUS` (`CEMU_STATUS_F_*`).
pub mod status_flags {
    pub const VCC_PRESENT: u32 = 0x1;
    pub const CLK_ACTIVE: u32 = 0x2;
    pub const RCEMU_ACTIVE: u32 = 0x4;
    pub const CARD_INSERT: u32 = 0x8;
    pub const RESET_ACTIVE: u32 = 0x10;
}

/// Feature bits of `BD_CEMU_CONFIG` (`CEMU_FEAT_F_*`).
pub mod features {
    /// The device pushes `BD_CEMU_STATUS` on the interrupt endpoint when a line changes.
    pub const STATUS_IRQ: u32 = 0x1;
}

/// Bits of `BD_CEMU_CONFIG.pres_pol` (`CEMU_CONFIG_PRES_POL_*`).
pub mod pres_pol {
    /// The presence line is high while the card is present (low when clear).
    pub const PRES_H: u8 = 0x01;
    /// The polarity bit is meaningful; without it the firmware keeps its setting.
    pub const VALID: u8 = 0x02;
}

/// Values of `DT_MODEM_RESET.asserted`.
pub mod modem_reset {
    pub const RELEASE: u8 = 0;
    pub const ASSERT: u8 = 1;
    pub const PULSE: u8 = 2;
}

/// Bits of the `BD_MODEM_STATUS` masks (`ST_MDM_STS_BIT_*`).
pub mod modem_status_bits {
    pub const WWAN_LED: u8 = 0x1;
    pub const CARD_INSERTED: u8 = 0x2;
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

/// `BD_CEMU_STATUS` (`struct cardemu_usb_msg_status`): the phone-side card lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CemuStatus {
    /// [`status_flags`] bits.
    pub flags: u32,
    /// Phone-applied voltage (only boards that measure VCC by ADC fill it in).
    pub voltage_mv: u16,
    /// Index into ISO 7816-3 table 7 (upstream renamed it `F_index`; not the F value).
    pub fi: u8,
    /// Index into ISO 7816-3 table 8 (upstream `D_index`; not the D value).
    pub di: u8,
    /// Waiting integer.
    pub wi: u8,
    /// Waiting time in ETU.
    pub waiting_time: u32,
}

/// `DO_CEMU_PTS` (`struct cardemu_usb_msg_pts_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PtsInfo {
    pub pts_len: u8,
    /// PTS request as sent by the phone.
    pub req: [u8; 6],
    /// PTS response as sent by the emulated card.
    pub resp: [u8; 6],
}

/// `BD_CEMU_CONFIG` (`struct cardemu_usb_msg_config`). Firmware before 2021 knows only
/// `features`, before 2024 no `pres_pol`; the firmware applies as many fields as it gets,
/// so absent fields are `None` and are not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CemuConfig {
    /// [`features`] bits.
    pub features: u32,
    /// Slot of an external SIM multiplexer (OCTSIMTEST). When only `pres_pol` is set this is
    /// sent as 0, as osmocom's host tool does.
    pub slot_mux_nr: Option<u8>,
    /// [`pres_pol`] bits.
    pub pres_pol: Option<u8>,
}

/// `BD_MODEM_STATUS` (`struct st_modem_status`): [`modem_status_bits`] masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModemStatus {
    pub supported: u8,
    pub status: u8,
    pub changed: u8,
}

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

/// What an empty "BD" message asks the device for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    BoardInfo,
    CemuStats,
    CemuStatus,
    CemuConfig,
    ModemStatus,
}

/// One SIMtrace2 message, by class and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// GENERIC `DO_ERROR`.
    Error(ErrorReport),
    /// GENERIC `BD_BOARD_INFO` with a payload (the device's answer).
    BoardInfo(Box<BoardDescription>),
    /// CARDEM `DT_CEMU_TX_DATA`: bytes for the phone; `flags` are [`data_flags`].
    TxData { flags: u32, data: Vec<u8> },
    /// CARDEM `DT_CEMU_SET_ATR` (at most 255 bytes).
    SetAtr { atr: Vec<u8> },
    /// CARDEM `BD_CEMU_STATS` with a payload. Upstream defines no statistics struct (the
    /// firmware ignores this request), so the bytes are carried as they are.
    Stats { raw: Vec<u8> },
    /// CARDEM `BD_CEMU_STATUS` with a payload.
    Status(CemuStatus),
    /// CARDEM `DT_CEMU_CARDINSERT`: 1 inserted, 0 removed.
    CardInsert { card_insert: u8 },
    /// CARDEM `DO_CEMU_RX_DATA`: bytes from the phone; `flags` are [`data_flags`].
    RxData { flags: u32, data: Vec<u8> },
    /// CARDEM `DO_CEMU_PTS`.
    Pts(PtsInfo),
    /// CARDEM `BD_CEMU_CONFIG` with a payload.
    Config(CemuConfig),
    /// MODEM `DT_MODEM_RESET`: `asserted` is a [`modem_reset`] value; `pulse_ms` applies to
    /// a pulse.
    ModemReset { asserted: u8, pulse_ms: u16 },
    /// MODEM `DT_MODEM_SIM_SELECT`: 1 routes the modem to the emulated card, 0 to the local.
    ModemSimSelect { remote_sim: u8 },
    /// MODEM `BD_MODEM_STATUS` with a payload.
    ModemStatus(ModemStatus),
    /// A "BD" message with an empty payload: a request for that information.
    Query(Query),
    /// A class/type this codec does not model, payload as received.
    Unknown { class: u8, msg_type: u8, payload: Vec<u8> },
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

impl Message {
    /// The header's class and type for this message.
    pub fn class_and_type(&self) -> (u8, u8) {
        use msg_type::*;
        match self {
            Message::Error(_) => (class::GENERIC, DO_ERROR),
            Message::BoardInfo(_) | Message::Query(Query::BoardInfo) => (class::GENERIC, BD_BOARD_INFO),
            Message::TxData { .. } => (class::CARDEM, DT_CEMU_TX_DATA),
            Message::SetAtr { .. } => (class::CARDEM, DT_CEMU_SET_ATR),
            Message::Stats { .. } | Message::Query(Query::CemuStats) => (class::CARDEM, BD_CEMU_STATS),
            Message::Status(_) | Message::Query(Query::CemuStatus) => (class::CARDEM, BD_CEMU_STATUS),
            Message::CardInsert { .. } => (class::CARDEM, DT_CEMU_CARDINSERT),
            Message::RxData { .. } => (class::CARDEM, DO_CEMU_RX_DATA),
            Message::Pts(_) => (class::CARDEM, DO_CEMU_PTS),
            Message::Config(_) | Message::Query(Query::CemuConfig) => (class::CARDEM, BD_CEMU_CONFIG),
            Message::ModemReset { .. } => (class::MODEM, DT_MODEM_RESET),
            Message::ModemSimSelect { .. } => (class::MODEM, DT_MODEM_SIM_SELECT),
            Message::ModemStatus(_) | Message::Query(Query::ModemStatus) => (class::MODEM, BD_MODEM_STATUS),
            Message::Unknown { class, msg_type, .. } => (*class, *msg_type),
        }
    }

    fn write_payload(&self, w: &mut Writer) {
        match self {
            Message::Error(e) => {
                w.bytes(&[e.severity, e.subsystem]);
                w.u16(e.code);
                w.var_u8("DO_ERROR message", &e.message);
            }
            Message::BoardInfo(b) => write_board_info(w, b),
            Message::TxData { flags, data } | Message::RxData { flags, data } => {
                w.u32(*flags);
                w.var_u16(name_of(self), data);
            }
            Message::SetAtr { atr } => w.var_u8("DT_CEMU_SET_ATR atr", atr),
            Message::Stats { raw } => w.rest("BD_CEMU_STATS payload", raw),
            Message::Status(s) => {
                w.u32(s.flags);
                w.u16(s.voltage_mv);
                w.bytes(&[s.fi, s.di, s.wi]);
                w.u32(s.waiting_time);
            }
            Message::CardInsert { card_insert } => w.bytes(&[*card_insert]),
            Message::Pts(p) => {
                w.bytes(&[p.pts_len]);
                w.bytes(&p.req);
                w.bytes(&p.resp);
            }
            Message::Config(c) => write_config(w, c),
            Message::ModemReset { asserted, pulse_ms } => {
                w.bytes(&[*asserted]);
                w.u16(*pulse_ms);
            }
            Message::ModemSimSelect { remote_sim } => w.bytes(&[*remote_sim]),
            Message::ModemStatus(m) => w.bytes(&[m.supported, m.status, m.changed]),
            Message::Query(_) => {}
            Message::Unknown { payload, .. } => w.rest("payload", payload),
        }
    }

    fn decode(class: u8, msg_type: u8, payload: &[u8]) -> Result<Message, CodecError> {
        use msg_type::*;
        let Some(what) = type_name(class, msg_type) else {
            return Ok(Message::Unknown { class, msg_type, payload: payload.to_vec() });
        };
        if payload.is_empty()
            && let Some(query) = query_for(class, msg_type)
        {
            return Ok(Message::Query(query));
        }
        let mut r = Reader { what, buf: payload, pos: 0 };
        let msg = match (class, msg_type) {
            (class::GENERIC, DO_ERROR) => Message::Error(read_error(&mut r)?),
            (class::GENERIC, _) => Message::BoardInfo(Box::new(read_board_info(&mut r)?)),
            (class::CARDEM, DT_CEMU_TX_DATA) => {
                let flags = r.u32()?;
                Message::TxData { flags, data: r.var_u16()? }
            }
            (class::CARDEM, DT_CEMU_SET_ATR) => Message::SetAtr { atr: r.var_u8()? },
            (class::CARDEM, BD_CEMU_STATS) => Message::Stats { raw: payload.to_vec() },
            (class::CARDEM, BD_CEMU_STATUS) => Message::Status(read_status(&mut r)?),
            (class::CARDEM, DT_CEMU_CARDINSERT) => Message::CardInsert { card_insert: r.u8()? },
            (class::CARDEM, DO_CEMU_RX_DATA) => {
                let flags = r.u32()?;
                Message::RxData { flags, data: r.var_u16()? }
            }
            (class::CARDEM, DO_CEMU_PTS) => Message::Pts(read_pts(&mut r)?),
            (class::CARDEM, _) => Message::Config(read_config(&mut r)?),
            (class::MODEM, DT_MODEM_RESET) => {
                let asserted = r.u8()?;
                Message::ModemReset { asserted, pulse_ms: r.u16()? }
            }
            (class::MODEM, DT_MODEM_SIM_SELECT) => Message::ModemSimSelect { remote_sim: r.u8()? },
            _ => {
                let m = r.take(3)?;
                Message::ModemStatus(ModemStatus { supported: m[0], status: m[1], changed: m[2] })
            }
        };
        Ok(msg)
    }
}

/// A message type this codec models: its upstream name (for error messages), and what the
/// [`Decoder`] checks while resynchronising: the payload sizes upstream firmware and host
/// tools produce, and where an inner length field sits (offset, width), whose value plus
/// the bytes up to its end must equal the payload size. An empty payload is always plausible
/// for the "BD" requests.
struct Kind {
    class: u8,
    msg_type: u8,
    name: &'static str,
    payload: (usize, usize),
    len_field: Option<(usize, usize)>,
}

const ANY: usize = MAX_FRAME_LEN - HEADER_LEN;

const KINDS: [Kind; 13] = {
    use msg_type::*;
    const fn k(
        class: u8,
        msg_type: u8,
        name: &'static str,
        payload: (usize, usize),
        len_field: Option<(usize, usize)>,
    ) -> Kind {
        Kind { class, msg_type, name, payload, len_field }
    }
    [
        k(class::GENERIC, DO_ERROR, "DO_ERROR", (5, 5 + 255), Some((4, 1))),
        k(class::GENERIC, BD_BOARD_INFO, "BD_BOARD_INFO", (BOARD_INFO_LEN, BOARD_INFO_LEN + 2 * 255), None),
        k(class::CARDEM, DT_CEMU_TX_DATA, "DT_CEMU_TX_DATA", (6, ANY), Some((4, 2))),
        k(class::CARDEM, DT_CEMU_SET_ATR, "DT_CEMU_SET_ATR", (1, 1 + 255), Some((0, 1))),
        k(class::CARDEM, BD_CEMU_STATS, "BD_CEMU_STATS", (0, 0), None),
        k(class::CARDEM, BD_CEMU_STATUS, "BD_CEMU_STATUS", (13, 13), None),
        k(class::CARDEM, DT_CEMU_CARDINSERT, "DT_CEMU_CARDINSERT", (1, 1), None),
        k(class::CARDEM, DO_CEMU_RX_DATA, "DO_CEMU_RX_DATA", (6, ANY), Some((4, 2))),
        k(class::CARDEM, DO_CEMU_PTS, "DO_CEMU_PTS", (13, 13), None),
        k(class::CARDEM, BD_CEMU_CONFIG, "BD_CEMU_CONFIG", (4, 6), None),
        k(class::MODEM, DT_MODEM_RESET, "DT_MODEM_RESET", (3, 3), None),
        k(class::MODEM, DT_MODEM_SIM_SELECT, "DT_MODEM_SIM_SELECT", (1, 1), None),
        k(class::MODEM, BD_MODEM_STATUS, "BD_MODEM_STATUS", (3, 3), None),
    ]
};

fn kind(class: u8, msg_type: u8) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.class == class && k.msg_type == msg_type)
}

/// Upstream name of a known class/type; `None` for unknown ones.
fn type_name(class: u8, msg_type: u8) -> Option<&'static str> {
    kind(class, msg_type).map(|k| k.name)
}

fn name_of(msg: &Message) -> &'static str {
    let (class, msg_type) = msg.class_and_type();
    type_name(class, msg_type).unwrap_or("message")
}

fn query_for(class: u8, msg_type: u8) -> Option<Query> {
    use msg_type::*;
    Some(match (class, msg_type) {
        (class::GENERIC, BD_BOARD_INFO) => Query::BoardInfo,
        (class::CARDEM, BD_CEMU_STATS) => Query::CemuStats,
        (class::CARDEM, BD_CEMU_STATUS) => Query::CemuStatus,
        (class::CARDEM, BD_CEMU_CONFIG) => Query::CemuConfig,
        (class::MODEM, BD_MODEM_STATUS) => Query::ModemStatus,
        _ => return None,
    })
}

fn read_error(r: &mut Reader) -> Result<ErrorReport, CodecError> {
    let (severity, subsystem, code) = (r.u8()?, r.u8()?, r.u16()?);
    Ok(ErrorReport { severity, subsystem, code, message: r.var_u8()? })
}

fn read_status(r: &mut Reader) -> Result<CemuStatus, CodecError> {
    let (flags, voltage_mv) = (r.u32()?, r.u16()?);
    let (fi, di, wi) = (r.u8()?, r.u8()?, r.u8()?);
    Ok(CemuStatus { flags, voltage_mv, fi, di, wi, waiting_time: r.u32()? })
}

fn read_pts(r: &mut Reader) -> Result<PtsInfo, CodecError> {
    let pts_len = r.u8()?;
    let (req, resp) = (r.array6()?, r.array6()?);
    Ok(PtsInfo { pts_len, req, resp })
}

/// The firmware applies as many config fields as the payload holds (4, 5 or 6 bytes).
fn read_config(r: &mut Reader) -> Result<CemuConfig, CodecError> {
    let features = r.u32()?;
    let slot_mux_nr = r.opt_u8();
    let pres_pol = slot_mux_nr.and_then(|_| r.opt_u8());
    Ok(CemuConfig { features, slot_mux_nr, pres_pol })
}

fn write_config(w: &mut Writer, c: &CemuConfig) {
    w.u32(c.features);
    if c.slot_mux_nr.is_some() || c.pres_pol.is_some() {
        w.bytes(&[c.slot_mux_nr.unwrap_or(0)]);
    }
    if let Some(pres_pol) = c.pres_pol {
        w.bytes(&[pres_pol]);
    }
}

const BOARD_STR_LEN: usize = 32;
/// `struct simtrace_board_info` up to its capability masks: 7 strings, crc, baud rate, and
/// the two mask lengths.
const BOARD_INFO_LEN: usize = 7 * BOARD_STR_LEN + 4 + 4 + 2;

fn read_board_info(r: &mut Reader) -> Result<BoardDescription, CodecError> {
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

fn write_board_info(w: &mut Writer, b: &BoardDescription) {
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

/// Bounds-checked little-endian reader over one payload; errors name the message type.
struct Reader<'a> {
    what: &'static str,
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let need = self.pos + n;
        if need > self.buf.len() {
            return Err(CodecError::Truncated { what: self.what, need, have: self.buf.len() });
        }
        let bytes = &self.buf[self.pos..need];
        self.pos = need;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn opt_u8(&mut self) -> Option<u8> {
        self.u8().ok()
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn array6(&mut self) -> Result<[u8; 6], CodecError> {
        let mut a = [0; 6];
        a.copy_from_slice(self.take(6)?);
        Ok(a)
    }

    fn rest_bytes(&mut self) -> &'a [u8] {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        rest
    }

    /// A length-prefixed field that ends the payload; its length must match exactly.
    fn var(&mut self, declared: usize) -> Result<Vec<u8>, CodecError> {
        let available = self.buf.len() - self.pos;
        if declared != available {
            return Err(CodecError::Inconsistent { what: self.what, declared, available });
        }
        Ok(self.rest_bytes().to_vec())
    }

    fn var_u8(&mut self) -> Result<Vec<u8>, CodecError> {
        let declared = self.u8()?;
        self.var(usize::from(declared))
    }

    fn var_u16(&mut self) -> Result<Vec<u8>, CodecError> {
        let declared = self.u16()?;
        self.var(usize::from(declared))
    }
}

/// Little-endian writer that cuts oversized parts to fit and remembers the first cut, so
/// `encode` can stay infallible while `try_encode` reports the problem.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    overflow: Option<CodecError>,
}

impl Writer {
    fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
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

    fn fit_u8<'b>(&mut self, what: &'static str, b: &'b [u8]) -> &'b [u8] {
        self.fit(what, b, usize::from(u8::MAX))
    }

    /// A u8 length then the bytes; the field ends the payload.
    fn var_u8(&mut self, what: &'static str, b: &[u8]) {
        let max = self.room(1).min(usize::from(u8::MAX));
        let b = self.fit(what, b, max);
        self.bytes(&[b.len() as u8]);
        self.bytes(b);
    }

    /// A u16 length then the bytes; the field ends the payload.
    fn var_u16(&mut self, what: &'static str, b: &[u8]) {
        let max = self.room(2);
        let b = self.fit(what, b, max);
        self.u16(b.len() as u16);
        self.bytes(b);
    }

    /// Unprefixed bytes that end the payload.
    fn rest(&mut self, what: &'static str, b: &[u8]) {
        let max = self.room(0);
        let b = self.fit(what, b, max);
        self.bytes(b);
    }

    /// A NUL-padded `char[32]`.
    fn fixed_str(&mut self, what: &'static str, s: &str) {
        let b = self.fit(what, s.as_bytes(), BOARD_STR_LEN);
        let mut field = [0u8; BOARD_STR_LEN];
        field[..b.len()].copy_from_slice(b);
        self.bytes(&field);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(frame: Frame) -> Vec<u8> {
        let bytes = frame.try_encode().expect("encodes");
        assert_eq!(usize::from(u16::from_le_bytes([bytes[6], bytes[7]])), bytes.len());
        assert_eq!(Frame::decode(&bytes), Ok(frame.clone()), "round trip of {frame:?}");
        assert_eq!(frame.encode(), bytes);
        bytes
    }

    fn hex(s: &str) -> Vec<u8> {
        let digits: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn reference_card_insert_frame() {
        let bytes = hex("01 05 00 00 00 00 09 00 01");
        let frame = Frame::decode(&bytes).unwrap();
        assert_eq!(frame, Frame::new(0, Message::CardInsert { card_insert: 1 }));
        assert_eq!(frame.encode(), bytes);
    }

    #[test]
    fn reference_final_status_word_frame() {
        let bytes = hex("01 01 00 00 00 00 10 00 | 06 00 00 00 | 02 00 | 90 00");
        let frame = Frame::decode(&bytes).unwrap();
        let flags = data_flags::PB_AND_TX | data_flags::FINAL;
        assert_eq!(frame, Frame::new(0, Message::TxData { flags, data: vec![0x90, 0x00] }));
        assert_eq!(frame.encode(), bytes);
    }

    #[test]
    fn cardem_messages_have_the_upstream_layout() {
        let status = CemuStatus {
            flags: status_flags::VCC_PRESENT | status_flags::CLK_ACTIVE,
            voltage_mv: 1800,
            fi: 1,
            di: 1,
            wi: 10,
            waiting_time: 9600,
        };
        let bytes = round_trip(Frame { seq_nr: 7, slot_nr: 1, msg: Message::Status(status) });
        assert_eq!(bytes, hex("01 04 07 01 00 00 15 00 03 00 00 00 08 07 01 01 0a 80 25 00 00"));

        let atr = hex("3B 9F 96 80 1F C7 80 31 A0 73 BE 21 13 67 43 20 07 18 00 00 01 A5");
        let bytes = round_trip(Frame::new(0, Message::SetAtr { atr: atr.clone() }));
        assert_eq!(&bytes[..9], &[1, 2, 0, 0, 0, 0, 9 + 22, 0, 22]);
        assert_eq!(&bytes[9..], &atr[..]);

        let pts =
            PtsInfo { pts_len: 4, req: [0xff, 0x10, 0x96, 0x79, 0, 0], resp: [0xff, 0x10, 0x96, 0x79, 0, 0] };
        let bytes = round_trip(Frame::new(0, Message::Pts(pts)));
        assert_eq!(bytes, hex("01 07 00 00 00 00 15 00 04 ff 10 96 79 00 00 ff 10 96 79 00 00"));

        let rx = Message::RxData { flags: data_flags::TPDU_HDR, data: hex("A0 A4 00 00 02") };
        assert_eq!(
            round_trip(Frame::new(0, rx)),
            hex("01 06 00 00 00 00 13 00 01 00 00 00 05 00 a0 a4 00 00 02")
        );
        round_trip(Frame::new(0, Message::Stats { raw: vec![1, 2, 3] }));
    }

    #[test]
    fn config_long_and_short_forms() {
        let full = CemuConfig {
            features: features::STATUS_IRQ,
            slot_mux_nr: Some(3),
            pres_pol: Some(pres_pol::VALID | pres_pol::PRES_H),
        };
        assert_eq!(
            round_trip(Frame::new(0, Message::Config(full))),
            hex("01 08 00 00 00 00 0e 00 01 00 00 00 03 03")
        );
        // Pre-2021 firmware sends only the features word.
        let short = Frame::decode(&hex("01 08 00 00 00 00 0c 00 01 00 00 00")).unwrap();
        assert_eq!(short.msg, Message::Config(CemuConfig { features: 1, slot_mux_nr: None, pres_pol: None }));
        round_trip(short);
        let mux_only = CemuConfig { features: 0, slot_mux_nr: Some(2), pres_pol: None };
        round_trip(Frame::new(0, Message::Config(mux_only)));
        // Only pres_pol given: slot_mux_nr goes out as 0, like osmocom's host tool.
        let pol_only = CemuConfig { features: 0, slot_mux_nr: None, pres_pol: Some(2) };
        assert_eq!(
            Frame::new(0, Message::Config(pol_only)).encode(),
            hex("01 08 00 00 00 00 0e 00 00 00 00 00 00 02")
        );
        assert!(matches!(
            Frame::decode(&hex("01 08 00 00 00 00 0a 00 01 00")),
            Err(CodecError::Truncated { need: 4, have: 2, .. })
        ));
    }

    #[test]
    fn modem_messages() {
        let reset = Message::ModemReset { asserted: modem_reset::PULSE, pulse_ms: 300 };
        assert_eq!(round_trip(Frame::new(0, reset)), hex("02 01 00 00 00 00 0b 00 02 2c 01"));
        assert_eq!(
            round_trip(Frame::new(0, Message::ModemSimSelect { remote_sim: 1 })),
            hex("02 02 00 00 00 00 09 00 01")
        );
        let status = ModemStatus { supported: 3, status: modem_status_bits::CARD_INSERTED, changed: 2 };
        assert_eq!(
            round_trip(Frame::new(1, Message::ModemStatus(status))),
            hex("02 03 00 01 00 00 0b 00 03 02 02")
        );
    }

    #[test]
    fn generic_messages() {
        let err = ErrorReport { severity: 2, subsystem: 1, code: 0x0102, message: b"uart overrun".to_vec() };
        let bytes = round_trip(Frame::new(0, Message::Error(err)));
        assert_eq!(&bytes[..13], &hex("00 00 00 00 00 00 19 00 02 01 02 01 0c")[..]);

        let info = BoardDescription {
            hw_manufacturer: "sysmocom".into(),
            hw_model: "SIMtrace2".into(),
            hw_version: "1.1".into(),
            sw_provider: "osmocom".into(),
            sw_name: "cardem".into(),
            sw_version: "0.8.1".into(),
            sw_buildhost: "builder".into(),
            sw_crc: 0xdeadbeef,
            max_baud_rate: 250_000,
            cap_generic: vec![0xff, 0x3f],
            cap_vendor: vec![],
            tail: vec![9, 9],
        };
        let bytes = round_trip(Frame::new(0, Message::BoardInfo(Box::new(info))));
        assert_eq!(bytes.len(), HEADER_LEN + 234 + 2 + 2);
        assert_eq!(&bytes[8..16], b"sysmocom");
        assert_eq!(&bytes[8 + 224..8 + 234], &hex("ef be ad de 90 d0 03 00 02 00")[..]);
    }

    #[test]
    fn empty_bd_payloads_are_queries() {
        for (class, msg_type, query) in [
            (class::GENERIC, msg_type::BD_BOARD_INFO, Query::BoardInfo),
            (class::CARDEM, msg_type::BD_CEMU_STATS, Query::CemuStats),
            (class::CARDEM, msg_type::BD_CEMU_STATUS, Query::CemuStatus),
            (class::CARDEM, msg_type::BD_CEMU_CONFIG, Query::CemuConfig),
            (class::MODEM, msg_type::BD_MODEM_STATUS, Query::ModemStatus),
        ] {
            let bytes = round_trip(Frame::new(0, Message::Query(query)));
            assert_eq!(bytes, [class, msg_type, 0, 0, 0, 0, 8, 0]);
        }
        // A DT/DO message without its payload is an error, not a query.
        assert!(Frame::decode(&hex("01 05 00 00 00 00 08 00")).is_err());
    }

    #[test]
    fn unknown_messages_are_kept_not_rejected() {
        for bytes in [
            hex("03 04 00 00 00 00 0b 00 aa bb cc"),
            hex("01 63 02 00 00 00 08 00"),
            hex("7f 01 00 00 00 00 09 00 01"),
        ] {
            let frame = Frame::decode(&bytes).unwrap();
            assert!(matches!(frame.msg, Message::Unknown { .. }), "{frame:?}");
            assert_eq!(frame.encode(), bytes);
        }
    }

    #[test]
    fn bad_lengths_are_clear_errors() {
        let cases: [(&str, &str); 7] = [
            ("01 05 00 00 00", "shorter than the 8-byte"),
            ("01 05 00 00 00 00 04 00", "outside 8..=4096"),
            ("01 05 00 00 00 00 0a 00 01", "does not match the 9 bytes"),
            (
                "01 06 00 00 00 00 10 00 01 00 00 00 05 00 a0 a4",
                "DO_CEMU_RX_DATA: length field says 5 bytes but 2 follow",
            ),
            (
                "01 06 00 00 00 00 10 00 01 00 00 00 01 00 a0 a4",
                "DO_CEMU_RX_DATA: length field says 1 bytes but 2 follow",
            ),
            ("01 04 00 00 00 00 0a 00 01 00", "BD_CEMU_STATUS: payload truncated: needs 4 bytes, has 2"),
            ("02 01 00 00 00 00 0a 00 02 2c", "DT_MODEM_RESET: payload truncated"),
        ];
        for (input, expected) in cases {
            let err = Frame::decode(&hex(input)).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
    }

    #[test]
    fn oversized_parts_are_refused_by_try_encode_and_cut_by_encode() {
        let atr = Frame::new(0, Message::SetAtr { atr: vec![0x3b; 300] });
        assert!(matches!(atr.try_encode(), Err(CodecError::TooLong { len: 300, max: 255, .. })));
        let cut = Frame::decode(&atr.encode()).unwrap();
        assert_eq!(cut.msg, Message::SetAtr { atr: vec![0x3b; 255] });

        let big = Frame::new(0, Message::TxData { flags: 0, data: vec![0; 70_000] });
        assert!(big.try_encode().is_err());
        let bytes = big.encode();
        assert_eq!(bytes.len(), MAX_FRAME_LEN);
        assert!(Frame::decode(&bytes).is_ok());
    }

    #[test]
    fn decoder_reassembles_300_byte_rx_data_from_64_byte_packets() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        let frame = Frame::new(0, Message::RxData { flags: data_flags::FINAL, data });
        let bytes = frame.encode();
        assert_eq!(bytes.len(), 314);
        let mut dec = Decoder::new();
        let mut got = Vec::new();
        for packet in bytes.chunks(64) {
            assert!(got.is_empty(), "frame popped before its last packet");
            dec.push(packet);
            while let Some(f) = dec.pop() {
                got.push(f.unwrap());
            }
        }
        assert_eq!(got, vec![frame]);
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn decoder_splits_several_frames_in_one_buffer() {
        let frames = vec![
            Frame::new(0, Message::CardInsert { card_insert: 1 }),
            Frame::new(0, Message::Status(CemuStatus { flags: 0x1f, ..Default::default() })),
            Frame { seq_nr: 3, slot_nr: 1, msg: Message::RxData { flags: 1, data: hex("a0 c0 00 00 10") } },
            Frame::new(0, Message::Query(Query::CemuConfig)),
        ];
        let stream: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        let mut dec = Decoder::new();
        dec.push(&stream);
        let got: Vec<Frame> = std::iter::from_fn(|| dec.pop()).map(Result::unwrap).collect();
        assert_eq!(got, frames);
    }

    #[test]
    fn decoder_reports_bogus_length_once_and_resyncs() {
        let good = Frame::new(0, Message::TxData { flags: 6, data: vec![0x90, 0] });
        let mut stream = hex("01 01 00 00 00 00 ff ff de ad be ef 01 02 03");
        stream.extend(good.encode());
        stream.extend(hex("01 01 00 00 00 00 03 00"));
        stream.extend(good.encode());
        let mut dec = Decoder::new();
        dec.push(&stream);
        let results: Vec<_> = std::iter::from_fn(|| dec.pop()).collect();
        assert_eq!(results.len(), 4, "{results:?}");
        assert!(matches!(results[0], Err(CodecError::BadLength { msg_len: 0xffff })));
        assert_eq!(results[1], Ok(good.clone()));
        assert!(matches!(results[2], Err(CodecError::BadLength { msg_len: 3 })));
        assert_eq!(results[3], Ok(good));
    }

    #[test]
    fn decoder_keeps_framing_after_a_bad_payload() {
        let mut stream = hex("01 04 00 00 00 00 0a 00 01 00"); // STATUS too short
        stream.extend(hex("01 05 00 00 00 00 09 00 00"));
        let mut dec = Decoder::new();
        dec.push(&stream);
        assert!(matches!(dec.pop(), Some(Err(CodecError::Truncated { .. }))));
        assert_eq!(dec.pop(), Some(Ok(Frame::new(0, Message::CardInsert { card_insert: 0 }))));
        assert_eq!(dec.pop(), None);
    }

    /// xorshift64: deterministic, so a failure reproduces.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = Rng(0x5eed_5117_ace0_0001);
        let mut dec = Decoder::new();
        for round in 0..20_000 {
            let len = (rng.next() % 80) as usize;
            let mut chunk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Make some chunks look like headers so the payload decoders get exercised too.
            if round % 3 == 0 && chunk.len() >= 8 {
                chunk[0] = (rng.next() % 4) as u8;
                chunk[1] = (rng.next() % 10) as u8;
                chunk[4..6].fill(0);
                chunk[6..8].copy_from_slice(&(len as u16).to_le_bytes());
            }
            let _ = Frame::decode(&chunk);
            dec.push(&chunk);
            while let Some(result) = dec.pop() {
                if let Ok(frame) = result {
                    let _ = frame.encode();
                }
            }
            assert!(dec.buffered() < MAX_FRAME_LEN + 80);
        }
        // After garbage, a clean frame still comes through: enough 0xff bytes complete any
        // frame the garbage announced and then force a resync.
        let good = Frame::new(0, Message::CardInsert { card_insert: 1 });
        dec.push(&vec![0xff; MAX_FRAME_LEN + 16]);
        dec.push(&good.encode());
        let last = std::iter::from_fn(|| dec.pop()).filter_map(Result::ok).last();
        assert_eq!(last, Some(good));
    }
}
