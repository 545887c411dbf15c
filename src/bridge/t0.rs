//! T=0 transmission facts the bridge needs: which way a command's P3 bytes flow, and how a
//! TPDU becomes an APDU for PC/SC.

/// Where the P3 bytes of a T=0 command go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// P3 bytes of command data follow the header (cases 3 and 4); the card asks for them
    /// with a procedure byte.
    ToCard,
    /// P3 is the number of response bytes expected (case 2; 00 means 256), or nothing at all
    /// (case 1).
    FromCard,
}

/// The direction of a command by its instruction (ETSI TS 102 221 §10, TS 51.011 §9, TS 102
/// 223 for CAT). An instruction the table does not know is taken as `FromCard`: the card then
/// answers its own status word (6D00) without any data having been requested.
pub fn direction(ins: u8, p3: u8) -> Direction {
    match ins {
        // SELECT, UPDATE BINARY/RECORD, SEARCH RECORD, INCREASE, VERIFY/CHANGE/DISABLE/ENABLE/
        // UNBLOCK PIN, AUTHENTICATE / RUN GSM ALGORITHM, TERMINAL PROFILE, TERMINAL RESPONSE,
        // ENVELOPE, SET DATA, ACTIVATE/DEACTIVATE FILE.
        0xA4 | 0xD6 | 0xDC | 0xA2 | 0x32 | 0x24 | 0x26 | 0x28 | 0x2C | 0x88 | 0x89 | 0x10 | 0x14 | 0xC2
        | 0xDB | 0x44 | 0x04 => Direction::ToCard,
        // VERIFY with P3 = 0 asks for the retry counter and carries no data.
        0x20 if p3 > 0 => Direction::ToCard,
        _ => Direction::FromCard,
    }
}

/// The APDU to send through PC/SC for a complete T=0 command.
pub fn to_apdu(header: &[u8; 5], data: &[u8]) -> Vec<u8> {
    let [.., ins, _, _, p3] = *header;
    match direction(ins, p3) {
        Direction::ToCard => [&header[..], data].concat(),
        // Case 1 (no data either way, e.g. VERIFY asking for its counter): four bytes, else
        // PC/SC would read P3 = 00 as "256 bytes expected".
        Direction::FromCard if p3 == 0 && is_case1(ins) => header[..4].to_vec(),
        Direction::FromCard => header.to_vec(),
    }
}

fn is_case1(ins: u8) -> bool {
    matches!(ins, 0x20 | 0x70 | 0x44 | 0x04)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_of_common_usim_commands() {
        assert_eq!(direction(0xA4, 2), Direction::ToCard); // SELECT
        assert_eq!(direction(0x88, 0x22), Direction::ToCard); // AUTHENTICATE
        assert_eq!(direction(0xB0, 9), Direction::FromCard); // READ BINARY
        assert_eq!(direction(0xC0, 0x35), Direction::FromCard); // GET RESPONSE
        assert_eq!(direction(0x20, 0), Direction::FromCard); // VERIFY, counter query
        assert_eq!(direction(0x20, 8), Direction::ToCard); // VERIFY with PIN
    }

    #[test]
    fn tpdu_to_apdu() {
        assert_eq!(to_apdu(&[0, 0xA4, 0, 4, 2], &[0x3F, 0]), vec![0, 0xA4, 0, 4, 2, 0x3F, 0]);
        assert_eq!(to_apdu(&[0, 0xB0, 0, 0, 9], &[]), vec![0, 0xB0, 0, 0, 9]);
        assert_eq!(to_apdu(&[0, 0x20, 0, 1, 0], &[]), vec![0, 0x20, 0, 1]);
    }
}
