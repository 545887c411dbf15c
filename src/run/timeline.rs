//! A scenario's timeline as JSON: everything observed, on one clock, in nominal milliseconds
//! from the firmware's start.

use serde_json::{Value, json};

use super::checks::Observed;
use crate::bridge::CardEvent;

pub fn build(o: &Observed, card_events: &[CardEvent], urcs: &[(std::time::Duration, String)]) -> Value {
    let ms =
        |at: std::time::Duration| (o.scale.nominal_ms(at.saturating_sub(o.started_at)) * 10.0).round() / 10.0;
    let mut items: Vec<(f64, Value)> = Vec::new();
    for e in o.console {
        items.push((ms(e.at), json!({ "source": "console", "event": e.event })));
    }
    for a in o.apdus {
        let subject = format!("{:?}", a.subject);
        items.push((
            ms(a.at),
            json!({ "source": "bridge", "slot": a.slot, "ins": format!("{:02X}", a.ins), "subject": subject,
                    "sw": a.sw.map(|sw| format!("{sw:04X}")), "latency_us": a.latency.as_micros() as u64, "fault": a.fault }),
        ));
    }
    for c in card_events {
        items.push((ms(c.at), json!({ "source": "bridge", "slot": c.slot, "card": c.what })));
    }
    for (at, urc) in urcs {
        items.push((ms(*at), json!({ "source": "observer", "urc": urc })));
    }
    for t in o.truth {
        items.push((ms(t.at), json!({ "source": "network", "imsi": t.imsi, "what": t.kind.to_string() })));
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
