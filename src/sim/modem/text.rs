//! Text on both sides of the modem: the TE character sets of `AT+CSCS` (how strings in AT
//! parameters are written), and the SIM's encodings (dialling numbers, whose BCD is
//! [`crate::encoding::bcd`]; GSM default alphabet alpha identifiers) the modem turns into strings.

/// The TE character sets of `AT+CSCS` (TS 27.007 §5.5) this modem supports, as a Quectel
/// module lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// GSM default alphabet (TS 23.038). Shown here as its ASCII look-alikes: the letters,
    /// digits and the common punctuation are the same code points.
    Gsm,
    /// International reference alphabet (ITU-T T.50, i.e. ASCII).
    Ira,
    /// 16-bit universal multiple-octet coded character set, written as 4 hex digits a character.
    Ucs2,
}

pub const CHARSETS: [Charset; 3] = [Charset::Gsm, Charset::Ira, Charset::Ucs2];

impl Charset {
    pub fn name(self) -> &'static str {
        match self {
            Charset::Gsm => "GSM",
            Charset::Ira => "IRA",
            Charset::Ucs2 => "UCS2",
        }
    }

    pub fn parse(name: &str) -> Option<Charset> {
        CHARSETS.into_iter().find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// `text` as a string parameter in this character set (without the quotes). Characters the
    /// 7-bit sets cannot show become `?`.
    pub fn encode(self, text: &str) -> String {
        match self {
            Charset::Ucs2 => text.encode_utf16().map(|u| format!("{u:04X}")).collect(),
            Charset::Gsm | Charset::Ira => {
                text.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).collect()
            }
        }
    }

    /// A string parameter written in this character set; None if it is not valid in it.
    pub fn decode(self, text: &str) -> Option<String> {
        match self {
            Charset::Ucs2 => {
                if !text.len().is_multiple_of(4) || !text.is_ascii() {
                    return None;
                }
                let units: Option<Vec<u16>> = (0..text.len())
                    .step_by(4)
                    .map(|i| u16::from_str_radix(&text[i..i + 4], 16).ok())
                    .collect();
                String::from_utf16(&units?).ok()
            }
            Charset::Gsm | Charset::Ira => text.is_ascii().then(|| text.to_owned()),
        }
    }
}

/// A number as 27.007 shows it: `+` and the digits with type 145 when TON is international,
/// the digits and 129 otherwise.
pub fn number_and_type(ton_npi: u8, digits: &str) -> (String, u8) {
    if ton_npi & 0x70 == 0x10 { (format!("+{digits}"), 145) } else { (digits.to_owned(), 129) }
}

/// A string parameter as a number: its digits and TON/NPI (91 with a leading `+` or when
/// `type` says 145, else 81). None if it is not a dialling number.
pub fn parse_number(text: &str, given_type: Option<i64>) -> Option<(String, u8)> {
    let (digits, plus) = match text.strip_prefix('+') {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    if digits.is_empty() || digits.len() > 20 || crate::encoding::bcd::encode(digits).is_none() {
        return None;
    }
    let ton_npi = match given_type {
        Some(145) => 0x91,
        Some(129) | Some(161) => {
            if plus {
                0x91
            } else {
                0x81
            }
        }
        None => {
            if plus {
                0x91
            } else {
                0x81
            }
        }
        Some(_) => return None,
    };
    Some((digits.to_owned(), ton_npi))
}

/// GSM default alphabet, one character a byte (as in SIM alpha identifiers): the characters
/// whose code points differ from ASCII, the rest as ASCII.
const GSM_SPECIAL: [(u8, char); 10] = [
    (0x00, '@'),
    (0x01, '£'),
    (0x02, '$'),
    (0x03, '¥'),
    (0x11, '_'),
    (0x24, '¤'),
    (0x40, '¡'),
    (0x5B, 'Ä'),
    (0x5C, 'Ö'),
    (0x5E, 'Ü'),
];

/// A SIM alpha identifier (TS 31.102 Annex A / TS 51.011 §10.5.1): GSM default alphabet, one
/// character a byte, FF-padded; or UCS2 (first byte 80). Other UCS2 forms (81, 82) are shown
/// as far as they are ASCII.
pub fn sim_alpha(bytes: &[u8]) -> String {
    match bytes.first() {
        Some(0x80) => {
            let units: Vec<u16> = bytes[1..]
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .take_while(|u| *u != 0xFFFF)
                .collect();
            String::from_utf16_lossy(&units)
        }
        Some(0x81 | 0x82) => String::new(),
        _ => bytes
            .iter()
            .take_while(|b| **b != 0xFF)
            .map(|b| match GSM_SPECIAL.iter().find(|(code, _)| code == b) {
                Some((_, c)) => *c,
                None if (0x20..0x7F).contains(b) => char::from(*b),
                None => '?',
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_round_trip() {
        assert_eq!(Charset::parse("ucs2"), Some(Charset::Ucs2));
        assert_eq!(Charset::parse("HEX"), None);
        assert_eq!(Charset::Ucs2.encode("+49"), "002B00340039");
        assert_eq!(Charset::Ucs2.decode("002B00340039").as_deref(), Some("+49"));
        assert_eq!(Charset::Ucs2.decode("002B0034003"), None);
        assert_eq!(Charset::Gsm.encode("Grüße"), "Gr??e");
        assert_eq!(Charset::Ira.decode("+491").as_deref(), Some("+491"));
    }

    #[test]
    fn numbers_and_alpha_identifiers() {
        assert_eq!(number_and_type(0x91, "4912"), ("+4912".to_owned(), 145));
        assert_eq!(number_and_type(0x81, "0171"), ("0171".to_owned(), 129));
        assert_eq!(parse_number("+4912", None), Some(("4912".to_owned(), 0x91)));
        assert_eq!(parse_number("0171", Some(129)), Some(("0171".to_owned(), 0x81)));
        assert_eq!(parse_number("0171", Some(7)), None);
        assert_eq!(parse_number("+", None), None);
        assert_eq!(sim_alpha(&[b'M', b'y', 0x00, 0xFF, 0xFF]), "My@");
        assert_eq!(sim_alpha(&[0x80, 0x00, 0x41, 0xFF, 0xFF]), "A");
        assert_eq!(sim_alpha(&[0xFF; 4]), "");
    }
}
