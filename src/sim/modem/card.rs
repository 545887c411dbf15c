//! What the modem's SIM interface does with a card, APDU by APDU: reading the identity (ICCID,
//! PIN state, IMSI), AUTHENTICATE for the network, and the exchanges behind `AT+CRSM` and
//! `AT+CSIM`. T=0 housekeeping (61xx → GET RESPONSE, 6Cxx → repeat with the right Le) is done
//! here, as a modem's SIM driver does it.

use crate::hw::pcsc::{decode_iccid, decode_imsi};
use crate::hw::simtrace::CardemTransport;
use crate::hw::simtrace::codec::status_flags;
use crate::sim::cardem_device::{CardState, CardemDevice, DeviceError};
use crate::sim::network::AuthAnswer;

/// ADF.USIM, by the start of its AID (the card completes it).
pub const SELECT_USIM: [u8; 12] = [0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02];
const MF: u16 = 0x3F00;
const EF_ICCID: u16 = 0x2FE2;
const EF_IMSI: u16 = 0x6F07;
const SW_OK: u16 = 0x9000;
const SW_MAC_FAILURE: u16 = 0x9862;

/// The SIM as the modem knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimState {
    /// No card (or nobody connected to the slot).
    Absent,
    /// Being read (slot switch, insertion).
    Busy,
    /// Unusable: bad ATR, mute, answers that make no sense.
    Failure,
    /// Needs PIN (or PUK) verification.
    Locked {
        iccid: String,
        puk: bool,
    },
    Ready {
        iccid: String,
        imsi: String,
    },
}

impl SimState {
    /// `+CPIN: <text>` as a URC.
    pub fn cpin_urc(&self) -> &'static str {
        match self {
            SimState::Ready { .. } => "READY",
            SimState::Locked { puk: false, .. } => "SIM PIN",
            SimState::Locked { puk: true, .. } => "SIM PUK",
            SimState::Absent | SimState::Busy | SimState::Failure => "NOT READY",
        }
    }

    /// The CME error of a command that needs a ready SIM, if it is not.
    pub fn not_ready_error(&self) -> Option<u16> {
        match self {
            SimState::Ready { .. } => None,
            SimState::Absent => Some(10),
            SimState::Locked { puk: false, .. } => Some(11),
            SimState::Locked { puk: true, .. } => Some(12),
            SimState::Failure => Some(13),
            SimState::Busy => Some(14),
        }
    }

    /// The ICCID, if the card let the modem read it.
    pub fn iccid(&self) -> Option<&str> {
        match self {
            SimState::Ready { iccid, .. } | SimState::Locked { iccid, .. } if !iccid.is_empty() => {
                Some(iccid)
            }
            _ => None,
        }
    }
}

/// The card's ATR if one is in the slot: what "a card is there" means to the modem.
pub fn present(state: &CardState) -> Option<Vec<u8>> {
    (state.inserted && !state.atr.is_empty()).then(|| state.atr.clone())
}

/// Why reading a card stopped.
#[derive(Debug)]
enum Stop {
    Device(DeviceError),
    Refused(&'static str, u16),
    Garbled(&'static str),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Device(e) => e.fmt(f),
            Stop::Refused(what, sw) => write!(f, "{what} answered {sw:04X}"),
            Stop::Garbled(what) => write!(f, "unusable {what}"),
        }
    }
}

impl From<DeviceError> for Stop {
    fn from(e: DeviceError) -> Stop {
        Stop::Device(e)
    }
}

/// Reads what `+CPIN?`, `+QCCID` and `+CIMI` report, after resetting the card if `reset`.
pub async fn read_identity<T: CardemTransport>(dev: &mut CardemDevice<T>, reset: bool) -> SimState {
    match try_read(dev, reset).await {
        Ok(state) => state,
        Err(Stop::Device(DeviceError::NoCard)) => SimState::Absent,
        Err(why) => {
            tracing::info!("SIM card unusable: {why}");
            SimState::Failure
        }
    }
}

async fn try_read<T: CardemTransport>(
    dev: &mut CardemDevice<T>,
    reset_first: bool,
) -> Result<SimState, Stop> {
    let Some(atr) = present(dev.state()) else { return Ok(SimState::Absent) };
    // The ATR is what the card answers to a reset: a modem resets the card to read it, as it
    // does on every new session (a switch, an insertion).
    if reset_first {
        reset(dev).await?;
    }
    // ISO 7816-3: TS is 3B (direct) or 3F (inverse convention); anything else is no card at all.
    if !matches!(atr[0], 0x3B | 0x3F) {
        return Err(Stop::Garbled("ATR"));
    }
    let iccid = read_iccid(dev).await?;
    expect_ok(transceive(dev, &SELECT_USIM).await?.1, "SELECT ADF.USIM")?;
    match transceive(dev, &[0x00, 0x20, 0x00, 0x01, 0x00]).await?.1 {
        SW_OK => {}
        0x63C1..=0x63CF => return Ok(SimState::Locked { iccid, puk: false }),
        0x63C0 | 0x6983 => return Ok(SimState::Locked { iccid, puk: true }),
        sw => return Err(Stop::Refused("VERIFY", sw)),
    }
    let imsi = decode_imsi(&read_file(dev, &[EF_IMSI], 9).await?).ok_or(Stop::Garbled("EF_IMSI"))?;
    Ok(SimState::Ready { iccid, imsi })
}

