//! The backend stub: receives the DUT's report through the winning seed's data context and
//! assigns a local virtual SIM (the method's last step).
//!
//! On the virtual bench nothing listens on a port: requests arrive through the simulated
//! network, which calls [`Backend::handle`] with the IMSI of the context they came through. On
//! a lab bench the stub listens on the rig file's address ([`tcp`]).

pub mod tcp;

use crate::model::luhn_check_digit;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::RigClock;

/// The host name the firmware dials for the backend (any port); the network resolves only this.
pub const BACKEND_HOST: &str = "backend.seedrig.test";

/// MNC of the VSIMs the stub hands out: "99" is not assigned to any carrier in the starter
/// fixtures, so a VSIM never collides with a seed's home network.
const VSIM_MNC: &str = "99";

/// One report the backend accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    /// When it arrived, on the rig's clock.
    pub at: Duration,
    /// The IMSI of the context it came through (not what the report claims).
    pub imsi: String,
    /// The report as the firmware sent it.
    pub report: Value,
}

/// The backend stub. Cheap to clone; every clone sees the same reports.
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

struct Inner {
    clock: RigClock,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    reports: Vec<ReportRecord>,
    /// (context IMSI, report MCC) in the order of their first report; the position is the
    /// VSIM serial, so a device that reports twice gets the same VSIM.
    assigned: Vec<(String, String)>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend").field("reports", &self.state().reports.len()).finish()
    }
}

impl Backend {
    pub fn new(clock: RigClock) -> Backend {
        Backend { inner: Arc::new(Inner { clock, state: Mutex::new(State::default()) }) }
    }

    /// Handles one request that reached it through `imsi`'s context; returns the answer.
    pub fn handle(&self, imsi: &str, payload: &[u8]) -> Vec<u8> {
        let answer = match parse_report(payload) {
            Ok((report, mcc)) => self.accept(imsi, report, &mcc),
            Err(reason) => {
                tracing::debug!(imsi, %reason, "backend: malformed request");
                json!({ "type": "error", "reason": reason })
            }
        };
        answer.to_string().into_bytes()
    }

    /// Every accepted report, in arrival order.
    pub fn reports(&self) -> Vec<ReportRecord> {
        self.state().reports.clone()
    }

    fn accept(&self, imsi: &str, report: Value, mcc: &str) -> Value {
        let at = self.inner.clock.now();
        let mut state = self.state();
        let serial = state.serial_for(imsi, mcc);
        state.reports.push(ReportRecord { at, imsi: imsi.to_owned(), report });
        drop(state);
        let vsim = Vsim::local(mcc, serial);
        tracing::debug!(imsi, vsim_iccid = %vsim.iccid, "backend: report accepted, VSIM assigned");
        json!({ "type": "vsim", "iccid": vsim.iccid, "imsi": vsim.imsi, "plmn": vsim.plmn })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the data consistent (every update is
        // a single push), so the poison is not worth propagating.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// The 1-based VSIM serial of `(imsi, mcc)`, assigning the next one on first sight.
    fn serial_for(&mut self, imsi: &str, mcc: &str) -> u64 {
        let key = (imsi.to_owned(), mcc.to_owned());
        let index = match self.assigned.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.assigned.push(key);
                self.assigned.len() - 1
            }
        };
        index as u64 + 1
    }
}

/// A local virtual SIM in the reporting device's country.
struct Vsim {
    iccid: String,
    imsi: String,
    plmn: String,
}

impl Vsim {
    /// ICCID `89 | MCC | 99 | serial (11) | Luhn` (19 digits; the MCC stands in for the E.164
    /// country code so no table is needed) and IMSI `MCC | 99 | serial (10)` (15 digits).
    fn local(mcc: &str, serial: u64) -> Vsim {
        let body = format!("89{mcc}{VSIM_MNC}{:011}", serial % 100_000_000_000);
        let iccid = format!("{body}{}", luhn_check_digit(&body));
        let imsi = format!("{mcc}{VSIM_MNC}{:010}", serial % 10_000_000_000);
        Vsim { iccid, imsi, plmn: format!("{mcc}{VSIM_MNC}") }
    }
}

