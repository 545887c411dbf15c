//! Which DUT hooks run before a scenario: the rig takes the DUT from the state it is in to the
//! state the scenario needs (as labgrid's strategies do), rather than power-cycling it every
//! time. The rig file's `when` of each DUT hook says how ([`DutWhen`]); docs/lab-bench.md,
//! "Which DUT hooks run when", states the rules this module implements.
//!
//! What the rig knows of the DUT between scenarios is a [`DutState`]:
//!
//! - `Unknown` at the start of a run, while the hooks of a scenario run (until every one of
//!   them succeeded), after a DUT hook failed, and after a scenario that ended in ERROR (the
//!   bench broke: whatever the DUT is doing now, nobody knows);
//! - `Ready`, with the firmware configuration the DUT last took, once every hook a scenario
//!   needed succeeded, for as long as no scenario ends in ERROR.
//!
//! Before a scenario, in the fixed order power → configure → reset → start, a hook the rig file
//! has runs when its `when` says:
//!
//! - `every-scenario` (the default): always;
//! - `when-needed` (power, reset, start): the state is `Unknown`, the scenario has
//!   `cold_start = true`, or a DUT hook before it runs for this scenario;
//! - `when-changed` (configure): the state is `Unknown`, the scenario has `cold_start = true`,
//!   `power` runs for this scenario, or the configuration differs from the one the DUT took.
//!
//! If the rig file has a power, reset or start hook and none of them runs, nothing restarts the
//! firmware: the rig sends `reset` on the DUT's console for a fresh `boot` line (the console's
//! `reset` command ends the firmware's session; it prints `boot` and waits for `start`).

use crate::model::{Dut, DutWhen, When};

/// What the rig knows of the DUT between scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DutState {
    /// Nothing: the run's first scenario, after an ERROR, after a DUT hook failed.
    #[default]
    Unknown,
    /// Every hook the last scenario needed succeeded and no scenario ended in ERROR since.
    Ready {
        /// The firmware configuration the DUT last took (`None`: no configure hook).
        config: Option<String>,
    },
}

/// Which DUT hooks the rig file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hooks {
    pub power: bool,
    pub configure: bool,
    pub reset: bool,
    pub start: bool,
}

impl Hooks {
    pub fn of(dut: &Dut) -> Hooks {
        Hooks {
            power: dut.power.is_some(),
            configure: dut.configure.is_some(),
            reset: dut.reset.is_some(),
            start: dut.start.is_some(),
        }
    }
}

/// What happens to the DUT before one scenario, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub power: bool,
    pub configure: bool,
    pub reset: bool,
    pub start: bool,
    /// No hook that restarts the firmware runs: `reset` goes to the console instead.
    pub console_reset: bool,
    /// Why the DUT is brought up from scratch (every hook runs), if it is.
    pub cold: Option<&'static str>,
}

impl Plan {
    /// The hooks that run, by their rig file names, in order.
    pub fn hooks(&self) -> Vec<&'static str> {
        [
            (self.power, "dut.power"),
            (self.configure, "dut.configure"),
            (self.reset, "dut.reset"),
            (self.start, "dut.start"),
        ]
        .into_iter()
        .filter_map(|(runs, name)| runs.then_some(name))
        .collect()
    }
}

/// The DUT's state across a run, and how many times each hook ran.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    state: DutState,
    /// Runs of power, configure, reset, start, and console resets, over the run.
    pub counts: Counts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub scenarios: u32,
    pub power: u32,
    pub configure: u32,
    pub reset: u32,
    pub start: u32,
    pub console_reset: u32,
}

impl Tracker {
    pub fn state(&self) -> &DutState {
        &self.state
    }

    /// Which hooks run before a scenario whose firmware configuration is `config`.
    pub fn plan(&self, when: &DutWhen, have: Hooks, config: &str, cold_start: bool) -> Plan {
        let cold = match (&self.state, cold_start) {
            (_, true) => Some("the scenario asks for a cold start"),
            (DutState::Unknown, _) if self.counts.scenarios == 0 => Some("the run's first scenario"),
            (DutState::Unknown, _) => {
                Some("the DUT's state is unknown (a scenario ended in ERROR or a hook failed)")
            }
            (DutState::Ready { .. }, false) => None,
        };
        let fresh = cold.is_some();
        let needed = |w: When, before: bool| w == When::EveryScenario || fresh || before;
        let power = have.power && needed(when.power, false);
        let changed = match &self.state {
            DutState::Ready { config: Some(last) } => last != config,
            _ => true,
        };
        let configure = have.configure && needed(when.configure, power || changed);
        let reset = have.reset && needed(when.reset, power || configure);
        let start = have.start && needed(when.start, power || configure || reset);
        let console_reset = (have.power || have.reset || have.start) && !(power || reset || start);
        Plan { power, configure, reset, start, console_reset, cold }
    }

