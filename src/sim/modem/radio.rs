//! The radio as the modem reports it: which RATs and bands it may camp on (`AT+QCFG=
//! "nwscanmode"` and `"band"`), what each heard cell looks like beyond the fixture (channel,
//! band, physical id, area code and cell identity: made up per cell, stable), the measurements
//! derived from the fixture's signal, and the cell the modem is camped on. Every report
//! (`+CSQ`, `+CESQ`, `+COPS`, `+QOPS`, `+QENG`, `+QNWINFO`, `+QCSQ`) reads these, so they agree.
//!
//! **Signal.** The fixture's dBm is the RAT's own reference measurement: GSM RSSI, UMTS CPICH
//! RSCP, LTE RSRP, NR SS-RSRP. The rest follows from it: quality (LTE/NR SINR, UMTS Ec/No)
//! improves with the signal; LTE and NR are measured over a fully loaded carrier (10 MHz,
//! 50 resource blocks; n78 100 MHz, 273), so RSSI = RSRP + 10·log10(12·N_RB) and
//! RSRQ = N_RB·RSRP/RSSI less the interference; UMTS RSSI = RSCP − Ec/No. Every report rounds
//! from the same whole-dB values.

use crate::model::{Plmn, Rat};
use crate::sim::network::HeardCell;

use super::at_stream::{Cmd, Form, Reply};
use super::port::Port;
use super::registration::{self, fnv1a};
use super::{Core, Shared};

/// `<bandval>` bits of `AT+QCFG="band"` (Quectel): GSM 900, 1800, 850, 1900; WCDMA 2100
/// (B1), 1900 (B2), 850 (B5), 900 (B8), 800 (B6), 1700 (B4).
pub const GW_SUPPORTED: u32 = 0x3FF;
const GSM_900: u32 = 0x1;
const WCDMA_2100: u32 = 0x10;
/// The LTE bands of an EG25-G; `<ltebandval>` has bit n−1 for band n.
const LTE_BANDS: [u8; 19] = [1, 2, 3, 4, 5, 7, 8, 12, 13, 18, 19, 20, 25, 26, 28, 38, 39, 40, 41];
/// The band every LTE cell of the simulated network is in (its EARFCNs are 1300–1399).
pub const LTE_BAND: u8 = 3;
/// NR cells: n78 (NR-ARFCN 627264–627363); `AT+QCFG="band"` has no NR mask on this module.
pub const NR_BAND: u8 = 78;
/// LTE carrier: 10 MHz, 50 resource blocks (`<DL_bandwidth>` 3 in `+QENG`).
const LTE_RB: f64 = 50.0;
/// NR carrier: 100 MHz at 30 kHz, 273 resource blocks.
const NR_RB: f64 = 273.0;

pub fn lte_supported() -> u128 {
    LTE_BANDS.iter().fold(0, |mask, b| mask | 1u128 << (b - 1))
}

/// `AT+QCFG="nwscanmode"`: 0 automatic, 1 GSM only, 2 WCDMA only, 3 LTE only.
pub const SCAN_MODES: std::ops::RangeInclusive<i64> = 0..=3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadioConfig {
    pub scan_mode: u8,
    pub gw_bands: u32,
    pub lte_bands: u128,
    /// Written with `<effect>` 0: applied at the next reset (`AT+CFUN=1,1`).
    pending_scan: Option<u8>,
    pending_bands: Option<(u32, u128)>,
}

impl Default for RadioConfig {
    fn default() -> Self {
        RadioConfig {
            scan_mode: 0,
            gw_bands: GW_SUPPORTED,
            lte_bands: lte_supported(),
            pending_scan: None,
            pending_bands: None,
        }
    }
}

