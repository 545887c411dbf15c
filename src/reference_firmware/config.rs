//! The firmware's configuration file (TOML, written by the rig; docs/virtual-bench.md).
//! It holds no secrets: the firmware never needs a key, only the cards do.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::clock::TimeScale;
use crate::model::{Iccid, Judgement, Rat, Weights};

/// A file that cannot be read, does not parse, or holds a value the firmware cannot use.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// `line:column` of a parse error.
    pub at: Option<(usize, usize)>,
    /// Dotted key, e.g. `seeds[1].rats`, when one key is to blame.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.at {
            write!(f, ":{line}:{col}")?;
        }
        match &self.key {
            Some(key) => write!(f, ": `{key}`: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where the console is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsolePath {
    /// `"-"`: standard input and output.
    Stdio,
    /// A device opened like a serial port (a PTY on the virtual bench).
    Device(PathBuf),
}

pub use crate::console::Role;

#[derive(Debug, Clone, PartialEq)]
pub struct SeedConfig {
    /// The fixture's slot; `AT+QUIMSLOT` takes `slot + 1`.
    pub slot: u8,
    pub role: Role,
    pub iccid: String,
    pub rats: Vec<Rat>,
    /// The seed's APN, or the file's top-level one.
    pub apn: String,
    /// Price per MB by numeric PLMN (`"26202"`); the home carrier is one of them. A seed
    /// without any has no usable cell: it ranks last and is still tried.
    pub tariffs: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub at_port: PathBuf,
    pub console: ConsolePath,
    pub time_scale: TimeScale,
    pub judgement: Judgement,
    /// T, nominal.
    pub attempt_timeout_ms: u64,
    /// After an exhausted pass, wait this long (nominal) and start a new one.
    pub retry_backoff_ms: Option<u64>,
    pub autostart: bool,
    pub backend_host: String,
    pub backend_port: u16,
    /// The location label reported to the backend.
    pub site: String,
    pub weights: Weights,
    pub master: SeedConfig,
    /// In file order; the firmware ranks them.
    pub standbys: Vec<SeedConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    at_port: String,
    #[serde(default = "stdio")]
    console: String,
    #[serde(default = "real_time")]
    time_scale: f64,
    #[serde(default = "both")]
    judgement: String,
    attempt_timeout_ms: u64,
    retry_backoff_ms: Option<u64>,
    #[serde(default)]
    autostart: bool,
    apn: Option<String>,
    backend_host: String,
    backend_port: u16,
    site: String,
    weights: RawWeights,
    seeds: Vec<RawSeed>,
}

fn stdio() -> String {
    "-".into()
}
fn real_time() -> f64 {
    1.0
}
fn both() -> String {
    "both".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    signal: f64,
    tariff: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    slot: u8,
    role: String,
    iccid: String,
    rats: Vec<String>,
    apn: Option<String>,
    tariffs: BTreeMap<String, f64>,
}

/// A validation failure before the file name is attached: (key, message).
type Invalid = (String, String);

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            at: None,
            key: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, path)
    }

    /// Parses `text` as if read from `path` (which only names the file in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: path.to_owned(),
            at: e.span().map(|s| line_col(text, s.start)),
            key: None,
            message: e.message().trim().to_owned(),
        })?;
        validate(raw).map_err(|(key, message)| ConfigError {
            file: path.to_owned(),
            at: None,
            key: Some(key),
            message,
        })
    }

    /// Master first, then standbys in file order.
    pub fn seeds(&self) -> impl Iterator<Item = &SeedConfig> {
        std::iter::once(&self.master).chain(&self.standbys)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

fn validate(raw: RawConfig) -> Result<Config, Invalid> {
    let bad = |key: &str, message: String| Err((key.to_owned(), message));
    if raw.at_port.is_empty() {
        return bad("at_port", "is empty; give the modem's AT port, e.g. \"/dev/ttyUSB2\"".into());
    }
    if !(raw.time_scale.is_finite() && raw.time_scale > 0.0 && raw.time_scale <= 1.0) {
        return bad("time_scale", format!("is {}; it must be in (0, 1]", raw.time_scale));
    }
    let Some(judgement) = Judgement::parse(&raw.judgement) else {
        return bad("judgement", format!("is \"{}\"; use result, timeout or both", raw.judgement));
    };
    if raw.attempt_timeout_ms == 0 {
        return bad("attempt_timeout_ms", "is 0; give T in nominal milliseconds".into());
    }
    if raw.backend_host.is_empty() {
        return bad("backend_host", "is empty".into());
    }
    let weights =
        validate_weights(raw.weights.signal, raw.weights.tariff).map_err(|m| ("weights".to_owned(), m))?;
    let (master, standbys) = validate_seeds(raw.seeds, raw.apn.as_deref())?;
    Ok(Config {
        at_port: PathBuf::from(raw.at_port),
        console: if raw.console == "-" {
            ConsolePath::Stdio
        } else {
            ConsolePath::Device(raw.console.into())
        },
        time_scale: TimeScale::new(raw.time_scale),
        judgement,
        attempt_timeout_ms: raw.attempt_timeout_ms,
        retry_backoff_ms: raw.retry_backoff_ms,
        autostart: raw.autostart,
        backend_host: raw.backend_host,
        backend_port: raw.backend_port,
        site: raw.site,
        weights,
        master,
        standbys,
    })
}

/// `a, b ≥ 0`, not both 0 (docs/method.md §1). Shared with the console's `weights A B`.
pub fn validate_weights(signal: f64, tariff: f64) -> Result<Weights, String> {
    let ok = |w: f64| w.is_finite() && w >= 0.0;
    if !ok(signal) || !ok(tariff) {
        return Err(format!("signal {signal} and tariff {tariff} must both be finite and ≥ 0"));
    }
    if signal == 0.0 && tariff == 0.0 {
        return Err("signal and tariff are both 0; at least one must be positive".into());
    }
    Ok(Weights { signal, tariff })
}

fn validate_seeds(raw: Vec<RawSeed>, apn: Option<&str>) -> Result<(SeedConfig, Vec<SeedConfig>), Invalid> {
    let mut seeds = Vec::with_capacity(raw.len());
    for (i, seed) in raw.into_iter().enumerate() {
        let seed = validate_seed(seed, apn).map_err(|(k, m)| (format!("seeds[{i}].{k}"), m))?;
        let master = seed.role == Role::Master;
        if master != (i == 0) {
            let message = if master {
                "a second master; only seeds[0] is the master"
            } else {
                "the first seed must be the master"
            };
            return Err((format!("seeds[{i}].role"), message.into()));
        }
        if let Some(j) = seeds.iter().position(|s: &SeedConfig| s.slot == seed.slot) {
            return Err((
                format!("seeds[{i}].slot"),
                format!("slot {} is already used by seeds[{j}]", seed.slot),
            ));
        }
        seeds.push(seed);
    }
    if seeds.is_empty() {
        return Err(("seeds".into(), "is empty; give the master first, then the standbys".into()));
    }
    let master = seeds.remove(0);
    Ok((master, seeds))
}

fn validate_seed(raw: RawSeed, apn: Option<&str>) -> Result<SeedConfig, Invalid> {
    let bad = |key: &str, message: String| Err((key.to_owned(), message));
    let role = match raw.role.as_str() {
        "master" => Role::Master,
        "standby" => Role::Standby,
        other => return bad("role", format!("is \"{other}\"; use master or standby")),
    };
    if raw.slot == u8::MAX {
        return bad("slot", "255 has no AT+QUIMSLOT number".into());
    }
    Iccid::parse(&raw.iccid).map_err(|m| ("iccid".to_owned(), m))?;
    let mut rats = Vec::new();
    for name in &raw.rats {
        match Rat::parse(name) {
            Some(r) if !rats.contains(&r) => rats.push(r),
            Some(_) => return bad("rats", format!("lists \"{name}\" twice")),
            None => return bad("rats", format!("\"{name}\" is not a RAT; use gsm, umts, lte or nr")),
        }
    }
    if rats.is_empty() {
        return bad("rats", "is empty; a seed works on at least one RAT".into());
    }
    for (plmn, price) in &raw.tariffs {
        if !(5..=6).contains(&plmn.len()) || !plmn.bytes().all(|b| b.is_ascii_digit()) {
            return bad("tariffs", format!("key \"{plmn}\" is not a numeric PLMN like \"26202\""));
        }
        if !(price.is_finite() && *price >= 0.0) {
            return bad(&format!("tariffs.{plmn}"), format!("is {price}; a price is finite and ≥ 0"));
        }
    }
    let Some(apn) = raw.apn.as_deref().or(apn).filter(|a| !a.is_empty()) else {
        return bad("apn", "missing, and the file has no top-level apn".into());
    };
    Ok(SeedConfig { slot: raw.slot, role, iccid: raw.iccid, rats, apn: apn.to_owned(), tariffs: raw.tariffs })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const GOOD: &str = r#"
at_port = "/dev/pts/7"
console = "/dev/pts/9"
time_scale = 0.01
judgement = "both"
attempt_timeout_ms = 30000
retry_backoff_ms = 60000
autostart = false
apn = "internet"
backend_host = "backend.seedrig.test"
backend_port = 7000
site = "frankfurt-airport"
[weights]
signal = 0.5
tariff = 0.5
[[seeds]]
slot = 0
role = "master"
iccid = "8988211000000430010"
rats = ["lte", "nr"]
apn = "web.vodafone.de"
tariffs = { "26202" = 0.002, "26201" = 0.015 }
[[seeds]]
slot = 1
role = "standby"
iccid = "8988211000000430010"
rats = ["lte"]
tariffs = { "26201" = 0.01 }
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("fw.toml"))
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_contract_example_parses() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.console, ConsolePath::Device("/dev/pts/9".into()));
        assert_eq!(c.judgement, Judgement::Both);
        assert_eq!(c.master.apn, "web.vodafone.de");
        assert_eq!(c.standbys[0].apn, "internet", "falls back to the top-level apn");
        assert_eq!(c.standbys[0].rats, vec![Rat::Lte]);
        assert_eq!(c.time_scale.factor(), 0.01);
    }

    #[test]
    fn syntax_and_unknown_keys_name_file_and_line() {
        let e = err(&GOOD.replace("autostart = false", "autostart = false\nautostrat = true"));
        assert!(e.starts_with("fw.toml:9:"), "{e}");
        assert!(e.contains("autostrat"), "{e}");
        let e = err(&GOOD.replace("backend_port = 7000", "backend_port = \"7000\""));
        assert!(e.starts_with("fw.toml:11:"), "{e}");
        let e = err(&GOOD.replace("site = \"frankfurt-airport\"\n", ""));
        assert!(e.contains("missing field `site`"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("judgement = \"both\"", "judgement = \"fast\"", "`judgement`"),
            ("time_scale = 0.01", "time_scale = 2.0", "`time_scale`"),
            ("attempt_timeout_ms = 30000", "attempt_timeout_ms = 0", "`attempt_timeout_ms`"),
            ("signal = 0.5\ntariff = 0.5", "signal = 0.0\ntariff = 0.0", "`weights`"),
            ("rats = [\"lte\", \"nr\"]", "rats = [\"5g\"]", "`seeds[0].rats`"),
            ("rats = [\"lte\"]", "rats = []", "`seeds[1].rats`"),
            ("role = \"standby\"", "role = \"master\"", "`seeds[1].role`"),
            ("slot = 1", "slot = 0", "`seeds[1].slot`"),
            ("tariffs = { \"26201\" = 0.01 }", "tariffs = { \"262-01\" = 0.01 }", "`seeds[1].tariffs`"),
            ("tariffs = { \"26201\" = 0.01 }", "tariffs = { \"26201\" = -1.0 }", "`seeds[1].tariffs.26201`"),
            (
                "8988211000000430010\"\nrats = [\"lte\"]",
                "8988211000000430011\"\nrats = [\"lte\"]",
                "`seeds[1].iccid`",
            ),
        ];
        for (from, to, key) in cases {
            assert!(GOOD.contains(from), "{from}");
            let e = err(&GOOD.replace(from, to));
            assert!(e.starts_with("fw.toml: ") && e.contains(key), "{to}: {e}");
        }
    }

    #[test]
    fn a_seed_without_tariffs_is_kept() {
        let c = parse(&GOOD.replace("tariffs = { \"26201\" = 0.01 }", "tariffs = {}")).unwrap();
        assert!(c.standbys[0].tariffs.is_empty());
    }

    #[test]
    fn a_seed_without_any_apn_is_refused() {
        let e = err(&GOOD.replace("apn = \"internet\"\n", ""));
        assert!(e.contains("`seeds[1].apn`"), "{e}");
    }

    #[test]
    fn an_unreadable_file_names_it() {
        let e = Config::load(Path::new("/nonexistent/fw.toml")).unwrap_err().to_string();
        assert!(e.starts_with("/nonexistent/fw.toml: cannot read"), "{e}");
    }
}
