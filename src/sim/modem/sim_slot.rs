//! One SIM slot: a socket the rig's bridge connects to, and the card-emulation device on it.
//! A task owns the device and does one thing at a time — a request from the modem (read the
//! card, AUTHENTICATE, an `AT+CRSM`/`AT+CSIM` exchange) or, between requests, watching the
//! card-insert line and the ATR — so exchanges never interleave on the wire.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::card::{self, AuthResult, Exchange, SimState, present};
use crate::hw::simtrace::{SocketListener, SocketTransport};
use crate::sim::cardem_device::{CardemDevice, DeviceError};
use crate::sim::network::AuthAnswer;

/// How often the line of a present card is looked at for a removal. The device can only be
/// asked "what happened during the last while", so a card that bounces faster than this may
/// go unnoticed, as a modem's debounced detect line would miss it.
const POLL: Duration = Duration::from_millis(10);
/// How long to wait for an insertion before looking at the request queue again anyway.
const IDLE: Duration = Duration::from_secs(1);
/// A failed accept (out of descriptors, say) is retried after this pause.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// A card read: what the modem now knows of the SIM, and the card (ATR) it read.
#[derive(Debug, Clone)]
pub struct CardRead {
    pub state: SimState,
    pub card: Option<Vec<u8>>,
}

/// The card in slot `slot` changed: `card` is its ATR, None when it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotEvent {
    pub slot: u8,
    pub card: Option<Vec<u8>>,
}

type ExchangeResult = Result<(Vec<u8>, u16), DeviceError>;

enum SlotOp {
    Read { reset: bool, reply: oneshot::Sender<CardRead> },
    PowerDown { reply: oneshot::Sender<()> },
    Authenticate { rand: [u8; 16], autn: [u8; 16], reply: oneshot::Sender<AuthResult> },
    Exchange { ex: Exchange, reply: oneshot::Sender<ExchangeResult> },
}

impl SlotOp {
    async fn run(self, dev: &mut CardemDevice<SocketTransport>) {
        // A requester that went away (a cancelled attach) just does not get the answer; the
        // exchange itself always completes, so the wire stays in step.
        match self {
            SlotOp::Read { reset, reply } => {
                let state = card::read_identity(dev, reset).await;
                let _ = reply.send(CardRead { state, card: present(dev.state()) });
            }
            SlotOp::PowerDown { reply } => {
                if let Err(e) = card::power_down(dev).await {
                    tracing::debug!("SIM slot: power-down not delivered: {e}");
                }
                let _ = reply.send(());
            }
            SlotOp::Authenticate { rand, autn, reply } => {
                let _ = reply.send(card::authenticate(dev, rand, autn).await);
            }
            SlotOp::Exchange { ex, reply } => {
                let _ = reply.send(card::exchange(dev, &ex).await);
            }
        }
    }

    /// The answer while no bridge is connected: no card.
    fn refuse(self) {
        match self {
            SlotOp::Read { reply, .. } => {
                let _ = reply.send(CardRead { state: SimState::Absent, card: None });
            }
            SlotOp::PowerDown { reply } => {
                let _ = reply.send(());
            }
            SlotOp::Authenticate { reply, .. } => {
                let _ = reply.send(AuthResult { answer: AuthAnswer::CardError, card_failed: true });
            }
            SlotOp::Exchange { reply, .. } => {
                let _ = reply.send(Err(DeviceError::NoCard));
            }
        }
    }
}

/// How the rest of the modem reaches a slot.
#[derive(Clone)]
pub struct SlotHandle {
    ops: mpsc::Sender<SlotOp>,
}

impl SlotHandle {
    /// Reads the card's identity; `reset` restarts the card session first (a new card, a
    /// slot switch), which is skipped right after PIN entry so the verification holds.
    pub async fn read(&self, reset: bool) -> CardRead {
        let absent = CardRead { state: SimState::Absent, card: None };
        self.ask(|reply| SlotOp::Read { reset, reply }).await.unwrap_or(absent)
    }