/// EF_ICCID is readable without the PIN on a real card; a card that refuses it anyway (the
/// `pin_locked` fault refuses every read) leaves the ICCID unknown (empty) rather than failing.
async fn read_iccid<T: CardemTransport>(dev: &mut CardemDevice<T>) -> Result<String, Stop> {
    match read_file(dev, &[MF, EF_ICCID], 10).await {
        Ok(bytes) => Ok(decode_iccid(&bytes)),
        Err(Stop::Refused(what, sw)) => {
            tracing::debug!(what, sw = format_args!("{sw:04X}"), "EF_ICCID not readable");
            Ok(String::new())
        }
        Err(other) => Err(other),
    }
}

/// Powers the card down (VCC and clock off), as a modem does with the slot it leaves.
pub async fn power_down<T: CardemTransport>(dev: &mut CardemDevice<T>) -> Result<(), DeviceError> {
    let inserted = if present(dev.state()).is_some() { status_flags::CARD_INSERT } else { 0 };
    dev.status(inserted).await
}

/// Pulses the reset line with power and clock on, as a modem does when it (re)starts a SIM
/// session: the card forgets its selection and PIN verification.
async fn reset<T: CardemTransport>(dev: &mut CardemDevice<T>) -> Result<(), DeviceError> {
    let on = status_flags::VCC_PRESENT | status_flags::CLK_ACTIVE | status_flags::CARD_INSERT;
    dev.status(on | status_flags::RESET_ACTIVE).await?;
    dev.status(on).await
}

async fn read_file<T: CardemTransport>(
    dev: &mut CardemDevice<T>,
    path: &[u16],
    len: u8,
) -> Result<Vec<u8>, Stop> {
    for fid in path {
        expect_ok(transceive(dev, &select_fid(*fid, false)).await?.1, "SELECT")?;
    }
    let (data, sw) = transceive(dev, &[0x00, 0xB0, 0x00, 0x00, len]).await?;
    expect_ok(sw, "READ BINARY")?;
    Ok(data)
}

fn expect_ok(sw: u16, what: &'static str) -> Result<(), Stop> {
    if sw == SW_OK { Ok(()) } else { Err(Stop::Refused(what, sw)) }
}

/// SELECT by file id; `fcp` asks for the file's control parameters (P2 = 04) rather than
/// nothing (P2 = 0C).
pub fn select_fid(fid: u16, fcp: bool) -> Vec<u8> {
    let [hi, lo] = fid.to_be_bytes();
    vec![0x00, 0xA4, 0x00, if fcp { 0x04 } else { 0x0C }, 0x02, hi, lo]
}

/// One command with T=0 follow-ups; returns the response data and the final status word.
pub async fn transceive<T: CardemTransport>(
    dev: &mut CardemDevice<T>,
    tpdu: &[u8],
) -> Result<(Vec<u8>, u16), DeviceError> {
    let (mut data, mut sw) = split_sw(dev.command(tpdu).await?);
    if sw >> 8 == 0x6C && tpdu.len() == 5 {
        let mut again = tpdu.to_vec();
        again[4] = sw as u8;
        (data, sw) = split_sw(dev.command(&again).await?);
    }
    // A few rounds at most: a card that keeps announcing more data is not believed forever.
    for _ in 0..4 {
        if !matches!(sw >> 8, 0x61 | 0x9F) {
            break;
        }
        let cla = if sw >> 8 == 0x9F { 0xA0 } else { 0x00 };
        let (more, next) = split_sw(dev.command(&[cla, 0xC0, 0x00, 0x00, sw as u8]).await?);
        data.extend(more);
        sw = next;
    }
    Ok((data, sw))
}

fn split_sw(response: Vec<u8>) -> (Vec<u8>, u16) {
    let (data, sw) = crate::apdu::split_sw(&response);
    (data.to_vec(), sw)
}

/// AUTHENTICATE's outcome for the network, and whether the card itself failed (mute, gone),
/// which the modem reports as a SIM failure rather than as the network's verdict.
pub struct AuthResult {
    pub answer: AuthAnswer,
    pub card_failed: bool,
}

/// AUTHENTICATE in the 3G context on ADF.USIM.
pub async fn authenticate<T: CardemTransport>(
    dev: &mut CardemDevice<T>,
    rand: [u8; 16],
    autn: [u8; 16],
) -> AuthResult {
    match try_authenticate(dev, rand, autn).await {
        Ok(answer) => AuthResult { answer, card_failed: false },
        Err(e) => {
            tracing::info!("SIM card failed during AUTHENTICATE: {e}");
            AuthResult { answer: AuthAnswer::CardError, card_failed: true }
        }
    }
}

