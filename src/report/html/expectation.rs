//! What the oracle expects, set beside what the firmware did: the sentence naming the first
//! divergence from the expected path ([`crate::run::divergence`]), the oracle's ranking table
//! as `seedrig explain` prints it beside the firmware's own `rank` event (where its console
//! printed one) and the order the bench saw, and the links to the raw evidence written beside
//! the page.

use std::fmt::Write as _;

use serde_json::Value;

use super::seen::{Item, Place, Seen};
use super::{escape, file_href, fmt_ms};
use crate::run::divergence::{self, ordinal};
use crate::run::ranking::RankingRow;
use crate::run::{ScenarioResult, Verdict};

/// Where the run first left the expected path: the result's sentence, or (a result from
/// before results carried it) derived now.
pub(super) fn divergence_sentence(r: &ScenarioResult) -> Option<String> {
    r.divergence.clone().or_else(|| divergence::first(r))
}

/// The sentence at the top of a page: where the run first left the expected path.
pub(super) fn divergence_line(r: &ScenarioResult) -> String {
    let Some(sentence) = divergence_sentence(r) else {
        return String::new();
    };
    let (class, lead) = match r.verdict {
        Verdict::Pass => ("followed", "Path"),
        _ => ("diverged", "First divergence"),
    };
    format!(
        "<p class=\"divergence {class}\" id=\"divergence\"><b>{lead}:</b> <span class=\"sentence\">{}</span></p>",
        escape(&sentence)
    )
}

/// The files the rig writes beside a scenario's page (`<scenario><suffix>`): what each is
/// called on the page, and what it holds.
const FILES: &[(&str, &str, &str)] = &[
    (
        ".pcapng",
        "card traffic (pcapng)",
        "every slot's ATRs and APDUs as GSMTAP SIM, on the rig's clock: open it in Wireshark",
    ),
    (".console.log", "console log", "the DUT console's lines as received, with rig-clock stamps"),
    (".observer.log", "observer log", "the observer port's lines as received, with rig-clock stamps"),
    (
        ".json",
        "timeline (JSON)",
        "this page's data: the timeline, the checks, the expected and observed attempts",
    ),
];

/// Links to the raw evidence beside the page, relative as the link to the index is.
pub(super) fn evidence_links(scenario: &str) -> String {
    let links: Vec<String> = FILES
        .iter()
        .map(|(suffix, name, what)| {
            let file = format!("{scenario}{suffix}");
            format!(
                "<a class=\"file\" href=\"{href}\" data-file=\"{suffix}\" title=\"{tip}\">{name}</a>",
                href = escape(&file_href(&file)),
                tip = escape(&format!("{file}: {what}")),
            )
        })
        .collect();
    format!("<p class=\"files\">raw evidence beside this page: {}</p>", links.join(" · "))
}

/// The firmware's own ranking: its first `rank` event — when, and its standbys in its order.
struct FirmwareRank<'a> {
    at: f64,
    order: Vec<&'a Value>,
}

impl<'a> FirmwareRank<'a> {
    fn of(items: &[Item<'a>], master: Option<u8>) -> Option<FirmwareRank<'a>> {
        let item = items.iter().find(|i| i.source == "console" && i.v["event"]["event"] == "rank")?;
        let order = item.v["event"]["order"]
            .as_array()?
            .iter()
            .filter(|e| e["slot"].as_u64().is_some_and(|s| Some(s) != master.map(u64::from)))
            .collect();
        Some(FirmwareRank { at: item.t, order })
    }

    /// The firmware's rank (1 first) of the standby in `slot`, and its entry.
    fn of_slot(&self, slot: u8) -> Option<(usize, &'a Value)> {
        let p = self.order.iter().position(|e| e["slot"].as_u64() == Some(u64::from(slot)))?;
        Some((p + 1, self.order[p]))
    }
}

fn fixed(v: Option<f64>, places: usize) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.places$}"))
}

