//! Data: the PDP context (`+CGDCONT`, `+CGACT`, `+QIACT`) and Quectel's internal TCP/IP
//! stack (`+QIOPEN`, `+QISEND`, `+QICLOSE`, `+QPING`) over [`RadioNetwork::request`].
//!
//! Sockets are the modem's bookkeeping only: opening one does not reach the network; each
//! `AT+QISEND` is one request, and its answer comes back as `+QIURC: "recv"` to the port that
//! opened the socket.
//!
//! [`RadioNetwork::request`]: super::RadioNetwork::request

use std::collections::BTreeMap;
use std::sync::Arc;

use super::at_stream::{Cmd, End, Form, Reply};
use super::port::Port;
use super::registration::fnv1a;
use super::urc::Urc;
use super::{Core, Shared};
use crate::sim::network::{ActivationFailure, Context, DataFailure};

/// Quectel's result codes for `+QIOPEN` and `+QPING`.
const QI_SOCKET_IN_USE: u16 = 563;
const QI_NO_CONTEXT: u16 = 566;
const QPING_FAILED: u16 = 569;
/// The most `AT+QISEND` takes at once (Quectel: 1460 bytes for TCP).
const MAX_SEND: i64 = 1460;
/// `AT+QPING`'s default timeout, nominal seconds.
const PING_TIMEOUT_S: i64 = 4;

#[derive(Default)]
pub struct DataState {
    /// Context 1's PDP type and APN (`AT+CGDCONT=1,...`).
    pdp: Option<(String, String)>,
    ctx: Option<Context>,
    sockets: BTreeMap<u8, Socket>,
    next_serial: u64,
}

impl DataState {
    /// Whether a context is active.
    pub fn active(&self) -> bool {
        self.ctx.is_some()
    }
}

struct Socket {
    owner: usize,
    host: String,
    port: u16,
    /// Tells a socket from a later one with the same id, for answers arriving late.
    serial: u64,
}

pub async fn handle(port: &mut Port, cmd: &Cmd) -> Reply {
    match (cmd.name.as_str(), cmd.form) {
        ("+CGDCONT", Form::Set) => cgdcont(port, cmd),
        ("+CGDCONT", Form::Read) => cgdcont_read(port),
        ("+CGACT", Form::Set) => match (cmd.int(0), cmd.int(1).unwrap_or(1)) {
            (Some(1), 1) => activate(port).await,
            (Some(0), 1) => deactivate(port),
            _ => Reply::cme(50),
        },
        ("+CGACT", Form::Read) => Reply::line(format!("+CGACT: 1,{}", u8::from(context(port).is_some()))),
        ("+QIACT", Form::Set) if cmd.int(0) == Some(1) => activate(port).await,
        ("+QIACT", Form::Read) => qiact_read(port),
        ("+QIDEACT", Form::Set) if cmd.int(0) == Some(1) => deactivate(port),
        ("+CGPADDR", Form::Exec | Form::Set) if cmd.int(0).unwrap_or(1) == 1 => cgpaddr(port),
        ("+CGEREP", Form::Set) => cgerep(port, cmd),
        ("+CGEREP", Form::Read) => {
            Reply::line(format!("+CGEREP: {},0", 2 * u8::from(port.link.settings().cgerep)))
        }
        ("+QIOPEN", Form::Set) => qiopen(port, cmd),
        ("+QISEND", Form::Set) => qisend(port, cmd),
        ("+QICLOSE", Form::Set) => qiclose(port, cmd),
        ("+QPING", Form::Set) => qping(port, cmd),
        (_, Form::Test) => Reply::ok(),
        _ => Reply::cme(50),
    }
}

fn context(port: &Port) -> Option<Context> {
    port.shared.core().data.ctx.clone()
}

fn cgdcont(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.int(0) != Some(1) {
        return Reply::cme(50);
    }
    let pdp = match cmd.text(1).map(str::to_ascii_uppercase) {
        None => None,
        Some(t) if matches!(t.as_str(), "IP" | "IPV6" | "IPV4V6") => {
            Some((t, cmd.text(2).unwrap_or("").to_owned()))
        }
        Some(_) => return Reply::cme(50),
    };
    port.shared.core().data.pdp = pdp;
    Reply::ok()
}

fn cgdcont_read(port: &Port) -> Reply {
    match &port.shared.core().data.pdp {
        Some((kind, apn)) => Reply::line(format!("+CGDCONT: 1,\"{kind}\",\"{apn}\",\"0.0.0.0\",0,0")),
        None => Reply::ok(),
    }
}