    /// Powers the slot's card down (the modem leaves the slot).
    pub async fn power_down(&self) {
        let _ = self.ask(|reply| SlotOp::PowerDown { reply }).await;
    }

    pub async fn authenticate(&self, rand: [u8; 16], autn: [u8; 16]) -> AuthResult {
        let failed = AuthResult { answer: AuthAnswer::CardError, card_failed: true };
        self.ask(|reply| SlotOp::Authenticate { rand, autn, reply }).await.unwrap_or(failed)
    }

    pub async fn exchange(&self, ex: Exchange) -> ExchangeResult {
        self.ask(|reply| SlotOp::Exchange { ex, reply }).await.unwrap_or(Err(DeviceError::NoCard))
    }

    async fn ask<R>(&self, op: impl FnOnce(oneshot::Sender<R>) -> SlotOp) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        self.ops.send(op(tx)).await.ok()?;
        rx.await.ok()
    }
}

/// The task side of a slot.
pub struct SlotActor {
    index: u8,
    listener: SocketListener,
    ops: mpsc::Receiver<SlotOp>,
    events: mpsc::UnboundedSender<SlotEvent>,
    wwt: Duration,
    reported: Option<Vec<u8>>,
}

pub fn slot(
    index: u8,
    listener: SocketListener,
    wwt: Duration,
    events: mpsc::UnboundedSender<SlotEvent>,
) -> (SlotHandle, SlotActor) {
    let (tx, rx) = mpsc::channel(8);
    (SlotHandle { ops: tx }, SlotActor { index, listener, ops: rx, events, wwt, reported: None })
}

enum Wake {
    Op(Option<SlotOp>),
    Line(Result<(), DeviceError>),
}

impl SlotActor {
    /// Serves one bridge at a time until the modem stops; a bridge that goes away takes its
    /// card with it, and the next one may connect.
    pub async fn run(mut self) {
        while let Some(channel) = self.accept().await {
            let mut dev = CardemDevice::new(channel, self.wwt);
            let stopping = !self.serve(&mut dev).await;
            self.report(None);
            if stopping {
                return;
            }
            tracing::info!(slot = self.index, "SIM slot: the bridge went away");
        }
    }

    async fn accept(&mut self) -> Option<SocketTransport> {
        loop {
            tokio::select! {
                conn = self.listener.accept() => match conn {
                    Ok(channel) => return Some(channel),
                    Err(e) => {
                        tracing::warn!(slot = self.index, "SIM slot: {e}");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                    }
                },
                op = self.ops.recv() => op?.refuse(),
            }
        }
    }

    /// Returns true when the bridge went away, false when the modem is stopping.
    async fn serve(&mut self, dev: &mut CardemDevice<SocketTransport>) -> bool {
        loop {
            let card_in = present(dev.state()).is_some();
            let wake = tokio::select! {
                op = self.ops.recv() => Wake::Op(op),
                line = watch_line(dev, card_in) => Wake::Line(line),
            };
            match wake {
                Wake::Op(None) => return false,
                Wake::Op(Some(op)) => op.run(dev).await,
                Wake::Line(Err(DeviceError::Channel(e))) if e.is_fatal() => return true,
                Wake::Line(_) => {}
            }
            self.report(present(dev.state()));
        }
    }

    fn report(&mut self, card: Option<Vec<u8>>) {
        if card != self.reported {
            self.reported = card.clone();
            let _ = self.events.send(SlotEvent { slot: self.index, card });
        }
    }
}

/// Waits a little for the host to say something about the card. Both device calls are
/// cancel-safe: a request arriving meanwhile loses no frame.
async fn watch_line(dev: &mut CardemDevice<SocketTransport>, card_in: bool) -> Result<(), DeviceError> {
    if card_in {
        return dev.follow(POLL).await.map(drop);
    }
    match dev.wait_inserted(IDLE).await {
        Ok(_) | Err(DeviceError::NoCard) => Ok(()),
        Err(e) => Err(e),
    }
}
