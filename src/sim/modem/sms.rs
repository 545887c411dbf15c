//! Short messages (TS 27.005): the settings commands (`+CSMS`, `+CMGF`, `+CSCA`, `+CNMI`,
//! `+CSMP`), the preferred storages (`+CPMS`), reading and deleting (`+CMGL`, `+CMGR`,
//! `+CMGD`) over a store that is always empty (nothing is ever delivered to the modem), and
//! sending (`+CMGS`): accepted, given a message reference and recorded — the record is
//! [`Modem::sent_sms`](super::Modem::sent_sms) — but delivered nowhere.
//!
//! - **Storages.** `"ME"` is the modem's own (255 messages); `"SM"` is the card's EF_SMS, as
//!   many as its FCP says (0 when the card has none, as the virtual USIM); `"MT"` is both. The
//!   power-on choice is `"ME"` for all three, so a client without a card can still ask.
//! - **Service centre.** `+CSCA?` reads EF_SMSP record 1 through the slot, `+CSCA=` writes it
//!   there (UPDATE RECORD), as a module does; `+CMGS` in text mode, or with an empty SMSC in
//!   the PDU, uses it.
//! - **Errors** are `+CMS ERROR` (§3.2.5), shown per `+CMEE` like `+CME ERROR`: an invalid
//!   parameter is 304 in PDU mode and 305 in text mode, an unsupported form or storage 303, the
//!   SIM's state 310/311/313/314/316, an index without a message 321, no service centre 330,
//!   not registered 331.

use std::time::Duration;

use super::at_stream::{Cmd, End, Form, Reply};
use super::card::SimState;
use super::port::Port;
use super::sim_files::{self, EF_SMS, EF_SMSP, SimError};
use super::text::{self, Charset};
use super::{FIRMWARE, Shared};
use crate::encoding::{bcd, hex};

/// The modem's own message store.
pub const ME_CAPACITY: u16 = 255;
/// TS 23.040: the longest TPDU.
const MAX_TPDU: i64 = 164;

const INVALID_PDU: u16 = 304;
const INVALID_TEXT: u16 = 305;
const NOT_SUPPORTED: u16 = 303;
const INVALID_INDEX: u16 = 321;
const SMSC_UNKNOWN: u16 = 330;
const NO_SERVICE: u16 = 331;

/// A message storage of `+CPMS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mem {
    Sm,
    Me,
    Mt,
}

const MEMS: [Mem; 3] = [Mem::Sm, Mem::Me, Mem::Mt];

impl Mem {
    fn name(self) -> &'static str {
        match self {
            Mem::Sm => "SM",
            Mem::Me => "ME",
            Mem::Mt => "MT",
        }
    }

    fn parse(name: &str) -> Option<Mem> {
        MEMS.into_iter().find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsFormat {
    Pdu,
    Text,
}

/// One message `AT+CMGS` accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// When it was accepted, on the rig's clock.
    pub at: Duration,
    /// The AT port it came from: `"firmware"` or `"observer"`.
    pub port: &'static str,
    /// The active slot, 0-based (the fixture's `slot`).
    pub slot: u8,
    pub iccid: String,
    pub imsi: String,
    /// The service centre it went to, `+` and digits when international.
    pub smsc: String,
    /// The recipient, `+` and digits when international.
    pub destination: String,
    pub format: SmsFormat,
    /// PDU mode: the PDU as sent (hex, upper case, SMSC part included); text mode: the text.
    pub body: String,
    /// The message reference `+CMGS` answered.
    pub reference: u8,
}

pub struct SmsState {
    /// `<mem1>` (read, list, delete), `<mem2>` (write, send), `<mem3>` (receive).
    mem: [Mem; 3],
    pub sent: Vec<SentSms>,
    next_reference: u8,
}

impl Default for SmsState {
    fn default() -> Self {
        SmsState { mem: [Mem::Me; 3], sent: Vec::new(), next_reference: 0 }
    }
}

/// `AT+CMGS` waiting for its message: the length of the TPDU (PDU mode) or the recipient
/// (text mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    Pdu { len: usize },
    Text { destination: String },
}

