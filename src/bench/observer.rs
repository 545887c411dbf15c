//! The observer: an AT port the rig watches for the modem's unsolicited results (the DUT
//! modem's second port, or a reference modem of the bench). It is opened like any serial port,
//! told to report registration, PDP and SIM events, and every line it prints afterwards is
//! recorded on the rig clock, as printed.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::task::JoinHandle;

use super::error::{BenchError, Port, PortCause};
use crate::clock::RigClock;

/// The URC reports the observer turns on. A modem that does not know one (`ERROR`) is still
/// watched for the others.
const SETUP: &[&str] = &["ATE0", "AT+CEREG=2", "AT+CGEREP=2,1", "AT+QSIMSTAT=1"];
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

pub type Urcs = Arc<Mutex<Vec<(Duration, String)>>>;

/// A watched observer port; the watch ends when it is dropped or the port closes.
pub struct Observer {
    pub urcs: Urcs,
    /// The median round trip of `AT` → `OK` (of an odd number of pings: the middle one), where
    /// it was measured at set-up.
    pub at_exchange: Option<Duration>,
    task: JoinHandle<()>,
}

impl Observer {
    /// Opens `port` (waiting up to `hotplug_wait` for it to appear), sets the reports up,
    /// times `pings` bare `AT` exchanges (none on a real modem, whose time is not scaled), and
    /// starts recording. Errors name the port (`observer port`).
    pub async fn watch(
        port: &Path,
        baud: u32,
        clock: RigClock,
        hotplug_wait: Duration,
        pings: usize,
    ) -> Result<Observer, BenchError> {
        let error = |cause| BenchError::SerialPort { port: Port::Observer, path: port.to_owned(), cause };
        let stream = super::serial::open(Port::Observer, port, baud, hotplug_wait).await?;
        let (rd, mut wr) = tokio::io::split(stream);
        let mut lines = BufReader::new(rd).lines();
        let mut round_trips = Vec::with_capacity(pings);
        for cmd in SETUP.iter().chain(std::iter::repeat_n(&"AT", pings)) {
            let sent = std::time::Instant::now();
            wr.write_all(format!("{cmd}\r").as_bytes()).await.map_err(|e| error(PortCause::Io(e)))?;
            let answered = tokio::time::timeout(ANSWER_TIMEOUT, async {
                while let Ok(Some(line)) = lines.next_line().await {
                    if matches!(line.trim(), "OK" | "ERROR") || line.starts_with("+CME ERROR") {
                        return true;
                    }
                }
                false
            })
            .await;
            if !matches!(answered, Ok(true)) {
                return Err(error(PortCause::NoAnswer { command: cmd, within: ANSWER_TIMEOUT }));
            }
            if *cmd == "AT" {
                round_trips.push(sent.elapsed());
            }
        }
        round_trips.sort();
        let at_exchange = round_trips.get(round_trips.len() / 2).copied();
        let urcs: Urcs = Arc::default();
        let seen = urcs.clone();
        let task = tokio::spawn(async move {
            let _keep_open = wr;
            while let Ok(Some(line)) = lines.next_line().await {
                let line = line.trim();
                if !line.is_empty()
                    && let Ok(mut v) = seen.lock()
                {
                    v.push((clock.now(), line.to_owned()));
                }
            }
        });
        Ok(Observer { urcs, at_exchange, task })
    }

    pub fn lines(&self) -> Vec<(Duration, String)> {
        self.urcs.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The port closed or failed (the watch ended on its own).
    pub fn ended(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
