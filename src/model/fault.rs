//! Faults a scenario applies to a seed before the DUT starts (docs/fixtures.md, Faults).
//!
//! Each kind is classified once, in [`FaultKind::target`]: a card fault (the APDU bridge
//! injects it on the SIM line) or a network fault (the simulated or RF-controlled network
//! injects it). Everything that acts on faults matches exhaustively on [`CardFaultKind`] or
//! [`NetworkFaultKind`], so a new kind is a compile error wherever it has to be handled, never
//! a silent no-op. Names come from one table ([`FaultKind::NAMES`], [`FaultKind::from_name`]).

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

/// A fault the APDU bridge injects on the SIM line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardFaultKind {
    Pulled,
    Mute,
    CorruptAuth,
    CorruptImsi,
    BadAtr,
    PinLocked,
    Slow { delay_ms: u64, beyond_wwt: bool },
    Flaky { up_ms: u64, down_ms: u64 },
}

/// A fault the network injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkFaultKind {
    NoCoverage,
    Reject { cause: u8 },
    Silent,
    SlowAttach { delay_ms: u64 },
    DialFail { cause: u8 },
    DataFail,
    Expired,
}

/// Where a fault acts: the one classification of every [`FaultKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    Card(CardFaultKind),
    Network(NetworkFaultKind),
}

/// A fault as written in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
}

const KIND_COUNT: usize = 15;

/// Every kind once, in the order fixtures document them, with its parameters at their
/// defaults (zero where there is none). The table [`FaultKind::NAMES`] and
/// [`FaultKind::from_name`] are built from.
const KINDS: [FaultKind; KIND_COUNT] = [
    FaultKind::Pulled,
    FaultKind::Mute,
    FaultKind::CorruptAuth,
    FaultKind::CorruptImsi,
    FaultKind::BadAtr,
    FaultKind::PinLocked,
    FaultKind::Slow { delay_ms: 0, beyond_wwt: false },
    FaultKind::Flaky { up_ms: 0, down_ms: 0 },
    FaultKind::NoCoverage,
    FaultKind::Reject { cause: 0 },
    FaultKind::Silent,
    FaultKind::SlowAttach { delay_ms: 0 },
    FaultKind::DialFail { cause: FaultKind::DEFAULT_DIAL_CAUSE },
    FaultKind::DataFail,
    FaultKind::Expired,
];

impl FaultKind {
    /// Every kind's name as written in fixtures.
    pub const NAMES: &'static [&'static str] = &{
        let mut names = [""; KIND_COUNT];
        let mut i = 0;
        while i < KIND_COUNT {
            names[i] = KINDS[i].name();
            i += 1;
        }
        names
    };

    /// EMM cause the network gives an expired subscription (8: EPS and non-EPS services not
    /// allowed).
    pub const EXPIRED_CAUSE: u8 = 8;
    /// ESM cause for a rejected context activation by default (33: requested service option
    /// not subscribed).
    pub const DEFAULT_DIAL_CAUSE: u8 = 33;

    /// The kind called `name` in fixtures, its parameters at their defaults (zero where there
    /// is none: the fixture reader fills them in); `None` for a name that is not in
    /// [`FaultKind::NAMES`].
    pub fn from_name(name: &str) -> Option<FaultKind> {
        KINDS.iter().copied().find(|k| k.name() == name)
    }

    pub const fn name(&self) -> &'static str {
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

    /// Where the fault acts. The only place a kind is classified.
    pub const fn target(&self) -> FaultTarget {
        use CardFaultKind as C;
        use FaultTarget::{Card, Network};
        use NetworkFaultKind as N;
        match *self {
            FaultKind::Pulled => Card(C::Pulled),
            FaultKind::Mute => Card(C::Mute),
            FaultKind::CorruptAuth => Card(C::CorruptAuth),
            FaultKind::CorruptImsi => Card(C::CorruptImsi),
            FaultKind::BadAtr => Card(C::BadAtr),
            FaultKind::PinLocked => Card(C::PinLocked),
            FaultKind::Slow { delay_ms, beyond_wwt } => Card(C::Slow { delay_ms, beyond_wwt }),
            FaultKind::Flaky { up_ms, down_ms } => Card(C::Flaky { up_ms, down_ms }),
            FaultKind::NoCoverage => Network(N::NoCoverage),
            FaultKind::Reject { cause } => Network(N::Reject { cause }),
            FaultKind::Silent => Network(N::Silent),
            FaultKind::SlowAttach { delay_ms } => Network(N::SlowAttach { delay_ms }),
            FaultKind::DialFail { cause } => Network(N::DialFail { cause }),
            FaultKind::DataFail => Network(N::DataFail),
            FaultKind::Expired => Network(N::Expired),
        }
    }

    /// The card fault, if this is one.
    pub const fn card(&self) -> Option<CardFaultKind> {
        match self.target() {
            FaultTarget::Card(c) => Some(c),
            FaultTarget::Network(_) => None,
        }
    }

    /// The network fault, if this is one.
    pub const fn network(&self) -> Option<NetworkFaultKind> {
        match self.target() {
            FaultTarget::Network(n) => Some(n),
            FaultTarget::Card(_) => None,
        }
    }

    /// Card faults act on the SIM line; the others on the network.
    pub const fn is_card_fault(&self) -> bool {
        matches!(self.target(), FaultTarget::Card(_))
    }
}