    /// The plan's hooks are about to run: until every one has succeeded nothing is known of the
    /// DUT. Returns the configuration the DUT had, for [`Tracker::ready`].
    pub fn begin(&mut self, plan: &Plan) -> Option<String> {
        self.counts.scenarios += 1;
        let c = &mut self.counts;
        c.power += u32::from(plan.power);
        c.configure += u32::from(plan.configure);
        c.reset += u32::from(plan.reset);
        c.start += u32::from(plan.start);
        c.console_reset += u32::from(plan.console_reset);
        match std::mem::take(&mut self.state) {
            DutState::Ready { config } => config,
            DutState::Unknown => None,
        }
    }

    /// Every hook of the plan succeeded: the DUT is up with `config` if the plan configured
    /// it, else with the configuration it had (`had`, from [`Tracker::begin`]).
    pub fn ready(&mut self, plan: &Plan, config: &str, had: Option<String>) {
        let config = if plan.configure { Some(config.to_owned()) } else { had };
        self.state = DutState::Ready { config };
    }

    /// The scenario is over: an ERROR leaves the DUT in a state nobody knows.
    pub fn scenario_ended(&mut self, error: bool) {
        if error {
            self.state = DutState::Unknown;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Hooks = Hooks { power: true, configure: true, reset: true, start: true };

    /// One scenario: the plan, then its hooks (failing at `fail`, if given), then its end.
    fn scenario(
        t: &mut Tracker,
        when: &DutWhen,
        have: Hooks,
        config: &str,
        cold: bool,
        fail: Option<&str>,
        error: bool,
    ) -> Plan {
        let plan = t.plan(when, have, config, cold);
        let had = t.begin(&plan);
        if fail.is_none_or(|h| !plan.hooks().contains(&h)) {
            t.ready(&plan, config, had);
        }
        t.scenario_ended(error || fail.is_some());
        plan
    }

    fn ok(t: &mut Tracker, when: &DutWhen, config: &str) -> Vec<&'static str> {
        scenario(t, when, ALL, config, false, None, false).hooks()
    }

    const FULL: [&str; 4] = ["dut.power", "dut.configure", "dut.reset", "dut.start"];

    #[test]
    fn every_scenario_is_the_default_and_runs_every_hook_every_time() {
        let when = DutWhen::default();
        let mut t = Tracker::default();
        for config in ["a", "a", "b"] {
            assert_eq!(ok(&mut t, &when, config), FULL);
        }
        assert_eq!(t.counts.power, 3);
    }

    #[test]
    fn the_first_scenario_runs_every_hook() {
        let when = DutWhen {
            power: When::WhenNeeded,
            configure: When::WhenChanged,
            reset: When::WhenNeeded,
            start: When::WhenNeeded,
        };
        let mut t = Tracker::default();
        let plan = scenario(&mut t, &when, ALL, "a", false, None, false);
        assert_eq!(plan.hooks(), FULL);
        assert_eq!(plan.cold, Some("the run's first scenario"));
        assert!(!plan.console_reset);
        assert_eq!(t.state(), &DutState::Ready { config: Some("a".into()) });
    }

    #[test]
    fn when_needed_powers_once_and_configures_only_changes() {
        let when = DutWhen::WHEN_NEEDED;
        let mut t = Tracker::default();
        assert_eq!(ok(&mut t, &when, "a"), FULL);
        // The same configuration: reset and start only (they run every scenario).
        assert_eq!(ok(&mut t, &when, "a"), ["dut.reset", "dut.start"]);
        // Another configuration: configure, then reset and start.
        assert_eq!(ok(&mut t, &when, "b"), ["dut.configure", "dut.reset", "dut.start"]);
        assert_eq!(ok(&mut t, &when, "b"), ["dut.reset", "dut.start"]);
        assert_eq!(
            t.counts,
            Counts { scenarios: 4, power: 1, configure: 2, reset: 4, start: 4, console_reset: 0 }
        );
    }

    #[test]
    fn a_when_needed_hook_runs_after_any_hook_before_it() {
        let when = DutWhen {
            power: When::WhenNeeded,
            configure: When::WhenChanged,
            reset: When::WhenNeeded,
            start: When::WhenNeeded,
        };
        let mut t = Tracker::default();
        ok(&mut t, &when, "a");
        assert_eq!(ok(&mut t, &when, "b"), ["dut.configure", "dut.reset", "dut.start"]);
        // Nothing changed: no hook runs, the console's `reset` gives a fresh boot line.
        let plan = scenario(&mut t, &when, ALL, "b", false, None, false);
        assert!(plan.hooks().is_empty() && plan.console_reset, "{plan:?}");
        // Only reset and start when-needed, power every scenario: every hook runs.
        let when = DutWhen { power: When::EveryScenario, ..when };
        assert_eq!(ok(&mut t, &when, "b"), FULL);
    }

    #[test]
    fn after_an_error_every_hook_runs_again() {
        let when = DutWhen::WHEN_NEEDED;
        let mut t = Tracker::default();
        ok(&mut t, &when, "a");
        // The scenario ran its hooks fine, then ended in ERROR (a console that vanished).
        let plan = scenario(&mut t, &when, ALL, "a", false, None, true);
        assert_eq!(plan.hooks(), ["dut.reset", "dut.start"]);
        assert_eq!(t.state(), &DutState::Unknown);
        let plan = scenario(&mut t, &when, ALL, "a", false, None, false);
        assert_eq!(plan.hooks(), FULL);
        assert!(plan.cold.unwrap().contains("unknown"), "{plan:?}");
        // A FAIL (the firmware did wrong) says nothing against the bench: no power cycle.
        let plan = t.plan(&when, ALL, "a", false);
        assert_eq!(plan.hooks(), ["dut.reset", "dut.start"]);
    }

    #[test]
    fn after_a_hook_failed_every_hook_runs_again() {
        let when = DutWhen::WHEN_NEEDED;
        let mut t = Tracker::default();
        ok(&mut t, &when, "a");
        let plan = scenario(&mut t, &when, ALL, "b", false, Some("dut.configure"), false);
        assert_eq!(plan.hooks(), ["dut.configure", "dut.reset", "dut.start"]);
        assert_eq!(t.state(), &DutState::Unknown);
        // Even if the runner were never told how the scenario ended.
        let mut u = Tracker::default();
        ok(&mut u, &when, "a");
        let plan = u.plan(&when, ALL, "b", false);
        u.begin(&plan);
        assert_eq!(u.plan(&when, ALL, "b", false).hooks(), FULL);
        assert_eq!(ok(&mut t, &when, "b"), FULL);
    }

    #[test]
    fn a_cold_start_runs_every_hook() {
        let when = DutWhen::WHEN_NEEDED;
        let mut t = Tracker::default();
        ok(&mut t, &when, "a");
        let plan = scenario(&mut t, &when, ALL, "a", true, None, false);
        assert_eq!(plan.hooks(), FULL);
        assert_eq!(plan.cold, Some("the scenario asks for a cold start"));
        assert_eq!(ok(&mut t, &when, "a"), ["dut.reset", "dut.start"]);
    }

    #[test]
    fn missing_hooks_never_run_and_no_restart_hook_means_no_console_reset() {
        let when = DutWhen::WHEN_NEEDED;
        let mut t = Tracker::default();
        let only_configure = Hooks { configure: true, ..Hooks::default() };
        let plan = scenario(&mut t, &when, only_configure, "a", false, None, false);
        assert_eq!(plan.hooks(), ["dut.configure"]);
        assert!(!plan.console_reset);
        let plan = scenario(&mut t, &when, only_configure, "a", false, None, false);
        assert!(plan.hooks().is_empty() && !plan.console_reset, "{plan:?}");
        // Power when needed and nothing else: the console's `reset` restarts the firmware.
        let mut t = Tracker::default();
        let only_power = Hooks { power: true, ..Hooks::default() };
        assert_eq!(scenario(&mut t, &when, only_power, "a", false, None, false).hooks(), ["dut.power"]);
        let plan = scenario(&mut t, &when, only_power, "a", false, None, false);
        assert!(plan.hooks().is_empty() && plan.console_reset, "{plan:?}");
    }
}
