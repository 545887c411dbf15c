//! One attempt with one seed (docs/method.md §3): slot switch, card ready, registration, context,
//! and the report through it to the backend. The steps run until they succeed or something
//! answers with a definite failure; silence never ends them. The [`Judge`] decides, with the
//! clock, when the attempt is over.

use std::sync::Mutex;
use std::time::Instant;

use super::at_client::{AtClient, AtError};
use super::config::{Config, SeedConfig};
use super::console::{Console, Event};
use super::faults::{FaultMode, sends_report};
use super::judge::{Judge, Observed, Verdict};
use super::measure::{MeasuredCell, parse_cops, rat_from_act};
use super::nominal_clock::Clock;
use super::report::{Answer, Report, parse_answer};
use super::urc::{Cereg, Cpin, Urc};
use crate::model::Rat;

/// What the running attempt waits for; `status` reports it.
#[derive(Debug, Default)]
pub struct Progress(Mutex<&'static str>);

impl Progress {
    pub fn set(&self, step: &'static str) {
        *self.0.lock().expect("progress lock") = step;
    }

    pub fn get(&self) -> &'static str {
        *self.0.lock().expect("progress lock")
    }
}

/// How far an attempt got: decides which reports mean the seed was lost on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Switching,
    CardReady,
    Registered,
    Dialed,
}

/// A successful attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// As the card gave it (`AT+CIMI`).
    pub imsi: String,
    /// Numeric PLMN of the registration (`AT+COPS?`).
    pub plmn: Option<String>,
    pub rat: Option<Rat>,
    /// The backend's answer; `None` when the report was not sent (`no-report`).
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Connected(Connection),
    Failed { at_ms: u64, explicit: bool, reason: String },
}

/// Why the steps stopped short of success.
#[derive(Debug)]
enum StepError {
    Explicit(String),
    /// The bench failed (the port closed): no verdict on the seed.
    Bench(AtError),
}

pub struct Attempt<'a> {
    pub at: &'a mut AtClient,
    pub console: &'a Console,
    pub cfg: &'a Config,
    pub seed: &'a SeedConfig,
    /// The pass's measurement, reported to the backend.
    pub cells: &'a [MeasuredCell],
    pub fault: Option<FaultMode>,
    pub progress: &'a Progress,
    stage: Stage,
}

