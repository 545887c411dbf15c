//! The timeline pages in a real browser: a failing scenario's page, opened from disk in headless
//! Chromium (no network), shows every lane (the attempts as the bench saw them against the
//! oracle's), marks the failing checks and names the sources that decided each, after its
//! script ran; it opens with the sentence naming the first divergence, sets the oracle's
//! ranking table beside the firmware's `rank` event and the order the bench saw, and links
//! the raw evidence beside it; a screenshot of it is kept for people to look at; the index
//! links every scenario's page, and sorts and filters them by a click or by its fragment; a
//! scenario that ended in ERROR (its DUT died) still draws its lanes.
//!
//! Needs Debian's `chromium` (ci/setup-debian.sh installs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{VIRTUAL_BENCH, made_once, seedrig, turn, wait_exit};

mod common;

const CHROMIUM: &str = "/usr/bin/chromium";
const FAILING: &str = "m5-third-ranked-wins";
const PASSING: &str = "master-connects";

fn chromium(profile: &Path, args: &[&str]) -> Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run ci/setup-debian.sh (as root, or with sudo) to install Debian's chromium"
    );
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read the pipes on threads so that a large DOM cannot block chromium.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).ok();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).ok();
        v
    });
    let Some(status) = wait_exit(&mut child, Duration::from_secs(90)) else {
        child.kill().ok();
        let status = child.wait().expect("chromium is reaped");
        let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
        panic!("chromium {args:?} did not finish within 90 s ({status}); stderr:\n{stderr}");
    };
    Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

/// The `--timelines` folder of one run of the failing scenario and a passing one, made once per
/// test run and shared by its tests, whether threads of one process or processes of their own.
fn timelines() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_once("timeline-html", |out| run_scenarios(&out.join("timelines"))).join("timelines")
    })
}

/// Runs the failing scenario and a passing one with `--timelines dir`; a bench that broke
/// (an ERROR, say on a loaded machine) is tried again, twice at most. One bench at a time: a
/// loaded machine is a loaded bench (its timing checks would judge the load).
fn run_scenarios(dir: &Path) {
    let _turn = turn(VIRTUAL_BENCH);
    let mut last = String::new();
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(dir);
        let o = seedrig()
            .args(["run", FAILING, PASSING, "--exact"])
            .args(["--firmware-fault", "wrong-order", "--timelines"])
            .arg(dir)
            .output()
            .expect("seedrig runs");
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        last = format!("stdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&o.stderr));
        if stdout.contains(&format!("ERROR  {FAILING}")) || stdout.contains(&format!("ERROR  {PASSING}")) {
            eprintln!("the bench broke, running again:\n{last}");
            continue;
        }
        assert_eq!(o.status.code(), Some(1), "{last}");
        assert!(stdout.contains(&format!("FAIL   {FAILING}")), "{last}");
        assert!(stdout.contains(&format!("PASS   {PASSING}")), "{last}");
        return;
    }
    panic!("the bench broke three times:\n{last}");
}

/// The start tag of the first element whose markup contains `needle`.
fn tag<'a>(dom: &'a str, needle: &str) -> &'a str {
    let at = dom.find(needle).unwrap_or_else(|| panic!("no `{needle}` in the DOM:\n{dom}"));
    let start = dom[..at].rfind('<').expect("a tag");
    let end = at + dom[at..].find('>').expect("tag end");
    &dom[start..=end]
}

