//! Network registration: `+COPS`, `+CREG`/`+CGREG`/`+CEREG`, `+CGATT`, `+CFUN`, the signal
//! commands, and the attach task that runs the network's attach with AUTHENTICATE through the
//! active slot.
//!
//! One registration state serves all three domains (CS, PS, EPS): the simulated network has
//! one attach, so `+CREG`, `+CGREG` and `+CEREG` report the same stat, each to the ports that
//! enabled it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::at_stream::{Cmd, Form, Reply};
use super::card::SimState;
use super::port::Port;
use super::radio::{self, CellParams};
use super::sim_slot::SlotHandle;
use super::urc::{PortSettings, RegView, Urc};
use super::{Core, Shared, data};
use crate::model::Rat;
use crate::sim::network::{AttachFailure, AuthAnswer, HeardCell, Registration, SimAuth};

#[derive(Default)]
pub struct RegState {
    /// 0 not registered, 1 home, 2 searching, 3 denied, 5 roaming.
    pub stat: u8,
    /// `+COPS` mode: 0 automatic, 2 deregistered.
    pub mode: u8,
    pub serving: Option<Serving>,
    /// EMM cause of the last reject.
    pub cause: Option<u8>,
    /// Bumped whenever registration is abandoned, so an attach finishing late is ignored.
    pub epoch: u64,
    pub task: Option<AbortHandle>,
}

impl RegState {
    pub fn view(&self) -> RegView {
        RegView {
            stat: self.stat,
            location: self.serving.as_ref().map(|s| (s.tac, s.ci, s.act)),
            cause: if self.stat == 3 { self.cause } else { None },
        }
    }

    pub fn registered(&self) -> bool {
        is_registered(self.stat)
    }
}

/// Registered, home (1) or roaming (5).
pub fn is_registered(stat: u8) -> bool {
    matches!(stat, 1 | 5)
}

/// The registration and the cell it is on.
pub struct Serving {
    pub reg: Registration,
    pub tac: u16,
    pub ci: u32,
    pub act: u8,
}

impl Serving {
    /// Tracking area and cell id are not in the fixtures: derived from the cell so they stay
    /// the same for the same cell. Its signal is the site's, read when reported (`radio`).
    fn of(reg: Registration) -> Serving {
        let params = CellParams::of(&reg.plmn, reg.rat, reg.cell_label.as_deref());
        Serving { tac: params.tac, ci: params.ci, act: act(reg.rat), reg }
    }
}

/// 27.007 access technology numbers.
pub fn act(rat: Rat) -> u8 {
    match rat {
        Rat::Gsm => 0,
        Rat::Umts => 2,
        Rat::Lte => 7,
        Rat::Nr => 11,
    }
}

/// A small stable hash for made-up identifiers (cell ids, addresses).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub fn handle(port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.name.as_str(), cmd.form) {
        ("+COPS", Form::Set) => cops_set(port, cmd),
        ("+COPS", Form::Read) => cops_read(port),
        ("+COPS", Form::Test) => cops_scan(&port.shared),
        ("+CREG" | "+CGREG" | "+CEREG", _) => reg_setting(port, cmd),
        ("+CGATT", _) => cgatt(port, cmd),
        ("+CFUN", _) => cfun(port, cmd),
        ("+CSQ", Form::Exec) => csq(&port.shared),
        ("+CSQ", Form::Test) => Reply::line("+CSQ: (0-31,99),(0-7,99)"),
        ("+CESQ", Form::Exec) => cesq(&port.shared),
        ("+CESQ", Form::Test) => {
            Reply::line("+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)")
        }
        ("+QOPS", Form::Exec) => qops(&port.shared),
        (_, Form::Test) => Reply::ok(),
        _ => Reply::cme(4),
    }
}

fn cops_set(port: &Port, cmd: &Cmd) -> Reply {
    // `<format>` (for `+COPS?`) may come with any mode; alone with mode 3.
    match cmd.args.get(1).filter(|a| !a.text.is_empty()) {
        None if cmd.int(0) == Some(3) => return Reply::cme(50),
        None => {}
        Some(_) => match cmd.int_in(1, 0..=2) {
            Some(format) => port.link.update(|s| s.cops_format = format as u8),
            None => return Reply::cme(50),
        },
    }
    match cmd.int(0) {
        Some(0) => automatic(port),
        Some(2) => deregister_after_ok(port),
        Some(3) => Reply::ok(),
        // Manual selection: the firmware under test does not use it.
        Some(1 | 4) => Reply::cme(4),
        _ => Reply::cme(50),
    }
}

