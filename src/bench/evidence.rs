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
    /// When the rig stopped watching (the end of the settle period, or the deadline).
    pub observed_until: Option<Duration>,
    pub console: Vec<ConsoleEvent>,
    /// Console lines that name an event the rig knows but could not be read as one, with why.
    pub console_malformed: Vec<(Duration, String)>,
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
    pub broke: Vec<(Duration, std::sync::Arc<crate::bench::BenchError>)>,
    /// The rig's own real time in the DUT's exchanges, where the bench can measure it (a
    /// virtual bench, whose radio runs scaled); `None` elsewhere.
    pub rig_time: Option<RigTime>,
}

/// What the rig's own machinery costs the DUT in real time, on a bench whose radio time is
/// scaled: serial lines, the simulated modem's handling, the card path. None of it is radio
/// time, so scaling it up as if it were would blame the firmware for the rig.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RigTime {
    /// One AT exchange through the bench with no radio wait (the serial line both ways and the
    /// modem's handling): the median of `AT` → `OK` round trips on the observer port, measured
    /// when the bench came up.
    pub at_exchange: Duration,
    /// When each of the DUT's AT commands reached the modem.
    pub dut_commands: Vec<Duration>,
    /// How much later than asked each of the simulated radio's waits ended (timer granularity
    /// and scheduling), with when it ended.
    pub late_waits: Vec<(Duration, Duration)>,
    /// How long each card reset took through the bridge (the PC/SC reset the modem's reset
    /// asks for, which holds up the card's first answer), with when it began.
    pub card_resets: Vec<(Duration, Duration)>,
}

/// The real time the rig spent in the DUT's exchanges within one stretch of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub real: Duration,
    pub at_exchanges: usize,
    pub apdus: usize,
    /// Of `real`: how late the simulated radio's waits ended.
    pub late_waits: Duration,
    /// The sum was more than the cap, and `real` is the cap.
    pub capped: bool,
    /// The sum before the cap: the rig's whole measured time in the stretch.
    pub wanted: Duration,
}

impl Allowance {
    /// `+ 1.20 ms real for the rig (14 AT exchanges, 9 APDUs, radio waits 0.30 ms late)`, ending
    /// `; capped at the tolerance)` when the cap applied.
    pub fn describe(&self) -> String {
        format!(
            "+ {:.2} ms real for the rig ({} AT exchanges, {} APDUs, radio waits {:.2} ms late{})",
            self.real.as_secs_f64() * 1000.0,
            self.at_exchanges,
            self.apdus,
            self.late_waits.as_secs_f64() * 1000.0,
            if self.capped { "; capped at the tolerance" } else { "" }
        )
    }

    fn capped_at(mut self, cap: Duration) -> Allowance {
        self.wanted = self.real;
        if self.real > cap {
            self.real = cap;
            self.capped = true;
        }
        self
    }
}

impl Evidence {
    /// The rig's real time in `(from, to]`: one AT exchange per DUT command, plus one for the
    /// console line that reports the result, plus every APDU's time through the bridge — except
    /// an APDU a `slow` card fault held back, whose delay is the fault's (scaled) time — plus
    /// how late the simulated radio's waits that ended in it were; at most `cap`.
    pub fn rig_allowance(&self, from: Duration, to: Duration, cap: Duration) -> Option<Allowance> {
        let rig = self.rig_time.as_ref()?;
        let within = |at: &Duration| *at > from && *at <= to;
        let at_exchanges = rig.dut_commands.iter().filter(|at| within(at)).count() + 1;
        let apdus: Vec<&ApduRecord> =
            self.apdus.iter().filter(|a| within(&a.at) && a.fault != Some("slow")).collect();
        let resets: Duration =
            rig.card_resets.iter().filter(|(at, _)| within(at)).map(|(_, took)| *took).sum();
        let card: Duration = apdus.iter().map(|a| a.latency).sum::<Duration>() + resets;
        let late_waits: Duration = rig.late_waits.iter().filter(|(at, _)| within(at)).map(|(_, l)| *l).sum();
        let sum = Allowance {
            real: rig.at_exchange * at_exchanges as u32 + card + late_waits,
            at_exchanges,
            apdus: apdus.len(),
            late_waits,
            capped: false,
            wanted: Duration::ZERO,
        };
        Some(sum.capped_at(cap))
    }

