//! A scenario's timeline as JSON: everything observed, on one clock, in nominal milliseconds
//! from the firmware's start. An APDU names its file as the standards write it (`"file":
//! "6F07", "file_name": "EF.IMSI"`) or says what else it was (`"subject": "AUTHENTICATE"`);
//! URCs are the observer port's lines as the modem printed them; console lines and URCs have
//! their secrets masked, as everywhere else.

use std::time::Duration;

use serde_json::{Value, json};

use super::checks::Input;
use crate::apdu::file_name;
use crate::bridge::Subject;
use crate::encoding::hex;
use crate::model::masking::mask_line;

pub fn build(i: &Input, console_noise: &[(Duration, String)]) -> Value {
    let e = i.evidence;
    let ms = |at: Duration| (i.scale.nominal_ms(at.saturating_sub(e.started_at)) * 10.0).round() / 10.0;
    let mut items: Vec<(f64, Value)> = Vec::new();
    for c in &e.console {
        items.push((ms(c.at), json!({ "source": "console", "event": c.event })));
    }
    for (at, line) in console_noise {
        items.push((ms(*at), json!({ "source": "console", "line": mask_line(line) })));
    }
    for a in &e.apdus {
        let mut item = json!({ "source": "bridge", "slot": a.slot, "ins": format!("{:02X}", a.ins),
                "sw": a.sw.map(|sw| format!("{sw:04X}")), "latency_us": a.latency.as_micros() as u64, "fault": a.fault,
                "command": hex::encode(&a.command), "response": hex::encode(&a.response) });
        match a.subject {
            Subject::File(fid) => {
                item["file"] = json!(format!("{fid:04X}"));
                if let Some(name) = file_name(fid) {
                    item["file_name"] = json!(name);
                }
            }
            Subject::Authenticate => item["subject"] = json!("AUTHENTICATE"),
            Subject::Pin => item["subject"] = json!(pin_command(a.ins)),
            Subject::Other => item["subject"] = json!("other"),
        }
        items.push((ms(a.at), item));
    }
    for c in &e.card_events {
        let mut item = json!({ "source": "bridge", "slot": c.slot, "card": c.what });
        if let crate::bridge::CardEventKind::Activated { atr } = &c.kind {
            item["atr"] = json!(hex::encode(atr));
        }
        items.push((ms(c.at), item));
    }
    for (at, urc) in &e.urcs {
        items.push((ms(*at), json!({ "source": "observer", "urc": mask_line(urc) })));
    }
    for r in &e.reports {
        items.push((ms(r.at), json!({ "source": "backend", "imsi": r.imsi })));
    }
    for t in e.network.iter().flatten() {
        items.push((ms(t.at), json!({ "source": "network", "imsi": t.imsi, "what": t.text })));
    }
    for (at, what) in &e.broke {
        items.push((ms(*at), json!({ "source": "bench", "broke": what.to_string() })));
    }
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    Value::Array(
        items
            .into_iter()
            .map(|(t, mut v)| {
                v["t_ms"] = json!(t);
                v
            })
            .collect(),
    )
}

/// The PIN command an instruction byte is (ISO 7816-4 / TS 102 221).
fn pin_command(ins: u8) -> &'static str {
    match ins {
        0x24 => "CHANGE PIN",
        0x26 => "DISABLE PIN",
        0x28 => "ENABLE PIN",
        0x2C => "UNBLOCK PIN",
        _ => "VERIFY PIN",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::bench::evidence::Evidence;
    use crate::bridge::ApduRecord;
    use crate::clock::TimeScale;
    use crate::method::{ScenarioView, expect};

    fn apdu(at_ms: u64, ins: u8, subject: Subject, sw: u16) -> ApduRecord {
        ApduRecord {
            at: Duration::from_millis(at_ms),
            slot: 0,
            cla: 0x00,
            ins,
            subject,
            sw: Some(sw),
            latency: Duration::from_micros(800),
            fault: None,
            ..ApduRecord::default()
        }
    }

    #[test]
    fn apdus_name_their_files_in_hex_and_urcs_stay_as_printed() {
        let loaded =
            crate::fixture::load_default(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("fixtures load");
        let catalog = loaded.catalog;
        let scenario = &catalog.scenarios["master-connects"];
        let expected = expect(&ScenarioView::from_catalog(&catalog, scenario).unwrap());
        let evidence = Evidence {
            apdus: vec![
                apdu(10, 0xA4, Subject::File(0x3F00), 0x9000),
                apdu(20, 0xB0, Subject::File(0x6F07), 0x9000),
                apdu(30, 0xA4, Subject::File(0x6F00), 0x6A82),
                apdu(40, 0x20, Subject::Pin, 0x9000),
                apdu(50, 0x88, Subject::Authenticate, 0x6135),
                apdu(60, 0xF2, Subject::Other, 0x9000),
            ],
            urcs: vec![
                (Duration::from_millis(70), "+CEREG: 2".to_owned()),
                (Duration::from_millis(80), "+CEREG: 1,\"1A2B\",\"01A2B3C4\",7".to_owned()),
            ],
            ..Evidence::default()
        };
        let input = Input {
            catalog: &catalog,
            scenario,
            expected: &expected,
            scale: TimeScale::REAL,
            evidence: &evidence,
        };
        let timeline = build(&input, &[]);
        let items = timeline.as_array().unwrap();
        let bridge: Vec<&Value> = items.iter().filter(|v| v["source"] == "bridge").collect();
        assert_eq!(bridge.len(), 6);
        assert_eq!(bridge[0]["file"], "3F00");
        assert_eq!(bridge[0]["file_name"], "MF");
        assert_eq!(bridge[1]["file"], "6F07");
        assert_eq!(bridge[1]["file_name"], "EF.IMSI");
        assert_eq!(bridge[1]["ins"], "B0");
        assert_eq!(bridge[2]["file"], "6F00", "a file the table does not know is shown in hex");
        assert!(bridge[2].get("file_name").is_none());
        assert_eq!(bridge[3]["subject"], "VERIFY PIN");
        assert_eq!(bridge[4]["subject"], "AUTHENTICATE");
        assert_eq!(bridge[4]["sw"], "6135");
        assert_eq!(bridge[5]["subject"], "other");
        let text = serde_json::to_string(&timeline).unwrap();
        assert!(!text.contains("File(") && !text.contains("28423"), "no Rust debug forms: {text}");
        let urcs: Vec<&Value> =
            items.iter().filter(|v| v["source"] == "observer").map(|v| &v["urc"]).collect();
        assert_eq!(urcs, ["+CEREG: 2", "+CEREG: 1,\"1A2B\",\"01A2B3C4\",7"]);
        assert_eq!(items.iter().find(|v| v["urc"] == "+CEREG: 2").unwrap()["t_ms"], 70.0);
    }
}
