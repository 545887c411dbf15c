//! The rig's side of the DUT console: bytes in, events out, each stamped on the rig's clock
//! when its line arrived.
//!
//! Two ways to read a line: as a JSON event (the protocol of this module's parent, what the
//! reference firmware prints), or — for a firmware that prints its own log lines — through a
//! lab bench's table of regular expressions, each standing for one event. Lines that are no
//! event are kept as noise, for the timeline.

use std::time::Duration;

use regex::Regex;

use super::{Event, Stamped, Status};
use crate::model::{ConsoleFormat, EventPattern, PatternEvent};

/// One console event as the rig received it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleEvent {
    /// Rig clock when the line arrived.
    pub at: Duration,
    pub event: Event,
}

/// How lines become events.
enum Decoder {
    Json,
    Patterns(Vec<(PatternEvent, Regex, Option<bool>)>),
}

/// Splits console bytes into lines and lines into events.
pub struct ConsoleReader {
    decoder: Decoder,
    pending: String,
    /// When the first bytes of `pending` arrived.
    pending_at: Duration,
    pub events: Vec<ConsoleEvent>,
    pub noise: Vec<(Duration, String)>,
    /// Every line as received (without its line end; blank lines left out), event or not, in
    /// order: the console's log beside the scenario's page.
    pub lines: Vec<(Duration, String)>,
    /// Lines that name an event the rig knows but lack a field it reads or have one of the
    /// wrong type: the line, and what is wrong with it. Shown, never dropped in silence.
    pub malformed: Vec<(Duration, String)>,
}

impl Default for ConsoleReader {
    fn default() -> Self {
        ConsoleReader {
            decoder: Decoder::Json,
            pending: String::new(),
            pending_at: Duration::ZERO,
            events: Vec::new(),
            noise: Vec::new(),
            lines: Vec::new(),
            malformed: Vec::new(),
        }
    }
}

impl ConsoleReader {
    /// A reader for `format`. The rig file's patterns were validated when it was loaded; one
    /// that does not compile here is an error naming it.
    pub fn new(format: &ConsoleFormat) -> Result<ConsoleReader, String> {
        let decoder = match format {
            ConsoleFormat::Json => Decoder::Json,
            ConsoleFormat::Patterns(patterns) => {
                Decoder::Patterns(patterns.iter().map(compile).collect::<Result<Vec<_>, String>>()?)
            }
        };
        Ok(ConsoleReader { decoder, ..ConsoleReader::default() })
    }

    pub fn push(&mut self, at: Duration, bytes: &[u8]) {
        if self.pending.is_empty() {
            self.pending_at = at;
        }
        self.pending.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            self.pending_at = at;
            let received = line.trim_end_matches(['\n', '\r']);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            self.lines.push((at, received.to_owned()));
            match self.decode(line) {
                Ok(event) => self.events.push(ConsoleEvent { at, event }),
                Err(Some(why)) => {
                    self.noise.push((at, line.to_owned()));
                    self.malformed.push((at, format!("{line} ({why})")));
                }
                Err(None) => self.noise.push((at, line.to_owned())),
            }
        }
    }

    /// The event on `line`; `Err(Some(why))` for a JSON line that names a known event but is
    /// not one, `Err(None)` for any other line (noise).
    fn decode(&self, line: &str) -> Result<Event, Option<String>> {
        match &self.decoder {
            Decoder::Json => match serde_json::from_str::<Stamped>(line) {
                Ok(s) => Ok(s.event),
                Err(e) => {
                    Err(known_event(line).map(|name| format!("a `{name}` event the rig cannot read: {e}")))
                }
            },
            Decoder::Patterns(patterns) => patterns
                .iter()
                .find_map(|(event, re, explicit)| from_match(*event, re, *explicit, line))
                .ok_or(None),
        }
    }

    /// The last bytes received that no line end has closed yet (a DUT that died mid-line), with
    /// when they began to arrive; `None` when there are none but blanks.
    pub fn unterminated(&self) -> Option<(Duration, &str)> {
        let rest = self.pending.trim_end_matches(['\n', '\r']);
        (!rest.trim().is_empty()).then_some((self.pending_at, rest))
    }

    pub fn any(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|e| pred(&e.event))
    }
}

/// The console events the rig reads, by their `event` names.
const KNOWN_EVENTS: &[&str] = &[
    "boot",
    "measure",
    "rank",
    "attempt",
    "judged",
    "connected",
    "report_sent",
    "vsim_assigned",
    "exhausted",
    "status",
    "error",
];

/// The `event` of a JSON object line, if it is one the rig knows.
fn known_event(line: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let name = value.get("event")?.as_str()?;
    KNOWN_EVENTS.contains(&name).then(|| name.to_owned())
}

fn compile(p: &EventPattern) -> Result<(PatternEvent, Regex, Option<bool>), String> {
    Regex::new(&p.regex)
        .map(|re| (p.event, re, p.explicit))
        .map_err(|e| format!("console pattern for `{}` does not compile: {e}", p.event.name()))
}

