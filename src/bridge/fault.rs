//! Card faults as the bridge injects them, and the bookkeeping that lets it recognise the
//! exchanges a fault acts on (which file is selected, whether a GET RESPONSE carries an
//! authentication result).

use std::time::Duration;

use super::trace::Subject;
use crate::model::{CardFaultKind, FaultKind};

/// A card fault in force on one slot. Durations are real time (already scaled).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CardFault {
    /// No card: card-insert line low, no answers.
    Pulled,
    /// The card stops answering.
    Mute,
    /// AUTHENTICATE answers carry a wrong RES (or SRES).
    CorruptAuth,
    /// EF_IMSI reads garbled (the subscriber number, after MCC and MNC).
    CorruptImsi,
    /// The card answers reset with an unusable ATR.
    BadAtr,
    /// The card demands a PIN: retry counter queries say "3 tries", protected files refuse.
    PinLocked,
    /// AUTHENTICATE answers come `delay` late; within the work waiting time the card keeps the
    /// modem waiting with NULL procedure bytes, beyond it it stays silent.
    Slow { delay: Duration, beyond_wwt: bool },
    /// Contact bounce: inserted for `up`, pulled for `down`, over and over.
    Flaky { up: Duration, down: Duration },
}

impl CardFault {
    /// The bridge's form of a scenario fault; `None` for network faults.
    pub fn from_kind(kind: &FaultKind, time_scale: f64) -> Option<CardFault> {
        let scaled = |ms: u64| Duration::from_secs_f64(ms as f64 / 1000.0 * time_scale);
        let card = kind.card()?;
        Some(match card {
            CardFaultKind::Pulled => CardFault::Pulled,
            CardFaultKind::Mute => CardFault::Mute,
            CardFaultKind::CorruptAuth => CardFault::CorruptAuth,
            CardFaultKind::CorruptImsi => CardFault::CorruptImsi,
            CardFaultKind::BadAtr => CardFault::BadAtr,
            CardFaultKind::PinLocked => CardFault::PinLocked,
            CardFaultKind::Slow { delay_ms, beyond_wwt } => {
                CardFault::Slow { delay: scaled(delay_ms), beyond_wwt }
            }
            CardFaultKind::Flaky { up_ms, down_ms } => {
                CardFault::Flaky { up: scaled(up_ms), down: scaled(down_ms) }
            }
        })
    }

    /// Its name in fixtures: that of the kind [`CardFault::from_kind`] makes it from.
    pub fn name(&self) -> &'static str {
        let same = |fault: CardFault| std::mem::discriminant(&fault) == std::mem::discriminant(self);
        FaultKind::all()
            .find(|kind| CardFault::from_kind(kind, 1.0).is_some_and(same))
            .map(|kind| kind.name())
            .expect("every card fault is made from a kind")
    }
}

/// An ATR no terminal accepts: TS must be 3B or 3F.
pub const BAD_ATR: [u8; 2] = [0x00, 0x00];

const EF_IMSI: u16 = 0x6F07;
const ADF: u16 = 0x7FFF;
/// Leading IMSI digits left intact (MCC and up to 3 MNC digits), so the modem still finds the
/// home network and the *network* rejects an unknown subscriber.
const IMSI_KEPT_DIGITS: usize = 6;

/// What the bridge has seen of the modem's conversation with one card.
#[derive(Debug, Default)]
pub struct Session {
    selected: Option<u16>,
    /// The last command was AUTHENTICATE / RUN GSM ALGORITHM and its answer waits in the card.
    auth_pending: bool,
    pin_tries: u8,
}

impl Session {
    pub fn new() -> Session {
        Session { pin_tries: 3, ..Session::default() }
    }

    /// A card reset forgets the selection.
    pub fn reset(&mut self) {
        self.selected = None;
        self.auth_pending = false;
    }

    /// Notes a command (header and data) and says what it is about.
    pub fn observe(&mut self, header: &[u8; 5], data: &[u8]) -> Subject {
        let [_, ins, p1, _, _] = *header;
        match ins {
            0xA4 => {
                self.selected = match p1 {
                    0x04 => Some(ADF),
                    0x03 => None,
                    _ if data.len() >= 2 => {
                        Some(u16::from_be_bytes([data[data.len() - 2], data[data.len() - 1]]))
                    }
                    _ => self.selected,
                };
                self.selected.map_or(Subject::Other, Subject::File)
            }
            0x88 | 0x89 => Subject::Authenticate,
            0x20 | 0x24 | 0x26 | 0x28 | 0x2C => Subject::Pin,
            0xB0 | 0xB2 | 0xD6 | 0xDC => self.selected.map_or(Subject::Other, Subject::File),
            _ => Subject::Other,
        }
    }

    /// Whether the response to this command carries an authentication result.
    fn carries_auth(&self, ins: u8) -> bool {
        ins == 0x88 || (ins == 0xC0 && self.auth_pending)
    }

    /// Remembers whether an authentication result now waits for GET RESPONSE.
    pub fn after_response(&mut self, ins: u8, sw: [u8; 2]) {
        if ins == 0x88 || ins == 0x89 {
            self.auth_pending = matches!(sw[0], 0x61 | 0x9F);
        } else if ins == 0xC0 {
            self.auth_pending = false;
        }
    }

