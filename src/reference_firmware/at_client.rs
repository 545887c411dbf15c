//! The AT client: one command at a time, URCs routed to a channel as they arrive.
//!
//! A reader task owns the port's read half. A line belongs to the pending command unless it is
//! a URC the command does not ask for (`AT+CPIN?` asks for `+CPIN:`, `AT+CEREG=3` does not);
//! URCs go to the channel whether or not a command is pending.
//!
//! A command dropped before its final result (the attempt's deadline fired, or `reset`) is
//! *abandoned*: the modem still answers it, in order, so its final result is swallowed rather
//! than taken for the next command's.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::urc::{self, Final, Item, Splitter, Urc};

/// An abandoned command whose answer has not come by then is taken to be lost.
const ABANDON_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtError {
    #[error("cannot open the modem port {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("{cmd} answered ERROR")]
    Error { cmd: String },
    #[error("{cmd} answered +CME ERROR: {code}")]
    Cme { cmd: String, code: String },
    #[error("{cmd} answered SEND FAIL")]
    SendFail { cmd: String },
    #[error("no answer to {cmd} within {ms} ms")]
    Timeout { cmd: String, ms: u128 },
    #[error("the modem port closed")]
    Closed,
    #[error("writing to the modem: {0}")]
    Write(String),
}

impl AtError {
    /// The modem answered: a definite failure of this command, not of the bench.
    pub fn is_answer(&self) -> bool {
        matches!(self, AtError::Error { .. } | AtError::Cme { .. } | AtError::SendFail { .. })
    }
}

type Answer = Result<Vec<String>, Final>;

struct Pending {
    echo: String,
    /// Lines starting with this belong to the command even though they look like URCs.
    prefix: Option<String>,
    lines: Vec<String>,
    prompt: Option<oneshot::Sender<()>>,
    done: Option<oneshot::Sender<Answer>>,
}

struct Router {
    pending: Option<Pending>,
    abandoned: VecDeque<Instant>,
    /// Each URC goes out with the number of final results seen before it, so a caller can tell
    /// the URCs that came before a command's answer from those that came after.
    urcs: Option<mpsc::UnboundedSender<(u64, Urc)>>,
    finals: u64,
}

pub struct AtClient {
    writer: Box<dyn AsyncWrite + Send + Unpin>,
    router: Arc<Mutex<Router>>,
    urcs: mpsc::UnboundedReceiver<(u64, Urc)>,
    /// URCs that came before this many final results are stale (see `forget_urcs_before_now`).
    fresh_from: u64,
    reader: JoinHandle<()>,
}

impl Drop for AtClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl AtClient {
    /// Opens a serial device (or a PTY slave) by path. Needs a tokio runtime.
    pub fn open(path: &Path) -> Result<AtClient, AtError> {
        use tokio_serial::SerialPortBuilderExt;
        let stream = tokio_serial::new(path.to_string_lossy(), 115_200)
            .open_native_async()
            .map_err(|e| AtError::Open { path: path.display().to_string(), reason: e.to_string() })?;
        Ok(AtClient::new(stream))
    }

