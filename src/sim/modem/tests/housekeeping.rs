//! TS 27.007 housekeeping: `+CPAS`, `+CCLK`, `+CNUM`, `+CLAC`, `+CSCS`, and error reporting by
//! `+CMEE` for every kind of failure.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Client, Verdict, rig};
use crate::bridge::CardFault;
use crate::sim::modem::commands::COMMANDS;
use crate::sim::modem::rtc::Rtc;

const OWN_NUMBER: &str = "+CNUM: \"\",\"+4909900000001\",145";

/// `+CCLK`'s time, as milliseconds since 1970 (local time as shown).
async fn clock(c: &mut Client) -> (String, i64) {
    let line = c.one("AT+CCLK?").await;
    let text = line.strip_prefix("+CCLK: \"").and_then(|t| t.strip_suffix('"')).unwrap().to_owned();
    let (ms, _) = Rtc::parse(&text).unwrap_or_else(|| panic!("{line}"));
    (text, ms)
}

fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_clock_and_own_number() {
    let mut rig = rig(1, Verdict::Accept { roaming: false }).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0;+CEREG=1", "ATE0;+CEREG=1\r\r\nOK\r\n").await;
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;

    fw.at("AT+CPAS", "\r\n+CPAS: 0\r\n\r\nOK\r\n").await;
    fw.at("AT+CPAS=?", "\r\n+CPAS: (0-5)\r\n\r\nOK\r\n").await;
    fw.at("AT+CPAS?", "\r\n+CME ERROR: 4\r\n").await;

    // No network time yet: the clock runs from the GPS epoch.
    let (shown, _) = clock(&mut fw).await;
    assert!(shown.starts_with("80/01/06,00:00:0") && shown.ends_with("+00"), "{shown}");
    fw.at("AT+CCLK=\"24/02/29,23:59:58+04\"", "\r\nOK\r\n").await;
    let (shown, ms) = clock(&mut obs).await;
    assert!(shown.starts_with("24/0") && shown.ends_with("+04"), "{shown}");
    assert!((ms - Rtc::parse("24/02/29,23:59:58+04").unwrap().0).abs() < 3000, "{shown}");
    fw.at("AT+CCLK=\"24/02/30,00:00:00+00\"", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+CCLK=?", "\r\nOK\r\n").await;

    // No card: no numbers.
    fw.at("AT+CNUM", "\r\n+CME ERROR: 10\r\n").await;
    let faults = rig.plug(0, "telekom-de-1").await;
    fw.expect("\r\n+CPIN: READY\r\n").await;
    obs.expect("\r\n+CPIN: READY\r\n").await;
    fw.at("AT+CNUM", &format!("\r\n{OWN_NUMBER}\r\n\r\nOK\r\n")).await;
    obs.at("AT+CNUM", &format!("\r\n{OWN_NUMBER}\r\n\r\nOK\r\n")).await;
    fw.at("AT+CNUM=?", "\r\nOK\r\n").await;
    // The number is not in the character set; the alpha identifier would be.
    fw.at("AT+CSCS=\"UCS2\";+CNUM", &format!("\r\n{OWN_NUMBER}\r\n\r\nOK\r\n")).await;

    // Registration brings network time: the rig's clock as UTC.
    fw.at("AT+COPS=0", "\r\nOK\r\n\r\n+CEREG: 2\r\n").await;
    fw.expect("\r\n+CEREG: 1\r\n").await;
    let (shown, ms) = clock(&mut obs).await;
    assert!(shown.ends_with("+00"), "{shown}");
    assert!((ms - wall_ms()).abs() < 3000, "{shown} is not now");
    // It keeps running after the card is gone.
    faults.apply(CardFault::Pulled);
    fw.expect("\r\n+CEREG: 0\r\n\r\n+CPIN: NOT READY\r\n").await;
    obs.expect("\r\n+CPIN: NOT READY\r\n").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, later) = clock(&mut obs).await;
    assert!(later > ms && (later - wall_ms()).abs() < 3000);
    fw.at("AT+CNUM", "\r\n+CME ERROR: 10\r\n").await;

    // A card that wants its PIN.
    faults.insert();
    fw.expect("\r\n+CPIN: READY\r\n").await;
    faults.apply(CardFault::PinLocked);
    fw.at("AT+QUIMSLOT=1", "\r\nOK\r\n\r\n+CPIN: SIM PIN\r\n").await;
    fw.at("AT+CNUM", "\r\n+CME ERROR: 11\r\n").await;
    fw.at("AT+CMEE=2;+CNUM", "\r\n+CME ERROR: SIM PIN required\r\n").await;
}

