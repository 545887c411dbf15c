//! The virtual USIM: state, construction from a seed, and the command loop.
//!
//! `transmit` takes one command TPDU and returns response data plus SW1 SW2, exactly what the
//! card would put on the wire under T=0. Handlers return `Result<Out, Fail>`; `finish` turns
//! that into bytes in the command's dialect and keeps deferred data for GET RESPONSE.

use std::fmt;

use super::apdu::{ClassGroup, Command, Dialect, Fail, class_group, len_byte};
use super::files::{FileSystem, MF, NodeId, Profile};
use super::milenage::Milenage;
use super::pin::Pin;
use crate::model::{Secret, Seed};

/// sysmoUSIM-SJS1 (usim-apdu.md): T=0 and T=15, TA1 = 96; the last byte is TCK.
const ATR: [u8; 22] = [
    0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31, 0xA0, 0x73, 0xBE, 0x21, 0x13, 0x67, 0x43, 0x20, 0x07,
    0x18, 0x00, 0x00, 0x01, 0xA5,
];

/// SQN of a card whose seed does not state one: SEQ = 1, IND = 0 in the TS 33.102 Annex C
/// layout with a 5-bit IND, the value a freshly provisioned sysmoUSIM starts from.
const DEFAULT_SQN: u64 = 0x20;

/// SQNs are 48 bits.
const SQN_MAX: u64 = (1 << 48) - 1;

/// Response instructions from a handler.
#[derive(Debug)]
pub(crate) enum Out {
    /// Data (possibly none) returned directly with 9000 (case 1/2 commands).
    Data(Vec<u8>),
    /// Data announced with 61xx (UICC) or 9Fxx (2G) and fetched by GET RESPONSE (case 4
    /// commands under T=0). Empty data is plain 9000.
    Deferred(Vec<u8>),
    /// Data with a status word other than 9000 (GET RESPONSE handing out a part).
    Status(Vec<u8>, [u8; 2]),
}

pub(crate) type Handled = Result<Out, Fail>;

/// What is selected; all of it is session state that a reset clears.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Selection {
    /// The current DF (MF, a DF or the ADF).
    pub df: NodeId,
    pub ef: Option<NodeId>,
    /// Current record of the current EF, 1-based.
    pub record: Option<usize>,
    /// Whether ADF.USIM has been selected by AID (7FFF then refers to it).
    pub app_active: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection { df: MF, ef: None, record: None, app_active: false }
    }
}

/// Why a seed cannot become a card. Messages name the seed and where a secret comes from,
/// never its value.
#[derive(Debug, thiserror::Error)]
pub enum UsimError {
    #[error("seed {seed}: cannot read its {secret} from {origin}: {reason}")]
    Secret { seed: String, secret: &'static str, origin: String, reason: String },
    #[error("seed {seed}: its {secret} from {origin} is not {expected}")]
    SecretFormat { seed: String, secret: &'static str, origin: String, expected: &'static str },
    #[error("seed {seed}: SQN {sqn:#x} does not fit in 48 bits")]
    Sqn { seed: String, sqn: u64 },
    #[error("seed {seed}: MNC length must be 2 or 3, not {mnc_len}")]
    MncLength { seed: String, mnc_len: u8 },
}

/// A virtual USIM built from a seed fixture. `Debug` shows identities and PIN state, never
/// K, OPc or the PIN.
pub struct VirtualUsim {
    pub(crate) iccid: String,
    pub(crate) imsi: String,
    pub(crate) fs: FileSystem,
    pub(crate) milenage: Milenage,
    /// SQN_MS: the highest SQN the card has accepted.
    pub(crate) sqn_ms: u64,
    pub(crate) pin: Pin,
    pub(crate) sel: Selection,
    /// Response data waiting for GET RESPONSE; only the command right after may fetch it.
    pub(crate) pending: Option<Vec<u8>>,
}

impl fmt::Debug for VirtualUsim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualUsim")
            .field("iccid", &self.iccid)
            .field("imsi", &self.imsi)
            .field("sqn", &format_args!("{:012x}", self.sqn_ms))
            .field("pin", &self.pin)
            .field("selection", &self.sel)
            .finish_non_exhaustive()
    }
}

impl VirtualUsim {
    /// A card for `seed`. EF_AD states an MNC length of 3 when the IMSI's MCC is 310–316 (the
    /// North American MCCs, whose carriers use 3-digit MNCs) and 2 otherwise; use
    /// [`from_seed_with_mnc_len`](Self::from_seed_with_mnc_len) to state it from the home
    /// carrier's PLMN instead.
    pub fn from_seed(seed: &Seed) -> Result<VirtualUsim, UsimError> {
        Self::from_seed_with_mnc_len(seed, default_mnc_len(seed.imsi.as_str()))
    }

