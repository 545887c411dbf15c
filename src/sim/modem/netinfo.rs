//! Quectel's network reports: `AT+QENG="servingcell"` and `"neighbourcell"` (engineering mode),
//! `AT+QNWINFO`, `AT+QCSQ` and `AT+QSPN`. Each reads the camped cell and the heard cells of
//! `radio` under one look at the modem's state, so they agree with `+CSQ`, `+CESQ`, `+COPS?`
//! and `+COPS=?` at every moment.
//!
//! Formats are the EC25/EG25 ones (TS-less, from Quectel's manuals); NR cells, which an EG25
//! cannot see, are shown in the RM500Q's `"NR5G-SA"` form. Fields the simulation has no value
//! for (reselection thresholds, CQI, transmit power) are `-`, as a module in idle mode shows.

use super::at_stream::{Cmd, Form, Reply};
use super::port::Port;
use super::radio::{self, Camped, CellParams, LTE_BAND, Measures, NR_BAND};
use super::sim_files::{self, EF_SPN};
use super::text::Charset;
use crate::model::Rat;
use crate::sim::network::HeardCell;

pub async fn handle(port: &Port, cmd: &Cmd) -> Reply {
    match (cmd.name.as_str(), cmd.form) {
        ("+QENG", Form::Set) => qeng(port, cmd),
        ("+QENG", Form::Test) => Reply::line("+QENG: (\"servingcell\",\"neighbourcell\")"),
        ("+QNWINFO", Form::Exec) => qnwinfo(port),
        ("+QCSQ", Form::Exec) => qcsq(port),
        ("+QCSQ", Form::Test) => Reply::line("+QCSQ: (\"NOSERVICE\",\"GSM\",\"WCDMA\",\"LTE\",\"NR5G\")"),
        ("+QSPN", Form::Exec) => qspn(port).await,
        (_, Form::Test) => Reply::ok(),
        _ => Reply::cme(4),
    }
}

fn qeng(port: &Port, cmd: &Cmd) -> Reply {
    let shared = &port.shared;
    let core = shared.core();
    let camped = radio::camped(shared, &core);
    match cmd.text(0).map(str::to_ascii_lowercase).as_deref() {
        Some("servingcell") if cmd.args.len() == 1 => Reply::line(servingcell(camped.as_ref())),
        Some("neighbourcell") if cmd.args.len() == 1 => {
            let Some(camped) = camped else { return Reply::ok() };
            let cells = radio::heard(shared, &core);
            Reply::lines(neighbours(&camped, &cells))
        }
        _ => Reply::cme(50),
    }
}

/// A measurement, or `-` when the cell is not heard any more.
fn val(m: Option<Measures>, f: impl Fn(&Measures) -> i32) -> String {
    m.map_or_else(|| "-".to_owned(), |m| f(&m).to_string())
}

/// `<srxlev>`, the cell selection level: how far the cell's level is above the RAT's minimum
/// (RSRP −140 dBm, RSCP −115 dBm, RSSI −110 dBm), never below 0.
fn srxlev(m: &Measures) -> i32 {
    match m.rat {
        Rat::Lte | Rat::Nr => (m.rsrp + 140).max(0),
        Rat::Umts => (m.rscp + 115).max(0),
        Rat::Gsm => (m.rssi + 110).max(0),
    }
}

/// `+QENG: "servingcell",...` of the camped cell; `"SEARCH"` when there is none.
pub fn servingcell(camped: Option<&Camped>) -> String {
    let Some(c) = camped else { return "+QENG: \"servingcell\",\"SEARCH\"".to_owned() };
    let (state, mcc, mnc) = (c.state.name(), c.plmn.mcc(), c.plmn.mnc());
    let CellParams { channel, phys, tac, ci } = c.params;
    let v = |f: fn(&Measures) -> i32| val(c.measures, f);
    let (rsrp, rsrq, rssi, sinr) = (v(|m| m.rsrp), v(|m| m.rsrq), v(|m| m.rssi), v(|m| m.sinr));
    let head = format!("+QENG: \"servingcell\",\"{state}\"");
    match c.rat {
        Rat::Lte => format!(
            "{head},\"LTE\",\"FDD\",{mcc},{mnc},{ci:X},{phys},{channel},{LTE_BAND},3,3,{tac:X},\
             {rsrp},{rsrq},{rssi},{sinr},-,-,{}",
            v(srxlev)
        ),
        Rat::Nr => format!(
            "{head},\"NR5G-SA\",\"TDD\",{mcc},{mnc},{ci:X},{phys},{tac:X},{channel},{NR_BAND},12,\
             {rsrp},{rsrq},{sinr},1,{}",
            v(srxlev)
        ),
        Rat::Umts => format!(
            "{head},\"WCDMA\",{mcc},{mnc},{tac:X},{ci:X},{channel},{phys},-,{},{},-,-,-,-,-",
            v(|m| m.rscp),
            v(|m| m.ecno)
        ),
        Rat::Gsm => format!(
            "{head},\"GSM\",{mcc},{mnc},{tac:X},{ci:X},{phys},{channel},0,{rssi},-,-,-,{c},{c},1,\
             -,-,-,-,-,-,-,-,-,\"-\"",
            c = v(srxlev)
        ),
    }
}

