//! Executing a command line: the command table, which both dispatches and answers `AT+CLAC`
//! (so the list is exactly what the modem implements), and the general commands (echo, error
//! format, identification, the SIM's identity, `+CPAS`, `+CSCS`, `+CNUM`).
//!
//! The table also says which forms (set, read, test, exec) each command has; a form it does
//! not have is refused here: `+CME ERROR: 4` (operation not supported), `+CMS ERROR: 303` for
//! the SMS commands, plain `ERROR` for the V.250 basic commands. A command the table does not
//! have is plain `ERROR` whatever `+CMEE` says, as on the real module.

use super::at_stream::{Cmd, End, Form, Reply, parse_line};
use super::port::Port;
use super::sim_files::{self, EF_MSISDN};
use super::text::{CHARSETS, Charset};
use super::urc::PortSettings;
use super::{data, netinfo, radio, registration, rtc, sim_control, sms};

const MANUFACTURER: &str = "Quectel";
const MODEL: &str = "EG25";
const REVISION: &str = "SEEDRIG-VIRTUAL-1";
/// A test IMEI (TAC 35 000000, serial and Luhn digit), not a real device's.
const IMEI: &str = "350000000000006";

/// Who answers a command.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Answered at once, without the card or the network.
    Now(fn(&Port, &Cmd) -> Reply),
    /// `sim_control`: PIN, slot switching, `+CRSM`, `+CSIM` (talk to the card).
    Sim,
    /// `data`: contexts and sockets (may wait for the network).
    Data,
    /// `netinfo`: `+QENG`, `+QNWINFO`, `+QCSQ`, `+QSPN` (`+QSPN` reads the card).
    NetInfo,
    /// `sms`: TS 27.005 (some read or write the card).
    Sms,
    /// `AT+CNUM` (reads the card).
    Cnum,
}

/// How a command reports a form it does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// V.250 basic command: `ERROR`.
    Basic,
    /// TS 27.007 or vendor extended command: `+CME ERROR: 4`.
    Cme,
    /// TS 27.005 SMS command: `+CMS ERROR: 303`.
    Cms,
}

pub struct Command {
    /// As `AT+CLAC` lists it: `E`, `&F`, `+CSQ`.
    pub name: &'static str,
    /// The forms it has, in the order set, read, test, exec.
    pub forms: &'static [Form],
    pub family: Family,
    handler: Handler,
}

const fn cmd(name: &'static str, forms: &'static [Form], handler: Handler) -> Command {
    let family = if name.as_bytes()[0] != b'+' { Family::Basic } else { Family::Cme };
    Command { name, forms, family, handler }
}

const fn sms_cmd(name: &'static str, forms: &'static [Form]) -> Command {
    Command { name, forms, family: Family::Cms, handler: Handler::Sms }
}

use Form::{Exec as X, Read as R, Set as S, Test as T};
use Handler::Now;

const BASIC: &[Form] = &[S, X];
const SRT: &[Form] = &[S, R, T];
const ST: &[Form] = &[S, T];
const TX: &[Form] = &[T, X];

