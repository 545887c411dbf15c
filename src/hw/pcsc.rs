//! PC/SC card readers through pcscd (the pcsc crate): the same driver on a lab bench with real
//! readers and on the virtual bench with vpcd readers.
//!
//! The pcsc calls block, so the synchronous types here are used from dedicated threads:
//! [`CardWorker`] owns one card connection on its own thread and serves async callers, so no
//! PC/SC call ever runs on the async runtime's worker threads.
//!
//! After pcscd restarts, a context keeps answering `NoService`; [`Readers`] drops such a
//! context and establishes a new one on the next call.

use std::ffi::CString;

use crate::apdu::split_sw;
use std::time::Duration;

/// What went wrong talking to a reader; every message names the reader.
#[derive(Debug, thiserror::Error)]
pub enum PcscError {
    #[error(
        "the PC/SC service (pcscd) is not running or went away ({0}); start pcscd, or check PCSCLITE_CSOCK_NAME"
    )]
    NoService(pcsc::Error),
    #[error("no reader named \"{reader}\"; readers present: {available}")]
    ReaderNotFound { reader: String, available: String },
    #[error("reader \"{reader}\" has no card in it")]
    NoCard { reader: String },
    #[error("reader \"{reader}\": the card was removed or reset")]
    CardRemoved { reader: String },
    #[error("reader \"{reader}\": {what} failed: {source}")]
    Call { reader: String, what: &'static str, source: pcsc::Error },
    #[error("reader \"{reader}\": the card answered {what} with status {sw:04X}")]
    Status { reader: String, what: String, sw: u16 },
    #[error("reader \"{reader}\": {what} did not answer within {waited:?}")]
    Timeout { reader: String, what: &'static str, waited: Duration },
    #[error("reader \"{reader}\": its worker thread is gone")]
    WorkerGone { reader: String },
}

impl PcscError {
    fn from_call(reader: &str, what: &'static str, e: pcsc::Error) -> PcscError {
        match e {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::InvalidHandle => {
                PcscError::NoService(e)
            }
            pcsc::Error::NoSmartcard => PcscError::NoCard { reader: reader.to_owned() },
            pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::UnpoweredCard => {
                PcscError::CardRemoved { reader: reader.to_owned() }
            }
            pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => {
                PcscError::ReaderNotFound { reader: reader.to_owned(), available: "(reader vanished)".into() }
            }
            source => PcscError::Call { reader: reader.to_owned(), what, source },
        }
    }

    /// Whether the service itself is gone (the context must be established anew).
    pub fn is_service_lost(&self) -> bool {
        matches!(self, PcscError::NoService(_))
    }
}

/// The card readers pcscd offers. Establishes its context lazily and again after pcscd
/// restarts.
#[derive(Default)]
pub struct Readers {
    context: Option<pcsc::Context>,
}

/// A change seen by [`Readers::wait_change`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    CardInserted { reader: String, atr: Vec<u8> },
    CardRemoved { reader: String },
    ReaderGone { reader: String },
}

impl Readers {
    pub fn new() -> Readers {
        Readers::default()
    }

    fn context(&mut self) -> Result<&pcsc::Context, PcscError> {
        if self.context.as_ref().is_some_and(|c| c.is_valid().is_err()) {
            self.context = None;
        }
        if self.context.is_none() {
            self.context = Some(pcsc::Context::establish(pcsc::Scope::User).map_err(PcscError::NoService)?);
        }
        Ok(self.context.as_ref().expect("set above"))
    }

    /// Runs a call on the context; a lost service drops the context for the next call.
    fn call<T>(&mut self, f: impl FnOnce(&pcsc::Context) -> Result<T, PcscError>) -> Result<T, PcscError> {
        let result = f(self.context()?);
        if result.as_ref().is_err_and(PcscError::is_service_lost) {
            self.context = None;
        }
        result
    }

