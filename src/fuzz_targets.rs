//! The bodies of the fuzz targets in `fuzz/` (see `fuzz/README.md`), shared with the corpus
//! replay in `tests/fuzz_corpus.rs`, which runs them on stable in `cargo test`. Each takes
//! arbitrary bytes and must not panic; the first byte, where there is one, steers the target
//! (chunk sizes, which decoder), the rest is the input.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// A target's body: arbitrary bytes in, a panic is a finding.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` call it.
pub const TARGETS: &[(&str, Target)] = &[
    ("modem_at", modem_at),
    ("console", console),
    ("simtrace_codec", simtrace_codec),
    ("usim_apdu", usim_apdu),
    ("fixture", fixture),
    ("firmware_at", firmware_at),
];

/// (a) The simulated modem's AT input: the line reader (bytes in pieces, the `AT+QISEND`
/// payload, the `AT+CMGS` message body) and `parse_line`, as the modem's port uses them.
pub fn modem_at(data: &[u8]) {
    {
        use crate::sim::modem::at_stream::{Form, Input, LineReader, MAX_LINE, Reply, parse_line};
        let Some((&ctl, rest)) = data.split_first() else { return };
        let _ = parse_line(&String::from_utf8_lossy(rest));
        let mut reader = LineReader::new();
        for piece in rest.chunks(usize::from(ctl & 0x1F) + 1) {
            reader.push(piece);
            while let Some(input) = reader.next_input() {
                if let Input::Message { body, .. } = &input {
                    assert!(body.len() <= MAX_LINE, "a message body longer than MAX_LINE");
                }
                let Input::Line { text, .. } = input else { continue };
                assert!(text.len() <= MAX_LINE * 3, "a line longer than MAX_LINE allows");
                let Ok(cmds) = parse_line(&text) else { continue };
                for cmd in &cmds {
                    assert!(!cmd.name.is_empty());
                    for i in 0..=cmd.args.len() {
                        let _ = (cmd.int(i), cmd.text(i), cmd.int_in(i, 0..=255));
                    }
                    // As the port does after the prompt of `AT+QISEND=<id>,<len>`.
                    if cmd.name == "+QISEND"
                        && let Some(len) = cmd.int_in(1, 1..=1460)
                    {
                        reader.expect_payload(len as usize);
                    }
                    // As the port does after the prompt of `AT+CMGS=...`.
                    if cmd.name == "+CMGS" && cmd.form == Form::Set {
                        reader.expect_message();
                    }
                }
                let _ = Reply::lines(vec![text]).render(ctl >> 6);
                let _ = Reply::cms(u16::from(ctl) << 2).render(ctl >> 6);
            }
        }
    }
}

/// (b) The reference firmware's view of modem output: the splitter (lines, the `> ` prompt,
/// `+QIURC: "recv"` payloads), final results, URCs, and the response prefix of a command.
pub fn firmware_at(data: &[u8]) {
    use crate::reference_firmware::at_client::response_prefix;
    use crate::reference_firmware::urc::{self, Final, Item, Splitter, Urc};
    let Some((&ctl, rest)) = data.split_first() else { return };
    let mut splitter = Splitter::default();
    for piece in rest.chunks(usize::from(ctl & 0x3F) + 1) {
        for item in splitter.push(piece) {
            let Item::Line(line) = item else { continue };
            let _ = Final::parse(&line);
            let _ = urc::is_urc(&line);
            let _ = urc::fields(&line);
            let _ = response_prefix(&line);
            if let Some(Urc::Cereg(c)) = urc::parse(&line) {
                let _ = (c.registered(), c.denied());
            }
        }
    }
}

/// (c) The virtual USIM: a card from 3GPP TS 35.208 test set 1, fed a sequence of command
/// APDUs, each a length byte and that many bytes. The first byte: bit 0 a card with a PIN,
/// bit 1 a warm reset between APDUs.
pub fn usim_apdu(data: &[u8]) {
    use crate::sim::usim::VirtualUsim;
    let Some((&ctl, mut rest)) = data.split_first() else { return };
    let seed = test_seed(ctl & 1 != 0);
    let mut card = VirtualUsim::from_seed(seed).expect("the test seed makes a card");
    while let Some((&len, tail)) = rest.split_first() {
        let (apdu, tail) = tail.split_at(usize::from(len).min(tail.len()));
        let out = card.transmit(apdu);
        assert!((2..=258).contains(&out.len()), "a response of {} bytes to {apdu:02x?}", out.len());
        if ctl & 2 != 0 {
            card.reset();
        }
        rest = tail;
    }
}

