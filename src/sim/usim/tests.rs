//! Command-level tests of the virtual USIM, driven through `transmit` as a modem would.

use std::collections::BTreeMap;
use std::path::Path;

use super::milenage::{Milenage, resync_sqn};
use super::{UsimError, VirtualUsim};
use crate::encoding::bcd::digits as bcd_digits;
use crate::encoding::hex::{bytes as hex, encode_lower as to_hex};
use crate::model::secret::SecretFormat;
use crate::model::{Iccid, Imsi, Rat, Secret, Seed};

// Milenage test set 1 (milenage.md).
const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const RAND: &str = "23553cbe9637a89d218ae64dae47bf35";
const AUTN: &str = "55f328b43577b9b94a9ffac354dfafb3";
const RES: &str = "a54211d5e3ba50bf";
const CK: &str = "b40ba9a3c58b2a05bbf0d987b21bf8cb";
const IK: &str = "f769bcd751044604127672711c6d3441";
const KC: &str = "eae4be823af9a08b";
const SRES: &str = "46f8416a";
const SQN: u64 = 0xff9b_b4d0_b607;

const ICCID: &str = "8988211000000430010";
const ICCID_EF: &str = "988812010000400310f0";
const IMSI: &str = "262011106487504";
const IMSI_EF: &str = "082926101160845740";
const USIM_AID: &str = "a0000000871002ffffffff8907090000";
const PIN: &str = "2468";

fn seed_with(imsi: &str, pin: Option<&str>, sqn: Option<u64>) -> Seed {
    let base = Path::new(".");
    Seed {
        id: "test-seed".into(),
        description: String::new(),
        iccid: Iccid::parse(ICCID).unwrap(),
        imsi: Imsi::parse(imsi, None).unwrap(),
        home: "telekom-de".into(),
        rats: vec![Rat::Gsm, Rat::Umts, Rat::Lte],
        k: Secret::parse(K, SecretFormat::Hex(32), base).unwrap(),
        opc: Secret::parse(OPC, SecretFormat::Hex(32), base).unwrap(),
        sqn,
        pin: pin.map(|p| Secret::parse(p, SecretFormat::Pin, base).unwrap()),
        tariffs: BTreeMap::new(),
    }
}

fn card(pin: Option<&str>) -> VirtualUsim {
    VirtualUsim::from_seed(&seed_with(IMSI, pin, Some(SQN - 7))).unwrap()
}

/// Sends a command and splits the answer into data (hex) and status word (hex).
fn send(card: &mut VirtualUsim, apdu: &str) -> (String, String) {
    let out = card.transmit(&hex(apdu));
    assert!(out.len() >= 2);
    let (data, sw) = out.split_at(out.len() - 2);
    (to_hex(data), to_hex(sw))
}

fn sw(card: &mut VirtualUsim, apdu: &str) -> String {
    send(card, apdu).1
}

/// Sends a case 4 command and fetches its answer with GET RESPONSE of the announced length.
fn send_fetch(card: &mut VirtualUsim, apdu: &str, cla: &str) -> (String, String) {
    let (data, status) = send(card, apdu);
    assert!(data.is_empty(), "{apdu}: data before GET RESPONSE");
    if !(status.starts_with("61") || status.starts_with("9f")) {
        return (data, status);
    }
    send(card, &format!("{cla}c00000{}", &status[2..]))
}

fn select_adf(card: &mut VirtualUsim) {
    assert_eq!(sw(card, &format!("00a4040c10{USIM_AID}")), "9000");
}

fn select(card: &mut VirtualUsim, fid: &str) -> String {
    sw(card, &format!("00a4000c02{fid}"))
}

#[test]
fn atr_has_valid_check_byte() {
    let atr = card(None).atr().to_vec();
    assert_eq!(to_hex(&atr), "3b9f96801fc78031a073be21136743200718000001a5");
    assert_eq!(atr[1..].iter().fold(0u8, |a, b| a ^ b), 0);
}

#[test]
fn mf_then_iccid() {
    let mut c = card(None);
    let (fcp, status) = send_fetch(&mut c, "00a40004023f00", "00");
    assert_eq!(status, "9000");
    assert!(fcp.starts_with("62") && fcp.contains("82027821") && fcp.contains("83023f00"), "{fcp}");
    assert_eq!(select(&mut c, "2fe2"), "9000");
    assert_eq!(send(&mut c, "00b000000a"), (ICCID_EF.into(), "9000".into()));
    assert_eq!(c.iccid(), ICCID);
}

#[test]
fn adf_by_aid_then_imsi() {
    let mut c = card(None);
    assert_eq!(select(&mut c, "7fff"), "6a82", "7FFF before the application is selected");
    let (fcp, status) = send_fetch(&mut c, &format!("00a4040410{USIM_AID}"), "00");
    assert_eq!(status, "9000");
    assert!(fcp.contains(&format!("8410{USIM_AID}")), "{fcp}");
    assert!(fcp.contains("c609900140830101"), "PIN1 disabled in PS_DO: {fcp}");
    let (fcp, _) = send_fetch(&mut c, "00a40004026f07", "00");
    assert!(fcp.contains("82024121") && fcp.contains("80020009") && fcp.contains("880138"), "{fcp}");
    assert_eq!(send(&mut c, "00b0000009"), (IMSI_EF.into(), "9000".into()));
    assert_eq!(c.imsi(), IMSI);
    // Partial AID, and 7FFF once the application is active.
    assert_eq!(select(&mut c, "3f00"), "9000");
    assert_eq!(sw(&mut c, "00a4040c07a0000000871002"), "9000");
    assert_eq!(select(&mut c, "3f00"), "9000");
    assert_eq!(select(&mut c, "7fff"), "9000");
    assert_eq!(sw(&mut c, "00a4040c05a000000088"), "6a82");
}

#[test]
fn pin_enabled_shows_in_fcp() {
    let mut c = card(Some(PIN));
    let (fcp, _) = send_fetch(&mut c, &format!("00a4040410{USIM_AID}"), "00");
    assert!(fcp.contains("c6099001c0830101"), "{fcp}");
}

#[test]
fn select_by_path_and_parent() {
    let mut c = card(None);
    assert_eq!(sw(&mut c, "00a4080c047f206f07"), "9000");
    assert_eq!(send(&mut c, "00b0000009").0, IMSI_EF);
    assert_eq!(sw(&mut c, "00a4080c047fff6f07"), "6a82", "7FFF names no file before AID selection");
    select_adf(&mut c);
    assert_eq!(sw(&mut c, "00a4080c063f007fff6f7e"), "9000");
    assert_eq!(sw(&mut c, "00a4090c045f3b4f20"), "9000", "relative to the ADF");
    assert_eq!(sw(&mut c, "00a4030c00"), "9000", "parent of DF_GSM-ACCESS is the ADF");
    let (status, _) = send(&mut c, "80f2000000");
    assert!(status.contains(&format!("8410{USIM_AID}")), "{status}");
    assert_eq!(sw(&mut c, "00a4030c00"), "9000");
    assert_eq!(sw(&mut c, "00a4030c00"), "6a82", "the MF has no parent");
    assert_eq!(sw(&mut c, "00a4080c036f07"), "6700");
    assert_eq!(sw(&mut c, "00a4010c027f20"), "6a86");
    assert_eq!(sw(&mut c, "00a40008027f20"), "6a86");
}

