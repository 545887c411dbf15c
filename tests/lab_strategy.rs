//! Which DUT hooks run when (docs/lab-bench.md, "Which DUT hooks run when"), end to end on the
//! emulated lab: `seedrig sim lab --power-delay-s S --strategy when-needed` writes a rig file
//! whose `power` hook power-cycles its DUT; here every DUT hook goes through a wrapper that
//! records each call in a file, and the runs read that record.
//!
//! The labs take turns, across test processes too (each is a whole world on a 2-core machine):
//! [`common::Lab`] holds the `emulated-lab` turn while it is up.

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{copy_tree, root, seedrig_in};
use seedrig::run::{ScenarioResult, Verdict};

mod common;

/// The starter fixtures, plus `master-connects-again` (the same firmware configuration as
/// master-connects) and weights-tariff asking for a cold start.
fn fixtures(dir: &Path) -> PathBuf {
    let fixtures = dir.join("fixtures");
    copy_tree(&root().join("fixtures"), &fixtures);
    let scenarios = fixtures.join("scenarios");
    std::fs::copy(scenarios.join("master-connects.toml"), scenarios.join("master-connects-again.toml"))
        .unwrap();
    let tariff = scenarios.join("weights-tariff.toml");
    let text = std::fs::read_to_string(&tariff).unwrap();
    std::fs::write(&tariff, format!("cold_start = true\n{text}")).unwrap();
    fixtures
}

/// An emulated lab on fixtures of its own (`fixtures`), whose DUT hooks a rig file can record.
struct Lab {
    lab: common::Lab,
    fixtures: PathBuf,
    /// The rig file the lab wrote.
    written: String,
}

impl Lab {
    fn up(flags: &[&str]) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = fixtures(dir.path());
        let lab = common::Lab::up_in(dir, &fixtures, flags);
        let written = lab.text();
        // Every DUT hook's call is recorded, by the hook's name, then run (or, as `noop` says,
        // the Nth call of one hook does nothing and succeeds: a relay that did not click).
        let record = lab.dir.path().join("record.sh");
        std::fs::write(
            &record,
            "#!/bin/sh\nname=$1; log=$2; shift 2\necho \"$name\" >> \"$log\"\n\
             n=$(grep -c \"^$name\\$\" \"$log\")\n\
             [ \"$name:$n\" = \"$(cat \"$log.noop\" 2>/dev/null)\" ] && exit 0\nexec \"$@\"\n",
        )
        .unwrap();
        let mut perms = std::fs::metadata(&record).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&record, perms).unwrap();
        Lab { lab, fixtures, written }
    }

    fn dir(&self) -> &Path {
        self.lab.dir.path()
    }

    fn log(&self) -> PathBuf {
        self.dir().join("hooks.log")
    }

    /// The lab's rig file with every DUT hook recorded, `edit` applied; written beside it.
    fn rig(&self, edit: impl Fn(String) -> String) -> PathBuf {
        let record = self.dir().join("record.sh");
        let mut text = String::new();
        for line in self.written.lines() {
            let hook = ["power", "configure", "reset"]
                .into_iter()
                .find(|h| line.starts_with(&format!("{h} = {{ run = [")));
            match hook {
                Some(h) => text.push_str(&line.replacen(
                    "run = [",
                    &format!("run = [\"{}\", \"{h}\", \"{}\", ", record.display(), self.log().display()),
                    1,
                )),
                None => text.push_str(line),
            }
            text.push('\n');
        }
        let path = self.dir().join("recorded.toml");
        std::fs::write(&path, edit(text)).unwrap();
        path
    }

    /// Runs scenarios on the lab through `rig`: the output, the results, and the hooks called.
    fn run(&self, rig: &Path, args: &[&str]) -> (Output, Vec<ScenarioResult>, Vec<String>) {
        let _ = std::fs::remove_file(self.log());
        let results = self.dir().join("results.json");
        let _ = std::fs::remove_file(&results);
        let output = seedrig_in(root())
            .arg("--fixtures")
            .arg(&self.fixtures)
            .args(["run", "--rig"])
            .arg(rig)
            .arg("--results-json")
            .arg(&results)
            .args(args)
            .env("RUST_LOG", "seedrig::bench::lab_driver=info")
            .output()
            .unwrap();
        let parsed =
            serde_json::from_str(&std::fs::read_to_string(&results).unwrap_or_default()).unwrap_or_default();
        let calls =
            std::fs::read_to_string(self.log()).unwrap_or_default().lines().map(str::to_owned).collect();
        (output, parsed, calls)
    }
}

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn verdicts(results: &[ScenarioResult]) -> Vec<(&str, &Verdict)> {
    results.iter().map(|r| (r.scenario.as_str(), &r.verdict)).collect()
}

