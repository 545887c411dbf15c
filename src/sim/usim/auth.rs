//! AUTHENTICATE (TS 31.102 §7.1) and the 2G RUN GSM ALGORITHM (TS 51.011).

use super::apdu::{Command, Fail};
use super::card::{Handled, Out, VirtualUsim, expect_p1p2};
use super::milenage::{self, constant_time_eq};

/// How far ahead of SQN_MS a fresh SQN may be: TS 33.102 Annex C.2 limits the jump so that a
/// replayed or far-future SQN cannot wrap the counter; 2^28 is the value it suggests.
const SQN_DELTA: u64 = 1 << 28;

/// Response tags: successful 3G/GSM-context authentication and synchronisation failure.
const TAG_SUCCESS: u8 = 0xDB;
const TAG_SYNC_FAILURE: u8 = 0xDC;

impl VirtualUsim {
    /// AUTHENTICATE: P2 = 81 the 3G security context (RAND, AUTN), 80 the GSM context (RAND).
    /// Other contexts of TS 31.102 (VGCS, GBA, MBMS, ...) are not offered.
    pub(crate) fn authenticate(&mut self, cmd: &Command<'_>) -> Handled {
        if cmd.p1 != 0x00 {
            return Err(Fail::WrongP1P2);
        }
        match cmd.p2 {
            0x80 => self.gsm_context(cmd),
            0x81 => self.umts_context(cmd),
            0x82..=0x8F => Err(Fail::ContextNotSupported),
            _ => Err(Fail::WrongP1P2),
        }
    }

    /// The USIM must be the active application and PIN1 satisfied.
    fn may_authenticate(&self) -> Result<(), Fail> {
        if !self.sel.app_active {
            return Err(Fail::ConditionsNotSatisfied);
        }
        if !self.pin.satisfied() {
            return Err(Fail::SecurityNotSatisfied);
        }
        Ok(())
    }

    /// 3G context: `10 RAND 10 AUTN`. Verifies MAC-A, then the freshness of SQN; answers
    /// `DB 08 RES 10 CK 10 IK 08 Kc` (Kc because service 27, GSM access, is offered) or
    /// `DC 0E AUTS` when SQN is not fresh.
    fn umts_context(&mut self, cmd: &Command<'_>) -> Handled {
        self.may_authenticate()?;
        let data = cmd.body_of(34, true)?;
        if data[0] != 0x10 || data[17] != 0x10 {
            return Err(Fail::BadData);
        }
        let (rand, autn) = (as16(&data[1..17]), as16(&data[18..34]));
        let (res, ck, ik, ak) = self.milenage.f2345(&rand);
        let sqn: [u8; 6] = std::array::from_fn(|i| autn[i] ^ ak[i]);
        let amf = [autn[6], autn[7]];
        if !constant_time_eq(&self.milenage.f1(&rand, &sqn, &amf), &autn[8..]) {
            return Err(Fail::AuthMac);
        }
        let sqn = u48(&sqn);
        if !self.is_fresh(sqn) {
            let auts = milenage::auts(&self.milenage, &rand, &self.sqn());
            return Ok(Out::Deferred(lv_list(TAG_SYNC_FAILURE, &[&auts])));
        }
        self.sqn_ms = sqn;
        let kc = milenage::kc(&ck, &ik);
        Ok(Out::Deferred(lv_list(TAG_SUCCESS, &[&res, &ck, &ik, &kc])))
    }

    /// GSM context: `10 RAND`; answers `04 SRES 08 Kc` from Milenage through c2/c3.
    fn gsm_context(&mut self, cmd: &Command<'_>) -> Handled {
        self.may_authenticate()?;
        let data = cmd.body_of(17, true)?;
        if data[0] != 0x10 {
            return Err(Fail::BadData);
        }
        let (sres, kc) = self.gsm_answer(&as16(&data[1..]));
        let mut out = vec![0x04];
        out.extend(sres);
        out.push(0x08);
        out.extend(kc);
        Ok(Out::Deferred(out))
    }

    /// 2G RUN GSM ALGORITHM: RAND in, SRES || Kc out through 9F0C.
    pub(crate) fn run_gsm_algorithm(&mut self, cmd: &Command<'_>) -> Handled {
        expect_p1p2(cmd, 0, 0)?;
        let data = cmd.body_of(16, true)?;
        if !self.pin.satisfied() {
            return Err(Fail::SecurityNotSatisfied);
        }
        let (sres, kc) = self.gsm_answer(&as16(data));
        let mut out = sres.to_vec();
        out.extend(kc);
        Ok(Out::Deferred(out))
    }

    fn gsm_answer(&self, rand: &[u8; 16]) -> ([u8; 4], [u8; 8]) {
        let (res, ck, ik, _) = self.milenage.f2345(rand);
        (milenage::sres(&res), milenage::kc(&ck, &ik))
    }

    /// SQN is fresh if it is above the highest accepted one, by at most [`SQN_DELTA`].
    fn is_fresh(&self, sqn: u64) -> bool {
        sqn > self.sqn_ms && sqn - self.sqn_ms <= SQN_DELTA
    }
}

/// `tag`, then each item with its length in front.
fn lv_list(tag: u8, items: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![tag];
    for item in items {
        out.push(item.len() as u8);
        out.extend(*item);
    }
    out
}

/// The first 16 bytes of `s`; callers have checked the length.
fn as16(s: &[u8]) -> [u8; 16] {
    std::array::from_fn(|i| s.get(i).copied().unwrap_or(0))
}

fn u48(b: &[u8; 6]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}