#[test]
fn sibling_and_2g_views_share_contents() {
    let mut c = card(None);
    select_adf(&mut c);
    assert_eq!(select(&mut c, "7f20"), "9000", "a DF of the ADF's parent");
    assert_eq!(select(&mut c, "7f10"), "9000", "a sibling DF");
    assert_eq!(select(&mut c, "6f07"), "6a82", "not a child of DF_TELECOM");
}

#[test]
fn gsm_class_path() {
    let mut c = card(None);
    let (resp, status) = send_fetch(&mut c, "a0a40000023f00", "a0");
    assert_eq!(status, "9000");
    assert_eq!(resp.len(), 44, "22 bytes: {resp}");
    assert_eq!(&resp[8..14], "3f0001");
    assert_eq!(sw(&mut c, "a0a40000027f20"), "9f16");
    let (resp, _) = send(&mut c, "a0c0000016");
    assert_eq!(&resp[8..14], "7f2002");
    assert_eq!(sw(&mut c, "a0a40000026f07"), "9f0f");
    let (resp, status) = send(&mut c, "a0c000000f");
    assert_eq!(status, "9000");
    assert_eq!(&resp[4..14], "00096f0704", "size 9, FID 6F07, EF: {resp}");
    assert_eq!(&resp[26..30], "0000", "transparent: {resp}");
    assert_eq!(send(&mut c, "a0b0000009"), (IMSI_EF.into(), "9000".into()));
    assert_eq!(sw(&mut c, "a0b0000010"), "9402");
    assert_eq!(sw(&mut c, "a0a40000027fff"), "9404");
    assert_eq!(sw(&mut c, "a0a40000026f99"), "9404");
    assert_eq!(sw(&mut c, "a0a40004023f00"), "6b00");
    assert_eq!(sw(&mut c, "a0a4000003"), "6700");
    // A short read of the 2G response is allowed; a longer one names the length.
    assert_eq!(sw(&mut c, "a0a40000023f00"), "9f16");
    assert_eq!(send(&mut c, "a0c0000004"), ("00000000".into(), "9000".into()));
    assert_eq!(sw(&mut c, "a0a40000023f00"), "9f16");
    assert_eq!(sw(&mut c, "a0c0000030"), "6716");
    let (status, sw2) = send(&mut c, "a0f2000016");
    assert_eq!((&status[8..12], sw2.as_str()), ("3f00", "9000"));
}

#[test]
fn read_past_end() {
    let mut c = card(None);
    assert_eq!(select(&mut c, "2fe2"), "9000");
    assert_eq!(sw(&mut c, "00b0000a01"), "6b00", "offset at the end");
    assert_eq!(sw(&mut c, "00b0010001"), "6b00", "offset beyond");
    assert_eq!(sw(&mut c, "00b0000520"), "6c05", "Le beyond the end");
    assert_eq!(send(&mut c, "00b0000500"), ("0000400310f0".get(2..).unwrap().into(), "9000".into()));
    assert_eq!(send(&mut c, "00b0000000").0, ICCID_EF, "Le 00 reads to the end");
    assert_eq!(send(&mut c, "00b0000002").0, "9888");
}

#[test]
fn get_response_rules() {
    let mut c = card(None);
    assert_eq!(sw(&mut c, "00c0000010"), "6f00", "nothing announced");
    let status = sw(&mut c, "00a40004023f00");
    assert!(status.starts_with("61"));
    let n = u8::from_str_radix(&status[2..], 16).unwrap();
    assert_eq!(sw(&mut c, "80f2000c00"), "9000");
    assert_eq!(sw(&mut c, &format!("00c00000{n:02x}")), "6f00", "another command came between");
    assert_eq!(sw(&mut c, "00a40004023f00"), status);
    assert_eq!(sw(&mut c, &format!("00c00000{:02x}", n + 1)), format!("6c{n:02x}"), "Le too large");
    let (part, rest) = send(&mut c, "00c0000004");
    assert_eq!((part.len(), rest), (8, format!("61{:02x}", n - 4)));
    let (tail, done) = send(&mut c, &format!("00c00000{:02x}", n - 4));
    assert_eq!(done, "9000");
    assert!(part.starts_with("62") && part.len() + tail.len() == usize::from(n) * 2);
    assert_eq!(sw(&mut c, "00c0000004"), "6f00", "all handed out");
    assert_eq!(sw(&mut c, "00a40004023f00"), status);
    assert_eq!(sw(&mut c, "00c0010000"), "6b00");
    assert_eq!(sw(&mut c, "00c0000000"), "6f00", "a failed GET RESPONSE also discards the data");
}

#[test]
fn update_loci_and_read_back_in_both_views() {
    let mut c = card(None);
    select_adf(&mut c);
    assert_eq!(select(&mut c, "6f7e"), "9000");
    let loci = "1234567862f2100001ff00";
    assert_eq!(sw(&mut c, &format!("00d600000b{loci}")), "9000");
    assert_eq!(send(&mut c, "00b000000b"), (loci.into(), "9000".into()));
    assert_eq!(sw(&mut c, "00d6000a02ffff"), "6700", "past the end");
    assert_eq!(sw(&mut c, "00d6000b01ff"), "6b00", "offset past the end");
    assert_eq!(sw(&mut c, "00d600000bff"), "6700", "P3 disagrees with the data");
    assert_eq!(sw(&mut c, "a0a40000027f20"), "9f16");
    assert_eq!(sw(&mut c, "a0a40000026f7e"), "9f0f");
    assert_eq!(send(&mut c, "a0b000000b").0, loci, "DF_GSM shows the same LOCI");
    // Files the network provisions need ADM.
    assert_eq!(sw(&mut c, "a0a40000026f07"), "9f0f");
    assert_eq!(sw(&mut c, "a0d6000001ff"), "9804");
    select_adf(&mut c);
    assert_eq!(select(&mut c, "6f07"), "9000");
    assert_eq!(sw(&mut c, "00d6000001ff"), "6982");
    // By SFI: EF_LOCI is 0B.
    assert_eq!(select(&mut c, "3f00"), "9000");
    select_adf(&mut c);
    assert_eq!(send(&mut c, "00b08b0004").0, "12345678");
}

