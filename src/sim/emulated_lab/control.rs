//! The emulated lab's control socket: how a rig's hooks reach the running world. One command
//! per connection, one line each way: `ok` or `error: <why>`.
//!
//! Commands: `site <site-id>`, `fault <seed-id> <kind> [<cause or delay_ms>]`, `clear` (the
//! network); `configure <path>`, `restart`, `power-cycle`, `fault-mode <mode|none>`, `unplug`,
//! `replug` (the DUT and its console device).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Site(String),
    Fault {
        seed: String,
        kind: String,
        arg: Option<u64>,
    },
    Clear,
    Configure(PathBuf),
    Restart,
    /// Power off, wait the lab's power delay, power on: the DUT boots on its last
    /// configuration (a slow power cycle, as a real DUT's).
    PowerCycle,
    FaultMode(Option<String>),
    /// The DUT's console device goes away, as a USB serial adapter pulled out does.
    Unplug,
    /// It comes back, under the same name.
    Replug,
}

impl Command {
    pub fn parse(line: &str) -> Result<Command, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        Ok(match words.as_slice() {
            ["site", site] => Command::Site((*site).to_owned()),
            ["fault", seed, kind] => {
                Command::Fault { seed: (*seed).to_owned(), kind: (*kind).to_owned(), arg: None }
            }
            ["fault", seed, kind, arg] => {
                let arg = arg.parse().map_err(|_| format!("fault {kind}: \"{arg}\" is not a number"))?;
                Command::Fault { seed: (*seed).to_owned(), kind: (*kind).to_owned(), arg: Some(arg) }
            }
            ["clear"] => Command::Clear,
            ["configure", path] => Command::Configure(PathBuf::from(path)),
            ["restart"] => Command::Restart,
            ["power-cycle"] => Command::PowerCycle,
            ["fault-mode", "none"] => Command::FaultMode(None),
            ["fault-mode", mode] => Command::FaultMode(Some((*mode).to_owned())),
            ["unplug"] => Command::Unplug,
            ["replug"] => Command::Replug,
            _ => {
                return Err(format!(
                    "unknown command \"{}\"; use site, fault, clear, configure, restart, power-cycle, fault-mode, \
                     unplug or replug",
                    line.trim()
                ));
            }
        })
    }

    pub fn line(&self) -> String {
        match self {
            Command::Site(s) => format!("site {s}"),
            Command::Fault { seed, kind, arg: Some(a) } => format!("fault {seed} {kind} {a}"),
            Command::Fault { seed, kind, arg: None } => format!("fault {seed} {kind}"),
            Command::Clear => "clear".into(),
            Command::Configure(p) => format!("configure {}", p.display()),
            Command::Restart => "restart".into(),
            Command::PowerCycle => "power-cycle".into(),
            Command::FaultMode(Some(m)) => format!("fault-mode {m}"),
            Command::FaultMode(None) => "fault-mode none".into(),
            Command::Unplug => "unplug".into(),
            Command::Replug => "replug".into(),
        }
    }
}

/// Serves commands one connection at a time, each handled by `handle` before the next.
pub async fn serve<F, Fut>(listener: UnixListener, mut handle: F)
where
    F: FnMut(Command) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    while let Ok((stream, _)) = listener.accept().await {
        let (rd, mut wr) = stream.into_split();
        let mut line = String::new();
        if BufReader::new(rd).read_line(&mut line).await.is_err() {
            continue;
        }
        let answer = match Command::parse(&line) {
            Ok(cmd) => {
                tracing::info!(command = %cmd.line(), "emulated lab: control");
                handle(cmd).await
            }
            Err(e) => Err(e),
        };
        let reply = match answer {
            Ok(()) => "ok\n".to_owned(),
            Err(e) => format!("error: {}\n", e.replace('\n', " ")),
        };
        let _ = wr.write_all(reply.as_bytes()).await;
    }
}

/// Sends one command to a running emulated lab and returns its answer.
pub async fn send(socket: &Path, cmd: &Command) -> Result<(), String> {
    let stream = UnixStream::connect(socket).await.map_err(|e| {
        format!("no emulated lab at {}: {e} (is `seedrig sim lab` running?)", socket.display())
    })?;
    let (rd, mut wr) = stream.into_split();
    wr.write_all(format!("{}\n", cmd.line()).as_bytes()).await.map_err(|e| e.to_string())?;
    let mut answer = String::new();
    BufReader::new(rd).read_line(&mut answer).await.map_err(|e| e.to_string())?;
    match answer.trim() {
        "ok" => Ok(()),
        "" => Err("the emulated lab closed the connection without an answer".into()),
        other => Err(other.strip_prefix("error: ").unwrap_or(other).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_through_their_line() {
        for line in [
            "site paris-cdg",
            "fault ee-uk-1 reject 15",
            "fault ee-uk-1 silent",
            "clear",
            "configure /tmp/x.toml",
            "restart",
            "power-cycle",
            "fault-mode wrong-order",
            "fault-mode none",
            "unplug",
            "replug",
        ] {
            assert_eq!(Command::parse(line).unwrap().line(), line);
        }
        assert!(Command::parse("fault a reject x").unwrap_err().contains("\"x\" is not a number"));
        assert!(Command::parse("reboot").unwrap_err().contains("unknown command \"reboot\""));
    }
}
