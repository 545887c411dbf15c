//! The firmware's console: one JSON object per line out (the protocol in [`crate::console`]),
//! one command per line in.

use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::config::ConsolePath;
pub use crate::console::{Event, RankEntry, Stamped, Status, WeightsJson};
use crate::model::Weights;

/// A console command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Start,
    /// Stop, deregister, back to the boot state.
    Reset,
    Weights(Weights),
    Status,
}

pub fn parse_command(line: &str) -> Result<Command, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["start"] => Ok(Command::Start),
        ["reset"] => Ok(Command::Reset),
        ["status"] => Ok(Command::Status),
        ["weights", a, b] => {
            let num = |s: &str| s.parse::<f64>().map_err(|_| format!("weights: \"{s}\" is not a number"));
            super::config::validate_weights(num(a)?, num(b)?)
                .map(Command::Weights)
                .map_err(|e| format!("weights: {e}"))
        }
        _ => Err(format!("unknown command \"{}\"; use start, reset, weights A B or status", line.trim())),
    }
}

/// Writes events. Cheap to call from anywhere: lines go through a channel to a writer task.
pub struct Console {
    tx: Option<mpsc::UnboundedSender<String>>,
    clock: Clock,
    writer: Option<JoinHandle<()>>,
}

/// Console commands as they arrive; a line that is no command comes as `Err(reason)`.
pub type Commands = mpsc::UnboundedReceiver<Result<Command, String>>;

impl Console {
    /// Opens the console device (like a serial port) or stdio. Needs a tokio runtime.
    pub fn open(path: &ConsolePath, clock: Clock) -> std::io::Result<(Console, Commands)> {
        match path {
            ConsolePath::Stdio => Ok(Console::stdio(clock)),
            ConsolePath::Device(p) => {
                let (rd, wr) = tokio::io::split(open_device(p)?);
                Ok(Console::new(rd, wr, clock))
            }
        }
    }

    pub fn new<R, W>(rd: R, wr: W, clock: Clock) -> (Console, Commands)
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(wr, rx));
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        tokio::spawn(read_loop(rd, cmd_tx));
        (Console { tx: Some(tx), clock, writer: Some(writer) }, cmd_rx)
    }

    /// Standard input and output, served by blocking threads (they are not always pollable:
    /// a file or a terminal as often as a pipe).
    fn stdio(clock: Clock) -> (Console, Commands) {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let writer = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            while let Some(line) = rx.blocking_recv() {
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
        });
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        // A plain thread: a blocking task reading stdin would hold up the runtime's shutdown.
        std::thread::spawn(move || {
            for line in std::io::stdin().lines().map_while(Result::ok) {
                let line = line.trim();
                if !line.is_empty() && cmd_tx.send(parse_command(line)).is_err() {
                    return;
                }
            }
        });
        (Console { tx: Some(tx), clock, writer: Some(writer) }, cmd_rx)
    }

    /// Stamps `event` with the firmware's nominal time and writes it.
    pub fn emit(&self, event: Event) {
        let line =
            serde_json::to_string(&Stamped { t_ms: self.clock.now_ms(), event }).expect("events serialize");
        if let Some(tx) = &self.tx {
            let _ = tx.send(line);
        }
    }

    /// Writes out every line emitted so far.
    pub async fn close(mut self) {
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.await;
        }
    }
}

fn open_device(path: &Path) -> std::io::Result<tokio_serial::SerialStream> {
    use tokio_serial::SerialPortBuilderExt;
    tokio_serial::new(path.to_string_lossy(), 115_200)
        .open_native_async()
        .map_err(|e| std::io::Error::other(format!("cannot open the console {}: {e}", path.display())))
}

async fn write_loop<W: AsyncWrite + Unpin>(mut wr: W, mut rx: mpsc::UnboundedReceiver<String>) {
    while let Some(mut line) = rx.recv().await {
        line.push('\n');
        if wr.write_all(line.as_bytes()).await.is_err() || wr.flush().await.is_err() {
            // Nobody is listening any more; the firmware carries on regardless.
            return;
        }
    }
}

async fn read_loop<R: AsyncRead + Unpin>(rd: R, tx: mpsc::UnboundedSender<Result<Command, String>>) {
    let mut lines = BufReader::new(rd).lines();
    // A PTY whose other end closed reads as an error: the end of the console either way.
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim();
        if !line.is_empty() && tx.send(parse_command(line)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::{MeasuredCell, Role};
    use crate::model::Rat;
    use crate::clock::TimeScale;

    #[test]
    fn commands_parse_and_bad_ones_say_why() {
        assert_eq!(parse_command("start"), Ok(Command::Start));
        assert_eq!(parse_command(" reset "), Ok(Command::Reset));
        assert_eq!(
            parse_command("weights 0.7 0.3"),
            Ok(Command::Weights(Weights { signal: 0.7, tariff: 0.3 }))
        );
        assert!(parse_command("weights 0 0").unwrap_err().contains("both 0"));
        assert!(parse_command("weights x 1").unwrap_err().contains("\"x\""));
        assert!(parse_command("go").unwrap_err().contains("unknown command \"go\""));
    }

    #[test]
    fn events_are_flat_json_with_event_and_t_ms() {
        let line = serde_json::to_string(&Stamped {
            t_ms: 1250,
            event: Event::Measure {
                cells: vec![MeasuredCell { plmn: "26201".into(), rat: Rat::Lte, dbm: -71.0 }],
            },
        })
        .unwrap();
        assert_eq!(
            line,
            r#"{"t_ms":1250,"event":"measure","cells":[{"plmn":"26201","rat":"lte","dbm":-71}]}"#
        );
        let back: Stamped = serde_json::from_str(&line).unwrap();
        assert!(matches!(back.event, Event::Measure { ref cells } if cells[0].rat == Rat::Lte));
        let attempt =
            Event::Attempt { slot: 0, iccid: "8949".into(), role: Role::Master, index: None, pass: 1 };
        let json = serde_json::to_value(&attempt).unwrap();
        assert_eq!(json["role"], "master");
        assert!(json["index"].is_null());
    }

    #[tokio::test]
    async fn lines_in_commands_out() {
        let (ours, theirs) = tokio::io::duplex(1024);
        let (rd, wr) = tokio::io::split(ours);
        let (their_rd, mut their_wr) = tokio::io::split(theirs);
        let (console, mut cmds) = Console::new(rd, wr, Clock::start(TimeScale::new(0.5)));
        their_wr.write_all(b"status\r\nweights 1\n").await.unwrap();
        assert_eq!(cmds.recv().await.unwrap(), Ok(Command::Status));
        assert!(cmds.recv().await.unwrap().is_err());
        console.emit(Event::Exhausted { pass: 2 });
        console.close().await;
        let mut out = String::new();
        BufReader::new(their_rd).read_line(&mut out).await.unwrap();
        assert!(out.ends_with(",\"event\":\"exhausted\",\"pass\":2}\n"), "{out}");
    }
}