/// `AT+COPS=0`: `OK` at once; registration runs in the background and reports by URCs.
fn automatic(port: &Port) -> Reply {
    let mut core = port.shared.core();
    if core.cfun != 1 {
        return Reply::cme(3);
    }
    let imsi = match &core.sim {
        SimState::Ready { imsi, .. } => imsi.clone(),
        other => return Reply::cme(other.not_ready_error().unwrap_or(13)),
    };
    core.reg.mode = 0;
    let shared = port.shared.clone();
    Reply::ok().then(move || begin(&shared, imsi))
}

/// Starts an attach of `imsi` unless one runs or the modem is registered already. Checked
/// again here because the SIM may have changed since the command was accepted.
fn begin(shared: &Arc<Shared>, imsi: String) {
    let mut core = shared.core();
    let same_card = matches!(&core.sim, SimState::Ready { imsi: i, .. } if *i == imsi);
    if !same_card || core.reg.task.is_some() || core.reg.registered() {
        return;
    }
    core.reg.epoch += 1;
    let was = core.reg.stat;
    core.reg.stat = 2;
    core.reg.cause = None;
    core.reg.serving = None;
    if was != 2 {
        shared.urcs.broadcast(&Urc::Reg(core.reg.view()));
    }
    let slot = shared.slots[usize::from(core.active)].clone();
    core.reg.task = shared.spawn(attach(shared.clone(), core.reg.epoch, imsi, slot));
}

/// `AT+COPS=2`, `AT+CGATT=0`, radio off: `OK`, then the URCs of what ends.
fn deregister_after_ok(port: &Port) -> Reply {
    let shared = port.shared.clone();
    Reply::ok().then(move || deregister(&shared))
}

fn deregister(shared: &Shared) {
    let mut core = shared.core();
    drop_service(shared, &mut core);
    core.reg.mode = 2;
}

/// Ends everything that depends on the registration: the attach in progress, contexts and
/// sockets, the registration itself. Reports stat 0 if it was anything else.
pub fn drop_service(shared: &Shared, core: &mut Core) {
    core.reg.epoch += 1;
    if let Some(task) = core.reg.task.take() {
        task.abort();
    }
    data::drop_all(shared, core);
    if let Some(serving) = core.reg.serving.take() {
        shared.net.detach(&serving.reg);
    }
    if core.reg.stat != 0 {
        core.reg.stat = 0;
        core.reg.cause = None;
        shared.urcs.broadcast(&Urc::Reg(core.reg.view()));
    }
}

/// AUTHENTICATE through one slot, for the network. A card that fails (mute, pulled) is
/// noted, and the attach is abandoned right away: the network may not resolve it.
struct CardAuth {
    slot: SlotHandle,
    card_failed: bool,
    failed: Arc<Notify>,
}

impl SimAuth for CardAuth {
    fn authenticate<'a>(
        &'a mut self,
        rand: [u8; 16],
        autn: [u8; 16],
    ) -> Pin<Box<dyn Future<Output = AuthAnswer> + Send + 'a>> {
        Box::pin(async move {
            let result = self.slot.authenticate(rand, autn).await;
            if result.card_failed {
                self.card_failed = true;
                self.failed.notify_one();
            }
            result.answer
        })
    }
}

enum Outcome {
    Registered(Registration),
    Rejected(u8),
    /// The network never answered (no coverage, silence): still searching.
    Searching,
    CardFailed,
}

async fn attach(shared: Arc<Shared>, epoch: u64, imsi: String, slot: SlotHandle) {
    // Nothing the scan mode and bands let the modem camp on: it searches, as without coverage,
    // until the settings change.
    let usable = {
        let core = shared.core();
        !radio::heard(&shared, &core).is_empty()
    };
    if !usable {
        return finish(&shared, epoch, Outcome::Searching);
    }
    let failed = Arc::new(Notify::new());
    let mut sim = CardAuth { slot, card_failed: false, failed: failed.clone() };
    let result = tokio::select! {
        biased;
        result = shared.net.attach(&imsi, &mut sim) => Some(result),
        () = failed.notified() => None,
    };
    // The network may have turned the card error into a reject already; the modem knows
    // better: it is the card that failed.
    let outcome = match result {
        _ if sim.card_failed => Outcome::CardFailed,
        Some(Ok(reg)) => Outcome::Registered(reg),
        Some(Err(AttachFailure::Rejected { cause })) => Outcome::Rejected(cause),
        Some(Err(AttachFailure::NoCoverage | AttachFailure::Silent)) => Outcome::Searching,
        None => Outcome::CardFailed,
    };
    finish(&shared, epoch, outcome);
}