    /// A card for `seed` whose EF_AD states `mnc_len` (2 or 3). EF_SPN and EF_PNN show the
    /// seed's home carrier *id*; [`from_seed_with_carrier`](Self::from_seed_with_carrier)
    /// shows its display name.
    ///
    /// Reads K and OPc (and the PIN, if any) through [`Secret::expose`]; the SQN is the seed's
    /// or 0x20, and is the highest SQN the card has accepted, so the network must use a larger one.
    pub fn from_seed_with_mnc_len(seed: &Seed, mnc_len: u8) -> Result<VirtualUsim, UsimError> {
        Self::from_seed_with_carrier(seed, mnc_len, &seed.home)
    }

    /// A card for `seed` whose EF_AD states `mnc_len` (2 or 3) and whose EF_SPN and EF_PNN show
    /// `carrier_name`, the home carrier fixture's `name` (EF_SPN holds 16 characters: a longer
    /// name is cut after its last whole word that fits). Otherwise as
    /// [`from_seed_with_mnc_len`](Self::from_seed_with_mnc_len).
    /// A seed fixture's card as the catalog describes it: its home carrier's MNC length (how
    /// the IMSI splits) and display name (EF.SPN, EF.PNN).
    pub fn from_catalog(catalog: &crate::model::Catalog, seed: &Seed) -> Result<VirtualUsim, UsimError> {
        let home = catalog.carriers.get(&seed.home);
        let mnc_len = home.map_or(default_mnc_len(seed.imsi.as_str()), |c| c.plmn.mnc().len() as u8);
        Self::from_seed_with_carrier(seed, mnc_len, home.map_or(seed.home.as_str(), |c| c.name.as_str()))
    }

    pub fn from_seed_with_carrier(
        seed: &Seed,
        mnc_len: u8,
        carrier_name: &str,
    ) -> Result<VirtualUsim, UsimError> {
        if !(2..=3).contains(&mnc_len) {
            return Err(UsimError::MncLength { seed: seed.id.clone(), mnc_len });
        }
        let sqn_ms = seed.sqn.unwrap_or(DEFAULT_SQN);
        if sqn_ms > SQN_MAX {
            return Err(UsimError::Sqn { seed: seed.id.clone(), sqn: sqn_ms });
        }
        let k = key(seed, "K", &seed.k)?;
        let opc = key(seed, "OPc", &seed.opc)?;
        let pin = match &seed.pin {
            Some(secret) => Some(pin_digits(seed, secret)?),
            None => None,
        };
        let fs = FileSystem::build(&Profile {
            iccid: seed.iccid.as_str(),
            imsi: seed.imsi.as_str(),
            mnc_len,
            rats: &seed.rats,
            carrier_name,
        });
        Ok(VirtualUsim {
            iccid: seed.iccid.as_str().to_owned(),
            imsi: seed.imsi.as_str().to_owned(),
            fs,
            milenage: Milenage::new(k, opc),
            sqn_ms,
            pin: Pin::new(pin.as_deref()),
            sel: Selection::default(),
            pending: None,
        })
    }

    pub fn atr(&self) -> &[u8] {
        &ATR
    }

    /// A warm or cold reset: the MF is selected again, the application is no longer active and
    /// the PIN must be verified anew. Files, SQN and retry counters are the card's memory and stay.
    pub fn reset(&mut self) {
        self.sel = Selection::default();
        self.pin.reset_session();
        self.pending = None;
    }

