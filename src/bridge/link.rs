//! The card side of the bridge: a card behind PC/SC, called in place ([`InPlaceCard`], what the
//! virtual bench uses) or through a worker thread ([`CardWorker`], what a lab bench uses), or,
//! in unit tests, a virtual card in-process. All behind one small trait.

use std::future::Future;
use std::time::Duration;

use crate::hw::pcsc::{CallWatch, CardConnection, CardWorker, PcscError, Readers};
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

/// A card behind PC/SC that the bridge's own task calls in place. On a multi-thread runtime
/// the call runs under `block_in_place`: the worker's other tasks move to another thread while
/// it blocks, and no thread hand-over sits on the APDU path (the card-path benchmark measures
/// the difference). A call that never returns (pcscd hung) shows in the [`CallWatch`], which
/// the bench polls; the bench then takes pcscd down, and the call returns — so this is for a
/// bench that owns its pcscd (the virtual bench); a lab bench uses [`CardWorker`]. On a
/// current-thread runtime (tests) the call simply blocks that thread.
pub struct InPlaceCard {
    /// `None` only while being dropped.
    conn: Option<CardConnection>,
    reader: String,
    watch: CallWatch,
}

impl InPlaceCard {
    /// Connects to the card in `reader` (off the runtime: it waits on pcscd).
    pub async fn connect(reader: &str) -> Result<InPlaceCard, PcscError> {
        let name = reader.to_owned();
        let connected = tokio::task::spawn_blocking(move || Readers::new().connect(&name)).await;
        let conn = connected.map_err(|_| PcscError::WorkerGone { reader: reader.to_owned() })??;
        Ok(InPlaceCard { conn: Some(conn), reader: reader.to_owned(), watch: CallWatch::default() })
    }

    /// A handle that tells, from anywhere, how long the call under way has been waiting, and
    /// whether the connection is closed.
    pub fn call_watch(&self) -> CallWatch {
        self.watch.clone()
    }

    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut CardConnection) -> Result<T, PcscError>,
    ) -> Result<T, PcscError> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(PcscError::WorkerGone { reader: self.reader.clone() });
        };
        let watch = &self.watch;
        let run = move || watch.around(|| f(conn));
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }
}

impl Drop for InPlaceCard {
    /// Closes the connection (pcscd resets the card) on a thread of its own: the disconnect
    /// waits on pcscd, which may be the part that hung, and must not hold up the runtime. The
    /// call watch says closed once it is done: from then on nothing of this bridge reaches
    /// the card.
    fn drop(&mut self) {
        let (conn, watch) = (self.conn.take(), self.watch.clone());
        let disconnect = move || {
            drop(conn);
            watch.close();
        };
        let on_own_thread = std::thread::Builder::new().name("pcsc-disconnect".into());
        if let Err(e) = on_own_thread.spawn(disconnect) {
            tracing::warn!(reader = %self.reader, "cannot start a thread to disconnect: {e}");
        }
    }
}

impl CardLink for InPlaceCard {
    fn name(&self) -> String {
        self.reader.clone()
    }
    async fn atr(&mut self) -> Result<Vec<u8>, PcscError> {
        self.call(|c| c.atr())
    }
    async fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, PcscError> {
        self.call(|c| c.transmit(apdu))
    }
    async fn reset(&mut self) -> Result<(), PcscError> {
        self.call(|c| c.reset())
    }
}
