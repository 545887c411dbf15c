//! What `seedrig run` shows as it goes: one reporter owns the terminal, whether one bench runs
//! the scenarios or several `--jobs` workers do.
//!
//! A live progress line on stderr (on a terminal only): `[done/total] <scenarios under way> ...
//! about N s left`. Results go to stdout whole, as they come, never inside the progress line:
//! the line is cleared, the result printed, the line drawn again. A worker's log lines pass
//! through the same way.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use seedrig::model::{Catalog, Rig};
use seedrig::run::ScenarioResult;

use super::run::print_result;

/// What the loop of one bench (`run::run_each`) tells as it goes: the terminal's [`Reporter`],
/// or, in a `--jobs` worker, its parent (`jobs.rs`).
pub trait Sink {
    /// A run of scenario `id` begins.
    fn show(&mut self, id: &str);
    /// That run ended after `wall`.
    fn done(&mut self, id: &str, wall: Duration);
    /// The scenario is done, every run of it: its result.
    fn result(&mut self, result: &ScenarioResult);
}

/// The terminal: the progress line, results and passed-on log lines.
pub struct Reporter {
    on: bool,
    /// Benches running side by side (the time left is shared among them).
    benches: usize,
    total: usize,
    done: usize,
    /// Scenarios with a run under way, in the order they began.
    under_way: Vec<String>,
    /// Expected real time of one run, by scenario.
    expected: HashMap<String, Duration>,
    left: Duration,
    overhead: Duration,
    /// Whether the progress line is on the screen now.
    drawn: bool,
}

impl Reporter {
    /// `on`: draw the progress line (stderr is a terminal). The time left is the oracle's
    /// expected durations (scaled to real time) plus the overhead seen so far, shared among
    /// `benches`.
    pub fn new(
        catalog: &Catalog,
        rig: &Rig,
        ids: &[String],
        times: u32,
        on: bool,
        benches: usize,
    ) -> Reporter {
        let scale = seedrig::clock::TimeScale::new(rig.time_scale);
        let expected: HashMap<String, Duration> = ids
            .iter()
            .filter_map(|id| {
                let s = catalog.scenarios.get(id)?;
                Some((id.clone(), scale.ms(seedrig::method::expected_duration_ms(catalog, s))))
            })
            .collect();
        let left = expected.values().sum::<Duration>() * times;
        Reporter {
            on,
            benches: benches.max(1),
            total: ids.len() * times as usize,
            done: 0,
            under_way: Vec::new(),
            expected,
            left,
            overhead: Duration::ZERO,
            drawn: false,
        }
    }

    /// A line of a worker's stdout that is no report: passed on to ours, whole.
    pub fn output(&mut self, line: &str) {
        self.clear();
        let _ = std::io::stdout().lock().write_all(format!("{line}\n").as_bytes());
        let _ = std::io::stdout().flush();
        self.draw();
    }

    /// A log line (a worker's stderr), whole, on a line of its own.
    pub fn log(&mut self, line: &str) {
        self.clear();
        let _ = std::io::stderr().lock().write_all(format!("{line}\n").as_bytes());
        self.draw();
    }

    /// Takes the progress line off the screen (for good at the end of a run).
    pub fn clear(&mut self) {
        if self.drawn {
            let _ = std::io::stderr().lock().write_all(b"\r\x1b[K");
            self.drawn = false;
        }
    }

    fn draw(&mut self) {
        if !self.on || self.under_way.is_empty() {
            return;
        }
        let runs_left = self.total.saturating_sub(self.done);
        let per_run = if self.done == 0 { Duration::ZERO } else { self.overhead / self.done as u32 };
        let work = self.left + per_run * runs_left as u32;
        let eta = work / self.benches.min(runs_left).max(1) as u32;
        let mut names = String::new();
        for (i, id) in self.under_way.iter().enumerate() {
            if i == 3 {
                names.push_str(&format!(" +{} more", self.under_way.len() - 3));
                break;
            }
            names.push_str(if i == 0 { "" } else { ", " });
            names.push_str(id);
        }
        let line =
            format!("[{}/{}] {names} ... about {:.0} s left", self.done, self.total, eta.as_secs_f64());
        // Never longer than the terminal is wide: a wrapped line could not be cleared.
        let line: String = line.chars().take(terminal_width().saturating_sub(1)).collect();
        let _ = std::io::stderr().lock().write_all(format!("\r{line}\x1b[K").as_bytes());
        self.drawn = true;
    }
}

impl Sink for Reporter {
    fn show(&mut self, id: &str) {
        if !self.under_way.iter().any(|u| u == id) {
            self.under_way.push(id.to_owned());
        }
        self.draw();
    }

    fn done(&mut self, id: &str, wall: Duration) {
        let expected = self.expected.get(id).copied().unwrap_or_default();
        self.left = self.left.saturating_sub(expected);
        self.overhead += wall.saturating_sub(expected);
        self.done += 1;
        self.under_way.retain(|u| u != id);
        if self.under_way.is_empty() {
            self.clear();
        } else {
            self.draw();
        }
    }

    fn result(&mut self, result: &ScenarioResult) {
        self.under_way.retain(|u| *u != result.scenario);
        self.clear();
        print_result(result);
        let _ = std::io::stdout().flush();
        self.draw();
    }
}

/// Columns of the terminal on stderr (80 when it does not say).
fn terminal_width() -> usize {
    match rustix::termios::tcgetwinsize(std::io::stderr()) {
        Ok(size) if size.ws_col > 0 => usize::from(size.ws_col),
        _ => 80,
    }
}