    /// The faulted card's own answer in place of the real card's, if the fault takes over
    /// this command.
    pub fn refuse(&mut self, fault: Option<CardFault>, header: &[u8; 5]) -> Option<Vec<u8>> {
        if fault != Some(CardFault::PinLocked) {
            return None;
        }
        let [cla, ins, _, _, p3] = *header;
        let gsm = cla == 0xA0;
        match ins {
            0x20 if p3 == 0 => Some(vec![0x63, 0xC0 | self.pin_tries]),
            0x20 => {
                self.pin_tries = self.pin_tries.saturating_sub(1);
                Some(if self.pin_tries == 0 {
                    if gsm { vec![0x98, 0x40] } else { vec![0x69, 0x83] }
                } else {
                    vec![0x63, 0xC0 | self.pin_tries]
                })
            }
            0xB0 | 0xB2 | 0xD6 | 0xDC | 0x88 | 0xA2 | 0x32 => {
                Some(if gsm { vec![0x98, 0x04] } else { vec![0x69, 0x82] })
            }
            _ => None,
        }
    }

    /// Alters a real response as the fault would. `response` is data plus status word.
    pub fn corrupt(&self, fault: Option<CardFault>, header: &[u8; 5], response: &mut [u8]) -> bool {
        let ins = header[1];
        let n = response.len().saturating_sub(2);
        let data = &mut response[..n];
        match fault {
            Some(CardFault::CorruptAuth) if self.carries_auth(ins) => corrupt_auth(data, header[0] == 0xA0),
            Some(CardFault::CorruptImsi) if ins == 0xB0 && self.selected == Some(EF_IMSI) => {
                garble_imsi(data)
            }
            _ => false,
        }
    }
}

/// Flips the RES of a 3G answer (`DB len RES ...`), the SRES of a GSM-context answer
/// (`04 SRES 08 Kc`) or of a 2G RUN GSM ALGORITHM answer (`SRES Kc`).
fn corrupt_auth(data: &mut [u8], gsm_class: bool) -> bool {
    let range = match data {
        _ if gsm_class && data.len() >= 12 => 0..4,
        [0xDB, len, ..] => 2..2 + usize::from(*len),
        [0x04, ..] if data.len() >= 5 => 1..5,
        _ => return false,
    };
    match data.get_mut(range) {
        Some(res) => {
            res.iter_mut().for_each(|b| *b ^= 0xFF);
            true
        }
        None => false,
    }
}

/// Replaces the subscriber digits of an EF_IMSI content (`len, parity|d1, d3|d2, ...`).
fn garble_imsi(data: &mut [u8]) -> bool {
    if data.len() < 2 {
        return false;
    }
    // Digit i (0-based) sits in the high nibble of byte 1 for i = 0, then low/high nibbles.
    for digit in IMSI_KEPT_DIGITS..15 {
        let (byte, high) = (1 + digit.div_ceil(2), (digit + 1) % 2 == 1);
        let Some(b) = data.get_mut(byte) else { break };
        let nibble = if high { *b >> 4 } else { *b & 0x0F };
        if nibble > 9 {
            continue;
        }
        let new = (nibble + 5) % 10;
        *b = if high { (*b & 0x0F) | (new << 4) } else { (*b & 0xF0) | new };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbles_only_the_subscriber_digits() {
        // 262011106487504 (usim-apdu.md) → MCC/MNC 26201 and digit 1 kept, the rest +5 mod 10.
        let mut imsi = [0x08, 0x29, 0x26, 0x10, 0x11, 0x60, 0x84, 0x57, 0x40];
        assert!(garble_imsi(&mut imsi));
        let digits = crate::hw::pcsc::decode_imsi(&imsi).unwrap();
        assert_eq!(&digits[..6], "262011");
        assert_eq!(&digits[6..], "651932059");
    }

    #[test]
    fn flips_res_of_a_3g_answer() {
        let mut data = [0xDB, 0x02, 0xA5, 0x42, 0x10];
        assert!(corrupt_auth(&mut data, false));
        assert_eq!(data, [0xDB, 0x02, 0x5A, 0xBD, 0x10]);
    }

    #[test]
    fn pin_lock_answers_in_place_of_the_card() {
        let mut s = Session::new();
        let f = Some(CardFault::PinLocked);
        assert_eq!(s.refuse(f, &[0, 0x20, 0, 1, 0]), Some(vec![0x63, 0xC3]));
        assert_eq!(s.refuse(f, &[0, 0xB0, 0, 0, 9]), Some(vec![0x69, 0x82]));
        assert_eq!(s.refuse(f, &[0, 0xA4, 0, 4, 2]), None);
        assert_eq!(s.refuse(None, &[0, 0xB0, 0, 0, 9]), None);
    }

    #[test]
    fn every_card_kind_and_only_those_become_a_card_fault() {
        for name in FaultKind::NAMES {
            let kind = FaultKind::from_name(name).unwrap();
            let fault = CardFault::from_kind(&kind, 1.0);
            assert_eq!(fault.is_some(), kind.is_card_fault(), "{name}");
            assert_eq!(fault.map(|f| f.name()).unwrap_or(name), *name);
        }
        let slow = FaultKind::Slow { delay_ms: 2000, beyond_wwt: true };
        assert_eq!(
            CardFault::from_kind(&slow, 0.5),
            Some(CardFault::Slow { delay: Duration::from_secs(1), beyond_wwt: true })
        );
    }

    #[test]
    fn tracks_the_selected_file() {
        let mut s = Session::new();
        assert_eq!(s.observe(&[0, 0xA4, 0, 4, 2], &[0x6F, 0x07]), Subject::File(0x6F07));
        assert_eq!(s.observe(&[0, 0xB0, 0, 0, 9], &[]), Subject::File(0x6F07));
        assert_eq!(s.observe(&[0, 0xA4, 8, 4, 4], &[0x7F, 0xFF, 0x6F, 0x7E]), Subject::File(0x6F7E));
    }
}
