//! The AT byte stream: splitting input into command lines (and the raw payload of `AT+QISEND`),
//! parsing a line into commands, and the bytes of a response.

use std::collections::VecDeque;

/// The longest command line kept; longer lines are answered with ERROR. `AT+CSIM` with a
/// full 255-byte APDU is about 530 characters.
pub const MAX_LINE: usize = 2048;

/// One unit of input, complete.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// A command line and the byte that ended it (`\r` or `\n`), for the echo.
    Line { text: String, term: u8 },
    /// A line longer than [`MAX_LINE`] (dropped).
    Overflow { term: u8 },
    /// The bytes announced by `AT+QISEND=<id>,<len>`.
    Payload(Vec<u8>),
    /// The body of a short message after `AT+CMGS`'s prompt, up to Ctrl-Z (`send`) or ESC
    /// (cancelled); the terminator is not part of it.
    Message { body: Vec<u8>, send: bool },
}

/// Collects bytes as they arrive, in pieces of any size, into [`Input`]s. The mode (lines or
/// payload) applies to bytes not yet taken, so a payload written together with its command
/// line is not mistaken for a line.
#[derive(Debug, Default)]
pub struct LineReader {
    pending: VecDeque<u8>,
    line: Vec<u8>,
    overflow: bool,
    /// The last terminator was `\r`: a `\n` right after it belongs to it (`\r\n`).
    after_cr: bool,
    payload: Option<(usize, Vec<u8>)>,
    /// Collecting a message body (after `AT+CMGS`) until Ctrl-Z or ESC.
    message: Option<Vec<u8>>,
}

/// Ends a message body and sends it (27.005: `<ctrl-Z>`).
pub const CTRL_Z: u8 = 0x1A;
/// Ends a message body and cancels it.
pub const ESC: u8 = 0x1B;

impl LineReader {
    pub fn new() -> LineReader {
        LineReader::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend(bytes);
    }

    /// The next `len` bytes are payload, not lines.
    pub fn expect_payload(&mut self, len: usize) {
        self.payload = Some((len, Vec::with_capacity(len)));
    }

    /// The next bytes are a message body, up to Ctrl-Z or ESC.
    pub fn expect_message(&mut self) {
        self.message = Some(Vec::new());
    }

    pub fn next_input(&mut self) -> Option<Input> {
        if self.payload.is_some() {
            return self.take_payload();
        }
        if self.message.is_some() {
            return self.take_message();
        }
        while let Some(b) = self.pending.pop_front() {
            if let Some(input) = self.take_byte(b) {
                return Some(input);
            }
        }
        None
    }

    fn take_payload(&mut self) -> Option<Input> {
        self.skip_lf_after_cr()?;
        let (len, data) = self.payload.as_mut()?;
        let n = (*len - data.len()).min(self.pending.len());
        data.extend(self.pending.drain(..n));
        if data.len() < *len {
            return None;
        }
        self.payload.take().map(|(_, data)| Input::Payload(data))
    }

    fn take_message(&mut self) -> Option<Input> {
        self.skip_lf_after_cr()?;
        let body = self.message.as_mut()?;
        while let Some(b) = self.pending.pop_front() {
            match b {
                CTRL_Z | ESC => {
                    let body = self.message.take().unwrap_or_default();
                    return Some(Input::Message { body, send: b == CTRL_Z });
                }
                // Backspace edits the body, as in the line.
                0x08 | 0x7F => drop(body.pop()),
                _ if body.len() >= MAX_LINE => {}
                _ => body.push(b),
            }
        }
        None
    }

    /// The command line ended with CR LF and the LF came after the CR: it belongs to the line,
    /// not to what follows. None while that cannot be told yet.
    fn skip_lf_after_cr(&mut self) -> Option<()> {
        if self.after_cr {
            match self.pending.front() {
                None => return None,
                Some(b'\n') => drop(self.pending.pop_front()),
                Some(_) => {}
            }
            self.after_cr = false;
        }
        Some(())
    }