    /// Executes one command TPDU (`CLA INS P1 P2 P3 [data]`) and returns the response data
    /// followed by SW1 SW2. Never panics; always returns at least the two status bytes.
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        // Deferred data is only for the very next command (T=0 case 4, TS 102 221 §7).
        let pending = self.pending.take();
        let Some(cmd) = Command::parse(apdu) else {
            return Fail::WrongLength.sw(Dialect::Uicc).to_vec();
        };
        let (dialect, result) = match class_group(cmd.cla) {
            Ok(group) => (group.dialect(), self.dispatch(group, &cmd, pending)),
            Err(fail) => (Dialect::Uicc, Err(fail)),
        };
        let reply = self.finish(dialect, result);
        let sw = &reply[reply.len() - 2..];
        tracing::trace!(cla = cmd.cla, ins = cmd.ins, sw1 = sw[0], sw2 = sw[1], "virtual USIM command");
        reply
    }

    pub fn iccid(&self) -> &str {
        &self.iccid
    }

    pub fn imsi(&self) -> &str {
        &self.imsi
    }

    /// The highest SQN the card has accepted (SQN_MS), big-endian.
    pub fn sqn(&self) -> [u8; 6] {
        let b = self.sqn_ms.to_be_bytes();
        [b[2], b[3], b[4], b[5], b[6], b[7]]
    }

    fn finish(&mut self, dialect: Dialect, result: Handled) -> Vec<u8> {
        match result {
            Ok(Out::Data(mut data)) => {
                data.extend([0x90, 0x00]);
                data
            }
            Ok(Out::Deferred(data)) if data.is_empty() => vec![0x90, 0x00],
            Ok(Out::Deferred(data)) => {
                let sw1 = if dialect == Dialect::Gsm { 0x9F } else { 0x61 };
                let sw2 = len_byte(data.len());
                self.pending = Some(data);
                vec![sw1, sw2]
            }
            Ok(Out::Status(mut data, sw)) => {
                data.extend(sw);
                data
            }
            Err(fail) => fail.sw(dialect).to_vec(),
        }
    }

    /// Routes by class group and instruction (TS 102 221 §10.1.2, TS 51.011 §9.2).
    fn dispatch(&mut self, group: ClassGroup, cmd: &Command<'_>, pending: Option<Vec<u8>>) -> Handled {
        use ClassGroup::{Gsm, Iso, Proprietary};
        let dialect = group.dialect();
        match (group, cmd.ins) {
            (Iso | Gsm, 0xA4) => self.select(cmd, dialect),
            (Iso | Gsm, 0xB0) => self.read_binary(cmd, dialect),
            (Iso | Gsm, 0xD6) => self.update_binary(cmd, dialect),
            (Iso | Gsm, 0xB2) => self.read_record(cmd, dialect),
            (Iso | Gsm, 0xDC) => self.update_record(cmd, dialect),
            (Iso | Gsm, 0xC0) => self.get_response(cmd, dialect, pending),
            (Iso | Gsm, 0x20) => self.verify_pin(cmd, dialect),
            (Iso | Gsm, 0x24) => self.change_pin(cmd, dialect),
            (Iso | Gsm, 0x26) => self.disable_pin(cmd, dialect),
            (Iso | Gsm, 0x28) => self.enable_pin(cmd, dialect),
            (Iso | Gsm, 0x2C) => unblock_pin(cmd),
            // (De)activation and (in)validation need ADM, which nobody on the bench holds.
            (Iso | Gsm, 0x04 | 0x44) => Err(Fail::SecurityNotSatisfied),
            (Iso, 0x88) => self.authenticate(cmd),
            (Gsm, 0x88) => self.run_gsm_algorithm(cmd),
            // Only the basic channel exists (see mod.rs).
            (Iso, 0x70) => Err(Fail::ChannelNotSupported),
            (Proprietary | Gsm, 0xF2) => self.status(cmd, dialect),
            (Proprietary | Gsm, 0x10 | 0x14) => toolkit_data(cmd, false),
            (Proprietary | Gsm, 0xC2) => toolkit_data(cmd, true),
            (Proprietary, 0xAA) => toolkit_data(cmd, false),
            // No proactive command is ever pending (the card never answers 91xx), so there is
            // nothing to fetch.
            (Proprietary | Gsm, 0x12) => Err(Fail::Technical),
            (Gsm, 0xFA) => Ok(Out::Data(Vec::new())),
            (_, ins) if KNOWN_INS.contains(&ins) => Err(Fail::ClaNotSupported),
            _ => Err(Fail::InsNotSupported),
        }
    }

    /// GET RESPONSE: hands out deferred data. Le = 0 takes all of it; a larger Le is answered
    /// with the right length (6Cxx / 67xx) and the data stays; a smaller Le takes a part, and a
    /// UICC announces the rest with 61xx while a 2G SIM drops it.
    fn get_response(&mut self, cmd: &Command<'_>, dialect: Dialect, pending: Option<Vec<u8>>) -> Handled {
        expect_p1p2(cmd, 0, 0)?;
        let le = cmd.le()?;
        let Some(data) = pending else {
            return Err(Fail::Technical);
        };
        let want = if le == 0 { data.len().min(256) } else { usize::from(le) };
        if want > data.len() {
            let right = len_byte(data.len());
            self.pending = Some(data);
            return Err(Fail::WrongLe(right));
        }
        if want == data.len() || dialect == Dialect::Gsm {
            return Ok(Out::Data(data[..want].to_vec()));
        }
        let rest = data[want..].to_vec();
        let sw = [0x61, len_byte(rest.len())];
        self.pending = Some(rest);
        Ok(Out::Status(data[..want].to_vec(), sw))
    }

    /// VERIFY PIN / VERIFY CHV. Without data (UICC only) it reports the PIN's state.
    fn verify_pin(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        pin_reference(cmd, dialect)?;
        let data = cmd.body(false)?;
        match data.len() {
            0 if dialect == Dialect::Uicc => self.pin.status()?,
            8 if dialect == Dialect::Gsm && !self.pin.enabled() => return Err(Fail::ConditionsNotSatisfied),
            8 => self.pin.verify(data)?,
            _ => return Err(Fail::WrongLength),
        }
        Ok(Out::Data(Vec::new()))
    }

    fn change_pin(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        pin_reference(cmd, dialect)?;
        let data = cmd.body_of(16, false)?;
        self.pin.change(&data[..8], &data[8..])?;
        Ok(Out::Data(Vec::new()))
    }

    fn disable_pin(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        pin_reference(cmd, dialect)?;
        self.pin.disable(cmd.body_of(8, false)?)?;
        Ok(Out::Data(Vec::new()))
    }

    fn enable_pin(&mut self, cmd: &Command<'_>, dialect: Dialect) -> Handled {
        pin_reference(cmd, dialect)?;
        self.pin.enable(cmd.body_of(8, false)?)?;
        Ok(Out::Data(Vec::new()))
    }
}

