//! Milenage (3GPP TS 35.205/35.206) and the AKA helpers built on it (TS 33.102): AUTN, AUTS,
//! the GSM conversion functions c2/c3, and the network side (vectors, resynchronisation).
//!
//! The card and the simulated network share this one implementation, so a mismatch between
//! them can only come from the data, never from two diverging copies of the algorithm.

use std::fmt;

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

use crate::encoding::hex;

type Block = [u8; 16];

/// What OUT1..OUT5 of TS 35.206 are made with: the rotation rn, in bytes (64, 0, 32, 64, 96
/// bits), and the last byte of the constant cn (all its other bytes are zero).
const OUT1: (usize, u8) = (8, 0x00);
const OUT2: (usize, u8) = (0, 0x01);
const OUT3: (usize, u8) = (4, 0x02);
const OUT4: (usize, u8) = (8, 0x04);
const OUT5: (usize, u8) = (12, 0x08);

/// The AMF used in MAC-S of a resynchronisation token (TS 33.102 §6.3.3: a dummy of zeros).
const RESYNC_AMF: [u8; 2] = [0, 0];

/// One subscriber's Milenage instance: K (as an AES key schedule) and OPc.
///
/// `Debug` prints neither.
#[derive(Clone)]
pub struct Milenage {
    cipher: Aes128,
    opc: Block,
}

impl fmt::Debug for Milenage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Milenage { <K and OPc redacted> }")
    }
}

impl Milenage {
    pub fn new(k: [u8; 16], opc: [u8; 16]) -> Milenage {
        Milenage { cipher: Aes128::new(&Array::from(k)), opc }
    }

    /// OPc = E_K(OP) xor OP, for cards provisioned with the operator's OP instead of OPc.
    pub fn opc_from_op(k: &[u8; 16], op: &[u8; 16]) -> [u8; 16] {
        let cipher = Aes128::new(&Array::from(*k));
        xor(&encrypt(&cipher, *op), op)
    }

    /// f1: the network authentication code MAC-A.
    pub fn f1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        first::<8>(&self.out1(rand, sqn, amf)[..8])
    }

    /// f1*: the resynchronisation code MAC-S.
    pub fn f1star(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        first::<8>(&self.out1(rand, sqn, amf)[8..])
    }

    /// f2 (RES), f3 (CK), f4 (IK) and f5 (AK), which share one TEMP.
    pub fn f2345(&self, rand: &[u8; 16]) -> ([u8; 8], [u8; 16], [u8; 16], [u8; 6]) {
        let temp = self.temp(rand);
        let out2 = self.out_n(&temp, OUT2);
        let ck = self.out_n(&temp, OUT3);
        let ik = self.out_n(&temp, OUT4);
        (first::<8>(&out2[8..]), ck, ik, first::<6>(&out2[..6]))
    }

    /// f5*: the anonymity key used to conceal SQN_MS in AUTS.
    pub fn f5star(&self, rand: &[u8; 16]) -> [u8; 6] {
        let temp = self.temp(rand);
        first::<6>(&self.out_n(&temp, OUT5)[..6])
    }

    /// TEMP = E_K(RAND xor OPc).
    fn temp(&self, rand: &[u8; 16]) -> Block {
        encrypt(&self.cipher, xor(rand, &self.opc))
    }

    /// OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc, with IN1 = SQN||AMF||SQN||AMF.
    fn out1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> Block {
        let mut in1 = [0u8; 16];
        for half in in1.chunks_exact_mut(8) {
            half[..6].copy_from_slice(sqn);
            half[6..].copy_from_slice(amf);
        }
        let (r1, c1) = OUT1;
        let mut block = rotate(xor(&in1, &self.opc), r1);
        block[15] ^= c1;
        let block = xor(&block, &self.temp(rand));
        xor(&encrypt(&self.cipher, block), &self.opc)
    }

    /// OUTn = E_K(rot(TEMP xor OPc, rn) xor cn) xor OPc, for n = 2..5.
    fn out_n(&self, temp: &Block, (rot, c): (usize, u8)) -> Block {
        let mut block = rotate(xor(temp, &self.opc), rot);
        block[15] ^= c;
        xor(&encrypt(&self.cipher, block), &self.opc)
    }
}

/// AUTN = (SQN xor AK) || AMF || MAC-A.
pub fn autn(m: &Milenage, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 16] {
    let (_, _, _, ak) = m.f2345(rand);
    let mut out = [0u8; 16];
    out[..6].copy_from_slice(&xor(sqn, &ak));
    out[6..8].copy_from_slice(amf);
    out[8..].copy_from_slice(&m.f1(rand, sqn, amf));
    out
}

