//! The SIM from the modem's side: insertion and removal on the active slot, `AT+QUIMSLOT`
//! switching, PIN entry, and the pass-through commands `AT+CRSM` and `AT+CSIM`.
//!
//! Transitions hold `sim_lock` from the start until their URCs are queued, so an insertion
//! seen meanwhile is handled after a switch, never inside it.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::at_stream::{Cmd, Form, Reply};
use super::card::{Exchange, SELECT_USIM, SimState, path_to, select_fid};
use super::port::Port;
use super::registration::drop_service;
use super::sim_slot::{CardRead, SlotEvent};
use super::urc::Urc;
use super::{Core, Shared};
use crate::encoding::hex;
use crate::sim::cardem_device::DeviceError;

/// Handles the slots' card events until the modem stops.
pub async fn supervise(shared: Arc<Shared>, mut events: mpsc::UnboundedReceiver<SlotEvent>) {
    while let Some(event) = events.recv().await {
        on_slot_event(&shared, event).await;
    }
}

/// Only the active slot is wired to the modem's SIM interface; the others' changes are
/// noticed when the slot is selected (the slot task keeps their state).
async fn on_slot_event(shared: &Shared, event: SlotEvent) {
    let _transition = shared.sim_lock.lock().await;
    let (active, seen) = {
        let core = shared.core();
        (core.active, core.card_seen.clone())
    };
    // Already known: a switch read this very card, or the card changed back meanwhile.
    if event.slot != active || event.card == seen {
        return;
    }
    match event.card {
        None => card_removed(shared),
        Some(_) => card_inserted(shared, event.slot).await,
    }
}

fn card_removed(shared: &Shared) {
    let mut core = shared.core();
    drop_service(shared, &mut core);
    core.sim = SimState::Absent;
    core.card_seen = None;
    shared.urcs.broadcast(&Urc::SimStat(false));
    shared.urcs.broadcast(&Urc::Cpin("NOT READY"));
}

/// A card where there was none, or a different one (another ATR): a new card, not a
/// continuation, so whatever ran on the old one ends first.
async fn card_inserted(shared: &Shared, slot: u8) {
    begin_read(shared, None);
    let read = shared.slots[usize::from(slot)].read(true).await;
    let (cpin, present) = apply_read(shared, read);
    shared.urcs.broadcast(&Urc::SimStat(present));
    shared.urcs.broadcast(&Urc::Cpin(cpin));
}

/// Ends service on the old card and marks the SIM busy; `switch_to` also selects a slot.
fn begin_read(shared: &Shared, switch_to: Option<u8>) {
    let mut core = shared.core();
    drop_service(shared, &mut core);
    if let Some(slot) = switch_to {
        core.active = slot;
    }
    core.sim = SimState::Busy;
    core.card_seen = None;
}

/// Records a card read; returns the `+CPIN` URC text and whether a card is there.
fn apply_read(shared: &Shared, read: CardRead) -> (&'static str, bool) {
    let mut core: std::sync::MutexGuard<'_, Core> = shared.core();
    let present = read.card.is_some();
    core.card_seen = read.card;
    let cpin = read.state.cpin_urc();
    core.sim = read.state;
    (cpin, present)
}

pub async fn handle(port: &mut Port, cmd: &Cmd) -> Reply {
    match (cmd.name.as_str(), cmd.form) {
        ("+CPIN", Form::Read) => cpin_read(port),
        ("+CPIN", Form::Set) => enter_pin(port, cmd).await,
        ("+QUIMSLOT", Form::Read) => Reply::line(format!("+QUIMSLOT: {}", port.shared.core().active + 1)),
        ("+QUIMSLOT", Form::Test) => Reply::line(format!("+QUIMSLOT: (1-{})", port.shared.slots.len())),
        ("+QUIMSLOT", Form::Set) => switch(port, cmd).await,
        ("+CRSM", Form::Set) => crsm(port, cmd).await,
        ("+CSIM", Form::Set) => csim(port, cmd).await,
        (_, Form::Test) => Reply::ok(),
        _ => Reply::cme(4),
    }
}

fn cpin_read(port: &Port) -> Reply {
    match &port.shared.core().sim {
        SimState::Ready { .. } => Reply::line("+CPIN: READY"),
        SimState::Locked { puk: false, .. } => Reply::line("+CPIN: SIM PIN"),
        SimState::Locked { puk: true, .. } => Reply::line("+CPIN: SIM PUK"),
        other => Reply::cme(other.not_ready_error().unwrap_or(13)),
    }
}

/// `AT+QUIMSLOT=<n>`: detach, drop contexts and sockets, power the old slot's card down,
/// reset the new slot's card and read it; `OK`, then `+CPIN: <state>` and `+QSIMSTAT:
/// 1,<inserted>`. Done even for the slot already active: it restarts the SIM interface, as
/// the module does.
async fn switch(port: &Port, cmd: &Cmd) -> Reply {
    let shared = &port.shared;
    let Some(n) = cmd.int_in(0, 1..=shared.slots.len() as i64) else {
        return Reply::cme(50);
    };
    let slot = (n - 1) as u8;
    let transition = shared.sim_lock.clone().lock_owned().await;
    let left = shared.core().active;
    begin_read(shared, Some(slot));
    if left != slot {
        shared.slots[usize::from(left)].power_down().await;
    }
    let read = shared.slots[usize::from(slot)].read(true).await;
    let (cpin, present) = apply_read(shared, read);
    let shared = shared.clone();
    Reply::ok().then(move || {
        shared.urcs.broadcast(&Urc::Cpin(cpin));
        shared.urcs.broadcast(&Urc::SimStat(present));
        drop(transition);
    })
}

