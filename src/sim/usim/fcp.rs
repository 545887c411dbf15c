//! What SELECT and STATUS tell about a file: the UICC's FCP template (TS 102 221 §11.1.1.3)
//! and the 2G SIM's GET RESPONSE layout (TS 51.011 §9.2.1).

use super::files::{ARR_ADF, ARR_MF, Access, Body, FileSystem, MF, NodeId, Structure, arr_record};
use super::pin::Pin;
use crate::encoding::tlv;

/// Key references in the PIN status template: PIN1 and ADM1.
const KEY_PIN1: u8 = 0x01;
const KEY_ADM1: u8 = 0x0A;

/// Life cycle status "operational, activated".
const LCSI_ACTIVATED: u8 = 0x05;

/// UICC characteristics in the MF's proprietary information: clock stop allowed, no
/// preferred level; the value commonly seen on commercial cards.
const UICC_CHARACTERISTICS: u8 = 0x71;

/// The FCP template (tag 62) of any file.
pub(crate) fn fcp(fs: &FileSystem, id: NodeId, pin: &Pin) -> Vec<u8> {
    let node = fs.node(id);
    let body = match &node.body {
        Body::Dir { aid, .. } => dir_fcp(id, node.fid, aid.as_deref(), pin),
        Body::Ef(ef) => {
            let size = fs.content(ef).len();
            let arr = if fs.in_adf(id) { ARR_ADF } else { ARR_MF };
            let mut v = tlv(0x82, &descriptor(ef.structure, size));
            v.extend(tlv(0x83, &node.fid.to_be_bytes()));
            v.extend(tlv(0x8A, &[LCSI_ACTIVATED]));
            v.extend(security_reference(arr, arr_record(ef.rule)));
            v.extend(tlv(0x80, &(size as u16).to_be_bytes()));
            // An absent tag 88 would mean "SFI = low 5 bits of the FID"; state it either way.
            v.extend(tlv(0x88, &ef.sfi.map_or(vec![], |sfi| vec![sfi << 3])));
            v
        }
    };
    tlv(0x62, &body)
}

fn dir_fcp(id: NodeId, fid: u16, aid: Option<&[u8]>, pin: &Pin) -> Vec<u8> {
    // File descriptor: shareable DF.
    let mut v = tlv(0x82, &[0x78, 0x21]);
    v.extend(tlv(0x83, &fid.to_be_bytes()));
    if let Some(aid) = aid {
        v.extend(tlv(0x84, aid));
    }
    if id == MF {
        v.extend(tlv(0xA5, &tlv(0x80, &[UICC_CHARACTERISTICS])));
    }
    v.extend(tlv(0x8A, &[LCSI_ACTIVATED]));
    v.extend(security_reference(ARR_MF, arr_record(super::files::RULES[0])));
    v.extend(pin_status_template(pin));
    v
}

/// Tag 82: file descriptor byte, data coding byte 21, and for record files the record length
/// (2 bytes) and the number of records.
fn descriptor(structure: Structure, size: usize) -> Vec<u8> {
    match structure {
        Structure::Transparent => vec![0x41, 0x21],
        Structure::LinearFixed { rec_len } => {
            let count = size.checked_div(rec_len).unwrap_or(0);
            vec![0x42, 0x21, 0x00, rec_len as u8, count as u8]
        }
    }
}

/// Tag 8B: the access rules are record `record` of the EF_ARR with FID `arr`.
fn security_reference(arr: u16, record: u8) -> Vec<u8> {
    let [hi, lo] = arr.to_be_bytes();
    tlv(0x8B, &[hi, lo, record])
}

/// Tag C6: PS_DO (bit 8 = PIN1 enabled, bit 7 = ADM1, always enabled) and the key references.
fn pin_status_template(pin: &Pin) -> Vec<u8> {
    let ps_do = if pin.enabled() { 0xC0 } else { 0x40 };
    let mut v = tlv(0x90, &[ps_do]);
    v.extend(tlv(0x83, &[KEY_PIN1]));
    v.extend(tlv(0x83, &[KEY_ADM1]));
    tlv(0xC6, &v)
}

/// TS 51.011 §9.2.1: the 2G answer to SELECT/STATUS, 22 bytes for MF/DF, 15 for an EF.
pub(crate) fn gsm_response(fs: &FileSystem, id: NodeId, pin: &Pin) -> Vec<u8> {
    let node = fs.node(id);
    let [fid_hi, fid_lo] = node.fid.to_be_bytes();
    match &node.body {
        Body::Dir { children, .. } => {
            let dfs = children.iter().filter(|&&c| fs.node(c).is_dir()).count() as u8;
            let efs = children.iter().filter(|&&c| !fs.node(c).is_dir()).count() as u8;
            let file_type = if id == MF { 0x01 } else { 0x02 };
            // File characteristics: clock stop allowed; bit 8 set = CHV1 disabled.
            let characteristics = if pin.enabled() { 0x01 } else { 0x81 };
            vec![
                0x00,
                0x00,
                0x00,
                0x00,
                fid_hi,
                fid_lo,
                file_type,
                0,
                0,
                0,
                0,
                0, // header
                0x09,
                characteristics,
                dfs,
                efs,
                0x04,
                0x00,
                0x80 | pin.tries_left(),      // CHV1: initialised, tries left
                0x80,                         // UNBLOCK CHV1: not modelled, shown as blocked
                0x80 | super::pin::PIN_TRIES, // CHV2: initialised, unused
                0x80,                         // UNBLOCK CHV2
            ]
        }
        Body::Ef(ef) => {
            let [size_hi, size_lo] = (fs.content(ef).len() as u16).to_be_bytes();
            let (structure, rec_len) = match ef.structure {
                Structure::Transparent => (0x00, 0x00),
                Structure::LinearFixed { rec_len } => (0x01, rec_len as u8),
            };
            let access = (nibble(ef.rule.read) << 4) | nibble(ef.rule.update);
            vec![
                0x00, 0x00, size_hi, size_lo, fid_hi, fid_lo, 0x04, 0x00, // header
                access, 0x44, 0x44, // read|update, increase|RFU, rehabilitate|invalidate
                0x01, // file status: not invalidated
                0x02, structure, rec_len,
            ]
        }
    }
}

/// 2G access condition level: 0 ALW, 1 CHV1, 4 ADM.
fn nibble(access: Access) -> u8 {
    match access {
        Access::Always => 0x0,
        Access::Pin1 => 0x1,
        Access::Adm => 0x4,
    }
}
