//! The evidence beside a scenario's page, read with the tools of the trade: a real scenario on
//! the virtual bench writes `<scenario>.pcapng` (GSMTAP SIM over UDP) which Debian's `tshark`
//! decodes — the winner's AUTHENTICATE on the winner's slot (by interface and by address), the
//! master's traffic on the master's, every checksum good, timestamps on the wall clock of the
//! run — and `<scenario>.console.log` / `<scenario>.observer.log`, each line as received with
//! its stamp; no seed's secret in any of them. `--jobs` hands the evidence from its workers to
//! the parent, which writes the same artefacts.
//!
//! Needs Debian's `tshark` (ci/setup-debian.sh installs it).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{VIRTUAL_BENCH, root, target_tmp, turn};

mod common;

const TSHARK: &str = "/usr/bin/tshark";
/// A scenario where a standby wins: the master is rejected (cause 15) after authenticating,
/// then the better-ranked standby authenticates and wins (`seedrig explain master-reject`).
const SCENARIO: &str = "master-reject";
const MASTER: (u8, &str) = (0, "o2-de-1");
const WINNER: (u8, &str) = (2, "vodafone-uk-1");

/// `seedrig <args>` on the starter fixtures, each `(flag, folder)` of `out` added.
fn seedrig(args: &[&str], out: &[(&str, &Path)]) -> Output {
    let mut c = common::seedrig();
    c.args(args);
    for (flag, dir) in out {
        c.arg(flag).arg(dir);
    }
    c.output().expect("seedrig runs")
}

/// Runs `args` until no scenario ends in a bench ERROR (a loaded machine), three times at most;
/// every scenario must pass. One bench at a time: a loaded machine is a loaded bench.
fn run_passing(args: &[&str], out: &[(&str, &Path)]) -> String {
    let _turn = turn(VIRTUAL_BENCH);
    let mut last = String::new();
    for _ in 0..3 {
        for (_, dir) in out {
            let _ = std::fs::remove_dir_all(dir);
        }
        let o = seedrig(args, out);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        last = format!("stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&o.stderr));
        if stdout.lines().any(|l| l.starts_with("ERROR ")) {
            eprintln!("the bench broke, running again:\n{last}");
            continue;
        }
        assert_eq!(o.status.code(), Some(0), "{last}");
        return stdout;
    }
    panic!("the bench broke three times:\n{last}");
}

/// `tshark -r file -Y filter -T fields -e field...`: one row per frame, fields split.
fn tshark(file: &Path, options: &[&str], filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    assert!(
        Path::new(TSHARK).exists(),
        "{TSHARK} is missing: run ci/setup-debian.sh (as root, or with sudo) to install Debian's tshark"
    );
    let mut c = Command::new(TSHARK);
    c.arg("-r").arg(file).args(options).args(["-Y", filter, "-T", "fields", "-E", "separator=/t"]);
    for f in fields {
        c.args(["-e", f]);
    }
    let o = c.output().expect("tshark runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "tshark -Y {filter:?} failed: {stderr}");
    String::from_utf8_lossy(&o.stdout).lines().map(|l| l.split('\t').map(str::to_owned).collect()).collect()
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("card-trace-").tempdir_in(target_tmp()).expect("a folder")
}

fn unix_s() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Every seed's secrets (K, OPc, PINs...) from its fixture file: none may appear in any artefact,
/// as text or as bytes.
fn secrets() -> Vec<(String, Vec<u8>)> {
    let seeds = root().join("fixtures/seeds");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(seeds).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else { continue };
            if !["k", "opc", "pin", "pin1", "pin2", "puk", "puk1", "adm", "adm1"].contains(&key.trim()) {
                continue;
            }
            let value = value.split('#').next().unwrap().trim().trim_matches('"').to_owned();
            let bytes = (0..value.len() / 2)
                .filter_map(|i| u8::from_str_radix(value.get(2 * i..2 * i + 2)?, 16).ok())
                .collect::<Vec<u8>>();
            out.push((value, if bytes.len() >= 4 { bytes } else { Vec::new() }));
        }
    }
    assert!(out.len() >= 10, "the seeds' keys were found: {out:?}");
    out
}

