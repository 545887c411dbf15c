//! Card and network identities, each validated on construction.
//!
//! Parse functions return a sentence saying what is wrong and what would be right; the fixture
//! loader puts it next to the offending key.

use std::fmt;

/// A network system (radio access technology).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rat {
    Gsm,
    Umts,
    Lte,
    Nr,
}

impl Rat {
    pub const NAMES: &'static [&'static str] = &["gsm", "umts", "lte", "nr"];

    pub fn parse(s: &str) -> Option<Rat> {
        match s {
            "gsm" => Some(Rat::Gsm),
            "umts" => Some(Rat::Umts),
            "lte" => Some(Rat::Lte),
            "nr" => Some(Rat::Nr),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rat::Gsm => "gsm",
            Rat::Umts => "umts",
            Rat::Lte => "lte",
            Rat::Nr => "nr",
        }
    }
}

impl fmt::Display for Rat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The MCC of test networks (3GPP TS 23.003, ITU-T E.212), as lab network simulators use.
pub const TEST_MCC: &str = "001";

/// A public land mobile network code: 3-digit MCC and 2- or 3-digit MNC.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Plmn {
    mcc: String,
    mnc: String,
}

impl Plmn {
    /// Parses `MCC-MNC`, e.g. `262-02` or `310-260`.
    pub fn parse(s: &str) -> Result<Plmn, String> {
        let hint = "write MCC-MNC with a dash, e.g. \"262-02\" or \"310-260\"";
        let Some((mcc, mnc)) = s.split_once('-') else {
            return Err(format!("PLMN \"{s}\" has no dash; {hint}"));
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if mcc.len() != 3 || !digits(mcc) {
            return Err(format!("MCC \"{mcc}\" must be 3 digits; {hint}"));
        }
        if !(mnc.len() == 2 || mnc.len() == 3) || !digits(mnc) {
            return Err(format!("MNC \"{mnc}\" must be 2 or 3 digits; {hint}"));
        }
        // 001 is the 3GPP test network (TS 23.003), e.g. 001-01 on a lab's network simulator;
        // the rest of 0xx and 1xx is reserved.
        if (mcc.starts_with('0') || mcc.starts_with('1')) && mcc != TEST_MCC {
            return Err(format!(
                "MCC \"{mcc}\" is reserved (MCCs start with 2-7, or are 001 for a test network); {hint}"
            ));
        }
        Ok(Plmn { mcc: mcc.to_owned(), mnc: mnc.to_owned() })
    }

    pub fn mcc(&self) -> &str {
        &self.mcc
    }

    /// Whether this is a 3GPP test network (MCC 001), which belongs to no country.
    pub fn is_test_network(&self) -> bool {
        self.mcc == TEST_MCC
    }

    pub fn mnc(&self) -> &str {
        &self.mnc
    }

    /// MCC and MNC run together, as in an IMSI or `AT+COPS` numeric format.
    pub fn numeric(&self) -> String {
        format!("{}{}", self.mcc, self.mnc)
    }
}

impl fmt::Display for Plmn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.mcc, self.mnc)
    }
}

/// Integrated circuit card identifier: 19 or 20 digits, the last a Luhn check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iccid(String);

impl Iccid {
    pub fn parse(s: &str) -> Result<Iccid, String> {
        if let Some(bad) = s.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!("ICCID may only hold digits, found '{bad}'"));
        }
        if !(19..=20).contains(&s.len()) {
            return Err(format!("ICCID has {} digits; it must have 19 or 20", s.len()));
        }
        let (body, check) = s.split_at(s.len() - 1);
        let expected = luhn_check_digit(body);
        let found = check.as_bytes()[0] - b'0';
        if found != expected {
            return Err(format!(
                "ICCID check digit is {found}, but the Luhn check digit of {body} is {expected}"
            ));
        }
        Ok(Iccid(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Iccid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Luhn digit that makes `body` followed by it pass the Luhn check.
pub fn luhn_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// International mobile subscriber identity: 15 digits, MCC + MNC + MSIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Imsi(String);

impl Imsi {
    /// Parses an IMSI and checks that it belongs to `home` (its MCC and MNC, with the MNC
    /// length taken from the carrier).
    pub fn parse(s: &str, home: Option<&Plmn>) -> Result<Imsi, String> {
        if let Some(bad) = s.chars().find(|c| !c.is_ascii_digit()) {
            return Err(format!("IMSI may only hold digits, found '{bad}'"));
        }
        if s.len() != 15 {
            return Err(format!("IMSI has {} digits; it must have 15", s.len()));
        }
        if let Some(plmn) = home {
            let prefix = plmn.numeric();
            if !s.starts_with(&prefix) {
                let (mcc, rest) = s.split_at(3);
                let mnc = &rest[..plmn.mnc().len()];
                return Err(format!(
                    "IMSI starts with MCC {mcc} MNC {mnc}, but its home carrier is {plmn}; \
                     an IMSI of this carrier starts with {prefix}"
                ));
            }
        }
        Ok(Imsi(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Imsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_published_iccid() {
        // From usim-apdu.md: EF_ICCID 988812010000400310f0 = 8988211000000430010.
        assert!(Iccid::parse("8988211000000430010").is_ok());
        assert_eq!(luhn_check_digit("898821100000043001"), 0);
        let err = Iccid::parse("8988211000000430011").unwrap_err();
        assert!(err.contains("check digit is 1"), "{err}");
    }

    #[test]
    fn iccid_shape_errors() {
        assert!(Iccid::parse("89882110000004300").unwrap_err().contains("17 digits"));
        assert!(Iccid::parse("89882110000004300A0").unwrap_err().contains("'A'"));
    }

    #[test]
    fn plmn_forms() {
        assert_eq!(Plmn::parse("310-260").unwrap().numeric(), "310260");
        assert_eq!(Plmn::parse("262-02").unwrap().mnc(), "02");
        assert!(Plmn::parse("26202").unwrap_err().contains("no dash"));
        assert!(Plmn::parse("2620-2").unwrap_err().contains("MCC"));
        assert!(Plmn::parse("262-2").unwrap_err().contains("MNC"));
    }

    #[test]
    fn the_test_network_mcc_is_accepted_and_the_rest_of_0xx_and_1xx_is_not() {
        assert_eq!(Plmn::parse("001-01").unwrap().numeric(), "00101");
        assert_eq!(Plmn::parse("001-001").unwrap().mnc(), "001");
        for reserved in ["000-01", "002-01", "010-01", "099-01", "100-01", "199-01"] {
            let err = Plmn::parse(reserved).unwrap_err();
            assert!(err.contains("is reserved"), "{reserved}: {err}");
        }
        let test = Plmn::parse("001-01").unwrap();
        assert!(Imsi::parse("001010123456789", Some(&test)).is_ok());
        assert!(Imsi::parse("001020123456789", Some(&test)).unwrap_err().contains("MCC 001 MNC 02"));
    }

    #[test]
    fn imsi_must_match_home_with_its_mnc_length() {
        let us = Plmn::parse("310-260").unwrap();
        assert!(Imsi::parse("310260123456789", Some(&us)).is_ok());
        let err = Imsi::parse("310261234567890", Some(&us)).unwrap_err();
        assert!(err.contains("MCC 310 MNC 261"), "{err}");
        assert!(Imsi::parse("31026012345678", Some(&us)).unwrap_err().contains("14 digits"));
    }
}
