//! `seedrig explain` on starter scenarios, checked against computations done by hand from the
//! fixture files with the rules of docs/method.md. Each test writes the computation out, so a
//! reader can redo it; the assertions are the hand results, not the program's.

mod common;

fn explain(scenario: &str) -> String {
    let out = common::seedrig_in(common::root()).args(["explain", scenario]).output().expect("seedrig runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The ranking rows: (rank, slot, seed, A1, B1, index), read off the table.
fn ranking(text: &str) -> Vec<(String, String, String, String, String, String)> {
    text.lines()
        .filter(|l| {
            let mut f = l.split_whitespace();
            f.next().is_some_and(|r| r.parse::<usize>().is_ok()) && f.next() == Some("standby")
        })
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // rank role slot seed RAT carrier cell-id signal A1 tariff B1 a·A1 + b·B1 index ...
            (f[0].into(), f[2].into(), f[3].into(), f[8].into(), f[10].into(), f[14].into())
        })
        .collect()
}

fn row(
    rank: &str,
    slot: &str,
    seed: &str,
    a1: &str,
    b1: &str,
    index: &str,
) -> (String, String, String, String, String, String) {
    (rank.into(), slot.into(), seed.into(), a1.into(), b1.into(), index.into())
}

fn outcome(text: &str) -> &str {
    text.lines().find(|l| l.starts_with("expected outcome:")).expect("an outcome line")
}

// Frankfurt Airport cells: telekom-de lte -71, gsm -79, nr -88; vodafone-de gsm -76, lte -83,
// nr -92; o2-de gsm -85, lte -90, nr -101.
//   o2-de-1 (gsm, lte; home o2-de, may use o2-de/vodafone-uk/orange-fr): best o2-de gsm -85,
//     tariff 0.0015 (o2-de's domestic price).
//   vodafone-uk-1 (gsm, lte, nr; may use vodafone-de at 0.004): best vodafone-de gsm -76, 0.004.
//   ee-uk-1 / ee-uk-2 (lte, nr; may use telekom-de at 0.006, o2-de at 0.009): best telekom-de
//     lte -71, 0.006.
// Standbys o2-de-1, vodafone-uk-1, ee-uk-1: signal min -85, max -71 (range 14):
//   A1 = 0, 9/14 = 0.643, 1. Tariff min 0.0015, max 0.006 (range 0.0045):
//   B1 = 1, (0.006 - 0.004)/0.0045 = 0.444, 0.

#[test]
fn weights_signal_strongest_standby_wins() {
    // a = 1, b = 0: index = A1 → ee-uk-1 1.000, vodafone-uk-1 0.643, o2-de-1 0.000.
    // Master telekom-de-2 is pulled: fails at once. ee-uk-1 connects through telekom-de's
    // network: 280 + 650 + 350 + 120 = 1400 ms after its attempt starts at 0.
    let text = explain("weights-signal");
    assert_eq!(
        ranking(&text),
        vec![
            row("1", "3", "ee-uk-1", "1.000", "0.000", "1.000"),
            row("2", "2", "vodafone-uk-1", "0.643", "0.444", "0.643"),
            row("3", "1", "o2-de-1", "0.000", "1.000", "0.000"),
        ]
    );
    assert!(
        outcome(&text).starts_with("expected outcome: ee-uk-1 (slot 3) wins, connected at about 1.4 s"),
        "{text}"
    );
}

#[test]
fn weights_tariff_cheapest_standby_wins() {
    // a = 0.2, b = 0.8: o2-de-1 0.2·0 + 0.8·1 = 0.800; vodafone-uk-1 0.2·0.643 + 0.8·0.444
    // = 0.1286 + 0.3556 = 0.484; ee-uk-1 0.2·1 + 0.8·0 = 0.200.
    // o2-de-1 connects through o2-de: 350 + 800 + 450 + 180 = 1780 ms.
    let text = explain("weights-tariff");
    assert_eq!(
        ranking(&text),
        vec![
            row("1", "1", "o2-de-1", "0.000", "1.000", "0.800"),
            row("2", "2", "vodafone-uk-1", "0.643", "0.444", "0.484"),
            row("3", "3", "ee-uk-1", "1.000", "0.000", "0.200"),
        ]
    );
    assert!(
        outcome(&text).starts_with("expected outcome: o2-de-1 (slot 1) wins, connected at about 1.78 s"),
        "{text}"
    );
}

#[test]
fn exact_tie_goes_to_the_lower_slot() {
    // Standbys vodafone-uk-1 (slot 1), ee-uk-2 (slot 2), ee-uk-1 (slot 3).
    // ee-uk-1 and ee-uk-2 are twins: telekom-de lte -71 at 0.006; vodafone-uk-1: -76 at 0.004.
    // A1: ee 1, vf 0. B1: ee 0, vf 1. a = 0.7, b = 0.3: ee 0.700 (both), vf 0.300.
    // Tie at 0.700: slot 2 before slot 3. Master vodafone-de-1 is PIN-locked: fails at once.
    let text = explain("tie-lower-slot");
    assert_eq!(
        ranking(&text),
        vec![
            row("1", "2", "ee-uk-2", "1.000", "0.000", "0.700"),
            row("2", "3", "ee-uk-1", "1.000", "0.000", "0.700"),
            row("3", "1", "vodafone-uk-1", "0.000", "1.000", "0.300"),
        ]
    );
    assert!(
        outcome(&text).starts_with("expected outcome: ee-uk-2 (slot 2) wins, connected at about 1.4 s"),
        "{text}"
    );
}

