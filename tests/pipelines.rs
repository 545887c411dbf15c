//! The CI templates in ci/github and ci/gitlab, kept from rotting: both are parsed as YAML, and
//! the exact shell lines of their steps run — in a checkout-like folder, on virtual benches
//! named like lab benches, with a stand-in for the firmware hand-over — for every bench job and
//! the merge of their reports.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")).remove(0)
}

/// A checkout of the rig's repository as a bench job sees it: three scenarios (to keep the
/// test short), two benches named bench-1 and bench-2 (virtual ones), and seedrig built.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for kind in ["carriers", "seeds", "sites"] {
        std::fs::create_dir_all(d.join("fixtures")).unwrap();
        std::os::unix::fs::symlink(root().join("fixtures").join(kind), d.join("fixtures").join(kind))
            .unwrap();
    }
    std::fs::create_dir_all(d.join("fixtures/scenarios")).unwrap();
    for s in ["master-connects", "master-reject", "weights-tariff"] {
        std::fs::copy(
            root().join(format!("fixtures/scenarios/{s}.toml")),
            d.join(format!("fixtures/scenarios/{s}.toml")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(d.join("rig")).unwrap();
    let virtual_rig = std::fs::read_to_string(root().join("rig/virtual.toml")).unwrap();
    for bench in ["bench-1", "bench-2"] {
        let rig = virtual_rig.replace("name = \"virtual\"", &format!("name = \"{bench}\""));
        std::fs::write(d.join(format!("rig/{bench}.toml")), rig).unwrap();
    }
    std::os::unix::fs::symlink(root().join("ci"), d.join("ci")).unwrap();
    std::fs::create_dir_all(d.join("target/release")).unwrap();
    for bin in [env!("CARGO_BIN_EXE_seedrig"), env!("CARGO_BIN_EXE_seedrig-firmware")] {
        let name = Path::new(bin).file_name().unwrap();
        std::os::unix::fs::symlink(bin, d.join("target/release").join(name)).unwrap();
    }
    std::fs::write(d.join("firmware-build.bin"), b"stand-in for the firmware build under test").unwrap();
    dir
}

/// Runs one step's shell line the way a runner does (`sh -e`), with `env`.
fn sh(dir: &Path, line: &str, env: &BTreeMap<String, String>) {
    let out = Command::new("sh").arg("-ec").arg(line).current_dir(dir).envs(env).output().unwrap();
    assert!(
        out.status.success(),
        "step failed: {line}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn text(y: &Yaml) -> String {
    y.as_str().map(str::to_owned).unwrap_or_else(|| panic!("not a string: {y:?}"))
}

#[test]
fn github_actions_bench_jobs_and_the_merge_run_as_written() {
    let doc = load("ci/github/seedrig.yml");
    assert!(doc["on"]["push"]["tags"].as_vec().is_some(), "runs on tags only");
    let bench = &doc["jobs"]["bench"];
    let dir = checkout();
    let mut reports = Vec::new();
    for entry in bench["strategy"]["matrix"]["include"].as_vec().unwrap() {
        let (name, partition) = (text(&entry["bench"]), text(&entry["partition"]));
        let runs_on: Vec<String> = bench["runs-on"].as_vec().unwrap().iter().map(text).collect();
        assert_eq!(runs_on, ["self-hosted", "${{ matrix.bench }}"]);
        let expand = |s: &str| {
            s.replace("${{ matrix.bench }}", &name)
                .replace("${{ matrix.partition }}", &partition)
                .replace("${{ github.ref_name }}", "v1.2.3")
        };
        let github_env = dir.path().join(format!("github-env-{name}"));
        std::fs::write(&github_env, "").unwrap();
        let mut env: BTreeMap<String, String> =
            bench["env"].as_hash().unwrap().iter().map(|(k, v)| (text(k), expand(&text(v)))).collect();
        env.insert("GITHUB_ENV".into(), github_env.display().to_string());
        env.insert("FIRMWARE_SOURCE".into(), dir.path().join("firmware-build.bin").display().to_string());
        for step in bench["steps"].as_vec().unwrap() {
            let Some(line) = step["run"].as_str() else { continue };
            sh(dir.path(), &expand(line), &env);
            // What a step appends to $GITHUB_ENV is in the environment of the next ones.
            for kv in std::fs::read_to_string(&github_env).unwrap().lines() {
                if let Some((k, v)) = kv.split_once('=') {
                    env.insert(k.into(), v.into());
                }
            }
        }
        assert!(
            env.get("FIRMWARE_IMAGE").is_some_and(|p| Path::new(p).is_file()),
            "the build was handed over"
        );
        let report = dir.path().join(format!("report-{name}.xml"));
        let xml = std::fs::read_to_string(&report).unwrap();
        assert!(xml.contains(&format!("value=\"{partition}\"")), "{xml}");
        assert!(dir.path().join("timelines").is_dir());
        reports.push(report);
    }
    // The report job finds each bench's artifact in its own folder.
    for (i, report) in reports.iter().enumerate() {
        let folder = dir.path().join(format!("reports/seedrig-bench-{}", i + 1));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(report, folder.join(report.file_name().unwrap())).unwrap();
    }
    for step in doc["jobs"]["report"]["steps"].as_vec().unwrap() {
        if let Some(line) = step["run"].as_str() {
            sh(dir.path(), line, &BTreeMap::new());
        }
    }
    let merged = std::fs::read_to_string(dir.path().join("seedrig.xml")).unwrap();
    assert_eq!(merged.matches("<testcase ").count(), 3, "{merged}");
}

#[test]
fn gitlab_bench_jobs_and_the_merge_run_as_written() {
    let doc = load("ci/gitlab/seedrig.gitlab-ci.yml");
    let template = &doc[".bench"];
    assert_eq!(text(&template["rules"][0]["if"]), "$CI_COMMIT_TAG", "runs on tags only");
    let dir = checkout();
    for job in ["bench-1", "bench-2"] {
        let job = &doc[job];
        assert_eq!(text(&job["extends"]), ".bench");
        let mut env: BTreeMap<String, String> =
            job["variables"].as_hash().unwrap().iter().map(|(k, v)| (text(k), text(v))).collect();
        assert_eq!(
            job["tags"][0].as_str(),
            env.get("BENCH").map(String::as_str),
            "runner tagged with the bench"
        );
        env.insert("CI_COMMIT_TAG".into(), "v1.2.3".into());
        env.insert("FIRMWARE_TAG".into(), "v1.2.3".into());
        env.insert("FIRMWARE_SOURCE".into(), dir.path().join("firmware-build.bin").display().to_string());
        // A job's script is one shell session: run its lines together.
        let script: Vec<String> = template["script"].as_vec().unwrap().iter().map(text).collect();
        sh(dir.path(), &script.join("\n"), &env);
    }
    let merge: Vec<String> = doc["merge-reports"]["script"].as_vec().unwrap().iter().map(text).collect();
    sh(dir.path(), &merge.join("\n"), &BTreeMap::new());
    let merged = std::fs::read_to_string(dir.path().join("seedrig.xml")).unwrap();
    assert_eq!(merged.matches("<testcase ").count(), 3, "{merged}");
    assert!(merged.contains("hash:1/2, hash:2/2"), "{merged}");
}
