//! ISO 7816-4 facts every part of the card path needs.

/// Splits a response APDU into its data and status word. A response too short to hold a status
/// word reads as 6F00, "technical problem", which is what it is.
pub fn split_sw(response: &[u8]) -> (&[u8], u16) {
    match response.len() {
        0 | 1 => (&[], 0x6F00),
        n => (&response[..n - 2], u16::from_be_bytes([response[n - 2], response[n - 1]])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_data_and_status_word() {
        assert_eq!(split_sw(&[1, 2, 0x90, 0]), (&[1u8, 2][..], 0x9000));
        assert_eq!(split_sw(&[0x90]), (&[][..], 0x6F00));
    }
}