impl From<CardFaultKind> for FaultKind {
    fn from(kind: CardFaultKind) -> FaultKind {
        match kind {
            CardFaultKind::Pulled => FaultKind::Pulled,
            CardFaultKind::Mute => FaultKind::Mute,
            CardFaultKind::CorruptAuth => FaultKind::CorruptAuth,
            CardFaultKind::CorruptImsi => FaultKind::CorruptImsi,
            CardFaultKind::BadAtr => FaultKind::BadAtr,
            CardFaultKind::PinLocked => FaultKind::PinLocked,
            CardFaultKind::Slow { delay_ms, beyond_wwt } => FaultKind::Slow { delay_ms, beyond_wwt },
            CardFaultKind::Flaky { up_ms, down_ms } => FaultKind::Flaky { up_ms, down_ms },
        }
    }
}

impl From<NetworkFaultKind> for FaultKind {
    fn from(kind: NetworkFaultKind) -> FaultKind {
        match kind {
            NetworkFaultKind::NoCoverage => FaultKind::NoCoverage,
            NetworkFaultKind::Reject { cause } => FaultKind::Reject { cause },
            NetworkFaultKind::Silent => FaultKind::Silent,
            NetworkFaultKind::SlowAttach { delay_ms } => FaultKind::SlowAttach { delay_ms },
            NetworkFaultKind::DialFail { cause } => FaultKind::DialFail { cause },
            NetworkFaultKind::DataFail => FaultKind::DataFail,
            NetworkFaultKind::Expired => FaultKind::Expired,
        }
    }
}

impl From<FaultTarget> for FaultKind {
    fn from(target: FaultTarget) -> FaultKind {
        match target {
            FaultTarget::Card(c) => c.into(),
            FaultTarget::Network(n) => n.into(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_and_round_trips() {
        assert_eq!(FaultKind::NAMES.len(), KIND_COUNT);
        for (i, &name) in FaultKind::NAMES.iter().enumerate() {
            let kind = FaultKind::from_name(name).unwrap_or_else(|| panic!("{name} does not parse"));
            assert_eq!(kind.name(), name);
            assert_eq!(kind, KINDS[i]);
            assert!(!FaultKind::NAMES[..i].contains(&name), "{name} twice");
        }
        assert_eq!(FaultKind::from_name("expire"), None);
        assert_eq!(FaultKind::from_name(""), None);
    }

    #[test]
    fn names_keep_the_documented_order() {
        assert_eq!(
            FaultKind::NAMES,
            [
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
            ]
        );
    }

    #[test]
    fn every_kind_has_one_target_and_comes_back_from_it() {
        let with_params = [
            FaultKind::Slow { delay_ms: 1500, beyond_wwt: true },
            FaultKind::Flaky { up_ms: 200, down_ms: 300 },
            FaultKind::Reject { cause: 15 },
            FaultKind::SlowAttach { delay_ms: 40 },
            FaultKind::DialFail { cause: 27 },
        ];
        for kind in KINDS.iter().chain(&with_params) {
            let target = kind.target();
            assert_eq!(FaultKind::from(target), *kind);
            assert_eq!(kind.is_card_fault(), kind.card().is_some());
            assert_eq!(kind.is_card_fault(), kind.network().is_none());
        }
        let card: Vec<&str> = KINDS.iter().filter(|k| k.is_card_fault()).map(|k| k.name()).collect();
        assert_eq!(
            card,
            ["pulled", "mute", "corrupt_auth", "corrupt_imsi", "bad_atr", "pin_locked", "slow", "flaky"]
        );
        assert_eq!(
            FaultKind::Slow { delay_ms: 7, beyond_wwt: true }.target(),
            FaultTarget::Card(CardFaultKind::Slow { delay_ms: 7, beyond_wwt: true })
        );
        assert_eq!(
            FaultKind::Reject { cause: 15 }.target(),
            FaultTarget::Network(NetworkFaultKind::Reject { cause: 15 })
        );
    }
}