    /// The rig's real time in a moment the DUT's own timer decides: only the `exchanges` that
    /// report it (the console line; or, seen from the card side, the slot switch and the card's
    /// reset that follow it).
    pub fn timer_allowance(&self, exchanges: usize) -> Option<Allowance> {
        let rig = self.rig_time.as_ref()?;
        Some(Allowance {
            real: rig.at_exchange * exchanges as u32,
            at_exchanges: exchanges,
            apdus: 0,
            late_waits: Duration::ZERO,
            capped: false,
            wanted: rig.at_exchange * exchanges as u32,
        })
    }
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
    fn the_rig_allowance_counts_the_dut_commands_and_apdus_of_its_stretch_only() {
        let ms = Duration::from_millis;
        let apdu = |at: u64, latency_us: u64| ApduRecord {
            at: ms(at),
            slot: 0,
            cla: 0,
            ins: 0xB0,
            subject: crate::bridge::Subject::Other,
            sw: Some(0x9000),
            latency: Duration::from_micros(latency_us),
            fault: None,
            ..ApduRecord::default()
        };
        let held = ApduRecord { fault: Some("slow"), ..apdu(16, 50_000) };
        let mut e =
            Evidence { apdus: vec![apdu(5, 900), apdu(15, 300), held, apdu(25, 200)], ..Evidence::default() };
        let no_cap = Duration::MAX;
        assert_eq!(
            e.rig_allowance(ms(10), ms(20), no_cap),
            None,
            "a bench that does not measure allows nothing"
        );
        e.rig_time = Some(RigTime {
            at_exchange: Duration::from_micros(100),
            dut_commands: vec![ms(9), ms(11), ms(12), ms(20), ms(21)],
            late_waits: vec![(ms(9), ms(5)), (ms(18), Duration::from_micros(250))],
            card_resets: Vec::new(),
        });
        let a = e.rig_allowance(ms(10), ms(20), no_cap).unwrap();
        // 11, 12, 20 and the result's console line: 4 exchanges of 100 µs; the APDU at 15: 300 µs
        // (the one a slow card held back is the fault's time, not the rig's); the radio wait
        // that ended at 18, 250 µs late.
        let late = Duration::from_micros(250);
        assert_eq!(
            a,
            Allowance {
                real: Duration::from_micros(950),
                at_exchanges: 4,
                apdus: 1,
                late_waits: late,
                capped: false,
                wanted: Duration::from_micros(950),
            }
        );
        assert_eq!(
            a.describe(),
            "+ 0.95 ms real for the rig (4 AT exchanges, 1 APDUs, radio waits 0.25 ms late)"
        );
        // Never more than the cap (the scenario's tolerance, in real time).
        let capped = e.rig_allowance(ms(10), ms(20), Duration::from_micros(500)).unwrap();
        assert_eq!((capped.real, capped.capped), (Duration::from_micros(500), true));
        assert!(capped.describe().ends_with("; capped at the tolerance)"), "{}", capped.describe());
        // A judgement on the DUT's own timer: the console line only.
        let at_t = e.timer_allowance(1).unwrap();
        assert_eq!((at_t.real, at_t.at_exchanges, at_t.apdus), (Duration::from_micros(100), 1, 0));
    }

    #[test]
    fn registration_stat_reads_the_first_field_of_registration_urcs_only() {
        assert_eq!(registration_stat("+CEREG: 1,\"1A2B\",\"01A2B3C4\",7"), Some(1));
        assert_eq!(registration_stat("+CREG: 5"), Some(5));
        assert_eq!(registration_stat("+CGREG: 3"), Some(3));
        assert_eq!(registration_stat("+QSIMSTAT: 1,0"), None);
        assert_eq!(registration_stat("RING"), None);
    }
}