#[tokio::test]
async fn clac_lists_exactly_the_command_table() {
    let rig = rig(1, Verdict::Never).await;
    let mut obs = rig.observer();
    obs.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let (lines, end) = obs.ask("AT+CLAC").await;
    assert_eq!(end, "OK");
    let table: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    assert_eq!(lines, table);
    for name in ["+CMGS", "+QENG", "+CCLK", "+CNUM", "+CSCS", "+CPAS", "+QCFG", "E", "&F"] {
        assert!(table.contains(&name), "{name}");
    }
    let mut unique = table.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), table.len(), "a command listed twice");
    obs.at("AT+CLAC=?", "\r\nOK\r\n").await;
    // Every listed command is known: none answers the plain ERROR of an unknown command.
    for command in COMMANDS.iter().filter(|c| c.name.starts_with('+')) {
        let (_, end) = obs.ask(&format!("AT{}=?", command.name)).await;
        assert_eq!(end, "OK", "AT{}=?", command.name);
    }
}

#[tokio::test]
async fn character_sets() {
    let rig = rig(1, Verdict::Never).await;
    let (mut fw, mut obs) = (rig.firmware(), rig.observer());
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    fw.at("AT+CSCS?", "\r\n+CSCS: \"GSM\"\r\n\r\nOK\r\n").await;
    fw.at("AT+CSCS=?", "\r\n+CSCS: (\"GSM\",\"IRA\",\"UCS2\")\r\n\r\nOK\r\n").await;
    fw.at("AT+CSCS=\"IRA\";+CSCS?", "\r\n+CSCS: \"IRA\"\r\n\r\nOK\r\n").await;
    fw.at("AT+CSCS=\"ucs2\";+CSCS?", "\r\n+CSCS: \"UCS2\"\r\n\r\nOK\r\n").await;
    fw.at("AT+CSCS=\"HEX\"", "\r\n+CME ERROR: 50\r\n").await;
    fw.at("AT+CSCS", "\r\n+CME ERROR: 4\r\n").await;
    // Per port, and ATZ restores it.
    obs.at("AT+CSCS?", "AT+CSCS?\r\r\n+CSCS: \"GSM\"\r\n\r\nOK\r\n").await;
    fw.at("ATZ", "\r\nOK\r\n").await;
    fw.at("AT+CSCS?", "AT+CSCS?\r\r\n+CSCS: \"GSM\"\r\n\r\nOK\r\n").await;
}

/// One failure of each kind, in each `+CMEE` mode: a CME error, an unsupported form, an SMS
/// error, a V.250 basic command's error, an unknown command.
#[tokio::test]
async fn errors_follow_cmee_everywhere() {
    let rig = rig(1, Verdict::Never).await;
    let mut fw = rig.firmware();
    fw.at("ATE0", "ATE0\r\r\nOK\r\n").await;
    let cases: [(&str, [&str; 3]); 9] = [
        ("AT+CIMI", ["ERROR", "+CME ERROR: 10", "+CME ERROR: SIM not inserted"]),
        ("AT+CSQ?", ["ERROR", "+CME ERROR: 4", "+CME ERROR: operation not supported"]),
        ("AT+CEREG=7", ["ERROR", "+CME ERROR: 50", "+CME ERROR: incorrect parameters"]),
        ("AT+QSPN", ["ERROR", "+CME ERROR: 10", "+CME ERROR: SIM not inserted"]),
        ("AT+CMGR=0", ["ERROR", "+CMS ERROR: 321", "+CMS ERROR: invalid memory index"]),
        ("AT+CSCA?", ["ERROR", "+CMS ERROR: 310", "+CMS ERROR: (U)SIM not inserted"]),
        ("AT+CMGF?;+CMGS?", ["ERROR", "+CMS ERROR: 303", "+CMS ERROR: operation not supported"]),
        ("ATE7", ["ERROR", "ERROR", "ERROR"]),
        ("AT+CFOO", ["ERROR", "ERROR", "ERROR"]),
    ];
    for mode in 0..3 {
        fw.at(&format!("AT+CMEE={mode}"), "\r\nOK\r\n").await;
        for (cmd, want) in &cases {
            let (_, end) = fw.ask(cmd).await;
            assert_eq!(end, want[mode], "{cmd} with +CMEE={mode}");
        }
    }
    fw.at("AT+CMEE=3", "\r\n+CME ERROR: incorrect parameters\r\n").await;
}