    /// Names of the readers present now.
    pub fn list(&mut self) -> Result<Vec<String>, PcscError> {
        self.call(|ctx| match ctx.list_readers_owned() {
            Ok(names) => Ok(names.into_iter().map(|n| n.to_string_lossy().into_owned()).collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(PcscError::from_call("(any)", "listing readers", e)),
        })
    }

    /// Connects to the card in `reader` (shared, T=0 or T=1).
    pub fn connect(&mut self, reader: &str) -> Result<CardConnection, PcscError> {
        let name = CString::new(reader).map_err(|_| PcscError::ReaderNotFound {
            reader: reader.to_owned(),
            available: "(a reader name has no NUL bytes)".into(),
        })?;
        let listed = self.list()?;
        if !listed.iter().any(|r| r == reader) {
            return Err(PcscError::ReaderNotFound {
                reader: reader.to_owned(),
                available: listed.join(", "),
            });
        }
        self.call(|ctx| {
            let card = ctx
                .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
                .map_err(|e| PcscError::from_call(reader, "connect", e))?;
            Ok(CardConnection { card, reader: reader.to_owned() })
        })
    }

    /// Waits up to `timeout` for a card to come or go in any of `readers` (whose last known
    /// presence is `known`), or for a reader to vanish. Returns the changes, empty on timeout.
    pub fn wait_change(
        &mut self,
        known: &[(String, bool)],
        timeout: Duration,
    ) -> Result<Vec<ReaderEvent>, PcscError> {
        let mut states: Vec<pcsc::ReaderState> = known
            .iter()
            .filter_map(|(name, present)| {
                let state = if *present { pcsc::State::PRESENT } else { pcsc::State::EMPTY };
                Some(pcsc::ReaderState::new(CString::new(name.as_str()).ok()?, state))
            })
            .collect();
        self.call(|ctx| match ctx.get_status_change(timeout, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => Ok(()),
            Err(e) => Err(PcscError::from_call("(watch)", "waiting for card events", e)),
        })?;
        Ok(states.iter().filter_map(event).collect())
    }
}

fn event(state: &pcsc::ReaderState) -> Option<ReaderEvent> {
    let reader = state.name().to_string_lossy().into_owned();
    let now = state.event_state();
    if !now.contains(pcsc::State::CHANGED) {
        return None;
    }
    if now.intersects(pcsc::State::UNKNOWN | pcsc::State::UNAVAILABLE) {
        return Some(ReaderEvent::ReaderGone { reader });
    }
    let was_present = state.current_state().contains(pcsc::State::PRESENT);
    match (was_present, now.contains(pcsc::State::PRESENT)) {
        (false, true) => Some(ReaderEvent::CardInserted { reader, atr: state.atr().to_vec() }),
        (true, false) => Some(ReaderEvent::CardRemoved { reader }),
        _ => None,
    }
}

/// A connection to the card in one reader.
pub struct CardConnection {
    card: pcsc::Card,
    reader: String,
}

impl CardConnection {
    pub fn reader(&self) -> &str {
        &self.reader
    }

    pub fn atr(&self) -> Result<Vec<u8>, PcscError> {
        let status =
            self.card.status2_owned().map_err(|e| PcscError::from_call(&self.reader, "status", e))?;
        Ok(status.atr().to_vec())
    }

    /// Sends one command APDU; returns response data and status word.
    pub fn transmit(&self, apdu: &[u8]) -> Result<Vec<u8>, PcscError> {
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let response = self
            .card
            .transmit(apdu, &mut buf)
            .map_err(|e| PcscError::from_call(&self.reader, "transmit", e))?;
        Ok(response.to_vec())
    }

    /// Resets the card (warm reset) and reconnects.
    pub fn reset(&mut self) -> Result<(), PcscError> {
        self.card
            .reconnect(pcsc::ShareMode::Shared, pcsc::Protocols::ANY, pcsc::Disposition::ResetCard)
            .map_err(|e| PcscError::from_call(&self.reader, "reset", e))
    }
}

/// The identity a seed card carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardIdentity {
    pub iccid: String,
    pub imsi: String,
}

/// The USIM application identifier's registered prefix (RID A000000087, application 1002).
const USIM_AID_PREFIX: [u8; 7] = [0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02];

