//! The warm virtual bench: one runner keeps pcscd with every seed's card up across scenarios
//! and puts the cards back to the fixture's state before each. No scenario may see another's
//! state, so the same scenarios run in two orders — and one of them twice in a row, which an
//! advanced SQN, a spent PIN try or a card left selected somewhere would show — must give the
//! same verdicts and the same observations, check by check.

use std::collections::BTreeMap;

use common::{reference_firmware, starter};
use seedrig::model::{Catalog, Rig};
use seedrig::run::{Runner, ScenarioResult};

mod common;

/// Scenarios that change their cards' state (PIN tries, SQNs, selections, faults) and share
/// seeds with each other. Not master-flaky: which way its bouncing card fails the master
/// (removed, or not ready after the switch) depends on the bounce's phase when the firmware
/// starts, a matter of timing, not of state.
const SCENARIOS: &[&str] = &[
    "master-connects",
    "master-pin-locked",
    "master-corrupt-auth",
    "master-expired",
    "slow-card-connects",
    "standby-faulted-second-wins",
    "master-pulled",
    "master-reject",
    "tie-lower-slot",
    "weights-signal",
];

/// Runs `order` on one runner (one warm bench), every result by scenario; a scenario run twice
/// keeps both.
fn run_in_order(catalog: &Catalog, rig: &Rig, order: &[&str]) -> BTreeMap<String, Vec<ScenarioResult>> {
    let options = reference_firmware(None, None);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut runner = Runner::new(catalog, rig, &options);
    runtime.block_on(runner.warm_up()).expect("warm-up");
    let mut results: BTreeMap<String, Vec<ScenarioResult>> = BTreeMap::new();
    for id in order {
        let r = runtime.block_on(runner.run(&catalog.scenarios[*id]));
        results.entry(id.to_string()).or_default().push(r);
    }
    results
}

/// An observation with its times taken out: `failed explicit after 1.68 s: …` →
/// `failed explicit after <t>: …` (times are compared apart, within the tolerance).
fn without_times(text: &str) -> String {
    let mut out = String::new();
    let mut words = text.split(' ').peekable();
    while let Some(w) = words.next() {
        let number = w.trim_end_matches([',', ';']).parse::<f64>().is_ok();
        let unit = words.peek().map(|u| u.trim_end_matches([',', ';', ':', ')']));
        if number && matches!(unit, Some("ms" | "s")) {
            let unit = words.next().unwrap_or_default();
            out.push_str("<t>");
            out.push_str(&unit[unit.trim_end_matches([',', ';', ':', ')']).len()..]);
        } else {
            out.push_str(w);
        }
        out.push(' ');
    }
    out.trim_end().to_owned()
}

fn assert_same(a: &ScenarioResult, b: &ScenarioResult, tolerance_ms: f64, what: &str) {
    assert_eq!(a.verdict, b.verdict, "{}: verdict differs {what}", a.scenario);
    assert_eq!(a.checks.len(), b.checks.len(), "{}: checks differ {what}", a.scenario);
    for (x, y) in a.checks.iter().zip(&b.checks) {
        assert_eq!((&x.name, x.status), (&y.name, y.status), "{}: {what}", a.scenario);
        assert_eq!(
            without_times(&x.observed),
            without_times(&y.observed),
            "{}: check {} observed differently {what}",
            a.scenario,
            x.name
        );
        if let (Some(m), Some(n)) = (x.measured_ms, y.measured_ms) {
            assert!(
                (m - n).abs() <= tolerance_ms,
                "{}: check {} measured {m} ms and {n} ms {what}",
                a.scenario,
                x.name
            );
        }
    }
}

#[test]
fn scenarios_in_two_orders_on_a_warm_bench_see_nothing_of_each_other() {
    let (catalog, rig) = starter();
    // Forward, with the first scenario run again right after itself.
    let mut forward: Vec<&str> = vec![SCENARIOS[0]];
    forward.extend_from_slice(SCENARIOS);
    let backward: Vec<&str> = SCENARIOS.iter().rev().copied().collect();
    let one = run_in_order(&catalog, &rig, &forward);
    let two = run_in_order(&catalog, &rig, &backward);
    for id in SCENARIOS {
        let tolerance = catalog.scenarios[*id].tolerance_ms as f64;
        let (a, b) = (&one[*id], &two[*id]);
        assert!(a.iter().chain(b).all(|r| r.verdict == seedrig::run::Verdict::Pass), "{id}: {a:?} {b:?}");
        assert_same(&a[0], &b[0], tolerance, "between the two orders");
        if let Some(again) = a.get(1) {
            assert_same(&a[0], again, tolerance, "when run twice in a row");
        }
    }
}

#[test]
fn times_are_taken_out_of_observations_and_nothing_else() {
    assert_eq!(
        without_times("failed explicit after 1.68 s: registration rejected, EMM cause 15"),
        "failed explicit after <t>: registration rejected, EMM cause 15"
    );
    assert_eq!(without_times("firmware: vodafone-uk-1 (slot 2)"), "firmware: vodafone-uk-1 (slot 2)");
    assert_eq!(
        without_times("card authenticated last in slot 1 at 950 ms, not slot 2"),
        "card authenticated last in slot 1 at <t>, not slot 2"
    );
}
