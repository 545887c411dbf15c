//! The carrier's name on the card: EF_SPN (TS 31.102 §4.2.12) and EF_PNN (§4.2.58), both in
//! the GSM default alphabet (TS 23.038 §6.2.1).

/// Characters whose GSM default alphabet code equals their ASCII code. Others (`@`, `$`, `_`,
/// brackets, accents, ...) have other codes or need the escape table, and become `?`.
fn gsm_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || " !\"#%&'()*+,-./:;<=>?".contains(c)
}

/// The name as GSM default alphabet codes, one per character.
pub(crate) fn gsm_text(name: &str) -> Vec<u8> {
    name.chars().map(|c| if gsm_safe(c) { c as u8 } else { b'?' }).collect()
}

/// At most `max` characters of `name`, cut after the last whole word that fits when it is
/// longer ("Telekom Deutschland" in 16 → "Telekom"); a first word longer than `max` is cut.
pub(crate) fn shorten(name: &str, max: usize) -> String {
    let name = name.trim();
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let head: String = name.chars().take(max + 1).collect();
    match head.rfind(' ') {
        Some(space) if !head[..space].trim_end().is_empty() => head[..space].trim_end().to_owned(),
        _ => name.chars().take(max).collect(),
    }
}

/// EF_SPN: 17 bytes. Display condition 01 (b1: show the registered PLMN's name too when on
/// the HPLMN or a PLMN of EF_SPDI; b2 = 0: show the SPN when roaming), then the name (at most
/// 16 characters, see [`shorten`]) FF-padded.
pub(crate) fn spn_bytes(name: &str) -> Vec<u8> {
    let mut out = vec![0x01];
    out.extend(super::files::pad(&gsm_text(&shorten(name, 16)), 16));
    out
}

/// GSM 7-bit packing (TS 23.038 §6.1.2.1.1): septets fill each octet from bit 1 upwards.
/// Returns the octets and the number of unused bits in the last one.
pub(crate) fn pack7(septets: &[u8]) -> (Vec<u8>, u8) {
    let mut out = Vec::with_capacity((septets.len() * 7).div_ceil(8));
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &s in septets {
        acc |= u32::from(s & 0x7F) << bits;
        bits += 7;
        while bits >= 8 {
            out.push((acc & 0xFF) as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push((acc & 0xFF) as u8);
    }
    let spare = ((8 - (septets.len() * 7) % 8) % 8) as u8;
    (out, spare)
}

/// A network name TLV of EF_PNN: `tag`, length, then the TS 24.008 §10.5.3.5a Network Name
/// IE from octet 3: ext = 1, coding scheme 000 (GSM default alphabet, packed), no country
/// initials, spare bits in the last octet; then the packed text.
pub(crate) fn network_name(tag: u8, name: &str) -> Vec<u8> {
    let (packed, spare) = pack7(&gsm_text(name));
    let mut value = vec![0x80 | spare];
    value.extend(packed);
    crate::encoding::tlv(tag, &value)
}

/// EF_PNN record length: room for a 32-character full name (3 + 28 bytes) and a 16-character
/// short name (3 + 14 bytes).
pub(crate) const PNN_RECORD: usize = 48;

/// One EF_PNN record: full name (tag 43) = the carrier's name cut to 32 characters, short name
/// (tag 45) = the name as EF_SPN shows it (16 characters).
pub(crate) fn pnn_record(name: &str) -> Vec<u8> {
    let mut rec = network_name(0x43, &shorten(name, 32));
    rec.extend(network_name(0x45, &shorten(name, 16)));
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::encoding::hex::encode_lower as hex;

    #[test]
    fn packing_matches_ts_23_038_examples() {
        // "hellohello" is the classic SMS example: e8329bfd4697d9ec37.
        assert_eq!(pack7(b"hellohello"), (vec![0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37], 2));
        assert_eq!(pack7(b"12345678"), (vec![0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x70], 0));
        assert_eq!(pack7(b""), (vec![], 0));
    }

    #[test]
    fn names_are_cut_at_words_and_mapped_to_gsm() {
        assert_eq!(shorten("Telekom Deutschland", 16), "Telekom");
        assert_eq!(shorten("Vodafone Germany", 16), "Vodafone Germany");
        assert_eq!(shorten("Supercalifragilistic", 16), "Supercalifragili");
        assert_eq!(gsm_text("AT&T_$"), b"AT&T??".to_vec());
        assert_eq!(hex(&spn_bytes("AT&T Mobility")), "0141542654204d6f62696c697479ffffff");
        // Full and short name both "EE": 2 septets in 2 octets, 2 spare bits.
        assert_eq!(hex(&pnn_record("EE")), "430382c522450382c522");
    }
}