#[test]
fn records() {
    let mut c = card(None);
    assert_eq!(select(&mut c, "2f00"), "9000");
    let (rec, status) = send(&mut c, "00b2010420");
    assert_eq!(status, "9000");
    assert!(rec.starts_with(&format!("61{:02x}4f10{USIM_AID}", 2 + 16 + 6)), "{rec}");
    assert_eq!(sw(&mut c, "00b2020420"), "6a83");
    assert_eq!(sw(&mut c, "00b2010410"), "6c20");
    assert_eq!(send(&mut c, "00b2010400").0, rec);
    assert_eq!(send(&mut c, "00b2000400").0, rec, "current record");
    assert_eq!(sw(&mut c, "00b2000200"), "6a83", "no next record");
    assert_eq!(sw(&mut c, "00b2000300"), "6a83", "no previous record");
    assert_eq!(sw(&mut c, "00b2000500"), "6b00");
    assert_eq!(sw(&mut c, "00b0000001"), "6981", "READ BINARY on a record file");
    assert_eq!(sw(&mut c, "00dc010401ff"), "6982", "EF_DIR is updated with ADM only");
    // EF_DIR by SFI 1E from another file of the MF.
    assert_eq!(select(&mut c, "2fe2"), "9000");
    assert_eq!(send(&mut c, "00b201f400").0, rec);
    assert_eq!(sw(&mut c, "00b2010400"), "9000", "the SFI made EF_DIR current");
    // UPDATE RECORD on EF_MSISDN (26-byte records, PIN1).
    select_adf(&mut c);
    assert_eq!(select(&mut c, "6f40"), "9000");
    let msisdn = format!("{}07919462143658f7ffffffffffff", "ff".repeat(12));
    assert_eq!(sw(&mut c, &format!("00dc01041a{msisdn}")), "9000");
    assert_eq!(send(&mut c, "00b201041a").0, msisdn);
    assert_eq!(sw(&mut c, "00dc010401ff"), "6700", "not a whole record");
    assert_eq!(sw(&mut c, &format!("00dc02041a{msisdn}")), "6a83");
    assert_eq!(select(&mut c, "6f07"), "9000");
    assert_eq!(sw(&mut c, "00b2010409"), "6981", "READ RECORD on a transparent file");
}

#[test]
fn pin_flow() {
    let mut c = card(Some(PIN));
    let pin = format!("{}ffffffff", to_hex(PIN.as_bytes()));
    let wrong = "31313131ffffffff";
    select_adf(&mut c);
    assert_eq!(select(&mut c, "6f07"), "9000", "selecting needs no PIN");
    assert_eq!(sw(&mut c, "00b0000009"), "6982");
    assert_eq!(sw(&mut c, "a0b0000009"), "9804");
    assert_eq!(send(&mut c, "00b0000004").1, "6982");
    assert_eq!(select(&mut c, "6fad"), "9000");
    assert_eq!(sw(&mut c, "00b0000004"), "9000", "EF_AD is always readable");
    assert_eq!(sw(&mut c, "0020000100"), "63c3");
    assert_eq!(sw(&mut c, &format!("0020000108{wrong}")), "63c2");
    assert_eq!(sw(&mut c, &format!("0020000108{pin}")), "9000");
    assert_eq!(sw(&mut c, "0020000100"), "9000");
    assert_eq!(select(&mut c, "6f07"), "9000");
    assert_eq!(send(&mut c, "00b0000009").0, IMSI_EF);
    assert_eq!(sw(&mut c, "0020000107ffffffffffffff"), "6700");
    assert_eq!(sw(&mut c, "0020008108ffffffffffffffff"), "6a88", "no PIN2");
    assert_eq!(sw(&mut c, "0020010108ffffffffffffffff"), "6b00");

    // A reset forgets the verification, not the counter.
    c.reset();
    select_adf(&mut c);
    assert_eq!(select(&mut c, "6f07"), "9000");
    assert_eq!(sw(&mut c, "00b0000009"), "6982");
    for left in ["63c2", "63c1", "63c0"] {
        assert_eq!(sw(&mut c, &format!("0020000108{wrong}")), left);
    }
    assert_eq!(sw(&mut c, &format!("0020000108{pin}")), "6983");
    assert_eq!(sw(&mut c, "0020000100"), "6983");
    assert_eq!(sw(&mut c, &format!("a020000108{pin}")), "9840");
    assert_eq!(sw(&mut c, "002c000110ffffffffffffffffffffffffffffffff"), "6983", "no PUK");
    c.reset();
    assert_eq!(sw(&mut c, "0020000100"), "6983", "still blocked after a reset");
}

#[test]
fn pin_change_disable_enable() {
    let mut c = card(Some(PIN));
    let pin = format!("{}ffffffff", to_hex(PIN.as_bytes()));
    let new = "3130313031303130";
    assert_eq!(sw(&mut c, &format!("0026000108{pin}")), "9000");
    assert_eq!(sw(&mut c, "0020000100"), "9000", "disabled");
    assert_eq!(sw(&mut c, &format!("0026000108{pin}")), "6985", "already disabled");
    assert_eq!(sw(&mut c, &format!("a020000108{pin}")), "9808", "2G: CHV1 disabled");
    let (fcp, _) = send_fetch(&mut c, "00a40004023f00", "00");
    assert!(fcp.contains("c609900140"), "{fcp}");
    assert_eq!(sw(&mut c, &format!("0028000108{pin}")), "9000");
    assert_eq!(sw(&mut c, &format!("0024000110{pin}{new}")), "9000");
    c.reset();
    assert_eq!(sw(&mut c, &format!("0020000108{pin}")), "63c2");
    assert_eq!(sw(&mut c, &format!("0020000108{new}")), "9000");
}

#[test]
fn authenticate_3g_and_resync() {
    let mut c = card(None);
    let cmd = format!("0088008122 10{RAND} 10{AUTN}");
    assert_eq!(sw(&mut c, &cmd), "6985", "the USIM is not active yet");
    select_adf(&mut c);
    assert_eq!(sw(&mut c, &cmd), "6135");
    let (data, status) = send(&mut c, "00c0000035");
    assert_eq!(status, "9000");
    assert_eq!(data, format!("db08{RES}10{CK}10{IK}08{KC}"));
    assert_eq!(c.sqn(), hex("ff9bb4d0b607").as_slice());

    // The same AUTN again is a replay: the card asks to resynchronise.
    let (data, status) = send_fetch(&mut c, &cmd, "00");
    assert_eq!(status, "9000");
    assert_eq!(&data[..4], "dc0e");
    assert_eq!(&data[4..], "ba853f3c123ccf44e93596e355c6", "AUTS of milenage.md");
    let m = Milenage::new(hex(K).try_into().unwrap(), hex(OPC).try_into().unwrap());
    let auts: [u8; 14] = hex(&data[4..]).try_into().unwrap();
    let rand: [u8; 16] = hex(RAND).try_into().unwrap();
    assert_eq!(resync_sqn(&m, &rand, &auts), Some(c.sqn()));
}

#[test]
fn authenticate_rejects_bad_mac_stale_and_far_sqn() {
    let mut c = card(None);
    select_adf(&mut c);
    let mut autn = hex(AUTN);
    autn[15] ^= 0x01;
    assert_eq!(sw(&mut c, &format!("0088008122 10{RAND} 10{}", to_hex(&autn))), "9862");
    assert_eq!(c.sqn(), hex("ff9bb4d0b600").as_slice(), "no SQN change on a MAC failure");

    // An SQN further ahead than the window is not accepted either.
    let mut far = VirtualUsim::from_seed(&seed_with(IMSI, None, Some(SQN - (1 << 28) - 1))).unwrap();
    select_adf(&mut far);
    let (data, _) = send_fetch(&mut far, &format!("0088008122 10{RAND} 10{AUTN}"), "00");
    assert!(data.starts_with("dc0e"), "{data}");

    assert_eq!(sw(&mut c, &format!("0088008121 10{RAND} 10{AUTN}")), "6700");
    assert_eq!(sw(&mut c, &format!("0088008122 11{RAND} 10{AUTN}")), "6a80");
    assert_eq!(sw(&mut c, &format!("0088018122 10{RAND} 10{AUTN}")), "6b00");
    assert_eq!(sw(&mut c, &format!("0088008422 10{RAND} 10{AUTN}")), "9864");
    // Trailing Le from a PC/SC application is tolerated.
    assert_eq!(sw(&mut c, &format!("0088008122 10{RAND} 10{AUTN} 00")), "6135");
}

