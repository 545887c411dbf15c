//! After registration: data contexts, the data path to the backend, detach.

use std::collections::HashMap;

use super::subscribers::Subscriber;
use super::types::{ActivationFailure, Context, DataFailure, Registration};
use super::{Network, TruthKind, lock};
use crate::backend::BACKEND_HOST;

/// Live registrations and contexts. A stale `Registration` or `Context` (detached, deactivated)
/// is recognised by its id no longer being here.
#[derive(Default)]
pub(super) struct Sessions {
    next_id: u64,
    next_ip: u32,
    /// Registration id → IMSI.
    registrations: HashMap<u64, String>,
    /// Context id → its registration id.
    contexts: HashMap<u64, u64>,
}

impl Sessions {
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
    /// carrier's `data_ms` for the round trip. Never completes under `data_fail`.
    pub async fn request(
        &self,
        ctx: &Context,
        host: &str,
        port: u16,
        payload: &[u8],
    ) -> Result<Vec<u8>, DataFailure> {
        let sub = self.live(ctx).ok_or(DataFailure::NoContext)?;
        if !is_backend(host) {
            return Err(DataFailure::UnknownHost);
        }
        if sub.faults.data_fail {
            self.record(&ctx.imsi, TruthKind::DataLost);
            return std::future::pending().await;
        }
        let data_ms = sub.timing().data_ms;
        tracing::debug!(imsi = %ctx.imsi, host, port, bytes = payload.len(), "network: request to the backend");
        self.pause(data_ms / 2).await;
        let answer = self.inner.backend.handle(&ctx.imsi, payload);
        self.pause(data_ms - data_ms / 2).await;
        if self.live(ctx).is_none() {
            // The context went away while the answer was on its way back.
            self.record(&ctx.imsi, TruthKind::DataLost);
            return Err(DataFailure::NoContext);
        }
        self.record(&ctx.imsi, TruthKind::DataDelivered { bytes: payload.len() });
        Ok(answer)
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

/// The network's DNS knows one name: the backend (any port; a trailing dot is the root).
fn is_backend(host: &str) -> bool {
    host.strip_suffix('.').unwrap_or(host).eq_ignore_ascii_case(BACKEND_HOST)
}
