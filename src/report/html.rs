//! The timelines as pages to look at: `<scenario>.html` for each scenario and `index.html`
//! listing them, written next to the JSON timelines by `--timelines DIR`.
//!
//! A page draws one lane per source on the run's one clock (nominal ms from the DUT's start):
//! the oracle's expected attempts (each from its start to its judgement, with the window its
//! judgement must fall in) against the attempts as the bench saw them ([`ObservedBar`]s: the
//! card side, the console only where a card is out of its slot, or inferred), the console's
//! events, each SIM slot (APDUs with their bytes, card events with the ATR, faults applied),
//! the observer's URCs, the network (where the bench has a network record), the backend and
//! the bench. A failing check is marked where it failed, or in the checks panel when it has no
//! moment; each check names the sources that decided it; everything has its details on hover.
//!
//! Pages are self-contained (CSS and script from src/report/assets/, inlined at build time;
//! nothing fetched). Every text taken from a
//! result is escaped here ([`escape`]); the script reads only data attributes and writes only
//! text, never markup. Without the script the page still shows every lane on a linear axis.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::report::Identity;
use crate::run::checks::{Check, Status};
use crate::run::{ExpectedBar, ObservedBar, ScenarioResult, Verdict};

/// Text made safe for HTML text and attribute values (double- or single-quoted): markup
/// characters as entities, control characters (but tab and newline) as their visible Unicode
/// control pictures, C1 controls as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}')),
            '\u{7F}' => out.push('\u{2421}'),
            '\u{80}'..='\u{9F}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The file a scenario's page is written to, in `--timelines DIR`.
pub fn page_file(scenario: &str) -> String {
    format!("{scenario}.html")
}

