//! The card's telephone numbers: its own number (EF_MSISDN) and its carrier's SMS service
//! centre (EF_SMSP), both made up so that no real subscriber or service centre is named.
//!
//! The country code comes from the IMSI's MCC (E.212 → E.164) for the countries below, else
//! the unassigned code 999 (ITU-T E.164: reserved for a possible future global service). After
//! the country code:
//! - **+1** (NANP): 555-0100 to 555-0199 are reserved for fictional use in every area code;
//!   the card is +1 201 555 01xx (xx = the IMSI's last two digits, 00–98) and the service
//!   centre +1 201 555 0199.
//! - **+44**: Ofcom keeps 07700 900000–900999 for drama; the card is +44 7700 900xxx (xxx =
//!   the IMSI's last three digits, 000–998), the service centre +44 7700 900999.
//! - **elsewhere**: the national number starts with the trunk prefix 0, which no national
//!   significant number of these countries starts with (that is why Italy, whose fixed numbers
//!   keep their 0, is not in the table), so no subscriber has it: the card is +CC 0 MSIN, the
//!   service centre +CC 0 MNC 00000 (shorter than any MSIN, so never the card's own).

/// E.164 country code by MCC range (ITU-T E.212 Annex A).
const COUNTRY_CODES: &[(u16, u16, &str)] = &[
    (204, 204, "31"), // Netherlands
    (206, 206, "32"), // Belgium
    (208, 208, "33"), // France
    (214, 214, "34"), // Spain
    (228, 228, "41"), // Switzerland
    (232, 232, "43"), // Austria
    (234, 235, "44"), // United Kingdom
    (240, 240, "46"), // Sweden
    (262, 262, "49"), // Germany
    (302, 302, "1"),  // Canada
    (310, 316, "1"),  // United States
    (404, 406, "91"), // India
    (440, 441, "81"), // Japan
    (450, 450, "82"), // South Korea
    (460, 460, "86"), // China
    (505, 505, "61"), // Australia
    (530, 530, "64"), // New Zealand
    (655, 655, "27"), // South Africa
    (724, 724, "55"), // Brazil
];

/// Not assigned to any country (reserved by ITU-T for a possible future global service).
const UNASSIGNED_CC: &str = "999";

/// The E.164 country code for the IMSI's MCC.
pub(crate) fn country_code(imsi: &str) -> &'static str {
    let mcc = imsi.get(..3).and_then(|m| m.parse::<u16>().ok()).unwrap_or(0);
    COUNTRY_CODES.iter().find(|(lo, hi, _)| (*lo..=*hi).contains(&mcc)).map_or(UNASSIGNED_CC, |e| e.2)
}

/// The last `n` digits of `digits` as a number modulo `modulo`, zero-padded to `n` digits.
fn tail(digits: &str, n: usize, modulo: u32) -> String {
    let start = digits.len().saturating_sub(n);
    let value = digits[start..].parse::<u32>().unwrap_or(0) % modulo;
    format!("{value:0n$}")
}

/// The card's own number in international form, digits only (no `+`).
pub(crate) fn msisdn(imsi: &str, mnc_len: u8) -> String {
    let cc = country_code(imsi);
    match cc {
        "1" => format!("1201555{}{}", "01", tail(imsi, 2, 99)),
        "44" => format!("447700900{}", tail(imsi, 3, 999)),
        _ => format!("{cc}0{}", imsi.get(3 + usize::from(mnc_len)..).unwrap_or("")),
    }
}

/// The carrier's SMS service centre in international form, digits only.
pub(crate) fn service_centre(imsi: &str, mnc_len: u8) -> String {
    let cc = country_code(imsi);
    match cc {
        "1" => "12015550199".to_owned(),
        "44" => "447700900999".to_owned(),
        _ => format!("{cc}0{}00000", imsi.get(3..3 + usize::from(mnc_len)).unwrap_or("")),
    }
}

/// Type of number "international", numbering plan "ISDN/E.164", extension bit set.
const INTERNATIONAL: u8 = 0x91;

/// A number as BCD after its TON/NPI byte, at most 10 bytes (20 digits) as in a dialling
/// number record.
fn number_bcd(digits: &str) -> Vec<u8> {
    // Digits: an MSISDN or a service centre address made from the IMSI's.
    let mut bcd = crate::encoding::bcd::encode(digits).unwrap_or_default();
    bcd.truncate(10);
    bcd
}

