//! The virtual bench's world brought up for one small scenario and taken down again: the
//! private pcscd, each virtual reader and its card, the modem's observer AT port, the DUT's
//! `boot` on its console, the bridges.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{BLOCKING_LIMIT, Row, at_probe, executable, ms, off_thread, quoted};
use crate::bench::virtual_bench::FirmwareLaunch;
use crate::bench::{VirtualBench, VirtualBenchOptions};
use crate::console::Event;
use crate::console::reader::ConsoleReader;
use crate::hw::pcsc::{Readers, read_identity};
use crate::model::{Catalog, Rig, Scenario};

/// The scenario the virtual bench is brought up for, when it fits.
const PREFERRED_SCENARIO: &str = "master-connects";
/// How long the reference firmware may take to print `boot`.
const BOOT_WITHIN: Duration = Duration::from_secs(10);

/// The scenario the virtual world is brought up for: `master-connects` if the bench's slots
/// fit it, else the first scenario that fits.
pub fn small_scenario<'c>(catalog: &'c Catalog, rig: &Rig) -> Option<&'c Scenario> {
    let fits = |s: &&Scenario| s.placements().all(|p| p.slot < rig.slots);
    catalog.scenarios.get(PREFERRED_SCENARIO).filter(fits).or_else(|| catalog.scenarios.values().find(fits))
}

pub(super) async fn virtual_world(catalog: &Catalog, rig: &Rig, firmware: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    // The rig file's own device under test, where it names one; else the reference firmware.
    let launch = match &rig.kind {
        crate::model::RigKind::Virtual { dut: Some(program) } => FirmwareLaunch::Program(program.clone()),
        _ => {
            let firmware_row = executable(firmware)
                .map(|()| firmware.display().to_string())
                .map_err(|e| format!("{}: {e}", firmware.display()));
            if let Err(e) = &firmware_row {
                rows.push(Row::problem("firmware", format!("{e} (build it: cargo build)")));
                return rows;
            }
            FirmwareLaunch::Reference { binary: firmware.to_owned(), fault: None }
        }
    };
    let Some(scenario) = small_scenario(catalog, rig) else {
        rows.push(Row::problem(
            "virtual world",
            format!("no scenario fits the bench's {} slot(s)", rig.slots),
        ));
        return rows;
    };
    let options = VirtualBenchOptions { firmware: Some(launch), watch_observer: false };
    let started = Instant::now();
    let up = tokio::time::timeout(Duration::from_secs(60), VirtualBench::up(catalog, scenario, rig, options))
        .await;
    let mut bench = match up {
        Ok(Ok(bench)) => bench,
        Ok(Err(e)) => {
            rows.push(Row::problem(
                "virtual world",
                format!("scenario {} did not come up: {e}", scenario.id),
            ));
            return rows;
        }
        Err(_) => {
            rows.push(Row::problem(
                "virtual world",
                format!("scenario {} did not come up within 60 s", scenario.id),
            ));
            return rows;
        }
    };
    let booted = wait_for_boot(&bench).await;
    rows.push(Row::ok(
        "virtual world",
        format!(
            "scenario {} up in {}: {} card(s) behind the bridges, the simulated network and modem, the reference firmware",
            scenario.id,
            ms(started.elapsed()),
            scenario.placements().count()
        ),
    ));
    let paths = bench.paths().clone();
    let (pcscd_pid, isolated, spares) = match bench.pcscd_mut() {
        Some(p) => (Some(p.pid()), p.isolated(), p.spare_readers().to_vec()),
        None => (None, false, Vec::new()),
    };
    let pid = pcscd_pid.unwrap_or(0);
    let listed = off_thread(BLOCKING_LIMIT, || Readers::new().list()).await;
    let isolation = if isolated {
        "in its own mount namespace (a system pcscd and its readers are untouched)"
    } else {
        "not isolated (this machine allows no mount namespace): its own socket and readers, the pid file shared with a system pcscd"
    };
    rows.push(match listed {
        Some(Ok(names)) => Row::ok(
            "pcscd",
            format!(
                "private pcscd pid {pid}, {isolation}; socket {}; {} reader(s): {}",
                paths.pcsc_socket.display(),
                names.len(),
                quoted(&names)
            ),
        ),
        Some(Err(e)) => Row::problem("pcscd", format!("private pcscd pid {pid}: {e}")),
        None => {
            Row::problem("pcscd", format!("private pcscd pid {pid}: no answer within {BLOCKING_LIMIT:?}"))
        }
    });
    for slot in &paths.slots {
        let part = format!("slot {} reader \"{}\"", slot.slot, slot.reader);
        let Some(seed) = catalog.seeds.get(&slot.seed) else { continue };
        let role = if slot.slot == scenario.master.slot { "the master" } else { "a standby" };
        rows.push(match read_card(&slot.reader).await {
            Ok(id) if id.iccid == seed.iccid.as_str() && id.imsi == seed.imsi.as_str() => Row::ok(
                part,
                format!("virtual card holds {} (ICCID {}, IMSI {}), {role}", seed.id, id.iccid, id.imsi),
            ),
            Ok(id) => Row::problem(
                part,
                format!(
                    "virtual card holds ICCID {}, IMSI {}, but should hold {} (ICCID {}, IMSI {})",
                    id.iccid, id.imsi, seed.id, seed.iccid, seed.imsi
                ),
            ),
            Err(e) => Row::problem(part, format!("should hold {}: {e}", seed.id)),
        });
    }
    for spare in spares {
        rows.push(Row::ok(format!("reader \"{spare}\""), "a spare card (vpcd serves cards in pairs)"));
    }
    rows.push(Row::of(
        "modem observer AT port",
        at_probe(&paths.observer_at_port, 115_200)
            .await
            .map(|t| format!("{}: answers AT with OK in {}", paths.observer_at_port.display(), ms(t)))
            .map_err(|e| format!("{}: {e}", paths.observer_at_port.display())),
    ));
    rows.push(Row::ok(
        "modem firmware AT port",
        format!("{}: held by the firmware (not probed)", paths.firmware_at_port.display()),
    ));
    let fw_pid = bench.firmware_pid().map(|p| format!(" (pid {p})")).unwrap_or_default();
    let console = paths.console.display();
    // The rig file's own DUT is named by its command, the reference firmware by its path.
    let shown = crate::bench::Bench::dut_output(&bench)
        .and_then(|o| o.split('`').nth(1).map(|c| format!("`{c}`")))
        .unwrap_or_else(|| firmware.display().to_string());
    rows.push(Row::of(
        "firmware",
        booted
            .clone()
            .map(|t| {
                format!("{shown}{fw_pid} booted: printed `boot` on its console {} after bring-up", ms(t))
            })
            .map_err(|e| format!("{shown}{fw_pid}: {e}")),
    ));
    rows.push(Row::of(
        "DUT console",
        match &booted {
            Ok(_) => Ok(format!("{console}: the firmware's console; its `boot` line read there")),
            Err(_) => Err(format!("{console}: no `boot` read there (see the firmware row)")),
        },
    ));
    rows.push(Row::of(
        "APDU bridges",
        match bench.broken() {
            None => {
                Ok(format!("{} slot(s) relayed to their cards; nothing broke meanwhile", paths.slots.len()))
            }
            Some(broken) => Err(broken.to_string()),
        },
    ));
    rows.push(Row::ok(
        "backend",
        "in-process stub: the simulated network delivers the firmware's report to it; nothing listens",
    ));
    let stopping = Instant::now();
    bench.down().await;
    let stopped = ms(stopping.elapsed());
    rows.push(match pcscd_pid {
        Some(p) if alive(p) => Row::problem(
            "virtual world down",
            format!("stopped in {stopped}, but pcscd (pid {p}) still runs"),
        ),
        Some(p) => Row::ok(
            "virtual world down",
            format!("firmware, bridges, modem and pcscd (pid {p}, gone) stopped in {stopped}"),
        ),
        None => Row::ok("virtual world down", format!("firmware, bridges and modem stopped in {stopped}")),
    });
    rows
}

