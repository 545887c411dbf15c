//! ISO 7816-4 facts every part of the card path needs, and the names of the UICC's files.

/// Splits a response APDU into its data and status word. A response too short to hold a status
/// word reads as 6F00, "technical problem", which is what it is.
pub fn split_sw(response: &[u8]) -> (&[u8], u16) {
    match response.len() {
        0 | 1 => (&[], 0x6F00),
        n => (&response[..n - 2], u16::from_be_bytes([response[n - 2], response[n - 1]])),
    }
}

/// The name the standards give a file ID (`0x6F07` → `EF.IMSI`), for people reading a trace.
/// A FID names a file only within its DF, and a trace knows the FID alone: where DF.GSM
/// (TS 51.011) reuses an ADF.USIM (TS 31.102) FID for another file, the USIM name is given
/// (6F38 is EF.UST, the 2G EF.SST; 6F05 is EF.LI, the 2G EF.LP). `0x7FFF` is the current
/// application's ADF, which the bench's cards and modems only ever use for the USIM. Files the
/// table does not know give `None`: show them in hex.
pub fn file_name(fid: u16) -> Option<&'static str> {
    Some(match fid {
        // TS 102 221 §13: the MF and its files.
        0x3F00 => "MF",
        0x2F00 => "EF.DIR",
        0x2F05 => "EF.PL",
        0x2F06 => "EF.ARR",
        0x2F08 => "EF.UMPC",
        0x2FE2 => "EF.ICCID",
        // Directories.
        0x7FFF => "ADF.USIM",
        0x7F10 => "DF.TELECOM",
        0x7F20 => "DF.GSM",
        0x7F21 => "DF.DCS1800",
        0x5F3A => "DF.PHONEBOOK",
        0x5F3B => "DF.GSM-ACCESS",
        0x5F50 => "DF.GRAPHICS",
        0x5FC0 => "DF.5GS",
        // DF.GSM-ACCESS (TS 31.102 §4.4.3).
        0x4F20 => "EF.Kc",
        0x4F52 => "EF.KcGPRS",
        // ADF.USIM (TS 31.102 §4.2), with the DF.GSM (TS 51.011 §10.3) and DF.TELECOM
        // (TS 51.011 §10.5) files of the same FID.
        0x6F05 => "EF.LI",
        0x6F06 => "EF.ARR",
        0x6F07 => "EF.IMSI",
        0x6F08 => "EF.Keys",
        0x6F09 => "EF.KeysPS",
        0x6F20 => "EF.Kc",
        0x6F2C => "EF.DCK",
        0x6F30 => "EF.PLMNsel",
        0x6F31 => "EF.HPPLMN",
        0x6F32 => "EF.CNL",
        0x6F37 => "EF.ACMmax",
        0x6F38 => "EF.UST",
        0x6F39 => "EF.ACM",
        0x6F3A => "EF.ADN",
        0x6F3B => "EF.FDN",
        0x6F3C => "EF.SMS",
        0x6F3E => "EF.GID1",
        0x6F3F => "EF.GID2",
        0x6F40 => "EF.MSISDN",
        0x6F41 => "EF.PUCT",
        0x6F42 => "EF.SMSP",
        0x6F43 => "EF.SMSS",
        0x6F44 => "EF.LND",
        0x6F45 => "EF.CBMI",
        0x6F46 => "EF.SPN",
        0x6F47 => "EF.SMSR",
        0x6F48 => "EF.CBMID",
        0x6F49 => "EF.SDN",
        0x6F4A => "EF.EXT1",
        0x6F4B => "EF.EXT2",
        0x6F4C => "EF.EXT3",
        0x6F4D => "EF.BDN",
        0x6F4E => "EF.EXT5",
        0x6F50 => "EF.CBMIR",
        0x6F52 => "EF.KcGPRS",
        0x6F53 => "EF.LOCIGPRS",
        0x6F55 => "EF.EXT4",
        0x6F56 => "EF.EST",
        0x6F57 => "EF.ACL",
        0x6F58 => "EF.CMI",
        0x6F5B => "EF.START-HFN",
        0x6F5C => "EF.THRESHOLD",
        0x6F60 => "EF.PLMNwAcT",
        0x6F61 => "EF.OPLMNwAcT",
        0x6F62 => "EF.HPLMNwAcT",
        0x6F73 => "EF.PSLOCI",
        0x6F74 => "EF.BCCH",
        0x6F78 => "EF.ACC",
        0x6F7B => "EF.FPLMN",
        0x6F7E => "EF.LOCI",
        0x6F80 => "EF.ICI",
        0x6F81 => "EF.OCI",
        0x6F82 => "EF.ICT",
        0x6F83 => "EF.OCT",
        0x6FAD => "EF.AD",
        0x6FAE => "EF.Phase",
        0x6FB7 => "EF.ECC",
        0x6FC3 => "EF.HiddenKey",
        0x6FC4 => "EF.NETPAR",
        0x6FC5 => "EF.PNN",
        0x6FC6 => "EF.OPL",
        0x6FC7 => "EF.MBDN",
        0x6FC9 => "EF.MBI",
        0x6FCA => "EF.MWIS",
        0x6FCB => "EF.CFIS",
        0x6FCD => "EF.SPDI",
        0x6FD9 => "EF.EHPLMN",
        0x6FDB => "EF.EHPLMNPI",
        0x6FDC => "EF.LRPLMNSI",
        0x6FE3 => "EF.EPSLOCI",
        0x6FE4 => "EF.EPSNSC",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_files_as_the_standards_do() {
        assert_eq!(file_name(0x3F00), Some("MF"));
        assert_eq!(file_name(0x7FFF), Some("ADF.USIM"));
        assert_eq!(file_name(0x2FE2), Some("EF.ICCID"));
        assert_eq!(file_name(0x6F07), Some("EF.IMSI"));
        assert_eq!(file_name(0x6F61), Some("EF.OPLMNwAcT"));
        assert_eq!(file_name(0x6FE3), Some("EF.EPSLOCI"));
        assert_eq!(file_name(0x6F00), None);
    }

    #[test]
    fn splits_data_and_status_word() {
        assert_eq!(split_sw(&[1, 2, 0x90, 0]), (&[1u8, 2][..], 0x9000));
        assert_eq!(split_sw(&[0x90]), (&[][..], 0x6F00));
    }
}
