//! The card trace beside a scenario's page, `<scenario>.pcapng`: every slot's card traffic as
//! osmocom's SIMtrace2 and osmo-remsim send it — GSMTAP over UDP to port 4729 — for Wireshark,
//! whose `gsmtap` and `gsm_sim` dissectors decode it.
//!
//! Layout (pcapng, little-endian, written here by hand; a few blocks suffice):
//! - one Section Header Block whose comment names the scenario, its verdict, each slot's seed
//!   with its address and interface, what the timestamps are, and what was tested;
//! - one Interface Description Block per SIM slot (the scenario's slots in slot order, then any
//!   other slot the trace saw), link type `LINKTYPE_IPV4` (228), named `slot 2 (vodafone-uk-1)`
//!   (`frame.interface_name`), with the slot's address (`if_IPv4addr`), microsecond timestamps;
//! - one Enhanced Packet Block per ATR, APDU or other card event, in time order, each an IPv4
//!   and UDP datagram from the slot's address `127.0.0.{slot + 1}` to `127.0.0.254`, port 4729
//!   to 4729 (so `ip.src == 127.0.0.3` is slot 2), carrying:
//!   - an APDU: GSMTAP type SIM (4), sub-type APDU (0), then the command as the modem sent it
//!     (header and data; PIN values masked `FF`) followed by the card's response (data and
//!     status word) — one exchange in one frame, as SIMtrace2 sends it;
//!   - an ATR: GSMTAP type SIM, sub-type ATR (1), then the ATR's bytes (Wireshark before 4.4,
//!     Debian 12's 4.0 among them, decodes every SIM frame as an APDU: its ATR frames read as
//!     nonsense APDUs; their comment gives the ATR);
//!   - another card event (inserted, pulled, powered down, a card fault): GSMTAP type
//!     OSMOCORE_LOG (0x10), libosmocore's log frame, process `seedrig`, subsystem `card`, the
//!     event's words as its text (`gsmtap_log.string`);
//!
//!   the GSMTAP header's `sub_slot` is the SIM slot too; every frame's comment
//!   (`frame.comment`) gives its time from the DUT's start in real seconds and in nominal
//!   milliseconds (the timeline page's `t_ms`) and the slot's seed.
//!
//! Timestamps are the rig's clock — the real time at which the bench saw each item (an APDU:
//! when its header reached the bridge) — anchored to UTC wall-clock time at the DUT's start.

use std::fmt::Write as _;

use super::Identity;
use crate::clock::utc_micros as utc;
use crate::run::received::{CardWhat, Received};
use crate::run::{ScenarioResult, Verdict};

/// The UDP port GSMTAP goes to (IANA-assigned).
pub const GSMTAP_UDP_PORT: u16 = 4729;
const GSMTAP_VERSION: u8 = 2;
const GSMTAP_TYPE_SIM: u8 = 0x04;
const GSMTAP_TYPE_OSMOCORE_LOG: u8 = 0x10;
pub const GSMTAP_SIM_APDU: u8 = 0x00;
pub const GSMTAP_SIM_ATR: u8 = 0x01;
/// libosmocore's log level NOTICE.
const LOG_NOTICE: u8 = 5;
/// pcapng's link type for bare IPv4 packets.
pub const LINKTYPE_IPV4: u16 = 228;
/// Where every slot's frames go.
pub const SINK: [u8; 4] = [127, 0, 0, 254];

/// `<scenario>.pcapng`.
pub fn file_name(scenario: &str) -> String {
    format!("{scenario}.pcapng")
}

/// The address slot `slot`'s frames come from: `127.0.0.{slot + 1}`.
pub fn slot_address(slot: u8) -> [u8; 4] {
    [127, 0, 0, slot.saturating_add(1).min(253)]
}

