//! Which scenarios a bench can run. A scenario that needs what the bench does not have — more
//! SIM slots than it wires, a seed card it does not hold, a network fault it cannot make — is
//! skipped with the reason, never failed.

use crate::model::{Catalog, LabBench, LabNetwork, Rig, RigKind, Scenario};

/// Why `scenario` cannot run on `rig`, or `None` if it can.
pub fn cannot_run(catalog: &Catalog, rig: &Rig, scenario: &Scenario) -> Option<String> {
    let _ = catalog;
    let mut why = Vec::new();
    let slots: Vec<u8> = scenario.placements().map(|p| p.slot).filter(|s| *s >= rig.slots).collect();
    if !slots.is_empty() {
        why.push(format!(
            "it uses SIM slot(s) {} but bench {} has {} slot(s)",
            list(&slots),
            rig.name,
            rig.slots
        ));
    }
    if let RigKind::Lab(lab) = &rig.kind {
        why.extend(lab_limits(lab, scenario));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

fn lab_limits(lab: &LabBench, scenario: &Scenario) -> Vec<String> {
    let mut why = Vec::new();
    let missing: Vec<&str> =
        scenario.placements().filter(|p| lab.reader_of(&p.seed).is_none()).map(|p| p.seed.as_str()).collect();
    if !missing.is_empty() {
        why.push(format!("seed(s) {} are not in this bench's card inventory", missing.join(", ")));
    }
    let unwired: Vec<u8> =
        scenario.placements().map(|p| p.slot).filter(|s| lab.channel(*s).is_none()).collect();
    if !unwired.is_empty() {
        why.push(format!("slot(s) {} have no multiplexer channel wired", list(&unwired)));
    }
    let mut kinds: Vec<&'static str> = scenario
        .placements()
        .flat_map(|p| p.faults.iter())
        .filter(|f| !f.kind.is_card_fault())
        .map(|f| f.kind.name())
        .collect();
    kinds.dedup();
    let cannot: Vec<&str> = match &lab.network {
        LabNetwork::Fixture(hooks) => kinds.into_iter().filter(|k| hooks.fault(k).is_none()).collect(),
        LabNetwork::Measured { .. } => kinds,
    };
    if !cannot.is_empty() {
        let how = match lab.network {
            LabNetwork::Fixture(_) => "no [network.faults] hook for",
            LabNetwork::Measured { .. } => "the bench measures a real network and cannot make",
        };
        why.push(format!("{how} network fault(s) {}", cannot.join(", ")));
    }
    why
}

fn list(slots: &[u8]) -> String {
    slots.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}
