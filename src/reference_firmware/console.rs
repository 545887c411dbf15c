//! The firmware's console: one event per line out, one command per line in.
//!
//! Events go out as JSON objects (the protocol in [`crate::console`], the default) or, with
//! `--console-format text`, as plain log lines like a real embedded daemon's
//! (`[   12.345] failover: trying slot 0 (master, pass 1), iccid 8988…`). A lab bench reads
//! such lines through a rig file's table of patterns; [`text_patterns`] is that table for
//! these lines, so the pattern path can be exercised against this firmware.

use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::config::ConsolePath;
use super::nominal_clock::Clock;
pub use crate::console::{Event, RankEntry, Role, Stamped, Status, WeightsJson};
use crate::model::{EventPattern, PatternEvent, Weights};

/// How events are written on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line: the rig's console protocol.
    #[default]
    Json,
    /// One human-readable log line per event, timestamped in nominal seconds since boot.
    Text,
}

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
    format: OutputFormat,
    writer: Option<JoinHandle<()>>,
    fault: Option<super::faults::FaultMode>,
}

/// Console commands as they arrive; a line that is no command comes as `Err(reason)`.
pub type Commands = mpsc::UnboundedReceiver<Result<Command, String>>;

impl Console {
    /// Opens the console device (like a serial port) or stdio. Needs a tokio runtime.
    pub fn open(
        path: &ConsolePath,
        clock: Clock,
        format: OutputFormat,
    ) -> std::io::Result<(Console, Commands)> {
        match path {
            ConsolePath::Stdio => Ok(Console::stdio(clock, format)),
            ConsolePath::Device(p) => {
                let (rd, wr) = tokio::io::split(open_device(p)?);
                Ok(Console::new(rd, wr, clock, format))
            }
        }
    }

    pub fn new<R, W>(rd: R, wr: W, clock: Clock, format: OutputFormat) -> (Console, Commands)
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(wr, rx));
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        tokio::spawn(read_loop(rd, cmd_tx));
        (Console { tx: Some(tx), clock, format, writer: Some(writer), fault: None }, cmd_rx)
    }

    /// Standard input and output, served by blocking threads (they are not always pollable:
    /// a file or a terminal as often as a pipe).
    fn stdio(clock: Clock, format: OutputFormat) -> (Console, Commands) {
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
        (Console { tx: Some(tx), clock, format, writer: Some(writer), fault: None }, cmd_rx)
    }

    /// The self-test fault whose console this is (`silent-console` prints little).
    pub fn with_fault(mut self, fault: Option<super::faults::FaultMode>) -> Console {
        self.fault = fault;
        self
    }

    /// Stamps `event` with the firmware's nominal time and writes it.
    pub fn emit(&self, event: Event) {
        if !super::faults::prints(self.fault, &event) {
            return;
        }
        let line = render(self.format, &Stamped { t_ms: self.clock.now_ms(), event });
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

/// One console line for `stamped`, without the newline.
pub fn render(format: OutputFormat, stamped: &Stamped) -> String {
    match format {
        OutputFormat::Json => serde_json::to_string(stamped).expect("events serialize"),
        OutputFormat::Text => text_line(stamped.t_ms, &stamped.event),
    }
}

/// The log line for `event` at nominal `t_ms`: `[   12.345] failover: ...`. Whatever the event
/// carries, the result is one line (line breaks in a reason become spaces).
pub fn text_line(t_ms: u64, event: &Event) -> String {
    let line = format!("[{:5}.{:03}] failover: {}", t_ms / 1000, t_ms % 1000, text_message(event));
    line.replace(['\r', '\n'], " ")
}

/// ` key value` when there is a value, nothing otherwise.
fn kv(key: &str, value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => format!(" {key} {v}"),
        _ => String::new(),
    }
}

/// `, iccid X` when the seed's ICCID is known.
fn iccid_suffix(iccid: &str) -> String {
    if iccid.is_empty() { String::new() } else { format!(", iccid {iccid}") }
}

