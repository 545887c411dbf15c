//! The whole firmware against a scripted modem on real pseudo-terminals: ports opened by path
//! through tokio-serial, as on the bench. The simulated modem proper is tested elsewhere; this
//! script knows just enough AT for the firmware's happy and unhappy paths.

use std::time::Duration;

use tokio::sync::mpsc;

use super::config::Config;
use super::console::{Event, Role, Stamped, text_patterns};
use super::{FaultMode, OutputFormat};
use crate::sim::pty::Pty;

/// What the card in one slot does when tried.
#[derive(Clone, Copy, PartialEq)]
enum Card {
    Missing,
    /// Registration rejected with this EMM cause.
    Rejects(u16),
    /// The network never answers.
    Silent,
    Healthy,
}

const VSIM: &str = r#"{"type":"vsim","iccid":"8949000000000000001","imsi":"262019999999999","plmn":"26201"}"#;

/// Answers the firmware's commands; every command line goes to `log`, the report to `reports`.
async fn modem(
    pty: Pty,
    cards: [Card; 4],
    log: mpsc::UnboundedSender<String>,
    reports: mpsc::UnboundedSender<String>,
) {
    let mut buf = Vec::new();
    let mut active = 1usize;
    loop {
        let Some(i) = buf.iter().position(|&b| b == b'\r') else {
            let mut chunk = [0u8; 512];
            let Ok(n @ 1..) = pty.read(&mut chunk).await else { return };
            buf.extend_from_slice(&chunk[..n]);
            continue;
        };
        let cmd = String::from_utf8_lossy(&buf.drain(..=i).collect::<Vec<u8>>()).trim().to_owned();
        let _ = log.send(cmd.clone());
        let card = cards[active - 1];
        let reply = match cmd.as_str() {
            "AT+QOPS" => {
                "\r\n+QOPS: \"Telekom\",\"Telekom\",\"26201\"\r\n1,\"LTE\",6300,1,-80\r\n\r\nOK\r\n".into()
            }
            "AT+CIMI" => format!("\r\n26201000000000{active}\r\n\r\nOK\r\n"),
            "AT+COPS?" => "\r\n+COPS: 0,2,\"26201\",7\r\n\r\nOK\r\n".into(),
            "AT+COPS=0" => match card {
                Card::Healthy => "\r\nOK\r\n\r\n+CEREG: 5,\"1A\",\"2B3C\",7\r\n".into(),
                Card::Rejects(cause) => format!("\r\nOK\r\n\r\n+CEREG: 3,,,,0,{cause}\r\n"),
                _ => "\r\nOK\r\n".into(),
            },
            c if c.starts_with("AT+QUIMSLOT=") => {
                active = c["AT+QUIMSLOT=".len()..].parse().unwrap();
                match cards[active - 1] {
                    Card::Missing => "\r\nOK\r\n\r\n+CME ERROR: 10\r\n".into(),
                    _ => "\r\nOK\r\n\r\n+CPIN: READY\r\n\r\n+QSIMSTAT: 1,1\r\n".into(),
                }
            }
            c if c.starts_with("AT+QIOPEN=") => "\r\nOK\r\n\r\n+QIOPEN: 0,0\r\n".into(),
            c if c.starts_with("AT+QISEND=0,") => {
                let len: usize = c["AT+QISEND=0,".len()..].parse().unwrap();
                pty.write_all(b"\r\n> ").await.unwrap();
                while buf.len() < len {
                    let mut chunk = [0u8; 512];
                    let n = pty.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let _ = reports.send(String::from_utf8(buf.drain(..len).collect()).unwrap());
                format!("\r\nSEND OK\r\n\r\n+QIURC: \"recv\",0,{}\r\n{VSIM}\r\n", VSIM.len())
            }
            _ => "\r\nOK\r\n".into(),
        };
        pty.write_all(reply.as_bytes()).await.unwrap();
    }
}

/// Reads console lines from the PTY's master side.
struct ConsoleReader {
    pty: Pty,
    buf: Vec<u8>,
}

impl ConsoleReader {
    async fn next(&mut self) -> Event {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                let stamped: Stamped = serde_json::from_slice(&line).expect("a JSON event line");
                return stamped.event;
            }
            let mut chunk = [0u8; 1024];
            let read = tokio::time::timeout(Duration::from_secs(10), self.pty.read(&mut chunk));
            let n = read.await.expect("the firmware said nothing for 10 s").unwrap();
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn send(&self, command: &str) {
        self.pty.write_all(format!("{command}\n").as_bytes()).await.unwrap();
    }
}

fn config(at: &Pty, console: &Pty, judgement: &str) -> Config {
    let seed = |slot: u8, role: &str, iccid: &str, tariff: f64| {
        format!(
            "[[seeds]]\nslot = {slot}\nrole = \"{role}\"\niccid = \"{iccid}\"\nrats = [\"lte\"]\n\
             tariffs = {{ \"26201\" = {tariff} }}\n"
        )
    };
    let text = format!(
        "at_port = \"{}\"\nconsole = \"{}\"\ntime_scale = 0.01\njudgement = \"{judgement}\"\n\
         attempt_timeout_ms = 30000\napn = \"internet\"\nbackend_host = \"backend.seedrig.test\"\n\
         backend_port = 7000\nsite = \"frankfurt-airport\"\n[weights]\nsignal = 0.5\ntariff = 0.5\n{}{}{}{}",
        at.path().display(),
        console.path().display(),
        seed(0, "master", "8988211000000430010", 0.01),
        // Same cell for all: the tariff decides, cheapest first: slot 2, slot 1, slot 3.
        seed(1, "standby", "8988211000000430010", 0.03),
        seed(2, "standby", "8988211000000430010", 0.01),
        seed(3, "standby", "8988211000000430010", 0.05),
    );
    Config::parse(&text, std::path::Path::new("test.toml")).unwrap()
}

struct Rig {
    console: ConsoleReader,
    log: mpsc::UnboundedReceiver<String>,
    reports: mpsc::UnboundedReceiver<String>,
}

fn start(cards: [Card; 4], judgement: &str, fault: Option<FaultMode>) -> Rig {
    start_with(cards, judgement, fault, OutputFormat::Json)
}

fn start_with(cards: [Card; 4], judgement: &str, fault: Option<FaultMode>, format: OutputFormat) -> Rig {
    let (at, console) = (Pty::open().unwrap(), Pty::open().unwrap());
    let cfg = config(&at, &console, judgement);
    let (log_tx, log) = mpsc::unbounded_channel();
    let (rep_tx, reports) = mpsc::unbounded_channel();
    tokio::spawn(modem(at, cards, log_tx, rep_tx));
    tokio::spawn(super::run(cfg, fault, format));
    Rig { console: ConsoleReader { pty: console, buf: Vec::new() }, log, reports }
}

fn slot_and_reason(e: &Event) -> (u8, bool, &str) {
    match e {
        Event::Judged { slot, explicit, reason, .. } => (*slot, *explicit, reason),
        other => panic!("expected judged, got {other:?}"),
    }
}

#[tokio::test]
async fn master_fails_standbys_go_in_rank_order_and_the_winner_reports() {
    let mut rig = start([Card::Missing, Card::Rejects(15), Card::Silent, Card::Healthy], "both", None);
    let c = &mut rig.console;
    assert_eq!(c.next().await, Event::Boot { fault: None });
    c.send("start").await;
    let Event::Measure { cells } = c.next().await else { panic!("measure") };
    assert_eq!((cells[0].plmn.as_str(), cells[0].dbm), ("26201", -80.0));
    let Event::Rank { order } = c.next().await else { panic!("rank") };
    assert_eq!(order.iter().map(|e| e.slot).collect::<Vec<_>>(), vec![2, 1, 3]);

    let mut attempts = Vec::new();
    let mut judged = Vec::new();
    loop {
        match c.next().await {
            Event::Attempt { slot, .. } => attempts.push(slot),
            e @ Event::Judged { .. } => judged.push(e),
            Event::ReportSent { slot, .. } => assert_eq!(slot, 3),
            Event::Connected { slot, imsi, plmn, rat, .. } => {
                assert_eq!(
                    (slot, imsi.as_str(), plmn.as_deref(), rat.as_deref()),
                    (3, "262010000000004", Some("26201"), Some("lte"))
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(attempts, vec![0, 2, 1, 3]);
    assert_eq!(slot_and_reason(&judged[0]), (0, true, "no card in the slot (+CME ERROR: 10)"));
    let (slot, explicit, reason) = slot_and_reason(&judged[1]);
    assert!(slot == 2 && !explicit && reason.contains("registration"), "{reason}");
    assert_eq!(slot_and_reason(&judged[2]), (1, true, "registration rejected, EMM cause 15"));
    assert!(
        matches!(c.next().await, Event::VsimAssigned { slot: 3, ref vsim_iccid, .. } if vsim_iccid == "8949000000000000001")
    );

    let report: serde_json::Value = serde_json::from_str(&rig.reports.recv().await.unwrap()).unwrap();
    assert_eq!(report["imsi"], "262010000000004");
    assert_eq!(report["mcc"], "262");
    assert_eq!(report["site"], "frankfurt-airport");
    assert_eq!(report["rats"], serde_json::json!(["lte"]));

    c.send("status").await;
    let Event::Status(s) = c.next().await else { panic!("status") };
    assert_eq!((s.state.as_str(), s.slot), ("connected", Some(3)));

    c.send("reset").await;
    assert_eq!(c.next().await, Event::Boot { fault: None });
    let mut sent = Vec::new();
    while let Ok(cmd) = rig.log.try_recv() {
        sent.push(cmd);
    }
    assert_eq!(&sent[..5], super::run::INIT);
    assert_eq!(sent.last().map(String::as_str), Some("AT+COPS=2"), "reset deregisters");
    let switches: Vec<&str> =
        sent.iter().filter(|c| c.starts_with("AT+QUIMSLOT")).map(String::as_str).collect();
    assert_eq!(switches, ["AT+QUIMSLOT=1", "AT+QUIMSLOT=3", "AT+QUIMSLOT=2", "AT+QUIMSLOT=4"]);
}

#[tokio::test]
async fn under_timeout_a_reject_is_judged_at_t_and_exhaustion_is_said() {
    let mut rig = start([Card::Rejects(8), Card::Missing, Card::Missing, Card::Missing], "timeout", None);
    let c = &mut rig.console;
    c.next().await;
    c.send("weights 1 0").await;
    c.send("start").await;
    let mut judged = Vec::new();
    loop {
        match c.next().await {
            e @ Event::Judged { .. } => judged.push(e),
            Event::Exhausted { pass } => break assert_eq!(pass, 1),
            _ => {}
        }
    }
    assert_eq!(judged.len(), 4);
    let (_, explicit, reason) = slot_and_reason(&judged[0]);
    assert!(!explicit && reason == "registration rejected, EMM cause 8; judged at T", "{reason}");
}

#[tokio::test]
async fn no_report_connects_without_the_data_exchange() {
    let mut rig = start([Card::Healthy; 4], "both", Some(FaultMode::NoReport));
    let c = &mut rig.console;
    assert_eq!(c.next().await, Event::Boot { fault: Some("no-report".into()) });
    c.send("start").await;
    loop {
        match c.next().await {
            Event::Connected { slot, .. } => break assert_eq!(slot, 0),
            e @ (Event::ReportSent { .. } | Event::VsimAssigned { .. }) => panic!("{e:?}"),
            _ => {}
        }
    }
    c.send("status").await;
    assert!(matches!(c.next().await, Event::Status(_)), "nothing comes between connected and status");
    assert!(rig.reports.try_recv().is_err());
}

/// Reads plain log lines from the PTY and decodes them as a lab bench would: through the
/// patterns, into events, keeping the rest as noise.
struct LogReader {
    pty: Pty,
    reader: crate::console::reader::ConsoleReader,
    taken: usize,
}

impl LogReader {
    async fn next(&mut self) -> Event {
        loop {
            if let Some(e) = self.reader.events.get(self.taken) {
                self.taken += 1;
                return e.event.clone();
            }
            let mut chunk = [0u8; 1024];
            let read = tokio::time::timeout(Duration::from_secs(10), self.pty.read(&mut chunk));
            let n = read.await.expect("the firmware said nothing for 10 s").unwrap();
            self.reader.push(Duration::ZERO, &chunk[..n]);
        }
    }
}

#[tokio::test]
async fn a_text_console_reads_back_through_the_patterns() {
    let rig = start_with(
        [Card::Missing, Card::Rejects(15), Card::Silent, Card::Healthy],
        "both",
        Some(FaultMode::WrongOrder),
        OutputFormat::Text,
    );
    let format = crate::model::ConsoleFormat::Patterns(text_patterns());
    let reader = crate::console::reader::ConsoleReader::new(&format).unwrap();
    let mut c = LogReader { pty: rig.console.pty, reader, taken: 0 };
    assert_eq!(c.next().await, Event::Boot { fault: None });
    c.pty.write_all(b"start\n").await.unwrap();
    let iccid = "8988211000000430010".to_owned();
    // Wrong order: the standbys in reverse rank order, slot 3, 1, 2.
    let Event::Attempt { slot: 0, role: Role::Master, index: None, pass: 1, .. } = c.next().await else {
        panic!("master attempt")
    };
    assert_eq!(
        c.next().await,
        Event::Judged {
            slot: 0,
            iccid: iccid.clone(),
            ok: false,
            reason: "no card in the slot (+CME ERROR: 10)".into(),
            explicit: true
        }
    );
    let Event::Attempt { slot: 3, role: Role::Standby, index: Some(index), pass: 1, .. } = c.next().await
    else {
        panic!("standby attempt")
    };
    assert!(index.is_finite(), "{index}");
    let Event::Connected { slot: 3, imsi, plmn, rat, .. } = c.next().await else { panic!("connected") };
    assert_eq!(
        (imsi.as_str(), plmn.as_deref(), rat.as_deref()),
        ("262010000000004", Some("26201"), Some("lte"))
    );
    assert_eq!(
        c.next().await,
        Event::VsimAssigned {
            slot: 3,
            vsim_iccid: "8949000000000000001".into(),
            vsim_imsi: "262019999999999".into()
        }
    );
    c.pty.write_all(b"status\n").await.unwrap();
    let Event::Status(s) = c.next().await else { panic!("status") };
    assert_eq!((s.state.as_str(), s.slot, s.pass, s.iccid), ("connected", Some(3), 1, Some(iccid)));
    // Measure, rank and the report were lines too: noise, each with the log prefix.
    let noise: Vec<&str> = c.reader.noise.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(noise.len(), 3, "{noise:#?}");
    assert!(noise.iter().all(|l| l.starts_with('[') && l.contains("] failover: ")), "{noise:#?}");
}
