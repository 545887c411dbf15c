//! Every starter scenario as a test case on the virtual bench (libtest-mimic): `cargo test
//! --test scenarios` runs them, `-- --list` lists them without touching any hardware, filters
//! and `--exact` work, and cargo-nextest runs them too.
//!
//! The scenarios run one at a time: a process talks to one private pcscd at a time.

use std::path::Path;

use libtest_mimic::{Arguments, Failed, Trial};
use seedrig::run::{RunOptions, Verdict, run_scenario};

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = seedrig::fixture::load_default(root).expect("fixtures load");
    assert!(loaded.diagnostics.is_empty(), "{}", loaded.diagnostics.render(false));
    let catalog = std::sync::Arc::new(loaded.catalog);
    let trials = catalog
        .scenarios
        .keys()
        .map(|id| {
            let (catalog, id) = (catalog.clone(), id.clone());
            Trial::test(id.clone(), move || run_one(&catalog, &id))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_one(catalog: &seedrig::model::Catalog, id: &str) -> Result<(), Failed> {
    let rig = catalog.rigs.get("virtual").ok_or("rig/virtual.toml is missing")?;
    let options = RunOptions {
        firmware_binary: env!("CARGO_BIN_EXE_seedrig-firmware").into(),
        fault: None,
        sabotage: None,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(run_scenario(catalog, &catalog.scenarios[id], rig, &options));
    match result.verdict {
        Verdict::Pass => Ok(()),
        Verdict::Fail => Err(format!("the firmware did wrong:\n  {}", result.failures().join("\n  ")).into()),
        Verdict::Error(reason) => Err(format!("the bench broke: {reason}").into()),
    }
}
