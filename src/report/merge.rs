//! `seedrig junit merge`: one JUnit report from the reports of the partitions of a suite
//! (several benches, `--partition`), deterministic whatever order the inputs come in.
//!
//! The rules:
//! - every testcase is kept as it was written (status, reruns, properties), sorted by name;
//!   each names the bench it ran on in a `bench` property;
//! - a scenario in two reports is refused (the partitions overlap, or a report came twice);
//! - partitions must be of one scheme and one N (`time:1/3`, `time:2/3`, `time:3/3`); each
//!   M at most once; a set without every M from 1 to N is refused, naming each missing `M/N`,
//!   unless `allow_missing`, which marks the merged report incomplete (suite properties
//!   `complete` = `false` and `missing`);
//! - a report without a partition ran the whole suite: it merges only with none other;
//! - the reports must have tested one firmware (`firmware.id`, `firmware.sha256`) on one
//!   fixture revision (`fixtures.revision`); where they name them, they must agree.

use quick_junit::{Property, Report, TestCase, TestSuite};

use crate::run::partition::Partition;

/// The merged report and what it holds.
#[derive(Debug)]
pub struct Merged {
    pub xml: String,
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub skipped: usize,
    /// The partitions no report ran (`2/3`, with the scheme: `time:2/3`), when allowed.
    pub missing: Vec<String>,
}

/// One input report as read: its file name, its suites' properties and its testcases.
struct Input {
    file: String,
    properties: Vec<(String, String)>,
    cases: Vec<TestCase>,
}

