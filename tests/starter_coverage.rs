//! The starter suite covers what the lab needs (issue: "starter fixtures"): every card and
//! network fault on a master, all judgement modes, every outcome kind and M from 1 to 5.

use std::collections::BTreeSet;
use std::path::Path;

use seedrig::fixture;
use seedrig::model::{FaultKind, Judgement, Winner};

#[test]
fn starter_suite_covers_faults_modes_outcomes_and_sizes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = fixture::load_default(root).expect("fixtures load");
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.diagnostics.render(false));
    let scenarios: Vec<_> = loaded.catalog.scenarios.values().collect();

    let master_faults: BTreeSet<&str> =
        scenarios.iter().flat_map(|s| s.master.faults.iter().map(|f| f.kind.name())).collect();
    for kind in FaultKind::NAMES {
        assert!(master_faults.contains(kind), "no scenario puts a {kind} fault on the master");
    }
    let modes: BTreeSet<&str> = scenarios.iter().map(|s| s.judgement.name()).collect();
    assert_eq!(modes.len(), Judgement::NAMES.len(), "modes covered: {modes:?}");
    let sizes: BTreeSet<usize> = scenarios.iter().map(|s| s.standbys.len()).collect();
    for m in 1..=5 {
        assert!(sizes.contains(&m), "no scenario with M = {m}");
    }
    let master_wins = scenarios.iter().any(|s| s.expect.winner == Winner::Seed(s.master.seed.clone()));
    let standby_wins =
        scenarios.iter().any(|s| matches!(&s.expect.winner, Winner::Seed(w) if *w != s.master.seed));
    let exhausted = scenarios.iter().any(|s| s.expect.winner == Winner::Exhausted);
    let stalled = scenarios.iter().any(|s| s.expect.winner == Winner::Stalled);
    assert!(master_wins && standby_wins && exhausted && stalled);
    // A faulted standby ranked above the winner: the second or third ranked wins.
    let deeper = scenarios.iter().any(|s| s.expect.attempts.as_ref().is_some_and(|a| a.len() >= 4));
    assert!(deeper, "no scenario where the third-ranked standby wins");
}
