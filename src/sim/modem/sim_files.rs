//! EFs of the card in the active slot, read (and written) the way the modem's SIM driver does
//! for `AT+CNUM` (EF_MSISDN), `AT+CSCA` (EF_SMSP), `AT+QSPN` (EF_SPN) and the SM storage of
//! `AT+CPMS` (EF_SMS): SELECT ADF.USIM, SELECT the file, then READ RECORD, READ BINARY or
//! UPDATE RECORD — the APDUs of `AT+CRSM`, through the slot, at the moment of the command. So
//! the answer is always the card's in the selected slot, including what `AT+CRSM` wrote there.

use super::Shared;
use super::card::{Exchange, SELECT_USIM, select_fid};
use super::sim_control::device_error;
use crate::encoding::bcd;

pub const EF_SMS: u16 = 0x6F3C;
pub const EF_MSISDN: u16 = 0x6F40;
pub const EF_SMSP: u16 = 0x6F42;
pub const EF_SPN: u16 = 0x6F46;

const SW_OK: u16 = 0x9000;
const SW_NOT_FOUND: u16 = 0x6A82;
const SW_NO_RECORD: u16 = 0x6A83;
const SW_SECURITY: u16 = 0x6982;

/// Why a file could not be read, as a TS 27.007 `+CME ERROR` code (10 no SIM, 11 PIN, 12 PUK,
/// 13 failure, 14 busy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimError(pub u16);

impl SimError {
    /// The TS 27.005 `+CMS ERROR` of the same condition.
    pub fn cms(self) -> u16 {
        match self.0 {
            10 => 310,
            11 => 311,
            12 => 316,
            14 => 314,
            _ => 313,
        }
    }
}

/// Files need a card with PIN1 verified (they are PIN-protected, and the modem reads none
/// before).
pub fn ready(shared: &Shared) -> Result<(), SimError> {
    match shared.core().sim.not_ready_error() {
        None => Ok(()),
        Some(code) => Err(SimError(code)),
    }
}

/// A linear fixed EF's record length and count, as its FCP states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Records {
    pub len: u8,
    pub count: u8,
}

async fn run(shared: &Shared, ex: Exchange) -> Result<(Vec<u8>, u16), SimError> {
    ready(shared)?;
    shared.active_slot().exchange(ex).await.map_err(|e| SimError(device_error(&e)))
}

fn on_file(fid: u16, command: Vec<u8>) -> Exchange {
    Exchange { steps: vec![SELECT_USIM.to_vec(), select_fid(fid, false)], command, follow: true }
}

fn refused(sw: u16) -> SimError {
    SimError(if sw == SW_SECURITY { 11 } else { 13 })
}

/// The records of `fid` under ADF.USIM; None if the card has no such file.
pub async fn records(shared: &Shared, fid: u16) -> Result<Option<Records>, SimError> {
    let ex = Exchange { steps: vec![SELECT_USIM.to_vec()], command: select_fid(fid, true), follow: true };
    match run(shared, ex).await? {
        (fcp, SW_OK) => Ok(Some(parse_fcp(&fcp).unwrap_or(Records { len: 0, count: 0 }))),
        (_, SW_NOT_FOUND) => Ok(None),
        (_, sw) => Err(refused(sw)),
    }
}

/// Every record of `fid` (none if the file is not there).
pub async fn read_records(shared: &Shared, fid: u16) -> Result<Vec<Vec<u8>>, SimError> {
    let Some(info) = records(shared, fid).await? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for n in 1..=info.count {
        match run(shared, on_file(fid, vec![0x00, 0xB2, n, 0x04, info.len])).await? {
            (data, SW_OK) => out.push(data),
            (_, SW_NO_RECORD) => break,
            (_, sw) => return Err(refused(sw)),
        }
    }
    Ok(out)
}

/// A transparent EF's content (up to 256 bytes); None if the file is not there.
pub async fn read_binary(shared: &Shared, fid: u16) -> Result<Option<Vec<u8>>, SimError> {
    match run(shared, on_file(fid, vec![0x00, 0xB0, 0x00, 0x00, 0x00])).await? {
        (data, SW_OK) => Ok(Some(data)),
        (_, SW_NOT_FOUND) => Ok(None),
        (_, sw) => Err(refused(sw)),
    }
}

/// UPDATE RECORD `n` (absolute mode) of `fid`.
pub async fn update_record(shared: &Shared, fid: u16, n: u8, data: &[u8]) -> Result<(), SimError> {
    let mut command = vec![0x00, 0xDC, n, 0x04, data.len() as u8];
    command.extend_from_slice(data);
    match run(shared, on_file(fid, command)).await? {
        (_, SW_OK) => Ok(()),
        (_, sw) => Err(refused(sw)),
    }
}