/// Every command the modem implements. `AT+CLAC` lists exactly these, in this order.
pub const COMMANDS: &[Command] = &[
    // V.250 basic commands.
    cmd("E", BASIC, Now(echo)),
    cmd("Z", BASIC, Now(reset)),
    cmd("&F", BASIC, Now(reset)),
    cmd("V", BASIC, Now(accept_default)),
    cmd("Q", BASIC, Now(accept_default)),
    cmd("&W", BASIC, Now(accept)),
    cmd("&D", BASIC, Now(accept)),
    cmd("&C", BASIC, Now(accept)),
    cmd("I", BASIC, Now(identity)),
    // Identification and general commands (TS 27.007 §5, §8, §9).
    cmd("+GMI", TX, Now(identity)),
    cmd("+CGMI", TX, Now(identity)),
    cmd("+GMM", TX, Now(identity)),
    cmd("+CGMM", TX, Now(identity)),
    cmd("+GMR", TX, Now(identity)),
    cmd("+CGMR", TX, Now(identity)),
    cmd("+GSN", TX, Now(identity)),
    cmd("+CGSN", TX, Now(identity)),
    cmd("+CMEE", SRT, Now(cmee)),
    cmd("+CLAC", TX, Now(clac)),
    cmd("+CPAS", TX, Now(cpas)),
    cmd("+CSCS", SRT, Now(cscs)),
    cmd("+CCLK", SRT, Now(rtc::cclk)),
    cmd("+CFUN", SRT, Now(registration::handle)),
    // The SIM.
    cmd("+CPIN", SRT, Handler::Sim),
    cmd("+CIMI", TX, Now(cimi)),
    cmd("+QCCID", TX, Now(iccid)),
    cmd("+CCID", TX, Now(iccid)),
    cmd("+ICCID", TX, Now(iccid)),
    cmd("+CNUM", TX, Handler::Cnum),
    cmd("+CRSM", ST, Handler::Sim),
    cmd("+CSIM", ST, Handler::Sim),
    cmd("+QUIMSLOT", SRT, Handler::Sim),
    cmd("+QSIMSTAT", SRT, Now(qsimstat)),
    cmd("+QSIMDET", SRT, Now(qsimdet)),
    // The network.
    cmd("+COPS", SRT, Now(registration::handle)),
    cmd("+CREG", SRT, Now(registration::handle)),
    cmd("+CGREG", SRT, Now(registration::handle)),
    cmd("+CEREG", SRT, Now(registration::handle)),
    cmd("+CGATT", SRT, Now(registration::handle)),
    cmd("+CSQ", TX, Now(registration::handle)),
    cmd("+CESQ", TX, Now(registration::handle)),
    cmd("+QOPS", TX, Now(registration::handle)),
    cmd("+QCFG", ST, Now(radio::qcfg)),
    cmd("+QENG", ST, Handler::NetInfo),
    cmd("+QNWINFO", TX, Handler::NetInfo),
    cmd("+QCSQ", TX, Handler::NetInfo),
    cmd("+QSPN", TX, Handler::NetInfo),
    // Packet data and Quectel's TCP/IP stack.
    cmd("+CGDCONT", SRT, Handler::Data),
    cmd("+CGACT", SRT, Handler::Data),
    cmd("+CGPADDR", &[S, T, X], Handler::Data),
    cmd("+CGEREP", SRT, Handler::Data),
    cmd("+QIACT", SRT, Handler::Data),
    cmd("+QIDEACT", ST, Handler::Data),
    cmd("+QIOPEN", ST, Handler::Data),
    cmd("+QISEND", ST, Handler::Data),
    cmd("+QICLOSE", ST, Handler::Data),
    cmd("+QPING", ST, Handler::Data),
    // Short messages (TS 27.005).
    sms_cmd("+CSMS", SRT),
    sms_cmd("+CMGF", SRT),
    sms_cmd("+CSCA", SRT),
    sms_cmd("+CNMI", SRT),
    sms_cmd("+CSMP", SRT),
    sms_cmd("+CPMS", SRT),
    sms_cmd("+CMGL", &[S, T, X]),
    sms_cmd("+CMGR", ST),
    sms_cmd("+CMGD", ST),
    sms_cmd("+CMGS", ST),
];

pub fn lookup(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Runs every command of a line in order; the first that does not end in OK ends the line.
pub async fn execute(port: &mut Port, line: &str) -> Reply {
    let Ok(cmds) = parse_line(line) else {
        return Reply::error();
    };
    let mut total = Reply::ok();
    for cmd in &cmds {
        flush_before_next(port, &mut total);
        let reply = dispatch(port, cmd).await;
        total.lines.extend(reply.lines);
        total.after.extend(reply.after);
        if reply.end != End::Ok {
            total.end = reply.end;
            break;
        }
    }
    total
}

/// What an earlier command of the line left to do (its URCs; it may hold the SIM lock) must
/// not wait for the rest of the line: its information lines go out, then the work runs. A
/// single command keeps the usual order, final result first.
fn flush_before_next(port: &Port, total: &mut Reply) {
    if total.after.is_empty() {
        return;
    }
    let lines = Reply { lines: std::mem::take(&mut total.lines), end: End::None, after: Vec::new() };
    port.link.send(lines.render(port.link.settings().cmee));
    for after in total.after.drain(..) {
        after();
    }
}

async fn dispatch(port: &mut Port, cmd: &Cmd) -> Reply {
    let Some(command) = lookup(&cmd.name) else {
        return Reply::error();
    };
    if !command.forms.contains(&cmd.form) {
        return match command.family {
            Family::Basic => Reply::error(),
            Family::Cme => Reply::cme(4),
            Family::Cms => Reply::cms(303),
        };
    }
    match command.handler {
        Handler::Now(answer) => answer(port, cmd),
        Handler::Sim => sim_control::handle(port, cmd).await,
        Handler::Data => data::handle(port, cmd).await,
        Handler::NetInfo => netinfo::handle(port, cmd).await,
        Handler::Sms => sms::handle(port, cmd).await,
        Handler::Cnum => cnum(port, cmd).await,
    }
}

/// `AT+CLAC`: the command table, one name a line.
fn clac(_port: &Port, cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Exec => Reply::lines(COMMANDS.iter().map(|c| c.name.to_owned()).collect()),
        _ => Reply::ok(),
    }
}

