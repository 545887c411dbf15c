//! `--fault` modes: deliberately wrong firmware, so the rig's own checks can be shown to catch
//! each kind of mistake. Every mode changes exactly one decision, made here.

use super::config::SeedConfig;
use super::console::RankEntry;
use crate::model::Weights;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultMode {
    /// Tries the standbys in reverse rank order.
    WrongOrder,
    /// Never judges an attempt failed on time: waits forever even under timeout and both.
    IgnoreTimeout,
    /// Ranks by signal alone, ignoring the tariff.
    SignalOnly,
    /// Never tries a standby.
    StopAfterMaster,
    /// Declares the seed connected once the context is up; never sends the report.
    NoReport,
    /// Prints the ranked order on its console while it tries the standbys in reverse.
    LyingConsole,
    /// Behaves correctly but prints only `boot` and `connected` (must pass: the bench sees).
    SilentConsole,
    /// Gives up on a silent standby after a third of T.
    EarlyStandbyGiveUp,
    /// Judges every failed standby a quarter of T late.
    LateStandbyJudgement,
    /// Tries the first standby that fails a second time before going on.
    RetryStandby,
    /// Declares the seed connected once its context is up, before the report proves data, and
    /// stays on it whatever the report does.
    ConnectBeforeData,
    /// Breaks ties between equal indices towards the higher slot.
    TiesToHigherSlot,
    /// Ranks a standby by the first usable cell its modem lists, not the strongest.
    FirstUsableCell,
}

impl FaultMode {
    pub fn name(self) -> &'static str {
        match self {
            FaultMode::WrongOrder => "wrong-order",
            FaultMode::IgnoreTimeout => "ignore-timeout",
            FaultMode::SignalOnly => "signal-only",
            FaultMode::StopAfterMaster => "stop-after-master",
            FaultMode::NoReport => "no-report",
            FaultMode::LyingConsole => "lying-console",
            FaultMode::SilentConsole => "silent-console",
            FaultMode::EarlyStandbyGiveUp => "early-standby-give-up",
            FaultMode::LateStandbyJudgement => "late-standby-judgement",
            FaultMode::RetryStandby => "retry-standby",
            FaultMode::ConnectBeforeData => "connect-before-data",
            FaultMode::TiesToHigherSlot => "ties-to-higher-slot",
            FaultMode::FirstUsableCell => "first-usable-cell",
        }
    }

    /// Every mode, in the order `selftest` runs them.
    pub const ALL: &'static [FaultMode] = &[
        FaultMode::WrongOrder,
        FaultMode::IgnoreTimeout,
        FaultMode::SignalOnly,
        FaultMode::StopAfterMaster,
        FaultMode::NoReport,
        FaultMode::LyingConsole,
        FaultMode::SilentConsole,
        FaultMode::EarlyStandbyGiveUp,
        FaultMode::LateStandbyJudgement,
        FaultMode::RetryStandby,
        FaultMode::ConnectBeforeData,
        FaultMode::TiesToHigherSlot,
        FaultMode::FirstUsableCell,
    ];

    /// A mode whose firmware is right and only says less: the suite must pass it.
    pub fn is_correct_behaviour(self) -> bool {
        self == FaultMode::SilentConsole
    }
}

/// Whether the console prints `event` (`silent-console` prints only `boot` and `connected`).
pub fn prints(fault: Option<FaultMode>, event: &super::console::Event) -> bool {
    use super::console::Event;
    fault != Some(FaultMode::SilentConsole) || matches!(event, Event::Boot { .. } | Event::Connected { .. })
}

/// How this build ranks (its departures from the method).
pub fn rank_rule(fault: Option<FaultMode>) -> super::rank::Rule {
    super::rank::Rule {
        ties_to_higher_slot: fault == Some(FaultMode::TiesToHigherSlot),
        first_usable_cell: fault == Some(FaultMode::FirstUsableCell),
    }
}

/// The attempt timeout of a standby, nominal: a third of T for `early-standby-give-up`.
pub fn standby_timeout(t_ms: Option<u64>, fault: Option<FaultMode>) -> Option<u64> {
    match fault {
        Some(FaultMode::EarlyStandbyGiveUp) => t_ms.map(|t| t / 3),
        _ => t_ms,
    }
}

/// How long a failed standby is held before the firmware says so, nominal.
pub fn late_by_ms(t_ms: u64, fault: Option<FaultMode>) -> u64 {
    if fault == Some(FaultMode::LateStandbyJudgement) { t_ms / 4 } else { 0 }
}

/// One planned attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned<'a> {
    pub seed: &'a SeedConfig,
    /// The standby's evaluation index; `None` for the master.
    pub index: Option<f64>,
}

/// The weights the ranking uses.
pub fn ranking_weights(weights: Weights, fault: Option<FaultMode>) -> Weights {
    match fault {
        Some(FaultMode::SignalOnly) => Weights { signal: 1.0, tariff: 0.0 },
        _ => weights,
    }
}

