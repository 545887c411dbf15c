//! `seedrig junit merge`: one JUnit report from the reports of several partitions of a suite
//! (several benches, `--partition`), deterministic whatever order the inputs come in: every
//! testcase copied as it was written, sorted by name, the counts and times summed again, and the
//! partitions named in a property.

use quick_xml::Reader;
use quick_xml::events::Event;

/// One testcase as found in an input.
struct Case {
    name: String,
    raw: String,
    time: f64,
    outcome: Outcome,
    from: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Pass,
    Failure,
    Error,
    Skipped,
}

/// Merges `(file name, JUnit XML)` inputs into one report.
pub fn merge(inputs: &[(String, String)]) -> Result<String, String> {
    let mut cases: Vec<Case> = Vec::new();
    let mut partitions: Vec<String> = Vec::new();
    let mut benches: Vec<String> = Vec::new();
    for (file, xml) in inputs {
        let found = read(file, xml)?;
        partitions.extend(found.properties.iter().filter(|(k, _)| k == "partition").map(|(_, v)| v.clone()));
        benches.extend(found.properties.iter().filter(|(k, _)| k == "bench").map(|(_, v)| v.clone()));
        for case in found.cases {
            if let Some(other) = cases.iter().find(|c| c.name == case.name) {
                return Err(format!(
                    "scenario {} is in both {} and {}: the partitions overlap (or a report was given twice)",
                    case.name, other.from, case.from
                ));
            }
            cases.push(case);
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    partitions.sort();
    partitions.dedup();
    benches.sort();
    benches.dedup();
    let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
    let time: f64 = cases.iter().map(|c| c.time).sum();
    let (failures, errors, skipped) =
        (count(Outcome::Failure), count(Outcome::Error), count(Outcome::Skipped));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"seedrig\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n",
        cases.len()
    ));
    out.push_str(&format!(
        "    <testsuite name=\"seedrig ({})\" tests=\"{}\" disabled=\"0\" errors=\"{errors}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time:.3}\">\n        <properties>\n",
        escape(&benches.join(", ")),
        cases.len()
    ));
    for (key, value) in [("bench", benches.join(", ")), ("partitions", partitions.join(", "))] {
        out.push_str(&format!("            <property name=\"{key}\" value=\"{}\"/>\n", escape(&value)));
    }
    out.push_str("        </properties>\n");
    for case in &cases {
        out.push_str("        ");
        out.push_str(case.raw.trim());
        out.push('\n');
    }
    out.push_str("    </testsuite>\n</testsuites>\n");
    Ok(out)
}

struct Found {
    cases: Vec<Case>,
    properties: Vec<(String, String)>,
}

fn read(file: &str, xml: &str) -> Result<Found, String> {
    let bad = |e: &dyn std::fmt::Display| format!("{file}: not a JUnit report: {e}");
    let mut reader = Reader::from_str(xml);
    let mut found = Found { cases: Vec::new(), properties: Vec::new() };
    let mut in_case: Option<(usize, String, f64, Outcome)> = None;
    let mut in_suite_properties = false;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| bad(&e))?;
        let after = reader.buffer_position() as usize;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" && in_case.is_none() => {
                let name = attribute(&e, "name").ok_or_else(|| bad(&"a testcase without a name"))?;
                let time = attribute(&e, "time").and_then(|t| t.parse().ok()).unwrap_or(0.0);
                if xml[before..after].ends_with("/>") {
                    found.cases.push(Case {
                        name,
                        raw: xml[before..after].to_owned(),
                        time,
                        outcome: Outcome::Pass,
                        from: file.to_owned(),
                    });
                } else {
                    in_case = Some((before, name, time, Outcome::Pass));
                }
            }
            Event::Start(e) | Event::Empty(e) if in_case.is_some() => {
                let outcome = match e.name().as_ref() {
                    b"failure" => Some(Outcome::Failure),
                    b"error" => Some(Outcome::Error),
                    b"skipped" => Some(Outcome::Skipped),
                    _ => None,
                };
                if let (Some(o), Some(case)) = (outcome, in_case.as_mut()) {
                    case.3 = o;
                }
            }
            Event::End(e) if e.name().as_ref() == b"testcase" => {
                let (start, name, time, outcome) =
                    in_case.take().ok_or_else(|| bad(&"a stray </testcase>"))?;
                found.cases.push(Case {
                    name,
                    raw: xml[start..after].to_owned(),
                    time,
                    outcome,
                    from: file.to_owned(),
                });
            }
            Event::Start(e) if e.name().as_ref() == b"properties" && in_case.is_none() => {
                in_suite_properties = true
            }
            Event::End(e) if e.name().as_ref() == b"properties" => in_suite_properties = false,
            Event::Empty(e) if e.name().as_ref() == b"property" && in_suite_properties => {
                if let (Some(k), Some(v)) = (attribute(&e, "name"), attribute(&e, "value")) {
                    found.properties.push((k, v));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if in_case.is_some() {
        return Err(bad(&"it ends inside a testcase"));
    }
    Ok(found)
}

fn attribute(e: &quick_xml::events::BytesStart, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key.as_bytes())
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Explicit1_0).ok().map(|v| v.into_owned()))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{ScenarioResult, Verdict};
    use std::time::Duration;

    fn report(partition: &str, cases: &[(&str, Verdict)]) -> String {
        let results: Vec<ScenarioResult> = cases
            .iter()
            .map(|(id, v)| ScenarioResult::ended(id, v.clone(), Duration::from_millis(500)))
            .collect();
        crate::report::junit("virtual", Some(partition), false, &results).unwrap()
    }

    #[test]
    fn partitions_merge_into_one_sorted_report_whatever_the_input_order() {
        let a = report("count:1/2", &[("m-b", Verdict::Pass), ("m-d", Verdict::Error("bench".into()))]);
        let b = report("count:2/2", &[("m-a", Verdict::Pass), ("m-c", Verdict::Skipped("no slot".into()))]);
        let one = merge(&[("a.xml".into(), a.clone()), ("b.xml".into(), b.clone())]).unwrap();
        let other = merge(&[("b.xml".into(), b), ("a.xml".into(), a)]).unwrap();
        assert_eq!(one, other);
        let order: Vec<usize> = ["m-a", "m-b", "m-c", "m-d"]
            .iter()
            .map(|n| one.find(&format!("name=\"{n}\"")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{one}");
        assert!(
            one.contains(r#"tests="4" disabled="0" errors="1" failures="0" skipped="1" time="2.000""#),
            "{one}"
        );
        assert!(one.contains(r#"<property name="partitions" value="count:1/2, count:2/2"/>"#), "{one}");
        assert!(one.contains("<skipped message=\"no slot\""), "{one}");
    }

    #[test]
    fn overlapping_partitions_and_non_reports_are_refused() {
        let a = report("hash:1/2", &[("m-a", Verdict::Pass)]);
        let err = merge(&[("a.xml".into(), a.clone()), ("again.xml".into(), a)]).unwrap_err();
        assert!(err.contains("scenario m-a is in both a.xml and again.xml"), "{err}");
        let err = merge(&[("x.xml".into(), "<testsuites><testcase></testsuites>".into())]).unwrap_err();
        assert!(err.starts_with("x.xml: not a JUnit report"), "{err}");
    }
}