pub async fn handle(port: &mut Port, cmd: &Cmd) -> Reply {
    let bad = invalid(port);
    match (cmd.name.as_str(), cmd.form) {
        ("+CSMS", Form::Set) => match cmd.int_in(0, 0..=1) {
            Some(_) => Reply::line("+CSMS: 1,1,1"),
            None => Reply::cms(bad),
        },
        ("+CSMS", Form::Read) => Reply::line("+CSMS: 0,1,1,1"),
        ("+CSMS", Form::Test) => Reply::line("+CSMS: (0,1)"),
        ("+CMGF", Form::Set) => match cmd.args.first().filter(|a| !a.text.is_empty()) {
            None => set(port, |s| s.cmgf = 0),
            Some(_) => match cmd.int_in(0, 0..=1) {
                Some(mode) => set(port, |s| s.cmgf = mode as u8),
                None => Reply::cms(bad),
            },
        },
        ("+CMGF", Form::Read) => Reply::line(format!("+CMGF: {}", port.link.settings().cmgf)),
        ("+CMGF", Form::Test) => Reply::line("+CMGF: (0,1)"),
        ("+CSCA", Form::Read) => csca_read(port).await,
        ("+CSCA", Form::Set) => csca_set(port, cmd).await,
        ("+CNMI", Form::Set) => cnmi(port, cmd),
        ("+CNMI", Form::Read) => {
            let [mode, mt, bm, ds, bfr] = port.link.settings().cnmi;
            Reply::line(format!("+CNMI: {mode},{mt},{bm},{ds},{bfr}"))
        }
        ("+CNMI", Form::Test) => Reply::line("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"),
        ("+CSMP", Form::Set) => csmp(port, cmd),
        ("+CSMP", Form::Read) => {
            let [fo, vp, pid, dcs] = port.link.settings().csmp;
            Reply::line(format!("+CSMP: {fo},{vp},{pid},{dcs}"))
        }
        ("+CPMS", Form::Set) => cpms_set(port, cmd).await,
        ("+CPMS", Form::Read) => cpms_read(port).await,
        ("+CPMS", Form::Test) => {
            let list = MEMS.map(|m| format!("\"{}\"", m.name())).join(",");
            Reply::line(format!("+CPMS: ({list}),({list}),({list})"))
        }
        ("+CMGL", Form::Exec | Form::Set) => cmgl(port, cmd).await,
        ("+CMGL", Form::Test) if port.link.settings().cmgf == 1 => {
            Reply::line("+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")")
        }
        ("+CMGL", Form::Test) => Reply::line("+CMGL: (0-4)"),
        ("+CMGR", Form::Set) => cmgr(port, cmd).await,
        ("+CMGD", Form::Set) => cmgd(port, cmd).await,
        ("+CMGD", Form::Test) => Reply::line("+CMGD: (),(0-4)"),
        ("+CMGS", Form::Set) => cmgs(port, cmd),
        (_, Form::Test) => Reply::ok(),
        _ => Reply::cms(NOT_SUPPORTED),
    }
}

/// The code of an invalid parameter in the port's message format.
fn invalid(port: &Port) -> u16 {
    if port.link.settings().cmgf == 1 { INVALID_TEXT } else { INVALID_PDU }
}

fn set(port: &Port, change: impl FnOnce(&mut super::urc::PortSettings)) -> Reply {
    port.link.update(change);
    Reply::ok()
}

/// `AT+CSCA?`: `+CSCA: "<sca>",<tosca>` from the card's EF_SMSP, in the port's `+CSCS`.
async fn csca_read(port: &Port) -> Reply {
    let records = match sim_files::read_records(&port.shared, EF_SMSP).await {
        Ok(records) => records,
        Err(e) => return Reply::cms(e.cms()),
    };
    let cs = port.link.settings().cscs;
    match records.first().and_then(|r| sim_files::service_centre(r)) {
        Some((ton_npi, digits)) => {
            let (number, kind) = text::number_and_type(ton_npi, &digits);
            Reply::line(format!("+CSCA: \"{}\",{kind}", cs.encode(&number)))
        }
        None => Reply::line("+CSCA: \"\",129"),
    }
}

/// `AT+CSCA="<sca>"[,<tosca>]`: written to EF_SMSP record 1 on the card.
async fn csca_set(port: &Port, cmd: &Cmd) -> Reply {
    let bad = invalid(port);
    let cs = port.link.settings().cscs;
    let Some((digits, ton_npi)) =
        cmd.text(0).and_then(|t| cs.decode(t)).and_then(|t| text::parse_number(&t, cmd.int(1)))
    else {
        return Reply::cms(bad);
    };
    let shared = &port.shared;
    let record = match sim_files::read_records(shared, EF_SMSP).await {
        Ok(records) => records.into_iter().next(),
        Err(e) => return Reply::cms(e.cms()),
    };
    let Some(record) = record.and_then(|r| sim_files::with_service_centre(&r, ton_npi, &digits)) else {
        // No EF_SMSP to keep it in (or a number too long for it).
        return Reply::cms(if digits.len() > 20 { bad } else { 320 });
    };
    match sim_files::update_record(shared, EF_SMSP, 1, &record).await {
        Ok(()) => Reply::ok(),
        Err(e) => Reply::cms(e.cms()),
    }
}