/// Length of the dialling number records (EF_MSISDN, EF_ADN): 12 bytes of alpha identifier
/// plus the 14 bytes of the number part (TS 31.102 §4.4.2.3, TS 51.011 §10.5.1).
pub(crate) const DIALLING_RECORD: usize = 26;

/// A dialling number record: alpha identifier (`alpha`, GSM default alphabet, FF-padded),
/// length of the BCD number in bytes including TON/NPI, TON/NPI, the number (10 bytes,
/// FF-padded), capability/configuration identifier FF and extension record FF (none).
pub(crate) fn dialling_record(alpha: &str, digits: &str) -> Vec<u8> {
    let alpha_len = DIALLING_RECORD - 14;
    let mut rec = super::files::pad(&super::names::gsm_text(alpha), alpha_len);
    let bcd = number_bcd(digits);
    rec.push((bcd.len() + 1) as u8);
    rec.push(INTERNATIONAL);
    rec.extend(super::files::pad(&bcd, 10));
    rec.extend([0xFF, 0xFF]);
    rec
}

/// Length of the EF_SMSP records: 12 bytes of alpha identifier plus the 28 bytes of parameters.
pub(crate) const SMSP_RECORD: usize = 40;

/// Parameter indicators: bits set = absent. b1 TP-Destination Address absent; b2 TS-Service
/// Centre Address, b3 TP-PID, b4 TP-DCS, b5 TP-Validity Period present; b6–b8 unused (1).
const SMSP_INDICATORS: u8 = 0xE1;

/// TP-Validity Period, relative format (TS 23.040 §9.2.3.12.1): A7 = 12 h + 24 × 30 min = 24 h.
const VALIDITY_24H: u8 = 0xA7;

/// One EF_SMSP record (TS 31.102 §4.2.27, TS 51.011 §10.5.6): alpha identifier, parameter
/// indicators, TP-Destination Address (12 bytes, unused: FF), TS-Service Centre Address (12
/// bytes: length in bytes of TON/NPI plus number, TON/NPI, BCD number, FF-padded, as the
/// RP address of TS 24.011 §8.2.5), TP-PID 00 (plain SMS), TP-DCS 00 (GSM default alphabet),
/// TP-Validity Period 24 h.
pub(crate) fn smsp_record(service_centre: &str) -> Vec<u8> {
    let mut rec = vec![0xFF; SMSP_RECORD - 28];
    rec.push(SMSP_INDICATORS);
    rec.extend([0xFF; 12]);
    let bcd = number_bcd(service_centre);
    let mut address = vec![(bcd.len() + 1) as u8, INTERNATIONAL];
    address.extend(bcd);
    rec.extend(super::files::pad(&address, 12));
    rec.extend([0x00, 0x00, VALIDITY_24H]);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::encoding::hex::encode_lower as hex;

    #[test]
    fn test_ranges_by_country() {
        assert_eq!(msisdn("310260990000061", 3), "12015550161");
        assert_eq!(service_centre("310260990000061", 3), "12015550199");
        assert_eq!(msisdn("310260990000099", 3), "12015550100", "99 is the service centre's");
        assert_eq!(msisdn("234309900000041", 2), "447700900041");
        assert_eq!(service_centre("234159900000031", 2), "447700900999");
        assert_eq!(msisdn("262019900000001", 2), "4909900000001");
        assert_eq!(service_centre("262019900000001", 2), "4900100000");
        assert_eq!(msisdn("440109900000081", 2), "8109900000081");
        assert_eq!(msisdn("001019900000001", 2), "99909900000001", "unknown MCC");
        assert_eq!(country_code("302720123456789"), "1");
        assert_eq!(country_code("222011234567890"), UNASSIGNED_CC, "Italy is left out");
    }

    #[test]
    fn records_match_the_pysim_examples() {
        // pySim's EF_SMSP example: "e1" + FF × 12 + "0891945197109099f9ffffff" + "0000a9",
        // whose address is +4915790109999; ours has VP A7 instead of A9.
        let rec = smsp_record("4915790109999");
        assert_eq!(rec.len(), SMSP_RECORD);
        assert_eq!(hex(&rec[12..]), format!("e1{}0891945197109099f9ffffff0000a7", "ff".repeat(12)));
        // pySim's EF_MSISDN example (TON international): 08 91 947172199181f3 for +4917279119183.
        let rec = dialling_record("", "4917279119183");
        assert_eq!(hex(&rec), format!("{}0891947172199181f3ffffffffff", "ff".repeat(12)));
    }
}
