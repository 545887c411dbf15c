//! The timeline chart: one lane per source, each item placed on the run's one clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::scenario::{decided_on, measured};
use super::seen::{Item, Place, Seen, ended_style, fail_at};
use super::{escape, fmt_ms, num};
use crate::run::ScenarioResult;

/// At most this many bytes of an APDU or ATR in a tooltip.
pub(super) const HEX_MAX: usize = 260;

/// Hex as bytes apart (`00 A4 00 0C`), at most `max` bytes of it.
pub(super) fn hex_bytes(hex: &str, max: usize) -> String {
    let chars: Vec<char> = hex.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = chars.len().div_ceil(2);
    let mut out: Vec<String> = chars.chunks(2).take(max).map(|p| p.iter().collect()).collect();
    if bytes > max {
        out.push(format!("… ({bytes} bytes in all; the JSON timeline has them)"));
    }
    out.join(" ")
}

/// The instruction an INS byte is (ISO 7816-4, TS 102 221, TS 31.102), for tooltips.
pub(super) fn ins_name(ins: &str) -> &'static str {
    match ins {
        "A4" => "SELECT",
        "B0" => "READ BINARY",
        "B2" => "READ RECORD",
        "D6" => "UPDATE BINARY",
        "DC" => "UPDATE RECORD",
        "88" | "89" => "AUTHENTICATE",
        "20" => "VERIFY PIN",
        "24" => "CHANGE PIN",
        "26" => "DISABLE PIN",
        "28" => "ENABLE PIN",
        "2C" => "UNBLOCK PIN",
        "F2" => "STATUS",
        "C0" => "GET RESPONSE",
        "10" => "TERMINAL PROFILE",
        "12" => "FETCH",
        "14" => "TERMINAL RESPONSE",
        "C2" => "ENVELOPE",
        "70" => "MANAGE CHANNEL",
        "CB" => "RETRIEVE DATA",
        _ => "",
    }
}

/// A JSON object's fields as `key: value` lines (nested values as compact JSON).
pub(super) fn fields(v: &Value, skip: &[&str]) -> String {
    let Some(map) = v.as_object() else { return v.to_string() };
    let mut out = String::new();
    for (k, v) in map.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => "none".to_owned(),
            other => other.to_string(),
        };
        let _ = write!(out, "\n{k}: {text}");
    }
    out
}

/// Cuts a label to `max` characters.
pub(super) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// The markup of one page's timeline, lane by lane.
pub(super) struct Chart {
    pub(super) span: f64,
    pub(super) lanes: Vec<Lane>,
}

pub(super) struct Lane {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) hint: String,
    /// `bars` (attempts) or `points` (events).
    pub(super) kind: &'static str,
    /// Height of the top band (bars or ticks), px; labels go in rows below it.
    pub(super) band: u32,
    /// At most this many rows of labels.
    pub(super) rows: u32,
    pub(super) html: String,
}

impl Lane {
    pub(super) fn new(key: &str, name: &str, hint: &str, kind: &'static str, rows: u32) -> Lane {
        let band = if kind == "bars" { 24 } else { 12 };
        Lane { key: key.into(), name: name.into(), hint: hint.into(), kind, band, rows, html: String::new() }
    }
}

impl Chart {
    fn pct(&self, t: f64) -> String {
        num((t / self.span * 100.0).clamp(0.0, 100.0), 3)
    }

    /// An event at `t`: a tick with a label hanging from it. `prio`: whose label gets room first.
    fn point(&self, lane: &mut Lane, t: f64, class: &str, prio: u8, label: &str, tip: &str) {
        let _ = write!(
            lane.html,
            "<div class=\"pt {class}\" data-t=\"{t}\" data-prio=\"{prio}\" style=\"left:{left}%\" title=\"{tip}\">\
             <span class=\"lbl\">{label}</span></div>",
            t = num(t, 1),
            left = self.pct(t),
            tip = escape(&format!("{}: {tip}", fmt_ms(t))),
            label = escape(label),
        );
    }

