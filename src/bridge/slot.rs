//! One SIM slot's bridge: relays the modem's T=0 exchanges from a card-emulation channel to a
//! card behind PC/SC, injects the slot's card fault, and traces every exchange.
//!
//! The loop follows osmocom's simtrace2-cardem-pcsc: configure the channel, set the card's
//! ATR, raise card-insert; then for each command header ask for its data with a procedure
//! byte if it carries some, send the complete command to the card, and answer procedure byte
//! plus data, then the status word.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::fault::{BAD_ATR, CardFault, Session};
use super::link::CardLink;
use super::t0::{Direction, direction, to_apdu};
use super::trace::{ApduRecord, CardEvent, CardEventKind, Subject, Trace, masked_command};
use crate::apdu::split_sw;
use crate::clock::RigClock;
use crate::hw::pcsc::PcscError;
use crate::hw::simtrace::codec::{CemuConfig, data_flags, features, pres_pol, status_flags};
use crate::hw::simtrace::{CardemTransport, Frame, Message, TransportError};

/// How the bench broke, from the bridge's side.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("slot {slot}: card-emulation channel: {source}")]
    Channel { slot: u8, source: TransportError },
    #[error("slot {slot}: card: {source}")]
    Card { slot: u8, source: PcscError },
}

/// NULL procedure byte: "still working, keep waiting" (ISO 7816-3 §10.3.3).
const NULL_BYTE: u8 = 0x60;
/// How often a slow card within its work waiting time sends a NULL byte, unless told otherwise
/// (a bench with a scaled clock has a scaled work waiting time).
const NULL_EVERY: Duration = Duration::from_millis(100);

/// Sets and clears the card fault of one slot while its bridge runs.
#[derive(Clone)]
pub struct FaultControl {
    tx: watch::Sender<Option<CardFault>>,
}

impl FaultControl {
    pub fn apply(&self, fault: CardFault) {
        self.tx.send_replace(Some(fault));
    }

    /// Restores the card: inserted, answering, no fault.
    pub fn insert(&self) {
        self.tx.send_replace(None);
    }

    pub fn current(&self) -> Option<CardFault> {
        *self.tx.borrow()
    }
}

/// A bridge running as a task: whether it ended, and why.
pub struct RunningBridge {
    task: tokio::task::JoinHandle<()>,
    ended: Arc<Mutex<Option<String>>>,
}

impl RunningBridge {
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Why it ended (the channel's or the card's error), once it has.
    pub fn stopped(&self) -> Option<String> {
        if !self.task.is_finished() {
            return None;
        }
        Some(self.ended.lock().ok().and_then(|w| w.clone()).unwrap_or_else(|| "ended".into()))
    }

    /// Stops it and waits up to `within` until it has (its card link is dropped with it);
    /// false when it did not stop in time — a card call that does not return holds it, and
    /// it ends on its own once the call does.
    pub async fn stop(self, within: Duration) -> bool {
        self.task.abort();
        tokio::time::timeout(within, self.task).await.is_ok()
    }
}

pub struct SlotBridge<T: CardemTransport, C: CardLink> {
    slot: u8,
    channel: T,
    card: C,
    faults: watch::Receiver<Option<CardFault>>,
    fault: Option<CardFault>,
    trace: Trace,
    clock: RigClock,
    session: Session,
    atr: Vec<u8>,
    inserted: bool,
    /// A T=1 reader answers a data-carrying command at once; T=0 modems must fetch the answer
    /// with GET RESPONSE, so it waits here.
    held_response: Option<Vec<u8>>,
    last_status: u32,
    /// When a flaky contact next changes.
    bounce_at: Option<tokio::time::Instant>,
    null_every: Duration,
    /// A card session is under way: the modem reset the card and has not powered it down.
    active: bool,
    /// A command header that arrived while another command's data was awaited.
    pending_header: Option<[u8; 5]>,
}