/// The card trace of `r` as a pcapng file.
pub fn card_trace(r: &ScenarioResult, identity: &Identity) -> Vec<u8> {
    let application = format!("seedrig {}", env!("CARGO_PKG_VERSION"));
    let Some(x) = &r.received else {
        let comment = format!(
            "seedrig card trace: scenario {} ({}); nothing received: the scenario did not run on a bench\n{}",
            r.scenario,
            verdict(&r.verdict),
            identity.line()
        );
        return Pcapng::new(&comment, &application).into_bytes();
    };
    // The scenario's slots in slot order, then any other slot the trace saw.
    let mut slots: Vec<u8> = x.slots.iter().map(|s| s.slot).collect();
    slots.extend(x.cards.iter().map(|c| c.slot));
    slots.sort_unstable();
    slots.dedup();
    let name = |slot: u8| match x.seed_of(slot) {
        Some(s) => format!("slot {slot} ({})", s.seed),
        None => format!("slot {slot}"),
    };
    let mut out = Pcapng::new(&section_comment(r, x, &slots, identity), &application);
    for &slot in &slots {
        let description = match x.seed_of(slot) {
            Some(s) => format!(
                "SIM slot {slot}: seed {} ({}), GSMTAP from {}",
                s.seed,
                s.role,
                dotted(slot_address(slot))
            ),
            None => format!(
                "SIM slot {slot}: no seed of the scenario's, GSMTAP from {}",
                dotted(slot_address(slot))
            ),
        };
        out.interface(LINKTYPE_IPV4, &name(slot), &description, Some(slot_address(slot)));
    }
    let mut comment = String::new();
    for c in &x.cards {
        let Some(interface) = slots.iter().position(|s| *s == c.slot) else { continue };
        comment.clear();
        let gsmtap = match &c.what {
            CardWhat::Apdu { command, response, latency_us, fault } => {
                let mut payload = Vec::with_capacity(command.0.len() + response.0.len());
                payload.extend_from_slice(&command.0);
                payload.extend_from_slice(&response.0);
                let ms = *latency_us as f64 / 1000.0;
                if response.0.is_empty() {
                    let _ = write!(comment, "APDU; no answer from the card ({ms:.3} ms)");
                } else {
                    let _ = write!(comment, "APDU, {ms:.3} ms to the status word");
                }
                if command.0.len() > 5 && crate::bridge::trace::carries_pin(command.0[1]) {
                    comment.push_str("; PIN value masked (FF)");
                }
                if let Some(f) = fault {
                    let _ = write!(comment, "; card fault `{f}`");
                }
                gsmtap_sim(GSMTAP_SIM_APDU, c.slot, &payload)
            }
            CardWhat::Atr { atr, what } => {
                comment.push_str("ATR ");
                comment.push_str(&crate::encoding::hex::encode(&atr.0));
                let _ = write!(comment, "; {what}");
                gsmtap_sim(GSMTAP_SIM_ATR, c.slot, &atr.0)
            }
            CardWhat::Event { what } => {
                comment.push_str(what);
                let unix_us = x.start_unix_us + c.at_us;
                gsmtap_log(unix_us, c.slot, &format!("{}: {what}", name(c.slot)), &format!("slot {}", c.slot))
            }
        };
        let _ = write!(
            comment,
            "; {}; {:+.6} s real, {:.1} ms nominal from {}",
            name(c.slot),
            c.at_us as f64 / 1e6,
            x.nominal_ms(c.at_us),
            x.zero()
        );
        let packet = ipv4_udp(slot_address(c.slot), SINK, GSMTAP_UDP_PORT, &gsmtap);
        let unix_us = u64::try_from(x.start_unix_us + c.at_us).unwrap_or(0);
        out.packet(interface as u32, unix_us, &packet, Some(&comment));
    }
    out.into_bytes()
}

