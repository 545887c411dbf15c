//! What the modem says, parsed: the byte stream cut into lines (with the `QISEND` prompt and
//! `+QIURC: "recv"` payloads, which are not lines), final result codes, and the unsolicited
//! result codes the firmware acts on. Pure functions; the client in [`super::at`] routes them.

/// Prefixes of the URCs the firmware enables (docs/virtual-bench.md, "AT dialect").
pub const URC_PREFIXES: &[&str] =
    &["+CEREG:", "+CPIN:", "+QSIMSTAT:", "+CGEV:", "+QIOPEN:", "+QIURC:", "+QPING:"];

pub fn is_urc(line: &str) -> bool {
    URC_PREFIXES.iter().any(|p| line.starts_with(p))
}

/// One unit of modem output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Line(String),
    /// The `> ` that asks for `QISEND` data.
    Prompt,
    /// `+QIURC: "recv",<conn>,<len>` and the `len` bytes after it.
    Recv {
        conn: u32,
        data: Vec<u8>,
    },
}

/// Cuts modem output into [`Item`]s. Lines end at `\r` or `\n` (a `\r\n` pair once).
#[derive(Debug, Default)]
pub struct Splitter {
    line: Vec<u8>,
    after_cr: bool,
    payload: Option<Payload>,
}

#[derive(Debug)]
struct Payload {
    conn: u32,
    len: usize,
    data: Vec<u8>,
}

impl Splitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Item> {
        let mut out = Vec::new();
        for &b in bytes {
            self.byte(b, &mut out);
        }
        // The prompt has no line end: it is recognised when the modem stops after it.
        if self.payload.is_none() && self.line == b"> " {
            self.line.clear();
            out.push(Item::Prompt);
        }
        out
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Item>) {
        let after_cr = std::mem::take(&mut self.after_cr);
        if after_cr && b == b'\n' {
            return;
        }
        if let Some(p) = &mut self.payload {
            p.data.push(b);
            if p.data.len() == p.len {
                let p = self.payload.take().expect("payload present");
                out.push(Item::Recv { conn: p.conn, data: p.data });
            }
            return;
        }
        if b != b'\r' && b != b'\n' {
            self.line.push(b);
            return;
        }
        self.after_cr = b == b'\r';
        let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).trim().to_owned();
        match recv_header(&line) {
            Some((conn, 0)) => out.push(Item::Recv { conn, data: Vec::new() }),
            // The length is the modem's word: room for it grows as the bytes come, or a
            // garbled header (`+QIURC: "recv",1,88888888888`) would abort on allocation.
            Some((conn, len)) => {
                self.payload = Some(Payload { conn, len, data: Vec::with_capacity(len.min(RECV_PREALLOC)) })
            }
            None if line.is_empty() => {}
            None => out.push(Item::Line(line)),
        }
    }
}

/// The most room a payload gets before its bytes arrive: a real module pushes at most 1500
/// bytes per `+QIURC: "recv"`.
const RECV_PREALLOC: usize = 1500;

/// `+QIURC: "recv",<conn>,<len>` → (conn, len).
fn recv_header(line: &str) -> Option<(u32, usize)> {
    let f = fields(line.strip_prefix("+QIURC:")?);
    if f.first().map(String::as_str) != Some("recv") {
        return None;
    }
    Some((f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?))
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    /// `OK` or `SEND OK`.
    Ok,
    Error,
    /// `+CME ERROR: <n>` (or `+CMS ERROR`), with the code as given.
    Cme(String),
    SendFail,
}

impl Final {
    pub fn parse(line: &str) -> Option<Final> {
        match line {
            "OK" | "SEND OK" => Some(Final::Ok),
            "ERROR" | "NO CARRIER" => Some(Final::Error),
            "SEND FAIL" => Some(Final::SendFail),
            _ => line
                .strip_prefix("+CME ERROR:")
                .or_else(|| line.strip_prefix("+CMS ERROR:"))
                .map(|code| Final::Cme(code.trim().to_owned())),
        }
    }
}

