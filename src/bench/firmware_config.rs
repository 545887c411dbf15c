//! The reference firmware's configuration for one scenario, as a hotspot would be provisioned:
//! its seeds by slot, their network systems and price lists (by PLMN), weights and judgement.

use std::path::Path;

use toml::{Table, Value};

use crate::clock::TimeScale;
use crate::model::{Catalog, Placement, Scenario};

/// Where the firmware finds the modem, its console and the backend. A lab bench leaves the
/// device's own ports out: its configure hook knows them.
pub struct Wiring<'a> {
    pub at_port: Option<&'a Path>,
    pub console: Option<&'a Path>,
    pub backend_host: &'a str,
    pub backend_port: u16,
}

/// The firmware's TOML configuration (docs/virtual-bench.md, "The firmware").
pub fn firmware_config(catalog: &Catalog, scenario: &Scenario, scale: TimeScale, wiring: &Wiring) -> String {
    let mut t = Table::new();
    if let Some(at_port) = wiring.at_port {
        t.insert("at_port".into(), at_port.display().to_string().into());
    }
    if let Some(console) = wiring.console {
        t.insert("console".into(), console.display().to_string().into());
    }
    t.insert("time_scale".into(), scale.factor().into());
    t.insert("judgement".into(), scenario.judgement.name().into());
    t.insert("attempt_timeout_ms".into(), ms(scenario.attempt_timeout_ms));
    if let Some(backoff) = scenario.retry_backoff_ms {
        t.insert("retry_backoff_ms".into(), ms(backoff));
    }
    t.insert("autostart".into(), false.into());
    t.insert("apn".into(), "internet".into());
    t.insert("backend_host".into(), wiring.backend_host.into());
    t.insert("backend_port".into(), i64::from(wiring.backend_port).into());
    t.insert("site".into(), scenario.site.clone().into());
    let mut weights = Table::new();
    weights.insert("signal".into(), scenario.weights.signal.into());
    weights.insert("tariff".into(), scenario.weights.tariff.into());
    t.insert("weights".into(), Value::Table(weights));
    let seeds: Vec<Value> = scenario
        .placements()
        .enumerate()
        .filter_map(|(i, p)| seed_entry(catalog, p, i == 0).map(Value::Table))
        .collect();
    t.insert("seeds".into(), Value::Array(seeds));
    toml::to_string(&t).unwrap_or_default()
}

fn ms(v: u64) -> Value {
    i64::try_from(v).unwrap_or(i64::MAX).into()
}

fn seed_entry(catalog: &Catalog, p: &Placement, master: bool) -> Option<Table> {
    let seed = catalog.seeds.get(&p.seed)?;
    let home = catalog.carriers.get(&seed.home)?;
    let mut e = Table::new();
    e.insert("slot".into(), i64::from(p.slot).into());
    e.insert("role".into(), if master { "master" } else { "standby" }.into());
    e.insert("iccid".into(), seed.iccid.as_str().into());
    e.insert("rats".into(), Value::Array(seed.rats.iter().map(|r| r.name().into()).collect()));
    e.insert("apn".into(), home.apn.clone().into());
    let mut tariffs = Table::new();
    for carrier in catalog.carriers.values() {
        if let Some(price) = catalog.tariff(seed, &carrier.id) {
            tariffs.insert(carrier.plmn.numeric(), price.into());
        }
    }
    e.insert("tariffs".into(), Value::Table(tariffs));
    Some(e)
}