fn section_comment(r: &ScenarioResult, x: &Received, slots: &[u8], identity: &Identity) -> String {
    let mut c = format!("seedrig card trace: scenario {} ({})\n", r.scenario, verdict(&r.verdict));
    let _ = writeln!(
        c,
        "GSMTAP over UDP to {}:{GSMTAP_UDP_PORT}: SIM APDUs and ATRs, other card events as log frames; one interface and one source address per SIM slot:",
        dotted(SINK)
    );
    for (interface, &slot) in slots.iter().enumerate() {
        let seed = x
            .seed_of(slot)
            .map_or("no seed of the scenario's".to_owned(), |s| format!("{} ({})", s.seed, s.role));
        let _ = writeln!(
            c,
            "  slot {slot}: {seed}, ip.src == {}, frame.interface_id == {interface}",
            dotted(slot_address(slot))
        );
    }
    let _ = writeln!(
        c,
        "timestamps: the rig's clock (real time), anchored to UTC at {}, {}; nominal ms = (time - that) / time_scale {}; each frame's comment gives both",
        x.zero(),
        utc(x.start_unix_us),
        x.time_scale
    );
    c.push_str(&identity.line());
    c
}

/// The verdict in words, its reason masked (an error may quote the DUT's output).
fn verdict(v: &Verdict) -> String {
    match v {
        Verdict::Pass => "PASS".into(),
        Verdict::Fail => "FAIL".into(),
        Verdict::Error(why) => format!("ERROR: {why}"),
        Verdict::Skipped(why) => format!("SKIP: {why}"),
    }
}

fn dotted(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// A GSMTAP frame of type SIM: the 16-byte header (version 2, length 4 words, type SIM, the
/// sub-type, the SIM slot as sub-slot, the rest zero), then `payload`.
pub fn gsmtap_sim(sub_type: u8, slot: u8, payload: &[u8]) -> Vec<u8> {
    let mut g = gsmtap_header(GSMTAP_TYPE_SIM, sub_type, slot);
    g.extend_from_slice(payload);
    g
}

fn gsmtap_header(kind: u8, sub_type: u8, slot: u8) -> Vec<u8> {
    let mut h = Vec::with_capacity(16 + 96);
    // version, header length in 32-bit words, type, timeslot
    h.extend_from_slice(&[GSMTAP_VERSION, 4, kind, 0]);
    // ARFCN (2), signal dBm, SNR dB, frame number (4)
    h.extend_from_slice(&[0; 8]);
    // sub-type, antenna, sub-slot, reserved
    h.extend_from_slice(&[sub_type, 0, slot, 0]);
    h
}

/// A GSMTAP frame of type OSMOCORE_LOG (libosmocore's log messages): the header, then the log
/// header — the time (seconds and microseconds, big-endian), process `seedrig`, pid 0, level
/// NOTICE, subsystem `card`, `source` in the source-file field — then the text, NUL-terminated.
pub fn gsmtap_log(unix_us: i64, slot: u8, text: &str, source: &str) -> Vec<u8> {
    let mut g = gsmtap_header(GSMTAP_TYPE_OSMOCORE_LOG, 0, slot);
    let (secs, us) = (unix_us.div_euclid(1_000_000), unix_us.rem_euclid(1_000_000));
    g.extend_from_slice(&(secs as u32).to_be_bytes());
    g.extend_from_slice(&(us as u32).to_be_bytes());
    fixed(&mut g, "seedrig", 16);
    g.extend_from_slice(&0u32.to_be_bytes());
    g.extend_from_slice(&[LOG_NOTICE, 0, 0, 0]);
    fixed(&mut g, "card", 16);
    fixed(&mut g, source, 32);
    g.extend_from_slice(&0u32.to_be_bytes());
    g.extend_from_slice(text.as_bytes());
    g.push(0);
    g
}

/// `text` in a NUL-padded field of `len` bytes (cut to leave one NUL).
fn fixed(out: &mut Vec<u8>, text: &str, len: usize) {
    let bytes = &text.as_bytes()[..text.len().min(len - 1)];
    out.extend_from_slice(bytes);
    out.resize(out.len() + len - bytes.len(), 0);
}

/// An IPv4 packet (no options, don't-fragment, TTL 64) holding a UDP datagram from `port` to
/// `port`, both checksums computed.
pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], port: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut p = Vec::with_capacity(total);
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let ip_sum = checksum(&[&p[..20]]);
    p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    p.extend_from_slice(&port.to_be_bytes());
    p.extend_from_slice(&port.to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src);
    pseudo[4..8].copy_from_slice(&dst);
    pseudo[9] = 17;
    pseudo[10..].copy_from_slice(&(udp_len as u16).to_be_bytes());
    // A computed zero is sent as all ones (zero means "no checksum" in UDP over IPv4).
    let udp_sum = match checksum(&[&pseudo, &p[20..]]) {
        0 => 0xFFFF,
        s => s,
    };
    p[26..28].copy_from_slice(&udp_sum.to_be_bytes());
    p
}

