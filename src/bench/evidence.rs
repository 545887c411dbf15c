//! What a bench saw during one scenario, in terms every bench can give: the DUT's console
//! events, the bridge's APDU trace and card events, the observer port's URCs, the backend
//! stub's reports, and — only where a bench has one — the network's own record of each step.
//! Every item is stamped on the rig's one clock (real time since the bench came up).

use std::time::Duration;

use crate::backend::ReportRecord;
use crate::bridge::{ApduRecord, CardEvent};
use crate::console::reader::ConsoleEvent;

#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// When the rig told the DUT to start.
    pub started_at: Duration,
    pub console: Vec<ConsoleEvent>,
    pub apdus: Vec<ApduRecord>,
    pub card_events: Vec<CardEvent>,
    /// Lines the observer AT port printed unasked, as printed.
    pub urcs: Vec<(Duration, String)>,
    /// Whether the observer is the DUT modem's own second port (its registrations are the
    /// DUT's) rather than a separate reference modem (whose are its own).
    pub observer_is_dut_modem: bool,
    pub reports: Vec<ReportRecord>,
    /// How a report's IMSI is known: from the data context it came through (a simulated
    /// network knows) or only from what the report itself says (a real network).
    pub report_imsi: ReportImsi,
    /// The network's ground truth; `None` on a bench whose network cannot be asked.
    pub network: Option<Vec<NetworkStep>>,
    /// Parts that broke after the outcome was in (during the settle period), with when.
    pub broke: Vec<(Duration, String)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportImsi {
    /// The IMSI of the data context the report came through.
    #[default]
    Context,
    /// The IMSI the report claims.
    Claimed,
}

/// One step the network took for a subscriber.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkStep {
    pub at: Duration,
    pub imsi: String,
    pub kind: StepKind,
    /// For people: what happened, as the network tells it.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Registration accepted.
    Registered,
    /// Data reached the backend through the subscriber's context.
    DataDelivered,
    /// Anything else (attach started, authentication, rejects, contexts, detach).
    Other,
}

impl Evidence {
    /// The network registered (the observer port's `+CEREG`/`+CREG`/`+CGREG` with stat 1 or
    /// 5), with when.
    pub fn observer_registrations(&self) -> Vec<Duration> {
        self.urcs
            .iter()
            .filter(|(_, line)| registration_stat(line).is_some_and(|s| s == 1 || s == 5))
            .map(|(at, _)| *at)
            .collect()
    }
}

/// The `<stat>` of a `+CREG`/`+CGREG`/`+CEREG` URC (`+CEREG: 1,"1A2B","01A2B3C4",7` → 1).
pub fn registration_stat(line: &str) -> Option<u8> {
    let (prefix, rest) = line.split_once(':')?;
    if !matches!(prefix.trim(), "+CREG" | "+CGREG" | "+CEREG") {
        return None;
    }
    rest.split(',').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_stat_reads_the_first_field_of_registration_urcs_only() {
        assert_eq!(registration_stat("+CEREG: 1,\"1A2B\",\"01A2B3C4\",7"), Some(1));
        assert_eq!(registration_stat("+CREG: 5"), Some(5));
        assert_eq!(registration_stat("+CGREG: 3"), Some(3));
        assert_eq!(registration_stat("+QSIMSTAT: 1,0"), None);
        assert_eq!(registration_stat("RING"), None);
    }
}
