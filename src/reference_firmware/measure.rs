//! Measuring the site: the cells the modem hears, from Quectel's operator scan `AT+QOPS`.

use std::time::Duration;

use super::at_client::{AtClient, AtError};
use super::urc::fields;
pub use crate::console::MeasuredCell;
use crate::model::Rat;

/// A real module may scan for minutes; the simulated one answers at once.
const SCAN_TIMEOUT: Duration = Duration::from_secs(180);

pub async fn measure(at: &mut AtClient) -> Result<Vec<MeasuredCell>, AtError> {
    at.command("AT+QOPS", Some(SCAN_TIMEOUT)).await.map(|lines| parse_qops(&lines))
}

/// `+QOPS: "<long>","<short>","<numeric>"` heads each operator; its cells follow as
/// `<index>,"<RAT>",<freq>,<pci>,<signal dBm>`. Lines that fit neither (or name a RAT the
/// method does not know) are skipped: one odd cell must not cost the whole measurement.
pub fn parse_qops(lines: &[String]) -> Vec<MeasuredCell> {
    let mut plmn: Option<String> = None;
    let mut cells = Vec::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("+QOPS:") {
            plmn = fields(rest).get(2).cloned().filter(|p| p.len() >= 5);
            continue;
        }
        let f = fields(line);
        let (Some(plmn), Some(rat), Some(dbm)) =
            (&plmn, f.get(1).and_then(|r| rat_from_qops(r)), f.get(4).and_then(|d| d.parse::<f64>().ok()))
        else {
            tracing::debug!(%line, "QOPS line skipped");
            continue;
        };
        cells.push(MeasuredCell { plmn: plmn.clone(), rat, dbm });
    }
    cells
}

pub fn rat_from_qops(name: &str) -> Option<Rat> {
    match name {
        "GSM" => Some(Rat::Gsm),
        "WCDMA" | "TDSCDMA" => Some(Rat::Umts),
        "LTE" | "CAT-M" | "NBIOT" => Some(Rat::Lte),
        "NR5G" | "NR" => Some(Rat::Nr),
        _ => None,
    }
}

/// The RAT of a 27.007 `<AcT>` (from `+COPS?` or `+CEREG`).
pub fn rat_from_act(act: u8) -> Option<Rat> {
    match act {
        0 | 1 | 3 | 8 => Some(Rat::Gsm),
        2 | 4..=6 => Some(Rat::Umts),
        7 | 9 | 10 => Some(Rat::Lte),
        11..=13 => Some(Rat::Nr),
        _ => None,
    }
}

/// `+COPS: 0,2,"26202",7` → (numeric PLMN, AcT); `None` when not registered (`+COPS: 0`).
pub fn parse_cops(lines: &[String]) -> Option<(String, Option<u8>)> {
    let f = fields(lines.iter().find_map(|l| l.strip_prefix("+COPS:"))?);
    let plmn = f.get(2).filter(|p| !p.is_empty())?.clone();
    Some((plmn, f.get(3).and_then(|a| a.parse().ok())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    #[test]
    fn qops_cells_belong_to_the_operator_above_them() {
        let got = parse_qops(&lines(
            "+QOPS: \"Vodafone Germany\",\"Vodafone\",\"26202\"\n\
             1,\"LTE\",6300,123,-71\n\
             2,\"NR5G\",632628,7,-85\n\
             +QOPS: \"Telekom.de, Inc\",\"Telekom\",\"26201\"\n\
             1,\"GSM\",62,5,-93.5\n\
             2,\"CDMA\",1,1,-50\n\
             3,\"WCDMA\",10700,300,oops",
        ));
        let cell = |plmn: &str, rat, dbm| MeasuredCell { plmn: plmn.into(), rat, dbm };
        assert_eq!(
            got,
            vec![
                cell("26202", Rat::Lte, -71.0),
                cell("26202", Rat::Nr, -85.0),
                cell("26201", Rat::Gsm, -93.5)
            ]
        );
    }

    #[test]
    fn cells_before_any_operator_are_skipped() {
        assert!(parse_qops(&lines("1,\"LTE\",6300,123,-71")).is_empty());
    }

    #[test]
    fn cops_and_act() {
        assert_eq!(parse_cops(&lines("+COPS: 0,2,\"26202\",7")), Some(("26202".into(), Some(7))));
        assert_eq!(parse_cops(&lines("+COPS: 0")), None);
        assert_eq!(rat_from_act(7), Some(Rat::Lte));
        assert_eq!(rat_from_act(13), Some(Rat::Nr));
        assert_eq!(rat_from_act(2), Some(Rat::Umts));
    }
}