/// `AT+CPAS`: 0 (ready): the modem has no calls, so it is never ringing or in a call.
fn cpas(_port: &Port, cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Exec => Reply::line("+CPAS: 0"),
        _ => Reply::line("+CPAS: (0-5)"),
    }
}

/// `AT+CSCS`: this port's TE character set.
fn cscs(port: &Port, cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Set => match cmd.text(0).and_then(Charset::parse) {
            Some(cs) if cmd.args.len() == 1 => {
                port.link.update(|s| s.cscs = cs);
                Reply::ok()
            }
            _ => Reply::cme(50),
        },
        Form::Read => Reply::line(format!("+CSCS: \"{}\"", port.link.settings().cscs.name())),
        _ => {
            let list: Vec<String> = CHARSETS.iter().map(|c| format!("\"{}\"", c.name())).collect();
            Reply::line(format!("+CSCS: ({})", list.join(",")))
        }
    }
}

/// `AT+CNUM`: the card's own numbers (EF_MSISDN, read through the slot), alpha identifier in
/// the port's `+CSCS`.
async fn cnum(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.form == Form::Test {
        return Reply::ok();
    }
    let records = match sim_files::read_records(&port.shared, EF_MSISDN).await {
        Ok(records) => records,
        Err(e) => return Reply::cme(e.0),
    };
    let cs = port.link.settings().cscs;
    let lines = records
        .iter()
        .filter_map(|r| sim_files::dialling_number(r))
        .map(|(alpha, ton_npi, digits)| {
            let (number, kind) = super::text::number_and_type(ton_npi, &digits);
            format!("+CNUM: \"{}\",\"{number}\",{kind}", cs.encode(&alpha))
        })
        .collect();
    Reply::lines(lines)
}

/// `ATE0` / `ATE1` (`ATE` alone is `ATE0`).
fn echo(port: &Port, cmd: &Cmd) -> Reply {
    match cmd.int(0).unwrap_or(0) {
        v @ 0..=1 => {
            port.link.update(|s| s.echo = v == 1);
            Reply::ok()
        }
        _ => Reply::error(),
    }
}

/// `ATZ` / `AT&F`: this port's settings back to power-on values.
fn reset(port: &Port, _cmd: &Cmd) -> Reply {
    port.link.update(|s| *s = PortSettings::default());
    Reply::ok()
}

/// Basic settings the modem has only one value of (`ATV1`, `ATQ0`); a missing value is 0
/// (V.250).
fn accept_default(_port: &Port, cmd: &Cmd) -> Reply {
    let only = if cmd.name == "V" { 1 } else { 0 };
    if cmd.int(0).unwrap_or(0) == only { Reply::ok() } else { Reply::error() }
}

/// Basic settings without effect here (`AT&W`, `AT&D`, `AT&C`).
fn accept(_port: &Port, _cmd: &Cmd) -> Reply {
    Reply::ok()
}

fn identity(_port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.name.as_str(), cmd.form) {
        ("I", _) => Reply::lines(vec![MANUFACTURER.into(), MODEL.into(), format!("Revision: {REVISION}")]),
        ("+GMI" | "+CGMI", Form::Exec) => Reply::line(MANUFACTURER),
        ("+GMM" | "+CGMM", Form::Exec) => Reply::line(MODEL),
        ("+GMR" | "+CGMR", Form::Exec) => Reply::line(REVISION),
        ("+GSN" | "+CGSN", Form::Exec) => Reply::line(IMEI),
        (_, Form::Test) => Reply::ok(),
        _ => Reply::cme(4),
    }
}

fn cmee(port: &Port, cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Set => match cmd.int_in(0, 0..=2) {
            Some(v) => {
                port.link.update(|s| s.cmee = v as u8);
                Reply::ok()
            }
            None => Reply::cme(50),
        },
        Form::Read => Reply::line(format!("+CMEE: {}", port.link.settings().cmee)),
        Form::Test => Reply::line("+CMEE: (0-2)"),
        Form::Exec => Reply::cme(4),
    }
}

