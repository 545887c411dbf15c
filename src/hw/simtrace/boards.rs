//! The SIMtrace2-class boards the rig knows: osmocom's USB vendor id and, by USB product id,
//! each board's name and number of card-emulation channels. Adding a board is one line of
//! [`BOARDS`]; `seedrig check` (a rig file's `product_id`), the USB driver (names, listing) and
//! `seedrig doctor` (channels present) all read it.

/// osmocom's (ex-Openmoko) USB vendor id, shared by every SIMtrace2-class board.
pub const VENDOR_ID: u16 = 0x1d50;

/// A SIMtrace2-class board model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// USB product id (under [`VENDOR_ID`]).
    pub product_id: u16,
    /// The model's name.
    pub name: &'static str,
    /// Card-emulation channels: DUT SIM slots one board can drive.
    pub channels: u8,
}

/// SIMtrace2-family products (osmocom's firmware/libcommon/include/simtrace_usb.h and board
/// files).
pub const BOARDS: &[Board] = &[
    Board { product_id: 0x60e3, name: "SIMtrace2", channels: 1 },
    Board { product_id: 0x4001, name: "OWHW", channels: 2 },
    Board { product_id: 0x4004, name: "QMOD", channels: 2 },
    Board { product_id: 0x616d, name: "OCTSIMTEST", channels: 8 },
    Board { product_id: 0x616e, name: "ngff-cardem", channels: 1 },
];

/// The board with USB product id `product_id` (under [`VENDOR_ID`]), if it is one.
pub fn board(product_id: u16) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.product_id == product_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_unique_and_every_board_has_a_channel() {
        for (i, b) in BOARDS.iter().enumerate() {
            assert!(b.channels >= 1, "{b:?}");
            assert_eq!(board(b.product_id), Some(b), "{b:?} listed twice");
            assert!(BOARDS[..i].iter().all(|o| o.product_id != b.product_id && o.name != b.name));
        }
        assert_eq!(board(0x4004).map(|b| (b.name, b.channels)), Some(("QMOD", 2)));
        assert_eq!(board(0x1234), None);
    }
}
