//! Secret masking, the one way every output hides secrets (K, OPc, PINs): the fixture files
//! diagnostics quote ([`mask_secrets`], [`mask_hex_runs`]) and every line a bench received or
//! a message quotes — console and observer logs, timelines, pages, a DUT's command line and
//! output ([`mask_line`]). Each masked character becomes `*`.

use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

/// Keys whose values are secrets, in any case (`K`, `OPc`, `Ki`): Milenage K (Ki in GSM
/// terms), OP and OPc, PINs, PUKs and ADM codes.
pub const SECRET_KEYS: &[&str] =
    &["k", "ki", "op", "opc", "pin", "pin1", "pin2", "puk", "puk1", "puk2", "adm", "adm1"];

/// This many hex digits in a row are taken for a key (a Milenage K or OPc has 32), whichever
/// key holds them and wherever they stand on a line.
pub const SECRET_HEX_RUN: usize = 32;

/// Whether `key` (the last part of a dotted key) names a secret.
fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Masks secrets by what they are, not by how they are written: the value of every key
/// [`SECRET_KEYS`] names — in any case, quoted or dotted (`keys.k`), at the top level or in
/// an inline table, and in any form: a string (unless an `env:` or `file:` reference), a
/// number (`0x...`), a bare word, an array (over several lines, too) — and every run of
/// [`SECRET_HEX_RUN`] or more hex digits anywhere (a key pasted into another field, or a
/// comment). Every masked byte becomes `*`; line ends stay, so spans, lines and columns stay
/// valid. Works on raw text, so it also masks files that do not parse.
pub fn mask_secrets(text: &str) -> String {
    let raw = text.as_bytes();
    let mut bytes = raw.to_vec();
    let mut i = 0;
    while i < raw.len() {
        // Keys are ASCII: a position inside a multi-byte character (a BOM, a `ü` in a
        // comment) starts none, nor does one inside a word or after a dot.
        let starts_key = text.is_char_boundary(i) && (i == 0 || !continues_key(raw[i - 1]));
        if starts_key && let Some(value) = secret_value(text, i) {
            let keep: &[u8] = if value.structured { b" \t\r\n,[]{}" } else { b"\r\n" };
            for b in &mut bytes[value.span.clone()] {
                if !keep.contains(b) {
                    *b = b'*';
                }
            }
            i = value.span.end.max(i + 1);
            continue;
        }
        i += 1;
    }
    blank_hex_runs(&mut bytes);
    // Only whole characters were replaced (a multi-byte character byte for byte, every byte
    // by '*'), so this is UTF-8; were it not, every non-ASCII byte becomes '*'.
    String::from_utf8(bytes).unwrap_or_else(|e| {
        e.into_bytes().iter().map(|&b| if b.is_ascii() { b as char } else { '*' }).collect()
    })
}

/// `text` with every run of [`SECRET_HEX_RUN`] or more hex digits masked: for messages, which
/// may quote a value a secret was pasted into.
pub fn mask_hex_runs(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    blank_hex_runs(&mut bytes);
    // Only ASCII digits were replaced, by ASCII.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

fn blank_hex_runs(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start >= SECRET_HEX_RUN {
            bytes[start..i].fill(b'*');
        }
        i = i.max(start + 1);
    }
}

/// Bytes that continue a (dotted) key: no key starts right after one.
fn continues_key(b: u8) -> bool {
    is_bare_key_byte(b) || b == b'.'
}

fn is_bare_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// A secret's value to mask: its bytes, and whether it is an array or table whose brackets and
/// commas are kept.
struct SecretValue {
    span: Range<usize>,
    structured: bool,
}

/// If a key naming a secret starts at `at` and is given a value, the value.
fn secret_value(text: &str, at: usize) -> Option<SecretValue> {
    let b = text.as_bytes();
    let (key, end) = key_path(text, at)?;
    if !is_secret_key(key) {
        return None;
    }
    let eq = skip_blanks(b, end);
    if b.get(eq) != Some(&b'=') {
        return None;
    }
    value_span(text, skip_blanks(b, eq + 1))
}