/// The other cells of the camped cell's network the modem can hear, strongest first.
fn neighbours(camped: &Camped, cells: &[HeardCell]) -> Vec<String> {
    cells
        .iter()
        .filter(|c| c.plmn == camped.plmn && !(c.rat == camped.rat && c.label == camped.label))
        .map(|cell| neighbour(camped, cell))
        .collect()
}

fn neighbour(camped: &Camped, cell: &HeardCell) -> String {
    let CellParams { channel, phys, .. } = CellParams::of_cell(cell);
    let m = Measures::of(cell.rat, cell.dbm);
    let level = srxlev(&m);
    match cell.rat {
        Rat::Lte => {
            // Quectel prints one field more for a neighbour on the serving channel.
            let intra = camped.rat == Rat::Lte && camped.params.channel == channel;
            let (kind, tail) = if intra { ("intra", "-,-,-,-") } else { ("inter", "-,-,-") };
            format!(
                "+QENG: \"neighbourcell {kind}\",\"LTE\",{channel},{phys},{},{},{},{},{level},{tail}",
                m.rsrq, m.rsrp, m.rssi, m.sinr
            )
        }
        Rat::Umts => {
            format!("+QENG: \"neighbourcell\",\"WCDMA\",{channel},-,-,-,{phys},{},{},{level}", m.rscp, m.ecno)
        }
        Rat::Gsm => format!("+QENG: \"neighbourcell\",\"GSM\",{channel},-,-,-,-,0,{phys},{},{level}", m.rssi),
        Rat::Nr => {
            format!("+QENG: \"neighbourcell\",\"NR5G\",{channel},{phys},{},{},{}", m.rsrp, m.rsrq, m.sinr)
        }
    }
}

/// `+QNWINFO: "<act>","<operator>","<band>",<channel>` while registered, else `No Service`.
fn qnwinfo(port: &Port) -> Reply {
    let shared = &port.shared;
    let core = shared.core();
    match radio::camped(shared, &core).filter(|c| c.state != radio::CampState::Limited) {
        Some(c) => {
            let act = match c.rat {
                Rat::Gsm => "GSM",
                Rat::Umts => "WCDMA",
                Rat::Lte => "FDD LTE",
                Rat::Nr => "NR5G-SA",
            };
            Reply::line(format!(
                "+QNWINFO: \"{act}\",\"{}\",\"{}\",{}",
                c.plmn.numeric(),
                radio::band_name(c.rat),
                c.params.channel
            ))
        }
        None => Reply::line("+QNWINFO: No Service"),
    }
}

/// `+QCSQ: "<sysmode>",...`: the camped cell's measurements per RAT (LTE SINR in 1/5 dB steps
/// from −20 dB, 0–250), `"NOSERVICE"` without one.
fn qcsq(port: &Port) -> Reply {
    let shared = &port.shared;
    let core = shared.core();
    let line = match radio::camped(shared, &core).and_then(|c| c.measures) {
        None => "+QCSQ: \"NOSERVICE\"".to_owned(),
        Some(m) => match m.rat {
            Rat::Gsm => format!("+QCSQ: \"GSM\",{}", m.rssi),
            Rat::Umts => format!("+QCSQ: \"WCDMA\",{},{},{}", m.rssi, m.rscp, m.ecno),
            Rat::Lte => format!("+QCSQ: \"LTE\",{},{},{},{}", m.rssi, m.rsrp, m.sinr_index(), m.rsrq),
            Rat::Nr => format!("+QCSQ: \"NR5G\",{},{},{}", m.rsrp, m.sinr, m.rsrq),
        },
    };
    Reply::line(line)
}

/// `+QSPN: "<FNN>","<SNN>","<SPN>",<alphabet>,"<RPLMN>"`: the registered network's full and
/// short names (as the site's cells carry them), the card's service provider name (EF_SPN,
/// read through the slot), and the registered PLMN. Names are in the port's `+CSCS`
/// (alphabet 1 when UCS2).
async fn qspn(port: &Port) -> Reply {
    let shared = &port.shared;
    if let Err(e) = sim_files::ready(shared) {
        return Reply::cme(e.0);
    }
    let plmn = {
        let core = shared.core();
        match &core.reg.serving {
            Some(s) if core.reg.registered() => s.reg.plmn.clone(),
            _ => return Reply::cme(30),
        }
    };
    let (long, short) = radio::names(shared, &plmn).unwrap_or_else(|| (plmn.numeric(), plmn.numeric()));
    let spn = match sim_files::read_binary(shared, EF_SPN).await {
        Ok(content) => content.map(|c| sim_files::spn(&c)).unwrap_or_default(),
        Err(e) => return Reply::cme(e.0),
    };
    let cs = port.link.settings().cscs;
    let alphabet = u8::from(cs == Charset::Ucs2);
    Reply::line(format!(
        "+QSPN: \"{}\",\"{}\",\"{}\",{alphabet},\"{}\"",
        cs.encode(&long),
        cs.encode(&short),
        cs.encode(&spn),
        plmn.numeric()
    ))
}
