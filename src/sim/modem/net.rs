//! The modem's view of the radio network: the calls it makes, behind a small trait so that
//! tests can put a scripted network in place of [`Network`].

use std::future::Future;
use std::pin::Pin;

use crate::sim::network::{
    ActivationFailure, AttachFailure, Context, DataFailure, HeardCell, Network, Registration, SimAuth,
};

pub type NetFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the modem asks of the network. [`Network`] is the real one; the semantics are its
/// (see `docs/virtual-bench.md`): silent failures are futures that never complete.
pub trait RadioNetwork: Send + Sync + 'static {
    /// Every cell heard at the site, strongest first.
    fn cells(&self) -> Vec<HeardCell>;
    fn attach<'a>(
        &'a self,
        imsi: &'a str,
        sim: &'a mut dyn SimAuth,
    ) -> NetFuture<'a, Result<Registration, AttachFailure>>;
    fn activate<'a>(
        &'a self,
        reg: &'a Registration,
        apn: &'a str,
    ) -> NetFuture<'a, Result<Context, ActivationFailure>>;
    /// The UE ends a context (`AT+CGACT=0`); its registration stays.
    fn deactivate(&self, ctx: &Context);
    fn request<'a>(
        &'a self,
        ctx: &'a Context,
        host: &'a str,
        port: u16,
        payload: &'a [u8],
    ) -> NetFuture<'a, Result<Vec<u8>, DataFailure>>;
    fn detach(&self, reg: &Registration);
}

impl RadioNetwork for Network {
    fn cells(&self) -> Vec<HeardCell> {
        Network::cells(self)
    }

    fn attach<'a>(
        &'a self,
        imsi: &'a str,
        sim: &'a mut dyn SimAuth,
    ) -> NetFuture<'a, Result<Registration, AttachFailure>> {
        Box::pin(Network::attach(self, imsi, sim))
    }

    fn activate<'a>(
        &'a self,
        reg: &'a Registration,
        apn: &'a str,
    ) -> NetFuture<'a, Result<Context, ActivationFailure>> {
        Box::pin(Network::activate(self, reg, apn))
    }

    fn deactivate(&self, ctx: &Context) {
        Network::deactivate(self, ctx)
    }

    fn request<'a>(
        &'a self,
        ctx: &'a Context,
        host: &'a str,
        port: u16,
        payload: &'a [u8],
    ) -> NetFuture<'a, Result<Vec<u8>, DataFailure>> {
        Box::pin(Network::request(self, ctx, host, port, payload))
    }

    fn detach(&self, reg: &Registration) {
        Network::detach(self, reg)
    }
}