/// Checks the request is a report (`docs/virtual-bench.md`) and returns it with its MCC, or a
/// sentence saying what is wrong.
fn parse_report(payload: &[u8]) -> Result<(Value, String), String> {
    let report: Value = serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}"))?;
    let Some(fields) = report.as_object() else {
        return Err("the request is not a JSON object".to_owned());
    };
    match fields.get("type").and_then(Value::as_str) {
        Some("report") => {}
        Some(other) => return Err(format!("unknown request type \"{other}\"")),
        None => return Err("the request has no string \"type\"".to_owned()),
    }
    let mcc = fields.get("mcc").and_then(Value::as_str).unwrap_or_default();
    if mcc.len() != 3 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
        return Err("\"mcc\" must be a string of 3 digits".to_owned());
    }
    for key in ["iccid", "imsi"] {
        if !fields.get(key).is_some_and(Value::is_string) {
            return Err(format!("the report has no string \"{key}\""));
        }
    }
    for key in ["site_cells", "rats"] {
        if !fields.get(key).is_some_and(Value::is_array) {
            return Err(format!("the report has no array \"{key}\""));
        }
    }
    let mcc = mcc.to_owned();
    Ok((report, mcc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Iccid;

    const REPORT: &str = r#"{"type":"report","iccid":"8949020999000000116","imsi":"262029900000011",
        "mcc":"262","site_cells":[{"plmn":"26201","rat":"lte","dbm":-71}],"rats":["lte","nr"]}"#;

    fn answer(backend: &Backend, imsi: &str, payload: &str) -> Value {
        serde_json::from_slice(&backend.handle(imsi, payload.as_bytes())).unwrap()
    }

    #[test]
    fn report_gets_a_local_vsim_and_is_recorded() {
        let backend = Backend::new(RigClock::start());
        let vsim = answer(&backend, "262029900000011", REPORT);
        assert_eq!(vsim["type"], "vsim");
        assert_eq!(vsim["plmn"], "26299");
        let iccid = vsim["iccid"].as_str().unwrap();
        assert_eq!(iccid.len(), 19);
        Iccid::parse(iccid).expect("Luhn-valid ICCID");
        let imsi = vsim["imsi"].as_str().unwrap();
        assert!(imsi.len() == 15 && imsi.starts_with("26299"), "{imsi}");
        let reports = backend.reports();
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].imsi, "262029900000011");
        assert_eq!(reports[0].report["mcc"], "262");
    }

    #[test]
    fn same_device_same_vsim_other_device_another() {
        let backend = Backend::new(RigClock::start());
        let first = answer(&backend, "262029900000011", REPORT);
        let again = answer(&backend, "262029900000011", REPORT);
        let other = answer(&backend.clone(), "234159900000031", REPORT);
        assert_eq!(first, again);
        assert_ne!(first["iccid"], other["iccid"]);
        Iccid::parse(other["iccid"].as_str().unwrap()).unwrap();
        assert_eq!(backend.reports().len(), 3);
    }

    #[test]
    fn malformed_requests_get_an_error_and_are_not_recorded() {
        let backend = Backend::new(RigClock::start());
        let cases = [
            ("not json", "not JSON"),
            ("[1,2]", "not a JSON object"),
            (r#"{"type":"hello"}"#, "unknown request type \"hello\""),
            (r#"{"type":"report","mcc":262}"#, "\"mcc\""),
            (r#"{"type":"report","mcc":"262","imsi":"1"}"#, "\"iccid\""),
            (r#"{"type":"report","mcc":"262","imsi":"1","iccid":"2","rats":[]}"#, "\"site_cells\""),
        ];
        for (payload, expected) in cases {
            let a = answer(&backend, "262029900000011", payload);
            assert_eq!(a["type"], "error", "{payload}");
            let reason = a["reason"].as_str().unwrap();
            assert!(reason.contains(expected), "{payload}: {reason}");
        }
        assert!(backend.reports().is_empty());
    }

    #[test]
    fn luhn_matches_published_iccid() {
        assert_eq!(luhn_check_digit("898821100000043001"), 0);
        assert_eq!(luhn_check_digit("894902099900000011"), 6);
    }
}