async fn try_authenticate<T: CardemTransport>(
    dev: &mut CardemDevice<T>,
    rand: [u8; 16],
    autn: [u8; 16],
) -> Result<AuthAnswer, DeviceError> {
    // The application may not be selected any more (AT+CRSM walked elsewhere).
    if transceive(dev, &SELECT_USIM).await?.1 != SW_OK {
        return Ok(AuthAnswer::CardError);
    }
    let mut cmd = vec![0x00, 0x88, 0x00, 0x81, 0x22, 0x10];
    cmd.extend(rand);
    cmd.push(0x10);
    cmd.extend(autn);
    let (data, sw) = transceive(dev, &cmd).await?;
    Ok(parse_auth(&data, sw))
}

/// `DB L RES L CK L IK [L Kc]`, `DC 0E AUTS`, or SW 9862 (TS 31.102 §7.1.2).
pub fn parse_auth(data: &[u8], sw: u16) -> AuthAnswer {
    match (sw, data.first()) {
        (SW_MAC_FAILURE, _) => AuthAnswer::MacFailure,
        (SW_OK, Some(0xDB)) => parse_success(&data[1..]).unwrap_or(AuthAnswer::CardError),
        (SW_OK, Some(0xDC)) => match lv(&data[1..]) {
            Some((auts, _)) => {
                auts.try_into().map_or(AuthAnswer::CardError, |auts| AuthAnswer::Resync { auts })
            }
            None => AuthAnswer::CardError,
        },
        _ => AuthAnswer::CardError,
    }
}

fn parse_success(data: &[u8]) -> Option<AuthAnswer> {
    let (res, rest) = lv(data)?;
    let (ck, rest) = lv(rest)?;
    let (ik, _) = lv(rest)?;
    Some(AuthAnswer::Res { res: res.to_vec(), ck: ck.try_into().ok()?, ik: ik.try_into().ok()? })
}

/// One length-value item and what follows it.
fn lv(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, rest) = data.split_first()?;
    let len = usize::from(len);
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A scripted exchange, done without anyone else's commands in between: SELECTs leading to a
/// file, then the command. Used by `AT+CRSM` (with follow-ups) and `AT+CSIM` (raw).
#[derive(Debug, Clone)]
pub struct Exchange {
    pub steps: Vec<Vec<u8>>,
    pub command: Vec<u8>,
    /// Do the T=0 follow-ups (GET RESPONSE); `AT+CSIM` leaves them to its user.
    pub follow: bool,
}

/// Runs an exchange; a step that fails ends it with that step's status word.
pub async fn exchange<T: CardemTransport>(
    dev: &mut CardemDevice<T>,
    ex: &Exchange,
) -> Result<(Vec<u8>, u16), DeviceError> {
    for step in &ex.steps {
        let (_, sw) = transceive(dev, step).await?;
        if sw != SW_OK {
            return Ok((Vec::new(), sw));
        }
    }
    if ex.follow { transceive(dev, &ex.command).await } else { Ok(split_sw(dev.command(&ex.command).await?)) }
}

/// The SELECTs that lead from anywhere to `fid`, the way a modem resolves `AT+CRSM` file ids:
/// 2Fxx and DFs under the MF, other EFs under ADF.USIM.
pub fn path_to(fid: u16) -> Vec<Vec<u8>> {
    match fid >> 8 {
        0x3F => Vec::new(),
        0x2F | 0x7F | 0x5F => vec![select_fid(MF, false)],
        _ => vec![SELECT_USIM.to_vec()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_authenticate_answer() {
        let mut ok = vec![0xDB, 0x08];
        ok.extend([0xA5; 8]);
        ok.push(0x10);
        ok.extend([0xCC; 16]);
        ok.push(0x10);
        ok.extend([0x11; 16]);
        ok.extend([0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            parse_auth(&ok, 0x9000),
            AuthAnswer::Res { res: vec![0xA5; 8], ck: [0xCC; 16], ik: [0x11; 16] }
        );
        let mut resync = vec![0xDC, 0x0E];
        resync.extend([0x42; 14]);
        assert_eq!(parse_auth(&resync, 0x9000), AuthAnswer::Resync { auts: [0x42; 14] });
        assert_eq!(parse_auth(&[], 0x9862), AuthAnswer::MacFailure);
        assert_eq!(parse_auth(&[], 0x6982), AuthAnswer::CardError);
        assert_eq!(parse_auth(&ok[..20], 0x9000), AuthAnswer::CardError, "truncated");
    }

    #[test]
    fn crsm_paths() {
        assert_eq!(path_to(0x6F07), vec![SELECT_USIM.to_vec()]);
        assert_eq!(path_to(0x2FE2), vec![select_fid(0x3F00, false)]);
        assert!(path_to(0x3F00).is_empty());
    }
}