/// Points this process's PC/SC calls at the pcscd whose client socket is `socket` (`None`: the
/// system's). libpcsclite reads `PCSCLITE_CSOCK_NAME` once, on its first connection, so a
/// process talks to one pcscd: the first choice stands, and a different later one is refused
/// with the socket chosen first.
pub fn choose_pcscd(socket: Option<&std::path::Path>) -> Result<(), Option<std::path::PathBuf>> {
    static CHOSEN: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let chosen = CHOSEN.get_or_init(|| {
        if let Some(path) = socket {
            // SAFETY: set once, guarded by the OnceLock, before this process's first PC/SC call
            // (every PC/SC user of the rig chooses its pcscd here first); no other code of the
            // rig reads or writes the environment concurrently.
            unsafe { std::env::set_var("PCSCLITE_CSOCK_NAME", path) };
        }
        socket.map(std::path::Path::to_path_buf)
    });
    if chosen.as_deref() == socket { Ok(()) } else { Err(chosen.clone()) }
}

/// Reads ICCID (EF_ICCID under MF) and IMSI (EF_IMSI in ADF.USIM, selected by the AID found in
/// EF_DIR), so the rig can check a reader holds the seed the fixture says.
pub fn read_identity(card: &CardConnection) -> Result<CardIdentity, PcscError> {
    let apdu = Apdu { card };
    apdu.select_fid(0x3F00)?;
    let iccid = decode_iccid(&apdu.read_binary(0x2FE2, 10)?);
    let aid = apdu.usim_aid()?;
    apdu.command("SELECT ADF.USIM", &[&[0x00, 0xA4, 0x04, 0x04, aid.len() as u8], &aid[..]].concat())?;
    let imsi = decode_imsi(&apdu.read_binary(0x6F07, 9)?).ok_or_else(|| PcscError::Status {
        reader: card.reader.clone(),
        what: "EF_IMSI (malformed content)".into(),
        sw: 0x6F00,
    })?;
    Ok(CardIdentity { iccid, imsi })
}

/// Command helpers over T=0: follows 61xx with GET RESPONSE and 6Cxx with the right Le.
struct Apdu<'c> {
    card: &'c CardConnection,
}

impl Apdu<'_> {
    fn command(&self, what: &str, apdu: &[u8]) -> Result<Vec<u8>, PcscError> {
        let mut response = self.card.transmit(apdu)?;
        loop {
            let (data, sw) = split_sw(&response);
            match sw >> 8 {
                0x90 if sw == 0x9000 => return Ok(data.to_vec()),
                0x61 | 0x9F => response = self.card.transmit(&[apdu[0] & 0xF0, 0xC0, 0, 0, sw as u8])?,
                0x6C => {
                    let mut again = apdu[..4].to_vec();
                    again.push(sw as u8);
                    response = self.card.transmit(&again)?;
                }
                _ => {
                    return Err(PcscError::Status {
                        reader: self.card.reader.clone(),
                        what: what.into(),
                        sw,
                    });
                }
            }
        }
    }

    fn select_fid(&self, fid: u16) -> Result<Vec<u8>, PcscError> {
        let [hi, lo] = fid.to_be_bytes();
        self.command(&format!("SELECT {fid:04X}"), &[0x00, 0xA4, 0x00, 0x04, 0x02, hi, lo])
    }

    fn read_binary(&self, fid: u16, len: u8) -> Result<Vec<u8>, PcscError> {
        self.select_fid(fid)?;
        self.command(&format!("READ BINARY {fid:04X}"), &[0x00, 0xB0, 0x00, 0x00, len])
    }

    /// The USIM AID from EF_DIR's records (falls back to the bare prefix, which a UICC accepts
    /// as a partial AID).
    fn usim_aid(&self) -> Result<Vec<u8>, PcscError> {
        self.select_fid(0x3F00)?;
        let fcp = self.select_fid(0x2F00)?;
        let (record_len, records) = record_geometry(&fcp).unwrap_or((0, 0));
        for n in 1..=records {
            let Ok(record) = self.command("READ RECORD EF_DIR", &[0x00, 0xB2, n, 0x04, record_len]) else {
                break;
            };
            if let Some(aid) = find_tlv(&record, 0x4F).filter(|a| a.starts_with(&USIM_AID_PREFIX)) {
                return Ok(aid.to_vec());
            }
        }
        Ok(USIM_AID_PREFIX.to_vec())
    }
}

