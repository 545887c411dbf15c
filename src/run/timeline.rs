//! A scenario's timeline as JSON: everything observed, on one clock, in nominal milliseconds
//! from the firmware's start.

use std::time::Duration;

use serde_json::{Value, json};

use super::checks::Input;

pub fn build(i: &Input, console_noise: &[(Duration, String)]) -> Value {
    let e = i.evidence;
    let ms = |at: Duration| (i.scale.nominal_ms(at.saturating_sub(e.started_at)) * 10.0).round() / 10.0;
    let mut items: Vec<(f64, Value)> = Vec::new();
    for c in &e.console {
        items.push((ms(c.at), json!({ "source": "console", "event": c.event })));
    }
    for (at, line) in console_noise {
        items.push((ms(*at), json!({ "source": "console", "line": line })));
    }
    for a in &e.apdus {
        let subject = format!("{:?}", a.subject);
        items.push((
            ms(a.at),
            json!({ "source": "bridge", "slot": a.slot, "ins": format!("{:02X}", a.ins), "subject": subject,
                    "sw": a.sw.map(|sw| format!("{sw:04X}")), "latency_us": a.latency.as_micros() as u64, "fault": a.fault }),
        ));
    }
    for c in &e.card_events {
        items.push((ms(c.at), json!({ "source": "bridge", "slot": c.slot, "card": c.what })));
    }
    for (at, urc) in &e.urcs {
        items.push((ms(*at), json!({ "source": "observer", "urc": urc })));
    }
    for r in &e.reports {
        items.push((ms(r.at), json!({ "source": "backend", "imsi": r.imsi })));
    }
    for t in e.network.iter().flatten() {
        items.push((ms(t.at), json!({ "source": "network", "imsi": t.imsi, "what": t.text })));
    }
    for (at, what) in &e.broke {
        items.push((ms(*at), json!({ "source": "bench", "broke": what })));
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