/// Instructions the card knows in some class; sent in another class they are a class error.
const KNOWN_INS: &[u8] = &[
    0xA4, 0xB0, 0xD6, 0xB2, 0xDC, 0xC0, 0x20, 0x24, 0x26, 0x28, 0x2C, 0x04, 0x44, 0x88, 0x70, 0xF2, 0x10,
    0x14, 0xC2, 0xAA, 0x12, 0xFA,
];

pub(crate) fn expect_p1p2(cmd: &Command<'_>, p1: u8, p2: u8) -> Result<(), Fail> {
    if (cmd.p1, cmd.p2) == (p1, p2) { Ok(()) } else { Err(Fail::WrongP1P2) }
}

/// P1 = 00 and P2 = PIN1 (01). Other PINs of TS 102 221 §9.5 (PIN2 81, ADM 0A–0E, universal
/// PIN 11) and CHV2 (02) exist in the standard but not on this card.
fn pin_reference(cmd: &Command<'_>, dialect: Dialect) -> Result<(), Fail> {
    if cmd.p1 != 0x00 {
        return Err(Fail::WrongP1P2);
    }
    match (dialect, cmd.p2) {
        (_, 0x01) => Ok(()),
        (Dialect::Uicc, 0x02..=0x08 | 0x0A..=0x0E | 0x11 | 0x81..=0x88) => Err(Fail::ReferenceNotFound),
        (Dialect::Gsm, 0x02) => Err(Fail::ReferenceNotFound),
        _ => Err(Fail::WrongP1P2),
    }
}

/// UNBLOCK PIN: the PUK is not modelled, so unblocking is itself blocked.
fn unblock_pin(cmd: &Command<'_>) -> Handled {
    if cmd.p1 != 0x00 {
        return Err(Fail::WrongP1P2);
    }
    Err(Fail::PinBlocked)
}

/// TERMINAL PROFILE, TERMINAL RESPONSE, ENVELOPE, TERMINAL CAPABILITY: accepted and ignored,
/// as by a card without a toolkit application (nothing becomes pending, so no 91xx).
fn toolkit_data(cmd: &Command<'_>, case4: bool) -> Handled {
    expect_p1p2(cmd, 0, 0)?;
    cmd.body(case4)?;
    Ok(Out::Data(Vec::new()))
}

/// 3-digit MNCs for MCC 310–316 (United States), 2 elsewhere. Carriers elsewhere with 3-digit
/// MNCs (e.g. India's 405, Canada's 302) need `from_seed_with_mnc_len`.
fn default_mnc_len(imsi: &str) -> u8 {
    match imsi.get(..3).and_then(|mcc| mcc.parse::<u16>().ok()) {
        Some(310..=316) => 3,
        _ => 2,
    }
}

fn expose(seed: &Seed, name: &'static str, secret: &Secret) -> Result<String, UsimError> {
    secret.expose().map_err(|e| UsimError::Secret {
        seed: seed.id.clone(),
        secret: name,
        origin: secret.origin(),
        reason: e.to_string(),
    })
}

fn format_error(seed: &Seed, name: &'static str, secret: &Secret, expected: &'static str) -> UsimError {
    UsimError::SecretFormat { seed: seed.id.clone(), secret: name, origin: secret.origin(), expected }
}

/// A 128-bit key from its 32 hex digits.
fn key(seed: &Seed, name: &'static str, secret: &Secret) -> Result<[u8; 16], UsimError> {
    let text = expose(seed, name, secret)?;
    let bytes = crate::encoding::hex::decode(&text).and_then(|b| <[u8; 16]>::try_from(b).ok());
    bytes.ok_or_else(|| format_error(seed, name, secret, "32 hex digits"))
}

fn pin_digits(seed: &Seed, secret: &Secret) -> Result<String, UsimError> {
    let text = expose(seed, "PIN", secret)?;
    let ok = (4..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if ok { Ok(text) } else { Err(format_error(seed, "PIN", secret, "4 to 8 decimal digits")) }
}
