//! The firmware's life: boot, wait for `start`, passes of attempts (measure, rank, master then
//! standbys), stay on the winner until `reset`. Console commands are served throughout.

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;

use super::at_client::{AtClient, AtError};
use super::attempt::{Attempt, Connection, Outcome, Progress};
use super::config::Config;
use super::console::{Command, Commands, Console, Event, OutputFormat, Status};
use super::faults::{self, FaultMode, Planned};
use super::judge::Judge;
use super::measure::{MeasuredCell, measure};
use super::nominal_clock::Clock;
use super::rank::rank_standbys_by;
use super::report::Answer;
use crate::model::Weights;

/// For commands outside attempts, which a healthy modem answers at once.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Switches URCs on: registration with reject causes, context events, card insert/remove.
pub const INIT: &[&str] = &["ATE0", "AT+CMEE=1", "AT+CEREG=3", "AT+CGEREP=2,1", "AT+QSIMSTAT=1"];

#[derive(Debug, thiserror::Error)]
pub enum FirmwareError {
    #[error("{0}")]
    Console(std::io::Error),
    #[error(transparent)]
    At(#[from] AtError),
    #[error("the console closed before anyone sent start")]
    ConsoleClosed,
}

/// Runs the firmware until a fatal error (it never stops on its own), writing its console
/// events in `format`.
pub async fn run(
    cfg: Config,
    fault: Option<FaultMode>,
    format: OutputFormat,
) -> Result<Infallible, FirmwareError> {
    let clock = Clock::start(cfg.time_scale);
    let (console, commands) = Console::open(&cfg.console, clock, format).map_err(FirmwareError::Console)?;
    let console = console.with_fault(fault);
    let result = match AtClient::open(&cfg.at_port) {
        Ok(mut at) => Firmware::new(cfg, fault, clock, &console, commands).life(&mut at).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = &result {
        console.emit(Event::Error { reason: e.to_string() });
    }
    console.close().await;
    result
}

/// What `status` reports, shared between the running session and the console.
struct Shared {
    state: Mutex<State>,
    progress: Progress,
}

struct State {
    phase: &'static str,
    pass: u32,
    seed: Option<(u8, String)>,
    weights: Weights,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().expect("state lock"));
    }

    fn phase(&self, phase: &'static str) {
        self.update(|s| s.phase = phase);
    }

    fn weights(&self) -> Weights {
        self.state.lock().expect("state lock").weights
    }

    fn status(&self, cfg: &Config) -> Status {
        let s = self.state.lock().expect("state lock");
        Status {
            state: s.phase.into(),
            pass: s.pass,
            slot: s.seed.as_ref().map(|(slot, _)| *slot),
            iccid: s.seed.as_ref().map(|(_, iccid)| iccid.clone()),
            step: (s.phase == "attempting").then(|| self.progress.get().to_owned()),
            weights: Some(s.weights.into()),
            judgement: Some(cfg.judgement.name().into()),
        }
    }

    /// A console command other than `reset`, in any state; `running` says whether `start`
    /// would be a second start.
    fn serve(&self, cmd: Result<Command, String>, running: bool, cfg: &Config, console: &Console) {
        match cmd {
            Ok(Command::Status) => console.emit(Event::Status(self.status(cfg))),
            Ok(Command::Weights(w)) => self.update(|s| s.weights = w),
            Ok(Command::Start) if running => {
                console.emit(Event::Error { reason: "already started; send reset first".into() })
            }
            Ok(Command::Start | Command::Reset) => {}
            Err(reason) => console.emit(Event::Error { reason }),
        }
    }
}

struct Firmware<'a> {
    cfg: Config,
    fault: Option<FaultMode>,
    clock: Clock,
    console: &'a Console,
    commands: Commands,
    console_open: bool,
    shared: Shared,
}

impl<'a> Firmware<'a> {
    fn new(
        cfg: Config,
        fault: Option<FaultMode>,
        clock: Clock,
        console: &'a Console,
        commands: Commands,
    ) -> Self {
        let state = State { phase: "boot", pass: 0, seed: None, weights: cfg.weights };
        let shared = Shared { state: Mutex::new(state), progress: Progress::default() };
        Firmware { cfg, fault, clock, console, commands, console_open: true, shared }
    }

    async fn life(&mut self, at: &mut AtClient) -> Result<Infallible, FirmwareError> {
        loop {
            self.console.emit(Event::Boot { fault: self.fault.map(|f| f.name().to_owned()) });
            if !self.cfg.autostart {
                self.wait_for_start().await?;
            }
            self.running(at).await?;
            // `reset`: whatever was pending is abandoned; leave the network, back to boot.
            match at.command("AT+COPS=2", Some(COMMAND_TIMEOUT)).await {
                Err(AtError::Closed) => return Err(AtError::Closed.into()),
                _ => self.shared.update(|s| (s.phase, s.pass, s.seed) = ("boot", 0, None)),
            }
        }
    }

    async fn wait_for_start(&mut self) -> Result<(), FirmwareError> {
        loop {
            match self.commands.recv().await {
                None => return Err(FirmwareError::ConsoleClosed),
                Some(Ok(Command::Start)) => return Ok(()),
                Some(cmd) => self.shared.serve(cmd, false, &self.cfg, self.console),
            }
        }
    }

    /// One session, from `start` until `reset`.
    async fn running(&mut self, at: &mut AtClient) -> Result<(), FirmwareError> {
        let session =
            Session { at, cfg: &self.cfg, fault: self.fault, console: self.console, shared: &self.shared };
        let session = session.run(self.clock);
        tokio::pin!(session);
        let mut done = false;
        loop {
            tokio::select! {
                r = &mut session, if !done => {
                    r?;
                    done = true;
                }
                cmd = self.commands.recv(), if self.console_open => match cmd {
                    None => self.console_open = false,
                    Some(Ok(Command::Reset)) => return Ok(()),
                    Some(cmd) => self.shared.serve(cmd, true, &self.cfg, self.console),
                },
                // Settled (or exhausted for good) and the console is gone: whoever ran this
                // device is gone with it (the rig died, or its bench was taken down).
                else => return Err(FirmwareError::ConsoleClosed),
            }
        }
    }
}

