//! CARDEM class payloads: the phone-side card lines, PTS and configuration, and their flag bits.

use super::CodecError;
use super::wire::{Reader, Writer};

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

pub(super) fn read_status(r: &mut Reader) -> Result<CemuStatus, CodecError> {
    let (flags, voltage_mv) = (r.u32()?, r.u16()?);
    let (fi, di, wi) = (r.u8()?, r.u8()?, r.u8()?);
    Ok(CemuStatus { flags, voltage_mv, fi, di, wi, waiting_time: r.u32()? })
}

pub(super) fn read_pts(r: &mut Reader) -> Result<PtsInfo, CodecError> {
    let pts_len = r.u8()?;
    let (req, resp) = (r.array6()?, r.array6()?);
    Ok(PtsInfo { pts_len, req, resp })
}

/// The firmware applies as many config fields as the payload holds (4, 5 or 6 bytes).
pub(super) fn read_config(r: &mut Reader) -> Result<CemuConfig, CodecError> {
    let features = r.u32()?;
    let slot_mux_nr = r.opt_u8();
    let pres_pol = slot_mux_nr.and_then(|_| r.opt_u8());
    Ok(CemuConfig { features, slot_mux_nr, pres_pol })
}

pub(super) fn write_config(w: &mut Writer, c: &CemuConfig) {
    w.u32(c.features);
    if c.slot_mux_nr.is_some() || c.pres_pol.is_some() {
        w.bytes(&[c.slot_mux_nr.unwrap_or(0)]);
    }
    if let Some(pres_pol) = c.pres_pol {
        w.bytes(&[pres_pol]);
    }
}