/// Record length and count from an FCP template (`62`): the file descriptor (`82`) of a
/// record EF has five bytes, descriptor, coding, record length (2) and count.
fn parse_fcp(fcp: &[u8]) -> Option<Records> {
    let body = match fcp {
        [0x62, len, rest @ ..] => rest.get(..usize::from(*len))?,
        _ => return None,
    };
    let mut i = 0;
    while i + 2 <= body.len() {
        let (tag, len) = (body[i], usize::from(body[i + 1]));
        let value = body.get(i + 2..i + 2 + len)?;
        if tag == 0x82 && len == 5 {
            return Some(Records { len: value[3], count: value[4] });
        }
        i += 2 + len;
    }
    None
}

/// The number of a dialling number record (EF_MSISDN, EF_ADN): alpha identifier, then length,
/// TON/NPI, BCD digits. None for an empty record.
pub fn dialling_number(record: &[u8]) -> Option<(String, u8, String)> {
    let alpha_len = record.len().checked_sub(14)?;
    let number = &record[alpha_len..];
    let len = usize::from(number[0]);
    if number[0] == 0xFF || !(2..=11).contains(&len) {
        return None;
    }
    let digits = bcd::digits(&number[2..1 + len]);
    Some((super::text::sim_alpha(&record[..alpha_len]), number[1], digits))
}

/// Where the TS-Service Centre Address is in an EF_SMSP record: after the alpha identifier
/// (record length − 28), the parameter indicators and the 12-byte TP-Destination Address.
fn smsc_offset(record: &[u8]) -> Option<usize> {
    record.len().checked_sub(28).map(|alpha| alpha + 13)
}

/// The service centre of an EF_SMSP record (TS 31.102 §4.2.27): TON/NPI and digits, if the
/// parameter indicators say it is present.
pub fn service_centre(record: &[u8]) -> Option<(u8, String)> {
    let at = smsc_offset(record)?;
    let indicators = record[at - 13];
    let address = &record[at..at + 12];
    let len = usize::from(address[0]);
    if indicators & 0x02 != 0 || !(2..=11).contains(&len) {
        return None;
    }
    Some((address[1], bcd::digits(&address[2..1 + len])))
}

/// The record with the service centre replaced (and marked present).
pub fn with_service_centre(record: &[u8], ton_npi: u8, digits: &str) -> Option<Vec<u8>> {
    let at = smsc_offset(record)?;
    let bcd = bcd::encode(digits).filter(|b| b.len() <= 10)?;
    let mut out = record.to_vec();
    out[at - 13] &= !0x02;
    let mut address = vec![(bcd.len() + 1) as u8, ton_npi];
    address.extend(bcd);
    address.resize(12, 0xFF);
    out[at..at + 12].copy_from_slice(&address);
    Some(out)
}

/// The service provider name of EF_SPN: display condition, then 16 bytes of name.
pub fn spn(content: &[u8]) -> String {
    content.get(1..).map(super::text::sim_alpha).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fcp_of_a_record_file() {
        let fcp = [0x62, 0x0C, 0x82, 0x05, 0x42, 0x21, 0x00, 0x1A, 0x01, 0x83, 0x02, 0x6F, 0x40, 0x00];
        assert_eq!(parse_fcp(&fcp), Some(Records { len: 26, count: 1 }));
        assert_eq!(parse_fcp(&[0x62, 0x04, 0x82, 0x02, 0x41, 0x21]), None, "transparent");
    }

    #[test]
    fn numbers_in_records() {
        let mut msisdn = vec![0xFF; 12];
        msisdn.extend([0x08, 0x91, 0x94, 0x90, 0x09, 0x00, 0x00, 0x00, 0xF1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(dialling_number(&msisdn), Some((String::new(), 0x91, "4909900000001".to_owned())));
        assert_eq!(dialling_number(&[0xFF; 26]), None);

        let mut smsp = vec![0xFF; 12];
        smsp.push(0xE1);
        smsp.extend([0xFF; 12]);
        smsp.extend([0x06, 0x91, 0x94, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        smsp.extend([0x00, 0x00, 0xA7]);
        assert_eq!(service_centre(&smsp), Some((0x91, "4900100000".to_owned())));
        let changed = with_service_centre(&smsp, 0x81, "0171").unwrap();
        assert_eq!(service_centre(&changed), Some((0x81, "0171".to_owned())));
        assert_eq!(changed.len(), smsp.len());
        let mut absent = smsp.clone();
        absent[12] |= 0x02;
        assert_eq!(service_centre(&absent), None);
        assert_eq!(
            service_centre(&with_service_centre(&absent, 0x91, "49").unwrap()),
            Some((0x91, "49".to_owned()))
        );
    }
}
