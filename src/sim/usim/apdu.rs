//! Command TPDUs in, status words out.
//!
//! The card speaks two dialects on one file system, as a real dual-mode USIM does: the UICC
//! (ETSI TS 102 221, classes `0X`/`8X`) and the 2G SIM (TS 51.011, class `A0`). A failure is
//! named once ([`Fail`]) and each dialect spells it with its own status word.

/// Which specification a command's class byte puts it under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// TS 102 221: status words of ISO 7816-4, responses through `61xx`.
    Uicc,
    /// TS 51.011: the 2G status words, responses through `9Fxx`.
    Gsm,
}

/// The class byte's group, which decides what instructions it may carry (TS 102 221 §10.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClassGroup {
    /// `0X`: ISO 7816-4 commands (SELECT, READ BINARY, VERIFY, AUTHENTICATE, ...).
    Iso,
    /// `8X`: TS 102 221 commands (STATUS, TERMINAL PROFILE, FETCH, ENVELOPE, ...).
    Proprietary,
    /// `A0`: every TS 51.011 command.
    Gsm,
}

impl ClassGroup {
    pub(crate) fn dialect(self) -> Dialect {
        if self == ClassGroup::Gsm { Dialect::Gsm } else { Dialect::Uicc }
    }
}

/// One command in T=0 TPDU form: `CLA INS P1 P2 P3 [data]`.
#[derive(Debug, Clone)]
pub(crate) struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Lc for commands that send data, Le for commands that expect it.
    pub p3: u8,
    pub data: &'a [u8],
}

impl<'a> Command<'a> {
    /// Splits the header from the body. A 4-byte command (ISO case 1) reads as P3 = 0, which is
    /// what a reader sends in its place under T=0.
    pub(crate) fn parse(apdu: &'a [u8]) -> Option<Command<'a>> {
        let (&[cla, ins, p1, p2], rest) = apdu.split_first_chunk::<4>()?;
        let (p3, data) = rest.split_first().map_or((0, &[][..]), |(p3, data)| (*p3, data));
        Some(Command { cla, ins, p1, p2, p3, data })
    }

    /// Le of a command that only expects data (ISO case 2): P3, with no data allowed after it.
    pub(crate) fn le(&self) -> Result<u8, Fail> {
        if self.data.is_empty() { Ok(self.p3) } else { Err(Fail::WrongLength) }
    }

    /// The data of a command that sends data (case 3 or 4). For case 4 commands a trailing Le
    /// byte is tolerated, because PC/SC applications often append one; the answer still comes
    /// through `61xx` as T=0 prescribes.
    pub(crate) fn body(&self, case4: bool) -> Result<&'a [u8], Fail> {
        let lc = usize::from(self.p3);
        match self.data.len() {
            n if n == lc => Ok(self.data),
            n if case4 && n == lc + 1 => Ok(&self.data[..lc]),
            _ => Err(Fail::WrongLength),
        }
    }

    /// Like [`body`](Self::body), but the data must be exactly `len` bytes.
    pub(crate) fn body_of(&self, len: usize, case4: bool) -> Result<&'a [u8], Fail> {
        let body = self.body(case4)?;
        if body.len() == len { Ok(body) } else { Err(Fail::WrongLength) }
    }
}

/// Reads the class byte. Logical channels other than the basic one and secure messaging are
/// not supported (MANAGE CHANNEL answers `6881` too; see `card.rs`).
pub(crate) fn class_group(cla: u8) -> Result<ClassGroup, Fail> {
    match cla {
        0xA0 => Ok(ClassGroup::Gsm),
        0x00..=0x0F | 0x80..=0x8F => {
            if cla & 0x0C != 0 {
                Err(Fail::SecureMessaging)
            } else if cla & 0x03 != 0 {
                Err(Fail::ChannelNotSupported)
            } else if cla & 0x80 == 0 {
                Ok(ClassGroup::Iso)
            } else {
                Ok(ClassGroup::Proprietary)
            }
        }
        0x40..=0x7F | 0xC0..=0xFF => Err(Fail::ChannelNotSupported),
        _ => Err(Fail::ClaNotSupported),
    }
}

/// Why a command failed, independent of dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// P3 does not fit the command.
    WrongLength,
    /// Le differs from the data available; carries the right length (0 stands for 256).
    WrongLe(u8),
    /// P1/P2 out of range for this command.
    WrongP1P2,
    /// P1/P2 name a function this card does not offer (ISO 7816-4 `6A86`).
    IncorrectP1P2,
    FileNotFound,
    RecordNotFound,
    /// Offset beyond the end of the file.
    OutOfRange,
    /// Data would run past the end of the file.
    Overflow,
    NoEfSelected,
    /// E.g. READ BINARY on a record file.
    Incompatible,
    SecurityNotSatisfied,
    PinBlocked,
    /// Wrong PIN (or a VERIFY without data while unverified); carries the tries left.
    PinWrong(u8),
    /// A key or PIN reference the card does not have.
    ReferenceNotFound,
    ConditionsNotSatisfied,
    BadData,
    InsNotSupported,
    ClaNotSupported,
    ChannelNotSupported,
    SecureMessaging,
    /// Also the answer to GET RESPONSE and FETCH when there is nothing to fetch.
    Technical,
    /// AUTHENTICATE: MAC-A did not verify.
    AuthMac,
    /// AUTHENTICATE: a security context the USIM does not support.
    ContextNotSupported,
}