    fn take_byte(&mut self, b: u8) -> Option<Input> {
        let after_cr = std::mem::take(&mut self.after_cr);
        match b {
            b'\n' if after_cr => None,
            b'\r' | b'\n' => {
                self.after_cr = b == b'\r';
                self.finish_line(b)
            }
            // Backspace and DEL edit the line, as on a terminal.
            0x08 | 0x7F => {
                self.line.pop();
                None
            }
            _ if self.line.len() >= MAX_LINE => {
                self.overflow = true;
                None
            }
            _ => {
                self.line.push(b);
                None
            }
        }
    }

    fn finish_line(&mut self, term: u8) -> Option<Input> {
        let line = std::mem::take(&mut self.line);
        if std::mem::take(&mut self.overflow) {
            return Some(Input::Overflow { term });
        }
        let text = String::from_utf8_lossy(&line).trim().to_owned();
        // Empty lines are ignored, as modems do.
        (!text.is_empty()).then_some(Input::Line { text, term })
    }
}

/// How a command was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `AT+X` (or a basic command without a number).
    Exec,
    /// `AT+X?`
    Read,
    /// `AT+X=?`
    Test,
    /// `AT+X=<args>` (or a basic command with a number, e.g. `ATE0`).
    Set,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub quoted: bool,
}

/// One command of a line: `+CEREG`, `E`, `&F`... (upper case), its form and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub name: String,
    pub form: Form,
    pub args: Vec<Arg>,
}

impl Cmd {
    /// Argument `i` as a number; None if missing, empty or not a number.
    pub fn int(&self, i: usize) -> Option<i64> {
        let arg = self.args.get(i)?;
        if arg.quoted { None } else { arg.text.parse().ok() }
    }

    /// Argument `i` as text (quoted or not); None if missing or empty.
    pub fn text(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|a| a.text.as_str()).filter(|t| !t.is_empty())
    }

    /// Argument `i` as a number within `range`.
    pub fn int_in(&self, i: usize, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        self.int(i).filter(|v| range.contains(v))
    }
}

/// Parses a command line: `AT` followed by basic commands (`E0`, `Z`, `I`) and extended
/// commands (`+CMEE=2`), extended ones separated by `;`. Err if it is not an AT line.
pub fn parse_line(line: &str) -> Result<Vec<Cmd>, ()> {
    let head = line.get(..2).ok_or(())?;
    if !head.eq_ignore_ascii_case("AT") {
        return Err(());
    }
    let mut cmds = Vec::new();
    for segment in split_outside_quotes(&line[2..], ';') {
        parse_segment(segment.trim(), &mut cmds)?;
    }
    Ok(cmds)
}

fn parse_segment(mut s: &str, out: &mut Vec<Cmd>) -> Result<(), ()> {
    while !s.is_empty() {
        if s.starts_with('+') {
            out.push(parse_extended(s)?);
            return Ok(());
        }
        let (cmd, rest) = parse_basic(s)?;
        out.push(cmd);
        s = rest.trim_start();
    }
    Ok(())
}

/// `+NAME`, `+NAME?`, `+NAME=?`, `+NAME=args`.
fn parse_extended(s: &str) -> Result<Cmd, ()> {
    let end = s[1..].find(|c: char| !c.is_ascii_alphanumeric()).map_or(s.len(), |i| i + 1);
    let (name, rest) = s.split_at(end);
    if name.len() < 2 {
        return Err(());
    }
    let name = name.to_ascii_uppercase();
    let (form, args) = match rest.trim() {
        "" => (Form::Exec, Vec::new()),
        "?" => (Form::Read, Vec::new()),
        "=?" => (Form::Test, Vec::new()),
        r if r.starts_with('=') => (Form::Set, parse_args(&r[1..])?),
        _ => return Err(()),
    };
    Ok(Cmd { name, form, args })
}