/// Power when needed, configure when changed, reset every scenario: the first scenario powers,
/// the same configuration again is not configured, a scenario that ended in ERROR (its DUT
/// never booted) makes the next one power again, and so does a `cold_start` scenario. The
/// log counts the power cycles.
#[test]
fn when_needed_powers_only_first_after_an_error_and_for_a_cold_start() {
    let lab = Lab::up(&["--power-delay-s", "0.2", "--strategy", "when-needed"]);
    assert!(
        lab.written.contains("power-cycle\"], timeout_s = 30, when = \"when-needed\" }"),
        "{}",
        lab.written
    );
    assert!(lab.written.contains("when = \"when-changed\""), "{}", lab.written);
    // The DUT is told to restart but does not (the 3rd reset): no boot line, an ERROR.
    let rig = lab.rig(|t| t.replace("boot_timeout_s = 10", "boot_timeout_s = 3"));
    std::fs::write(lab.log().with_extension("log.noop"), "reset:3").unwrap();
    let scenarios =
        ["master-connects", "master-connects-again", "master-reject", "weights-signal", "weights-tariff"];
    let mut args = vec!["--exact"];
    args.extend(scenarios);
    let (output, results, calls) = lab.run(&rig, &args);
    let out = text(&output);
    let got = verdicts(&results);
    assert_eq!(got.iter().map(|(s, _)| *s).collect::<Vec<_>>(), scenarios, "{out}");
    let Verdict::Error(why) = got[2].1 else { panic!("master-reject: {out}") };
    assert!(why.contains("no `boot`"), "{why}");
    for (scenario, verdict) in [got[0], got[1], got[3], got[4]] {
        assert_eq!(*verdict, Verdict::Pass, "{scenario}: {out}");
    }
    assert_eq!(
        calls,
        [
            "power",
            "configure",
            "reset", // master-connects: the run's first scenario
            "reset", // master-connects-again: the same configuration
            "configure",
            "reset", // master-reject: another configuration; its DUT never boots
            "power",
            "configure",
            "reset", // weights-signal: after the ERROR
            "power",
            "configure",
            "reset", // weights-tariff: cold_start = true
        ],
        "{out}"
    );
    // The log says what ran, and counts it.
    assert_eq!(out.matches("dut.power ran in").count(), 3, "{out}");
    assert_eq!(out.matches("dut.configure skipped (when = \"when-changed\")").count(), 1, "{out}");
    assert!(
        out.contains("DUT hooks over 5 scenarios: dut.power ran 3, dut.configure 4, dut.reset 5"),
        "{out}"
    );
}

/// Without `when` (today's rig files), every hook runs before every scenario.
#[test]
fn every_scenario_stays_the_default() {
    let lab = Lab::up(&["--power-delay-s", "0"]);
    assert!(!lab.written.contains("when ="), "{}", lab.written);
    let rig = lab.rig(|t| t);
    let (output, results, calls) = lab.run(&rig, &["--exact", "master-connects", "master-connects-again"]);
    let out = text(&output);
    assert!(results.iter().all(|r| r.verdict == Verdict::Pass), "{out}");
    assert_eq!(calls, ["power", "configure", "reset", "power", "configure", "reset"], "{out}");
}

/// Nothing to do for the same configuration when reset runs only when needed: the rig sends
/// `reset` on the DUT's console instead, and the fresh boot line starts the scenario.
#[test]
fn with_no_hook_to_run_the_console_resets_the_firmware() {
    let lab = Lab::up(&["--power-delay-s", "0", "--strategy", "when-needed"]);
    let rig = lab.rig(|t| {
        t.replace("\"restart\"], timeout_s = 10 }", "\"restart\"], timeout_s = 10, when = \"when-needed\" }")
    });
    let (output, results, calls) = lab.run(&rig, &["--exact", "master-connects", "master-connects-again"]);
    let out = text(&output);
    assert!(results.iter().all(|r| r.verdict == Verdict::Pass), "{out}");
    assert_eq!(calls, ["power", "configure", "reset"], "{out}");
    assert!(out.contains("`reset` on its console"), "{out}");
}