impl Fail {
    pub(crate) fn sw(self, dialect: Dialect) -> [u8; 2] {
        match dialect {
            Dialect::Uicc => self.uicc_sw(),
            Dialect::Gsm => self.gsm_sw(),
        }
    }

    /// TS 102 221 §10.2.1.
    fn uicc_sw(self) -> [u8; 2] {
        match self {
            Fail::WrongLength => [0x67, 0x00],
            Fail::WrongLe(n) => [0x6C, n],
            Fail::WrongP1P2 | Fail::OutOfRange => [0x6B, 0x00],
            Fail::IncorrectP1P2 => [0x6A, 0x86],
            Fail::FileNotFound => [0x6A, 0x82],
            Fail::RecordNotFound => [0x6A, 0x83],
            Fail::Overflow => [0x67, 0x00],
            Fail::NoEfSelected => [0x69, 0x86],
            Fail::Incompatible => [0x69, 0x81],
            Fail::SecurityNotSatisfied => [0x69, 0x82],
            Fail::PinBlocked => [0x69, 0x83],
            Fail::PinWrong(left) => [0x63, 0xC0 | (left & 0x0F)],
            Fail::ReferenceNotFound => [0x6A, 0x88],
            Fail::ConditionsNotSatisfied => [0x69, 0x85],
            Fail::BadData => [0x6A, 0x80],
            Fail::InsNotSupported => [0x6D, 0x00],
            Fail::ClaNotSupported => [0x6E, 0x00],
            Fail::ChannelNotSupported => [0x68, 0x81],
            Fail::SecureMessaging => [0x68, 0x82],
            Fail::Technical => [0x6F, 0x00],
            Fail::AuthMac => [0x98, 0x62],
            Fail::ContextNotSupported => [0x98, 0x64],
        }
    }

    /// TS 51.011 §9.4.
    fn gsm_sw(self) -> [u8; 2] {
        match self {
            Fail::WrongLength => [0x67, 0x00],
            Fail::WrongLe(n) => [0x67, n],
            Fail::WrongP1P2 | Fail::IncorrectP1P2 | Fail::BadData | Fail::ContextNotSupported => [0x6B, 0x00],
            Fail::FileNotFound => [0x94, 0x04],
            Fail::RecordNotFound | Fail::OutOfRange | Fail::Overflow => [0x94, 0x02],
            Fail::NoEfSelected => [0x94, 0x00],
            Fail::Incompatible => [0x94, 0x08],
            Fail::SecurityNotSatisfied | Fail::PinWrong(1..) => [0x98, 0x04],
            Fail::PinBlocked | Fail::PinWrong(0) => [0x98, 0x40],
            Fail::ReferenceNotFound => [0x98, 0x02],
            Fail::ConditionsNotSatisfied => [0x98, 0x08],
            Fail::InsNotSupported => [0x6D, 0x00],
            Fail::ClaNotSupported | Fail::ChannelNotSupported | Fail::SecureMessaging => [0x6E, 0x00],
            Fail::Technical | Fail::AuthMac => [0x6F, 0x00],
        }
    }
}

/// The length a response of `len` bytes announces in `61xx`, `9Fxx` or `6Cxx` (256 is `00`).
pub(crate) fn len_byte(len: usize) -> u8 {
    (len.min(256) & 0xFF) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert!(Command::parse(&[0x00, 0xA4, 0x00]).is_none());
        let c = Command::parse(&[0x00, 0xB0, 0x00, 0x00]).unwrap();
        assert_eq!((c.p3, c.data.len()), (0, 0));
        let c = Command::parse(&[0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00]).unwrap();
        assert_eq!(c.body(true).unwrap(), &[0x3F, 0x00]);
        assert_eq!(c.body(false), Err(Fail::WrongLength));
    }

    #[test]
    fn classes() {
        assert_eq!(class_group(0x00), Ok(ClassGroup::Iso));
        assert_eq!(class_group(0x80), Ok(ClassGroup::Proprietary));
        assert_eq!(class_group(0xA0), Ok(ClassGroup::Gsm));
        assert_eq!(class_group(0x01), Err(Fail::ChannelNotSupported));
        assert_eq!(class_group(0x44), Err(Fail::ChannelNotSupported));
        assert_eq!(class_group(0x0C), Err(Fail::SecureMessaging));
        assert_eq!(class_group(0x20), Err(Fail::ClaNotSupported));
        assert_eq!(class_group(0xB0), Err(Fail::ClaNotSupported));
    }
}
