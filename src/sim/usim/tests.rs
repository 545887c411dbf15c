//! Command-level tests of the virtual USIM, driven through `transmit` as a modem would.

use std::collections::BTreeMap;
use std::path::Path;

use super::milenage::{Milenage, resync_sqn};
use super::{UsimError, VirtualUsim};
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

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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