/// The key starting at `at` — bare or quoted, dotted with blanks around the dots or not
/// (`k`, `"OPc"`, `keys.k`, `keys . 'ki'`): its last part, and where the key ends.
fn key_path(text: &str, at: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    let mut i = at;
    loop {
        let part = match *b.get(i)? {
            q @ (b'"' | b'\'') => {
                let close = i + 1 + text[i + 1..].find([q as char, '\n'])?;
                if b[close] != q {
                    return None;
                }
                let part = &text[i + 1..close];
                i = close + 1;
                part
            }
            c if is_bare_key_byte(c) => {
                let end = i + b[i..].iter().take_while(|c| is_bare_key_byte(**c)).count();
                let part = &text[i..end];
                i = end;
                part
            }
            _ => return None,
        };
        let next = skip_blanks(b, i);
        if b.get(next) == Some(&b'.') {
            i = skip_blanks(b, next + 1);
            continue;
        }
        return Some((part, i));
    }
}

/// The value starting at `at`, in whatever form it is written.
fn value_span(text: &str, at: usize) -> Option<SecretValue> {
    let b = text.as_bytes();
    let rest = &text[at..];
    let line_end = at + rest.find('\n').unwrap_or(rest.len());
    let string = |span: Range<usize>| {
        let value = &text[span.clone()];
        let reference = value.starts_with("env:") || value.starts_with("file:");
        (!reference).then_some(SecretValue { span, structured: false })
    };
    for quotes in ["\"\"\"", "'''"] {
        if rest.starts_with(quotes) {
            let start = at + 3;
            let end = text[start..].find(quotes).map_or(text.len(), |i| start + i);
            return string(start..end);
        }
    }
    match *b.get(at)? {
        q @ (b'"' | b'\'') => {
            let start = at + 1;
            let end = closing_quote(b, start, line_end, q)
                .unwrap_or_else(|| start + text[start..line_end].trim_end().len());
            string(start..end)
        }
        b'[' | b'{' => Some(SecretValue { span: at + 1..closing_bracket(text, at), structured: true }),
        _ => {
            // A bare value (a number, a hex number, a word) runs to the next blank, comma,
            // bracket or comment.
            let len = text[at..line_end]
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']' | '#'))
                .unwrap_or(line_end - at);
            (len > 0).then_some(SecretValue { span: at..at + len, structured: false })
        }
    }
}