#[test]
fn authenticate_needs_pin() {
    let mut c = card(Some(PIN));
    select_adf(&mut c);
    assert_eq!(sw(&mut c, &format!("0088008122 10{RAND} 10{AUTN}")), "6982");
    assert_eq!(sw(&mut c, &format!("a088000010{RAND}")), "9804");
}

#[test]
fn gsm_authentication() {
    let mut c = card(None);
    select_adf(&mut c);
    let (data, status) = send_fetch(&mut c, &format!("0088008011 10{RAND}"), "00");
    assert_eq!((data, status), (format!("04{SRES}08{KC}"), "9000".into()));
    let (data, status) = send_fetch(&mut c, &format!("a088000010{RAND}"), "a0");
    assert_eq!((data, status), (format!("{SRES}{KC}"), "9000".into()));
    assert_eq!(sw(&mut c, &format!("a088000010{RAND}")), "9f0c");
    assert_eq!(sw(&mut c, &format!("a08800000f{}", &RAND[2..])), "6700");
}

#[test]
fn class_instruction_and_length_errors() {
    let mut c = card(None);
    assert_eq!(sw(&mut c, "b0a40000023f00"), "6e00");
    assert_eq!(sw(&mut c, "80a40004023f00"), "6e00", "SELECT is not a proprietary command");
    assert_eq!(sw(&mut c, "00f2000000"), "6e00", "STATUS is");
    assert_eq!(sw(&mut c, "00ff000000"), "6d00");
    assert_eq!(sw(&mut c, "80ca000000"), "6d00");
    assert_eq!(sw(&mut c, "00a40004033f00"), "6700");
    assert_eq!(sw(&mut c, "00b0"), "6700");
    assert_eq!(sw(&mut c, ""), "6700");
    assert_eq!(sw(&mut c, "00b0000001ff"), "6700", "data on a case 2 command");
    assert_eq!(sw(&mut c, "00b0000001"), "6986", "the MF is no EF");
    assert_eq!(sw(&mut c, "01a40004023f00"), "6881");
    assert_eq!(sw(&mut c, "0070000001"), "6881");
    assert_eq!(sw(&mut c, "04a40004023f00"), "6882");
    assert_eq!(sw(&mut c, "8012000010"), "6f00", "no proactive command pending");
    assert_eq!(sw(&mut c, "8010000002ffff"), "9000");
    assert_eq!(sw(&mut c, "80c2000002d100"), "9000");
    assert_eq!(sw(&mut c, "8014000002ffff"), "9000");
    assert_eq!(sw(&mut c, "80f2000c00"), "9000");
    assert_eq!(sw(&mut c, "80f2030000"), "6b00");
    let (fcp, status) = send(&mut c, "80f2000000");
    assert!(fcp.starts_with("62") && status == "9000", "{fcp}");
    let len = fcp.len() / 2;
    assert_eq!(sw(&mut c, &format!("80f20000{:02x}", len + 1)), format!("6c{len:02x}"));
    assert_eq!(sw(&mut c, "0004000000"), "6982", "DEACTIVATE FILE needs ADM");
}

#[test]
fn reset_clears_session_state_only() {
    let mut c = card(None);
    select_adf(&mut c);
    assert_eq!(sw(&mut c, &format!("0088008122 10{RAND} 10{AUTN}")), "6135");
    assert_eq!(select(&mut c, "6f7e"), "9000");
    assert_eq!(sw(&mut c, "00d6000001aa"), "9000");
    c.reset();
    assert_eq!(sw(&mut c, "00c0000035"), "6f00");
    assert_eq!(sw(&mut c, "00b0000001"), "6986");
    assert_eq!(select(&mut c, "7fff"), "6a82", "the application is no longer active");
    select_adf(&mut c);
    assert_eq!(select(&mut c, "6f7e"), "9000");
    assert_eq!(send(&mut c, "00b0000001").0, "aa");
    assert_eq!(c.sqn(), hex("ff9bb4d0b607").as_slice());
}