/// `AT+CPIN="<pin>"`: VERIFY PIN1, then the IMSI (without a reset, which would forget the
/// verification). The PIN goes to the card and nowhere else.
async fn enter_pin(port: &Port, cmd: &Cmd) -> Reply {
    let shared = &port.shared;
    let Some(pin) =
        cmd.text(0).filter(|p| (4..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    else {
        return Reply::cme(if cmd.args.len() > 1 { 4 } else { 50 });
    };
    let transition = shared.sim_lock.clone().lock_owned().await;
    match &shared.core().sim {
        SimState::Locked { puk: false, .. } => {}
        SimState::Ready { .. } => return Reply::cme(3),
        other => return Reply::cme(other.not_ready_error().unwrap_or(13)),
    }
    let mut command = vec![0x00, 0x20, 0x00, 0x01, 0x08];
    command.extend(pin.bytes().chain(std::iter::repeat(0xFF)).take(8));
    let verify = Exchange { steps: vec![SELECT_USIM.to_vec()], command, follow: true };
    match shared.active_slot().exchange(verify).await {
        Ok((_, 0x9000)) => {}
        Ok(_) => return Reply::cme(16),
        Err(e) => return Reply::cme(device_error(&e)),
    }
    let (cpin, _) = apply_read(shared, shared.active_slot().read(false).await);
    let shared = shared.clone();
    Reply::ok().then(move || {
        shared.urcs.broadcast(&Urc::Cpin(cpin));
        drop(transition);
    })
}

pub fn device_error(e: &DeviceError) -> u16 {
    match e {
        DeviceError::NoCard => 10,
        _ => 13,
    }
}

/// `AT+CRSM=<command>,<fileid>,<P1>,<P2>,<P3>[,<data>]`: the modem selects the file (2Fxx
/// under the MF, other EFs under ADF.USIM) and runs the command.
async fn crsm(port: &Port, cmd: &Cmd) -> Reply {
    let Some(ex) = crsm_exchange(cmd) else {
        return Reply::cme(50);
    };
    sim_exchange(port, ex, |data, sw| {
        let hex = if data.is_empty() { String::new() } else { format!(",\"{}\"", hex::encode(data)) };
        format!("+CRSM: {},{}{hex}", sw >> 8, sw & 0xFF)
    })
    .await
}

fn crsm_exchange(cmd: &Cmd) -> Option<Exchange> {
    let byte = |i: usize| cmd.int(i).map_or(Some(0), |v| u8::try_from(v).ok());
    let fid = cmd.int_in(1, 0..=0xFFFF).map(|v| v as u16);
    let (p1, p2, p3) = (byte(2)?, byte(3)?, byte(4)?);
    let data = cmd.text(5).map_or(Some(Vec::new()), hex::decode)?;
    let with_data = |ins: u8| [vec![0x00, ins, p1, p2, data.len() as u8], data.clone()].concat();
    let number = cmd.int(0)?;
    let (command, on_file) = match number {
        176 => (vec![0x00, 0xB0, p1, p2, p3], true),
        178 => (vec![0x00, 0xB2, p1, p2, p3], true),
        214 if !data.is_empty() => (with_data(0xD6), true),
        220 if !data.is_empty() => (with_data(0xDC), true),
        // GET RESPONSE: the file's control parameters, which SELECT returns.
        192 => (select_fid(fid?, true), false),
        242 => (vec![0x80, 0xF2, 0x00, 0x00, p3], false),
        _ => return None,
    };
    let steps = match (on_file, number) {
        (true, _) => [path_to(fid?), vec![select_fid(fid?, false)]].concat(),
        (false, 192) => path_to(fid?),
        _ => Vec::new(),
    };
    Some(Exchange { steps, command, follow: true })
}

/// `AT+CSIM=<length>,"<command>"`: the APDU as given, the card's answer as it came.
async fn csim(port: &Port, cmd: &Cmd) -> Reply {
    let bytes = cmd.text(1).and_then(hex::decode).filter(|b| b.len() >= 4);
    let Some(mut command) = bytes.filter(|b| cmd.int(0) == Some(2 * b.len() as i64)) else {
        return Reply::cme(50);
    };
    if command.len() == 4 {
        // Case 1: T=0 always sends a P3.
        command.push(0);
    }
    let ex = Exchange { steps: Vec::new(), command, follow: false };
    sim_exchange(port, ex, |data, sw| {
        let mut answer = data.to_vec();
        answer.extend(sw.to_be_bytes());
        format!("+CSIM: {},\"{}\"", 2 * answer.len(), hex::encode(&answer))
    })
    .await
}

/// Runs an exchange on the active card if there is one the modem can talk to.
async fn sim_exchange(port: &Port, ex: Exchange, show: impl Fn(&[u8], u16) -> String) -> Reply {
    let refused = match &port.shared.core().sim {
        SimState::Absent => Some(10),
        SimState::Failure => Some(13),
        SimState::Busy => Some(14),
        SimState::Ready { .. } | SimState::Locked { .. } => None,
    };
    if let Some(code) = refused {
        return Reply::cme(code);
    }
    match port.shared.active_slot().exchange(ex).await {
        Ok((data, sw)) => Reply::line(show(&data, sw)),
        Err(e) => Reply::cme(device_error(&e)),
    }
}