fn assert_no_secret(path: &Path, secrets: &[(String, Vec<u8>)]) {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    for (value, raw) in secrets {
        assert!(!text.contains(&value.to_ascii_lowercase()), "{} holds a secret ({value})", path.display());
        if !raw.is_empty() {
            assert!(
                !bytes.windows(raw.len()).any(|w| w == raw),
                "{} holds a secret's bytes ({value})",
                path.display()
            );
        }
    }
}

#[test]
fn the_winners_authenticate_is_on_the_winners_slot_in_wireshark() {
    // The oracle's expectation, as `explain` prints it: the test's constants must be the truth.
    let explain = seedrig(&["explain", SCENARIO], &[]);
    let explain = String::from_utf8_lossy(&explain.stdout);
    assert!(explain.contains(&format!("{} (slot {}) wins", WINNER.1, WINNER.0)), "{explain}");
    assert!(explain.contains(&format!("master  {} (slot {})", MASTER.1, MASTER.0)), "{explain}");

    let tmp = scratch();
    let dir = tmp.path().join("pcap");
    let before = unix_s();
    run_passing(&["run", SCENARIO, "--exact"], &[("--pcap", &dir)]);
    let after = unix_s();
    let file = dir.join(format!("{SCENARIO}.pcapng"));
    assert!(file.is_file(), "{} missing", file.display());
    let written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, [format!("{SCENARIO}.pcapng")], "--pcap alone writes the card traces only");

    // Every AUTHENTICATE (INS 0x88), by slot: the interface's name, its id, the source address.
    let slot_name = |(slot, seed): (u8, &str)| format!("slot {slot} ({seed})");
    let address = |(slot, _): (u8, &str)| format!("127.0.0.{}", slot + 1);
    let auth = tshark(
        &file,
        &[],
        "gsm_sim.apdu.ins == 0x88",
        &[
            "frame.time_epoch",
            "frame.interface_id",
            "frame.interface_name",
            "ip.src",
            "udp.dstport",
            "frame.comment",
        ],
    );
    assert!(!auth.is_empty(), "no AUTHENTICATE decoded");
    let last = auth.last().unwrap();
    assert_eq!(last[2], slot_name(WINNER), "the last AUTHENTICATE is the winner's: {auth:?}");
    assert_eq!(last[3], address(WINNER), "{auth:?}");
    assert_eq!(last[4], "4729", "{auth:?}");
    assert!(last[5].contains("ms nominal from the DUT's start"), "{auth:?}");
    // The same frames through the per-slot filters a reader types.
    let by_address = tshark(
        &file,
        &[],
        &format!("ip.src == {} && gsm_sim.apdu.ins == 0x88", address(WINNER)),
        &["frame.number"],
    );
    let by_interface = tshark(
        &file,
        &[],
        &format!("frame.interface_name == \"{}\" && gsm_sim.apdu.ins == 0x88", slot_name(WINNER)),
        &["frame.number"],
    );
    assert!(!by_address.is_empty() && by_address == by_interface, "{by_address:?} {by_interface:?}");
    let by_id = tshark(&file, &[], &format!("frame.interface_id == {} && gsm_sim", last[1]), &["ip.src"]);
    assert!(by_id.iter().all(|r| r[0] == address(WINNER)), "one interface, one address: {by_id:?}");

    // The master's slot shows its own traffic: its ATR, reads and its AUTHENTICATE before the
    // reject, and its power-down as a card event.
    let master = tshark(
        &file,
        &[],
        &format!("ip.src == {}", address(MASTER)),
        &["frame.interface_name", "gsm_sim.apdu.ins"],
    );
    assert!(master.iter().all(|r| r[0] == slot_name(MASTER)), "{master:?}");
    assert!(master.iter().any(|r| r[1] == "0x88"), "the master authenticated: {master:?}");
    assert!(master.iter().any(|r| r[1] == "0xb0"), "the master's files were read: {master:?}");
    let atrs = tshark(&file, &[], "frame.comment contains \"ATR 3B\"", &["frame.interface_name"]);
    assert!(
        atrs.iter().any(|r| r[0] == slot_name(MASTER)) && atrs.iter().any(|r| r[0] == slot_name(WINNER)),
        "{atrs:?}"
    );
    let down =
        tshark(&file, &[], "gsmtap_log.string contains \"powered down\"", &["ip.src", "gsmtap_log.string"]);
    assert!(down.iter().any(|r| r[0] == address(MASTER)), "the master's card was powered down: {down:?}");

    // Timestamps: the rig's clock on UTC wall-clock time, within the run; checksums good, no
    // frame malformed.
    let times: Vec<f64> =
        tshark(&file, &[], "frame", &["frame.time_epoch"]).iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "frames in time order");
    assert!(
        times[0] >= before - 1.0 && *times.last().unwrap() <= after + 1.0,
        "{before} <= {times:?} <= {after}"
    );
    let checked = tshark(
        &file,
        &["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"],
        "ip.checksum.status != 1 || udp.checksum.status != 1 || _ws.malformed",
        &["frame.number"],
    );
    assert!(checked.is_empty(), "frames with bad checksums or malformed: {checked:?}");
    assert_no_secret(&file, &secrets());
}