/// The Internet checksum (RFC 1071) of the concatenated `parts` (each of even length but the
/// last).
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut words = part.chunks_exact(2);
        for w in &mut words {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// A pcapng file being written: one section, its interfaces, its packets.
pub struct Pcapng {
    buf: Vec<u8>,
}

/// The block types written: section header, interface description, enhanced packet.
mod block {
    pub const SHB: u32 = 0x0A0D_0D0A;
    pub const IDB: u32 = 0x0000_0001;
    pub const EPB: u32 = 0x0000_0006;
}

/// The section header's first field, which tells readers the byte order.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// The option codes written: those any block may carry, then the section header's
/// (`SHB_`) and the interface description's (`IF_`).
mod opt {
    pub const END: u16 = 0;
    pub const COMMENT: u16 = 1;
    pub const SHB_USERAPPL: u16 = 4;
    pub const IF_NAME: u16 = 2;
    pub const IF_DESCRIPTION: u16 = 3;
    pub const IF_IPV4ADDR: u16 = 4;
    pub const IF_TSRESOL: u16 = 9;
}

impl Pcapng {
    /// A section (version 1.0, length unknown) with `comment` and the writing application.
    pub fn new(comment: &str, application: &str) -> Pcapng {
        let mut p = Pcapng { buf: Vec::with_capacity(16 * 1024) };
        p.block(block::SHB, |b| {
            b.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&(-1i64).to_le_bytes());
            option(b, opt::COMMENT, comment.as_bytes());
            option(b, opt::SHB_USERAPPL, application.as_bytes());
            option(b, opt::END, &[]);
        });
        p
    }

    /// The next interface (its id counts from 0): `linktype`, no snapshot limit, microsecond
    /// timestamps, a name, a description and an IPv4 address (/32) if given.
    pub fn interface(&mut self, linktype: u16, name: &str, description: &str, ipv4: Option<[u8; 4]>) {
        self.block(block::IDB, |b| {
            b.extend_from_slice(&linktype.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            option(b, opt::IF_NAME, name.as_bytes());
            option(b, opt::IF_DESCRIPTION, description.as_bytes());
            if let Some(a) = ipv4 {
                option(b, opt::IF_IPV4ADDR, &[a[0], a[1], a[2], a[3], 255, 255, 255, 255]);
            }
            option(b, opt::IF_TSRESOL, &[6]);
            option(b, opt::END, &[]);
        });
    }

    /// A packet on `interface` at `unix_us` (microseconds since the Unix epoch), captured whole.
    pub fn packet(&mut self, interface: u32, unix_us: u64, data: &[u8], comment: Option<&str>) {
        self.block(block::EPB, |b| {
            b.extend_from_slice(&interface.to_le_bytes());
            b.extend_from_slice(&((unix_us >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(unix_us as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(data);
            pad(b);
            if let Some(c) = comment {
                option(b, opt::COMMENT, c.as_bytes());
                option(b, opt::END, &[]);
            }
        });
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// A block: its type, its total length before and after the body (padded to 32 bits).
    fn block(&mut self, kind: u32, body: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        self.buf.extend_from_slice(&kind.to_le_bytes());
        self.buf.extend_from_slice(&[0; 4]);
        body(&mut self.buf);
        pad(&mut self.buf);
        let len = (self.buf.len() - start + 4) as u32;
        self.buf[start + 4..start + 8].copy_from_slice(&len.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes());
    }
}

/// An option: code, length, value padded to 32 bits (a value too long for one is cut, at a
/// character boundary when it is text).
fn option(b: &mut Vec<u8>, code: u16, value: &[u8]) {
    let mut len = value.len().min(u16::MAX as usize - 3);
    if len < value.len()
        && let Ok(text) = std::str::from_utf8(value)
    {
        while !text.is_char_boundary(len) {
            len -= 1;
        }
    }
    b.extend_from_slice(&code.to_le_bytes());
    b.extend_from_slice(&(len as u16).to_le_bytes());
    b.extend_from_slice(&value[..len]);
    pad(b);
}

fn pad(b: &mut Vec<u8>) {
    b.resize(b.len().next_multiple_of(4), 0);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::block::{EPB, IDB, SHB};
    use super::*;
    use crate::run::received::{CardItem, Hex, Line, SlotSeed};

    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// The file's blocks: (type, body without the leading type and length), each checked for
    /// its trailing length and 32-bit alignment.
    fn blocks(file: &[u8]) -> Vec<(u32, &[u8])> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < file.len() {
            let (kind, len) = (le32(file, at), le32(file, at + 4) as usize);
            assert_eq!(len % 4, 0, "block at {at} is not 32-bit aligned");
            assert_eq!(le32(file, at + len - 4) as usize, len, "block at {at}: trailing length");
            out.push((kind, &file[at + 8..at + len - 4]));
            at += len;
        }
        assert_eq!(at, file.len());
        out
    }

    /// Options from `body[from..]`: (code, value).
    fn options(body: &[u8], from: usize) -> Vec<(u16, &[u8])> {
        let mut out = Vec::new();
        let mut at = from;
        loop {
            let code = u16::from_le_bytes([body[at], body[at + 1]]);
            let len = u16::from_le_bytes([body[at + 2], body[at + 3]]) as usize;
            if code == opt::END {
                return out;
            }
            out.push((code, &body[at + 4..at + 4 + len]));
            at += 4 + len.next_multiple_of(4);
        }
    }

    #[test]
    fn blocks_are_framed_aligned_and_carry_their_options() {
        let mut p = Pcapng::new("a comment", "seedrig test");
        p.interface(LINKTYPE_IPV4, "slot 2 (telekom-de-1)", "SIM slot 2", Some([127, 0, 0, 3]));
        p.packet(0, 0x0001_0002_0003_0004, &[1, 2, 3, 4, 5], Some("odd"));
        p.packet(0, 7, &[9; 8], None);
        let file = p.into_bytes();
        let b = blocks(&file);
        assert_eq!(b.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [SHB, IDB, EPB, EPB]);
        // Section header: byte-order magic, version 1.0, length unknown.
        let shb = b[0].1;
        assert_eq!(le32(shb, 0), BYTE_ORDER_MAGIC);
        assert_eq!(&shb[4..8], &[1, 0, 0, 0]);
        assert_eq!(&shb[8..16], &[0xFF; 8]);
        assert_eq!(
            options(shb, 16),
            [(opt::COMMENT, &b"a comment"[..]), (opt::SHB_USERAPPL, &b"seedrig test"[..])]
        );
        // Interface: link type, snap length 0, then name, description, address, µs resolution.
        let idb = b[1].1;
        assert_eq!(&idb[..8], &[228, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            options(idb, 8),
            [
                (opt::IF_NAME, &b"slot 2 (telekom-de-1)"[..]),
                (opt::IF_DESCRIPTION, &b"SIM slot 2"[..]),
                (opt::IF_IPV4ADDR, &[127, 0, 0, 3, 255, 255, 255, 255][..]),
                (opt::IF_TSRESOL, &[6][..]),
            ]
        );
        // Packet: interface, timestamp high and low words, lengths, data padded, comment.
        let epb = b[2].1;
        assert_eq!(le32(epb, 0), 0);
        assert_eq!((le32(epb, 4), le32(epb, 8)), (0x0001_0002, 0x0003_0004));
        assert_eq!((le32(epb, 12), le32(epb, 16)), (5, 5));
        assert_eq!(&epb[20..28], &[1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(options(epb, 28), [(opt::COMMENT, &b"odd"[..])]);
        assert_eq!(b[3].1.len(), 20 + 8, "a packet without a comment has no options");
    }

    #[test]
    fn an_overlong_comment_is_cut_at_a_character_boundary() {
        let long = "é".repeat(40_000);
        let p = Pcapng::new(&long, "x").into_bytes();
        let shb = blocks(&p)[0].1;
        let comment = options(shb, 16)[0].1;
        assert!(comment.len() <= u16::MAX as usize && std::str::from_utf8(comment).is_ok());
    }

    #[test]
    fn datagrams_carry_valid_checksums_and_the_gsmtap_header() {
        let g = gsmtap_sim(GSMTAP_SIM_APDU, 2, &[0x00, 0xB0, 0x00, 0x00, 0x02, 0x12, 0x34, 0x90, 0x00]);
        assert_eq!(&g[..16], &[2, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0]);
        let p = ipv4_udp(slot_address(2), SINK, GSMTAP_UDP_PORT, &g);
        assert_eq!(p.len(), 20 + 8 + g.len());
        assert_eq!(&p[12..20], &[127, 0, 0, 3, 127, 0, 0, 254]);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len());
        assert_eq!(checksum(&[&p[..20]]), 0, "the IPv4 header sums to all ones");
        let mut pseudo = vec![127, 0, 0, 3, 127, 0, 0, 254, 0, 17];
        pseudo.extend_from_slice(&((8 + g.len()) as u16).to_be_bytes());
        assert_eq!(checksum(&[&pseudo, &p[20..]]), 0, "the UDP datagram sums to all ones");
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 4729);
        assert_eq!(&p[28..], &g[..]);
        // The log frame: libosmocore's log header after the GSMTAP header, then the text.
        let l = gsmtap_log(1_700_000_000_000_005, 3, "slot 3: card pulled", "slot 3");
        assert_eq!(l[2], 0x10);
        assert_eq!(&l[16..24], &[0x65, 0x53, 0xF1, 0x00, 0, 0, 0, 5]);
        assert_eq!(&l[24..31], b"seedrig");
        assert_eq!(l[44], LOG_NOTICE);
        assert_eq!(&l[48..52], b"card");
        assert_eq!(&l[64..70], b"slot 3");
        assert_eq!(&l[100..], b"slot 3: card pulled\0");
    }

    #[test]
    fn a_scenario_trace_has_an_interface_per_slot_and_frames_in_time_order() {
        let mut r = ScenarioResult::ended("master-reject", Verdict::Pass, Duration::ZERO);
        let apdu = |at_us, slot, command: &[u8], response: &[u8]| CardItem {
            at_us,
            slot,
            what: CardWhat::Apdu {
                command: Hex(command.to_vec()),
                response: Hex(response.to_vec()),
                latency_us: 250,
                fault: None,
            },
        };
        r.received = Some(Received {
            start_unix_us: 1_700_000_000_000_000,
            dut_started: true,
            time_scale: 0.05,
            slots: vec![
                SlotSeed { slot: 0, seed: "o2-de-1".into(), role: "master".into() },
                SlotSeed { slot: 2, seed: "vodafone-uk-1".into(), role: "standby".into() },
            ],
            cards: vec![
                CardItem {
                    at_us: -1_000,
                    slot: 0,
                    what: CardWhat::Atr {
                        atr: Hex(vec![0x3B, 0x9F]),
                        what: "card reset by the modem".into(),
                    },
                },
                apdu(2_000, 0, &[0x00, 0x20, 0x00, 0x01, 0x04, 0xFF, 0xFF, 0xFF, 0xFF], &[0x90, 0x00]),
                CardItem {
                    at_us: 3_000,
                    slot: 0,
                    what: CardWhat::Event { what: "card powered down by the modem".into() },
                },
                apdu(4_000, 2, &[0x00, 0x88, 0x00, 0x81, 0x22], &[]),
                apdu(5_000, 5, &[0x00, 0xF2, 0x00, 0x00, 0x00], &[0x90, 0x00]),
            ],
            console: vec![Line { at_us: 0, text: "boot".into() }],
            observer: Vec::new(),
        });
        let file = card_trace(&r, &Identity::default());
        let b = blocks(&file);
        assert_eq!(
            b.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [SHB, IDB, IDB, IDB, EPB, EPB, EPB, EPB, EPB]
        );
        let comment = String::from_utf8(options(b[0].1, 16)[0].1.to_vec()).unwrap();
        assert!(comment.starts_with("seedrig card trace: scenario master-reject (PASS)\n"), "{comment}");
        assert!(
            comment.contains(
                "  slot 2: vodafone-uk-1 (standby), ip.src == 127.0.0.3, frame.interface_id == 1\n"
            ),
            "{comment}"
        );
        assert!(
            comment.contains(
                "  slot 5: no seed of the scenario's, ip.src == 127.0.0.6, frame.interface_id == 2\n"
            ),
            "{comment}"
        );
        assert!(
            comment.contains("anchored to UTC at the DUT's start, 2023-11-14T22:13:20.000000Z"),
            "{comment}"
        );
        let names: Vec<&[u8]> = b[1..4].iter().map(|(_, body)| options(body, 8)[0].1).collect();
        assert_eq!(names, [&b"slot 0 (o2-de-1)"[..], b"slot 2 (vodafone-uk-1)", b"slot 5"]);
        let frame = |n: usize| {
            let epb = b[4 + n].1;
            let len = le32(epb, 12) as usize;
            let ts = (u64::from(le32(epb, 4)) << 32) | u64::from(le32(epb, 8));
            let comment =
                String::from_utf8(options(epb, 20 + len.next_multiple_of(4))[0].1.to_vec()).unwrap();
            (le32(epb, 0), ts, &epb[20..20 + len], comment)
        };
        let (interface, ts, atr, comment) = frame(0);
        assert_eq!((interface, ts), (0, 1_699_999_999_999_000));
        assert_eq!(&atr[28 + 12..28 + 15], &[GSMTAP_SIM_ATR, 0, 0]);
        assert_eq!(&atr[28 + 16..], &[0x3B, 0x9F]);
        assert_eq!(
            comment,
            "ATR 3B9F; card reset by the modem; slot 0 (o2-de-1); -0.001000 s real, -20.0 ms nominal from the DUT's start"
        );
        let (_, _, pin, comment) = frame(1);
        assert_eq!(&pin[28 + 16..], &[0x00, 0x20, 0x00, 0x01, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0x90, 0x00]);
        assert!(comment.starts_with("APDU, 0.250 ms to the status word; PIN value masked (FF); slot 0 (o2-de-1); +0.002000 s real, 40.0 ms nominal"), "{comment}");
        let (_, _, event, _) = frame(2);
        assert_eq!(event[28 + 2], 0x10, "a card event is a log frame");
        assert!(event.ends_with(b"slot 0 (o2-de-1): card powered down by the modem\0"));
        let (interface, _, auth, comment) = frame(3);
        assert_eq!((interface, &auth[..20][12..20]), (1, &[127, 0, 0, 3, 127, 0, 0, 254][..]));
        assert!(comment.starts_with("APDU; no answer from the card (0.250 ms); slot 2"), "{comment}");
        assert_eq!(frame(4).0, 2, "a slot outside the scenario gets an interface of its own");
    }

    #[test]
    fn a_scenario_that_never_ran_is_a_section_without_interfaces() {
        let r = ScenarioResult::ended("m5", Verdict::Skipped("needs 5 SIM slots".into()), Duration::ZERO);
        let file = card_trace(&r, &Identity::default());
        let b = blocks(&file);
        assert_eq!(b.len(), 1);
        let comment = String::from_utf8(options(b[0].1, 16)[0].1.to_vec()).unwrap();
        assert!(comment.contains("(SKIP: needs 5 SIM slots); nothing received"), "{comment}");
    }
}