/// The attempts of one pass: the master, then the standbys in rank order (§1.5).
pub fn plan<'a>(
    master: &'a SeedConfig,
    standbys: &'a [SeedConfig],
    ranked: &[RankEntry],
    fault: Option<FaultMode>,
) -> Vec<Planned<'a>> {
    let mut order: Vec<Planned<'a>> = ranked
        .iter()
        .filter_map(|e| {
            let seed = standbys.iter().find(|s| s.slot == e.slot)?;
            Some(Planned { seed, index: Some(e.index) })
        })
        .collect();
    match fault {
        Some(FaultMode::WrongOrder | FaultMode::LyingConsole) => order.reverse(),
        Some(FaultMode::StopAfterMaster) => order.clear(),
        _ => {}
    }
    order.insert(0, Planned { seed: master, index: None });
    order
}

/// What the console says the `n`th attempt is: the planned one, except for `lying-console`,
/// which names the attempt a correct firmware would make at that position.
pub fn claimed<'a>(
    planned: &[Planned<'a>],
    n: usize,
    master: &'a SeedConfig,
    standbys: &'a [SeedConfig],
    ranked: &[RankEntry],
    fault: Option<FaultMode>,
) -> Planned<'a> {
    if fault != Some(FaultMode::LyingConsole) {
        return planned[n].clone();
    }
    plan(master, standbys, ranked, None).get(n).cloned().unwrap_or_else(|| planned[n].clone())
}

/// The attempt timeout T the judge applies, nominal; `None`: no clock ends an attempt.
pub fn attempt_timeout(t_ms: u64, fault: Option<FaultMode>) -> Option<u64> {
    (fault != Some(FaultMode::IgnoreTimeout)).then_some(t_ms)
}

/// Whether a successful attempt proves its data path with the report (§1.3).
pub fn sends_report(fault: Option<FaultMode>) -> bool {
    fault != Some(FaultMode::NoReport)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rat;
    use crate::reference_firmware::config::Role;
    use crate::reference_firmware::measure::MeasuredCell;
    use crate::reference_firmware::rank::{rank_standbys, tests::standby};
    use clap::ValueEnum;

    fn seeds() -> (SeedConfig, Vec<SeedConfig>) {
        let master = SeedConfig { role: Role::Master, ..standby(0, &[Rat::Lte], &[("26201", 0.01)]) };
        // Slot 1 strong and dear, slot 2 weak and cheap, slot 3 in between.
        let standbys = vec![
            standby(1, &[Rat::Lte], &[("26201", 0.05)]),
            standby(2, &[Rat::Lte], &[("26202", 0.001)]),
            standby(3, &[Rat::Lte], &[("26203", 0.02)]),
        ];
        (master, standbys)
    }

    fn cells() -> Vec<MeasuredCell> {
        let cell = |plmn: &str, dbm| MeasuredCell { plmn: plmn.into(), rat: Rat::Lte, dbm };
        vec![cell("26201", -60.0), cell("26202", -100.0), cell("26203", -80.0)]
    }

    fn planned_slots(fault: Option<FaultMode>, weights: Weights) -> Vec<u8> {
        let (master, standbys) = seeds();
        let ranked = rank_standbys(&standbys, &cells(), ranking_weights(weights, fault));
        plan(&master, &standbys, &ranked, fault).iter().map(|p| p.seed.slot).collect()
    }

    const TARIFF_HEAVY: Weights = Weights { signal: 0.2, tariff: 0.8 };

    #[test]
    fn a_correct_build_tries_master_then_rank_order() {
        assert_eq!(planned_slots(None, TARIFF_HEAVY), vec![0, 2, 3, 1]);
        let (master, standbys) = seeds();
        let ranked = rank_standbys(&standbys, &cells(), TARIFF_HEAVY);
        let p = plan(&master, &standbys, &ranked, None);
        assert_eq!(p[0].index, None);
        assert_eq!(p[1].index, Some(ranked[0].index));
    }

    #[test]
    fn wrong_order_reverses_the_standbys_only() {
        assert_eq!(planned_slots(Some(FaultMode::WrongOrder), TARIFF_HEAVY), vec![0, 1, 3, 2]);
    }

    #[test]
    fn signal_only_ignores_the_tariff() {
        assert_eq!(planned_slots(Some(FaultMode::SignalOnly), TARIFF_HEAVY), vec![0, 1, 3, 2]);
        assert_eq!(ranking_weights(TARIFF_HEAVY, None), TARIFF_HEAVY);
    }

    #[test]
    fn stop_after_master_plans_the_master_alone() {
        assert_eq!(planned_slots(Some(FaultMode::StopAfterMaster), TARIFF_HEAVY), vec![0]);
    }

    #[test]
    fn ignore_timeout_removes_t_and_no_report_skips_the_report() {
        assert_eq!(attempt_timeout(30_000, None), Some(30_000));
        assert_eq!(attempt_timeout(30_000, Some(FaultMode::IgnoreTimeout)), None);
        assert_eq!(attempt_timeout(30_000, Some(FaultMode::NoReport)), Some(30_000));
        assert!(sends_report(None) && sends_report(Some(FaultMode::WrongOrder)));
        assert!(!sends_report(Some(FaultMode::NoReport)));
    }

    #[test]
    fn names_match_the_command_line() {
        for f in FaultMode::value_variants() {
            assert_eq!(f.to_possible_value().unwrap().get_name(), f.name());
        }
    }
}