/// Where a string whose text starts at `from` closes with `quote` on its line (a basic
/// string's `\"` does not close it).
fn closing_quote(b: &[u8], from: usize, line_end: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while i < line_end {
        match b[i] {
            b'\\' if quote == b'"' => i += 1,
            c if c == quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where the array or inline table opening at `at` closes, over as many lines as it takes. One
/// left open ends before a line that assigns a key (`opc = ...`), which no element can start
/// with, or else at the end of the text.
fn closing_bracket(text: &str, at: usize) -> usize {
    let b = text.as_bytes();
    let mut open = vec![b[at]];
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'[' | b'{' => open.push(b[i]),
            b']' | b'}' => {
                open.pop();
                if open.is_empty() {
                    return i;
                }
            }
            q @ (b'"' | b'\'') => {
                // A string's brackets are no brackets; one left open ends at its line's end.
                let line_end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                i = closing_quote(b, i + 1, line_end, q).unwrap_or(line_end - 1).max(i);
            }
            b'#' => {
                // A comment runs to the line end, which is looked at next.
                i = text[i..].find('\n').map_or(b.len(), |n| i + n);
                continue;
            }
            b'\n' if open.last() == Some(&b'[') && assigns_key(text, i + 1) => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Whether the line starting at `at` begins with `key =`.
fn assigns_key(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let at = skip_blanks(b, at);
    key_path(text, at).is_some_and(|(_, end)| b.get(skip_blanks(b, end)) == Some(&b'='))
}

/// A line as it may be shown anywhere: secrets masked as everywhere else — the values of the
/// secret keys written `key = value` (as [`mask_secrets`] finds them) or
/// `"key": value` / `key: value` (JSON, log lines), every run of 32 or more hex digits, and the
/// PINs and passwords of the AT commands that carry them (`AT+CPIN`, `AT+CPIN2`, `AT+CLCK`,
/// `AT+CPWD`: every digit after the `=`). Each masked character becomes `*`.
pub fn mask_line(line: &str) -> String {
    static KEYED: OnceLock<Regex> = OnceLock::new();
    static AT_PIN: OnceLock<Regex> = OnceLock::new();
    let masked = mask_secrets(line);
    let keyed = KEYED.get_or_init(|| {
        let keys = SECRET_KEYS.join("|");
        Regex::new(&format!(
            r#"(?:^|[^A-Za-z0-9_.])["']?(?i-u:{keys})["']?\s*:\s*("[^"]*"|'[^']*'|[^\s,;}}\]]+)"#
        ))
        .expect("the secret-key pattern compiles")
    });
    let at_pin = AT_PIN.get_or_init(|| {
        Regex::new(r"(?i-u:AT\+(?:CPIN2?|CLCK|CPWD))=(.*)").expect("the AT pattern compiles")
    });
    let mut bytes = masked.into_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    for caps in keyed.captures_iter(&text) {
        if let Some(m) = caps.get(1) {
            let value = m.as_str();
            let quoted = value.starts_with(['"', '\'']);
            let (from, to) = if quoted { (m.start() + 1, m.end() - 1) } else { (m.start(), m.end()) };
            if !(quoted && (value[1..].starts_with("env:") || value[1..].starts_with("file:"))) {
                star(&mut bytes, from, to, |_| true);
            }
        }
    }
    for caps in at_pin.captures_iter(&text) {
        if let Some(m) = caps.get(1) {
            star(&mut bytes, m.start(), m.end(), |b| b.is_ascii_digit());
        }
    }
    // Only ASCII bytes were replaced, by ASCII, in whole characters.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Every byte in `from..to` that `which` picks, and that is ASCII, becomes `*`.
fn star(bytes: &mut [u8], from: usize, to: usize, which: impl Fn(u8) -> bool) {
    for b in &mut bytes[from..to.max(from)] {
        if b.is_ascii() && which(*b) {
            *b = b'*';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_inline_secrets_only() {
        let text = "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nopc='ab'\npin = \"env:PIN\"\nname = \"k\"\n";
        let masked = mask_secrets(text);
        assert_eq!(
            masked,
            "k = \"********************************\"\nopc='**'\npin = \"env:PIN\"\nname = \"k\"\n"
        );
    }

    #[test]
    fn masks_inline_tables_and_unterminated_values() {
        assert_eq!(mask_secrets("keys = { k = \"abcd\", x = 1 }"), "keys = { k = \"****\", x = 1 }");
        assert_eq!(mask_secrets("opc = \"abcd\n"), "opc = \"****\n");
    }

    #[test]
    fn masks_secrets_written_without_quotes() {
        assert_eq!(mask_secrets("pin = 1234\n"), "pin = ****\n");
        assert_eq!(mask_secrets("keys = { pin = 1234, x = 1 }"), "keys = { pin = ****, x = 1 }");
        assert_eq!(mask_secrets("pin = 1234 # old\r\n"), "pin = **** # old\r\n");
    }

    #[test]
    fn masking_survives_any_characters() {
        let bom = "\u{feff}k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\n";
        assert_eq!(mask_secrets(bom), "\u{feff}k = \"********************************\"\n");
        let umlaut = "# Zürich — Hauptbahnhof\nné = \"é\" # pin = \"ab\"\nopc = \"äöü\"\n";
        assert_eq!(
            mask_secrets(umlaut),
            "# Zürich — Hauptbahnhof\nné = \"é\" # pin = \"**\"\nopc = \"******\"\n"
        );
    }

    const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";

    #[test]
    fn masks_a_secret_key_in_any_case_dotted_or_quoted() {
        for line in [
            format!("OPc = \"{K}\"\n"),
            format!("K = '{K}'\n"),
            format!("ki = \"{K}\"\n"),
            format!("Ki=\"{K}\"\n"),
            format!("keys.k = \"{K}\"\n"),
            format!("keys . \"OP\" = \"{K}\"\n"),
            format!("\"opc\" = \"{K}\"\n"),
            format!("card = {{ ki = \"{K}\", slot = 1 }}\n"),
        ] {
            let masked = mask_secrets(&line);
            assert!(!masked.contains("465b") && masked.contains(&"*".repeat(32)), "{line:?} -> {masked:?}");
            assert_eq!(masked.len(), line.len());
        }
        assert_eq!(
            mask_secrets("PIN1 = \"1234\"\npuk = '12345678'\n"),
            "PIN1 = \"****\"\npuk = '********'\n"
        );
        // Keys that only look alike are left alone.
        let plain = "kind = \"lab\"\nopcode = 1\nkeys = 2\npin_locked = true\nk2 = \"ab\"\n";
        assert_eq!(mask_secrets(plain), plain);
        // References say where a secret is, not what it is.
        let refs = "K = \"env:SEED_K\"\nkeys.opc = 'file:opc.txt'\n";
        assert_eq!(mask_secrets(refs), refs);
    }

    #[test]
    fn masks_a_secret_in_any_form() {
        assert_eq!(mask_secrets("k = 0x465b5ce8\n"), "k = **********\n");
        assert_eq!(mask_secrets("k = 465b5ce8 # K\n"), "k = ******** # K\n");
        assert_eq!(mask_secrets("k = [0x46, 0x5b, 0x5c]\nx = 1\n"), "k = [****, ****, ****]\nx = 1\n");
        // An array over several lines, with a comment.
        assert_eq!(
            mask_secrets("opc = [\n  0xcd, 0x63, # first two\n  0xcb,\n]\nx = 1\n"),
            "opc = [\n  ****, ****, * ***** ***\n  ****,\n]\nx = 1\n"
        );
        // One left open ends where the next key starts.
        assert_eq!(mask_secrets("k = [0x46, 0x5b\nimsi = \"262\"\n"), "k = [****, ****\nimsi = \"262\"\n");
        // A multi-line string, and a basic string with an escaped quote.
        assert_eq!(mask_secrets("k = \"\"\"\n465b\n5ce8\"\"\"\n"), "k = \"\"\"\n****\n****\"\"\"\n");
        assert_eq!(mask_secrets("pin = \"12\\\"34\" # x\n"), "pin = \"******\" # x\n");
    }

    #[test]
    fn masks_a_key_pasted_anywhere() {
        let upper = K.to_uppercase();
        let masked = mask_secrets(&format!("imsi = \"{upper}\"\n# the K: {K}, again\r\nname = 0x{K}\n"));
        assert_eq!(masked, format!("imsi = \"{0}\"\n# the K: {0}, again\r\nname = 0x{0}\n", "*".repeat(32)));
        // Shorter runs are ICCIDs, IMSIs, serial numbers: shown.
        let short = "iccid = \"8949020000123456788\"\nboard = \"8E2B4D1C\"\nx = \"465b5ce8b199b49faa5f0a2ee238a6b\"\n";
        assert_eq!(mask_secrets(short), short);
        assert_eq!(
            mask_hex_runs(&format!("unknown carrier \"{K}\"")),
            format!("unknown carrier \"{}\"", "*".repeat(32))
        );
    }

    #[test]
    fn masks_secrets_in_every_form_a_line_may_carry_them() {
        assert_eq!(
            mask_line(r#"{"event":"cfg","pin":"1234","slot":2}"#),
            r#"{"event":"cfg","pin":"****","slot":2}"#
        );
        assert_eq!(mask_line("provisioned: OPc: 0x00112233 K=abcd"), "provisioned: OPc: ********** K=****");
        assert_eq!(mask_line("pin = 1234"), "pin = ****");
        assert_eq!(mask_line(r#"> AT+CPIN="1234""#), r#"> AT+CPIN="****""#);
        assert_eq!(mask_line(r#"AT+CLCK="SC",0,"0000""#), r#"AT+CLCK="SC",*,"****""#);
        assert_eq!(
            mask_line("key 000102030405060708090A0B0C0D0E0F in the log"),
            "key ******************************** in the log"
        );
        // Nothing else is touched: registration URCs, ICCIDs, IMSIs, words that merely contain
        // a secret key's name.
        for plain in [
            "+CEREG: 1,\"1A2B\",\"01A2B3C4\",7",
            "+CPIN: READY",
            r#"{"event":"attempt","iccid":"8949030999000000213","slot":0,"role":"master"}"#,
            "opening port /dev/ttyUSB2; stopping: done",
            r#"{"event":"judged","reason":"registration rejected, EMM cause 15"}"#,
        ] {
            assert_eq!(mask_line(plain), plain);
        }
    }
}
