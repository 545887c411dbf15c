//! A seed's network faults (docs/fixtures.md, Faults), as flags the network consults at each step.
//! Card faults belong to the APDU bridge and are ignored here.

use crate::model::{Fault, FaultKind, NetworkFaultKind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct NetworkFaults {
    /// No cell of the seed is heard: its attach never reaches the network.
    pub no_coverage: bool,
    /// The network receives the attach and never answers.
    pub silent: bool,
    pub reject: Option<u8>,
    pub expired: bool,
    /// Added to the registration answer time.
    pub slow_attach_ms: u64,
    pub dial_fail: Option<u8>,
    /// Requests through the seed's contexts are lost.
    pub data_fail: bool,
}

impl NetworkFaults {
    pub fn from_faults(faults: &[Fault]) -> NetworkFaults {
        NetworkFaults::from_kinds(faults.iter().map(|f| f.kind))
    }

    /// The network faults among `kinds`, combined; card faults are skipped.
    pub fn from_kinds(kinds: impl IntoIterator<Item = FaultKind>) -> NetworkFaults {
        let mut out = NetworkFaults::default();
        // Card faults act on the SIM line, not here.
        for kind in kinds.into_iter().filter_map(|k| k.network()) {
            match kind {
                NetworkFaultKind::NoCoverage => out.no_coverage = true,
                NetworkFaultKind::Silent => out.silent = true,
                NetworkFaultKind::Reject { cause } => out.reject = Some(cause),
                NetworkFaultKind::Expired => out.expired = true,
                NetworkFaultKind::SlowAttach { delay_ms } => out.slow_attach_ms += delay_ms,
                NetworkFaultKind::DialFail { cause } => out.dial_fail = Some(cause),
                NetworkFaultKind::DataFail => out.data_fail = true,
            }
        }
        out
    }

    /// The EMM cause registration is rejected with, if any. A lapsed subscription is checked
    /// first: the HSS refuses it before any area or roaming restriction applies.
    pub fn registration_reject(&self) -> Option<u8> {
        if self.expired { Some(FaultKind::EXPIRED_CAUSE) } else { self.reject }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_faults_ignored_network_faults_read() {
        let faults = [
            Fault { kind: FaultKind::Mute },
            Fault { kind: FaultKind::Reject { cause: 15 } },
            Fault { kind: FaultKind::SlowAttach { delay_ms: 100 } },
        ];
        let f = NetworkFaults::from_faults(&faults);
        assert_eq!(f.registration_reject(), Some(15));
        assert_eq!(f.slow_attach_ms, 100);
        assert!(!f.silent && !f.no_coverage && !f.data_fail && f.dial_fail.is_none());
        let expired = NetworkFaults::from_faults(&[Fault { kind: FaultKind::Expired }, faults[1]]);
        assert_eq!(expired.registration_reject(), Some(8));
        assert_eq!(
            NetworkFaults::from_faults(&[Fault { kind: FaultKind::CorruptAuth }]),
            NetworkFaults::default()
        );
    }

    #[test]
    fn every_network_kind_sets_something() {
        for name in FaultKind::NAMES {
            let kind = match FaultKind::from_name(name).unwrap() {
                FaultKind::SlowAttach { .. } => FaultKind::SlowAttach { delay_ms: 10 },
                other => other,
            };
            let read = NetworkFaults::from_faults(&[Fault { kind }]);
            assert_eq!(read != NetworkFaults::default(), !kind.is_card_fault(), "{name}");
        }
    }
}