/// Record length and count from an FCP's file descriptor (tag 82, linear fixed).
fn record_geometry(fcp: &[u8]) -> Option<(u8, u8)> {
    let body = find_tlv(fcp, 0x62)?;
    let descriptor = find_tlv(body, 0x82)?;
    (descriptor.len() >= 5).then(|| (descriptor[3], descriptor[4]))
}

/// The value of the first `tag` in a simple BER-TLV list (one-byte tags and lengths), looking
/// inside an application template (61) too.
fn find_tlv(data: &[u8], tag: u8) -> Option<&[u8]> {
    let mut i = 0;
    while i + 1 < data.len() {
        let (t, len) = (data[i], usize::from(data[i + 1]));
        let value = data.get(i + 2..i + 2 + len)?;
        if t == tag {
            return Some(value);
        }
        if t == 0x61
            && let Some(v) = find_tlv(value, tag)
        {
            return Some(v);
        }
        i += 2 + len;
    }
    None
}

/// EF_ICCID: BCD with swapped nibbles, padded with F.
pub fn decode_iccid(bytes: &[u8]) -> String {
    swapped_digits(bytes).collect()
}

/// EF_IMSI: length byte, then the parity nibble and the digits, nibble-swapped.
pub fn decode_imsi(bytes: &[u8]) -> Option<String> {
    let len = usize::from(*bytes.first()?);
    let body = bytes.get(1..1 + len)?;
    // The first nibble is the parity/type indicator, not a digit.
    let digits: String = swapped_digits(body).skip(1).collect();
    (!digits.is_empty()).then_some(digits)
}

/// The decimal digits of swapped BCD, up to the first F.
fn swapped_digits(bytes: &[u8]) -> impl Iterator<Item = char> + '_ {
    crate::encoding::bcd::nibbles(bytes).filter_map(|n| char::from_digit(u32::from(n), 10))
}

/// One card connection on its own thread, for async callers: PC/SC calls block, and must not
/// block the runtime's workers. Requests are served in order.
pub struct CardWorker {
    reader: String,
    requests: std::sync::mpsc::Sender<Request>,
    pending: CallWatch,
}

/// Since when this card's worker has been inside a PC/SC call, if it is: a call that does not
/// return (pcscd stopped or hung, a reader driver stuck) shows here long before any timeout.
#[derive(Debug, Clone, Default)]
pub struct CallWatch(std::sync::Arc<std::sync::Mutex<Calls>>);

#[derive(Debug, Default)]
struct Calls {
    since: Option<std::time::Instant>,
    longest: Duration,
    /// The connection is closed: no call of this worker can reach the card any more.
    closed: bool,
}

impl CallWatch {
    /// How long the call under way has been waiting; `None` between calls.
    pub fn pending_for(&self) -> Option<Duration> {
        self.0.lock().ok().and_then(|c| c.since.map(|t| t.elapsed()))
    }

    /// The longest call that returned so far.
    pub fn longest(&self) -> Duration {
        self.0.lock().map(|c| c.longest).unwrap_or_default()
    }

    /// Whether the worker has disconnected from the card (its handle was dropped and the
    /// call under way, if any, returned). Until then it may still reset the card.
    pub fn closed(&self) -> bool {
        self.0.lock().map(|c| c.closed).unwrap_or(true)
    }