/// A table cell: its classes (`differs` marks a mismatch), its tooltip, its text.
fn td(class: &str, tip: &str, text: &str) -> String {
    let class = if class.is_empty() { String::new() } else { format!(" class=\"{class}\"") };
    let tip = if tip.is_empty() { String::new() } else { format!(" title=\"{}\"", escape(tip)) };
    format!("<td{class}{tip}>{}</td>", escape(text))
}

/// Where the bench saw a row's seed tried against where the oracle expects it: the cell's
/// text, whether they agree, and why.
fn bench_cell(r: &ScenarioResult, seen: &Seen, row: &RankingRow) -> (String, bool, String) {
    let expected = r.expected.iter().position(|e| e.slot == row.slot);
    let tried: Vec<usize> = (0..seen.bars.len()).filter(|&k| seen.bars[k].slot == row.slot).collect();
    let oracle = match expected {
        Some(n) => format!("the oracle expects it as the {} attempt", ordinal(n + 1)),
        None => "the oracle does not expect it tried (the path ends before it)".to_owned(),
    };
    let text = tried
        .iter()
        .map(|&k| match seen.bars[k].source.as_str() {
            "card side" => ordinal(k + 1),
            other => format!("{} ({other})", ordinal(k + 1)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    match (expected, tried.as_slice()) {
        (Some(n), []) if seen.unseen.contains(&n) => (
            "not seen".to_owned(),
            true,
            "its card is out of its slot and the console does not say: not compared".to_owned(),
        ),
        (Some(n), [k]) if seen.places.get(*k) == Some(&Place::Due(n)) => {
            (text, true, format!("{oracle}: the bench saw it there"))
        }
        (None, []) => ("not tried".to_owned(), true, oracle),
        (_, []) => ("not tried".to_owned(), false, format!("{oracle}; the bench did not see it tried")),
        (_, _) => (text.clone(), false, format!("{oracle}; the bench saw it as the {text}")),
    }
}

/// The oracle's ranking table beside the firmware's `rank` event and the order the bench saw;
/// a row whose seed the bench saw tried elsewhere than the oracle expects is marked, and so is
/// each of the firmware's values that differs from the oracle's.
pub(super) fn ranking_table(r: &ScenarioResult, items: &[Item], seen: &Seen) -> String {
    if r.ranking.is_empty() {
        return String::new();
    }
    let master = r.ranking.iter().find(|row| row.master).map(|row| row.slot);
    let firmware = FirmwareRank::of(items, master);
    let mut h = String::new();
    h.push_str(
        "<section class=\"expectation\" id=\"expectation\"><h2>The oracle's ranking beside the firmware's</h2>\
         <div class=\"wide\"><table class=\"ranking\"><thead><tr class=\"groups\"><th colspan=\"13\">the oracle (as <code>seedrig \
         explain</code> prints it)</th>",
    );
    match &firmware {
        Some(f) => {
            let _ = write!(
                h,
                "<th colspan=\"2\">the firmware's <code>rank</code> event (at {})</th>",
                fmt_ms(f.at)
            );
        }
        None => h.push_str("<th>the firmware</th>"),
    }
    h.push_str(
        "<th>the bench</th></tr><tr><th>rank</th><th>role</th><th>slot</th><th>seed</th><th>RAT</th>\
         <th>best cell</th><th>signal dBm</th><th>A1</th><th>tariff/MB</th><th>B1</th><th>index</th><th>fault</th>\
         <th>expected attempt</th>",
    );
    h.push_str(if firmware.is_some() { "<th>its rank</th><th>its index</th>" } else { "<th>its rank</th>" });
    h.push_str("<th>attempt seen</th></tr></thead><tbody>\n");
    for row in &r.ranking {
        let (seen_text, agrees, seen_tip) = bench_cell(r, seen, row);
        let mut fw_cells = String::new();
        let mut fw_differs = false;
        match (&firmware, row.master) {
            (None, _) => fw_cells.push_str(&td("na", "the firmware printed no `rank` event", "-")),
            (Some(_), true) => {
                fw_cells.push_str(&td("na", "the master is not ranked", "-"));
                fw_cells.push_str(&td("na", "", "-"));
            }
            (Some(f), false) => match f.of_slot(row.slot) {
                None => {
                    fw_differs = true;
                    fw_cells.push_str(&td(
                        "differs",
                        "the firmware's rank event leaves this standby out",
                        "not ranked",
                    ));
                    fw_cells.push_str(&td("na", "", "-"));
                }
                Some((p, e)) => {
                    let rank_differs = row.rank != Some(p);
                    let its = e["index"].as_f64();
                    let index_differs = match (its, row.index) {
                        (Some(a), Some(b)) => (a - b).abs() > 0.0005,
                        _ => true,
                    };
                    fw_differs = rank_differs || index_differs;
                    let tip = format!(
                        "the firmware's rank event: rank {p}; signal {} dBm, tariff {}, A1 {}, B1 {}, index {}",
                        e["signal_dbm"],
                        e["tariff"],
                        fixed(e["a1"].as_f64(), 3),
                        fixed(e["b1"].as_f64(), 3),
                        fixed(its, 3)
                    );
                    let class = |differs: bool| if differs { "num differs" } else { "num" };
                    fw_cells.push_str(&td(class(rank_differs), &tip, &p.to_string()));
                    fw_cells.push_str(&td(class(index_differs), &tip, &fixed(its, 3)));
                }
            },
        }
        let mut classes = "rank-row".to_owned();
        if !agrees {
            classes.push_str(" mismatch");
        }
        if fw_differs {
            classes.push_str(" fw-differs");
        }
        let expected = match r.expected.iter().position(|e| e.slot == row.slot) {
            Some(n) => ordinal(n + 1),
            None => "not tried".to_owned(),
        };
        let faults = if row.faults.is_empty() { "-".to_owned() } else { row.faults.join(", ") };
        let _ = writeln!(
            h,
            "<tr class=\"{classes}\" data-slot=\"{slot}\" data-seed=\"{seed}\">{cells}{fw_cells}{seen}</tr>",
            slot = row.slot,
            seed = escape(&row.seed),
            cells = [
                td("", "", &row.rank.map_or("-".to_owned(), |n| n.to_string())),
                td("", "", if row.master { "master" } else { "standby" }),
                td("num", "", &row.slot.to_string()),
                td("seed", "", &row.seed),
                td("", "", row.rat.as_deref().unwrap_or("-")),
                td("", "", row.cell.as_deref().unwrap_or("none usable")),
                td("num", "", &format!("{:.0}", row.signal_dbm)),
                td("num", "", &fixed(row.a1, 3)),
                td("num", "", &fixed(row.tariff, 4)),
                td("num", "", &fixed(row.b1, 3)),
                td("num index", "", &fixed(row.index, 3)),
                td("", "", &faults),
                td("", "", &expected),
            ]
            .concat(),
            seen = td(if agrees { "seen" } else { "seen differs" }, &seen_tip, &seen_text),
        );
    }
    h.push_str("</tbody></table></div>");
    h.push_str(
        "<p class=\"note\">The oracle ranks the standbys by index = a·A1 + b·B1 (A1 the signal of the best usable \
         cell, B1 its tariff, each min–max normalized over the standbys; highest first, equal indices to the lower \
         slot); the master is not ranked and is tried first. <i>expected attempt</i>: where the oracle tries the \
         seed (none after its winner). A marked row: the bench saw that seed tried elsewhere than the oracle \
         expects, or not at all; a marked value in the firmware's columns differs from the oracle's.",
    );
    match &firmware {
        None => h.push_str(
            " The firmware printed no <code>rank</code> event (it is optional, docs/virtual-bench.md): only the order \
             the bench saw is set beside the oracle's.",
        ),
        Some(f) => {
            let known: Vec<u64> = r.ranking.iter().map(|row| u64::from(row.slot)).collect();
            let others: Vec<String> = f
                .order
                .iter()
                .filter_map(|e| e["slot"].as_u64())
                .filter(|s| !known.contains(s))
                .map(|s| format!("slot {s}"))
                .collect();
            if !others.is_empty() {
                let _ = write!(h, " The firmware also ranked {}, which holds no seed of this scenario.", others.join(", "));
            }
        }
    }
    h.push_str("</p></section>\n");
    h
}