fn finish(shared: &Shared, epoch: u64, outcome: Outcome) {
    let mut core = shared.core();
    if core.reg.epoch != epoch {
        // Abandoned while the network was answering.
        if let Outcome::Registered(reg) = outcome {
            shared.net.detach(&reg);
        }
        return;
    }
    core.reg.task = None;
    match outcome {
        // The network chose a cell of a RAT or band the modem may not use: it does not camp
        // there (the registration is given back) and goes on searching.
        Outcome::Registered(reg) if !core.radio.allows(reg.rat) || core.cfun != 1 => {
            tracing::debug!(rat = %reg.rat, "registration on a RAT the scan mode or bands exclude: not camping");
            shared.net.detach(&reg);
            return;
        }
        Outcome::Registered(reg) => {
            core.reg.stat = if reg.roaming { 5 } else { 1 };
            core.reg.serving = Some(Serving::of(reg));
            // Network time (NITZ) with the registration.
            let now = shared.wall_now();
            core.rtc.set_network_time(now, shared.clock.now());
        }
        Outcome::Rejected(cause) => {
            core.reg.stat = 3;
            core.reg.cause = Some(cause);
        }
        Outcome::Searching => return,
        Outcome::CardFailed => return card_failed(shared, &mut core),
    }
    shared.urcs.broadcast(&Urc::Reg(core.reg.view()));
}

/// A card that went mute (or away) during AUTHENTICATE is a SIM failure, not a network
/// verdict: not registered, not searching (stat 0), `+CPIN: NOT READY`, and `+CPIN?` answers
/// `+CME ERROR: 13` until the card is re-inserted or the slot switched.
fn card_failed(shared: &Shared, core: &mut Core) {
    core.reg.stat = 0;
    core.sim = SimState::Failure;
    shared.urcs.broadcast(&Urc::Reg(core.reg.view()));
    shared.urcs.broadcast(&Urc::Cpin("NOT READY"));
}

/// `AT+COPS?`: mode, and while registered the operator in this port's format and the AcT.
fn cops_read(port: &Port) -> Reply {
    let shared = &port.shared;
    let format = port.link.settings().cops_format;
    let core = shared.core();
    match &core.reg.serving {
        Some(s) if core.reg.registered() => {
            let names = radio::names(shared, &s.reg.plmn);
            let oper = match (format, names) {
                (0, Some((long, _))) => long,
                (1, Some((_, short))) => short,
                // Numeric, also when the site no longer names the network.
                _ => s.reg.plmn.numeric(),
            };
            let format = if oper == s.reg.plmn.numeric() { 2 } else { format };
            Reply::line(format!("+COPS: {},{format},\"{oper}\",{}", core.reg.mode, s.act))
        }
        _ => Reply::line(format!("+COPS: {}", core.reg.mode)),
    }
}

/// `AT+COPS=?`: every (operator, RAT) the modem can hear, strongest first; stat 2 for the one
/// it is registered on.
fn cops_scan(shared: &Shared) -> Reply {
    let (serving, cells) = {
        let core = shared.core();
        let serving = core.reg.serving.as_ref().filter(|_| core.reg.registered());
        (serving.map(|s| (s.reg.plmn.clone(), s.reg.rat)), radio::heard(shared, &core))
    };
    let mut seen = Vec::new();
    let mut entries = Vec::new();
    for cell in cells {
        if seen.contains(&(cell.plmn.clone(), cell.rat)) {
            continue;
        }
        seen.push((cell.plmn.clone(), cell.rat));
        let stat = if serving.as_ref() == Some(&(cell.plmn.clone(), cell.rat)) { 2 } else { 1 };
        entries.push(format!(
            "({stat},\"{}\",\"{}\",\"{}\",{})",
            cell.carrier_name,
            cell.short_name,
            cell.plmn.numeric(),
            act(cell.rat)
        ));
    }
    Reply::line(format!("+COPS: {},,(0,1,2,3,4),(0,1,2)", entries.join(",")))
}

/// `AT+CREG`, `AT+CGREG`, `AT+CEREG`: this port's URC setting, and the state.
fn reg_setting(port: &Port, cmd: &Cmd) -> Reply {
    let field: fn(&mut PortSettings) -> &mut u8 = match cmd.name.as_str() {
        "+CREG" => |s| &mut s.creg,
        "+CGREG" => |s| &mut s.cgreg,
        _ => |s| &mut s.cereg,
    };
    match cmd.form {
        Form::Set => match cmd.int_in(0, 0..=3) {
            Some(n) => {
                port.link.update(|s| *field(s) = n as u8);
                Reply::ok()
            }
            None => Reply::cme(50),
        },
        Form::Read => {
            let n = *field(&mut port.link.settings());
            let view = port.shared.core().reg.view();
            Reply::line(format!("{}: {n},{}", cmd.name, view.body(n)))
        }
        Form::Test => Reply::line(format!("{}: (0-3)", cmd.name)),
        Form::Exec => Reply::error(),
    }
}

