//! Unsolicited result codes and the ports they go to. Every port has its own settings (echo,
//! `+CMEE`, `+CREG`/`+CGREG`/`+CEREG` n, `+CGEREP`, `+QSIMSTAT`, and the TE-side formats:
//! `+COPS` format, `+CSCS`, `+CMGF`, `+CNMI`, `+CSMP`), so a URC is rendered per port. Everything a port sends — echo, responses, URCs — goes through one queue of complete
//! chunks, so a URC can only ever land between lines.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::mpsc;

use super::at_stream::framed;
use super::text::Charset;

/// How many chunks may wait for a port whose reader has stopped reading; beyond that they are
/// dropped, as a serial port without flow control drops them.
pub const PORT_QUEUE: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSettings {
    pub echo: bool,
    pub cmee: u8,
    pub creg: u8,
    pub cgreg: u8,
    pub cereg: u8,
    pub cgerep: bool,
    pub qsimstat: bool,
    /// `AT+COPS=3,<format>`: how `AT+COPS?` names the operator (0 long, 1 short, 2 numeric).
    pub cops_format: u8,
    /// `AT+CSCS`: the TE character set of text parameters.
    pub cscs: Charset,
    /// `AT+CMGF`: 0 PDU mode, 1 text mode.
    pub cmgf: u8,
    /// `AT+CNMI=<mode>,<mt>,<bm>,<ds>,<bfr>`.
    pub cnmi: [u8; 5],
    /// `AT+CSMP=<fo>,<vp>,<pid>,<dcs>` (text mode).
    pub csmp: [u8; 4],
}

impl Default for PortSettings {
    fn default() -> Self {
        PortSettings {
            echo: true,
            cmee: 1,
            creg: 0,
            cgreg: 0,
            cereg: 0,
            cgerep: false,
            qsimstat: false,
            // Numeric, so that `AT+COPS?` names the PLMN without a `+COPS=3,2` first.
            cops_format: 2,
            cscs: Charset::Gsm,
            cmgf: 0,
            cnmi: [2, 1, 0, 0, 0],
            csmp: [17, 167, 0, 0],
        }
    }
}

/// What the rest of the modem holds of one AT port.
pub struct PortLink {
    pub id: usize,
    settings: Mutex<PortSettings>,
    out: mpsc::Sender<Vec<u8>>,
}

impl PortLink {
    pub fn new(id: usize, out: mpsc::Sender<Vec<u8>>) -> PortLink {
        PortLink { id, settings: Mutex::new(PortSettings::default()), out }
    }

    pub fn settings(&self) -> PortSettings {
        *self.lock()
    }

    pub fn update(&self, change: impl FnOnce(&mut PortSettings)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, PortSettings> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues one complete chunk for the port. A full queue (its reader stopped reading) drops
    /// the chunk with a warning; a closed one only means the modem is stopping (its writer
    /// task ends only then), and what the stop itself causes (`+CPIN: NOT READY` as the bridges
    /// go) has nowhere to go and needs no warning.
    pub fn send(&self, chunk: Vec<u8>) {
        match self.out.try_send(chunk) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(port = self.id, "AT port output dropped: the port's queue is full");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!(port = self.id, "AT port output dropped: the modem is stopping");
            }
        }
    }

    /// Queues URC lines, as one chunk.
    pub fn send_lines(&self, lines: &[String]) {
        if !lines.is_empty() {
            self.send(lines.iter().flat_map(|l| framed(l)).collect());
        }
    }
}

/// The registration state as URCs and `AT+CEREG?` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegView {
    pub stat: u8,
    /// Tracking/location area code, cell id and access technology, while registered.
    pub location: Option<(u16, u32, u8)>,
    /// EMM cause of the last reject, while denied.
    pub cause: Option<u8>,
}

impl RegView {
    /// The part after `+CEREG: ` for setting `n` (URC form; the read form puts `n,` first).
    pub fn body(&self, n: u8) -> String {
        match (n, self.location, self.cause) {
            (2.., Some((tac, ci, act)), _) => format!("{},\"{tac:04X}\",\"{ci:08X}\",{act}", self.stat),
            (3, None, Some(cause)) => format!("{},,,,0,{cause}", self.stat),
            _ => self.stat.to_string(),
        }
    }
}

/// One unsolicited event, before it is rendered for a port.
#[derive(Debug, Clone)]
pub enum Urc {
    /// `+CREG:` / `+CGREG:` / `+CEREG:`, each to the ports that enabled it.
    Reg(RegView),
    /// `+CPIN: <text>` to every port.
    Cpin(&'static str),
    /// `+QSIMSTAT: 1,<inserted>` to ports with `AT+QSIMSTAT=1`.
    SimStat(bool),
    /// `+CGEV: <text>` to ports with `+CGEREP` on.
    Cgev(&'static str),
}

impl Urc {
    fn render(&self, s: &PortSettings) -> Vec<String> {
        match self {
            Urc::Reg(view) => [("+CREG", s.creg), ("+CGREG", s.cgreg), ("+CEREG", s.cereg)]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(name, n)| format!("{name}: {}", view.body(n)))
                .collect(),
            Urc::Cpin(text) => vec![format!("+CPIN: {text}")],
            Urc::SimStat(inserted) if s.qsimstat => vec![format!("+QSIMSTAT: 1,{}", u8::from(*inserted))],
            Urc::Cgev(text) if s.cgerep => vec![format!("+CGEV: {text}")],
            Urc::SimStat(_) | Urc::Cgev(_) => Vec::new(),
        }
    }
}

/// Every port of the modem, for URCs.
pub struct UrcHub {
    ports: Vec<std::sync::Arc<PortLink>>,
}

impl UrcHub {
    pub fn new(ports: Vec<std::sync::Arc<PortLink>>) -> UrcHub {
        UrcHub { ports }
    }

    /// Sends `urc` to every port that enabled it.
    pub fn broadcast(&self, urc: &Urc) {
        for port in &self.ports {
            port.send_lines(&urc.render(&port.settings()));
        }
    }

    /// Sends lines to one port (`+QIOPEN`, `+QIURC`, `+QPING`: the issuing port's).
    pub fn to_port(&self, id: usize, lines: &[String]) {
        if let Some(port) = self.ports.get(id) {
            port.send_lines(lines);
        }
    }

    /// Sends a raw chunk to one port (a `+QIURC: "recv"` line with its payload).
    pub fn raw_to_port(&self, id: usize, chunk: Vec<u8>) {
        if let Some(port) = self.ports.get(id) {
            port.send(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_forms_per_n() {
        let home = RegView { stat: 1, location: Some((0x1A2B, 0x0123_4567, 7)), cause: None };
        assert_eq!(home.body(1), "1");
        assert_eq!(home.body(2), "1,\"1A2B\",\"01234567\",7");
        let denied = RegView { stat: 3, location: None, cause: Some(15) };
        assert_eq!(denied.body(2), "3");
        assert_eq!(denied.body(3), "3,,,,0,15");
    }

    #[test]
    fn urcs_go_only_where_enabled() {
        let s = PortSettings { cereg: 1, cgreg: 2, ..PortSettings::default() };
        let view = RegView { stat: 2, ..RegView::default() };
        assert_eq!(Urc::Reg(view).render(&s), vec!["+CGREG: 2", "+CEREG: 2"]);
        assert!(Urc::SimStat(true).render(&s).is_empty());
        assert_eq!(Urc::Cpin("READY").render(&s), vec!["+CPIN: READY"]);
    }
}