    /// Talks AT over any byte stream (tests use an in-memory duplex).
    pub fn new<S: AsyncRead + AsyncWrite + Send + 'static>(stream: S) -> AtClient {
        let (rd, wr) = tokio::io::split(stream);
        let (tx, rx) = mpsc::unbounded_channel();
        let router = Arc::new(Mutex::new(Router {
            pending: None,
            abandoned: VecDeque::new(),
            urcs: Some(tx),
            finals: 0,
        }));
        let reader = tokio::spawn(read_loop(Box::new(rd), router.clone()));
        AtClient { writer: Box::new(wr), router, urcs: rx, fresh_from: 0, reader }
    }

    /// Sends `cmd` and collects its response lines until the final result.
    pub async fn command(&mut self, cmd: &str, timeout: Option<Duration>) -> Result<Vec<String>, AtError> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let (done, _) = self.begin(cmd, false);
        let _abandon = AbandonOnDrop(self.router.clone());
        self.write(format!("{cmd}\r").as_bytes()).await?;
        finish(cmd, until(deadline, done).await, timeout)
    }

    /// A command that asks for data with the `> ` prompt (`AT+QISEND`): sends `data` on the
    /// prompt and waits for `SEND OK`.
    pub async fn send_data(
        &mut self,
        cmd: &str,
        data: &[u8],
        timeout: Option<Duration>,
    ) -> Result<(), AtError> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let (mut done, prompt) = self.begin(cmd, true);
        let _abandon = AbandonOnDrop(self.router.clone());
        self.write(format!("{cmd}\r").as_bytes()).await?;
        let prompt = prompt.expect("asked for a prompt");
        let prompted = until(deadline, async {
            tokio::select! {
                biased;
                // A final result before the prompt: the modem refused (or the port closed).
                d = &mut done => Err(d),
                Ok(()) = prompt => Ok(()),
            }
        })
        .await;
        match prompted {
            None => return finish(cmd, None, timeout).map(drop),
            Some(Err(answer)) => return finish(cmd, Some(answer), timeout).map(drop),
            Some(Ok(())) => {}
        }
        self.write(data).await?;
        finish(cmd, until(deadline, done).await, timeout).map(drop)
    }

    /// The next URC; `Closed` once the port is gone.
    pub async fn next_urc(&mut self) -> Result<Urc, AtError> {
        loop {
            let (finals, urc) = self.urcs.recv().await.ok_or(AtError::Closed)?;
            if finals >= self.fresh_from {
                return Ok(urc);
            }
            tracing::debug!(?urc, "stale URC dropped: it came before the last command's answer");
        }
    }

    /// Throws away URCs that arrived so far (stale reports of an earlier card).
    pub fn drain_urcs(&mut self) {
        while self.urcs.try_recv().is_ok() {}
    }

    /// From now on, URCs the modem sent before the last command's final result are stale, even
    /// those still on their way: a command's own result comes before the URCs it causes, so
    /// what came earlier (a failing card's `+CPIN: NOT READY` after a slot switch, say) is about
    /// the state before it.
    pub fn forget_urcs_before_last_answer(&mut self) {
        self.fresh_from = self.router.lock().map(|r| r.finals).unwrap_or(self.fresh_from);
    }

    fn begin(
        &mut self,
        cmd: &str,
        prompt: bool,
    ) -> (oneshot::Receiver<Answer>, Option<oneshot::Receiver<()>>) {
        let (done_tx, done_rx) = oneshot::channel();
        let (prompt_tx, prompt_rx) = if prompt {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        self.router.lock().expect("router lock").pending = Some(Pending {
            echo: cmd.to_owned(),
            prefix: response_prefix(cmd),
            lines: Vec::new(),
            prompt: prompt_tx,
            done: Some(done_tx),
        });
        (done_rx, prompt_rx)
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), AtError> {
        let w = async {
            self.writer.write_all(bytes).await?;
            self.writer.flush().await
        };
        let closed = || self.router.lock().expect("router lock").urcs.is_none();
        match w.await {
            Ok(()) => Ok(()),
            // The reader saw the end first: one failure, named once.
            Err(_) if closed() => Err(AtError::Closed),
            Err(e) => Err(AtError::Write(e.to_string())),
        }
    }
}

/// Moves a still-pending command to the abandoned list when its caller goes away.
struct AbandonOnDrop(Arc<Mutex<Router>>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        let mut r = self.0.lock().expect("router lock");
        if r.pending.take().is_some() {
            r.abandoned.push_back(Instant::now());
        }
    }
}

async fn until<F: Future>(deadline: Option<tokio::time::Instant>, fut: F) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, fut).await.ok(),
        None => Some(fut.await),
    }
}

fn finish(
    cmd: &str,
    got: Option<Result<Answer, oneshot::error::RecvError>>,
    timeout: Option<Duration>,
) -> Result<Vec<String>, AtError> {
    let cmd = cmd.to_owned();
    match got {
        None => Err(AtError::Timeout { cmd, ms: timeout.unwrap_or_default().as_millis() }),
        Some(Err(_)) => Err(AtError::Closed),
        Some(Ok(Ok(lines))) => Ok(lines),
        Some(Ok(Err(Final::Cme(code)))) => Err(AtError::Cme { cmd, code }),
        Some(Ok(Err(Final::SendFail))) => Err(AtError::SendFail { cmd }),
        Some(Ok(Err(_))) => Err(AtError::Error { cmd }),
    }
}

/// The information-response prefix a command may answer with. A set command whose name is a
/// URC (`AT+CEREG=3`, `AT+QIOPEN=…`) answers only `OK`: such lines are URCs.
pub fn response_prefix(cmd: &str) -> Option<String> {
    let body = cmd.get(2..).filter(|_| cmd[..2].eq_ignore_ascii_case("AT"))?;
    if !body.starts_with('+') {
        return None;
    }
    let end = body.find(['=', '?']).unwrap_or(body.len());
    let prefix = format!("{}:", &body[..end]);
    let set = body[end..].starts_with('=') && !body[end..].starts_with("=?");
    (!(set && urc::is_urc(&prefix))).then_some(prefix)
}