/// A link to a scenario's page from the index: the file name, percent-encoded.
fn page_href(scenario: &str) -> String {
    let mut out = String::new();
    for b in page_file(scenario).bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Nominal milliseconds as people read them: `45.9 ms`, `1.133 s`, `30 s`.
pub fn fmt_ms(ms: f64) -> String {
    if ms.abs() < 1000.0 {
        let s = format!("{ms:.1}");
        format!("{} ms", s.strip_suffix(".0").unwrap_or(&s))
    } else {
        let s = format!("{:.3}", ms / 1000.0);
        format!("{} s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A number for a data attribute or a style: at most `places` decimals, no trailing zeros.
fn num(x: f64, places: usize) -> String {
    let s = format!("{x:.places$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

fn verdict_word(v: &Verdict) -> (&'static str, &'static str, Option<&str>) {
    match v {
        Verdict::Pass => ("PASS", "pass", None),
        Verdict::Fail => ("FAIL", "fail", None),
        Verdict::Error(why) => ("ERROR", "error", Some(why)),
        Verdict::Skipped(why) => ("SKIP", "skip", Some(why)),
    }
}

/// One timeline item: when, from which source, the whole JSON object.
struct Item<'a> {
    t: f64,
    source: &'a str,
    v: &'a Value,
}

fn items(timeline: &Value) -> Vec<Item<'_>> {
    let Some(all) = timeline.as_array() else { return Vec::new() };
    all.iter()
        .filter_map(|v| {
            Some(Item { t: v["t_ms"].as_f64()?, source: v["source"].as_str().unwrap_or("other"), v })
        })
        .collect()
}

/// What the page knows of the attempts the bench saw ([`ScenarioResult::observed`]), set
/// against the oracle's.
struct Seen<'a> {
    bars: &'a [ObservedBar],
    /// For each bar, the oracle's attempt it stands in the place of.
    places: Vec<Place>,
    /// Seeds by slot, from the oracle's attempts and the bench's.
    names: BTreeMap<u8, String>,
    /// Whether the bench has a card side (a bridge that traced anything).
    card_side: bool,
    /// Slots whose cards are out of their slots (pulled, or bouncing in and out) at some
    /// point: the modem never touches such a card, so the card side cannot see it tried.
    out_of_slot: Vec<u64>,
    /// Expected attempts that cannot be compared: their cards are out of their slots and no
    /// bar shows them tried.
    unseen: Vec<usize>,
}

/// Where an observed attempt stands against the oracle's, compared in order as `attempt_order`
/// compares them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    /// The oracle's `n`th attempt, on the slot it expects.
    Due(usize),
    /// Where the oracle expects its `n`th attempt, on another slot.
    Instead(usize),
    /// After every attempt the oracle expects.
    Extra,
}

impl<'a> Seen<'a> {
    fn new(r: &'a ScenarioResult, items: &[Item]) -> Seen<'a> {
        let bars = r.observed.as_slice();
        let bridge = || items.iter().filter(|i| i.source == "bridge");
        let card_side = bridge().next().is_some();
        let out_of_slot: Vec<u64> = r.out_of_slot.iter().map(|&slot| u64::from(slot)).collect();
        let unseen: Vec<usize> = r
            .expected
            .iter()
            .enumerate()
            .filter(|(_, e)| out_of_slot.contains(&e.slot.into()) && !bars.iter().any(|b| b.slot == e.slot))
            .map(|(n, _)| n)
            .collect();
        let compared: Vec<(usize, &ExpectedBar)> =
            r.expected.iter().enumerate().filter(|(n, _)| !unseen.contains(n)).collect();
        let places = bars
            .iter()
            .enumerate()
            .map(|(k, b)| match compared.get(k) {
                Some(&(n, e)) if e.slot == b.slot => Place::Due(n),
                Some(&(n, _)) => Place::Instead(n),
                None => Place::Extra,
            })
            .collect();
        let mut names: BTreeMap<u8, String> = BTreeMap::new();
        for b in bars.iter().filter(|b| !b.seed.is_empty()) {
            names.insert(b.slot, b.seed.clone());
        }
        for e in &r.expected {
            names.insert(e.slot, e.seed.clone());
        }
        Seen { bars, places, names, card_side, out_of_slot, unseen }
    }

    /// The bar that is the oracle's `n`th attempt, where the bench saw it where expected.
    fn due(&self, n: usize) -> Option<&'a ObservedBar> {
        let k = self.places.iter().position(|p| *p == Place::Due(n))?;
        Some(&self.bars[k])
    }

    /// The first bar out of the oracle's order.
    fn first_wrong(&self) -> Option<&'a ObservedBar> {
        let k = self.places.iter().position(|p| !matches!(p, Place::Due(_)))?;
        Some(&self.bars[k])
    }

    /// Where the last bar ended (or began, if it did not end).
    fn last_end(&self) -> Option<f64> {
        self.bars.last().map(|b| b.ends_at_ms.unwrap_or(b.starts_at_ms))
    }

    /// What a bar's source means, for its tooltip, and the class that marks it.
    fn source_text(&self, source: &str) -> (&'static str, String) {
        match source {
            "card side" => ("", "seen on the card side".to_owned()),
            "console" if self.card_side => {
                ("claimed", "the console's claim (card out of its slot)".to_owned())
            }
            "console" => ("claimed", "the console's claim (no card side on this bench)".to_owned()),
            "inferred" => ("inferred", "inferred: card out of its slot".to_owned()),
            other => ("claimed", format!("source: {other}")),
        }
    }
}

/// How a bar ended, from [`ObservedBar::ended`]: its class, its mark, and in words.
fn ended_style(ended: &str) -> (&'static str, &'static str, String) {
    match ended {
        "connected" => ("ok", "✔", "connected: data went through it".to_owned()),
        "given up" => ("failed", "✘", "given up".to_owned()),
        "open" => ("open", "…", "still on it when the rig stopped watching".to_owned()),
        other => ("open", "?", other.to_owned()),
    }
}

/// Where a failing check is drawn: its lane and moment, or `None` for the checks panel only.
fn fail_at(c: &Check, seen: &Seen, items: &[Item], expected: &[ExpectedBar]) -> Option<(&'static str, f64)> {
    let console_events = || items.iter().filter(|i| i.source == "console");
    let console = |kind: &str| console_events().find(|i| i.v["event"]["event"] == kind).map(|i| i.t);
    let backend = || items.iter().find(|i| i.source == "backend").map(|i| i.t);
    let first = seen.bars.first();
    match c.name.as_str() {
        "master_first" => first.map(|b| ("observed", b.starts_at_ms)),
        "master_judgement" => {
            let b = seen.due(0).or(first)?;
            match c.measured_ms {
                Some(took) => Some(("observed", b.starts_at_ms + took)),
                None => Some(("observed", b.ends_at_ms.unwrap_or(b.starts_at_ms))),
            }
        }
        "attempt_order" => match seen.first_wrong() {
            Some(b) => Some(("observed", b.starts_at_ms)),
            // Fewer attempts than expected: where the last one ended.
            None => seen.last_end().map(|t| ("observed", t)),
        },
        "standby_judgements" => {
            let failed = expected.iter().enumerate().skip(1).filter(|(_, e)| e.judged.starts_with("failed"));
            for (n, e) in failed.filter(|(n, _)| !seen.unseen.contains(n)) {
                let Some(b) = seen.due(n) else {
                    // The attempts went elsewhere before this standby: where they did.
                    return match seen.first_wrong() {
                        Some(w) => Some(("observed", w.starts_at_ms)),
                        None => seen.last_end().map(|t| ("observed", t)),
                    };
                };
                let earliest = e.earliest_ms.unwrap_or(0) as f64;
                match (b.ends_at_ms, e.bound_ms) {
                    (Some(end), bound) => {
                        let took = end - b.starts_at_ms;
                        if took < earliest || bound.is_some_and(|hi| took > hi as f64) {
                            return Some(("observed", end));
                        }
                    }
                    // Never given up: wrong from its bound on.
                    (None, Some(hi)) => return Some(("observed", b.starts_at_ms + hi as f64)),
                    (None, None) => {}
                }
            }
            // In its window, but judged the wrong way (the console's claim): the one measured.
            let m = c.measured_ms?;
            let b = (1..expected.len())
                .filter_map(|n| seen.due(n))
                .find(|b| b.ends_at_ms.is_some_and(|end| (end - b.starts_at_ms - m).abs() < 1.0))?;
            Some(("observed", b.starts_at_ms + m))
        }
        "console_claims" => {
            // The console's first-pass `attempt` lines on cards the card side can see, against
            // the card side's attempts, in order: the first that differ.
            let visible = |slot: u64| !seen.out_of_slot.contains(&slot);
            let card: Vec<&ObservedBar> =
                seen.bars.iter().filter(|b| b.source == "card side" && visible(b.slot.into())).collect();
            let claims: Vec<(f64, u64)> = console_events()
                .filter(|i| {
                    i.v["event"]["event"] == "attempt" && i.v["event"]["pass"].as_u64().unwrap_or(1) == 1
                })
                .filter_map(|i| Some((i.t, i.v["event"]["slot"].as_u64()?)))
                .filter(|&(_, slot)| visible(slot))
                .collect();
            (0..claims.len().max(card.len())).find_map(|n| match (claims.get(n), card.get(n)) {
                (Some((_, slot)), Some(b)) if *slot == u64::from(b.slot) => None,
                (Some((t, _)), _) => Some(("console", *t)),
                (None, Some(b)) => Some(("observed", b.starts_at_ms)),
                (None, None) => None,
            })
        }
        "winner" => {
            console("connected").map(|t| ("console", t)).or_else(|| backend().map(|t| ("backend", t)))
        }
        "time_to_winner" => {
            let by = |s: &str| c.sources.iter().any(|x| x == s);
            let has_network = items.iter().any(|i| i.source == "network");
            let lane = if by("backend") {
                "backend"
            } else if by("network") && has_network {
                "network"
            } else {
                "console"
            };
            c.measured_ms.or_else(|| console("connected")).map(|t| (lane, t))
        }
        "report" => backend().map(|t| ("backend", t)),
        "settled" => {
            let won = backend().or_else(|| console("connected"))?;
            match seen.bars.iter().find(|b| b.starts_at_ms > won) {
                Some(b) => Some(("observed", b.starts_at_ms)),
                None => console_events()
                    .find(|i| i.t > won && i.v["event"]["event"] == "attempt")
                    .map(|i| ("console", i.t)),
            }
        }
        _ => None,
    }
}

/// At most this many bytes of an APDU or ATR in a tooltip.
const HEX_MAX: usize = 260;

/// Hex as bytes apart (`00 A4 00 0C`), at most `max` bytes of it.
fn hex_bytes(hex: &str, max: usize) -> String {
    let chars: Vec<char> = hex.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = chars.len().div_ceil(2);
    let mut out: Vec<String> = chars.chunks(2).take(max).map(|p| p.iter().collect()).collect();
    if bytes > max {
        out.push(format!("… ({bytes} bytes in all; the JSON timeline has them)"));
    }
    out.join(" ")
}

/// The instruction an INS byte is (ISO 7816-4, TS 102 221, TS 31.102), for tooltips.
fn ins_name(ins: &str) -> &'static str {
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
fn fields(v: &Value, skip: &[&str]) -> String {
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
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// The markup of one page's timeline, lane by lane.
struct Chart {
    span: f64,
    lanes: Vec<Lane>,
}

struct Lane {
    key: String,
    name: String,
    hint: String,
    /// `bars` (attempts) or `points` (events).
    kind: &'static str,
    /// Height of the top band (bars or ticks), px; labels go in rows below it.
    band: u32,
    /// At most this many rows of labels.
    rows: u32,
    html: String,
}

impl Lane {
    fn new(key: &str, name: &str, hint: &str, kind: &'static str, rows: u32) -> Lane {
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

fn slot_lane_key(slot: u64) -> String {
    format!("slot-{slot}")
}

fn build_chart(r: &ScenarioResult, items: &[Item], seen: &Seen) -> Chart {
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

/// `decided on: card side, console`: the bench's sources that decided a check, where it names
/// them.
fn decided_on(c: &Check) -> Option<String> {
    (!c.sources.is_empty()).then(|| format!("decided on: {}", c.sources.join(", ")))
}

fn measured(c: &Check) -> Option<String> {
    match (c.measured_ms, c.limit_ms) {
        (Some(m), Some(l)) => {
            Some(format!("measured {}, limit {}{}", fmt_ms(m), fmt_ms(l), c.rig_allowance_text()))
        }
        (Some(m), None) => Some(format!("measured {}", fmt_ms(m))),
        _ => None,
    }
}

/// The page of one scenario.
pub fn scenario_page(r: &ScenarioResult, identity: &Identity) -> String {
    let items = items(&r.timeline);
    let seen = Seen::new(r, &items);
    let (word, class, why) = verdict_word(&r.verdict);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{word} {name} · seedrig timeline</title><style>{CSS}</style></head>\n<body>\n\
         <header><a class=\"back\" href=\"index.html\">← all scenarios</a>\
         <h1><span class=\"verdict {class}\" data-verdict=\"{class}\">{word}</span> {name}</h1>\
         <p class=\"facts\">{nominal} nominal · {wall} wall{lag}{terr} · all times are nominal (the firmware's \
         clock), from the DUT's start</p>",
        name = escape(&r.scenario),
        nominal = fmt_ms(r.nominal_ms),
        wall = fmt_ms(r.wall.as_secs_f64() * 1000.0),
        lag = r.rig_lag_ms.map(|l| format!(" · rig ran up to {} late (real)", fmt_ms(l))).unwrap_or_default(),
        terr = r
            .timing_error_ms
            .map(|e| format!(" · rig saw the win {} after the network (real)", fmt_ms(e)))
            .unwrap_or_default(),
    );
    h.push_str(&tested(identity));
    if let Some(why) = why {
        let _ = write!(h, "<p class=\"reason\">{}</p>", escape(why));
    }
    let failing: Vec<&Check> = r.checks.iter().filter(|c| c.failed()).collect();
    if !failing.is_empty() {
        h.push_str("<ul class=\"failures\">");
        for c in &failing {
            let _ = write!(
                h,
                "<li><b>{}</b>: expected {}, observed {}{}</li>",
                escape(&c.name),
                escape(&c.expected),
                escape(&c.observed),
                decided_on(c)
                    .map(|d| format!(" <span class=\"src\">({})</span>", escape(&d)))
                    .unwrap_or_default()
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</header>\n");

    let chart = build_chart(r, &items, &seen);
    if items.is_empty() && r.expected.is_empty() && r.observed.is_empty() {
        h.push_str("<p class=\"empty\">No timeline: the scenario did not run far enough to leave one.</p>\n");
    } else {
        let _ = writeln!(
            h,
            "<section class=\"timeline\"><div class=\"controls\">time axis \
             <label><input type=\"radio\" name=\"axis\" value=\"compressed\" checked> quiet stretches shortened</label>\
             <label><input type=\"radio\" name=\"axis\" value=\"linear\"> linear</label>\
             <label>zoom <input type=\"range\" id=\"zoom\" min=\"1\" max=\"30\" step=\"0.5\" value=\"1\"></label>\
             <span class=\"hint\">hover anything for its details</span></div>\
             <noscript><p>Without scripts the axis is linear and labels may overlap.</p></noscript>\
             <div class=\"scroller\" id=\"scroller\"><div class=\"chart\" id=\"chart\" data-span-ms=\"{span}\">\
             <div class=\"overlay\" id=\"overlay\"></div>\
             <div class=\"lane axis-lane\"><div class=\"lane-name\">nominal time</div>\
             <div class=\"track\" id=\"axis\"></div></div>",
            span = num(chart.span, 1)
        );
        for l in &chart.lanes {
            let _ = writeln!(
                h,
                "<div class=\"lane {kind}\" data-lane=\"{key}\"><div class=\"lane-name\" title=\"{hint}\">{name}</div>\
                 <div class=\"track\" data-band=\"{band}\" data-rows=\"{rows}\">{html}</div></div>",
                kind = l.kind,
                key = escape(&l.key),
                hint = escape(&l.hint),
                name = escape(&l.name),
                band = l.band,
                rows = l.rows,
                html = l.html,
            );
        }
        h.push_str("</div></div></section>\n");
        h.push_str(LEGEND);
    }

    h.push_str(
        "<section class=\"checks\"><h2>Checks</h2><table><thead><tr><th></th><th>check</th><th>expected</th>\
                <th>observed</th><th>measured</th><th>decided on</th><th>where</th></tr></thead><tbody>\n",
    );
    for c in &r.checks {
        let (row, mark) = match c.status {
            Status::Pass => ("pass", "<span class=\"mark pass\">✔</span>".to_owned()),
            Status::NotObservable => {
                ("na", "<span class=\"mark na\" title=\"not observable on this bench\">–</span>".to_owned())
            }
            Status::Fail => ("fail", String::new()),
        };
        let at = c.failed().then(|| fail_at(c, &seen, &items, &r.expected)).flatten();
        let tip = escape(&format!(
            "{} failed: expected {}; observed {}{}",
            c.name,
            c.expected,
            c.observed,
            decided_on(c).map(|d| format!("; {d}")).unwrap_or_default()
        ));
        let (mark, place) = match (c.status, at) {
            (Status::Fail, Some((on, t))) => (
                format!("<span class=\"mark fail\" title=\"{tip}\">✘</span>"),
                format!(
                    "<a href=\"#fail-{}\">at {} on {}</a>",
                    escape(&c.name),
                    fmt_ms(t),
                    chart.lanes.iter().find(|l| l.key == on).map_or(on.to_owned(), |l| escape(&l.name))
                ),
            ),
            (Status::Fail, None) => (
                format!(
                    "<span class=\"check-fail\" data-check=\"{}\" data-on=\"checks\" title=\"{tip}\">✘</span>",
                    escape(&c.name)
                ),
                "no moment to mark".to_owned(),
            ),
            _ => (mark, String::new()),
        };
        let _ = writeln!(
            h,
            "<tr class=\"check {row}\" data-check=\"{name}\"><td>{mark}</td><td>{name}</td><td>{expected}</td>\
             <td>{observed}</td><td>{measured}</td><td class=\"src\" title=\"{sources_tip}\">{sources}</td>\
             <td>{place}</td></tr>",
            name = escape(&c.name),
            expected = escape(&c.expected),
            observed = escape(&c.observed),
            measured = escape(&measured(c).unwrap_or_default()),
            sources = escape(&c.sources.join(", ")),
            sources_tip = escape(&format!(
                "the bench's sources that decided {}: {}",
                c.name,
                if c.sources.is_empty() { "none named".to_owned() } else { c.sources.join(", ") }
            )),
        );
    }
    if r.checks.is_empty() {
        h.push_str("<tr><td></td><td colspan=\"6\">no checks were evaluated</td></tr>\n");
    }
    h.push_str("</tbody></table></section>\n");
    let _ = write!(h, "<div id=\"tip\" role=\"tooltip\"></div><script>{JS}</script>\n</body></html>\n");
    h
}

/// What was tested: the firmware (id, image and its sha256), seedrig's version and the
/// fixtures' revision, each in an element of its own a script can find by its class.
fn tested(identity: &Identity) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &identity.firmware_id {
        parts.push(format!("firmware <b class=\"firmware-id\">{}</b>", escape(id)));
    }
    if let Some((path, sha)) = &identity.firmware_image {
        parts.push(format!(
            "image {} sha256 <code class=\"firmware-sha256\">{}</code>",
            escape(&path.display().to_string()),
            escape(sha)
        ));
    }
    if parts.is_empty() {
        parts.push("firmware not named".to_owned());
    }
    parts.push(format!(
        "seedrig <span class=\"seedrig-version\">{}</span>",
        escape(&identity.seedrig_version)
    ));
    parts.push(format!(
        "fixtures <code class=\"fixtures-revision\">{}</code>",
        escape(&identity.fixtures_revision)
    ));
    format!("<p class=\"tested\">tested: {}</p>", parts.join(" · "))
}

/// The index page: every scenario of the run with its verdict, linking to its page.
pub fn index_page(results: &[ScenarioResult], identity: &Identity) -> String {
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|r| f(&r.verdict)).count();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>seedrig timelines</title><style>{CSS}</style></head>\n<body>\n<header><h1>seedrig timelines</h1>\
         <p class=\"facts\">{n} scenarios: {pass} passed, {fail} failed, {error} errors, {skip} skipped · \
         lengths in nominal time</p>{tested}</header>\n<table class=\"index\"><thead><tr><th>verdict</th><th>scenario</th>\
         <th>nominal</th><th>wall</th><th>what went wrong</th></tr></thead><tbody>\n",
        n = results.len(),
        pass = count(|v| matches!(v, Verdict::Pass)),
        fail = count(|v| matches!(v, Verdict::Fail)),
        error = count(|v| matches!(v, Verdict::Error(_))),
        skip = count(|v| matches!(v, Verdict::Skipped(_))),
        tested = tested(identity),
    );
    for r in results {
        let (word, class, why) = verdict_word(&r.verdict);
        let failing: Vec<&str> = r.checks.iter().filter(|c| c.failed()).map(|c| c.name.as_str()).collect();
        let what = match why {
            Some(why) => why.to_owned(),
            None if !failing.is_empty() => format!("failing: {}", failing.join(", ")),
            None => String::new(),
        };
        let _ = writeln!(
            h,
            "<tr data-scenario=\"{name}\"><td><span class=\"verdict {class}\" data-verdict=\"{class}\">{word}</span></td>\
             <td><a href=\"{href}\">{name}</a></td><td>{nominal}</td><td>{wall}</td><td>{what}</td></tr>",
            name = escape(&r.scenario),
            href = escape(&page_href(&r.scenario)),
            nominal = fmt_ms(r.nominal_ms),
            wall = fmt_ms(r.wall.as_secs_f64() * 1000.0),
            what = escape(&what),
        );
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    h
}

const LEGEND: &str = "<p class=\"legend\">\
<span><i class=\"k-ok\"></i>connected</span>\
<span><i class=\"k-failed\"></i>judged failed / given up</span>\
<span><i class=\"k-open\"></i>not given up / open</span>\
<span><i class=\"k-claimed\"></i>the console's claim (card out of its slot)</span>\
<span><i class=\"k-inferred\"></i>inferred (card out of its slot)</span>\
<span><i class=\"k-wrong\"></i>not the attempt the oracle expects here</span>\
<span><i class=\"k-win\"></i>window its judgement must fall in</span>\
<span><i class=\"k-apdu\"></i>APDU answered</span>\
<span><i class=\"k-err\"></i>APDU error or no answer</span>\
<span><i class=\"k-card\"></i>card event</span>\
<span><i class=\"k-fault\"></i>card fault applied</span>\
<span><i class=\"k-cf\"></i>failing check</span></p>\n";

const CSS: &str = include_str!("assets/timeline.css");

/// Lays the timeline out: positions from nominal times, labels in rows where they fit, the
/// axis; the axis may shorten quiet stretches (so a run that waits 30 s between bursts stays
/// readable) or be linear, and zooms. Reads data attributes, writes styles and text only.
const JS: &str = include_str!("assets/timeline.js");

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[test]
    fn escape_makes_markup_text_and_control_characters_visible() {
        assert_eq!(
            escape("<script>alert(\"x\")</script>"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("a & b 'c'"), "a &amp; b &#39;c&#39;");
        assert_eq!(escape("+CEREG: 1\r\n"), "+CEREG: 1\u{240D}\n");
        assert_eq!(escape("\u{0}\u{1b}[0m\u{7f}\u{85}"), "\u{2400}\u{241B}[0m\u{2421}\u{FFFD}");
        assert_eq!(escape("tab\there, ünïcödé ✔"), "tab\there, ünïcödé ✔");
        assert_eq!(page_href("m5 <x>"), "m5%20%3Cx%3E.html");
        assert_eq!(page_href("m5-third-ranked-wins"), "m5-third-ranked-wins.html");
    }

    #[test]
    fn durations_read_in_nominal_ms_or_s() {
        assert_eq!(fmt_ms(45.94), "45.9 ms");
        assert_eq!(fmt_ms(0.0), "0 ms");
        assert_eq!(fmt_ms(1133.3), "1.133 s");
        assert_eq!(fmt_ms(30_000.0), "30 s");
        assert_eq!(num(12.50, 3), "12.5");
        assert_eq!(num(3.0, 1), "3");
    }

    fn check(name: &str, status: Status, expected: &str, observed: &str, measured: Option<f64>) -> Check {
        Check {
            name: name.into(),
            expected: expected.into(),
            observed: observed.into(),
            status,
            measured_ms: measured,
            limit_ms: measured.map(|_| 2000.0),
            rig_allowance_ms: None,
            sources: Vec::new(),
            rig_time_beyond_cap_ms: None,
        }
    }

    fn bar(seed: &str, slot: u8, starts: u64, ends: u64, judged: &str) -> ExpectedBar {
        let failed = judged.starts_with("failed");
        ExpectedBar {
            seed: seed.into(),
            slot,
            master: slot == 0,
            starts_at_ms: starts,
            ends_at_ms: Some(ends),
            earliest_ms: failed.then_some(650),
            bound_ms: failed.then_some(1650),
            judged: judged.into(),
            reason: if failed { "registration rejected".into() } else { String::new() },
        }
    }

    fn seen(seed: &str, slot: u8, starts: f64, ends: Option<f64>, ended: &str, source: &str) -> ObservedBar {
        ObservedBar {
            seed: seed.into(),
            slot,
            starts_at_ms: starts,
            ends_at_ms: ends,
            ended: ended.into(),
            source: source.into(),
        }
    }

    fn with_sources(mut c: Check, sources: &[&str]) -> Check {
        c.sources = sources.iter().map(|s| (*s).to_owned()).collect();
        c
    }

    /// A hand-made failing result: the master rejected, then slot 2 tried where slot 1 was due.
    fn failing() -> ScenarioResult {
        let mut r = ScenarioResult::ended("wrong-<order>", Verdict::Fail, Duration::from_millis(1500));
        r.nominal_ms = 2600.0;
        r.expected =
            vec![bar("master-1", 0, 0, 1150, "failed explicit"), bar("best-1", 1, 1150, 2700, "connected")];
        r.observed = vec![
            seen("master-1", 0, 40.0, Some(1140.0), "given up", "card side"),
            seen("worst-1", 2, 1140.0, None, "connected", "card side"),
        ];
        r.checks = vec![
            with_sources(
                check("master_first", Status::Pass, "master-1 (slot 0)", "master-1 (card side)", None),
                &["card side"],
            ),
            with_sources(
                check(
                    "master_judgement",
                    Status::Pass,
                    "failed explicit",
                    "given up after 1.1 s (card side)",
                    Some(1100.0),
                ),
                &["card side", "console"],
            ),
            with_sources(
                check(
                    "attempt_order",
                    Status::Fail,
                    "master-1, best-1",
                    "master-1 (card side), worst-1 (card side)",
                    None,
                ),
                &["card side"],
            ),
            with_sources(
                check("report", Status::Fail, "a report through best-1", "no report", None),
                &["backend"],
            ),
        ];
        r.timeline = json!([
            { "source": "console", "t_ms": 0.0, "event": { "event": "boot" } },
            { "source": "bridge", "t_ms": 0.0, "slot": 1, "card": "fault corrupt_auth applied" },
            { "source": "bridge", "t_ms": 40.0, "slot": 0, "card": "card reset by the modem", "atr": "3B9F96801FC78031A073BE21136743200718000001A5" },
            { "source": "console", "t_ms": 40.0, "event": { "event": "attempt", "slot": 0, "iccid": "8944", "role": "master", "index": null, "pass": 1 } },
            { "source": "bridge", "t_ms": 60.0, "slot": 0, "ins": "B0", "sw": "9000", "latency_us": 800, "fault": null, "file": "6F07", "file_name": "EF.IMSI", "command": "00B0000009", "response": "0809101010325476989000" },
            { "source": "observer", "t_ms": 70.0, "urc": "+CEREG: 2 <b>\"bold\"</b>" },
            { "source": "bridge", "t_ms": 1140.0, "slot": 0, "card": "card powered down by the modem" },
            { "source": "console", "t_ms": 1140.0, "event": { "event": "judged", "slot": 0, "iccid": "8944", "ok": false, "reason": "rejected", "explicit": true } },
            { "source": "console", "t_ms": 1140.0, "event": { "event": "attempt", "slot": 2, "iccid": "8955", "role": "standby", "index": 0.5, "pass": 1 } },
            { "source": "bridge", "t_ms": 1200.0, "slot": 2, "ins": "88", "sw": null, "latency_us": 2000000, "fault": "mute", "subject": "AUTHENTICATE", "command": "0088008122", "response": "" },
            { "source": "console", "t_ms": 2600.0, "event": { "event": "connected", "slot": 2, "iccid": "8955", "imsi": "001", "plmn": null, "rat": null } },
        ]);
        r
    }

    #[test]
    fn a_page_draws_every_lane_the_oracle_against_the_bench_and_marks_failures() {
        let page = scenario_page(&failing(), &Identity::default());
        for lane in ["expected", "observed", "console", "slot-0", "slot-1", "slot-2", "observer", "backend"] {
            assert!(page.contains(&format!("data-lane=\"{lane}\"")), "lane {lane} missing:\n{page}");
        }
        assert!(!page.contains("data-lane=\"network\""), "no network items, no network lane");
        // The oracle's bars and the judgement window of the failed master.
        assert!(page.contains("class=\"bar failed\" data-t=\"0\" data-t1=\"1150\""), "{page}");
        assert!(page.contains("class=\"win\" data-t=\"650\" data-t1=\"1650\""), "{page}");
        // Observed (the bench's bars): the master given up, then slot 2 where slot 1 was
        // expected, connected and still on it at the end of the timeline.
        assert!(page.contains("class=\"bar failed\" data-t=\"40\" data-t1=\"1140\""), "{page}");
        assert!(page.contains("class=\"bar ok wrong\" data-t=\"1140\" data-t1=\"2700\""), "{page}");
        assert!(page.contains("seen on the card side"), "{page}");
        assert!(page.contains("oracle: attempt 2 should be best-1 (slot 1)"), "{page}");
        assert!(page.contains("oracle: judgement due 650 ms to 1.65 s after the start: inside"), "{page}");
        // attempt_order failed at the out-of-order attempt, on the observed lane.
        assert!(
            page.contains(
                "class=\"check-fail\" data-check=\"attempt_order\" data-on=\"observed\" data-t=\"1140\""
            ),
            "{page}"
        );
        // report has no moment (no report at all): marked in the checks panel.
        assert!(page.contains("class=\"check-fail\" data-check=\"report\" data-on=\"checks\""), "{page}");
        assert!(page.contains("<tr class=\"check pass\" data-check=\"master_first\">"));
        // Each check names the sources that decided it.
        assert!(page.contains("<th>decided on</th>"), "{page}");
        assert!(
            page.contains(
                "<td class=\"src\" title=\"the bench&#39;s sources that decided master_judgement: card side, \
                 console\">card side, console</td>"
            ),
            "{page}"
        );
        assert!(page.contains("(decided on: backend)"), "{page}");
        // Seeds named by slot, from the oracle's bars and the bench's (not from check prose).
        assert!(page.contains("slot 2 · worst-1"), "{page}");
        assert!(page.contains("✔ s2 worst-1"), "{page}");
        assert!(!page.contains("worst-1 (card side) (slot"), "{page}");
        // Faults: the card fault and the faulted APDU stand out.
        assert!(page.contains("class=\"pt card fault\""));
        assert!(page.contains("class=\"pt apdu sw-none faulted\""));
        assert!(page.contains("EF.IMSI (6F07) → SW 9000, 0.8 ms latency"), "{page}");
        // The APDUs' bytes and the ATR of an activation, in their details.
        assert!(
            page.contains("command: 00 B0 00 00 09\nresponse: 08 09 10 10 10 32 54 76 98 90 00"),
            "{page}"
        );
        assert!(page.contains("command: 00 88 00 81 22\nresponse: none"), "{page}");
        assert!(page.contains("card reset by the modem\nATR: 3B 9F 96 80 1F C7"), "{page}");
        // Evidence text is escaped everywhere; the only scripts are the page's own.
        assert!(page.contains("+CEREG: 2 &lt;b&gt;&quot;bold&quot;&lt;/b&gt;"), "{page}");
        assert!(!page.contains("<b>\"bold\""));
        assert!(page.contains("<title>FAIL wrong-&lt;order&gt; · seedrig timeline</title>"));
        assert_eq!(page.matches("<script").count(), 1);
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing fetched");
    }

    #[test]
    fn the_bench_s_bars_are_drawn_where_the_console_claims_no_attempt() {
        // A firmware that prints nothing but `boot`: the bench still saw its attempts.
        let mut r = ScenarioResult::ended("silent", Verdict::Pass, Duration::from_millis(900));
        r.nominal_ms = 3000.0;
        r.expected =
            vec![bar("master-1", 0, 0, 1150, "failed explicit"), bar("best-1", 1, 1150, 2800, "connected")];
        r.observed = vec![
            seen("master-1", 0, 45.5, Some(1100.0), "given up", "card side"),
            seen("best-1", 1, 1100.2, None, "connected", "card side"),
        ];
        r.timeline = json!([
            { "source": "console", "t_ms": 0.0, "event": { "event": "boot" } },
            { "source": "bridge", "t_ms": 45.5, "slot": 0, "card": "card reset by the modem", "atr": "3B00" },
            { "source": "bridge", "t_ms": 1100.0, "slot": 0, "card": "card powered down by the modem" },
            { "source": "bridge", "t_ms": 1100.2, "slot": 1, "card": "card reset by the modem", "atr": "3B00" },
            { "source": "backend", "t_ms": 2900.0, "imsi": "001" },
        ]);
        let page = scenario_page(&r, &Identity::default());
        assert!(page.contains("class=\"bar failed\" data-t=\"45.5\" data-t1=\"1100\""), "{page}");
        // Open to the end of the timeline (the expected bars' 2.8 s, the backend's 2.9 s).
        assert!(page.contains("class=\"bar ok\" data-t=\"1100.2\" data-t1=\"3000\""), "{page}");
        assert!(page.contains("✘ s0 master-1") && page.contains("✔ s1 best-1"), "{page}");
        assert!(!page.contains(" wrong\" data-t="), "both in the oracle's order: {page}");
        assert!(page.contains("slot 1 · best-1"), "{page}");
    }

    #[test]
    fn console_claims_and_inferred_attempts_say_what_they_rest_on() {
        let mut r = ScenarioResult::ended("pulled", Verdict::Fail, Duration::from_millis(900));
        r.nominal_ms = 5000.0;
        r.expected = vec![
            bar("master-1", 0, 0, 1000, "failed explicit"),
            bar("gone-1", 1, 1000, 2000, "failed explicit"),
            bar("bouncy-1", 3, 2000, 3000, "failed explicit"),
            bar("best-1", 2, 3000, 4000, "connected"),
        ];
        r.observed = vec![
            seen("master-1", 0, 10.0, Some(1000.0), "given up", "card side"),
            seen("gone-1", 1, 1000.0, Some(1900.0), "given up", "console"),
            seen("bouncy-1", 3, 1900.0, Some(3700.0), "given up", "inferred"),
            seen("best-1", 2, 3700.0, None, "open", "card side"),
        ];
        r.checks = vec![with_sources(
            check(
                "standby_judgements",
                Status::Fail,
                "gone-1: failed explicit between 650 ms and 1.65 s; bouncy-1: failed explicit between 650 ms and 1.65 s",
                "gone-1: given up after 900 ms (console alone); bouncy-1: given up after 1.8 s (inferred)",
                None,
            ),
            &["console", "card side"],
        )];
        r.timeline = json!([
            { "source": "bridge", "t_ms": 0.0, "slot": 1, "card": "fault pulled applied" },
            { "source": "bridge", "t_ms": 0.0, "slot": 3, "card": "fault flaky applied" },
            { "source": "bridge", "t_ms": 10.0, "slot": 0, "card": "card reset by the modem", "atr": "3B00" },
        ]);
        r.out_of_slot = vec![1, 3];
        let page = scenario_page(&r, &Identity::default());
        assert!(page.contains("class=\"bar failed claimed\" data-t=\"1000\" data-t1=\"1900\""), "{page}");
        assert!(page.contains("the console&#39;s claim (card out of its slot)"), "{page}");
        assert!(page.contains("class=\"bar failed inferred\" data-t=\"1900\" data-t1=\"3700\""), "{page}");
        assert!(page.contains("inferred: card out of its slot"), "{page}");
        assert!(
            page.contains("✘ s1 gone-1 (console)") && page.contains("✘ s3 bouncy-1 (inferred)"),
            "{page}"
        );
        assert!(page.contains("class=\"bar open\" data-t=\"3700\" data-t1=\"5000\""), "{page}");
        assert!(page.contains("still on it when the rig stopped watching"), "{page}");
        // bouncy-1's 1.8 s is outside its window: the check is marked where it was given up.
        assert!(
            page.contains(
                "class=\"check-fail\" data-check=\"standby_judgements\" data-on=\"observed\" data-t=\"3700\""
            ),
            "{page}"
        );
        assert!(page.contains("decided on: console, card side"), "{page}");
    }

    #[test]
    fn a_pulled_card_the_bench_cannot_see_tried_is_left_out_of_the_order() {
        let mut r = ScenarioResult::ended("pulled-unseen", Verdict::Pass, Duration::from_millis(900));
        r.nominal_ms = 4000.0;
        r.expected = vec![
            bar("master-1", 0, 0, 1000, "failed explicit"),
            bar("gone-1", 1, 1000, 1000, "failed explicit"),
            bar("best-1", 2, 1000, 3000, "connected"),
        ];
        r.observed = vec![
            seen("master-1", 0, 10.0, Some(1000.0), "given up", "card side"),
            seen("best-1", 2, 1000.5, None, "connected", "card side"),
        ];
        r.timeline = json!([{ "source": "bridge", "t_ms": 0.0, "slot": 1, "card": "fault pulled applied" }]);
        r.out_of_slot = vec![1];
        let page = scenario_page(&r, &Identity::default());
        assert!(page.contains("class=\"bar ok\" data-t=\"1000.5\" data-t1=\"4000\""), "{page}");
        assert!(!page.contains("bar ok wrong"), "{page}");
        assert!(page.contains("Not seen, and not compared: gone-1 (slot 1)"), "{page}");
    }

    #[test]
    fn an_error_with_a_timeline_draws_its_lanes_and_its_reason() {
        let mut r = ScenarioResult::ended(
            "bench-broke",
            Verdict::Error("the bridge <died>".into()),
            Duration::from_millis(700),
        );
        r.nominal_ms = 1500.0;
        r.expected = vec![bar("master-1", 0, 0, 1150, "connected")];
        r.observed = vec![seen("master-1", 0, 20.0, None, "open", "card side")];
        r.timeline = json!([
            { "source": "console", "t_ms": 0.0, "event": { "event": "boot" } },
            { "source": "bridge", "t_ms": 20.0, "slot": 0, "card": "card reset by the modem", "atr": "3B00" },
            { "source": "bench", "t_ms": 1400.0, "broke": "the bridge <died>" },
        ]);
        let page = scenario_page(&r, &Identity::default());
        assert!(page.contains("<title>ERROR bench-broke · seedrig timeline</title>"), "{page}");
        assert!(page.contains("<p class=\"reason\">the bridge &lt;died&gt;</p>"), "{page}");
        for lane in ["expected", "observed", "console", "slot-0", "bench"] {
            assert!(page.contains(&format!("data-lane=\"{lane}\"")), "lane {lane} missing:\n{page}");
        }
        assert!(page.contains("class=\"bar open\" data-t=\"20\" data-t1=\"1500\""), "{page}");
        assert!(!page.contains("No timeline"), "{page}");
        // Bars alone (an older timeline cut short) are still a timeline.
        r.timeline = json!([]);
        let page = scenario_page(&r, &Identity::default());
        assert!(page.contains("data-lane=\"observed\"") && !page.contains("No timeline"), "{page}");
    }

    #[test]
    fn a_result_without_a_timeline_still_has_a_page_with_its_reason() {
        let r = ScenarioResult::ended(
            "needs-six",
            Verdict::Skipped("needs 6 SIM slots, the bench has 3".into()),
            Duration::ZERO,
        );
        let page = scenario_page(&r, &Identity::default());
        assert!(page.contains("SKIP"));
        assert!(page.contains("needs 6 SIM slots, the bench has 3"));
        assert!(page.contains("No timeline"));
        assert!(!page.contains("data-lane="));
    }

    #[test]
    fn the_index_links_every_scenario_with_its_verdict() {
        let pass = ScenarioResult::ended("master-connects", Verdict::Pass, Duration::from_millis(700));
        let err = ScenarioResult::ended("pcscd-dies", Verdict::Error("pcscd <died>".into()), Duration::ZERO);
        let index = index_page(&[failing(), pass, err], &Identity::default());
        assert!(index.contains("<a href=\"wrong-%3Corder%3E.html\">wrong-&lt;order&gt;</a>"), "{index}");
        assert!(index.contains("<a href=\"master-connects.html\">master-connects</a>"));
        assert!(index.contains("<a href=\"pcscd-dies.html\">pcscd-dies</a>"));
        assert!(index.contains("failing: attempt_order, report"));
        assert!(index.contains("pcscd &lt;died&gt;"));
        assert!(index.contains("3 scenarios: 1 passed, 1 failed, 1 errors, 0 skipped"));
        assert!(index.contains("data-verdict=\"error\">ERROR"));
    }
}
