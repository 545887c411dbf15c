use std::time::Duration;

use serde_json::json;

use super::*;
use crate::run::checks::{Check, Status};
use crate::run::{ExpectedBar, ObservedBar, ScenarioResult};

#[test]
fn escape_makes_markup_text_and_control_characters_visible() {
    assert_eq!(escape("<script>alert(\"x\")</script>"), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
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
    assert!(page.contains("command: 00 B0 00 00 09\nresponse: 08 09 10 10 10 32 54 76 98 90 00"), "{page}");
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
    assert!(page.contains("✘ s1 gone-1 (console)") && page.contains("✘ s3 bouncy-1 (inferred)"), "{page}");
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

/// master-reject as the oracle has it, with its ranking table computed from the fixtures.
fn master_reject(verdict: Verdict, observed: Vec<ObservedBar>, console: serde_json::Value) -> ScenarioResult {
    let catalog =
        crate::fixture::load_default(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap().catalog;
    let scenario = &catalog.scenarios["master-reject"];
    let view = crate::method::ScenarioView::from_catalog(&catalog, scenario).unwrap();
    let mut r = ScenarioResult::ended("master-reject", verdict, Duration::from_millis(800));
    r.nominal_ms = 4000.0;
    r.expected =
        vec![bar("o2-de-1", 0, 0, 1150, "failed explicit"), bar("vodafone-uk-1", 2, 1150, 2700, "connected")];
    r.ranking =
        crate::run::ranking::RankingRow::of(&catalog, scenario, &crate::method::expect(&view).ranking);
    r.observed = observed;
    r.timeline = console;
    r
}

/// The `<tr ...>` of the ranking row of `seed`, to its end.
fn ranking_row<'a>(page: &'a str, seed: &str) -> &'a str {
    let at = page
        .find(&format!("data-seed=\"{seed}\">"))
        .unwrap_or_else(|| panic!("no ranking row for {seed}:\n{page}"));
    let start = page[..at].rfind("<tr").unwrap();
    &page[start..at + page[at..].find("</tr>").unwrap()]
}

#[test]
fn the_page_sets_the_oracle_s_ranking_beside_the_firmware_s_and_the_bench_s_and_marks_mismatches() {
    // The firmware ranks orange-fr-1 first (by its own index 0.75) and tries it second.
    let rank = json!({ "source": "console", "t_ms": 25.0, "event": { "event": "rank", "order": [
        { "slot": 1, "iccid": "8933", "signal_dbm": -76, "tariff": 0.006, "a1": 1.0, "b1": 0.5, "index": 0.75 },
        { "slot": 2, "iccid": "8944", "signal_dbm": -76, "tariff": 0.004, "a1": 1.0, "b1": 1.0, "index": 1.0 },
    ] } });
    let mut r = master_reject(
        Verdict::Fail,
        vec![
            seen("o2-de-1", 0, 40.0, Some(1150.0), "given up", "card side"),
            seen("orange-fr-1", 1, 1150.0, None, "connected", "card side"),
        ],
        json!([rank]),
    );
    r.checks =
        vec![check("attempt_order", Status::Fail, "o2-de-1, vodafone-uk-1", "o2-de-1, orange-fr-1", None)];
    let page = scenario_page(&r, &Identity::default());
    // By hand (tests/explain_by_hand.rs, master-reject): both standbys on vodafone-de gsm -76,
    // A1 1.000 each; tariffs 0.004 (vodafone-uk-1, B1 1.000) and 0.006 (orange-fr-1, B1 0.000);
    // a = b = 0.5: vodafone-uk-1 1.000 first, orange-fr-1 0.500 second. The master o2-de-1 on
    // o2-de gsm -85 at 0.0015, not ranked.
    let master = ranking_row(&page, "o2-de-1");
    assert!(master.starts_with("<tr class=\"rank-row\" data-slot=\"0\""), "{master}");
    assert!(master.contains("<td>-</td><td>master</td><td class=\"num\">0</td><td class=\"seed\">o2-de-1</td><td>gsm</td><td>o2-de"), "{master}");
    assert!(master.contains("<td class=\"num\">-85</td><td class=\"num\">-</td><td class=\"num\">0.0015</td><td class=\"num\">-</td><td class=\"num index\">-</td><td>reject(15)</td><td>1st</td>"), "{master}");
    assert!(
        master.contains(">1st</td></tr>") || master.ends_with(">1st</td>"),
        "the bench saw it 1st: {master}"
    );
    let best = ranking_row(&page, "vodafone-uk-1");
    assert!(best.starts_with("<tr class=\"rank-row mismatch fw-differs\" data-slot=\"2\""), "{best}");
    assert!(best.contains("<td>1</td><td>standby</td><td class=\"num\">2</td><td class=\"seed\">vodafone-uk-1</td><td>gsm</td><td>vodafone-de"), "{best}");
    assert!(best.contains("<td class=\"num\">-76</td><td class=\"num\">1.000</td><td class=\"num\">0.0040</td><td class=\"num\">1.000</td><td class=\"num index\">1.000</td><td>-</td><td>2nd</td>"), "{best}");
    // The firmware's rank (2nd) differs, its index (1.000) agrees; the bench never saw it.
    assert!(
        best.contains("<td class=\"num differs\" title=\"the firmware&#39;s rank event: rank 2;"),
        "{best}"
    );
    assert!(best.contains("<td class=\"num\" title=\"the firmware&#39;s rank event: rank 2; signal -76 dBm, tariff 0.004, A1 1.000, B1 1.000, index 1.000\">1.000</td>"), "{best}");
    assert!(best.contains("<td class=\"seen differs\" title=\"the oracle expects it as the 2nd attempt; the bench did not see it tried\">not tried</td>"), "{best}");
    let second = ranking_row(&page, "orange-fr-1");
    assert!(second.starts_with("<tr class=\"rank-row mismatch fw-differs\" data-slot=\"1\""), "{second}");
    assert!(second.contains("<td class=\"num\">-76</td><td class=\"num\">1.000</td><td class=\"num\">0.0060</td><td class=\"num\">0.000</td><td class=\"num index\">0.500</td><td>-</td><td>not tried</td>"), "{second}");
    assert!(second.contains("<td class=\"num differs\" title=\"the firmware&#39;s rank event: rank 1; signal -76 dBm, tariff 0.006, A1 1.000, B1 0.500, index 0.750\">0.750</td>"), "{second}");
    assert!(second.contains("the oracle does not expect it tried (the path ends before it); the bench saw it as the 2nd\">2nd</td>"), "{second}");
    assert!(
        page.contains("<th colspan=\"2\">the firmware's <code>rank</code> event (at 25 ms)</th>"),
        "{page}"
    );
    // The first divergence at the top, before the facts.
    let sentence =
        "the 2nd attempt went to orange-fr-1 (index 0.500), the oracle expects vodafone-uk-1 (1.000)";
    let top = page.find("id=\"divergence\"").expect("the sentence");
    assert!(top < page.find("class=\"facts\"").unwrap() && page.contains(sentence), "{page}");
    assert!(page.contains("<b>First divergence:</b>"), "{page}");
    // The raw evidence beside the page, linked relatively.
    for file in [
        "master-reject.pcapng",
        "master-reject.console.log",
        "master-reject.observer.log",
        "master-reject.json",
    ] {
        assert!(page.contains(&format!("href=\"{file}\"")), "no link to {file}: {page}");
    }
}

#[test]
fn without_a_rank_event_the_bench_s_order_stands_beside_the_oracle_s_and_a_pass_says_so() {
    let r = master_reject(
        Verdict::Pass,
        vec![
            seen("o2-de-1", 0, 40.0, Some(1150.0), "given up", "card side"),
            seen("vodafone-uk-1", 2, 1150.0, None, "connected", "card side"),
        ],
        json!([{ "source": "console", "t_ms": 0.0, "event": { "event": "boot" } }]),
    );
    let page = scenario_page(&r, &Identity::default());
    assert!(page.contains("The firmware printed no <code>rank</code> event"), "{page}");
    assert!(
        !page.contains(" mismatch\"") && !page.contains(" fw-differs\"") && !page.contains("differs\" title"),
        "{page}"
    );
    assert!(
        ranking_row(&page, "vodafone-uk-1")
            .contains("the oracle expects it as the 2nd attempt: the bench saw it there\">2nd</td>")
    );
    assert!(
        page.contains("<p class=\"divergence followed\" id=\"divergence\"><b>Path:</b> <span class=\"sentence\">the run followed the expected path</span></p>"),
        "{page}"
    );
    // A result that never ran has no table and no sentence; its raw evidence files (which
    // say it never ran) are still linked.
    let skip =
        ScenarioResult::ended("needs-six", Verdict::Skipped("needs 6 SIM slots".into()), Duration::ZERO);
    let page = scenario_page(&skip, &Identity::default());
    assert!(!page.contains("class=\"ranking\"") && !page.contains("id=\"divergence\""), "{page}");
    assert!(page.contains("href=\"needs-six.pcapng\""), "{page}");
}

#[test]
fn the_index_can_be_sorted_and_filtered_by_verdict() {
    let mut pass = ScenarioResult::ended("master-connects", Verdict::Pass, Duration::from_millis(700));
    pass.nominal_ms = 1550.0;
    let skip = ScenarioResult::ended("needs-six", Verdict::Skipped("needs 6 slots".into()), Duration::ZERO);
    let index = index_page(&[failing(), pass, skip], &Identity::default());
    // The filter, one box per verdict with its count; shown by the script.
    assert!(index.contains("<div class=\"index-controls\" id=\"index-controls\" hidden>"), "{index}");
    for (value, n) in [("pass", 1), ("fail", 1), ("error", 0), ("skip", 1)] {
        assert!(index.contains(&format!("name=\"status\" value=\"{value}\" checked>")), "{value}: {index}");
        assert!(
            index.contains(&format!("<span class=\"count\" data-status=\"{value}\">({n})</span>")),
            "{index}"
        );
    }
    // Sortable columns, and each row's keys.
    for key in ["verdict", "name", "nominal", "wall"] {
        assert!(
            index.contains(&format!("<th data-sort=\"{key}\" aria-sort=\"none\"><button type=\"button\"")),
            "{index}"
        );
    }
    assert!(index.contains(
        "<tr data-scenario=\"master-connects\" data-verdict=\"pass\" data-nominal-ms=\"1550\" data-wall-ms=\"700\" data-order=\"1\">"
    ), "{index}");
    assert!(
        index.contains("<table class=\"index\" id=\"index\">") && index.contains("function indexPage("),
        "{index}"
    );
    assert_eq!(index.matches("<script").count(), 1);
    // A failure's row says where it first left the expected path.
    assert!(
        index.contains(
            "<div class=\"divergence-line\">the 2nd attempt went to worst-1, the oracle expects best-1</div>"
        ),
        "{index}"
    );
}