/// The event a matching log line stands for. Fields a pattern does not capture are filled with
/// what the checks never read from them (`iccid` is the slot's, known to the rig anyway).
fn from_match(kind: PatternEvent, re: &Regex, explicit: Option<bool>, line: &str) -> Option<Event> {
    let caps = re.captures(line)?;
    let text = |name: &str| caps.name(name).map(|m| m.as_str().to_owned());
    let slot = || text("slot").and_then(|s| s.trim().parse::<u8>().ok());
    let pass = text("pass").and_then(|s| s.parse().ok()).unwrap_or(1);
    Some(match kind {
        PatternEvent::Boot => Event::Boot { fault: None },
        PatternEvent::Attempt => Event::Attempt {
            slot: slot()?,
            iccid: text("iccid").unwrap_or_default(),
            role: if text("role").as_deref() == Some("master") {
                super::Role::Master
            } else {
                super::Role::Standby
            },
            index: text("index").and_then(|s| s.parse().ok()),
            pass,
        },
        PatternEvent::Judged => Event::Judged {
            slot: slot()?,
            iccid: text("iccid").unwrap_or_default(),
            ok: false,
            reason: text("reason").unwrap_or_default(),
            explicit: match text("explicit").as_deref() {
                Some("true") => true,
                Some("false") => false,
                _ => explicit.unwrap_or(true),
            },
        },
        PatternEvent::Connected => Event::Connected {
            slot: slot()?,
            iccid: text("iccid").unwrap_or_default(),
            imsi: text("imsi").unwrap_or_default(),
            plmn: text("plmn"),
            rat: text("rat"),
        },
        PatternEvent::Exhausted => Event::Exhausted { pass },
        PatternEvent::Vsim => Event::VsimAssigned {
            slot: slot()?,
            vsim_iccid: text("vsim_iccid").unwrap_or_default(),
            vsim_imsi: text("vsim_imsi").unwrap_or_default(),
        },
        PatternEvent::Status => Event::Status(Status {
            state: text("state").unwrap_or_default(),
            pass,
            slot: slot(),
            iccid: text("iccid"),
            step: None,
            weights: None,
            judgement: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(event: PatternEvent, regex: &str) -> EventPattern {
        EventPattern { event, regex: regex.into(), explicit: None }
    }

    #[test]
    fn json_lines_become_events_and_the_rest_is_noise() {
        let mut r = ConsoleReader::default();
        r.push(
            Duration::from_millis(5),
            b"{\"t_ms\":1,\"event\":\"exhausted\",\"pass\":1}\nhello\n{\"t_ms\"",
        );
        r.push(Duration::from_millis(7), b":2,\"event\":\"boot\"}\n");
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.events[0].event, Event::Exhausted { pass: 1 });
        assert_eq!(r.events[1].at, Duration::from_millis(7));
        assert_eq!(r.noise, vec![(Duration::from_millis(5), "hello".to_owned())]);
    }

    #[test]
    fn every_line_is_kept_as_received_events_and_noise_alike() {
        let mut r = ConsoleReader::default();
        r.push(Duration::from_millis(5), b"{\"t_ms\":1,\"event\":\"boot\"}\r\n  indented noise \r\n\r\n");
        r.push(Duration::from_millis(9), b"last\n");
        let lines: Vec<(u64, &str)> =
            r.lines.iter().map(|(at, l)| (at.as_millis() as u64, l.as_str())).collect();
        assert_eq!(lines, [(5, "{\"t_ms\":1,\"event\":\"boot\"}"), (5, "  indented noise "), (9, "last")]);
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.unterminated(), None);
        r.push(Duration::from_millis(11), b"panic: ");
        r.push(Duration::from_millis(12), b"oh no");
        assert_eq!(r.unterminated(), Some((Duration::from_millis(11), "panic: oh no")));
    }

    #[test]
    fn log_lines_become_events_through_patterns() {
        let format = ConsoleFormat::Patterns(vec![
            pattern(PatternEvent::Boot, r"^failoverd starting"),
            pattern(PatternEvent::Attempt, r"trying slot (?P<slot>\d+) as (?P<role>master|standby)"),
            EventPattern {
                event: PatternEvent::Judged,
                regex: r"slot (?P<slot>\d+) failed: (?P<reason>.+?)(?: \((?P<explicit>true|false)\))?$"
                    .into(),
                explicit: Some(false),
            },
            pattern(PatternEvent::Connected, r"online via slot (?P<slot>\d+)"),
        ]);
        let mut r = ConsoleReader::new(&format).unwrap();
        let log = "failoverd starting v2\ntrying slot 0 as master\nslot 0 failed: reject 15 (true)\n\
                   trying slot 2 as standby\nslot 2 failed: timeout\nonline via slot 1\nunrelated\n";
        r.push(Duration::ZERO, log.as_bytes());
        let kinds: Vec<&Event> = r.events.iter().map(|e| &e.event).collect();
        assert!(matches!(kinds[0], Event::Boot { .. }));
        assert!(matches!(
            kinds[1],
            Event::Attempt { slot: 0, role: super::super::Role::Master, pass: 1, .. }
        ));
        assert!(
            matches!(kinds[2], Event::Judged { slot: 0, explicit: true, reason, .. } if reason == "reject 15")
        );
        assert!(matches!(kinds[4], Event::Judged { slot: 2, explicit: false, .. }));
        assert!(matches!(kinds[5], Event::Connected { slot: 1, .. }));
        assert_eq!(r.noise.len(), 1);
    }

    #[test]
    fn a_pattern_match_without_a_readable_slot_is_noise() {
        let format =
            ConsoleFormat::Patterns(vec![pattern(PatternEvent::Attempt, r"trying slot (?P<slot>\w+)")]);
        let mut r = ConsoleReader::new(&format).unwrap();
        r.push(Duration::ZERO, b"trying slot x\n");
        assert!(r.events.is_empty());
    }

    #[test]
    fn a_broken_pattern_is_an_error_naming_its_event() {
        let format = ConsoleFormat::Patterns(vec![pattern(PatternEvent::Connected, "(")]);
        let err = ConsoleReader::new(&format).err().unwrap();
        assert!(err.contains("`connected`"), "{err}");
    }
}
