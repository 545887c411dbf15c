//! After registration: data contexts, the data path to the backend, detach.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::subscribers::{NetworkError, Subscriber};
use super::types::{ActivationFailure, Context, DataFailure, Registration};
use super::{Network, TruthKind, lock};
use crate::backend::{BACKEND_HOST, Backend, tcp};

/// How long a forwarded request may take on the real connection (real time, not scaled) before
/// it counts as unanswered. The stub on the other end answers at once; this only bounds a
/// backend process that hangs or is stopped.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the network's data path delivers requests for the backend.
#[derive(Debug, Clone)]
pub enum BackendRoute {
    /// The in-process stub, called with the IMSI of the context a request came through. The
    /// network resolves only [`BACKEND_HOST`], on any port.
    Stub(Backend),
    /// A backend listening on this loopback address (a [`tcp::TcpBackend`] in the rig process),
    /// reached over real TCP. The network resolves [`BACKEND_HOST`] and the address's IP text
    /// (`127.0.0.1`, `::1`), on this port only; the stub on the other end knows only the IMSI
    /// the report claims.
    Forward(SocketAddr),
}

impl BackendRoute {
    /// A route the network may take: a forward only to a loopback address.
    pub fn check(&self) -> Result<(), NetworkError> {
        match self {
            BackendRoute::Forward(addr) if !addr.ip().is_loopback() => {
                Err(NetworkError::NotLoopback { addr: *addr })
            }
            _ => Ok(()),
        }
    }

    /// Whether the network's DNS resolves `host` to the backend and `port` reaches it. Port 0
    /// is `AT+QPING`'s echo request, which has no port.
    fn reaches(&self, host: &str, port: u16) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        let named = host.eq_ignore_ascii_case(BACKEND_HOST);
        match self {
            BackendRoute::Stub(_) => named,
            BackendRoute::Forward(addr) => {
                let literal = host.trim_start_matches('[').trim_end_matches(']');
                let by_address = literal.parse::<IpAddr>().is_ok_and(|ip| ip == addr.ip());
                (named || by_address) && (port == addr.port() || port == 0)
            }
        }
    }
}

/// Every network's registrations and contexts are numbered from its own base, so that a
/// handle from one network (e.g. the one a [`SwitchableNetwork`](super::SwitchableNetwork)
/// replaced) is never mistaken for one of another's.
static NETWORKS: AtomicU64 = AtomicU64::new(0);

/// Live registrations and contexts. A stale `Registration` or `Context` (detached, deactivated)
/// is recognised by its id no longer being here.
pub(super) struct Sessions {
    next_id: u64,
    next_ip: u32,
    /// Registration id → IMSI.
    registrations: HashMap<u64, String>,
    /// Context id → its registration id.
    contexts: HashMap<u64, u64>,
}

