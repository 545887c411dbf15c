//! Executing a command line: dispatch to the command's module, and the general commands
//! (echo, error format, identification, the SIM's identity).

use super::at::{Cmd, End, Form, Reply, parse_line};
use super::port::Port;
use super::urc::PortSettings;
use super::{data, registration, sim_control};

const MANUFACTURER: &str = "Quectel";
const MODEL: &str = "EG25";
const REVISION: &str = "SEEDRIG-VIRTUAL-1";
/// A test IMEI (TAC 35 000000, serial and Luhn digit), not a real device's.
const IMEI: &str = "350000000000006";

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
    match cmd.name.as_str() {
        "E" => echo(port, cmd),
        "Z" | "&F" => reset(port),
        "V" | "Q" => accept_default(cmd, if cmd.name == "V" { 1 } else { 0 }),
        "&W" | "&D" | "&C" => Reply::ok(),
        "I" | "+GMI" | "+CGMI" | "+GMM" | "+CGMM" | "+GMR" | "+CGMR" | "+GSN" | "+CGSN" => identity(cmd),
        "+CMEE" => cmee(port, cmd),
        "+CIMI" => cimi(port, cmd),
        "+QCCID" | "+CCID" | "+ICCID" => iccid(port, cmd),
        "+QSIMSTAT" => qsimstat(port, cmd),
        "+QSIMDET" => qsimdet(cmd),
        "+CPIN" | "+QUIMSLOT" | "+CRSM" | "+CSIM" => sim_control::handle(port, cmd).await,
        "+CFUN" | "+COPS" | "+CREG" | "+CGREG" | "+CEREG" | "+CSQ" | "+CESQ" | "+QOPS" | "+CGATT" => {
            registration::handle(port, cmd)
        }
        "+CGDCONT" | "+CGACT" | "+CGPADDR" | "+CGEREP" | "+QIACT" | "+QIDEACT" | "+QIOPEN" | "+QISEND"
        | "+QICLOSE" | "+QPING" => data::handle(port, cmd).await,
        _ => Reply::error(),
    }
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
fn reset(port: &Port) -> Reply {
    port.link.update(|s| *s = PortSettings::default());
    Reply::ok()
}

/// Basic settings the modem has only one value of (`ATV1`, `ATQ0`); a missing value is 0
/// (V.250).
fn accept_default(cmd: &Cmd, only: i64) -> Reply {
    if cmd.int(0).unwrap_or(0) == only { Reply::ok() } else { Reply::error() }
}

fn identity(cmd: &Cmd) -> Reply {
    match (cmd.name.as_str(), cmd.form) {
        ("I", _) => Reply::lines(vec![MANUFACTURER.into(), MODEL.into(), format!("Revision: {REVISION}")]),
        ("+GMI" | "+CGMI", Form::Exec) => Reply::line(MANUFACTURER),
        ("+GMM" | "+CGMM", Form::Exec) => Reply::line(MODEL),
        ("+GMR" | "+CGMR", Form::Exec) => Reply::line(REVISION),
        ("+GSN" | "+CGSN", Form::Exec) => Reply::line(IMEI),
        (_, Form::Test) => Reply::ok(),
        _ => Reply::error(),
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
        Form::Exec => Reply::error(),
    }
}

fn cimi(port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.form, &port.shared.core().sim) {
        (Form::Test, _) => Reply::ok(),
        (Form::Exec, super::card::SimState::Ready { imsi, .. }) => Reply::line(imsi.clone()),
        (Form::Exec, other) => Reply::cme(other.not_ready_error().unwrap_or(13)),
        _ => Reply::error(),
    }
}

/// `AT+QCCID` (and the other vendors' names): the ICCID, readable without the PIN.
fn iccid(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.form != Form::Exec {
        return if cmd.form == Form::Test { Reply::ok() } else { Reply::error() };
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
        Form::Exec => Reply::error(),
    }
}

/// Hot-plug detection is always on in this modem (the bridge drives the detect line); the
/// command is accepted so that firmware written for real modules runs unchanged.
fn qsimdet(cmd: &Cmd) -> Reply {
    match cmd.form {
        Form::Set if cmd.int_in(0, 0..=1).is_some() => Reply::ok(),
        Form::Read => Reply::line("+QSIMDET: 1,1"),
        Form::Test => Reply::line("+QSIMDET: (0,1),(0,1)"),
        _ => Reply::cme(50),
    }
}

pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