/// `AT+CNMI=[<mode>[,<mt>[,<bm>[,<ds>[,<bfr>]]]]]`: omitted values are 0. Stored only: no
/// message ever arrives, so no indication is ever sent.
fn cnmi(port: &Port, cmd: &Cmd) -> Reply {
    let ranges = [0..=2, 0..=3, 0..=2, 0..=2, 0..=1];
    let mut values = [0u8; 5];
    if cmd.args.len() > 5 {
        return Reply::cms(invalid(port));
    }
    for (i, range) in ranges.into_iter().enumerate() {
        match cmd.args.get(i).filter(|a| !a.text.is_empty()) {
            None => {}
            // <bm> 1 and 3 (class 0/3 cell broadcast routing) are not supported.
            Some(_) => match cmd.int_in(i, range).filter(|v| i != 2 || *v != 1) {
                Some(v) => values[i] = v as u8,
                None => return Reply::cms(invalid(port)),
            },
        }
    }
    set(port, |s| s.cnmi = values)
}

/// `AT+CSMP=[<fo>[,<vp>[,<pid>[,<dcs>]]]]` (text mode parameters): omitted values stay.
fn csmp(port: &Port, cmd: &Cmd) -> Reply {
    let mut values = port.link.settings().csmp;
    if cmd.args.len() > 4 {
        return Reply::cms(invalid(port));
    }
    for (i, value) in values.iter_mut().enumerate() {
        if cmd.args.get(i).is_some_and(|a| !a.text.is_empty()) {
            match cmd.int_in(i, 0..=255) {
                Some(v) => *value = v as u8,
                None => return Reply::cms(invalid(port)),
            }
        }
    }
    set(port, |s| s.csmp = values)
}

/// How many messages `mem` holds; the card's storage needs the card.
async fn capacity(shared: &Shared, mem: Mem) -> Result<u16, u16> {
    let sm = || async {
        match sim_files::records(shared, EF_SMS).await {
            Ok(info) => Ok(info.map_or(0, |r| u16::from(r.count))),
            Err(e) => Err(e.cms()),
        }
    };
    match mem {
        Mem::Me => Ok(ME_CAPACITY),
        Mem::Sm => sm().await,
        Mem::Mt => Ok(sm().await? + ME_CAPACITY),
    }
}

/// `<used>,<total>` of each storage; the store is always empty.
async fn counts(shared: &Shared, mems: [Mem; 3]) -> Result<[u16; 3], u16> {
    let mut totals = [0; 3];
    for (total, mem) in totals.iter_mut().zip(mems) {
        *total = capacity(shared, mem).await?;
    }
    Ok(totals)
}

async fn cpms_read(port: &Port) -> Reply {
    let mems = port.shared.core().sms.mem;
    match counts(&port.shared, mems).await {
        Ok(totals) => {
            let parts: Vec<String> =
                mems.iter().zip(totals).map(|(m, total)| format!("\"{}\",0,{total}", m.name())).collect();
            Reply::line(format!("+CPMS: {}", parts.join(",")))
        }
        Err(code) => Reply::cms(code),
    }
}

/// `AT+CPMS=<mem1>[,<mem2>[,<mem3>]]`: storages not named stay.
async fn cpms_set(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.args.is_empty() || cmd.args.len() > 3 {
        return Reply::cms(invalid(port));
    }
    let mut mems = port.shared.core().sms.mem;
    for (i, mem) in mems.iter_mut().enumerate() {
        match cmd.args.get(i).filter(|a| !a.text.is_empty()) {
            None if i == 0 => return Reply::cms(invalid(port)),
            None => {}
            Some(arg) => match Mem::parse(&arg.text) {
                Some(m) => *mem = m,
                None => return Reply::cms(NOT_SUPPORTED),
            },
        }
    }
    match counts(&port.shared, mems).await {
        Ok(totals) => {
            port.shared.core().sms.mem = mems;
            Reply::line(format!("+CPMS: {}", totals.map(|t| format!("0,{t}")).join(",")))
        }
        Err(code) => Reply::cms(code),
    }
}