/// A command's data from the modem, or word that the modem gave the command up.
enum Fetched {
    Data(Vec<u8>),
    Abandoned,
}

enum Wake {
    Fault,
    Bounce,
    Frame(Result<Frame, TransportError>),
    ControlGone,
}

impl<T: CardemTransport, C: CardLink> SlotBridge<T, C> {
    pub fn new(
        slot: u8,
        channel: T,
        card: C,
        trace: Trace,
        clock: RigClock,
    ) -> (SlotBridge<T, C>, FaultControl) {
        let (tx, faults) = watch::channel(None);
        let bridge = SlotBridge {
            slot,
            channel,
            card,
            faults,
            fault: None,
            trace,
            clock,
            session: Session::new(),
            atr: Vec::new(),
            inserted: false,
            held_response: None,
            last_status: 0,
            bounce_at: None,
            null_every: NULL_EVERY,
            active: false,
            pending_header: None,
        };
        (bridge, FaultControl { tx })
    }

    /// Sends NULL procedure bytes this often while a slow card keeps the modem waiting; it
    /// must be well within the modem's work waiting time.
    pub fn with_null_interval(mut self, every: Duration) -> SlotBridge<T, C> {
        self.null_every = every.max(Duration::from_micros(100));
        self
    }

    /// Runs the bridge as a task of the current runtime.
    pub fn spawn(self) -> RunningBridge
    where
        T: 'static,
        C: 'static,
    {
        let ended: Arc<Mutex<Option<String>>> = Arc::default();
        let why = Arc::clone(&ended);
        let task = tokio::spawn(async move {
            let reason = match self.run().await {
                Ok(()) => "its fault control was dropped".to_owned(),
                Err(e) => e.to_string(),
            };
            if let Ok(mut slot) = why.lock() {
                *slot = Some(reason);
            }
        });
        RunningBridge { task, ended }
    }

    /// Runs until the fault control is dropped (Ok) or a part of the bench fails (Err).
    pub async fn run(mut self) -> Result<(), BridgeError> {
        self.start().await?;
        loop {
            if let Some(header) = self.pending_header.take() {
                self.command(header).await?;
                continue;
            }
            let wake = tokio::select! {
                changed = self.faults.changed() => if changed.is_ok() { Wake::Fault } else { Wake::ControlGone },
                _ = sleep_until(self.bounce_at) => Wake::Bounce,
                frame = self.channel.recv() => Wake::Frame(frame),
            };
            match wake {
                Wake::ControlGone => return self.stop().await,
                Wake::Fault => {
                    let fault = *self.faults.borrow_and_update();
                    self.change_fault(fault).await?;
                }
                Wake::Bounce => self.bounce().await?,
                Wake::Frame(Ok(frame)) => self.on_frame(frame).await?,
                Wake::Frame(Err(e)) if !e.is_fatal() => tracing::warn!(slot = self.slot, "{e}"),
                Wake::Frame(Err(source)) => return Err(BridgeError::Channel { slot: self.slot, source }),
            }
        }
    }