#[test]
fn a_failing_scenarios_page_shows_every_lane_and_marks_the_failures_in_a_browser() {
    let dir = timelines();
    let out = dir.parent().expect("the output folder");
    let page = dir.join(format!("{FAILING}.html"));
    assert!(page.is_file(), "no page at {}", page.display());
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().expect("a profile folder");

    // The DOM after the page's script ran.
    let o = chromium(profile.path(), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    assert!(dom.contains("data-rendered=\"yes\""), "the page's script did not finish:\n{dom}");
    for lane in
        ["expected", "observed", "console", "slot-0", "slot-4", "slot-5", "observer", "network", "backend"]
    {
        assert!(dom.contains(&format!("data-lane=\"{lane}\"")), "no {lane} lane:\n{dom}");
    }
    // The oracle's attempts, with their judgement windows, against the bench's: each seen on
    // the card side, the wrong standby given up where the oracle expects another.
    assert!(dom.contains("s2 docomo-jp-1"), "{dom}");
    assert!(dom.contains("window for the judgement of vodafone-uk-1"), "{dom}");
    assert!(dom.contains("s4 claro-br-1") && dom.contains("bar failed wrong"), "{dom}");
    let wrong = tag(&dom, "class=\"bar failed wrong\"");
    assert!(wrong.contains("claro-br-1 (slot 4)") && wrong.contains("seen on the card side"), "{wrong}");
    assert!(wrong.contains("oracle: attempt 2 should be telekom-de-1 (slot 1)"), "{wrong}");
    // The details of the card side: an APDU's bytes, the ATR of the modem's reset.
    assert!(dom.contains("command: 00 A4 00 0C 02 3F 00") && dom.contains("response: 90 00"), "{dom}");
    assert!(dom.contains("card reset by the modem\nATR: 3B "), "{dom}");
    // Each check names the sources that decided it.
    assert!(dom.contains("<th>decided on</th>"), "{dom}");
    let report_row = tag(&dom, "data-check=\"report\"><td>");
    assert!(report_row.starts_with("<tr class=\"check fail\""), "{report_row}");
    assert!(dom.contains("(decided on: backend)"), "{dom}");
    // The failing checks: attempt_order where the wrong standby was tried, the winner at the
    // connect, the report at the backend; each laid out on the time axis by the script.
    for (check, on) in [("attempt_order", "observed"), ("winner", "console"), ("report", "backend")] {
        let marker = tag(&dom, &format!("class=\"check-fail\" data-check=\"{check}\" data-on=\"{on}\""));
        assert!(marker.contains("px"), "{check} marker not positioned: {marker}");
    }
    assert!(dom.contains("<tr class=\"check fail\" data-check=\"attempt_order\">"), "{dom}");
    // The axis (drawn by the script) shortens the 30 s wait on the silent standby.
    assert!(dom.contains("class=\"tick\"") && dom.contains("class=\"gaplbl\""), "{dom}");

    // At the top, where the run first left the expected path: the reversed firmware tried the
    // last-ranked claro-br-1 second, where the oracle expects telekom-de-1.
    let sentence = tag(&dom, "id=\"divergence\"");
    assert!(sentence.contains("class=\"divergence diverged\""), "{sentence}");
    assert!(
        dom.contains(
            "<span class=\"sentence\">the 2nd attempt went to claro-br-1 (index 0.000), the oracle expects \
             telekom-de-1 (1.000)</span>"
        ),
        "{dom}"
    );
    assert!(dom.find("id=\"divergence\"").unwrap() < dom.find("class=\"facts\"").unwrap(), "at the top");
    // The oracle's ranking table, by hand (London Heathrow, a = b = 0.5): signals telekom-de-1
    // -69, china-mobile-1 -77, telstra-au-1 and docomo-jp-1 -80, claro-br-1 none (-140): range
    // 71, so telstra-au-1's A1 = 60/71 = 0.845; tariffs 0.008, 0.028, 0.045, 0.07 (claro-br-1
    // none): telstra-au-1's B1 = (0.07 - 0.028)/0.062 = 0.677; index 0.5·0.845 + 0.5·0.677 =
    // 0.761, ranked 2nd after telekom-de-1 (A1 = B1 = 1, index 1.000).
    let row = |seed: &str| {
        let at =
            dom.find(&format!("data-seed=\"{seed}\">")).unwrap_or_else(|| panic!("no row {seed}:\n{dom}"));
        let start = dom[..at].rfind("<tr").unwrap();
        dom[start..at + dom[at..].find("</tr>").unwrap()].to_owned()
    };
    let telstra = row("telstra-au-1");
    assert!(
        telstra.contains(
            "<td class=\"num\">-80</td><td class=\"num\">0.845</td><td class=\"num\">0.0280</td>\
             <td class=\"num\">0.677</td><td class=\"num index\">0.761</td><td>reject(13)</td><td>3rd</td>"
        ),
        "{telstra}"
    );
    assert!(telstra.starts_with("<tr class=\"rank-row mismatch\""), "expected 3rd, never tried: {telstra}");
    // The firmware's own rank event agrees with the oracle (it ranks right, then tries the
    // standbys in reverse); the bench saw telekom-de-1 never tried, claro-br-1 tried 2nd.
    let telekom = row("telekom-de-1");
    assert!(telekom.starts_with("<tr class=\"rank-row mismatch\" data-slot=\"1\""), "{telekom}");
    assert!(
        telekom.contains("<td>1</td><td>standby</td>") && telekom.contains(">not tried</td>"),
        "{telekom}"
    );
    assert!(telekom.contains("<td class=\"num\" data-tip=\"the firmware's rank event: rank 1;"), "{telekom}");
    let claro = row("claro-br-1");
    assert!(claro.starts_with("<tr class=\"rank-row mismatch\""), "{claro}");
    assert!(claro.contains("<td>none usable</td><td class=\"num\">-140</td>"), "{claro}");
    assert!(claro.contains("the bench saw it as the 2nd\">2nd</td>"), "{claro}");
    assert!(row("vodafone-uk-1").starts_with("<tr class=\"rank-row\" data-slot=\"0\""), "the master first");
    assert!(dom.contains("the firmware's <code>rank</code> event (at "), "{dom}");
    // The raw evidence beside the page, linked relatively.
    for suffix in [".pcapng", ".console.log", ".observer.log", ".json"] {
        let link = tag(&dom, &format!("data-file=\"{suffix}\""));
        assert!(link.contains(&format!("href=\"{FAILING}{suffix}\"")), "{link}");
    }
    assert!(dir.join(format!("{FAILING}.json")).is_file());

    let shot = out.join(format!("{FAILING}.png"));
    let _ = std::fs::remove_file(&shot);
    let o = chromium(
        profile.path(),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1400,900", "--hide-scrollbars", &url],
    );
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG: {}", shot.display());
    assert!(png.len() > 30_000, "a {} byte screenshot is too plain to show the page", png.len());
    println!("screenshot: {}", shot.display());
    println!("pages: {}", dir.display());
}

#[test]
fn the_index_links_every_scenario_page_with_its_verdict() {
    let dir = timelines();
    let index = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    let mut scenarios: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
        .collect();
    scenarios.sort();
    assert_eq!(scenarios, [FAILING, PASSING], "one timeline per scenario run");
    for s in &scenarios {
        assert!(index.contains(&format!("<a href=\"{s}.html\">{s}</a>")), "no link to {s}:\n{index}");
        assert!(dir.join(format!("{s}.html")).is_file(), "{s}.html missing");
    }
    let row = |s: &str| {
        let at =
            index.find(&format!("<tr data-scenario=\"{s}\"")).unwrap_or_else(|| panic!("no row for {s}"));
        &index[at..at + index[at..].find("</tr>").unwrap()]
    };
    assert!(row(FAILING).contains(">FAIL</span>"), "{}", row(FAILING));
    assert!(row(FAILING).contains("failing: attempt_order, "), "{}", row(FAILING));
    for check in ["winner", "report"] {
        assert!(row(FAILING).contains(check), "{check} fails: {}", row(FAILING));
    }
    assert!(row(PASSING).contains(">PASS</span>"), "{}", row(PASSING));
    assert!(
        row(FAILING).contains("<div class=\"divergence-line\">the 2nd attempt went to claro-br-1"),
        "{}",
        row(FAILING)
    );
    // Every link on the index is to a page that exists, and no page fetches anything.
    for href in index.split("href=\"").skip(1).map(|h| &h[..h.find('"').unwrap()]) {
        assert!(dir.join(href).is_file(), "the index links to {href}, which is not there");
    }
    for s in &scenarios {
        let page = std::fs::read_to_string(dir.join(format!("{s}.html"))).unwrap();
        for external in ["src=\"http", "href=\"http", "url(http", "@import", "src=\"//"] {
            assert!(!page.contains(external) && !index.contains(external), "{s}: {external}");
        }
    }
}

/// A virtual rig whose DUT boots, then dies before the scenario is over.
fn dying_dut_rig(dir: &Path) -> PathBuf {
    let text = r#"kind = "virtual"
name = "dying-dut"
slots = 6
time_scale = 0.05

[dut]
command = ["sh", "-c", "echo 'hotspotd[1]: <0.000> boot: up'; sleep 2; exit 3", "{config}"]
boot_timeout_s = 5

[dut.console_events]
format = "patterns"

[[dut.console_events.patterns]]
event = "boot"
regex = '^hotspotd\[\d+\]: <\d+\.\d{3}> boot: '
"#;
    let path = dir.join("dying-dut.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_errored_scenarios_page_draws_its_lanes_in_a_browser() {
    let tmp = tempfile::tempdir().expect("a folder");
    let dir = tmp.path().join("timelines");
    let rig = dying_dut_rig(tmp.path());
    let o = {
        let _turn = turn(VIRTUAL_BENCH);
        seedrig()
            .args(["run", "master-reject", "--exact", "--rig"])
            .arg(&rig)
            .arg("--timelines")
            .arg(&dir)
            .output()
            .expect("seedrig runs")
    };
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stdout.contains("ERROR  master-reject"), "the DUT died: {stdout}");
    let page = dir.join("master-reject.html");
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().expect("a profile folder");
    let o = chromium(profile.path(), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    assert!(dom.contains("data-rendered=\"yes\""), "the page's script did not finish:\n{dom}");
    assert!(dom.contains("data-verdict=\"error\">ERROR"), "{dom}");
    assert!(dom.contains("<p class=\"reason\">the firmware"), "the reason is shown: {dom}");
    assert!(!dom.contains("No timeline"), "{dom}");
    for lane in ["expected", "observed", "console", "slot-0", "observer", "backend"] {
        assert!(dom.contains(&format!("data-lane=\"{lane}\"")), "no {lane} lane:\n{dom}");
    }
    // The oracle's bars are drawn, and the card side's items laid out by the script.
    assert!(dom.contains("s0 o2-de-1"), "{dom}");
    assert!(tag(&dom, "class=\"pt card\"").contains("px"), "{dom}");
}

/// The scenario rows of an index DOM, in their order: (scenario, hidden).
fn index_rows(dom: &str) -> Vec<(String, bool)> {
    dom.split("<tr data-scenario=\"")
        .skip(1)
        .map(|r| {
            let name = r[..r.find('"').unwrap()].to_owned();
            let start_tag = &r[..r.find('>').unwrap()];
            (name, start_tag.contains(" hidden"))
        })
        .collect()
}

#[test]
fn the_index_filters_and_sorts_by_its_fragment_in_a_browser() {
    let dir = timelines();
    let index = dir.join("index.html").canonicalize().unwrap();
    let profile = tempfile::tempdir().expect("a profile folder");
    let dump = |fragment: &str| {
        let url = format!("file://{}{fragment}", index.display());
        let o = chromium(profile.path(), &["--dump-dom", &url]);
        assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
        let dom = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(dom.contains("data-rendered=\"yes\""), "the script did not finish:\n{dom}");
        dom
    };
    let row = |name: &str, hidden: bool| (name.to_owned(), hidden);

    // No fragment: both rows shown, in run order; the filter (shown by the script) counts them.
    let dom = dump("");
    assert_eq!(index_rows(&dom), [row(FAILING, false), row(PASSING, false)], "{dom}");
    assert!(!dom.contains("id=\"index-controls\" hidden"), "the script shows the filter: {dom}");
    assert!(dom.contains("<span class=\"count\" data-status=\"fail\">(1)</span>"), "{dom}");
    assert!(dom.contains("showing 2 of 2"), "{dom}");

    // Failures only: the passing row is hidden and its box unchecked.
    let dom = dump("#status=fail");
    assert_eq!(index_rows(&dom), [row(FAILING, false), row(PASSING, true)], "{dom}");
    assert!(dom.contains("value=\"pass\">") && !dom.contains("value=\"pass\" checked"), "{dom}");
    assert!(dom.contains("data-shown=\"1\"") && dom.contains("showing 1 of 2"), "{dom}");

    // Sorted: by nominal length (the pass is shorter), by name reversed, by verdict reversed.
    let dom = dump("#sort=nominal");
    assert_eq!(index_rows(&dom), [row(PASSING, false), row(FAILING, false)], "{dom}");
    assert!(tag(&dom, "data-sort=\"nominal\"").contains("aria-sort=\"ascending\""), "{dom}");
    let dom = dump("#sort=-name");
    assert_eq!(index_rows(&dom), [row(PASSING, false), row(FAILING, false)], "{dom}");
    let dom = dump("#status=pass,fail&sort=-verdict");
    assert_eq!(index_rows(&dom), [row(PASSING, false), row(FAILING, false)], "{dom}");
    assert!(tag(&dom, "data-sort=\"verdict\"").contains("aria-sort=\"descending\""), "{dom}");
}

#[test]
fn the_index_sorts_and_filters_on_a_click_in_a_browser() {
    // A page beside the index loads it in a frame, clicks as a person would, and writes what
    // the index showed after each click into its own DOM.
    let dir = timelines();
    let out = dir.parent().expect("the output folder");
    let harness = out.join("click-index.html");
    std::fs::write(
        &harness,
        r##"<!DOCTYPE html><html><body><pre id="log"></pre>
<iframe id="f" src="timelines/index.html"></iframe>
<script>
var log = document.getElementById("log");
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument;
  function seen(what) {
    var rows = Array.prototype.map.call(d.querySelectorAll("#index tbody tr"), function (r) {
      return r.getAttribute("data-scenario") + (r.hidden ? "(hidden)" : "");
    });
    log.textContent += what + ": " + rows.join(" ") + "\n";
  }
  seen("start");
  d.querySelector('th[data-sort="nominal"] button').click();
  seen("nominal");
  d.querySelector('th[data-sort="nominal"] button').click();
  seen("nominal again");
  d.querySelector('input[name="status"][value="pass"]').click();
  seen("no pass");
  log.textContent += "fragment: " + this.contentWindow.location.hash + "\n";
  document.documentElement.setAttribute("data-done", "yes");
});
</script></body></html>"##,
    )
    .unwrap();
    let url = format!("file://{}", harness.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().expect("a profile folder");
    let o = chromium(
        profile.path(),
        &["--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom", &url],
    );
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(dom.contains("data-done=\"yes\""), "the clicks did not run:\n{dom}");
    for line in [
        format!("start: {FAILING} {PASSING}"),
        format!("nominal: {PASSING} {FAILING}"),
        format!("nominal again: {FAILING} {PASSING}"),
        format!("no pass: {FAILING} {PASSING}(hidden)"),
        "fragment: #status=fail,error,skip&amp;sort=-nominal".to_owned(),
    ] {
        assert!(dom.contains(&line), "no `{line}` in:\n{dom}");
    }
}