fn text_message(event: &Event) -> String {
    match event {
        Event::Boot { fault } => format!("booting (fault: {})", fault.as_deref().unwrap_or("none")),
        Event::Measure { cells } if cells.is_empty() => "measured no cells".into(),
        Event::Measure { cells } => {
            let cells: Vec<String> =
                cells.iter().map(|c| format!("{} {} {} dBm", c.plmn, c.rat.name(), c.dbm)).collect();
            let noun = if cells.len() == 1 { "cell" } else { "cells" };
            format!("measured {} {noun}: {}", cells.len(), cells.join(", "))
        }
        Event::Rank { order } if order.is_empty() => "ranked no standbys".into(),
        Event::Rank { order } => {
            let entries: Vec<String> = order
                .iter()
                .map(|e| {
                    let tariff = e.tariff.map_or("none".to_owned(), |t| t.to_string());
                    format!("slot {} index {:.4} ({} dBm, tariff {tariff})", e.slot, e.index, e.signal_dbm)
                })
                .collect();
            format!("ranked standbys: {}", entries.join(", "))
        }
        Event::Attempt { slot, iccid, role, index, pass } => {
            let role = match role {
                Role::Master => "master",
                Role::Standby => "standby",
            };
            // Every digit of the index: the line reads back to the same number.
            let index = index.map_or(String::new(), |i| format!(", index {i}"));
            format!("trying slot {slot} ({role}{index}, pass {pass}){}", iccid_suffix(iccid))
        }
        Event::Judged { slot, iccid, ok, reason, explicit } => {
            let verdict = if *ok { "passed" } else { "failed" };
            format!("slot {slot} {verdict}: {reason} [explicit={explicit}]{}", iccid_suffix(iccid))
        }
        Event::Connected { slot, iccid, imsi, plmn, rat } => format!(
            "slot {slot} online,{}{}{}{}",
            kv("imsi", Some(imsi)),
            kv("plmn", plmn.as_deref()),
            kv("rat", rat.as_deref()),
            iccid_suffix(iccid)
        ),
        Event::ReportSent { slot, iccid, bytes } => {
            format!("report sent via slot {slot} ({bytes} bytes){}", iccid_suffix(iccid))
        }
        Event::VsimAssigned { slot, vsim_iccid, vsim_imsi } => format!(
            "vsim assigned via slot {slot}:{}{}",
            kv("iccid", Some(vsim_iccid)),
            kv("imsi", Some(vsim_imsi))
        ),
        Event::Exhausted { pass } => format!("all seeds failed (pass {pass})"),
        Event::Status(s) => {
            let slot = s.slot.map_or("-".to_owned(), |s| s.to_string());
            let iccid =
                s.iccid.as_deref().filter(|i| !i.is_empty()).map_or(String::new(), |i| format!(" iccid={i}"));
            let step = s.step.as_deref().map_or(String::new(), |st| format!(" step=\"{st}\""));
            let weights = s.weights.map_or("-".to_owned(), |w| format!("{},{}", w.signal, w.tariff));
            let judgement = s.judgement.as_deref().unwrap_or("-");
            format!(
                "status: state={} slot={slot} pass={}{iccid}{step} weights={weights} judgement={judgement}",
                s.state, s.pass
            )
        }
        Event::Error { reason } => format!("error: {reason}"),
    }
}