async fn read_loop(mut rd: Box<dyn AsyncRead + Send + Unpin>, router: Arc<Mutex<Router>>) {
    let mut splitter = Splitter::default();
    let mut buf = [0u8; 2048];
    // A closed PTY reads as EIO, a closed pipe as 0: both are the end of the port.
    while let Ok(n @ 1..) = rd.read(&mut buf).await {
        let items = splitter.push(&buf[..n]);
        let mut r = router.lock().expect("router lock");
        items.into_iter().for_each(|item| r.route(item));
    }
    let mut r = router.lock().expect("router lock");
    r.pending = None;
    r.urcs = None;
}

impl Router {
    fn route(&mut self, item: Item) {
        match item {
            Item::Prompt => {
                if let Some(tx) = self.pending.as_mut().and_then(|p| p.prompt.take()) {
                    let _ = tx.send(());
                }
            }
            Item::Recv { conn, data } => self.urc(Urc::Recv { conn, data }),
            Item::Line(line) => self.line(line),
        }
    }

    fn line(&mut self, line: String) {
        if let Some(f) = Final::parse(&line) {
            return self.finish(f);
        }
        // Lines before an abandoned command's final result are that command's.
        let pending = if self.abandoned.is_empty() { self.pending.as_mut() } else { None };
        if let Some(p) = pending {
            let asked = p.prefix.as_ref().is_some_and(|pre| line.starts_with(pre.as_str()));
            if line == p.echo {
                return;
            }
            if asked || !urc::is_urc(&line) {
                return p.lines.push(line);
            }
        }
        match urc::parse(&line) {
            Some(u) => self.urc(u),
            None => tracing::debug!(%line, "AT line that answers no command"),
        }
    }

    fn finish(&mut self, f: Final) {
        self.finals += 1;
        let now = Instant::now();
        self.abandoned.retain(|t| now.duration_since(*t) < ABANDON_GRACE);
        if self.abandoned.pop_front().is_some() {
            return;
        }
        match (self.pending.take(), f) {
            (Some(mut p), f) => {
                let answer = if f == Final::Ok { Ok(std::mem::take(&mut p.lines)) } else { Err(f) };
                if let Some(tx) = p.done.take() {
                    let _ = tx.send(answer);
                }
            }
            (None, Final::Cme(code)) => self.urc(Urc::CmeError(code)),
            (None, f) => tracing::debug!(?f, "final result that answers no command"),
        }
    }

