//! Faults a scenario applies to a seed before the DUT starts (docs/fixtures.md, Faults).
//!
//! Each kind is classified once, in [`FaultKind::target`]: a card fault (the APDU bridge
//! injects it on the SIM line) or a network fault (the simulated or RF-controlled network
//! injects it). Everything that acts on faults matches exhaustively on [`CardFaultKind`] or
//! [`NetworkFaultKind`], so a new kind is a compile error wherever it has to be handled, never
//! a silent no-op. Names come from one table, `KINDS` ([`FaultKind::NAMES`],
//! [`FaultKind::from_name`], [`FaultKind::name`], `Display`, the bridge's card faults).
//!
//! A new kind: its variant here and in [`CardFaultKind`] or [`NetworkFaultKind`], its row in
//! `KINDS`, its arm in [`FaultKind::target`]; the compiler then names every place that has to
//! act on it.

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

/// Every kind once, in the order fixtures document them: its name in fixtures and the kind with
/// its parameters at their defaults (zero where there is none). The one table of names:
/// [`FaultKind::NAMES`], [`FaultKind::from_name`], [`FaultKind::name`], `Display` and the
/// bridge's card faults' names all read it.
const KINDS: &[(&str, FaultKind)] = &[
    ("pulled", FaultKind::Pulled),
    ("mute", FaultKind::Mute),
    ("corrupt_auth", FaultKind::CorruptAuth),
    ("corrupt_imsi", FaultKind::CorruptImsi),
    ("bad_atr", FaultKind::BadAtr),
    ("pin_locked", FaultKind::PinLocked),
    ("slow", FaultKind::Slow { delay_ms: 0, beyond_wwt: false }),
    ("flaky", FaultKind::Flaky { up_ms: 0, down_ms: 0 }),
    ("no_coverage", FaultKind::NoCoverage),
    ("reject", FaultKind::Reject { cause: 0 }),
    ("silent", FaultKind::Silent),
    ("slow_attach", FaultKind::SlowAttach { delay_ms: 0 }),
    ("dial_fail", FaultKind::DialFail { cause: FaultKind::DEFAULT_DIAL_CAUSE }),
    ("data_fail", FaultKind::DataFail),
    ("expired", FaultKind::Expired),
];

impl FaultKind {
    /// Every kind's name as written in fixtures.
    pub const NAMES: &'static [&'static str] = &{
        let mut names = [""; KINDS.len()];
        let mut i = 0;
        while i < KINDS.len() {
            names[i] = KINDS[i].0;
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
        KINDS.iter().find(|(n, _)| *n == name).map(|(_, kind)| *kind)
    }

    /// Every kind once, its parameters at their defaults, in the order of [`FaultKind::NAMES`].
    pub fn all() -> impl Iterator<Item = FaultKind> {
        KINDS.iter().map(|(_, kind)| *kind)
    }

    /// Its name in fixtures.
    pub fn name(&self) -> &'static str {
        let same = |kind: &FaultKind| std::mem::discriminant(kind) == std::mem::discriminant(self);
        KINDS.iter().find(|(_, kind)| same(kind)).map(|(name, _)| *name).expect("every kind is in KINDS")
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

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            FaultKind::Slow { delay_ms, beyond_wwt } => {
                let wwt = if *beyond_wwt { ", beyond WWT" } else { "" };
                write!(f, "{name}({delay_ms} ms{wwt})")
            }
            FaultKind::Flaky { up_ms, down_ms } => write!(f, "{name}({up_ms}/{down_ms} ms)"),
            FaultKind::Reject { cause } | FaultKind::DialFail { cause } => write!(f, "{name}({cause})"),
            FaultKind::SlowAttach { delay_ms } => write!(f, "{name}({delay_ms} ms)"),
            _ => f.write_str(name),
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
        for (i, &name) in FaultKind::NAMES.iter().enumerate() {
            let kind = FaultKind::from_name(name).unwrap_or_else(|| panic!("{name} does not parse"));
            assert_eq!(kind.name(), name);
            assert_eq!(kind, KINDS[i].1);
            assert!(!FaultKind::NAMES[..i].contains(&name), "{name} twice");
        }
        assert_eq!(
            FaultKind::all().collect::<Vec<_>>(),
            KINDS.iter().map(|(_, kind)| *kind).collect::<Vec<_>>()
        );
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
    fn parameters_are_shown_after_the_name() {
        let shown = |kind: FaultKind| kind.to_string();
        assert_eq!(shown(FaultKind::Mute), "mute");
        assert_eq!(shown(FaultKind::Slow { delay_ms: 1500, beyond_wwt: true }), "slow(1500 ms, beyond WWT)");
        assert_eq!(shown(FaultKind::Slow { delay_ms: 900, beyond_wwt: false }), "slow(900 ms)");
        assert_eq!(shown(FaultKind::Flaky { up_ms: 200, down_ms: 300 }), "flaky(200/300 ms)");
        assert_eq!(shown(FaultKind::Reject { cause: 15 }), "reject(15)");
        assert_eq!(shown(FaultKind::SlowAttach { delay_ms: 40 }), "slow_attach(40 ms)");
        assert_eq!(shown(FaultKind::DialFail { cause: 27 }), "dial_fail(27)");
    }

    #[test]
    fn every_kind_has_one_target_with_its_parameters() {
        for kind in FaultKind::all() {
            assert_eq!(kind.is_card_fault(), kind.card().is_some());
            assert_eq!(kind.is_card_fault(), kind.network().is_none());
        }
        let card: Vec<&str> = FaultKind::all().filter(|k| k.is_card_fault()).map(|k| k.name()).collect();
        assert_eq!(
            card,
            ["pulled", "mute", "corrupt_auth", "corrupt_imsi", "bad_atr", "pin_locked", "slow", "flaky"]
        );
        use CardFaultKind as C;
        use NetworkFaultKind as N;
        for (kind, target) in [
            (
                FaultKind::Slow { delay_ms: 7, beyond_wwt: true },
                FaultTarget::Card(C::Slow { delay_ms: 7, beyond_wwt: true }),
            ),
            (
                FaultKind::Flaky { up_ms: 200, down_ms: 300 },
                FaultTarget::Card(C::Flaky { up_ms: 200, down_ms: 300 }),
            ),
            (FaultKind::Reject { cause: 15 }, FaultTarget::Network(N::Reject { cause: 15 })),
            (FaultKind::SlowAttach { delay_ms: 40 }, FaultTarget::Network(N::SlowAttach { delay_ms: 40 })),
            (FaultKind::DialFail { cause: 27 }, FaultTarget::Network(N::DialFail { cause: 27 })),
        ] {
            assert_eq!(kind.target(), target, "{kind}");
        }
    }
}
