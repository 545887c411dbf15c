//! The index page: every scenario of the run with its verdict, linking to its page; sorted by
//! clicking a column's header and filtered by verdict (the page's script), or as a link's
//! fragment says: `index.html#status=fail,error&sort=-wall`.

use std::fmt::Write as _;

use super::expectation::divergence_sentence;
use super::{CSS, JS, escape, fmt_ms, num, page_href, tested, verdict_word};
use crate::report::Identity;
use crate::run::{ScenarioResult, Verdict};

/// The index page: every scenario of the run with its verdict, linking to its page.
pub fn index_page(results: &[ScenarioResult], identity: &Identity) -> String {
    let count = |f: fn(&Verdict) -> bool| results.iter().filter(|r| f(&r.verdict)).count();
    let (pass, fail, error, skip) = (
        count(|v| matches!(v, Verdict::Pass)),
        count(|v| matches!(v, Verdict::Fail)),
        count(|v| matches!(v, Verdict::Error(_))),
        count(|v| matches!(v, Verdict::Skipped(_))),
    );
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>seedrig timelines</title><style>{CSS}</style></head>\n<body>\n<header><h1>seedrig timelines</h1>\
         <p class=\"facts\">{n} scenarios: {pass} passed, {fail} failed, {error} errors, {skip} skipped · \
         lengths in nominal time</p>{tested}</header>\n",
        n = results.len(),
        tested = tested(identity),
    );
    // The filter works with the script only: without it every row shows, in run order.
    h.push_str("<div class=\"index-controls\" id=\"index-controls\" hidden>show");
    for (value, word, n) in
        [("pass", "PASS", pass), ("fail", "FAIL", fail), ("error", "ERROR", error), ("skip", "SKIP", skip)]
    {
        let _ = write!(
            h,
            " <label class=\"status-filter\"><input type=\"checkbox\" name=\"status\" value=\"{value}\" checked> \
             <span class=\"verdict {value}\">{word}</span> <span class=\"count\" data-status=\"{value}\">({n})</span></label>"
        );
    }
    h.push_str(
        " <span class=\"shown\" id=\"shown\"></span> <span class=\"hint\">click a column's name to sort by it, \
         again to reverse</span></div>\n<table class=\"index\" id=\"index\"><thead><tr>",
    );
    for (key, name) in
        [("verdict", "verdict"), ("name", "scenario"), ("nominal", "nominal"), ("wall", "wall")]
    {
        let _ = write!(
            h,
            "<th data-sort=\"{key}\" aria-sort=\"none\"><button type=\"button\" title=\"sort by {name}\">{name}</button></th>"
        );
    }
    h.push_str("<th>what went wrong</th></tr></thead><tbody>\n");
    for (n, r) in results.iter().enumerate() {
        let (word, class, why) = verdict_word(&r.verdict);
        let failing: Vec<&str> = r.checks.iter().filter(|c| c.failed()).map(|c| c.name.as_str()).collect();
        let what = match why {
            Some(why) => why.to_owned(),
            None if !failing.is_empty() => format!("failing: {}", failing.join(", ")),
            None => String::new(),
        };
        let divergence = match (&r.verdict, divergence_sentence(r)) {
            (Verdict::Fail | Verdict::Error(_), Some(s)) => {
                format!("<div class=\"divergence-line\">{}</div>", escape(&s))
            }
            _ => String::new(),
        };
        let wall_ms = r.wall.as_secs_f64() * 1000.0;
        let _ = writeln!(
            h,
            "<tr data-scenario=\"{name}\" data-verdict=\"{class}\" data-nominal-ms=\"{nominal_ms}\" \
             data-wall-ms=\"{wall_ms}\" data-order=\"{n}\"><td><span class=\"verdict {class}\" \
             data-verdict=\"{class}\">{word}</span></td><td><a href=\"{href}\">{name}</a></td><td>{nominal}</td>\
             <td>{wall}</td><td>{what}{divergence}</td></tr>",
            name = escape(&r.scenario),
            href = escape(&page_href(&r.scenario)),
            nominal_ms = num(r.nominal_ms, 1),
            wall_ms = num(wall_ms, 1),
            nominal = fmt_ms(r.nominal_ms),
            wall = fmt_ms(wall_ms),
            what = escape(&what),
        );
    }
    let _ = write!(
        h,
        "</tbody></table>\n<div id=\"tip\" role=\"tooltip\"></div><script>{JS}</script>\n</body></html>\n"
    );
    h
}