fn cgatt(port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.form, cmd.int(0)) {
        (Form::Read, _) => Reply::line(format!("+CGATT: {}", u8::from(port.shared.core().reg.registered()))),
        (Form::Set, Some(1)) => automatic(port),
        (Form::Set, Some(0)) => deregister_after_ok(port),
        (Form::Test, _) => Reply::line("+CGATT: (0,1)"),
        _ => Reply::cme(50),
    }
}

/// `AT+CFUN`: 0 and 4 take the radio off (deregistering); 1 is full function. A reset
/// (`=1,1`) deregisters too. The SIM stays readable in every mode.
fn cfun(port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.form, cmd.int(0), cmd.int(1).unwrap_or(0)) {
        (Form::Read, ..) => Reply::line(format!("+CFUN: {}", port.shared.core().cfun)),
        (Form::Test, ..) => Reply::line("+CFUN: (0,1,4),(0,1)"),
        (Form::Set, Some(fun @ (0 | 1 | 4)), reset @ 0..=1) => {
            let mut core = port.shared.core();
            core.cfun = fun as u8;
            if reset == 1 {
                // Settings written to take effect "after a reboot" do so now.
                core.radio.apply_pending();
            }
            drop(core);
            if fun != 1 || reset == 1 { deregister_after_ok(port) } else { Reply::ok() }
        }
        _ => Reply::cme(50),
    }
}

/// The measurements of the cell the modem is camped on, if any (see `radio`).
fn camped_measures(shared: &Shared) -> Option<radio::Measures> {
    let core = shared.core();
    radio::camped(shared, &core)?.measures
}

/// `+CSQ: <rssi>,99`: rssi = (RSSI dBm + 113) / 2 within 0..=31.
fn csq(shared: &Shared) -> Reply {
    match camped_measures(shared) {
        Some(m) => Reply::line(format!("+CSQ: {},99", m.csq())),
        None => Reply::line("+CSQ: 99,99"),
    }
}

/// `+CESQ`: the camped RAT's fields (GSM rxlev, UMTS RSCP and Ec/No, LTE/NR RSRQ and RSRP),
/// the others unknown (99 / 255).
fn cesq(shared: &Shared) -> Reply {
    let fields = camped_measures(shared).map_or_else(|| "99,99,255,255,255,255".to_owned(), |m| m.cesq());
    Reply::line(format!("+CESQ: {fields}"))
}

/// `AT+QOPS`: every operator the modem can hear, then its cells with RAT, channel, physical
/// id (BSIC, PSC or PCI) and the signal in dBm (channel and id made up per cell, stable).
fn qops(shared: &Shared) -> Reply {
    let cells = {
        let core = shared.core();
        radio::heard(shared, &core)
    };
    let mut operators: Vec<&HeardCell> = Vec::new();
    for cell in &cells {
        if !operators.iter().any(|o| o.plmn == cell.plmn) {
            operators.push(cell);
        }
    }
    let mut lines = Vec::new();
    for op in operators {
        lines.push(format!("+QOPS: \"{}\",\"{}\",\"{}\"", op.carrier_name, op.short_name, op.plmn.numeric()));
        for (i, cell) in cells.iter().filter(|c| c.plmn == op.plmn).enumerate() {
            lines.push(qops_cell(i + 1, cell));
        }
    }
    Reply::lines(lines)
}

fn qops_cell(index: usize, cell: &HeardCell) -> String {
    let name = match cell.rat {
        Rat::Gsm => "GSM",
        Rat::Umts => "WCDMA",
        Rat::Lte => "LTE",
        Rat::Nr => "NR5G",
    };
    let p = CellParams::of_cell(cell);
    format!("{index},\"{name}\",{},{},{}", p.channel, p.phys, cell.dbm.round() as i64)
}

/// The scan mode or bands changed (effect immediate): registered on a RAT no longer allowed,
/// the modem leaves it and searches again; searching, it searches again with the new settings.
pub fn radio_changed(shared: &Arc<Shared>) {
    let mut core = shared.core();
    let imsi = match &core.sim {
        SimState::Ready { imsi, .. } => imsi.clone(),
        _ => return,
    };
    let lost =
        core.reg.serving.as_ref().is_some_and(|s| core.reg.registered() && !core.radio.allows(s.reg.rat));
    if lost {
        drop_service(shared, &mut core);
    } else if core.reg.stat == 2 {
        core.reg.epoch += 1;
        if let Some(task) = core.reg.task.take() {
            task.abort();
        }
    } else {
        return;
    }
    drop(core);
    begin(shared, imsi);
}