/// A basic command: a letter (or `&` and a letter) and an optional number.
fn parse_basic(s: &str) -> Result<(Cmd, &str), ()> {
    let letter_len = if s.starts_with('&') { 2 } else { 1 };
    let name =
        s.get(..letter_len).filter(|n| n.chars().last().is_some_and(|c| c.is_ascii_alphabetic())).ok_or(())?;
    let rest = &s[letter_len..];
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (number, rest) = rest.split_at(digits);
    let (form, args) = if number.is_empty() {
        (Form::Exec, Vec::new())
    } else {
        (Form::Set, vec![Arg { text: number.to_owned(), quoted: false }])
    };
    Ok((Cmd { name: name.to_ascii_uppercase(), form, args }, rest))
}

fn parse_args(s: &str) -> Result<Vec<Arg>, ()> {
    split_outside_quotes(s, ',').into_iter().map(parse_arg).collect()
}

fn parse_arg(raw: &str) -> Result<Arg, ()> {
    let t = raw.trim();
    match t.strip_prefix('"') {
        Some(inner) => {
            let text = inner.strip_suffix('"').ok_or(())?;
            Ok(Arg { text: text.to_owned(), quoted: true })
        }
        None => Ok(Arg { text: t.to_owned(), quoted: false }),
    }
}

/// Splits at `sep` where it is not inside double quotes. An empty input gives no parts.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    if s.trim().is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    // `AT+CMEE=1;` ends with a separator: nothing follows it.
    if sep == ';' && parts.last().is_some_and(|p| p.trim().is_empty()) {
        parts.pop();
    }
    parts
}

/// How a command (or a line of them) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Ok,
    Error,
    /// `+CME ERROR: <n>` (TS 27.007 §9.2), shown as the port's `+CMEE` setting says.
    Cme(u16),
    /// `+CMS ERROR: <n>` (TS 27.005 §3.2.5) of an SMS command, shown per `+CMEE` as well.
    Cms(u16),
    /// `> `: waiting for the payload of `AT+QISEND`.
    Prompt,
    /// The payload's own result (`SEND OK` / `SEND FAIL`), already in the lines.
    None,
}

/// Something to do right after the response is queued on the port: URCs that must follow
/// the final result (`+QIOPEN:` after `OK`), background work started by the command.
pub type After = Box<dyn FnOnce() + Send>;

/// A command's answer: information lines, then the final result.
pub struct Reply {
    pub lines: Vec<String>,
    pub end: End,
    pub after: Vec<After>,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply { lines: Vec::new(), end: End::Ok, after: Vec::new() }
    }

    pub fn error() -> Reply {
        Reply { end: End::Error, ..Reply::ok() }
    }

    pub fn cme(code: u16) -> Reply {
        Reply { end: End::Cme(code), ..Reply::ok() }
    }

    pub fn cms(code: u16) -> Reply {
        Reply { end: End::Cms(code), ..Reply::ok() }
    }

    /// One information line, then OK.
    pub fn line(text: impl Into<String>) -> Reply {
        Reply { lines: vec![text.into()], ..Reply::ok() }
    }

    pub fn lines(lines: Vec<String>) -> Reply {
        Reply { lines, ..Reply::ok() }
    }

    pub fn then(mut self, after: impl FnOnce() + Send + 'static) -> Reply {
        self.after.push(Box::new(after));
        self
    }

    /// The bytes on the wire, with errors shown per `cmee` (0 plain, 1 numeric, 2 verbose).
    pub fn render(&self, cmee: u8) -> Vec<u8> {
        let mut out = Vec::new();
        for l in &self.lines {
            out.extend(framed(l));
        }
        match self.end {
            End::Ok => out.extend(framed("OK")),
            End::Error => out.extend(framed("ERROR")),
            End::Cme(code) => out.extend(framed(&error_text("+CME ERROR", code, cme_verbose(code), cmee))),
            End::Cms(code) => out.extend(framed(&error_text("+CMS ERROR", code, cms_verbose(code), cmee))),
            End::Prompt => out.extend(b"\r\n> "),
            End::None => {}
        }
        out
    }
}

/// A response or URC line as sent: `\r\n<text>\r\n`.
pub fn framed(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 4);
    out.extend(b"\r\n");
    out.extend(text.as_bytes());
    out.extend(b"\r\n");
    out
}