/// Reads the console until the firmware prints `boot`; how long that took.
async fn wait_for_boot(bench: &VirtualBench) -> Result<Duration, String> {
    let started = Instant::now();
    // The DUT's own console format (a rig file's patterns), and its own boot time.
    let mut reader =
        ConsoleReader::new(crate::bench::Bench::console_format(bench)).map_err(|e| e.to_string())?;
    let within = crate::bench::Bench::boot_timeout(bench).max(BOOT_WITHIN);
    let mut buf = [0u8; 4096];
    while started.elapsed() < within {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, bench.console.read(&mut buf)).await {
            Ok(Ok(n)) => reader.push(started.elapsed(), &buf[..n]),
            Ok(Err(e)) => return Err(format!("the console failed: {e}")),
            Err(_) => break,
        }
        if reader.any(|e| matches!(e, Event::Boot { .. })) {
            return Ok(started.elapsed());
        }
    }
    let said: Vec<&str> = reader.noise.iter().map(|(_, l)| l.as_str()).take(3).collect();
    Err(format!(
        "did not print `boot` within {within:?}{}",
        if said.is_empty() { String::new() } else { format!("; it printed: {}", said.join(" / ")) }
    ))
}

/// A virtual card's ICCID and IMSI over PC/SC. The modem may reset the card it reads meanwhile
/// (a shared connection then sees "reset"): tried again.
async fn read_card(reader: &str) -> Result<crate::hw::pcsc::CardIdentity, String> {
    let mut last = String::new();
    for _ in 0..3 {
        let name = reader.to_owned();
        let read = off_thread(BLOCKING_LIMIT, move || {
            let mut readers = Readers::new();
            readers.connect(&name).and_then(|card| read_identity(&card))
        })
        .await;
        match read {
            Some(Ok(id)) => return Ok(id),
            Some(Err(e)) => last = e.to_string(),
            None => return Err(format!("no answer within {BLOCKING_LIMIT:?}")),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}

fn alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else { return false };
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}
