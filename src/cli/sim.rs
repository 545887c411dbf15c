//! `seedrig sim ...`: bring parts of the virtual bench up by hand, for poking at them.

use std::path::Path;
use std::process::ExitCode;

use seedrig::bench::virtual_bench::FirmwareLaunch;
use seedrig::bench::{BenchPaths, VirtualBench, VirtualBenchOptions};
use seedrig::hw::pcsc::{Readers, read_identity};
use seedrig::model::{Catalog, Rig, RigKind};
use seedrig::sim::pcscd::{LabelledCard, PrivatePcscd};
use seedrig::sim::pty::Pty;
use seedrig::sim::usim::VirtualUsim;
use seedrig::sim::vpcd::VirtualCard;

use super::{EXIT_CONFIG, load_clean, table::Table};

/// Exit code when the bench cannot be brought up.
const EXIT_BENCH: u8 = 1;

/// `seedrig sim cards [SEED...]`: serves the seeds' virtual cards through a private pcscd until
/// Ctrl-C.
pub fn cards(fixtures: &Path, wanted: &[String]) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let catalog = &loaded.catalog;
    let ids: Vec<String> =
        if wanted.is_empty() { catalog.seeds.keys().cloned().collect() } else { wanted.to_vec() };
    let cards = match virtual_cards(catalog, &ids) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let pcscd = match PrivatePcscd::start(cards) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BENCH);
        }
    };
    println!("PCSCLITE_CSOCK_NAME={}", pcscd.socket_path().display());
    let mut table = Table::new(&["reader", "seed", "ICCID", "IMSI (read over PC/SC)"]);
    let mut readers = Readers::new();
    for reader in pcscd.readers() {
        let identity = readers.connect(&reader.name).and_then(|card| read_identity(&card));
        let (iccid, imsi) = match identity {
            Ok(id) => (id.iccid, id.imsi),
            Err(e) => ("?".into(), format!("unreadable: {e}")),
        };
        table.row(vec![reader.name.clone(), reader.label.clone(), iccid, imsi]);
    }
    print!("{}", table.render());
    for spare in pcscd.spare_readers() {
        println!("({spare} holds a spare card: vpcd serves cards in pairs)");
    }
    println!(
        "serving {} card(s); export the line above and use pcsc_scan, scriptor or any PC/SC tool; Ctrl-C stops",
        pcscd.readers().len()
    );
    wait_for_stop();
    drop(pcscd);
    eprintln!("stopped; pcscd and its socket are gone");
    ExitCode::SUCCESS
}

/// A virtual USIM per seed id, in the order given.
fn virtual_cards(catalog: &Catalog, ids: &[String]) -> Result<Vec<LabelledCard>, String> {
    ids.iter()
        .map(|id| {
            let seed = catalog.seeds.get(id).ok_or_else(|| {
                let known: Vec<&str> = catalog.seeds.keys().map(String::as_str).collect();
                format!("no seed \"{id}\"; seeds: {}", known.join(", "))
            })?;
            let card = VirtualUsim::from_catalog(catalog, seed).map_err(|e| e.to_string())?;
            Ok((id.clone(), Box::new(card) as Box<dyn VirtualCard>))
        })
        .collect()
}