/// The event patterns that read [`OutputFormat::Text`] lines back as events, with the capture
/// groups [`crate::console::reader::ConsoleReader`] reads. What a lab rig file would hold for a
/// firmware printing these lines; measure, rank, report and error lines match none (noise).
pub fn text_patterns() -> Vec<EventPattern> {
    const PREFIX: &str = r"^\[\s*\d+\.\d{3}\] failover: ";
    const ICCID: &str = r"(?:, iccid (?P<iccid>\S+))?$";
    let pattern =
        |event, body: &str| EventPattern { event, regex: format!("{PREFIX}{body}"), explicit: None };
    vec![
        pattern(PatternEvent::Boot, r"booting\b"),
        pattern(
            PatternEvent::Attempt,
            &format!(
                r"trying slot (?P<slot>\d+) \((?P<role>master|standby)(?:, index (?P<index>[^,]+))?, pass (?P<pass>\d+)\){ICCID}"
            ),
        ),
        pattern(
            PatternEvent::Judged,
            &format!(
                r"slot (?P<slot>\d+) failed: (?P<reason>.*) \[explicit=(?P<explicit>true|false)\]{ICCID}"
            ),
        ),
        pattern(
            PatternEvent::Connected,
            &format!(
                r"slot (?P<slot>\d+) online,(?: imsi (?P<imsi>\S+))?(?: plmn (?P<plmn>\S+))?(?: rat (?P<rat>\S+))?{ICCID}"
            ),
        ),
        pattern(PatternEvent::Exhausted, r"all seeds failed \(pass (?P<pass>\d+)\)$"),
        pattern(
            PatternEvent::Vsim,
            r"vsim assigned via slot (?P<slot>\d+):(?: iccid (?P<vsim_iccid>\S+))?(?: imsi (?P<vsim_imsi>\S+))?$",
        ),
        pattern(
            PatternEvent::Status,
            r"status: state=(?P<state>\S*) slot=(?:(?P<slot>\d+)|-) pass=(?P<pass>\d+)(?: iccid=(?P<iccid>\S+))?(?: |$)",
        ),
    ]
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
    use std::time::Duration;

    use crate::clock::TimeScale;
    use crate::console::MeasuredCell;
    use crate::console::reader::ConsoleReader;
    use crate::model::{ConsoleFormat, Rat};

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
        let (console, mut cmds) = Console::new(rd, wr, Clock::start(TimeScale::new(0.5)), OutputFormat::Json);
        their_wr.write_all(b"status\r\nweights 1\n").await.unwrap();
        assert_eq!(cmds.recv().await.unwrap(), Ok(Command::Status));
        assert!(cmds.recv().await.unwrap().is_err());
        console.emit(Event::Exhausted { pass: 2 });
        console.close().await;
        let mut out = String::new();
        BufReader::new(their_rd).read_line(&mut out).await.unwrap();
        assert!(out.ends_with(",\"event\":\"exhausted\",\"pass\":2}\n"), "{out}");
    }

    /// One event of each kind, with values like the firmware's.
    fn one_of_each() -> Vec<Event> {
        let iccid = "8988211000000430010".to_owned();
        vec![
            Event::Boot { fault: None },
            Event::Measure {
                cells: vec![
                    MeasuredCell { plmn: "26201".into(), rat: Rat::Lte, dbm: -71.0 },
                    MeasuredCell { plmn: "26202".into(), rat: Rat::Gsm, dbm: -85.5 },
                ],
            },
            Event::Rank {
                order: vec![RankEntry {
                    slot: 2,
                    iccid: iccid.clone(),
                    signal_dbm: -71.0,
                    tariff: Some(0.01),
                    a1: 0.5,
                    b1: 0.5,
                    index: 0.821_834_012_345_678_9,
                }],
            },
            Event::Attempt { slot: 0, iccid: iccid.clone(), role: Role::Master, index: None, pass: 1 },
            Event::Judged {
                slot: 0,
                iccid: iccid.clone(),
                ok: false,
                reason: "registration rejected, EMM cause 15".into(),
                explicit: true,
            },
            Event::Attempt {
                slot: 2,
                iccid: iccid.clone(),
                role: Role::Standby,
                index: Some(0.821_834_012_345_678_9),
                pass: 1,
            },
            Event::Judged {
                slot: 2,
                iccid: iccid.clone(),
                ok: false,
                reason: "no answer within T (30 s) while waiting for registration (+CEREG) [x]; judged at T"
                    .into(),
                explicit: false,
            },
            Event::Attempt {
                slot: 3,
                iccid: String::new(),
                role: Role::Standby,
                index: Some(-0.25),
                pass: 2,
            },
            Event::Connected {
                slot: 2,
                iccid: iccid.clone(),
                imsi: "262029900000011".into(),
                plmn: Some("26202".into()),
                rat: Some("gsm".into()),
            },
            Event::Connected {
                slot: 1,
                iccid: iccid.clone(),
                imsi: "262010000000002".into(),
                plmn: None,
                rat: None,
            },
            Event::ReportSent { slot: 2, iccid: iccid.clone(), bytes: 312 },
            Event::VsimAssigned {
                slot: 2,
                vsim_iccid: "8949000000000000001".into(),
                vsim_imsi: "262019999999999".into(),
            },
            Event::Exhausted { pass: 3 },
            Event::Status(Status {
                state: "attempting".into(),
                pass: 1,
                slot: Some(2),
                iccid: Some(iccid.clone()),
                step: Some("registration (+CEREG)".into()),
                weights: Some(WeightsJson { signal: 0.7, tariff: 0.3 }),
                judgement: Some("both".into()),
            }),
            Event::Status(Status {
                state: "boot".into(),
                pass: 0,
                slot: None,
                iccid: None,
                step: None,
                weights: Some(WeightsJson { signal: 0.5, tariff: 0.5 }),
                judgement: Some("timeout".into()),
            }),
            Event::Error { reason: "already started; send reset first".into() },
        ]
    }

    /// `event` as the pattern decoder gives it back: what the log line cannot carry (the boot's
    /// fault, status details beyond state, slot, pass and ICCID) reads as the decoder's fill.
    fn as_decoded(event: &Event) -> Option<Event> {
        match event {
            Event::Measure { .. } | Event::Rank { .. } | Event::ReportSent { .. } | Event::Error { .. } => {
                None
            }
            Event::Boot { .. } => Some(Event::Boot { fault: None }),
            Event::Status(s) => {
                Some(Event::Status(Status { step: None, weights: None, judgement: None, ..s.clone() }))
            }
            other => Some(other.clone()),
        }
    }

    fn pattern_reader() -> ConsoleReader {
        ConsoleReader::new(&ConsoleFormat::Patterns(text_patterns())).expect("the patterns compile")
    }

    #[test]
    fn text_lines_look_like_a_daemon_log() {
        let events = one_of_each();
        let lines: Vec<String> = events.iter().map(|e| text_line(12_345, e)).collect();
        assert_eq!(lines[0], "[   12.345] failover: booting (fault: none)");
        assert_eq!(
            lines[1],
            "[   12.345] failover: measured 2 cells: 26201 lte -71 dBm, 26202 gsm -85.5 dBm"
        );
        assert_eq!(
            lines[2],
            "[   12.345] failover: ranked standbys: slot 2 index 0.8218 (-71 dBm, tariff 0.01)"
        );
        assert_eq!(
            lines[3],
            "[   12.345] failover: trying slot 0 (master, pass 1), iccid 8988211000000430010"
        );
        assert_eq!(
            lines[4],
            "[   12.345] failover: slot 0 failed: registration rejected, EMM cause 15 [explicit=true], \
             iccid 8988211000000430010"
        );
        assert_eq!(
            lines[5],
            "[   12.345] failover: trying slot 2 (standby, index 0.8218340123456789, pass 1), \
             iccid 8988211000000430010"
        );
        assert_eq!(
            lines[8],
            "[   12.345] failover: slot 2 online, imsi 262029900000011 plmn 26202 rat gsm, \
             iccid 8988211000000430010"
        );
        assert_eq!(
            lines[10],
            "[   12.345] failover: report sent via slot 2 (312 bytes), iccid 8988211000000430010"
        );
        assert_eq!(
            lines[11],
            "[   12.345] failover: vsim assigned via slot 2: iccid 8949000000000000001 imsi 262019999999999"
        );
        assert_eq!(lines[12], "[   12.345] failover: all seeds failed (pass 3)");
        assert_eq!(
            lines[13],
            "[   12.345] failover: status: state=attempting slot=2 pass=1 iccid=8988211000000430010 \
             step=\"registration (+CEREG)\" weights=0.7,0.3 judgement=both"
        );
        assert_eq!(
            lines[14],
            "[   12.345] failover: status: state=boot slot=- pass=0 weights=0.5,0.5 judgement=timeout"
        );
        assert_eq!(lines[15], "[   12.345] failover: error: already started; send reset first");
        assert_eq!(
            text_line(0, &Event::Exhausted { pass: 1 }),
            "[    0.000] failover: all seeds failed (pass 1)"
        );
        assert_eq!(
            text_line(123_456_789, &Event::Error { reason: "two\nlines".into() }),
            "[123456.789] failover: error: two lines"
        );
    }

    #[test]
    fn text_lines_decode_through_the_patterns_to_the_same_events() {
        let events = one_of_each();
        let mut reader = pattern_reader();
        let mut log = String::new();
        for (i, e) in events.iter().enumerate() {
            log.push_str(&text_line(1000 * i as u64 + 7, e));
            log.push('\n');
        }
        reader.push(Duration::ZERO, log.as_bytes());
        let decoded: Vec<Event> = reader.events.iter().map(|e| e.event.clone()).collect();
        let expected: Vec<Event> = events.iter().filter_map(as_decoded).collect();
        assert_eq!(decoded, expected);
        // Measure, rank, report and error lines are noise, and nothing else is.
        let noise: Vec<&str> = reader.noise.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(noise.len(), 4, "{noise:#?}");
        for (line, what) in noise.iter().zip(["measured", "ranked", "report sent", "error"]) {
            assert!(line.contains(what), "{line}");
        }
    }

    #[test]
    fn every_kind_of_pattern_event_has_one_valid_pattern() {
        let patterns = text_patterns();
        for name in PatternEvent::NAMES {
            let kind = PatternEvent::parse(name).unwrap();
            let mine: Vec<&EventPattern> = patterns.iter().filter(|p| p.event == kind).collect();
            assert_eq!(mine.len(), 1, "{name}");
            let re = regex::Regex::new(&mine[0].regex).unwrap();
            let groups: Vec<&str> = re.capture_names().flatten().collect();
            for g in kind.required_groups() {
                assert!(groups.contains(g), "{name} lacks group {g}");
            }
        }
    }

    #[test]
    fn json_mode_is_the_default_and_writes_the_protocol_unchanged() {
        assert_eq!(OutputFormat::default(), OutputFormat::Json);
        for event in one_of_each() {
            let stamped = Stamped { t_ms: 4200, event };
            let line = render(OutputFormat::Json, &stamped);
            assert_eq!(line, serde_json::to_string(&stamped).unwrap());
            assert_eq!(serde_json::from_str::<Stamped>(&line).unwrap(), stamped);
        }
        let exhausted = Stamped { t_ms: 4200, event: Event::Exhausted { pass: 2 } };
        assert_eq!(render(OutputFormat::Json, &exhausted), r#"{"t_ms":4200,"event":"exhausted","pass":2}"#);
    }

    #[tokio::test]
    async fn a_text_console_writes_log_lines_the_patterns_read() {
        let (ours, theirs) = tokio::io::duplex(4096);
        let (rd, wr) = tokio::io::split(ours);
        let (their_rd, _their_wr) = tokio::io::split(theirs);
        let (console, _cmds) = Console::new(rd, wr, Clock::start(TimeScale::new(0.5)), OutputFormat::Text);
        let events = one_of_each();
        for e in &events {
            console.emit(e.clone());
        }
        console.close().await;
        // The console's read half stays open, so no end of stream: read the lines expected.
        let mut their_lines = BufReader::new(their_rd).lines();
        let mut text = String::new();
        for _ in &events {
            text.push_str(&their_lines.next_line().await.unwrap().expect("one line per event"));
            text.push('\n');
        }
        assert!(text.lines().all(|l| l.starts_with("[    0.") && l.contains("] failover: ")), "{text}");
        let mut reader = pattern_reader();
        reader.push(Duration::ZERO, text.as_bytes());
        let decoded: Vec<Event> = reader.events.iter().map(|e| e.event.clone()).collect();
        assert_eq!(decoded, events.iter().filter_map(as_decoded).collect::<Vec<_>>());
    }
}