fn test_seed(pin: bool) -> &'static crate::model::Seed {
    use crate::model::secret::SecretFormat;
    use crate::model::{Iccid, Imsi, Rat, Secret, Seed};
    static SEEDS: OnceLock<[Seed; 2]> = OnceLock::new();
    let seeds = SEEDS.get_or_init(|| {
        let base = std::path::Path::new(".");
        let seed = |pin: Option<&str>| Seed {
            id: "fuzz-seed".into(),
            description: String::new(),
            iccid: Iccid::parse("8988211000000430010").expect("test ICCID"),
            imsi: Imsi::parse("262011106487504", None).expect("test IMSI"),
            home: "telekom-de".into(),
            rats: vec![Rat::Gsm, Rat::Umts, Rat::Lte],
            k: Secret::parse("465b5ce8b199b49faa5f0a2ee238a6bc", SecretFormat::Hex(32), base).expect("K"),
            opc: Secret::parse("cd63cb71954a9f4e48a5994e37a02baf", SecretFormat::Hex(32), base).expect("OPc"),
            sqn: Some(0xff9b_b4d0_b600),
            pin: pin.map(|p| Secret::parse(p, SecretFormat::Pin, base).expect("PIN")),
            tariffs: Default::default(),
        };
        [seed(None), seed(Some("2468"))]
    });
    &seeds[usize::from(pin)]
}

/// (d) The SIMtrace2 codec: a stream decoder fed the bytes in pieces, and every frame it
/// decodes encoded again, which must decode to the same frame.
pub fn simtrace_codec(data: &[u8]) {
    use crate::hw::simtrace::{Decoder, Frame};
    let Some((&ctl, rest)) = data.split_first() else { return };
    let _ = Frame::decode(rest);
    let mut decoder = Decoder::new();
    for piece in rest.chunks(usize::from(ctl) + 1) {
        decoder.push(piece);
        while let Some(result) = decoder.pop() {
            let Ok(frame) = result else { continue };
            if let Ok(bytes) = frame.try_encode() {
                assert_eq!(Frame::decode(&bytes).as_ref(), Ok(&frame), "re-encoded as {bytes:02x?}");
            }
        }
        assert!(decoder.buffered() <= rest.len());
    }
}

/// (e) The DUT console reader, bytes in pieces: bit 0 of the first byte picks the JSON
/// protocol or the reference firmware's text patterns.
pub fn console(data: &[u8]) {
    use crate::console::reader::ConsoleReader;
    use crate::model::ConsoleFormat;
    thread_local! {
        // Compiling the patterns costs more than a run; a reader is empty again after a
        // final line end, so one is kept.
        static PATTERNS: RefCell<ConsoleReader> = RefCell::new(
            ConsoleReader::new(&ConsoleFormat::Patterns(crate::reference_firmware::console::text_patterns()))
                .expect("the firmware's patterns compile"),
        );
    }
    let Some((&ctl, rest)) = data.split_first() else { return };
    let feed = |reader: &mut ConsoleReader| {
        for (i, piece) in rest.chunks(usize::from(ctl >> 1) + 1).enumerate() {
            reader.push(Duration::from_millis(i as u64), piece);
        }
        reader.push(Duration::MAX, b"\n");
        let _ = reader.any(|_| false);
        reader.events.clear();
        reader.noise.clear();
        reader.lines.clear();
    };
    if ctl & 1 == 0 {
        feed(&mut ConsoleReader::new(&ConsoleFormat::Json).expect("JSON needs no patterns"));
    } else {
        PATTERNS.with(|r| feed(&mut r.borrow_mut()));
    }
}

/// (f) The fixture loader on a one-file tree: the first byte picks the kind (carrier, seed,
/// site, scenario, bench file) and the slot rule, the rest is the file's text. The
/// diagnostics are rendered too, as `seedrig check` shows them.
pub fn fixture(data: &[u8]) {
    use crate::fixture::{Kind, SlotRule, load_texts};
    let Some((&ctl, rest)) = data.split_first() else { return };
    // The loader reads files as UTF-8: other bytes never get past reading.
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let kind = Kind::ALL[usize::from(ctl) % Kind::ALL.len()];
    let slots = if ctl & 0x80 == 0 { SlotRule::Check } else { SlotRule::Skip };
    let path = PathBuf::from(format!("/nonexistent/fixtures/{}/x.toml", kind.folder()));
    let loaded = load_texts(vec![(kind, path, text.to_owned())], slots);
    let _ = loaded.summary(kind);
    let _ = loaded.diagnostics.render(false);
}