impl RadioConfig {
    /// Whether the modem may camp on a cell of `rat` (scan mode and band mask).
    pub fn allows(&self, rat: Rat) -> bool {
        let mode = match self.scan_mode {
            0 => true,
            1 => rat == Rat::Gsm,
            2 => rat == Rat::Umts,
            _ => rat == Rat::Lte,
        };
        let band = match rat {
            Rat::Gsm => self.gw_bands & GSM_900 != 0,
            Rat::Umts => self.gw_bands & WCDMA_2100 != 0,
            Rat::Lte => self.lte_bands & (1 << (LTE_BAND - 1)) != 0,
            Rat::Nr => true,
        };
        mode && band
    }

    /// Applies what was written to take effect at the next reset.
    pub fn apply_pending(&mut self) {
        if let Some(mode) = self.pending_scan.take() {
            self.scan_mode = mode;
        }
        if let Some((gw, lte)) = self.pending_bands.take() {
            (self.gw_bands, self.lte_bands) = (gw, lte);
        }
    }
}

/// What the modem knows of a cell beyond the fixture: stable per (PLMN, RAT, cell label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellParams {
    /// ARFCN, UARFCN, EARFCN or NR-ARFCN (downlink).
    pub channel: u32,
    /// BSIC (GSM), primary scrambling code (UMTS), physical cell id (LTE, NR).
    pub phys: u32,
    /// Location / tracking area code.
    pub tac: u16,
    /// Cell identity (16 bits for GSM, 28 otherwise).
    pub ci: u32,
}

impl CellParams {
    pub fn of(plmn: &Plmn, rat: Rat, label: Option<&str>) -> CellParams {
        let key = format!("{}/{}/{}", plmn.numeric(), rat, label.unwrap_or(""));
        let h = fnv1a(key.as_bytes());
        let (base, phys_range, ci_mask) = match rat {
            Rat::Gsm => (10, 64, 0xFFFF),
            Rat::Umts => (10_700, 512, 0x0FFF_FFFF),
            Rat::Lte => (1_300, 504, 0x0FFF_FFFF),
            Rat::Nr => (627_264, 1008, 0x0FFF_FFFF),
        };
        CellParams {
            channel: base + (h % 100) as u32,
            phys: ((h >> 16) % phys_range) as u32,
            tac: ((h >> 48) as u16).max(1),
            ci: (h as u32 & ci_mask).max(1),
        }
    }

    pub fn of_cell(cell: &HeardCell) -> CellParams {
        CellParams::of(&cell.plmn, cell.rat, cell.label.as_deref())
    }
}

/// The band a RAT's cells are in, as `+QNWINFO` names it.
pub fn band_name(rat: Rat) -> String {
    match rat {
        Rat::Gsm => "GSM 900".to_owned(),
        Rat::Umts => "WCDMA 2100".to_owned(),
        Rat::Lte => format!("LTE BAND {LTE_BAND}"),
        Rat::Nr => format!("NR5G BAND {NR_BAND}"),
    }
}

/// Measurements of one cell, whole dB, derived from the fixture's dBm (see the module doc).
/// Fields a RAT does not have are 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measures {
    pub rat: Rat,
    /// Received power over the carrier (GSM: the signal itself).
    pub rssi: i32,
    /// LTE RSRP / NR SS-RSRP.
    pub rsrp: i32,
    /// LTE RSRQ / NR SS-RSRQ.
    pub rsrq: i32,
    /// LTE / NR SINR.
    pub sinr: i32,
    /// UMTS CPICH RSCP.
    pub rscp: i32,
    /// UMTS CPICH Ec/No.
    pub ecno: i32,
}