/// AUTS = (SQN_MS xor AK*) || MAC-S, with MAC-S computed over AMF = 0000 (TS 33.102 §6.3.3).
pub fn auts(m: &Milenage, rand: &[u8; 16], sqn_ms: &[u8; 6]) -> [u8; 14] {
    let ak_star = m.f5star(rand);
    let mut out = [0u8; 14];
    out[..6].copy_from_slice(&xor(sqn_ms, &ak_star));
    out[6..].copy_from_slice(&m.f1star(rand, sqn_ms, &RESYNC_AMF));
    out
}

/// c2 (TS 33.102 §6.8.1): SRES = RES[0..4] xor RES[4..8] for a 64-bit RES.
pub fn sres(res: &[u8; 8]) -> [u8; 4] {
    let (a, b) = res.split_at(4);
    xor(&first::<4>(a), &first::<4>(b))
}

/// c3 (TS 33.102 §6.8.1): Kc = CK1 xor CK2 xor IK1 xor IK2 (64-bit halves).
pub fn kc(ck: &[u8; 16], ik: &[u8; 16]) -> [u8; 8] {
    let fold = |x: &[u8; 16]| xor(&first::<8>(&x[..8]), &first::<8>(&x[8..]));
    xor(&fold(ck), &fold(ik))
}

/// One UMTS authentication vector, as the network's authentication centre produces it.
///
/// `Debug` shows RAND and AUTN (they travel in the clear) but not XRES, CK or IK.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthVector {
    pub rand: [u8; 16],
    pub xres: [u8; 8],
    pub ck: [u8; 16],
    pub ik: [u8; 16],
    pub autn: [u8; 16],
}

impl fmt::Debug for AuthVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthVector")
            .field("rand", &hex::encode_lower(&self.rand))
            .field("autn", &hex::encode_lower(&self.autn))
            .finish_non_exhaustive()
    }
}

