//! The timelines as pages to look at: `<scenario>.html` for each scenario and `index.html`
//! listing them, written next to the JSON timelines by `--timelines DIR`.
//!
//! A page draws one lane per source on the run's one clock (nominal ms from the DUT's start):
//! the oracle's expected attempts (each from its start to its judgement, with the window its
//! judgement must fall in) against the attempts as the bench saw them ([`ObservedBar`](crate::run::ObservedBar)s: the
//! card side, the console only where a card is out of its slot, or inferred), the console's
//! events, each SIM slot (APDUs with their bytes, card events with the ATR, faults applied),
//! the observer's URCs, the network (where the bench has a network record), the backend and
//! the bench. A failing check is marked where it failed, or in the checks panel when it has no
//! moment; each check names the sources that decided it; everything has its details on hover.
//! Above the timeline, the page explains the expectation (`expectation.rs`): one sentence naming
//! where the run first left the expected path, the oracle's ranking table beside the firmware's
//! own `rank` event and the order the bench saw, and links to the raw evidence beside the page.
//! The index (`index.rs`) sorts and filters the scenarios by verdict.
//!
//! The parts: `scenario.rs` (the page), `lanes.rs` (the timeline chart), `seen.rs` (the
//! bench's attempts against the oracle's, and where a failing check is drawn), `expectation.rs`
//! and `index.rs`.
//!
//! Pages are self-contained (CSS and script from src/report/assets/, inlined at build time;
//! nothing fetched). Every text taken from a
//! result is escaped here ([`escape`]); the script reads only data attributes and writes only
//! text, never markup. Without the script the page still shows every lane on a linear axis.

mod expectation;
mod index;
mod lanes;
mod scenario;
mod seen;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use crate::report::Identity;
use crate::run::Verdict;

pub use index::index_page;
pub use scenario::scenario_page;

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
    file_href(&page_file(scenario))
}

/// A relative link to a file beside the pages: its name, percent-encoded.
fn file_href(file: &str) -> String {
    let mut out = String::new();
    for b in file.bytes() {
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

const CSS: &str = include_str!("../assets/timeline.css");

/// Lays the timeline out: positions from nominal times, labels in rows where they fit, the
/// axis; the axis may shorten quiet stretches (so a run that waits 30 s between bursts stays
/// readable) or be linear, and zooms. Reads data attributes, writes styles and text only.
const JS: &str = include_str!("../assets/timeline.js");