    /// A stretch from `t` to `t1`.
    fn bar(&self, lane: &mut Lane, t: f64, t1: f64, class: &str, label: &str, tip: &str) {
        let _ = write!(
            lane.html,
            "<div class=\"{class}\" data-t=\"{t}\" data-t1=\"{t1}\" style=\"left:{left}%;width:{width}%\" \
             title=\"{tip}\"><span class=\"lbl\">{label}</span></div>",
            t = num(t, 1),
            t1 = num(t1.max(t), 1),
            left = self.pct(t),
            width = num(((t1 - t).max(0.0) / self.span * 100.0).clamp(0.0, 100.0), 3),
            tip = escape(tip),
            label = escape(label),
        );
    }
}

pub(super) fn slot_lane_key(slot: u64) -> String {
    format!("slot-{slot}")
}

pub(super) fn build_chart(r: &ScenarioResult, items: &[Item], seen: &Seen) -> Chart {
    let names = &seen.names;
    let mut span = r.nominal_ms.max(1.0);
    for i in items {
        span = span.max(i.t);
    }
    for b in seen.bars {
        span = span.max(b.ends_at_ms.unwrap_or(b.starts_at_ms));
    }
    for e in &r.expected {
        span = span.max(e.ends_at_ms.unwrap_or(e.starts_at_ms) as f64);
        if let Some(b) = e.bound_ms {
            span = span.max((e.starts_at_ms + b) as f64);
        }
    }
    for c in r.checks.iter().filter(|c| c.failed()) {
        if let Some((_, t)) = fail_at(c, seen, items, &r.expected) {
            span = span.max(t);
        }
    }
    let chart = Chart { span, lanes: Vec::new() };
    let seed_of =
        |slot: u8| names.get(&slot).map_or(format!("slot {slot}"), |n| format!("{n} (slot {slot})"));

    // The oracle's attempts.
    let mut expected = Lane::new(
        "expected",
        "oracle: expected",
        "The attempts a correct firmware makes: each bar from the attempt's start to its judgement; the \
         bracket under a failed attempt is the window its judgement must fall in (earliest to bound).",
        "bars",
        1,
    );
    expected.band = 38;
    for (n, e) in r.expected.iter().enumerate() {
        let start = e.starts_at_ms as f64;
        let end = e.ends_at_ms.map_or(span, |t| t as f64);
        let role = if e.master { "master" } else { "standby" };
        let mut tip = format!(
            "expected attempt {} · {} · {role}\nstarts at {}\n{}",
            n + 1,
            seed_of(e.slot),
            fmt_ms(start),
            e.judged
        );
        match e.ends_at_ms {
            Some(t) => {
                let _ = write!(tip, " after {} (at {})", fmt_ms(t as f64 - start), fmt_ms(t as f64));
            }
            None => tip.push_str(": waits for ever"),
        }
        if !e.reason.is_empty() {
            let _ = write!(tip, ": {}", e.reason);
        }
        if let (Some(lo), Some(hi)) = (e.earliest_ms, e.bound_ms) {
            let _ = write!(
                tip,
                "\njudgement due between {} and {} after the start",
                fmt_ms(lo as f64),
                fmt_ms(hi as f64)
            );
        }
        let kind = match e.judged.as_str() {
            "connected" => "ok",
            "stalled" => "open",
            _ => "failed",
        };
        let mark = match kind {
            "ok" => "✔",
            "failed" => "✘",
            _ => "…",
        };
        let label = format!("{mark} s{} {}", e.slot, e.seed);
        chart.bar(&mut expected, start, end, &format!("bar {kind}"), &label, &tip);
        if let (Some(lo), Some(hi)) = (e.earliest_ms, e.bound_ms) {
            let wtip = format!(
                "window for the judgement of {}: {} to {} after its start (at {} to {})",
                e.seed,
                fmt_ms(lo as f64),
                fmt_ms(hi as f64),
                fmt_ms(start + lo as f64),
                fmt_ms(start + hi as f64)
            );
            // Windows of neighbours may overlap: every other one a row lower.
            let class = if n % 2 == 1 { "win odd" } else { "win" };
            chart.bar(&mut expected, start + lo as f64, start + hi as f64, class, "", &wtip);
        }
    }
    if r.expected.is_empty() {
        expected.hint.push_str(" (This result carries no expectation.)");
    }

    // The attempts the bench saw.
    let mut observed = Lane::new(
        "observed",
        "observed attempts",
        "The attempts as the bench saw them: each bar from the modem's reset of the card to the DUT giving \
         it up (its card powered down, or the next attempt), from the card side; a card out of its slot is \
         never touched, so its attempt is the console's claim (dashed) or inferred between the attempts \
         around it (dotted). Open bars run to the end of the timeline.",
        "bars",
        2,
    );
    for (k, b) in seen.bars.iter().enumerate() {
        let start = b.starts_at_ms;
        let end = b.ends_at_ms.unwrap_or(span);
        let (class, mark, how) = ended_style(&b.ended);
        let (source_class, source) = seen.source_text(&b.source);
        let mut tip = format!(
            "observed attempt {} · {}\n{source}\nstarts at {}\n{how}",
            k + 1,
            seed_of(b.slot),
            fmt_ms(start)
        );
        match b.ends_at_ms {
            Some(t) => {
                let _ = write!(tip, "; ends after {} (at {})", fmt_ms(t - start), fmt_ms(t));
            }
            None if b.ended != "open" => tip.push_str("; still on it at the end of the timeline"),
            None => {}
        }
        let mut classes = format!("bar {class}");
        if !source_class.is_empty() {
            let _ = write!(classes, " {source_class}");
        }
        match seen.places.get(k).copied() {
            Some(Place::Due(n)) => {
                let e = &r.expected[n];
                let _ =
                    write!(tip, "\noracle: attempt {} is {} (slot {}), {}", n + 1, e.seed, e.slot, e.judged);
                if let (Some(lo), Some(hi), Some(t)) = (e.earliest_ms, e.bound_ms, b.ends_at_ms) {
                    let took = t - start;
                    let inside = took >= lo as f64 && took <= hi as f64;
                    let _ = write!(
                        tip,
                        "\noracle: judgement due {} to {} after the start: {}",
                        fmt_ms(lo as f64),
                        fmt_ms(hi as f64),
                        if inside { "inside" } else { "OUTSIDE" }
                    );
                }
            }
            Some(Place::Instead(n)) => {
                let e = &r.expected[n];
                classes.push_str(" wrong");
                let _ = write!(tip, "\noracle: attempt {} should be {} (slot {})", n + 1, e.seed, e.slot);
            }
            Some(Place::Extra) if !r.expected.is_empty() => {
                classes.push_str(" wrong");
                let _ = write!(tip, "\noracle: no attempt {} expected", k + 1);
            }
            _ => {}
        }
        let name = names.get(&b.slot).map_or(String::new(), |n| format!(" {n}"));
        let via = match b.source.as_str() {
            "card side" => String::new(),
            "inferred" => " (inferred)".to_owned(),
            other => format!(" ({other})"),
        };
        let label = format!("{mark} s{}{name}{via}", b.slot);
        chart.bar(&mut observed, start, end, &classes, &label, &tip);
    }
    let unseen: Vec<String> = seen
        .unseen
        .iter()
        .map(|&n| format!("{} (slot {})", r.expected[n].seed, r.expected[n].slot))
        .collect();
    if !unseen.is_empty() {
        let _ = write!(
            observed.hint,
            " Not seen, and not compared: {} (a card out of its slot, and the console does not say).",
            unseen.join(", ")
        );
    }
    if seen.bars.is_empty() {
        observed.hint.push_str(" (The bench saw no attempt.)");
    }

    let mut console =
        Lane::new("console", "DUT console", "The events the DUT printed on its console.", "points", 3);
    let mut slots: BTreeMap<u64, Lane> = BTreeMap::new();
    let slot_lane = |slots: &mut BTreeMap<u64, Lane>, slot: u64| {
        slots.entry(slot).or_insert_with(|| {
            let name = match names.get(&(slot as u8)) {
                Some(n) => format!("slot {slot} · {n}"),
                None => format!("slot {slot}"),
            };
            let hint =
                format!("SIM slot {slot}: the APDUs through the bridge, card events and the faults applied.");
            Lane::new(&slot_lane_key(slot), &name, &hint, "points", 2)
        });
    };
    for e in &r.expected {
        slot_lane(&mut slots, e.slot.into());
    }
    for b in seen.bars {
        slot_lane(&mut slots, b.slot.into());
    }
    let mut observer = Lane::new(
        "observer",
        "observer URCs",
        "The lines the observer AT port printed unasked, as printed.",
        "points",
        3,
    );
    let mut network = Lane::new(
        "network",
        "network",
        "The network's own record: attaches, authentications, registrations, contexts, data.",
        "points",
        2,
    );
    let mut backend = Lane::new(
        "backend",
        "backend",
        "The reports the backend received, by the IMSI they came through.",
        "points",
        1,
    );
    let mut bench = Lane::new("bench", "bench", "Parts of the bench that broke.", "points", 1);
    let mut other =
        Lane::new("other", "other", "Timeline items of a source this page does not know.", "points", 1);

    for it in items {
        let v = it.v;
        match it.source {
            "console" => {
                if let Some(line) = v["line"].as_str() {
                    chart.point(
                        &mut console,
                        it.t,
                        "noise",
                        0,
                        &short(line, 32),
                        &format!("console line\n{line}"),
                    );
                    continue;
                }
                let e = &v["event"];
                let kind = e["event"].as_str().unwrap_or("?");
                let slot = e["slot"].as_u64().map_or(String::new(), |s| format!(" s{s}"));
                let (label, class) = match kind {
                    "boot" => match e["fault"].as_str() {
                        Some(f) => (format!("boot ({f})"), "ev"),
                        None => ("boot".to_owned(), "ev"),
                    },
                    "measure" => {
                        (format!("measure: {} cells", e["cells"].as_array().map_or(0, Vec::len)), "ev")
                    }
                    "rank" => {
                        let order: Vec<String> = e["order"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| x["slot"].as_u64())
                            .map(|s| format!("s{s}"))
                            .collect();
                        (format!("rank {}", order.join(" ")), "ev")
                    }
                    "attempt" => (format!("attempt{slot}"), "ev attempt"),
                    "judged" => {
                        let ok = e["ok"].as_bool() == Some(true);
                        (
                            format!("judged{slot} {}", if ok { "✔" } else { "✘" }),
                            if ok { "ev ok" } else { "ev bad" },
                        )
                    }
                    "connected" => (format!("connected{slot}"), "ev ok"),
                    "report_sent" => (format!("report sent{slot}"), "ev"),
                    "vsim_assigned" => (format!("VSIM{slot}"), "ev"),
                    "exhausted" => ("exhausted".to_owned(), "ev bad"),
                    "error" => {
                        (format!("error: {}", short(e["reason"].as_str().unwrap_or(""), 24)), "ev bad")
                    }
                    other => (other.to_owned(), "ev"),
                };
                let tip = format!("console: {kind}{}", fields(e, &["event"]));
                chart.point(&mut console, it.t, class, 1, &label, &tip);
            }
            "bridge" => {
                let Some(slot) = v["slot"].as_u64() else { continue };
                slot_lane(&mut slots, slot);
                let lane = slots.get_mut(&slot).expect("just inserted");
                if let Some(card) = v["card"].as_str() {
                    let (class, prio) =
                        if card.starts_with("fault ") { ("card fault", 3) } else { ("card", 2) };
                    let mut tip = format!("slot {slot}: {card}");
                    if let Some(atr) = v["atr"].as_str() {
                        let _ = write!(tip, "\nATR: {}", hex_bytes(atr, HEX_MAX));
                    }
                    chart.point(lane, it.t, class, prio, card, &tip);
                    continue;
                }
                let ins = v["ins"].as_str().unwrap_or("??");
                let what = v["file_name"]
                    .as_str()
                    .or(v["file"].as_str())
                    .or(v["subject"].as_str())
                    .unwrap_or("")
                    .to_owned();
                let file = match (v["file_name"].as_str(), v["file"].as_str()) {
                    (Some(name), Some(fid)) => format!(" {name} ({fid})"),
                    (None, Some(fid)) => format!(" {fid}"),
                    _ => String::new(),
                };
                let sw = v["sw"].as_str();
                let answered = match sw {
                    Some(sw) => format!("SW {sw}"),
                    None => "no answer".to_owned(),
                };
                let latency = v["latency_us"].as_f64().map(|us| format!(", {} latency", fmt_ms(us / 1000.0)));
                let mut tip = format!(
                    "slot {slot}: APDU INS {ins} {}{file} → {answered}{}",
                    ins_name(ins),
                    latency.unwrap_or_default()
                );
                let subject = v["subject"].as_str().filter(|s| *s != ins_name(ins));
                if let Some(s) = subject {
                    let _ = write!(tip, " ({s})");
                }
                if let Some(command) = v["command"].as_str().filter(|c| !c.is_empty()) {
                    let _ = write!(tip, "\ncommand: {}", hex_bytes(command, HEX_MAX));
                }
                if let Some(response) = v["response"].as_str() {
                    let text =
                        if response.is_empty() { "none".to_owned() } else { hex_bytes(response, HEX_MAX) };
                    let _ = write!(tip, "\nresponse: {text}");
                }
                let mut class = match sw {
                    Some(s) if ["90", "91", "61", "9F"].iter().any(|p| s.starts_with(p)) => "apdu",
                    Some(_) => "apdu sw-err",
                    None => "apdu sw-none",
                }
                .to_owned();
                let mut label = what;
                let mut prio = 0;
                if let Some(fault) = v["fault"].as_str() {
                    let _ = write!(tip, "\nfault applied: {fault}");
                    class.push_str(" faulted");
                    label = format!("⚡{fault}");
                    prio = 3;
                }
                chart.point(lane, it.t, &class, prio, &label, &tip);
            }
            "observer" => {
                let urc = v["urc"].as_str().unwrap_or("");
                chart.point(&mut observer, it.t, "urc", 1, &short(urc, 28), &format!("observer URC\n{urc}"));
            }
            "network" => {
                let what = v["what"].as_str().unwrap_or("");
                let imsi = v["imsi"].as_str().unwrap_or("");
                let class =
                    if what.starts_with("rejected") || what.contains("fail") { "net bad" } else { "net" };
                chart.point(
                    &mut network,
                    it.t,
                    class,
                    1,
                    &short(what, 30),
                    &format!("network: {what}\nIMSI {imsi}"),
                );
            }
            "backend" => {
                let imsi = v["imsi"].as_str().unwrap_or("");
                chart.point(
                    &mut backend,
                    it.t,
                    "report",
                    1,
                    &format!("report via {imsi}"),
                    &format!("backend received a report through IMSI {imsi}"),
                );
            }
            "bench" => {
                let broke = v["broke"].as_str().unwrap_or("");
                chart.point(
                    &mut bench,
                    it.t,
                    "broke",
                    2,
                    &short(broke, 40),
                    &format!("bench broke\n{broke}"),
                );
            }
            source => {
                let tip = format!("{source}{}", fields(v, &["source", "t_ms"]));
                chart.point(&mut other, it.t, "ev", 0, source, &tip);
            }
        }
    }

    // Failing checks, each where it failed.
    let mut chart = chart;
    let mut lanes = vec![expected, observed, console];
    lanes.extend(slots.into_values());
    lanes.push(observer);
    if items.iter().any(|i| i.source == "network") {
        lanes.push(network);
    }
    lanes.push(backend);
    if !bench.html.is_empty() {
        lanes.push(bench);
    }
    if !other.html.is_empty() {
        lanes.push(other);
    }
    for c in r.checks.iter().filter(|c| c.failed()) {
        let Some((on, t)) = fail_at(c, seen, items, &r.expected) else { continue };
        let Some(lane) = lanes.iter_mut().find(|l| l.key == on) else { continue };
        let _ = write!(
            lane.html,
            "<div class=\"check-fail\" data-check=\"{name}\" data-on=\"{on}\" data-t=\"{t}\" data-prio=\"9\" \
             id=\"fail-{name}\" style=\"left:{left}%\" title=\"{tip}\"><span class=\"lbl\">✘ {name}</span></div>",
            name = escape(&c.name),
            t = num(t, 1),
            left = chart.pct(t),
            tip = escape(&format!(
                "check {} failed here ({})\nexpected: {}\nobserved: {}{}{}",
                c.name,
                fmt_ms(t),
                c.expected,
                c.observed,
                measured(c).map(|m| format!("\n{m}")).unwrap_or_default(),
                decided_on(c).map(|d| format!("\n{d}")).unwrap_or_default()
            )),
        );
    }
    chart.lanes = lanes;
    chart
}
