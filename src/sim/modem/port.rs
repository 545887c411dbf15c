//! One AT port: a reader task that executes one command at a time (input waits in the PTY
//! while a command runs, as on a real module), and a writer task that sends complete chunks.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::Shared;
use super::at_stream::{End, Input, LineReader, Reply};
use super::urc::PortLink;
use super::{commands, data, sms};
use crate::sim::pty::Pty;

/// A read error (there should be none: the PTY keeps its slave open) is retried after this.
const READ_RETRY: Duration = Duration::from_millis(50);

/// The command-executing side of a port.
pub struct Port {
    pub id: usize,
    pub link: Arc<PortLink>,
    pub shared: Arc<Shared>,
    /// `AT+QISEND` waiting for its payload: socket id and length.
    pub sending: Option<(u8, usize)>,
    /// `AT+CMGS` waiting for its message.
    pub composing: Option<sms::Draft>,
}

pub fn launch(shared: &Arc<Shared>, link: Arc<PortLink>, out: mpsc::Receiver<Vec<u8>>, pty: Pty) {
    let pty = Arc::new(pty);
    shared.spawn(write_loop(pty.clone(), out));
    let port = Port { id: link.id, link, shared: shared.clone(), sending: None, composing: None };
    shared.spawn(read_loop(port, pty));
}

async fn write_loop(pty: Arc<Pty>, mut out: mpsc::Receiver<Vec<u8>>) {
    while let Some(chunk) = out.recv().await {
        if let Err(e) = pty.write_all(&chunk).await {
            tracing::warn!(port = %pty.path().display(), "AT port write failed: {e}");
        }
    }
}

async fn read_loop(mut port: Port, pty: Arc<Pty>) {
    let mut reader = LineReader::new();
    let mut buf = vec![0u8; 1024];
    loop {
        while let Some(input) = reader.next_input() {
            port.on_input(input, &mut reader).await;
        }
        match pty.read(&mut buf).await {
            Ok(n) if n > 0 => reader.push(&buf[..n]),
            Ok(_) => tokio::time::sleep(READ_RETRY).await,
            Err(e) => {
                tracing::debug!(port = %pty.path().display(), "AT port read failed: {e}");
                tokio::time::sleep(READ_RETRY).await;
            }
        }
    }
}

impl Port {
    async fn on_input(&mut self, input: Input, reader: &mut LineReader) {
        let reply = match input {
            Input::Line { text, term } => {
                self.shared.heard_command(self.id);
                self.echo(&text, term);
                commands::execute(self, &text).await
            }
            Input::Overflow { .. } => Reply::error(),
            Input::Payload(bytes) => data::payload(self, bytes),
            Input::Message { body, send } => sms::submit(self, body, send).await,
        };
        if reply.end == End::Prompt {
            if let Some((_, len)) = self.sending {
                reader.expect_payload(len);
            } else if self.composing.is_some() {
                reader.expect_message();
            }
        }
        self.respond(reply);
    }

    /// The whole line at once when it is complete: a URC never lands inside an echo.
    fn echo(&self, text: &str, term: u8) {
        if self.link.settings().echo {
            let mut bytes = text.as_bytes().to_vec();
            bytes.push(term);
            self.link.send(bytes);
        }
    }

    /// Queues the response, then runs what had to wait for it (URCs that follow `OK`).
    fn respond(&self, reply: Reply) {
        self.link.send(reply.render(self.link.settings().cmee));
        for after in reply.after {
            after();
        }
    }
}