impl Measures {
    pub fn of(rat: Rat, dbm: f64) -> Measures {
        let p = dbm.round() as i32;
        let none = Measures { rat, rssi: p, rsrp: 0, rsrq: 0, sinr: 0, rscp: 0, ecno: 0 };
        match rat {
            Rat::Gsm => none,
            Rat::Umts => {
                let ecno = (f64::from(p + 85) * 0.4 - 2.0).round().clamp(-24.0, -2.0) as i32;
                Measures { rssi: p - ecno, rscp: p, ecno, ..none }
            }
            Rat::Lte | Rat::Nr => {
                let rb = if rat == Rat::Lte { LTE_RB } else { NR_RB };
                let sinr = (f64::from(p + 115) / 2.0).round().clamp(-20.0, 30.0) as i32;
                let rssi = (f64::from(p) + 10.0 * (12.0 * rb).log10()).round() as i32;
                let rsrq = (-10.0 * 12f64.log10()
                    - 10.0 * (1.0 + 10f64.powf(-f64::from(sinr) / 10.0)).log10())
                .round() as i32;
                Measures { rssi, rsrp: p, rsrq, sinr, ..none }
            }
        }
    }

    /// `+CSQ`'s `<rssi>`: −113 dBm + 2·n, 0..=31.
    pub fn csq(&self) -> u8 {
        index(self.rssi, 113, 2, 31)
    }

    /// `+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>`: the serving RAT's fields, the
    /// others unknown (99 / 255). NR is shown in the E-UTRA fields.
    pub fn cesq(&self) -> String {
        match self.rat {
            Rat::Gsm => format!("{},99,255,255,255,255", index(self.rssi, 111, 1, 63)),
            Rat::Umts => {
                format!("99,99,{},{},255,255", index(self.rscp, 121, 1, 96), index(2 * self.ecno, 49, 1, 49))
            }
            Rat::Lte | Rat::Nr => {
                format!("99,99,255,255,{},{}", index(2 * self.rsrq, 40, 1, 34), index(self.rsrp, 141, 1, 97))
            }
        }
    }

    /// `+QCSQ`'s LTE `<sinr>`: 1/5 dB steps from −20 dB, 0..=250.
    pub fn sinr_index(&self) -> u8 {
        index(5 * self.sinr, 100, 1, 250)
    }
}

/// `(value + offset) / step` within `0..=max` (value and offset in whole units, rounded half up).
fn index(value: i32, offset: i32, step: i32, max: u8) -> u8 {
    (f64::from(value + offset) / f64::from(step)).round().clamp(0.0, f64::from(max)) as u8
}

/// What the modem is camped on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampState {
    /// Registered, a data context active.
    Connected,
    /// Registered, idle.
    Idle,
    /// Not registered (denied), camped for limited service (emergency calls only).
    Limited,
}