/// `seedrig sim up SCENARIO`: the scenario's virtual world until Ctrl-C.
pub fn up(fixtures: &Path, rig_file: &Path, scenario: &str, json: bool, firmware: bool) -> ExitCode {
    let loaded = match load_clean(fixtures) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let rig = match load_rig(fixtures, rig_file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Some(scenario) = loaded.catalog.scenarios.get(scenario) else {
        eprintln!("error: no scenario \"{scenario}\"; `seedrig list` shows them all");
        return ExitCode::from(EXIT_CONFIG);
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_BENCH);
        }
    };
    // The rig file's DUT where it names one, else the reference firmware.
    let launch = firmware.then(|| match &rig.kind {
        RigKind::Virtual { dut: Some(program) } => FirmwareLaunch::Program(program.clone()),
        _ => FirmwareLaunch::Reference { binary: super::firmware_binary(), fault: None },
    });
    let options = VirtualBenchOptions { firmware: launch, watch_observer: false };
    runtime.block_on(async {
        let mut bench = match VirtualBench::up(&loaded.catalog, scenario, &rig, options).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: the virtual bench did not come up: {e}");
                return ExitCode::from(EXIT_BENCH);
            }
        };
        let mut paths = bench.paths().clone();
        // The firmware holds the console's device end; a person gets a second terminal whose
        // traffic the rig relays to and from the firmware's console.
        let relay = if firmware { open_console_relay(&bench, &mut paths) } else { None };
        print_paths(&paths, json, firmware);
        let relay_ended = async {
            match relay {
                Some(r) => {
                    let _ = r.await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = wait_for_signal() => {}
            _ = relay_ended => {}
            _ = report_breakage(&mut bench) => {}
        }
        bench.down().await;
        eprintln!("stopped; the virtual bench is down");
        ExitCode::SUCCESS
    })
}

/// Says once, on stderr, when a part of the bench breaks (a hung or dead pcscd, a bridge that
/// stopped, the firmware gone); the bench stays up for people to look at until Ctrl-C.
async fn report_breakage(bench: &mut VirtualBench) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Some(why) = bench.broken() {
            eprintln!("the virtual bench broke: {why}; Ctrl-C takes it down");
            return std::future::pending().await;
        }
    }
}

/// A terminal for people, relayed to the firmware's console; it replaces the console path.
fn open_console_relay(bench: &VirtualBench, paths: &mut BenchPaths) -> Option<tokio::task::JoinHandle<()>> {
    let human = match Pty::open() {
        Ok(p) => std::sync::Arc::new(p),
        Err(e) => {
            eprintln!(
                "warning: no console terminal for people ({e}); the console is {}",
                paths.console.display()
            );
            return None;
        }
    };
    paths.console = human.path().to_owned();
    let console = bench.console.clone();
    Some(tokio::spawn(async move {
        let (a, b) = (human.clone(), console.clone());
        let up = tokio::spawn(async move { seedrig::sim::pty::pump(&a, &b).await });
        seedrig::sim::pty::pump(&console, &human).await;
        up.abort();
    }))
}

fn print_paths(paths: &BenchPaths, json: bool, firmware_runs: bool) {
    if json {
        println!("{}", serde_json::to_string(paths).unwrap_or_default());
        return;
    }
    println!("firmware AT port   {}", paths.firmware_at_port.display());
    println!("observer AT port   {}", paths.observer_at_port.display());
    println!("console            {}", paths.console.display());
    println!("PC/SC socket       PCSCLITE_CSOCK_NAME={}", paths.pcsc_socket.display());
    println!("firmware config    {}", paths.firmware_config.display());
    for s in &paths.slots {
        println!(
            "slot {}             {} in \"{}\" (card emulation: {})",
            s.slot,
            s.seed,
            s.reader,
            s.card_emulation_socket.display()
        );
    }
    if firmware_runs {
        println!("the firmware waits for `start` on its console; Ctrl-C stops everything");
    } else {
        println!(
            "no firmware runs: start yours with the firmware config above (it opens the console path itself); Ctrl-C stops everything"
        );
    }
}

/// The rig file, which must describe a virtual bench.
fn load_rig(fixtures: &Path, path: &Path) -> Result<Rig, ExitCode> {
    let rig = super::load_rig_any(fixtures, path)?;
    if !matches!(rig.kind, RigKind::Virtual { .. }) {
        eprintln!(
            "error: {} describes a lab bench; `sim up` brings up the virtual bench (kind = \"virtual\")",
            path.display()
        );
        return Err(ExitCode::from(EXIT_CONFIG));
    }
    Ok(rig)
}

pub async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_stop() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let Ok(runtime) = runtime else { return };
    runtime.block_on(wait_for_signal());
}