/// `AT+CGACT=1,1` / `AT+QIACT=1`: waits for the network (its `context_ms`).
async fn activate(port: &Port) -> Reply {
    let shared = &port.shared;
    let (reg, apn, epoch) = {
        let core = shared.core();
        if core.data.ctx.is_some() {
            return Reply::ok();
        }
        let Some(serving) = &core.reg.serving else { return Reply::cme(30) };
        let apn = core.data.pdp.as_ref().map(|(_, apn)| apn.clone()).unwrap_or_default();
        (serving.reg.clone(), apn, core.reg.epoch)
    };
    let result = shared.net.activate(&reg, &apn).await;
    let mut core = shared.core();
    let stale = core.reg.epoch != epoch || core.data.ctx.is_some();
    match result {
        // Detached meanwhile, or another port activated first: this one is not kept.
        Ok(ctx) if stale => {
            shared.net.deactivate(&ctx);
            if core.data.ctx.is_some() { Reply::ok() } else { Reply::cme(30) }
        }
        Ok(ctx) => {
            core.data.ctx = Some(ctx);
            let shared = shared.clone();
            Reply::ok().then(move || shared.urcs.broadcast(&Urc::Cgev("ME PDN ACT 1")))
        }
        Err(ActivationFailure::Rejected { cause }) => Reply::cme(esm_cause_to_cme(cause)),
        Err(ActivationFailure::NotRegistered) => Reply::cme(30),
    }
}

/// 27.007 §9.2.2 GPRS errors for the ESM causes that have one.
fn esm_cause_to_cme(cause: u8) -> u16 {
    match cause {
        29 => 149,
        32 => 132,
        33 => 133,
        34 => 134,
        _ => 148,
    }
}

fn deactivate(port: &Port) -> Reply {
    let shared = &port.shared;
    let mut core = shared.core();
    let Some(ctx) = core.data.ctx.take() else { return Reply::ok() };
    shared.net.deactivate(&ctx);
    close_sockets(shared, &mut core);
    let shared = shared.clone();
    Reply::ok().then(move || shared.urcs.broadcast(&Urc::Cgev("ME PDN DEACT 1")))
}

/// The registration is going away: its context and sockets with it (the network drops them
/// on detach).
pub fn drop_all(shared: &Shared, core: &mut Core) {
    if core.data.ctx.take().is_some() {
        shared.urcs.broadcast(&Urc::Cgev("ME PDN DEACT 1"));
    }
    close_sockets(shared, core);
}

/// Closes every socket, telling each owner with `+QIURC: "closed",<id>`.
fn close_sockets(shared: &Shared, core: &mut Core) {
    for (id, socket) in std::mem::take(&mut core.data.sockets) {
        shared.urcs.to_port(socket.owner, &[format!("+QIURC: \"closed\",{id}")]);
    }
}

fn qiact_read(port: &Port) -> Reply {
    match context(port) {
        Some(ctx) => Reply::line(format!("+QIACT: 1,1,1,\"{}\"", ctx.ip)),
        None => Reply::ok(),
    }
}

fn cgpaddr(port: &Port) -> Reply {
    let ip = context(port).map_or_else(|| "0.0.0.0".to_owned(), |ctx| ctx.ip);
    Reply::line(format!("+CGPADDR: 1,\"{ip}\""))
}

fn cgerep(port: &Port, cmd: &Cmd) -> Reply {
    match cmd.int_in(0, 0..=2) {
        Some(mode) => {
            port.link.update(|s| s.cgerep = mode > 0);
            Reply::ok()
        }
        None => Reply::cme(50),
    }
}

/// `AT+QIOPEN=1,<id>,"TCP"|"UDP","<host>",<port>[,<local port>[,<access mode>]]`: `OK`, then
/// `+QIOPEN: <id>,<result>` to this port.
fn qiopen(port: &Port, cmd: &Cmd) -> Reply {
    let service = cmd.text(2).map(str::to_ascii_uppercase);
    let (Some(1), Some(id), Some("TCP" | "UDP"), Some(host), Some(remote)) =
        (cmd.int(0), cmd.int_in(1, 0..=11), service.as_deref(), cmd.text(3), cmd.int_in(4, 1..=65_535))
    else {
        return Reply::cme(50);
    };
    let (shared, owner, host) = (port.shared.clone(), port.id, host.to_owned());
    Reply::ok().then(move || open_socket(&shared, owner, id as u8, host, remote as u16))
}

fn open_socket(shared: &Shared, owner: usize, id: u8, host: String, port: u16) {
    let mut core = shared.core();
    let data = &mut core.data;
    let result = if data.ctx.is_none() {
        QI_NO_CONTEXT
    } else if data.sockets.contains_key(&id) {
        QI_SOCKET_IN_USE
    } else {
        data.next_serial += 1;
        data.sockets.insert(id, Socket { owner, host, port, serial: data.next_serial });
        0
    };
    shared.urcs.to_port(owner, &[format!("+QIOPEN: {id},{result}")]);
}

/// `AT+QISEND=<id>,<len>`: the `> ` prompt; the port then takes exactly `len` bytes.
fn qisend(port: &mut Port, cmd: &Cmd) -> Reply {
    let (Some(id), Some(len)) = (cmd.int_in(0, 0..=11), cmd.int_in(1, 1..=MAX_SEND)) else {
        return Reply::error();
    };
    if !port.shared.core().data.sockets.contains_key(&(id as u8)) {
        return Reply::error();
    }
    port.sending = Some((id as u8, len as usize));
    Reply { end: End::Prompt, ..Reply::ok() }
}