impl Input {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Merges `(file name, JUnit XML)` inputs into one report.
pub fn merge(inputs: &[(String, String)], allow_missing: bool) -> Result<Merged, String> {
    let inputs: Vec<Input> = inputs.iter().map(|(file, xml)| read(file, xml)).collect::<Result<_, _>>()?;
    if inputs.is_empty() {
        return Err("no report to merge".into());
    }
    let missing = missing_partitions(&inputs)?;
    if !missing.is_empty() && !allow_missing {
        return Err(format!(
            "the reports are not the whole suite: no report of partition {} (an offline bench?); \
             give every partition's report, or --allow-missing to merge an incomplete report",
            missing.join(", ")
        ));
    }
    let mut agreed = Vec::new();
    for name in ["firmware.id", "firmware.sha256", "fixtures.revision"] {
        if let Some(value) = one_value(&inputs, name)? {
            agreed.push((name, value));
        }
    }
    let cases = all_cases(&inputs)?;
    let joined = |name: &str| {
        let mut values: Vec<&str> = inputs.iter().filter_map(|i| i.property(name)).collect();
        values.sort();
        values.dedup();
        values.join(", ")
    };
    let benches = joined("bench");
    let mut suite = TestSuite::new(format!("seedrig ({benches})"));
    suite.add_property(("bench", benches.as_str()));
    suite.add_property(("partitions", joined("partition").as_str()));
    suite.add_property(("complete", if missing.is_empty() { "true" } else { "false" }));
    if !missing.is_empty() {
        suite.add_property(("missing", missing.join(", ").as_str()));
    }
    for (name, value) in &agreed {
        suite.add_property((*name, value.as_str()));
    }
    let versions = joined("seedrig.version");
    if !versions.is_empty() {
        suite.add_property(("seedrig.version", versions.as_str()));
    }
    let time: std::time::Duration = cases.iter().filter_map(|c| c.time).sum();
    suite.set_time(time);
    suite.add_test_cases(cases);
    let (tests, failures, errors, skipped) = (suite.tests, suite.failures, suite.errors, suite.skipped);
    let mut report = Report::new("seedrig");
    report.set_time(time);
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(|e| format!("writing the merged report: {e}"))?;
    Ok(Merged { xml, tests, failures, errors, skipped, missing })
}

fn read(file: &str, xml: &str) -> Result<Input, String> {
    let report = Report::deserialize_from_str(xml).map_err(|e| format!("{file}: not a JUnit report: {e}"))?;
    let mut input = Input { file: file.to_owned(), properties: Vec::new(), cases: Vec::new() };
    for suite in report.test_suites {
        let bench = suite.properties.iter().find(|p| p.name.as_str() == "bench").map(|p| p.value.clone());
        input.properties.extend(
            suite.properties.iter().map(|p| (p.name.as_str().to_owned(), p.value.as_str().to_owned())),
        );
        for mut case in suite.test_cases {
            // Reports of older versions name the bench on the suite only.
            if let Some(bench) = &bench
                && !case.properties.iter().any(|p| p.name.as_str() == "bench")
            {
                case.properties.push(Property::new("bench", bench.clone()));
            }
            input.cases.push(case);
        }
    }
    Ok(input)
}

/// The partitions of the inputs' scheme and N that no input ran, as `scheme:M/N`.
fn missing_partitions(inputs: &[Input]) -> Result<Vec<String>, String> {
    let mut parts: Vec<(&str, Partition)> = Vec::new();
    let mut whole: Vec<&str> = Vec::new();
    for input in inputs {
        match input.property("partition") {
            Some(text) => {
                let p = Partition::parse(text)
                    .map_err(|e| format!("{}: its partition property: {e}", input.file))?;
                parts.push((&input.file, p));
            }
            None => whole.push(&input.file),
        }
    }
    if let (Some(file), Some((other, p))) = (whole.first(), parts.first()) {
        return Err(format!("{file} ran the whole suite (no partition) but {other} ran partition {p}"));
    }
    if whole.len() > 1 {
        return Err(format!(
            "{} and {} both ran the whole suite (no partition): give one of them",
            whole[0], whole[1]
        ));
    }
    let Some((first_file, first)) = parts.first().copied() else { return Ok(Vec::new()) };
    for (file, p) in &parts {
        if p.scheme != first.scheme || p.total != first.total {
            return Err(format!(
                "{first_file} ran partition {first} but {file} ran {p}: partitions of one scheme and \
                 one N merge (the same --partition SCHEME:M/N on every bench, M = 1..N)"
            ));
        }
        if let Some((twice, _)) = parts.iter().find(|(f, q)| f != file && q.index == p.index) {
            return Err(format!("{file} and {twice} both ran partition {p}"));
        }
    }
    Ok((1..=first.total)
        .filter(|m| !parts.iter().any(|(_, p)| p.index == *m))
        .map(|m| format!("{}:{m}/{}", first.scheme.name(), first.total))
        .collect())
}

/// The one value the inputs give `name`, if any gives it; different values are refused.
fn one_value(inputs: &[Input], name: &str) -> Result<Option<String>, String> {
    let mut seen: Option<(&str, &str)> = None;
    for input in inputs {
        let Some(value) = input.property(name) else { continue };
        match seen {
            Some((file, v)) if v != value => {
                return Err(format!(
                    "{file} has {name} {v} but {} has {value}: the partitions tested different builds or \
                     fixtures and cannot make one report",
                    input.file
                ));
            }
            _ => seen = Some((&input.file, value)),
        }
    }
    Ok(seen.map(|(_, v)| v.to_owned()))
}

/// Every input's testcases, sorted by name; a name twice is refused.
fn all_cases(inputs: &[Input]) -> Result<Vec<TestCase>, String> {
    let mut cases: Vec<(&str, &TestCase)> = Vec::new();
    for input in inputs {
        for case in &input.cases {
            if let Some((other, _)) = cases.iter().find(|(_, c)| c.name == case.name) {
                return Err(format!(
                    "scenario {} is in both {other} and {}: the partitions overlap (or a report was given twice)",
                    case.name.as_str(),
                    input.file
                ));
            }
            cases.push((&input.file, case));
        }
    }
    cases.sort_by(|a, b| a.1.name.as_str().cmp(b.1.name.as_str()));
    Ok(cases.into_iter().map(|(_, c)| c.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Identity;
    use crate::run::retry::RetriedTry;
    use crate::run::{ScenarioResult, Verdict};
    use std::time::Duration;

    fn report_of(bench: &str, partition: &str, identity: &Identity, cases: &[(&str, Verdict)]) -> String {
        let results: Vec<ScenarioResult> = cases
            .iter()
            .map(|(id, v)| ScenarioResult::ended(id, v.clone(), Duration::from_millis(500)))
            .collect();
        crate::report::junit(bench, Some(partition), false, identity, &results).unwrap()
    }

    fn report(partition: &str, cases: &[(&str, Verdict)]) -> String {
        report_of("virtual", partition, &Identity::default(), cases)
    }

    fn inputs(reports: &[(&str, &String)]) -> Vec<(String, String)> {
        reports.iter().map(|(f, x)| ((*f).to_owned(), (*x).clone())).collect()
    }

    #[test]
    fn partitions_merge_into_one_sorted_report_whatever_the_input_order() {
        let a = report("count:1/2", &[("m-b", Verdict::Pass), ("m-d", Verdict::Error("bench".into()))]);
        let b = report("count:2/2", &[("m-a", Verdict::Pass), ("m-c", Verdict::Skipped("no slot".into()))]);
        let one = merge(&inputs(&[("a.xml", &a), ("b.xml", &b)]), false).unwrap();
        let other = merge(&inputs(&[("b.xml", &b), ("a.xml", &a)]), false).unwrap();
        assert_eq!(one.xml, other.xml);
        let xml = one.xml;
        let order: Vec<usize> = ["m-a", "m-b", "m-c", "m-d"]
            .iter()
            .map(|n| xml.find(&format!("name=\"{n}\"")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{xml}");
        assert!(xml.contains(r#"tests="4" skipped="1" errors="1" failures="0" time="2.000""#), "{xml}");
        assert!(xml.contains(r#"<property name="partitions" value="count:1/2, count:2/2"/>"#), "{xml}");
        assert!(xml.contains(r#"<property name="complete" value="true"/>"#), "{xml}");
        assert!(xml.contains("<skipped message=\"no slot\""), "{xml}");
        assert_eq!((one.tests, one.errors, one.skipped), (4, 1, 1));
    }

    #[test]
    fn an_incomplete_set_is_refused_naming_each_missing_partition_unless_allowed() {
        let one = report("time:1/3", &[("m-a", Verdict::Pass)]);
        let err = merge(&inputs(&[("one.xml", &one)]), false).unwrap_err();
        assert!(err.contains("no report of partition time:2/3, time:3/3"), "{err}");
        let merged = merge(&inputs(&[("one.xml", &one)]), true).unwrap();
        assert_eq!(merged.missing, ["time:2/3", "time:3/3"]);
        assert!(merged.xml.contains(r#"<property name="complete" value="false"/>"#), "{}", merged.xml);
        assert!(
            merged.xml.contains(r#"<property name="missing" value="time:2/3, time:3/3"/>"#),
            "{}",
            merged.xml
        );
    }

    #[test]
    fn mixed_schemes_twice_a_partition_and_overlaps_are_refused() {
        let a = report("hash:1/2", &[("m-a", Verdict::Pass)]);
        let b = report("time:2/2", &[("m-b", Verdict::Pass)]);
        let err = merge(&inputs(&[("a.xml", &a), ("b.xml", &b)]), true).unwrap_err();
        assert!(err.contains("a.xml ran partition hash:1/2 but b.xml ran time:2/2"), "{err}");
        let c = report("hash:1/2", &[("m-c", Verdict::Pass)]);
        let err = merge(&inputs(&[("a.xml", &a), ("c.xml", &c)]), true).unwrap_err();
        assert!(err.contains("both ran partition hash:1/2"), "{err}");
        let err = merge(&inputs(&[("a.xml", &a), ("again.xml", &a)]), true).unwrap_err();
        assert!(err.contains("both ran partition hash:1/2"), "{err}");
        let d = report("hash:2/2", &[("m-a", Verdict::Pass)]);
        let err = merge(&inputs(&[("a.xml", &a), ("d.xml", &d)]), false).unwrap_err();
        assert!(err.contains("scenario m-a is in both a.xml and d.xml"), "{err}");
        let err =
            merge(&[("x.xml".into(), "<testsuites><testcase></testsuites>".into())], false).unwrap_err();
        assert!(err.starts_with("x.xml: not a JUnit report"), "{err}");
    }

    #[test]
    fn each_testcase_keeps_its_bench_and_reruns_and_the_firmware_must_agree() {
        let v12 = Identity { firmware_id: Some("v1.2".into()), ..Identity::default() };
        let mut retried = ScenarioResult::ended("m-a", Verdict::Pass, Duration::from_millis(500));
        retried
            .retried
            .push(RetriedTry { reason: "reader vanished".into(), wall: Duration::from_millis(300) });
        let a = crate::report::junit("bench-1", Some("time:1/2"), false, &v12, &[retried]).unwrap();
        let b = report_of("bench-2", "time:2/2", &v12, &[("m-b", Verdict::Pass)]);
        let merged = merge(&inputs(&[("a.xml", &a), ("b.xml", &b)]), false).unwrap().xml;
        let case_a = &merged[merged.find("name=\"m-a\"").unwrap()..merged.find("name=\"m-b\"").unwrap()];
        assert!(case_a.contains(r#"<property name="bench" value="bench-1"/>"#), "{merged}");
        assert!(case_a.contains(r#"<flakyError time="0.300" message="reader vanished""#), "{merged}");
        assert!(merged.contains(r#"<property name="firmware.id" value="v1.2"/>"#), "{merged}");
        assert!(merged.contains(r#"<property name="bench" value="bench-1, bench-2"/>"#), "{merged}");
        let v13 = Identity { firmware_id: Some("v1.3".into()), ..Identity::default() };
        let c = report_of("bench-2", "time:2/2", &v13, &[("m-b", Verdict::Pass)]);
        let err = merge(&inputs(&[("a.xml", &a), ("c.xml", &c)]), false).unwrap_err();
        assert!(err.contains("a.xml has firmware.id v1.2 but c.xml has v1.3"), "{err}");
    }
}
