//! `seedrig run` as a CI pipeline uses it: partitions of one suite and their merged report,
//! repeated scenarios with their statistics, exit codes that tell the firmware's failures from
//! the bench's errors, retries of bench errors, and the firmware under test named.

use std::path::Path;
use std::process::{Command, Output};

mod common;

/// `seedrig <args>` on the starter fixtures.
fn seedrig(args: &[&str]) -> Output {
    common::seedrig().args(args).output().unwrap()
}

fn testcases(xml: &str) -> Vec<String> {
    xml.match_indices("<testcase name=\"")
        .map(|(i, m)| xml[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect()
}

#[test]
fn partitions_split_the_suite_and_merge_back_into_one_report() {
    let dir = tempfile::tempdir().unwrap();
    let picked = ["master-connects", "master-reject", "weights-signal", "weights-tariff", "tie-lower-slot"];
    let mut reports = Vec::new();
    let mut all = Vec::new();
    for m in 1..=2 {
        let junit = dir.path().join(format!("p{m}.xml"));
        let mut args = vec!["run", "--exact", "--junit", junit.to_str().unwrap()];
        let partition = format!("hash:{m}/2");
        args.extend(["--partition", partition.as_str()]);
        args.extend(picked);
        let o = seedrig(&args);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(text.starts_with(&format!("partition hash:{m}/2: ")), "{text}");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains(&format!(r#"<property name="partition" value="hash:{m}/2"/>"#)), "{xml}");
        let cases = testcases(&xml);
        assert!(cases.iter().all(|c| !all.contains(c)), "partitions overlap: {cases:?} / {all:?}");
        all.extend(cases);
        reports.push(junit);
    }
    all.sort();
    let mut want: Vec<String> = picked.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(all, want, "together the partitions hold every scenario");
    let merged = dir.path().join("all.xml");
    let o = seedrig(&[
        "junit",
        "merge",
        "--out",
        merged.to_str().unwrap(),
        reports[1].to_str().unwrap(),
        reports[0].to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let xml = std::fs::read_to_string(&merged).unwrap();
    assert_eq!(testcases(&xml), want, "sorted by name");
    assert!(xml.contains(r#"<property name="partitions" value="hash:1/2, hash:2/2"/>"#), "{xml}");
    // A partition given twice overlaps with itself.
    let o = seedrig(&[
        "junit",
        "merge",
        "--out",
        merged.to_str().unwrap(),
        reports[0].to_str().unwrap(),
        reports[0].to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_repeated_scenario_reports_its_runs_and_spread() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let o =
        seedrig(&["run", "--exact", "master-connects", "--repeat", "3", "--junit", junit.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{text}");
    assert!(text.contains("PASS   master-connects  (3 runs: 3 passed, 0 failed, 0 errors, 0 skipped; success 100 %; time to winner p50 "), "{text}");
    assert!(text.contains("1 scenarios: 1 passed, 0 failed, 0 errors, 0 skipped, 0 flaky"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"<property name="repeat.runs" value="3"/>"#), "{xml}");
    assert!(xml.contains(r#"<property name="repeat.flaky" value="false"/>"#), "{xml}");
    // --until-fail stops at the first run that does not pass: a wrong firmware fails at once.
    let o = seedrig(&[
        "run",
        "--exact",
        "m5-third-ranked-wins",
        "--repeat",
        "5",
        "--until-fail",
        "--firmware-fault",
        "wrong-order",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL   m5-third-ranked-wins  (1 runs: 0 passed, 1 failed"), "{text}");
}

/// A virtual rig whose DUT is `command` (the reference firmware's console format).
fn rig_with_dut(dir: &Path, name: &str, command: &[&str]) -> std::path::PathBuf {
    let command: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        "kind = \"virtual\"\nname = \"{name}\"\nslots = 6\ntime_scale = 0.05\n\n[dut]\ncommand = [{}]\nboot_timeout_s = 5\n",
        command.join(", ")
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn firmware() -> String {
    common::firmware_binary().display().to_string()
}

#[test]
fn a_bench_error_exits_3_and_is_retried_with_every_try_kept() {
    let dir = tempfile::tempdir().unwrap();
    let broken = rig_with_dut(dir.path(), "broken-dut", &["/nonexistent/hotspotd", "{config}"]);
    let junit = dir.path().join("broken.xml");
    let o = seedrig(&[
        "run",
        "--exact",
        "master-connects",
        "--rig",
        broken.to_str().unwrap(),
        "--retry-errors",
        "2",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(3), "a bench error, no failure: {text}");
    assert!(text.contains("ERROR  master-connects"), "{text}");
    assert!(text.contains("retried after a bench error: master-connects (2 retries after "), "{text}");
    assert!(text.contains("still an ERROR)"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<rerunError").count(), 2, "both earlier tries are kept: {xml}");
    assert!(xml.contains(r#"<property name="retried" value="2"/>"#), "{xml}");

    // A DUT that dies on its first start and works on the next: the retry passes, exit 0.
    let mark = dir.path().join("tried-once");
    let script = format!(
        "if [ -e '{mark}' ]; then exec '{fw}' --config \"$0\"; fi; touch '{mark}'; exit 3",
        mark = mark.display(),
        fw = firmware()
    );
    let flaky = rig_with_dut(dir.path(), "dies-once", &["sh", "-c", &script, "{config}"]);
    let junit = dir.path().join("flaky.xml");
    let o = seedrig(&[
        "run",
        "--exact",
        "master-connects",
        "--rig",
        flaky.to_str().unwrap(),
        "--retry-errors",
        "1",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("PASS   master-connects"), "{text}");
    assert!(text.contains("retried after a bench error: master-connects (1 retry after "), "{text}");
    assert!(text.contains("; passed)"), "{text}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<flakyError").count(), 1, "{xml}");
    assert!(!xml.contains("<error") && !xml.contains("<failure"), "{xml}");

    // Without --retry-errors the same DUT's first start is an ERROR: exit 3.
    std::fs::remove_file(&mark).unwrap();
    let o = seedrig(&["run", "--exact", "master-connects", "--rig", flaky.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn a_firmware_failure_exits_1_and_is_never_retried() {
    let o = seedrig(&[
        "run",
        "--exact",
        "m5-third-ranked-wins",
        "--retry-errors",
        "3",
        "--firmware-fault",
        "wrong-order",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL   m5-third-ranked-wins"), "{text}");
    assert!(!text.contains("retried"), "a failure is not retried: {text}");
}

#[test]
fn the_firmware_under_test_is_named_in_the_summary_the_report_and_the_pages() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("hotspot-v9.bin");
    std::fs::write(&image, b"stand-in for a firmware image\n").unwrap();
    // What a third-party tool says the image's sha256 is.
    let sum = Command::new("sha256sum").arg(&image).output().unwrap();
    let sha = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().unwrap().to_owned();
    let junit = dir.path().join("r.xml");
    let pages = dir.path().join("timelines");
    let o = common::seedrig()
        .args(["run", "--exact", "master-connects", "--firmware-image"])
        .arg(&image)
        .arg("--junit")
        .arg(&junit)
        .arg("--timelines")
        .arg(&pages)
        .env("SEEDRIG_FIRMWARE_ID", "v9.0.1-rc2")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains(&format!("tested: firmware v9.0.1-rc2 ({}, sha256 {sha}); seedrig ", image.display())),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"<property name="firmware.id" value="v9.0.1-rc2"/>"#), "{xml}");
    assert!(xml.contains(&format!(r#"<property name="firmware.sha256" value="{sha}"/>"#)), "{xml}");
    assert!(
        xml.contains(&format!(r#"<property name="seedrig.version" value="{}"/>"#, env!("CARGO_PKG_VERSION")))
    );
    assert!(xml.contains(r#"<property name="fixtures.revision" value=""#), "{xml}");
    for page in ["index.html", "master-connects.html"] {
        let html = std::fs::read_to_string(pages.join(page)).unwrap();
        assert!(html.contains("<b class=\"firmware-id\">v9.0.1-rc2</b>"), "{page}: {html}");
        assert!(html.contains(&format!("<code class=\"firmware-sha256\">{sha}</code>")), "{page}");
    }
    // An image that is not there is a configuration error naming it.
    let o = seedrig(&["run", "--exact", "master-connects", "--firmware-image", "/nonexistent/fw.bin"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--firmware-image /nonexistent/fw.bin: cannot read it")
    );
}

#[test]
fn a_merge_missing_a_partition_is_refused_unless_allowed_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("p1.xml");
    let o = seedrig(&[
        "run",
        "--exact",
        "--partition",
        "time:1/3",
        "--junit",
        junit.to_str().unwrap(),
        "master-connects",
        "master-reject",
        "weights-tariff",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{text}");
    // Three scenarios over three partitions: one each, the longest in the first.
    assert!(text.starts_with("partition time:1/3: 1 of 3 scenarios"), "{text}");
    let merged = dir.path().join("all.xml");
    let o = seedrig(&["junit", "merge", "--out", merged.to_str().unwrap(), junit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("no report of partition time:2/3, time:3/3"), "{err}");
    assert!(!merged.exists(), "nothing is written when refused");
    let o = seedrig(&[
        "junit",
        "merge",
        "--allow-missing",
        "--out",
        merged.to_str().unwrap(),
        junit.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{text}");
    assert!(text.contains("INCOMPLETE: no report of partition time:2/3, time:3/3"), "{text}");
    let xml = std::fs::read_to_string(&merged).unwrap();
    assert!(xml.contains(r#"<property name="complete" value="false"/>"#), "{xml}");
    assert!(xml.contains(r#"<property name="missing" value="time:2/3, time:3/3"/>"#), "{xml}");
}