impl Sessions {
    pub fn new() -> Sessions {
        let network = NETWORKS.fetch_add(1, Ordering::Relaxed) + 1;
        Sessions {
            next_id: network << 32,
            next_ip: 0,
            registrations: HashMap::new(),
            contexts: HashMap::new(),
        }
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn add_registration(&mut self, imsi: &str) -> u64 {
        let id = self.new_id();
        self.registrations.insert(id, imsi.to_owned());
        id
    }

    fn is_registered(&self, reg: &Registration) -> bool {
        self.registrations.get(&reg.id) == Some(&reg.imsi)
    }

    /// A new context on a live registration, with the next free address.
    fn add_context(&mut self, reg: &Registration) -> Option<(u64, String)> {
        if !self.is_registered(reg) {
            return None;
        }
        let id = self.new_id();
        self.contexts.insert(id, reg.id);
        // 10.0.0.2 onwards: .0 and .1 look like network and gateway addresses.
        let n = self.next_ip + 2;
        self.next_ip += 1;
        Some((id, format!("10.{}.{}.{}", (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)))
    }

    fn is_live(&self, ctx: &Context) -> bool {
        self.contexts.get(&ctx.id).and_then(|reg| self.registrations.get(reg)) == Some(&ctx.imsi)
    }

    /// Drops the registration and its contexts; whether it was live.
    fn remove_registration(&mut self, reg: &Registration) -> bool {
        if !self.is_registered(reg) {
            return false;
        }
        self.registrations.remove(&reg.id);
        self.contexts.retain(|_, r| *r != reg.id);
        true
    }
}

impl Network {
    /// Context activation (PDP / default EPS bearer) for `apn` on a registration, answered after
    /// the visited carrier's `context_ms`. Any APN is accepted; `dial_fail` rejects it.
    pub async fn activate(&self, reg: &Registration, apn: &str) -> Result<Context, ActivationFailure> {
        let sub = self.registered(reg).ok_or(ActivationFailure::NotRegistered)?;
        self.pause(sub.timing().context_ms).await;
        if let Some(cause) = sub.faults.dial_fail {
            self.record(&reg.imsi, TruthKind::ContextRejected { cause });
            return Err(ActivationFailure::Rejected { cause });
        }
        // The registration may have been detached while the network was answering.
        let (id, ip) = lock(&self.inner.sessions).add_context(reg).ok_or(ActivationFailure::NotRegistered)?;
        self.record(&reg.imsi, TruthKind::ContextUp { apn: apn.to_owned(), ip: ip.clone() });
        Ok(Context { id, ip, apn: apn.to_owned(), imsi: reg.imsi.clone(), plmn: reg.plmn.clone() })
    }

    /// Ends a context (`AT+CGACT=0`); its registration stays. Not part of the ground truth,
    /// which records what the network does to the subscriber, not the UE's own housekeeping.
    pub fn deactivate(&self, ctx: &Context) {
        let mut sessions = lock(&self.inner.sessions);
        if sessions.is_live(ctx) {
            sessions.contexts.remove(&ctx.id);
        }
    }

    /// One request through the context's data path to the backend, taking the visited
    /// carrier's `data_ms` for the round trip. Never completes under `data_fail`. Through a
    /// [`BackendRoute::Forward`], a backend that refuses, drops or does not answer the
    /// connection is [`DataFailure::Unreachable`] (recorded as data lost).
    pub async fn request(
        &self,
        ctx: &Context,
        host: &str,
        port: u16,
        payload: &[u8],
    ) -> Result<Vec<u8>, DataFailure> {
        let sub = self.live(ctx).ok_or(DataFailure::NoContext)?;
        if !self.inner.route.reaches(host, port) {
            return Err(DataFailure::UnknownHost);
        }
        if sub.faults.data_fail {
            self.record(&ctx.imsi, TruthKind::DataLost);
            return std::future::pending().await;
        }
        let data_ms = sub.timing().data_ms;
        tracing::debug!(imsi = %ctx.imsi, host, port, bytes = payload.len(), "network: request to the backend");
        self.pause(data_ms / 2).await;
        let answer = match &self.inner.route {
            BackendRoute::Stub(backend) => Ok(backend.handle(&ctx.imsi, payload)),
            BackendRoute::Forward(addr) => forward(*addr, payload).await,
        };
        self.pause(data_ms - data_ms / 2).await;
        if self.live(ctx).is_none() {
            // The context went away while the answer was on its way back.
            self.record(&ctx.imsi, TruthKind::DataLost);
            return Err(DataFailure::NoContext);
        }
        match answer {
            Ok(answer) => {
                self.record(&ctx.imsi, TruthKind::DataDelivered { bytes: payload.len() });
                Ok(answer)
            }
            Err(e) => {
                tracing::warn!(imsi = %ctx.imsi, "network: the backend did not answer: {e}");
                self.record(&ctx.imsi, TruthKind::DataLost);
                Err(DataFailure::Unreachable)
            }
        }
    }

    /// Ends a registration and every context on it. Detaching twice is harmless.
    pub fn detach(&self, reg: &Registration) {
        if lock(&self.inner.sessions).remove_registration(reg) {
            self.record(&reg.imsi, TruthKind::Detached);
        }
    }

    fn registered(&self, reg: &Registration) -> Option<&Subscriber> {
        let live = lock(&self.inner.sessions).is_registered(reg);
        live.then(|| self.inner.subscribers.get(&reg.imsi)).flatten()
    }

    fn live(&self, ctx: &Context) -> Option<&Subscriber> {
        let live = lock(&self.inner.sessions).is_live(ctx);
        live.then(|| self.inner.subscribers.get(&ctx.imsi)).flatten()
    }
}

/// One request to the backend at `addr` over TCP, framed as one line each way. An empty answer
/// is the backend closing the connection without one.
async fn forward(addr: SocketAddr, payload: &[u8]) -> io::Result<Vec<u8>> {
    match tokio::time::timeout(FORWARD_TIMEOUT, tcp::request(addr, &one_line(payload))).await {
        Ok(Ok(answer)) if answer.is_empty() => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{addr} closed the connection without an answer"),
        )),
        Ok(answer) => answer,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{addr} did not answer in {FORWARD_TIMEOUT:?}"),
        )),
    }
}

/// The payload as one line, as the TCP framing needs: a JSON request spread over lines is
/// sent compact (the same value); anything else as it is, without trailing line ends.
fn one_line(payload: &[u8]) -> Cow<'_, [u8]> {
    let trimmed = payload.strip_suffix(b"\n").unwrap_or(payload);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    if !trimmed.contains(&b'\n') {
        return Cow::Borrowed(trimmed);
    }
    match serde_json::from_slice::<serde_json::Value>(trimmed) {
        Ok(value) => Cow::Owned(value.to_string().into_bytes()),
        Err(_) => Cow::Borrowed(trimmed),
    }
}
