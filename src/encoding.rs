//! Byte encodings shared by every layer: hex text, the swapped-nibble BCD of SIM files and
//! SMS, and the one-byte-length TLVs of SIM file templates. Nothing here knows what the bytes
//! mean.

/// Bytes as hex text, two digits a byte.
pub mod hex {
    /// Upper-case hex, as APDU traces, AT commands (`+CSIM`, `+CRSM`, PDUs) and the evidence
    /// files write bytes: `00A4000C`.
    pub fn encode(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// Lower-case hex, as digests and secrets' debug forms are written: `00a4000c`.
    pub fn encode_lower(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bytes of hex text (either case, nothing else in it); `None` for an odd length or
    /// anything that is not hex.
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        if !s.len().is_multiple_of(2) || !s.is_ascii() {
            return None;
        }
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
    }

    /// Test data: the bytes of hex text written with blanks, or `|` between fields, as it
    /// reads best (`"00 A4 04 00 | 02 3F 00"`); panics on anything else.
    #[cfg(test)]
    pub fn bytes(s: &str) -> Vec<u8> {
        let digits: String = s.chars().filter(|c| !c.is_whitespace() && *c != '|').collect();
        decode(&digits).unwrap_or_else(|| panic!("not hex: {s:?}"))
    }
}

/// Binary-coded decimal with swapped nibbles (TS 31.102 §4.4.2.3, TS 24.008 §10.5.4.7, TS
/// 23.040 §9.1.2.5): two digits a byte, the first in the low nibble; A is `*`, B `#`, C `p`
/// (DTMF separator), D `?` (wild value); F pads an odd count, and E or F ends the digits.
pub mod bcd {
    /// Nibbles two to a byte, low nibble first, an odd count padded with F.
    pub fn pack(nibbles: impl IntoIterator<Item = u8>) -> Vec<u8> {
        let nibbles: Vec<u8> = nibbles.into_iter().collect();
        nibbles.chunks(2).map(|pair| pair[0] | (pair.get(1).copied().unwrap_or(0x0F) << 4)).collect()
    }

    /// The nibble of a digit, `*` or `#`; `None` for any other character.
    pub fn nibble(c: char) -> Option<u8> {
        match c {
            '0'..='9' => Some(c as u8 - b'0'),
            '*' => Some(0xA),
            '#' => Some(0xB),
            _ => None,
        }
    }

    /// Digits (and `*`, `#`) as BCD, F-padded; `None` if a character is none of them.
    pub fn encode(digits: &str) -> Option<Vec<u8>> {
        let nibbles: Option<Vec<u8>> = digits.chars().map(nibble).collect();
        Some(pack(nibbles?))
    }

    /// The nibbles of BCD bytes in digit order, up to the first F.
    pub fn nibbles(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
        bytes.iter().flat_map(|b| [b & 0x0F, b >> 4]).take_while(|n| *n != 0x0F)
    }

    /// The digits of BCD bytes, up to the first E or F; A to D as `*`, `#`, `p`, `?`.
    pub fn digits(bytes: &[u8]) -> String {
        nibbles(bytes)
            .map_while(|n| match n {
                0..=9 => Some(char::from(b'0' + n)),
                0xA => Some('*'),
                0xB => Some('#'),
                0xC => Some('p'),
                0xD => Some('?'),
                _ => None,
            })
            .collect()
    }
}

/// A TLV with a one-byte tag and a one-byte length (the SIM's FCP templates, EF_DIR and EF_PNN
/// records): `tag`, the length of `value`, `value`.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + value.len());
    out.push(tag);
    out.push(value.len() as u8);
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_both_ways() {
        assert_eq!(hex::encode(&[0x00, 0xA4, 0x0C]), "00A40C");
        assert_eq!(hex::encode_lower(&[0x00, 0xA4, 0x0C]), "00a40c");
        assert_eq!(hex::decode("00a40C"), Some(vec![0x00, 0xA4, 0x0C]));
        assert_eq!(hex::decode(""), Some(vec![]));
        for bad in ["0", "0G", "é0", "00 A4"] {
            assert_eq!(hex::decode(bad), None, "{bad}");
        }
        assert_eq!(hex::bytes("00 A4\n0c | 3F"), [0x00, 0xA4, 0x0C, 0x3F]);
    }

    #[test]
    fn bcd_both_ways() {
        assert_eq!(bcd::encode("4909"), Some(vec![0x94, 0x90]));
        assert_eq!(bcd::encode("123"), Some(vec![0x21, 0xF3]));
        assert_eq!(bcd::encode("*#1"), Some(vec![0xBA, 0xF1]));
        assert_eq!(bcd::encode("12a"), None);
        assert_eq!(bcd::digits(&[0x94, 0x90, 0x00, 0xF1, 0xFF]), "4909001");
        assert_eq!(bcd::digits(&[0xBA, 0xDC, 0xE1, 0x22]), "*#p?1");
        assert_eq!(bcd::nibbles(&[0x21, 0xF3, 0x44]).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(bcd::pack([9, 2, 6]), [0x29, 0xF6]);
    }

    #[test]
    fn tlv_is_tag_length_value() {
        assert_eq!(tlv(0x83, &[0x6F, 0x07]), [0x83, 0x02, 0x6F, 0x07]);
        assert_eq!(tlv(0x88, &[]), [0x88, 0x00]);
    }
}
