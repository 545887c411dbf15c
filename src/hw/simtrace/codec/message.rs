//! [`Message`]: one variant per message, its class and type, its payload written and read,
//! and the table of the message types this codec models.

use super::cardem::{read_config, read_pts, read_status, write_config};
use super::generic::{BOARD_INFO_LEN, read_board_info, read_error, write_board_info};
use super::wire::{Reader, Writer};
use super::{
    BoardDescription, CemuConfig, CemuStatus, CodecError, ErrorReport, HEADER_LEN, MAX_FRAME_LEN,
    ModemStatus, PtsInfo, class, msg_type,
};

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
    /// CARDEM `DT_CEMU_TX_DATA`: bytes for the phone; `flags` are [`data_flags`](super::data_flags).
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
    /// CARDEM `DO_CEMU_RX_DATA`: bytes from the phone; `flags` are [`data_flags`](super::data_flags).
    RxData { flags: u32, data: Vec<u8> },
    /// CARDEM `DO_CEMU_PTS`.
    Pts(PtsInfo),
    /// CARDEM `BD_CEMU_CONFIG` with a payload.
    Config(CemuConfig),
    /// MODEM `DT_MODEM_RESET`: `asserted` is a [`modem_reset`](super::modem_reset) value; `pulse_ms` applies to
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

    pub(super) fn write_payload(&self, w: &mut Writer) {
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

    pub(super) fn decode(class: u8, msg_type: u8, payload: &[u8]) -> Result<Message, CodecError> {
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
/// [`Decoder`](super::Decoder) checks while resynchronising: the payload sizes upstream firmware and host
/// tools produce, and where an inner length field sits (offset, width), whose value plus
/// the bytes up to its end must equal the payload size. An empty payload is always plausible
/// for the "BD" requests.
pub(super) struct Kind {
    class: u8,
    msg_type: u8,
    name: &'static str,
    pub(super) payload: (usize, usize),
    pub(super) len_field: Option<(usize, usize)>,
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

pub(super) fn kind(class: u8, msg_type: u8) -> Option<&'static Kind> {
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

pub(super) fn query_for(class: u8, msg_type: u8) -> Option<Query> {
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
