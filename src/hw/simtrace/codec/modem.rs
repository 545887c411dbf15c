//! MODEM class payloads: the modem reset and status bits.

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

/// `BD_MODEM_STATUS` (`struct st_modem_status`): [`modem_status_bits`] masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModemStatus {
    pub supported: u8,
    pub status: u8,
    pub changed: u8,
}
