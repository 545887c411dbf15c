//! Faults a scenario applies to a seed before the DUT starts (DESIGN.md §2.1).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    // Card faults, injected by the APDU bridge.
    Pulled,
    Mute,
    CorruptAuth,
    CorruptImsi,
    BadAtr,
    PinLocked,
    Slow { delay_ms: u64, beyond_wwt: bool },
    Flaky { up_ms: u64, down_ms: u64 },
    // Network faults, injected by the (simulated or RF-controlled) network.
    NoCoverage,
    Reject { cause: u8 },
    Silent,
    SlowAttach { delay_ms: u64 },
    DialFail { cause: u8 },
    DataFail,
    Expired,
}

/// A fault as written in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
}

impl FaultKind {
    /// Every kind's name as written in fixtures.
    pub const NAMES: &'static [&'static str] = &[
        "pulled",
        "mute",
        "corrupt_auth",
        "corrupt_imsi",
        "bad_atr",
        "pin_locked",
        "slow",
        "flaky",
        "no_coverage",
        "reject",
        "silent",
        "slow_attach",
        "dial_fail",
        "data_fail",
        "expired",
    ];

    /// EMM cause the network gives an expired subscription (8: EPS and non-EPS services not
    /// allowed).
    pub const EXPIRED_CAUSE: u8 = 8;
    /// ESM cause for a rejected context activation by default (33: requested service option
    /// not subscribed).
    pub const DEFAULT_DIAL_CAUSE: u8 = 33;

    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Pulled => "pulled",
            FaultKind::Mute => "mute",
            FaultKind::CorruptAuth => "corrupt_auth",
            FaultKind::CorruptImsi => "corrupt_imsi",
            FaultKind::BadAtr => "bad_atr",
            FaultKind::PinLocked => "pin_locked",
            FaultKind::Slow { .. } => "slow",
            FaultKind::Flaky { .. } => "flaky",
            FaultKind::NoCoverage => "no_coverage",
            FaultKind::Reject { .. } => "reject",
            FaultKind::Silent => "silent",
            FaultKind::SlowAttach { .. } => "slow_attach",
            FaultKind::DialFail { .. } => "dial_fail",
            FaultKind::DataFail => "data_fail",
            FaultKind::Expired => "expired",
        }
    }

    /// Card faults act on the SIM line; the others on the network.
    pub fn is_card_fault(&self) -> bool {
        matches!(
            self,
            FaultKind::Pulled
                | FaultKind::Mute
                | FaultKind::CorruptAuth
                | FaultKind::CorruptImsi
                | FaultKind::BadAtr
                | FaultKind::PinLocked
                | FaultKind::Slow { .. }
                | FaultKind::Flaky { .. }
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Slow { delay_ms, beyond_wwt } => {
                let wwt = if *beyond_wwt { ", beyond WWT" } else { "" };
                write!(f, "slow({delay_ms} ms{wwt})")
            }
            FaultKind::Flaky { up_ms, down_ms } => write!(f, "flaky({up_ms}/{down_ms} ms)"),
            FaultKind::Reject { cause } => write!(f, "reject({cause})"),
            FaultKind::SlowAttach { delay_ms } => write!(f, "slow_attach({delay_ms} ms)"),
            FaultKind::DialFail { cause } => write!(f, "dial_fail({cause})"),
            other => f.write_str(other.name()),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}