/// One request through the network, on its way.
struct Request {
    ctx: Context,
    id: u8,
    owner: usize,
    serial: u64,
    host: String,
    port: u16,
    payload: Vec<u8>,
}

/// The payload of `AT+QISEND` arrived: `SEND OK` and the request goes out, or `SEND FAIL`
/// if the socket or context went away meanwhile.
pub fn payload(port: &mut Port, payload: Vec<u8>) -> Reply {
    let result = |text: &str| Reply { lines: vec![text.to_owned()], end: End::None, after: Vec::new() };
    let Some((id, _)) = port.sending.take() else { return Reply::error() };
    let request = {
        let core = port.shared.core();
        let (Some(ctx), Some(socket)) = (core.data.ctx.clone(), core.data.sockets.get(&id)) else {
            return result("SEND FAIL");
        };
        let (owner, serial, host, port) = (socket.owner, socket.serial, socket.host.clone(), socket.port);
        Request { ctx, id, owner, serial, host, port, payload }
    };
    let shared = port.shared.clone();
    result("SEND OK").then(move || {
        shared.spawn(deliver(shared.clone(), request));
    })
}

async fn deliver(shared: Arc<Shared>, req: Request) {
    let answer = shared.net.request(&req.ctx, &req.host, req.port, &req.payload).await;
    let mut core = shared.core();
    let still_open = core.data.sockets.get(&req.id).is_some_and(|s| s.serial == req.serial);
    if !still_open {
        return;
    }
    match answer {
        Ok(bytes) => shared.urcs.raw_to_port(req.owner, recv_urc(req.id, &bytes)),
        Err(e) => {
            tracing::debug!(socket = req.id, "request failed: {e}");
            if e == DataFailure::NoContext && core.data.ctx.as_ref() == Some(&req.ctx) {
                network_dropped_context(&shared, &mut core);
            } else {
                core.data.sockets.remove(&req.id);
                shared.urcs.to_port(req.owner, &[format!("+QIURC: \"closed\",{}", req.id)]);
            }
        }
    }
}

/// The network no longer has the context the modem thought active.
fn network_dropped_context(shared: &Shared, core: &mut Core) {
    core.data.ctx = None;
    close_sockets(shared, core);
    shared.urcs.broadcast(&Urc::Cgev("NW PDN DEACT 1"));
}

/// `+QIURC: "recv",<id>,<len>` and, on the next line, the bytes (followed by CR LF so a line
/// reader gets them at once; the length is what counts).
fn recv_urc(id: u8, bytes: &[u8]) -> Vec<u8> {
    let mut chunk = format!("\r\n+QIURC: \"recv\",{id},{}\r\n", bytes.len()).into_bytes();
    chunk.extend_from_slice(bytes);
    chunk.extend_from_slice(b"\r\n");
    chunk
}

fn qiclose(port: &Port, cmd: &Cmd) -> Reply {
    match cmd.int_in(0, 0..=11) {
        Some(id) => {
            port.shared.core().data.sockets.remove(&(id as u8));
            Reply::ok()
        }
        None => Reply::cme(50),
    }
}

/// `AT+QPING=1,"<host>"[,<timeout s>]`: `OK`, then one `+QPING:` line to this port. The echo
/// request is an empty request through the data path (so `data_fail` makes it time out).
fn qping(port: &Port, cmd: &Cmd) -> Reply {
    let (Some(1), Some(host)) = (cmd.int(0), cmd.text(1)) else {
        return Reply::cme(50);
    };
    let timeout_s = cmd.int_in(2, 1..=255).unwrap_or(PING_TIMEOUT_S) as u64;
    let (shared, owner, host) = (port.shared.clone(), port.id, host.to_owned());
    Reply::ok().then(move || {
        shared.spawn(ping(shared.clone(), owner, host, timeout_s));
    })
}

async fn ping(shared: Arc<Shared>, owner: usize, host: String, timeout_s: u64) {
    let ctx = shared.core().data.ctx.clone();
    let line = match ctx {
        Some(ctx) => {
            let started = tokio::time::Instant::now();
            let limit = shared.scale.ms(timeout_s * 1000);
            match tokio::time::timeout(limit, shared.net.request(&ctx, &host, 0, &[])).await {
                Ok(Ok(_)) => {
                    let ms = shared.scale.nominal_ms(started.elapsed()).round() as u64;
                    format!("+QPING: 0,\"{}\",32,{ms},255", address_of(&host))
                }
                _ => format!("+QPING: {QPING_FAILED}"),
            }
        }
        None => format!("+QPING: {QPING_FAILED}"),
    };
    shared.urcs.to_port(owner, &[line]);
}

/// The simulated network resolves names but does not say to what: a stable address from the
/// documentation range (RFC 5737).
fn address_of(host: &str) -> String {
    format!("198.51.100.{}", 1 + fnv1a(host.as_bytes()) % 254)
}