    fn channel_err(&self) -> impl Fn(TransportError) -> BridgeError + '_ {
        move |source| BridgeError::Channel { slot: self.slot, source }
    }

    fn card_err(&self) -> impl Fn(PcscError) -> BridgeError + '_ {
        move |source| BridgeError::Card { slot: self.slot, source }
    }

    async fn send(&mut self, msg: Message) -> Result<(), BridgeError> {
        let frame = Frame::new(0, msg);
        let slot = self.slot;
        self.channel.send(&frame).await.map_err(|source| BridgeError::Channel { slot, source })
    }

    async fn start(&mut self) -> Result<(), BridgeError> {
        self.atr = self.card.atr().await.map_err(self.card_err())?;
        let config = CemuConfig {
            features: features::STATUS_IRQ,
            slot_mux_nr: Some(0),
            pres_pol: Some(pres_pol::PRES_H | pres_pol::VALID),
        };
        self.send(Message::Config(config)).await?;
        self.set_inserted(true).await
    }

    async fn stop(&mut self) -> Result<(), BridgeError> {
        // As simtrace2-cardem-pcsc does on exit: the modem sees the card go.
        let _ = self.channel.send(&Frame::new(0, Message::CardInsert { card_insert: 0 })).await;
        Ok(())
    }

    async fn set_inserted(&mut self, inserted: bool) -> Result<(), BridgeError> {
        if inserted {
            let atr = self.atr_seen();
            self.send(Message::SetAtr { atr }).await?;
        }
        self.send(Message::CardInsert { card_insert: u8::from(inserted) }).await?;
        if inserted != self.inserted {
            self.inserted = inserted;
            self.session.reset();
            self.held_response = None;
            if inserted {
                self.event(CardEventKind::Inserted, "card inserted");
            } else {
                self.event(CardEventKind::Pulled, "card pulled");
            }
        }
        Ok(())
    }

    fn event(&self, kind: CardEventKind, what: impl Into<String>) {
        self.event_at(self.clock.now(), kind, what);
    }

    fn event_at(&self, at: std::time::Duration, kind: CardEventKind, what: impl Into<String>) {
        self.trace.event(CardEvent { at, slot: self.slot, kind, what: what.into() });
    }

    /// The ATR the modem gets (the card's, or the fault's).
    fn atr_seen(&self) -> Vec<u8> {
        if self.fault == Some(CardFault::BadAtr) { BAD_ATR.to_vec() } else { self.atr.clone() }
    }

    async fn change_fault(&mut self, fault: Option<CardFault>) -> Result<(), BridgeError> {
        let before = self.fault;
        self.fault = fault;
        self.event(
            CardEventKind::Fault,
            match fault {
                Some(f) => format!("fault {} applied", f.name()),
                None => "faults cleared".to_owned(),
            },
        );
        self.bounce_at = match fault {
            Some(CardFault::Flaky { up, .. }) => Some(tokio::time::Instant::now() + up),
            _ => None,
        };
        let should_be_in = fault != Some(CardFault::Pulled);
        let atr_changed = (before == Some(CardFault::BadAtr)) != (fault == Some(CardFault::BadAtr));
        if should_be_in != self.inserted || atr_changed {
            // Re-inserting sets the right ATR; a changed ATR needs the card re-seated too.
            if atr_changed && self.inserted && should_be_in {
                self.set_inserted(false).await?;
            }
            self.set_inserted(should_be_in).await?;
        }
        Ok(())
    }

    async fn bounce(&mut self) -> Result<(), BridgeError> {
        let Some(CardFault::Flaky { up, down }) = self.fault else {
            self.bounce_at = None;
            return Ok(());
        };
        let next_in = !self.inserted;
        self.set_inserted(next_in).await?;
        self.bounce_at = Some(tokio::time::Instant::now() + if next_in { up } else { down });
        Ok(())
    }

    async fn on_frame(&mut self, frame: Frame) -> Result<(), BridgeError> {
        match frame.msg {
            Message::RxData { flags, data } if flags & data_flags::TPDU_HDR != 0 => {
                let Ok(header) = <[u8; 5]>::try_from(data.as_slice()) else {
                    tracing::warn!(slot = self.slot, len = data.len(), "TPDU header of the wrong length");
                    return Ok(());
                };
                self.command(header).await
            }
            Message::Status(status) => self.on_status(status.flags).await,
            other => {
                tracing::debug!(slot = self.slot, ?other, "ignored");
                Ok(())
            }
        }
    }

    /// A reset released with power and clock present starts a card session (ISO 7816-3 cold
    /// or warm reset); power going away ends it. Both are traced: they are how the card side
    /// sees the DUT take up and give up a seed.
    async fn on_status(&mut self, flags: u32) -> Result<(), BridgeError> {
        // Stamped when the modem's word arrived, not after the card's reset: the PC/SC reset
        // takes its time, and another slot's bridge may stamp its own session meanwhile.
        let at = self.clock.now();
        let power = status_flags::VCC_PRESENT | status_flags::CLK_ACTIVE;
        let was_reset = self.last_status & status_flags::RESET_ACTIVE != 0;
        let was_powered = self.last_status & status_flags::VCC_PRESENT != 0;
        let powered = flags & power == power;
        self.last_status = flags;
        if was_reset && flags & status_flags::RESET_ACTIVE == 0 && powered && self.inserted {
            let resetting = Instant::now();
            self.card.reset().await.map_err(self.card_err())?;
            self.trace.reset(at, resetting.elapsed());
            self.session.reset();
            self.held_response = None;
            self.active = true;
            self.event_at(at, CardEventKind::Activated { atr: self.atr_seen() }, "card reset by the modem");
        } else if was_powered && flags & status_flags::VCC_PRESENT == 0 && self.active {
            self.active = false;
            self.event_at(at, CardEventKind::Deactivated, "card powered down by the modem");
        }
        Ok(())
    }

    /// One T=0 command, from its header to its status word.
    async fn command(&mut self, header: [u8; 5]) -> Result<(), BridgeError> {
        let arrived = Instant::now();
        let at = self.clock.stamp(arrived);
        let [cla, ins, _, _, p3] = header;
        if !self.inserted {
            // No card on the line: nobody answers.
            return Ok(());
        }
        let data = match direction(ins, p3) {
            Direction::ToCard if p3 > 0 => match self.fetch_data(ins, usize::from(p3)).await? {
                Fetched::Data(data) => data,
                // The modem gave the command up (a reset, another command): so does the card.
                Fetched::Abandoned => return Ok(()),
            },
            _ => Vec::new(),
        };
        let subject = self.session.observe(&header, &data);
        let fault = self.fault;
        let mut record = ApduRecord {
            at,
            slot: self.slot,
            cla,
            ins,
            subject,
            command: masked_command(&header, &data),
            response: Vec::new(),
            sw: None,
            latency: Duration::ZERO,
            fault: None,
        };
        if fault == Some(CardFault::Mute) {
            record.fault = Some("mute");
            self.trace.push(record);
            return Ok(());
        }
        let (response, changed_by) = self.response(&header, &data).await?;
        self.session.after_response(ins, sw_of(&response));
        if record.subject == Subject::Authenticate
            && let Some(CardFault::Slow { delay, beyond_wwt }) = fault
        {
            self.stall(delay, beyond_wwt).await?;
            record.fault = Some("slow");
        }
        record.fault = record.fault.or(changed_by);
        record.sw = Some(split_sw(&response).1);
        self.answer(ins, p3, &response).await?;
        record.response = response;
        record.latency = arrived.elapsed();
        self.trace.push(record);
        Ok(())
    }

    /// Asks the modem for the command's data with the INS procedure byte, and collects it. A
    /// modem that resets or powers the card meanwhile, or sends another command, has given
    /// this one up: the status is taken in as always, the next command kept for the loop.
    async fn fetch_data(&mut self, ins: u8, len: usize) -> Result<Fetched, BridgeError> {
        self.send(Message::TxData { flags: data_flags::PB_AND_RX, data: vec![ins] }).await?;
        let mut data = Vec::with_capacity(len);
        while data.len() < len {
            let frame = self.channel.recv().await.map_err(self.channel_err())?;
            match frame.msg {
                Message::RxData { flags, data: part } if flags & data_flags::TPDU_HDR == 0 => {
                    data.extend(part)
                }
                Message::RxData { data: header, .. } => {
                    tracing::debug!(slot = self.slot, "a new command before the last one's data");
                    self.pending_header = <[u8; 5]>::try_from(header.as_slice()).ok();
                    return Ok(Fetched::Abandoned);
                }
                Message::Status(status) => {
                    let before = self.last_status;
                    self.on_status(status.flags).await?;
                    let lines = status_flags::VCC_PRESENT | status_flags::RESET_ACTIVE;
                    if (before ^ status.flags) & lines != 0 {
                        return Ok(Fetched::Abandoned);
                    }
                }
                other => tracing::debug!(slot = self.slot, ?other, "ignored while collecting command data"),
            }
        }
        data.truncate(len);
        Ok(Fetched::Data(data))
    }

    /// The answer the modem gets: the card's, or the fault's, and which fault changed it.
    async fn response(
        &mut self,
        header: &[u8; 5],
        data: &[u8],
    ) -> Result<(Vec<u8>, Option<&'static str>), BridgeError> {
        if let Some(refusal) = self.session.refuse(self.fault, header) {
            return Ok((refusal, self.fault.map(|f| f.name())));
        }
        let ins = header[1];
        let mut response = if ins == 0xC0 && self.held_response.is_some() {
            self.serve_held(header[4])
        } else {
            let apdu = to_apdu(header, data);
            let response = self.card.transmit(&apdu).await.map_err(self.card_err())?;
            self.hold_if_t1(header, response)
        };
        let changed = self.session.corrupt(self.fault, header, &mut response);
        Ok((response, changed.then(|| self.fault.map(|f| f.name())).flatten()))
    }

    /// A data-carrying command answered with data at once (T=1 reader): keep the data for
    /// GET RESPONSE and tell the modem it is there (61xx).
    fn hold_if_t1(&mut self, header: &[u8; 5], response: Vec<u8>) -> Vec<u8> {
        let (data, sw) = split_sw(&response);
        if direction(header[1], header[4]) == Direction::ToCard && !data.is_empty() && sw == 0x9000 {
            let len = data.len().min(256) as u8;
            self.held_response = Some(response);
            return vec![if header[0] == 0xA0 { 0x9F } else { 0x61 }, len];
        }
        response
    }

    fn serve_held(&mut self, le: u8) -> Vec<u8> {
        let held = self.held_response.take().unwrap_or_default();
        let (data, _) = split_sw(&held);
        if usize::from(le) != data.len() && !(le == 0 && data.len() == 256) {
            let len = data.len() as u8;
            self.held_response = Some(held);
            return vec![0x6C, len];
        }
        held
    }

    /// Holds the answer back: NULL procedure bytes keep a modem waiting within the work
    /// waiting time; beyond it the card stays silent.
    async fn stall(&mut self, delay: Duration, beyond_wwt: bool) -> Result<(), BridgeError> {
        let until = Instant::now() + delay;
        while Instant::now() < until {
            let step = self.null_every.min(until - Instant::now());
            tokio::time::sleep(step).await;
            if !beyond_wwt && Instant::now() < until {
                self.send(Message::TxData { flags: data_flags::PB_AND_TX, data: vec![NULL_BYTE] }).await?;
            }
        }
        Ok(())
    }

    /// Procedure byte and data (if any) and the status word, in one message: the board sends
    /// the bytes in order and returns to waiting for a header after a FINAL message.
    async fn answer(&mut self, ins: u8, p3: u8, response: &[u8]) -> Result<(), BridgeError> {
        let (data, sw) = split_sw(response);
        let sw = sw.to_be_bytes();
        let flags = data_flags::PB_AND_TX | data_flags::FINAL;
        let bytes = if !data.is_empty() && direction(ins, p3) == Direction::FromCard {
            let mut out = Vec::with_capacity(data.len() + 3);
            out.push(ins);
            out.extend_from_slice(data);
            out.extend_from_slice(&sw);
            out
        } else {
            sw.to_vec()
        };
        self.send(Message::TxData { flags, data: bytes }).await
    }
}

fn sw_of(response: &[u8]) -> [u8; 2] {
    split_sw(response).1.to_be_bytes()
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