#[test]
fn timelines_write_the_card_trace_and_both_logs_beside_each_page_from_parallel_jobs() {
    let tmp = scratch();
    let dir = tmp.path().join("timelines");
    let scenarios = [SCENARIO, "master-connects"];
    run_passing(&["run", scenarios[0], scenarios[1], "--exact", "--jobs", "2"], &[("--timelines", &dir)]);
    let secrets = secrets();
    for s in scenarios {
        for suffix in ["json", "html", "pcapng", "console.log", "observer.log"] {
            let path = dir.join(format!("{s}.{suffix}"));
            assert!(path.is_file(), "{} missing", path.display());
            assert_no_secret(&path, &secrets);
        }
        // The card trace came through the worker whole: APDUs on the scenario's slots.
        let frames = tshark(&dir.join(format!("{s}.pcapng")), &[], "gsm_sim", &["frame.interface_name"]);
        assert!(frames.len() > 10 && frames.iter().all(|r| r[0].starts_with("slot ")), "{s}: {frames:?}");

        let console = std::fs::read_to_string(dir.join(format!("{s}.console.log"))).unwrap();
        let observer = std::fs::read_to_string(dir.join(format!("{s}.observer.log"))).unwrap();
        for log in [&console, &observer] {
            assert!(log.contains("since the DUT's start at ") && log.contains(" UTC"), "{log}");
            let stamps: Vec<f64> = log
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| {
                    assert!(l.starts_with('[') && l.contains(" s | ") && l.contains(" ms] "), "{l}");
                    l[1..l.find(" s | ").unwrap()].trim().parse().unwrap()
                })
                .collect();
            assert!(stamps.len() >= 3, "{log}");
            assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "stamps in order: {log}");
        }
        // The console's lines as the firmware printed them: its JSON events, verbatim.
        assert!(console.contains("] {\"t_ms\":") && console.contains("\"event\":\"boot\""), "{console}");
        assert!(console.contains("\"event\":\"connected\""), "{console}");
        // The observer's URCs, registration among them.
        assert!(
            observer.lines().any(|l| l.contains("] +CEREG: 5") || l.contains("] +CEREG: 1")),
            "{observer}"
        );
    }
    // The timeline's JSON and the logs agree on the nominal time of the console's `connected`.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{SCENARIO}.json"))).unwrap())
            .unwrap();
    let connected = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["event"]["event"] == "connected")
        .map(|i| i["t_ms"].as_f64().unwrap())
        .expect("a connected event");
    let console = std::fs::read_to_string(dir.join(format!("{SCENARIO}.console.log"))).unwrap();
    let line = console.lines().find(|l| l.contains("\"event\":\"connected\"")).unwrap();
    let ms: f64 = line[line.find(" s | ").unwrap() + 5..line.find(" ms] ").unwrap()].trim().parse().unwrap();
    assert!((ms - connected).abs() <= 0.1, "{ms} in the log, {connected} in the timeline");
}