#[test]
fn master_rejected_cheaper_of_two_equal_signals_wins() {
    // Standbys orange-fr-1 (slot 1) and vodafone-uk-1 (slot 2) both end up on vodafone-de gsm
    // -76: equal signals, so A1 = 1.0 for both (max = min). Tariffs on vodafone-de:
    // orange-fr-1 0.006 (orange-fr's price list), vodafone-uk-1 0.004 → B1 0 and 1.
    // a = b = 0.5: vodafone-uk-1 1.000, orange-fr-1 0.500.
    // Master o2-de-1 (best o2-de gsm -85) is rejected with cause 15 after o2-de's
    // auth 350 + register 800 = 1150 ms; a network's answer cannot come sooner, so it is
    // judged between 1150 - 500 tolerance = 650 ms and 1150 + 500 = 1650 ms.
    // vodafone-uk-1 connects through vodafone-de (default timings 300 + 700 + 400 + 150 =
    // 1550 ms): at 1150 + 1550 = 2700 ms.
    let text = explain("master-reject");
    assert_eq!(
        ranking(&text),
        vec![
            row("1", "2", "vodafone-uk-1", "1.000", "1.000", "1.000"),
            row("2", "1", "orange-fr-1", "1.000", "0.000", "0.500"),
        ]
    );
    assert!(text.contains("1. master  o2-de-1 (slot 0) at 0 ms: fails on an explicit answer after 1.15 s, judged between 650 ms and 1.65 s: registration rejected, EMM cause 15"), "{text}");
    assert!(
        outcome(&text).starts_with("expected outcome: vodafone-uk-1 (slot 2) wins, connected at about 2.7 s"),
        "{text}"
    );
}

#[test]
fn all_seeds_fail_exhausted_with_back_off() {
    // London Heathrow: ee-uk lte -69, nr -84, gsm -90; vodafone-uk gsm -77, lte -80, nr -95.
    // Standbys claro-br-1 (slot 1): Claro has no UK partner → no usable cell, -140 dBm, no
    // tariff. telekom-de-2 (slot 2, lte only; own tariff ee-uk 0.004): ee-uk lte -69 at 0.004.
    // ee-uk-1 (slot 3): ee-uk lte -69 at the domestic 0.0025.
    // Signals -140, -69, -69 → A1 0, 1, 1. Tariffs (claro-br-1 has none) 0.004, 0.0025 →
    // B1 telekom-de-2 0, ee-uk-1 1, claro-br-1 0. a = 0.6, b = 0.4: ee-uk-1 1.000,
    // telekom-de-2 0.600, claro-br-1 0.000.
    // Attempts under `both`, T = 20 s: master pulled → 0 ms; ee-uk-1 expired → rejected after
    // ee-uk auth 250 + register 600 = 850 ms; telekom-de-2 corrupt IMSI → rejected after
    // auth 250 ms (at 850 ms); claro-br-1 silent → T = 20 s (from 1100 ms), judged between
    // 20 s - 500 ms tolerance = 19.5 s and 20.5 s.
    // Exhausted at 21.1 s; back-off 60 s → next pass at 81.1 s.
    let text = explain("all-exhausted");
    assert_eq!(
        ranking(&text),
        vec![
            row("1", "3", "ee-uk-1", "1.000", "1.000", "1.000"),
            row("2", "2", "telekom-de-2", "1.000", "0.000", "0.600"),
            row("3", "1", "claro-br-1", "0.000", "0.000", "0.000"),
        ]
    );
    assert!(
        text.contains(
            "4. standby claro-br-1 (slot 1) at 1.1 s: fails at T = 20 s, judged between 19.5 s and 20.5 s: no usable cell"
        ),
        "{text}"
    );
    assert_eq!(
        outcome(&text),
        "expected outcome: exhausted — every seed failed by 21.1 s (+ 500 ms tolerance); next pass starts at 81.1 s"
    );
}

#[test]
fn result_judgement_stalls_on_a_silent_master() {
    // Figure 3 waits for the network's answer; a silent network never gives one, so a correct
    // `result` firmware never leaves the master: no standby is tried.
    let text = explain("result-silent-stalls");
    assert!(
        text.contains("1. master  vodafone-uk-1 (slot 0) at 0 ms: never answered (network never answers)"),
        "{text}"
    );
    assert!(!text.contains("2. standby"), "{text}");
    assert!(outcome(&text).starts_with("expected outcome: stalled"), "{text}");
}
