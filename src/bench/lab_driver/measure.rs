//! A measured site: on a lab without a test network (`site = "measured"`), the observer scans
//! the cells around the bench before each scenario, and the oracle ranks on what it heard.
//!
//! The scan is Quectel's `AT+QOPS` (every operator heard, then its cells with RAT and signal in
//! dBm): `+QOPS: "<long>","<short>","<MCC><MNC>"` followed by `<n>,"<RAT>",<channel>,<PCI>,<dBm>`
//! lines. Cells of PLMNs no carrier fixture has are left out, and said so.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::bench::error::{BenchError, Port, PortCause};
use crate::model::{Catalog, Cell, Rat, Site};

/// A real modem's operator scan can take minutes.
const SCAN_TIMEOUT: Duration = Duration::from_secs(180);

/// What the observer heard, as a site; and the cells it could not place.
#[derive(Debug, Clone)]
pub struct Measured {
    pub site: Site,
    pub unplaced: Vec<String>,
}

/// Scans from `port` and returns the cells as the site `site_id` (the scenario's, measured).
pub async fn scan(
    port: &Path,
    baud: u32,
    wait: Duration,
    catalog: &Catalog,
    site_id: &str,
) -> Result<Measured, BenchError> {
    let error = |cause| BenchError::SerialPort { port: Port::Observer, path: port.to_owned(), cause };
    let stream = crate::bench::serial::open(Port::Observer, port, baud, wait).await?;
    let (rd, mut wr) = tokio::io::split(stream);
    let mut lines = BufReader::new(rd).lines();
    let mut answer = Vec::new();
    for cmd in ["ATE0", "AT+QOPS"] {
        wr.write_all(format!("{cmd}\r").as_bytes()).await.map_err(|e| error(PortCause::Io(e)))?;
        answer.clear();
        let done = tokio::time::timeout(SCAN_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                let line = line.trim().to_owned();
                match line.as_str() {
                    "OK" => return Ok(()),
                    "ERROR" => return Err(PortCause::NoOperatorScan { command: cmd }),
                    l if l.starts_with("+CME ERROR") => {
                        return Err(PortCause::Refused { command: cmd, answer: l.to_owned() });
                    }
                    "" => {}
                    _ => answer.push(line),
                }
            }
            Err(PortCause::ClosedDuring { command: cmd })
        })
        .await;
        match done {
            Ok(result) => result.map_err(error)?,
            Err(_) => return Err(error(PortCause::NoAnswer { command: cmd, within: SCAN_TIMEOUT })),
        }
    }
    Ok(place(&answer, catalog, site_id))
}

/// Turns `AT+QOPS` lines into a site, placing each cell's PLMN on a carrier fixture.
pub fn place(lines: &[String], catalog: &Catalog, site_id: &str) -> Measured {
    let mut cells = Vec::new();
    let mut unplaced = Vec::new();
    let mut plmn: Option<String> = None;
    for line in lines {
        if let Some(rest) = line.strip_prefix("+QOPS:") {
            plmn = rest.split(',').nth(2).map(|p| p.trim().trim_matches('"').to_owned());
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(|f| f.trim().trim_matches('"')).collect();
        let (Some(plmn), Some(rat), Some(dbm)) =
            (&plmn, fields.get(1).and_then(|r| rat(r)), fields.get(4).and_then(|d| d.parse::<f64>().ok()))
        else {
            continue;
        };
        match catalog.carriers.values().find(|c| c.plmn.numeric() == *plmn) {
            Some(carrier) => {
                cells.push(Cell { carrier: carrier.id.clone(), rat, signal_dbm: dbm, label: None })
            }
            None => {
                unplaced.push(format!("{plmn} {} {dbm} dBm (no carrier fixture has PLMN {plmn})", rat.name()))
            }
        }
    }
    let fixture = catalog.sites.get(site_id);
    let site = Site {
        id: site_id.to_owned(),
        name: format!("{} (measured at the bench)", fixture.map_or(site_id, |s| s.name.as_str())),
        country: fixture.map(|s| s.country.clone()).unwrap_or_default(),
        cells,
    };
    Measured { site, unplaced }
}

fn rat(name: &str) -> Option<Rat> {
    match name {
        "GSM" => Some(Rat::Gsm),
        "WCDMA" | "TDSCDMA" | "UMTS" => Some(Rat::Umts),
        "LTE" | "CAT-M" | "NBIOT" => Some(Rat::Lte),
        "NR5G" | "NR" => Some(Rat::Nr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qops_lines_become_cells_on_carrier_fixtures() {
        let catalog = crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap().catalog;
        let lines: Vec<String> = [
            "+QOPS: \"Telekom.de\",\"Telekom\",\"26201\"",
            "1,\"LTE\",1350,77,-71",
            "2,\"GSM\",40,12,-79",
            "+QOPS: \"Test network\",\"Test\",\"00199\"",
            "1,\"LTE\",1300,1,-60",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let m = place(&lines, &catalog, "frankfurt-airport");
        assert_eq!(m.site.cells.len(), 2);
        assert_eq!(
            (m.site.cells[0].carrier.as_str(), m.site.cells[0].rat, m.site.cells[0].signal_dbm),
            ("telekom-de", Rat::Lte, -71.0)
        );
        assert_eq!(m.site.cells[1].rat, Rat::Gsm);
        assert_eq!(m.unplaced.len(), 1);
        assert!(m.unplaced[0].contains("no carrier fixture has PLMN 00199"), "{:?}", m.unplaced);
        assert!(m.site.name.ends_with("(measured at the bench)"));
    }
}
