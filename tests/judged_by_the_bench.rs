//! A firmware's verdicts depend on what it did, not on what it printed. The whole starter
//! suite runs four times on the virtual bench:
//! - the reference firmware, and the same firmware printing only `boot` and `connected`
//!   (`silent-console`): every scenario's verdict must be the same (and every one a PASS);
//! - the firmware trying the standbys in reverse rank order and saying so (`wrong-order`), and
//!   the one that tries them in reverse while printing the ranked order (`lying-console`): every
//!   scenario's verdict must be the same, and the liar is caught wherever the truthful one is.

use std::collections::BTreeMap;

mod common;

/// Scenario → verdict (`pass`, `fail`, `error`, `skipped`) for one run of the starter suite.
fn verdicts(fault: Option<&str>) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let mut command = common::seedrig();
    command.args(["run", "--results-json"]).arg(&results);
    if let Some(fault) = fault {
        command.args(["--firmware-fault", fault]);
    }
    let out = command.output().unwrap();
    let text = std::fs::read_to_string(&results)
        .unwrap_or_else(|e| panic!("no results ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let results: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    results
        .iter()
        .map(|r| {
            let name = r["scenario"].as_str().unwrap().to_owned();
            let verdict = r["verdict"]["verdict"].as_str().unwrap().to_owned();
            (name, verdict)
        })
        .collect()
}

fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.iter()
        .filter(|(name, verdict)| b.get(*name) != Some(verdict))
        .map(|(name, verdict)| format!("{name}: {verdict} vs {:?}", b.get(name)))
        .collect()
}

#[test]
fn a_silent_console_and_a_lying_one_get_the_verdicts_of_what_they_did() {
    let correct = verdicts(None);
    assert!(correct.len() >= 31, "the whole starter suite ran: {correct:?}");
    assert!(correct.values().all(|v| v == "pass"), "the reference firmware passes: {correct:?}");

    let silent = verdicts(Some("silent-console"));
    assert_eq!(differences(&correct, &silent), Vec::<String>::new(), "silent console vs correct");

    let truthful_reverse = verdicts(Some("wrong-order"));
    let lying = verdicts(Some("lying-console"));
    assert_eq!(differences(&truthful_reverse, &lying), Vec::<String>::new(), "lying vs truthful reverse");
    let caught = truthful_reverse.values().filter(|v| *v == "fail").count();
    assert!(caught > 0, "the reverse order is caught somewhere: {truthful_reverse:?}");
    assert!(
        lying.get("all-exhausted").is_some_and(|v| v == "fail"),
        "where only the order differs (all-exhausted) the liar is caught too: {lying:?}"
    );
}