/// The `<mem1>` storage and its size, or the error that it cannot be read now.
async fn read_storage(shared: &Shared) -> Result<u16, u16> {
    let mem1 = shared.core().sms.mem[0];
    capacity(shared, mem1).await
}

/// `AT+CMGL[=<stat>]`: nothing is stored, so nothing is listed.
async fn cmgl(port: &Port, cmd: &Cmd) -> Reply {
    let text_mode = port.link.settings().cmgf == 1;
    let valid = match cmd.args.first() {
        None => true,
        Some(_) if text_mode => cmd.text(0).is_some_and(|s| {
            ["REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(s))
        }),
        Some(_) => cmd.int_in(0, 0..=4).is_some(),
    };
    if !valid || cmd.args.len() > 2 {
        return Reply::cms(invalid(port));
    }
    match read_storage(&port.shared).await {
        Ok(_) => Reply::ok(),
        Err(code) => Reply::cms(code),
    }
}

/// `AT+CMGR=<index>`: no index holds a message.
async fn cmgr(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.int_in(0, 0..=65_535).is_none() || cmd.args.len() > 2 {
        return Reply::cms(invalid(port));
    }
    match read_storage(&port.shared).await {
        Ok(_) => Reply::cms(INVALID_INDEX),
        Err(code) => Reply::cms(code),
    }
}

/// `AT+CMGD=<index>[,<delflag>]`: an empty index within the storage is deleted trivially;
/// with a `<delflag>` of 1–4 the index is ignored.
async fn cmgd(port: &Port, cmd: &Cmd) -> Reply {
    let (Some(index), Some(flag)) =
        (cmd.int_in(0, 0..=65_535), cmd.int(1).or(Some(0)).filter(|f| (0..=4).contains(f)))
    else {
        return Reply::cms(invalid(port));
    };
    match read_storage(&port.shared).await {
        Ok(total) if flag == 0 && index >= i64::from(total) => Reply::cms(INVALID_INDEX),
        Ok(_) => Reply::ok(),
        Err(code) => Reply::cms(code),
    }
}

/// `AT+CMGS=<length>` (PDU mode) / `AT+CMGS="<da>"[,<toda>]` (text mode): the `> ` prompt; the
/// message follows, ended by Ctrl-Z (ESC cancels).
fn cmgs(port: &mut Port, cmd: &Cmd) -> Reply {
    if let Err(e) = sim_files::ready(&port.shared) {
        return Reply::cms(e.cms());
    }
    let settings = port.link.settings();
    let draft = if settings.cmgf == 1 {
        let number = cmd
            .text(0)
            .and_then(|t| settings.cscs.decode(t))
            .and_then(|t| text::parse_number(&t, cmd.int(1)));
        match number {
            Some((digits, ton_npi)) if cmd.args.len() <= 2 => {
                Draft::Text { destination: text::number_and_type(ton_npi, &digits).0 }
            }
            _ => return Reply::cms(INVALID_TEXT),
        }
    } else {
        match cmd.int_in(0, 1..=MAX_TPDU) {
            Some(len) if cmd.args.len() == 1 => Draft::Pdu { len: len as usize },
            _ => return Reply::cms(INVALID_PDU),
        }
    };
    port.composing = Some(draft);
    Reply { end: End::Prompt, ..Reply::ok() }
}

/// The message after `AT+CMGS`'s prompt: checked, given a reference, recorded.
pub async fn submit(port: &mut Port, body: Vec<u8>, send: bool) -> Reply {
    let Some(draft) = port.composing.take() else { return Reply::error() };
    if !send {
        return Reply::ok();
    }
    let cs = port.link.settings().cscs;
    let (format, destination, given_smsc, body) = match draft {
        Draft::Pdu { len } => match parse_submit(&body, len) {
            Some((destination, smsc)) => {
                let hex = String::from_utf8_lossy(&body).trim().to_ascii_uppercase();
                (SmsFormat::Pdu, destination, smsc, hex)
            }
            None => return Reply::cms(INVALID_PDU),
        },
        Draft::Text { destination } => match std::str::from_utf8(&body).ok().and_then(|t| text_body(cs, t)) {
            Some(text) => (SmsFormat::Text, destination, None, text),
            None => return Reply::cms(INVALID_TEXT),
        },
    };
    let shared = &port.shared;
    let smsc = match given_smsc {
        Some(smsc) => smsc,
        None => match card_smsc(shared).await {
            Ok(Some(smsc)) => smsc,
            Ok(None) => return Reply::cms(SMSC_UNKNOWN),
            Err(e) => return Reply::cms(e.cms()),
        },
    };
    let mut core = shared.core();
    let (iccid, imsi) = match &core.sim {
        SimState::Ready { iccid, imsi } => (iccid.clone(), imsi.clone()),
        other => return Reply::cms(SimError(other.not_ready_error().unwrap_or(13)).cms()),
    };
    if !core.reg.registered() {
        return Reply::cms(NO_SERVICE);
    }
    let reference = core.sms.next_reference;
    core.sms.next_reference = reference.wrapping_add(1);
    let sms = SentSms {
        at: shared.clock.now(),
        port: if port.id == FIRMWARE { "firmware" } else { "observer" },
        slot: core.active,
        iccid,
        imsi,
        smsc,
        destination,
        format,
        body,
        reference,
    };
    tracing::info!(port = sms.port, to = %sms.destination, reference, "SMS accepted (not delivered)");
    core.sms.sent.push(sms);
    Reply::line(format!("+CMGS: {reference}"))
}

/// A text-mode body in the port's character set; CR inside it (a new line) stays.
fn text_body(cs: Charset, body: &str) -> Option<String> {
    match cs {
        Charset::Ucs2 => cs.decode(body.trim()),
        Charset::Gsm | Charset::Ira => cs.decode(body),
    }
}

/// The card's service centre (EF_SMSP record 1), `+` and digits when international.
async fn card_smsc(shared: &Shared) -> Result<Option<String>, SimError> {
    let records = sim_files::read_records(shared, EF_SMSP).await?;
    Ok(records
        .first()
        .and_then(|r| sim_files::service_centre(r))
        .map(|(ton_npi, digits)| text::number_and_type(ton_npi, &digits).0))
}

/// A PDU-mode SMS-SUBMIT (TS 23.040 §9.2.2.2) as hex: the SMSC part (its length, then TOA and
/// BCD), then a TPDU of exactly `len` bytes whose MTI is SUBMIT. Returns the recipient and the
/// SMSC if the PDU names one.
fn parse_submit(hex: &[u8], len: usize) -> Option<(String, Option<String>)> {
    let hex = std::str::from_utf8(hex).ok()?.trim();
    let pdu = hex::decode(hex)?;
    let (&smsc_len, rest) = pdu.split_first()?;
    let smsc_len = usize::from(smsc_len);
    let smsc = rest.get(..smsc_len)?;
    let tpdu = &rest[smsc_len..];
    // TP-MTI 01: SMS-SUBMIT. Then TP-MR, and TP-DA (digits, TOA, BCD).
    if tpdu.len() != len || tpdu.len() < 4 || tpdu[0] & 0x03 != 0x01 {
        return None;
    }
    let digits = usize::from(tpdu[2]);
    let da = tpdu.get(4..4 + digits.div_ceil(2))?;
    let mut number = bcd::digits(da);
    number.truncate(digits);
    if number.len() != digits || digits == 0 {
        return None;
    }
    let destination = text::number_and_type(tpdu[3], &number).0;
    let smsc = match smsc {
        [] => None,
        [toa, bcd @ ..] => Some(text::number_and_type(*toa, &bcd::digits(bcd)).0),
    };
    Some((destination, smsc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_pdus() {
        // No SMSC, SUBMIT with VP relative, MR 0, DA +4915112345678, PID 0, DCS 0, "hi".
        let pdu = b"0011000D91945111325476F80000AA02E834";
        assert_eq!(parse_submit(pdu, 17), Some(("+4915112345678".to_owned(), None)));
        assert_eq!(parse_submit(pdu, 16), None, "length is the TPDU's");
        let with_smsc = b"0691940001000011000D91945111325476F80000AA02E834";
        assert_eq!(
            parse_submit(with_smsc, 17),
            Some(("+4915112345678".to_owned(), Some("+4900100000".to_owned())))
        );
        // A DELIVER (MTI 00) is not something to send.
        assert_eq!(parse_submit(b"0000000D91945111325476F80000AA02E834", 17), None);
        assert_eq!(parse_submit(b"00110", 2), None);
        assert_eq!(parse_submit(b"zz", 1), None);
    }
}
