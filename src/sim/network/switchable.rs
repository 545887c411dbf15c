//! A network that can be replaced under a running modem: the emulated lab keeps one modem (and
//! one `Arc<SwitchableNetwork>` in it) for its whole life and swaps in a new [`Network`] per
//! scenario.

use std::fmt;
use std::sync::Mutex;

use super::types::{
    ActivationFailure, AttachFailure, Context, DataFailure, HeardCell, Registration, SimAuth,
};
use super::{Network, lock};
use crate::sim::modem::{NetFuture, RadioNetwork};

/// A [`RadioNetwork`] that delegates every call to the network current when the call is made.
/// [`set`](SwitchableNetwork::set) takes effect for later calls; a future already returned
/// (an attach waiting on its carrier, a request in flight) finishes on the network it started
/// on. Handles (`Registration`, `Context`) from a replaced network are stale on the new one
/// (it answers them as detached: `NotRegistered`, `NoContext`), and a `detach` or `deactivate`
/// after a swap goes to the new network, so the replaced one's ground truth does not record it.
pub struct SwitchableNetwork {
    current: Mutex<Network>,
}

impl SwitchableNetwork {
    pub fn new(network: Network) -> SwitchableNetwork {
        SwitchableNetwork { current: Mutex::new(network) }
    }

    /// Replaces the network for every later call.
    pub fn set(&self, network: Network) {
        *lock(&self.current) = network;
    }

    /// The network calls go to now (a clone: the same network).
    pub fn current(&self) -> Network {
        lock(&self.current).clone()
    }
}

impl fmt::Debug for SwitchableNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SwitchableNetwork").field(&self.current()).finish()
    }
}

impl RadioNetwork for SwitchableNetwork {
    fn cells(&self) -> Vec<HeardCell> {
        self.current().cells()
    }

    fn attach<'a>(
        &'a self,
        imsi: &'a str,
        sim: &'a mut dyn SimAuth,
    ) -> NetFuture<'a, Result<Registration, AttachFailure>> {
        let net = self.current();
        Box::pin(async move { net.attach(imsi, sim).await })
    }

    fn activate<'a>(
        &'a self,
        reg: &'a Registration,
        apn: &'a str,
    ) -> NetFuture<'a, Result<Context, ActivationFailure>> {
        let net = self.current();
        Box::pin(async move { net.activate(reg, apn).await })
    }

    fn deactivate(&self, ctx: &Context) {
        self.current().deactivate(ctx)
    }

    fn request<'a>(
        &'a self,
        ctx: &'a Context,
        host: &'a str,
        port: u16,
        payload: &'a [u8],
    ) -> NetFuture<'a, Result<Vec<u8>, DataFailure>> {
        let net = self.current();
        Box::pin(async move { net.request(ctx, host, port, payload).await })
    }

    fn detach(&self, reg: &Registration) {
        self.current().detach(reg)
    }
}