/// The network side of AKA: a vector for `rand` and `sqn`.
pub fn generate_vector(m: &Milenage, rand: [u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> AuthVector {
    let (xres, ck, ik, _) = m.f2345(&rand);
    AuthVector { rand, xres, ck, ik, autn: autn(m, &rand, sqn, amf) }
}

/// The network side of resynchronisation: checks MAC-S of `auts` and returns the card's SQN_MS,
/// or `None` if the token was not made with this subscriber's keys and `rand`.
pub fn resync_sqn(m: &Milenage, rand: &[u8; 16], auts: &[u8; 14]) -> Option<[u8; 6]> {
    let sqn_ms = xor(&first::<6>(&auts[..6]), &m.f5star(rand));
    let mac_s = m.f1star(rand, &sqn_ms, &RESYNC_AMF);
    constant_time_eq(&mac_s, &auts[6..]).then_some(sqn_ms)
}

/// Compares without an early exit, so a MAC check does not leak how many bytes matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn encrypt(cipher: &Aes128, block: Block) -> Block {
    let mut b = Array::from(block);
    cipher.encrypt_block(&mut b);
    b.into()
}

fn xor<const N: usize>(a: &[u8; N], b: &[u8; N]) -> [u8; N] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// Cyclic left rotation by `bytes` bytes (every Milenage rotation is a whole number of bytes).
fn rotate(mut block: Block, bytes: usize) -> Block {
    block.rotate_left(bytes);
    block
}

/// The first N bytes of `s` as an array; callers always pass at least N bytes.
fn first<const N: usize>(s: &[u8]) -> [u8; N] {
    std::array::from_fn(|i| s[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a hex string of exactly N bytes (test data only).
    fn h<const N: usize>(s: &str) -> [u8; N] {
        crate::encoding::hex::bytes(s).try_into().unwrap_or_else(|_| panic!("{s} is not {N} bytes"))
    }

    /// One published test set (milenage.md, from TS 35.207/35.208).
    struct Set {
        k: &'static str,
        rand: &'static str,
        sqn: &'static str,
        amf: &'static str,
        op: &'static str,
        opc: &'static str,
        f1: &'static str,
        f1star: &'static str,
        f2: &'static str,
        f5: &'static str,
        f3: &'static str,
        f4: &'static str,
        f5star: &'static str,
    }

    const SET1: Set = Set {
        k: "465b5ce8b199b49faa5f0a2ee238a6bc",
        rand: "23553cbe9637a89d218ae64dae47bf35",
        sqn: "ff9bb4d0b607",
        amf: "b9b9",
        op: "cdc202d5123e20f62b6d676ac72cb318",
        opc: "cd63cb71954a9f4e48a5994e37a02baf",
        f1: "4a9ffac354dfafb3",
        f1star: "01cfaf9ec4e871e9",
        f2: "a54211d5e3ba50bf",
        f5: "aa689c648370",
        f3: "b40ba9a3c58b2a05bbf0d987b21bf8cb",
        f4: "f769bcd751044604127672711c6d3441",
        f5star: "451e8beca43b",
    };

    const SET2: Set = Set {
        k: "0396eb317b6d1c36f19c1c84cd6ffd16",
        rand: "c00d603103dcee52c4478119494202e8",
        sqn: "fd8eef40df7d",
        amf: "af17",
        op: "ff53bade17df5d4e793073ce9d7579fa",
        opc: "53c15671c60a4b731c55b4a441c0bde2",
        f1: "5df5b31807e258b0",
        f1star: "a8c016e51ef4a343",
        f2: "d3a628ed988620f0",
        f5: "c47783995f72",
        f3: "58c433ff7a7082acd424220f2b67c556",
        f4: "21a8c1f929702adb3e738488b9f5c5da",
        f5star: "30f1197061c1",
    };

    const SET3: Set = Set {
        k: "fec86ba6eb707ed08905757b1bb44b8f",
        rand: "9f7c8d021accf4db213ccff0c7f71a6a",
        sqn: "9d0277595ffc",
        amf: "725c",
        op: "dbc59adcb6f9a0ef735477b7fadf8374",
        opc: "1006020f0a478bf6b699f15c062e42b3",
        f1: "9cabc3e99baf7281",
        f1star: "95814ba2b3044324",
        f2: "8011c48c0c214ed2",
        f5: "33484dc2136b",
        f3: "5dbdbb2954e8f3cde665b046179a5098",
        f4: "59a92d3b476a0443487055cf88b2307b",
        f5star: "deacdd848cc6",
    };

    fn check_set(set: &Set) {
        let k = h::<16>(set.k);
        assert_eq!(Milenage::opc_from_op(&k, &h(set.op)), h::<16>(set.opc), "OPc");
        let m = Milenage::new(k, h(set.opc));
        let (rand, sqn, amf) = (h::<16>(set.rand), h::<6>(set.sqn), h::<2>(set.amf));
        assert_eq!(m.f1(&rand, &sqn, &amf), h::<8>(set.f1), "f1");
        assert_eq!(m.f1star(&rand, &sqn, &amf), h::<8>(set.f1star), "f1*");
        let (res, ck, ik, ak) = m.f2345(&rand);
        assert_eq!(res, h::<8>(set.f2), "f2");
        assert_eq!(ck, h::<16>(set.f3), "f3");
        assert_eq!(ik, h::<16>(set.f4), "f4");
        assert_eq!(ak, h::<6>(set.f5), "f5");
        assert_eq!(m.f5star(&rand), h::<6>(set.f5star), "f5*");
    }

    #[test]
    fn test_set_1() {
        check_set(&SET1);
    }

    #[test]
    fn test_set_2() {
        check_set(&SET2);
    }

    #[test]
    fn test_set_3() {
        check_set(&SET3);
    }

    fn set1() -> (Milenage, [u8; 16], [u8; 6], [u8; 2]) {
        (Milenage::new(h(SET1.k), h(SET1.opc)), h(SET1.rand), h(SET1.sqn), h(SET1.amf))
    }

    #[test]
    fn set_1_derived_values() {
        let (m, rand, sqn, amf) = set1();
        assert_eq!(autn(&m, &rand, &sqn, &amf), h::<16>("55f328b43577b9b94a9ffac354dfafb3"));
        assert_eq!(auts(&m, &rand, &sqn), h::<14>("ba853f3c123ccf44e93596e355c6"));
        let (res, ck, ik, _) = m.f2345(&rand);
        assert_eq!(kc(&ck, &ik), h::<8>("eae4be823af9a08b"));
        // c2 by hand: a54211d5 xor e3ba50bf.
        assert_eq!(sres(&res), h::<4>("46f8416a"));
    }

    #[test]
    fn vector_and_resync_round_trip() {
        let (m, rand, sqn, amf) = set1();
        let v = generate_vector(&m, rand, &sqn, &amf);
        assert_eq!(v.xres, h::<8>(SET1.f2));
        assert_eq!(v.autn, autn(&m, &rand, &sqn, &amf));
        let token = auts(&m, &rand, &sqn);
        assert_eq!(resync_sqn(&m, &rand, &token), Some(sqn));
        let mut forged = token;
        forged[13] ^= 1;
        assert_eq!(resync_sqn(&m, &rand, &forged), None);
        let other = Milenage::new(h(SET2.k), h(SET2.opc));
        assert_eq!(resync_sqn(&other, &rand, &token), None);
    }

    #[test]
    fn debug_never_shows_keys() {
        let (m, rand, sqn, amf) = set1();
        let shown = format!("{m:?}");
        assert!(!shown.contains("465b") && !shown.contains("cd63"), "{shown}");
        let v = format!("{:?}", generate_vector(&m, rand, &sqn, &amf));
        assert!(v.contains("23553cbe") && !v.contains("a54211d5") && !v.contains("b40ba9a3"), "{v}");
    }
}