/// An error result per `+CMEE`: 0 plain `ERROR`, 1 the number, 2 the text (the number if the
/// code has no text).
fn error_text(prefix: &str, code: u16, verbose: Option<&str>, cmee: u8) -> String {
    match (cmee, verbose) {
        (0, _) => "ERROR".to_owned(),
        (2, Some(text)) => format!("{prefix}: {text}"),
        _ => format!("{prefix}: {code}"),
    }
}

/// TS 27.007 §9.2.1 and §9.2.2: the texts of the `+CME ERROR` codes (general, and the GPRS
/// ones for the EMM/ESM causes the network gives).
pub fn cme_verbose(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "phone failure",
        1 => "no connection to phone",
        2 => "phone-adaptor link reserved",
        3 => "operation not allowed",
        4 => "operation not supported",
        5 => "PH-SIM PIN required",
        10 => "SIM not inserted",
        11 => "SIM PIN required",
        12 => "SIM PUK required",
        13 => "SIM failure",
        14 => "SIM busy",
        15 => "SIM wrong",
        16 => "incorrect password",
        17 => "SIM PIN2 required",
        18 => "SIM PUK2 required",
        20 => "memory full",
        21 => "invalid index",
        22 => "not found",
        23 => "memory failure",
        24 => "text string too long",
        25 => "invalid characters in text string",
        26 => "dial string too long",
        27 => "invalid characters in dial string",
        30 => "no network service",
        31 => "network timeout",
        32 => "network not allowed - emergency calls only",
        50 => "incorrect parameters",
        100 => "unknown",
        103 => "Illegal MS",
        106 => "Illegal ME",
        107 => "GPRS services not allowed",
        111 => "PLMN not allowed",
        112 => "Location area not allowed",
        113 => "Roaming not allowed in this location area",
        132 => "service option not supported",
        133 => "requested service option not subscribed",
        134 => "service option temporarily out of order",
        148 => "unspecified GPRS error",
        149 => "PDP authentication failure",
        150 => "invalid mobile class",
        _ => return None,
    })
}

