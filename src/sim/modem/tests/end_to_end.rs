//! The modem on the real simulated network: Milenage through the card, the report through
//! the data path to the backend stub.

use super::{Client, catalog, config, plug};
use crate::backend::Backend;
use crate::clock::RigClock;
use crate::clock::TimeScale;
use crate::sim::modem::Modem;
use crate::sim::network::{Network, TruthKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_registers_and_reports_to_the_backend() {
    let catalog = catalog();
    let scenario = &catalog.scenarios["master-connects"];
    let clock = RigClock::start();
    let backend = Backend::new(clock);
    let network = Network::new(&catalog, scenario, TimeScale::new(0.01), clock, backend.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let modem = Modem::start(config(1, dir.path()), network.clone()).await.unwrap();
    let mut fw = Client::open(modem.firmware_port());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    let mut bridges = Vec::new();
    let _faults = plug(&modem, &mut bridges, 0, "china-mobile-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;

    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    fw.at("AT+COPS?", "\r\n+COPS: 0,2,\"46000\",7\r\n\r\nOK\r\n").await;
    // What an ordinary client asks on the observer port, answered from the same network and
    // card: the serving cell as Quectel prints it, the card's number and service centre.
    let mut obs = Client::open(modem.observer_port());
    obs.until("\r\n+CPIN: READY\r\n").await;
    obs.at("ATE0;+CMEE=2", "ATE0;+CMEE=2\r\r\nOK\r\n").await;
    let serving = obs.one("AT+QENG=\"servingcell\"").await;
    assert!(serving.starts_with("+QENG: \"servingcell\",\"NOCONN\",\"LTE\",\"FDD\",460,00,"), "{serving}");
    let cell = network.cells().into_iter().find(|c| c.plmn.numeric() == "46000").unwrap();
    let rsrp = cell.dbm.round() as i32;
    assert!(serving.contains(&format!(",{rsrp},")), "{serving} for {cell:?}");
    assert_eq!(
        obs.one("AT+CESQ").await,
        format!(
            "+CESQ: 99,99,255,255,{},{}",
            {
                let m = crate::sim::modem::radio::Measures::of(cell.rat, cell.dbm);
                (2 * m.rsrq + 40).clamp(0, 34)
            },
            (rsrp + 141).clamp(0, 97)
        )
    );
    assert!(obs.one("AT+QNWINFO").await.starts_with("+QNWINFO: \"FDD LTE\",\"46000\",\"LTE BAND 3\","));
    assert!(obs.one("AT+QSPN").await.ends_with(",\"china-mobile\",0,\"46000\""));
    obs.at("AT+CNUM", "\r\n+CNUM: \"\",\"+8609900000071\",145\r\n\r\nOK\r\n").await;
    obs.at("AT+CSCA?", "\r\n+CSCA: \"+8600000000\",145\r\n\r\nOK\r\n").await;
    obs.at("AT+CMGF=1;+CMGS=\"+8613800000000\"", "\r\n> ").await;
    obs.send(b"report\x1a").await;
    obs.expect("\r\n+CMGS: 0\r\n\r\nOK\r\n").await;
    let sms = modem.sent_sms();
    assert_eq!(
        (sms.len(), sms[0].smsc.as_str(), sms[0].imsi.as_str()),
        (1, "+8600000000", "460009900000071")
    );
    fw.at("AT+CGDCONT=1,\"IP\",\"cmnet\"", "\r\nOK\r\n").await;
    fw.at("AT+QIACT=1", "\r\nOK\r\n").await;
    fw.at("AT+QIOPEN=1,0,\"TCP\",\"backend.seedrig.test\",7000,0,1", "\r\nOK\r\n\r\n+QIOPEN: 0,0\r\n").await;
    let report = r#"{"type":"report","iccid":"8986000999000000716","imsi":"460009900000071","mcc":"460","site_cells":[{"plmn":"46000","rat":"lte","dbm":-66}],"rats":["lte"]}"#;
    fw.at(&format!("AT+QISEND=0,{}", report.len()), "\r\n> ").await;
    fw.send(report.as_bytes()).await;
    fw.expect("\r\nSEND OK\r\n\r\n+QIURC: \"recv\",0,").await;
    let answer = fw.until("}\r\n").await;
    let (len, json) = answer.split_once("\r\n").unwrap();
    let json = json.trim_end();
    assert_eq!(len.parse::<usize>().unwrap(), json.len());
    let vsim: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(vsim["type"], "vsim", "{json}");
    assert_eq!(backend.reports().len(), 1);
    let kinds: Vec<TruthKind> = network.ground_truth().into_iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&TruthKind::AuthOk), "{kinds:?}");
    modem.stop().await;
}