#[test]
fn mnc_length_in_ef_ad() {
    let read_ad = |card: &mut VirtualUsim| {
        select_adf(card);
        assert_eq!(select(card, "6fad"), "9000");
        send(card, "00b0000004").0
    };
    assert_eq!(read_ad(&mut card(None)), "00000002");
    let us = seed_with("310260123456789", None, None);
    let mut c = VirtualUsim::from_seed(&us).unwrap();
    assert_eq!(read_ad(&mut c), "00000003");
    assert_eq!(c.sqn(), [0, 0, 0, 0, 0, 0x20], "default SQN");
    let mut c = VirtualUsim::from_seed_with_mnc_len(&seed_with(IMSI, None, None), 3).unwrap();
    assert_eq!(read_ad(&mut c), "00000003");
    assert_eq!(select(&mut c, "6f62"), "9000");
    assert_eq!(send(&mut c, "00b0000005").0, "621210c080", "HPLMN 262-011 with UTRAN, E-UTRAN, GSM");
    let err = VirtualUsim::from_seed_with_mnc_len(&us, 4).unwrap_err();
    assert!(matches!(err, UsimError::MncLength { .. }));
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let c = card(Some(PIN));
    let shown = format!("{c:?}");
    assert!(shown.contains(IMSI), "{shown}");
    for secret in [K, OPC, PIN, "465b5ce8", "cd63cb71"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let mut seed = seed_with(IMSI, None, None);
    seed.k = Secret::parse("env:SEEDRIG_USIM_TEST_UNSET_K", SecretFormat::Hex(32), Path::new(".")).unwrap();
    let err = VirtualUsim::from_seed(&seed).unwrap_err().to_string();
    assert!(err.contains("test-seed") && err.contains("env:SEEDRIG_USIM_TEST_UNSET_K"), "{err}");
    seed.sqn = Some(1 << 48);
    seed.k = Secret::parse(K, SecretFormat::Hex(32), Path::new(".")).unwrap();
    let err = VirtualUsim::from_seed(&seed).unwrap_err().to_string();
    assert!(err.contains("48 bits") && !err.contains(K), "{err}");
}

/// xorshift64*: a tiny deterministic generator so the fuzz run is the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn random_commands_never_panic() {
    let mut rng = Rng(0x5EED_0FCA_FE00);
    let classes = [0x00, 0x80, 0xA0, 0x01, 0x40, 0xFF];
    let instructions =
        [0xA4, 0xB0, 0xD6, 0xB2, 0xDC, 0xC0, 0x20, 0x24, 0x26, 0x28, 0x2C, 0x88, 0xF2, 0x12, 0x70];
    let fids =
        [[0x3F, 0x00], [0x7F, 0xFF], [0x7F, 0x20], [0x6F, 0x07], [0x2F, 0x00], [0x6F, 0x7E], [0x5F, 0x3B]];
    for (pin, seed) in [(None, 1u64), (Some(PIN), 2)] {
        let mut c = card(pin);
        rng.0 ^= seed;
        for round in 0..20_000 {
            if round % 500 == 0 {
                c.reset();
            }
            let apdu = match rng.next() % 4 {
                // Pure noise of any length.
                0 => (0..rng.next() % 300).map(|_| rng.byte()).collect::<Vec<u8>>(),
                // A plausible header with random parameters and a body of random length.
                1 | 2 => {
                    let mut a = vec![rng.pick(&classes), rng.pick(&instructions), rng.byte(), rng.byte()];
                    let len = (rng.next() % 40) as usize;
                    a.push(if rng.next().is_multiple_of(4) { rng.byte() } else { len as u8 });
                    a.extend((0..len).map(|_| rng.byte()));
                    a
                }
                // A well-formed SELECT, so that reads and updates meet real files.
                _ => {
                    let fid = rng.pick(&fids);
                    vec![
                        rng.pick(&[0x00, 0xA0]),
                        0xA4,
                        rng.pick(&[0x00, 0x08, 0x09]),
                        rng.pick(&[0x04, 0x0C, 0x00]),
                        2,
                        fid[0],
                        fid[1],
                    ]
                }
            };
            let out = c.transmit(&apdu);
            assert!(out.len() >= 2, "{} gave {}", to_hex(&apdu), to_hex(&out));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The files of a commercial USIM, walked as a general-purpose SIM reader walks them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transparent,
    Records,
}

/// One EF: its path from the MF (7FFF = ADF.USIM), structure, and the size the specifications
/// fix (file size for transparent EFs, record length for linear fixed ones), if they do.
struct Spec {
    name: &'static str,
    path: &'static [u16],
    kind: Kind,
    size: Option<usize>,
}

const fn ef(name: &'static str, path: &'static [u16], kind: Kind, size: Option<usize>) -> Spec {
    Spec { name, path, kind, size }
}

use Kind::{Records as R, Transparent as T};

/// Every file the reader expects: the mandatory EFs of TS 31.102 §4.2 and the common
/// optional ones, the MF's (TS 102 221 §13) and the 2G ones (TS 51.011 §10).
const COMMERCIAL_FILES: &[Spec] = &[
    ef("MF/EF.DIR", &[0x2F00], R, None),
    ef("MF/EF.ICCID", &[0x2FE2], T, Some(10)),
    ef("MF/EF.PL", &[0x2F05], T, None),
    ef("MF/EF.ARR", &[0x2F06], R, None),
    ef("MF/EF.UMPC", &[0x2F08], T, Some(5)),
    ef("USIM/EF.LI", &[0x7FFF, 0x6F05], T, None),
    ef("USIM/EF.IMSI", &[0x7FFF, 0x6F07], T, Some(9)),
    ef("USIM/EF.Keys", &[0x7FFF, 0x6F08], T, Some(33)),
    ef("USIM/EF.KeysPS", &[0x7FFF, 0x6F09], T, Some(33)),
    ef("USIM/EF.HPPLMN", &[0x7FFF, 0x6F31], T, Some(1)),
    ef("USIM/EF.UST", &[0x7FFF, 0x6F38], T, None),
    ef("USIM/EF.EST", &[0x7FFF, 0x6F56], T, None),
    ef("USIM/EF.FPLMN", &[0x7FFF, 0x6F7B], T, None),
    ef("USIM/EF.START-HFN", &[0x7FFF, 0x6F5B], T, Some(6)),
    ef("USIM/EF.THRESHOLD", &[0x7FFF, 0x6F5C], T, Some(3)),
    ef("USIM/EF.LOCI", &[0x7FFF, 0x6F7E], T, Some(11)),
    ef("USIM/EF.PSLOCI", &[0x7FFF, 0x6F73], T, Some(14)),
    ef("USIM/EF.ACC", &[0x7FFF, 0x6F78], T, Some(2)),
    ef("USIM/EF.AD", &[0x7FFF, 0x6FAD], T, Some(4)),
    ef("USIM/EF.ECC", &[0x7FFF, 0x6FB7], R, None),
    ef("USIM/EF.NETPAR", &[0x7FFF, 0x6FC4], T, None),
    ef("USIM/EF.EPSLOCI", &[0x7FFF, 0x6FE3], T, Some(18)),
    ef("USIM/EF.EPSNSC", &[0x7FFF, 0x6FE4], R, None),
    ef("USIM/EF.ARR", &[0x7FFF, 0x6F06], R, None),
    ef("USIM/EF.GID1", &[0x7FFF, 0x6F3E], T, None),
    ef("USIM/EF.GID2", &[0x7FFF, 0x6F3F], T, None),
    ef("USIM/EF.SPN", &[0x7FFF, 0x6F46], T, Some(17)),
    ef("USIM/EF.MSISDN", &[0x7FFF, 0x6F40], R, Some(26)),
    ef("USIM/EF.SMSP", &[0x7FFF, 0x6F42], R, Some(40)),
    ef("USIM/EF.PNN", &[0x7FFF, 0x6FC5], R, None),
    ef("USIM/EF.OPL", &[0x7FFF, 0x6FC6], R, Some(8)),
    ef("USIM/EF.SPDI", &[0x7FFF, 0x6FCD], T, None),
    ef("USIM/EF.PLMNwAcT", &[0x7FFF, 0x6F60], T, Some(40)),
    ef("USIM/EF.OPLMNwAcT", &[0x7FFF, 0x6F61], T, Some(40)),
    ef("USIM/EF.HPLMNwAcT", &[0x7FFF, 0x6F62], T, None),
    ef("USIM/EF.EHPLMN", &[0x7FFF, 0x6FD9], T, None),
    ef("USIM/DF.GSM-ACCESS/EF.Kc", &[0x7FFF, 0x5F3B, 0x4F20], T, Some(9)),
    ef("USIM/DF.GSM-ACCESS/EF.KcGPRS", &[0x7FFF, 0x5F3B, 0x4F52], T, Some(9)),
    ef("TELECOM/EF.ADN", &[0x7F10, 0x6F3A], R, Some(26)),
    ef("TELECOM/EF.MSISDN", &[0x7F10, 0x6F40], R, Some(26)),
    ef("TELECOM/EF.SMSP", &[0x7F10, 0x6F42], R, Some(40)),
    ef("GSM/EF.IMSI", &[0x7F20, 0x6F07], T, Some(9)),
    ef("GSM/EF.Kc", &[0x7F20, 0x6F20], T, Some(9)),
    ef("GSM/EF.PLMNsel", &[0x7F20, 0x6F30], T, None),
    ef("GSM/EF.HPPLMN", &[0x7F20, 0x6F31], T, Some(1)),
    ef("GSM/EF.SST", &[0x7F20, 0x6F38], T, None),
    ef("GSM/EF.SPN", &[0x7F20, 0x6F46], T, Some(17)),
    ef("GSM/EF.PLMNwAcT", &[0x7F20, 0x6F60], T, Some(40)),
    ef("GSM/EF.ACC", &[0x7F20, 0x6F78], T, Some(2)),
    ef("GSM/EF.FPLMN", &[0x7F20, 0x6F7B], T, None),
    ef("GSM/EF.LOCI", &[0x7F20, 0x6F7E], T, Some(11)),
    ef("GSM/EF.AD", &[0x7F20, 0x6FAD], T, Some(4)),
    ef("GSM/EF.Phase", &[0x7F20, 0x6FAE], T, Some(1)),
    ef("GSM/EF.ECC", &[0x7F20, 0x6FB7], T, Some(15)),
];

/// What an EF's FCP states: its size (tag 80) and, for a record file, record length and count
/// (tag 82).
#[derive(Debug, PartialEq, Eq)]
struct Fcp {
    size: usize,
    records: Option<(usize, usize)>,
}

fn parse_fcp(fcp_hex: &str) -> Fcp {
    let b = hex(fcp_hex);
    assert_eq!(b[0], 0x62, "FCP template: {fcp_hex}");
    assert_eq!(usize::from(b[1]) + 2, b.len(), "FCP length: {fcp_hex}");
    let (mut size, mut descriptor) = (None, None);
    let mut at = 2;
    while at + 2 <= b.len() {
        let (tag, len) = (b[at], usize::from(b[at + 1]));
        let value = &b[at + 2..at + 2 + len];
        match tag {
            0x80 => size = Some(usize::from(u16::from_be_bytes([value[0], value[1]]))),
            0x82 => descriptor = Some(value.to_vec()),
            _ => {}
        }
        at += 2 + len;
    }
    let descriptor = descriptor.expect("tag 82");
    let records = match descriptor[0] & 0x07 {
        1 => None,
        2 => Some((
            usize::from(u16::from_be_bytes([descriptor[2], descriptor[3]])),
            usize::from(descriptor[4]),
        )),
        other => panic!("structure {other} in {fcp_hex}"),
    };
    Fcp { size: size.expect("tag 80"), records }
}

/// Reads the whole current EF as the FCP describes it, in the UICC dialect: READ BINARY in
/// chunks, or READ RECORD for every record; each answer must be 9000 and exactly as long as asked.
fn read_whole(c: &mut VirtualUsim, fcp: &Fcp, what: &str) -> Vec<u8> {
    let mut content = Vec::new();
    match fcp.records {
        Some((rec_len, count)) => {
            assert!(count > 0 && rec_len * count == fcp.size, "{what}: {fcp:?}");
            for n in 1..=count {
                let (rec, status) = send(c, &format!("00b2{n:02x}04{rec_len:02x}"));
                assert_eq!(status, "9000", "{what}: record {n}");
                assert_eq!(rec.len(), rec_len * 2, "{what}: record {n}");
                content.extend(hex(&rec));
            }
        }
        None => {
            while content.len() < fcp.size {
                let chunk = (fcp.size - content.len()).min(0x80);
                let (data, status) = send(c, &format!("00b0{:04x}{chunk:02x}", content.len()));
                assert_eq!(status, "9000", "{what}: offset {}", content.len());
                assert_eq!(data.len(), chunk * 2, "{what}");
                content.extend(hex(&data));
            }
        }
    }
    assert_eq!(content.len(), fcp.size, "{what}");
    content
}

fn path_hex(path: &[u16]) -> String {
    path.iter().map(|f| format!("{f:04x}")).collect()
}

/// SELECT by FID: the MF, then each DF on the way (ADF.USIM by AID), then the EF with its FCP.
fn select_by_fids(c: &mut VirtualUsim, path: &[u16]) -> (String, String) {
    assert_eq!(select(c, "3f00"), "9000");
    let (ef, dirs) = path.split_last().unwrap();
    for &dir in dirs {
        if dir == 0x7FFF {
            select_adf(c);
        } else {
            assert_eq!(select(c, &format!("{dir:04x}")), "9000", "DF {dir:04x}");
        }
    }
    send_fetch(c, &format!("00a4000402{ef:04x}"), "00")
}

#[test]
fn a_sim_reader_walks_every_file_of_a_commercial_usim() {
    for pin in [None, Some(PIN)] {
        let mut c = card(pin);
        if pin.is_some() {
            let verify = format!("0020000108{}ffffffff", to_hex(PIN.as_bytes()));
            assert_eq!(sw(&mut c, &verify), "9000");
        }
        for spec in COMMERCIAL_FILES {
            let what = spec.name;
            // By FID under its DF.
            let (fcp_hex, status) = select_by_fids(&mut c, spec.path);
            assert_eq!(status, "9000", "{what}: SELECT by FID");
            let fcp = parse_fcp(&fcp_hex);
            assert_eq!(fcp.records.is_some(), spec.kind == Kind::Records, "{what}: structure {fcp:?}");
            match (spec.size, fcp.records) {
                (Some(want), Some((rec_len, _))) => assert_eq!(rec_len, want, "{what}: record length"),
                (Some(want), None) => assert_eq!(fcp.size, want, "{what}: size"),
                (None, _) => assert!(fcp.size > 0, "{what}: empty"),
            }
            let content = read_whole(&mut c, &fcp, what);

            // By path from the MF (7FFF stands for the active ADF.USIM).
            assert_eq!(select(&mut c, "3f00"), "9000");
            let path = path_hex(spec.path);
            let (by_path, status) =
                send_fetch(&mut c, &format!("00a40804{:02x}{path}", path.len() / 2), "00");
            assert_eq!(status, "9000", "{what}: SELECT by path {path}");
            assert_eq!(by_path, fcp_hex, "{what}: the same file by path");
            assert_eq!(read_whole(&mut c, &fcp, what), content, "{what}: the same content by path");
        }
    }
}

#[test]
fn a_2g_reader_walks_the_2g_files() {
    let mut c = card(None);
    for spec in COMMERCIAL_FILES.iter().filter(|s| s.path[0] != 0x7FFF) {
        let what = spec.name;
        assert_eq!(sw(&mut c, "a0a40000023f00"), "9f16");
        let mut status = String::new();
        for fid in spec.path {
            status = sw(&mut c, &format!("a0a4000002{fid:04x}"));
            assert!(status.starts_with("9f"), "{what}: SELECT {fid:04x} gave {status}");
        }
        assert_eq!(status, "9f0f", "{what}: an EF's 2G response is 15 bytes");
        let (resp, status) = send(&mut c, "a0c000000f");
        assert_eq!(status, "9000", "{what}");
        let resp = hex(&resp);
        let size = usize::from(u16::from_be_bytes([resp[2], resp[3]]));
        let mut read = 0;
        match resp[13] {
            0x00 => {
                assert_eq!(spec.kind, Kind::Transparent, "{what}");
                while read < size {
                    let chunk = (size - read).min(0x80);
                    let (data, status) = send(&mut c, &format!("a0b0{read:04x}{chunk:02x}"));
                    assert_eq!((status.as_str(), data.len()), ("9000", chunk * 2), "{what}");
                    read += chunk;
                }
            }
            0x01 => {
                assert_eq!(spec.kind, Kind::Records, "{what}");
                let rec_len = usize::from(resp[14]);
                for n in 1..=size / rec_len {
                    let (rec, status) = send(&mut c, &format!("a0b2{n:02x}04{rec_len:02x}"));
                    assert_eq!((status.as_str(), rec.len()), ("9000", rec_len * 2), "{what}: record {n}");
                    read += rec_len;
                }
            }
            other => panic!("{what}: structure {other:02x}"),
        }
        assert_eq!(read, size, "{what}");
    }
}

/// Reads a transparent EF (by path from the MF) or one record of a linear fixed one.
fn read_ef(c: &mut VirtualUsim, path: &[u16], record: Option<u8>) -> Vec<u8> {
    let (fcp_hex, status) = select_by_fids(c, path);
    assert_eq!(status, "9000", "{path:04x?}");
    let fcp = parse_fcp(&fcp_hex);
    match (record, fcp.records) {
        (Some(n), Some((rec_len, _))) => {
            let (rec, status) = send(c, &format!("00b2{n:02x}04{rec_len:02x}"));
            assert_eq!(status, "9000");
            hex(&rec)
        }
        (None, None) => read_whole(c, &fcp, "EF"),
        _ => panic!("{path:04x?}: {fcp:?}"),
    }
}

/// Unpacks GSM 7-bit text (TS 23.038 §6.1.2.1.1).
fn unpack7(octets: &[u8], spare: u8) -> String {
    let count = (octets.len() * 8 - usize::from(spare)) / 7;
    (0..count)
        .map(|i| {
            let bit = i * 7;
            let word = u16::from(octets[bit / 8]) | (u16::from(*octets.get(bit / 8 + 1).unwrap_or(&0)) << 8);
            char::from(((word >> (bit % 8)) & 0x7F) as u8)
        })
        .collect()
}

#[test]
fn spn_and_pnn_show_the_carriers_name() {
    let seed = seed_with(IMSI, None, None);
    let mut c = VirtualUsim::from_seed_with_carrier(&seed, 2, "Telekom Deutschland").unwrap();
    let spn = read_ef(&mut c, &[0x7FFF, 0x6F46], None);
    assert_eq!(spn[0], 0x01, "display condition");
    assert_eq!(&spn[1..8], b"Telekom", "cut after the last whole word of 16 characters");
    assert!(spn[8..].iter().all(|&b| b == 0xFF), "{spn:02x?}");
    assert_eq!(read_ef(&mut c, &[0x7F20, 0x6F46], None), spn, "the 2G view shows the same");

    // EF_PNN record 1: full name (43) and short name (45), packed GSM 7-bit.
    let pnn = read_ef(&mut c, &[0x7FFF, 0x6FC5], Some(1));
    assert_eq!(pnn[0], 0x43);
    let full_len = usize::from(pnn[1]);
    assert_eq!(pnn[2] & 0xF8, 0x80, "GSM default alphabet, no country initials");
    assert_eq!(unpack7(&pnn[3..2 + full_len], pnn[2] & 0x07), "Telekom Deutschland");
    let short = &pnn[2 + full_len..];
    assert_eq!(short[0], 0x45);
    assert_eq!(unpack7(&short[3..2 + usize::from(short[1])], short[2] & 0x07), "Telekom");
    // EF_OPL record 1 points the home PLMN, all LACs, at it; EF_SPDI lists the home PLMN.
    assert_eq!(to_hex(&read_ef(&mut c, &[0x7FFF, 0x6FC6], Some(1))), "62f2100000fffe01");
    assert_eq!(to_hex(&read_ef(&mut c, &[0x7FFF, 0x6FCD], None)[..7]), "a305800362f210");

    let mut c = VirtualUsim::from_seed_with_carrier(&seed, 2, "AT&T Mobility").unwrap();
    assert_eq!(&read_ef(&mut c, &[0x7FFF, 0x6F46], None)[1..14], b"AT&T Mobility");
    // The older constructors have no display name: the home carrier's id stands in.
    let mut c = VirtualUsim::from_seed_with_mnc_len(&seed, 2).unwrap();
    assert_eq!(&read_ef(&mut c, &[0x7FFF, 0x6F46], None)[1..11], b"telekom-de");
    let err = VirtualUsim::from_seed_with_carrier(&seed, 1, "x").unwrap_err();
    assert!(matches!(err, UsimError::MncLength { .. }));
}

#[test]
fn msisdn_and_smsp_records_have_the_dialling_number_layout() {
    let mut c = card(None);
    // EF_MSISDN: 12 bytes alpha (none), BCD length, TON/NPI 91, 10 bytes number, CCP, EXT1.
    let rec = read_ef(&mut c, &[0x7FFF, 0x6F40], Some(1));
    assert_eq!(rec.len(), 26);
    assert!(rec[..12].iter().all(|&b| b == 0xFF));
    let len = usize::from(rec[12]);
    assert_eq!(rec[13], 0x91, "international, ISDN/E.164");
    // +49, then the trunk prefix 0 (no German number starts with it), then the MSIN.
    assert_eq!(bcd_digits(&rec[14..13 + len]), "4901106487504");
    assert!(rec[13 + len..].iter().all(|&b| b == 0xFF), "{rec:02x?}");
    assert_eq!(read_ef(&mut c, &[0x7F10, 0x6F40], Some(1)), rec, "DF_TELECOM's is the same");

    // EF_SMSP: alpha, indicators (only TP-DA absent), TP-DA unused, TS-SCA, PID, DCS, VP.
    let rec = read_ef(&mut c, &[0x7FFF, 0x6F42], Some(1));
    assert_eq!(rec.len(), 40);
    assert!(rec[..12].iter().all(|&b| b == 0xFF));
    assert_eq!(rec[12], 0xE1);
    assert!(rec[13..25].iter().all(|&b| b == 0xFF), "TP-Destination Address unused");
    let sca = &rec[25..37];
    let len = usize::from(sca[0]);
    assert_eq!(sca[1], 0x91);
    assert_eq!(bcd_digits(&sca[2..1 + len]), "4900100000", "+49 0 <MNC 01> 00000");
    assert!(sca[1 + len..].iter().all(|&b| b == 0xFF));
    assert_eq!(&rec[37..], &[0x00, 0x00, 0xA7], "PID, DCS, validity 24 h");
    assert_eq!(read_ef(&mut c, &[0x7F10, 0x6F42], Some(1)), rec, "DF_TELECOM's is the same");

    // NANP and UK cards get numbers from the regulators' fictional ranges.
    let mut us = VirtualUsim::from_seed(&seed_with("310260123456789", None, None)).unwrap();
    let rec = read_ef(&mut us, &[0x7FFF, 0x6F40], Some(1));
    assert_eq!(bcd_digits(&rec[14..13 + usize::from(rec[12])]), "12015550189");
    let rec = read_ef(&mut us, &[0x7FFF, 0x6F42], Some(1));
    assert_eq!(bcd_digits(&rec[27..26 + usize::from(rec[25])]), "12015550199");
    let mut uk = VirtualUsim::from_seed(&seed_with("234309900000041", None, None)).unwrap();
    let rec = read_ef(&mut uk, &[0x7FFF, 0x6F40], Some(1));
    assert_eq!(bcd_digits(&rec[14..13 + usize::from(rec[12])]), "447700900041");
}

/// USIM services (TS 31.102 §4.2.8) and the EFs that exist exactly when they are available,
/// as paths below ADF.USIM (after pySim's ts_31_102.py). Services not listed have no EF.
const UST_FILES: &[(u16, &[&[u16]])] = &[
    (1, &[&[0x5F3A]]),
    (2, &[&[0x6F3B]]),
    (3, &[&[0x6F4B]]),
    (4, &[&[0x6F49]]),
    (5, &[&[0x6F4C]]),
    (6, &[&[0x6F4D]]),
    (7, &[&[0x6F55]]),
    (8, &[&[0x6F81], &[0x6F83]]),
    (9, &[&[0x6F80], &[0x6F82]]),
    (10, &[&[0x6F3C], &[0x6F43]]),
    (11, &[&[0x6F47]]),
    (12, &[&[0x6F42]]),
    (13, &[&[0x6F39], &[0x6F37], &[0x6F41]]),
    (14, &[&[0x6F4F]]),
    (15, &[&[0x6F45]]),
    (16, &[&[0x6F50]]),
    (17, &[&[0x6F3E]]),
    (18, &[&[0x6F3F]]),
    (19, &[&[0x6F46]]),
    (20, &[&[0x6F60]]),
    (21, &[&[0x6F40]]),
    (24, &[&[0x6FB5]]),
    (25, &[&[0x6FB6]]),
    (27, &[&[0x5F3B, 0x4F20], &[0x5F3B, 0x4F52]]),
    (29, &[&[0x6F48]]),
    (34, &[&[0x6F56]]),
    (35, &[&[0x6F57]]),
    (36, &[&[0x6F2C]]),
    (37, &[&[0x6F32]]),
    (42, &[&[0x6F61]]),
    (43, &[&[0x6F62]]),
    (44, &[&[0x6F4E]]),
    (45, &[&[0x6FC5]]),
    (46, &[&[0x6FC6]]),
    (47, &[&[0x6FC7], &[0x6FC9]]),
    (48, &[&[0x6FCA]]),
    (49, &[&[0x6FCB]]),
    (51, &[&[0x6FCD]]),
    (52, &[&[0x6FCE], &[0x6FD0], &[0x6FD1]]),
    (53, &[&[0x6FCF]]),
    (56, &[&[0x6FD3]]),
    (57, &[&[0x6FB1], &[0x6FB2]]),
    (58, &[&[0x6FB3], &[0x6FB4]]),
    (71, &[&[0x6FD9]]),
    (73, &[&[0x6FDB]]),
    (78, &[&[0x6FDE]]),
    (79, &[&[0x6FDF]]),
    (85, &[&[0x6FE3], &[0x6FE4]]),
];

/// SIM services (TS 51.011 §10.3.7) and their EFs, as paths from the MF.
const SST_FILES: &[(u16, &[&[u16]])] = &[
    (2, &[&[0x7F10, 0x6F3A]]),
    (3, &[&[0x7F10, 0x6F3B]]),
    (4, &[&[0x7F10, 0x6F3C]]),
    (5, &[&[0x7F20, 0x6F39]]),
    (6, &[&[0x7F10, 0x6F3D]]),
    (7, &[&[0x7F20, 0x6F30]]),
    (9, &[&[0x7F10, 0x6F40]]),
    (10, &[&[0x7F10, 0x6F4A]]),
    (11, &[&[0x7F10, 0x6F4B]]),
    (12, &[&[0x7F10, 0x6F42]]),
    (13, &[&[0x7F10, 0x6F44]]),
    (14, &[&[0x7F20, 0x6F45]]),
    (15, &[&[0x7F20, 0x6F3E]]),
    (16, &[&[0x7F20, 0x6F3F]]),
    (17, &[&[0x7F20, 0x6F46]]),
    (18, &[&[0x7F10, 0x6F49]]),
    (19, &[&[0x7F10, 0x6F4C]]),
    (31, &[&[0x7F10, 0x6F4D]]),
    (35, &[&[0x7F10, 0x6F47]]),
    (38, &[&[0x7F20, 0x6F52], &[0x7F20, 0x6F53]]),
    (43, &[&[0x7F20, 0x6F60]]),
    (44, &[&[0x7F20, 0x6F61]]),
    (45, &[&[0x7F20, 0x6F62]]),
    (51, &[&[0x7F20, 0x6FC5]]),
    (52, &[&[0x7F20, 0x6FC6]]),
    (53, &[&[0x7F20, 0x6FC7]]),
    (54, &[&[0x7F20, 0x6FCA]]),
    (55, &[&[0x7F20, 0x6FCB]]),
    (56, &[&[0x7F20, 0x6FCD]]),
];

fn exists(c: &mut VirtualUsim, path_from_mf: &[u16]) -> bool {
    assert_eq!(select(c, "3f00"), "9000");
    let path = path_hex(path_from_mf);
    match sw(c, &format!("00a4080c{:02x}{path}", path.len() / 2)).as_str() {
        "9000" => true,
        "6a82" => false,
        other => panic!("{path}: {other}"),
    }
}

#[test]
fn ust_and_sst_announce_exactly_the_services_whose_files_exist() {
    let mut c = card(None);
    select_adf(&mut c);
    let ust = read_ef(&mut c, &[0x7FFF, 0x6F38], None);
    let est = read_ef(&mut c, &[0x7FFF, 0x6F56], None);
    let ust_has = |n: u16| {
        let bit = usize::from(n - 1);
        ust.get(bit / 8).is_some_and(|b| b & (1 << (bit % 8)) != 0)
    };
    for n in 1..=(ust.len() * 8) as u16 {
        let files = UST_FILES.iter().find(|(s, _)| *s == n).map(|(_, f)| *f);
        let present = match files {
            Some(files) => {
                let found: Vec<bool> =
                    files.iter().map(|p| exists(&mut c, &[&[0x7FFF], *p].concat())).collect();
                assert!(found.iter().all(|&f| f == found[0]), "service {n}: some of its files only");
                found[0]
            }
            // Service 33 has no file and shall be set to 1 (TS 31.102 §4.2.8).
            None => n == 33,
        };
        assert_eq!(ust_has(n), present, "UST service {n}");
    }
    // EF_EST enables FDN (1), BDN (2), ACL (3) only where the UST offers them (2, 6, 35).
    for (bit, service) in [(0, 2), (1, 6), (2, 35)] {
        assert!(est[0] & (1 << bit) == 0 || ust_has(service), "EST bit {} without UST {service}", bit + 1);
    }
    assert_eq!(est, vec![0x00]);

    let sst = read_ef(&mut c, &[0x7F20, 0x6F38], None);
    for n in 1..=(sst.len() * 4) as u16 {
        let pos = usize::from(n - 1);
        let bits = (sst[pos / 4] >> (2 * (pos % 4))) & 0b11;
        let present = match SST_FILES.iter().find(|(s, _)| *s == n) {
            Some((_, files)) => files.iter().all(|p| exists(&mut c, p)),
            // CHV1 disable function: no file; the card allows disabling PIN1.
            None => n == 1,
        };
        assert_eq!(bits, if present { 0b11 } else { 0b00 }, "SST service {n}");
    }
}