/// The work of one session; returns once connected or exhausted for good.
struct Session<'s> {
    at: &'s mut AtClient,
    cfg: &'s Config,
    fault: Option<FaultMode>,
    console: &'s Console,
    shared: &'s Shared,
}

impl Session<'_> {
    async fn run(mut self, clock: Clock) -> Result<(), FirmwareError> {
        for cmd in INIT {
            self.at.command(cmd, Some(COMMAND_TIMEOUT)).await?;
        }
        for pass in 1.. {
            self.shared.update(|s| (s.phase, s.pass, s.seed) = ("measuring", pass, None));
            let cells = self.measure().await?;
            let weights = faults::ranking_weights(self.shared.weights(), self.fault);
            let ranked = rank_standbys_by(&self.cfg.standbys, &cells, weights, faults::rank_rule(self.fault));
            self.console.emit(Event::Rank { order: ranked.clone() });
            let (master, standbys) = (&self.cfg.master, &self.cfg.standbys);
            let plan = faults::plan(master, standbys, &ranked, self.fault);
            let mut retried = false;
            for (n, planned) in plan.iter().enumerate() {
                let claimed = faults::claimed(&plan, n, master, standbys, &ranked, self.fault);
                if self.attempt(planned, &claimed, pass, &cells, &clock).await? {
                    return Ok(());
                }
                // `retry-standby`: the first standby that fails gets a second try.
                if self.fault == Some(FaultMode::RetryStandby) && n > 0 && !retried {
                    retried = true;
                    if self.attempt(planned, &claimed, pass, &cells, &clock).await? {
                        return Ok(());
                    }
                }
            }
            self.console.emit(Event::Exhausted { pass });
            let Some(backoff) = self.cfg.retry_backoff_ms else {
                self.shared.phase("exhausted");
                return Ok(());
            };
            self.shared.phase("backoff");
            tokio::time::sleep(clock.real(backoff)).await;
        }
        unreachable!("passes never run out")
    }

    /// A failed scan is no reason to stop: the master needs no ranking, and the standbys
    /// then all tie at -140 dBm and go in slot order.
    async fn measure(&mut self) -> Result<Vec<MeasuredCell>, FirmwareError> {
        let cells = match measure(self.at).await {
            Ok(cells) => cells,
            Err(e) if e.is_answer() || matches!(e, AtError::Timeout { .. }) => {
                self.console
                    .emit(Event::Error { reason: format!("measurement failed ({e}); ranking without it") });
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        self.console.emit(Event::Measure { cells: cells.clone() });
        Ok(cells)
    }

    /// One attempt; `true` when it connected. `claimed` is what the console says is tried
    /// (the planned seed, but for the `lying-console` fault).
    async fn attempt(
        &mut self,
        planned: &Planned<'_>,
        claimed: &Planned<'_>,
        pass: u32,
        cells: &[MeasuredCell],
        clock: &Clock,
    ) -> Result<bool, FirmwareError> {
        let seed = planned.seed;
        let (slot, iccid) = (claimed.seed.slot, claimed.seed.iccid.clone());
        self.shared.update(|s| (s.phase, s.seed) = ("attempting", Some((slot, iccid.clone()))));
        self.console.emit(Event::Attempt {
            slot,
            iccid: iccid.clone(),
            role: claimed.seed.role,
            index: claimed.index,
            pass,
        });
        let is_standby = seed.role == super::config::Role::Standby;
        let t_ms = faults::attempt_timeout(self.cfg.attempt_timeout_ms, self.fault);
        let t_ms = if is_standby { faults::standby_timeout(t_ms, self.fault) } else { t_ms };
        let judge = Judge { mode: self.cfg.judgement, t_ms };
        let attempt =
            Attempt::new(self.at, self.console, self.cfg, seed, cells, self.fault, &self.shared.progress);
        match attempt.run(judge, clock).await? {
            Outcome::Failed { explicit, reason, .. } => {
                let late = faults::late_by_ms(self.cfg.attempt_timeout_ms, self.fault);
                if is_standby && late > 0 {
                    tokio::time::sleep(clock.real(late)).await;
                }
                self.console.emit(Event::Judged { slot, iccid, ok: false, reason, explicit });
                Ok(false)
            }
            Outcome::Connected(c) => {
                self.connected(slot, iccid, c).await?;
                Ok(true)
            }
        }
    }

    async fn connected(&mut self, slot: u8, iccid: String, c: Connection) -> Result<(), FirmwareError> {
        let rat = c.rat.map(|r| r.name().to_owned());
        self.console.emit(Event::Connected { slot, iccid, imsi: c.imsi, plmn: c.plmn, rat });
        self.shared.phase("connected");
        match c.answer {
            Some(Answer::Vsim { iccid, imsi, .. }) => {
                self.console.emit(Event::VsimAssigned { slot, vsim_iccid: iccid, vsim_imsi: imsi });
            }
            Some(Answer::Refused(reason)) => {
                let reason = format!("the backend refused the report: {reason}");
                self.console.emit(Event::Error { reason });
            }
            None => return Ok(()),
        }
        // The report is done; the seed stays registered with its context up.
        match self.at.command("AT+QICLOSE=0", Some(COMMAND_TIMEOUT)).await {
            Err(AtError::Closed) => Err(AtError::Closed.into()),
            _ => Ok(()),
        }
    }
}