    /// Waits up to `bound` for the connection to be closed; false if it was not by then.
    pub async fn closed_within(&self, bound: Duration) -> bool {
        let until = tokio::time::Instant::now() + bound;
        while !self.closed() {
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        true
    }

    pub(crate) fn close(&self) {
        if let Ok(mut c) = self.0.lock() {
            c.closed = true;
        }
    }

    /// Runs one PC/SC call, watched: pending while it runs, counted in `longest` once done.
    pub(crate) fn around<T>(&self, call: impl FnOnce() -> T) -> T {
        self.begin();
        let result = call();
        self.end();
        result
    }

    fn begin(&self) {
        if let Ok(mut c) = self.0.lock() {
            c.since = Some(std::time::Instant::now());
        }
    }

    fn end(&self) {
        if let Ok(mut c) = self.0.lock() {
            let took = c.since.take().map(|t| t.elapsed()).unwrap_or_default();
            c.longest = c.longest.max(took);
        }
    }
}

type Request = (Job, tokio::sync::oneshot::Sender<Result<Vec<u8>, PcscError>>);

enum Job {
    Transmit(Vec<u8>),
    Reset,
    Atr,
}

impl CardWorker {
    /// Connects to `reader` (on the worker thread) and keeps the connection there.
    pub async fn connect(reader: &str) -> Result<CardWorker, PcscError> {
        let (requests, inbox) = std::sync::mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let name = reader.to_owned();
        let pending = CallWatch::default();
        let watch = pending.clone();
        std::thread::Builder::new()
            .name(format!("pcsc:{reader}"))
            .spawn(move || {
                let mut readers = Readers::new();
                let mut card = match readers.connect(&name) {
                    Ok(card) => {
                        let _ = ready_tx.send(Ok(()));
                        card
                    }
                    Err(e) => {
                        watch.close();
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                for (job, reply) in inbox {
                    let result = watch.around(|| match job {
                        Job::Transmit(apdu) => card.transmit(&apdu),
                        Job::Reset => card.reset().map(|()| Vec::new()),
                        Job::Atr => card.atr(),
                    });
                    let _ = reply.send(result);
                }
                drop(card);
                watch.close();
            })
            .map_err(|_| PcscError::WorkerGone { reader: reader.to_owned() })?;
        ready_rx.await.map_err(|_| PcscError::WorkerGone { reader: reader.to_owned() })??;
        Ok(CardWorker { reader: reader.to_owned(), requests, pending })
    }

    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// A handle that tells, from anywhere, how long the call under way has been waiting.
    pub fn call_watch(&self) -> CallWatch {
        self.pending.clone()
    }

    async fn ask(&self, job: Job, what: &'static str, timeout: Duration) -> Result<Vec<u8>, PcscError> {
        let gone = || PcscError::WorkerGone { reader: self.reader.clone() };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.requests.send((job, tx)).map_err(|_| gone())?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(reply) => reply.map_err(|_| gone())?,
            Err(_) => Err(PcscError::Timeout { reader: self.reader.clone(), what, waited: timeout }),
        }
    }

    /// Sends one APDU; a reader that does not answer within `timeout` is an error, not a hang.
    pub async fn transmit(&self, apdu: &[u8], timeout: Duration) -> Result<Vec<u8>, PcscError> {
        self.ask(Job::Transmit(apdu.to_vec()), "transmit", timeout).await
    }

    pub async fn reset(&self, timeout: Duration) -> Result<(), PcscError> {
        self.ask(Job::Reset, "reset", timeout).await.map(|_| ())
    }

    pub async fn atr(&self, timeout: Duration) -> Result<Vec<u8>, PcscError> {
        self.ask(Job::Atr, "status", timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_published_iccid_and_imsi() {
        // usim-apdu.md: 988812010000400310f0 = 8988211000000430010,
        // 082926101160845740 = 262011106487504.
        let iccid = [0x98, 0x88, 0x12, 0x01, 0x00, 0x00, 0x40, 0x03, 0x10, 0xF0];
        assert_eq!(decode_iccid(&iccid), "8988211000000430010");
        let imsi = [0x08, 0x29, 0x26, 0x10, 0x11, 0x60, 0x84, 0x57, 0x40];
        assert_eq!(decode_imsi(&imsi).as_deref(), Some("262011106487504"));
    }

    #[test]
    fn finds_aid_inside_application_template() {
        let record =
            [0x61, 0x0B, 0x4F, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0x50, 0x00, 0xFF, 0xFF];
        assert_eq!(find_tlv(&record, 0x4F), Some(&[0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02][..]));
    }
}