impl CampState {
    /// `+QENG`'s `<state>`.
    pub fn name(self) -> &'static str {
        match self {
            CampState::Connected => "CONNECT",
            CampState::Idle => "NOCONN",
            CampState::Limited => "LIMSRV",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Camped {
    pub plmn: Plmn,
    pub rat: Rat,
    pub label: Option<String>,
    pub params: CellParams,
    /// None if the cell is no longer heard (its network was replaced under the modem).
    pub measures: Option<Measures>,
    pub state: CampState,
}

/// The cells the modem can hear now: none with the radio off, else those of the RATs and
/// bands it may use, strongest first.
pub fn heard(shared: &Shared, core: &Core) -> Vec<HeardCell> {
    if core.cfun != 1 {
        return Vec::new();
    }
    shared.net.cells().into_iter().filter(|c| core.radio.allows(c.rat)).collect()
}

/// The cell the modem is camped on: the serving cell while registered; while denied, the
/// strongest cell it may use (limited service); otherwise none (searching, no SIM, radio off).
pub fn camped(shared: &Shared, core: &Core) -> Option<Camped> {
    if let Some(s) = core.reg.serving.as_ref().filter(|_| registration::is_registered(core.reg.stat)) {
        let state = if core.data.active() { CampState::Connected } else { CampState::Idle };
        // The serving cell's level now, as the site has it.
        let dbm = shared
            .net
            .cells()
            .into_iter()
            .find(|c| {
                c.plmn == s.reg.plmn
                    && c.rat == s.reg.rat
                    && (s.reg.cell_label.is_none() || c.label == s.reg.cell_label)
            })
            .map(|c| c.dbm);
        return Some(Camped {
            plmn: s.reg.plmn.clone(),
            rat: s.reg.rat,
            label: s.reg.cell_label.clone(),
            params: CellParams {
                tac: s.tac,
                ci: s.ci,
                ..CellParams::of(&s.reg.plmn, s.reg.rat, s.reg.cell_label.as_deref())
            },
            measures: dbm.map(|dbm| Measures::of(s.reg.rat, dbm)),
            state,
        });
    }
    if core.reg.stat != 3 {
        return None;
    }
    let cell = heard(shared, core).into_iter().next()?;
    Some(Camped {
        params: CellParams::of_cell(&cell),
        measures: Some(Measures::of(cell.rat, cell.dbm)),
        plmn: cell.plmn,
        rat: cell.rat,
        label: cell.label,
        state: CampState::Limited,
    })
}

/// The long and short names of `plmn` as the cells heard at the site carry them.
pub fn names(shared: &Shared, plmn: &Plmn) -> Option<(String, String)> {
    shared.net.cells().into_iter().find(|c| c.plmn == *plmn).map(|c| (c.carrier_name, c.short_name))
}

/// `AT+QCFG="nwscanmode"[,<mode>[,<effect>]]` and `AT+QCFG="band"[,<gw>,<lte>,<tds>[,<effect>]]`.
/// Other settings are not modelled (`+CME ERROR: 50`).
pub fn qcfg(port: &Port, cmd: &Cmd) -> Reply {
    if cmd.form == Form::Test {
        return Reply::lines(vec![
            "+QCFG: \"nwscanmode\",(0-3),(0,1)".to_owned(),
            format!("+QCFG: \"band\",(0-{GW_SUPPORTED:x}),(0-{:x}),(0-0),(0,1)", lte_supported()),
        ]);
    }
    let setting = cmd.text(0).map(str::to_ascii_lowercase);
    let shared = &port.shared;
    let effect = match (setting.as_deref(), cmd.args.len()) {
        (Some("nwscanmode"), 1) => {
            return Reply::line(format!("+QCFG: \"nwscanmode\",{}", shared.core().radio.scan_mode));
        }
        (Some("band"), 1) => {
            let radio = shared.core().radio;
            return Reply::line(format!(
                "+QCFG: \"band\",0x{:x},0x{:x},0x0",
                radio.gw_bands, radio.lte_bands
            ));
        }
        (Some("nwscanmode"), 2..=3) => {
            let (Some(mode), Some(effect)) = (cmd.int_in(1, SCAN_MODES), effect(cmd, 2)) else {
                return Reply::cme(50);
            };
            let mut core = shared.core();
            if effect {
                core.radio.scan_mode = mode as u8;
                core.radio.pending_scan = None;
            } else {
                core.radio.pending_scan = Some(mode as u8);
            }
            effect
        }
        (Some("band"), 3..=5) => {
            let current = shared.core().radio;
            let gw = hex_arg(cmd, 1).map(|v| if v == 0 { current.gw_bands } else { v as u32 & GW_SUPPORTED });
            let lte = hex_arg(cmd, 2).map(|v| if v == 0 { current.lte_bands } else { v & lte_supported() });
            // TD-SCDMA: this module has none; 0 (no change) is all it takes.
            let tds_ok = cmd.args.len() < 4 || hex_arg(cmd, 3) == Some(0);
            let (Some(gw), Some(lte), true, Some(effect)) = (gw, lte, tds_ok, effect(cmd, 4)) else {
                return Reply::cme(50);
            };
            if gw == 0 && lte == 0 {
                return Reply::cme(50);
            }
            let mut core = shared.core();
            if effect {
                (core.radio.gw_bands, core.radio.lte_bands) = (gw, lte);
                core.radio.pending_bands = None;
            } else {
                core.radio.pending_bands = Some((gw, lte));
            }
            effect
        }
        _ => return Reply::cme(50),
    };
    if !effect {
        return Reply::ok();
    }
    let shared = shared.clone();
    Reply::ok().then(move || registration::radio_changed(&shared))
}

/// `<effect>` at `i`: 1 (immediately, the default) or 0 (after a reset).
fn effect(cmd: &Cmd, i: usize) -> Option<bool> {
    match cmd.args.get(i).filter(|a| !a.text.is_empty()) {
        None => Some(true),
        Some(_) => cmd.int_in(i, 0..=1).map(|v| v == 1),
    }
}

/// A band mask argument: hex, with or without `0x`.
fn hex_arg(cmd: &Cmd, i: usize) -> Option<u128> {
    let text = cmd.text(i)?;
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
    u128::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_follow_the_signal() {
        let lte = Measures::of(Rat::Lte, -71.0);
        assert_eq!((lte.rsrp, lte.sinr, lte.rsrq, lte.rssi), (-71, 22, -11, -43));
        assert_eq!(lte.csq(), 31);
        assert_eq!(lte.cesq(), "99,99,255,255,18,70");
        assert_eq!(lte.sinr_index(), 210);
        let weak = Measures::of(Rat::Lte, -118.0);
        assert_eq!((weak.sinr, weak.rsrq, weak.rssi), (-2, -15, -90));
        assert_eq!(weak.csq(), 12);
        let umts = Measures::of(Rat::Umts, -95.0);
        assert_eq!((umts.rscp, umts.ecno, umts.rssi), (-95, -6, -89));
        assert_eq!(umts.cesq(), "99,99,26,37,255,255");
        let gsm = Measures::of(Rat::Gsm, -85.0);
        assert_eq!((gsm.csq(), gsm.cesq()), (14, "26,99,255,255,255,255".to_owned()));
        assert_eq!(Measures::of(Rat::Lte, -150.0).cesq(), "99,99,255,255,0,0");
    }

    #[test]
    fn scan_mode_and_bands_restrict_rats() {
        let mut cfg = RadioConfig::default();
        assert!([Rat::Gsm, Rat::Umts, Rat::Lte, Rat::Nr].iter().all(|r| cfg.allows(*r)));
        cfg.scan_mode = 3;
        assert!(cfg.allows(Rat::Lte) && !cfg.allows(Rat::Gsm) && !cfg.allows(Rat::Nr));
        cfg.lte_bands = 1 << 19;
        assert!(!cfg.allows(Rat::Lte));
        cfg.scan_mode = 0;
        cfg.gw_bands = WCDMA_2100;
        assert!(!cfg.allows(Rat::Gsm) && cfg.allows(Rat::Umts) && cfg.allows(Rat::Nr));
        cfg.pending_scan = Some(1);
        cfg.apply_pending();
        assert_eq!(cfg.scan_mode, 1);
    }

    #[test]
    fn cell_parameters_fit_their_band() {
        let plmn = Plmn::parse("262-01").unwrap();
        let lte = CellParams::of(&plmn, Rat::Lte, Some("fra-1"));
        assert!((1200..=1949).contains(&lte.channel) && lte.phys < 504);
        let gsm = CellParams::of(&plmn, Rat::Gsm, None);
        assert!((1..=124).contains(&gsm.channel) && gsm.phys < 64 && gsm.ci <= 0xFFFF);
        let umts = CellParams::of(&plmn, Rat::Umts, None);
        assert!((10_562..=10_838).contains(&umts.channel));
        let nr = CellParams::of(&plmn, Rat::Nr, None);
        assert!((620_000..=653_333).contains(&nr.channel));
        assert_eq!(lte, CellParams::of(&plmn, Rat::Lte, Some("fra-1")), "stable");
    }
}