/// A registration report (`+CEREG` URC, any of n = 1, 2, 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cereg {
    /// 0 not searching, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming.
    pub stat: u8,
    pub act: Option<u8>,
    /// `(cause_type, reject_cause)` when denied with n = 3.
    pub reject: Option<(u8, u16)>,
}

impl Cereg {
    pub fn registered(&self) -> bool {
        matches!(self.stat, 1 | 5)
    }

    pub fn denied(&self) -> bool {
        self.stat == 3
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cpin {
    Ready,
    NotReady,
    /// `SIM PIN`, `SIM PUK`, `NOT INSERTED`, …
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Urc {
    Cereg(Cereg),
    Cpin(Cpin),
    /// A `+CME ERROR` that answers no command: the card failed after a slot switch.
    CmeError(String),
    SimStat {
        inserted: bool,
    },
    /// `+CGEV: <text>`, e.g. `NW PDN DEACT 1`.
    Cgev(String),
    QiOpen {
        conn: u32,
        err: u32,
    },
    Recv {
        conn: u32,
        data: Vec<u8>,
    },
    /// Other `+QIURC` reports, e.g. `closed`, `pdpdeact`.
    QiUrc(String),
    Ping(String),
}

/// Parses one URC line; `None` for anything else or a malformed one.
pub fn parse(line: &str) -> Option<Urc> {
    let (prefix, rest) = line.split_once(':')?;
    let f = fields(rest);
    match prefix {
        "+CEREG" => parse_cereg(&f).map(Urc::Cereg),
        "+CPIN" => Some(Urc::Cpin(match rest.trim() {
            "READY" => Cpin::Ready,
            "NOT READY" => Cpin::NotReady,
            other => Cpin::Other(other.to_owned()),
        })),
        "+QSIMSTAT" => Some(Urc::SimStat { inserted: f.get(1)? == "1" }),
        "+CGEV" => Some(Urc::Cgev(rest.trim().to_owned())),
        "+QIOPEN" => Some(Urc::QiOpen { conn: f.first()?.parse().ok()?, err: f.get(1)?.parse().ok()? }),
        "+QIURC" => Some(Urc::QiUrc(f.first()?.clone())),
        "+QPING" => Some(Urc::Ping(rest.trim().to_owned())),
        _ => None,
    }
}

/// `<stat>[,[<tac>],[<ci>],[<AcT>][,<cause_type>,<reject_cause>]]` (the URC form, no `<n>`).
fn parse_cereg(f: &[String]) -> Option<Cereg> {
    let num = |i: usize| f.get(i).and_then(|s| s.parse().ok());
    let reject = match (num(4), num(5)) {
        (Some(t), Some(c)) => Some((t as u8, c)),
        _ => None,
    };
    Some(Cereg { stat: f.first()?.parse().ok()?, act: num(3).map(|a| a as u8), reject })
}

/// Comma-separated fields with quotes removed; commas inside quotes do not split.
pub fn fields(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.trim().chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("never empty").push(c),
        }
    }
    out.iter().map(|f| f.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Item {
        Item::Line(s.into())
    }

    #[test]
    fn splits_lines_on_cr_lf_and_skips_blanks() {
        let mut s = Splitter::default();
        assert_eq!(s.push(b"ATE0\r\r\nOK\r\n\r\n+CPIN: RE"), vec![line("ATE0"), line("OK")]);
        assert_eq!(s.push(b"ADY\r"), vec![line("+CPIN: READY")]);
        assert_eq!(s.push(b"\n+QSIMSTAT: 1,1\n"), vec![line("+QSIMSTAT: 1,1")]);
    }

    #[test]
    fn the_send_prompt_is_an_item_even_split_across_reads() {
        let mut s = Splitter::default();
        assert_eq!(s.push(b"\r\n>"), vec![]);
        assert_eq!(s.push(b" "), vec![Item::Prompt]);
        assert_eq!(s.push(b"\r\nSEND OK\r\n"), vec![line("SEND OK")]);
    }

    #[test]
    fn qiurc_recv_carries_exactly_len_bytes_even_with_line_ends_inside() {
        let mut s = Splitter::default();
        let got = s.push(b"\r\n+QIURC: \"recv\",0,7\r\n{\"a\"\r\n}\r\n+CGEV: ME PDN ACT 1\r\n");
        assert_eq!(
            got,
            vec![Item::Recv { conn: 0, data: b"{\"a\"\r\n}".to_vec() }, line("+CGEV: ME PDN ACT 1")]
        );
        let mut s = Splitter::default();
        assert_eq!(s.push(b"+QIURC: \"recv\",0,4\r"), vec![]);
        assert_eq!(s.push(b"\nab"), vec![]);
        assert_eq!(s.push(b"cd\r\n"), vec![Item::Recv { conn: 0, data: b"abcd".to_vec() }]);
    }

    #[test]
    fn a_huge_recv_length_is_not_allocated_before_the_bytes_come() {
        // Found by the `firmware_at` fuzz target: this aborted on allocating 88 GB.
        let mut s = Splitter::default();
        assert_eq!(s.push(b"+QIURC: \"recv\",1,88888888888\r\nabc"), vec![]);
        assert_eq!(s.payload.as_ref().map(|p| p.data.len()), Some(3));
    }

    #[test]
    fn final_results() {
        assert_eq!(Final::parse("OK"), Some(Final::Ok));
        assert_eq!(Final::parse("SEND OK"), Some(Final::Ok));
        assert_eq!(Final::parse("+CME ERROR: 10"), Some(Final::Cme("10".into())));
        assert_eq!(Final::parse("+CME ERROR: SIM not inserted"), Some(Final::Cme("SIM not inserted".into())));
        assert_eq!(Final::parse("ERROR"), Some(Final::Error));
        assert_eq!(Final::parse("+CPIN: READY"), None);
    }

    #[test]
    fn cereg_in_all_three_forms() {
        let c = |s| match parse(s) {
            Some(Urc::Cereg(c)) => c,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(c("+CEREG: 2"), Cereg { stat: 2, act: None, reject: None });
        let home = c("+CEREG: 1,\"1A2B\",\"01A2B3C4\",7");
        assert!(home.registered() && home.act == Some(7));
        assert!(c("+CEREG: 5,\"1A2B\",\"01A2B3C4\",11,,").registered());
        let denied = c("+CEREG: 3,,,,0,15");
        assert!(denied.denied());
        assert_eq!(denied.reject, Some((0, 15)));
        assert_eq!(parse("+CEREG: x"), None);
    }

    #[test]
    fn cpin_and_other_urcs() {
        assert_eq!(parse("+CPIN: READY"), Some(Urc::Cpin(Cpin::Ready)));
        assert_eq!(parse("+CPIN: NOT READY"), Some(Urc::Cpin(Cpin::NotReady)));
        assert_eq!(parse("+CPIN: SIM PIN"), Some(Urc::Cpin(Cpin::Other("SIM PIN".into()))));
        assert_eq!(parse("+QSIMSTAT: 1,0"), Some(Urc::SimStat { inserted: false }));
        assert_eq!(parse("+QIOPEN: 0,566"), Some(Urc::QiOpen { conn: 0, err: 566 }));
        assert_eq!(parse("+QIURC: \"closed\",0"), Some(Urc::QiUrc("closed".into())));
        assert_eq!(parse("+CGEV: NW PDN DEACT 1"), Some(Urc::Cgev("NW PDN DEACT 1".into())));
        assert!(is_urc("+QPING: 0,\"10.0.0.1\",32,40,255") && !is_urc("+COPS: 0"));
    }

    #[test]
    fn fields_respect_quotes() {
        assert_eq!(fields(" \"a,b\",2,,\"\""), vec!["a,b", "2", "", ""]);
    }
}