    fn urc(&mut self, u: Urc) {
        if let Some(tx) = &self.urcs {
            let _ = tx.send((self.finals, u));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream};

    /// A scripted modem on the other end of an in-memory pipe.
    pub(crate) struct FakeModem {
        rd: BufReader<tokio::io::ReadHalf<DuplexStream>>,
        wr: tokio::io::WriteHalf<DuplexStream>,
    }

    impl FakeModem {
        /// The next command the client sent, without its `\r`.
        pub(crate) async fn expect(&mut self) -> String {
            let mut buf = Vec::new();
            self.rd.read_until(b'\r', &mut buf).await.unwrap();
            String::from_utf8(buf).unwrap().trim_end_matches('\r').to_owned()
        }

        pub(crate) async fn read_exact(&mut self, n: usize) -> Vec<u8> {
            let mut buf = vec![0; n];
            self.rd.read_exact(&mut buf).await.unwrap();
            buf
        }

        pub(crate) async fn say(&mut self, text: &str) {
            self.wr.write_all(text.as_bytes()).await.unwrap();
        }
    }

    pub(crate) fn pair() -> (AtClient, FakeModem) {
        let (a, b) = tokio::io::duplex(4096);
        let (rd, wr) = tokio::io::split(b);
        (AtClient::new(a), FakeModem { rd: BufReader::new(rd), wr })
    }

    const SHORT: Option<Duration> = Some(Duration::from_secs(2));

    #[tokio::test]
    async fn response_lines_urcs_and_echo_are_told_apart() {
        let (mut at, mut m) = pair();
        let modem = async {
            assert_eq!(m.expect().await, "AT+CPIN?");
            m.say("AT+CPIN?\r\r\n+CEREG: 2\r\n\r\n+CPIN: READY\r\n\r\nOK\r\n").await;
        };
        let (got, ()) = tokio::join!(at.command("AT+CPIN?", SHORT), modem);
        assert_eq!(got.unwrap(), vec!["+CPIN: READY"]);
        assert_eq!(at.next_urc().await.unwrap(), Urc::Cereg(urc::Cereg { stat: 2, act: None, reject: None }));
    }

    /// A failing card's report that was on its way when the slot switch was answered must not
    /// be taken for the new card's; the report the switch causes, sent with its OK, counts.
    #[tokio::test]
    async fn urcs_from_before_an_answer_can_be_forgotten_and_those_after_it_are_kept() {
        let (mut at, mut m) = pair();
        let modem = async {
            assert_eq!(m.expect().await, "AT+QUIMSLOT=3");
            m.say("\r\n+CPIN: NOT READY\r\n\r\nOK\r\n\r\n+CPIN: READY\r\n").await;
        };
        let (got, ()) = tokio::join!(at.command("AT+QUIMSLOT=3", SHORT), modem);
        got.unwrap();
        at.forget_urcs_before_last_answer();
        assert_eq!(at.next_urc().await.unwrap(), Urc::Cpin(urc::Cpin::Ready));
    }

    #[tokio::test]
    async fn set_commands_named_like_urcs_leave_them_as_urcs() {
        let (mut at, mut m) = pair();
        let modem = async {
            m.expect().await;
            m.say("\r\n+CEREG: 1\r\n\r\nOK\r\n").await;
        };
        let (got, ()) = tokio::join!(at.command("AT+CEREG=3", SHORT), modem);
        assert_eq!(got.unwrap(), Vec::<String>::new());
        assert!(matches!(at.next_urc().await.unwrap(), Urc::Cereg(c) if c.stat == 1));
    }

    #[tokio::test]
    async fn errors_and_timeouts() {
        let (mut at, mut m) = pair();
        let modem = async {
            m.expect().await;
            m.say("\r\n+CME ERROR: 10\r\n").await;
            m.expect().await;
        };
        let client = async {
            let e1 = at.command("AT+CIMI", SHORT).await;
            let e2 = at.command("AT+QIACT=1", Some(Duration::from_millis(50))).await;
            (e1, e2)
        };
        let ((e1, e2), ()) = tokio::join!(client, modem);
        assert_eq!(e1.unwrap_err(), AtError::Cme { cmd: "AT+CIMI".into(), code: "10".into() });
        assert!(matches!(e2.unwrap_err(), AtError::Timeout { .. }));
    }

    #[tokio::test]
    async fn an_abandoned_commands_late_answer_is_not_taken_for_the_next() {
        let (mut at, mut m) = pair();
        let first = at.command("AT+QIACT=1", Some(Duration::from_millis(30))).await;
        assert!(matches!(first, Err(AtError::Timeout { .. })));
        let modem = async {
            assert_eq!(m.expect().await, "AT+QIACT=1");
            assert_eq!(m.expect().await, "AT+QUIMSLOT=2");
            // QIACT's late ERROR, then QUIMSLOT's own OK.
            m.say("\r\nERROR\r\n\r\nOK\r\n").await;
        };
        let (second, ()) = tokio::join!(at.command("AT+QUIMSLOT=2", SHORT), modem);
        assert_eq!(second, Ok(vec![]));
    }

    #[tokio::test]
    async fn qisend_waits_for_the_prompt_and_recv_payloads_are_urcs() {
        let (mut at, mut m) = pair();
        let modem = async {
            assert_eq!(m.expect().await, "AT+QISEND=0,5");
            m.say("\r\n> ").await;
            assert_eq!(m.read_exact(5).await, b"hello");
            m.say("\r\nSEND OK\r\n\r\n+QIURC: \"recv\",0,3\r\nabc\r\n").await;
        };
        let (sent, ()) = tokio::join!(at.send_data("AT+QISEND=0,5", b"hello", SHORT), modem);
        sent.unwrap();
        assert_eq!(at.next_urc().await.unwrap(), Urc::Recv { conn: 0, data: b"abc".to_vec() });
    }

    #[tokio::test]
    async fn unsolicited_cme_error_is_a_urc_and_a_closed_port_ends_everything() {
        let (mut at, mut m) = pair();
        m.say("\r\n+CME ERROR: 13\r\n").await;
        assert_eq!(at.next_urc().await.unwrap(), Urc::CmeError("13".into()));
        drop(m);
        assert_eq!(at.next_urc().await, Err(AtError::Closed));
        assert_eq!(at.command("AT", SHORT).await, Err(AtError::Closed));
    }

    #[test]
    fn prefixes() {
        assert_eq!(response_prefix("AT+CPIN?").as_deref(), Some("+CPIN:"));
        assert_eq!(response_prefix("AT+QOPS").as_deref(), Some("+QOPS:"));
        assert_eq!(response_prefix("AT+CEREG=3"), None);
        assert_eq!(response_prefix("AT+QIOPEN=1,0,\"TCP\",\"h\",1,0,1"), None);
        assert_eq!(response_prefix("AT+CGPADDR=1").as_deref(), Some("+CGPADDR:"));
        assert_eq!(response_prefix("ATE0"), None);
    }
}