fn cimi(port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.form, &port.shared.core().sim) {
        (Form::Exec, super::card::SimState::Ready { imsi, .. }) => Reply::line(imsi.clone()),
        (Form::Exec, other) => Reply::cme(other.not_ready_error().unwrap_or(13)),
        _ => Reply::ok(),
    }
}

/// `AT+QCCID` (and the other vendors' names): the ICCID, readable without the PIN.
fn iccid(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.form != Form::Exec {
        return Reply::ok();
    }
    let core = port.shared.core();
    match core.sim.iccid() {
        Some(iccid) => Reply::line(format!("{}: {iccid}", cmd.name)),
        None => Reply::cme(core.sim.not_ready_error().unwrap_or(13)),
    }
}

fn qsimstat(port: &Port, cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Set => match cmd.int_in(0, 0..=1) {
            Some(v) => {
                port.link.update(|s| s.qsimstat = v == 1);
                Reply::ok()
            }
            None => Reply::cme(50),
        },
        Form::Read => {
            let inserted = port.shared.core().card_seen.is_some();
            let enabled = port.link.settings().qsimstat;
            Reply::line(format!("+QSIMSTAT: {},{}", u8::from(enabled), u8::from(inserted)))
        }
        Form::Test => Reply::line("+QSIMSTAT: (0,1)"),
        Form::Exec => Reply::cme(4),
    }
}

/// Hot-plug detection is always on in this modem (the bridge drives the detect line); the
/// command is accepted so that firmware written for real modules runs unchanged.
fn qsimdet(_port: &Port, cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Set if cmd.int_in(0, 0..=1).is_some() => Reply::ok(),
        Form::Read => Reply::line("+QSIMDET: 1,1"),
        Form::Test => Reply::line("+QSIMDET: (0,1),(0,1)"),
        _ => Reply::cme(50),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = include_str!("../../../docs/virtual-bench.md");

    fn form_name(form: Form) -> &'static str {
        match form {
            Form::Set => "set",
            Form::Read => "read",
            Form::Test => "test",
            Form::Exec => "exec",
        }
    }

    /// The cells of a markdown table row (`\|` does not end a cell).
    fn cells(row: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut chars = row.trim().trim_start_matches('|').chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => out.last_mut().unwrap().push(chars.next().unwrap()),
                '|' => out.push(String::new()),
                _ => out.last_mut().unwrap().push(c),
            }
        }
        out.iter().map(|c| c.trim().to_owned()).collect()
    }

    /// docs/virtual-bench.md's command table names every command of the dispatch table, once,
    /// with its forms, and nothing else.
    #[test]
    fn the_documented_table_is_the_dispatch_table() {
        let section = DOC.split("### AT dialect").nth(1).unwrap().split("\n## ").next().unwrap();
        let mut documented: Vec<(String, String)> = Vec::new();
        for row in section.lines().filter(|l| l.starts_with("| `")) {
            let cells = cells(row);
            for name in cells[0].split('`').skip(1).step_by(2) {
                documented.push((name.to_owned(), cells[1].clone()));
            }
        }
        for command in COMMANDS {
            let forms: Vec<&str> = command.forms.iter().map(|f| form_name(*f)).collect();
            let rows: Vec<_> = documented.iter().filter(|(n, _)| n == command.name).collect();
            assert_eq!(rows.len(), 1, "{} is documented {} times", command.name, rows.len());
            assert_eq!(rows[0].1, forms.join(", "), "forms of {}", command.name);
        }
        for (name, _) in &documented {
            assert!(lookup(name).is_some(), "{name} is documented but not implemented");
        }
    }

    #[test]
    fn forms_are_listed_in_order_and_every_error_has_a_text() {
        let order = [Form::Set, Form::Read, Form::Test, Form::Exec];
        for command in COMMANDS {
            let at: Vec<usize> =
                command.forms.iter().map(|f| order.iter().position(|o| o == f).unwrap()).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", command.name);
        }
        for code in [3, 4, 10, 11, 12, 13, 14, 16, 30, 50, 132, 133, 134, 148, 149] {
            assert!(super::super::at_stream::cme_verbose(code).is_some(), "CME {code}");
        }
        for code in [303, 304, 305, 310, 311, 313, 314, 316, 320, 321, 330, 331] {
            assert!(super::super::at_stream::cms_verbose(code).is_some(), "CMS {code}");
        }
    }
}
