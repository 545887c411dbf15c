//! The card side of the bridge: a card behind PC/SC ([`CardWorker`]) or, in unit tests, a
//! virtual card in-process. Both behind one small trait.

use std::future::Future;
use std::time::Duration;

use crate::hw::pcsc::{CardWorker, PcscError};
use crate::sim::vpcd::VirtualCard;

/// How long a card behind PC/SC may take for one exchange before the bench counts as broken.
pub const CARD_TIMEOUT: Duration = Duration::from_secs(5);

pub trait CardLink: Send {
    /// Names the card's place (the reader), for error messages.
    fn name(&self) -> String;
    fn atr(&mut self) -> impl Future<Output = Result<Vec<u8>, PcscError>> + Send;
    /// One command APDU in; response data and status word out.
    fn transmit(&mut self, apdu: &[u8]) -> impl Future<Output = Result<Vec<u8>, PcscError>> + Send;
    fn reset(&mut self) -> impl Future<Output = Result<(), PcscError>> + Send;
}

impl CardLink for CardWorker {
    fn name(&self) -> String {
        self.reader().to_owned()
    }
    async fn atr(&mut self) -> Result<Vec<u8>, PcscError> {
        CardWorker::atr(self, CARD_TIMEOUT).await
    }
    async fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, PcscError> {
        CardWorker::transmit(self, apdu, CARD_TIMEOUT).await
    }
    async fn reset(&mut self) -> Result<(), PcscError> {
        CardWorker::reset(self, CARD_TIMEOUT).await
    }
}

/// A virtual card called directly, without pcscd: for tests of the bridge's own logic.
pub struct LocalCard<C: VirtualCard>(pub C);

impl<C: VirtualCard> CardLink for LocalCard<C> {
    fn name(&self) -> String {
        "in-process card".to_owned()
    }
    async fn atr(&mut self) -> Result<Vec<u8>, PcscError> {
        Ok(self.0.atr())
    }
    async fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, PcscError> {
        Ok(self.0.transmit(apdu))
    }
    async fn reset(&mut self) -> Result<(), PcscError> {
        self.0.reset();
        Ok(())
    }
}
