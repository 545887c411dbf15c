//! The device side of a card-emulation channel: what a SIMtrace2 board shows the rig, driven
//! by a modem's SIM interface. The simulated modem's SIM slots use it, and so do the bridge's
//! tests and benchmark, in place of a real modem.
//!
//! It speaks T=0 as a modem's UART would: sends a command header, hands over command data
//! when the card asks for it with a procedure byte, waits through NULL procedure bytes, and
//! gives up when the card stays silent longer than the work waiting time.

use std::time::Duration;

use crate::hw::simtrace::codec::data_flags;
use crate::hw::simtrace::{CardemTransport, Frame, Message, TransportError};

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no card in the slot")]
    NoCard,
    #[error("the card did not answer within the work waiting time ({0:?})")]
    Mute(Duration),
    #[error(transparent)]
    Channel(#[from] TransportError),
}

/// What the emulated card looks like to the modem right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardState {
    pub inserted: bool,
    pub atr: Vec<u8>,
}

pub struct CardemDevice<T: CardemTransport> {
    channel: T,
    state: CardState,
    /// How long the card may stay silent before the modem gives up on it.
    wwt: Duration,
}

impl<T: CardemTransport> CardemDevice<T> {
    pub fn new(channel: T, wwt: Duration) -> CardemDevice<T> {
        CardemDevice { channel, state: CardState { inserted: false, atr: Vec::new() }, wwt }
    }

    pub fn state(&self) -> &CardState {
        &self.state
    }

    /// Takes in what the host said about the card (ATR, card-insert line) until it has been
    /// quiet for `quiet`.
    pub async fn settle(&mut self, quiet: Duration) -> Result<&CardState, DeviceError> {
        while let Ok(frame) = tokio::time::timeout(quiet, self.channel.recv()).await {
            self.note(frame?);
        }
        Ok(&self.state)
    }

    /// Takes in what the host says about the card for `duration`, however busy the line is.
    pub async fn follow(&mut self, duration: Duration) -> Result<&CardState, DeviceError> {
        let deadline = tokio::time::Instant::now() + duration;
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.channel.recv()).await {
            self.note(frame?);
        }
        Ok(&self.state)
    }

    /// Waits up to `timeout` for the card to be inserted with an ATR.
    pub async fn wait_inserted(&mut self, timeout: Duration) -> Result<&CardState, DeviceError> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.state.inserted || self.state.atr.is_empty() {
            match tokio::time::timeout_at(deadline, self.channel.recv()).await {
                Ok(frame) => {
                    self.note(frame?);
                }
                Err(_) => return Err(DeviceError::NoCard),
            }
        }
        Ok(&self.state)
    }

    /// Records a state change from the host; returns false for frames that are not one.
    fn note(&mut self, frame: Frame) -> bool {
        match frame.msg {
            Message::SetAtr { atr } => self.state.atr = atr,
            Message::CardInsert { card_insert } => self.state.inserted = card_insert != 0,
            _ => return false,
        }
        true
    }

    /// One T=0 command (header, then data for commands that carry some); returns the response
    /// data and status word.
    pub async fn command(&mut self, tpdu: &[u8]) -> Result<Vec<u8>, DeviceError> {
        if !self.state.inserted {
            return Err(DeviceError::NoCard);
        }
        let (header, data) = tpdu.split_at(tpdu.len().min(5));
        self.send(data_flags::TPDU_HDR, header.to_vec()).await?;
        let mut response = Vec::new();
        loop {
            let frame = match tokio::time::timeout(self.wwt, self.channel.recv()).await {
                Ok(frame) => frame?,
                Err(_) => return Err(DeviceError::Mute(self.wwt)),
            };
            let Message::TxData { flags, data: bytes } = frame.msg else {
                let was_pulled = self.note(frame) && !self.state.inserted;
                if was_pulled {
                    return Err(DeviceError::NoCard);
                }
                continue;
            };
            if flags & data_flags::PB_AND_RX != 0 {
                // The card asks for the command data.
                self.send(0, data.to_vec()).await?;
                continue;
            }
            if flags & data_flags::FINAL != 0 {
                // Either the status word alone, or procedure byte, data and status word.
                let tail = if bytes.len() > 2 && flags & data_flags::PB_AND_TX != 0 {
                    &bytes[1..]
                } else {
                    &bytes[..]
                };
                response.extend_from_slice(tail);
                return Ok(response);
            }
            match bytes.split_first() {
                // A NULL procedure byte alone: the card is working; the wait starts over.
                Some((0x60, [])) => {}
                // Procedure byte (INS) followed by response data.
                Some((_, rest)) => response.extend_from_slice(rest),
                None => {}
            }
        }
    }

    async fn send(&mut self, flags: u32, data: Vec<u8>) -> Result<(), DeviceError> {
        let frame = Frame::new(0, Message::RxData { flags, data });
        Ok(self.channel.send(&frame).await?)
    }

    /// Sends the card's status lines (power, clock, reset) to the host, as the board reports
    /// them; a reset released with power on makes the host reset the card.
    pub async fn status(&mut self, flags: u32) -> Result<(), DeviceError> {
        let status = crate::hw::simtrace::codec::CemuStatus {
            flags,
            voltage_mv: 1800,
            fi: 1,
            di: 1,
            wi: 10,
            waiting_time: 9600,
        };
        Ok(self.channel.send(&Frame::new(0, Message::Status(status))).await?)
    }
}
