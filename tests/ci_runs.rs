//! `seedrig run` as a CI pipeline uses it: partitions of one suite and their merged report,
//! repeated scenarios with their statistics.

use std::path::Path;
use std::process::{Command, Output};

fn seedrig(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seedrig"))
        .arg("--fixtures")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
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