impl<'a> Attempt<'a> {
    pub fn new(
        at: &'a mut AtClient,
        console: &'a Console,
        cfg: &'a Config,
        seed: &'a SeedConfig,
        cells: &'a [MeasuredCell],
        fault: Option<FaultMode>,
        progress: &'a Progress,
    ) -> Attempt<'a> {
        Attempt { at, console, cfg, seed, cells, fault, progress, stage: Stage::Switching }
    }

    /// Runs the steps under `judge`; `Err` only when the bench fails.
    pub async fn run(mut self, judge: Judge, clock: &Clock) -> Result<Outcome, AtError> {
        let start = Instant::now();
        let progress = self.progress;
        let deadline = judge.deadline_ms().map(|t| tokio::time::Instant::from_std(start) + clock.real(t));
        let steps = self.steps();
        tokio::pin!(steps);
        let (mut events, mut connection, mut steps_done) = (Vec::new(), None, false);
        loop {
            match judge.decide(&events, clock.since_ms(start), progress.get()) {
                Some(Verdict::Connected { .. }) => {
                    return Ok(Outcome::Connected(connection.expect("observed")));
                }
                Some(Verdict::Failed { at_ms, explicit, reason }) => {
                    return Ok(Outcome::Failed { at_ms, explicit, reason });
                }
                None => {}
            }
            tokio::select! {
                r = &mut steps, if !steps_done => {
                    steps_done = true;
                    let at = clock.since_ms(start);
                    match r {
                        Ok(c) => {
                            connection = Some(c);
                            events.push((at, Observed::Connected));
                        }
                        Err(StepError::Explicit(reason)) => events.push((at, Observed::Explicit(reason))),
                        Err(StepError::Bench(e)) => return Err(e),
                    }
                }
                () = sleep_until(deadline) => {}
            }
        }
    }

    async fn steps(&mut self) -> Result<Connection, StepError> {
        // Reports about the previous card are no news about this one.
        self.at.drain_urcs();
        self.step("the SIM slot switch");
        self.cmd(
            &format!("AT+QUIMSLOT={}", u16::from(self.seed.slot) + 1),
            "the modem refused the slot switch",
        )
        .await?;
        // A report of the previous card may still have been on its way: what came before the
        // switch's OK is about that card, not this one.
        self.at.forget_urcs_before_last_answer();
        self.step("the card (+CPIN)");
        self.wait(card_ready).await?;
        self.stage = Stage::CardReady;
        let imsi = self.imsi().await?;
        self.cmd(&format!("AT+CGDCONT=1,\"IP\",\"{}\"", self.seed.apn), "the modem refused the APN").await?;
        self.cmd("AT+COPS=0", "the modem refused to register").await?;
        self.step("registration (+CEREG)");
        let act = self.wait(registration).await?;
        self.stage = Stage::Registered;
        let (plmn, act) = self.operator(act).await?;
        self.step("context activation (AT+QIACT)");
        self.cmd("AT+QIACT=1", "context activation rejected").await?;
        self.stage = Stage::Dialed;
        if self.fault == Some(FaultMode::ConnectBeforeData) {
            // Declared before the report proves the data path.
            let rat = act.and_then(rat_from_act).map(|r| r.name().to_owned());
            let (slot, iccid) = (self.seed.slot, self.seed.iccid.clone());
            let connected = Event::Connected { slot, iccid, imsi: imsi.clone(), plmn: plmn.clone(), rat };
            self.console.emit(connected);
        }
        let answer = match sends_report(self.fault) {
            true => Some(self.report(&imsi, plmn.as_deref()).await?),
            false => None,
        };
        Ok(Connection { imsi, plmn, rat: act.and_then(rat_from_act), answer })
    }

    /// The data connection (§1.3): the report to the backend, and its answer.
    async fn report(&mut self, imsi: &str, plmn: Option<&str>) -> Result<Answer, StepError> {
        let (host, port) = (&self.cfg.backend_host, self.cfg.backend_port);
        self.step("the socket to the backend (+QIOPEN)");
        self.cmd(&format!("AT+QIOPEN=1,0,\"TCP\",\"{host}\",{port},0,1"), "the modem refused the socket")
            .await?;
        self.wait(socket_open).await?;
        let body = Report {
            kind: "report",
            iccid: &self.seed.iccid,
            imsi,
            // Where the hotspot is: the visited network's country, else the card's.
            mcc: plmn.unwrap_or(imsi).get(..3).unwrap_or(""),
            site: &self.cfg.site,
            site_cells: self.cells,
            rats: self.seed.rats.iter().map(|r| r.name()).collect(),
        }
        .to_bytes();
        self.step("sending the report (AT+QISEND)");
        let send = self.at.send_data(&format!("AT+QISEND=0,{}", body.len()), &body, None).await;
        send.map_err(|e| explicit_or_bench(e, "the report was not sent"))?;
        let (slot, iccid) = (self.seed.slot, self.seed.iccid.clone());
        self.console.emit(Event::ReportSent { slot, iccid, bytes: body.len() });
        self.step("the backend's answer (+QIURC recv)");
        let mut answer = Vec::new();
        self.wait(|u| match u {
            Urc::Recv { conn: 0, data } => {
                answer.extend_from_slice(data);
                parse_answer(&answer).transpose()
            }
            _ => None,
        })
        .await
    }

    async fn imsi(&mut self) -> Result<String, StepError> {
        let lines = self.at.command("AT+CIMI", None).await;
        let lines = lines.map_err(|e| explicit_or_bench(e, "the card gave no IMSI"))?;
        let imsi = lines.into_iter().find(|l| l.len() >= 6 && l.bytes().all(|b| b.is_ascii_digit()));
        imsi.ok_or_else(|| StepError::Explicit("the card gave no IMSI".into()))
    }

    /// The registered network from `AT+COPS?`; the AcT of `+CEREG` if the modem does not say.
    async fn operator(&mut self, act: Option<u8>) -> Result<(Option<String>, Option<u8>), StepError> {
        match self.at.command("AT+COPS?", None).await {
            Ok(lines) => Ok(parse_cops(&lines).map_or((None, act), |(plmn, a)| (Some(plmn), a.or(act)))),
            Err(e) if e.is_answer() => Ok((None, act)),
            Err(e) => Err(StepError::Bench(e)),
        }
    }

    async fn cmd(&mut self, cmd: &str, what: &str) -> Result<Vec<String>, StepError> {
        self.at.command(cmd, None).await.map_err(|e| explicit_or_bench(e, what))
    }

    /// The next URC `pick` decides on; a report that the seed was lost ends the wait too.
    async fn wait<T>(
        &mut self,
        mut pick: impl FnMut(&Urc) -> Option<Result<T, String>>,
    ) -> Result<T, StepError> {
        loop {
            let urc = self.at.next_urc().await.map_err(StepError::Bench)?;
            if let Some(r) = pick(&urc) {
                return r.map_err(StepError::Explicit);
            }
            if let Some(reason) = lost(self.stage, &urc) {
                return Err(StepError::Explicit(reason));
            }
        }
    }

    fn step(&self, step: &'static str) {
        self.progress.set(step);
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn explicit_or_bench(e: AtError, what: &str) -> StepError {
    if e.is_answer() { StepError::Explicit(format!("{what}: {e}")) } else { StepError::Bench(e) }
}

/// After the slot switch: the card is ready, or the modem says why not.
pub fn card_ready(u: &Urc) -> Option<Result<(), String>> {
    match u {
        Urc::Cpin(Cpin::Ready) => Some(Ok(())),
        Urc::Cpin(Cpin::Other(s)) if s.contains("PIN") || s.contains("PUK") => {
            Some(Err(format!("the card demands a PIN (+CPIN: {s})")))
        }
        Urc::Cpin(c) => {
            Some(Err(format!("the card is not ready after the switch (+CPIN: {})", cpin_text(c))))
        }
        Urc::CmeError(code) => Some(Err(card_error(code))),
        _ => None,
    }
}

/// After `AT+COPS=0`: registered (with the AcT if reported), or denied.
pub fn registration(u: &Urc) -> Option<Result<Option<u8>, String>> {
    match u {
        Urc::Cereg(c) if c.registered() => Some(Ok(c.act)),
        Urc::Cereg(c) if c.denied() => Some(Err(reject_reason(c))),
        _ => None,
    }
}

fn socket_open(u: &Urc) -> Option<Result<(), String>> {
    match u {
        Urc::QiOpen { conn: 0, err: 0 } => Some(Ok(())),
        Urc::QiOpen { conn: 0, err } => {
            Some(Err(format!("the socket to the backend failed (+QIOPEN: 0,{err})")))
        }
        _ => None,
    }
}

/// A report, at `stage`, that the seed is lost: the card went, registration was withdrawn,
/// the context or socket was torn down.
pub fn lost(stage: Stage, u: &Urc) -> Option<String> {
    let reason = match u {
        Urc::Cpin(Cpin::Ready) | Urc::SimStat { inserted: true } => return None,
        Urc::Cpin(c) if stage >= Stage::CardReady => format!("the card went away (+CPIN: {})", cpin_text(c)),
        Urc::CmeError(code) if stage >= Stage::CardReady => card_error(code),
        Urc::SimStat { inserted: false } if stage >= Stage::CardReady => {
            "the card was removed (+QSIMSTAT: 1,0)".into()
        }
        Urc::Cereg(c) if stage >= Stage::Registered && c.denied() => reject_reason(c),
        Urc::Cgev(e) if stage >= Stage::Dialed && e.contains("DEACT") => {
            format!("the context went down (+CGEV: {e})")
        }
        Urc::QiUrc(kind) if stage >= Stage::Dialed && (kind == "closed" || kind == "pdpdeact") => {
            format!("the connection to the backend went down (+QIURC: \"{kind}\")")
        }
        _ => return None,
    };
    Some(reason)
}

fn cpin_text(c: &Cpin) -> &str {
    match c {
        Cpin::Ready => "READY",
        Cpin::NotReady => "NOT READY",
        Cpin::Other(s) => s,
    }
}

fn card_error(code: &str) -> String {
    let what = match code {
        "10" => "no card in the slot",
        "13" => "card failure",
        "11" | "12" => "the card demands a PIN",
        _ => "card error",
    };
    format!("{what} (+CME ERROR: {code})")
}

/// Worded as the oracle words it, so reports read alike.
fn reject_reason(c: &Cereg) -> String {
    match c.reject {
        Some((0, cause)) => format!("registration rejected, EMM cause {cause}"),
        Some((kind, cause)) => format!("registration rejected, cause {cause} (type {kind})"),
        None => "registration denied (+CEREG: 3)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference_firmware::urc::parse;

    fn urc(line: &str) -> Urc {
        parse(line).unwrap_or_else(|| panic!("{line}"))
    }

    #[test]
    fn card_answers_after_the_switch() {
        assert_eq!(card_ready(&urc("+CPIN: READY")), Some(Ok(())));
        assert!(card_ready(&urc("+CPIN: NOT READY")).unwrap().unwrap_err().contains("NOT READY"));
        assert!(card_ready(&urc("+CPIN: SIM PIN")).unwrap().unwrap_err().contains("PIN"));
        let no_card = card_ready(&Urc::CmeError("10".into())).unwrap().unwrap_err();
        assert_eq!(no_card, "no card in the slot (+CME ERROR: 10)");
        assert_eq!(card_ready(&urc("+CEREG: 2")), None);
    }

    #[test]
    fn registration_answers() {
        assert_eq!(registration(&urc("+CEREG: 2")), None);
        assert_eq!(registration(&urc("+CEREG: 5,\"1\",\"2\",7")), Some(Ok(Some(7))));
        assert_eq!(
            registration(&urc("+CEREG: 3,,,,0,8")),
            Some(Err("registration rejected, EMM cause 8".into()))
        );
    }

    #[test]
    fn losses_count_only_once_the_stage_is_reached() {
        let pulled = urc("+QSIMSTAT: 1,0");
        assert_eq!(lost(Stage::Switching, &pulled), None);
        assert!(lost(Stage::CardReady, &pulled).is_some());
        let deact = urc("+CGEV: NW PDN DEACT 1");
        assert_eq!(lost(Stage::Registered, &deact), None);
        assert!(lost(Stage::Dialed, &deact).unwrap().contains("context went down"));
        assert_eq!(lost(Stage::Dialed, &urc("+CPIN: READY")), None);
        assert!(lost(Stage::Registered, &urc("+CEREG: 3,,,,0,15")).is_some());
        assert_eq!(lost(Stage::Dialed, &urc("+CEREG: 2")), None, "searching again is not yet lost");
    }
}
