//! The page of one scenario: what was tested, the verdict, the timeline and the checks.

use std::fmt::Write as _;

use super::expectation::{divergence_line, evidence_links, ranking_table};
use super::lanes::build_chart;
use super::seen::{Seen, fail_at, items};
use super::{CSS, JS, escape, fmt_ms, num, tested, verdict_word};
use crate::report::Identity;
use crate::run::ScenarioResult;
use crate::run::checks::{Check, Status};

/// `decided on: card side, console`: the bench's sources that decided a check, where it names
/// them.
pub(super) fn decided_on(c: &Check) -> Option<String> {
    (!c.sources.is_empty()).then(|| format!("decided on: {}", c.sources.join(", ")))
}

pub(super) fn measured(c: &Check) -> Option<String> {
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
         <h1><span class=\"verdict {class}\" data-verdict=\"{class}\">{word}</span> {name}</h1>{divergence}\
         <p class=\"facts\">{nominal} nominal · {wall} wall{lag}{terr} · all times are nominal (the firmware's \
         clock), from the DUT's start</p>",
        name = escape(&r.scenario),
        divergence = divergence_line(r),
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
    let ran = !(items.is_empty() && r.expected.is_empty() && r.observed.is_empty());
    // Written beside every page, a scenario that never ran included (saying so).
    h.push_str(&evidence_links(&r.scenario));
    h.push_str("</header>\n");
    h.push_str(&ranking_table(r, &items, &seen));

    let chart = build_chart(r, &items, &seen);
    if !ran {
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