/// TS 27.005 §3.2.5: the `+CMS ERROR` codes of the ME and the network (the standard gives
/// them names; the verbose form shows those).
pub fn cms_verbose(code: u16) -> Option<&'static str> {
    Some(match code {
        300 => "ME failure",
        301 => "SMS service of ME reserved",
        302 => "operation not allowed",
        303 => "operation not supported",
        304 => "invalid PDU mode parameter",
        305 => "invalid text mode parameter",
        310 => "(U)SIM not inserted",
        311 => "(U)SIM PIN required",
        312 => "PH-(U)SIM PIN required",
        313 => "(U)SIM failure",
        314 => "(U)SIM busy",
        315 => "(U)SIM wrong",
        316 => "(U)SIM PUK required",
        317 => "(U)SIM PIN2 required",
        318 => "(U)SIM PUK2 required",
        320 => "memory failure",
        321 => "invalid memory index",
        322 => "memory full",
        330 => "SMSC address unknown",
        331 => "no network service",
        332 => "network timeout",
        340 => "no +CNMA acknowledgement expected",
        500 => "unknown error",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(r: &mut LineReader) -> Vec<Input> {
        std::iter::from_fn(|| r.next_input()).collect()
    }

    fn line(text: &str, term: u8) -> Input {
        Input::Line { text: text.to_owned(), term }
    }

    #[test]
    fn partial_lines_and_every_terminator() {
        let mut r = LineReader::new();
        r.push(b"AT+CE");
        assert!(lines(&mut r).is_empty());
        r.push(b"REG?\r\nAT\rATI\n\r\n");
        assert_eq!(lines(&mut r), vec![line("AT+CEREG?", b'\r'), line("AT", b'\r'), line("ATI", b'\n')]);
        // A `\n` arriving in a later piece still belongs to its `\r`.
        r.push(b"AT\r");
        r.push(b"\nAT\x08\x08AT+X\r");
        assert_eq!(lines(&mut r), vec![line("AT", b'\r'), line("AT+X", b'\r')]);
    }

    #[test]
    fn long_lines_overflow_and_the_next_line_is_clean() {
        let mut r = LineReader::new();
        r.push(&vec![b'A'; MAX_LINE + 10]);
        r.push(b"\rAT\r");
        assert_eq!(lines(&mut r), vec![Input::Overflow { term: b'\r' }, line("AT", b'\r')]);
    }

    #[test]
    fn payload_mode_takes_bytes_already_buffered() {
        let mut r = LineReader::new();
        r.push(b"AT+QISEND=0,4\rab\r\nAT\r");
        assert_eq!(r.next_input(), Some(line("AT+QISEND=0,4", b'\r')));
        r.expect_payload(4);
        assert_eq!(r.next_input(), Some(Input::Payload(b"ab\r\n".to_vec())));
        assert_eq!(lines(&mut r), vec![line("AT", b'\r')]);
    }

    #[test]
    fn the_lf_of_a_crlf_command_is_not_payload() {
        let mut r = LineReader::new();
        r.push(b"AT+QISEND=0,2\r");
        assert_eq!(r.next_input(), Some(line("AT+QISEND=0,2", b'\r')));
        r.expect_payload(2);
        assert_eq!(r.next_input(), None);
        r.push(b"\n\nx");
        assert_eq!(r.next_input(), Some(Input::Payload(b"\nx".to_vec())));
    }

    #[test]
    fn parses_basic_extended_and_chained_commands() {
        let cmds = parse_line("ATE0V1").unwrap();
        assert_eq!(cmds.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["E", "V"]);
        assert_eq!(cmds[0].int(0), Some(0));
        let cmds = parse_line("at+cmee=2;+CEREG?;+COPS=?;+QIOPEN=1,0,\"TCP\",\"a;b,c\",7000,0,1").unwrap();
        assert_eq!(cmds[0].name, "+CMEE");
        assert_eq!((cmds[1].form, cmds[2].form), (Form::Read, Form::Test));
        assert_eq!(cmds[3].text(3), Some("a;b,c"));
        assert_eq!(cmds[3].int(4), Some(7000));
        assert_eq!(parse_line("AT").unwrap(), vec![]);
        assert!(parse_line("HELLO").is_err());
        assert!(parse_line("AT+X=\"open").is_err());
    }

    #[test]
    fn errors_follow_cmee() {
        let r = Reply::cme(10);
        assert_eq!(r.render(0), b"\r\nERROR\r\n");
        assert_eq!(r.render(1), b"\r\n+CME ERROR: 10\r\n");
        assert_eq!(r.render(2), b"\r\n+CME ERROR: SIM not inserted\r\n");
        assert_eq!(Reply::line("+CSQ: 20,99").render(1), b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
        let r = Reply::cms(321);
        assert_eq!(r.render(0), b"\r\nERROR\r\n");
        assert_eq!(r.render(1), b"\r\n+CMS ERROR: 321\r\n");
        assert_eq!(r.render(2), b"\r\n+CMS ERROR: invalid memory index\r\n");
        // A code without a text stays numeric in verbose mode.
        assert_eq!(Reply::cme(999).render(2), b"\r\n+CME ERROR: 999\r\n");
    }

    #[test]
    fn message_bodies_end_at_ctrl_z_or_esc() {
        let mut r = LineReader::new();
        r.push(b"AT+CMGS=\"+491\"\r\nhel");
        assert_eq!(r.next_input(), Some(line("AT+CMGS=\"+491\"", b'\r')));
        r.expect_message();
        assert_eq!(r.next_input(), None);
        r.push(b"lo\rx\x08!\x1aAT\r");
        assert_eq!(r.next_input(), Some(Input::Message { body: b"hello\r!".to_vec(), send: true }));
        assert_eq!(lines(&mut r), vec![line("AT", b'\r')]);
        r.expect_message();
        r.push(b"no\x1b");
        assert_eq!(r.next_input(), Some(Input::Message { body: b"no".to_vec(), send: false }));
    }
}
